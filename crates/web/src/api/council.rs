//! `/api/v1/council-sessions` (地医協の答申) and `/api/v1/deliveries` (送信記録).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uketsuke_domain::{format_wareki, parse_date};
use uketsuke_store::lifecycle::{self, Command};
use uketsuke_store::users::Role;
use uketsuke_store::views;
use utoipa::ToSchema;

use super::{ApiError, ApiUser, FieldError};
use crate::state::AppState;
use uketsuke_domain::today_in_japan;

/// One approval (答申) to record: the case and its 指定年月日.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct ApprovalInput {
    pub request_id: i32,
    /// 指定年月日 (any date notation); omitted or null: the case's 指定希望日.
    pub designation_date: Option<String>,
}

/// A council session to record — planned (no approvals) or with the cases it approved.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct NewSession {
    /// 都道府県コード of the council (one of the bureau's prefectures).
    pub prefecture: String,
    /// 開催日 (any date notation).
    pub held_on: String,
    /// Default: 〇〇地方社会保険医療協議会.
    pub name: Option<String>,
    /// The cases it approved (答申), each with its 指定年月日; empty for a planned session.
    /// Each must be 番号交付済 or 回答済, of the session's prefecture.
    pub approvals: Vec<ApprovalInput>,
    /// Older form of `approvals` (指定年月日 = 指定希望日).
    #[schema(deprecated)]
    pub request_ids: Vec<i32>,
}

/// Approvals to add to a session after it was recorded (a supplementary list follows
/// if its list was sent already).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct NewApprovals {
    pub approvals: Vec<ApprovalInput>,
}

/// A case the session could not record.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Refused {
    pub id: i32,
    pub message: String,
}

/// What became of one approval of the request.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApprovalResult {
    pub request_id: i32,
    /// Whether it was recorded.
    pub ok: bool,
    /// 指定年月日 recorded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub designation_date: Option<NaiveDate>,
    /// Why not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// An approval recorded in a session.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Approval {
    pub request_id: i32,
    /// 指定年月日.
    pub designation_date: Option<NaiveDate>,
    /// 答申済 until the 指定年月日, 指定済 from it.
    pub status_label: String,
    /// The list it went out in (1 first, 2 the 追加分1 …); null: not sent yet.
    pub list_seq: Option<i32>,
}

/// A list sent to the 実施機関 for the session.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SentList {
    pub seq: i32,
    pub row_count: i32,
    /// The mail carrying it (`/api/v1/deliveries`).
    pub outbox_id: Option<i64>,
    pub created_at: DateTime<Utc>,
}

/// A council session.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Session {
    pub id: i32,
    pub prefecture: String,
    pub held_on: NaiveDate,
    pub name: String,
    /// No 答申 recorded yet (開催予定, or held and not yet recorded).
    pub planned: bool,
    /// The cases it approved.
    pub approved: Vec<i32>,
    /// The approvals with their 指定年月日 and list.
    pub approvals: Vec<Approval>,
    /// The lists sent so far.
    pub lists: Vec<SentList>,
    /// For each approval of this request, whether it was recorded.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub results: Vec<ApprovalResult>,
    /// Cases of this request that were not recorded, and why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub refused: Vec<Refused>,
}

async fn session_json(
    state: &AppState,
    user: &ApiUser,
    id: i32,
    results: Vec<ApprovalResult>,
) -> Result<Session, ApiError> {
    let detail = uketsuke_store::council::detail(&state.db, &user.user.bureau_id, id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let today = today_in_japan();
    let scope = user.scope();
    let seen: Vec<_> = detail
        .approved
        .iter()
        .filter(|r| scope.permits(r))
        .collect();
    let seq_of = |list: i32| detail.lists.iter().find(|l| l.id == list).map(|l| l.seq);
    let s = &detail.session;
    Ok(Session {
        id: s.id,
        prefecture: s.prefecture.clone(),
        held_on: s.held_on,
        name: s.name.clone(),
        planned: detail.is_planned(),
        approved: seen.iter().map(|r| r.id).collect(),
        approvals: seen
            .iter()
            .map(|r| Approval {
                request_id: r.id,
                designation_date: r.designated_on,
                status_label: uketsuke_store::council::status_label(r, today).to_owned(),
                list_seq: r.council_list_id.and_then(seq_of),
            })
            .collect(),
        lists: detail
            .lists
            .iter()
            .map(|l| SentList {
                seq: l.seq,
                row_count: l.row_count,
                outbox_id: l.outbox_id,
                created_at: l.created_at,
            })
            .collect(),
        refused: results
            .iter()
            .filter(|r| !r.ok)
            .map(|r| Refused {
                id: r.request_id,
                message: r.message.clone().unwrap_or_default(),
            })
            .collect(),
        results,
    })
}

/// Reads the approvals' dates; a date that cannot be read refuses the whole request
/// (nothing is written).
fn read_approvals(
    approvals: &[ApprovalInput],
    problems: &mut Vec<FieldError>,
) -> Vec<(i32, Option<NaiveDate>)> {
    let mut out = Vec::new();
    for (i, a) in approvals.iter().enumerate() {
        let date = match a.designation_date.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(d) => match parse_date(d) {
                Ok(d) => Some(d),
                Err(e) => {
                    problems.push(FieldError {
                        field: format!("approvals[{i}].designation_date"),
                        message: format!("指定年月日「{d}」: {e}"),
                    });
                    None
                }
            },
        };
        out.push((a.request_id, date));
    }
    out
}

/// Records each approval through the lifecycle's guarded change.
async fn designate_all(
    state: &AppState,
    user: &ApiUser,
    session_id: i32,
    approvals: &[(i32, Option<NaiveDate>)],
) -> Result<Vec<ApprovalResult>, ApiError> {
    let caller = user.caller();
    let mut results = Vec::new();
    for (id, date) in approvals {
        let command = Command::Designate {
            session_id,
            designation_date: *date,
        };
        match lifecycle::apply(&state.db, &caller, *id, None, &command).await {
            Ok(case) => results.push(ApprovalResult {
                request_id: *id,
                ok: true,
                designation_date: case.designated_on,
                message: None,
            }),
            Err(e) => {
                let e = ApiError::from(e);
                if e.status == StatusCode::INTERNAL_SERVER_ERROR {
                    return Err(e);
                }
                results.push(ApprovalResult {
                    request_id: *id,
                    ok: false,
                    designation_date: None,
                    message: Some(e.message),
                });
            }
        }
    }
    Ok(results)
}

/// Record a council session — planned ahead (no approvals) or held, with the cases it
/// approved (決裁). The same prefecture and day give the same session.
#[utoipa::path(
    post,
    path = "/api/v1/council-sessions",
    operation_id = "create_council_session",
    request_body = NewSession,
    responses(
        (status = 201, description = "作成しました（または既存の回）。各答申の結果は results に", body = Session),
        (status = 401, description = "APIトークンがないか、無効", body = super::ErrorBody),
        (status = 403, description = "役割が足りない", body = super::ErrorBody),
        (status = 422, description = "入力の誤り（何も記録しません）", body = super::ErrorBody),
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
    let mut approvals = read_approvals(&input.approvals, &mut problems);
    approvals.extend(input.request_ids.iter().map(|id| (*id, None)));
    let Some(held_on) = held_on.filter(|_| problems.is_empty()) else {
        return Err(ApiError::fields(problems));
    };
    let name = match input.name.as_deref().map(str::trim) {
        Some(n) if !n.is_empty() => n.to_owned(),
        _ => uketsuke_store::council::default_name(&prefecture),
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
    let results = designate_all(&state, &user, session.id, &approvals).await?;
    let body = session_json(&state, &user, session.id, results).await?;
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// Add approvals (答申) to a recorded or planned session (決裁). Approvals added after
/// the session's list was sent go out in a supplementary list (追加分).
#[utoipa::path(
    post,
    path = "/api/v1/council-sessions/{id}/approvals",
    operation_id = "add_council_approvals",
    params(("id" = i32, Path, description = "The session's id")),
    request_body = NewApprovals,
    responses(
        (status = 200, description = "記録しました。各答申の結果は results に", body = Session),
        (status = 401, description = "APIトークンがないか、無効", body = super::ErrorBody),
        (status = 403, description = "役割が足りない", body = super::ErrorBody),
        (status = 404, description = "見つからない（他局の回を含む）", body = super::ErrorBody),
        (status = 422, description = "入力の誤り（何も記録しません）", body = super::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn add_approvals(
    State(state): State<AppState>,
    user: ApiUser,
    Path(id): Path<i32>,
    Json(input): Json<NewApprovals>,
) -> Result<Json<Session>, ApiError> {
    user.require(Role::Approver)?;
    uketsuke_store::council::detail(&state.db, &user.user.bureau_id, id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let mut problems = Vec::new();
    let approvals = read_approvals(&input.approvals, &mut problems);
    if approvals.is_empty() {
        problems.push(FieldError {
            field: "approvals".into(),
            message: "答申された依頼を1件以上指定してください".into(),
        });
    }
    if !problems.is_empty() {
        return Err(ApiError::fields(problems));
    }
    let results = designate_all(&state, &user, id, &approvals).await?;
    Ok(Json(session_json(&state, &user, id, results).await?))
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

/// A list sent to the 実施機関 for the session: the very file mailed (kept with the mail).
#[utoipa::path(
    get,
    path = "/api/v1/council-sessions/{id}/lists/{seq}",
    operation_id = "get_council_session_sent_list",
    params(
        ("id" = i32, Path, description = "The session's id"),
        ("seq" = i32, Path, description = "The list's number in its session (1 first, 2 the 追加分1 …)"),
    ),
    responses(
        (status = 200, description = "The .xlsx as mailed", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (status = 401, description = "APIトークンがないか、無効", body = super::ErrorBody),
        (status = 404, description = "見つからない（他局の回、まだ送付していない一覧表を含む）", body = super::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn sent_list(
    State(state): State<AppState>,
    user: ApiUser,
    Path((id, seq)): Path<(i32, i32)>,
) -> Result<Response, ApiError> {
    let detail = uketsuke_store::council::detail(&state.db, &user.user.bureau_id, id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    if user.user.office_id.is_some() {
        // An office account: its own prefectures' sessions only.
        let office = uketsuke_store::bureaus::find_office(
            &state.db,
            user.user.office_id.unwrap_or_default(),
        )
        .await?
        .map(|o| o.prefectures)
        .unwrap_or_default();
        if !office.split(',').any(|p| p == detail.session.prefecture) {
            return Err(ApiError::not_found());
        }
    }
    let mail = match detail
        .lists
        .iter()
        .find(|l| l.seq == seq)
        .and_then(|l| l.outbox_id)
    {
        Some(o) => uketsuke_store::outbox::find(&state.db, o).await?,
        None => None,
    }
    .ok_or_else(ApiError::not_found)?;
    let (Some(bytes), Some(name)) = (mail.attachment, mail.attachment_name) else {
        return Err(ApiError::not_found());
    };
    Ok((
        [
            (header::CONTENT_TYPE, uketsuke_export::XLSX_MIME.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                crate::view::content_disposition(&format!("council-{id}-{seq}.xlsx"), &name)
                    .to_str()
                    .unwrap_or("attachment")
                    .to_owned(),
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
