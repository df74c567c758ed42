//! What is remembered and what goes out: the audit trail (監査記録: who changed what,
//! when, before and after), the email outbox (送信待ち: one row per message, sent by the
//! dispatcher, never deleted) and the record of scheduled job runs, unique per
//! (job, period) so two instances never run one period twice.

use crate::{drop_tables, index};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // No foreign keys: the trail must outlive whatever it describes.
        manager
            .create_table(
                Table::create()
                    .table("audit_log")
                    .col(big_pk_auto("id"))
                    .col(timestamp_with_time_zone("at"))
                    .col(integer_null("actor_user_id"))
                    .col(string_len("actor", 64))
                    .col(string_len("action", 64))
                    .col(string_len("entity", 64))
                    .col(string_len("entity_id", 64))
                    .col(json_null("before"))
                    .col(json_null("after"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "audit_log",
                "audit_log_entity",
                &["entity", "entity_id"],
                false,
            ))
            .await?;

        // queued → sending (leased until `lease_until`) → sent | dead
        manager
            .create_table(
                Table::create()
                    .table("outbox")
                    .col(big_pk_auto("id"))
                    .col(string_uniq("dedupe_key"))
                    .col(string_len("kind", 32))
                    .col(string_len_null("bureau_id", 32))
                    .col(json("recipients"))
                    .col(string("subject"))
                    .col(text("body"))
                    .col(string_null("attachment_name"))
                    .col(string_null("attachment_mime"))
                    .col(blob_null("attachment"))
                    .col(string_len("status", 16))
                    .col(integer("attempts").default(0))
                    .col(timestamp_with_time_zone("next_attempt_at"))
                    .col(timestamp_with_time_zone_null("lease_until"))
                    .col(text_null("last_error"))
                    .col(string_null("message_id"))
                    .col(timestamp_with_time_zone_null("sent_at"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "outbox",
                "outbox_due",
                &["status", "next_attempt_at"],
                false,
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("job_runs")
                    .col(pk_auto("id"))
                    .col(string_len("job", 64))
                    .col(string_len("period", 64))
                    .col(string_len("status", 16))
                    .col(text_null("detail"))
                    .col(timestamp_with_time_zone("started_at"))
                    .col(timestamp_with_time_zone_null("finished_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "job_runs",
                "job_runs_unique_period",
                &["job", "period"],
                true,
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(manager, &["job_runs", "outbox", "audit_log"]).await
    }
}
