//! `GET /api/v1/registry/unconfirmed`: reconciliation with the published registries
//! (公表名簿との照合) — our numbers whose 指定年月日 has passed and that the latest
//! imported list of their prefecture and 点数表 does not hold: candidates for
//! 「8. 未指定」, each with the case to open.

use axum::Json;
use axum::extract::State;
use chrono::NaiveDate;
use serde::Serialize;
use uketsuke_domain::today_in_japan;
use utoipa::ToSchema;

use super::{ApiError, ApiUser};
use crate::state::AppState;

/// A number absent from the latest published list.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UnconfirmedNumber {
    /// The case's id (`GET /api/v1/requests/{id}`).
    pub request_id: i32,
    /// The case in the API.
    pub case_url: String,
    /// The 10-digit code.
    pub code: String,
    pub facility_name: String,
    /// `medical`, `dental` or `pharmacy`.
    pub kind: String,
    /// The case's status (`issued`, `answered`, `designated`).
    pub status: String,
    /// 指定年月日 (the case's designation date).
    pub designation_date: NaiveDate,
    /// The receiving office's name, if any.
    pub office: Option<String>,
    /// The date of the latest list of the number's prefecture and 点数表.
    pub latest_list_on: NaiveDate,
    /// The file of that list.
    pub latest_list_source: String,
    /// An earlier list's date, when an earlier list held the number.
    pub designation_confirmed_on: Option<NaiveDate>,
}

/// The numbers to look at.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UnconfirmedList {
    pub items: Vec<UnconfirmedNumber>,
}

/// List the token's bureau's (and office's) numbers whose 指定年月日 has passed and that
/// the latest imported published list (名簿・コード内容別医療機関一覧表) does not hold:
/// candidates for 「8. 未指定」. Numbers of a prefecture and 点数表 no list covers yet
/// are not listed.
#[utoipa::path(
    get,
    path = "/api/v1/registry/unconfirmed",
    operation_id = "list_unconfirmed_numbers",
    responses(
        (status = 200, description = "OK", body = UnconfirmedList),
        (status = 401, description = "APIトークンがないか、無効", body = super::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn unconfirmed(
    State(state): State<AppState>,
    user: ApiUser,
) -> Result<Json<UnconfirmedList>, ApiError> {
    let rows =
        uketsuke_store::registry::unconfirmed(&state.db, &user.scope(), today_in_japan()).await?;
    Ok(Json(UnconfirmedList {
        items: rows
            .into_iter()
            .map(|u| UnconfirmedNumber {
                case_url: format!("/api/v1/requests/{}", u.request_id),
                request_id: u.request_id,
                code: u.code,
                facility_name: u.facility_name,
                kind: u.kind.as_str().to_owned(),
                status: u.status.as_str().to_owned(),
                designation_date: u.designation_date,
                office: u.office,
                latest_list_on: u.latest_list_on,
                latest_list_source: u.latest_list_source,
                designation_confirmed_on: u.designation_confirmed_on,
            })
            .collect(),
    }))
}
