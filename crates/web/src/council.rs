//! Council sessions (地方社会保険医療協議会, 地医協): the list of the bureau's sessions
//! and, for an approver, recording one with the requests it approved in bulk.

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use uketsuke_domain::{Prefecture, format_wareki, parse_date};
use uketsuke_store::Error as StoreError;
use uketsuke_store::council::{NewSession, SessionSummary};
use uketsuke_store::lifecycle::{self, Command};
use uketsuke_store::users::Role;

use crate::auth::CurrentUser;
use crate::error::Error;
use crate::layout::Layout;
use crate::state::AppState;

/// One council session in the list.
pub struct SessionLine {
    pub id: i32,
    pub name: String,
    pub date: String,
    pub prefecture: String,
    pub approved: usize,
}

/// A request that may be recorded as approved.
pub struct Candidate {
    pub id: i32,
    pub name: String,
    pub kind: &'static str,
    pub designation: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "council.html")]
pub struct CouncilPage {
    layout: Layout,
    sessions: Vec<SessionLine>,
    prefectures: Vec<(String, String)>,
    candidates: Vec<Candidate>,
    approver: bool,
    error: Option<String>,
    /// The user's office's prefecture, preselected.
    default_prefecture: String,
}

async fn council_page(
    state: &AppState,
    user: &CurrentUser,
    error: Option<String>,
) -> Result<CouncilPage, Error> {
    let bureau = &user.user.bureau_id;
    let sessions = uketsuke_store::council::sessions(&state.db, bureau).await?;
    let candidates = uketsuke_store::council::candidates(&state.db, bureau).await?;
    let prefectures = state
        .bureau(bureau)
        .map(|b| b.prefectures.clone())
        .unwrap_or_default()
        .into_iter()
        .filter_map(|code| {
            Prefecture::parse(&code)
                .ok()
                .map(|p| (p.code_str(), p.name().to_owned()))
        })
        .collect();
    Ok(CouncilPage {
        layout: Layout::signed_in(state, user),
        sessions: sessions
            .iter()
            .map(
                |SessionSummary {
                     session: s,
                     approved,
                 }| SessionLine {
                    id: s.id,
                    name: s.name.clone(),
                    date: format_wareki(s.held_on),
                    prefecture: Prefecture::parse(&s.prefecture)
                        .map(|p| p.name().to_owned())
                        .unwrap_or_default(),
                    approved: *approved,
                },
            )
            .collect(),
        prefectures,
        candidates: candidates
            .iter()
            .map(|r| Candidate {
                id: r.id,
                name: r.facility_name.clone(),
                kind: r.kind.label(),
                designation: format_wareki(r.designation_date),
            })
            .collect(),
        approver: user.role >= Role::Approver,
        error,
        default_prefecture: match user.user.office_id {
            Some(id) => uketsuke_store::council::office_prefecture(&state.db, id).await?,
            None => String::new(),
        },
    })
}

/// `GET /council`: the council sessions, and the form to record one.
pub async fn council(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<CouncilPage, Error> {
    council_page(&state, &user, None).await
}

/// `POST /council` (決裁): records a council session and, in bulk, the requests it
/// approved (fields: csrf, prefecture, held_on, name, request=ID…).
#[tracing::instrument(skip_all, fields(user_id = user.user.id))]
pub async fn record_council(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, Error> {
    let value = |k: &str| {
        pairs
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.trim().to_owned())
            .unwrap_or_default()
    };
    user.check_csrf(&value("csrf"))?;
    user.require(Role::Approver)?;
    let bureau = user.user.bureau_id.clone();
    let held_on = match parse_date(&value("held_on")) {
        Ok(d) => d,
        Err(e) => {
            return Ok(council_page(&state, &user, Some(format!("開催日: {e}")))
                .await?
                .into_response());
        }
    };
    let prefecture = value("prefecture");
    let allowed = state
        .bureau(&bureau)
        .is_some_and(|b| b.prefectures.contains(&prefecture));
    if !allowed {
        return Ok(
            council_page(&state, &user, Some("都道府県を選んでください".to_owned()))
                .await?
                .into_response(),
        );
    }
    let name = match value("name") {
        n if n.is_empty() => format!(
            "{}地方社会保険医療協議会",
            Prefecture::parse(&prefecture)
                .map(|p| p.short_name().to_owned())
                .unwrap_or_default()
        ),
        n => n,
    };
    let ids: Vec<i32> = pairs
        .iter()
        .filter(|(k, _)| k == "request")
        .filter_map(|(_, v)| v.parse().ok())
        .collect();
    let session = uketsuke_store::council::find_or_create(
        &state.db,
        NewSession {
            bureau_id: bureau,
            prefecture,
            held_on,
            name,
        },
        &user.actor(),
    )
    .await?;
    // Each approval is its own guarded change: one that someone else changed meanwhile
    // is left out and named, the others are recorded.
    let caller = user.caller();
    let mut missed = Vec::new();
    for id in ids {
        let command = Command::Designate {
            session_id: session.id,
        };
        match lifecycle::apply(&state.db, &caller, id, None, &command).await {
            Ok(_) => {}
            Err(StoreError::NotFound) => {}
            Err(
                e @ (StoreError::Conflict | StoreError::NotAllowed(_) | StoreError::Forbidden(_)),
            ) => missed.push(format!("ID {id}: {e}")),
            Err(e) => return Err(e.into()),
        }
    }
    if !missed.is_empty() {
        let message = format!(
            "次の依頼は答申を記録できませんでした（ほかは記録しました）: {}",
            missed.join(" / ")
        );
        return Ok((
            StatusCode::CONFLICT,
            council_page(&state, &user, Some(message)).await?,
        )
            .into_response());
    }
    Ok(Redirect::to("/council").into_response())
}
