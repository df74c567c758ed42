//! The printed letters of a case: the 回答書 (the answer, 別紙1's lower half, as an A4
//! page or as .xlsx) and the 返戻通知 (the return letter); the 導入計画書's 補正 request
//! (`crate::cases::plan`) prints from the same [`Letter`].

use askama::Template;
use askama_web::WebTemplate;
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
use crate::state::AppState;
use crate::view::content_disposition;

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
}

pub(crate) fn letter(
    state: &AppState,
    r: &reception_request::Model,
    code: String,
    date: NaiveDate,
) -> Letter {
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
        retroactive: r.retroactive,
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
    Ok(ReturnLetterPage {
        l: letter(&state, &request, String::new(), date),
    })
}
