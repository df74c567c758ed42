//! `/api/v1/requests/{id}/memos`: a case's memos (電話連絡など) — read them, or append
//! one — through the same store function as the case page.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{ApiError, ApiUser};
use crate::state::AppState;

/// A memo.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Memo {
    pub id: i32,
    /// Who wrote it (user name; through the API with the token's label).
    pub author: String,
    pub created_at: DateTime<Utc>,
    pub text: String,
}

/// The memos of a case, oldest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MemoList {
    pub memos: Vec<Memo>,
}

/// A memo to add.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct NewMemo {
    /// The text (up to 2000 characters).
    pub text: String,
}

fn memo(m: uketsuke_store::entities::case_memo::Model) -> Memo {
    Memo {
        id: m.id,
        author: m.author,
        created_at: m.created_at,
        text: m.body,
    }
}

#[utoipa::path(
    get,
    path = "/api/v1/requests/{id}/memos",
    operation_id = "list_memos",
    params(("id" = i32, Path, description = "The case's id")),
    responses(
        (status = 200, description = "OK", body = MemoList),
        (status = 401, description = "APIトークンがないか、無効", body = super::ErrorBody),
        (status = 404, description = "見つからない（他局・他事務所の案件を含む）", body = super::ErrorBody),
    ),
    security(("bearer" = []))
)]
#[tracing::instrument(skip_all, fields(user_id = user.user.id, request_id = id))]
pub async fn list(
    State(state): State<AppState>,
    user: ApiUser,
    Path(id): Path<i32>,
) -> Result<Json<MemoList>, ApiError> {
    let memos = uketsuke_store::memos::list(&state.db, &user.scope(), id).await?;
    Ok(Json(MemoList {
        memos: memos.into_iter().map(memo).collect(),
    }))
}

#[utoipa::path(
    post,
    path = "/api/v1/requests/{id}/memos",
    operation_id = "add_memo",
    params(("id" = i32, Path, description = "The case's id")),
    request_body = NewMemo,
    responses(
        (status = 201, description = "Created", body = Memo),
        (status = 401, description = "APIトークンがないか、無効", body = super::ErrorBody),
        (status = 403, description = "役割が足りない", body = super::ErrorBody),
        (status = 404, description = "見つからない（他局・他事務所の案件を含む）", body = super::ErrorBody),
        (status = 422, description = "入力の誤り", body = super::ErrorBody),
    ),
    security(("bearer" = []))
)]
#[tracing::instrument(skip_all, fields(user_id = user.user.id, request_id = id))]
pub async fn add(
    State(state): State<AppState>,
    user: ApiUser,
    Path(id): Path<i32>,
    Json(body): Json<NewMemo>,
) -> Result<Response, ApiError> {
    let m = uketsuke_store::memos::add(&state.db, &user.caller(), id, &body.text)
        .await
        .map_err(|e| match e {
            uketsuke_store::Error::Field { message, .. } => ApiError::field("text", message),
            other => other.into(),
        })?;
    Ok((StatusCode::CREATED, Json(memo(m))).into_response())
}
