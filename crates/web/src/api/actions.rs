//! `POST /api/v1/requests/{id}/{action}`: one action on a case, through the lifecycle's
//! guarded change with the version the caller read.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use uketsuke_domain::today_in_japan;
use uketsuke_store::lifecycle::{self, Action, Command};
use utoipa::ToSchema;

use super::cases::{Case, load};
use super::{ApiError, ApiUser};
use crate::state::AppState;

/// The body of an action.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct ActionBody {
    /// The case's version as last read (required).
    pub version: Option<i32>,
    /// 返戻・未指定・無効化の理由.
    pub reason: Option<String>,
    /// 郡市区番号 for `propose` (default: the one suggested from the registry).
    pub district: Option<String>,
    /// For `propose` on a case judged 返戻相当: the reasons were read.
    pub acknowledge_return: Option<bool>,
    /// For `void`: which number (default: the case's only live number).
    pub number_id: Option<i32>,
    /// For `link`: the other kind's case of the same facility (医科・歯科併設).
    pub sibling_id: Option<i32>,
    /// For `transitional`: the day the 経過措置 届出 was filed (default: today).
    pub filed_on: Option<String>,
}

/// Act on a case: `propose`, `approve`, `answer`, `return`, `withdraw`, `void`,
/// `not-designated`, `link` (with `sibling_id`: 医科・歯科併設), `unlink`; for the
/// 導入計画書 (別紙2): `confirm-plan` (確認済にする), `transitional` (経過措置 届出, with
/// `filed_on`) or `clear-transitional`.
#[utoipa::path(
    post,
    path = "/api/v1/requests/{id}/{action}",
    operation_id = "act_on_request",
    params(
        ("id" = i32, Path, description = "The case's id"),
        ("action" = String, Path, description = "propose | approve | answer | return | withdraw | void | not-designated | link | unlink | confirm-plan | transitional | clear-transitional"),
    ),
    request_body = ActionBody,
    responses(
        (status = 200, description = "The case after the action", body = Case),
        (status = 401, description = "APIトークンがないか、無効", body = super::ErrorBody),
        (status = 403, description = "役割が足りない", body = super::ErrorBody),
        (status = 404, description = "見つからない（他局・他事務所の案件を含む）", body = super::ErrorBody),
        (status = 409, description = "他の職員が先に処理しました", body = super::ErrorBody),
        (status = 422, description = "入力の誤り、または状態から許されない処理", body = super::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn act(
    State(state): State<AppState>,
    user: ApiUser,
    Path((id, action)): Path<(i32, String)>,
    Json(body): Json<ActionBody>,
) -> Result<Json<Case>, ApiError> {
    let version = body.version;
    match action.as_str() {
        "unlink" => return run(&state, &user, id, version, Command::Unlink).await,
        "confirm-plan" => return run(&state, &user, id, version, Command::ConfirmPlan).await,
        "clear-transitional" => {
            return run(&state, &user, id, version, Command::ClearTransitional).await;
        }
        "transitional" => {
            let today = today_in_japan();
            let on = match body.filed_on.as_deref() {
                Some(text) => uketsuke_domain::parse_plan_date(text)
                    .map_err(|e| ApiError::field("filed_on", format!("届出日：{e}")))?,
                None => today,
            };
            return run(
                &state,
                &user,
                id,
                version,
                Command::RecordTransitional { on, today },
            )
            .await;
        }
        "link" => {
            let sibling_id = body.sibling_id.ok_or_else(|| {
                ApiError::field(
                    "sibling_id",
                    "関連付ける依頼の id（sibling_id）を指定してください",
                )
            })?;
            return run(&state, &user, id, version, Command::Link { sibling_id }).await;
        }
        _ => {}
    }
    let action = Action::parse(&action)
        .filter(|a| {
            matches!(
                a,
                Action::Propose
                    | Action::Approve
                    | Action::Answer
                    | Action::Return
                    | Action::Withdraw
                    | Action::Void
                    | Action::NotDesignated
            )
        })
        .ok_or_else(ApiError::not_found)?;
    let version = body
        .version
        .ok_or_else(|| ApiError::field("version", "案件の版（version）を指定してください"))?;
    let today = today_in_japan();
    let reason = body.reason.clone().unwrap_or_default();
    let command = match action {
        Action::Propose => {
            let district = match body.district.as_deref() {
                Some(text) => crate::actions::parse_district(text).ok_or_else(|| {
                    ApiError::field(
                        "district",
                        format!("郡市区番号は 00〜99 の数字です（{text}）"),
                    )
                })?,
                None => suggested_district(&state, &user, id).await?,
            };
            Command::Propose {
                district,
                acknowledge_return: body.acknowledge_return.unwrap_or(false),
                policy: state.numbering,
            }
        }
        Action::Approve => Command::Approve,
        Action::Answer => Command::Answer { on: today },
        Action::Return => Command::Return { reason, on: today },
        Action::Withdraw => Command::Withdraw { on: today, reason },
        Action::NotDesignated => Command::NotDesignated { reason },
        _ => {
            let number_id = match body.number_id {
                Some(n) => n,
                None => {
                    let view = load(&state, &user, id).await?;
                    let live: Vec<_> = view.numbers.iter().filter(|n| n.status.is_live()).collect();
                    match live.as_slice() {
                        [one] => one.id,
                        [] => {
                            return Err(ApiError::new(
                                StatusCode::UNPROCESSABLE_ENTITY,
                                "無効にできる受付番号がありません",
                            ));
                        }
                        _ => {
                            return Err(ApiError::field(
                                "number_id",
                                "有効な番号が複数あります。number_id で指定してください",
                            ));
                        }
                    }
                }
            };
            Command::Void { number_id, reason }
        }
    };
    run(&state, &user, id, Some(version), command).await
}

/// Runs a command with the version the caller read (required) and answers the case.
async fn run(
    state: &AppState,
    user: &ApiUser,
    id: i32,
    version: Option<i32>,
    command: Command,
) -> Result<Json<Case>, ApiError> {
    let version = version
        .ok_or_else(|| ApiError::field("version", "案件の版（version）を指定してください"))?;
    lifecycle::apply(&state.db, &user.caller(), id, Some(version), &command).await?;
    Ok(Json(super::cases::full(state, user, id).await?))
}

/// The 郡市区番号 suggested from the registry for a case's address.
async fn suggested_district(state: &AppState, user: &ApiUser, id: i32) -> Result<u8, ApiError> {
    let view = load(state, user, id).await?;
    let prefecture = uketsuke_domain::Prefecture::parse(&view.prefecture)
        .map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()))?;
    uketsuke_store::issuance::suggest_district(&state.db, prefecture, &view.case.facility_address)
        .await?
        .ok_or_else(|| {
            ApiError::field(
                "district",
                "郡市区番号を既存の医療機関から推定できませんでした。district で指定してください",
            )
        })
}
