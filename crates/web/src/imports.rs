//! Saving a confirmed upload as a background job (取込の登録処理). The save runs as a
//! task of its own, so a browser that gives up (or a proxy that times out) does not
//! cancel it; the clerk follows it on the job's page, which refreshes itself while the
//! job runs and shows the result when it is done — also later, from the upload page's
//! list of recent imports.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use uketsuke_domain::{RequestForm, format_wareki};
use uketsuke_store::audit::Actor;
use uketsuke_store::entities::import_job::{self, ImportScope};
use uketsuke_store::entities::upload;
use uketsuke_store::imports::{self, JobState, SavedRequest};
use uketsuke_store::intake::{self, Intake};

use crate::auth::CurrentUser;
use crate::error::Error;
use crate::layout::Layout;
use crate::state::AppState;

/// How long a confirmation waits for its job before sending the clerk to the job's
/// page: a small file is shown saved at once, a large one shows its progress.
const WAIT: Duration = Duration::from_secs(2);

/// How many saved requests a job's page lists by name.
const LISTED: usize = 200;

/// The jobs this process is running, with how many of their forms are done.
#[derive(Default)]
pub struct Running(Mutex<HashMap<i32, Arc<AtomicUsize>>>);

impl Running {
    fn add(&self, id: i32) -> Arc<AtomicUsize> {
        let progress = Arc::new(AtomicUsize::new(0));
        self.lock().insert(id, progress.clone());
        progress
    }

    fn remove(&self, id: i32) {
        self.lock().remove(&id);
    }

    /// How many forms job `id` has done, if this process runs it.
    pub fn progress(&self, id: i32) -> Option<usize> {
        self.lock().get(&id).map(|p| p.load(Ordering::Relaxed))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<i32, Arc<AtomicUsize>>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Starts the job that saves `upload` (whole, or with `scope` "valid" only its valid
/// requests), or finds the job that already saves or saved it; then sends the clerk to
/// its page once it is done or [`WAIT`] has passed. Everything after the job's start —
/// reading the file again, the checks, the save — runs in the job's own task.
pub async fn run(
    state: &AppState,
    user: &CurrentUser,
    upload: upload::Model,
    scope: ImportScope,
    received_on: chrono::NaiveDate,
    retroactive: &[usize],
) -> Result<Response, Error> {
    let new = imports::NewJob {
        upload_id: &upload.id,
        user_id: user.user.id,
        bureau_id: &user.user.bureau_id,
        file_name: &upload.file_name,
        scope,
        received_on,
        retroactive,
        total: 0,
    };
    let job = match imports::start(&state.db, &new).await? {
        imports::Start::Started(job) => job,
        // A second confirmation (a double click, a retry): the one job is shown.
        imports::Start::Exists(job) => return Ok(to_page(job.id)),
    };
    let id = job.id;
    let progress = state.imports.add(id);
    let task = tokio::spawn(work(
        state.clone(),
        job,
        upload,
        user.user.office_id,
        user.actor(),
        progress,
    ));
    // Waiting only: if this request is cancelled, the task goes on.
    let _ = tokio::time::timeout(WAIT, task).await;
    Ok(to_page(id))
}

fn to_page(id: i32) -> Response {
    Redirect::to(&format!("/requests/upload/jobs/{id}")).into_response()
}

/// The job itself: reads the upload, checks it, and saves it in one transaction that
/// also records the result and drops the upload; on failure records why (nothing was
/// saved, the upload stays for another try).
async fn work(
    state: AppState,
    job: import_job::Model,
    upload: upload::Model,
    office_id: Option<i32>,
    actor: Actor,
    progress: Arc<AtomicUsize>,
) {
    let heartbeat = imports::needs_heartbeat(&state.db).then(|| {
        let (db, id) = (state.db.clone(), job.id);
        tokio::spawn(async move {
            let mut every = tokio::time::interval(imports::HEARTBEAT.to_std().unwrap_or_default());
            loop {
                every.tick().await;
                if let Err(e) = imports::beat(&db, id).await {
                    tracing::warn!(job = id, error = %e, "import job heartbeat failed");
                }
            }
        })
    });
    let outcome = read_and_save(&state, &job, upload, office_id, &actor, &progress).await;
    if let Some(heartbeat) = heartbeat {
        heartbeat.abort();
    }
    match outcome {
        Ok(forms) => tracing::info!(job = job.id, forms, "import job done"),
        Err(message) => {
            tracing::warn!(job = job.id, "import job saved nothing");
            if let Err(e) = imports::fail(&state.db, job.id, &message).await {
                tracing::error!(job = job.id, error = %e, "could not record the import job's failure");
            }
        }
    }
    state.imports.remove(job.id);
}

/// Reads, checks and saves; the number of forms, or what to tell the clerk.
async fn read_and_save(
    state: &AppState,
    job: &import_job::Model,
    upload: upload::Model,
    office_id: Option<i32>,
    actor: &Actor,
    progress: &AtomicUsize,
) -> Result<usize, String> {
    let (outcome, _) = crate::entry::read_bounded(state, upload.file_name, upload.bytes)
        .await
        .map_err(|e| e.to_string())?;
    let outcome = outcome.map_err(|e| e.to_string())?;
    if !outcome.problems.is_empty() && job.scope != ImportScope::Valid {
        return Err("問題のあるファイルは登録しませんでした。問題を直して取り込み直すか、正しい依頼だけを登録してください。".to_owned());
    }
    let forms: Vec<RequestForm> = outcome.items.into_iter().map(|item| item.value).collect();
    imports::set_total(&state.db, job.id, forms.len())
        .await
        .map_err(|e| e.to_string())?;
    let bureau = state
        .bureau(&job.bureau_id)
        .ok_or_else(|| format!("局「{}」の設定がありません。", job.bureau_id))?;
    let marked = imports::retroactive_rows(job);
    let intake = Intake {
        bureau,
        policy: &state.eligibility,
        office_id,
        received: job.received_on,
        retroactive: false,
        retroactive_forms: &marked,
    };
    let refs: Vec<&RequestForm> = forms.iter().collect();
    let placed = intake::place_all(&refs, bureau)?;
    imports::save(&state.db, job, &intake, &placed, actor, progress)
        .await
        .map_err(|e| {
            format!(
                "登録できませんでした（{e}）。何も登録されていません。もう一度登録してください。"
            )
        })?;
    Ok(forms.len())
}

#[derive(Template, WebTemplate)]
#[template(path = "upload_job.html")]
pub struct JobPage {
    layout: Layout,
    job: import_job::Model,
    state: JobState,
    /// Forms done so far, while running here.
    done: Option<usize>,
    saved: Vec<SavedRequest>,
    /// Saved requests not listed by name.
    more: usize,
    already_present: usize,
    started: String,
    /// The 受付日 in 和暦.
    received: String,
    /// Whether the upload is still kept (a failed job can be tried again).
    retry: bool,
    /// The rows marked 遡及 (sent again with a retry).
    retro_rows: Vec<usize>,
    /// For the saved requests listed: the other kind's open requests of the same
    /// facility, offered as their 併設 pair.
    pairs: std::collections::HashMap<i32, Vec<i32>>,
}

impl JobPage {
    /// The 併設 candidates of a saved request, as 「受付ID 12・15」 ("" when none).
    pub fn pair_of(&self, id: &i32) -> String {
        self.pairs
            .get(id)
            .map(|ids| {
                ids.iter()
                    .map(i32::to_string)
                    .collect::<Vec<_>>()
                    .join("・")
            })
            .unwrap_or_default()
    }
}

/// `GET /requests/upload/jobs/{id}`: the job's progress or result, for its uploader.
pub async fn page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i32>,
) -> Result<JobPage, Error> {
    let job = imports::get(&state.db, id, user.user.id)
        .await?
        .ok_or(Error::NotFound)?;
    let done = state.imports.progress(id);
    let job_state = JobState::of(&job, Utc::now(), done.is_some());
    let result = imports::result_of(&job);
    let retry = matches!(job_state, JobState::Failed | JobState::Interrupted)
        && uketsuke_store::uploads::get(&state.db, &job.upload_id, user.user.id)
            .await?
            .is_some();
    let more = result.saved.len().saturating_sub(LISTED);
    let mut saved = result.saved;
    saved.truncate(LISTED);
    // Only once done: a saved request may have its 医科/歯科 counterpart among the
    // requests already recorded or in the same file.
    let mut pairs = std::collections::HashMap::new();
    if job_state == JobState::Done {
        let scope = user.scope();
        for s in &saved {
            if let Some(case) = uketsuke_store::cases::find(&state.db, &scope, s.id).await? {
                let found: Vec<i32> =
                    uketsuke_store::cases::pair_candidates(&state.db, &scope, &case)
                        .await?
                        .into_iter()
                        .map(|c| c.id)
                        .collect();
                if !found.is_empty() {
                    pairs.insert(s.id, found);
                }
            }
        }
    }
    Ok(JobPage {
        retro_rows: imports::retroactive_rows(&job),
        pairs,
        layout: Layout::signed_in(&state, &user),
        started: started_label(&job),
        received: format_wareki(job.received_on),
        state: job_state,
        done,
        saved,
        more,
        already_present: result.already_present,
        retry,
        job,
    })
}

/// When a job started, in 和暦 with the time (Japan).
fn started_label(job: &import_job::Model) -> String {
    let at = job.started_at + chrono::TimeDelta::hours(9);
    format!("{} {}", format_wareki(at.date_naive()), at.format("%H:%M"))
}

/// A line of the upload page's list of recent imports.
pub struct RecentJob {
    pub id: i32,
    pub file_name: String,
    pub started: String,
    pub state: &'static str,
    pub total: i32,
    pub created: i32,
}

/// The clerk's latest imports, newest first.
pub async fn recent(state: &AppState, user: &CurrentUser) -> Result<Vec<RecentJob>, Error> {
    let now = Utc::now();
    Ok(imports::recent(&state.db, user.user.id, 10)
        .await?
        .into_iter()
        .map(|job| RecentJob {
            id: job.id,
            started: started_label(&job),
            state: JobState::of(&job, now, state.imports.progress(job.id).is_some()).label(),
            file_name: job.file_name,
            total: job.total,
            created: job.created,
        })
        .collect())
}
