//! Import jobs (取込の登録処理): the saving of a confirmed upload, run in the background
//! so that a large file neither holds the clerk's browser nor is lost when the browser
//! gives up. One job per upload: the unique index on `upload_id` lets exactly one of two
//! confirmations at once start it. The job saves the file in one transaction, which
//! also drops the upload and records the result; so a job is either done (every request
//! saved, the upload gone) or not (nothing saved, the upload kept for another try).
//!
//! A running job proves it is alive by its heartbeat; one whose heartbeat stopped (the
//! server was stopped or killed while saving) is shown as interrupted, and confirming
//! the upload again restarts it.

use chrono::{DateTime, TimeDelta, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, TransactionTrait,
};
use serde::{Deserialize, Serialize};
use std::sync::atomic::AtomicUsize;
use uketsuke_domain::{Prefecture, RequestForm};

use crate::Result;
use crate::audit::Actor;
use crate::entities::import_job::{self, ImportStatus};
use crate::intake::{self, Intake};

/// How often a running job beats.
pub const HEARTBEAT: TimeDelta = TimeDelta::seconds(5);

/// A running job whose heartbeat is older than this was interrupted.
pub const STALE: TimeDelta = TimeDelta::seconds(60);

/// Where a job stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobState {
    /// Saving now.
    Running,
    /// Saved: every request of the file is recorded.
    Done,
    /// Nothing saved, with the reason.
    Failed,
    /// The server stopped while saving: nothing saved.
    Interrupted,
}

impl JobState {
    /// The state of `job` at `now`; `running_here` when this process is running it.
    pub fn of(job: &import_job::Model, now: DateTime<Utc>, running_here: bool) -> Self {
        match job.status {
            ImportStatus::Done => Self::Done,
            ImportStatus::Failed => Self::Failed,
            _ if running_here => Self::Running,
            _ if job.heartbeat_at < now - STALE => Self::Interrupted,
            _ => Self::Running,
        }
    }

    /// The state in Japanese.
    pub fn label(self) -> &'static str {
        match self {
            Self::Running => "登録中",
            Self::Done => "登録済",
            Self::Failed => "登録できませんでした",
            Self::Interrupted => "中断",
        }
    }
}

/// A saved request in a job's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedRequest {
    pub id: i32,
    pub name: String,
}

/// What a finished job saved.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobResult {
    pub saved: Vec<SavedRequest>,
    pub already_present: usize,
}

/// What a new job is about.
pub struct NewJob<'a> {
    pub upload_id: &'a str,
    pub user_id: i32,
    pub bureau_id: &'a str,
    pub file_name: &'a str,
    pub scope: import_job::ImportScope,
    /// The day the paper arrived (受付日).
    pub received_on: chrono::NaiveDate,
    /// The requests (by their index in the file's order) marked 遡及指定.
    pub retroactive: &'a [usize],
    pub total: usize,
}

/// The indexes marked 遡及指定, as stored in `import_jobs.retroactive_rows`.
pub fn retroactive_rows(job: &import_job::Model) -> Vec<usize> {
    let mut rows: Vec<usize> = job
        .retroactive_rows
        .as_deref()
        .unwrap_or_default()
        .split(',')
        .filter_map(|n| n.trim().parse().ok())
        .collect();
    rows.sort_unstable();
    rows.dedup();
    rows
}

fn rows_text(rows: &[usize]) -> Option<String> {
    (!rows.is_empty()).then(|| {
        rows.iter()
            .map(usize::to_string)
            .collect::<Vec<_>>()
            .join(",")
    })
}

/// The outcome of [`start`].
#[derive(Debug)]
pub enum Start {
    /// This caller runs the job.
    Started(import_job::Model),
    /// The upload's job is running elsewhere or done: show it.
    Exists(import_job::Model),
}

/// Starts the job of an upload, or restarts its failed or interrupted one. Of two
/// callers at once, exactly one gets [`Start::Started`].
pub async fn start<C: ConnectionTrait>(conn: &C, job: &NewJob<'_>) -> Result<Start> {
    let now = Utc::now();
    let total = i32::try_from(job.total).unwrap_or(i32::MAX);
    let inserted = import_job::ActiveModel {
        upload_id: Set(job.upload_id.to_owned()),
        user_id: Set(job.user_id),
        bureau_id: Set(job.bureau_id.to_owned()),
        file_name: Set(job.file_name.to_owned()),
        scope: Set(job.scope),
        received_on: Set(job.received_on),
        retroactive_rows: Set(rows_text(job.retroactive)),
        total: Set(total),
        status: Set(ImportStatus::Running),
        created: Set(0),
        already_present: Set(0),
        result: Set(None),
        error: Set(None),
        started_at: Set(now),
        heartbeat_at: Set(now),
        finished_at: Set(None),
        ..Default::default()
    }
    .insert(conn)
    .await;
    match inserted {
        Ok(row) => return Ok(Start::Started(row)),
        Err(e) if crate::error::is_unique_violation(&e) => {}
        Err(e) => return Err(e.into()),
    }
    // The upload already has a job: take it over only if it failed or was interrupted.
    use import_job::Column as C;
    let restarted = import_job::Entity::update_many()
        .col_expr(C::Status, Expr::value(ImportStatus::Running))
        .col_expr(C::Scope, Expr::value(job.scope))
        .col_expr(C::ReceivedOn, Expr::value(job.received_on))
        .col_expr(C::RetroactiveRows, Expr::value(rows_text(job.retroactive)))
        .col_expr(C::Total, Expr::value(total))
        .col_expr(C::Error, Expr::value(Option::<String>::None))
        .col_expr(C::StartedAt, Expr::value(now))
        .col_expr(C::HeartbeatAt, Expr::value(now))
        .filter(C::UploadId.eq(job.upload_id))
        .filter(C::UserId.eq(job.user_id))
        .filter(
            C::Status.eq(ImportStatus::Failed).or(C::Status
                .eq(ImportStatus::Running)
                .and(C::HeartbeatAt.lt(now - STALE))),
        )
        .exec(conn)
        .await?
        .rows_affected
        == 1;
    let row = of_upload(conn, job.upload_id, job.user_id)
        .await?
        .ok_or(crate::Error::NotFound)?;
    Ok(if restarted {
        Start::Started(row)
    } else {
        Start::Exists(row)
    })
}

/// The job of an upload, for its uploader.
pub async fn of_upload<C: ConnectionTrait>(
    conn: &C,
    upload_id: &str,
    user_id: i32,
) -> Result<Option<import_job::Model>> {
    Ok(import_job::Entity::find()
        .filter(import_job::Column::UploadId.eq(upload_id))
        .filter(import_job::Column::UserId.eq(user_id))
        .one(conn)
        .await?)
}

/// Job `id`, for its uploader only.
pub async fn get<C: ConnectionTrait>(
    conn: &C,
    id: i32,
    user_id: i32,
) -> Result<Option<import_job::Model>> {
    Ok(import_job::Entity::find_by_id(id)
        .filter(import_job::Column::UserId.eq(user_id))
        .one(conn)
        .await?)
}

/// The uploader's latest jobs, newest first.
pub async fn recent<C: ConnectionTrait>(
    conn: &C,
    user_id: i32,
    limit: u64,
) -> Result<Vec<import_job::Model>> {
    Ok(import_job::Entity::find()
        .filter(import_job::Column::UserId.eq(user_id))
        .order_by_desc(import_job::Column::StartedAt)
        .order_by_desc(import_job::Column::Id)
        .limit(limit)
        .all(conn)
        .await?)
}

/// Records how many requests a job's file holds, once it is read.
pub async fn set_total<C: ConnectionTrait>(conn: &C, id: i32, total: usize) -> Result<()> {
    import_job::Entity::update_many()
        .col_expr(
            import_job::Column::Total,
            Expr::value(i32::try_from(total).unwrap_or(i32::MAX)),
        )
        .filter(import_job::Column::Id.eq(id))
        .exec(conn)
        .await?;
    Ok(())
}

/// Marks a running job alive.
pub async fn beat<C: ConnectionTrait>(conn: &C, id: i32) -> Result<()> {
    import_job::Entity::update_many()
        .col_expr(import_job::Column::HeartbeatAt, Expr::value(Utc::now()))
        .filter(import_job::Column::Id.eq(id))
        .filter(import_job::Column::Status.eq(ImportStatus::Running))
        .exec(conn)
        .await?;
    Ok(())
}

/// Records a job's result and drops its upload: call it in the transaction that saved
/// the requests.
pub async fn finish<C: ConnectionTrait>(
    conn: &C,
    id: i32,
    upload_id: &str,
    result: &JobResult,
) -> Result<()> {
    let now = Utc::now();
    use import_job::Column as C;
    import_job::Entity::update_many()
        .col_expr(C::Status, Expr::value(ImportStatus::Done))
        .col_expr(
            C::Created,
            Expr::value(i32::try_from(result.saved.len()).unwrap_or(i32::MAX)),
        )
        .col_expr(
            C::AlreadyPresent,
            Expr::value(i32::try_from(result.already_present).unwrap_or(i32::MAX)),
        )
        .col_expr(C::Result, Expr::value(serde_json::to_value(result).ok()))
        .col_expr(C::HeartbeatAt, Expr::value(now))
        .col_expr(C::FinishedAt, Expr::value(Some(now)))
        .filter(C::Id.eq(id))
        .exec(conn)
        .await?;
    crate::uploads::delete(conn, upload_id).await
}

/// Records that a job saved nothing, and why; its upload stays for another try.
pub async fn fail<C: ConnectionTrait>(conn: &C, id: i32, error: &str) -> Result<()> {
    let now = Utc::now();
    use import_job::Column as C;
    import_job::Entity::update_many()
        .col_expr(C::Status, Expr::value(ImportStatus::Failed))
        .col_expr(C::Error, Expr::value(Some(error.to_owned())))
        .col_expr(C::HeartbeatAt, Expr::value(now))
        .col_expr(C::FinishedAt, Expr::value(Some(now)))
        .filter(C::Id.eq(id))
        .exec(conn)
        .await?;
    Ok(())
}

/// A finished job's result.
pub fn result_of(job: &import_job::Model) -> JobResult {
    job.result
        .clone()
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default()
}

/// What an interrupted job says.
pub const INTERRUPTED: &str = "サーバーが停止したため、登録を中断しました。何も登録されていません。もう一度登録してください。";

/// At start-up: marks as failed the jobs no process is running any more — on SQLite
/// (served by one process) every running job; on PostgreSQL (which several instances
/// may share) those whose heartbeat stopped. Returns how many.
pub async fn sweep_interrupted(db: &sea_orm::DatabaseConnection) -> Result<u64> {
    use import_job::Column as C;
    let now = Utc::now();
    let mut update = import_job::Entity::update_many()
        .col_expr(C::Status, Expr::value(ImportStatus::Failed))
        .col_expr(C::Error, Expr::value(Some(INTERRUPTED.to_owned())))
        .col_expr(C::FinishedAt, Expr::value(Some(now)))
        .filter(C::Status.eq(ImportStatus::Running));
    if db.get_database_backend() != sea_orm::DbBackend::Sqlite {
        update = update.filter(C::HeartbeatAt.lt(now - STALE));
    }
    Ok(update.exec(db).await?.rows_affected)
}

/// Whether running jobs must beat: only where several server processes may share the
/// database (PostgreSQL). On SQLite a beat would contend with the save for the single
/// writer's lock, and the one server process knows its own jobs.
pub fn needs_heartbeat(db: &sea_orm::DatabaseConnection) -> bool {
    db.get_database_backend() != sea_orm::DbBackend::Sqlite
}

/// Runs job `job`: saves the placed forms in one transaction that also records the
/// result and drops the upload — together or not at all. A save that lost a race with
/// an identical one (a unique index refused a row, or SQLite's write lock was taken
/// meanwhile) runs again and then finds those requests already present.
pub async fn save(
    db: &sea_orm::DatabaseConnection,
    job: &import_job::Model,
    intake: &Intake<'_>,
    forms: &[(&RequestForm, Prefecture)],
    actor: &Actor,
    progress: &AtomicUsize,
) -> Result<JobResult> {
    crate::issuance::retrying(|| save_once(db, job, intake, forms, actor, progress)).await
}

async fn save_once(
    db: &sea_orm::DatabaseConnection,
    job: &import_job::Model,
    intake: &Intake<'_>,
    forms: &[(&RequestForm, Prefecture)],
    actor: &Actor,
    progress: &AtomicUsize,
) -> Result<JobResult> {
    let txn = db.begin().await?;
    let saved = intake::save_in(&txn, intake, forms, actor, Some(progress)).await?;
    let result = JobResult {
        saved: saved
            .created
            .iter()
            .zip(&saved.created_forms)
            .map(|(id, index)| SavedRequest {
                id: *id,
                name: forms[*index].0.facility_name.clone(),
            })
            .collect(),
        already_present: saved.already_present,
    };
    finish(&txn, job.id, &job.upload_id, &result).await?;
    txn.commit().await?;
    Ok(result)
}
