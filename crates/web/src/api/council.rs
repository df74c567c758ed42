//! `/api/v1/council-sessions` (地医協の答申) and `/api/v1/deliveries` (送信記録).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uketsuke_domain::{Prefecture, format_wareki, parse_date};
use uketsuke_store::lifecycle::{self, Command};
use uketsuke_store::users::Role;
use uketsuke_store::views;
use utoipa::ToSchema;

use super::{ApiError, ApiUser, FieldError};
use crate::state::AppState;
use uketsuke_domain::today_in_japan;

/// A council session to record, with the cases it approved.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct NewSession {
    /// 都道府県コード of the council (one of the bureau's prefectures).
    pub prefecture: String,
    /// 開催日 (any date notation).
    pub held_on: String,
    /// Default: 〇〇地方社会保険医療協議会.
    pub name: Option<String>,
    /// The cases it approved (答申); each must be 番号交付済 or 回答済.
    pub request_ids: Vec<i32>,
}

/// A case the session could not record.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Refused {
    pub id: i32,
    pub message: String,
}

/// A council session.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Session {
    pub id: i32,
    pub prefecture: String,
    pub held_on: NaiveDate,
    pub name: String,
    /// The cases it approved.
    pub approved: Vec<i32>,
    /// Cases of this request that were not recorded, and why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub refused: Vec<Refused>,
}

async fn session_json(
    state: &AppState,
    user: &ApiUser,
    id: i32,
    refused: Vec<Refused>,
) -> Result<Session, ApiError> {
    let (s, approved) = views::council_session(&state.db, &user.user.bureau_id, id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(Session {
        id: s.id,
        prefecture: s.prefecture,
        held_on: s.held_on,
        name: s.name,
        approved: approved
            .iter()
            .filter(|r| user.scope().permits(r))
            .map(|r| r.id)
            .collect(),
        refused,
    })
}

/// Record a council session and the cases it approved (決裁).
#[utoipa::path(
    post,
    path = "/api/v1/council-sessions",
    operation_id = "create_council_session",
    request_body = NewSession,
    responses(
        (status = 201, description = "作成しました", body = Session),
        (status = 401, description = "APIトークンがないか、無効", body = super::ErrorBody),
        (status = 403, description = "役割が足りない", body = super::ErrorBody),
        (status = 422, description = "入力の誤り、または状態から許されない処理", body = super::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn create(
    State(state): State<AppState>,
    user: ApiUser,
    Json(input): Json<NewSession>,
) -> Result<Response, ApiError> {
    user.require(Role::Approver)?;
    let mut problems = Vec::new();
    let held_on = match parse_date(input.held_on.trim()) {
        Ok(d) => Some(d),
        Err(e) => {
            problems.push(FieldError {
                field: "held_on".into(),
                message: e.to_string(),
            });
            None
        }
    };
    let bureau = state
        .bureau(&user.user.bureau_id)
        .ok_or_else(ApiError::not_found)?;
    let prefecture = input.prefecture.trim().to_owned();
    if !bureau.prefectures.contains(&prefecture) {
        problems.push(FieldError {
            field: "prefecture".into(),
            message: format!("都道府県コード「{prefecture}」はこの局の管轄ではありません"),
        });
    }
    let Some(held_on) = held_on.filter(|_| problems.is_empty()) else {
        return Err(ApiError::fields(problems));
    };
    let name = match input.name.as_deref().map(str::trim) {
        Some(n) if !n.is_empty() => n.to_owned(),
        _ => format!(
            "{}地方社会保険医療協議会",
            Prefecture::parse(&prefecture)
                .map(|p| p.short_name().to_owned())
                .unwrap_or_default()
        ),
    };
    let caller = user.caller();
    let session = uketsuke_store::council::find_or_create(
        &state.db,
        uketsuke_store::council::NewSession {
            bureau_id: bureau.id.clone(),
            prefecture: prefecture.clone(),
            held_on,
            name,
        },
        &caller.actor,
    )
    .await?;
    let mut refused = Vec::new();
    for id in input.request_ids {
        let command = Command::Designate {
            session_id: session.id,
        };
        if let Err(e) = lifecycle::apply(&state.db, &caller, id, None, &command).await {
            let e = ApiError::from(e);
            if e.status == StatusCode::INTERNAL_SERVER_ERROR {
                return Err(e);
            }
            refused.push(Refused {
                id,
                message: e.message,
            });
        }
    }
    let body = session_json(&state, &user, session.id, refused).await?;
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// Read a council session.
#[utoipa::path(
    get,
    path = "/api/v1/council-sessions/{id}",
    operation_id = "get_council_session",
    params(("id" = i32, Path, description = "The session's id")),
    responses(
        (status = 200, description = "OK", body = Session),
        (status = 401, description = "APIトークンがないか、無効", body = super::ErrorBody),
        (status = 404, description = "見つからない（他局・他事務所の案件を含む）", body = super::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn show(
    State(state): State<AppState>,
    user: ApiUser,
    Path(id): Path<i32>,
) -> Result<Json<Session>, ApiError> {
    Ok(Json(session_json(&state, &user, id, Vec::new()).await?))
}

/// The session's 新規指定医療機関一覧表 as .xlsx (nothing is sent).
#[utoipa::path(
    get,
    path = "/api/v1/council-sessions/{id}/list.xlsx",
    operation_id = "get_council_session_list_xlsx",
    params(("id" = i32, Path, description = "The session's id")),
    responses(
        (status = 200, description = "The .xlsx", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (status = 401, description = "APIトークンがないか、無効", body = super::ErrorBody),
        (status = 404, description = "見つからない（他局・他事務所の案件を含む）", body = super::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn list_xlsx(
    State(state): State<AppState>,
    user: ApiUser,
    Path(id): Path<i32>,
) -> Result<Response, ApiError> {
    let (session, _) = views::council_session(&state.db, &user.user.bureau_id, id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let bureau = state
        .bureau(&session.bureau_id)
        .ok_or_else(ApiError::not_found)?;
    let rows = views::council_rows(&state.db, &session).await?;
    let subtitle = format!("{}（{}）", session.name, format_wareki(session.held_on));
    let bytes =
        uketsuke_export::list_xlsx(&bureau.export, today_in_japan(), Some(&subtitle), &rows)
            .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    Ok((
        [
            (header::CONTENT_TYPE, uketsuke_export::XLSX_MIME.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"council-{id}.xlsx\""),
            ),
        ],
        bytes,
    )
        .into_response())
}

/// One mail of the delivery log.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Delivery {
    pub id: i64,
    pub kind: String,
    pub subject: String,
    pub recipients: Vec<String>,
    pub attachment: Option<String>,
    /// `queued`, `sending`, `sent` or `dead`.
    pub status: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

/// The delivery log of the token's bureau, newest first (200 at most).
#[utoipa::path(
    get,
    path = "/api/v1/deliveries",
    operation_id = "list_deliveries",
    responses(
        (status = 200, description = "OK", body = [Delivery]),
        (status = 401, description = "APIトークンがないか、無効", body = super::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn deliveries(
    State(state): State<AppState>,
    user: ApiUser,
) -> Result<Json<Vec<Delivery>>, ApiError> {
    let rows = views::deliveries(&state.db, &user.user.bureau_id, 200).await?;
    Ok(Json(
        rows.into_iter()
            .map(|r| Delivery {
                id: r.id,
                kind: r.kind,
                subject: r.subject,
                recipients: serde_json::from_value(r.recipients).unwrap_or_default(),
                attachment: r.attachment_name,
                status: r.status,
                attempts: r.attempts,
                last_error: r.last_error,
                created_at: r.created_at,
                sent_at: r.sent_at,
            })
            .collect(),
    ))
}
