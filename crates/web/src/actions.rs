//! Actions on a case (案件の処理), each role-checked on the server, confined to the
//! user's bureau, done in one transaction and written to the audit trail:
//!
//! - 番号の起案 (clerk): the next free number in the chosen 郡市区番号 (the page suggests
//!   one from the registry); a 医科/歯科 sibling pair gets one 7-digit number for both;
//! - 決裁 (approver, not the proposer): the number becomes final;
//! - 回答 (clerk): the answer is recorded as sent; the 回答書 prints from the case;
//! - 返戻 (approver): returned with reasons, a printable return letter, proposed numbers void;
//! - 取下げ (clerk): withdrawn, its numbers void (never reused);
//! - 番号の無効化 (approver);
//! - 地医協 (approver): record a council session and, in bulk, the facilities it approved.

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{NaiveDate, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde::Deserialize;
use uketsuke_domain::{InstitutionCode, Prefecture, format_wareki, parse_date};
use uketsuke_store::Error as StoreError;
use uketsuke_store::entities::{council_session, issued_number, reception_request};
use uketsuke_store::issuance;
use uketsuke_store::lifecycle::{self, Action, CaseStatus, Command, NumberStatus};
use uketsuke_store::users::Role;

use crate::auth::CurrentUser;
use crate::error::Error;
use crate::layout::Layout;
use crate::routes::today_in_japan;
use crate::state::AppState;

/// A request the user may see (their bureau's, and their office's when the account is
/// limited to one), or 404.
async fn load(
    state: &AppState,
    user: &CurrentUser,
    id: i32,
) -> Result<reception_request::Model, Error> {
    reception_request::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .filter(|r| user.scope().permits(r))
        .ok_or(Error::NotFound)
}

/// The numbers of a request, newest first.
pub async fn numbers_of(
    state: &AppState,
    request_id: i32,
) -> Result<Vec<issued_number::Model>, Error> {
    let mut numbers = lifecycle::numbers_of(&state.db, request_id).await?;
    numbers.reverse();
    Ok(numbers)
}

fn refuse(message: impl Into<String>) -> Error {
    Error::Forbidden(message.into())
}

/// Runs one command through the lifecycle's guarded change. On success, back to the
/// case with a word of what was done; when someone else was first, the action is not
/// allowed any more or an input is wrong, the case page again with the message (409 or
/// 422). A role refusal is 403 and another office's case 404, as everywhere.
async fn act(
    state: &AppState,
    user: &CurrentUser,
    id: i32,
    version: Option<i32>,
    command: Command,
) -> Result<Response, Error> {
    let action = command.action();
    match lifecycle::apply(&state.db, &user.caller(), id, version, &command).await {
        Ok(_) => Ok(Redirect::to(&format!("/cases/{id}?done={}", action.as_str())).into_response()),
        Err(e @ (StoreError::Conflict | StoreError::NotAllowed(_) | StoreError::Field { .. })) => {
            let code = if matches!(e, StoreError::Conflict) {
                StatusCode::CONFLICT
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            let notice = crate::cases::Notice::error(e.to_string());
            let page = crate::cases::case_page(state, user, id, Some(notice)).await?;
            Ok((code, page).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct ProposeForm {
    csrf: String,
    #[serde(default)]
    version: Option<i32>,
    district: String,
    /// Required when the verdict is 返戻相当: the clerk has read the reasons.
    #[serde(default)]
    acknowledge: String,
}

/// `POST /cases/{id}/propose` (担当).
#[tracing::instrument(skip_all, fields(user_id = user.user.id, request_id = id))]
pub async fn propose(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i32>,
    Form(form): Form<ProposeForm>,
) -> Result<Response, Error> {
    user.check_csrf(&form.csrf)?;
    let Some(district) = parse_district(&form.district) else {
        let notice = crate::cases::Notice::error(format!(
            "郡市区番号は 00〜99 の数字です（{}）",
            form.district
        ));
        let page = crate::cases::case_page(&state, &user, id, Some(notice)).await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    };
    let command = Command::Propose {
        district,
        acknowledge_return: form.acknowledge == "1",
        policy: state.numbering,
    };
    act(&state, &user, id, form.version, command).await
}

/// A 郡市区番号 as typed (全角 too): 0–99.
pub fn parse_district(input: &str) -> Option<u8> {
    uketsuke_domain::normalize_width(input.trim())
        .parse()
        .ok()
        .filter(|d| *d <= 99)
}

#[derive(Deserialize)]
pub struct VersionForm {
    csrf: String,
    #[serde(default)]
    version: Option<i32>,
}

/// `POST /cases/{id}/approve` (決裁): approves the request's proposed numbers (and its
/// sibling's, which share the 7-digit number).
#[tracing::instrument(skip_all, fields(user_id = user.user.id, request_id = id))]
pub async fn approve(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i32>,
    Form(form): Form<VersionForm>,
) -> Result<Response, Error> {
    user.check_csrf(&form.csrf)?;
    act(&state, &user, id, form.version, Command::Approve).await
}

/// `POST /cases/{id}/answer` (担当): records that the answer (回答書) was sent today.
#[tracing::instrument(skip_all, fields(user_id = user.user.id, request_id = id))]
pub async fn answer(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i32>,
    Form(form): Form<VersionForm>,
) -> Result<Response, Error> {
    user.check_csrf(&form.csrf)?;
    let command = Command::Answer {
        on: today_in_japan(),
    };
    act(&state, &user, id, form.version, command).await
}

#[derive(Deserialize)]
pub struct ReasonForm {
    csrf: String,
    #[serde(default)]
    version: Option<i32>,
    #[serde(default)]
    reason: String,
}

/// `POST /cases/{id}/return` (決裁): 返戻, with the reasons for the letter.
#[tracing::instrument(skip_all, fields(user_id = user.user.id, request_id = id))]
pub async fn return_request(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i32>,
    Form(form): Form<ReasonForm>,
) -> Result<Response, Error> {
    user.check_csrf(&form.csrf)?;
    let command = Command::Return {
        reason: form.reason,
        on: today_in_japan(),
    };
    act(&state, &user, id, form.version, command).await
}

/// `POST /cases/{id}/withdraw` (担当): 取下げ; its numbers become void (never reused).
#[tracing::instrument(skip_all, fields(user_id = user.user.id, request_id = id))]
pub async fn withdraw(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i32>,
    Form(form): Form<ReasonForm>,
) -> Result<Response, Error> {
    user.check_csrf(&form.csrf)?;
    let command = Command::Withdraw {
        on: today_in_japan(),
    };
    act(&state, &user, id, form.version, command).await
}

#[derive(Deserialize)]
pub struct VoidForm {
    csrf: String,
    #[serde(default)]
    version: Option<i32>,
    number_id: i32,
    #[serde(default)]
    reason: String,
}

/// `POST /cases/{id}/void-number` (決裁).
#[tracing::instrument(skip_all, fields(user_id = user.user.id, request_id = id))]
pub async fn void_number(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i32>,
    Form(form): Form<VoidForm>,
) -> Result<Response, Error> {
    user.check_csrf(&form.csrf)?;
    let command = Command::Void {
        number_id: form.number_id,
        reason: form.reason,
    };
    act(&state, &user, id, form.version, command).await
}

/// What the answer and the return letter print from.
pub struct Letter {
    pub bureau_name: String,
    pub reply_postal_code: String,
    pub reply_address: String,
    pub reply_name: String,
    pub kind: &'static str,
    pub facility_name: String,
    pub facility_postal_code: String,
    pub facility_address: String,
    pub designation: String,
    pub request_date: String,
    pub founder: String,
    pub registration: String,
    pub phone: String,
    pub code: String,
    pub date: String,
    pub implementing_body_due: String,
    pub reasons: Vec<String>,
}

fn letter(state: &AppState, r: &reception_request::Model, code: String, date: NaiveDate) -> Letter {
    let founder = match (&r.founder_name, &r.corporation_name) {
        (Some(n), _) => n.clone(),
        (None, Some(c)) => [
            Some(c.as_str()),
            r.representative_title.as_deref(),
            r.representative_name.as_deref(),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" "),
        _ => String::new(),
    };
    Letter {
        bureau_name: state
            .bureau(&r.bureau_id)
            .map(|b| b.name.clone())
            .unwrap_or_default(),
        reply_postal_code: r
            .reply_postal_code
            .clone()
            .or_else(|| {
                if r.reply_address.trim().is_empty() {
                    r.facility_postal_code.clone()
                } else {
                    None
                }
            })
            .unwrap_or_default(),
        reply_address: if r.reply_address.trim().is_empty() {
            r.facility_address.clone()
        } else {
            r.reply_address.clone()
        },
        reply_name: if r.reply_name.trim().is_empty() {
            format!("{} {}", r.facility_name, founder)
        } else {
            r.reply_name.clone()
        },
        kind: r.kind.label(),
        facility_name: r.facility_name.clone(),
        facility_postal_code: r.facility_postal_code.clone().unwrap_or_default(),
        facility_address: r.facility_address.clone(),
        designation: format_wareki(r.designation_date),
        request_date: r.request_date.map(format_wareki).unwrap_or_default(),
        founder,
        registration: r.registration_number.clone().unwrap_or_default(),
        phone: r.contact_phone.clone(),
        code,
        date: format_wareki(date),
        implementing_body_due: format_wareki(r.implementing_body_due),
        reasons: r
            .return_reason
            .as_deref()
            .map(|s| s.lines().map(str::to_owned).collect())
            .unwrap_or_default(),
    }
}

async fn approved_code(state: &AppState, request_id: i32) -> Result<String, Error> {
    numbers_of(state, request_id)
        .await?
        .into_iter()
        .find(|n| n.status == NumberStatus::Approved)
        .map(|n| n.code)
        .ok_or_else(|| refuse("決裁済みの受付番号がないため、回答書を作成できません"))
}

#[derive(Template, WebTemplate)]
#[template(path = "answer.html")]
pub struct AnswerPage {
    l: Letter,
}

/// `GET /cases/{id}/answer`: the 回答書, an A4 page reproducing 別紙1, to print.
pub async fn answer_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i32>,
) -> Result<AnswerPage, Error> {
    let request = load(&state, &user, id).await?;
    let code = approved_code(&state, id).await?;
    let date = request.answered_on.unwrap_or_else(today_in_japan);
    Ok(AnswerPage {
        l: letter(&state, &request, code, date),
    })
}

/// `GET /cases/{id}/answer.xlsx`: the same answer as .xlsx.
pub async fn answer_xlsx(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i32>,
) -> Result<Response, Error> {
    let r = load(&state, &user, id).await?;
    let code = InstitutionCode::parse(&approved_code(&state, id).await?)
        .map_err(|e| Error::Internal(e.to_string()))?;
    let l = letter(
        &state,
        &r,
        code.to_string(),
        r.answered_on.unwrap_or_else(today_in_japan),
    );
    let sheet = uketsuke_export::AnswerSheet {
        recipient_postal_code: r.reply_postal_code.clone(),
        recipient_address: r.reply_address.clone(),
        recipient_name: r.reply_name.clone(),
        kind: r.kind,
        facility_name: r.facility_name.clone(),
        facility_postal_code: r.facility_postal_code.clone(),
        facility_address: r.facility_address.clone(),
        desired_designation_date: r.designation_date,
        request_date: r.request_date.unwrap_or(r.received_on),
        bureau_name: l.bureau_name.clone(),
        founder: l.founder.clone(),
        registration_number: r.registration_number.clone(),
        contact_phone: Some(r.contact_phone.clone()),
        reception_number: code,
        answer_date: r.answered_on.unwrap_or_else(today_in_japan),
        submission_deadline: r.implementing_body_due,
    };
    let bytes = uketsuke_export::answer_xlsx(&sheet).map_err(|e| Error::Internal(e.to_string()))?;
    let name = format!("回答書_{}.xlsx", r.facility_name);
    Ok((
        [
            (header::CONTENT_TYPE, uketsuke_export::XLSX_MIME.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"answer.xlsx\"; filename*=UTF-8''{}",
                    percent(&name)
                ),
            ),
        ],
        bytes,
    )
        .into_response())
}

fn percent(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[derive(Template, WebTemplate)]
#[template(path = "return_letter.html")]
pub struct ReturnLetterPage {
    l: Letter,
}

/// `GET /cases/{id}/return-letter`: the printable return letter (返戻通知).
pub async fn return_letter(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i32>,
) -> Result<ReturnLetterPage, Error> {
    let request = load(&state, &user, id).await?;
    if request.status != CaseStatus::Returned {
        return Err(refuse("返戻した依頼ではありません"));
    }
    let date = request.returned_on.unwrap_or_else(today_in_japan);
    Ok(ReturnLetterPage {
        l: letter(&state, &request, String::new(), date),
    })
}

/// What the signed-in user may do to a case now, for the case page.
#[derive(Debug, Clone, Default)]
pub struct Panel {
    /// 番号の起案 (with the suggested 郡市区番号).
    pub can_propose: bool,
    pub suggested_district: String,
    pub can_approve: bool,
    pub can_answer: bool,
    /// The 回答書 can be printed (an approved number exists).
    pub can_print_answer: bool,
    pub can_return: bool,
    pub can_withdraw: bool,
    pub can_print_return: bool,
    /// Numbers an approver may void: (id, code).
    pub voidable: Vec<(i32, String)>,
}

/// The actions panel of a case: what the transition table allows the user's role
/// from the case's status.
pub async fn panel(
    state: &AppState,
    user: &CurrentUser,
    r: &reception_request::Model,
) -> Result<Panel, Error> {
    let may = |a: Action| a.rule().permits(r.status, user.role);
    let numbers = numbers_of(state, r.id).await?;
    let suggested_district = if may(Action::Propose) {
        let facility = uketsuke_store::entities::facility::Entity::find_by_id(r.facility_id)
            .one(&state.db)
            .await?;
        match facility.and_then(|f| Prefecture::parse(&f.prefecture).ok()) {
            Some(p) => issuance::suggest_district(&state.db, p, &r.facility_address)
                .await?
                .map(|d| format!("{d:02}"))
                .unwrap_or_default(),
            None => String::new(),
        }
    } else {
        String::new()
    };
    Ok(Panel {
        can_propose: may(Action::Propose),
        suggested_district,
        can_approve: may(Action::Approve)
            && numbers.iter().any(|n| n.status == NumberStatus::Proposed),
        can_answer: may(Action::Answer),
        can_print_answer: numbers.iter().any(|n| n.status == NumberStatus::Approved),
        can_return: may(Action::Return),
        can_withdraw: may(Action::Withdraw),
        can_print_return: r.status == CaseStatus::Returned,
        voidable: if may(Action::Void) {
            numbers
                .iter()
                .filter(|n| n.status.is_live())
                .map(|n| (n.id, n.code.clone()))
                .collect()
        } else {
            Vec::new()
        },
    })
}

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
    let sessions = council_session::Entity::find()
        .filter(council_session::Column::BureauId.eq(bureau))
        .order_by_desc(council_session::Column::HeldOn)
        .all(&state.db)
        .await?;
    let designated = reception_request::Entity::find()
        .filter(reception_request::Column::BureauId.eq(bureau))
        .filter(reception_request::Column::CouncilSessionId.is_not_null())
        .all(&state.db)
        .await?;
    let candidates = reception_request::Entity::find()
        .filter(reception_request::Column::BureauId.eq(bureau))
        .filter(reception_request::Column::Status.is_in(CaseStatus::AWAITING_COUNCIL))
        .order_by_asc(reception_request::Column::DesignationDate)
        .all(&state.db)
        .await?;
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
            .map(|s| SessionLine {
                id: s.id,
                name: s.name.clone(),
                date: format_wareki(s.held_on),
                prefecture: Prefecture::parse(&s.prefecture)
                    .map(|p| p.name().to_owned())
                    .unwrap_or_default(),
                approved: designated
                    .iter()
                    .filter(|r| r.council_session_id == Some(s.id))
                    .count(),
            })
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
            Some(id) => uketsuke_store::entities::office::Entity::find_by_id(id)
                .one(&state.db)
                .await?
                .and_then(|o| o.prefectures.split(',').next().map(str::to_owned))
                .unwrap_or_default(),
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
    let session = match council_session::Entity::find()
        .filter(council_session::Column::BureauId.eq(&bureau))
        .filter(council_session::Column::Prefecture.eq(&prefecture))
        .filter(council_session::Column::HeldOn.eq(held_on))
        .one(&state.db)
        .await?
    {
        Some(existing) => existing,
        None => {
            let txn = sea_orm::TransactionTrait::begin(&state.db).await?;
            let row = council_session::ActiveModel {
                bureau_id: Set(bureau.clone()),
                prefecture: Set(prefecture.clone()),
                held_on: Set(held_on),
                name: Set(name),
                notes: Set(None),
                created_at: Set(Utc::now()),
                ..Default::default()
            }
            .insert(&txn)
            .await?;
            uketsuke_store::audit::record(
                &txn,
                &user.actor(),
                "council.create",
                "council_session",
                row.id,
                None,
                serde_json::to_value(&row).ok(),
            )
            .await?;
            txn.commit().await?;
            row
        }
    };
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
