//! One submission of a case's 「オンライン資格確認の導入計画書」 (別紙2): every one is kept;
//! the latest counts.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "plan_submissions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub request_id: i32,
    /// The items by number (`uketsuke_domain::Plan::to_json`).
    pub items: Json,
    /// The check's findings when submitted: `[{"item": 3, "message": "…"}]`.
    pub findings: Json,
    /// `upload`, `form` or `api`.
    pub source: String,
    pub file_name: Option<String>,
    pub submitted_by: Option<i32>,
    pub submitted_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
