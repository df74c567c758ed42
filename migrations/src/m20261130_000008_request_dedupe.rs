//! One live request per facility, kind and designation date, kept by the database
//! itself: double clicks and retries that race past the application's duplicate check
//! (two transactions that both see no duplicate) cannot both insert. `dedupe_key` is
//! the SHA-256 of the facility's name and address folded for width, kana and spaces;
//! a partial unique index (raw SQL: the schema builder has no partial indexes; the same
//! text on SQLite and PostgreSQL) covers the requests not returned or withdrawn.
//! Requests recorded before this step keep a NULL key and are checked as before.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

const INDEX: &str = "reception_requests_live_unique";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("reception_requests")
                    .add_column(string_len_null("dedupe_key", 64))
                    .to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared(&format!(
                "CREATE UNIQUE INDEX {INDEX} ON reception_requests \
                 (bureau_id, kind, designation_date, dedupe_key) \
                 WHERE status NOT IN ('returned', 'withdrawn')"
            ))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(&format!("DROP INDEX IF EXISTS {INDEX}"))
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("reception_requests")
                    .drop_column("dedupe_key")
                    .to_owned(),
            )
            .await
    }
}
