//! Migrations (スキーマ移行): the database schema as a sequence of steps, each with a
//! working `down`. Written with sea-query's schema builder only — never with entity
//! code — so that an old migration keeps compiling however the entities change, and so
//! that the same steps produce the same schema on SQLite and PostgreSQL.
//!
//! Reading order is the order of the schema's story:
//! 1. who works here: bureaus, their offices, users and their sessions;
//! 2. what they handle: facilities, the council sessions and the reception requests;
//! 3. the numbers: every number ever issued, and the registry of existing codes;
//! 4. what is remembered and what goes out: the audit trail, the email outbox and the
//!    record of scheduled job runs;
//! 5. uploads waiting for a clerk to confirm them after the preview;
//! 6. the indexes the case list needs at national scale (sort orders, name search);
//! 7. API tokens, with which other tools use the JSON API as a user;
//! 8. one live request per facility, kind and designation date, kept by a unique index;
//! 9. (later steps) council lists, 未指定, corrections, and staff's 地医協 dates, memos
//!    and the scanned request.

pub use sea_orm_migration::MigrationStatus;
pub use sea_orm_migration::prelude::*;

mod m20261122_000001_people;
mod m20261122_000002_requests;
mod m20261122_000003_numbers;
mod m20261122_000004_audit_outbox;
mod m20261122_000005_uploads;
mod m20261122_000006_search_indexes;
mod m20261130_000007_api_tokens;
mod m20261130_000008_request_dedupe;
mod m20261130_000009_import_jobs;
mod m20261130_000010_council_lists;
mod m20261130_000011_reflection;
mod m20261130_000012_registry_combined;
mod m20261130_000013_corrections;
mod m20261130_000015_registry_reconcile;
mod m20261130_000016_perf_indexes;
mod m20261130_000017_plans;
mod m20261130_000018_withdraw_reason;
mod m20261130_000019_calendar_memos;

pub use m20261130_000016_perf_indexes::founder_text;

/// All migrations, oldest first.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_people::Migration),
            Box::new(m20261122_000002_requests::Migration),
            Box::new(m20261122_000003_numbers::Migration),
            Box::new(m20261122_000004_audit_outbox::Migration),
            Box::new(m20261122_000005_uploads::Migration),
            Box::new(m20261122_000006_search_indexes::Migration),
            Box::new(m20261130_000007_api_tokens::Migration),
            Box::new(m20261130_000008_request_dedupe::Migration),
            Box::new(m20261130_000009_import_jobs::Migration),
            Box::new(m20261130_000010_council_lists::Migration),
            Box::new(m20261130_000011_reflection::Migration),
            Box::new(m20261130_000012_registry_combined::Migration),
            Box::new(m20261130_000013_corrections::Migration),
            Box::new(m20261130_000015_registry_reconcile::Migration),
            Box::new(m20261130_000016_perf_indexes::Migration),
            Box::new(m20261130_000017_plans::Migration),
            Box::new(m20261130_000018_withdraw_reason::Migration),
            Box::new(m20261130_000019_calendar_memos::Migration),
        ]
    }
}

/// Drops the named tables, newest first, for a migration's `down`.
pub(crate) async fn drop_tables(
    manager: &SchemaManager<'_>,
    tables: &[&'static str],
) -> Result<(), DbErr> {
    for table in tables {
        manager
            .drop_table(Table::drop().table(*table).if_exists().to_owned())
            .await?;
    }
    Ok(())
}

/// A foreign key from `table.column` to `target.id`.
pub(crate) fn fk(
    table: &'static str,
    column: &'static str,
    target: &'static str,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(table, column)
        .to(target, "id")
        .on_delete(ForeignKeyAction::Restrict)
        .to_owned()
}

/// A (possibly unique) index on some columns of a table.
pub(crate) fn index(
    table: &'static str,
    name: &'static str,
    columns: &[&'static str],
    unique: bool,
) -> IndexCreateStatement {
    let mut index = Index::create();
    index.name(name).table(table);
    for column in columns {
        index.col(*column);
    }
    if unique {
        index.unique();
    }
    index.to_owned()
}
