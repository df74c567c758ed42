//! The entry form (依頼の入力): 別紙1 field by field, read through the same domain
//! parsers as an upload (全角, 和暦, 〒, 電話番号), with each problem shown beside its
//! field. On save the request is recorded with its computed deadlines and verdict, and
//! the case page shows them at once. The same form corrects a case (訂正) with a reason:
//! `GET`/`POST /cases/{id}/edit`, through the lifecycle's guarded change.

use std::collections::BTreeMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use uketsuke_domain::{PhoneNumber, PostalCode, RequestKind, parse_date};
use uketsuke_ingest::{Founder, RequestForm};
use uketsuke_store::users::Role;

use crate::auth::CurrentUser;
use crate::error::Error;
use crate::layout::Layout;
use crate::state::AppState;
use uketsuke_domain::today_in_japan;
use uketsuke_store::intake::{self, Intake};

/// The form's fields as typed.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Fields {
    pub csrf: String,
    pub reply_postal_code: String,
    pub reply_address: String,
    pub reply_name: String,
    /// `1`: the answer goes to the facility itself (送付先は所在地と同じ); the 送付先
    /// fields are then ignored and stored empty.
    pub reply_same: String,
    pub kind: String,
    pub facility_name: String,
    pub facility_postal_code: String,
    pub facility_address: String,
    pub designation_date: String,
    pub request_date: String,
    pub founder_kind: String,
    pub founder_name: String,
    pub corporation_name: String,
    pub representative_title: String,
    pub representative_name: String,
    pub founder_registration: String,
    pub contact_phone: String,
    /// 受付日: the day the paper arrived (empty: today).
    pub received_on: String,
    /// `1`: 遡及指定 is asked for.
    pub retroactive: String,
    /// The office that received the request (受付事務所).
    pub office_id: String,
    /// When correcting: the case's version as read.
    pub version: String,
    /// When correcting: why (訂正の理由).
    pub reason: String,
}

impl Fields {
    /// Ticks 「所在地と同じ」 when no 送付先 of its own is given.
    fn reply_same_when_blank(mut self) -> Fields {
        if [
            &self.reply_postal_code,
            &self.reply_address,
            &self.reply_name,
        ]
        .iter()
        .all(|v| v.trim().is_empty())
        {
            "1".clone_into(&mut self.reply_same);
        }
        self
    }

    /// A stored case as the form shows it, to correct it.
    pub fn of_case(r: &uketsuke_store::entities::reception_request::Model) -> Fields {
        use uketsuke_store::lifecycle::FounderKind;
        let iso = |d: chrono::NaiveDate| d.format("%Y-%m-%d").to_string();
        let text = |v: &Option<String>| v.clone().unwrap_or_default();
        Fields {
            csrf: String::new(),
            reply_postal_code: text(&r.reply_postal_code),
            reply_address: r.reply_address.clone(),
            reply_name: r.reply_name.clone(),
            reply_same: String::new(),
            kind: r.kind.as_str().to_owned(),
            facility_name: r.facility_name.clone(),
            facility_postal_code: text(&r.facility_postal_code),
            facility_address: r.facility_address.clone(),
            designation_date: iso(r.designation_date),
            request_date: r.request_date.map(iso).unwrap_or_default(),
            founder_kind: match r.founder_kind {
                FounderKind::Corporation => "corporation",
                _ => "person",
            }
            .to_owned(),
            founder_name: text(&r.founder_name),
            corporation_name: text(&r.corporation_name),
            representative_title: text(&r.representative_title),
            representative_name: text(&r.representative_name),
            founder_registration: text(&r.registration_number),
            contact_phone: r.contact_phone.clone(),
            received_on: iso(r.received_on),
            retroactive: if r.retroactive { "1" } else { "" }.to_owned(),
            office_id: r.office_id.map(|o| o.to_string()).unwrap_or_default(),
            version: r.lock_version.to_string(),
            reason: String::new(),
        }
        .reply_same_when_blank()
    }
}

impl Fields {
    /// A request read from an upload, as the form shows it.
    pub fn of_form(form: &RequestForm) -> Fields {
        let iso = |d: chrono::NaiveDate| d.format("%Y-%m-%d").to_string();
        let text = |v: &Option<String>| v.clone().unwrap_or_default();
        let mut f = Fields {
            kind: form.kind.as_str().to_owned(),
            facility_name: form.facility_name.clone(),
            facility_postal_code: form
                .facility_postal_code
                .as_ref()
                .map(|p| p.to_string())
                .unwrap_or_default(),
            facility_address: form.facility_address.clone(),
            designation_date: iso(form.designation_date),
            request_date: form.request_date.map(iso).unwrap_or_default(),
            founder_registration: text(&form.founder_registration),
            contact_phone: form.contact_phone.to_string(),
            reply_postal_code: form
                .reply_postal_code
                .as_ref()
                .map(|p| p.to_string())
                .unwrap_or_default(),
            reply_address: text(&form.reply_address),
            reply_name: text(&form.reply_name),
            ..Fields::default()
        };
        match &form.founder {
            Founder::Person { name } => {
                f.founder_kind = "person".to_owned();
                f.founder_name = name.clone();
            }
            Founder::Corporation {
                name,
                representative_title,
                representative_name,
            } => {
                f.founder_kind = "corporation".to_owned();
                f.corporation_name = name.clone();
                f.representative_title = text(representative_title);
                f.representative_name = text(representative_name);
            }
        }
        f.reply_same_when_blank()
    }

    /// A row of an uploaded list that could not be read, as typed (field → text).
    pub fn of_raw(raw: &[(&str, String)]) -> Fields {
        let mut f = Fields {
            founder_kind: "person".to_owned(),
            ..Fields::default()
        };
        for (field, text) in raw {
            let slot = match *field {
                "kind" => &mut f.kind,
                "facility_name" => &mut f.facility_name,
                "facility_postal_code" => &mut f.facility_postal_code,
                "facility_address" => &mut f.facility_address,
                "designation_date" => &mut f.designation_date,
                "request_date" => &mut f.request_date,
                "founder_name" => &mut f.founder_name,
                "corporation_name" => &mut f.corporation_name,
                "representative_title" => &mut f.representative_title,
                "representative_name" => &mut f.representative_name,
                "founder_registration" => &mut f.founder_registration,
                "contact_phone" => &mut f.contact_phone,
                "reply_postal_code" => &mut f.reply_postal_code,
                "reply_address" => &mut f.reply_address,
                "reply_name" => &mut f.reply_name,
                _ => continue,
            };
            slot.clone_from(text);
        }
        // The kind as the list wrote it (医科…): the form's radio wants its id.
        if let Ok(kind) = f.kind.parse::<RequestKind>() {
            f.kind = kind.as_str().to_owned();
        }
        if f.founder_name.is_empty() && !f.corporation_name.is_empty() {
            f.founder_kind = "corporation".to_owned();
        }
        f.reply_same_when_blank()
    }
}

/// The entry form filled from a row of an upload (`source` says which), with the
/// problems of its fields.
pub async fn prefilled(
    state: &AppState,
    user: &CurrentUser,
    mut f: Fields,
    source: String,
) -> Result<NewRequestPage, Error> {
    f.office_id = user
        .user
        .office_id
        .map(|id| id.to_string())
        .unwrap_or_default();
    let errors = parse(&f).err().unwrap_or_default();
    Ok(NewRequestPage {
        layout: Layout::signed_in(state, user),
        f,
        errors,
        offices: offices(state, user).await?,
        target: "/requests/new".to_owned(),
        editing: None,
        source: Some(source),
    })
}

/// What the form shows when it corrects a case.
pub struct Editing {
    pub case_id: i32,
    /// The case's status, as staff read it.
    pub status: String,
    /// Its live numbers ("" when none): they stay unless 種別 or 都道府県 change.
    pub numbers: String,
    /// A problem that is not one field's (someone else was first; not allowed now).
    pub notice: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "new_request.html")]
pub struct NewRequestPage {
    layout: Layout,
    f: Fields,
    errors: BTreeMap<&'static str, String>,
    offices: Vec<(String, String)>,
    /// Where the form posts.
    target: String,
    /// Set when the form corrects a case.
    editing: Option<Editing>,
    /// Set when the form was opened from a row of an upload: which.
    source: Option<String>,
}

/// The offices of the user's bureau, as (id, name).
async fn offices(state: &AppState, user: &CurrentUser) -> Result<Vec<(String, String)>, Error> {
    Ok(
        uketsuke_store::bureaus::offices_of(&state.db, &user.user.bureau_id)
            .await?
            .into_iter()
            .map(|o| {
                // 「東京事務所（東京都）」: the prefectures it covers, to choose by.
                let covered: Vec<&str> = o
                    .prefectures
                    .split(',')
                    .filter_map(|c| c.trim().parse::<u8>().ok())
                    .filter_map(|c| uketsuke_domain::Prefecture::from_code(c).ok())
                    .map(|p| p.name())
                    .collect();
                let label = if covered.is_empty() {
                    o.name
                } else {
                    format!("{}（{}）", o.name, covered.join("・"))
                };
                (o.id.to_string(), label)
            })
            .collect(),
    )
}

impl NewRequestPage {
    /// The error of a field, or "".
    pub fn error(&self, field: &str) -> String {
        self.errors.get(field).cloned().unwrap_or_default()
    }

    /// Whether `field` has an error.
    pub fn has(&self, field: &str) -> bool {
        self.errors.contains_key(field)
    }
}

/// `GET /requests/new`.
pub async fn form(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<NewRequestPage, Error> {
    user.require(Role::Clerk)?;
    let f = Fields {
        founder_kind: "person".to_owned(),
        office_id: user
            .user
            .office_id
            .map(|id| id.to_string())
            .unwrap_or_default(),
        reply_same: "1".to_owned(),
        ..Fields::default()
    };
    Ok(NewRequestPage {
        layout: Layout::signed_in(&state, &user),
        f,
        errors: BTreeMap::new(),
        offices: offices(&state, &user).await?,
        target: "/requests/new".to_owned(),
        editing: None,
        source: None,
    })
}

fn blank(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_owned())
}

/// Reads the fields through the domain parsers; every problem is kept, by field.
pub fn parse(f: &Fields) -> Result<RequestForm, BTreeMap<&'static str, String>> {
    let mut errors = BTreeMap::new();
    let mut required = |field: &'static str, value: &str, label: &str| {
        let v = blank(value);
        if v.is_none() {
            errors.insert(field, format!("{label}を入力してください。"));
        }
        v
    };
    let facility_name = required("facility_name", &f.facility_name, "名称");
    let facility_address = required("facility_address", &f.facility_address, "所在地");
    let designation = required(
        "designation_date",
        &f.designation_date,
        "指定希望日（予定）",
    );
    let phone = required(
        "contact_phone",
        &f.contact_phone,
        "担当者の連絡先（電話番号）",
    );
    let kind = match f.kind.parse::<RequestKind>() {
        Ok(k) => Some(k),
        Err(_) => {
            errors.insert(
                "kind",
                "医科・歯科・薬局のいずれか一つを選んでください。".to_owned(),
            );
            None
        }
    };
    let founder = if f.founder_kind == "corporation" {
        match blank(&f.corporation_name) {
            Some(name) => Some(Founder::Corporation {
                name,
                representative_title: blank(&f.representative_title),
                representative_name: blank(&f.representative_name),
            }),
            None => {
                errors.insert(
                    "corporation_name",
                    "法人の名称を入力してください。".to_owned(),
                );
                None
            }
        }
    } else {
        match blank(&f.founder_name) {
            Some(name) => Some(Founder::Person { name }),
            None => {
                errors.insert(
                    "founder_name",
                    "開設者の氏名を入力してください。".to_owned(),
                );
                None
            }
        }
    };
    let mut date = |field: &'static str, value: Option<String>| {
        value.and_then(|v| match parse_date(&v) {
            Ok(d) => Some(d),
            Err(e) => {
                errors.insert(field, e.to_string());
                None
            }
        })
    };
    let designation = date("designation_date", designation);
    let request_date = date("request_date", blank(&f.request_date));
    let mut postal = |field: &'static str, value: &str| {
        blank(value).and_then(|v| match PostalCode::parse(&v) {
            Ok(p) => Some(p),
            Err(e) => {
                errors.insert(field, e.to_string());
                None
            }
        })
    };
    let facility_postal = postal("facility_postal_code", &f.facility_postal_code);
    let same = f.reply_same == "1";
    let reply_postal = if same {
        None
    } else {
        postal("reply_postal_code", &f.reply_postal_code)
    };
    let phone = phone.and_then(|p| match PhoneNumber::parse(&p) {
        Ok(p) => Some(p),
        Err(e) => {
            errors.insert("contact_phone", e.to_string());
            None
        }
    });
    match (
        facility_name,
        facility_address,
        designation,
        phone,
        kind,
        founder,
    ) {
        (
            Some(facility_name),
            Some(facility_address),
            Some(designation_date),
            Some(contact_phone),
            Some(kind),
            Some(founder),
        ) if errors.is_empty() => Ok(RequestForm {
            kind,
            facility_name,
            facility_postal_code: facility_postal,
            facility_address,
            designation_date,
            request_date,
            addressed_bureau: None,
            founder,
            founder_registration: blank(&f.founder_registration),
            contact_phone,
            reply_postal_code: reply_postal,
            reply_address: if same { None } else { blank(&f.reply_address) },
            reply_name: if same { None } else { blank(&f.reply_name) },
        }),
        _ => Err(errors),
    }
}

/// `POST /requests/new`.
#[tracing::instrument(skip_all, fields(user_id = user.user.id))]
pub async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(f): Form<Fields>,
) -> Result<Response, Error> {
    user.check_csrf(&f.csrf)?;
    user.require(Role::Clerk)?;
    let office_list = offices(&state, &user).await?;
    // An office of the user's bureau; a user limited to an office enters for it.
    let office_id = match user.user.office_id {
        Some(own) => Some(own),
        None => f
            .office_id
            .parse::<i32>()
            .ok()
            .filter(|id| office_list.iter().any(|(o, _)| *o == id.to_string())),
    };
    let again = |f: Fields, errors| {
        NewRequestPage {
            layout: Layout::signed_in(&state, &user),
            f,
            errors,
            offices: office_list.clone(),
            target: "/requests/new".to_owned(),
            editing: None,
            source: None,
        }
        .into_response()
    };
    let received = received_on(&f.received_on);
    let form = match (parse(&f), received.clone()) {
        (Ok(form), Ok(_)) => form,
        (parsed, received) => {
            let mut errors = parsed.err().unwrap_or_default();
            if let Err(message) = received {
                errors.insert("received_on", message);
            }
            return Ok(again(f, errors));
        }
    };
    let received = received.unwrap_or_else(|_| today_in_japan());
    let bureau = state.bureau(&user.user.bureau_id).ok_or(Error::NotFound)?;
    if let Err(message) = intake::place(&form.facility_address, bureau) {
        let mut errors = BTreeMap::new();
        errors.insert("facility_address", message);
        return Ok(again(f, errors));
    }
    let intake = Intake {
        bureau,
        policy: &state.eligibility,
        office_id,
        received,
        retroactive: f.retroactive == "1",
        retroactive_forms: &[],
    };
    let saved = intake::save_forms(&state.db, &intake, &[&form], &user.actor())
        .await
        .map_err(|e| match e {
            intake::SaveError::Refused(m) => Error::Unprocessable(m),
            intake::SaveError::Store(e) => Error::Store(e),
        })?;
    match saved.created.first() {
        Some(id) => Ok(Redirect::to(&format!("/cases/{id}")).into_response()),
        None => {
            let mut errors = BTreeMap::new();
            errors.insert(
                "facility_name",
                "同じ医療機関・種別・指定希望日の依頼が既に登録されています（重複）。案件一覧で確認してください。".to_owned(),
            );
            Ok(again(f, errors))
        }
    }
}

/// 受付日 as typed: empty is today; never after today (as on the upload).
pub fn received_on(text: &str) -> Result<chrono::NaiveDate, String> {
    crate::entry::received_on(text)
}

/// The live numbers of a case, for the correction form's note.
async fn live_numbers(state: &AppState, id: i32) -> Result<String, Error> {
    Ok(uketsuke_store::lifecycle::numbers_of(&state.db, id)
        .await?
        .into_iter()
        .filter(|n| n.status.is_live())
        .map(|n| n.code)
        .collect::<Vec<_>>()
        .join("・"))
}

/// The correction form of case `id`, with `f` as typed and its problems.
async fn edit_page(
    state: &AppState,
    user: &CurrentUser,
    case: &uketsuke_store::entities::reception_request::Model,
    f: Fields,
    errors: BTreeMap<&'static str, String>,
    notice: Option<String>,
) -> Result<NewRequestPage, Error> {
    Ok(NewRequestPage {
        layout: Layout::signed_in(state, user),
        f,
        errors,
        offices: offices(state, user).await?,
        source: None,
        target: format!("/cases/{}/edit", case.id),
        editing: Some(Editing {
            case_id: case.id,
            status: case.status.label().to_owned(),
            numbers: live_numbers(state, case.id).await?,
            notice,
        }),
    })
}

/// `GET /cases/{id}/edit`: the case in the entry form, to correct (担当).
pub async fn edit_form(
    State(state): State<AppState>,
    user: CurrentUser,
    axum::extract::Path(id): axum::extract::Path<i32>,
) -> Result<Response, Error> {
    user.require(Role::Clerk)?;
    let case = crate::actions::load(&state, &user, id).await?;
    let rule = uketsuke_store::lifecycle::Action::Edit.rule();
    if !rule.from.contains(&case.status) {
        return Err(Error::Unprocessable(format!(
            "「{}」の案件は訂正できません",
            case.status.label()
        )));
    }
    let f = Fields::of_case(&case);
    Ok(edit_page(&state, &user, &case, f, BTreeMap::new(), None)
        .await?
        .into_response())
}

/// `POST /cases/{id}/edit`: the correction, with its reason, through the lifecycle
/// (担当). Field problems come back beside their fields; a newer version (someone else
/// was first) or a change the case's state forbids comes back as a notice.
#[tracing::instrument(skip_all, fields(user_id = user.user.id, request_id = id))]
pub async fn correct(
    State(state): State<AppState>,
    user: CurrentUser,
    axum::extract::Path(id): axum::extract::Path<i32>,
    Form(f): Form<Fields>,
) -> Result<Response, Error> {
    use axum::http::StatusCode;
    use uketsuke_store::Error as StoreError;
    user.check_csrf(&f.csrf)?;
    user.require(Role::Clerk)?;
    let case = crate::actions::load(&state, &user, id).await?;
    let received = received_on(&f.received_on);
    let parsed = parse(&f);
    let mut errors = parsed.clone().err().unwrap_or_default();
    if let Err(message) = &received {
        errors.insert("received_on", message.clone());
    }
    if f.reason.trim().is_empty() {
        errors.insert("reason", "訂正の理由を入力してください。".to_owned());
    }
    let office_id = match (user.user.office_id, f.office_id.trim()) {
        (Some(own), _) => Some(own),
        (None, "") => None,
        (None, text) => match text.parse::<i32>() {
            Ok(id) => Some(id),
            Err(_) => {
                errors.insert("office_id", "受付事務所を選び直してください。".to_owned());
                None
            }
        },
    };
    let (Ok(form), Ok(received), true) = (parsed, received, errors.is_empty()) else {
        let page = edit_page(&state, &user, &case, f, errors, None).await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    };
    let bureau = state.bureau(&user.user.bureau_id).ok_or(Error::NotFound)?;
    let command = uketsuke_store::lifecycle::Command::Correct(Box::new(
        uketsuke_store::lifecycle::Correction {
            form,
            received_on: received,
            retroactive: f.retroactive == "1",
            office_id,
            reason: f.reason.clone(),
            bureau: bureau.clone(),
            policy: state.eligibility,
            today: today_in_japan(),
        },
    ));
    let version = f.version.trim().parse::<i32>().ok();
    match uketsuke_store::lifecycle::apply(&state.db, &user.caller(), id, version, &command).await {
        Ok(_) => Ok(Redirect::to(&format!("/cases/{id}?done=edit")).into_response()),
        Err(StoreError::Field { field, message }) => {
            let mut errors = BTreeMap::new();
            errors.insert(field, message);
            let page = edit_page(&state, &user, &case, f, errors, None).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(e @ (StoreError::Conflict | StoreError::NotAllowed(_))) => {
            let code = if matches!(e, StoreError::Conflict) {
                StatusCode::CONFLICT
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            let page = edit_page(&state, &user, &case, f, errors, Some(e.to_string())).await?;
            Ok((code, page).into_response())
        }
        Err(e) => Err(e.into()),
    }
}
