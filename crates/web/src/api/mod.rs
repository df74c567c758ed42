//! The JSON API (`/api/v1`): a second door onto the same case lifecycle as the pages,
//! with no rule of its own. A bureau's other tools (RPA, reporting, the 管理システム
//! side) read and drive cases with a bearer token (`uketsuke token create USERNAME`),
//! which acts with its user's role, bureau and office. No cookie is read here, so there
//! is no CSRF to guard against; every change goes through
//! [`uketsuke_store::lifecycle::apply`] and is audited under the user's name and the
//! token's label.
//!
//! Errors are `{"error": {"message": …, "fields": [{"field": …, "message": …}]}}` with
//! 401 (no or bad token), 403 (the role forbids), 404 (not found, or another bureau's
//! or office's), 409 (someone else changed the case first), 422 (bad input, or not
//! allowed from the case's status).

mod actions;
mod bulk;
mod cases;
mod council;
mod doc;
mod memos;
mod plan;
mod registry;

use axum::Json;
use axum::Router;
use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Serialize;
use uketsuke_store::lifecycle::{Caller, Scope};
use uketsuke_store::users::Role;
use utoipa::ToSchema;

use crate::state::AppState;

/// The API's routes, under `/api/v1`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/openapi.json", get(doc::openapi_json))
        .route("/api/v1/requests", get(cases::list).post(cases::create))
        .route(
            "/api/v1/requests/{id}",
            get(cases::show).patch(cases::correct),
        )
        .route("/api/v1/requests/bulk", post(bulk::bulk))
        .route(
            "/api/v1/requests/{id}/plan",
            get(plan::show).post(plan::submit),
        )
        .route(
            "/api/v1/requests/{id}/memos",
            get(memos::list).post(memos::add),
        )
        .route("/api/v1/requests/{id}/{action}", post(actions::act))
        .route("/api/v1/council-sessions", post(council::create))
        .route("/api/v1/council-sessions/{id}", get(council::show))
        .route(
            "/api/v1/council-sessions/{id}/approvals",
            post(council::add_approvals),
        )
        .route(
            "/api/v1/council-sessions/{id}/list.xlsx",
            get(council::list_xlsx),
        )
        .route(
            "/api/v1/council-sessions/{id}/lists/{seq}",
            get(council::sent_list),
        )
        .route("/api/v1/deliveries", get(council::deliveries))
        .route("/api/v1/registry/unconfirmed", get(registry::unconfirmed))
}

/// One field's problem.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FieldError {
    /// The JSON key.
    pub field: String,
    pub message: String,
}

/// The body of every error.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// What went wrong, in Japanese.
    pub message: String,
    /// The fields to fix, when the input was wrong.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldError>,
}

/// An API error: a status and a Japanese message.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    message: String,
    fields: Vec<FieldError>,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            fields: Vec::new(),
        }
    }

    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "APIトークンがないか、無効です（Authorization: Bearer …）",
        )
    }

    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "見つかりません")
    }

    /// 422 with the problems by field.
    pub fn fields(fields: Vec<FieldError>) -> Self {
        let message = fields
            .iter()
            .map(|f| format!("{}: {}", f.field, f.message))
            .collect::<Vec<_>>()
            .join(" / ");
        Self {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            message: format!("入力に誤りがあります: {message}"),
            fields,
        }
    }

    pub fn field(field: &str, message: impl Into<String>) -> Self {
        Self::fields(vec![FieldError {
            field: field.to_owned(),
            message: message.into(),
        }])
    }
}

impl From<uketsuke_store::Error> for ApiError {
    fn from(e: uketsuke_store::Error) -> Self {
        use uketsuke_store::Error as E;
        match e {
            E::NotFound => Self::not_found(),
            E::Forbidden(m) => Self::new(StatusCode::FORBIDDEN, m),
            E::Conflict => Self::new(StatusCode::CONFLICT, E::Conflict.to_string()),
            E::NotAllowed(m) | E::Invalid(m) => Self::new(StatusCode::UNPROCESSABLE_ENTITY, m),
            E::Field { field, message } => Self::field(field, message),
            e @ (E::NumbersExhausted { .. } | E::Contention { .. } | E::Domain(_)) => {
                Self::new(StatusCode::UNPROCESSABLE_ENTITY, e.to_string())
            }
            E::Db(e) => {
                tracing::error!(error = %e, "api request failed");
                Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "システムエラーが発生しました。時間をおいて再度お試しください。",
                )
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                message: self.message,
                fields: self.fields,
            },
        };
        let mut response = (self.status, Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
        }
        response
    }
}

/// The user a bearer token acts as.
#[derive(Debug, Clone)]
pub struct ApiUser {
    pub user: uketsuke_store::entities::user::Model,
    pub role: Role,
    pub token_label: String,
}

impl ApiUser {
    pub fn scope(&self) -> Scope {
        Scope {
            bureau_id: self.user.bureau_id.clone(),
            office_id: self.user.office_id,
        }
    }

    /// Who acts, for the lifecycle: the user, named with the token in the audit trail.
    pub fn caller(&self) -> Caller {
        let label = if self.token_label.is_empty() {
            "API".to_owned()
        } else {
            format!("API: {}", self.token_label)
        };
        Caller {
            actor: uketsuke_store::audit::Actor::user(
                self.user.id,
                &format!("{}（{label}）", self.user.username),
            ),
            role: self.role,
            scope: self.scope(),
        }
    }

    /// 403 unless the user has at least `role`.
    pub fn require(&self, role: Role) -> Result<(), ApiError> {
        if self.role >= role {
            Ok(())
        } else {
            Err(ApiError::new(
                StatusCode::FORBIDDEN,
                format!("この操作には「{}」以上の権限が必要です", role.label()),
            ))
        }
    }
}

impl<S> FromRequestParts<S> for ApiUser
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = AppState::from_ref(state);
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(ApiError::unauthorized)?;
        let (token, user) =
            uketsuke_store::tokens::authenticate(&state.db, token, chrono::Utc::now())
                .await?
                .ok_or_else(ApiError::unauthorized)?;
        let role = Role::parse(&user.role).map_err(|_| ApiError::unauthorized())?;
        Ok(ApiUser {
            user,
            role,
            token_label: token.label,
        })
    }
}
