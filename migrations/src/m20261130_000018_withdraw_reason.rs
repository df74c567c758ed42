//! The reason of a withdrawal (取下げの理由): the case page asks for it before a case is
//! withdrawn (a step that voids its numbers), and keeps it in the row so that the
//! history shows it beside the change of status.

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
                    .add_column(text_null("withdraw_reason"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("reception_requests")
                    .drop_column("withdraw_reason")
                    .to_owned(),
            )
            .await
    }
}
