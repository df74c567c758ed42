//! No approved facility misses the list to the 実施機関: each council session's
//! approvals go out in a first list, approvals recorded after it in a supplementary list
//! (追加分), a session recorded late is still sent, a session not yet held is not, and
//! two schedulers at once make one list. Proved end to end with a real SMTP server and
//! the attachments read back by openpyxl: every approved facility appears in exactly one
//! sent list.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{NaiveDate, TimeDelta, Utc};
use mail_parser::MimeHeaders;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use serde_json::{Value, json};
use uketsuke_domain::format_wareki;
use uketsuke_store::audit::Actor;
use uketsuke_store::entities::{council_list, council_session, issued_number, reception_request};
use uketsuke_store::entities::{job_run, outbox};
use uketsuke_store::lifecycle::{self, Caller, CaseStatus, Command, NumberStatus, Scope};
use uketsuke_store::users::{self, Role};
use uketsuke_tests::TestApp;
use uketsuke_tests::smtp::SmtpSink;

async fn approver(app: &TestApp) -> Caller {
    let password = app
        .create_user("kessai", "approver", "kanto-shinetsu")
        .await;
    app.login("kessai", &password).await;
    let user = users::find_by_username(&app.db, "kessai")
        .await
        .unwrap()
        .unwrap();
    Caller {
        actor: Actor::user(user.id, &user.username),
        role: Role::Approver,
        scope: Scope {
            bureau_id: user.bureau_id,
            office_id: None,
        },
    }
}

/// Two schedulers ticking at the same moment, on two threads.
async fn tick_twice_at_once(app: &TestApp) -> Vec<uketsuke::jobs::RunReport> {
    tick_twice_at_once_at(app, uketsuke::jobs::now_in_japan()).await
}

/// Two schedulers ticking at once as at `now` (Japan time).
async fn tick_twice_at_once_at(
    app: &TestApp,
    now: chrono::NaiveDateTime,
) -> Vec<uketsuke::jobs::RunReport> {
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(2));
    let runs: Vec<_> = (0..2)
        .map(|_| {
            let (db, settings, barrier) = (app.db.clone(), app.settings.clone(), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                uketsuke::jobs::tick(&db, &settings, now).await
            })
        })
        .collect();
    let mut reports = Vec::new();
    for run in runs {
        reports.extend(run.await.unwrap());
    }
    reports
        .into_iter()
        .filter(|r| r.job == "council-export" && r.outcome == "done")
        .collect()
}

/// The 受付番号 column of an attached 一覧表, read by openpyxl.
fn listed_numbers(xlsx: &[u8]) -> Vec<String> {
    listed_rows(xlsx).into_iter().map(|(n, _)| n).collect()
}

/// (受付番号, 指定年月日 as YYYY-MM-DD) of each row of a 一覧表, read by openpyxl.
fn listed_rows(xlsx: &[u8]) -> Vec<(String, String)> {
    let path = std::env::temp_dir().join(format!(
        "uketsuke-list-{}.xlsx",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::write(&path, xlsx).unwrap();
    let script = r#"
import sys, openpyxl
ws = openpyxl.load_workbook(sys.argv[1]).active
rows = [list(r) for r in ws.iter_rows(values_only=True)]
header = next(r for r in rows if r and r[0] == "項番")
col = header.index("受付番号")
day = header.index("指定年月日")
for r in rows[rows.index(header) + 1:]:
    if r[col] is not None:
        print(r[col], r[day].date().isoformat() if r[day] is not None else "")
"#;
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(&path)
        .output()
        .expect("python3 with openpyxl");
    let _ = std::fs::remove_file(&path);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let (n, d) = l.split_once(' ').unwrap_or((l, ""));
            (n.to_owned(), d.to_owned())
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_approved_facility_goes_out_in_exactly_one_sent_list() {
    let app = TestApp::spawn_with(true).await;
    let sink = SmtpSink::start().await;
    let config = app.cli_config(sink.port);
    let caller = approver(&app).await;
    let session = council_session::Entity::find()
        .one(&app.db)
        .await
        .unwrap()
        .expect("the demo's council session");

    // After the session: two schedulers at once make one list.
    let done = tick_twice_at_once(&app).await;
    assert_eq!(done.len(), 1, "one list: {done:?}");
    assert_eq!(
        council_list::Entity::find().count(&app.db).await.unwrap(),
        1
    );
    assert!(
        tick_twice_at_once(&app).await.is_empty(),
        "nothing more to send"
    );

    // An approval recorded in the same session after its list went out.
    let late = reception_request::Entity::find()
        .filter(reception_request::Column::Status.eq(CaseStatus::Answered))
        .one(&app.db)
        .await
        .unwrap()
        .expect("the demo's answered case");
    lifecycle::apply(
        &app.db,
        &caller,
        late.id,
        Some(late.lock_version),
        &Command::Designate {
            session_id: session.id,
            designation_date: None,
        },
    )
    .await
    .unwrap();
    let dashboard = app.get("/dashboard").await.text().await.unwrap();
    assert!(
        dashboard.contains("実施機関へ未送付") && dashboard.contains("1件"),
        "the dashboard warns of the approval not yet sent"
    );

    let done = tick_twice_at_once(&app).await;
    assert_eq!(done.len(), 1, "a supplementary list: {done:?}");
    assert!(done[0].detail.contains("追加分1"), "{}", done[0].detail);
    assert!(tick_twice_at_once(&app).await.is_empty());
    let dashboard = app.get("/dashboard").await.text().await.unwrap();
    assert!(!dashboard.contains("実施機関へ未送付"));

    // Sent through a real SMTP server; each list read back by openpyxl.
    config.run(&["outbox", "send"]).await.unwrap();
    // (The ticks also sent the staff's daily mails.)
    let messages: Vec<_> = sink
        .messages()
        .into_iter()
        .filter(|m| m.to == ["jisshi-kikan@uketsuke.localhost"])
        .collect();
    assert_eq!(messages.len(), 2, "the first list and its supplement");
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut subjects = Vec::new();
    for message in &messages {
        let parsed = mail_parser::MessageParser::default()
            .parse(message.data.as_bytes())
            .unwrap();
        subjects.push(parsed.subject().unwrap().to_owned());
        let attachment = parsed.attachments().next().expect("the list attached");
        assert!(attachment.attachment_name().unwrap().ends_with(".xlsx"));
        for number in listed_numbers(attachment.contents()) {
            *seen.entry(number).or_default() += 1;
        }
    }
    assert!(
        subjects.iter().any(|s| s.contains("追加分1")),
        "{subjects:?}"
    );
    let designated = reception_request::Entity::find()
        .filter(reception_request::Column::Status.eq(CaseStatus::Designated))
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(designated.len(), 2);
    for case in &designated {
        let number = issued_number::Entity::find()
            .filter(issued_number::Column::RequestId.eq(case.id))
            .filter(issued_number::Column::Status.eq(NumberStatus::Approved))
            .one(&app.db)
            .await
            .unwrap()
            .expect("an approved number");
        assert_eq!(
            seen.get(&number.code),
            Some(&1),
            "{} in exactly one list: {seen:?}",
            case.facility_name
        );
    }
    assert_eq!(seen.len(), designated.len(), "no other rows: {seen:?}");
}

#[tokio::test]
async fn a_session_recorded_late_is_sent_and_one_not_yet_held_is_not() {
    let app = TestApp::spawn_with(true).await;
    let designated = reception_request::Entity::find()
        .filter(reception_request::Column::Status.eq(CaseStatus::Designated))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let today = uketsuke::jobs::now_in_japan().date();
    let session = |held_on: NaiveDate| council_session::ActiveModel {
        bureau_id: Set("kanto-shinetsu".into()),
        prefecture: Set("13".into()),
        held_on: Set(held_on),
        name: Set("東京地方社会保険医療協議会".into()),
        created_at: Set(Utc::now()),
        ..Default::default()
    };
    // A session held 90 days ago and recorded only now.
    let old = session(today - TimeDelta::days(90))
        .insert(&app.db)
        .await
        .unwrap();
    let mut moved: reception_request::ActiveModel = designated.clone().into();
    moved.council_session_id = Set(Some(old.id));
    moved.update(&app.db).await.unwrap();
    let due = uketsuke::jobs::due_runs(&app.db, &app.settings, uketsuke::jobs::now_in_japan())
        .await
        .unwrap();
    assert!(
        due.contains(&("council-export".to_owned(), old.id.to_string())),
        "a late session is due: {due:?}"
    );

    // A session planned for next week, with an approval already recorded in it.
    let planned = session(today + TimeDelta::days(7))
        .insert(&app.db)
        .await
        .unwrap();
    let mut moved: reception_request::ActiveModel = designated.into();
    moved.council_session_id = Set(Some(planned.id));
    moved.update(&app.db).await.unwrap();
    let due = uketsuke::jobs::due_runs(&app.db, &app.settings, uketsuke::jobs::now_in_japan())
        .await
        .unwrap();
    assert!(
        !due.iter().any(|(job, _)| job == "council-export"),
        "nothing due before the session: {due:?}"
    );
    let report = uketsuke::jobs::run(
        &app.db,
        &app.settings,
        "council-export",
        &planned.id.to_string(),
    )
    .await
    .unwrap();
    assert_eq!(report.outcome, "not-yet", "{report:?}");
    assert!(report.detail.contains("まだ開催されていません"));
    assert_eq!(
        council_list::Entity::find().count(&app.db).await.unwrap(),
        0
    );
}

const BUREAU: &str = "kanto-shinetsu";

async fn api_token(app: &TestApp, username: &str, role: &str) -> String {
    if users::find_by_username(&app.db, username)
        .await
        .unwrap()
        .is_none()
    {
        app.create_user(username, role, BUREAU).await;
    }
    uketsuke_store::tokens::create(&app.db, username, "test", &Actor::system("test"))
        .await
        .unwrap()
        .0
}

async fn api_post(app: &TestApp, path: &str, token: &str, body: Value) -> (u16, Value) {
    let response = app
        .client
        .post(format!("{}{path}", app.base_url))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn api_get(app: &TestApp, path: &str, token: &str) -> Value {
    let response = app
        .client
        .get(format!("{}{path}", app.base_url))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "GET {path}");
    response.json().await.unwrap()
}

/// A 東京都 case entered, proposed and approved through the API (番号交付済).
async fn issued_case(app: &TestApp, clerk: &str, approver: &str, name: &str) -> i64 {
    let (status, created) = api_post(
        app,
        "/api/v1/requests",
        clerk,
        json!({
            "kind": "医科",
            "facility_name": name,
            "facility_postal_code": "160-0023",
            "facility_address": format!("東京都新宿区西新宿2-8-1 {name}ビル"),
            "designation_date": "令和9年4月1日",
            "founder_name": "厚生 太郎",
            "contact_phone": "03-5321-1111",
            "reply_address": "東京都新宿区西新宿2-8-1",
            "reply_name": "開設準備室",
        }),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_i64().unwrap();
    let (status, proposed) = api_post(
        app,
        &format!("/api/v1/requests/{id}/propose"),
        clerk,
        json!({"version": created["version"], "district": "01"}),
    )
    .await;
    assert_eq!(status, 200, "{proposed}");
    let (status, issued) = api_post(
        app,
        &format!("/api/v1/requests/{id}/approve"),
        approver,
        json!({"version": proposed["version"]}),
    )
    .await;
    assert_eq!(status, 200, "{issued}");
    id
}

async fn code_of(app: &TestApp, id: i64) -> String {
    issued_number::Entity::find()
        .filter(issued_number::Column::RequestId.eq(i32::try_from(id).unwrap()))
        .filter(issued_number::Column::Status.eq(NumberStatus::Approved))
        .one(&app.db)
        .await
        .unwrap()
        .expect("an approved number")
        .code
}

async fn council_export_runs(app: &TestApp) -> Vec<job_run::Model> {
    job_run::Entity::find()
        .filter(job_run::Column::Job.eq("council-export"))
        .all(&app.db)
        .await
        .unwrap()
}

async fn download(app: &TestApp, path: &str) -> Vec<u8> {
    let response = app.get(path).await;
    assert_eq!(response.status(), 200, "GET {path}");
    response.bytes().await.unwrap().to_vec()
}

/// The council end to end with a real SMTP server: a planned session gets its 答申
/// before it is held and nothing goes before its day; after it the list goes once
/// (two schedulers at once); an approval added later goes in a 追加分 (two API posts of
/// it at once: one wins); a session recorded 60 days late goes, exactly as previewed; a
/// planned session run with nothing approved is not marked done and its later approval
/// still goes. Every approved facility appears in exactly one sent list, with the
/// 指定年月日 recorded; each list downloads from the council page, the delivery log and
/// the API byte for byte as mailed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn planned_late_added_and_late_recorded_approvals_each_go_out_in_exactly_one_list() {
    let app = TestApp::spawn().await;
    let sink = SmtpSink::start().await;
    let config = app.cli_config(sink.port);
    let clerk = api_token(&app, "tanto", "clerk").await;
    let approver = api_token(&app, "kessai", "approver").await;
    let approver_b = api_token(&app, "kessai-b", "approver").await;
    app.login("kessai", "pw-kessai-0123456789").await;
    let mut ids = Vec::new();
    for name in [
        "予定内科",
        "予定外科",
        "追加内科",
        "遅延内科",
        "空回内科",
        "画面内科",
    ] {
        ids.push(issued_case(&app, &clerk, &approver, name).await);
    }
    let [a, b, c, d, e, f] = ids[..] else {
        unreachable!()
    };
    let now = uketsuke::jobs::now_in_japan();
    let today = now.date();
    let iso = |d: NaiveDate| d.format("%Y-%m-%d").to_string();

    // A planned session (開催予定), shown on the dashboard.
    let held = today + TimeDelta::days(10);
    let (status, planned) = api_post(
        &app,
        "/api/v1/council-sessions",
        &approver,
        json!({"prefecture": "13", "held_on": iso(held), "approvals": []}),
    )
    .await;
    assert_eq!(status, 201, "{planned}");
    assert_eq!(planned["planned"], true);
    let s1 = planned["id"].as_i64().unwrap();
    let dashboard = app.get("/dashboard").await.text().await.unwrap();
    let table = &dashboard[dashboard.find("id=\"planned-councils\"").expect("planned")..];
    assert!(table.contains(&format_wareki(held)), "{table}");

    // Its 答申 recorded ahead, one 指定年月日 edited.
    let (status, body) = api_post(
        &app,
        &format!("/api/v1/council-sessions/{s1}/approvals"),
        &approver,
        json!({"approvals": [{"request_id": a}, {"request_id": b, "designation_date": "令和9年5月1日"}]}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["ok"] == true),
        "{body}"
    );
    assert_eq!(body["planned"], false);
    assert_eq!(
        body["results"][0]["designation_date"], "2027-04-01",
        "default: 指定希望日"
    );
    assert_eq!(body["results"][1]["designation_date"], "2027-05-01");
    assert_eq!(body["approvals"][0]["status_label"], "答申済");

    // Nothing before the session's day: not due, not run, nothing recorded.
    let due = uketsuke::jobs::due_runs(&app.db, &app.settings, now)
        .await
        .unwrap();
    assert!(!due.iter().any(|(j, _)| j == "council-export"), "{due:?}");
    let report = uketsuke::jobs::run(&app.db, &app.settings, "council-export", &s1.to_string())
        .await
        .unwrap();
    assert_eq!(report.outcome, "not-yet", "{report:?}");
    assert!(tick_twice_at_once(&app).await.is_empty());
    assert!(
        council_export_runs(&app).await.is_empty(),
        "no run recorded"
    );
    assert_eq!(
        council_list::Entity::find().count(&app.db).await.unwrap(),
        0
    );

    // After the session: two schedulers at once make one list.
    let after = (held + TimeDelta::days(4)).and_hms_opt(23, 0, 0).unwrap();
    let done = tick_twice_at_once_at(&app, after).await;
    assert_eq!(done.len(), 1, "{done:?}");

    // A late approval posted twice at once by two approvers: one records it.
    let barrier = Arc::new(tokio::sync::Barrier::new(2));
    let tasks: Vec<_> = [approver.clone(), approver_b.clone()]
        .into_iter()
        .map(|t| {
            let (client, url, barrier) = (
                app.client.clone(),
                format!("{}/api/v1/council-sessions/{s1}/approvals", app.base_url),
                barrier.clone(),
            );
            tokio::spawn(async move {
                barrier.wait().await;
                let r = client
                    .post(url)
                    .bearer_auth(t)
                    .json(&json!({"approvals": [{"request_id": c}]}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 200);
                r.json::<Value>().await.unwrap()
            })
        })
        .collect();
    let mut oks = 0;
    let mut refusal = String::new();
    for t in tasks {
        let body = t.await.unwrap();
        if body["results"][0]["ok"] == true {
            oks += 1;
        } else {
            refusal = body["results"][0]["message"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
        }
    }
    assert_eq!(oks, 1, "exactly one records the approval");
    assert!(
        refusal.contains("指定済") || refusal.contains("他の職員"),
        "told plainly: {refusal}"
    );
    let page = app
        .get(&format!("/council/{s1}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("次に送付する一覧表（追加分1）（1件）"),
        "{page}"
    );
    assert!(
        page.contains(&code_of(&app, c).await),
        "the preview lists it"
    );
    let done = tick_twice_at_once_at(&app, after).await;
    assert_eq!(done.len(), 1, "{done:?}");
    assert!(done[0].detail.contains("追加分1"), "{}", done[0].detail);

    // A session recorded 60 days late, its 指定年月日 yesterday (指定済 already).
    let yesterday = today - TimeDelta::days(1);
    let (status, late) = api_post(
        &app,
        "/api/v1/council-sessions",
        &approver,
        json!({"prefecture": "13", "held_on": iso(today - TimeDelta::days(60)),
               "approvals": [{"request_id": d, "designation_date": iso(yesterday)}]}),
    )
    .await;
    assert_eq!(status, 201, "{late}");
    assert_eq!(late["approvals"][0]["status_label"], "指定済");
    let s2 = late["id"].as_i64().unwrap();
    let preview = download(&app, &format!("/council/{s2}/preview.xlsx")).await;
    let report = uketsuke::jobs::run(&app.db, &app.settings, "council-export", &s2.to_string())
        .await
        .unwrap();
    assert_eq!(report.outcome, "done", "{report:?}");
    let sent = outbox::Entity::find_by_id(report.outbox_id.unwrap())
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        sent.attachment.as_deref(),
        Some(&preview[..]),
        "sent exactly as previewed"
    );

    // A planned session run after its day with nothing approved is not marked done.
    let (_, empty) = api_post(
        &app,
        "/api/v1/council-sessions",
        &approver,
        json!({"prefecture": "13", "held_on": iso(today + TimeDelta::days(5))}),
    )
    .await;
    let s3 = empty["id"].as_i64().unwrap();
    let report = uketsuke::jobs::run_at(
        &app.db,
        &app.settings,
        "council-export",
        &s3.to_string(),
        after,
    )
    .await
    .unwrap();
    assert_eq!(report.outcome, "nothing-to-send", "{report:?}");
    assert!(
        !council_export_runs(&app)
            .await
            .iter()
            .any(|r| r.period.starts_with(&format!("{s3}:"))),
        "no run recorded for it"
    );
    let (status, body) = api_post(
        &app,
        &format!("/api/v1/council-sessions/{s3}/approvals"),
        &approver,
        json!({"approvals": [{"request_id": e}]}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    // And one added on the page to the late session: its 追加分1.
    let csrf = app.csrf(&format!("/council/{s2}")).await;
    let response = app
        .post_form(
            &format!("/council/{s2}/approvals"),
            &[
                ("csrf", csrf.as_str()),
                ("request", &f.to_string()),
                (&format!("date-{f}"), "令和9年6月1日"),
            ],
        )
        .await;
    assert_eq!(response.status(), 303);
    let done = tick_twice_at_once_at(&app, after).await;
    assert_eq!(done.len(), 2, "s3's first list and s2's 追加分1: {done:?}");

    // Through a real SMTP server: every approved facility in exactly one list.
    config.run(&["outbox", "send"]).await.unwrap();
    let messages: Vec<_> = sink
        .messages()
        .into_iter()
        .filter(|m| m.to == ["jisshi-kikan@uketsuke.localhost"])
        .collect();
    assert_eq!(messages.len(), 5, "s1 twice, s2 twice, s3 once");
    let mut seen: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut mailed: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    for message in &messages {
        let parsed = mail_parser::MessageParser::default()
            .parse(message.data.as_bytes())
            .unwrap();
        let attachment = parsed.attachments().next().expect("the list attached");
        mailed.insert(
            attachment.attachment_name().unwrap().to_owned(),
            attachment.contents().to_vec(),
        );
        for (number, day) in listed_rows(attachment.contents()) {
            seen.entry(number).or_default().push(day);
        }
    }
    assert_eq!(mailed.len(), 5, "five distinct files: {:?}", mailed.keys());
    let expected = [
        (a, "2027-04-01".to_owned()),
        (b, "2027-05-01".to_owned()),
        (c, "2027-04-01".to_owned()),
        (d, iso(yesterday)),
        (e, "2027-04-01".to_owned()),
        (f, "2027-06-01".to_owned()),
    ];
    for (id, day) in &expected {
        let code = code_of(&app, *id).await;
        assert_eq!(
            seen.get(&code),
            Some(&vec![day.clone()]),
            "{id} once, 指定年月日 {day}: {seen:?}"
        );
    }
    assert_eq!(seen.len(), expected.len(), "no other rows: {seen:?}");

    // Each sent list downloads byte for byte, from the council page and the delivery log.
    for list in council_list::Entity::find().all(&app.db).await.unwrap() {
        let mail = outbox::Entity::find_by_id(list.outbox_id.unwrap())
            .one(&app.db)
            .await
            .unwrap()
            .unwrap();
        let file = &mailed[mail.attachment_name.as_deref().unwrap()];
        let from_council = download(
            &app,
            &format!("/council/{}/lists/{}", list.session_id, list.seq),
        )
        .await;
        assert_eq!(&from_council, file);
        let from_log = download(&app, &format!("/deliveries/{}/attachment", mail.id)).await;
        assert_eq!(&from_log, file);
        let from_api = app
            .client
            .get(format!(
                "{}/api/v1/council-sessions/{}/lists/{}",
                app.base_url, list.session_id, list.seq
            ))
            .bearer_auth(&clerk)
            .send()
            .await
            .unwrap();
        assert_eq!(from_api.status(), 200);
        assert_eq!(&from_api.bytes().await.unwrap()[..], &file[..]);
    }
    assert!(
        !app.get("/dashboard")
            .await
            .text()
            .await
            .unwrap()
            .contains("実施機関へ未送付"),
        "nothing left to send"
    );
    // 答申済 until the 指定年月日, 指定済 from it.
    let case = api_get(&app, &format!("/api/v1/requests/{a}"), &clerk).await;
    assert_eq!(case["status_label"], "答申済");
    let case = api_get(&app, &format!("/api/v1/requests/{d}"), &clerk).await;
    assert_eq!(case["status_label"], "指定済");
}

/// A case of the prefecture's facility at `address`, issued through the API.
async fn issued_case_at(
    app: &TestApp,
    clerk: &str,
    approver: &str,
    name: &str,
    address: &str,
    postal: &str,
) -> i64 {
    let (status, created) = api_post(
        app,
        "/api/v1/requests",
        clerk,
        json!({
            "kind": "医科",
            "facility_name": name,
            "facility_postal_code": postal,
            "facility_address": address,
            "designation_date": "令和9年4月1日",
            "founder_name": "厚生 太郎",
            "contact_phone": "045-111-1111",
            "reply_address": address,
            "reply_name": "開設準備室",
        }),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_i64().unwrap();
    let (_, proposed) = api_post(
        app,
        &format!("/api/v1/requests/{id}/propose"),
        clerk,
        json!({"version": created["version"], "district": "01"}),
    )
    .await;
    let (status, issued) = api_post(
        app,
        &format!("/api/v1/requests/{id}/approve"),
        approver,
        json!({"version": proposed["version"]}),
    )
    .await;
    assert_eq!(status, 200, "{issued}");
    id
}

/// Signs out (if signed in) and in as `username`.
async fn switch_to(app: &TestApp, username: &str, password: &str) {
    let csrf = app.csrf("/dashboard").await;
    if !csrf.is_empty() {
        app.post_form("/logout", &[("csrf", csrf.as_str())]).await;
    }
    app.login(username, password).await;
}

async fn session_count(app: &TestApp) -> u64 {
    council_session::Entity::find()
        .count(&app.db)
        .await
        .unwrap()
}

/// The council from the pages: the bureau's published dates become planned sessions at
/// start-up (once), an approver plans one, a viewer may look but not plan; 答申 recorded
/// on the session page with a 指定年月日 per row (a bad date refuses the whole form, a
/// facility of another prefecture is refused by name); the case shows 答申済 until its
/// 指定年月日 and 指定済 from it; the next list is previewed and its .xlsx read back by
/// openpyxl; an account of another office sees nothing of the session.
#[tokio::test]
async fn the_council_pages_plan_record_with_designation_dates_and_preview() {
    let app = TestApp::spawn().await;
    let clerk = api_token(&app, "tanto", "clerk").await;
    let approver = api_token(&app, "kessai", "approver").await;
    let today = uketsuke::jobs::now_in_japan().date();
    let iso = |d: NaiveDate| d.format("%Y-%m-%d").to_string();

    // The bureau's published dates, planned at start-up — once, however often it starts.
    let published = [today + TimeDelta::days(30), today + TimeDelta::days(58)];
    let mut settings = app.settings.clone();
    let kanto = settings
        .bureaus
        .iter_mut()
        .find(|b| b.id == BUREAU)
        .unwrap();
    kanto.council_dates = [
        ("13".to_owned(), published.to_vec()),
        ("14".to_owned(), vec![today - TimeDelta::days(3)]),
    ]
    .into_iter()
    .collect();
    for _ in 0..2 {
        uketsuke::startup::prepare_database(&settings)
            .await
            .unwrap();
    }
    assert_eq!(
        session_count(&app).await,
        2,
        "the two dates ahead, once each"
    );

    // A viewer sees the sessions but cannot plan one.
    app.create_user("etsuran", "viewer", BUREAU).await;
    switch_to(&app, "etsuran", "pw-etsuran-0123456789").await;
    let page = app.get("/council").await.text().await.unwrap();
    assert!(page.contains(&format_wareki(published[0])) && page.contains("開催予定"));
    assert!(!page.contains("開催予定を登録する"));
    let csrf = app.csrf("/council").await;
    let held = today + TimeDelta::days(14);
    let response = app
        .post_form(
            "/council",
            &[
                ("csrf", &csrf),
                ("prefecture", "13"),
                ("held_on", &iso(held)),
            ],
        )
        .await;
    assert_eq!(response.status(), 403);
    assert_eq!(session_count(&app).await, 2);

    // An approver plans a session; a form without its CSRF token is refused.
    switch_to(&app, "kessai", "pw-kessai-0123456789").await;
    let response = app
        .post_form("/council", &[("prefecture", "13"), ("held_on", &iso(held))])
        .await;
    assert_eq!(response.status(), 403);
    let csrf = app.csrf("/council").await;
    let response = app
        .post_form(
            "/council",
            &[
                ("csrf", &csrf),
                ("prefecture", "13"),
                ("held_on", &iso(held)),
            ],
        )
        .await;
    assert_eq!(response.status(), 303);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let id: i32 = location.trim_start_matches("/council/").parse().unwrap();
    let page = app.get(&location).await.text().await.unwrap();
    assert!(
        page.contains("<span id=\"session-state\">開催予定</span>"),
        "{page}"
    );
    let dashboard = app.get("/dashboard").await.text().await.unwrap();
    let table = &dashboard[dashboard.find("id=\"planned-councils\"").unwrap()..];
    assert!(
        table.find(&format_wareki(held)) < table.find(&format_wareki(published[0])),
        "the planned sessions, soonest first: {table}"
    );

    let a = issued_case(&app, &clerk, &approver, "画面指定済内科").await;
    let b = issued_case(&app, &clerk, &approver, "画面答申済内科").await;
    let kanagawa = issued_case_at(
        &app,
        &clerk,
        &approver,
        "横浜の内科",
        "神奈川県横浜市中区日本大通1",
        "231-0021",
    )
    .await;
    let yesterday = today - TimeDelta::days(1);
    let (a_s, b_s) = (a.to_string(), b.to_string());
    let (date_a, date_b) = (format!("date-{a}"), format!("date-{b}"));

    // A date that cannot be read refuses the whole form: nothing is recorded.
    let csrf = app.csrf(&location).await;
    let response = app
        .post_form(
            &format!("{location}/approvals"),
            &[
                ("csrf", csrf.as_str()),
                ("request", &a_s),
                (&date_a, &iso(yesterday)),
                ("request", &b_s),
                (&date_b, "来年の春"),
            ],
        )
        .await;
    assert_eq!(response.status(), 422);
    let html = response.text().await.unwrap();
    assert!(
        html.contains(&format!("ID {b} の指定年月日「来年の春」")),
        "{html}"
    );
    let case_a = reception_request::Entity::find_by_id(i32::try_from(a).unwrap())
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(case_a.status, CaseStatus::Issued, "nothing half-written");

    // Recorded with a 指定年月日 per row; another prefecture's facility is named.
    let k_s = kanagawa.to_string();
    let response = app
        .post_form(
            &format!("{location}/approvals"),
            &[
                ("csrf", csrf.as_str()),
                ("request", &a_s),
                (&date_a, &iso(yesterday)),
                ("request", &b_s),
                (&date_b, ""),
                ("request", &k_s),
            ],
        )
        .await;
    assert_eq!(response.status(), 409);
    let html = response.text().await.unwrap();
    assert!(
        html.contains("東京都の地医協では、神奈川県の医療機関（横浜の内科）の答申は記録できません"),
        "{html}"
    );
    let page = app.get(&location).await.text().await.unwrap();
    assert!(page.contains("<span id=\"session-state\">答申記録済</span>"));
    assert!(page.contains(&format_wareki(yesterday)) && page.contains("令和9年4月1日"));
    assert!(page.contains("次に送付する一覧表（初回）（2件）"), "{page}");
    assert!(page.contains("開催日（") && page.contains("より前には送付しません"));
    // 指定済 from the 指定年月日 (yesterday), 答申済 before it.
    let case_page = app.get(&format!("/cases/{a}")).await.text().await.unwrap();
    assert!(case_page.contains("指定済") && !case_page.contains("答申済"));
    let case_page = app.get(&format!("/cases/{b}")).await.text().await.unwrap();
    assert!(case_page.contains("答申済"), "{case_page}");
    let list = app.get("/cases").await.text().await.unwrap();
    assert!(list.contains("答申済") && list.contains("指定済"));

    // The preview's .xlsx, read back by openpyxl: the two rows and their dates.
    let preview = download(&app, &format!("{location}/preview.xlsx")).await;
    let mut rows = listed_rows(&preview);
    rows.sort();
    let mut expected = vec![
        (code_of(&app, a).await, iso(yesterday)),
        (code_of(&app, b).await, "2027-04-01".to_owned()),
    ];
    expected.sort();
    assert_eq!(rows, expected);
    assert_eq!(
        council_list::Entity::find().count(&app.db).await.unwrap(),
        0,
        "nothing sent"
    );

    // An account of another office (神奈川事務所) sees nothing of the 東京 session.
    let office = uketsuke_store::bureaus::office_id(&app.db, BUREAU, "kanagawa")
        .await
        .unwrap()
        .unwrap();
    let user = users::NewUser {
        username: "kanagawa".into(),
        display_name: "神奈川 決裁".into(),
        password_hash: users::hash_password("pw-kanagawa-0123456789"),
        role: Role::Approver,
        bureau_id: BUREAU.into(),
        office_id: Some(office),
    };
    users::create(&app.db, &user, &Actor::system("test"))
        .await
        .unwrap();
    switch_to(&app, "kanagawa", "pw-kanagawa-0123456789").await;
    for path in [location.clone(), format!("{location}/preview.xlsx")] {
        assert_eq!(app.get(&path).await.status(), 404, "{path}");
    }
    let _ = id;
}

/// Two approvers record the same case's 答申 on the session page at once: one is
/// recorded (one audit entry), the other is told plainly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_approvers_recording_one_approval_on_the_page_at_once_one_wins() {
    let app = TestApp::spawn().await;
    let clerk = api_token(&app, "tanto", "clerk").await;
    let approver = api_token(&app, "kessai", "approver").await;
    api_token(&app, "kessai-b", "approver").await;
    let id = issued_case(&app, &clerk, &approver, "同時答申内科").await;
    let (_, session) = api_post(
        &app,
        "/api/v1/council-sessions",
        &approver,
        json!({"prefecture": "13", "held_on": "2027-03-18"}),
    )
    .await;
    let path = format!("/council/{}", session["id"]);
    let mut browsers = Vec::new();
    for user in ["kessai", "kessai-b"] {
        let client = app
            .browser_signed_in(user, &format!("pw-{user}-0123456789"))
            .await;
        let page = client
            .get(format!("{}{path}", app.base_url))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        browsers.push((client, uketsuke_tests::csrf_of(&page)));
    }
    let barrier = Arc::new(tokio::sync::Barrier::new(2));
    let tasks: Vec<_> = browsers
        .into_iter()
        .map(|(client, csrf)| {
            let (url, barrier) = (format!("{}{path}/approvals", app.base_url), barrier.clone());
            tokio::spawn(async move {
                let form = [
                    ("csrf".to_owned(), csrf),
                    ("request".to_owned(), id.to_string()),
                    (format!("date-{id}"), "2027-04-01".to_owned()),
                ];
                barrier.wait().await;
                let r = client.post(url).form(&form).send().await.unwrap();
                (r.status().as_u16(), r.text().await.unwrap())
            })
        })
        .collect();
    let mut answers = Vec::new();
    for t in tasks {
        answers.push(t.await.unwrap());
    }
    answers.sort_by_key(|(s, _)| *s);
    assert_eq!(answers[0].0, 303, "one is recorded");
    assert_eq!(answers[1].0, 409, "the other is refused");
    assert!(
        answers[1].1.contains("答申を記録できませんでした")
            && (answers[1].1.contains("他の職員") || answers[1].1.contains("指定済")),
        "and told plainly: {}",
        answers[1].1
    );
    let entries = uketsuke_store::entities::audit_log::Entity::find()
        .filter(uketsuke_store::entities::audit_log::Column::Action.eq("request.designate"))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(entries, 1, "one approval audited");
}
