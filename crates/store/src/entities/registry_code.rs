//! An existing 医療機関等コード from the bureaus' published lists (既存コード台帳).

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "registry_codes")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub prefecture: String,
    pub fee_schedule: String,
    pub district: i16,
    pub serial: i16,
    pub check_digit: i16,
    pub code: String,
    pub name: Option<String>,
    pub address: Option<String>,
    pub municipality: Option<String>,
    /// The same facility's code of the other kind (併設医療機関番号), when a list gave it.
    pub combined_code: Option<String>,
    pub source: String,
    pub imported_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
