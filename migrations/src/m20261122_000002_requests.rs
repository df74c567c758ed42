//! What the bureau handles: facilities (医療機関等), the council sessions (地方社会保険医療
//! 協議会) that recommend designation, and the reception requests (受付番号情報提供依頼書,
//! 別紙1) — one per facility and kind.

use crate::{drop_tables, fk, index};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // A facility as the bureau knows it. `name_search` holds the name folded for
        // search (width, kana and spaces), so a search never has to fold every row.
        manager
            .create_table(
                Table::create()
                    .table("facilities")
                    .col(pk_auto("id"))
                    .col(string_len("bureau_id", 32))
                    .col(char_len("prefecture", 2))
                    .col(string("name"))
                    .col(string("name_search"))
                    .col(string_len_null("postal_code", 8))
                    .col(string("address"))
                    .col(string_null("municipality"))
                    .col(string_len_null("phone", 20))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(&mut fk("facilities", "bureau_id", "bureaus"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "facilities",
                "facilities_bureau",
                &["bureau_id"],
                false,
            ))
            .await?;
        manager
            .create_index(index(
                "facilities",
                "facilities_name_search",
                &["name_search"],
                false,
            ))
            .await?;

        // A council session (地医協) on a date; each prefecture has its own council.
        manager
            .create_table(
                Table::create()
                    .table("council_sessions")
                    .col(pk_auto("id"))
                    .col(string_len("bureau_id", 32))
                    .col(char_len("prefecture", 2))
                    .col(date("held_on"))
                    .col(string("name"))
                    .col(text_null("notes"))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(&mut fk("council_sessions", "bureau_id", "bureaus"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "council_sessions",
                "council_sessions_unique_day",
                &["bureau_id", "prefecture", "held_on"],
                true,
            ))
            .await?;

        // The request, with every field of 別紙1 as received (so the answer reproduces
        // it), the computed deadlines, the verdict and the case's status.
        manager
            .create_table(
                Table::create()
                    .table("reception_requests")
                    .col(pk_auto("id"))
                    .col(string_len("bureau_id", 32))
                    .col(integer_null("office_id"))
                    .col(integer("facility_id"))
                    // medical (医科) | dental (歯科) | pharmacy (薬局)
                    .col(string_len("kind", 16))
                    // The 医科/歯科 twin of a 併設 facility's request.
                    .col(integer_null("sibling_id"))
                    .col(string_len("status", 24))
                    .col(date("designation_date"))
                    .col(date_null("request_date"))
                    .col(date("received_on"))
                    // 回答書の送付先
                    .col(string_len_null("reply_postal_code", 8))
                    .col(string("reply_address"))
                    .col(string("reply_name"))
                    // 名称・所在地
                    .col(string("facility_name"))
                    .col(string_len_null("facility_postal_code", 8))
                    .col(string("facility_address"))
                    // 開設者: person | corporation
                    .col(string_len("founder_kind", 16))
                    .col(string_null("founder_name"))
                    .col(string_null("corporation_name"))
                    .col(string_null("representative_title"))
                    .col(string_null("representative_name"))
                    // 保険医又は保険薬剤師の登録の記号及び番号
                    .col(string_null("registration_number"))
                    // 担当者の連絡先
                    .col(string_null("contact_name"))
                    .col(string_len("contact_phone", 20))
                    .col(boolean("retroactive").default(false))
                    .col(date("submission_deadline"))
                    .col(date("answer_due"))
                    .col(date_null("answer_due_override"))
                    .col(text_null("answer_due_override_reason"))
                    .col(date("implementing_body_due"))
                    // accept | return, with the reasons and warnings as JSON arrays of text
                    .col(string_len("decision", 16))
                    .col(json("reasons"))
                    .col(json("warnings"))
                    .col(date_null("answered_on"))
                    .col(date_null("returned_on"))
                    .col(text_null("return_reason"))
                    .col(date_null("withdrawn_on"))
                    .col(integer_null("council_session_id"))
                    .col(date_null("designated_on"))
                    .col(text_null("not_designated_reason"))
                    .col(integer_null("created_by"))
                    .col(integer("lock_version").default(0))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(&mut fk("reception_requests", "bureau_id", "bureaus"))
                    .foreign_key(&mut fk("reception_requests", "office_id", "offices"))
                    .foreign_key(&mut fk("reception_requests", "facility_id", "facilities"))
                    .foreign_key(&mut fk(
                        "reception_requests",
                        "sibling_id",
                        "reception_requests",
                    ))
                    .foreign_key(&mut fk(
                        "reception_requests",
                        "council_session_id",
                        "council_sessions",
                    ))
                    .foreign_key(&mut fk("reception_requests", "created_by", "users"))
                    .to_owned(),
            )
            .await?;
        for (name, columns) in [
            (
                "reception_requests_bureau_status",
                &["bureau_id", "status"][..],
            ),
            ("reception_requests_designation", &["designation_date"][..]),
            ("reception_requests_answer_due", &["answer_due"][..]),
            (
                "reception_requests_facility_kind",
                &["facility_id", "kind", "designation_date"][..],
            ),
        ] {
            manager
                .create_index(index("reception_requests", name, columns, false))
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(
            manager,
            &["reception_requests", "council_sessions", "facilities"],
        )
        .await
    }
}
