//! The attack suite's input part: hostile input never reaches the database as a 500.
//! A NUL character anywhere a user can type (the name search, the entry form, account
//! creation, login, the JSON API) is refused with a plain 422; re-sending a mail that is
//! still queued is refused with a message, not a system error.

use serde_json::json;
use uketsuke_tests::TestApp;

#[tokio::test]
async fn a_nul_character_is_refused_plainly_everywhere() {
    let app = TestApp::spawn().await;
    let password = app.create_user("kanri", "admin", "kanto-shinetsu").await;
    app.login("kanri", &password).await;

    let search = app.get("/cases?name=%00").await;
    assert_eq!(search.status(), 422, "name search");
    assert!(search.text().await.unwrap().contains("NUL"));

    let csrf = app.csrf("/requests/new").await;
    let entry = app
        .post_form(
            "/requests/new",
            &[
                ("csrf", csrf.as_str()),
                ("kind", "medical"),
                ("facility_name", "さくら\0内科"),
                ("facility_address", "東京都新宿区西新宿2-8-1"),
                ("designation_date", "令和9年4月1日"),
                ("founder_kind", "person"),
                ("founder_name", "厚生 太郎"),
                ("contact_phone", "03-5321-1111"),
            ],
        )
        .await;
    assert_eq!(entry.status(), 422, "entry form");

    let csrf = app.csrf("/admin/users").await;
    let account = app
        .post_form(
            "/admin/users",
            &[
                ("csrf", csrf.as_str()),
                ("username", "bad\0name"),
                ("display_name", "x"),
                ("role", "viewer"),
            ],
        )
        .await;
    assert_eq!(account.status(), 422, "account creation");

    let other = TestApp::client_for(&app);
    let page = other
        .get(format!("{}/login", app.base_url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = uketsuke_tests::csrf_of(&page);
    let login = other
        .post(format!("{}/login", app.base_url))
        .form(&[
            ("csrf", csrf.as_str()),
            ("username", "kanri\0"),
            ("password", password.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 422, "login");

    let (token, _) = uketsuke_store::tokens::create(
        &app.db,
        "kanri",
        "attack",
        &uketsuke_store::audit::Actor::system("test"),
    )
    .await
    .unwrap();
    let api = app
        .client
        .post(format!("{}/api/v1/requests", app.base_url))
        .bearer_auth(&token)
        .json(&json!({"facility_name": "さくら\u{0}内科"}))
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), 422, "API");
    let body: serde_json::Value = api.json().await.unwrap();
    assert!(body["error"]["message"].as_str().unwrap().contains("NUL"));

    // Nothing was written by any of them.
    use sea_orm::{EntityTrait, PaginatorTrait};
    let requests = uketsuke_store::entities::reception_request::Entity::find()
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(requests, 0);
}

#[tokio::test]
async fn resending_a_mail_that_is_still_queued_is_refused_with_a_message() {
    let app = TestApp::spawn().await;
    let password = app
        .create_user("kessai", "approver", "kanto-shinetsu")
        .await;
    app.login("kessai", &password).await;
    let queued = uketsuke_store::outbox::enqueue(
        &app.db,
        &uketsuke_store::outbox::NewMessage {
            dedupe_key: "attack-test".into(),
            kind: "digest".into(),
            bureau_id: Some("kanto-shinetsu".into()),
            recipients: vec!["staff@example.invalid".into()],
            subject: "試験".into(),
            body: "試験".into(),
            attachment: None,
        },
        chrono::Utc::now(),
    )
    .await
    .unwrap();
    let csrf = app.csrf("/deliveries").await;
    let response = app
        .post_form(
            &format!("/deliveries/{}/resend", queued.id),
            &[("csrf", csrf.as_str())],
        )
        .await;
    assert_eq!(response.status(), 422);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("送信待ち・送信中のメールは再送できません")
    );
}
