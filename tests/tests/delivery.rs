//! The 新規指定医療機関一覧表 to the 実施機関, end to end: the council-export job makes
//! the .xlsx and its outbox row in one transaction, the dispatcher delivers it to a real
//! SMTP server on loopback, an outage is retried, two dispatchers deliver each message
//! once, the schedule runs each period once, and the delivery log and 未指定 review work.

use chrono::{NaiveDate, NaiveTime, TimeDelta, Utc};
use mail_parser::MimeHeaders;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use uketsuke::dispatch::{self, DispatchReport};
use uketsuke_mailer::Mailer;
use uketsuke_store::entities::{council_session, outbox as outbox_row, reception_request};
use uketsuke_store::outbox::{self, RetryPolicy, status};
use uketsuke_tests::smtp::SmtpSink;
use uketsuke_tests::{TestApp, assert_refused, refusal};

fn mailer(port: u16) -> Mailer {
    let smtp = uketsuke_mailer::SmtpSettings {
        port,
        timeout_secs: 5,
        ..Default::default()
    };
    Mailer::new(&smtp).unwrap()
}

fn quick_retries() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 5,
        base_delay: TimeDelta::milliseconds(300),
        max_delay: TimeDelta::seconds(2),
        lease: TimeDelta::seconds(60),
    }
}

async fn demo_session(app: &TestApp) -> council_session::Model {
    council_session::Entity::find()
        .one(&app.db)
        .await
        .unwrap()
        .expect("the demo has a council session")
}

/// A port nothing listens on.
async fn closed_port() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap().port()
}

#[tokio::test]
async fn jobs_run_council_export_delivers_one_mail_whose_attachment_opens_in_openpyxl() {
    let app = TestApp::spawn_with(true).await;
    let sink = SmtpSink::start().await;
    let session = demo_session(&app).await;
    let config = app.cli_config(sink.port);

    let code = config
        .run(&[
            "jobs",
            "run",
            "council-export",
            "--period",
            &session.id.to_string(),
        ])
        .await
        .unwrap();
    assert_eq!(code, std::process::ExitCode::SUCCESS);
    // Running it again queues nothing more.
    config
        .run(&[
            "jobs",
            "run",
            "council-export",
            "--period",
            &session.id.to_string(),
        ])
        .await
        .unwrap();
    assert_eq!(outbox_row::Entity::find().count(&app.db).await.unwrap(), 1);

    config.run(&["outbox", "send"]).await.unwrap();
    let messages = sink.messages();
    assert_eq!(messages.len(), 1, "one mail");
    assert_eq!(
        messages[0].to,
        vec!["jisshi-kikan@uketsuke.localhost".to_owned()]
    );
    let parsed = mail_parser::MessageParser::default()
        .parse(messages[0].data.as_bytes())
        .unwrap();
    assert!(parsed.subject().unwrap().contains("新規指定医療機関一覧表"));
    let attachment = parsed.attachments().next().expect("an attachment");
    assert!(attachment.attachment_name().unwrap().ends_with(".xlsx"));

    // An independent reader opens it and finds the approved facility and the columns.
    let path = std::env::temp_dir().join(format!(
        "uketsuke-export-{}.xlsx",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::write(&path, attachment.contents()).unwrap();
    let script = r#"
import sys, openpyxl
ws = openpyxl.load_workbook(sys.argv[1]).active
rows = [[c for c in r] for r in ws.iter_rows(values_only=True)]
header = next(r for r in rows if r and r[0] == "項番")
print("|".join(str(h) for h in header))
for r in rows[rows.index(header) + 1:]:
    print("|".join("" if v is None else str(v) for v in r))
"#;
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(&path)
        .output()
        .expect("python3 is needed");
    let _ = std::fs::remove_file(&path);
    assert!(
        out.status.success(),
        "openpyxl failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    for column in [
        "項番",
        "都道府県コード",
        "医療機関等コード",
        "受付番号",
        "医療機関名称",
        "指定年月日",
        "答申日",
    ] {
        assert!(header.contains(column), "header lacks {column}: {header}");
    }
    let data: Vec<&str> = lines.collect();
    assert_eq!(
        data.len(),
        1,
        "the demo session approved one facility: {data:?}"
    );
    assert!(data[0].contains("こもれび内科"));
    assert!(
        data[0].contains("|13|"),
        "the prefecture code survives as text: {}",
        data[0]
    );

    // The delivery log shows it sent.
    let row = outbox_row::Entity::find()
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.status, status::SENT);
    assert_eq!(
        row.message_id.as_deref(),
        Some(format!("<uketsuke-outbox-{}@uketsuke.localhost>", row.id).as_str())
    );
}

#[tokio::test]
async fn an_smtp_outage_is_retried_and_the_mail_goes_out_once_when_the_server_is_back() {
    let app = TestApp::spawn_with(true).await;
    let session = demo_session(&app).await;
    uketsuke::jobs::run(
        &app.db,
        &app.settings,
        "council-export",
        &session.id.to_string(),
    )
    .await
    .unwrap();

    let port = closed_port().await;
    let report = dispatch::send_due(
        &app.db,
        &mailer(port),
        "uketsuke@uketsuke.localhost",
        &quick_retries(),
    )
    .await
    .unwrap();
    assert_eq!(
        report,
        DispatchReport {
            sent: 0,
            retrying: 1,
            dead: 0
        }
    );
    let row = outbox_row::Entity::find()
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.status, status::QUEUED);
    assert!(
        !row.last_error.as_deref().unwrap_or_default().is_empty(),
        "the error is recorded"
    );

    let sink = SmtpSink::start_on(port).await;
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    let report = dispatch::send_due(
        &app.db,
        &mailer(port),
        "uketsuke@uketsuke.localhost",
        &quick_retries(),
    )
    .await
    .unwrap();
    assert_eq!(report.sent, 1);
    let again = dispatch::send_due(
        &app.db,
        &mailer(port),
        "uketsuke@uketsuke.localhost",
        &quick_retries(),
    )
    .await
    .unwrap();
    assert_eq!(again, DispatchReport::default());
    assert_eq!(sink.messages().len(), 1, "sent once");
}

#[tokio::test]
async fn a_refused_recipient_makes_the_message_dead_at_once() {
    let app = TestApp::spawn_with(true).await;
    let session = demo_session(&app).await;
    uketsuke::jobs::run(
        &app.db,
        &app.settings,
        "council-export",
        &session.id.to_string(),
    )
    .await
    .unwrap();
    let sink = SmtpSink::start().await;
    sink.refuse_recipients(true);
    let report = dispatch::send_due(
        &app.db,
        &mailer(sink.port),
        "uketsuke@uketsuke.localhost",
        &quick_retries(),
    )
    .await
    .unwrap();
    assert_eq!(report.dead, 1);
    let row = outbox_row::Entity::find()
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.status, status::DEAD);
    assert!(row.last_error.unwrap().contains("550"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_dispatchers_deliver_each_message_exactly_once() {
    let app = TestApp::spawn().await;
    let sink = SmtpSink::start().await;
    for i in 0..20 {
        let msg = outbox::NewMessage {
            dedupe_key: format!("two-{i}"),
            kind: "test".into(),
            bureau_id: Some("kanto-shinetsu".into()),
            recipients: vec!["staff@uketsuke.localhost".into()],
            subject: format!("テスト {i}"),
            body: "本文".into(),
            attachment: None,
        };
        outbox::enqueue(&app.db, &msg, Utc::now()).await.unwrap();
    }
    let run = |db: sea_orm::DatabaseConnection, port| async move {
        let mailer = mailer(port);
        let mut total = 0;
        for _ in 0..50 {
            match dispatch::send_due(
                &db,
                &mailer,
                "uketsuke@uketsuke.localhost",
                &quick_retries(),
            )
            .await
            {
                Ok(r) => total += r.sent,
                Err(e) if e.to_string().contains("locked") || e.to_string().contains("busy") => {}
                Err(e) => panic!("{e:#}"),
            }
            if outbox_row::Entity::find()
                .filter(outbox_row::Column::Status.ne(status::SENT))
                .count(&db)
                .await
                .unwrap()
                == 0
            {
                break;
            }
        }
        total
    };
    let (a, b) = tokio::join!(
        tokio::spawn(run(app.db.clone(), sink.port)),
        tokio::spawn(run(app.db.clone(), sink.port))
    );
    assert_eq!(a.unwrap() + b.unwrap(), 20);
    let messages = sink.messages();
    assert_eq!(messages.len(), 20, "each message once");
    let mut ids: Vec<String> = messages
        .iter()
        .map(|m| {
            mail_parser::MessageParser::default()
                .parse(m.data.as_bytes())
                .unwrap()
                .message_id()
                .unwrap()
                .to_owned()
        })
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_schedule_runs_a_council_export_on_the_next_open_day_once() {
    let app = TestApp::spawn_with(true).await;
    let held_on = NaiveDate::from_ymd_opt(2026, 11, 20).unwrap(); // a Friday
    let session = sea_orm::ActiveModelTrait::insert(
        council_session::ActiveModel {
            bureau_id: sea_orm::Set("kanto-shinetsu".into()),
            prefecture: sea_orm::Set("13".into()),
            held_on: sea_orm::Set(held_on),
            name: sea_orm::Set("東京地方社会保険医療協議会".into()),
            created_at: sea_orm::Set(Utc::now()),
            ..Default::default()
        },
        &app.db,
    )
    .await
    .unwrap();
    // The demo's approved facility, approved in this session (and only there).
    let approved = reception_request::Entity::find()
        .filter(
            reception_request::Column::Status.eq(uketsuke_store::lifecycle::CaseStatus::Designated),
        )
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let mut moved: reception_request::ActiveModel = approved.into();
    moved.council_session_id = sea_orm::Set(Some(session.id));
    sea_orm::ActiveModelTrait::update(moved, &app.db)
        .await
        .unwrap();
    let at = |d: u32, h: u32| {
        NaiveDate::from_ymd_opt(2026, 11, d)
            .unwrap()
            .and_time(NaiveTime::from_hms_opt(h, 0, 0).unwrap())
    };
    let council_runs = |runs: Vec<(String, String)>| {
        runs.into_iter()
            .filter(|(j, _)| j == "council-export")
            .count()
    };
    // Saturday and Sunday are closed; 11/23 (Mon) is 勤労感謝の日: the next open day is 11/24.
    assert_eq!(
        council_runs(
            uketsuke::jobs::due_runs(&app.db, &app.settings, at(23, 12))
                .await
                .unwrap()
        ),
        0
    );
    assert_eq!(
        council_runs(
            uketsuke::jobs::due_runs(&app.db, &app.settings, at(24, 8))
                .await
                .unwrap()
        ),
        0,
        "before 09:00"
    );
    assert_eq!(
        council_runs(
            uketsuke::jobs::due_runs(&app.db, &app.settings, at(24, 9))
                .await
                .unwrap()
        ),
        1
    );
    // Two instances ticking at once, on threads of their own and each with its own
    // connection pool: the list is made once.
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(2));
    let mut instances = Vec::new();
    for _ in 0..2 {
        let db = uketsuke_store::db::connect(&app.database.url, 2)
            .await
            .unwrap();
        let settings = app.settings.clone();
        let barrier = barrier.clone();
        instances.push(tokio::spawn(async move {
            barrier.wait().await;
            let reports = uketsuke::jobs::tick(&db, &settings, at(24, 10)).await;
            let _ = db.close().await;
            reports
        }));
    }
    let mut reports = Vec::new();
    for instance in instances {
        reports.extend(instance.await.unwrap());
    }
    let period = session.id.to_string();
    let council: Vec<_> = reports
        .iter()
        .filter(|r| r.job == "council-export" && r.period == period)
        .collect();
    assert_eq!(council.len(), 2, "both instances saw it due: {reports:?}");
    let done: Vec<_> = council.iter().filter(|r| r.outcome == "done").collect();
    assert_eq!(done.len(), 1, "{reports:?}");
    // The other instance found the period claimed, or the list already made.
    let other: Vec<_> = council.iter().filter(|r| r.outcome != "done").collect();
    assert!(
        other.len() == 1
            && ["already-done", "nothing-to-send"].contains(&other[0].outcome)
            && other[0].outbox_id.is_none(),
        "{reports:?}"
    );
    // Daily jobs only on open days: nothing on Sunday the 22nd nor on the holiday of the
    // 23rd (勤労感謝の日), both daily jobs on Tuesday the 24th (the council's list is sent).
    for closed in [22, 23] {
        let due = uketsuke::jobs::due_runs(&app.db, &app.settings, at(closed, 12))
            .await
            .unwrap();
        assert_eq!(due, Vec::<(String, String)>::new(), "2026-11-{closed}");
    }
    let tuesday = uketsuke::jobs::due_runs(&app.db, &app.settings, at(24, 12))
        .await
        .unwrap();
    assert!(!tuesday.is_empty());
    for job in ["digest", "not-designated-review"] {
        assert!(
            tuesday.iter().any(|(j, _)| j == job),
            "{job} is due on an open day: {tuesday:?}"
        );
    }
    assert!(tuesday.contains(&("digest".to_owned(), "kanto-shinetsu:2026-11-24".to_owned())));
}

#[tokio::test]
async fn the_digest_lists_overdue_answers_for_staff() {
    let app = TestApp::spawn_with(true).await;
    let today = uketsuke_domain::today_in_japan();
    let period = format!("kanto-shinetsu:{}", today.format("%Y-%m-%d"));
    let report = uketsuke::jobs::run(&app.db, &app.settings, "digest", &period)
        .await
        .unwrap();
    assert_eq!(report.outcome, "done");
    let row = outbox_row::Entity::find()
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        row.recipients,
        serde_json::json!(["uketsuke-staff@uketsuke.localhost"])
    );
    assert!(row.body.contains("ひだまり小児科"), "{}", row.body);
    let again = uketsuke::jobs::run(&app.db, &app.settings, "digest", &period)
        .await
        .unwrap();
    assert_eq!(again.outcome, "already-done");
}

#[tokio::test]
async fn the_delivery_log_shows_each_message_and_an_approver_can_resend() {
    let app = TestApp::spawn_with(true).await;
    let session = demo_session(&app).await;
    uketsuke::jobs::run(
        &app.db,
        &app.settings,
        "council-export",
        &session.id.to_string(),
    )
    .await
    .unwrap();
    let sink = SmtpSink::start().await;
    dispatch::send_due(
        &app.db,
        &mailer(sink.port),
        "uketsuke@uketsuke.localhost",
        &quick_retries(),
    )
    .await
    .unwrap();
    let id = outbox_row::Entity::find()
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
        .id;

    let viewer = app.create_user("etsuran", "viewer", "kanto-shinetsu").await;
    app.login("etsuran", &viewer).await;
    let html = app.get("/deliveries").await.text().await.unwrap();
    assert!(html.contains("新規指定医療機関一覧表"));
    assert!(html.contains("送信済"));
    assert!(html.contains("jisshi-kikan@uketsuke.localhost"));
    assert!(
        !html.contains("再送</button>"),
        "a viewer sees no resend button"
    );
    let csrf = app.csrf("/deliveries").await;
    let response = app
        .post_form(
            &format!("/deliveries/{id}/resend"),
            &[("csrf", csrf.as_str())],
        )
        .await;
    // The server refuses a viewer's resend.
    assert_refused(response, &refusal::role("決裁")).await;

    let approver_app = &app;
    let csrf_logout = approver_app.csrf("/deliveries").await;
    approver_app
        .post_form("/logout", &[("csrf", csrf_logout.as_str())])
        .await;
    let password = approver_app
        .create_user("kessai", "approver", "kanto-shinetsu")
        .await;
    approver_app.login("kessai", &password).await;
    let csrf = approver_app.csrf("/deliveries").await;
    let response = approver_app
        .post_form(
            &format!("/deliveries/{id}/resend"),
            &[("csrf", csrf.as_str())],
        )
        .await;
    assert_eq!(response.status(), 303);
    let row = outbox_row::Entity::find_by_id(id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.status, status::QUEUED);
    dispatch::send_due(
        &app.db,
        &mailer(sink.port),
        "uketsuke@uketsuke.localhost",
        &quick_retries(),
    )
    .await
    .unwrap();
    assert_eq!(sink.messages().len(), 2, "resent on request");
}

#[tokio::test]
async fn an_approver_confirms_a_facility_past_its_designation_date_as_not_designated() {
    let app = TestApp::spawn_with(true).await;
    // Make the demo's answered case overdue for designation.
    let answered = reception_request::Entity::find()
        .filter(
            reception_request::Column::Status.eq(uketsuke_store::lifecycle::CaseStatus::Answered),
        )
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let mut active: reception_request::ActiveModel = answered.clone().into();
    active.designation_date = sea_orm::Set(NaiveDate::from_ymd_opt(2020, 4, 1).unwrap());
    sea_orm::ActiveModelTrait::update(active, &app.db)
        .await
        .unwrap();

    let clerk = app.create_user("tanto", "clerk", "kanto-shinetsu").await;
    app.login("tanto", &clerk).await;
    let html = app.get("/not-designated").await.text().await.unwrap();
    let link = format!("href=\"/cases/{}\"", answered.id);
    assert!(html.contains(&answered.facility_name));
    assert!(html.contains(&link), "the case is listed for review");
    let csrf = app.csrf("/not-designated").await;
    let response = app
        .post_form(
            &format!("/not-designated/{}", answered.id),
            &[("csrf", csrf.as_str()), ("reason", "開設中止")],
        )
        .await;
    assert_eq!(response.status(), 403, "a clerk cannot mark 未指定");
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("「決裁」以上の権限"),
        "refused for the role"
    );

    let csrf = app.csrf("/not-designated").await;
    app.post_form("/logout", &[("csrf", csrf.as_str())]).await;
    let approver = app
        .create_user("kessai2", "approver", "kanto-shinetsu")
        .await;
    app.login("kessai2", &approver).await;
    let csrf = app.csrf("/not-designated").await;
    let response = app
        .post_form(
            &format!("/not-designated/{}", answered.id),
            &[("csrf", csrf.as_str()), ("reason", "開設中止")],
        )
        .await;
    assert_eq!(response.status(), 303);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let row = reception_request::Entity::find_by_id(answered.id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        row.status,
        uketsuke_store::lifecycle::CaseStatus::NotDesignated
    );
    assert_eq!(row.not_designated_reason.as_deref(), Some("開設中止"));
    let html = app.get(&location).await.text().await.unwrap();
    assert!(html.contains("8. 未指定」として記録しました"), "{html}");
    let (review, reflection) = html
        .split_once("管理システムへの反映待ち")
        .expect("the page's second list");
    assert!(
        !review.contains(&link),
        "the confirmed request leaves the list"
    );
    assert!(
        reflection.contains(&link),
        "and waits to be set in the 管理システム"
    );
    let audit = uketsuke_store::entities::audit_log::Entity::find()
        .filter(uketsuke_store::entities::audit_log::Column::Action.eq("request.not_designated"))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(audit.actor, "kessai2");
}

#[tokio::test]
async fn export_list_writes_a_session_or_a_date_range_as_xlsx_or_csv() {
    let app = TestApp::spawn_with(true).await;
    let session = demo_session(&app).await;
    let config = app.cli_config(closed_port().await);
    let dir =
        std::env::temp_dir().join(format!("uketsuke-export-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = |name: &str| dir.join(name).to_string_lossy().into_owned();

    let id = session.id.to_string();
    config
        .run(&["export", "--session", &id, "--out", &path("s.xlsx")])
        .await
        .unwrap();
    assert!(std::fs::read(path("s.xlsx")).unwrap().starts_with(b"PK"));
    // 「[… 現在]」 is the day of export, not the session's day.
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg("import sys, openpyxl; print(openpyxl.load_workbook(sys.argv[1]).active['A2'].value)")
        .arg(path("s.xlsx"))
        .output()
        .unwrap();
    let as_of = String::from_utf8(out.stdout).unwrap();
    let today: String = uketsuke_domain::format_wareki(uketsuke::jobs::now_in_japan().date())
        .chars()
        .map(|c| match c.to_digit(10) {
            Some(d) => char::from_u32(0xFF10 + d).unwrap(),
            None => c,
        })
        .collect();
    assert!(
        as_of.contains(&today) && as_of.contains("現在"),
        "{as_of:?} shows {today}"
    );

    config
        .run(&[
            "export",
            "--session",
            &id,
            "--format",
            "csv",
            "--out",
            &path("s.csv"),
        ])
        .await
        .unwrap();
    let csv = std::fs::read(path("s.csv")).unwrap();
    assert!(csv.starts_with(&[0xEF, 0xBB, 0xBF]), "UTF-8 with BOM");
    let text = String::from_utf8(csv[3..].to_vec()).unwrap();
    assert!(text.contains("こもれび内科"));
    assert_eq!(text.lines().count(), 2, "header and one facility");

    config
        .run(&[
            "export",
            "--session",
            &id,
            "--format",
            "csv",
            "--encoding",
            "sjis",
            "--out",
            &path("s-sjis.csv"),
        ])
        .await
        .unwrap();
    let sjis = std::fs::read(path("s-sjis.csv")).unwrap();
    let (decoded, _, errors) = encoding_rs::SHIFT_JIS.decode(&sjis);
    assert!(!errors);
    assert!(decoded.contains("こもれび内科"));

    let day = session.held_on.format("%Y-%m-%d").to_string();
    config
        .run(&[
            "export",
            "--from",
            &day,
            "--to",
            &day,
            "--format",
            "csv",
            "--out",
            &path("r.csv"),
        ])
        .await
        .unwrap();
    assert!(
        String::from_utf8_lossy(&std::fs::read(path("r.csv")).unwrap()).contains("こもれび内科")
    );
    config
        .run(&[
            "export",
            "--from",
            "2001-01-01",
            "--to",
            "2001-12-31",
            "--format",
            "csv",
            "--out",
            &path("e.csv"),
        ])
        .await
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&std::fs::read(path("e.csv")).unwrap())
            .lines()
            .count(),
        1,
        "header only"
    );
    // Nothing was queued for sending.
    assert_eq!(outbox_row::Entity::find().count(&app.db).await.unwrap(), 0);
    let _ = std::fs::remove_dir_all(&dir);
}
