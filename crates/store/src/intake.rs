//! Intake (受付の登録): turning read or typed 別紙1 forms into saved requests — the
//! deadlines and the eligibility verdict computed, the facility and the request written
//! with their audit entries, all forms of one submission in one transaction, and a
//! request already recorded (same facility, kind and designation date) skipped rather
//! than saved twice. Shared by the upload page, the entry form and `uketsuke import`.

use std::collections::{BTreeSet, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::NaiveDate;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QuerySelect, Set, TransactionTrait,
};
use serde::Serialize;
use uketsuke_domain::{Founder, Prefecture, RequestForm, RequestKind, search_key};
use uketsuke_rules::deadlines::{self, Deadlines};
use uketsuke_rules::eligibility::{self, Assessment, EligibilityPolicy, RequestFacts};

use crate::audit::{self, Actor};
use crate::bureaus::BureauRules;
use crate::entities::reception_request;
use crate::lifecycle::{CaseStatus, FounderKind};
use crate::requests::{self, NewFacility};

/// Where the requests go and how they are judged.
pub struct Intake<'a> {
    pub bureau: &'a BureauRules,
    pub policy: &'a EligibilityPolicy,
    /// The office that received them, if known.
    pub office_id: Option<i32>,
    /// The day they were received (受付日): the day the paper reached the office, which
    /// may be days before anyone typed it in; deadlines are judged on it.
    pub received: NaiveDate,
    /// 遡及指定: the facility asks to be designated retroactively (not eligible) —
    /// every form of the submission …
    pub retroactive: bool,
    /// … or only these (their indexes among the forms saved, ascending).
    pub retroactive_forms: &'a [usize],
}

impl Intake<'_> {
    /// Whether the form at `index` asks for 遡及指定.
    pub fn is_retroactive(&self, index: usize) -> bool {
        self.retroactive || self.retroactive_forms.binary_search(&index).is_ok()
    }
}

/// What a save did.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Saved {
    /// The ids of the requests created, in the order of the forms.
    pub created: Vec<i32>,
    /// Forms skipped because the same request is already recorded.
    pub already_present: usize,
    /// For each id in `created`, the index of its form.
    #[serde(skip)]
    pub created_forms: Vec<usize>,
}

/// The prefecture an address is in: its leading prefecture name, or the bureau's only
/// prefecture when it has one.
pub fn prefecture_of(address: &str, bureau: &BureauRules) -> Option<Prefecture> {
    let address = address.trim();
    Prefecture::all()
        .find(|p| address.starts_with(p.name()))
        .or_else(|| match bureau.prefectures.as_slice() {
            [only] => Prefecture::parse(only).ok(),
            _ => None,
        })
}

/// The message when [`prefecture_of`] finds none.
pub fn no_prefecture_message(address: &str) -> String {
    format!("所在地「{address}」から都道府県が分かりません。都道府県名から記載してください。")
}

/// Where a facility at `address` belongs: its prefecture, which must be under the
/// bureau's jurisdiction (管轄). A bureau never handles another bureau's prefecture, so
/// an address elsewhere is refused with a message naming the prefecture and the bureau.
pub fn place(address: &str, bureau: &BureauRules) -> Result<Prefecture, String> {
    let prefecture =
        prefecture_of(address, bureau).ok_or_else(|| no_prefecture_message(address))?;
    if bureau.prefectures.contains(&prefecture.code_str()) {
        Ok(prefecture)
    } else {
        let own: Vec<&str> = bureau
            .prefectures
            .iter()
            .filter_map(|c| Prefecture::parse(c).ok())
            .map(|p| p.name())
            .collect();
        Err(format!(
            "所在地「{address}」は{}で、{}の管轄ではありません（管轄: {}）。{}を管轄する地方厚生（支）局への提出を案内してください。",
            prefecture.name(),
            bureau.name,
            own.join("・"),
            prefecture.name()
        ))
    }
}

/// What the clerk must check about the postal codes (郵便番号) of `form`, whose facility
/// is in `prefecture`: a facility's postal code of another prefecture than its address
/// (a strong warning: one of them is wrong), and a 送付先's postal code of another
/// prefecture than the 送付先 address (a 送付先 may be elsewhere, but its code and
/// address must agree; an address without a prefecture is taken to be in the
/// facility's). Never a refusal: the data cannot know every new code.
pub fn postal_warnings(form: &RequestForm, prefecture: Prefecture) -> Vec<String> {
    let mut warnings = Vec::new();
    if let Some(code) = &form.facility_postal_code
        && let Some(other) = code.elsewhere_than(prefecture)
    {
        warnings.push(format!(
            "【要確認】所在地の郵便番号〒{code}は{}の番号ですが、所在地「{}」は{}です。郵便番号か所在地の誤りがないか確認してください。",
            other.name(),
            form.facility_address,
            prefecture.name()
        ));
    }
    if let Some(code) = &form.reply_postal_code {
        let address = form.reply_address.as_deref().unwrap_or_default().trim();
        let reply_prefecture = Prefecture::all()
            .find(|p| address.starts_with(p.name()))
            .unwrap_or(prefecture);
        if let Some(other) = code.elsewhere_than(reply_prefecture) {
            warnings.push(format!(
                "回答書送付先の郵便番号〒{code}は{}の番号ですが、送付先住所「{address}」は{}です。送付先を確認してください。",
                other.name(),
                reply_prefecture.name()
            ));
        }
    }
    warnings
}

/// The deadlines and the verdict of a form received on `intake.received`, with the
/// postal-code warnings ([`postal_warnings`]) when the facility's prefecture is known.
pub fn assess(intake: &Intake<'_>, form: &RequestForm) -> (Deadlines, Assessment) {
    assess_form(intake, form, intake.retroactive)
}

/// [`assess`], with 遡及指定 given for this form.
pub fn assess_form(
    intake: &Intake<'_>,
    form: &RequestForm,
    retroactive: bool,
) -> (Deadlines, Assessment) {
    let d = deadlines::deadlines(
        &intake.bureau.calendar,
        &intake.bureau.deadlines,
        form.designation_date,
    );
    let facts = RequestFacts {
        kinds: vec![form.kind],
        designation: form.designation_date,
        received: intake.received,
        retroactive,
        duplicate_of: None,
    };
    let mut verdict = eligibility::assess(&facts, &d, intake.policy);
    if let Some(prefecture) = prefecture_of(&form.facility_address, intake.bureau) {
        verdict.warnings.extend(postal_warnings(form, prefecture));
    }
    (d, verdict)
}

/// Checks that every form's facility is under the bureau's jurisdiction ([`place`]),
/// before anything is written: the first form that is not is named in the error.
pub fn place_all<'f>(
    forms: &[&'f RequestForm],
    bureau: &BureauRules,
) -> Result<Vec<(&'f RequestForm, Prefecture)>, String> {
    forms
        .iter()
        .map(|form| Ok((*form, place(&form.facility_address, bureau)?)))
        .collect()
}

/// Why [`save_forms`] saved nothing.
#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    /// A form was refused (its prefecture cannot be told, or is not the bureau's): the
    /// user's to correct.
    #[error("{0}")]
    Refused(String),
    /// The database failed: the system's problem, not the user's input.
    #[error(transparent)]
    Store(#[from] crate::Error),
}

/// Saves `forms` in one transaction (all or nothing). A form whose prefecture cannot be
/// told, or is not the bureau's ([`place`]), or that the receiving office does not
/// cover ([`check_office`]), is refused before anything is written.
pub async fn save_forms(
    db: &DatabaseConnection,
    intake: &Intake<'_>,
    forms: &[&RequestForm],
    actor: &Actor,
) -> Result<Saved, SaveError> {
    let placed = place_all(forms, intake.bureau).map_err(SaveError::Refused)?;
    save(db, intake, &placed, actor).await.map_err(|e| match e {
        crate::Error::Field { message, .. } => SaveError::Refused(message),
        e => SaveError::Store(e),
    })
}

/// Saves placed forms in one transaction. A save that lost a race with an identical one
/// (the unique index of migration 8 refused a row, or SQLite's write lock was taken
/// meanwhile) is run again, and then finds those requests already present: a double
/// click or a retry saves once.
async fn save(
    db: &DatabaseConnection,
    intake: &Intake<'_>,
    forms: &[(&RequestForm, Prefecture)],
    actor: &Actor,
) -> crate::Result<Saved> {
    crate::issuance::retrying(|| async {
        let txn = db.begin().await?;
        let saved = save_in(&txn, intake, forms, actor, None).await?;
        txn.commit().await?;
        Ok(saved)
    })
    .await
}

/// How many keys one duplicate look-up asks for (well under SQLite's and PostgreSQL's
/// limits on bound parameters).
const LOOKUP_CHUNK: usize = 500;

/// The requests already recorded among `forms`, as (kind, designation date, key): one
/// indexed query per [`LOOKUP_CHUNK`] keys, plus one for requests recorded before the key
/// existed (compared by folded name and address, as [`requests::find_duplicate`] does).
async fn already_recorded<C: ConnectionTrait>(
    conn: &C,
    bureau_id: &str,
    forms: &[(&RequestForm, Prefecture)],
) -> crate::Result<HashSet<(RequestKind, NaiveDate, String)>> {
    use reception_request::Column as C;
    let live = || {
        reception_request::Entity::find()
            .filter(C::BureauId.eq(bureau_id))
            .filter(C::Status.is_not_in(CaseStatus::CLOSED_WITHOUT_NUMBER))
    };
    let keys: BTreeSet<String> = forms
        .iter()
        .map(|(f, _)| requests::dedupe_key(&f.facility_name, &f.facility_address))
        .collect();
    let keys: Vec<String> = keys.into_iter().collect();
    let mut found = HashSet::new();
    for chunk in keys.chunks(LOOKUP_CHUNK) {
        let rows: Vec<(RequestKind, NaiveDate, Option<String>)> = live()
            .select_only()
            .columns([C::Kind, C::DesignationDate, C::DedupeKey])
            .filter(C::DedupeKey.is_in(chunk.iter().cloned()))
            .into_tuple()
            .all(conn)
            .await?;
        found.extend(
            rows.into_iter()
                .filter_map(|(kind, date, key)| Some((kind, date, key?))),
        );
    }
    let dates: BTreeSet<NaiveDate> = forms.iter().map(|(f, _)| f.designation_date).collect();
    let legacy: Vec<(RequestKind, NaiveDate, String, String)> = live()
        .select_only()
        .columns([
            C::Kind,
            C::DesignationDate,
            C::FacilityName,
            C::FacilityAddress,
        ])
        .filter(C::DedupeKey.is_null())
        .filter(C::DesignationDate.is_in(dates))
        .into_tuple()
        .all(conn)
        .await?;
    found.extend(
        legacy
            .into_iter()
            .map(|(kind, date, name, address)| (kind, date, requests::dedupe_key(&name, &address))),
    );
    Ok(found)
}

/// How many audit entries go into one INSERT.
const AUDIT_CHUNK: usize = 200;

/// The save itself, inside the caller's transaction: one look-up for the duplicates of
/// the whole batch, then each facility and request inserted, and their audit entries
/// written in batches; `progress` counts the forms done. A caller that gets a unique
/// violation (an identical save won a race) may roll back and run it once more: it then
/// finds those requests already present.
pub async fn save_in<C: ConnectionTrait>(
    conn: &C,
    intake: &Intake<'_>,
    forms: &[(&RequestForm, Prefecture)],
    actor: &Actor,
    progress: Option<&AtomicUsize>,
) -> crate::Result<Saved> {
    let offices = crate::entities::office::Entity::find()
        .filter(crate::entities::office::Column::BureauId.eq(intake.bureau.id.as_str()))
        .all(conn)
        .await?;
    if let Some(office_id) = intake.office_id {
        for (form, prefecture) in forms {
            check_office(&offices, office_id, form, *prefecture)?;
        }
    }
    let mut recorded = already_recorded(conn, &intake.bureau.id, forms).await?;
    let mut saved = Saved::default();
    let mut entries = Vec::with_capacity(AUDIT_CHUNK);
    for (index, (form, prefecture)) in forms.iter().enumerate() {
        let key = requests::dedupe_key(&form.facility_name, &form.facility_address);
        if !recorded.insert((form.kind, form.designation_date, key.clone())) {
            saved.already_present += 1;
        } else {
            let retroactive = intake.is_retroactive(index);
            let (d, verdict) = assess_form(intake, form, retroactive);
            let facility = requests::new_facility(&NewFacility {
                bureau_id: intake.bureau.id.clone(),
                prefecture: prefecture.code_str(),
                name: form.facility_name.clone(),
                name_search: search_key(&form.facility_name),
                postal_code: form.facility_postal_code.as_ref().map(|p| p.to_string()),
                address: form.facility_address.clone(),
                municipality: uketsuke_rules::numbering::municipality_of(&form.facility_address),
                phone: Some(form.contact_phone.to_string()),
            })
            .insert(conn)
            .await?;
            entries.push(requests::facility_created(actor, &facility));
            // The receiving office, or else the one office of the facility's prefecture.
            let office_id = intake
                .office_id
                .or_else(|| office_for(&offices, &prefecture.code_str()));
            let mut row = request_row(form, intake, facility.id, key, &d, &verdict);
            row.office_id = Set(office_id);
            row.retroactive = Set(retroactive);
            let request = requests::new_request(row).insert(conn).await?;
            entries.push(requests::request_created(actor, &request));
            saved.created.push(request.id);
            saved.created_forms.push(index);
            if entries.len() >= AUDIT_CHUNK {
                audit::insert_all(conn, std::mem::take(&mut entries)).await?;
            }
        }
        if let Some(progress) = progress {
            progress.store(index + 1, Ordering::Relaxed);
        }
    }
    audit::insert_all(conn, entries).await?;
    Ok(saved)
}

/// Whether office `office_id` (of the bureau's `offices`) covers `prefecture`, where
/// the facility of `form` is: a request goes to an office of its own prefecture, so
/// another is refused with the offices that do cover it (管轄の事務所).
pub fn check_office(
    offices: &[crate::entities::office::Model],
    office_id: i32,
    form: &RequestForm,
    prefecture: Prefecture,
) -> crate::Result<()> {
    let covering = offices_covering(offices, prefecture);
    let Some(office) = offices.iter().find(|o| o.id == office_id) else {
        return Err(crate::Error::Field {
            field: "office",
            message: "選択された事務所はこの局の事務所ではありません。".to_owned(),
        });
    };
    if covering.iter().any(|o| o.id == office_id) {
        return Ok(());
    }
    let covering: Vec<&str> = covering.iter().map(|o| o.name.as_str()).collect();
    Err(crate::Error::Field {
        field: "office",
        message: format!(
            "「{}」（所在地「{}」）は{}の医療機関で、{}の管轄ではありません。{}で受け付けてください。",
            form.facility_name,
            form.facility_address,
            prefecture.name(),
            office.name,
            if covering.is_empty() {
                format!("{}を管轄する事務所", prefecture.name())
            } else {
                covering.join("・")
            }
        ),
    })
}

/// The offices of a bureau that cover `prefecture` (the choices for a facility there).
pub fn offices_covering(
    offices: &[crate::entities::office::Model],
    prefecture: Prefecture,
) -> Vec<&crate::entities::office::Model> {
    offices
        .iter()
        .filter(|o| {
            o.prefectures
                .split(',')
                .any(|p| p.trim() == prefecture.code_str())
        })
        .collect()
}

/// The office of a bureau that covers `prefecture`, when exactly one does.
fn office_for(offices: &[crate::entities::office::Model], prefecture: &str) -> Option<i32> {
    let mut covering = offices
        .iter()
        .filter(|o| o.prefectures.split(',').any(|p| p.trim() == prefecture));
    match (covering.next(), covering.next()) {
        (Some(only), None) => Some(only.id),
        _ => None,
    }
}

/// Sets the fields of a request that come from its 別紙1 on a request row (new or
/// corrected), as stored.
pub fn set_form_fields(r: &mut reception_request::ActiveModel, form: &RequestForm) {
    let (founder_name, corporation, title, representative) = match &form.founder {
        Founder::Person { name } => (Some(name.clone()), None, None, None),
        Founder::Corporation {
            name,
            representative_title,
            representative_name,
        } => (
            None,
            Some(name.clone()),
            representative_title.clone(),
            representative_name.clone(),
        ),
    };
    r.kind = Set(form.kind);
    r.designation_date = Set(form.designation_date);
    r.request_date = Set(form.request_date);
    r.reply_postal_code = Set(form.reply_postal_code.as_ref().map(|p| p.to_string()));
    r.reply_address = Set(form.reply_address.clone().unwrap_or_default());
    r.reply_name = Set(form.reply_name.clone().unwrap_or_default());
    r.facility_name = Set(form.facility_name.clone());
    r.facility_postal_code = Set(form.facility_postal_code.as_ref().map(|p| p.to_string()));
    r.facility_address = Set(form.facility_address.clone());
    r.founder_kind = Set(if founder_name.is_some() {
        FounderKind::Person
    } else {
        FounderKind::Corporation
    });
    r.founder_name = Set(founder_name);
    r.corporation_name = Set(corporation);
    r.representative_title = Set(title);
    r.representative_name = Set(representative);
    r.registration_number = Set(form.founder_registration.clone());
    r.contact_phone = Set(form.contact_phone.to_string());
}

/// A 受付日 must not be after today (in Japan): paper cannot arrive tomorrow.
pub fn check_received(received: NaiveDate, today: NaiveDate) -> Result<(), String> {
    if received > today {
        Err(format!(
            "受付日（{}）が未来の日付です。書類が届いた日を入力してください。",
            uketsuke_domain::format_wareki(received)
        ))
    } else {
        Ok(())
    }
}

fn request_row(
    form: &RequestForm,
    intake: &Intake<'_>,
    facility_id: i32,
    dedupe_key: String,
    d: &Deadlines,
    verdict: &Assessment,
) -> reception_request::ActiveModel {
    let mut row = reception_request::ActiveModel {
        bureau_id: Set(intake.bureau.id.clone()),
        office_id: Set(intake.office_id),
        facility_id: Set(facility_id),
        status: Set(CaseStatus::Received),
        received_on: Set(intake.received),
        contact_name: Set(None),
        dedupe_key: Set(Some(dedupe_key)),
        retroactive: Set(intake.retroactive),
        submission_deadline: Set(d.submission_deadline),
        answer_due: Set(d.answer_due),
        implementing_body_due: Set(d.implementing_body_due),
        decision: Set(verdict.decision.into()),
        reasons: Set(requests::texts(&verdict.reasons)),
        warnings: Set(requests::texts(&verdict.warnings)),
        ..Default::default()
    };
    set_form_fields(&mut row, form);
    row
}
