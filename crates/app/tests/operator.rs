//! The operator's controls, run as IT staff run them (the real binary): `config check`
//! shows every effective setting with secrets masked; a command with no environment
//! says which database and bureau it would use and creates none; `migrate up` says
//! when there was nothing to do; the account commands; `outbox send` fails loudly and
//! sends a queued mail now.

mod common;
mod support;

use std::path::Path;
use std::process::{Command, Output};

use common::{TempDir, json, stderr, stdout, uketsuke, uketsuke_with};
use sea_orm::{ColumnTrait, Database, DatabaseConnection, EntityTrait, QueryFilter};
use uketsuke_store::entities::{audit_log, outbox};

/// Runs the binary in `dir` with no environment chosen: no UKETSUKE_ENV, no
/// DATABASE_URL, no local settings.
fn bare(dir: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    use std::io::Write;
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_uketsuke"));
    cmd.args(args)
        .current_dir(dir)
        .env("UKETSUKE_CONFIG_DIR", support::config_dir())
        .env_remove("UKETSUKE_ENV")
        .env_remove("DATABASE_URL")
        .env_remove("UKETSUKE_DATABASE__URL")
        .env_remove("UKETSUKE_LOCAL_DIR")
        .env_remove("RUST_LOG")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    if let Some(mut input) = child.stdin.take() {
        let _ = input.write_all(stdin.unwrap_or_default().as_bytes());
    }
    child.wait_with_output().unwrap()
}

#[test]
fn a_command_without_an_environment_names_the_database_and_bureau_and_creates_none() {
    let tmp = TempDir::new();
    let database = tmp.path().join("data/uketsuke.sqlite");
    let out = bare(
        tmp.path(),
        &["user", "add", "--admin", "kanri"],
        Some("a-long-enough-password-1\n"),
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("sqlite://data/uketsuke.sqlite"), "{err}");
    assert!(
        err.contains("kanto-shinetsu") && err.contains("関東信越厚生局"),
        "{err}"
    );
    assert!(
        err.contains("migrate up"),
        "it says how to create one: {err}"
    );
    assert!(!database.exists(), "no database was created");
    assert!(!tmp.path().join("data").exists(), "not even its folder");

    // Creating it is an explicit step, and says so.
    let out = bare(tmp.path(), &["migrate", "up"], None);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("新しいデータベースを作成します"),
        "{}",
        stderr(&out)
    );
    assert!(database.exists());
    // Now the account command works, and still says what it uses.
    let out = bare(
        tmp.path(),
        &["user", "add", "--admin", "kanri"],
        Some("a-long-enough-password-1\n"),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("sqlite://data/uketsuke.sqlite"),
        "{}",
        stderr(&out)
    );

    // `serve` on a fresh machine still creates its database (the README's first command).
    let fresh = TempDir::new();
    let mut server = support::Server::start(fresh.path(), &[]);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(server.ready(std::time::Duration::from_secs(60)));
    assert!(fresh.path().join("data/uketsuke.sqlite").exists());
    let log = server.log();
    assert!(
        log.contains("新しいデータベースを作成します") && log.contains("kanto-shinetsu"),
        "{log}"
    );
}

#[test]
fn a_configured_environment_is_not_announced() {
    let tmp = TempDir::new();
    let out = uketsuke(&tmp, &["migrate", "up"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        !stderr(&out).contains("環境の指定がありません"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn migrate_up_says_when_there_was_nothing_to_do() {
    let tmp = TempDir::new();
    let out = uketsuke(&tmp, &["migrate", "up"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("件の移行を適用しました"),
        "{}",
        stderr(&out)
    );
    let out = uketsuke(&tmp, &["migrate", "up"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("適用する移行はありません"),
        "{}",
        stderr(&out)
    );
    assert!(!stderr(&out).contains("適用しました"), "{}", stderr(&out));
}

#[test]
fn config_check_shows_every_effective_setting_with_secrets_masked() {
    let tmp = TempDir::new();
    // Not ./local (which would be found without being named): named by the variable.
    let local = tmp.path().join("site");
    std::fs::create_dir_all(local.join("bureaus")).unwrap();
    std::fs::write(
        local.join("local.toml"),
        "[app]\ndefault_bureau = \"tokai-hokuriku\"\nbureaus = [\"tokai-hokuriku\"]\n",
    )
    .unwrap();
    std::fs::write(
        local.join("bureaus/tokai-hokuriku.toml"),
        "[council_dates]\n\"23\" = [2027-01-21]\n[recipients]\nstaff = [\"it@tokai.example.lg.jp\"]\n",
    )
    .unwrap();
    let local_dir = local.display().to_string();
    let out = uketsuke_with(
        &tmp,
        &["config", "check"],
        &[
            // A server nobody listens on: the check must not hang or leak the password.
            (
                "DATABASE_URL",
                "postgres://uketsuke:db-s3cret-pw@127.0.0.1:1/uketsuke",
            ),
            ("UKETSUKE_LOCAL_DIR", local_dir.as_str()),
            ("UKETSUKE_SMTP__HOST", "smtp.example.lg.jp"),
            ("UKETSUKE_SMTP__PORT", "587"),
            ("UKETSUKE_SMTP__SECURITY", "starttls"),
            ("UKETSUKE_SMTP__USERNAME", "uketsuke-mailer"),
            ("UKETSUKE_SMTP__PASSWORD_ENV", "UK_TEST_SMTP_PASSWORD"),
            ("UK_TEST_SMTP_PASSWORD", "smtp-t0p-secret"),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        !text.contains("db-s3cret-pw"),
        "database password shown: {text}"
    );
    assert!(
        !text.contains("smtp-t0p-secret"),
        "SMTP password shown: {text}"
    );
    let v = json(&out);
    assert_eq!(
        v["database"]["url"],
        "postgres://uketsuke:***@127.0.0.1:1/uketsuke"
    );
    assert_eq!(v["database"]["from"], "環境変数 DATABASE_URL");
    assert_eq!(v["smtp"]["host"], "smtp.example.lg.jp");
    assert_eq!(v["smtp"]["port"], 587);
    assert_eq!(v["smtp"]["security"], "starttls");
    assert_eq!(v["smtp"]["from"], "uketsuke@uketsuke.localhost");
    assert_eq!(v["smtp"]["username"], "uketsuke-mailer");
    assert_eq!(v["smtp"]["password"]["env"], "UK_TEST_SMTP_PASSWORD");
    assert_eq!(v["smtp"]["password"]["value"], "***");
    assert_eq!(v["outbox"]["max_attempts"], 8);
    assert_eq!(v["outbox"]["poll_secs"], 30);
    assert_eq!(v["schedule"]["enabled"], true);
    assert_eq!(v["schedule"]["digest_at"], "08:30:00");
    assert_eq!(v["default_bureau"], "tokai-hokuriku");
    assert_eq!(v["bureaus_in_use"]["rule"], "app.bureaus");
    assert_eq!(
        v["bureaus_in_use"]["ids"],
        serde_json::json!(["tokai-hokuriku"])
    );
    assert_eq!(v["sources"]["configured"], true);
    assert!(
        v["sources"]["files"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f.as_str().unwrap().ends_with("site/local.toml")),
        "{}",
        v["sources"]
    );
    let tokai = v["bureaus"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["id"] == "tokai-hokuriku")
        .unwrap();
    assert_eq!(
        tokai["recipients"]["staff"],
        serde_json::json!(["it@tokai.example.lg.jp"])
    );
    assert_eq!(
        tokai["recipients"]["implementing_body"],
        serde_json::json!(["jisshi-kikan@uketsuke.localhost"])
    );
    assert_eq!(
        tokai["council_dates"]["23"],
        serde_json::json!(["2027-01-21"])
    );
    assert_eq!(tokai["offices"].as_array().unwrap().len(), 6);
    assert_eq!(v["bureaus"].as_array().unwrap().len(), 8);

    // An unset password variable is reported as unset, not as masked.
    let out = uketsuke_with(
        &tmp,
        &["config", "check"],
        &[("UKETSUKE_SMTP__PASSWORD_ENV", "UK_TEST_NOT_SET_ANYWHERE")],
    );
    let v = json(&out);
    assert_eq!(v["smtp"]["password"]["value"], "（未設定）");
    assert_eq!(v["bureaus_in_use"]["rule"], "auto");
}

async fn sqlite(tmp: &TempDir) -> DatabaseConnection {
    Database::connect(format!("sqlite://{}/uketsuke.sqlite", tmp.path().display()))
        .await
        .unwrap()
}

async fn audited(db: &DatabaseConnection, action: &str) -> Vec<audit_log::Model> {
    audit_log::Entity::find()
        .filter(audit_log::Column::Action.eq(action))
        .all(db)
        .await
        .unwrap()
}

#[tokio::test]
async fn user_commands_list_unlock_reset_disable_and_enable_accounts_audited() {
    // Opens the SQLite file itself (`sqlite(&tmp)`): SQLite on the PostgreSQL run too.
    let tmp = TempDir::sqlite();
    let add = |name: &str, role: &str| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_uketsuke"));
        cmd.args(["user", "add", "--role", role, name])
            .current_dir(tmp.path())
            .env("UKETSUKE_CONFIG_DIR", support::config_dir())
            .env(
                "DATABASE_URL",
                format!("sqlite://{}/uketsuke.sqlite?mode=rwc", tmp.path().display()),
            )
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(b"first-password-0123\n")
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
    };
    add("kanri", "admin");
    add("tanto", "clerk");
    let db = sqlite(&tmp).await;
    let tanto = uketsuke_store::users::find_by_username(&db, "tanto")
        .await
        .unwrap()
        .unwrap();
    // Lock the account as five failed logins would.
    uketsuke_store::users::record_failed_login(
        &db,
        tanto.clone(),
        1,
        chrono::TimeDelta::minutes(15),
        chrono::Utc::now(),
    )
    .await
    .unwrap();

    let out = uketsuke(&tmp, &["user", "list"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let rows: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 2);
    let row = rows.iter().find(|r| r["username"] == "tanto").unwrap();
    assert_eq!(row["locked"], true);
    assert_eq!(row["role"], "clerk");
    assert_eq!(row["bureau"], "kanto-shinetsu");
    assert!(!stdout(&out).contains("argon2"), "no hash in the list");

    let out = uketsuke(&tmp, &["user", "unlock", "tanto"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let rows = stdout(&uketsuke(
        &tmp,
        &["user", "list", "--bureau", "kanto-shinetsu"],
    ));
    assert!(
        rows.contains("\"username\":\"tanto\"") && !rows.contains("\"locked\":true"),
        "{rows}"
    );
    assert_eq!(audited(&db, "user.unlock").await.len(), 1);

    // A session to see end.
    let hash = uketsuke_store::users::find_by_username(&db, "tanto")
        .await
        .unwrap()
        .unwrap();
    uketsuke_store::users::create_session(
        &db,
        "session-hash-of-tanto",
        Some(hash.id),
        "csrf",
        chrono::Utc::now() + chrono::TimeDelta::hours(1),
    )
    .await
    .unwrap();
    let out = uketsuke(&tmp, &["user", "reset-password", "tanto"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let password = stdout(&out).trim().to_owned();
    assert_eq!(
        password.chars().count(),
        20,
        "the new password, once: {password}"
    );
    assert!(stderr(&out).contains("一度だけ"));
    let after = uketsuke_store::users::find_by_username(&db, "tanto")
        .await
        .unwrap()
        .unwrap();
    assert!(uketsuke_store::users::verify_password(
        &password,
        &after.password_hash
    ));
    assert!(!uketsuke_store::users::verify_password(
        "first-password-0123",
        &after.password_hash
    ));
    assert!(
        uketsuke_store::users::find_session(&db, "session-hash-of-tanto", chrono::Utc::now())
            .await
            .unwrap()
            .is_none(),
        "the reset ends the account's sessions"
    );
    let reset = audited(&db, "user.password_reset").await;
    assert_eq!(reset.len(), 1);
    assert!(reset[0].actor.starts_with("cli:"), "{}", reset[0].actor);
    assert!(
        !format!("{:?}", reset[0]).contains(&password),
        "the password is not in the audit trail"
    );

    uketsuke_store::users::create_session(
        &db,
        "second-session",
        Some(after.id),
        "csrf",
        chrono::Utc::now() + chrono::TimeDelta::hours(1),
    )
    .await
    .unwrap();
    let out = uketsuke(&tmp, &["user", "disable", "tanto"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        uketsuke_store::users::find_session(&db, "second-session", chrono::Utc::now())
            .await
            .unwrap()
            .is_none(),
        "disabling ends the account's sessions"
    );
    let rows = stdout(&uketsuke(&tmp, &["user", "list"]));
    assert!(rows.contains("\"active\":false"), "{rows}");
    assert_eq!(audited(&db, "user.disable").await.len(), 1);
    let out = uketsuke(&tmp, &["user", "enable", "tanto"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!stdout(&uketsuke(&tmp, &["user", "list"])).contains("\"active\":false"));
    assert_eq!(audited(&db, "user.enable").await.len(), 1);

    let out = uketsuke(&tmp, &["user", "disable", "nobody"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("ユーザー「nobody」はいません"),
        "{}",
        stderr(&out)
    );
}

/// Runs the binary off the async threads (the SMTP sink runs on them).
async fn run(tmp: &TempDir, args: &[&str], env: &[(&str, String)]) -> Output {
    let dir = tmp.path().to_path_buf();
    let args: Vec<String> = args.iter().map(|s| (*s).to_owned()).collect();
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect();
    tokio::task::spawn_blocking(move || {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_uketsuke"));
        cmd.args(&args)
            .current_dir(&dir)
            .env("UKETSUKE_CONFIG_DIR", support::config_dir())
            .env_remove("UKETSUKE_ENV")
            .env(
                "DATABASE_URL",
                format!("sqlite://{}/uketsuke.sqlite?mode=rwc", dir.display()),
            );
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.output().unwrap()
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outbox_send_exits_1_when_mail_fails_and_send_now_sends_a_queued_mail() {
    // Opens the SQLite file itself (`sqlite(&tmp)`): SQLite on the PostgreSQL run too.
    let tmp = TempDir::sqlite();
    assert!(run(&tmp, &["migrate", "up"], &[]).await.status.success());
    let db = sqlite(&tmp).await;
    let queued = uketsuke_store::outbox::enqueue(
        &db,
        &uketsuke_store::outbox::NewMessage {
            dedupe_key: "test:1".to_owned(),
            kind: "digest".to_owned(),
            bureau_id: Some("kanto-shinetsu".to_owned()),
            recipients: vec!["staff@uketsuke.localhost".to_owned()],
            subject: "送信テスト".to_owned(),
            body: "本文".to_owned(),
            attachment: None,
        },
        chrono::Utc::now(),
    )
    .await
    .unwrap();

    // SMTP down: a port nobody listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let down = closed.local_addr().unwrap().port().to_string();
    drop(closed);
    let out = run(&tmp, &["outbox", "send"], &[("UKETSUKE_SMTP__PORT", down)]).await;
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(json(&out)["retrying"], 1);
    assert!(
        stderr(&out).contains("送信できなかったメール"),
        "{}",
        stderr(&out)
    );
    let row = outbox::Entity::find_by_id(queued.id)
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.status, uketsuke_store::outbox::status::QUEUED);
    assert!(
        row.next_attempt_at > chrono::Utc::now(),
        "a later try is set"
    );

    // SMTP back: the mail waits for its backoff …
    let sink = support::smtp::SmtpSink::start().await;
    let up = [("UKETSUKE_SMTP__PORT", sink.port.to_string())];
    let out = run(&tmp, &["outbox", "send"], &up).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(json(&out)["sent"], 0);
    assert!(sink.messages().is_empty());
    // … unless the operator sends it now.
    let id = queued.id.to_string();
    let out = run(&tmp, &["outbox", "send", "--now", &id], &up).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(json(&out)["sent"], 1);
    assert_eq!(sink.messages().len(), 1);
    let row = outbox::Entity::find_by_id(queued.id)
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.status, uketsuke_store::outbox::status::SENT);
    let audit = audited(&db, "outbox.send_now").await;
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].entity_id, id);

    // A sent mail is not "sent now" again.
    let out = run(&tmp, &["outbox", "send", "--now", &id], &up).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("送信待ちではない"),
        "{}",
        stderr(&out)
    );
    assert_eq!(sink.messages().len(), 1);
}
