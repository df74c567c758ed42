//! Council sessions (地方社会保険医療協議会, 地医協): a bureau's sessions with how many
//! cases each approved, the cases that may be recorded as approved, and recording a
//! session (once per bureau, prefecture and day) with its audit entry.

use std::collections::HashMap;

use chrono::{NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, TransactionTrait,
};

use crate::Result;
use crate::audit::{self, Actor};
use crate::entities::{council_list, council_session, office, reception_request};
use crate::lifecycle::CaseStatus;

/// A session with the number of cases it approved.
#[derive(Debug, Clone)]
pub struct SessionSummary {
    pub session: council_session::Model,
    pub approved: usize,
}

/// The bureau's sessions, latest first, each with the cases it approved.
pub async fn sessions<C: ConnectionTrait>(db: &C, bureau_id: &str) -> Result<Vec<SessionSummary>> {
    let sessions = council_session::Entity::find()
        .filter(council_session::Column::BureauId.eq(bureau_id))
        .order_by_desc(council_session::Column::HeldOn)
        .all(db)
        .await?;
    let designated = reception_request::Entity::find()
        .filter(reception_request::Column::BureauId.eq(bureau_id))
        .filter(reception_request::Column::CouncilSessionId.is_not_null())
        .all(db)
        .await?;
    let mut approved: HashMap<i32, usize> = HashMap::new();
    for r in &designated {
        if let Some(s) = r.council_session_id {
            *approved.entry(s).or_default() += 1;
        }
    }
    Ok(sessions
        .into_iter()
        .map(|session| SessionSummary {
            approved: approved.get(&session.id).copied().unwrap_or(0),
            session,
        })
        .collect())
}

/// The bureau's cases that a council may approve now, by designation date.
pub async fn candidates<C: ConnectionTrait>(
    db: &C,
    bureau_id: &str,
) -> Result<Vec<reception_request::Model>> {
    Ok(reception_request::Entity::find()
        .filter(reception_request::Column::BureauId.eq(bureau_id))
        .filter(reception_request::Column::Status.is_in(CaseStatus::AWAITING_COUNCIL))
        .order_by_asc(reception_request::Column::DesignationDate)
        .all(db)
        .await?)
}

/// The first prefecture code of an office ("" when the office or its list is empty).
pub async fn office_prefecture<C: ConnectionTrait>(db: &C, office_id: i32) -> Result<String> {
    Ok(office::Entity::find_by_id(office_id)
        .one(db)
        .await?
        .and_then(|o| o.prefectures.split(',').next().map(str::to_owned))
        .unwrap_or_default())
}

/// A session to record.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub bureau_id: String,
    /// Two-digit prefecture code.
    pub prefecture: String,
    pub held_on: NaiveDate,
    pub name: String,
}

/// The bureau's session for that prefecture and day, created (with its audit entry,
/// in one transaction) when there is none yet.
pub async fn find_or_create(
    db: &DatabaseConnection,
    new: NewSession,
    actor: &Actor,
) -> Result<council_session::Model> {
    let existing = || {
        council_session::Entity::find()
            .filter(council_session::Column::BureauId.eq(&new.bureau_id))
            .filter(council_session::Column::Prefecture.eq(&new.prefecture))
            .filter(council_session::Column::HeldOn.eq(new.held_on))
            .one(db)
    };
    if let Some(found) = existing().await? {
        return Ok(found);
    }
    let txn = db.begin().await?;
    let inserted = council_session::ActiveModel {
        bureau_id: Set(new.bureau_id.clone()),
        prefecture: Set(new.prefecture.clone()),
        held_on: Set(new.held_on),
        name: Set(new.name.clone()),
        notes: Set(None),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&txn)
    .await;
    // Two people recording the same session at once: the unique index keeps one (and
    // its audit entry), and the other gets that one.
    let row = match inserted {
        Ok(row) => row,
        Err(e) if crate::error::is_unique_violation(&e) => {
            txn.rollback().await?;
            return existing().await?.ok_or(crate::Error::Conflict);
        }
        Err(e) => return Err(e.into()),
    };
    audit::record(
        &txn,
        actor,
        "council.create",
        "council_session",
        row.id,
        None,
        serde_json::to_value(&row).ok(),
    )
    .await?;
    txn.commit().await?;
    Ok(row)
}

/// The approved requests of `session_id` that no sent list holds yet, oldest first.
pub async fn unlisted<C: ConnectionTrait>(
    conn: &C,
    session_id: i32,
) -> Result<Vec<reception_request::Model>> {
    Ok(reception_request::Entity::find()
        .filter(reception_request::Column::CouncilSessionId.eq(session_id))
        .filter(reception_request::Column::Status.eq(CaseStatus::Designated))
        .filter(reception_request::Column::CouncilListId.is_null())
        .order_by_asc(reception_request::Column::Id)
        .all(conn)
        .await?)
}

/// The sessions that approved requests no sent list holds yet.
pub async fn sessions_with_unlisted<C: ConnectionTrait>(
    conn: &C,
) -> Result<Vec<council_session::Model>> {
    let ids: Vec<Option<i32>> = reception_request::Entity::find()
        .select_only()
        .column(reception_request::Column::CouncilSessionId)
        .distinct()
        .filter(reception_request::Column::CouncilSessionId.is_not_null())
        .filter(reception_request::Column::Status.eq(CaseStatus::Designated))
        .filter(reception_request::Column::CouncilListId.is_null())
        .into_tuple()
        .all(conn)
        .await?;
    Ok(council_session::Entity::find()
        .filter(council_session::Column::Id.is_in(ids.into_iter().flatten()))
        .order_by_asc(council_session::Column::HeldOn)
        .order_by_asc(council_session::Column::Id)
        .all(conn)
        .await?)
}

/// How many approved requests of the bureau (and office, when the scope has one) no sent
/// list holds yet, of sessions held before `today`: the dashboard's warning.
pub async fn unlisted_count<C: ConnectionTrait>(
    conn: &C,
    scope: &crate::lifecycle::Scope,
    today: NaiveDate,
) -> Result<u64> {
    use sea_orm::PaginatorTrait;
    let held: Vec<i32> = council_session::Entity::find()
        .select_only()
        .column(council_session::Column::Id)
        .filter(council_session::Column::BureauId.eq(scope.bureau_id.as_str()))
        .filter(council_session::Column::HeldOn.lt(today))
        .into_tuple()
        .all(conn)
        .await?;
    let mut query = reception_request::Entity::find()
        .filter(reception_request::Column::CouncilSessionId.is_in(held))
        .filter(reception_request::Column::Status.eq(CaseStatus::Designated))
        .filter(reception_request::Column::CouncilListId.is_null());
    if let Some(office) = scope.office_id {
        query = query.filter(reception_request::Column::OfficeId.eq(office));
    }
    Ok(query.count(conn).await?)
}

/// Records the next list of `session_id` holding `requests` (unlisted approvals read in
/// this transaction): the list's number within its session is unique and each request is
/// marked only while still unlisted, so of two exports at once one makes the list and the
/// other gets [`crate::Error::Conflict`] and must roll back.
pub async fn record_list<C: ConnectionTrait>(
    conn: &C,
    session_id: i32,
    requests: &[i32],
) -> Result<council_list::Model> {
    use sea_orm::sea_query::Expr;
    let last: Option<i32> = council_list::Entity::find()
        .select_only()
        .column_as(council_list::Column::Seq.max(), "seq")
        .filter(council_list::Column::SessionId.eq(session_id))
        .into_tuple()
        .one(conn)
        .await?
        .flatten();
    let list = council_list::ActiveModel {
        session_id: Set(session_id),
        seq: Set(last.unwrap_or(0) + 1),
        row_count: Set(i32::try_from(requests.len()).unwrap_or(i32::MAX)),
        outbox_id: Set(None),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(conn)
    .await
    .map_err(|e| {
        if crate::error::is_unique_violation(&e) {
            crate::Error::Conflict
        } else {
            e.into()
        }
    })?;
    let marked = reception_request::Entity::update_many()
        .col_expr(
            reception_request::Column::CouncilListId,
            Expr::value(list.id),
        )
        .filter(reception_request::Column::Id.is_in(requests.iter().copied()))
        .filter(reception_request::Column::CouncilListId.is_null())
        .exec(conn)
        .await?
        .rows_affected;
    if marked != requests.len() as u64 {
        return Err(crate::Error::Conflict);
    }
    Ok(list)
}

/// Records the mail that carries list `list_id`.
pub async fn set_list_mail<C: ConnectionTrait>(
    conn: &C,
    list_id: i32,
    outbox_id: i64,
) -> Result<()> {
    use sea_orm::sea_query::Expr;
    council_list::Entity::update_many()
        .col_expr(council_list::Column::OutboxId, Expr::value(outbox_id))
        .filter(council_list::Column::Id.eq(list_id))
        .exec(conn)
        .await?;
    Ok(())
}
