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
    pub scope: ImportScope,
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

/// What a job saves of its file: all of it (refused when it has problems), or only its
/// valid requests, as the clerk chose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum ImportScope {
    #[sea_orm(string_value = "all")]
    All,
    #[sea_orm(string_value = "valid")]
    Valid,
}

impl ImportScope {
    /// The value of the confirmation form's `scope` field: `valid`, else all.
    pub fn from_form(value: &str) -> Self {
        if value == "valid" {
            ImportScope::Valid
        } else {
            ImportScope::All
        }
    }

    /// The form value (`all`, `valid`).
    pub fn as_str(self) -> &'static str {
        match self {
            ImportScope::All => "all",
            ImportScope::Valid => "valid",
        }
    }
}
