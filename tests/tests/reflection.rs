//! Setting 「8. 未指定」 in the 保険医療機関等管理システム: the cases to set there are listed
//! on the 未指定 page and downloadable as .xlsx (read back by openpyxl) and CSV; a clerk records
//! each as 反映済 (who, when, audited) once — of two at once, one records it and the
//! other is told; another office's case cannot be touched; the daily staff mail lists
//! what is not yet 反映.

use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use uketsuke_store::entities::{audit_log, issued_number, outbox, reception_request};
use uketsuke_store::lifecycle::CaseStatus;
use uketsuke_tests::TestApp;

async fn not_designated(app: &TestApp) -> reception_request::Model {
    reception_request::Entity::find()
        .filter(reception_request::Column::Status.eq(CaseStatus::NotDesignated))
        .one(&app.db)
        .await
        .unwrap()
        .expect("the demo's 8. 未指定 case")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_not_designated_number_is_listed_downloaded_and_recorded_as_reflected_once() {
    let app = TestApp::spawn_with(true).await;
    let case = not_designated(&app).await;
    let code = issued_number::Entity::find()
        .filter(issued_number::Column::RequestId.eq(case.id))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
        .code;
    let password = app.create_user("tanto", "clerk", "kanto-shinetsu").await;
    app.login("tanto", &password).await;

    let page = app.get("/not-designated").await.text().await.unwrap();
    assert!(page.contains("管理システムへの反映待ち（1件）"), "{page}");
    assert!(page.contains(&code) && page.contains(&case.facility_name));

    // The list, read back by openpyxl.
    let xlsx = app.get("/not-designated/reflection.xlsx").await;
    assert_eq!(xlsx.status(), 200);
    let path = std::env::temp_dir().join(format!(
        "uketsuke-reflection-{}.xlsx",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::write(&path, xlsx.bytes().await.unwrap()).unwrap();
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(
            "import sys, openpyxl\n\
             ws = openpyxl.load_workbook(sys.argv[1]).active\n\
             for r in ws.iter_rows(min_row=4, values_only=True):\n    print('|'.join('' if v is None else str(v) for v in r))",
        )
        .arg(&path)
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&path);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows = String::from_utf8(out.stdout).unwrap();
    let rows: Vec<&str> = rows.lines().collect();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert!(
        rows[0].starts_with(&format!("{code}|{}|", case.facility_name))
            && rows[0].contains("8. 未指定"),
        "{rows:?}"
    );
    let csv = app
        .get("/not-designated/reflection.csv")
        .await
        .text()
        .await
        .unwrap();
    assert!(csv.starts_with('\u{feff}'));
    assert!(
        csv.contains(&format!("{code},{}", case.facility_name)),
        "{csv}"
    );

    // The daily staff mail lists it while it is not 反映.
    let report = uketsuke::jobs::run(
        &app.db,
        &app.settings,
        "not-designated-review",
        "kanto-shinetsu:2026-12-01",
    )
    .await
    .unwrap();
    assert_eq!(report.outcome, "done", "{report:?}");
    let mail = outbox::Entity::find()
        .filter(outbox::Column::Kind.eq("not-designated-review"))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert!(
        mail.body.contains("反映が記録されていない受付番号が1件"),
        "{}",
        mail.body
    );
    assert!(mail.body.contains(&code));

    // Recorded twice at once (a double click, or two clerks): once.
    let csrf = app.csrf("/not-designated").await;
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(2));
    let tries: Vec<_> = (0..2)
        .map(|_| {
            let (client, url, csrf, barrier) = (
                app.client.clone(),
                format!("{}/not-designated/{}/reflected", app.base_url, case.id),
                csrf.clone(),
                barrier.clone(),
            );
            tokio::spawn(async move {
                barrier.wait().await;
                let r = client
                    .post(url)
                    .form(&[("csrf", csrf)])
                    .send()
                    .await
                    .unwrap();
                (r.status().as_u16(), r.text().await.unwrap())
            })
        })
        .collect();
    let mut answers = Vec::new();
    for t in tries {
        answers.push(t.await.unwrap());
    }
    answers.sort_by_key(|a| a.0);
    assert_eq!(answers[0].0, 303, "{answers:?}");
    assert_eq!(answers[1].0, 409, "the other is told: {answers:?}");
    assert!(
        answers[1].1.contains("他の職員が先に処理しました"),
        "{}",
        answers[1].1
    );
    let after = reception_request::Entity::find_by_id(case.id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert!(after.reflected_at.is_some());
    let clerk = uketsuke_store::users::find_by_username(&app.db, "tanto")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(after.reflected_by, Some(clerk.id));
    assert_eq!(
        audit_log::Entity::find()
            .filter(audit_log::Column::Action.eq("request.reflected"))
            .count(&app.db)
            .await
            .unwrap(),
        1
    );
    let page = app.get("/not-designated").await.text().await.unwrap();
    assert!(page.contains("反映待ちの受付番号はありません"));
}

#[tokio::test]
async fn only_a_case_of_one_s_own_office_that_ended_as_not_designated_can_be_recorded() {
    let app = TestApp::spawn_with(true).await;
    let case = not_designated(&app).await;
    // An account of another office of the same bureau.
    let offices = uketsuke_store::entities::office::Entity::find()
        .filter(uketsuke_store::entities::office::Column::BureauId.eq("kanto-shinetsu"))
        .all(&app.db)
        .await
        .unwrap();
    let elsewhere = offices
        .iter()
        .find(|o| Some(o.id) != case.office_id)
        .expect("another office");
    let password = app
        .create_user("chiba-tanto", "clerk", "kanto-shinetsu")
        .await;
    let mut user: uketsuke_store::entities::user::ActiveModel =
        uketsuke_store::users::find_by_username(&app.db, "chiba-tanto")
            .await
            .unwrap()
            .unwrap()
            .into();
    user.office_id = sea_orm::Set(Some(elsewhere.id));
    sea_orm::ActiveModelTrait::update(user, &app.db)
        .await
        .unwrap();
    let other = app.browser_signed_in("chiba-tanto", &password).await;
    let page = other
        .get(format!("{}/not-designated", app.base_url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !page.contains(&case.facility_name),
        "not listed to another office"
    );
    let csrf = uketsuke_tests::csrf_of(&page);
    let refused = other
        .post(format!(
            "{}/not-designated/{}/reflected",
            app.base_url, case.id
        ))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 404);

    // A case that did not end as 8. 未指定 is not recorded.
    let password = app.create_user("tanto", "clerk", "kanto-shinetsu").await;
    app.login("tanto", &password).await;
    let received = reception_request::Entity::find()
        .filter(reception_request::Column::Status.eq(CaseStatus::Received))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let csrf = app.csrf("/not-designated").await;
    let refused = app
        .post_form(
            &format!("/not-designated/{}/reflected", received.id),
            &[("csrf", csrf.as_str())],
        )
        .await;
    assert_eq!(refused.status(), 422);
    assert!(
        refused
            .text()
            .await
            .unwrap()
            .contains("反映の対象ではありません")
    );
    let unchanged = reception_request::Entity::find_by_id(received.id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert!(unchanged.reflected_at.is_none());
}
