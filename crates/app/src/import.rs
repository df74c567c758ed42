//! Importing files (取込): request forms (別紙1) and monthly lists, or — with
//! `--registry` — the bureaus' published lists of existing codes. Reading is the ingest
//! crate's; this module decides what is written: each file in one transaction, whole or
//! not at all (unless the user asks for the valid rows only), and nothing twice — a
//! request already recorded (same facility, kind and designation date) or a code
//! already in the registry is skipped.

use std::path::Path;

use sea_orm::DatabaseConnection;
use serde::Serialize;
use serde_json::{Value, json};
use uketsuke_ingest::{Limits, Problem, RequestForm};
use uketsuke_rules::eligibility;
use uketsuke_store::audit::Actor;
use uketsuke_store::bureaus::BureauRules;
use uketsuke_store::intake::{Intake, place, save_forms};
use uketsuke_store::registry::NewRegistryEntry;

use crate::settings::Settings;

/// How to import.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// Read and check only; write nothing.
    pub dry_run: bool,
    /// The files are registries of existing codes, not requests.
    pub registry: bool,
    /// Write the valid rows of a file that has errors (otherwise nothing of it).
    pub valid_rows: bool,
    /// With `registry`: the date of a list whose title gives none (else today).
    pub as_of: Option<chrono::NaiveDate>,
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
    /// For a 別紙2 (導入計画書): each plan read, with its items by number. A plan
    /// belongs to a case, so it is uploaded on the case page; the CLI only reads it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plans: Option<Vec<Value>>,
    pub errors: Vec<ErrorJson>,
    /// With `--registry`: how many distinct codes the file holds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registry_entries: Option<usize>,
    /// With `--registry`: the list's date, against which our numbers are reconciled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub as_of: Option<chrono::NaiveDate>,
    /// Where that date came from: `title` (the list's 「…現在」), `option` (`--as-of`)
    /// or `today`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub as_of_from: Option<&'static str>,
    /// What was written: `null` on a dry run or when the file was refused.
    pub written: Option<Value>,
}

impl FileReport {
    fn new(file: &str) -> Self {
        Self {
            file: file.to_owned(),
            requests: Vec::new(),
            plans: None,
            errors: Vec::new(),
            registry_entries: None,
            as_of: None,
            as_of_from: None,
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
    let rules = crate::startup::bureau_rules(settings)?;
    let id = &settings.bureau(&options.bureau)?.id;
    let bureau = rules
        .get(id)
        .ok_or_else(|| anyhow::anyhow!("局 {id} の設定がありません"))?;
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
        if !options.registry && uketsuke_ingest::is_plan_workbook(&name, &bytes, &limits) {
            read_plans(&name, &bytes, &limits, &mut report);
        } else if options.registry {
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

/// Reads the 別紙2 plans of a file: each plan with its items by number, and as errors
/// what could not be read and what the check finds without a case (items left blank,
/// dates out of order), each placed at its item's cell. Nothing is written.
fn read_plans(name: &str, bytes: &[u8], limits: &Limits, report: &mut FileReport) {
    let outcome = match uketsuke_ingest::read_plans(name, bytes, limits) {
        Ok(Some(o)) => o,
        Ok(None) => return,
        Err(e) => {
            report.problem(&e.to_problem(name));
            return;
        }
    };
    for p in &outcome.problems {
        report.problem(p);
    }
    let mut plans = Vec::new();
    for item in &outcome.items {
        let read = &item.value;
        plans.push(json!({
            "sheet": item.sheet,
            "cell": item.cell_or_row,
            "items": read.plan.to_json(),
        }));
        for finding in uketsuke_rules::plan::check(&read.plan, None) {
            report.errors.push(ErrorJson {
                sheet: Some(item.sheet.clone()),
                cell: read.cell_of(finding.item, finding.part).cloned(),
                field: Some(format!("plan_{}", finding.item)),
                message: finding.message,
            });
        }
    }
    report.plans = Some(plans);
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
    // Read through a limit whatever the metadata said (a device such as /dev/zero, or a
    // file that grows, reports a size that means nothing).
    use std::io::Read;
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(max.saturating_add(1)).read_to_end(&mut bytes))
        .map_err(|e| format!("{}: ファイルを読めません（{e}）", path.display()))?;
    if bytes.len() as u64 > max {
        return Err(format!(
            "{}: ファイルが大きすぎます（上限 {} バイト）",
            path.display(),
            max
        ));
    }
    Ok(bytes)
}

/// Where requests go and how they are judged.
struct RequestContext<'a> {
    bureau: &'a BureauRules,
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
    // Every request needs a prefecture of the bureau's; one that cannot be told, or is
    // another bureau's, is an error too.
    let mut ready = Vec::new();
    for item in &outcome.items {
        report.requests.push(item.value.to_json());
        match place(&item.value.facility_address, bureau) {
            Ok(_) => ready.push(item),
            Err(message) => report.errors.push(ErrorJson {
                sheet: Some(item.sheet.clone()),
                cell: Some(item.cell_or_row.clone()),
                field: Some("facility_address".to_owned()),
                message,
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
        Some(code) => Some(
            uketsuke_store::bureaus::office_id(db, &bureau.id, code)
                .await?
                .ok_or_else(|| {
                    anyhow::anyhow!(
                        "事務所「{code}」は局 {} の設定にありません（config/bureaus/{}.toml の offices）",
                        bureau.id,
                        bureau.id
                    )
                })?,
        ),
        None => None,
    };
    let intake = Intake {
        bureau,
        policy: context.policy,
        office_id,
        received: crate::jobs::now_in_japan().date(),
        retroactive: false,
        retroactive_forms: &[],
    };
    let forms: Vec<&RequestForm> = ready.iter().map(|item| &item.value).collect();
    match save_forms(db, &intake, &forms, actor).await {
        Ok(saved) => {
            report.written = Some(json!({
                "created": saved.created.len(),
                "already_present": saved.already_present,
            }))
        }
        Err(uketsuke_store::intake::SaveError::Refused(message)) => report.errors.push(ErrorJson {
            sheet: None,
            cell: None,
            field: None,
            message,
        }),
        // The database failed: not a problem of the file, so the command fails.
        Err(uketsuke_store::intake::SaveError::Store(e)) => return Err(e.into()),
    }
    Ok(())
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
    let (outcome, title_date) = match uketsuke_ingest::read_registry_list(name, bytes, limits) {
        Ok(list) => (list.outcome, list.as_of),
        Err(e) => {
            report.problem(&e.to_problem(name));
            return Ok(());
        }
    };
    // The list's date: its title's 「…現在」, else --as-of, else today. A --as-of that
    // contradicts the title is an error rather than a silent choice.
    let (as_of, from) = match (title_date, options.as_of) {
        (Some(title), Some(given)) if title != given => {
            report.errors.push(ErrorJson {
                sheet: None,
                cell: None,
                field: Some("as_of".to_owned()),
                message: format!(
                    "一覧の表題の日付（{title}現在）と --as-of（{given}）が異なります。--as-of を外すか、正しい一覧を指定してください。"
                ),
            });
            (title, "title")
        }
        (Some(title), _) => (title, "title"),
        (None, Some(given)) => (given, "option"),
        (None, None) => (crate::jobs::now_in_japan().date(), "today"),
    };
    report.as_of = Some(as_of);
    report.as_of_from = Some(from);
    for p in &outcome.problems {
        report.problem(p);
    }
    let listed = outcome.values().count();
    // Each entry's own code, and the 併設 code of the other kind it names.
    let entries: Vec<NewRegistryEntry> = outcome
        .values()
        .flat_map(|e| {
            NewRegistryEntry {
                code: e.code.clone(),
                name: e.name.clone(),
                address: e.address.clone(),
                municipality: e.municipality.clone(),
                combined: e.combined.clone(),
            }
            .with_combined()
        })
        .collect();
    let combined = entries.len() - listed;
    report.registry_entries = Some(listed);
    let Some(db) = db.filter(|_| !options.dry_run) else {
        return Ok(());
    };
    if !report.errors.is_empty() && !options.valid_rows {
        return Ok(());
    }
    let own: Vec<uketsuke_domain::InstitutionCode> =
        outcome.values().map(|e| e.code.clone()).collect();
    let (counts, reconciled) =
        uketsuke_store::registry::import_list(db, name, as_of, &entries, &own, actor).await?;
    report.written = Some(json!({
        "entries": listed,
        "combined": combined,
        "added": counts.added,
        "already_present": counts.already_present,
        "confirmed": reconciled.confirmed,
        "already_confirmed": reconciled.already_confirmed,
    }));
    Ok(())
}
