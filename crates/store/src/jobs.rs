//! Scheduled job runs (ジョブ実行記録): each run of a job for a period is recorded
//! uniquely by (job, period), so two app instances — or a person running the job by hand
//! while the scheduler does — never run one period twice.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

use crate::Result;
use crate::entities::job_run;
use crate::error::is_unique_violation;

/// Status of a run.
pub mod status {
    pub const RUNNING: &str = "running";
    pub const DONE: &str = "done";
    pub const FAILED: &str = "failed";
}

/// Claims (job, period). `None` when it is already claimed (done, running or failed).
pub async fn claim<C: ConnectionTrait>(
    conn: &C,
    job: &str,
    period: &str,
) -> Result<Option<job_run::Model>> {
    let row = job_run::ActiveModel {
        job: Set(job.to_owned()),
        period: Set(period.to_owned()),
        status: Set(status::RUNNING.to_owned()),
        started_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(conn)
    .await;
    match row {
        Ok(row) => Ok(Some(row)),
        Err(e) if is_unique_violation(&e) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Records how a claimed run ended.
pub async fn finish<C: ConnectionTrait>(
    conn: &C,
    run: job_run::Model,
    ok: bool,
    detail: &str,
) -> Result<job_run::Model> {
    let mut active: job_run::ActiveModel = run.into();
    active.status = Set(if ok { status::DONE } else { status::FAILED }.to_owned());
    active.detail = Set(Some(detail.to_owned()));
    active.finished_at = Set(Some(Utc::now()));
    Ok(active.update(conn).await?)
}

/// Forgets a failed run so the period can be tried again.
pub async fn release_failed<C: ConnectionTrait>(conn: &C, job: &str, period: &str) -> Result<bool> {
    let result = job_run::Entity::delete_many()
        .filter(job_run::Column::Job.eq(job))
        .filter(job_run::Column::Period.eq(period))
        .filter(job_run::Column::Status.eq(status::FAILED))
        .exec(conn)
        .await?;
    Ok(result.rows_affected > 0)
}

/// The latest runs, newest first.
pub async fn recent<C: ConnectionTrait>(conn: &C, limit: u64) -> Result<Vec<job_run::Model>> {
    Ok(job_run::Entity::find()
        .order_by_desc(job_run::Column::StartedAt)
        .limit(limit)
        .all(conn)
        .await?)
}
