//! Jurisdiction (管轄) at every door: a facility in another bureau's prefecture is
//! refused on the form, the upload and the API with a message naming the prefecture;
//! the receiving office must be one that covers the facility's prefecture; a postal
//! code of another prefecture than its address is flagged on the verdict, never refused.

use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{Value, json};
use uketsuke_store::audit::Actor;
use uketsuke_store::entities::reception_request;
use uketsuke_tests::TestApp;

const BUREAU: &str = "kanto-shinetsu";

async fn clerk(app: &TestApp) {
    let password = app.create_user("uketsuke-tanto", "clerk", BUREAU).await;
    app.login("uketsuke-tanto", &password).await;
}

async fn count(app: &TestApp) -> u64 {
    reception_request::Entity::find()
        .count(&app.db)
        .await
        .unwrap()
}

async fn office_id(app: &TestApp, code: &str) -> i32 {
    uketsuke_store::bureaus::office_id(&app.db, BUREAU, code)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("office {code}"))
}

async fn enter(app: &TestApp, address: &str, office: &str) -> reqwest::Response {
    let csrf = app.csrf("/requests/new").await;
    app.post_form(
        "/requests/new",
        &[
            ("csrf", csrf.as_str()),
            ("reply_address", address),
            ("reply_name", "開設準備室"),
            ("kind", "医科"),
            ("facility_name", "管轄確認クリニック"),
            ("facility_address", address),
            ("designation_date", "令和9年4月1日"),
            ("founder_kind", "person"),
            ("founder_name", "厚生 太郎"),
            ("contact_phone", "03-5321-1111"),
            ("office_id", office),
        ],
    )
    .await
}

#[tokio::test]
async fn the_form_refuses_another_bureaus_prefecture_and_an_office_of_another_prefecture() {
    let app = TestApp::spawn().await;
    clerk(&app).await;

    let response = enter(&app, "大阪府大阪市中央区大手前1-1", "").await;
    let html = response.text().await.unwrap();
    assert!(
        html.contains("大阪府") && html.contains("関東信越厚生局の管轄ではありません"),
        "{html}"
    );
    assert_eq!(count(&app).await, 0, "nothing saved");

    // A 東京 facility entered for 神奈川事務所: refused, naming the office that covers it.
    let kanagawa = office_id(&app, "kanagawa").await.to_string();
    let response = enter(&app, "東京都新宿区西新宿2-8-1", &kanagawa).await;
    assert_eq!(response.status(), 422);
    let html = response.text().await.unwrap();
    assert!(
        html.contains("神奈川事務所の管轄ではありません")
            && html.contains("東京事務所で受け付けてください"),
        "{html}"
    );
    assert_eq!(count(&app).await, 0, "nothing saved");

    // At 東京事務所 it is saved there.
    let tokyo = office_id(&app, "tokyo").await;
    let response = enter(&app, "東京都新宿区西新宿2-8-1", &tokyo.to_string()).await;
    assert_eq!(response.status(), 303);
    let saved = reception_request::Entity::find()
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(saved.len(), 1);
    assert_eq!(saved[0].office_id, Some(tokyo));
}

/// A compact label/value form (as `uketsuke import` reads them) at `address`.
fn workbook(address: &str) -> Vec<u8> {
    let rows = [
        ("回答書送付先住所：〒160-0023 東京都新宿区西新宿2-8-1", ""),
        ("回答書送付先氏名：資格 太郎 様", ""),
        ("種別", "医科"),
        ("名称：大阪の医院", ""),
        ("所在地", address),
        ("指定希望日（予定）", "令和9年4月1日"),
        ("依頼日", "令和8年11月20日"),
        ("関東信越厚生局　御中", ""),
        ("開設者：資格 花子", ""),
        ("電話番号：03-1234-5678", ""),
    ];
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (i, (label, value)) in rows.iter().enumerate() {
        let row = u32::try_from(i).unwrap();
        sheet.write_string(row, 0, *label).unwrap();
        if !value.is_empty() {
            sheet.write_string(row, 1, *value).unwrap();
        }
    }
    book.save_to_buffer().unwrap()
}

#[tokio::test]
async fn an_upload_of_another_bureaus_prefecture_is_refused_in_the_preview_and_not_saved() {
    let app = TestApp::spawn().await;
    clerk(&app).await;
    let csrf = app.csrf("/requests/upload").await;
    let form = reqwest::multipart::Form::new()
        .text("csrf", csrf.clone())
        .part(
            "file",
            reqwest::multipart::Part::bytes(workbook("〒540-0008 大阪府大阪市中央区大手前1-1"))
                .file_name("osaka.xlsx"),
        );
    let response = app
        .client
        .post(format!("{}/requests/upload", app.base_url))
        .multipart(form)
        .send()
        .await
        .unwrap();
    let html = response.text().await.unwrap();
    assert!(
        html.contains("受付不可") && html.contains("関東信越厚生局の管轄ではありません"),
        "the preview says so before anything is saved: {html}"
    );
    let marker = "action=\"/requests/upload/";
    let start = html.find(marker).expect("a confirm form") + "action=\"".len();
    let action = html[start..].split('"').next().unwrap().to_owned();
    let response = app
        .post_form(&action, &[("csrf", csrf.as_str()), ("scope", "all")])
        .await;
    let html = app.follow(response).await.text().await.unwrap();
    assert!(html.contains("管轄ではありません"), "{html}");
    assert_eq!(count(&app).await, 0, "nothing saved");
}

async fn token(app: &TestApp, username: &str, office: Option<&str>) -> String {
    let office_id = match office {
        Some(code) => Some(office_id(app, code).await),
        None => None,
    };
    let new = uketsuke_store::users::NewUser {
        username: username.into(),
        display_name: format!("{username} さん"),
        password_hash: uketsuke_store::users::hash_password("pw-0123456789-abc"),
        role: uketsuke_store::users::Role::Clerk,
        bureau_id: BUREAU.into(),
        office_id,
    };
    uketsuke_store::users::create(&app.db, &new, &Actor::system("test"))
        .await
        .unwrap();
    let (token, _) =
        uketsuke_store::tokens::create(&app.db, username, "test", &Actor::system("test"))
            .await
            .unwrap();
    token
}

async fn post(app: &TestApp, token: &str, body: Value) -> (u16, Value) {
    let response = app
        .client
        .post(format!("{}/api/v1/requests", app.base_url))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn request(name: &str, address: &str, postal: &str, reply_postal: &str) -> Value {
    json!({
        "kind": "医科",
        "facility_name": name,
        "facility_postal_code": postal,
        "facility_address": address,
        "designation_date": "令和9年4月1日",
        "request_date": "2026-11-20",
        "founder_name": "厚生 太郎",
        "contact_phone": "03-5321-1111",
        "reply_postal_code": reply_postal,
        "reply_address": "東京都新宿区西新宿2-8-1",
        "reply_name": "開設準備室",
    })
}

fn postal_warnings(created: &Value) -> Vec<String> {
    created["verdict"]["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap().to_owned())
        .filter(|w| w.contains("郵便番号"))
        .collect()
}

#[tokio::test]
async fn the_api_flags_a_postal_code_of_another_prefecture_and_refuses_an_office_of_another() {
    let app = TestApp::spawn().await;
    let clerk = token(&app, "tanto", None).await;

    // Matching codes: no postal warning.
    let (status, created) = post(
        &app,
        &clerk,
        request(
            "一致医院",
            "東京都新宿区西新宿2-8-1",
            "160-0023",
            "160-0023",
        ),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    assert!(postal_warnings(&created).is_empty(), "{created}");

    // The facility's own code is 大阪's: a strong warning, still accepted.
    let (status, created) = post(
        &app,
        &clerk,
        request(
            "誤記医院",
            "東京都新宿区西新宿2-8-1",
            "530-0001",
            "160-0023",
        ),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["verdict"]["decision"], "accept");
    let warnings = postal_warnings(&created);
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].starts_with("【要確認】所在地の郵便番号〒530-0001は大阪府の番号"),
        "{warnings:?}"
    );

    // The 送付先's code is 神奈川's while its address is in 東京: flagged.
    let (status, created) = post(
        &app,
        &clerk,
        request(
            "送付先医院",
            "東京都新宿区西新宿2-8-1",
            "160-0023",
            "231-0017",
        ),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let warnings = postal_warnings(&created);
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].contains("回答書送付先の郵便番号〒231-0017は神奈川県の番号"),
        "{warnings:?}"
    );
    // And the case keeps the warning.
    let id = created["id"].as_i64().unwrap();
    let saved = reception_request::Entity::find_by_id(i32::try_from(id).unwrap())
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert!(
        saved.warnings.to_string().contains("231-0017"),
        "{}",
        saved.warnings
    );

    // An office chosen for a facility of another prefecture is refused; a clerk of
    // 神奈川事務所 cannot enter a 東京 facility either.
    let mut body = request(
        "事務所違い医院",
        "東京都新宿区西新宿2-8-1",
        "160-0023",
        "160-0023",
    );
    body["office"] = json!("kanagawa");
    let (status, body) = post(&app, &clerk, body).await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body.to_string().contains("東京事務所で受け付けてください"),
        "{body}"
    );
    let kanagawa_clerk = token(&app, "kanagawa-tanto", Some("kanagawa")).await;
    let (status, body) = post(
        &app,
        &kanagawa_clerk,
        request(
            "事務所違い医院",
            "東京都新宿区西新宿2-8-1",
            "160-0023",
            "160-0023",
        ),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body.to_string()
            .contains("神奈川事務所の管轄ではありません"),
        "{body}"
    );
    let (status, created) = post(
        &app,
        &kanagawa_clerk,
        request(
            "横浜医院",
            "神奈川県横浜市中区日本大通1",
            "231-0021",
            "160-0023",
        ),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(count(&app).await, 4);
}
