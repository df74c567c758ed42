//! Entering requests by upload (依頼書の取込): a clerk uploads filled 別紙1 forms or a
//! monthly list; the page shows every request read and every problem beside its sheet
//! and cell before anything is saved; the clerk then saves the file whole — or, when
//! they choose to, only its valid requests. Also the download of our blank form.

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Multipart, Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use uketsuke_domain::format_wareki;
use uketsuke_ingest::{Outcome, RequestForm, field_label};
use uketsuke_store::users::Role;

use crate::auth::{CurrentUser, random_token};
use crate::error::Error;
use crate::layout::Layout;
use crate::state::AppState;
use uketsuke_domain::today_in_japan;
use uketsuke_store::intake::{self, Intake};

/// `GET /forms/blank.xlsx`: our blank 別紙1.
pub async fn blank_form(_user: CurrentUser) -> Result<Response, Error> {
    let bytes = uketsuke_ingest::blank_form_xlsx().map_err(|e| Error::Internal(e.to_string()))?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_owned(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"form.xlsx\"; filename*=UTF-8''{}",
                    percent("受付番号情報提供依頼書兼回答書.xlsx")
                ),
            ),
        ],
        bytes,
    )
        .into_response())
}

/// `GET /forms/plan.xlsx`: our blank 別紙2 「オンライン資格確認の導入計画書」.
pub async fn blank_plan(_user: CurrentUser) -> Result<Response, Error> {
    let bytes = uketsuke_ingest::blank_plan_xlsx().map_err(|e| Error::Internal(e.to_string()))?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_owned(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"plan.xlsx\"; filename*=UTF-8''{}",
                    percent("オンライン資格確認の導入計画書.xlsx")
                ),
            ),
        ],
        bytes,
    )
        .into_response())
}

/// RFC 5987 percent-encoding of a file name.
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
#[template(path = "upload.html")]
pub struct UploadPage {
    layout: Layout,
    error: Option<String>,
    recent: Vec<crate::imports::RecentJob>,
}

/// `GET /requests/upload`.
pub async fn upload_form(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<UploadPage, Error> {
    user.require(Role::Clerk)?;
    Ok(UploadPage {
        layout: Layout::signed_in(&state, &user),
        error: None,
        recent: crate::imports::recent(&state, &user).await?,
    })
}

/// One request in the preview.
pub struct PreviewRow {
    /// The request's index in the file's order (the 遡及 checkbox names it).
    pub index: usize,
    pub place: String,
    pub name: String,
    pub kind: &'static str,
    pub designation: String,
    pub address: String,
    pub founder: String,
    pub phone: String,
    pub answer_due: String,
    pub decision: String,
}

/// One problem in the preview.
pub struct PreviewProblem {
    pub sheet: String,
    pub cell: String,
    pub field: String,
    pub message: String,
}

/// How many requests, and how many problems, a preview shows (all are saved; a
/// preview of a very large file stays a page a browser can show).
const PREVIEW_LIMIT: usize = 500;

#[derive(Template, WebTemplate)]
#[template(path = "upload_preview.html")]
pub struct PreviewPage {
    layout: Layout,
    token: String,
    file_name: String,
    /// The requests read, of which `rows` shows the first.
    total: usize,
    rows: Vec<PreviewRow>,
    /// The problems found, of which `problems` shows the first.
    problem_count: usize,
    problems: Vec<PreviewProblem>,
    /// Today in 和暦, the 受付日 offered.
    today: String,
    /// The rows of a list that had problems: (index, place, name as typed).
    rejected: Vec<(usize, String, String)>,
}

fn preview_rows(
    state: &AppState,
    user: &CurrentUser,
    outcome: &Outcome<RequestForm>,
) -> Vec<PreviewRow> {
    let today = today_in_japan();
    let bureau = state.bureau(&user.user.bureau_id);
    outcome
        .items
        .iter()
        .take(PREVIEW_LIMIT)
        .enumerate()
        .map(|(index, item)| {
            let f = &item.value;
            let (answer_due, decision) = match bureau {
                Some(b) => {
                    let intake = Intake {
                        bureau: b,
                        policy: &state.eligibility,
                        office_id: None,
                        received: today,
                        retroactive: false,
                        retroactive_forms: &[],
                    };
                    let (d, verdict) = intake::assess(&intake, f);
                    let decision = if let Err(message) = intake::place(&f.facility_address, b) {
                        format!("受付不可: {message}")
                    } else if verdict.eligible {
                        "受付可".to_owned()
                    } else {
                        format!("返戻: {}", verdict.reasons.join(" "))
                    };
                    (format_wareki(d.answer_due), decision)
                }
                None => (String::new(), String::new()),
            };
            PreviewRow {
                index,
                place: format!("{} {}", item.sheet, place_ja(&item.cell_or_row)),
                name: f.facility_name.clone(),
                kind: f.kind.label(),
                designation: format_wareki(f.designation_date),
                address: f.facility_address.clone(),
                founder: f.founder_name(),
                phone: f.contact_phone.to_string(),
                answer_due,
                decision,
            }
        })
        .collect()
}

/// `row 12` as 「12行目」; a cell (`B7`) as it is.
fn place_ja(place: &str) -> String {
    match place.strip_prefix("row ") {
        Some(n) => format!("{n}行目"),
        None => place.to_owned(),
    }
}

fn preview_problems(outcome: &Outcome<RequestForm>) -> Vec<PreviewProblem> {
    outcome
        .problems
        .iter()
        .take(PREVIEW_LIMIT)
        .map(|p| PreviewProblem {
            sheet: p.sheet.clone().unwrap_or_default(),
            cell: p.cell.clone().unwrap_or_default(),
            field: p
                .field
                .as_deref()
                .map(field_label)
                .unwrap_or_default()
                .to_owned(),
            message: p.message.clone(),
        })
        .collect()
}

/// `POST /requests/upload` (multipart: `csrf`, `file`): reads the file and shows the
/// preview; nothing is saved yet.
#[tracing::instrument(skip_all, fields(user_id = user.user.id))]
pub async fn upload(
    State(state): State<AppState>,
    user: CurrentUser,
    mut multipart: Multipart,
) -> Result<Response, Error> {
    user.require(Role::Clerk)?;
    let (mut csrf, mut file) = (None, None);
    while let Some(field) = multipart.next_field().await.map_err(upload_error)? {
        match field.name() {
            Some("csrf") => csrf = Some(field.text().await.unwrap_or_default()),
            Some("file") => {
                let name = field.file_name().unwrap_or("upload.xlsx").to_owned();
                let bytes = field.bytes().await.map_err(upload_error)?;
                file = Some((name, bytes.to_vec()));
            }
            _ => {}
        }
    }
    user.check_csrf(csrf.as_deref().unwrap_or_default())?;
    let recent = crate::imports::recent(&state, &user).await?;
    let page = |error: String| UploadPage {
        layout: Layout::signed_in(&state, &user),
        error: Some(error),
        recent,
    };
    let Some((name, bytes)) = file.filter(|(_, b)| !b.is_empty()) else {
        return Ok(page("ファイルを選んでください。".to_owned()).into_response());
    };
    let (outcome, bytes) = read_bounded(&state, name.clone(), bytes).await?;
    let outcome = match outcome {
        Ok(o) => o,
        Err(e) => return Ok(page(e.to_string()).into_response()),
    };
    let token = random_token();
    uketsuke_store::uploads::put(&state.db, &token, user.user.id, &name, bytes).await?;
    Ok(PreviewPage {
        layout: Layout::signed_in(&state, &user),
        token,
        file_name: name,
        total: outcome.items.len(),
        rows: preview_rows(&state, &user, &outcome),
        problem_count: outcome.problems.len(),
        problems: preview_problems(&outcome),
        today: format_wareki(today_in_japan()),
        rejected: outcome
            .rejected
            .iter()
            .take(PREVIEW_LIMIT)
            .enumerate()
            .map(|(i, r)| {
                let name = r
                    .value
                    .iter()
                    .find(|(f, _)| *f == "facility_name")
                    .map(|(_, t)| t.clone())
                    .unwrap_or_default();
                (i, format!("{} {}", r.sheet, place_ja(&r.cell_or_row)), name)
            })
            .collect(),
    }
    .into_response())
}

/// The upload `token` of the user, read again; 404 when it is not theirs or gone.
async fn reread(
    state: &AppState,
    user: &CurrentUser,
    token: &str,
) -> Result<(String, Outcome<RequestForm>), Error> {
    user.require(Role::Clerk)?;
    let upload = uketsuke_store::uploads::get(&state.db, token, user.user.id)
        .await?
        .ok_or(Error::NotFound)?;
    let name = upload.file_name.clone();
    let (outcome, _) = read_bounded(state, upload.file_name, upload.bytes).await?;
    let outcome = outcome.map_err(|e| Error::Unprocessable(e.to_string()))?;
    Ok((name, outcome))
}

/// `GET /requests/upload/{token}/rows/{index}`: a request read from an upload, in the
/// entry form, to check or change it and save it alone.
pub async fn open_row(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((token, index)): Path<(String, usize)>,
) -> Result<Response, Error> {
    let (name, outcome) = reread(&state, &user, &token).await?;
    let item = outcome.items.get(index).ok_or(Error::NotFound)?;
    let source = format!(
        "取込ファイル「{name}」の{} {}",
        item.sheet,
        place_ja(&item.cell_or_row)
    );
    let f = crate::new_request::Fields::of_form(&item.value);
    Ok(crate::new_request::prefilled(&state, &user, f, source)
        .await?
        .into_response())
}

/// `GET /requests/upload/{token}/rejected/{index}`: a row of an uploaded list that had
/// problems, in the entry form as typed, with each problem beside its field, to fix.
pub async fn open_rejected(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((token, index)): Path<(String, usize)>,
) -> Result<Response, Error> {
    let (name, outcome) = reread(&state, &user, &token).await?;
    let row = outcome.rejected.get(index).ok_or(Error::NotFound)?;
    let source = format!(
        "取込ファイル「{name}」の{} {}（問題のあった行）",
        row.sheet,
        place_ja(&row.cell_or_row)
    );
    let f = crate::new_request::Fields::of_raw(&row.value);
    Ok(crate::new_request::prefilled(&state, &user, f, source)
        .await?
        .into_response())
}

/// Reads an uploaded workbook off the async threads, at most
/// [`AppState::upload_permits`] at once, so that concurrent uploads cannot together
/// take the server's memory. Gives the bytes back for saving.
pub(crate) async fn read_bounded(
    state: &AppState,
    name: String,
    bytes: Vec<u8>,
) -> Result<
    (
        Result<uketsuke_ingest::Outcome<RequestForm>, uketsuke_ingest::Error>,
        Vec<u8>,
    ),
    Error,
> {
    let _permit = state
        .upload_permits
        .acquire()
        .await
        .map_err(|e| Error::Internal(e.to_string()))?;
    let limits = state.ingest_limits.clone();
    tokio::task::spawn_blocking(move || {
        let outcome = uketsuke_ingest::read_requests(&name, &bytes, &limits);
        (outcome, bytes)
    })
    .await
    .map_err(|e| Error::Internal(format!("reading the upload failed: {e}")))
}

/// A broken or oversized upload, said plainly (413 for a file over the limit).
fn upload_error(e: axum::extract::multipart::MultipartError) -> Error {
    if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        Error::TooLarge(format!(
            "ファイルが大きすぎます（上限 {} MB）。ファイルを分けて取り込んでください。",
            crate::routes::UPLOAD_LIMIT / (1024 * 1024)
        ))
    } else {
        Error::Unprocessable(format!(
            "アップロードを読み取れませんでした（{e}）。もう一度選んでください。"
        ))
    }
}

#[derive(Deserialize)]
pub struct ConfirmForm {
    csrf: String,
    /// `all` (the default) or `valid`: save only the valid requests of a file with problems.
    #[serde(default)]
    scope: String,
    /// The day the paper arrived (受付日); today when left empty.
    #[serde(default)]
    received_on: String,
    /// `retro_{index}=1` for each request marked 遡及指定 on the preview.
    #[serde(flatten)]
    marks: std::collections::HashMap<String, String>,
}

impl ConfirmForm {
    /// The indexes of the requests marked 遡及指定, ascending.
    fn retroactive(&self) -> Vec<usize> {
        let mut rows: Vec<usize> = self
            .marks
            .iter()
            .filter(|(_, v)| v.as_str() == "1")
            .filter_map(|(k, _)| k.strip_prefix("retro_")?.parse().ok())
            .collect();
        rows.sort_unstable();
        rows
    }
}

/// The 受付日 typed on a form: today when empty; 和暦, 西暦 and 全角 digits accepted;
/// never in the future.
pub fn received_on(text: &str) -> Result<chrono::NaiveDate, String> {
    let today = today_in_japan();
    if text.trim().is_empty() {
        return Ok(today);
    }
    let day = uketsuke_domain::parse_date(text)
        .map_err(|e| format!("受付日「{}」を読み取れません。{e}", text.trim()))?;
    intake::check_received(day, today)?;
    Ok(day)
}

/// `POST /requests/upload/{token}`: saves the previewed file, as a job of its own
/// ([`crate::imports`]): whole, or with `scope=valid` only its valid requests. Nothing
/// is saved twice: a second confirmation finds the one job and shows it.
#[tracing::instrument(skip_all, fields(user_id = user.user.id))]
pub async fn confirm(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(token): Path<String>,
    Form(form): Form<ConfirmForm>,
) -> Result<Response, Error> {
    user.check_csrf(&form.csrf)?;
    user.require(Role::Clerk)?;
    let Some(upload) = uketsuke_store::uploads::get(&state.db, &token, user.user.id).await? else {
        // Saved already (the job dropped the upload): show that job.
        if let Some(job) =
            uketsuke_store::imports::of_upload(&state.db, &token, user.user.id).await?
        {
            return Ok(
                axum::response::Redirect::to(&format!("/requests/upload/jobs/{}", job.id))
                    .into_response(),
            );
        }
        return Err(Error::Unprocessable(
            "この取込は既に登録したか、期限（1日）が過ぎています。案件一覧で確認してください。"
                .to_owned(),
        ));
    };
    let scope = uketsuke_store::entities::import_job::ImportScope::from_form(&form.scope);
    let received = received_on(&form.received_on).map_err(Error::Unprocessable)?;
    crate::imports::run(&state, &user, upload, scope, received, &form.retroactive()).await
}
