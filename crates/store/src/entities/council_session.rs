//! A session of a prefecture's council (地方社会保険医療協議会, 地医協).

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "council_sessions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub bureau_id: String,
    pub prefecture: String,
    pub held_on: Date,
    pub name: String,
    pub notes: Option<String>,
    pub created_at: DateTimeUtc,
    /// Bumped by each edit of a planned session (the administrator's page).
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
