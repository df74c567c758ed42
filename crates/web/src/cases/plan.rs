//! The 「オンライン資格確認の導入計画書」 (別紙2) on the case page: the section that shows
//! the latest plan, what is missing or contradictory (the check, now), every
//! submission and the 経過措置 届出; and its changes, each a lifecycle command (version
//! check, audit, history) and each role-checked, scoped and CSRF-guarded:
//!
//! - `POST /cases/{id}/plan/upload` (multipart `csrf`, `version`, `file`): a 別紙2 .xlsx;
//! - `GET|POST /cases/{id}/plan`: the form to enter or correct the items;
//! - `POST /cases/{id}/plan/confirm`: 確認済にする (only with no findings);
//! - `POST /cases/{id}/transitional` (`filed_on`) and `/transitional/clear`: 経過措置 届出;
//! - `GET /cases/{id}/plan/correction`: the printable 補正 request, one A4 page.

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use uketsuke_domain::{Done, NetworkType, Plan, Readiness, format_wareki, today_in_japan};
use uketsuke_store::Error as StoreError;
use uketsuke_store::entities::reception_request;
use uketsuke_store::lifecycle::{self, Action, Command, PlanStatus, plan_label};
use uketsuke_store::plans::{self, PlanSource, PlanSubmission, StoredPlan};
use uketsuke_store::users::Role;

use super::Notice;
use crate::auth::CurrentUser;
use crate::error::Error;
use crate::layout::Layout;
use crate::state::AppState;
use crate::view::{JpDate, jst};

/// The plan section of the case page.
pub struct PlanSection {
    pub status: &'static str,
    pub status_label: &'static str,
    pub transitional: Option<JpDate>,
    /// The latest plan, item by item: (printed item, value).
    pub items: Vec<(&'static str, String)>,
    pub findings: Vec<String>,
    /// Every submission, newest first: (when, how, file, findings then).
    pub submissions: Vec<(String, &'static str, String, usize)>,
    /// The user may submit, confirm and record the 経過措置 届出 (担当 and up, open case).
    pub can_act: bool,
    pub can_confirm: bool,
}

fn or_blank(v: &Option<String>) -> String {
    v.clone().unwrap_or_else(|| "（未記入）".to_owned())
}

fn date_text(d: Option<chrono::NaiveDate>) -> String {
    d.map_or_else(
        || "（未記入）".to_owned(),
        |d| format!("{}（{}）", format_wareki(d), d.format("%Y-%m-%d")),
    )
}

/// The items of a plan as the page shows them.
pub fn item_lines(p: &Plan) -> Vec<(&'static str, String)> {
    let postal = |c: &Option<String>| c.as_ref().map(|c| format!("〒{c} ")).unwrap_or_default();
    let facility = format!(
        "名称: {} ／ 所在地: {}{}",
        or_blank(&p.facility.name),
        postal(&p.facility.postal_code),
        or_blank(&p.facility.address)
    );
    let f = &p.founder;
    let mut founder = format!(
        "氏名: {} ／ 住所: {}{} ／ 電話番号: {}",
        or_blank(&f.name),
        postal(&f.postal_code),
        or_blank(&f.address),
        or_blank(&f.phone)
    );
    if let Some(r) = &f.registration {
        founder.push_str(&format!(" ／ 登録の記号及び番号: {r}"));
    }
    if let Some(e) = &f.email {
        founder.push_str(&format!(" ／ Email: {e}"));
    }
    let done = |d: Option<Done>| d.map_or("（未記入）".to_owned(), |d| d.label().to_owned());
    let ready = |r: Option<Readiness>| r.map_or("（未記入）".to_owned(), Readiness::label);
    vec![
        (uketsuke_domain::plan_item_label(1), facility),
        (uketsuke_domain::plan_item_label(2), founder),
        (uketsuke_domain::plan_item_label(3), done(p.account)),
        (uketsuke_domain::plan_item_label(4), done(p.application)),
        (uketsuke_domain::plan_item_label(5), ready(p.card_reader)),
        (
            uketsuke_domain::plan_item_label(6),
            or_blank(&p.card_reader_maker),
        ),
        (uketsuke_domain::plan_item_label(7), ready(p.network)),
        (
            uketsuke_domain::plan_item_label(8),
            or_blank(&p.network_company),
        ),
        (
            uketsuke_domain::plan_item_label(9),
            p.network_type
                .map_or("（未記入）".to_owned(), |t| t.label().to_owned()),
        ),
        (
            uketsuke_domain::plan_item_label(10),
            date_text(p.work_start),
        ),
        (
            uketsuke_domain::plan_item_label(11),
            or_blank(&p.system_company),
        ),
        (
            uketsuke_domain::plan_item_label(12),
            date_text(p.operation_start),
        ),
        (
            uketsuke_domain::plan_item_label(13),
            date_text(p.practice_start),
        ),
    ]
}

/// The plan section of case `r` for `user`.
pub async fn section(
    state: &AppState,
    user: &CurrentUser,
    r: &reception_request::Model,
) -> Result<PlanSection, Error> {
    let submissions = plans::submissions(&state.db, r.id).await?;
    let latest = submissions.first();
    let findings: Vec<String> = latest
        .map(|s| plans::findings(&s.plan, r))
        .unwrap_or_default()
        .into_iter()
        .map(|f| f.message)
        .collect();
    let transitional = r.transitional_filed_on.is_some();
    let (status, status_label) = plan_label(r.plan_status, transitional);
    let can_act = Action::Plan.rule().permits(r.status, user.role);
    Ok(PlanSection {
        status,
        status_label,
        transitional: JpDate::opt(r.transitional_filed_on),
        items: latest.map(|s| item_lines(&s.plan)).unwrap_or_default(),
        can_confirm: can_act
            && latest.is_some()
            && findings.is_empty()
            && !transitional
            && r.plan_status != PlanStatus::Confirmed,
        findings,
        submissions: submissions
            .iter()
            .map(|s| {
                (
                    jst(s.row.submitted_at),
                    PlanSource::label(&s.row.source),
                    s.row.file_name.clone().unwrap_or_default(),
                    s.row.findings.as_array().map_or(0, Vec::len),
                )
            })
            .collect(),
        can_act,
    })
}

/// Runs a plan command; back to the case's plan section, or the case page with the
/// message (409 someone was first, 422 not allowed or wrong input).
async fn run(
    state: &AppState,
    user: &CurrentUser,
    id: i32,
    version: Option<i32>,
    command: Command,
    done: &str,
) -> Result<Response, Error> {
    match lifecycle::apply(&state.db, &user.caller(), id, version, &command).await {
        Ok(_) => Ok(Redirect::to(&format!("/cases/{id}?done={done}#plan")).into_response()),
        Err(e @ (StoreError::Conflict | StoreError::NotAllowed(_) | StoreError::Field { .. })) => {
            let code = if matches!(e, StoreError::Conflict) {
                StatusCode::CONFLICT
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            refused(state, user, id, code, e.to_string()).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn refused(
    state: &AppState,
    user: &CurrentUser,
    id: i32,
    code: StatusCode,
    message: String,
) -> Result<Response, Error> {
    let page = super::case_page(state, user, id, Some(Notice::error(message))).await?;
    Ok((code, page).into_response())
}

/// `POST /cases/{id}/plan/upload`: a filled 別紙2 becomes the case's latest plan.
/// A file with no 別紙2, more than one, or values that cannot be read is refused
/// whole, with each problem named by sheet, cell and item.
#[tracing::instrument(skip_all, fields(user_id = user.user.id, request_id = id))]
pub async fn upload(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i32>,
    mut multipart: Multipart,
) -> Result<Response, Error> {
    let (mut csrf, mut version, mut file) = (None, None, None);
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| Error::Unprocessable(format!("アップロードを読み取れませんでした（{e}）")))?
    {
        match field.name() {
            Some("csrf") => csrf = Some(field.text().await.unwrap_or_default()),
            Some("version") => version = field.text().await.ok().and_then(|v| v.parse().ok()),
            Some("file") => {
                let name = field.file_name().unwrap_or("別紙2.xlsx").to_owned();
                let bytes = field.bytes().await.map_err(|e| {
                    Error::Unprocessable(format!("アップロードを読み取れませんでした（{e}）"))
                })?;
                file = Some((name, bytes.to_vec()));
            }
            _ => {}
        }
    }
    user.check_csrf(csrf.as_deref().unwrap_or_default())?;
    // The case first: another office's case is a 404 before anything is read.
    crate::actions::load(&state, &user, id).await?;
    user.require(Role::Clerk)?;
    let bad = StatusCode::UNPROCESSABLE_ENTITY;
    let Some((name, bytes)) = file.filter(|(_, b)| !b.is_empty()) else {
        return refused(
            &state,
            &user,
            id,
            bad,
            "導入計画書（別紙2）のファイルを選んでください。".to_owned(),
        )
        .await;
    };
    let limits = state.ingest_limits.clone();
    let file_name = name.clone();
    let read =
        tokio::task::spawn_blocking(move || uketsuke_ingest::read_plans(&name, &bytes, &limits))
            .await
            .map_err(|e| Error::Internal(format!("reading the plan failed: {e}")))?;
    let outcome = match read {
        Ok(Some(o)) => o,
        Ok(None) => {
            return refused(
                &state,
                &user,
                id,
                bad,
                format!("{file_name} に導入計画書（別紙2「オンライン資格確認の導入計画書」）が見つかりませんでした。"),
            )
            .await;
        }
        Err(e) => return refused(&state, &user, id, bad, e.to_string()).await,
    };
    if !outcome.problems.is_empty() {
        let lines: Vec<String> = outcome.problems.iter().map(ToString::to_string).collect();
        return refused(
            &state,
            &user,
            id,
            bad,
            format!(
                "読み取れない項目があるため取り込みませんでした。{}",
                lines.join(" ／ ")
            ),
        )
        .await;
    }
    let plan = match outcome.items.as_slice() {
        [one] => one.value.plan.clone(),
        _ => {
            return refused(
                &state,
                &user,
                id,
                bad,
                format!(
                    "{file_name} には導入計画書が{}枚あります。1つの案件には1枚ずつ取り込んでください。",
                    outcome.items.len()
                ),
            )
            .await;
        }
    };
    let command = Command::SubmitPlan(Box::new(PlanSubmission {
        plan,
        source: PlanSource::Upload,
        file_name: Some(file_name),
    }));
    run(&state, &user, id, version, command, "plan").await
}

#[derive(Deserialize)]
pub struct VersionForm {
    csrf: String,
    #[serde(default)]
    version: Option<i32>,
}

/// `POST /cases/{id}/plan/confirm`: 確認済にする.
#[tracing::instrument(skip_all, fields(user_id = user.user.id, request_id = id))]
pub async fn confirm(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i32>,
    Form(form): Form<VersionForm>,
) -> Result<Response, Error> {
    user.check_csrf(&form.csrf)?;
    run(
        &state,
        &user,
        id,
        form.version,
        Command::ConfirmPlan,
        "plan-confirm",
    )
    .await
}

#[derive(Deserialize)]
pub struct TransitionalForm {
    csrf: String,
    #[serde(default)]
    version: Option<i32>,
    #[serde(default)]
    filed_on: String,
}

/// `POST /cases/{id}/transitional`: records the 経過措置 届出 with the day it was filed.
#[tracing::instrument(skip_all, fields(user_id = user.user.id, request_id = id))]
pub async fn record_transitional(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i32>,
    Form(form): Form<TransitionalForm>,
) -> Result<Response, Error> {
    user.check_csrf(&form.csrf)?;
    let today = today_in_japan();
    let on = if form.filed_on.trim().is_empty() {
        today
    } else {
        match uketsuke_domain::parse_plan_date(&form.filed_on) {
            Ok(d) => d,
            Err(e) => {
                crate::actions::load(&state, &user, id).await?;
                return refused(
                    &state,
                    &user,
                    id,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    format!("経過措置の届出日：{e}"),
                )
                .await;
            }
        }
    };
    let command = Command::RecordTransitional { on, today };
    run(&state, &user, id, form.version, command, "transitional").await
}

/// `POST /cases/{id}/transitional/clear`: removes the 経過措置 届出 recorded.
#[tracing::instrument(skip_all, fields(user_id = user.user.id, request_id = id))]
pub async fn clear_transitional(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i32>,
    Form(form): Form<VersionForm>,
) -> Result<Response, Error> {
    user.check_csrf(&form.csrf)?;
    let command = Command::ClearTransitional;
    run(
        &state,
        &user,
        id,
        form.version,
        command,
        "transitional-clear",
    )
    .await
}

/// The entry form's fields (all text, as typed).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PlanFields {
    pub facility_name: String,
    pub facility_postal_code: String,
    pub facility_address: String,
    pub founder_name: String,
    pub founder_registration: String,
    pub founder_postal_code: String,
    pub founder_address: String,
    pub founder_phone: String,
    pub founder_email: String,
    pub account: String,
    pub application: String,
    pub card_reader: String,
    pub card_reader_month: String,
    pub card_reader_maker: String,
    pub network: String,
    pub network_month: String,
    pub network_company: String,
    pub network_type: String,
    pub work_start: String,
    pub system_company: String,
    pub operation_start: String,
    pub practice_start: String,
}

impl PlanFields {
    /// The items as the API's JSON, so that the one parser reads both.
    fn to_json(&self) -> Value {
        let t = |s: &str| {
            let s = s.trim();
            if s.is_empty() { Value::Null } else { json!(s) }
        };
        let readiness = |status: &str, month: &str| {
            if status.trim().is_empty() {
                Value::Null
            } else {
                json!({"status": status.trim(), "month": t(month)})
            }
        };
        json!({
            "1": {"name": t(&self.facility_name), "postal_code": t(&self.facility_postal_code), "address": t(&self.facility_address)},
            "2": {"name": t(&self.founder_name), "registration": t(&self.founder_registration),
                  "postal_code": t(&self.founder_postal_code), "address": t(&self.founder_address),
                  "phone": t(&self.founder_phone), "email": t(&self.founder_email)},
            "3": t(&self.account),
            "4": t(&self.application),
            "5": readiness(&self.card_reader, &self.card_reader_month),
            "6": t(&self.card_reader_maker),
            "7": readiness(&self.network, &self.network_month),
            "8": t(&self.network_company),
            "9": t(&self.network_type),
            "10": t(&self.work_start),
            "11": t(&self.system_company),
            "12": t(&self.operation_start),
            "13": t(&self.practice_start),
        })
    }

    fn of(p: &Plan) -> Self {
        let s = |v: &Option<String>| v.clone().unwrap_or_default();
        let d = |v: Option<chrono::NaiveDate>| {
            v.map(|d| d.format("%Y-%m-%d").to_string())
                .unwrap_or_default()
        };
        let status = |r: Option<Readiness>| r.map(|r| r.as_str().to_owned()).unwrap_or_default();
        let month = |r: Option<Readiness>| match r {
            Some(Readiness::Contracted { month: Some(m) }) => m.to_string(),
            _ => String::new(),
        };
        Self {
            facility_name: s(&p.facility.name),
            facility_postal_code: s(&p.facility.postal_code),
            facility_address: s(&p.facility.address),
            founder_name: s(&p.founder.name),
            founder_registration: s(&p.founder.registration),
            founder_postal_code: s(&p.founder.postal_code),
            founder_address: s(&p.founder.address),
            founder_phone: s(&p.founder.phone),
            founder_email: s(&p.founder.email),
            account: p.account.map(|d| d.as_str().to_owned()).unwrap_or_default(),
            application: p
                .application
                .map(|d| d.as_str().to_owned())
                .unwrap_or_default(),
            card_reader: status(p.card_reader),
            card_reader_month: month(p.card_reader),
            card_reader_maker: s(&p.card_reader_maker),
            network: status(p.network),
            network_month: month(p.network),
            network_company: s(&p.network_company),
            network_type: p
                .network_type
                .map(|t| t.as_str().to_owned())
                .unwrap_or_default(),
            work_start: d(p.work_start),
            system_company: s(&p.system_company),
            operation_start: d(p.operation_start),
            practice_start: d(p.practice_start),
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "plan_edit.html")]
pub struct PlanEditPage {
    layout: Layout,
    r: reception_request::Model,
    f: PlanFields,
    errors: Vec<String>,
    done_choices: [(&'static str, &'static str); 2],
    readiness_choices: [(&'static str, &'static str); 3],
    network_choices: [(&'static str, &'static str); 2],
}

fn edit_page(
    state: &AppState,
    user: &CurrentUser,
    r: reception_request::Model,
    f: PlanFields,
    errors: Vec<String>,
) -> PlanEditPage {
    PlanEditPage {
        layout: Layout::signed_in(state, user),
        r,
        f,
        errors,
        done_choices: [
            (Done::Done.as_str(), Done::Done.label()),
            (Done::NotYet.as_str(), Done::NotYet.label()),
        ],
        readiness_choices: [
            ("ready", "ア 整備済み"),
            ("contracted", "イ 契約済み"),
            ("quoting", "ウ 見積もり中"),
        ],
        network_choices: [
            (NetworkType::IpVpn.as_str(), NetworkType::IpVpn.label()),
            (
                NetworkType::IpsecIke.as_str(),
                NetworkType::IpsecIke.label(),
            ),
        ],
    }
}

/// `GET /cases/{id}/plan`: the form, filled with the latest plan (or, for a first
/// plan, with the case's facility).
pub async fn edit_form(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i32>,
) -> Result<Response, Error> {
    let r = crate::actions::load(&state, &user, id).await?;
    user.require(Role::Clerk)?;
    let f = match plans::latest(&state.db, id).await? {
        Some(StoredPlan { plan, .. }) => PlanFields::of(&plan),
        None => PlanFields {
            facility_name: r.facility_name.clone(),
            facility_postal_code: r.facility_postal_code.clone().unwrap_or_default(),
            facility_address: r.facility_address.clone(),
            ..PlanFields::default()
        },
    };
    Ok(edit_page(&state, &user, r, f, Vec::new()).into_response())
}

#[derive(Deserialize)]
pub struct PlanForm {
    csrf: String,
    /// Text: a number inside a flattened form does not deserialize as one.
    #[serde(default)]
    version: String,
    #[serde(flatten)]
    fields: PlanFields,
}

/// `POST /cases/{id}/plan`: the items as entered become the case's latest plan.
#[tracing::instrument(skip_all, fields(user_id = user.user.id, request_id = id))]
pub async fn submit_form(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i32>,
    Form(form): Form<PlanForm>,
) -> Result<Response, Error> {
    user.check_csrf(&form.csrf)?;
    let r = crate::actions::load(&state, &user, id).await?;
    user.require(Role::Clerk)?;
    let plan = match Plan::from_json(&form.fields.to_json()) {
        Ok(p) => p,
        Err(errors) => {
            let errors = errors
                .into_iter()
                .map(|e| {
                    format!(
                        "{}：{}",
                        uketsuke_domain::plan_item_label(e.item),
                        e.message
                    )
                })
                .collect();
            let page = edit_page(&state, &user, r, form.fields, errors);
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
        }
    };
    let command = Command::SubmitPlan(Box::new(PlanSubmission {
        plan,
        source: PlanSource::Form,
        file_name: None,
    }));
    let version = form.version.trim().parse().ok();
    run(&state, &user, id, version, command, "plan").await
}

#[derive(Template, WebTemplate)]
#[template(path = "plan_correction.html")]
pub struct CorrectionPage {
    l: crate::letters::Letter,
}

/// `GET /cases/{id}/plan/correction`: the 補正 request (one A4 page) listing the
/// findings of the latest plan; built from the same [`crate::letters::Letter`] as the
/// return letter, with the findings as its reasons.
pub async fn correction_letter(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i32>,
) -> Result<Response, Error> {
    let r = crate::actions::load(&state, &user, id).await?;
    let Some(latest) = plans::latest(&state.db, id).await? else {
        return Err(crate::actions::refuse(
            "導入計画書が提出されていないため、補正の依頼は作成できません",
        ));
    };
    let findings: Vec<String> = plans::findings(&latest.plan, &r)
        .into_iter()
        .map(|f| f.message)
        .collect();
    if findings.is_empty() {
        return Err(crate::actions::refuse(
            "導入計画書に不備はないため、補正の依頼は不要です",
        ));
    }
    let office = crate::letters::office_code(&state, &r).await?;
    let mut l = crate::letters::letter(
        &state,
        &r,
        office.as_deref(),
        String::new(),
        today_in_japan(),
    )?;
    l.reasons = findings;
    Ok(CorrectionPage { l }.into_response())
}
