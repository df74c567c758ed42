//! 「オンライン資格確認の導入計画書」 (別紙2) of a case: its submissions (every one kept,
//! the latest counts), the check against the case, and the changes — submit, 確認済,
//! 経過措置 届出 — which run inside [`crate::lifecycle::apply`] like every other change of
//! a case (version check, audit entry, history).
//!
//! Status of a case's plan (`reception_requests.plan_status`):
//!
//! | event | becomes |
//! |---|---|
//! | a plan submitted with findings | 不備あり (`deficient`) |
//! | a plan submitted without findings | 確認待ち (`submitted`) |
//! | 確認済にする (only with no findings now) | 確認済 (`confirmed`) |
//! | 経過措置 届出 recorded | shown as 経過措置 whatever the status; no plan needed |

use chrono::{NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter,
    QueryOrder, Set,
};
use serde_json::json;
use uketsuke_domain::Plan;
use uketsuke_rules::plan::{Finding, PlanCase, check};

use crate::audit::Actor;
use crate::entities::{plan_submission, reception_request};
use crate::lifecycle::{CaseStatus, PlanStatus};
use crate::{Error, Result};

/// How a plan came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanSource {
    /// A 別紙2 workbook uploaded on the case page.
    Upload,
    /// Typed into the case page's form.
    Form,
    /// `POST /api/v1/requests/{id}/plan`.
    Api,
}

impl PlanSource {
    pub fn as_str(self) -> &'static str {
        match self {
            PlanSource::Upload => "upload",
            PlanSource::Form => "form",
            PlanSource::Api => "api",
        }
    }

    pub fn label(s: &str) -> &'static str {
        match s {
            "upload" => "Excel（別紙2）の取込",
            "form" => "画面で入力",
            "api" => "API",
            _ => "",
        }
    }
}

/// A plan as submitted.
#[derive(Debug, Clone)]
pub struct PlanSubmission {
    pub plan: Plan,
    pub source: PlanSource,
    /// The uploaded file's name.
    pub file_name: Option<String>,
}

/// A stored submission, read back.
#[derive(Debug, Clone)]
pub struct StoredPlan {
    pub row: plan_submission::Model,
    pub plan: Plan,
}

/// What the check knows of `case`.
pub fn plan_case(case: &reception_request::Model) -> PlanCase<'_> {
    PlanCase {
        facility_name: &case.facility_name,
        facility_address: &case.facility_address,
        designation_date: case.designated_on.unwrap_or(case.designation_date),
        answered: matches!(case.status, CaseStatus::Answered | CaseStatus::Designated),
    }
}

/// The findings of `plan` for `case`, now.
pub fn findings(plan: &Plan, case: &reception_request::Model) -> Vec<Finding> {
    check(plan, Some(&plan_case(case)))
}

/// The submissions of a case, newest first.
pub async fn submissions<C: ConnectionTrait>(conn: &C, case_id: i32) -> Result<Vec<StoredPlan>> {
    let rows = plan_submission::Entity::find()
        .filter(plan_submission::Column::RequestId.eq(case_id))
        .order_by_desc(plan_submission::Column::Id)
        .all(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|row| StoredPlan {
            // Stored by us from a `Plan`: it reads back; anything else reads as empty.
            plan: Plan::from_json(&row.items).unwrap_or_default(),
            row,
        })
        .collect())
}

/// The latest submission of a case.
pub async fn latest<C: ConnectionTrait>(conn: &C, case_id: i32) -> Result<Option<StoredPlan>> {
    let row = plan_submission::Entity::find()
        .filter(plan_submission::Column::RequestId.eq(case_id))
        .order_by_desc(plan_submission::Column::Id)
        .one(conn)
        .await?;
    Ok(row.map(|row| StoredPlan {
        plan: Plan::from_json(&row.items).unwrap_or_default(),
        row,
    }))
}

/// Stores a submission as the case's latest and sets the status from its findings.
pub(crate) async fn submit(
    txn: &DatabaseTransaction,
    case: reception_request::Model,
    submission: &PlanSubmission,
    actor: &Actor,
) -> Result<reception_request::Model> {
    if case.transitional_filed_on.is_some() {
        return Err(Error::NotAllowed(
            "経過措置の届出が記録されているため、導入計画書は不要です（届出の記録を取り消してから提出してください）".to_owned(),
        ));
    }
    let found = findings(&submission.plan, &case);
    plan_submission::ActiveModel {
        request_id: Set(case.id),
        items: Set(submission.plan.to_json()),
        findings: Set(json!(found)),
        source: Set(submission.source.as_str().to_owned()),
        file_name: Set(submission.file_name.clone()),
        submitted_by: Set(actor.user_id),
        submitted_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    let status = if found.is_empty() {
        PlanStatus::Submitted
    } else {
        PlanStatus::Deficient
    };
    crate::requests::update_request(
        txn,
        case,
        "request.plan_submit",
        |r| r.plan_status = Set(status),
        actor,
    )
    .await
}

/// 確認済: the latest plan, checked again now, has no findings.
pub(crate) async fn confirm(
    txn: &DatabaseTransaction,
    case: reception_request::Model,
    actor: &Actor,
) -> Result<reception_request::Model> {
    if case.transitional_filed_on.is_some() {
        return Err(Error::NotAllowed(
            "経過措置の届出が記録されているため、導入計画書の確認は不要です".to_owned(),
        ));
    }
    if case.plan_status == PlanStatus::Confirmed {
        return Err(Error::NotAllowed("導入計画書は既に確認済です".to_owned()));
    }
    let Some(latest) = latest(txn, case.id).await? else {
        return Err(Error::NotAllowed(
            "導入計画書が提出されていないため、確認済にできません".to_owned(),
        ));
    };
    let found = findings(&latest.plan, &case);
    if !found.is_empty() {
        let list: Vec<String> = found.into_iter().map(|f| f.message).collect();
        return Err(Error::NotAllowed(format!(
            "導入計画書に不備があるため確認済にできません（{}）",
            list.join(" ／ ")
        )));
    }
    crate::requests::update_request(
        txn,
        case,
        "request.plan_confirm",
        |r| r.plan_status = Set(PlanStatus::Confirmed),
        actor,
    )
    .await
}

/// 経過措置 届出, filed on `on` (not after today).
pub(crate) async fn record_transitional(
    txn: &DatabaseTransaction,
    case: reception_request::Model,
    on: NaiveDate,
    today: NaiveDate,
    actor: &Actor,
) -> Result<reception_request::Model> {
    if let Some(d) = case.transitional_filed_on {
        return Err(Error::NotAllowed(format!(
            "経過措置の届出は既に記録されています（{}）",
            uketsuke_domain::format_wareki(d)
        )));
    }
    if on > today {
        return Err(Error::Field {
            field: "filed_on",
            message: format!(
                "届出日（{}）が今日より後になっています",
                uketsuke_domain::format_wareki(on)
            ),
        });
    }
    crate::requests::update_request(
        txn,
        case,
        "request.transitional_record",
        |r| r.transitional_filed_on = Set(Some(on)),
        actor,
    )
    .await
}

/// Clears the 経過措置 届出 (recorded in error, or withdrawn).
pub(crate) async fn clear_transitional(
    txn: &DatabaseTransaction,
    case: reception_request::Model,
    actor: &Actor,
) -> Result<reception_request::Model> {
    if case.transitional_filed_on.is_none() {
        return Err(Error::NotAllowed(
            "経過措置の届出は記録されていません".to_owned(),
        ));
    }
    crate::requests::update_request(
        txn,
        case,
        "request.transitional_clear",
        |r| r.transitional_filed_on = Set(None),
        actor,
    )
    .await
}
