//! `POST /api/v1/requests/bulk`: one action (`approve` or `answer`) on many cases, each
//! through the lifecycle's guarded change with its own version, answered per case —
//! the JSON door onto [`uketsuke_store::bulk`], as the list's bulk form is the page's.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use uketsuke_domain::today_in_japan;
use uketsuke_store::bulk::{self, Item, MAX_BULK};
use uketsuke_store::lifecycle::Command;
use utoipa::ToSchema;

use super::{ApiError, ApiUser};
use crate::state::AppState;

/// A case named in a bulk request, with the version the caller read (required).
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct BulkTarget {
    pub id: i32,
    pub version: Option<i32>,
}

/// The body of a bulk request.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct BulkBody {
    /// `approve` (決裁) or `answer` (回答済, today).
    pub action: String,
    pub ids: Vec<BulkTarget>,
}

/// What happened to one case.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BulkItemResult {
    pub id: i32,
    /// done | done_with_partner | conflict | forbidden | wrong_state | not_found | invalid | error
    pub result: &'static str,
    /// 成功 / 他の職員が先に処理 / 権限なし / 状態が違う / 見つかりません …
    pub label: &'static str,
    pub message: String,
    /// The case's version now (when the caller may see it).
    pub version: Option<i32>,
    pub status: Option<String>,
}

/// The answer: one entry per case named (duplicates once), in order.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BulkAnswer {
    pub succeeded: usize,
    pub results: Vec<BulkItemResult>,
}

/// Act on many cases at once: each case its own guarded change (version check,
/// audit); one case refused or changed meanwhile does not stop the others.
#[utoipa::path(
    post,
    path = "/api/v1/requests/bulk",
    operation_id = "act_on_requests_in_bulk",
    request_body = BulkBody,
    responses(
        (status = 200, description = "Per case what happened", body = BulkAnswer),
        (status = 401, description = "APIトークンがないか、無効", body = super::ErrorBody),
        (status = 403, description = "役割が足りない", body = super::ErrorBody),
        (status = 422, description = "入力の誤り", body = super::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn bulk(
    State(state): State<AppState>,
    user: ApiUser,
    Json(body): Json<BulkBody>,
) -> Result<Json<BulkAnswer>, ApiError> {
    let command = match body.action.as_str() {
        "approve" => Command::Approve,
        "answer" => Command::Answer {
            on: today_in_japan(),
        },
        other => {
            return Err(ApiError::field(
                "action",
                format!("「{other}」という一括処理はありません（approve・answer のいずれかです）"),
            ));
        }
    };
    if body.ids.is_empty() {
        return Err(ApiError::field(
            "ids",
            "処理する案件（ids）を指定してください",
        ));
    }
    if body.ids.len() > MAX_BULK {
        return Err(ApiError::field(
            "ids",
            format!(
                "一度に処理できるのは{MAX_BULK}件までです（{}件）",
                body.ids.len()
            ),
        ));
    }
    if let Some(t) = body.ids.iter().find(|t| t.version.is_none()) {
        return Err(ApiError::field(
            "ids",
            format!("受付ID {} の版（version）を指定してください", t.id),
        ));
    }
    let rule = command.action().rule();
    if user.role < rule.role {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            format!(
                "「{}」には「{}」以上の権限が必要です",
                rule.action.label(),
                rule.role.label()
            ),
        ));
    }
    let items: Vec<Item> = body
        .ids
        .iter()
        .map(|t| Item {
            id: t.id,
            version: t.version,
        })
        .collect();
    let results = bulk::apply_each(&state.db, &user.caller(), &items, &command).await?;
    let succeeded = results.iter().filter(|r| r.outcome.is_success()).count();
    let results: Vec<BulkItemResult> = results
        .into_iter()
        .map(|r| BulkItemResult {
            id: r.id,
            result: r.outcome.as_str(),
            label: r.outcome.label(),
            message: r.message,
            version: r.case.as_ref().map(|c| c.lock_version),
            status: r.case.as_ref().map(|c| c.status.as_str().to_owned()),
        })
        .collect();
    Ok(Json(BulkAnswer { succeeded, results }))
}
