//! The lists sent to the 実施機関 (一覧表の送付): each council session's approved
//! facilities go out in one or more lists — the first after the session, then a
//! supplementary list (追加分) for approvals recorded later — and each request records
//! the list it went out in. A request is listed once: the export marks it in the same
//! transaction as it queues the mail, and a list's number within its session is unique,
//! so two exports at once make one list.
//!
//! Sessions already exported by the earlier job (one run per session, recorded in
//! `job_runs`) count as listed in a first list, with the mail that job queued.

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
                    .table("council_lists")
                    .col(pk_auto("id"))
                    .col(integer("session_id"))
                    .col(integer("seq"))
                    .col(integer("row_count"))
                    .col(big_integer_null("outbox_id"))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(&mut fk("council_lists", "session_id", "council_sessions"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "council_lists",
                "council_lists_session_seq",
                &["session_id", "seq"],
                true,
            ))
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("reception_requests")
                    .add_column(integer_null("council_list_id"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "reception_requests",
                "reception_requests_council_list",
                &["council_session_id", "council_list_id"],
                false,
            ))
            .await?;
        let db = manager.get_connection();
        db.execute_unprepared(
            "INSERT INTO council_lists (session_id, seq, row_count, outbox_id, created_at) \
             SELECT s.id, 1, \
               (SELECT COUNT(*) FROM reception_requests r \
                 WHERE r.council_session_id = s.id AND r.status = 'designated'), \
               (SELECT o.id FROM outbox o \
                 WHERE o.dedupe_key = 'council-export:' || CAST(s.id AS VARCHAR(20))), \
               j.started_at \
             FROM council_sessions s \
             JOIN job_runs j ON j.job = 'council-export' \
               AND j.period = CAST(s.id AS VARCHAR(20)) AND j.status = 'done'",
        )
        .await?;
        db.execute_unprepared(
            "UPDATE reception_requests SET council_list_id = \
               (SELECT l.id FROM council_lists l WHERE l.session_id = reception_requests.council_session_id) \
             WHERE status = 'designated' AND council_session_id IN (SELECT session_id FROM council_lists)",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("reception_requests_council_list")
                    .table("reception_requests")
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("reception_requests")
                    .drop_column("council_list_id")
                    .to_owned(),
            )
            .await?;
        drop_tables(manager, &["council_lists"]).await
    }
}
