//! A published list imported (名簿・コード内容別医療機関一覧表), one row per prefecture
//! and 点数表 it covers, with the day it describes: the latest one per prefecture and
//! 点数表 is what our issued numbers are reconciled against.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "registry_lists")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub source: String,
    pub prefecture: String,
    pub fee_schedule: String,
    pub as_of: Date,
    /// How many of the list's codes are of this prefecture and 点数表.
    pub entries: i32,
    pub imported_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
