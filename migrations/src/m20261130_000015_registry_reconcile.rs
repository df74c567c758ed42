//! Reconciliation with the published registries (公表名簿との照合): each imported list
//! is recorded with its date, prefecture and 点数表 (`registry_lists`), and a number of
//! ours found in a list is marked confirmed (指定確認) with that list's date.

use sea_orm_migration::{prelude::*, schema::*};

use crate::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("registry_lists")
                    .col(pk_auto("id"))
                    .col(string_len("source", 255))
                    .col(string_len("prefecture", 2))
                    .col(string_len("fee_schedule", 1))
                    .col(date("as_of"))
                    .col(integer("entries"))
                    .col(timestamp_with_time_zone("imported_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "registry_lists",
                "registry_lists_unique",
                &["prefecture", "fee_schedule", "as_of", "source"],
                true,
            ))
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("issued_numbers")
                    .add_column(date_null("designation_confirmed_on"))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("issued_numbers")
                    .add_column(string_len_null("designation_confirmed_source", 255))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in ["designation_confirmed_source", "designation_confirmed_on"] {
            manager
                .alter_table(
                    Table::alter()
                        .table("issued_numbers")
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        crate::drop_tables(manager, &["registry_lists"]).await
    }
}
