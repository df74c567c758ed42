//! `/api/v1/requests`: enter a request (with the entry form's parsers: 全角, 和暦, Excel
//! serials), list and read cases, and act on one through the lifecycle.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uketsuke_store::lifecycle::plan_label;
use uketsuke_store::users::Role;
use uketsuke_store::views::{self, CaseView};
use utoipa::ToSchema;

use super::{ApiError, ApiUser, FieldError};
use crate::new_request::{self, Fields};
use crate::state::AppState;
use uketsuke_domain::today_in_japan;
use uketsuke_store::intake::{self, Intake};

/// A new request: the keys `uketsuke import --json` prints for a request, plus where
/// and when it was received. Dates in any notation the form accepts (`2027-04-01`,
/// `令和9年4月1日`, `R9.4.1`, 全角, Excel serials).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct NewRequest {
    /// `medical` (医科), `dental` (歯科) or `pharmacy` (薬局); the Japanese labels too.
    pub kind: String,
    pub facility_name: String,
    pub facility_postal_code: Option<String>,
    pub facility_address: String,
    /// 指定希望日（予定）
    pub designation_date: String,
    /// 依頼日
    pub request_date: Option<String>,
    /// 開設者の氏名 (a person).
    pub founder_name: Option<String>,
    /// 法人の名称 (when the founder is a 法人), with its representative.
    pub corporation_name: Option<String>,
    pub representative_title: Option<String>,
    pub representative_name: Option<String>,
    /// 保険医又は保険薬剤師の登録の記号及び番号
    pub founder_registration: Option<String>,
    pub contact_phone: String,
    pub reply_postal_code: Option<String>,
    pub reply_address: Option<String>,
    pub reply_name: Option<String>,
    /// 受付日: the day the paper reached the office (default: today in Japan).
    pub received_on: Option<String>,
    /// The receiving office's code in the bureau's settings (default: the user's).
    pub office: Option<String>,
    /// 遡及指定: the verdict then says 返戻相当 with the reason.
    pub retroactive: Option<bool>,
}

/// The deadlines of a case.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Deadlines {
    /// 提出期限
    pub submission_deadline: NaiveDate,
    /// 回答期限 in force (an override by staff, else the computed one).
    pub answer_due: NaiveDate,
    /// 実施機関への提出期限 (the 15th, two months before designation).
    pub implementing_body_due: NaiveDate,
}

/// The rules' verdict at entry.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Verdict {
    /// `accept` or `return`.
    pub decision: String,
    pub reasons: Vec<String>,
    pub warnings: Vec<String>,
}

/// The facility of a case.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Facility {
    pub name: String,
    pub postal_code: Option<String>,
    pub address: String,
    /// 都道府県コード (two digits).
    pub prefecture: String,
}

/// A number of a case.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NumberJson {
    pub id: i32,
    /// The 10-digit code.
    pub code: String,
    /// `proposed`, `approved` or `void`.
    pub status: String,
    /// 指定確認: the date of the latest imported published list (名簿) that holds this
    /// number (`uketsuke import --registry`), or null.
    pub designation_confirmed_on: Option<NaiveDate>,
}

/// One entry of the history (監査記録).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HistoryEntry {
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    /// `reception_request` or `issued_number`.
    pub entity: String,
}

/// A case.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Case {
    pub id: i32,
    /// Send it back with every action: a different current version is a 409.
    pub version: i32,
    /// `received`, `proposed`, `issued`, `answered`, `designated`, `not_designated`,
    /// `returned` or `withdrawn`.
    pub status: String,
    /// The status as staff read it (受付済 …); a designated case reads 答申済 until its
    /// 指定年月日 (`designated_on`) and 指定済 from that day.
    pub status_label: String,
    /// `medical`, `dental` or `pharmacy`.
    pub kind: String,
    pub facility: Facility,
    pub designation_date: NaiveDate,
    pub received_on: NaiveDate,
    pub request_date: Option<NaiveDate>,
    pub office_id: Option<i32>,
    pub deadlines: Deadlines,
    pub verdict: Verdict,
    /// The number in use (approved, else proposed), or null.
    pub number: Option<String>,
    pub numbers: Vec<NumberJson>,
    /// The linked 医科/歯科 case of the same facility (併設), or null.
    pub sibling_id: Option<i32>,
    /// 遡及指定 was asked for (then the verdict is 返戻相当).
    pub retroactive: bool,
    /// Why the case was last corrected (訂正), or null.
    pub correction_reason: Option<String>,
    pub council_session_id: Option<i32>,
    pub answered_on: Option<NaiveDate>,
    pub returned_on: Option<NaiveDate>,
    pub return_reason: Option<String>,
    pub withdrawn_on: Option<NaiveDate>,
    /// 指定年月日 recorded with the 答申.
    pub designated_on: Option<NaiveDate>,
    /// 指定確認: the date of the latest imported published list (名簿) that holds the
    /// number in use, or null (not yet found in one).
    pub designation_confirmed_on: Option<NaiveDate>,
    pub not_designated_reason: Option<String>,
    /// 導入計画書 (別紙2): `none` (未提出), `deficient` (不備あり), `submitted` (確認待ち),
    /// `confirmed` (確認済) or `transitional` (経過措置: no plan needed).
    pub plan_status: String,
    /// The status as staff read it (未提出 …).
    pub plan_status_label: String,
    /// The day the 経過措置 届出 was filed, or null.
    pub transitional_filed_on: Option<NaiveDate>,
    /// Only in a single case's answer, not in lists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub history: Option<Vec<HistoryEntry>>,
    /// Only in a single case's answer: the other kind's open, unlinked cases that look
    /// like the same facility (same name, address, or 開設者 and 指定希望日) — candidates
    /// for `POST /api/v1/requests/{id}/link`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pair_candidates: Option<Vec<i32>>,
}

fn texts(v: &serde_json::Value) -> Vec<String> {
    serde_json::from_value(v.clone()).unwrap_or_default()
}

impl Case {
    pub fn of(view: &CaseView, with_history: bool) -> Self {
        let r = &view.case;
        Case {
            id: r.id,
            version: r.lock_version,
            status: r.status.as_str().to_owned(),
            status_label: uketsuke_store::council::status_label(
                r,
                uketsuke_domain::today_in_japan(),
            )
            .to_owned(),
            kind: r.kind.as_str().to_owned(),
            facility: Facility {
                name: r.facility_name.clone(),
                postal_code: r.facility_postal_code.clone(),
                address: r.facility_address.clone(),
                prefecture: view.prefecture.clone(),
            },
            designation_date: r.designation_date,
            received_on: r.received_on,
            request_date: r.request_date,
            office_id: r.office_id,
            deadlines: Deadlines {
                submission_deadline: r.submission_deadline,
                answer_due: r.answer_due_override.unwrap_or(r.answer_due),
                implementing_body_due: r.implementing_body_due,
            },
            verdict: Verdict {
                decision: r.decision.as_str().to_owned(),
                reasons: texts(&r.reasons),
                warnings: texts(&r.warnings),
            },
            number: view.number().map(|n| n.code.clone()),
            numbers: view
                .numbers
                .iter()
                .map(|n| NumberJson {
                    id: n.id,
                    code: n.code.clone(),
                    status: n.status.as_str().to_owned(),
                    designation_confirmed_on: n.designation_confirmed_on,
                })
                .collect(),
            sibling_id: r.sibling_id,
            retroactive: r.retroactive,
            correction_reason: r.correction_reason.clone(),
            council_session_id: r.council_session_id,
            answered_on: r.answered_on,
            returned_on: r.returned_on,
            return_reason: r.return_reason.clone(),
            withdrawn_on: r.withdrawn_on,
            designated_on: r.designated_on,
            plan_status: plan_label(r.plan_status, r.transitional_filed_on.is_some())
                .0
                .to_owned(),
            plan_status_label: plan_label(r.plan_status, r.transitional_filed_on.is_some())
                .1
                .to_owned(),
            transitional_filed_on: r.transitional_filed_on,
            designation_confirmed_on: view.number().and_then(|n| n.designation_confirmed_on),
            not_designated_reason: r.not_designated_reason.clone(),
            history: with_history.then(|| {
                view.history
                    .iter()
                    .map(|a| HistoryEntry {
                        at: a.at,
                        actor: a.actor.clone(),
                        action: a.action.clone(),
                        entity: a.entity.clone(),
                    })
                    .collect()
            }),
            pair_candidates: None,
        }
    }
}

/// A single case as the API shows it: with its history and its 併設 candidates.
pub(super) async fn full(state: &AppState, user: &ApiUser, id: i32) -> Result<Case, ApiError> {
    let view = load(state, user, id).await?;
    let candidates = uketsuke_store::cases::pair_candidates(&state.db, &user.scope(), &view.case)
        .await?
        .into_iter()
        .map(|c| c.id)
        .collect();
    let mut case = Case::of(&view, true);
    case.pair_candidates = Some(candidates);
    Ok(case)
}

pub(super) async fn load(state: &AppState, user: &ApiUser, id: i32) -> Result<CaseView, ApiError> {
    views::case(&state.db, &user.scope(), id)
        .await?
        .ok_or_else(ApiError::not_found)
}

/// The form's fields and 受付日 read as the entry form reads them; each problem is
/// added to `problems`.
fn read_form(
    fields: &Fields,
    received_on: &str,
    problems: &mut Vec<FieldError>,
) -> (Option<uketsuke_domain::RequestForm>, Option<NaiveDate>) {
    let form = match new_request::parse(fields) {
        Ok(form) => Some(form),
        Err(errors) => {
            problems.extend(errors.into_iter().map(|(field, message)| FieldError {
                field: field.to_owned(),
                message,
            }));
            None
        }
    };
    // Today when not given; never after today.
    let received = match new_request::received_on(received_on) {
        Ok(d) => Some(d),
        Err(message) => {
            problems.push(FieldError {
                field: "received_on".into(),
                message,
            });
            None
        }
    };
    (form, received)
}

/// The office named by its code in the bureau's settings (none when no code is given);
/// an unknown code is added to `problems`.
async fn office_by_code(
    state: &AppState,
    bureau_id: &str,
    code: Option<&str>,
    problems: &mut Vec<FieldError>,
) -> Result<Option<i32>, ApiError> {
    let code = code.map(str::trim).unwrap_or_default();
    if code.is_empty() {
        return Ok(None);
    }
    let found = uketsuke_store::bureaus::office_id(&state.db, bureau_id, code).await?;
    if found.is_none() {
        problems.push(FieldError {
            field: "office".into(),
            message: format!("事務所「{code}」はこの局の設定にありません"),
        });
    }
    Ok(found)
}

/// Enter a request (担当).
#[utoipa::path(
    post,
    path = "/api/v1/requests",
    operation_id = "create_request",
    request_body = NewRequest,
    responses(
        (status = 201, description = "Created", body = Case),
        (status = 401, description = "APIトークンがないか、無効", body = super::ErrorBody),
        (status = 403, description = "役割が足りない", body = super::ErrorBody),
        (status = 409, description = "The same facility, kind and designation date is already recorded", body = super::ErrorBody),
        (status = 422, description = "入力の誤り、または状態から許されない処理", body = super::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn create(
    State(state): State<AppState>,
    user: ApiUser,
    Json(input): Json<NewRequest>,
) -> Result<Response, ApiError> {
    user.require(Role::Clerk)?;
    let fields = Fields {
        kind: input.kind.clone(),
        facility_name: input.facility_name.clone(),
        facility_postal_code: input.facility_postal_code.clone().unwrap_or_default(),
        facility_address: input.facility_address.clone(),
        designation_date: input.designation_date.clone(),
        request_date: input.request_date.clone().unwrap_or_default(),
        founder_kind: if input.corporation_name.is_some() && input.founder_name.is_none() {
            "corporation".to_owned()
        } else {
            "person".to_owned()
        },
        founder_name: input.founder_name.clone().unwrap_or_default(),
        corporation_name: input.corporation_name.clone().unwrap_or_default(),
        representative_title: input.representative_title.clone().unwrap_or_default(),
        representative_name: input.representative_name.clone().unwrap_or_default(),
        founder_registration: input.founder_registration.clone().unwrap_or_default(),
        contact_phone: input.contact_phone.clone(),
        reply_postal_code: input.reply_postal_code.clone().unwrap_or_default(),
        reply_address: input.reply_address.clone().unwrap_or_default(),
        reply_name: input.reply_name.clone().unwrap_or_default(),
        ..Fields::default()
    };
    let mut problems: Vec<FieldError> = Vec::new();
    let (form, received) = read_form(
        &fields,
        input.received_on.as_deref().unwrap_or(""),
        &mut problems,
    );
    let bureau = state
        .bureau(&user.user.bureau_id)
        .ok_or_else(ApiError::not_found)?;
    let office_id = match user.user.office_id {
        Some(own) => Some(own),
        None => office_by_code(&state, &bureau.id, input.office.as_deref(), &mut problems).await?,
    };
    if let Some(form) = &form
        && let Err(message) = intake::place(&form.facility_address, bureau)
    {
        problems.push(FieldError {
            field: "facility_address".into(),
            message,
        });
    }
    let (Some(form), Some(received), true) = (form, received, problems.is_empty()) else {
        return Err(ApiError::fields(problems));
    };
    let intake = Intake {
        bureau,
        policy: &state.eligibility,
        office_id,
        received,
        retroactive: input.retroactive.unwrap_or(false),
        retroactive_forms: &[],
    };
    let saved = intake::save_forms(&state.db, &intake, &[&form], &user.caller().actor)
        .await
        .map_err(|e| match e {
            intake::SaveError::Refused(m) => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, m),
            intake::SaveError::Store(e) => ApiError::from(e),
        })?;
    let Some(id) = saved.created.first().copied() else {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "同じ医療機関・種別・指定希望日の依頼が既に登録されています（重複）",
        ));
    };
    Ok((StatusCode::CREATED, Json(full(&state, &user, id).await?)).into_response())
}

/// A page of cases (50 a page; counted up to 1,000 like the page).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CaseList {
    /// The matching cases, counted up to 1,000.
    pub total: u64,
    /// More than 1,000 match: narrow the query to count them.
    pub capped: bool,
    pub page: u64,
    pub pages: u64,
    pub items: Vec<Case>,
}

/// List the cases of the token's bureau (and office), with the case list's filters,
/// sorting and paging (the same parameters as `/cases`).
#[utoipa::path(
    get,
    path = "/api/v1/requests",
    operation_id = "list_requests",
    params(crate::cases::ListParams),
    responses(
        (status = 200, description = "OK", body = CaseList),
        (status = 401, description = "APIトークンがないか、無効", body = super::ErrorBody),
        (status = 422, description = "入力の誤り、または状態から許されない処理", body = super::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    user: ApiUser,
    Query(p): Query<crate::cases::ListParams>,
) -> Result<Json<CaseList>, ApiError> {
    let scope = user.scope();
    let offices = uketsuke_store::cases::offices(&state.db, &scope).await?;
    let filters = crate::cases::Filters::parse(&p, &offices);
    if !filters.errors().is_empty() {
        return Err(ApiError::fields(
            filters
                .errors()
                .iter()
                .map(|(field, message)| FieldError {
                    field: (*field).to_owned(),
                    message: message.clone(),
                })
                .collect(),
        ));
    }
    let today = today_in_japan();
    let calendar = state.calendar(&scope.bureau_id);
    let mut query = filters.query_on(&calendar, today);
    if let Some(queue) = filters.queue() {
        let soon = calendar.add_open_days(today, uketsuke_store::queues::DUE_SOON_OPEN_DAYS);
        uketsuke_store::queues::narrow(&state.db, &scope, queue, today, soon, &mut query).await?;
    }
    let page = uketsuke_store::cases::list(
        &state.db,
        &scope,
        &query,
        today,
        filters.page(),
        crate::cases::PAGE_SIZE,
    )
    .await?;
    let items = page
        .rows
        .into_iter()
        .map(|row| {
            let view = CaseView {
                prefecture: String::new(),
                case: row.request,
                numbers: row.number.into_iter().collect(),
                history: Vec::new(),
            };
            Case::of(&view, false)
        })
        .collect();
    Ok(Json(CaseList {
        total: page.total,
        capped: page.capped,
        page: page.page,
        pages: page.pages,
        items,
    }))
}

/// Read one case, with its history.
#[utoipa::path(
    get,
    path = "/api/v1/requests/{id}",
    operation_id = "get_request",
    params(("id" = i32, Path, description = "The case's id")),
    responses(
        (status = 200, description = "OK", body = Case),
        (status = 401, description = "APIトークンがないか、無効", body = super::ErrorBody),
        (status = 404, description = "見つからない（他局・他事務所の案件を含む）", body = super::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn show(
    State(state): State<AppState>,
    user: ApiUser,
    Path(id): Path<i32>,
) -> Result<Json<Case>, ApiError> {
    Ok(Json(full(&state, &user, id).await?))
}

/// A correction (訂正): only the fields given change; `version` and `reason` are
/// required. Dates and numbers in any notation the entry form accepts.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct CorrectionBody {
    /// The case's version as last read (required).
    pub version: Option<i32>,
    /// 訂正の理由 (required).
    pub reason: Option<String>,
    pub kind: Option<String>,
    pub facility_name: Option<String>,
    pub facility_postal_code: Option<String>,
    pub facility_address: Option<String>,
    /// 指定希望日（予定）: a later date keeps the number and moves the 回答期限.
    pub designation_date: Option<String>,
    pub request_date: Option<String>,
    /// 開設者の氏名: makes the founder a person.
    pub founder_name: Option<String>,
    /// 法人の名称: makes the founder a 法人.
    pub corporation_name: Option<String>,
    pub representative_title: Option<String>,
    pub representative_name: Option<String>,
    pub founder_registration: Option<String>,
    pub contact_phone: Option<String>,
    pub reply_postal_code: Option<String>,
    pub reply_address: Option<String>,
    pub reply_name: Option<String>,
    /// 受付日 (never after today).
    pub received_on: Option<String>,
    /// The receiving office's code in the bureau's settings.
    pub office: Option<String>,
    /// 遡及指定.
    pub retroactive: Option<bool>,
}

/// Correct a case (訂正, 担当): the deadlines and the verdict are computed again; the
/// number stays unless 種別 or 都道府県 change (then void it first).
#[utoipa::path(
    patch,
    path = "/api/v1/requests/{id}",
    operation_id = "correct_request",
    params(("id" = i32, Path, description = "The case's id")),
    request_body = CorrectionBody,
    responses(
        (status = 200, description = "The case after the correction", body = Case),
        (status = 401, description = "APIトークンがないか、無効", body = super::ErrorBody),
        (status = 403, description = "役割が足りない", body = super::ErrorBody),
        (status = 404, description = "見つからない（他局・他事務所の案件を含む）", body = super::ErrorBody),
        (status = 409, description = "他の職員が先に処理しました", body = super::ErrorBody),
        (status = 422, description = "入力の誤り、または状態から許されない処理", body = super::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn correct(
    State(state): State<AppState>,
    user: ApiUser,
    Path(id): Path<i32>,
    Json(b): Json<CorrectionBody>,
) -> Result<Json<Case>, ApiError> {
    user.require(Role::Clerk)?;
    let version = b
        .version
        .ok_or_else(|| ApiError::field("version", "案件の版（version）を指定してください"))?;
    let view = load(&state, &user, id).await?;
    let mut f = Fields::of_case(&view.case);
    let set = |target: &mut String, value: &Option<String>| {
        if let Some(v) = value {
            v.clone_into(target);
        }
    };
    set(&mut f.kind, &b.kind);
    set(&mut f.facility_name, &b.facility_name);
    set(&mut f.facility_postal_code, &b.facility_postal_code);
    set(&mut f.facility_address, &b.facility_address);
    set(&mut f.designation_date, &b.designation_date);
    set(&mut f.request_date, &b.request_date);
    set(&mut f.representative_title, &b.representative_title);
    set(&mut f.representative_name, &b.representative_name);
    set(&mut f.founder_registration, &b.founder_registration);
    set(&mut f.contact_phone, &b.contact_phone);
    set(&mut f.reply_postal_code, &b.reply_postal_code);
    set(&mut f.reply_address, &b.reply_address);
    set(&mut f.reply_name, &b.reply_name);
    set(&mut f.received_on, &b.received_on);
    if let Some(name) = &b.founder_name {
        f.founder_kind = "person".to_owned();
        name.clone_into(&mut f.founder_name);
    }
    if let Some(name) = &b.corporation_name {
        f.founder_kind = "corporation".to_owned();
        name.clone_into(&mut f.corporation_name);
    }
    if let Some(retroactive) = b.retroactive {
        f.retroactive = if retroactive { "1" } else { "" }.to_owned();
    }
    let mut problems: Vec<FieldError> = Vec::new();
    let (form, received) = read_form(&f, &f.received_on, &mut problems);
    let reason = b.reason.clone().unwrap_or_default();
    if reason.trim().is_empty() {
        problems.push(FieldError {
            field: "reason".into(),
            message: "訂正の理由（reason）を入力してください".into(),
        });
    }
    let bureau = state
        .bureau(&user.user.bureau_id)
        .ok_or_else(ApiError::not_found)?;
    let office_id = match (user.user.office_id, b.office.as_deref().map(str::trim)) {
        (Some(own), _) => Some(own),
        (None, None | Some("")) => view.case.office_id,
        (None, code) => office_by_code(&state, &bureau.id, code, &mut problems).await?,
    };
    let (Some(form), Some(received), true) = (form, received, problems.is_empty()) else {
        return Err(ApiError::fields(problems));
    };
    // A new address in another prefecture without an office named: the office follows
    // the prefecture (the store chooses it).
    let office_id = if b.office.is_none()
        && b.facility_address.is_some()
        && user.user.office_id.is_none()
        && intake::place(&form.facility_address, bureau)
            .is_ok_and(|p| p.code_str() != view.prefecture)
    {
        None
    } else {
        office_id
    };
    let command = uketsuke_store::lifecycle::Command::Correct(Box::new(
        uketsuke_store::lifecycle::Correction {
            form,
            received_on: received,
            retroactive: f.retroactive == "1",
            office_id,
            reason,
            bureau: bureau.clone(),
            policy: state.eligibility,
            today: today_in_japan(),
        },
    ));
    uketsuke_store::lifecycle::apply(&state.db, &user.caller(), id, Some(version), &command)
        .await?;
    Ok(Json(full(&state, &user, id).await?))
}
