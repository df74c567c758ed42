//! Corrections (訂正) of a case after entry, through the page and the API alike: any
//! field, with a reason, audited old → new, the deadlines and the verdict computed
//! again; a later 指定希望日 keeps the issued number and moves the 回答期限; a change
//! that would make the number wrong (種別, 都道府県) asks for voiding it first.

use chrono::{Datelike, NaiveDate};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};
use serde_json::json;
use uketsuke_store::audit::Actor;
use uketsuke_store::entities::{audit_log, issued_number};
use uketsuke_store::lifecycle::{CaseStatus, Decision, NumberStatus};
use uketsuke_tests::TestApp;

const BUREAU: &str = "kanto-shinetsu";

/// The entry form's fields of a 医科 request in 東京都, with `extra` on top.
fn entry_fields<'a>(name: &'a str, extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut fields = vec![
        ("reply_address", "東京都新宿区西新宿2-8-1"),
        ("reply_name", "開設準備室"),
        ("kind", "medical"),
        ("facility_name", name),
        ("facility_address", "東京都新宿区西新宿2-8-1"),
        ("designation_date", "令和9年4月1日"),
        ("founder_kind", "person"),
        ("founder_name", "厚生 太郎"),
        ("contact_phone", "03-5321-1111"),
    ];
    for (k, v) in extra {
        fields.retain(|(key, _)| key != k);
        fields.push((k, v));
    }
    fields
}

async fn enter(app: &TestApp, name: &str, extra: &[(&str, &str)]) -> i32 {
    let csrf = app.csrf("/requests/new").await;
    let mut fields = vec![("csrf", csrf.as_str())];
    fields.extend(entry_fields(name, extra));
    let response = app.post_form("/requests/new", &fields).await;
    assert_eq!(response.status(), 303, "entry of {name}");
    response.headers()["location"]
        .to_str()
        .unwrap()
        .trim_start_matches("/cases/")
        .parse()
        .unwrap()
}

async fn live_numbers(app: &TestApp, id: i32) -> Vec<issued_number::Model> {
    issued_number::Entity::find()
        .filter(issued_number::Column::RequestId.eq(id))
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .filter(|n| n.status.is_live())
        .collect()
}

/// The correction form of a case, as the page fills it, with `changes` on top.
async fn correct(
    app: &TestApp,
    id: i32,
    changes: &[(&str, &str)],
) -> (reqwest::StatusCode, String) {
    let page = app.get(&format!("/cases/{id}/edit")).await;
    assert_eq!(page.status(), 200, "the correction form opens");
    let html = page.text().await.unwrap();
    let version = app.request(id).await.lock_version.to_string();
    assert!(
        html.contains(&format!("name=\"version\" value=\"{version}\"")),
        "the form carries the version it shows"
    );
    let csrf = uketsuke_tests::csrf_of(&html);
    let current = app.request(id).await;
    let designation = current.designation_date.format("%Y-%m-%d").to_string();
    let received = current.received_on.format("%Y-%m-%d").to_string();
    let kind = current.kind.as_str().to_owned();
    let office = current.office_id.map(|o| o.to_string()).unwrap_or_default();
    let founder = current.founder_name.clone().unwrap_or_default();
    // The case as it stands (what the form shows), then the changes.
    let mut fields: Vec<(&str, &str)> = vec![
        ("csrf", csrf.as_str()),
        ("version", version.as_str()),
        ("received_on", received.as_str()),
        ("designation_date", designation.as_str()),
        ("kind", kind.as_str()),
        ("office_id", office.as_str()),
        ("facility_name", current.facility_name.as_str()),
        ("facility_address", current.facility_address.as_str()),
        ("reply_address", current.reply_address.as_str()),
        ("reply_name", current.reply_name.as_str()),
        ("founder_kind", "person"),
        ("founder_name", founder.as_str()),
        ("contact_phone", current.contact_phone.as_str()),
    ];
    for (k, v) in changes {
        fields.retain(|(key, _)| key != k);
        fields.push((k, v));
    }
    let response = app.post_form(&format!("/cases/{id}/edit"), &fields).await;
    let status = response.status();
    let text = if status == 303 {
        let to = response.headers()["location"].to_str().unwrap().to_owned();
        assert_eq!(to, format!("/cases/{id}?done=edit"));
        app.get(&to).await.text().await.unwrap()
    } else {
        response.text().await.unwrap()
    };
    (status, text)
}

async fn to_issued(app: &TestApp, id: i32) {
    app.switch_to("tanto", "clerk", BUREAU).await;
    assert_eq!(
        app.post_signed(&format!("/cases/{id}/propose"), &[("district", "4")])
            .await
            .status(),
        303
    );
    app.switch_to("kessai", "approver", BUREAU).await;
    assert_eq!(
        app.post_signed(&format!("/cases/{id}/approve"), &[])
            .await
            .status(),
        303
    );
    app.switch_to("tanto", "clerk", BUREAU).await;
}

#[tokio::test]
async fn a_later_designation_date_keeps_the_number_and_moves_the_answer_due() {
    let app = TestApp::spawn().await;
    app.switch_to("tanto", "clerk", BUREAU).await;
    let id = enter(&app, "訂正試験クリニック", &[]).await;
    to_issued(&app, id).await;
    let before = app.request(id).await;
    let number = live_numbers(&app, id).await;
    assert_eq!(number.len(), 1);
    assert_eq!(before.status, CaseStatus::Issued);

    // No reason: refused beside the field, nothing changes.
    let (status, html) = correct(&app, id, &[("designation_date", "令和9年6月1日")]).await;
    assert_eq!(status, 422);
    assert!(html.contains("訂正の理由を入力してください"), "{html}");
    assert_eq!(app.request(id).await, before);

    let (status, html) = correct(
        &app,
        id,
        &[
            ("designation_date", "令和9年6月1日"),
            ("reason", "指定希望日の変更の連絡（電話）"),
            ("reply_name", "開設準備室 厚生"),
        ],
    )
    .await;
    assert_eq!(status, 303, "{html}");
    assert!(html.contains("訂正を保存しました"));
    let after = app.request(id).await;
    assert_eq!(
        after.designation_date,
        NaiveDate::from_ymd_opt(2027, 6, 1).unwrap()
    );
    assert_eq!(after.reply_name, "開設準備室 厚生");
    assert_eq!(after.status, CaseStatus::Issued, "the status stays");
    assert!(
        after.answer_due > before.answer_due,
        "the 回答期限 moves with the designation date: {} → {}",
        before.answer_due,
        after.answer_due
    );
    assert!(after.submission_deadline > before.submission_deadline);
    assert!(after.implementing_body_due > before.implementing_body_due);
    assert_eq!(
        after.correction_reason.as_deref(),
        Some("指定希望日の変更の連絡（電話）")
    );
    assert_eq!(after.lock_version, before.lock_version + 1);
    let still = live_numbers(&app, id).await;
    assert_eq!(
        still.iter().map(|n| &n.code).collect::<Vec<_>>(),
        number.iter().map(|n| &n.code).collect::<Vec<_>>(),
        "the issued number stays"
    );
    // Audited old → new, and the history says so in words.
    let entry = audit_log::Entity::find()
        .filter(audit_log::Column::Action.eq("request.correct"))
        .filter(audit_log::Column::EntityId.eq(id.to_string()))
        .one(&app.db)
        .await
        .unwrap()
        .expect("the correction is audited");
    assert_eq!(
        entry.before.unwrap()["designation_date"],
        json!("2027-04-01")
    );
    assert_eq!(
        entry.after.unwrap()["designation_date"],
        json!("2027-06-01")
    );
    assert!(
        html.contains("記載を訂正"),
        "the history names the correction"
    );
    assert!(html.contains("指定希望日の変更の連絡（電話）"));

    // A stale version (the form read before this correction) is refused plainly.
    let csrf = app.csrf("/dashboard").await;
    let stale = before.lock_version.to_string();
    let mut fields = vec![("csrf", csrf.as_str()), ("version", stale.as_str())];
    fields.extend(entry_fields(
        "訂正試験クリニック",
        &[("reason", "二重の訂正")],
    ));
    let response = app.post_form(&format!("/cases/{id}/edit"), &fields).await;
    assert_eq!(response.status(), 409);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("他の職員が先に処理しました")
    );
    assert_eq!(app.request(id).await.lock_version, after.lock_version);
}

#[tokio::test]
async fn a_correction_that_changes_nothing_is_refused_and_leaves_no_history() {
    let app = TestApp::spawn().await;
    app.switch_to("tanto", "clerk", BUREAU).await;
    let id = enter(&app, "同内容訂正医院", &[]).await;
    let before = app.request(id).await;
    let audits = || async {
        uketsuke_store::entities::audit_log::Entity::find()
            .count(&app.db)
            .await
            .unwrap()
    };
    let audited = audits().await;
    let (status, html) = correct(&app, id, &[("reason", "念のため")]).await;
    assert_eq!(status, 422);
    assert!(html.contains("訂正前と同じ内容です"), "{html}");
    assert_eq!(app.request(id).await, before, "nothing changed");
    assert_eq!(audits().await, audited, "no empty history row");
    // A real change still goes through.
    let (status, _) = correct(
        &app,
        id,
        &[
            ("contact_phone", "03-1111-2222"),
            ("reason", "電話番号の誤り"),
        ],
    )
    .await;
    assert_eq!(status, 303);
}

#[tokio::test]
async fn a_change_of_kind_or_prefecture_asks_to_void_the_number_first() {
    let app = TestApp::spawn().await;
    app.switch_to("tanto", "clerk", BUREAU).await;
    let id = enter(&app, "種別訂正医院", &[]).await;
    to_issued(&app, id).await;
    let before = app.request(id).await;
    let (status, html) = correct(&app, id, &[("kind", "dental"), ("reason", "種別の誤り")]).await;
    assert_eq!(status, 422);
    assert!(
        html.contains("先にその番号を無効化してから訂正してください"),
        "{html}"
    );
    let (status, html) = correct(
        &app,
        id,
        &[
            ("facility_address", "神奈川県横浜市中区日本大通1"),
            ("office_id", ""),
            ("reason", "所在地の誤り"),
        ],
    )
    .await;
    assert_eq!(status, 422);
    assert!(html.contains("所在地の都道府県を変えると"), "{html}");
    assert_eq!(app.request(id).await, before, "nothing changed");

    // Once the number is void the case is back at 受付済 and the kind can change.
    let number = live_numbers(&app, id).await.remove(0);
    app.switch_to("kessai", "approver", BUREAU).await;
    let number_id = number.id.to_string();
    assert_eq!(
        app.post_signed(
            &format!("/cases/{id}/void-number"),
            &[("number_id", number_id.as_str()), ("reason", "種別の誤り")]
        )
        .await
        .status(),
        303
    );
    app.switch_to("tanto", "clerk", BUREAU).await;
    assert_eq!(app.request(id).await.status, CaseStatus::Received);
    let (status, _) = correct(&app, id, &[("kind", "dental"), ("reason", "種別の誤り")]).await;
    assert_eq!(status, 303);
    assert_eq!(
        app.request(id).await.kind,
        uketsuke_domain::RequestKind::Dental
    );
    // And the prefecture: the office follows it when none is chosen.
    let (status, html) = correct(
        &app,
        id,
        &[
            ("facility_address", "神奈川県横浜市中区日本大通1"),
            ("office_id", ""),
            ("reason", "所在地の誤り"),
        ],
    )
    .await;
    assert_eq!(status, 303, "{html}");
    let moved = app.request(id).await;
    let kanagawa = uketsuke_store::bureaus::office_id(&app.db, BUREAU, "kanagawa")
        .await
        .unwrap();
    assert_eq!(moved.office_id, kanagawa);
    let facility = uketsuke_store::entities::facility::Entity::find_by_id(moved.facility_id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        facility.prefecture, "14",
        "the facility's prefecture follows"
    );
    // An office that does not cover the prefecture is refused beside its field.
    let tokyo = uketsuke_store::bureaus::office_id(&app.db, BUREAU, "tokyo")
        .await
        .unwrap()
        .unwrap()
        .to_string();
    let (status, html) = correct(
        &app,
        id,
        &[("office_id", &tokyo), ("reason", "事務所の変更")],
    )
    .await;
    assert_eq!(status, 422);
    assert!(
        html.contains("東京事務所は神奈川県を担当していません"),
        "{html}"
    );
    // Another bureau's prefecture is refused as at entry.
    let (status, html) = correct(
        &app,
        id,
        &[
            ("facility_address", "大阪府大阪市中央区大手前2-1-22"),
            ("office_id", ""),
            ("reason", "所在地の誤り"),
        ],
    )
    .await;
    assert_eq!(status, 422);
    assert!(
        html.contains("関東信越厚生局の管轄ではありません"),
        "{html}"
    );
}

#[tokio::test]
async fn a_corrected_arrival_date_changes_the_verdict_and_never_lies_in_the_future() {
    let app = TestApp::spawn().await;
    app.switch_to("tanto", "clerk", BUREAU).await;
    let today = uketsuke_domain::today_in_japan();
    // Designation next month, received today: past the 提出期限 (返戻相当).
    let designation = (today + chrono::Months::new(1))
        .with_day(1)
        .unwrap()
        .format("%Y-%m-%d")
        .to_string();
    let id = enter(
        &app,
        "到着日訂正医院",
        &[("designation_date", &designation)],
    )
    .await;
    let late = app.request(id).await;
    assert_eq!(late.decision, Decision::Return, "judged late on today");
    let arrived = (late.submission_deadline - chrono::TimeDelta::days(3))
        .format("%Y-%m-%d")
        .to_string();
    let tomorrow = (today + chrono::TimeDelta::days(1))
        .format("%Y-%m-%d")
        .to_string();
    let (status, html) = correct(
        &app,
        id,
        &[("received_on", &tomorrow), ("reason", "受付日の誤り")],
    )
    .await;
    assert_eq!(status, 422);
    assert!(html.contains("未来の日付です"), "{html}");
    let (status, html) = correct(
        &app,
        id,
        &[
            ("received_on", &arrived),
            ("reason", "郵便の到着日に訂正（入力が遅れたため）"),
        ],
    )
    .await;
    assert_eq!(status, 303, "{html}");
    let on_time = app.request(id).await;
    assert_eq!(on_time.received_on.format("%Y-%m-%d").to_string(), arrived);
    assert_eq!(on_time.decision, Decision::Accept, "in time on its arrival");
    assert_eq!(on_time.reasons, json!([]));
}

#[tokio::test]
async fn a_correction_into_a_duplicate_is_refused() {
    let app = TestApp::spawn().await;
    app.switch_to("tanto", "clerk", BUREAU).await;
    let _first = enter(&app, "重複訂正医院", &[]).await;
    let second = enter(&app, "重複訂正医院２", &[]).await;
    let (status, html) = correct(
        &app,
        second,
        &[("facility_name", "重複訂正医院"), ("reason", "名称の誤り")],
    )
    .await;
    assert_eq!(status, 422);
    assert!(html.contains("依頼が既にあります"), "{html}");
    assert_eq!(app.request(second).await.facility_name, "重複訂正医院２");
}

#[tokio::test]
async fn only_a_clerk_of_the_case_may_correct_it() {
    let app = TestApp::spawn().await;
    app.switch_to("tanto", "clerk", BUREAU).await;
    let id = enter(&app, "権限訂正医院", &[]).await;
    let before = app.request(id).await;
    app.switch_to("etsuran", "viewer", BUREAU).await;
    let page = app.get(&format!("/cases/{id}/edit")).await;
    uketsuke_tests::assert_refused(page, &uketsuke_tests::refusal::role("担当")).await;
    let mut fields = vec![("version", "0")];
    fields.extend(entry_fields("権限訂正医院", &[("reason", "試験")]));
    let refused = app.post_signed(&format!("/cases/{id}/edit"), &fields).await;
    uketsuke_tests::assert_refused(refused, &uketsuke_tests::refusal::role("担当")).await;
    // Another bureau: not found.
    let csrf = app.csrf("/dashboard").await;
    app.post_form("/logout", &[("csrf", csrf.as_str())]).await;
    let password = app.create_user("kyushu-tanto", "clerk", "kyushu").await;
    app.login("kyushu-tanto", &password).await;
    assert_eq!(app.get(&format!("/cases/{id}/edit")).await.status(), 404);
    assert_eq!(
        app.post_signed(&format!("/cases/{id}/edit"), &fields)
            .await
            .status(),
        404
    );
    // Without the form's token: refused.
    let response = app.post_form(&format!("/cases/{id}/edit"), &fields).await;
    uketsuke_tests::assert_refused(response, uketsuke_tests::refusal::CSRF).await;
    assert_eq!(app.request(id).await, before);
}

async fn token(app: &TestApp, username: &str, role: &str, bureau: &str) -> String {
    app.create_user(username, role, bureau).await;
    uketsuke_store::tokens::create(&app.db, username, "test", &Actor::system("test"))
        .await
        .unwrap()
        .0
}

#[tokio::test]
async fn the_api_corrects_only_the_fields_given() {
    let app = TestApp::spawn().await;
    let clerk = token(&app, "api-tanto", "clerk", BUREAU).await;
    // A 受付日 after today is refused at entry too.
    let tomorrow = uketsuke_domain::today_in_japan() + chrono::TimeDelta::days(1);
    let (status, body) = app
        .api(
            reqwest::Method::POST,
            "/api/v1/requests",
            &clerk,
            Some(json!({
                "kind": "歯科",
                "facility_name": "API未来歯科",
                "facility_address": "東京都新宿区西新宿2-8-1",
                "designation_date": "令和9年4月1日",
                "founder_name": "厚生 花子",
                "contact_phone": "03-5321-1111",
                "received_on": tomorrow.format("%Y-%m-%d").to_string(),
            })),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["fields"][0]["field"], json!("received_on"));
    let (status, created) = app
        .api(
            reqwest::Method::POST,
            "/api/v1/requests",
            &clerk,
            Some(json!({
                "kind": "歯科",
                "facility_name": "API訂正歯科",
                "facility_address": "東京都新宿区西新宿2-8-1",
                "designation_date": "令和9年4月1日",
                "founder_name": "厚生 花子",
                "contact_phone": "03-5321-1111",
            })),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_i64().unwrap();
    assert_eq!(created["retroactive"], json!(false));
    assert_eq!(
        created["received_on"],
        json!(uketsuke_domain::today_in_japan())
    );
    let path = format!("/api/v1/requests/{id}");
    // Without a version or a reason: 422 naming the field.
    let (status, body) = app
        .api(
            reqwest::Method::PATCH,
            &path,
            &clerk,
            Some(json!({"reason": "試験", "designation_date": "2027-06-01"})),
        )
        .await;
    assert_eq!(status, 422);
    assert_eq!(
        body["error"]["fields"][0]["field"],
        json!("version"),
        "{body}"
    );
    let (status, body) = app
        .api(
            reqwest::Method::PATCH,
            &path,
            &clerk,
            Some(json!({"version": created["version"], "designation_date": "2027-06-01"})),
        )
        .await;
    assert_eq!(status, 422);
    assert!(body.to_string().contains("reason"), "{body}");
    let (status, body) = app
        .api(
            reqwest::Method::PATCH,
            &path,
            &clerk,
            Some(json!({
                "version": created["version"],
                "reason": "指定希望日の変更",
                "designation_date": "令和9年6月1日",
                "retroactive": true,
            })),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["designation_date"], json!("2027-06-01"));
    assert_eq!(body["retroactive"], json!(true));
    assert_eq!(
        body["verdict"]["decision"],
        json!("return"),
        "遡及 is 返戻相当"
    );
    assert_eq!(body["correction_reason"], json!("指定希望日の変更"));
    assert_eq!(body["facility"]["name"], json!("API訂正歯科"), "untouched");
    assert_eq!(body["kind"], json!("dental"), "untouched");
    // The same version again: someone was first.
    let (status, body) = app
        .api(
            reqwest::Method::PATCH,
            &path,
            &clerk,
            Some(json!({"version": created["version"], "reason": "二重", "reply_name": "x"})),
        )
        .await;
    assert_eq!(status, 409, "{body}");
    // A viewer may not; another bureau does not see it.
    let viewer = token(&app, "api-etsuran", "viewer", BUREAU).await;
    let (status, _) = app
        .api(
            reqwest::Method::PATCH,
            &path,
            &viewer,
            Some(json!({"version": 1, "reason": "試験"})),
        )
        .await;
    assert_eq!(status, 403);
    let other = token(&app, "api-kyushu", "clerk", "kyushu").await;
    let (status, _) = app
        .api(
            reqwest::Method::PATCH,
            &path,
            &other,
            Some(json!({"version": 1, "reason": "試験"})),
        )
        .await;
    assert_eq!(status, 404);
    // An unknown key is refused, not silently ignored.
    let (status, _) = app
        .api(
            reqwest::Method::PATCH,
            &path,
            &clerk,
            Some(json!({"version": 1, "reason": "試験", "designation": "2027-06-01"})),
        )
        .await;
    assert_eq!(status, 422);
    let history: Vec<String> = audit_log::Entity::find()
        .filter(audit_log::Column::EntityId.eq(id.to_string()))
        .filter(audit_log::Column::Entity.eq("reception_request"))
        .order_by_asc(audit_log::Column::Id)
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(history, ["request.create", "request.correct"]);
    let _ = NumberStatus::Proposed;
}

/// The same correction sent by two clerks' API tokens at once, on the version both
/// read: exactly one is applied, the other gets 409.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_clerks_correcting_through_the_api_at_once_one_wins() {
    let app = TestApp::spawn().await;
    let (a, b) = (
        token(&app, "api-tanto-a", "clerk", BUREAU).await,
        token(&app, "api-tanto-b", "clerk", BUREAU).await,
    );
    for round in 0..4 {
        let (status, created) = app
            .api(
                reqwest::Method::POST,
                "/api/v1/requests",
                &a,
                Some(json!({
                    "kind": "医科",
                    "facility_name": format!("同時訂正医院{round}"),
                    "facility_address": "東京都新宿区西新宿2-8-1",
                    "designation_date": "令和9年4月1日",
                    "founder_name": "厚生 太郎",
                    "contact_phone": "03-5321-1111",
                })),
            )
            .await;
        assert_eq!(status, 201, "{created}");
        let path = format!("/api/v1/requests/{}", created["id"]);
        let body = json!({
            "version": created["version"],
            "reason": "指定希望日の変更",
            "designation_date": "2027-06-01",
        });
        let (x, y) = tokio::join!(
            app.api(reqwest::Method::PATCH, &path, &a, Some(body.clone())),
            app.api(reqwest::Method::PATCH, &path, &b, Some(body.clone())),
        );
        let mut statuses = [x.0, y.0];
        statuses.sort_unstable();
        assert_eq!(statuses, [200, 409], "{x:?} {y:?}");
        let loser = if x.0 == 409 { &x.1 } else { &y.1 };
        assert!(
            loser.to_string().contains("他の職員が先に処理しました"),
            "{loser}"
        );
        let id = created["id"].as_i64().unwrap() as i32;
        assert_eq!(
            app.request(id).await.lock_version,
            created["version"].as_i64().unwrap() as i32 + 1,
            "corrected once"
        );
    }
}
