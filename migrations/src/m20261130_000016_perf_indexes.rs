//! Indexes for the searches of issue 17 (検索の索引): 開設者 and 受付番号 prefixes.
//!
//! - 受付番号 (whole or its leading digits): the list asks for the codes in a range
//!   (`code BETWEEN '1310100000' AND '1310199999'` for 「13101」), which a B-tree on the
//!   code serves on both databases; the request id rides along so the index alone
//!   answers. Before, every issued number was read per search.
//! - 開設者 (the founder's name, or the 法人 and its representative): a substring
//!   search on [`FOUNDER_TEXT`], the three names joined with `/` and with spaces
//!   removed. On PostgreSQL a trigram GIN index on that expression, leading with the
//!   bureau (as the name search's index of migration 6); on SQLite an FTS5 trigram
//!   table keyed by the request id, kept by triggers.

use sea_orm_migration::prelude::*;

use crate::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The text the 開設者 search looks in, as SQL over `reception_requests` (`prefix` is
/// `""` for the table's own columns, `"new."` in a trigger). The list's query writes
/// the same expression so that PostgreSQL matches it to the index.
pub fn founder_text(prefix: &str) -> String {
    format!(
        "REPLACE(REPLACE(COALESCE({prefix}founder_name, '') || '/' || \
         COALESCE({prefix}corporation_name, '') || '/' || \
         COALESCE({prefix}representative_name, ''), ' ', ''), '　', '')"
    )
}

const CODE_INDEX: &str = "issued_numbers_code_request";

fn sqlite_up() -> Vec<String> {
    let new = founder_text("new.");
    vec![
        "CREATE VIRTUAL TABLE reception_requests_founder_fts USING fts5(\
             founder, tokenize='trigram')"
            .to_owned(),
        format!(
            "CREATE TRIGGER reception_requests_founder_fts_insert AFTER INSERT ON \
             reception_requests BEGIN \
             INSERT INTO reception_requests_founder_fts(rowid, founder) VALUES (new.id, {new}); \
             END"
        ),
        "CREATE TRIGGER reception_requests_founder_fts_delete AFTER DELETE ON \
         reception_requests BEGIN \
         DELETE FROM reception_requests_founder_fts WHERE rowid = old.id; \
         END"
        .to_owned(),
        format!(
            "CREATE TRIGGER reception_requests_founder_fts_update AFTER UPDATE OF \
             founder_name, corporation_name, representative_name ON reception_requests BEGIN \
             DELETE FROM reception_requests_founder_fts WHERE rowid = old.id; \
             INSERT INTO reception_requests_founder_fts(rowid, founder) VALUES (new.id, {new}); \
             END"
        ),
        format!(
            "INSERT INTO reception_requests_founder_fts(rowid, founder) \
             SELECT id, {} FROM reception_requests",
            founder_text("")
        ),
    ]
}

const SQLITE_DOWN: &[&str] = &[
    "DROP TRIGGER IF EXISTS reception_requests_founder_fts_update",
    "DROP TRIGGER IF EXISTS reception_requests_founder_fts_delete",
    "DROP TRIGGER IF EXISTS reception_requests_founder_fts_insert",
    "DROP TABLE IF EXISTS reception_requests_founder_fts",
];

fn postgres_up() -> Vec<String> {
    vec![
        // Migration 6 created both extensions; repeated here so this step stands alone.
        "CREATE EXTENSION IF NOT EXISTS pg_trgm".to_owned(),
        "CREATE EXTENSION IF NOT EXISTS btree_gin".to_owned(),
        format!(
            "CREATE INDEX reception_requests_founder_trgm ON reception_requests \
             USING gin (bureau_id, ({}) gin_trgm_ops)",
            founder_text("")
        ),
    ]
}

const POSTGRES_DOWN: &[&str] = &["DROP INDEX IF EXISTS reception_requests_founder_trgm"];

async fn execute_all<S: AsRef<str>>(
    manager: &SchemaManager<'_>,
    statements: &[S],
) -> Result<(), DbErr> {
    let db = manager.get_connection();
    for sql in statements {
        db.execute_unprepared(sql.as_ref()).await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(index(
                "issued_numbers",
                CODE_INDEX,
                &["code", "request_id"],
                false,
            ))
            .await?;
        match manager.get_database_backend() {
            sea_orm::DatabaseBackend::Sqlite => execute_all(manager, &sqlite_up()).await,
            sea_orm::DatabaseBackend::Postgres => execute_all(manager, &postgres_up()).await,
            _ => Ok(()),
        }
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        match manager.get_database_backend() {
            sea_orm::DatabaseBackend::Sqlite => execute_all(manager, SQLITE_DOWN).await?,
            sea_orm::DatabaseBackend::Postgres => execute_all(manager, POSTGRES_DOWN).await?,
            _ => {}
        }
        manager
            .drop_index(
                Index::drop()
                    .name(CODE_INDEX)
                    .table("issued_numbers")
                    .to_owned(),
            )
            .await
    }
}
