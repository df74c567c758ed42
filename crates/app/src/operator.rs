//! The operator's controls (運用): which database and bureau a command is about to use,
//! the refusal to create a database nobody chose, `config check`'s report of every
//! effective setting (secrets masked), the bureaus in use, and `outbox send`.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, bail};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect};
use serde_json::{Value, json};
use uketsuke_store::audit::Actor;
use uketsuke_store::entities::user;

use crate::settings::Settings;
use crate::startup;

/// Whether `url` names a SQLite file that does not exist yet (connecting would create
/// it). PostgreSQL databases are created by their administrator, never by us.
pub fn is_new_database(url: &str) -> bool {
    let Some(rest) = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
    else {
        return false;
    };
    let path = rest.split('?').next().unwrap_or_default();
    !(path.is_empty() || path.contains(":memory:") || Path::new(path).exists())
}

/// The one line that says which database and bureau a command is about to use.
pub fn target_line(settings: &Settings) -> String {
    let bureau = settings
        .bureau(&settings.app.default_bureau)
        .map(|b| b.name.clone())
        .unwrap_or_default();
    format!(
        "データベース {}（{}）、局 {}（{bureau}）",
        startup::redact(&settings.database.url),
        settings.origin.database_url_from,
        settings.app.default_bureau,
    )
}

/// A message for the operator on stderr — or, when the logs are JSON
/// (`UKETSUKE_LOG_FORMAT=json`), a log event, so that every line stays JSON.
fn tell(message: &str) {
    if startup::json_logs() {
        tracing::warn!(target: "uketsuke::operator", "{message}");
    } else {
        eprintln!("uketsuke: {message}");
    }
}

/// Says on stderr which database and bureau a command is about to use, when nobody
/// chose them (no `UKETSUKE_ENV`, no `DATABASE_URL`, no local database setting).
pub fn announce(settings: &Settings) {
    if !settings.origin.configured() {
        tell(&format!(
            "環境の指定がありません（UKETSUKE_ENV・DATABASE_URL とも未設定）。既定の {} を使います。",
            target_line(settings)
        ));
    }
}

/// Opens (and migrates) the configured database for a command. A command that may not
/// create a database (`may_create` false) refuses a SQLite file that does not exist
/// when nobody chose the environment, instead of creating one quietly.
pub async fn open_database(
    settings: &Settings,
    may_create: bool,
) -> anyhow::Result<DatabaseConnection> {
    announce(settings);
    if is_new_database(&settings.database.url) {
        if !may_create && !settings.origin.configured() {
            bail!(
                "データベース {} はまだありません。このコマンドは新しいデータベースを作りません。\
                 既存のデータベースを DATABASE_URL か UKETSUKE_ENV（またはローカル設定の [database]）で指定するか、\
                 新しく作るなら先に `uketsuke migrate up`（または `uketsuke serve`）を実行してください",
                startup::redact(&settings.database.url)
            );
        }
        announce_creation(settings);
    }
    startup::prepare_database(settings).await
}

/// Says that a new database is about to be created, and which.
pub fn announce_creation(settings: &Settings) {
    tell(&format!(
        "新しいデータベースを作成します: {}",
        target_line(settings)
    ));
}

/// The bureaus that have at least one active account.
pub async fn bureaus_with_accounts(db: &DatabaseConnection) -> anyhow::Result<Vec<String>> {
    let mut ids: Vec<String> = user::Entity::find()
        .select_only()
        .column(user::Column::BureauId)
        .filter(user::Column::Active.eq(true))
        .distinct()
        .into_tuple()
        .all(db)
        .await
        .context("アカウントのある局を読めません")?;
    ids.sort();
    Ok(ids)
}

/// The ids of the bureaus in use (使用する局): `app.bureaus`, or the bureaus with an
/// active account, or all while there is none.
pub async fn bureaus_in_use(
    db: &DatabaseConnection,
    settings: &Settings,
) -> anyhow::Result<Vec<String>> {
    let with_accounts = if settings.app.bureaus.is_empty() {
        bureaus_with_accounts(db).await?
    } else {
        Vec::new()
    };
    Ok(settings
        .bureaus_in_use(&with_accounts)
        .into_iter()
        .map(|b| b.id.clone())
        .collect())
}

/// The SMTP password's state, never the password: whether the named variable holds one.
fn smtp_password(settings: &Settings) -> Value {
    match &settings.smtp.password_env {
        None => Value::Null,
        Some(var) => {
            let set = std::env::var(var).is_ok_and(|v| !v.is_empty());
            json!({
                "env": var,
                "value": if set { "***" } else { "（未設定）" },
            })
        }
    }
}

/// Every effective setting, secrets masked, as `config check` prints it. When the
/// database already exists, the bureaus in use are read from it.
pub async fn config_report(settings: &Settings) -> Value {
    let in_use = if !settings.app.bureaus.is_empty() {
        json!({ "rule": "app.bureaus", "ids": settings.app.bureaus })
    } else if is_new_database(&settings.database.url) {
        json!({
            "rule": "auto",
            "ids": settings.bureaus_in_use(&[]).iter().map(|b| &b.id).collect::<Vec<_>>(),
            "note": "データベースがまだないため、設定されたすべての局",
        })
    } else {
        let read = async {
            let db = uketsuke_store::db::connect(&settings.database.url, 1).await?;
            let ids = bureaus_in_use(&db, settings).await?;
            let _ = db.close().await;
            anyhow::Ok(ids)
        };
        match tokio::time::timeout(std::time::Duration::from_secs(5), read).await {
            Ok(Ok(ids)) => json!({ "rule": "auto", "ids": ids }),
            Ok(Err(e)) => {
                json!({ "rule": "auto", "ids": Value::Null, "note": format!("データベースを読めません: {e:#}") })
            }
            Err(_) => {
                json!({ "rule": "auto", "ids": Value::Null, "note": "データベースに接続できません（5秒）" })
            }
        }
    };
    let smtp = &settings.smtp;
    json!({
        "sources": {
            "environment": settings.origin.environment,
            "configured": settings.origin.configured(),
            "local_dir": settings.origin.local_dir.as_ref().map(|d| d.display().to_string()),
            "files": settings.origin.files.iter().map(|f| f.display().to_string()).collect::<Vec<_>>(),
        },
        "server": settings.server,
        "database": {
            "url": startup::redact(&settings.database.url),
            "from": settings.origin.database_url_from,
            "max_connections": settings.database.max_connections,
        },
        "default_bureau": settings.app.default_bureau,
        "bureaus_in_use": in_use,
        "smtp": {
            "host": smtp.host,
            "port": smtp.port,
            "security": smtp.security,
            "from": smtp.from,
            "username": smtp.username,
            "password": smtp_password(settings),
            "timeout_secs": smtp.timeout_secs,
        },
        "outbox": settings.outbox,
        "schedule": settings.schedule,
        "eligibility": settings.eligibility,
        "numbering": settings.numbering,
        "ingest": settings.ingest,
        "bureaus": settings.bureaus.iter().map(|b| json!({
            "id": b.id,
            "name": b.name,
            "prefectures": b.prefectures,
            "offices": b.offices,
            "deadlines": b.deadlines,
            "calendar": b.calendar,
            "council_dates": b.council_dates,
            "recipients": b.recipients,
        })).collect::<Vec<_>>(),
    })
}

/// `outbox send [--now ID]`: sends every due message (after making message `now` due,
/// audited). Prints the report as JSON; exits 1 when any message failed.
pub async fn outbox_send(
    settings: &Settings,
    db: &DatabaseConnection,
    now: Option<i64>,
    actor: &Actor,
) -> anyhow::Result<ExitCode> {
    let mailer = uketsuke_mailer::Mailer::new(&settings.smtp).context("SMTP の設定が不正です")?;
    if let Some(id) = now {
        let row = uketsuke_store::outbox::find(db, id)
            .await?
            .with_context(|| format!("送信記録（ID {id}）がありません"))?;
        uketsuke_store::outbox::send_now(db, &row, actor).await?;
    }
    let report =
        crate::dispatch::send_due(db, &mailer, &settings.smtp.from, &settings.outbox.policy())
            .await?;
    println!("{}", serde_json::to_string(&report)?);
    if report.retrying + report.dead > 0 {
        eprintln!(
            "送信できなかったメールがあります（再送待ち {} 件・送信不能 {} 件）。SMTP の設定（uketsuke config check）と送信記録の画面を確認してください",
            report.retrying, report.dead
        );
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::is_new_database;

    #[test]
    fn only_a_missing_sqlite_file_is_a_new_database() {
        assert!(is_new_database("sqlite://no/such/dir/x.sqlite?mode=rwc"));
        assert!(!is_new_database("sqlite::memory:"));
        assert!(!is_new_database("postgres://u@h/db"));
        let file = std::env::temp_dir().join(format!("uk-{}.sqlite", std::process::id()));
        std::fs::write(&file, b"").unwrap_or_default();
        assert!(!is_new_database(&format!("sqlite://{}", file.display())));
        let _ = std::fs::remove_file(file);
    }
}
