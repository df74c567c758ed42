//! The email outbox (送信待ち): a message is a row, written in the same transaction as
//! the change that causes it, and sent later by the dispatcher.
//!
//! Life of a row: `queued` → `sending` (claimed, with a lease) → `sent`, or back to
//! `queued` with a later `next_attempt_at` after a failure (exponential backoff), or
//! `dead` after too many attempts or a permanent refusal. Rows are never deleted.
//!
//! Claiming is one atomic statement: on PostgreSQL `FOR UPDATE SKIP LOCKED`, so
//! several app instances never claim the same row; on SQLite the single
//! `UPDATE … RETURNING` runs under the database's one write lock. Sending happens with
//! no lock held; a worker that dies mid-send leaves a lease that expires, and the row is
//! claimed again. So delivery is **at least once**: a crash between the SMTP server
//! accepting a message and the row being marked `sent` sends it again (with the same
//! Message-ID, so the recipient can tell); a row marked `sent` is never sent again.

use chrono::{DateTime, TimeDelta, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, FromQueryResult,
    QueryFilter, Set, Statement,
};

use crate::entities::outbox;
use crate::error::is_unique_violation;
use crate::{Error, Result};

/// Status of a row.
pub mod status {
    pub const QUEUED: &str = "queued";
    pub const SENDING: &str = "sending";
    pub const SENT: &str = "sent";
    pub const DEAD: &str = "dead";

    /// The status's label for staff.
    pub fn label(status: &str) -> &'static str {
        match status {
            QUEUED => "送信待ち",
            SENDING => "送信中",
            SENT => "送信済",
            DEAD => "送信不能",
            _ => "不明",
        }
    }
}

/// A message to queue.
#[derive(Debug, Clone)]
pub struct NewMessage {
    /// Unique per message: queuing the same key twice yields the first row.
    pub dedupe_key: String,
    /// What it is, e.g. `council-export`, `digest`.
    pub kind: String,
    pub bureau_id: Option<String>,
    pub recipients: Vec<String>,
    pub subject: String,
    pub body: String,
    pub attachment: Option<NewAttachment>,
}

/// A file attached to a message.
#[derive(Debug, Clone)]
pub struct NewAttachment {
    pub name: String,
    pub mime: String,
    pub bytes: Vec<u8>,
}

/// Retry policy of the dispatcher.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// After this many failed attempts the row is `dead`.
    pub max_attempts: i32,
    /// The first retry waits this long; each further one twice as long.
    pub base_delay: TimeDelta,
    /// No wait is longer than this.
    pub max_delay: TimeDelta,
    /// How long a claimed row belongs to its worker before another may take it.
    pub lease: TimeDelta,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 8,
            base_delay: TimeDelta::minutes(1),
            max_delay: TimeDelta::hours(6),
            lease: TimeDelta::minutes(5),
        }
    }
}

impl RetryPolicy {
    /// The wait before the next attempt after `attempts` failures.
    pub fn delay(&self, attempts: i32) -> TimeDelta {
        let exponent = u32::try_from((attempts - 1).clamp(0, 30)).unwrap_or(0);
        let factor = 2_i32.saturating_pow(exponent);
        self.base_delay
            .checked_mul(factor)
            .unwrap_or(self.max_delay)
            .min(self.max_delay)
    }
}

/// Queues a message on `conn` (normally the transaction of the change that causes it).
/// A message whose dedupe key is already queued is not queued twice: the existing row is
/// returned.
pub async fn enqueue<C: ConnectionTrait>(
    conn: &C,
    msg: &NewMessage,
    now: DateTime<Utc>,
) -> Result<outbox::Model> {
    if let Some(existing) = find_by_key(conn, &msg.dedupe_key).await? {
        return Ok(existing);
    }
    let row = outbox::ActiveModel {
        dedupe_key: Set(msg.dedupe_key.clone()),
        kind: Set(msg.kind.clone()),
        bureau_id: Set(msg.bureau_id.clone()),
        recipients: Set(serde_json::json!(msg.recipients)),
        subject: Set(msg.subject.clone()),
        body: Set(msg.body.clone()),
        attachment_name: Set(msg.attachment.as_ref().map(|a| a.name.clone())),
        attachment_mime: Set(msg.attachment.as_ref().map(|a| a.mime.clone())),
        attachment: Set(msg.attachment.as_ref().map(|a| a.bytes.clone())),
        status: Set(status::QUEUED.to_owned()),
        attempts: Set(0),
        next_attempt_at: Set(now),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(conn)
    .await;
    match row {
        Ok(row) => Ok(row),
        Err(e) if is_unique_violation(&e) => find_by_key(conn, &msg.dedupe_key)
            .await?
            .ok_or(Error::Db(e)),
        Err(e) => Err(e.into()),
    }
}

async fn find_by_key<C: ConnectionTrait>(conn: &C, key: &str) -> Result<Option<outbox::Model>> {
    Ok(outbox::Entity::find()
        .filter(outbox::Column::DedupeKey.eq(key))
        .one(conn)
        .await?)
}

/// Claims up to `limit` rows that are due (queued and due, or sending with an expired
/// lease), in one atomic statement, and returns them with `attempts` already counted.
pub async fn claim_due<C: ConnectionTrait>(
    conn: &C,
    now: DateTime<Utc>,
    policy: &RetryPolicy,
    limit: u32,
) -> Result<Vec<outbox::Model>> {
    let backend = conn.get_database_backend();
    let lock = if backend == DbBackend::Postgres {
        "FOR UPDATE SKIP LOCKED"
    } else {
        ""
    };
    let sql = format!(
        "UPDATE outbox SET status = $1, lease_until = $2, attempts = attempts + 1, updated_at = $3 \
         WHERE id IN (SELECT id FROM outbox \
           WHERE (status = $4 AND next_attempt_at <= $5) OR (status = $6 AND lease_until <= $7) \
           ORDER BY next_attempt_at, id LIMIT $8 {lock}) \
         RETURNING *"
    );
    let lease_until = now + policy.lease;
    let statement = Statement::from_sql_and_values(
        backend,
        sql,
        [
            status::SENDING.into(),
            lease_until.into(),
            now.into(),
            status::QUEUED.into(),
            now.into(),
            status::SENDING.into(),
            now.into(),
            i64::from(limit).into(),
        ],
    );
    let rows = conn.query_all_raw(statement).await?;
    let mut claimed = rows
        .iter()
        .map(|r| outbox::Model::from_query_result(r, ""))
        .collect::<Result<Vec<_>, _>>()?;
    claimed.sort_by_key(|m| m.id);
    Ok(claimed)
}

/// Marks a claimed row sent. `claimed` is the row as [`claim_due`] returned it: if
/// another worker has since re-claimed it (our lease expired), nothing is changed and
/// `false` is returned.
pub async fn mark_sent<C: ConnectionTrait>(
    conn: &C,
    claimed: &outbox::Model,
    message_id: &str,
    now: DateTime<Utc>,
) -> Result<bool> {
    let result = outbox::Entity::update_many()
        .col_expr(outbox::Column::Status, status::SENT.into())
        .col_expr(outbox::Column::SentAt, Some(now).into())
        .col_expr(
            outbox::Column::LeaseUntil,
            Option::<DateTime<Utc>>::None.into(),
        )
        .col_expr(
            outbox::Column::MessageId,
            Some(message_id.to_owned()).into(),
        )
        .col_expr(outbox::Column::LastError, Option::<String>::None.into())
        .col_expr(outbox::Column::UpdatedAt, now.into())
        .filter(outbox::Column::Id.eq(claimed.id))
        .filter(outbox::Column::Status.eq(status::SENDING))
        .filter(outbox::Column::Attempts.eq(claimed.attempts))
        .exec(conn)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Records a failed attempt: back to `queued` after the policy's delay, or `dead` when
/// the failure is permanent or the attempts are used up. Returns the new status.
pub async fn mark_failed<C: ConnectionTrait>(
    conn: &C,
    claimed: &outbox::Model,
    error: &str,
    permanent: bool,
    policy: &RetryPolicy,
    now: DateTime<Utc>,
) -> Result<&'static str> {
    let dead = permanent || claimed.attempts >= policy.max_attempts;
    let new_status = if dead { status::DEAD } else { status::QUEUED };
    outbox::Entity::update_many()
        .col_expr(outbox::Column::Status, new_status.into())
        .col_expr(
            outbox::Column::LeaseUntil,
            Option::<DateTime<Utc>>::None.into(),
        )
        .col_expr(
            outbox::Column::NextAttemptAt,
            (now + policy.delay(claimed.attempts)).into(),
        )
        .col_expr(
            outbox::Column::LastError,
            Some(truncate(error, 2000)).into(),
        )
        .col_expr(outbox::Column::UpdatedAt, now.into())
        .filter(outbox::Column::Id.eq(claimed.id))
        .filter(outbox::Column::Status.eq(status::SENDING))
        .filter(outbox::Column::Attempts.eq(claimed.attempts))
        .exec(conn)
        .await?;
    Ok(new_status)
}

/// Puts a sent or dead row back in the queue (an approver's 再送), attempts reset.
pub async fn requeue<C: ConnectionTrait>(
    conn: &C,
    id: i64,
    now: DateTime<Utc>,
) -> Result<outbox::Model> {
    let row = outbox::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| Error::Invalid(format!("送信記録（ID {id}）が見つかりません")))?;
    if row.status == status::SENDING || row.status == status::QUEUED {
        return Err(Error::Invalid(
            "送信待ち・送信中のメールは再送できません".to_owned(),
        ));
    }
    let mut active: outbox::ActiveModel = row.into();
    active.status = Set(status::QUEUED.to_owned());
    active.attempts = Set(0);
    active.next_attempt_at = Set(now);
    active.lease_until = Set(None);
    active.updated_at = Set(now);
    Ok(active.update(conn).await?)
}

/// The bureau's latest `limit` messages, newest first (the delivery log, 送信記録).
pub async fn recent<C: ConnectionTrait>(
    conn: &C,
    bureau_id: &str,
    limit: u64,
) -> Result<Vec<outbox::Model>> {
    use sea_orm::{QueryOrder, QuerySelect};
    Ok(outbox::Entity::find()
        .filter(outbox::Column::BureauId.eq(bureau_id))
        .order_by_desc(outbox::Column::Id)
        .limit(limit)
        .all(conn)
        .await?)
}

/// The message with this id.
pub async fn find<C: ConnectionTrait>(conn: &C, id: i64) -> Result<Option<outbox::Model>> {
    Ok(outbox::Entity::find_by_id(id).one(conn).await?)
}

/// [`requeue`] with its audit entry, in one transaction (再送).
pub async fn resend(
    db: &sea_orm::DatabaseConnection,
    row: &outbox::Model,
    actor: &crate::audit::Actor,
) -> Result<outbox::Model> {
    use sea_orm::TransactionTrait;
    let txn = db.begin().await?;
    let before = serde_json::json!({ "status": row.status, "attempts": row.attempts });
    let after = requeue(&txn, row.id, Utc::now()).await?;
    crate::audit::record(
        &txn,
        actor,
        "outbox.resend",
        "outbox",
        row.id,
        Some(before),
        Some(serde_json::json!({ "status": after.status, "attempts": after.attempts })),
    )
    .await?;
    txn.commit().await?;
    Ok(after)
}

/// Makes a queued message due now (今すぐ送信), audited as `outbox.send_now`: after SMTP
/// came back, an operator need not wait for the backoff. Only a `queued` row can be
/// brought forward; a sent or dead one is resent with [`resend`] instead.
pub async fn send_now(
    db: &sea_orm::DatabaseConnection,
    row: &outbox::Model,
    actor: &crate::audit::Actor,
) -> Result<outbox::Model> {
    use sea_orm::TransactionTrait;
    let txn = db.begin().await?;
    let now = Utc::now();
    let changed = outbox::Entity::update_many()
        .col_expr(outbox::Column::NextAttemptAt, now.into())
        .col_expr(outbox::Column::UpdatedAt, now.into())
        .filter(outbox::Column::Id.eq(row.id))
        .filter(outbox::Column::Status.eq(status::QUEUED))
        .exec(&txn)
        .await?
        .rows_affected;
    if changed != 1 {
        txn.rollback().await?;
        return Err(Error::Invalid(format!(
            "このメール（ID {}）は送信待ちではないため、今すぐ送信できません（送信済・送信不能のメールは「再送」を使います）",
            row.id
        )));
    }
    crate::audit::record(
        &txn,
        actor,
        "outbox.send_now",
        "outbox",
        row.id,
        Some(serde_json::json!({ "next_attempt_at": row.next_attempt_at })),
        Some(serde_json::json!({ "next_attempt_at": now })),
    )
    .await?;
    let after = find(&txn, row.id).await?.ok_or(Error::NotFound)?;
    txn.commit().await?;
    Ok(after)
}

fn truncate(s: &str, max_chars: usize) -> String {
    s.chars().take(max_chars).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_delay_doubles_and_is_capped() {
        let p = RetryPolicy::default();
        assert_eq!(p.delay(1), TimeDelta::minutes(1));
        assert_eq!(p.delay(2), TimeDelta::minutes(2));
        assert_eq!(p.delay(4), TimeDelta::minutes(8));
        assert_eq!(p.delay(30), TimeDelta::hours(6));
        assert_eq!(p.delay(0), TimeDelta::minutes(1));
    }
}
