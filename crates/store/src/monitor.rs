//! What operators watch and move (運用): the outbox's depth and dead letters for
//! `/healthz` and `/metrics`, the connection pool's size, and the inventory of tables
//! (row counts) that backup and restore report and check. Read-only, and the same on
//! SQLite and PostgreSQL.

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, FromQueryResult,
    QueryFilter, QuerySelect, Statement,
};
use serde::Serialize;

use crate::Result;
use crate::entities::outbox;

/// The outbox by status, and the oldest message still waiting.
#[derive(Debug, Clone, Default, Serialize)]
pub struct OutboxCounts {
    /// 送信待ち: waiting for their first or next attempt.
    pub queued: u64,
    /// 送信中: claimed by a sender right now.
    pub sending: u64,
    /// 送信済み.
    pub sent: u64,
    /// 送信不能 (dead letters): given up after the last attempt; a person must look.
    pub dead: u64,
    /// When the oldest queued message was created (None when nothing waits).
    pub oldest_queued_at: Option<DateTime<Utc>>,
}

#[derive(Debug, FromQueryResult)]
struct StatusCount {
    status: String,
    n: i64,
}

/// Counts the outbox by status.
pub async fn outbox_counts<C: ConnectionTrait>(conn: &C) -> Result<OutboxCounts> {
    let rows = outbox::Entity::find()
        .select_only()
        .column(outbox::Column::Status)
        .column_as(outbox::Column::Id.count(), "n")
        .group_by(outbox::Column::Status)
        .into_model::<StatusCount>()
        .all(conn)
        .await?;
    let mut counts = OutboxCounts::default();
    for row in rows {
        let n = u64::try_from(row.n).unwrap_or_default();
        match row.status.as_str() {
            crate::outbox::status::QUEUED => counts.queued = n,
            crate::outbox::status::SENDING => counts.sending = n,
            crate::outbox::status::SENT => counts.sent = n,
            crate::outbox::status::DEAD => counts.dead = n,
            _ => {}
        }
    }
    if counts.queued > 0 {
        counts.oldest_queued_at = outbox::Entity::find()
            .select_only()
            .column_as(outbox::Column::CreatedAt.min(), "oldest")
            .filter(outbox::Column::Status.eq(crate::outbox::status::QUEUED))
            .into_tuple::<Option<DateTime<Utc>>>()
            .one(conn)
            .await?
            .flatten();
    }
    Ok(counts)
}

/// The connection pool right now.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct PoolStats {
    /// Open connections (busy and idle).
    pub size: u32,
    /// Open connections not in use.
    pub idle: u32,
    /// The most it may open (`database.max_connections`).
    pub max: u32,
}

/// The pool's size and idle connections (sqlx's own counters).
pub fn pool_stats(db: &DatabaseConnection) -> Option<PoolStats> {
    let (size, idle, max) = match db.get_database_backend() {
        DbBackend::Sqlite => {
            let pool = db.get_sqlite_connection_pool();
            (
                pool.size(),
                pool.num_idle(),
                pool.options().get_max_connections(),
            )
        }
        DbBackend::Postgres => {
            let pool = db.get_postgres_connection_pool();
            (
                pool.size(),
                pool.num_idle(),
                pool.options().get_max_connections(),
            )
        }
        _ => return None,
    };
    Some(PoolStats {
        size,
        idle: u32::try_from(idle).unwrap_or(u32::MAX),
        max,
    })
}

/// Tables written at start-up from the configuration (and the migrations' own record):
/// a database holding rows only in these has no work in it yet.
pub const STARTUP_TABLES: [&str; 3] = ["seaql_migrations", "bureaus", "offices"];

/// The application's tables, by name.
pub async fn table_names<C: ConnectionTrait>(conn: &C) -> Result<Vec<String>> {
    let backend = conn.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => {
            "SELECT table_name AS name FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY 1"
        }
        // Ordinary tables only: not SQLite's own, nor a full-text index's virtual table
        // and its shadow tables (which hold rows even when the index is empty).
        _ => {
            "SELECT name FROM pragma_table_list WHERE schema = 'main' AND type = 'table' \
             AND name NOT LIKE 'sqlite_%' ORDER BY 1"
        }
    };
    let rows = conn
        .query_all_raw(Statement::from_string(backend, sql))
        .await?;
    let mut names = Vec::with_capacity(rows.len());
    for row in rows {
        names.push(row.try_get::<String>("", "name")?);
    }
    Ok(names)
}

/// Each table's row count, by name.
pub async fn row_counts<C: ConnectionTrait>(conn: &C) -> Result<Vec<(String, u64)>> {
    let backend = conn.get_database_backend();
    let mut counts = Vec::new();
    for name in table_names(conn).await? {
        let sql = format!("SELECT COUNT(*) AS n FROM {}", quote_ident(&name));
        let n = conn
            .query_one_raw(Statement::from_string(backend, sql))
            .await?
            .map(|row| row.try_get::<i64>("", "n"))
            .transpose()?
            .unwrap_or_default();
        counts.push((name, u64::try_from(n).unwrap_or_default()));
    }
    Ok(counts)
}

/// The tables holding work (rows beyond what start-up writes), with their counts: empty
/// for a new database.
pub async fn tables_with_data<C: ConnectionTrait>(conn: &C) -> Result<Vec<(String, u64)>> {
    Ok(row_counts(conn)
        .await?
        .into_iter()
        .filter(|(name, n)| *n > 0 && !STARTUP_TABLES.contains(&name.as_str()))
        .collect())
}

/// `name` as a quoted SQL identifier (the same on both backends).
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}
