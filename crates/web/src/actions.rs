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
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set, TransactionTrait,
};
use serde::Deserialize;
use uketsuke_domain::{InstitutionCode, Prefecture, RequestKind, format_wareki, parse_date};
use uketsuke_store::entities::{council_session, issued_number, reception_request};
use uketsuke_store::issuance::{self, District, IssueOptions};
use uketsuke_store::requests::{self, status};
use uketsuke_store::users::Role;

use crate::auth::CurrentUser;
use crate::error::Error;
use crate::layout::Layout;
use crate::routes::today_in_japan;
use crate::state::AppState;

/// A request of the user's bureau, or 404.
async fn load(
    state: &AppState,
    user: &CurrentUser,
    id: i32,
) -> Result<reception_request::Model, Error> {
    let request = reception_request::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or(Error::NotFound)?;
    user.require_bureau(&request.bureau_id)?;
    Ok(request)
}

/// The numbers of a request, newest first.
pub async fn numbers_of(
    state: &AppState,
    request_id: i32,
) -> Result<Vec<issued_number::Model>, Error> {
    Ok(issued_number::Entity::find()
        .filter(issued_number::Column::RequestId.eq(request_id))
        .order_by_desc(issued_number::Column::Id)
        .all(&state.db)
        .await?)
}

fn refuse(message: impl Into<String>) -> Error {
    Error::Forbidden(message.into())
}

fn back(id: i32) -> Redirect {
    Redirect::to(&format!("/cases/{id}"))
}

#[derive(Deserialize)]
pub struct ProposeForm {
    csrf: String,
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
) -> Result<Redirect, Error> {
    user.check_csrf(&form.csrf)?;
    user.require(Role::Clerk)?;
    let request = load(&state, &user, id).await?;
    if request.status != status::RECEIVED {
        return Err(refuse(format!(
            "「{}」の依頼には番号を起案できません",
            status::label(&request.status)
        )));
    }
    if request.decision == "return" && form.acknowledge != "1" {
        return Err(refuse(
            "判定が「返戻相当」の依頼です。返戻の理由を確認したことを示してから起案してください",
        ));
    }
    let district: u8 = uketsuke_domain::normalize_width(form.district.trim())
        .parse()
        .ok()
        .filter(|d| *d <= 99)
        .ok_or_else(|| {
            refuse(format!(
                "郡市区番号は 00〜99 の数字です（{}）",
                form.district
            ))
        })?;
    let facility = uketsuke_store::entities::facility::Entity::find_by_id(request.facility_id)
        .one(&state.db)
        .await?
        .ok_or(Error::NotFound)?;
    let prefecture = Prefecture::parse(&facility.prefecture).map_err(|e| refuse(e.to_string()))?;
    let kind: RequestKind = request
        .kind
        .parse()
        .map_err(|e: uketsuke_domain::Error| refuse(e.to_string()))?;
    let proposed = |request_id| IssueOptions {
        request_id: Some(request_id),
        status: issuance::status::PROPOSED,
    };
    let policy = state.numbering;
    let sibling = match request.sibling_id {
        Some(s) => {
            reception_request::Entity::find_by_id(s)
                .one(&state.db)
                .await?
        }
        None => None,
    };
    match sibling.filter(|s| s.status == status::RECEIVED) {
        Some(sibling) if matches!(kind, RequestKind::Medical | RequestKind::Dental) => {
            let (medical_id, dental_id) = if kind == RequestKind::Medical {
                (request.id, sibling.id)
            } else {
                (sibling.id, request.id)
            };
            issuance::issue_pair(
                &state.db,
                prefecture,
                district,
                &policy,
                &proposed(medical_id),
                &proposed(dental_id),
                &user.actor(),
            )
            .await?;
        }
        _ => {
            let d = District {
                prefecture,
                fee_schedule: kind.fee_schedule(),
                number: district,
            };
            issuance::issue(&state.db, d, &policy, &proposed(request.id), &user.actor()).await?;
        }
    }
    Ok(back(id))
}

#[derive(Deserialize)]
pub struct CsrfForm {
    csrf: String,
}

/// `POST /cases/{id}/approve` (決裁): approves the request's proposed numbers (and its
/// sibling's, which share the 7-digit number).
#[tracing::instrument(skip_all, fields(user_id = user.user.id, request_id = id))]
pub async fn approve(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i32>,
    Form(form): Form<CsrfForm>,
) -> Result<Redirect, Error> {
    user.check_csrf(&form.csrf)?;
    user.require(Role::Approver)?;
    let request = load(&state, &user, id).await?;
    let mut ids = vec![request.id];
    ids.extend(request.sibling_id);
    let mut approved = 0;
    for request_id in ids {
        for n in numbers_of(&state, request_id).await? {
            if n.status == issuance::status::PROPOSED {
                issuance::approve(&state.db, n.id, &user.actor())
                    .await
                    .map_err(|e| match e {
                        uketsuke_store::Error::Invalid(m) => refuse(m),
                        other => other.into(),
                    })?;
                approved += 1;
            }
        }
    }
    if approved == 0 {
        return Err(refuse("決裁を待つ番号がありません"));
    }
    Ok(back(id))
}

/// `POST /cases/{id}/answer` (担当): records that the answer (回答書) was sent today.
#[tracing::instrument(skip_all, fields(user_id = user.user.id, request_id = id))]
pub async fn answer(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i32>,
    Form(form): Form<CsrfForm>,
) -> Result<Redirect, Error> {
    user.check_csrf(&form.csrf)?;
    user.require(Role::Clerk)?;
    let request = load(&state, &user, id).await?;
    if request.status != status::ISSUED {
        return Err(refuse("回答できるのは、番号の決裁が済んだ依頼です"));
    }
    let today = today_in_japan();
    transition(&state, &user, request, "request.answer", None, |r| {
        r.status = Set(status::ANSWERED.to_owned());
        r.answered_on = Set(Some(today));
    })
    .await?;
    Ok(back(id))
}

#[derive(Deserialize)]
pub struct ReasonForm {
    csrf: String,
    #[serde(default)]
    reason: String,
}

/// Changes a request in one transaction — voiding its numbers first when `void_reason`
/// is given — with its audit entry.
pub(crate) async fn transition(
    state: &AppState,
    user: &CurrentUser,
    request: reception_request::Model,
    action: &str,
    void_reason: Option<&str>,
    change: impl FnOnce(&mut reception_request::ActiveModel),
) -> Result<(), Error> {
    let txn = state.db.begin().await?;
    if let Some(reason) = void_reason {
        void_numbers(&txn, request.id, reason, user).await?;
    }
    requests::update_request(&txn, request, action, change, &user.actor()).await?;
    txn.commit().await?;
    Ok(())
}

/// Voids every number of a request that is not void yet, in `txn`.
async fn void_numbers<C: sea_orm::ConnectionTrait>(
    txn: &C,
    request_id: i32,
    reason: &str,
    user: &CurrentUser,
) -> Result<(), Error> {
    let numbers = issued_number::Entity::find()
        .filter(issued_number::Column::RequestId.eq(request_id))
        .filter(issued_number::Column::Status.ne(issuance::status::VOID))
        .all(txn)
        .await?;
    for n in numbers {
        issuance::void_in(txn, n.id, reason, &user.actor()).await?;
    }
    Ok(())
}

/// `POST /cases/{id}/return` (決裁): 返戻, with the reasons for the letter.
#[tracing::instrument(skip_all, fields(user_id = user.user.id, request_id = id))]
pub async fn return_request(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i32>,
    Form(form): Form<ReasonForm>,
) -> Result<Redirect, Error> {
    user.check_csrf(&form.csrf)?;
    user.require(Role::Approver)?;
    let request = load(&state, &user, id).await?;
    if ![status::RECEIVED, status::PROPOSED].contains(&request.status.as_str()) {
        return Err(refuse(format!(
            "「{}」の依頼は返戻できません",
            status::label(&request.status)
        )));
    }
    let stored: Vec<String> = serde_json::from_value(request.reasons.clone()).unwrap_or_default();
    let reason = match form.reason.trim() {
        "" if stored.is_empty() => return Err(refuse("返戻の理由を入力してください")),
        "" => stored.join("\n"),
        typed => typed.to_owned(),
    };
    let today = today_in_japan();
    transition(
        &state,
        &user,
        request,
        "request.return",
        Some("返戻のため"),
        |r| {
            r.status = Set(status::RETURNED.to_owned());
            r.returned_on = Set(Some(today));
            r.return_reason = Set(Some(reason));
        },
    )
    .await?;
    Ok(back(id))
}

/// `POST /cases/{id}/withdraw` (担当): 取下げ; its numbers become void (never reused).
#[tracing::instrument(skip_all, fields(user_id = user.user.id, request_id = id))]
pub async fn withdraw(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i32>,
    Form(form): Form<ReasonForm>,
) -> Result<Redirect, Error> {
    user.check_csrf(&form.csrf)?;
    user.require(Role::Clerk)?;
    let request = load(&state, &user, id).await?;
    if [
        status::WITHDRAWN,
        status::RETURNED,
        status::DESIGNATED,
        status::NOT_DESIGNATED,
    ]
    .contains(&request.status.as_str())
    {
        return Err(refuse(format!(
            "「{}」の依頼は取下げにできません",
            status::label(&request.status)
        )));
    }
    let today = today_in_japan();
    transition(
        &state,
        &user,
        request,
        "request.withdraw",
        Some("取下げのため"),
        |r| {
            r.status = Set(status::WITHDRAWN.to_owned());
            r.withdrawn_on = Set(Some(today));
        },
    )
    .await?;
    Ok(back(id))
}

#[derive(Deserialize)]
pub struct VoidForm {
    csrf: String,
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
) -> Result<Redirect, Error> {
    user.check_csrf(&form.csrf)?;
    user.require(Role::Approver)?;
    let request = load(&state, &user, id).await?;
    let number = issued_number::Entity::find_by_id(form.number_id)
        .one(&state.db)
        .await?
        .ok_or(Error::NotFound)?;
    if number.request_id != Some(request.id) {
        return Err(Error::NotFound);
    }
    let reason = if form.reason.trim().is_empty() {
        "記載誤り等のため"
    } else {
        form.reason.trim()
    };
    issuance::void(&state.db, number.id, reason, &user.actor())
        .await
        .map_err(|e| match e {
            uketsuke_store::Error::Invalid(m) => refuse(m),
            other => other.into(),
        })?;
    Ok(back(id))
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
        kind: crate::dashboard::kind_label(&r.kind),
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
        .find(|n| n.status == issuance::status::APPROVED)
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
        kind: r
            .kind
            .parse()
            .map_err(|e: uketsuke_domain::Error| Error::Internal(e.to_string()))?,
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
    if request.status != status::RETURNED {
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

/// The actions panel of a case.
pub async fn panel(
    state: &AppState,
    user: &CurrentUser,
    r: &reception_request::Model,
) -> Result<Panel, Error> {
    let clerk = user.role >= Role::Clerk;
    let approver = user.role >= Role::Approver;
    let numbers = numbers_of(state, r.id).await?;
    let st = r.status.as_str();
    let suggested_district = if clerk && st == status::RECEIVED {
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
    let has_approved = numbers
        .iter()
        .any(|n| n.status == issuance::status::APPROVED);
    Ok(Panel {
        can_propose: clerk && st == status::RECEIVED,
        suggested_district,
        can_approve: approver
            && numbers
                .iter()
                .any(|n| n.status == issuance::status::PROPOSED),
        can_answer: clerk && st == status::ISSUED,
        can_print_answer: has_approved,
        can_return: approver && (st == status::RECEIVED || st == status::PROPOSED),
        can_withdraw: clerk
            && ![
                status::WITHDRAWN,
                status::RETURNED,
                status::DESIGNATED,
                status::NOT_DESIGNATED,
            ]
            .contains(&st),
        can_print_return: st == status::RETURNED,
        voidable: if approver {
            numbers
                .iter()
                .filter(|n| n.status != issuance::status::VOID)
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
        .filter(reception_request::Column::Status.is_in([status::ANSWERED, status::ISSUED]))
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
                kind: crate::dashboard::kind_label(&r.kind),
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
    let txn = state.db.begin().await?;
    let session = match council_session::Entity::find()
        .filter(council_session::Column::BureauId.eq(&bureau))
        .filter(council_session::Column::Prefecture.eq(&prefecture))
        .filter(council_session::Column::HeldOn.eq(held_on))
        .one(&txn)
        .await?
    {
        Some(existing) => existing,
        None => {
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
            row
        }
    };
    for id in ids {
        let Some(request) = reception_request::Entity::find_by_id(id).one(&txn).await? else {
            continue;
        };
        if request.bureau_id != bureau
            || ![status::ANSWERED, status::ISSUED].contains(&request.status.as_str())
        {
            continue;
        }
        let session_id = session.id;
        let designated_on = request.designation_date;
        requests::update_request(
            &txn,
            request,
            "request.designate",
            |r| {
                r.status = Set(status::DESIGNATED.to_owned());
                r.council_session_id = Set(Some(session_id));
                r.designated_on = Set(Some(designated_on));
            },
            &user.actor(),
        )
        .await?;
    }
    txn.commit().await?;
    Ok(Redirect::to("/council").into_response())
}
