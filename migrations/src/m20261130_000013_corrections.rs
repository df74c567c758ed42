//! Corrections (訂正): the reason of a case's latest correction, kept in the row so that
//! the audit trail shows it beside the fields it changed; and an index on the facility's
//! address, by which a 医科 request finds the 歯科 request of the same facility (併設);
//! and the rows of an upload marked 遡及 on its preview, kept with its import job.

use sea_orm_migration::{prelude::*, schema::*};

use crate::index;

const ADDRESS_INDEX: &str = "reception_requests_bureau_address";

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("reception_requests")
                    .add_column(text_null("correction_reason"))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("import_jobs")
                    .add_column(text_null("retroactive_rows"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "reception_requests",
                ADDRESS_INDEX,
                &["bureau_id", "facility_address"],
                false,
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name(ADDRESS_INDEX)
                    .table("reception_requests")
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("import_jobs")
                    .drop_column("retroactive_rows")
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("reception_requests")
                    .drop_column("correction_reason")
                    .to_owned(),
            )
            .await
    }
}
