//! Council sessions (地方社会保険医療協議会, 地医協): the bureau's sessions — planned ones
//! (開催予定, entered here or from the bureau's published dates) and held ones with their
//! 答申 — and, per session, its approvals with their 指定年月日, the lists sent to the
//! 実施機関 (each downloadable as the very file mailed), and a preview of the next list
//! with the .xlsx that will go. An approver plans a session, records one with the
//! requests it approved, or adds approvals to a session later; every approval goes
//! through the lifecycle's guarded change.

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use uketsuke_domain::{Prefecture, format_wareki, parse_date, today_in_japan};
use uketsuke_store::Error as StoreError;
use uketsuke_store::council::{NewSession, SessionDetail, SessionSummary};
use uketsuke_store::entities::{council_session, reception_request};
use uketsuke_store::lifecycle::{self, Command};
use uketsuke_store::outbox;
use uketsuke_store::users::Role;

use crate::auth::CurrentUser;
use crate::error::Error;
use crate::layout::Layout;
use crate::state::AppState;
use crate::view::jst_minute;

/// One council session in the list.
pub struct SessionLine {
    pub id: i32,
    pub name: String,
    pub date: String,
    pub prefecture: String,
    pub approved: usize,
    /// 開催予定 / 答申未記録 / 答申記録済.
    pub state: &'static str,
    pub unsent: usize,
    pub lists: usize,
    /// The numbers of the lists sent (1, 2, …), each a download.
    pub list_seqs: Vec<usize>,
}

/// A request that may be recorded as approved, with its default 指定年月日.
pub struct Candidate {
    pub id: i32,
    pub name: String,
    pub kind: &'static str,
    pub designation: String,
    /// The 指定希望日 as `YYYY-MM-DD`, the default 指定年月日.
    pub designation_iso: String,
    pub prefecture: String,
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

fn prefecture_name(code: &str) -> String {
    Prefecture::parse(code)
        .map(|p| p.name().to_owned())
        .unwrap_or_default()
}

/// The office's prefectures when the account is limited to one office.
async fn office_prefectures(
    state: &AppState,
    user: &CurrentUser,
) -> Result<Option<Vec<String>>, Error> {
    Ok(match user.user.office_id {
        Some(id) => Some(
            uketsuke_store::bureaus::find_office(&state.db, id)
                .await?
                .map(|o| o.prefectures.split(',').map(str::to_owned).collect())
                .unwrap_or_default(),
        ),
        None => None,
    })
}

/// Whether the user may see session-wide things (its lists): an account limited to one
/// office only its office's prefectures' sessions.
async fn may_see_session(
    state: &AppState,
    user: &CurrentUser,
    session: &council_session::Model,
) -> Result<bool, Error> {
    Ok(session.bureau_id == user.user.bureau_id
        && office_prefectures(state, user)
            .await?
            .is_none_or(|p| p.contains(&session.prefecture)))
}

fn candidate(r: &reception_request::Model, prefecture: String) -> Candidate {
    Candidate {
        id: r.id,
        name: r.facility_name.clone(),
        kind: r.kind.label(),
        designation: format_wareki(r.designation_date),
        designation_iso: r.designation_date.format("%Y-%m-%d").to_string(),
        prefecture,
    }
}

/// The cases of the user's scope a council may approve now, with their prefecture.
async fn candidates(state: &AppState, user: &CurrentUser) -> Result<Vec<Candidate>, Error> {
    let scope = user.scope();
    let rows = uketsuke_store::council::candidates(&state.db, &user.user.bureau_id).await?;
    let rows: Vec<_> = rows.into_iter().filter(|r| scope.permits(r)).collect();
    let prefectures = uketsuke_store::council::request_prefectures(&state.db, &rows).await?;
    Ok(rows
        .iter()
        .map(|r| candidate(r, prefectures.get(&r.id).cloned().unwrap_or_default()))
        .collect())
}

async fn council_page(
    state: &AppState,
    user: &CurrentUser,
    error: Option<String>,
) -> Result<CouncilPage, Error> {
    let bureau = &user.user.bureau_id;
    let today = today_in_japan();
    let sessions = uketsuke_store::council::sessions(&state.db, bureau).await?;
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
                     unsent,
                     lists,
                 }| SessionLine {
                    id: s.id,
                    name: s.name.clone(),
                    date: format_wareki(s.held_on),
                    prefecture: prefecture_name(&s.prefecture),
                    approved: *approved,
                    state: match (*approved, s.held_on >= today) {
                        (0, true) => "開催予定",
                        (0, false) => "答申未記録",
                        _ => "答申記録済",
                    },
                    unsent: *unsent,
                    lists: *lists,
                    list_seqs: (1..=*lists).collect(),
                },
            )
            .collect(),
        prefectures,
        candidates: candidates(state, user).await?,
        approver: user.role >= Role::Approver,
        error,
        default_prefecture: match user.user.office_id {
            Some(id) => uketsuke_store::council::office_prefecture(&state.db, id).await?,
            None => String::new(),
        },
    })
}

/// `GET /council`: the council sessions, and the forms to plan or record one.
pub async fn council(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<CouncilPage, Error> {
    council_page(&state, &user, None).await
}

fn value(pairs: &[(String, String)], k: &str) -> String {
    pairs
        .iter()
        .find(|(key, _)| key == k)
        .map(|(_, v)| v.trim().to_owned())
        .unwrap_or_default()
}

/// The approvals of a form: each ticked `request=ID` with its `date-ID` (指定年月日;
/// empty: the 指定希望日). A date that cannot be read refuses the whole form.
fn approvals_of(pairs: &[(String, String)]) -> Result<Vec<(i32, Option<NaiveDate>)>, String> {
    let mut out = Vec::new();
    for (_, v) in pairs.iter().filter(|(k, _)| k == "request") {
        let Ok(id) = v.trim().parse::<i32>() else {
            return Err(format!("依頼のID「{v}」が読めません"));
        };
        let date = match value(pairs, &format!("date-{id}")) {
            d if d.is_empty() => None,
            d => Some(parse_date(&d).map_err(|e| format!("ID {id} の指定年月日「{d}」: {e}"))?),
        };
        out.push((id, date));
    }
    Ok(out)
}

/// Records each approval through the lifecycle; returns the ones refused, named.
async fn designate_all(
    state: &AppState,
    user: &CurrentUser,
    session_id: i32,
    approvals: &[(i32, Option<NaiveDate>)],
) -> Result<Vec<String>, Error> {
    // Each approval is its own guarded change: one that someone else changed meanwhile
    // is left out and named, the others are recorded.
    let caller = user.caller();
    let mut missed = Vec::new();
    for (id, date) in approvals {
        let command = Command::Designate {
            session_id,
            designation_date: *date,
        };
        match lifecycle::apply(&state.db, &caller, *id, None, &command).await {
            Ok(_) => {}
            Err(StoreError::NotFound) => missed.push(format!("ID {id}: 見つかりません")),
            Err(
                e @ (StoreError::Conflict
                | StoreError::NotAllowed(_)
                | StoreError::Forbidden(_)
                | StoreError::Invalid(_)),
            ) => missed.push(format!("ID {id}: {e}")),
            Err(e) => return Err(e.into()),
        }
    }
    Ok(missed)
}

/// `POST /council` (決裁): plans a council session (no request ticked) or records one
/// with the requests it approved, each with its 指定年月日 (fields: csrf, prefecture,
/// held_on, name, request=ID…, date-ID).
#[tracing::instrument(skip_all, fields(user_id = user.user.id))]
pub async fn record_council(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, Error> {
    user.check_csrf(&value(&pairs, "csrf"))?;
    user.require(Role::Approver)?;
    let bureau = user.user.bureau_id.clone();
    let refuse = |message: String| async {
        Ok::<_, Error>(
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                council_page(&state, &user, Some(message)).await?,
            )
                .into_response(),
        )
    };
    let held_on = match parse_date(&value(&pairs, "held_on")) {
        Ok(d) => d,
        Err(e) => return refuse(format!("開催日: {e}")).await,
    };
    let prefecture = value(&pairs, "prefecture");
    let allowed = state
        .bureau(&bureau)
        .is_some_and(|b| b.prefectures.contains(&prefecture));
    if !allowed {
        return refuse("都道府県を選んでください".to_owned()).await;
    }
    let approvals = match approvals_of(&pairs) {
        Ok(a) => a,
        Err(e) => return refuse(e).await,
    };
    let name = match value(&pairs, "name") {
        n if n.is_empty() => uketsuke_store::council::default_name(&prefecture),
        n => n,
    };
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
    let missed = designate_all(&state, &user, session.id, &approvals).await?;
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
    Ok(Redirect::to(&format!("/council/{}", session.id)).into_response())
}

/// An approval of the session.
pub struct ApprovalLine {
    pub id: i32,
    pub name: String,
    pub kind: &'static str,
    pub code: String,
    pub designated: String,
    pub status_label: &'static str,
    /// 一覧表 / 追加分N / 未送付.
    pub list: String,
}

/// A list sent for the session.
pub struct ListLine {
    pub seq: i32,
    pub label: String,
    pub rows: i32,
    pub created: String,
    pub status_label: &'static str,
    pub file: String,
}

/// A row of the next list.
pub struct PreviewLine {
    pub number: String,
    pub name: String,
    pub kind: &'static str,
    pub address: String,
    pub designated: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "council_session.html")]
pub struct SessionPage {
    layout: Layout,
    id: i32,
    name: String,
    date: String,
    prefecture: String,
    planned: bool,
    held: bool,
    approvals: Vec<ApprovalLine>,
    lists: Vec<ListLine>,
    preview: Vec<PreviewLine>,
    /// 「一覧表」 or 「一覧表（追加分N）」.
    preview_label: String,
    /// When the next list goes.
    send_note: String,
    candidates: Vec<Candidate>,
    approver: bool,
    error: Option<String>,
}

fn list_label(seq: i32) -> String {
    format!(
        "一覧表{}",
        match uketsuke_store::council::part_label(seq) {
            p if p.is_empty() => "（初回）".to_owned(),
            p => p,
        }
    )
}

async fn session_of(state: &AppState, user: &CurrentUser, id: i32) -> Result<SessionDetail, Error> {
    let detail = uketsuke_store::council::detail(&state.db, &user.user.bureau_id, id)
        .await?
        .ok_or(Error::NotFound)?;
    if !may_see_session(state, user, &detail.session).await? {
        return Err(Error::NotFound);
    }
    Ok(detail)
}

async fn session_page(
    state: &AppState,
    user: &CurrentUser,
    id: i32,
    error: Option<String>,
) -> Result<SessionPage, Error> {
    let today = today_in_japan();
    let detail = session_of(state, user, id).await?;
    let s = &detail.session;
    let scope = user.scope();
    let numbers = uketsuke_store::views::numbers_by_case(
        &state.db,
        &detail.approved.iter().map(|r| r.id).collect::<Vec<_>>(),
    )
    .await?;
    let seq_of = |list_id: i32| detail.lists.iter().find(|l| l.id == list_id).map(|l| l.seq);
    let approvals = detail
        .approved
        .iter()
        .filter(|r| scope.permits(r))
        .map(|r| ApprovalLine {
            id: r.id,
            name: r.facility_name.clone(),
            kind: r.kind.label(),
            code: numbers
                .get(&r.id)
                .and_then(|ns| {
                    ns.iter()
                        .find(|n| n.status == lifecycle::NumberStatus::Approved)
                })
                .map(|n| n.code.clone())
                .unwrap_or_default(),
            designated: r.designated_on.map(format_wareki).unwrap_or_default(),
            status_label: uketsuke_store::council::status_label(r, today),
            list: match r.council_list_id.and_then(seq_of) {
                Some(seq) => list_label(seq),
                None if r.status == lifecycle::CaseStatus::Designated => "未送付".to_owned(),
                None => String::new(),
            },
        })
        .collect();
    let mut lists = Vec::new();
    for l in &detail.lists {
        let mail = match l.outbox_id {
            Some(o) => outbox::find(&state.db, o).await?,
            None => None,
        };
        lists.push(ListLine {
            seq: l.seq,
            label: list_label(l.seq),
            rows: l.row_count,
            created: jst_minute(l.created_at),
            status_label: mail.as_ref().map_or("（メールなし）", |m| {
                outbox::status::label(&m.status)
            }),
            file: mail.and_then(|m| m.attachment_name).unwrap_or_default(),
        });
    }
    let unlisted: Vec<reception_request::Model> = detail.unlisted().into_iter().cloned().collect();
    let rows = uketsuke_store::views::list_rows(&state.db, s, &unlisted).await?;
    let next = uketsuke_store::council::next_seq(&state.db, s.id).await?;
    let held = s.held_on <= today;
    let send_note = if unlisted.is_empty() {
        "送付を待つ答申はありません。".to_owned()
    } else if held {
        "開催日の翌開庁日以降の定時処理で送付します（既に過ぎていれば次の定時処理）。".to_owned()
    } else {
        format!(
            "開催日（{}）より前には送付しません。開催日の翌開庁日の定時処理で送付します。",
            format_wareki(s.held_on)
        )
    };
    let candidates = candidates(state, user)
        .await?
        .into_iter()
        .filter(|c| c.prefecture == s.prefecture)
        .collect();
    Ok(SessionPage {
        layout: Layout::signed_in(state, user),
        id: s.id,
        name: s.name.clone(),
        date: format_wareki(s.held_on),
        prefecture: prefecture_name(&s.prefecture),
        planned: detail.is_planned(),
        held,
        approvals,
        lists,
        preview: rows
            .iter()
            .map(|r| PreviewLine {
                number: r.reception_number.clone(),
                name: r.facility_name.clone(),
                kind: r.kind.label(),
                address: r.address.clone(),
                designated: format_wareki(r.designation_date),
            })
            .collect(),
        preview_label: list_label(next),
        send_note,
        candidates,
        approver: user.role >= Role::Approver,
        error,
    })
}

/// `GET /council/{id}`: one session, its approvals, the lists sent and the next one.
#[tracing::instrument(skip_all, fields(user_id = user.user.id, session_id = id))]
pub async fn session(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i32>,
) -> Result<SessionPage, Error> {
    session_page(&state, &user, id, None).await
}

/// `POST /council/{id}/approvals` (決裁): records 答申 in this session for the ticked
/// requests, each with its 指定年月日 (fields: csrf, request=ID…, date-ID).
#[tracing::instrument(skip_all, fields(user_id = user.user.id, session_id = id))]
pub async fn add_approvals(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i32>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, Error> {
    user.check_csrf(&value(&pairs, "csrf"))?;
    user.require(Role::Approver)?;
    session_of(&state, &user, id).await?;
    let approvals = match approvals_of(&pairs) {
        Ok(a) if a.is_empty() => Err("答申された依頼を選んでください".to_owned()),
        other => other,
    };
    let approvals = match approvals {
        Ok(a) => a,
        Err(e) => {
            return Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                session_page(&state, &user, id, Some(e)).await?,
            )
                .into_response());
        }
    };
    let missed = designate_all(&state, &user, id, &approvals).await?;
    if !missed.is_empty() {
        let message = format!(
            "次の依頼は答申を記録できませんでした（ほかは記録しました）: {}",
            missed.join(" / ")
        );
        return Ok((
            StatusCode::CONFLICT,
            session_page(&state, &user, id, Some(message)).await?,
        )
            .into_response());
    }
    Ok(Redirect::to(&format!("/council/{id}")).into_response())
}

/// `GET /council/{id}/preview.xlsx`: the next list of the session exactly as it would
/// be attached if it were sent today (nothing is sent or marked).
#[tracing::instrument(skip_all, fields(user_id = user.user.id, session_id = id))]
pub async fn preview_xlsx(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i32>,
) -> Result<Response, Error> {
    let detail = session_of(&state, &user, id).await?;
    let unlisted: Vec<reception_request::Model> = detail.unlisted().into_iter().cloned().collect();
    if unlisted.is_empty() {
        return Err(Error::Unprocessable(
            "送付を待つ答申がないため、次の一覧表はありません".to_owned(),
        ));
    }
    let bureau = state
        .bureau(&detail.session.bureau_id)
        .ok_or(Error::NotFound)?;
    let rows = uketsuke_store::views::list_rows(&state.db, &detail.session, &unlisted).await?;
    let seq = uketsuke_store::council::next_seq(&state.db, id).await?;
    let (name, bytes) = uketsuke_store::council::list_file(
        &bureau.export,
        &bureau.name,
        &detail.session,
        seq,
        &rows,
        today_in_japan(),
    )?;
    Ok(crate::view::download_as(
        bytes,
        uketsuke_export::XLSX_MIME,
        &format!("council-{id}-preview.xlsx"),
        &name,
    ))
}

/// `GET /council/{id}/lists/{seq}`: list `seq` of the session, the very file mailed to
/// the 実施機関 (kept with the mail).
#[tracing::instrument(skip_all, fields(user_id = user.user.id, session_id = id))]
pub async fn sent_list(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, seq)): Path<(i32, i32)>,
) -> Result<Response, Error> {
    let detail = session_of(&state, &user, id).await?;
    let list = detail
        .lists
        .iter()
        .find(|l| l.seq == seq)
        .ok_or(Error::NotFound)?;
    let mail = match list.outbox_id {
        Some(o) => outbox::find(&state.db, o).await?,
        None => None,
    }
    .ok_or(Error::NotFound)?;
    attachment(mail, &format!("council-{id}-{seq}"))
}

/// The attachment of a mail as a download (ASCII fallback name `ascii_stem` with the
/// attachment's extension), or 404 when it has none.
pub fn attachment(
    mail: uketsuke_store::entities::outbox::Model,
    ascii_stem: &str,
) -> Result<Response, Error> {
    match (mail.attachment, mail.attachment_name, mail.attachment_mime) {
        (Some(bytes), Some(name), mime) => Ok(crate::view::download_as(
            bytes,
            mime.as_deref().unwrap_or("application/octet-stream"),
            &match name.rsplit_once('.') {
                Some((_, ext)) if ext.is_ascii() => format!("{ascii_stem}.{ext}"),
                _ => ascii_stem.to_owned(),
            },
            &name,
        )),
        _ => Err(Error::NotFound),
    }
}

/// `GET /deliveries/{id}/attachment`: a mail's attachment as it was sent. A list to the
/// 実施機関 follows its session's access (an office account: its prefectures only).
#[tracing::instrument(skip_all, fields(user_id = user.user.id, outbox_id = id))]
pub async fn delivery_attachment(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response, Error> {
    let mail = outbox::find(&state.db, id).await?.ok_or(Error::NotFound)?;
    user.require_bureau(mail.bureau_id.as_deref().unwrap_or_default())?;
    if let Some((_, session)) = uketsuke_store::council::list_by_outbox(&state.db, id).await? {
        if !may_see_session(&state, &user, &session).await? {
            return Err(Error::NotFound);
        }
    } else if user.user.office_id.is_some() {
        // Other attachments are the bureau's own business.
        return Err(Error::NotFound);
    }
    attachment(mail, &format!("delivery-{id}"))
}
