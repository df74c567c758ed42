//! Importing files (取込): request forms (別紙1) and monthly lists, or — with
//! `--registry` — the bureaus' published lists of existing codes. Reading is the ingest
//! crate's; this module decides what is written: each file in one transaction, whole or
//! not at all (unless the user asks for the valid rows only), and nothing twice — a
//! request already recorded (same facility, kind and designation date) or a code
//! already in the registry is skipped.

use std::path::Path;

use sea_orm::{DatabaseConnection, Set, TransactionTrait};
use serde::Serialize;
use serde_json::{Value, json};
use uketsuke_domain::{Prefecture, search_key};
use uketsuke_ingest::{Founder, Limits, Problem, RequestForm};
use uketsuke_rules::eligibility::{self, RequestFacts};
use uketsuke_store::audit::Actor;
use uketsuke_store::entities::reception_request;
use uketsuke_store::registry::NewRegistryEntry;
use uketsuke_store::requests::{self, DuplicateProbe, NewFacility, status};

use crate::settings::{BureauSettings, Settings};

/// How to import.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// Read and check only; write nothing.
    pub dry_run: bool,
    /// The files are registries of existing codes, not requests.
    pub registry: bool,
    /// Write the valid rows of a file that has errors (otherwise nothing of it).
    pub valid_rows: bool,
    /// The bureau the requests were sent to.
    pub bureau: String,
    /// The office that received them, if one.
    pub office: Option<String>,
}

/// One problem, as the JSON output shows it.
#[derive(Debug, Clone, Serialize)]
pub struct ErrorJson {
    pub sheet: Option<String>,
    pub cell: Option<String>,
    pub field: Option<String>,
    pub message: String,
}

/// What happened to one file.
#[derive(Debug, Clone, Serialize)]
pub struct FileReport {
    pub file: String,
    /// The requests read (registry imports leave this empty).
    pub requests: Vec<Value>,
    pub errors: Vec<ErrorJson>,
    /// With `--registry`: how many distinct codes the file holds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registry_entries: Option<usize>,
    /// What was written: `null` on a dry run or when the file was refused.
    pub written: Option<Value>,
}

impl FileReport {
    fn new(file: &str) -> Self {
        Self {
            file: file.to_owned(),
            requests: Vec::new(),
            errors: Vec::new(),
            registry_entries: None,
            written: None,
        }
    }

    fn problem(&mut self, p: &Problem) {
        self.errors.push(ErrorJson {
            sheet: p.sheet.clone(),
            cell: p.cell.clone(),
            field: p.field.clone(),
            message: p.message.clone(),
        });
    }
}

/// Imports each file; one file's failure does not stop the others.
pub async fn import_files(
    db: Option<&DatabaseConnection>,
    settings: &Settings,
    files: &[impl AsRef<Path>],
    options: &ImportOptions,
    actor: &Actor,
) -> anyhow::Result<Vec<FileReport>> {
    let bureau = settings.bureau(&options.bureau)?;
    let limits = settings.ingest.clone();
    let mut reports = Vec::new();
    for path in files {
        let path = path.as_ref();
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut report = FileReport::new(&path.display().to_string());
        let bytes = match read_limited(path, limits.max_file_bytes) {
            Ok(b) => b,
            Err(message) => {
                report.errors.push(ErrorJson {
                    sheet: None,
                    cell: None,
                    field: None,
                    message,
                });
                reports.push(report);
                continue;
            }
        };
        if options.registry {
            import_registry(db, &name, &bytes, &limits, options, actor, &mut report).await?;
        } else {
            let context = RequestContext {
                bureau,
                policy: &settings.eligibility,
                options,
                actor,
            };
            import_requests(db, &context, &name, &bytes, &limits, &mut report).await?;
        }
        reports.push(report);
    }
    Ok(reports)
}

/// Reads a file, refusing one larger than the limit before reading it.
fn read_limited(path: &Path, max: u64) -> Result<Vec<u8>, String> {
    let meta = std::fs::metadata(path)
        .map_err(|e| format!("{}: ファイルを開けません（{e}）", path.display()))?;
    if meta.len() > max {
        return Err(format!(
            "{}: ファイルが大きすぎます（{} バイト、上限 {} バイト）",
            path.display(),
            meta.len(),
            max
        ));
    }
    std::fs::read(path).map_err(|e| format!("{}: ファイルを読めません（{e}）", path.display()))
}

/// Where requests go and how they are judged.
struct RequestContext<'a> {
    bureau: &'a BureauSettings,
    policy: &'a eligibility::EligibilityPolicy,
    options: &'a ImportOptions,
    actor: &'a Actor,
}

async fn import_requests(
    db: Option<&DatabaseConnection>,
    context: &RequestContext<'_>,
    name: &str,
    bytes: &[u8],
    limits: &Limits,
    report: &mut FileReport,
) -> anyhow::Result<()> {
    let (bureau, options, actor) = (context.bureau, context.options, context.actor);
    let outcome = match uketsuke_ingest::read_requests(name, bytes, limits) {
        Ok(o) => o,
        Err(e) => {
            report.problem(&e.to_problem(name));
            return Ok(());
        }
    };
    for p in &outcome.problems {
        report.problem(p);
    }
    // Every request needs a prefecture; one that cannot be told is an error too.
    let mut ready = Vec::new();
    for item in &outcome.items {
        report.requests.push(item.value.to_json());
        match prefecture_of(&item.value.facility_address, bureau) {
            Some(p) => ready.push((item, p)),
            None => report.errors.push(ErrorJson {
                sheet: Some(item.sheet.clone()),
                cell: Some(item.cell_or_row.clone()),
                field: Some("facility_address".to_owned()),
                message: format!(
                    "所在地「{}」から都道府県が分かりません。都道府県名から記載してください。",
                    item.value.facility_address
                ),
            }),
        }
    }
    let Some(db) = db.filter(|_| !options.dry_run) else {
        return Ok(());
    };
    if !report.errors.is_empty() && !options.valid_rows {
        return Ok(());
    }
    let office_id = match &options.office {
        Some(code) => uketsuke_store::bureaus::office_id(db, &bureau.id, code).await?,
        None => None,
    };
    let calendar = bureau.calendar()?;
    let today = crate::jobs::now_in_japan().date();
    let txn = db.begin().await?;
    let (mut created, mut duplicates) = (0, 0);
    for (item, prefecture) in ready {
        let form = &item.value;
        let probe = DuplicateProbe {
            bureau_id: &bureau.id,
            facility_name: &form.facility_name,
            facility_address: &form.facility_address,
            kind: form.kind,
            designation: form.designation_date,
            exclude_id: None,
        };
        if requests::find_duplicate(&txn, &probe).await?.is_some() {
            duplicates += 1;
            continue;
        }
        let deadlines = uketsuke_rules::deadlines::deadlines(
            &calendar,
            &bureau.deadlines,
            form.designation_date,
        );
        let facts = RequestFacts {
            kinds: vec![form.kind],
            designation: form.designation_date,
            received: today,
            retroactive: false,
            duplicate_of: None,
        };
        let assessment = eligibility::assess(&facts, &deadlines, context.policy);
        let facility = requests::insert_facility(
            &txn,
            &NewFacility {
                bureau_id: bureau.id.clone(),
                prefecture: prefecture.code_str(),
                name: form.facility_name.clone(),
                name_search: search_key(&form.facility_name),
                postal_code: form.facility_postal_code.as_ref().map(|p| p.to_string()),
                address: form.facility_address.clone(),
                municipality: uketsuke_rules::numbering::municipality_of(&form.facility_address),
                phone: Some(form.contact_phone.to_string()),
            },
            actor,
        )
        .await?;
        requests::insert_request(
            &txn,
            request_row(
                form,
                bureau,
                office_id,
                facility.id,
                today,
                &deadlines,
                &assessment,
            ),
            actor,
        )
        .await?;
        created += 1;
    }
    txn.commit().await?;
    report.written = Some(json!({ "created": created, "already_present": duplicates }));
    Ok(())
}

fn request_row(
    form: &RequestForm,
    bureau: &BureauSettings,
    office_id: Option<i32>,
    facility_id: i32,
    received: chrono::NaiveDate,
    deadlines: &uketsuke_rules::deadlines::Deadlines,
    assessment: &eligibility::Assessment,
) -> reception_request::ActiveModel {
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
    reception_request::ActiveModel {
        bureau_id: Set(bureau.id.clone()),
        office_id: Set(office_id),
        facility_id: Set(facility_id),
        kind: Set(form.kind.as_str().to_owned()),
        status: Set(status::RECEIVED.to_owned()),
        designation_date: Set(form.designation_date),
        request_date: Set(form.request_date),
        received_on: Set(received),
        reply_postal_code: Set(form.reply_postal_code.as_ref().map(|p| p.to_string())),
        reply_address: Set(form.reply_address.clone().unwrap_or_default()),
        reply_name: Set(form.reply_name.clone().unwrap_or_default()),
        facility_name: Set(form.facility_name.clone()),
        facility_postal_code: Set(form.facility_postal_code.as_ref().map(|p| p.to_string())),
        facility_address: Set(form.facility_address.clone()),
        founder_kind: Set(if founder_name.is_some() {
            "person"
        } else {
            "corporation"
        }
        .to_owned()),
        founder_name: Set(founder_name),
        corporation_name: Set(corporation),
        representative_title: Set(title),
        representative_name: Set(representative),
        registration_number: Set(form.founder_registration.clone()),
        contact_name: Set(None),
        contact_phone: Set(form.contact_phone.to_string()),
        retroactive: Set(false),
        submission_deadline: Set(deadlines.submission_deadline),
        answer_due: Set(deadlines.answer_due),
        implementing_body_due: Set(deadlines.implementing_body_due),
        decision: Set(if assessment.eligible {
            "accept"
        } else {
            "return"
        }
        .to_owned()),
        reasons: Set(requests::texts(&assessment.reasons)),
        warnings: Set(requests::texts(&assessment.warnings)),
        ..Default::default()
    }
}

/// The prefecture an address is in: its leading prefecture name, or the bureau's only
/// prefecture when it has one.
pub fn prefecture_of(address: &str, bureau: &BureauSettings) -> Option<Prefecture> {
    let address = address.trim();
    Prefecture::all()
        .find(|p| address.starts_with(p.name()))
        .or_else(|| match bureau.prefectures.as_slice() {
            [only] => Prefecture::parse(only).ok(),
            _ => None,
        })
}

#[allow(clippy::too_many_arguments)]
async fn import_registry(
    db: Option<&DatabaseConnection>,
    name: &str,
    bytes: &[u8],
    limits: &Limits,
    options: &ImportOptions,
    actor: &Actor,
    report: &mut FileReport,
) -> anyhow::Result<()> {
    let outcome = match uketsuke_ingest::read_registry(name, bytes, limits) {
        Ok(o) => o,
        Err(e) => {
            report.problem(&e.to_problem(name));
            return Ok(());
        }
    };
    for p in &outcome.problems {
        report.problem(p);
    }
    let entries: Vec<NewRegistryEntry> = outcome
        .values()
        .map(|e| NewRegistryEntry {
            code: e.code.clone(),
            name: e.name.clone(),
            address: e.address.clone(),
            municipality: e.municipality.clone(),
        })
        .collect();
    report.registry_entries = Some(entries.len());
    let Some(db) = db.filter(|_| !options.dry_run) else {
        return Ok(());
    };
    if !report.errors.is_empty() && !options.valid_rows {
        return Ok(());
    }
    let counts = uketsuke_store::registry::import(db, name, &entries, actor).await?;
    report.written = Some(json!({
        "entries": entries.len(),
        "added": counts.added,
        "already_present": counts.already_present,
    }));
    Ok(())
}
