//! The background saving of one confirmed upload (取込の登録処理).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "import_jobs")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub upload_id: String,
    pub user_id: i32,
    pub bureau_id: String,
    pub file_name: String,
    pub scope: String,
    pub total: i32,
    pub status: String,
    pub created: i32,
    pub already_present: i32,
    pub result: Option<Json>,
    pub error: Option<String>,
    pub started_at: DateTimeUtc,
    pub heartbeat_at: DateTimeUtc,
    pub finished_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
