//! 地医協 dates kept by staff, memos and the scanned request (issue #14):
//! - `council_sessions.version`: a planned session is edited or deleted only at the
//!   version its editor saw (two administrators at once: one wins);
//! - `council_date_removals`: a planned date an administrator deleted or moved, so the
//!   published dates of the configuration (`[council_dates]`) do not bring it back at
//!   the next start;
//! - `case_memos`: a case's memos (電話連絡など), append-only;
//! - `case_attachments`: the scanned paper request (PDF, PNG or JPEG) in the database, so a
//!   backup holds it; a replacement is a new version (`seq`), the older ones stay.

use crate::{drop_tables, fk, index};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("council_sessions")
                    .add_column(integer("version").default(0))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("council_date_removals")
                    .col(pk_auto("id"))
                    .col(string_len("bureau_id", 64))
                    .col(string_len("prefecture", 2))
                    .col(date("held_on"))
                    .col(string_len("removed_by", 200))
                    .col(timestamp_with_time_zone("removed_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "council_date_removals",
                "council_date_removals_date",
                &["bureau_id", "prefecture", "held_on"],
                true,
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("case_memos")
                    .col(pk_auto("id"))
                    .col(integer("request_id"))
                    .col(integer_null("author_user_id"))
                    .col(string_len("author", 200))
                    .col(text("body"))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(&mut fk("case_memos", "request_id", "reception_requests"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "case_memos",
                "case_memos_request",
                &["request_id", "id"],
                false,
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("case_attachments")
                    .col(pk_auto("id"))
                    .col(integer("request_id"))
                    .col(integer("seq"))
                    .col(string_len("file_name", 255))
                    .col(string_len("content_type", 64))
                    .col(big_integer("size_bytes"))
                    .col(blob("data"))
                    .col(integer_null("uploaded_by_user_id"))
                    .col(string_len("uploaded_by", 200))
                    .col(timestamp_with_time_zone("uploaded_at"))
                    .foreign_key(&mut fk(
                        "case_attachments",
                        "request_id",
                        "reception_requests",
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "case_attachments",
                "case_attachments_request_seq",
                &["request_id", "seq"],
                true,
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(
            manager,
            &["case_attachments", "case_memos", "council_date_removals"],
        )
        .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("council_sessions")
                    .drop_column("version")
                    .to_owned(),
            )
            .await
    }
}
