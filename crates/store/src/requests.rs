//! Reception requests (受付): recording a request with its facility, in one transaction
//! with its audit entry, and the statuses a case moves through.

use chrono::{NaiveDate, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde_json::json;
use uketsuke_domain::{RequestKind, search_key};
use uketsuke_rules::deadlines::AnswerDue;

use crate::audit::{self, Actor};
use crate::entities::{facility, reception_request};
use crate::{Error, Result};

pub use crate::lifecycle::CaseStatus;

/// The facility of a new request.
#[derive(Debug, Clone)]
pub struct NewFacility {
    pub bureau_id: String,
    pub prefecture: String,
    pub name: String,
    pub name_search: String,
    pub postal_code: Option<String>,
    pub address: String,
    pub municipality: Option<String>,
    pub phone: Option<String>,
}

/// A facility row, ready to insert.
pub fn new_facility(f: &NewFacility) -> facility::ActiveModel {
    let now = Utc::now();
    facility::ActiveModel {
        bureau_id: Set(f.bureau_id.clone()),
        prefecture: Set(f.prefecture.clone()),
        name: Set(f.name.clone()),
        name_search: Set(f.name_search.clone()),
        postal_code: Set(f.postal_code.clone()),
        address: Set(f.address.clone()),
        municipality: Set(f.municipality.clone()),
        phone: Set(f.phone.clone()),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
}

/// The audit entry of a facility just created.
pub fn facility_created(
    actor: &Actor,
    row: &facility::Model,
) -> crate::entities::audit_log::ActiveModel {
    audit::entry(
        Utc::now(),
        actor,
        "facility.create",
        "facility",
        row.id,
        None,
        serde_json::to_value(row).ok(),
    )
}

/// Inserts a facility and audits it.
pub async fn insert_facility<C: ConnectionTrait>(
    conn: &C,
    f: &NewFacility,
    actor: &Actor,
) -> Result<facility::Model> {
    let row = new_facility(f).insert(conn).await?;
    facility_created(actor, &row).insert(conn).await?;
    Ok(row)
}

/// A request row (already assessed), stamped and at version 0, ready to insert.
pub fn new_request(request: reception_request::ActiveModel) -> reception_request::ActiveModel {
    let now = Utc::now();
    let mut request = request;
    request.created_at = Set(now);
    request.updated_at = Set(now);
    request.lock_version = Set(0);
    request
}

/// The audit entry of a request just created.
pub fn request_created(
    actor: &Actor,
    row: &reception_request::Model,
) -> crate::entities::audit_log::ActiveModel {
    audit::entry(
        Utc::now(),
        actor,
        "request.create",
        "reception_request",
        row.id,
        None,
        serde_json::to_value(row).ok(),
    )
}

/// Inserts a request (already assessed) and audits it.
pub async fn insert_request<C: ConnectionTrait>(
    conn: &C,
    request: reception_request::ActiveModel,
    actor: &Actor,
) -> Result<reception_request::Model> {
    let row = new_request(request).insert(conn).await?;
    request_created(actor, &row).insert(conn).await?;
    Ok(row)
}

/// Changes a request's status (and whatever else `change` sets), auditing before/after.
pub async fn update_request<C: ConnectionTrait>(
    conn: &C,
    before: reception_request::Model,
    action: &str,
    change: impl FnOnce(&mut reception_request::ActiveModel),
    actor: &Actor,
) -> Result<reception_request::Model> {
    let before_json = serde_json::to_value(&before).ok();
    let version = before.lock_version;
    let mut active: reception_request::ActiveModel = before.into();
    change(&mut active);
    active.lock_version = Set(version + 1);
    active.updated_at = Set(Utc::now());
    let row = active.update(conn).await?;
    audit::record(
        conn,
        actor,
        action,
        "reception_request",
        row.id,
        before_json,
        serde_json::to_value(&row).ok(),
    )
    .await?;
    Ok(row)
}

/// The facility and kind a new request is for, to look for a duplicate (重複).
#[derive(Debug, Clone)]
pub struct DuplicateProbe<'a> {
    pub bureau_id: &'a str,
    pub facility_name: &'a str,
    pub facility_address: &'a str,
    pub kind: RequestKind,
    pub designation: NaiveDate,
    /// The request itself, when checking one already saved.
    pub exclude_id: Option<i32>,
}

/// The key under which the database keeps one live request per facility, kind and
/// designation date: the SHA-256 of the name and the address folded for width, kana and
/// spaces.
pub fn dedupe_key(facility_name: &str, facility_address: &str) -> String {
    use sha2::{Digest, Sha256};
    let text = format!(
        "{}\n{}",
        search_key(facility_name),
        search_key(facility_address)
    );
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A live request (not returned or withdrawn) of the same facility and kind for the same
/// designation date: a duplicate staff must resolve. "The same facility" means the same
/// name and address once width, kana and spaces are folded.
pub async fn find_duplicate<C: ConnectionTrait>(
    conn: &C,
    probe: &DuplicateProbe<'_>,
) -> Result<Option<reception_request::Model>> {
    let live = || {
        reception_request::Entity::find()
            .filter(reception_request::Column::BureauId.eq(probe.bureau_id))
            .filter(reception_request::Column::Kind.eq(probe.kind))
            .filter(reception_request::Column::DesignationDate.eq(probe.designation))
            .filter(reception_request::Column::Status.is_not_in(CaseStatus::CLOSED_WITHOUT_NUMBER))
    };
    // By the key (one indexed look-up) …
    let keyed = live()
        .filter(
            reception_request::Column::DedupeKey
                .eq(dedupe_key(probe.facility_name, probe.facility_address)),
        )
        .all(conn)
        .await?;
    if let Some(found) = keyed.into_iter().find(|r| Some(r.id) != probe.exclude_id) {
        return Ok(Some(found));
    }
    // … and, for requests recorded before the key existed, by comparing names.
    let candidates = live()
        .filter(reception_request::Column::DedupeKey.is_null())
        .all(conn)
        .await?;
    let (name, address) = (
        search_key(probe.facility_name),
        search_key(probe.facility_address),
    );
    Ok(candidates.into_iter().find(|r| {
        Some(r.id) != probe.exclude_id
            && search_key(&r.facility_name) == name
            && search_key(&r.facility_address) == address
    }))
}

/// Overrides a request's 回答期限 with a recorded reason (kept in the row and the audit
/// trail). Returns the request and any warnings (e.g. the new date is a closed day).
pub async fn override_answer_due<C: ConnectionTrait>(
    conn: &C,
    request: reception_request::Model,
    date: NaiveDate,
    reason: &str,
    calendar: &uketsuke_rules::calendar::Calendar,
    actor: &Actor,
) -> Result<(reception_request::Model, Vec<String>)> {
    let due = AnswerDue::computed(calendar, request.designation_date)
        .with_override(date, reason)
        .map_err(|e| Error::Invalid(e.to_string()))?;
    let warnings = due.warnings(calendar);
    let reason = reason.trim().to_owned();
    let row = update_request(
        conn,
        request,
        "request.override_answer_due",
        |r| {
            r.answer_due_override = Set(Some(date));
            r.answer_due_override_reason = Set(Some(reason));
        },
        actor,
    )
    .await?;
    Ok((row, warnings))
}

/// A JSON array of texts, as stored in `reasons` and `warnings`.
pub fn texts(items: &[String]) -> serde_json::Value {
    json!(items)
}

/// A date as stored (`YYYY-MM-DD`), for messages.
pub fn iso(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}
