//! The 「オンライン資格確認の導入計画書」 (別紙2) of a case: every submission kept in
//! `plan_submissions` (the items by number, the findings of the check at the time, how
//! it came in), the case's plan status in `reception_requests.plan_status`
//! (none → deficient | submitted → confirmed), and the 経過措置 届出 that exempts a case
//! from the plan, with the day it was filed, in `reception_requests.transitional_filed_on`.

use sea_orm_migration::{prelude::*, schema::*};

use crate::{fk, index};

const SUBMISSIONS_INDEX: &str = "plan_submissions_request";

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one at a time.
        manager
            .alter_table(
                Table::alter()
                    .table("reception_requests")
                    .add_column(string_len("plan_status", 16).default("none"))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("reception_requests")
                    .add_column(date_null("transitional_filed_on"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("plan_submissions")
                    .col(pk_auto("id"))
                    .col(integer("request_id"))
                    // The items by number ("1" … "13"), as `uketsuke_domain::Plan::to_json`.
                    .col(json("items"))
                    // The findings of the check when submitted: [{item, message}].
                    .col(json("findings"))
                    // upload | form | api
                    .col(string_len("source", 16))
                    .col(string_len_null("file_name", 255))
                    .col(integer_null("submitted_by"))
                    .col(timestamp_with_time_zone("submitted_at"))
                    .foreign_key(
                        fk("plan_submissions", "request_id", "reception_requests")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "plan_submissions",
                SUBMISSIONS_INDEX,
                &["request_id", "id"],
                false,
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("plan_submissions").to_owned())
            .await?;
        for column in ["transitional_filed_on", "plan_status"] {
            manager
                .alter_table(
                    Table::alter()
                        .table("reception_requests")
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
