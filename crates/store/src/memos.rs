//! A case's memos (メモ: 電話連絡など): append-only, each with its author and time,
//! written with an audit entry in one transaction. A memo changes nothing about the case,
//! so it needs no version: two people writing at once both keep theirs, listed in the
//! order they were stored. Neither the text nor any of the case's personal data reaches
//! the logs.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, Set, TransactionTrait,
};

use crate::entities::{case_memo, reception_request};
use crate::error::is_retryable;
use crate::lifecycle::{Caller, Scope};
use crate::users::Role;
use crate::{Error, Result, audit};

/// The longest memo, in characters.
pub const MAX_CHARS: usize = 2000;

/// How often a write that collided with another writer (SQLite's busy snapshot) is tried.
const MAX_ATTEMPTS: u32 = 50;

/// Case `id` if `scope` may see it.
pub(crate) async fn case_in_scope<C: ConnectionTrait>(
    conn: &C,
    scope: &Scope,
    id: i32,
) -> Result<reception_request::Model> {
    reception_request::Entity::find_by_id(id)
        .one(conn)
        .await?
        .filter(|c| scope.permits(c))
        .ok_or(Error::NotFound)
}

/// Refuses a caller below `role`, naming what they tried.
pub(crate) fn require(caller: &Caller, role: Role, what: &str) -> Result<()> {
    if caller.role < role {
        return Err(Error::Forbidden(format!(
            "{what}には「{}」以上の権限が必要です",
            role.label()
        )));
    }
    Ok(())
}

/// Checks a memo's text: not empty, at most [`MAX_CHARS`] characters.
pub fn check_text(text: &str) -> Result<String> {
    let text = text.trim();
    if text.is_empty() {
        return Err(Error::Field {
            field: "memo",
            message: "メモの内容を入力してください".to_owned(),
        });
    }
    let n = text.chars().count();
    if n > MAX_CHARS {
        return Err(Error::Field {
            field: "memo",
            message: format!("メモは{MAX_CHARS}字以内にしてください（{n}字あります）"),
        });
    }
    Ok(text.to_owned())
}

/// Adds a memo to case `case_id` (担当 or above, within the caller's scope).
pub async fn add(
    db: &DatabaseConnection,
    caller: &Caller,
    case_id: i32,
    text: &str,
) -> Result<case_memo::Model> {
    require(caller, Role::Clerk, "メモの追加")?;
    let text = check_text(text)?;
    for attempt in 1..=MAX_ATTEMPTS {
        match add_once(db, caller, case_id, &text).await {
            Err(Error::Db(e)) if is_retryable(&e) => {
                tracing::debug!(attempt, "memo write collided; trying again");
                tokio::time::sleep(std::time::Duration::from_millis(u64::from(
                    attempt.min(10) * 3,
                )))
                .await;
            }
            other => return other,
        }
    }
    Err(Error::Conflict)
}

async fn add_once(
    db: &DatabaseConnection,
    caller: &Caller,
    case_id: i32,
    text: &str,
) -> Result<case_memo::Model> {
    let txn = db.begin().await?;
    let case = case_in_scope(&txn, &caller.scope, case_id).await?;
    let memo = case_memo::ActiveModel {
        request_id: Set(case.id),
        author_user_id: Set(caller.actor.user_id),
        author: Set(caller.actor.name.clone()),
        body: Set(text.to_owned()),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    // The trail says that a memo was written and how long it is; the text is on the case.
    audit::record(
        &txn,
        &caller.actor,
        "request.memo",
        "reception_request",
        case.id,
        None,
        Some(serde_json::json!({ "memo_id": memo.id, "memo_chars": text.chars().count() })),
    )
    .await?;
    txn.commit().await?;
    Ok(memo)
}

/// The memos of case `case_id` (within `scope`), oldest first.
pub async fn list<C: ConnectionTrait>(
    conn: &C,
    scope: &Scope,
    case_id: i32,
) -> Result<Vec<case_memo::Model>> {
    case_in_scope(conn, scope, case_id).await?;
    Ok(case_memo::Entity::find()
        .filter(case_memo::Column::RequestId.eq(case_id))
        .order_by_asc(case_memo::Column::Id)
        .all(conn)
        .await?)
}
