//! The printed letters of a case: the 回答書 (the answer, 別紙1's lower half, as an A4
//! page or as .xlsx) followed by its guidance enclosure (案内, seed 002 第3), the
//! 返戻通知 (the return letter), and many 回答書 at once (`POST /letters/answers`).
//! Each letter fits on one A4 page; its letterhead (文書番号, 局長名, 担当・連絡先,
//! 問い合わせ先) comes from the bureau's configuration ([`crate::letterhead`]).
//! The 導入計画書's 補正 request (`crate::cases::plan`) prints from the same [`Letter`].

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use uketsuke_domain::{InstitutionCode, format_wareki, today_in_japan};
use uketsuke_store::entities::reception_request;
use uketsuke_store::lifecycle::{CaseStatus, NumberStatus};

use crate::actions::{load, numbers_of, refuse};
use crate::auth::CurrentUser;
use crate::error::Error;
use crate::letterhead::{FilledGuidance, GuidanceValues};
use crate::state::AppState;
use crate::view::content_disposition;

/// The most cases one bulk print takes (a page of the case list is smaller).
pub const MAX_BULK: usize = 200;

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
    /// 遡及指定: not eligible at all, so the return letter must not ask to resubmit.
    pub retroactive: bool,
    /// 文書番号, when the bureau configured a pattern.
    pub document_number: Option<String>,
    /// 発信者: the configured 局長名, else the bureau's name.
    pub sender: String,
    /// 「担当　保険課　電話 …」.
    pub contact: Option<String>,
    /// 問い合わせ先.
    pub inquiry: Option<String>,
    /// お問い合わせ番号: the case's 受付ID.
    pub inquiry_number: i32,
    /// The guidance enclosure, filled in (answers only).
    pub guidance: Option<FilledGuidance>,
}

/// The day a case was entered, in Japan (UTC+9, no daylight saving).
fn entered_on(r: &reception_request::Model) -> NaiveDate {
    (r.created_at + chrono::TimeDelta::hours(9)).date_naive()
}

/// The code of the office the case was received at, if any.
pub(crate) async fn office_code(
    state: &AppState,
    r: &reception_request::Model,
) -> Result<Option<String>, Error> {
    Ok(match r.office_id {
        Some(id) => uketsuke_store::bureaus::find_office(&state.db, id)
            .await?
            .map(|o| o.code),
        None => None,
    })
}

pub(crate) fn letter(
    state: &AppState,
    r: &reception_request::Model,
    office_code: Option<&str>,
    code: String,
    date: NaiveDate,
) -> Result<Letter, Error> {
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
    let bureau_name = state
        .bureau(&r.bureau_id)
        .map(|b| b.name.clone())
        .unwrap_or_default();
    let head = state.letters.letterhead(&r.bureau_id, office_code);
    let guidance = match (code.is_empty(), state.letters.guidance(&r.bureau_id)) {
        (false, Some(g)) => Some(
            g.fill(&GuidanceValues {
                facility_name: &r.facility_name,
                kind: r.kind.label(),
                code: &code,
                designation: &format_wareki(r.designation_date),
                implementing_body_due: &format_wareki(r.implementing_body_due),
                answer_date: &format_wareki(date),
                bureau: &bureau_name,
            })
            .map_err(Error::Internal)?,
        ),
        _ => None,
    };
    Ok(Letter {
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
        retroactive: r.retroactive,
        code,
        date: format_wareki(date),
        implementing_body_due: format_wareki(r.implementing_body_due),
        reasons: r
            .return_reason
            .as_deref()
            .map(|s| {
                s.lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default(),
        document_number: head.document_number(r.id, entered_on(r)),
        sender: head.director.clone().unwrap_or_else(|| bureau_name.clone()),
        contact: head.contact(),
        inquiry: head.inquiry.clone(),
        inquiry_number: r.id,
        guidance,
        bureau_name,
    })
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

/// `GET /cases/{id}/answer`: the 回答書, an A4 page reproducing 別紙1, then its guidance
/// enclosure on a page of its own, to print.
pub async fn answer_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i32>,
) -> Result<AnswerPage, Error> {
    let request = load(&state, &user, id).await?;
    let code = approved_code(&state, id).await?;
    let date = request.answered_on.unwrap_or_else(today_in_japan);
    let office = office_code(&state, &request).await?;
    Ok(AnswerPage {
        l: letter(&state, &request, office.as_deref(), code, date)?,
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
        None,
        code.to_string(),
        r.answered_on.unwrap_or_else(today_in_japan),
    )?;
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
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static(uketsuke_export::XLSX_MIME),
            ),
            (
                header::CONTENT_DISPOSITION,
                content_disposition("answer.xlsx", &name),
            ),
        ],
        bytes,
    )
        .into_response())
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
    let office = office_code(&state, &request).await?;
    Ok(ReturnLetterPage {
        l: letter(&state, &request, office.as_deref(), String::new(), date)?,
    })
}

/// A case left out of a bulk print, and why.
pub struct Skipped {
    /// The id as submitted.
    pub id: String,
    pub reason: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "answers.html")]
pub struct AnswersPage {
    letters: Vec<Letter>,
    skipped: Vec<Skipped>,
}

/// `POST /letters/answers` (form fields `csrf` and `ids`, repeated): one document with a
/// 回答書 and its enclosure per selected case, each starting on a new page. Cases that
/// have no approved number, and ids this user may not see (another office's, another
/// bureau's, or none at all: the same words for each, so nothing leaks), are listed on
/// screen as skipped and never printed.
#[tracing::instrument(skip_all, fields(count))]
pub async fn answers(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<AnswersPage, Error> {
    let csrf = fields
        .iter()
        .find(|(k, _)| k == "csrf")
        .map(|(_, v)| v.as_str())
        .unwrap_or_default();
    user.check_csrf(csrf)?;
    let mut ids: Vec<&str> = fields
        .iter()
        .filter(|(k, _)| k == "ids")
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
        .collect();
    let mut seen = std::collections::HashSet::new();
    ids.retain(|id| seen.insert(*id));
    tracing::Span::current().record("count", ids.len());
    if ids.is_empty() {
        return Err(Error::Unprocessable(
            "印刷する案件が選ばれていません（案件一覧で回答書を印刷する案件にチェックを入れてください）"
                .to_owned(),
        ));
    }
    if ids.len() > MAX_BULK {
        return Err(Error::Unprocessable(format!(
            "一度に印刷できる回答書は{MAX_BULK}件までです（{}件が選ばれています）",
            ids.len()
        )));
    }
    let scope = user.scope();
    let mut letters = Vec::new();
    let mut skipped = Vec::new();
    for raw in ids {
        let skip = |reason: &str| Skipped {
            id: raw.to_owned(),
            reason: reason.to_owned(),
        };
        let Ok(id) = raw.parse::<i32>() else {
            skipped.push(skip("受付IDが数字ではありません"));
            continue;
        };
        let Some(request) = uketsuke_store::cases::find(&state.db, &scope, id).await? else {
            skipped.push(skip(
                "表示できる案件ではありません（存在しないか、担当外の案件です）",
            ));
            continue;
        };
        let code = numbers_of(&state, id)
            .await?
            .into_iter()
            .find(|n| n.status == NumberStatus::Approved)
            .map(|n| n.code);
        let Some(code) = code else {
            skipped.push(Skipped {
                id: raw.to_owned(),
                reason: format!(
                    "{}（{}）: 決裁済みの受付番号がないため、回答書を作成できません（{}）",
                    request.facility_name,
                    request.kind.label(),
                    request.status.label()
                ),
            });
            continue;
        };
        let date = request.answered_on.unwrap_or_else(today_in_japan);
        let office = office_code(&state, &request).await?;
        letters.push(letter(&state, &request, office.as_deref(), code, date)?);
    }
    Ok(AnswersPage { letters, skipped })
}
