//! The numbers: every 受付番号 ever issued (proposed, approved or void — a row is never
//! deleted, so a number is never given twice) and the registry of existing 医療機関等コード
//! imported from the bureaus' published lists. Both are unique per
//! (prefecture, 点数表, 郡市区番号, 医療機関番号): the database itself refuses a duplicate.

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
                    .table("issued_numbers")
                    .col(pk_auto("id"))
                    .col(integer_null("request_id"))
                    .col(char_len("prefecture", 2))
                    .col(char_len("fee_schedule", 1))
                    .col(small_integer("district"))
                    .col(small_integer("serial"))
                    .col(small_integer("check_digit"))
                    .col(char_len_uniq("code", 10))
                    .col(boolean("combined_dental").default(false))
                    // proposed (起案) | approved (決裁済) | void (無効)
                    .col(string_len("status", 16))
                    .col(integer_null("proposed_by"))
                    .col(integer_null("approved_by"))
                    .col(timestamp_with_time_zone_null("approved_at"))
                    .col(timestamp_with_time_zone_null("voided_at"))
                    .col(text_null("void_reason"))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(&mut fk(
                        "issued_numbers",
                        "request_id",
                        "reception_requests",
                    ))
                    .foreign_key(&mut fk("issued_numbers", "proposed_by", "users"))
                    .foreign_key(&mut fk("issued_numbers", "approved_by", "users"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "issued_numbers",
                "issued_numbers_unique_number",
                &["prefecture", "fee_schedule", "district", "serial"],
                true,
            ))
            .await?;
        manager
            .create_index(index(
                "issued_numbers",
                "issued_numbers_request",
                &["request_id"],
                false,
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("registry_codes")
                    .col(pk_auto("id"))
                    .col(char_len("prefecture", 2))
                    .col(char_len("fee_schedule", 1))
                    .col(small_integer("district"))
                    .col(small_integer("serial"))
                    .col(small_integer("check_digit"))
                    .col(char_len("code", 10))
                    .col(string_null("name"))
                    .col(string_null("address"))
                    .col(string_null("municipality"))
                    // Which list it came from, e.g. the file name.
                    .col(string("source"))
                    .col(timestamp_with_time_zone("imported_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "registry_codes",
                "registry_codes_unique_number",
                &["prefecture", "fee_schedule", "district", "serial"],
                true,
            ))
            .await?;
        manager
            .create_index(index(
                "registry_codes",
                "registry_codes_municipality",
                &["prefecture", "municipality"],
                false,
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(manager, &["registry_codes", "issued_numbers"]).await
    }
}
