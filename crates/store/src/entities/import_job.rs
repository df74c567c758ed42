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
    /// The day the paper arrived (受付日), for every request of the file.
    pub received_on: Date,
    /// The indexes (in the file's order) of the requests marked 遡及指定 on the
    /// preview, comma-separated; none when empty.
    pub retroactive_rows: Option<String>,
    pub total: i32,
    pub status: ImportStatus,
    pub created: i32,
    pub already_present: i32,
    pub result: Option<Json>,
    pub error: Option<String>,
    pub started_at: DateTimeUtc,
    pub heartbeat_at: DateTimeUtc,
    pub finished_at: Option<DateTimeUtc>,
}

/// Where a job's saving stands, as stored (an interrupted job is one still `Running`
/// whose heartbeat stopped: see `imports::JobState`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum ImportStatus {
    #[sea_orm(string_value = "running")]
    Running,
    #[sea_orm(string_value = "done")]
    Done,
    #[sea_orm(string_value = "failed")]
    Failed,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
