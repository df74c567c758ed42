//! The 管理システム's 「8. 未指定」 (反映): a case that ends as 8. 未指定 must also be set
//! so in the ministry's 保険医療機関等管理システム, by hand; staff record who and when.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("reception_requests")
                    .add_column(timestamp_with_time_zone_null("reflected_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("reception_requests")
                    .add_column(integer_null("reflected_by"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in ["reflected_by", "reflected_at"] {
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
