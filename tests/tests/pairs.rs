//! 医科・歯科併設: the 医科 and the 歯科 request of one facility are offered to each
//! other as a pair, linked and unlinked through the lifecycle (page and API), proposed
//! and approved together — each kind with its own number from its own range, as the
//! bureaus number them — and each row of the 一覧表 carries the other's 7-digit number
//! as 併設医療機関番号.

use std::sync::Arc;

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use tokio::sync::Barrier;
use uketsuke_domain::{FeeSchedule, InstitutionCode, RequestKind};
use uketsuke_store::Error as StoreError;
use uketsuke_store::audit::Actor;
use uketsuke_store::entities::{audit_log, issued_number, reception_request};
use uketsuke_store::lifecycle::{self, Caller, CaseStatus, Command, NumberStatus, Scope};
use uketsuke_store::users::Role;
use uketsuke_tests::TestApp;

const BUREAU: &str = "kanto-shinetsu";
const ADDRESS: &str = "東京都港区芝公園4-2-8";

async fn enter(app: &TestApp, name: &str, kind: &str, address: &str) -> i32 {
    enter_for(app, name, kind, address, "医療法人社団 あおば会").await
}

async fn enter_for(app: &TestApp, name: &str, kind: &str, address: &str, founder: &str) -> i32 {
    let csrf = app.csrf("/requests/new").await;
    let response = app
        .post_form(
            "/requests/new",
            &[
                ("csrf", csrf.as_str()),
                ("reply_address", address),
                ("reply_name", "開設準備室"),
                ("kind", kind),
                ("facility_name", name),
                ("facility_address", address),
                ("designation_date", "令和9年4月1日"),
                ("founder_kind", "corporation"),
                ("corporation_name", founder),
                ("contact_phone", "03-5321-1111"),
            ],
        )
        .await;
    assert_eq!(response.status(), 303, "entry of {name} ({kind})");
    response.headers()["location"]
        .to_str()
        .unwrap()
        .trim_start_matches("/cases/")
        .parse()
        .unwrap()
}

async fn number(app: &TestApp, id: i32) -> issued_number::Model {
    let mut live: Vec<_> = issued_number::Entity::find()
        .filter(issued_number::Column::RequestId.eq(id))
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .filter(|n| n.status.is_live())
        .collect();
    assert_eq!(live.len(), 1, "one live number for case {id}");
    live.remove(0)
}

async fn page(app: &TestApp, id: i32) -> String {
    app.get(&format!("/cases/{id}")).await.text().await.unwrap()
}

fn version(model: &reception_request::Model) -> String {
    model.lock_version.to_string()
}

#[tokio::test]
async fn a_pair_is_offered_linked_proposed_together_with_two_numbers_and_listed_with_each_other() {
    let app = TestApp::spawn().await;
    app.switch_to("tanto", "clerk", BUREAU).await;
    // A number of each kind already taken in district 04, so that each kind's next free
    // number is its own: 医科 0001 is taken, 歯科 0001 is not.
    let medical_first = enter_for(
        &app,
        "しばこうえん内科",
        "medical",
        "東京都港区芝公園1-1-1",
        "医療法人 しば会",
    )
    .await;
    app.post_signed(
        &format!("/cases/{medical_first}/propose"),
        &[("district", "4")],
    )
    .await;
    let medical = enter(&app, "あおば医科歯科クリニック", "medical", ADDRESS).await;
    let dental = enter(&app, "あおば医科歯科クリニック", "dental", ADDRESS).await;
    let pharmacy = enter(&app, "あおば薬局", "pharmacy", ADDRESS).await;

    // The 歯科 case offers the 医科 one (same name and address), not the 薬局 nor the
    // other 医科 case elsewhere.
    let html = page(&app, dental).await;
    assert!(
        html.contains("同じ医療機関と思われる医科の依頼があります"),
        "{html}"
    );
    assert!(html.contains(&format!(
        "受付ID {medical} あおば医科歯科クリニック（医科）"
    )));
    assert!(!html.contains(&format!("受付ID {pharmacy} ")));
    assert!(!html.contains(&format!("受付ID {medical_first} ")));

    // Refusals, each told plainly and changing nothing.
    let d = app.request(dental).await;
    for (sibling, says) in [
        (pharmacy.to_string(), "医科と歯科の依頼の組だけです"),
        (dental.to_string(), "同じ依頼どうしは関連付けられません"),
        ("999999".to_owned(), "見つかりません"),
        ("あ".to_owned(), "受付ID（数字）を入力してください"),
    ] {
        let response = app
            .post_signed(
                &format!("/cases/{dental}/link"),
                &[("version", &version(&d)), ("sibling_id", &sibling)],
            )
            .await;
        assert_eq!(response.status(), 422, "{sibling}");
        assert!(response.text().await.unwrap().contains(says), "{says}");
    }
    assert_eq!(app.request(dental).await, d);

    // Linked from the offer (全角 digits are fine when typed).
    let typed = uketsuke_domain::normalize_width(&medical.to_string())
        .chars()
        .map(|c| char::from_u32(c as u32 + 0xFEE0).unwrap())
        .collect::<String>();
    let response = app
        .post_signed(
            &format!("/cases/{dental}/link"),
            &[("version", &version(&d)), ("sibling_id", &typed)],
        )
        .await;
    assert_eq!(response.status(), 303);
    assert_eq!(app.request(dental).await.sibling_id, Some(medical));
    assert_eq!(app.request(medical).await.sibling_id, Some(dental));
    let html = app.follow(response).await.text().await.unwrap();
    assert!(html.contains("「併設の関連付け」を記録しました"));
    assert!(html.contains(&format!(
        "<a href=\"/cases/{medical}\">あおば医科歯科クリニック（医科）</a>"
    )));
    assert!(
        !html.contains("同じ医療機関と思われる"),
        "no more offer once linked"
    );
    for id in [medical, dental] {
        let linked = audit_log::Entity::find()
            .filter(audit_log::Column::Action.eq("request.link_sibling"))
            .filter(audit_log::Column::EntityId.eq(id.to_string()))
            .all(&app.db)
            .await
            .unwrap();
        assert_eq!(linked.len(), 1, "both sides are audited");
    }
    // Linking again is refused.
    let d = app.request(dental).await;
    let again = app
        .post_signed(
            &format!("/cases/{dental}/link"),
            &[
                ("version", &version(&d)),
                ("sibling_id", &medical.to_string()),
            ],
        )
        .await;
    assert_eq!(again.status(), 422);
    assert!(
        again
            .text()
            .await
            .unwrap()
            .contains("既に併設として関連付けられています")
    );

    // Proposing one proposes both, each with the next free number of its own kind.
    let peek = |fee_schedule| {
        uketsuke_store::issuance::peek_next(
            &app.db,
            uketsuke_store::issuance::District {
                prefecture: uketsuke_domain::Prefecture::from_code(13).unwrap(),
                fee_schedule,
                number: 4,
            },
            &app.settings.numbering,
        )
    };
    let (next_medical, next_dental) = (
        peek(FeeSchedule::Medical).await.unwrap(),
        peek(FeeSchedule::Dental).await.unwrap(),
    );
    let response = app
        .post_signed(&format!("/cases/{dental}/propose"), &[("district", "4")])
        .await;
    assert_eq!(response.status(), 303);
    assert_eq!(app.request(medical).await.status, CaseStatus::Proposed);
    assert_eq!(app.request(dental).await.status, CaseStatus::Proposed);
    let (m, d) = (number(&app, medical).await, number(&app, dental).await);
    let (mc, dc) = (
        InstitutionCode::parse(&m.code).unwrap(),
        InstitutionCode::parse(&d.code).unwrap(),
    );
    assert_eq!(mc.fee_schedule(), FeeSchedule::Medical);
    assert_eq!(dc.fee_schedule(), FeeSchedule::Dental);
    assert_eq!((mc.district(), dc.district()), (4, 4));
    let first = InstitutionCode::parse(&number(&app, medical_first).await.code).unwrap();
    assert_eq!(mc.serial(), first.serial() + 1, "the 医科 range goes on");
    assert_eq!(mc, next_medical);
    assert_eq!(
        dc, next_dental,
        "the 歯科 number is the next of its own range"
    );
    assert_ne!(mc.medical_code(), dc.medical_code(), "two numbers, not one");
    assert!(!m.combined_dental && !d.combined_dental);

    // Approved together by another person.
    app.switch_to("kessai", "approver", BUREAU).await;
    assert_eq!(
        app.post_signed(&format!("/cases/{medical}/approve"), &[])
            .await
            .status(),
        303
    );
    assert_eq!(app.request(dental).await.status, CaseStatus::Issued);
    assert_eq!(number(&app, dental).await.status, NumberStatus::Approved);

    // In the 一覧表 each row carries the other's 7-digit number.
    let session = uketsuke_store::council::find_or_create(
        &app.db,
        uketsuke_store::council::NewSession {
            bureau_id: BUREAU.into(),
            prefecture: "13".into(),
            held_on: uketsuke_domain::today_in_japan(),
            name: "東京地方社会保険医療協議会".into(),
        },
        &Actor::system("test"),
    )
    .await
    .unwrap();
    let rows = uketsuke_store::views::list_rows(
        &app.db,
        &session,
        &[app.request(medical).await, app.request(dental).await],
    )
    .await
    .unwrap();
    assert_eq!(rows[0].kind, RequestKind::Medical);
    assert_eq!(rows[0].combined_code.as_deref(), Some(&d.code[3..]));
    assert_eq!(rows[1].combined_code.as_deref(), Some(&m.code[3..]));

    // Unlinking clears both sides; the numbers stay.
    app.switch_to("tanto", "clerk", BUREAU).await;
    let md = app.request(medical).await;
    let response = app
        .post_signed(
            &format!("/cases/{medical}/unlink"),
            &[("version", &version(&md))],
        )
        .await;
    assert_eq!(response.status(), 303);
    assert_eq!(app.request(medical).await.sibling_id, None);
    assert_eq!(app.request(dental).await.sibling_id, None);
    let html = app.follow(response).await.text().await.unwrap();
    assert!(html.contains("併設の関連付けを解除しました"));
    assert_eq!(number(&app, medical).await.code, m.code);
    // A viewer may neither link nor unlink.
    app.switch_to("etsuran", "viewer", BUREAU).await;
    let md = app.request(medical).await;
    let refused = app
        .post_signed(
            &format!("/cases/{medical}/link"),
            &[
                ("version", &version(&md)),
                ("sibling_id", &dental.to_string()),
            ],
        )
        .await;
    uketsuke_tests::assert_refused(refused, &uketsuke_tests::refusal::role("担当")).await;
}

async fn caller(app: &TestApp, username: &str) -> Caller {
    app.create_user(username, "clerk", BUREAU).await;
    let user = uketsuke_store::users::find_by_username(&app.db, username)
        .await
        .unwrap()
        .unwrap();
    Caller {
        actor: Actor::user(user.id, &user.username),
        role: Role::Clerk,
        scope: Scope {
            bureau_id: BUREAU.into(),
            office_id: None,
        },
    }
}

/// Two clerks link the same 歯科 case at once, each to another 医科 case: exactly one
/// wins; the 歯科 case ends with one sibling, whose link points back.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_clerks_linking_one_case_at_once_give_one_pair() {
    let app = TestApp::spawn().await;
    app.switch_to("tanto", "clerk", BUREAU).await;
    let (a, b) = (caller(&app, "tanto-a").await, caller(&app, "tanto-b").await);
    for round in 0..4 {
        let dental = enter(&app, &format!("競合歯科{round}"), "dental", ADDRESS).await;
        let m1 = enter(&app, &format!("競合医科{round}"), "medical", ADDRESS).await;
        let m2 = enter(&app, &format!("競合医科{round}B"), "medical", ADDRESS).await;
        let seen = app.request(dental).await.lock_version;
        let barrier = Arc::new(Barrier::new(2));
        let run = |who: Caller, sibling_id: i32| {
            let (db, barrier) = (app.db.clone(), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                lifecycle::apply(&db, &who, dental, Some(seen), &Command::Link { sibling_id }).await
            })
        };
        let (x, y) = (run(a.clone(), m1), run(b.clone(), m2));
        let results = [x.await.unwrap(), y.await.unwrap()];
        assert_eq!(
            results.iter().filter(|r| r.is_ok()).count(),
            1,
            "exactly one link wins: {results:?}"
        );
        assert!(
            results
                .iter()
                .any(|r| matches!(r, Err(StoreError::Conflict))),
            "the other is told someone was first: {results:?}"
        );
        let d = app.request(dental).await;
        let winner = d.sibling_id.expect("linked");
        assert_eq!(app.request(winner).await.sibling_id, Some(dental));
        let loser = if winner == m1 { m2 } else { m1 };
        assert_eq!(app.request(loser).await.sibling_id, None);
        assert_eq!(d.lock_version, seen + 1);
    }
}

#[tokio::test]
async fn the_api_offers_links_and_unlinks_a_pair() {
    let app = TestApp::spawn().await;
    app.create_user("api-tanto", "clerk", BUREAU).await;
    let (token, _) =
        uketsuke_store::tokens::create(&app.db, "api-tanto", "test", &Actor::system("test"))
            .await
            .unwrap();
    let mut ids = Vec::new();
    for kind in ["医科", "歯科"] {
        let (status, body) = app
            .api(
                reqwest::Method::POST,
                "/api/v1/requests",
                &token,
                Some(json!({
                    "kind": kind,
                    "facility_name": format!("みなと{kind}"),
                    "facility_address": ADDRESS,
                    "designation_date": "2027-04-01",
                    "corporation_name": "医療法人社団 みなと会",
                    "contact_phone": "03-5321-1111",
                })),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        ids.push(body["id"].as_i64().unwrap());
    }
    let (medical, dental) = (ids[0], ids[1]);
    let (_, body) = app
        .api(
            reqwest::Method::GET,
            &format!("/api/v1/requests/{dental}"),
            &token,
            None,
        )
        .await;
    assert_eq!(body["pair_candidates"], json!([medical]), "same address");
    assert_eq!(body["sibling_id"], Value::Null);
    let (status, body) = app
        .api(
            reqwest::Method::POST,
            &format!("/api/v1/requests/{dental}/link"),
            &token,
            Some(json!({"version": body["version"]})),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["fields"][0]["field"], json!("sibling_id"));
    let (_, current) = app
        .api(
            reqwest::Method::GET,
            &format!("/api/v1/requests/{dental}"),
            &token,
            None,
        )
        .await;
    let (status, body) = app
        .api(
            reqwest::Method::POST,
            &format!("/api/v1/requests/{dental}/link"),
            &token,
            Some(json!({"version": current["version"], "sibling_id": medical})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["sibling_id"], json!(medical));
    assert_eq!(body["pair_candidates"], json!([]));
    let (status, body) = app
        .api(
            reqwest::Method::POST,
            &format!("/api/v1/requests/{medical}/unlink"),
            &token,
            Some(json!({"version": 0})),
        )
        .await;
    assert_eq!(status, 409, "a stale version: {body}");
    let (_, m) = app
        .api(
            reqwest::Method::GET,
            &format!("/api/v1/requests/{medical}"),
            &token,
            None,
        )
        .await;
    assert_eq!(m["sibling_id"], json!(dental));
    let (status, body) = app
        .api(
            reqwest::Method::POST,
            &format!("/api/v1/requests/{medical}/unlink"),
            &token,
            Some(json!({"version": m["version"]})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["sibling_id"], Value::Null);
    assert_eq!(body["pair_candidates"], json!([dental]), "offered again");
}
