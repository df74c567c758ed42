//! The 併設 link between taken codes (併設医療機関番号): a 名簿 row of a 医科 facility
//! names its 歯科 number (and the reverse); both are taken, and each records the other.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("registry_codes")
                    .add_column(string_len_null("combined_code", 10))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("registry_codes")
                    .drop_column("combined_code")
                    .to_owned(),
            )
            .await
    }
}
