//! Number issuance (受付番号の交付): the next free 医療機関番号 in a (prefecture, 点数表,
//! 郡市区番号). "Taken" means anything in the registry of existing codes and anything
//! ever issued here, voided numbers included, so a number is never given twice.
//!
//! Each issuance is one transaction: read what is taken, pick the next usable number by
//! the rules (`uketsuke_rules::numbering`), insert it with its audit entry, commit. Two
//! issuances racing for the same number are stopped by the unique index on
//! (prefecture, fee_schedule, district, serial); the loser simply tries again with a
//! fresh view, so concurrent clerks always get distinct numbers on SQLite and PostgreSQL.

use std::collections::BTreeSet;
use std::time::Duration;

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QuerySelect, Set, TransactionTrait,
};
use serde_json::json;
use uketsuke_domain::{FeeSchedule, InstitutionCode, Prefecture};
use uketsuke_rules::numbering::{self, NumberingPolicy};

use crate::audit::{self, Actor};
use crate::entities::{issued_number, registry_code};
use crate::error::is_retryable;
use crate::{Error, Result};

/// How often a colliding issuance is retried before giving up.
const MAX_ATTEMPTS: u32 = 200;

pub use crate::lifecycle::NumberStatus;

/// Where to issue: the district of a prefecture, for one 点数表.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct District {
    pub prefecture: Prefecture,
    pub fee_schedule: FeeSchedule,
    /// 郡市区番号, 0–99.
    pub number: u8,
}

/// What to record with the number.
#[derive(Debug, Clone)]
pub struct IssueOptions {
    /// The request the number answers, if any (the CLI may issue without one).
    pub request_id: Option<i32>,
    /// [`NumberStatus::Proposed`] or [`NumberStatus::Approved`].
    pub status: NumberStatus,
}

/// The serials (医療機関番号) already taken in a district for one 点数表.
pub async fn taken_serials<C: ConnectionTrait>(
    conn: &C,
    district: District,
) -> Result<BTreeSet<u16>> {
    let pref = district.prefecture.code_str();
    let fee = district.fee_schedule.digit().to_string();
    let number = i16::from(district.number);
    let registry: Vec<i16> = registry_code::Entity::find()
        .select_only()
        .column(registry_code::Column::Serial)
        .filter(registry_code::Column::Prefecture.eq(pref.as_str()))
        .filter(registry_code::Column::FeeSchedule.eq(fee.as_str()))
        .filter(registry_code::Column::District.eq(number))
        .into_tuple()
        .all(conn)
        .await?;
    let issued: Vec<i16> = issued_number::Entity::find()
        .select_only()
        .column(issued_number::Column::Serial)
        .filter(issued_number::Column::Prefecture.eq(pref.as_str()))
        .filter(issued_number::Column::FeeSchedule.eq(fee.as_str()))
        .filter(issued_number::Column::District.eq(number))
        .into_tuple()
        .all(conn)
        .await?;
    Ok(registry
        .into_iter()
        .chain(issued)
        .filter_map(|s| u16::try_from(s).ok())
        .collect())
}

/// The code that the next issuance in `district` would give, without issuing it.
pub async fn peek_next<C: ConnectionTrait>(
    conn: &C,
    district: District,
    policy: &NumberingPolicy,
) -> Result<InstitutionCode> {
    let taken = taken_serials(conn, district).await?;
    let serial = numbering::next_free_serial(district.fee_schedule, &taken, policy)
        .ok_or_else(|| exhausted(district))?;
    Ok(InstitutionCode::build(
        district.prefecture,
        district.fee_schedule,
        district.number,
        serial,
        false,
    )?)
}

/// Issues the next free number in `district`, in a transaction of its own (the command
/// line, the demo). A case's numbers are issued by the lifecycle's guarded change.
pub async fn issue(
    db: &DatabaseConnection,
    district: District,
    policy: &NumberingPolicy,
    options: &IssueOptions,
    actor: &Actor,
) -> Result<issued_number::Model> {
    retrying(|| async {
        let txn = db.begin().await?;
        let row = issue_in(&txn, district, policy, options, actor).await?;
        txn.commit().await?;
        Ok(row)
    })
    .await
}

/// [`issue`] inside the caller's transaction (which retries on a collision).
pub async fn issue_in<C: ConnectionTrait>(
    conn: &C,
    district: District,
    policy: &NumberingPolicy,
    options: &IssueOptions,
    actor: &Actor,
) -> Result<issued_number::Model> {
    lock_district(conn, district).await?;
    let taken = taken_serials(conn, district).await?;
    let serial = numbering::next_free_serial(district.fee_schedule, &taken, policy)
        .ok_or_else(|| exhausted(district))?;
    let code = InstitutionCode::build(
        district.prefecture,
        district.fee_schedule,
        district.number,
        serial,
        false,
    )?;
    insert_number(conn, &code, false, options, actor).await
}

/// Approves a proposed number (決裁) inside the caller's transaction: it becomes
/// final. The lifecycle checks who may approve and moves the case.
pub async fn approve_in<C: ConnectionTrait>(
    conn: &C,
    row: issued_number::Model,
    actor: &Actor,
) -> Result<issued_number::Model> {
    if row.status != NumberStatus::Proposed {
        return Err(Error::NotAllowed(format!(
            "受付番号 {} は起案中ではありません",
            row.code
        )));
    }
    let before = serde_json::to_value(&row).ok();
    let mut active: issued_number::ActiveModel = row.into();
    active.status = Set(NumberStatus::Approved);
    active.approved_by = Set(actor.user_id);
    active.approved_at = Set(Some(Utc::now()));
    let row = active.update(conn).await?;
    audit::record(
        conn,
        actor,
        "number.approve",
        "issued_number",
        row.id,
        before,
        serde_json::to_value(&row).ok(),
    )
    .await?;
    Ok(row)
}

/// Voids a number (無効): it stays taken for ever.
pub async fn void(
    db: &DatabaseConnection,
    id: i32,
    reason: &str,
    actor: &Actor,
) -> Result<issued_number::Model> {
    let txn = db.begin().await?;
    let row = void_in(&txn, id, reason, actor).await?;
    txn.commit().await?;
    Ok(row)
}

/// [`void`] inside the caller's transaction.
pub async fn void_in<C: ConnectionTrait>(
    conn: &C,
    id: i32,
    reason: &str,
    actor: &Actor,
) -> Result<issued_number::Model> {
    let Some(row) = issued_number::Entity::find_by_id(id).one(conn).await? else {
        return Err(Error::Invalid(format!(
            "受付番号（ID {id}）が見つかりません"
        )));
    };
    if row.status == NumberStatus::Void {
        return Err(Error::Invalid(format!(
            "受付番号 {} は既に無効です",
            row.code
        )));
    }
    let before = serde_json::to_value(&row).ok();
    let mut active: issued_number::ActiveModel = row.into();
    active.status = Set(NumberStatus::Void);
    active.voided_at = Set(Some(Utc::now()));
    active.void_reason = Set(Some(reason.to_owned()));
    let row = active.update(conn).await?;
    audit::record(
        conn,
        actor,
        "number.void",
        "issued_number",
        row.id,
        before,
        serde_json::to_value(&row).ok(),
    )
    .await?;
    Ok(row)
}

/// Suggests the 郡市区番号 for a facility at `address`: the district most used by the
/// registry's existing facilities in the same municipality. Staff confirm it.
pub async fn suggest_district<C: ConnectionTrait>(
    conn: &C,
    prefecture: Prefecture,
    address: &str,
) -> Result<Option<u8>> {
    let Some(municipality) = numbering::municipality_of(address) else {
        return Ok(None);
    };
    // Counted by the database (an index-only scan of the covering index of migration
    // 6): a large city has thousands of registry codes.
    let rows: Vec<(Option<String>, i16, i64)> = registry_code::Entity::find()
        .select_only()
        .column(registry_code::Column::Municipality)
        .column(registry_code::Column::District)
        .column_as(sea_orm::sea_query::Expr::cust("COUNT(*)"), "n")
        .filter(registry_code::Column::Prefecture.eq(prefecture.code_str()))
        .filter(registry_code::Column::Municipality.eq(municipality.as_str()))
        .group_by(registry_code::Column::Municipality)
        .group_by(registry_code::Column::District)
        .into_tuple()
        .all(conn)
        .await?;
    let counts: Vec<(String, u8, usize)> = rows
        .into_iter()
        .filter_map(|(m, d, n)| Some((m?, u8::try_from(d).ok()?, usize::try_from(n).ok()?)))
        .collect();
    Ok(numbering::suggest_district_counted(
        &municipality,
        counts.iter().map(|(m, d, n)| (m.as_str(), *d, *n)),
    ))
}

/// The 郡市区番号 of a prefecture as the registry knows them, each with the
/// municipalities its codes lie in, the most frequent first: the choices offered when
/// a clerk proposes a number and no district could be suggested.
pub async fn districts_of<C: ConnectionTrait>(
    conn: &C,
    prefecture: Prefecture,
) -> Result<Vec<(u8, Vec<String>)>> {
    let rows: Vec<(Option<String>, i16, i64)> = registry_code::Entity::find()
        .select_only()
        .column(registry_code::Column::Municipality)
        .column(registry_code::Column::District)
        .column_as(sea_orm::sea_query::Expr::cust("COUNT(*)"), "n")
        .filter(registry_code::Column::Prefecture.eq(prefecture.code_str()))
        .group_by(registry_code::Column::Municipality)
        .group_by(registry_code::Column::District)
        .into_tuple()
        .all(conn)
        .await?;
    let mut by_district: std::collections::BTreeMap<u8, Vec<(i64, String)>> =
        std::collections::BTreeMap::new();
    for (municipality, district, n) in rows {
        let Ok(district) = u8::try_from(district) else {
            continue;
        };
        let entry = by_district.entry(district).or_default();
        if let Some(m) = municipality {
            entry.push((n, m));
        }
    }
    Ok(by_district
        .into_iter()
        .map(|(district, mut ms)| {
            ms.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
            (district, ms.into_iter().map(|(_, m)| m).collect())
        })
        .collect())
}

/// On PostgreSQL, serialises issuers of one district with a transaction-scoped advisory
/// lock, so concurrent clerks queue instead of colliding and retrying. (SQLite has one
/// writer at a time anyway.) The unique index stays the guard either way.
async fn lock_district<C: ConnectionTrait>(conn: &C, district: District) -> Result<()> {
    if conn.get_database_backend() != sea_orm::DbBackend::Postgres {
        return Ok(());
    }
    // A stable key: 1, then prefecture, 点数表 and district as decimal digits.
    let key = 1_000_000_i64
        + i64::from(district.prefecture.code()) * 10_000
        + i64::from(district.fee_schedule.digit()) * 1_000
        + i64::from(district.number);
    conn.execute_raw(sea_orm::Statement::from_sql_and_values(
        sea_orm::DbBackend::Postgres,
        "SELECT pg_advisory_xact_lock($1)",
        [key.into()],
    ))
    .await?;
    Ok(())
}

async fn insert_number<C: ConnectionTrait>(
    conn: &C,
    code: &InstitutionCode,
    combined_dental: bool,
    options: &IssueOptions,
    actor: &Actor,
) -> Result<issued_number::Model> {
    let now = Utc::now();
    let row = issued_number::ActiveModel {
        request_id: Set(options.request_id),
        prefecture: Set(code.prefecture().code_str()),
        fee_schedule: Set(code.fee_schedule().digit().to_string()),
        district: Set(i16::from(code.district())),
        serial: Set(small(code.serial())?),
        check_digit: Set(i16::from(code.check_digit())),
        code: Set(code.to_string()),
        combined_dental: Set(combined_dental),
        status: Set(options.status),
        proposed_by: Set(actor.user_id),
        approved_by: Set(if options.status == NumberStatus::Approved {
            actor.user_id
        } else {
            None
        }),
        approved_at: Set(if options.status == NumberStatus::Approved {
            Some(now)
        } else {
            None
        }),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    audit::record(
        conn,
        actor,
        "number.issue",
        "issued_number",
        row.id,
        None,
        Some(json!({ "code": row.code, "status": row.status.as_str(), "request_id": row.request_id })),
    )
    .await?;
    Ok(row)
}

fn small(serial: u16) -> Result<i16> {
    i16::try_from(serial).map_err(|_| Error::Invalid(format!("医療機関番号 {serial} は範囲外です")))
}

fn exhausted(district: District) -> Error {
    Error::NumbersExhausted {
        prefecture: district.prefecture.name().to_owned(),
        fee_schedule: district.fee_schedule.digit(),
        district: district.number,
    }
}

/// Runs `attempt` until it succeeds or fails for a reason other than a collision with a
/// concurrent issuance (a unique violation, or SQLite's busy lock).
pub(crate) async fn retrying<T, F, Fut>(mut attempt: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    for n in 1..=MAX_ATTEMPTS {
        match attempt().await {
            Err(Error::Db(e)) if is_retryable(&e) => {
                tracing::debug!(attempt = n, "issuance collided; retrying");
                tokio::time::sleep(backoff(n)).await;
            }
            other => return other,
        }
    }
    Err(Error::Contention {
        attempts: MAX_ATTEMPTS,
    })
}

/// A short, jittered pause that grows with the attempt number (at most ~50 ms).
pub(crate) fn backoff(attempt: u32) -> Duration {
    let jitter = u64::from(Utc::now().timestamp_subsec_nanos() % 1000);
    Duration::from_micros((u64::from(attempt.min(10)) * 5_000).saturating_add(jitter * 5))
}
