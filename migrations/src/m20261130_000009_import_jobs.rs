//! Import jobs (取込の登録処理): the saving of a confirmed upload runs in the background,
//! so that a large file neither holds the clerk's browser nor is lost when the browser
//! gives up. One job per upload (a unique index: a double click starts one job); its
//! status, counts and result stay for the clerk to come back to.

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
                    .table("import_jobs")
                    .col(pk_auto("id"))
                    .col(string_len("upload_id", 64))
                    .col(integer("user_id"))
                    .col(string_len("bureau_id", 32))
                    .col(string_len("file_name", 255))
                    .col(string_len("scope", 16))
                    .col(integer("total"))
                    .col(string_len("status", 16))
                    .col(integer("created").default(0))
                    .col(integer("already_present").default(0))
                    .col(json_null("result"))
                    .col(text_null("error"))
                    .col(timestamp_with_time_zone("started_at"))
                    .col(timestamp_with_time_zone("heartbeat_at"))
                    .col(timestamp_with_time_zone_null("finished_at"))
                    .foreign_key(
                        fk("import_jobs", "user_id", "users").on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "import_jobs",
                "import_jobs_upload",
                &["upload_id"],
                true,
            ))
            .await?;
        manager
            .create_index(index(
                "import_jobs",
                "import_jobs_user",
                &["user_id", "started_at"],
                false,
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(manager, &["import_jobs"]).await
    }
}
