//! Indexes for the case list at national scale (全国規模の検索用索引): found by the
//! benchmarks of issue 7 (`EXPLAIN` in BENCHMARKS.md).
//!
//! - The list's sort orders within a bureau — 受付日, 指定希望日, 名称 — each with the id
//!   as tie-breaker, so the first page is read off an index instead of sorting the
//!   whole bureau.
//! - The requests of a facility with their bureau and 受付日, so that a name search
//!   finds, filters, sorts and counts its matches from the index alone and reads the
//!   table only for the 50 rows it shows.
//! - On PostgreSQL the fixed-width code columns (`char(n)`) become `varchar(n)`: the
//!   application binds text, and `bpchar = text` casts the column, which keeps every
//!   index on it unused (a sequential scan of the registry to suggest a district, of
//!   every issued number to find the next free one).
//! - The registry by (prefecture, municipality) now also holds the district, so the
//!   district suggested for a new facility is counted from the index alone.
//! - The name search is a substring search (`%key%`), which a B-tree cannot serve. On
//!   PostgreSQL each request carries a copy of its facility's search key (kept by
//!   triggers) under a trigram GIN index (`pg_trgm`, a trusted extension since 13) that
//!   leads with the bureau (`btree_gin`, trusted too): the `LIKE` finds the bureau's
//!   matching requests without a join, and only those are read back to recheck. On
//!   SQLite an FTS5 table with the trigram tokenizer mirrors `facilities.name_search`
//!   through triggers and is queried with `MATCH`. Both need a key of three characters
//!   or more; shorter keys fall back to scanning.

use crate::index;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const SORT_INDEXES: [(&str, &[&str]); 4] = [
    (
        "reception_requests_bureau_received",
        &["bureau_id", "received_on", "id"],
    ),
    (
        "reception_requests_bureau_designation",
        &["bureau_id", "designation_date", "id"],
    ),
    (
        "reception_requests_bureau_name",
        &["bureau_id", "facility_name", "id"],
    ),
    (
        "reception_requests_facility_received",
        &["facility_id", "bureau_id", "received_on", "id"],
    ),
];

/// PostgreSQL: the `char(n)` columns compared with bound text, and their width.
const FIXED_WIDTH: [(&str, &str, u32); 8] = [
    ("facilities", "prefecture", 2),
    ("council_sessions", "prefecture", 2),
    ("issued_numbers", "prefecture", 2),
    ("issued_numbers", "fee_schedule", 1),
    ("issued_numbers", "code", 10),
    ("registry_codes", "prefecture", 2),
    ("registry_codes", "fee_schedule", 1),
    ("registry_codes", "code", 10),
];

/// SQLite: the FTS5 mirror of `facilities.name_search` and the triggers that keep it.
const SQLITE_UP: &[&str] = &[
    "CREATE VIRTUAL TABLE facilities_name_fts USING fts5(\
         name_search, content='facilities', content_rowid='id', tokenize='trigram')",
    "CREATE TRIGGER facilities_name_fts_insert AFTER INSERT ON facilities BEGIN \
         INSERT INTO facilities_name_fts(rowid, name_search) VALUES (new.id, new.name_search); \
     END",
    "CREATE TRIGGER facilities_name_fts_delete AFTER DELETE ON facilities BEGIN \
         INSERT INTO facilities_name_fts(facilities_name_fts, rowid, name_search) \
         VALUES ('delete', old.id, old.name_search); \
     END",
    "CREATE TRIGGER facilities_name_fts_update AFTER UPDATE OF name_search ON facilities BEGIN \
         INSERT INTO facilities_name_fts(facilities_name_fts, rowid, name_search) \
         VALUES ('delete', old.id, old.name_search); \
         INSERT INTO facilities_name_fts(rowid, name_search) VALUES (new.id, new.name_search); \
     END",
    "INSERT INTO facilities_name_fts(facilities_name_fts) VALUES ('rebuild')",
];

const SQLITE_DOWN: &[&str] = &[
    "DROP TRIGGER IF EXISTS facilities_name_fts_update",
    "DROP TRIGGER IF EXISTS facilities_name_fts_delete",
    "DROP TRIGGER IF EXISTS facilities_name_fts_insert",
    "DROP TABLE IF EXISTS facilities_name_fts",
];

/// PostgreSQL: each request carries its facility's search key, kept by triggers (on a
/// new request, a request moved to another facility, a renamed facility), under a
/// trigram index that leads with the bureau.
const POSTGRES_UP: &[&str] = &[
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE EXTENSION IF NOT EXISTS btree_gin",
    "ALTER TABLE reception_requests ADD COLUMN name_search varchar NOT NULL DEFAULT ''",
    "CREATE FUNCTION reception_requests_name_search() RETURNS trigger LANGUAGE plpgsql AS $$ \
     BEGIN \
         NEW.name_search := COALESCE( \
             (SELECT name_search FROM facilities WHERE id = NEW.facility_id), ''); \
         RETURN NEW; \
     END $$",
    "CREATE TRIGGER reception_requests_name_search \
     BEFORE INSERT OR UPDATE OF facility_id ON reception_requests \
     FOR EACH ROW EXECUTE FUNCTION reception_requests_name_search()",
    "CREATE FUNCTION facilities_name_search_to_requests() RETURNS trigger LANGUAGE plpgsql AS $$ \
     BEGIN \
         UPDATE reception_requests SET name_search = NEW.name_search \
         WHERE facility_id = NEW.id; \
         RETURN NULL; \
     END $$",
    "CREATE TRIGGER facilities_name_search_to_requests \
     AFTER UPDATE OF name_search ON facilities FOR EACH ROW \
     WHEN (OLD.name_search IS DISTINCT FROM NEW.name_search) \
     EXECUTE FUNCTION facilities_name_search_to_requests()",
    "UPDATE reception_requests r SET name_search = f.name_search \
     FROM facilities f WHERE f.id = r.facility_id",
    "CREATE INDEX reception_requests_name_trgm ON reception_requests \
     USING gin (bureau_id, name_search gin_trgm_ops)",
];

const POSTGRES_DOWN: &[&str] = &[
    "DROP INDEX IF EXISTS reception_requests_name_trgm",
    "DROP TRIGGER IF EXISTS facilities_name_search_to_requests ON facilities",
    "DROP FUNCTION IF EXISTS facilities_name_search_to_requests()",
    "DROP TRIGGER IF EXISTS reception_requests_name_search ON reception_requests",
    "DROP FUNCTION IF EXISTS reception_requests_name_search()",
    "ALTER TABLE reception_requests DROP COLUMN IF EXISTS name_search",
];

/// Runs each statement in turn.
async fn execute_all(manager: &SchemaManager<'_>, statements: &[&str]) -> Result<(), DbErr> {
    let db = manager.get_connection();
    for sql in statements {
        db.execute_unprepared(sql).await?;
    }
    Ok(())
}

/// PostgreSQL: gives the [`FIXED_WIDTH`] columns the type `char` or `varchar`.
async fn retype_fixed_width(manager: &SchemaManager<'_>, type_name: &str) -> Result<(), DbErr> {
    for (table, column, width) in FIXED_WIDTH {
        manager
            .get_connection()
            .execute_unprepared(&format!(
                "ALTER TABLE {table} ALTER COLUMN {column} TYPE {type_name}({width})"
            ))
            .await?;
    }
    Ok(())
}

fn drop_index(table: &'static str, name: &'static str) -> IndexDropStatement {
    Index::drop().name(name).table(table).to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, columns) in SORT_INDEXES {
            manager
                .create_index(index("reception_requests", name, columns, false))
                .await?;
        }
        manager
            .drop_index(drop_index("registry_codes", "registry_codes_municipality"))
            .await?;
        manager
            .create_index(index(
                "registry_codes",
                "registry_codes_municipality_district",
                &["prefecture", "municipality", "district"],
                false,
            ))
            .await?;
        match manager.get_database_backend() {
            sea_orm::DatabaseBackend::Sqlite => execute_all(manager, SQLITE_UP).await,
            sea_orm::DatabaseBackend::Postgres => {
                retype_fixed_width(manager, "varchar").await?;
                execute_all(manager, POSTGRES_UP).await
            }
            _ => Ok(()),
        }
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        match manager.get_database_backend() {
            sea_orm::DatabaseBackend::Sqlite => execute_all(manager, SQLITE_DOWN).await?,
            sea_orm::DatabaseBackend::Postgres => {
                // The extensions stay: other objects may use them.
                execute_all(manager, POSTGRES_DOWN).await?;
                retype_fixed_width(manager, "char").await?;
            }
            _ => {}
        }
        manager
            .drop_index(drop_index(
                "registry_codes",
                "registry_codes_municipality_district",
            ))
            .await?;
        manager
            .create_index(index(
                "registry_codes",
                "registry_codes_municipality",
                &["prefecture", "municipality"],
                false,
            ))
            .await?;
        for (name, _) in SORT_INDEXES {
            manager
                .drop_index(drop_index("reception_requests", name))
                .await?;
        }
        Ok(())
    }
}
