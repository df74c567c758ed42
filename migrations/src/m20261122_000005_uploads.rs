//! Uploads awaiting confirmation (取込の確認待ち): a workbook a clerk uploaded is
//! previewed with every problem before anything is saved; the file waits here until the
//! clerk confirms or a day has passed.

use crate::{drop_tables, fk, index};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("uploads")
                    .col(string_len("id", 64).primary_key())
                    .col(integer("user_id"))
                    .col(string("file_name"))
                    .col(blob("bytes"))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(
                        fk("uploads", "user_id", "users").on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "uploads",
                "uploads_created_at",
                &["created_at"],
                false,
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(manager, &["uploads"]).await
    }
}
