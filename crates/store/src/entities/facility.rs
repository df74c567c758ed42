//! A facility (医療機関等) as the bureau knows it.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "facilities")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub bureau_id: String,
    pub prefecture: String,
    pub name: String,
    /// The name folded for search (width, kana, spaces).
    pub name_search: String,
    pub postal_code: Option<String>,
    pub address: String,
    pub municipality: Option<String>,
    pub phone: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
