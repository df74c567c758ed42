//! No approved facility misses the list to the 実施機関: each council session's
//! approvals go out in a first list, approvals recorded after it in a supplementary list
//! (追加分), a session recorded late is still sent, a session not yet held is not, and
//! two schedulers at once make one list. Proved end to end with a real SMTP server and
//! the attachments read back by openpyxl: every approved facility appears in exactly one
//! sent list.

use std::collections::BTreeMap;

use chrono::{NaiveDate, TimeDelta, Utc};
use mail_parser::MimeHeaders;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use uketsuke_store::audit::Actor;
use uketsuke_store::entities::{council_list, council_session, issued_number, reception_request};
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
    let now = uketsuke::jobs::now_in_japan();
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
for r in rows[rows.index(header) + 1:]:
    if r[col] is not None:
        print(r[col])
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
        .map(str::to_owned)
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
