//! 地医協の開催予定日 (`/admin/council-dates`, 管理): an administrator keeps each
//! prefecture's planned council dates — add, move or rename, delete. A session already
//! held, with a 答申 recorded or a list sent, is shown but cannot be changed. Every form
//! carries the CSRF token, and an edit or delete the version it showed (two
//! administrators at once: one wins, the other is told 「他の職員が先に処理しました」).
//! The changes go through [`uketsuke_store::council_dates`], audited.

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Days;
use serde::Deserialize;
use uketsuke_domain::{Prefecture, format_wareki, parse_date, today_in_japan};
use uketsuke_store::Error as StoreError;
use uketsuke_store::council_dates::{self, PlannedDate};
use uketsuke_store::users::Role;

use crate::auth::CurrentUser;
use crate::error::Error;
use crate::layout::Layout;
use crate::state::AppState;

/// How far back the page lists sessions (held ones, for reference).
const SHOWN_DAYS_BACK: u64 = 62;

/// One session on the page.
pub struct Line {
    pub id: i32,
    pub version: i32,
    pub prefecture: String,
    pub prefecture_name: String,
    pub date: String,
    pub date_iso: String,
    pub name: String,
    /// Why it cannot be changed; empty when it can.
    pub locked: &'static str,
}

#[derive(Template, WebTemplate)]
#[template(path = "council_dates.html")]
pub struct DatesPage {
    layout: Layout,
    lines: Vec<Line>,
    prefectures: Vec<(String, String)>,
    error: Option<String>,
    notice: Option<String>,
}

/// The prefectures the administrator may plan for: the bureau's (only the office's for
/// an account limited to one), as (code, name).
async fn prefectures(state: &AppState, user: &CurrentUser) -> Result<Vec<(String, String)>, Error> {
    let office = crate::calendar::office_prefectures(state, user).await?;
    Ok(state
        .bureau(&user.user.bureau_id)
        .map(|b| b.prefectures.clone())
        .unwrap_or_default()
        .into_iter()
        .filter(|code| office.as_ref().is_none_or(|o| o.contains(code)))
        .filter_map(|code| {
            Prefecture::parse(&code)
                .ok()
                .map(|p| (p.code_str(), p.name().to_owned()))
        })
        .collect())
}

async fn page(
    state: &AppState,
    user: &CurrentUser,
    error: Option<String>,
    notice: Option<String>,
) -> Result<DatesPage, Error> {
    let today = today_in_japan();
    let from = today
        .checked_sub_days(Days::new(SHOWN_DAYS_BACK))
        .unwrap_or(today);
    let prefectures = prefectures(state, user).await?;
    let rows = council_dates::rows(&state.db, &user.user.bureau_id, from, today).await?;
    let lines = rows
        .into_iter()
        .filter(|r| prefectures.iter().any(|(c, _)| *c == r.session.prefecture))
        .map(|r| Line {
            id: r.session.id,
            version: r.session.version,
            prefecture_name: Prefecture::parse(&r.session.prefecture)
                .map_or(String::new(), |p| p.name().to_owned()),
            prefecture: r.session.prefecture,
            date: format_wareki(r.session.held_on),
            date_iso: r.session.held_on.format("%Y-%m-%d").to_string(),
            name: r.session.name,
            locked: r.locked.unwrap_or(""),
        })
        .collect();
    Ok(DatesPage {
        layout: Layout::signed_in(state, user),
        lines,
        prefectures,
        error,
        notice,
    })
}

/// `GET /admin/council-dates` (管理).
#[tracing::instrument(skip_all, fields(user_id = user.user.id))]
pub async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(query): Query<DoneQuery>,
) -> Result<DatesPage, Error> {
    user.require(Role::Admin)?;
    let notice = match query.done.as_str() {
        "add" => Some("開催予定日を登録しました。"),
        "edit" => Some("開催予定日を変更しました。"),
        "delete" => Some("開催予定日を削除しました。"),
        _ => None,
    };
    page(&state, &user, None, notice.map(str::to_owned)).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct DoneQuery {
    done: String,
}

#[derive(Deserialize)]
pub struct DateForm {
    csrf: String,
    #[serde(default)]
    version: Option<i32>,
    #[serde(default)]
    prefecture: String,
    #[serde(default)]
    held_on: String,
    #[serde(default)]
    name: String,
}

/// The page again with the refusal: 409 for a conflict, 422 for wrong input or a
/// session that is history.
async fn refused(state: &AppState, user: &CurrentUser, e: StoreError) -> Result<Response, Error> {
    let code = match e {
        StoreError::Conflict => StatusCode::CONFLICT,
        StoreError::Field { .. } | StoreError::NotAllowed(_) | StoreError::Invalid(_) => {
            StatusCode::UNPROCESSABLE_ENTITY
        }
        other => return Err(other.into()),
    };
    Ok((code, page(state, user, Some(e.to_string()), None).await?).into_response())
}

/// Reads the form's date (any notation the forms accept).
fn planned(form: &DateForm) -> Result<PlannedDate, StoreError> {
    let held_on = parse_date(form.held_on.trim()).map_err(|e| StoreError::Field {
        field: "held_on",
        message: format!("開催予定日「{}」: {e}", form.held_on.trim()),
    })?;
    Ok(PlannedDate {
        prefecture: form.prefecture.trim().to_owned(),
        held_on,
        name: form.name.trim().to_owned(),
    })
}

async fn allowed_codes(state: &AppState, user: &CurrentUser) -> Result<Vec<String>, Error> {
    Ok(prefectures(state, user)
        .await?
        .into_iter()
        .map(|(c, _)| c)
        .collect())
}

/// `POST /admin/council-dates` (管理): adds a planned date.
#[tracing::instrument(skip_all, fields(user_id = user.user.id))]
pub async fn add(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(form): Form<DateForm>,
) -> Result<Response, Error> {
    user.check_csrf(&form.csrf)?;
    user.require(Role::Admin)?;
    let date = match planned(&form) {
        Ok(d) => d,
        Err(e) => return refused(&state, &user, e).await,
    };
    let codes = allowed_codes(&state, &user).await?;
    match council_dates::add(
        &state.db,
        &user.user.bureau_id,
        &codes,
        &date,
        &user.actor(),
        today_in_japan(),
    )
    .await
    {
        Ok(_) => Ok(Redirect::to("/admin/council-dates?done=add").into_response()),
        Err(e) => refused(&state, &user, e).await,
    }
}

fn version_of(form: &DateForm) -> Result<i32, Error> {
    form.version.ok_or_else(|| {
        Error::Unprocessable(
            "画面を開き直してから、もう一度操作してください（版がありません）".to_owned(),
        )
    })
}

/// `POST /admin/council-dates/{id}` (管理): moves or renames a planned date.
#[tracing::instrument(skip_all, fields(user_id = user.user.id, session_id = id))]
pub async fn edit(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i32>,
    Form(form): Form<DateForm>,
) -> Result<Response, Error> {
    user.check_csrf(&form.csrf)?;
    user.require(Role::Admin)?;
    let version = version_of(&form)?;
    let date = match planned(&form) {
        Ok(d) => d,
        Err(e) => return refused(&state, &user, e).await,
    };
    let codes = allowed_codes(&state, &user).await?;
    match council_dates::edit(
        &state.db,
        &user.user.bureau_id,
        &codes,
        id,
        version,
        &date,
        &user.actor(),
        today_in_japan(),
    )
    .await
    {
        Ok(_) => Ok(Redirect::to("/admin/council-dates?done=edit").into_response()),
        Err(e) => refused(&state, &user, e).await,
    }
}

#[derive(Deserialize)]
pub struct DeleteForm {
    csrf: String,
    #[serde(default)]
    version: Option<i32>,
}

/// `POST /admin/council-dates/{id}/delete` (管理).
#[tracing::instrument(skip_all, fields(user_id = user.user.id, session_id = id))]
pub async fn delete(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i32>,
    Form(form): Form<DeleteForm>,
) -> Result<Response, Error> {
    user.check_csrf(&form.csrf)?;
    user.require(Role::Admin)?;
    let version = form.version.ok_or_else(|| {
        Error::Unprocessable(
            "画面を開き直してから、もう一度操作してください（版がありません）".to_owned(),
        )
    })?;
    // An office administrator touches only its prefectures' sessions.
    let codes = allowed_codes(&state, &user).await?;
    match council_dates::delete(
        &state.db,
        &user.user.bureau_id,
        &codes,
        id,
        version,
        &user.actor(),
        today_in_japan(),
    )
    .await
    {
        Ok(_) => Ok(Redirect::to("/admin/council-dates?done=delete").into_response()),
        Err(e) => refused(&state, &user, e).await,
    }
}
