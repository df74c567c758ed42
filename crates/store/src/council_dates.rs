//! 地医協の開催予定日 kept by an administrator, per prefecture: add, move (edit) and
//! delete a planned session. A session already held, or one with a 答申 recorded or a
//! list sent, is history and cannot be changed here. Each change is audited in its own
//! transaction and applies only at the version the editor saw (`council_sessions.version`),
//! so of two administrators at once one wins and the other is told. A deleted or moved
//! date is remembered (`council_date_removals`) so that the configuration's published
//! dates (`[council_dates]`) do not plan it again at the next start.

use chrono::{NaiveDate, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set, TransactionTrait,
};

use crate::audit::{self, Actor};
use crate::entities::{council_date_removal, council_list, council_session, reception_request};
use crate::{Error, Result};

/// A planned date as the administrator enters it.
#[derive(Debug, Clone)]
pub struct PlannedDate {
    /// Two-digit prefecture code (one of the bureau's).
    pub prefecture: String,
    pub held_on: NaiveDate,
    /// Empty: 〇〇地方社会保険医療協議会.
    pub name: String,
}

/// A session of the bureau with whether it may still be changed.
#[derive(Debug, Clone)]
pub struct SessionRow {
    pub session: council_session::Model,
    /// 答申 recorded in it.
    pub approvals: u64,
    /// Lists sent for it.
    pub lists: u64,
    /// `None`: it may be edited and deleted; else why not.
    pub locked: Option<&'static str>,
}

fn field(field: &'static str, message: impl Into<String>) -> Error {
    Error::Field {
        field,
        message: message.into(),
    }
}

/// Why session `s` may no longer be changed on `today`, if it may not.
fn lock_reason(
    s: &council_session::Model,
    approvals: u64,
    lists: u64,
    today: NaiveDate,
) -> Option<&'static str> {
    if lists > 0 {
        Some("一覧表を送付済みのため変更できません")
    } else if approvals > 0 {
        Some("答申を記録済みのため変更できません")
    } else if s.held_on <= today {
        Some("開催済み（開催日を過ぎた）ため変更できません")
    } else {
        None
    }
}

async fn counts<C: ConnectionTrait>(conn: &C, session_id: i32) -> Result<(u64, u64)> {
    let approvals = reception_request::Entity::find()
        .filter(reception_request::Column::CouncilSessionId.eq(session_id))
        .count(conn)
        .await?;
    let lists = council_list::Entity::find()
        .filter(council_list::Column::SessionId.eq(session_id))
        .count(conn)
        .await?;
    Ok((approvals, lists))
}

/// The bureau's sessions from `from` on (with the prefectures in `prefectures`), by
/// date, each with whether it may still be changed on `today`.
pub async fn rows<C: ConnectionTrait>(
    conn: &C,
    bureau_id: &str,
    from: NaiveDate,
    today: NaiveDate,
) -> Result<Vec<SessionRow>> {
    let sessions = council_session::Entity::find()
        .filter(council_session::Column::BureauId.eq(bureau_id))
        .filter(council_session::Column::HeldOn.gte(from))
        .order_by_asc(council_session::Column::HeldOn)
        .order_by_asc(council_session::Column::Prefecture)
        .all(conn)
        .await?;
    let mut out = Vec::with_capacity(sessions.len());
    for session in sessions {
        let (approvals, lists) = counts(conn, session.id).await?;
        out.push(SessionRow {
            locked: lock_reason(&session, approvals, lists, today),
            session,
            approvals,
            lists,
        });
    }
    Ok(out)
}

/// Checks a planned date: the prefecture is one of the bureau's and the day is after
/// `today` (a date already come is a held session, recorded on the council page).
fn check(date: &PlannedDate, prefectures: &[String], today: NaiveDate) -> Result<()> {
    if !prefectures.contains(&date.prefecture) {
        return Err(field("prefecture", "都道府県を局の管轄から選んでください"));
    }
    if date.held_on <= today {
        return Err(field(
            "held_on",
            format!(
                "開催予定日（{}）は明日以降の日付にしてください（開催済みの回は地医協の画面で記録します）",
                uketsuke_domain::format_wareki(date.held_on)
            ),
        ));
    }
    if date.name.chars().count() > 100 {
        return Err(field("name", "名称は100字以内にしてください"));
    }
    Ok(())
}

fn name_of(date: &PlannedDate) -> String {
    match date.name.trim() {
        "" => crate::council::default_name(&date.prefecture),
        n => n.to_owned(),
    }
}

fn duplicate(date: &PlannedDate) -> Error {
    field(
        "held_on",
        format!(
            "{}の{}は既に登録されています",
            uketsuke_domain::Prefecture::parse(&date.prefecture)
                .map(|p| p.name().to_owned())
                .unwrap_or_default(),
            uketsuke_domain::format_wareki(date.held_on)
        ),
    )
}

/// Adds a planned session of `bureau_id`.
pub async fn add(
    db: &DatabaseConnection,
    bureau_id: &str,
    prefectures: &[String],
    date: &PlannedDate,
    actor: &Actor,
    today: NaiveDate,
) -> Result<council_session::Model> {
    check(date, prefectures, today)?;
    let txn = db.begin().await?;
    let inserted = council_session::ActiveModel {
        bureau_id: Set(bureau_id.to_owned()),
        prefecture: Set(date.prefecture.clone()),
        held_on: Set(date.held_on),
        name: Set(name_of(date)),
        notes: Set(None),
        created_at: Set(Utc::now()),
        version: Set(0),
        ..Default::default()
    }
    .insert(&txn)
    .await;
    let row = match inserted {
        Ok(row) => row,
        Err(e) if crate::error::is_unique_violation(&e) => return Err(duplicate(date)),
        Err(e) => return Err(e.into()),
    };
    audit::record(
        &txn,
        actor,
        "council.plan",
        "council_session",
        row.id,
        None,
        serde_json::to_value(&row).ok(),
    )
    .await?;
    txn.commit().await?;
    Ok(row)
}

/// Reads session `id` of the bureau for a change at `version`: refused when it is not
/// the bureau's (not found), was changed meanwhile (conflict) or is history.
async fn for_change<C: ConnectionTrait>(
    conn: &C,
    bureau_id: &str,
    prefectures: &[String],
    id: i32,
    version: i32,
    today: NaiveDate,
) -> Result<council_session::Model> {
    let Some(found) = council_session::Entity::find_by_id(id)
        .lock_exclusive()
        .one(conn)
        .await?
    else {
        // Deleted by someone else since the page showed it: they were first.
        let deleted = crate::entities::audit_log::Entity::find()
            .filter(crate::entities::audit_log::Column::Entity.eq("council_session"))
            .filter(crate::entities::audit_log::Column::EntityId.eq(id.to_string()))
            .filter(crate::entities::audit_log::Column::Action.eq("council.delete"))
            .one(conn)
            .await?
            .is_some_and(|e| {
                e.before
                    .as_ref()
                    .and_then(|b| b.get("bureau_id"))
                    .and_then(|b| b.as_str())
                    == Some(bureau_id)
            });
        return Err(if deleted {
            Error::Conflict
        } else {
            Error::NotFound
        });
    };
    let session = Some(found)
        .filter(|s| s.bureau_id == bureau_id && prefectures.contains(&s.prefecture))
        .ok_or(Error::NotFound)?;
    if session.version != version {
        return Err(Error::Conflict);
    }
    let (approvals, lists) = counts(conn, id).await?;
    if let Some(reason) = lock_reason(&session, approvals, lists, today) {
        return Err(Error::NotAllowed(format!(
            "{}（{}）は{reason}",
            session.name,
            uketsuke_domain::format_wareki(session.held_on)
        )));
    }
    Ok(session)
}

/// Remembers that `s`'s date was removed, so the configuration does not plan it again.
async fn remember_removal<C: ConnectionTrait>(
    conn: &C,
    s: &council_session::Model,
    actor: &Actor,
) -> Result<()> {
    let exists = council_date_removal::Entity::find()
        .filter(council_date_removal::Column::BureauId.eq(&s.bureau_id))
        .filter(council_date_removal::Column::Prefecture.eq(&s.prefecture))
        .filter(council_date_removal::Column::HeldOn.eq(s.held_on))
        .one(conn)
        .await?
        .is_some();
    if !exists {
        council_date_removal::ActiveModel {
            bureau_id: Set(s.bureau_id.clone()),
            prefecture: Set(s.prefecture.clone()),
            held_on: Set(s.held_on),
            removed_by: Set(actor.name.clone()),
            removed_at: Set(Utc::now()),
            ..Default::default()
        }
        .insert(conn)
        .await?;
    }
    Ok(())
}

/// How often a change that collided with another writer (SQLite's busy lock) is tried.
const MAX_ATTEMPTS: u32 = 50;

/// Runs `once` again while it collides with another writer (never on a conflict).
async fn retrying<T, F, Fut>(mut once: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    for attempt in 1..=MAX_ATTEMPTS {
        match once().await {
            Err(Error::Db(e)) if crate::error::is_retryable(&e) => {
                tracing::debug!(attempt, "council date change collided; trying again");
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

/// Moves or renames planned session `id` (of one of `prefectures`), seen at `version`.
#[allow(clippy::too_many_arguments)]
pub async fn edit(
    db: &DatabaseConnection,
    bureau_id: &str,
    prefectures: &[String],
    id: i32,
    version: i32,
    date: &PlannedDate,
    actor: &Actor,
    today: NaiveDate,
) -> Result<council_session::Model> {
    check(date, prefectures, today)?;
    retrying(|| edit_once(db, bureau_id, prefectures, id, version, date, actor, today)).await
}

#[allow(clippy::too_many_arguments)]
async fn edit_once(
    db: &DatabaseConnection,
    bureau_id: &str,
    prefectures: &[String],
    id: i32,
    version: i32,
    date: &PlannedDate,
    actor: &Actor,
    today: NaiveDate,
) -> Result<council_session::Model> {
    let txn = db.begin().await?;
    let before = for_change(&txn, bureau_id, prefectures, id, version, today).await?;
    let done = council_session::Entity::update_many()
        .col_expr(
            council_session::Column::Prefecture,
            Expr::value(date.prefecture.clone()),
        )
        .col_expr(council_session::Column::HeldOn, Expr::value(date.held_on))
        .col_expr(council_session::Column::Name, Expr::value(name_of(date)))
        .col_expr(council_session::Column::Version, Expr::value(version + 1))
        .filter(council_session::Column::Id.eq(id))
        .filter(council_session::Column::Version.eq(version))
        .exec(&txn)
        .await;
    match done {
        Ok(r) if r.rows_affected == 1 => {}
        Ok(_) => return Err(Error::Conflict),
        Err(e) if crate::error::is_unique_violation(&e) => return Err(duplicate(date)),
        Err(e) => return Err(e.into()),
    }
    if before.held_on != date.held_on || before.prefecture != date.prefecture {
        remember_removal(&txn, &before, actor).await?;
    }
    let after = council_session::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(Error::NotFound)?;
    audit::record(
        &txn,
        actor,
        "council.edit",
        "council_session",
        id,
        serde_json::to_value(&before).ok(),
        serde_json::to_value(&after).ok(),
    )
    .await?;
    txn.commit().await?;
    Ok(after)
}

/// Deletes planned session `id` (of one of `prefectures`), seen at `version`.
pub async fn delete(
    db: &DatabaseConnection,
    bureau_id: &str,
    prefectures: &[String],
    id: i32,
    version: i32,
    actor: &Actor,
    today: NaiveDate,
) -> Result<council_session::Model> {
    retrying(|| delete_once(db, bureau_id, prefectures, id, version, actor, today)).await
}

async fn delete_once(
    db: &DatabaseConnection,
    bureau_id: &str,
    prefectures: &[String],
    id: i32,
    version: i32,
    actor: &Actor,
    today: NaiveDate,
) -> Result<council_session::Model> {
    let txn = db.begin().await?;
    let before = for_change(&txn, bureau_id, prefectures, id, version, today).await?;
    let done = council_session::Entity::delete_many()
        .filter(council_session::Column::Id.eq(id))
        .filter(council_session::Column::Version.eq(version))
        .exec(&txn)
        .await
        .map_err(|e| {
            // A 答申 recorded in it meanwhile (the foreign key holds it).
            if e.to_string().to_lowercase().contains("foreign key") {
                Error::Conflict
            } else {
                e.into()
            }
        })?;
    if done.rows_affected != 1 {
        return Err(Error::Conflict);
    }
    remember_removal(&txn, &before, actor).await?;
    audit::record(
        &txn,
        actor,
        "council.delete",
        "council_session",
        id,
        serde_json::to_value(&before).ok(),
        None,
    )
    .await?;
    txn.commit().await?;
    Ok(before)
}

/// Whether the date was deleted or moved by an administrator.
pub async fn was_removed<C: ConnectionTrait>(
    conn: &C,
    bureau_id: &str,
    prefecture: &str,
    held_on: NaiveDate,
) -> Result<bool> {
    Ok(council_date_removal::Entity::find()
        .filter(council_date_removal::Column::BureauId.eq(bureau_id))
        .filter(council_date_removal::Column::Prefecture.eq(prefecture))
        .filter(council_date_removal::Column::HeldOn.eq(held_on))
        .one(conn)
        .await?
        .is_some())
}
