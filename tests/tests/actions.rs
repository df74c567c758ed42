//! A case from entry to designation through the pages, with the roles checked on the
//! server: a clerk enters and proposes, an approver (another person) approves, the
//! clerk answers and prints the 回答書, the approver records the council; returns,
//! withdrawals, voids and a 医科歯科併設 pair.

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use uketsuke_domain::InstitutionCode;
use uketsuke_store::entities::{issued_number, reception_request};
use uketsuke_tests::{TestApp, assert_refused, refusal};

async fn switch_to(app: &TestApp, username: &str, role: &str) {
    let csrf = app.csrf("/dashboard").await;
    if !csrf.is_empty() {
        app.post_form("/logout", &[("csrf", csrf.as_str())]).await;
    }
    let password = format!("pw-{username}-0123456789");
    if uketsuke_store::users::find_by_username(&app.db, username)
        .await
        .unwrap()
        .is_none()
    {
        app.create_user(username, role, "kanto-shinetsu").await;
    }
    app.login(username, &password).await;
}

async fn enter(app: &TestApp, name: &str, kind: &str) -> i32 {
    let csrf = app.csrf("/requests/new").await;
    let response = app
        .post_form(
            "/requests/new",
            &[
                ("csrf", csrf.as_str()),
                ("reply_address", "東京都新宿区西新宿2-8-1"),
                ("reply_name", "開設準備室"),
                ("kind", kind),
                ("facility_name", name),
                ("facility_address", "東京都新宿区西新宿2-8-1"),
                ("designation_date", "令和9年4月1日"),
                ("founder_kind", "person"),
                ("founder_name", "厚生 太郎"),
                ("contact_phone", "03-5321-1111"),
            ],
        )
        .await;
    assert_eq!(response.status(), 303, "entry of {name}");
    response.headers()["location"]
        .to_str()
        .unwrap()
        .trim_start_matches("/cases/")
        .parse()
        .unwrap()
}

async fn post(app: &TestApp, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
    let csrf = app.csrf("/dashboard").await;
    let mut all = vec![("csrf", csrf.as_str())];
    all.extend_from_slice(fields);
    app.post_form(path, &all).await
}

async fn request(app: &TestApp, id: i32) -> reception_request::Model {
    reception_request::Entity::find_by_id(id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
}

async fn numbers(app: &TestApp, id: i32) -> Vec<issued_number::Model> {
    issued_number::Entity::find()
        .filter(issued_number::Column::RequestId.eq(id))
        .all(&app.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_request_goes_from_entry_to_designation_with_each_role_checked() {
    let app = TestApp::spawn().await;
    switch_to(&app, "tanto", "clerk").await;
    let id = enter(&app, "西新宿こころクリニック", "medical").await;

    let response = post(&app, &format!("/cases/{id}/propose"), &[("district", "04")]).await;
    assert_eq!(response.status(), 303);
    assert_eq!(
        request(&app, id).await.status,
        uketsuke_store::lifecycle::CaseStatus::Proposed
    );
    let proposed = numbers(&app, id).await;
    assert_eq!(proposed.len(), 1);
    assert_eq!(
        proposed[0].status,
        uketsuke_store::lifecycle::NumberStatus::Proposed
    );
    assert_eq!(proposed[0].district, 4);

    // A clerk cannot approve.
    assert_refused(
        post(&app, &format!("/cases/{id}/approve"), &[]).await,
        &refusal::role("決裁"),
    )
    .await;
    switch_to(&app, "kessai", "approver").await;
    assert_eq!(
        post(&app, &format!("/cases/{id}/approve"), &[])
            .await
            .status(),
        303
    );
    assert_eq!(
        request(&app, id).await.status,
        uketsuke_store::lifecycle::CaseStatus::Issued
    );
    let code = numbers(&app, id).await[0].code.clone();
    assert!(InstitutionCode::parse(&code).is_ok());

    switch_to(&app, "tanto", "clerk").await;
    assert_eq!(
        post(&app, &format!("/cases/{id}/answer"), &[])
            .await
            .status(),
        303
    );
    assert_eq!(
        request(&app, id).await.status,
        uketsuke_store::lifecycle::CaseStatus::Answered
    );
    let html = app
        .get(&format!("/cases/{id}/answer"))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains(&code), "the answer shows the number");
    assert!(html.contains("（公印省略）"));
    assert!(html.contains("指定ではありません"));
    assert!(
        html.contains("令和9年2月15日までに医療保険情報提供等実施機関へ提出"),
        "{html}"
    );
    let xlsx = app.get(&format!("/cases/{id}/answer.xlsx")).await;
    assert_eq!(xlsx.status(), 200);
    assert!(xlsx.bytes().await.unwrap().starts_with(b"PK"));

    assert_refused(
        post(
            &app,
            "/council",
            &[
                ("prefecture", "13"),
                ("held_on", "令和9年3月18日"),
                ("request", &id.to_string()),
            ],
        )
        .await,
        &refusal::role("決裁"),
    )
    .await;
    switch_to(&app, "kessai", "approver").await;
    let response = post(
        &app,
        "/council",
        &[
            ("prefecture", "13"),
            ("held_on", "令和9年3月18日"),
            ("request", &id.to_string()),
        ],
    )
    .await;
    assert_eq!(response.status(), 303);
    let done = request(&app, id).await;
    assert_eq!(
        done.status,
        uketsuke_store::lifecycle::CaseStatus::Designated
    );
    assert!(done.council_session_id.is_some());
    let html = app.get("/council").await.text().await.unwrap();
    assert!(html.contains("令和9年3月18日") && html.contains("1件"));
    // The session is next year's: its list is not sent before the session is held.
    let session = done.council_session_id.unwrap();
    let report = uketsuke::jobs::run(
        &app.db,
        &app.settings,
        "council-export",
        &session.to_string(),
    )
    .await
    .unwrap();
    assert_eq!(report.outcome, "not-yet", "{report:?}");
}

#[tokio::test]
async fn an_approver_cannot_approve_a_number_they_proposed() {
    let app = TestApp::spawn().await;
    switch_to(&app, "kessai-solo", "approver").await;
    let id = enter(&app, "ひとりで起案する医院", "medical").await;
    assert_eq!(
        post(&app, &format!("/cases/{id}/propose"), &[("district", "1")])
            .await
            .status(),
        303
    );
    let response = post(&app, &format!("/cases/{id}/approve"), &[]).await;
    assert_eq!(response.status(), 422, "a condition, not a role: 422");
    assert!(response.text().await.unwrap().contains("起案した職員は"));
}

#[tokio::test]
async fn a_returned_request_voids_its_proposed_number_and_prints_a_return_letter() {
    let app = TestApp::spawn().await;
    switch_to(&app, "tanto", "clerk").await;
    let id = enter(&app, "返戻される薬局", "pharmacy").await;
    post(&app, &format!("/cases/{id}/propose"), &[("district", "4")]).await;
    // A clerk cannot return.
    assert_refused(
        post(&app, &format!("/cases/{id}/return"), &[("reason", "x")]).await,
        &refusal::role("決裁"),
    )
    .await;
    switch_to(&app, "kessai", "approver").await;
    let response = post(
        &app,
        &format!("/cases/{id}/return"),
        &[("reason", "指定希望日の記載がありません")],
    )
    .await;
    assert_eq!(response.status(), 303);
    let returned = request(&app, id).await;
    assert_eq!(
        returned.status,
        uketsuke_store::lifecycle::CaseStatus::Returned
    );
    assert_eq!(
        numbers(&app, id).await[0].status,
        uketsuke_store::lifecycle::NumberStatus::Void,
        "the proposed number is void, never reused"
    );
    let html = app
        .get(&format!("/cases/{id}/return-letter"))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("返戻します"));
    assert!(html.contains("指定希望日の記載がありません"));
}

#[tokio::test]
async fn a_withdrawn_request_and_a_voided_number_are_never_reused() {
    let app = TestApp::spawn().await;
    switch_to(&app, "tanto", "clerk").await;
    let first = enter(&app, "取下げ医院", "medical").await;
    post(
        &app,
        &format!("/cases/{first}/propose"),
        &[("district", "4")],
    )
    .await;
    let code = numbers(&app, first).await[0].code.clone();
    assert_eq!(
        post(
            &app,
            &format!("/cases/{first}/withdraw"),
            &[("reason", "開設の延期")]
        )
        .await
        .status(),
        303
    );
    assert_eq!(
        request(&app, first).await.status,
        uketsuke_store::lifecycle::CaseStatus::Withdrawn
    );
    assert_eq!(
        numbers(&app, first).await[0].status,
        uketsuke_store::lifecycle::NumberStatus::Void
    );

    let second = enter(&app, "つぎの医院", "medical").await;
    post(
        &app,
        &format!("/cases/{second}/propose"),
        &[("district", "4")],
    )
    .await;
    let next = numbers(&app, second).await[0].clone();
    assert_ne!(next.code, code, "a voided number is not given again");

    switch_to(&app, "kessai", "approver").await;
    let response = post(
        &app,
        &format!("/cases/{second}/void-number"),
        &[
            ("number_id", &next.id.to_string()),
            ("reason", "郡市区番号の誤り"),
        ],
    )
    .await;
    assert_eq!(response.status(), 303);
    let voided = issued_number::Entity::find_by_id(next.id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(voided.status, uketsuke_store::lifecycle::NumberStatus::Void);
    assert_eq!(voided.void_reason.as_deref(), Some("郡市区番号の誤り"));
}

#[tokio::test]
async fn another_bureaus_case_cannot_be_touched() {
    let app = TestApp::spawn().await;
    switch_to(&app, "tanto", "clerk").await;
    let id = enter(&app, "関東の医院", "medical").await;
    let csrf = app.csrf("/dashboard").await;
    app.post_form("/logout", &[("csrf", csrf.as_str())]).await;
    let password = app.create_user("kyushu-kessai", "approver", "kyushu").await;
    app.login("kyushu-kessai", &password).await;
    assert_eq!(
        post(&app, &format!("/cases/{id}/propose"), &[("district", "4")])
            .await
            .status(),
        404
    );
    assert_eq!(
        post(
            &app,
            &format!("/cases/{id}/withdraw"),
            &[("reason", "開設の延期")]
        )
        .await
        .status(),
        404
    );
    assert_eq!(
        request(&app, id).await.status,
        uketsuke_store::lifecycle::CaseStatus::Received
    );
}

#[tokio::test]
async fn a_request_judged_for_return_is_proposed_only_after_the_clerk_acknowledges_it() {
    let app = TestApp::spawn().await;
    switch_to(&app, "tanto", "clerk").await;
    // A designation date already past: the verdict is 返戻相当.
    let csrf = app.csrf("/requests/new").await;
    let response = app
        .post_form(
            "/requests/new",
            &[
                ("csrf", csrf.as_str()),
                ("kind", "medical"),
                ("facility_name", "遅すぎた医院"),
                ("facility_address", "東京都新宿区西新宿2-8-1"),
                ("designation_date", "令和8年11月1日"),
                ("founder_kind", "person"),
                ("founder_name", "厚生 太郎"),
                ("contact_phone", "03-5321-1111"),
            ],
        )
        .await;
    let id: i32 = response.headers()["location"]
        .to_str()
        .unwrap()
        .trim_start_matches("/cases/")
        .parse()
        .unwrap();
    assert_eq!(
        request(&app, id).await.decision,
        uketsuke_store::lifecycle::Decision::Return
    );
    let html = app.get(&format!("/cases/{id}")).await.text().await.unwrap();
    assert!(html.contains("返戻相当"), "the case page warns before 起案");
    assert_eq!(
        post(&app, &format!("/cases/{id}/propose"), &[("district", "4")])
            .await
            .status(),
        422
    );
    assert!(numbers(&app, id).await.is_empty());
    let response = post(
        &app,
        &format!("/cases/{id}/propose"),
        &[("district", "4"), ("acknowledge", "1")],
    )
    .await;
    assert_eq!(response.status(), 303);
    assert_eq!(numbers(&app, id).await.len(), 1);
}

#[tokio::test]
async fn an_answer_without_a_reply_address_goes_to_the_facility_and_its_founder() {
    let app = TestApp::spawn().await;
    switch_to(&app, "tanto", "clerk").await;
    let csrf = app.csrf("/requests/new").await;
    let response = app
        .post_form(
            "/requests/new",
            &[
                ("csrf", csrf.as_str()),
                ("kind", "pharmacy"),
                ("facility_name", "送付先なし薬局"),
                ("facility_postal_code", "160-0022"),
                ("facility_address", "東京都新宿区新宿1-10-3"),
                ("designation_date", "令和9年4月1日"),
                ("founder_kind", "person"),
                ("founder_name", "薬剤 次郎"),
                ("contact_phone", "03-3350-0000"),
            ],
        )
        .await;
    let id: i32 = response.headers()["location"]
        .to_str()
        .unwrap()
        .trim_start_matches("/cases/")
        .parse()
        .unwrap();
    post(&app, &format!("/cases/{id}/propose"), &[("district", "4")]).await;
    switch_to(&app, "kessai", "approver").await;
    post(&app, &format!("/cases/{id}/approve"), &[]).await;
    let html = app
        .get(&format!("/cases/{id}/answer"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("（住所）〒160-0022 東京都新宿区新宿1-10-3"),
        "{html}"
    );
    assert!(html.contains("送付先なし薬局 薬剤 次郎 様"));
}

#[tokio::test]
async fn marking_not_designated_needs_a_reason() {
    let app = TestApp::spawn_with(true).await;
    switch_to(&app, "kessai", "approver").await;
    let answered = reception_request::Entity::find()
        .filter(
            reception_request::Column::Status.eq(uketsuke_store::lifecycle::CaseStatus::Answered),
        )
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let response = post(
        &app,
        &format!("/not-designated/{}", answered.id),
        &[("reason", " ")],
    )
    .await;
    assert_eq!(response.status(), 422);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("「8. 未指定」にする理由を入力してください")
    );
    assert_eq!(
        request(&app, answered.id).await.status,
        uketsuke_store::lifecycle::CaseStatus::Answered
    );
}

/// Enters a request and takes it through 起案, 決裁 and 回答; returns its id.
async fn answered(app: &TestApp, name: &str) -> i32 {
    switch_to(app, "tanto", "clerk").await;
    let id = enter(app, name, "medical").await;
    post(app, &format!("/cases/{id}/propose"), &[("district", "4")]).await;
    switch_to(app, "kessai", "approver").await;
    post(app, &format!("/cases/{id}/approve"), &[]).await;
    switch_to(app, "tanto", "clerk").await;
    assert_eq!(
        post(app, &format!("/cases/{id}/answer"), &[])
            .await
            .status(),
        303
    );
    assert_eq!(
        request(app, id).await.status,
        uketsuke_store::lifecycle::CaseStatus::Answered
    );
    id
}

#[tokio::test]
async fn a_withdrawal_after_the_answer_ends_as_not_designated_and_keeps_the_number() {
    let app = TestApp::spawn().await;
    let id = answered(&app, "回答後取下げ医院").await;
    let page = app.get(&format!("/cases/{id}")).await.text().await.unwrap();
    assert!(page.contains("受付番号は無効にせず「8. 未指定」とします"));
    assert_eq!(
        post(
            &app,
            &format!("/cases/{id}/withdraw"),
            &[("reason", "開設の延期")]
        )
        .await
        .status(),
        303
    );
    let case = request(&app, id).await;
    assert_eq!(
        case.status,
        uketsuke_store::lifecycle::CaseStatus::NotDesignated
    );
    assert!(case.withdrawn_on.is_some());
    assert!(
        case.not_designated_reason
            .as_deref()
            .is_some_and(|r| r.contains("取下げ") && r.contains("回答後")),
        "{:?}",
        case.not_designated_reason
    );
    let held = numbers(&app, id).await;
    assert_eq!(held.len(), 1);
    assert!(
        held[0].status.is_live(),
        "the facility keeps the number it was told: {:?}",
        held[0].status
    );

    // Before the answer, a withdrawal still voids the number.
    switch_to(&app, "tanto", "clerk").await;
    let early = enter(&app, "回答前取下げ医院", "medical").await;
    post(
        &app,
        &format!("/cases/{early}/propose"),
        &[("district", "4")],
    )
    .await;
    post(
        &app,
        &format!("/cases/{early}/withdraw"),
        &[("reason", "開設の延期")],
    )
    .await;
    assert_eq!(
        request(&app, early).await.status,
        uketsuke_store::lifecycle::CaseStatus::Withdrawn
    );
    assert!(!numbers(&app, early).await[0].status.is_live());
}

#[tokio::test]
async fn voiding_an_answered_case_s_only_number_returns_it_to_received_for_a_new_one() {
    let app = TestApp::spawn().await;
    let id = answered(&app, "番号誤り医院").await;
    let number = numbers(&app, id).await.remove(0);
    switch_to(&app, "kessai", "approver").await;
    let response = post(
        &app,
        &format!("/cases/{id}/void-number"),
        &[
            ("number_id", &number.id.to_string()),
            ("reason", "郡市区番号の誤り"),
        ],
    )
    .await;
    assert_eq!(response.status(), 303);
    assert_eq!(
        request(&app, id).await.status,
        uketsuke_store::lifecycle::CaseStatus::Received
    );
    switch_to(&app, "tanto", "clerk").await;
    assert_eq!(
        post(&app, &format!("/cases/{id}/propose"), &[("district", "4")])
            .await
            .status(),
        303,
        "ready for a new 起案"
    );
    let all = numbers(&app, id).await;
    assert_eq!(all.len(), 2);
    assert_ne!(all[0].code, all[1].code, "a new number, not the voided one");
}

#[tokio::test]
async fn an_approver_moves_the_answer_due_with_a_reason_and_a_clerk_cannot() {
    let app = TestApp::spawn().await;
    switch_to(&app, "tanto", "clerk").await;
    let id = enter(&app, "期限変更医院", "medical").await;
    let before = request(&app, id).await;
    let page = app.get(&format!("/cases/{id}")).await.text().await.unwrap();
    assert!(
        !page.contains("回答期限を変更する"),
        "not offered to a clerk"
    );
    let refused = post(
        &app,
        &format!("/cases/{id}/answer-due"),
        &[
            ("answer_due", "令和8年12月25日"),
            ("reason", "書類の到着待ち"),
        ],
    )
    .await;
    assert_eq!(refused.status(), 403);
    assert!(refused.text().await.unwrap().contains("「決裁」の権限"));

    switch_to(&app, "kessai", "approver").await;
    let page = app.get(&format!("/cases/{id}")).await.text().await.unwrap();
    assert!(page.contains("回答期限を変更する"));
    let no_reason = post(
        &app,
        &format!("/cases/{id}/answer-due"),
        &[("answer_due", "令和8年12月25日"), ("reason", "")],
    )
    .await;
    assert_eq!(no_reason.status(), 422);
    let bad_date = post(
        &app,
        &format!("/cases/{id}/answer-due"),
        &[("answer_due", "いつか"), ("reason", "書類の到着待ち")],
    )
    .await;
    assert_eq!(bad_date.status(), 422);
    assert!(bad_date.text().await.unwrap().contains("読み取れません"));
    assert_eq!(request(&app, id).await.answer_due_override, None);

    let moved = post(
        &app,
        &format!("/cases/{id}/answer-due"),
        &[
            ("answer_due", "令和８年１２月２５日"),
            ("reason", "書類の到着待ち"),
        ],
    )
    .await;
    assert_eq!(moved.status(), 303);
    let after = request(&app, id).await;
    assert_eq!(
        after.answer_due_override,
        chrono::NaiveDate::from_ymd_opt(2026, 12, 25)
    );
    assert_eq!(
        after.answer_due, before.answer_due,
        "the computed one is kept"
    );
    let page = app.get(&format!("/cases/{id}")).await.text().await.unwrap();
    assert!(page.contains("回答期限（変更後）") && page.contains("書類の到着待ち"));
}
