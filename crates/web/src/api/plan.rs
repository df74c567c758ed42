//! `GET|POST /api/v1/requests/{id}/plan`: a case's 「オンライン資格確認の導入計画書」
//! (別紙2) — the latest plan with the check's findings now, and a new submission as JSON
//! (the items by number, as `uketsuke import --json` prints them), through the
//! lifecycle's guarded change like every other change of a case.

use axum::Json;
use axum::extract::{Path, State};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uketsuke_domain::Plan;
use uketsuke_store::lifecycle::{self, Command, plan_label};
use uketsuke_store::plans::{self, PlanSource, PlanSubmission};
use utoipa::ToSchema;

use super::cases::load;
use super::{ApiError, ApiUser, FieldError};
use crate::state::AppState;

/// One finding of the check.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FindingJson {
    /// The item, 1–13.
    pub item: u8,
    pub message: String,
}

/// One submission, newest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SubmissionJson {
    pub id: i32,
    pub submitted_at: DateTime<Utc>,
    /// `upload`, `form` or `api`.
    pub source: String,
    pub file_name: Option<String>,
    /// How many findings it had when submitted.
    pub findings_when_submitted: usize,
}

/// A case's plan.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PlanJson {
    pub request_id: i32,
    /// The case's version (send it back with a submission).
    pub version: i32,
    /// `none`, `deficient`, `submitted`, `confirmed` or `transitional`.
    pub plan_status: String,
    pub plan_status_label: String,
    pub transitional_filed_on: Option<NaiveDate>,
    /// The latest plan's items by number ("1" … "13"), or null when none was submitted.
    #[schema(value_type = Object)]
    pub items: Option<serde_json::Value>,
    /// The check of the latest plan against the case, now.
    pub findings: Vec<FindingJson>,
    pub submissions: Vec<SubmissionJson>,
}

/// A submission.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct PlanBody {
    /// The case's version as last read (required).
    pub version: Option<i32>,
    /// The items by number: `{"1": {"name": …, "postal_code": …, "address": …}, "3":
    /// "done", "5": {"status": "contracted", "month": 3}, "9": "ip_vpn", "13":
    /// "2026-04-01", …}`; choices may be written as printed (済み, イ, IP-VPN) and dates
    /// in 和暦.
    #[schema(value_type = Object)]
    pub items: serde_json::Value,
}

async fn plan_json(state: &AppState, user: &ApiUser, id: i32) -> Result<PlanJson, ApiError> {
    let view = load(state, user, id).await?;
    let case = &view.case;
    let submissions = plans::submissions(&state.db, id).await?;
    let latest = submissions.first();
    let (status, label) = plan_label(case.plan_status, case.transitional_filed_on.is_some());
    Ok(PlanJson {
        request_id: id,
        version: case.lock_version,
        plan_status: status.to_owned(),
        plan_status_label: label.to_owned(),
        transitional_filed_on: case.transitional_filed_on,
        items: latest.map(|s| s.plan.to_json()),
        findings: latest
            .map(|s| plans::findings(&s.plan, case))
            .unwrap_or_default()
            .into_iter()
            .map(|f| FindingJson {
                item: f.item,
                message: f.message,
            })
            .collect(),
        submissions: submissions
            .iter()
            .map(|s| SubmissionJson {
                id: s.row.id,
                submitted_at: s.row.submitted_at,
                source: s.row.source.clone(),
                file_name: s.row.file_name.clone(),
                findings_when_submitted: s.row.findings.as_array().map_or(0, Vec::len),
            })
            .collect(),
    })
}

/// The case's latest plan (別紙2) with the check's findings now, and every submission.
#[utoipa::path(
    get,
    path = "/api/v1/requests/{id}/plan",
    operation_id = "show_plan",
    params(("id" = i32, Path, description = "The case's id")),
    responses(
        (status = 200, description = "The plan", body = PlanJson),
        (status = 401, description = "APIトークンがないか、無効", body = super::ErrorBody),
        (status = 404, description = "見つからない（他局・他事務所の案件を含む）", body = super::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn show(
    State(state): State<AppState>,
    user: ApiUser,
    Path(id): Path<i32>,
) -> Result<Json<PlanJson>, ApiError> {
    Ok(Json(plan_json(&state, &user, id).await?))
}

/// Submit a plan (別紙2) for the case: it becomes the latest (the earlier ones are
/// kept), and the case's plan status follows the check (不備あり or 確認待ち).
#[utoipa::path(
    post,
    path = "/api/v1/requests/{id}/plan",
    operation_id = "submit_plan",
    params(("id" = i32, Path, description = "The case's id")),
    request_body = PlanBody,
    responses(
        (status = 200, description = "The plan after the submission", body = PlanJson),
        (status = 401, description = "APIトークンがないか、無効", body = super::ErrorBody),
        (status = 403, description = "役割が足りない", body = super::ErrorBody),
        (status = 404, description = "見つからない（他局・他事務所の案件を含む）", body = super::ErrorBody),
        (status = 409, description = "他の職員が先に処理しました", body = super::ErrorBody),
        (status = 422, description = "読み取れない項目、または状態から許されない", body = super::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn submit(
    State(state): State<AppState>,
    user: ApiUser,
    Path(id): Path<i32>,
    Json(body): Json<PlanBody>,
) -> Result<Json<PlanJson>, ApiError> {
    let version = body
        .version
        .ok_or_else(|| ApiError::field("version", "案件の版（version）を指定してください"))?;
    let plan = Plan::from_json(&body.items).map_err(|errors| {
        ApiError::fields(
            errors
                .into_iter()
                .map(|e| FieldError {
                    field: if e.item == 0 {
                        "items".to_owned()
                    } else {
                        format!("items.{}", e.item)
                    },
                    message: if e.item == 0 {
                        e.message
                    } else {
                        format!(
                            "{}：{}",
                            uketsuke_domain::plan_item_label(e.item),
                            e.message
                        )
                    },
                })
                .collect(),
        )
    })?;
    let command = Command::SubmitPlan(Box::new(PlanSubmission {
        plan,
        source: PlanSource::Api,
        file_name: None,
    }));
    lifecycle::apply(&state.db, &user.caller(), id, Some(version), &command).await?;
    Ok(Json(plan_json(&state, &user, id).await?))
}
