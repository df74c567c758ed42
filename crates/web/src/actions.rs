//! Actions on a case (案件の処理), each role-checked on the server, confined to the
//! user's bureau, done in one transaction and written to the audit trail:
//!
//! - 番号の起案 (clerk): the next free number in the chosen 郡市区番号 (the page suggests
//!   one from the registry); a linked 医科/歯科 pair is proposed together, each kind with
//!   its own number;
//! - 決裁 (approver, not the proposer): the number becomes final;
//! - 回答 (clerk): the answer is recorded as sent; the 回答書 prints from the case;
//! - 返戻 (approver): returned with reasons, a printable return letter, proposed numbers void;
//! - 取下げ (clerk): withdrawn, its numbers void (never reused) — after 回答, 8. 未指定
//!   instead, the number kept (the facility holds it);
//! - 番号の無効化 (approver).
//!
//! The printed letters (回答書, 返戻通知) are in [`crate::letters`], the council
//! sessions (地医協) in [`crate::council`]; their handlers are re-exported here.

use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use uketsuke_domain::{Prefecture, today_in_japan};
use uketsuke_store::Error as StoreError;
use uketsuke_store::entities::{facility, issued_number, reception_request};
use uketsuke_store::issuance;
use uketsuke_store::lifecycle::{self, Action, CaseStatus, Command, NumberStatus};

use crate::auth::CurrentUser;
use crate::error::Error;
use crate::state::AppState;

pub use crate::council::{council, record_council};
pub use crate::letters::{answer_page, answer_xlsx, return_letter};

/// A request the user may see (their bureau's, and their office's when the account is
/// limited to one), or 404.
pub(crate) async fn load(
    state: &AppState,
    user: &CurrentUser,
    id: i32,
) -> Result<reception_request::Model, Error> {
    uketsuke_store::cases::find(&state.db, &user.scope(), id)
        .await?
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

pub(crate) fn refuse(message: impl Into<String>) -> Error {
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
    let done = match &command {
        Command::Unlink => "unlink",
        Command::OverrideAnswerDue { .. } => "answer-due",
        other => other.action().as_str(),
    };
    match lifecycle::apply(&state.db, &user.caller(), id, version, &command).await {
        Ok(_) => Ok(Redirect::to(&format!("/cases/{id}?done={done}")).into_response()),
        Err(
            e @ (StoreError::Conflict
            | StoreError::NotAllowed(_)
            | StoreError::Field { .. }
            | StoreError::Forbidden(_)),
        ) => {
            let code = match e {
                StoreError::Conflict => StatusCode::CONFLICT,
                StoreError::Forbidden(_) => StatusCode::FORBIDDEN,
                _ => StatusCode::UNPROCESSABLE_ENTITY,
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

/// The steps that end or undo something (返戻, 取下げ, 無効化) need a reason typed by
/// the user: checked after the case's scope (404) and the role (403), so that a refusal
/// says the same as for any other action; an empty reason is the case page again (422)
/// with what to enter, and nothing changes.
async fn require_reason(
    state: &AppState,
    user: &CurrentUser,
    id: i32,
    action: Action,
    reason: &str,
) -> Result<Option<Response>, Error> {
    load(state, user, id).await?;
    user.require(action.rule().role)?;
    if !reason.trim().is_empty() {
        return Ok(None);
    }
    let notice = crate::cases::Notice::error(format!(
        "「{}」の理由を入力してください（案件の画面の「{}」の欄）。理由がないため、処理していません。",
        action.label(),
        action.label()
    ));
    let page = crate::cases::case_page(state, user, id, Some(notice)).await?;
    Ok(Some(
        (StatusCode::UNPROCESSABLE_ENTITY, page).into_response(),
    ))
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
/// linked sibling's, proposed with it).
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
pub struct LinkForm {
    csrf: String,
    #[serde(default)]
    version: Option<i32>,
    /// The other kind's case (受付ID), as typed or chosen.
    #[serde(default)]
    sibling_id: String,
}

/// `POST /cases/{id}/link` (担当): links the case with the other kind's case of the
/// same facility (医科・歯科併設).
#[tracing::instrument(skip_all, fields(user_id = user.user.id, request_id = id))]
pub async fn link(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i32>,
    Form(form): Form<LinkForm>,
) -> Result<Response, Error> {
    user.check_csrf(&form.csrf)?;
    let typed = uketsuke_domain::normalize_width(form.sibling_id.trim());
    let Ok(sibling_id) = typed.parse::<i32>() else {
        let notice = crate::cases::Notice::error(format!(
            "関連付ける依頼の受付ID（数字）を入力してください（{}）",
            form.sibling_id
        ));
        let page = crate::cases::case_page(&state, &user, id, Some(notice)).await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    };
    act(
        &state,
        &user,
        id,
        form.version,
        Command::Link { sibling_id },
    )
    .await
}

/// `POST /cases/{id}/unlink` (担当): undoes the link of a 医科・歯科 pair.
#[tracing::instrument(skip_all, fields(user_id = user.user.id, request_id = id))]
pub async fn unlink(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i32>,
    Form(form): Form<VersionForm>,
) -> Result<Response, Error> {
    user.check_csrf(&form.csrf)?;
    act(&state, &user, id, form.version, Command::Unlink).await
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
    if let Some(refused) = require_reason(&state, &user, id, Action::Return, &form.reason).await? {
        return Ok(refused);
    }
    let command = Command::Return {
        reason: form.reason,
        on: today_in_japan(),
    };
    act(&state, &user, id, form.version, command).await
}

/// `POST /cases/{id}/withdraw` (担当): 取下げ, with its reason (required); its numbers
/// become void (never reused), except after 回答, when the case ends as 8. 未指定 with
/// its number.
#[tracing::instrument(skip_all, fields(user_id = user.user.id, request_id = id))]
pub async fn withdraw(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i32>,
    Form(form): Form<ReasonForm>,
) -> Result<Response, Error> {
    user.check_csrf(&form.csrf)?;
    if let Some(refused) = require_reason(&state, &user, id, Action::Withdraw, &form.reason).await?
    {
        return Ok(refused);
    }
    let command = Command::Withdraw {
        on: today_in_japan(),
        reason: form.reason,
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
    if let Some(refused) = require_reason(&state, &user, id, Action::Void, &form.reason).await? {
        return Ok(refused);
    }
    let command = Command::Void {
        number_id: form.number_id,
        reason: form.reason,
    };
    act(&state, &user, id, form.version, command).await
}

#[derive(Deserialize)]
pub struct AnswerDueForm {
    csrf: String,
    #[serde(default)]
    version: Option<i32>,
    #[serde(default)]
    answer_due: String,
    #[serde(default)]
    reason: String,
}

/// `POST /cases/{id}/answer-due` (決裁): moves the 回答期限, with the reason; the date in
/// 和暦, 西暦 or 全角 digits.
#[tracing::instrument(skip_all, fields(user_id = user.user.id, request_id = id))]
pub async fn override_answer_due(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i32>,
    Form(form): Form<AnswerDueForm>,
) -> Result<Response, Error> {
    user.check_csrf(&form.csrf)?;
    let date = uketsuke_domain::parse_date(&form.answer_due).map_err(|e| {
        Error::Unprocessable(format!(
            "変更後の回答期限「{}」を読み取れません。{e}",
            form.answer_due
        ))
    })?;
    let command = Command::OverrideAnswerDue {
        date,
        reason: form.reason,
        calendar: state.calendar(&user.user.bureau_id),
    };
    act(&state, &user, id, form.version, command).await
}

/// What the signed-in user may do to a case now, for the case page.
#[derive(Debug, Clone, Default)]
pub struct Panel {
    /// The role only reads (閲覧).
    pub read_only: bool,
    /// 番号の起案 (with the suggested 郡市区番号).
    pub can_propose: bool,
    pub suggested_district: String,
    /// The prefecture's 郡市区番号 from the registry, to choose from: (district,
    /// its municipalities, the most frequent first, a few at most).
    pub districts: Vec<(String, String)>,
    pub can_approve: bool,
    pub can_answer: bool,
    /// The 回答書 can be printed (an approved number exists).
    pub can_print_answer: bool,
    pub can_return: bool,
    pub can_withdraw: bool,
    pub can_print_return: bool,
    /// 回答期限の変更 (an approver, while the case is open).
    pub can_override_due: bool,
    /// Numbers an approver may void: (id, code).
    pub voidable: Vec<(i32, String)>,
    /// 訂正 (担当, while the case is open).
    pub can_edit: bool,
    /// 併設の関連付け: linking (no sibling yet) or unlinking.
    pub can_link: bool,
    pub can_unlink: bool,
    /// The other kind's open requests that look like the same facility: (id, label).
    pub pair_candidates: Vec<(i32, String)>,
    /// The kind a 併設 partner has (歯科 for a 医科 case, and the reverse).
    pub partner_kind: &'static str,
}

/// The actions panel of a case: what the transition table allows the user's role
/// from the case's status. `numbers` are the case's numbers (oldest first) and
/// `facility` its facility, as the case page has already read them.
pub async fn panel(
    state: &AppState,
    user: &CurrentUser,
    r: &reception_request::Model,
    numbers: &[issued_number::Model],
    facility: Option<&facility::Model>,
) -> Result<Panel, Error> {
    let may = |a: Action| a.rule().permits(r.status, user.role);
    let prefecture = facility.and_then(|f| Prefecture::parse(&f.prefecture).ok());
    let (suggested_district, districts) = match prefecture.filter(|_| may(Action::Propose)) {
        Some(p) => {
            let suggested = issuance::suggest_district(&state.db, p, &r.facility_address)
                .await?
                .map(|d| format!("{d:02}"))
                .unwrap_or_default();
            let districts = issuance::districts_of(&state.db, p)
                .await?
                .into_iter()
                .map(|(d, towns)| {
                    let mut label = towns.iter().take(4).cloned().collect::<Vec<_>>().join("・");
                    if towns.len() > 4 {
                        label.push_str(&format!(" ほか{}", towns.len() - 4));
                    }
                    (format!("{d:02}"), label)
                })
                .collect();
            (suggested, districts)
        }
        None => (String::new(), Vec::new()),
    };
    Ok(Panel {
        read_only: user.role < uketsuke_store::users::Role::Clerk,
        can_propose: may(Action::Propose),
        suggested_district,
        districts,
        can_approve: may(Action::Approve)
            && numbers.iter().any(|n| n.status == NumberStatus::Proposed),
        can_answer: may(Action::Answer),
        can_print_answer: numbers.iter().any(|n| n.status == NumberStatus::Approved),
        can_return: may(Action::Return),
        can_withdraw: may(Action::Withdraw),
        can_print_return: r.status == CaseStatus::Returned,
        can_override_due: may(Action::Edit) && user.role >= uketsuke_store::users::Role::Approver,
        voidable: if may(Action::Void) {
            // Newest first.
            numbers
                .iter()
                .rev()
                .filter(|n| n.status.is_live())
                .map(|n| (n.id, n.code.clone()))
                .collect()
        } else {
            Vec::new()
        },
        can_edit: may(Action::Edit),
        can_link: may(Action::Link)
            && r.sibling_id.is_none()
            && matches!(
                r.kind,
                uketsuke_domain::RequestKind::Medical | uketsuke_domain::RequestKind::Dental
            ),
        can_unlink: may(Action::Link) && r.sibling_id.is_some(),
        partner_kind: match r.kind {
            uketsuke_domain::RequestKind::Medical => uketsuke_domain::RequestKind::Dental.label(),
            _ => uketsuke_domain::RequestKind::Medical.label(),
        },
        pair_candidates: if may(Action::Link) {
            uketsuke_store::cases::pair_candidates(&state.db, &user.scope(), r)
                .await?
                .into_iter()
                .map(|c| {
                    let label = format!(
                        "受付ID {} {}（{}）{} — {}",
                        c.id,
                        c.facility_name,
                        c.kind.label(),
                        c.facility_address,
                        c.status.label()
                    );
                    (c.id, label)
                })
                .collect()
        } else {
            Vec::new()
        },
    })
}
