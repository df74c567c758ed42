//! Backup and restore on the real databases (SQLite, or PostgreSQL with
//! `TEST_DATABASE_URL`), through the command line's own code: a database holding every
//! kind of record comes back table by table, row by row; a backup taken while numbers
//! are being issued restores to a consistent database; a database holding data is never
//! overwritten.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement};
use uketsuke_domain::{FeeSchedule, Prefecture};
use uketsuke_store::audit::Actor;
use uketsuke_store::entities::{council_session, reception_request};
use uketsuke_store::issuance::{self, District, IssueOptions};
use uketsuke_store::lifecycle::{CaseStatus, NumberStatus};
use uketsuke_store::monitor;
use uketsuke_tests::smtp::SmtpSink;
use uketsuke_tests::{CliConfig, TestApp};

/// A database to restore into: PostgreSQL `uk_bk_<uuid>` (created empty, dropped after)
/// or a SQLite file that does not exist yet.
struct Scratch {
    url: String,
    admin: Option<(String, String)>,
    file: Option<PathBuf>,
}

impl Scratch {
    async fn create() -> Self {
        let id = uuid::Uuid::new_v4().simple().to_string();
        match std::env::var("TEST_DATABASE_URL")
            .ok()
            .filter(|u| !u.is_empty())
        {
            Some(admin_url) => {
                let name = format!("uk_bk_{id}");
                let admin = Database::connect(&admin_url).await.unwrap();
                admin
                    .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                    .await
                    .unwrap();
                let _ = admin.close().await;
                let base = admin_url.split('?').next().unwrap();
                let slash = base.rfind('/').filter(|i| *i > "postgres://".len());
                let url = match slash {
                    Some(i) => format!("{}/{name}", &base[..i]),
                    None => format!("{base}/{name}"),
                };
                Self {
                    url,
                    admin: Some((admin_url, name)),
                    file: None,
                }
            }
            None => {
                let path = std::env::temp_dir().join(format!("uk-bk-{id}.sqlite"));
                Self {
                    url: format!("sqlite://{}?mode=rwc", path.display()),
                    admin: None,
                    file: Some(path),
                }
            }
        }
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if let Some(path) = &self.file {
            for suffix in ["", "-wal", "-shm", ".lock", ".restoring"] {
                let mut p = path.clone().into_os_string();
                p.push(suffix);
                let _ = std::fs::remove_file(p);
            }
        }
        if let Some((admin_url, name)) = self.admin.clone() {
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                rt.block_on(async {
                    if let Ok(admin) = Database::connect(&admin_url).await {
                        let _ = admin
                            .execute_unprepared(&format!(
                                "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                            ))
                            .await;
                        let _ = admin.close().await;
                    }
                });
            })
            .join();
        }
    }
}

/// A folder for backup files, removed after.
struct Folder(PathBuf);

impl Folder {
    fn new() -> Self {
        let dir =
            std::env::temp_dir().join(format!("uk-bk-files-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    fn file(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Folder {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The command line with the app's configuration, pointed at `url`.
fn cli_for(app: &TestApp, url: &str) -> CliConfig {
    let config = app.cli_config(1);
    let file = config.0.join("default.toml");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains(&app.database.url));
    std::fs::write(&file, text.replace(&app.database.url, url)).unwrap();
    config
}

async fn run(config: &CliConfig, args: &[&str]) -> ExitCode {
    config
        .run(args)
        .await
        .unwrap_or_else(|e| panic!("uketsuke {args:?}: {e:#}"))
}

fn path_arg(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

/// Every table's rows, each column as text (blobs included), sorted: two databases with
/// equal contents give equal maps.
async fn contents(db: &DatabaseConnection) -> BTreeMap<String, Vec<Vec<Option<String>>>> {
    let backend = db.get_database_backend();
    let mut all = BTreeMap::new();
    for table in monitor::table_names(db).await.unwrap() {
        let columns_sql = match backend {
            DbBackend::Postgres => format!(
                "SELECT column_name::text AS name FROM information_schema.columns \
                 WHERE table_schema = current_schema() AND table_name = '{table}' \
                 ORDER BY ordinal_position"
            ),
            _ => format!("SELECT name FROM pragma_table_info('{table}') ORDER BY cid"),
        };
        let columns: Vec<String> = db
            .query_all_raw(Statement::from_string(backend, columns_sql))
            .await
            .unwrap()
            .iter()
            .map(|r| r.try_get::<String>("", "name").unwrap())
            .collect();
        let select: Vec<String> = columns
            .iter()
            .map(|c| match backend {
                DbBackend::Postgres => format!("\"{c}\"::text"),
                _ => format!("quote(\"{c}\")"),
            })
            .collect();
        let sql = format!("SELECT {} FROM \"{table}\"", select.join(", "));
        let mut rows: Vec<Vec<Option<String>>> = db
            .query_all_raw(Statement::from_string(backend, sql))
            .await
            .unwrap()
            .iter()
            .map(|r| {
                (0..columns.len())
                    .map(|i| r.try_get_by_index::<Option<String>>(i).unwrap())
                    .collect()
            })
            .collect();
        rows.sort();
        all.insert(table, rows);
    }
    all
}

/// The demo data (requests in every status, numbers, the council, facilities, existing
/// codes) and, through the app itself, users, a session, an upload, an API token, a
/// council session recorded through the lifecycle, job runs, and mail sent and queued.
async fn fill_with_every_kind_of_record(app: &TestApp) {
    let clerk = app.create_user("bk-tanto", "clerk", "kanto-shinetsu").await;
    app.create_user("bk-kessai", "approver", "kanto-shinetsu")
        .await;
    app.create_user("bk-kanri", "admin", "kanto-shinetsu").await;
    app.login("bk-tanto", &clerk).await;

    let form = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../crates/ingest/tests/data/form_official.xlsx"
    ))
    .unwrap();
    let csrf = app.csrf("/requests/upload").await;
    let upload = reqwest::multipart::Form::new().text("csrf", csrf).part(
        "file",
        reqwest::multipart::Part::bytes(form).file_name("form_official.xlsx"),
    );
    let response = app
        .client
        .post(format!("{}/requests/upload", app.base_url))
        .multipart(upload)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "the upload is previewed");
    // A second upload, confirmed: an import job with its result.
    let compact = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../crates/ingest/tests/data/form_compact.xlsx"
    ))
    .unwrap();
    let csrf = app.csrf("/requests/upload").await;
    let upload = reqwest::multipart::Form::new()
        .text("csrf", csrf.clone())
        .part(
            "file",
            reqwest::multipart::Part::bytes(compact).file_name("form_compact.xlsx"),
        );
    let preview = app
        .client
        .post(format!("{}/requests/upload", app.base_url))
        .multipart(upload)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let start = preview
        .find("action=\"/requests/upload/")
        .expect("a confirm form")
        + 8;
    let action = preview[start..].split('"').next().unwrap().to_owned();
    let confirmed = app
        .post_form(&action, &[("csrf", csrf.as_str()), ("scope", "all")])
        .await;
    assert_eq!(confirmed.status(), 303, "the upload is saved by its job");

    let (token, _) =
        uketsuke_store::tokens::create(&app.db, "bk-kessai", "backup-test", &Actor::system("test"))
            .await
            .unwrap();
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let answered = reception_request::Entity::find()
        .filter(reception_request::Column::Status.eq(CaseStatus::Answered))
        .one(&app.db)
        .await
        .unwrap()
        .expect("the demo has an answered case");
    // Its 導入計画書 (別紙2), submitted through the API: a plan submission.
    let response = app
        .client
        .post(format!(
            "{}/api/v1/requests/{}/plan",
            app.base_url, answered.id
        ))
        .bearer_auth(&token)
        .json(&serde_json::json!({"version": answered.lock_version, "items": {"3": "済み"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "the plan is submitted");
    let today = uketsuke_domain::today_in_japan()
        .format("%Y-%m-%d")
        .to_string();
    let response = app
        .client
        .post(format!("{}/api/v1/council-sessions", app.base_url))
        .bearer_auth(&token)
        .json(&serde_json::json!({
            "prefecture": "13",
            "held_on": today,
            "request_ids": [answered.id],
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());

    // One export is sent through a real SMTP server, the other stays queued.
    let sessions = council_session::Entity::find().all(&app.db).await.unwrap();
    assert!(sessions.len() >= 2);
    uketsuke::jobs::run(
        &app.db,
        &app.settings,
        "council-export",
        &sessions[0].id.to_string(),
    )
    .await
    .unwrap();
    let sink = SmtpSink::start().await;
    let mailer = uketsuke_mailer::Mailer::new(&uketsuke_mailer::SmtpSettings {
        port: sink.port,
        timeout_secs: 5,
        ..Default::default()
    })
    .unwrap();
    let sent = uketsuke::dispatch::send_due(
        &app.db,
        &mailer,
        "uketsuke@uketsuke.localhost",
        &app.settings.outbox.policy(),
    )
    .await
    .unwrap();
    assert_eq!(sent.sent, 1, "{sent:?}");
    uketsuke::jobs::run(
        &app.db,
        &app.settings,
        "council-export",
        &sessions[1].id.to_string(),
    )
    .await
    .unwrap();

    // A published list reconciled: a list recorded and a number confirmed by it.
    let approved = uketsuke_store::entities::issued_number::Entity::find()
        .filter(
            uketsuke_store::entities::issued_number::Column::Status
                .eq(uketsuke_store::lifecycle::NumberStatus::Approved),
        )
        .one(&app.db)
        .await
        .unwrap()
        .expect("the demo data has an approved number");
    let code = uketsuke_domain::InstitutionCode::parse(&approved.code).unwrap();
    let (_, reconciled) = uketsuke_store::registry::import_list(
        &app.db,
        "meibo_r0811.xlsx",
        chrono::NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(),
        &[],
        &[code],
        &uketsuke_store::audit::Actor::system("test"),
    )
    .await
    .unwrap();
    assert_eq!(reconciled.confirmed, 1);

    // A memo, the scanned request (its bytes in the database) and a removed 地医協 date.
    let case = uketsuke_store::entities::reception_request::Entity::find()
        .one(&app.db)
        .await
        .unwrap()
        .expect("a demo case");
    let caller = uketsuke_store::lifecycle::Caller {
        actor: uketsuke_store::audit::Actor::system("test"),
        role: uketsuke_store::users::Role::Admin,
        scope: uketsuke_store::lifecycle::Scope {
            bureau_id: case.bureau_id.clone(),
            office_id: None,
        },
    };
    uketsuke_store::memos::add(&app.db, &caller, case.id, "電話連絡: 書類を郵送済み")
        .await
        .unwrap();
    uketsuke_store::attachments::attach(
        &app.db,
        &caller,
        case.id,
        0,
        "依頼書.pdf",
        b"%PDF-1.4\n%%EOF\n",
        &Default::default(),
    )
    .await
    .unwrap();
    let today = uketsuke_domain::today_in_japan();
    let planned = uketsuke_store::council_dates::add(
        &app.db,
        &case.bureau_id,
        &["13".to_owned()],
        &uketsuke_store::council_dates::PlannedDate {
            prefecture: "13".into(),
            held_on: today.checked_add_days(chrono::Days::new(300)).unwrap(),
            name: String::new(),
        },
        &caller.actor,
        today,
    )
    .await
    .unwrap();
    uketsuke_store::council_dates::delete(
        &app.db,
        &case.bureau_id,
        &["13".to_owned()],
        planned.id,
        0,
        &caller.actor,
        today,
    )
    .await
    .unwrap();

    let empty: Vec<String> = monitor::row_counts(&app.db)
        .await
        .unwrap()
        .into_iter()
        .filter(|(_, n)| *n == 0)
        .map(|(t, _)| t)
        .collect();
    assert!(
        empty.is_empty(),
        "every table holds records before the backup; empty: {empty:?}"
    );
}

#[tokio::test]
async fn a_backup_restores_every_table_row_for_row_into_an_empty_database() {
    let app = TestApp::spawn_with(true).await;
    fill_with_every_kind_of_record(&app).await;
    let folder = Folder::new();
    let file = folder.file("uketsuke.backup");
    let source_cli = cli_for(&app, &app.database.url);
    assert_eq!(
        run(&source_cli, &["backup", "--out", &path_arg(&file)]).await,
        ExitCode::SUCCESS
    );
    assert!(file.is_file());
    assert!(
        !folder.file("uketsuke.backup.partial").exists(),
        "the partial copy is renamed, not left behind"
    );
    // A second backup never overwrites the first.
    let before = std::fs::read(&file).unwrap();
    assert_eq!(
        run(&source_cli, &["backup", "--out", &path_arg(&file)]).await,
        ExitCode::from(1)
    );
    assert_eq!(std::fs::read(&file).unwrap(), before);

    let target = Scratch::create().await;
    let target_cli = cli_for(&app, &target.url);
    assert_eq!(
        run(&target_cli, &["restore", &path_arg(&file)]).await,
        ExitCode::SUCCESS
    );
    let restored = Database::connect(target.url.as_str()).await.unwrap();
    let (expected, actual) = (contents(&app.db).await, contents(&restored).await);
    assert_eq!(
        expected.keys().collect::<Vec<_>>(),
        actual.keys().collect::<Vec<_>>(),
        "the same tables"
    );
    for (table, rows) in &expected {
        assert_eq!(rows.len(), actual[table].len(), "row count of {table}");
        assert_eq!(rows, &actual[table], "contents of {table}");
    }
    // The restored database is one the app starts on and works with.
    let mut settings = app.settings.clone();
    settings.database.url = target.url.clone();
    let db = uketsuke::startup::prepare_database(&settings)
        .await
        .unwrap();
    let health = uketsuke_store::db::health(&db).await;
    assert!(health.ok && health.pending_migrations == 0, "{health:?}");
    let _ = db.close().await;
    let _ = restored.close().await;
}

#[tokio::test]
async fn restore_refuses_a_database_that_holds_data_and_leaves_it_as_it_was() {
    let app = TestApp::spawn_with(true).await;
    let folder = Folder::new();
    let file = folder.file("demo.backup");
    let cli = cli_for(&app, &app.database.url);
    assert_eq!(
        run(&cli, &["backup", "--out", &path_arg(&file)]).await,
        ExitCode::SUCCESS
    );
    app.create_user("bk-after", "clerk", "kanto-shinetsu").await;
    let before = contents(&app.db).await;
    assert_eq!(
        run(&cli, &["restore", &path_arg(&file)]).await,
        ExitCode::from(1),
        "a database with requests and users is not a restore target"
    );
    assert_eq!(contents(&app.db).await, before, "nothing changed");

    // A file that is no backup is refused too, before anything is touched.
    let junk = folder.file("junk.backup");
    std::fs::write(&junk, "not a backup").unwrap();
    let target = Scratch::create().await;
    let target_cli = cli_for(&app, &target.url);
    assert_eq!(
        run(&target_cli, &["restore", &path_arg(&junk)]).await,
        ExitCode::from(1)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_backup_taken_while_numbers_are_issued_restores_to_a_consistent_database() {
    let app = TestApp::spawn().await;
    let stop = Arc::new(AtomicBool::new(false));
    let issued = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let writer = {
        let (db, settings) = (app.db.clone(), app.settings.clone());
        let (stop, issued) = (stop.clone(), issued.clone());
        tokio::spawn(async move {
            let district = District {
                prefecture: Prefecture::from_code(13).unwrap(),
                fee_schedule: FeeSchedule::Medical,
                number: 12,
            };
            let options = IssueOptions {
                request_id: None,
                status: NumberStatus::Approved,
            };
            while !stop.load(Ordering::SeqCst) {
                issuance::issue(
                    &db,
                    district,
                    &settings.numbering,
                    &options,
                    &Actor::system("writer"),
                )
                .await
                .unwrap();
                issued.fetch_add(1, Ordering::SeqCst);
            }
        })
    };
    let wait_for = |n: usize| {
        let issued = issued.clone();
        async move {
            while issued.load(Ordering::SeqCst) < n {
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
        }
    };
    wait_for(5).await;
    let folder = Folder::new();
    let file = folder.file("busy.backup");
    let cli = cli_for(&app, &app.database.url);
    assert_eq!(
        run(&cli, &["backup", "--out", &path_arg(&file)]).await,
        ExitCode::SUCCESS
    );
    let after_backup = issued.load(Ordering::SeqCst);
    wait_for(after_backup + 5).await;
    stop.store(true, Ordering::SeqCst);
    writer.await.unwrap();

    let target = Scratch::create().await;
    assert_eq!(
        run(&cli_for(&app, &target.url), &["restore", &path_arg(&file)]).await,
        ExitCode::SUCCESS
    );
    let restored = Database::connect(target.url.as_str()).await.unwrap();
    let backend = restored.get_database_backend();
    let count = |sql: &'static str| {
        let restored = restored.clone();
        async move {
            restored
                .query_one_raw(Statement::from_string(backend, sql))
                .await
                .unwrap()
                .unwrap()
                .try_get_by_index::<i64>(0)
                .unwrap()
        }
    };
    let numbers = count("SELECT COUNT(*) FROM issued_numbers").await;
    let audited = count("SELECT COUNT(*) FROM audit_log WHERE action = 'number.issue'").await;
    assert_eq!(
        numbers, audited,
        "each number and its audit entry (one transaction) are both in the backup or both not"
    );
    let total = i64::try_from(issued.load(Ordering::SeqCst)).unwrap();
    assert!(
        numbers >= 5 && numbers < total,
        "the backup is a snapshot taken mid-stream: {numbers} of {total}"
    );
    if backend == DbBackend::Sqlite {
        let ok = restored
            .query_one_raw(Statement::from_string(backend, "PRAGMA integrity_check"))
            .await
            .unwrap()
            .unwrap()
            .try_get_by_index::<String>(0)
            .unwrap();
        assert_eq!(ok, "ok");
        let broken = restored
            .query_all_raw(Statement::from_string(backend, "PRAGMA foreign_key_check"))
            .await
            .unwrap();
        assert!(broken.is_empty(), "no dangling references");
    }
    let _ = restored.close().await;
}

#[tokio::test]
async fn restore_accepts_a_database_that_serve_has_only_started() {
    let app = TestApp::spawn_with(true).await;
    let folder = Folder::new();
    let file = folder.file("demo.backup");
    let cli = cli_for(&app, &app.database.url);
    assert_eq!(
        run(&cli, &["backup", "--out", &path_arg(&file)]).await,
        ExitCode::SUCCESS
    );
    // The target has the schema, the bureaus and the offices, and nothing else.
    let target = Scratch::create().await;
    let mut settings = app.settings.clone();
    settings.database.url = target.url.clone();
    let started = uketsuke::startup::prepare_database(&settings)
        .await
        .unwrap();
    let data = monitor::tables_with_data(&started).await.unwrap();
    assert!(data.is_empty(), "{data:?}");
    if !app.database.is_postgres() {
        assert_eq!(
            run(&cli_for(&app, &target.url), &["restore", &path_arg(&file)]).await,
            ExitCode::from(1),
            "a SQLite file a server still has open is not replaced"
        );
    }
    started.close().await.unwrap();

    assert_eq!(
        run(&cli_for(&app, &target.url), &["restore", &path_arg(&file)]).await,
        ExitCode::SUCCESS
    );
    let restored = Database::connect(target.url.as_str()).await.unwrap();
    assert_eq!(contents(&restored).await, contents(&app.db).await);
    let _ = restored.close().await;
}

#[tokio::test]
async fn a_plain_sql_dump_of_postgresql_restores_through_psql() {
    if std::env::var("TEST_DATABASE_URL").is_err() {
        eprintln!("SKIPPED: a plain pg_dump needs PostgreSQL (TEST_DATABASE_URL is not set)");
        return;
    }
    let app = TestApp::spawn_with(true).await;
    let folder = Folder::new();
    let file = folder.file("plain.sql");
    let out = std::process::Command::new("pg_dump")
        .args(["--format=plain", "--no-owner", "--no-privileges", "--file"])
        .arg(&file)
        .arg("--dbname")
        .arg(&app.database.url)
        .output()
        .expect("pg_dump is on PATH where PostgreSQL is tested");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let target = Scratch::create().await;
    assert_eq!(
        run(&cli_for(&app, &target.url), &["restore", &path_arg(&file)]).await,
        ExitCode::SUCCESS
    );
    let restored = Database::connect(target.url.as_str()).await.unwrap();
    assert_eq!(contents(&restored).await, contents(&app.db).await);
    let _ = restored.close().await;
}
