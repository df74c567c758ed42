//! Connecting and migrating. SQLite gets the pragmas a small server needs (WAL, foreign
//! keys, a busy timeout, a larger page cache and a memory map); a `sqlite:` URL's file
//! and folder are created when missing.

use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbBackend};
use serde::Serialize;
use std::time::Duration;

use crate::Result;

/// Opens a pool on `url` (`sqlite://path?mode=rwc` or `postgres://…`).
pub async fn connect(url: &str, max_connections: u32) -> Result<DatabaseConnection> {
    if let Some(path) = sqlite_file(url)
        && let Some(parent) = std::path::Path::new(&path).parent()
        && !parent.as_os_str().is_empty()
    {
        std::fs::create_dir_all(parent).map_err(|e| {
            crate::Error::Invalid(format!(
                "データベースのフォルダ {} を作成できません: {e}",
                parent.display()
            ))
        })?;
    }
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .max_connections(max_connections.max(1))
        .min_connections(1)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(30))
        .sqlx_logging(false);
    if url.starts_with("sqlite:") {
        options.map_sqlx_sqlite_opts(|o| {
            o.foreign_keys(true)
                .journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
                // Each connection keeps up to 32 MB of pages (default: 2 MB) and reads
                // the file through a memory map instead of a read() per page: at
                // national scale the name search otherwise serves half as many
                // requests (BENCHMARKS.md).
                .pragma("cache_size", "-32000")
                .pragma("mmap_size", "1073741824")
        });
    }
    Ok(Database::connect(options).await?)
}

/// The file behind a `sqlite:` URL, if it names one (not `:memory:`).
pub fn sqlite_file(url: &str) -> Option<String> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    if path.is_empty() || path.contains(":memory:") {
        None
    } else {
        Some(path.to_owned())
    }
}

/// Applies every pending migration.
pub async fn migrate_up(db: &DatabaseConnection) -> Result<()> {
    Ok(Migrator::up(db, None).await?)
}

/// The key of the advisory lock that serialises start-up on PostgreSQL.
const STARTUP_LOCK: i64 = 0x756b_6574_7375; // "uketsu"

/// Runs `work` (connecting, migrations, the bureau sync) while holding the start-up lock, so that
/// instances starting together on one database take turns instead of racing to create
/// the same tables: on PostgreSQL an advisory lock held on a connection of its own; on
/// SQLite an exclusive lock on the file `<database>.lock` beside it.
pub async fn with_startup_lock<T, F, Fut>(url: &str, work: F) -> Result<T>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    use sea_orm::ConnectionTrait;
    if url.starts_with("postgres") {
        let mut options = ConnectOptions::new(url.to_owned());
        options
            .max_connections(1)
            .min_connections(1)
            .sqlx_logging(false);
        let holder = Database::connect(options).await?;
        holder
            .execute_unprepared(&format!("SELECT pg_advisory_lock({STARTUP_LOCK})"))
            .await?;
        let outcome = work().await;
        let _ = holder
            .execute_unprepared(&format!("SELECT pg_advisory_unlock({STARTUP_LOCK})"))
            .await;
        let _ = holder.close().await;
        return outcome;
    }
    let Some(path) = sqlite_file(url) else {
        return work().await;
    };
    let lock_path = format!("{path}.lock");
    if let Some(parent) = std::path::Path::new(&path).parent()
        && !parent.as_os_str().is_empty()
    {
        let _ = std::fs::create_dir_all(parent);
    }
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| crate::Error::Invalid(format!("{lock_path} を開けません: {e}")))?;
    let file = tokio::task::spawn_blocking(move || file.lock().map(|()| file))
        .await
        .map_err(|e| crate::Error::Invalid(format!("起動時のロックに失敗しました: {e}")))?
        .map_err(|e| crate::Error::Invalid(format!("{lock_path} をロックできません: {e}")))?;
    let outcome = work().await;
    let _ = file.unlock();
    outcome
}

/// Reverts the last `steps` migrations (all when `None`).
pub async fn migrate_down(db: &DatabaseConnection, steps: Option<u32>) -> Result<()> {
    Ok(Migrator::down(db, steps).await?)
}

/// One migration and whether it has been applied.
#[derive(Debug, Clone, Serialize)]
pub struct MigrationState {
    pub name: String,
    pub applied: bool,
}

/// Every known migration with its state, oldest first.
pub async fn migration_status(db: &DatabaseConnection) -> Result<Vec<MigrationState>> {
    let migrations = Migrator::get_migration_with_status(db).await?;
    Ok(migrations
        .iter()
        .map(|m| MigrationState {
            name: m.name().to_owned(),
            applied: m.status() == migration::MigrationStatus::Applied,
        })
        .collect())
}

/// The database's health, for `/healthz`.
#[derive(Debug, Clone, Serialize)]
pub struct Health {
    pub ok: bool,
    pub backend: &'static str,
    pub pending_migrations: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Pings the database and counts pending migrations.
pub async fn health(db: &DatabaseConnection) -> Health {
    let backend = backend_name(db.get_database_backend());
    let result = async {
        db.ping().await?;
        Ok::<_, sea_orm::DbErr>(Migrator::get_pending_migrations(db).await?.len())
    }
    .await;
    match result {
        Ok(pending) => Health {
            ok: true,
            backend,
            pending_migrations: pending,
            error: None,
        },
        Err(e) => Health {
            ok: false,
            backend,
            pending_migrations: 0,
            error: Some(e.to_string()),
        },
    }
}

/// A short name for the backend.
pub fn backend_name(backend: DbBackend) -> &'static str {
    match backend {
        DbBackend::Postgres => "postgresql",
        DbBackend::Sqlite => "sqlite",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::sqlite_file;

    #[test]
    fn sqlite_file_is_found_in_urls_with_and_without_slashes() {
        assert_eq!(
            sqlite_file("sqlite://data/u.sqlite?mode=rwc").as_deref(),
            Some("data/u.sqlite")
        );
        assert_eq!(
            sqlite_file("sqlite:data/u.sqlite").as_deref(),
            Some("data/u.sqlite")
        );
        assert_eq!(sqlite_file("sqlite::memory:"), None);
        assert_eq!(sqlite_file("postgres://localhost/x"), None);
    }
}
