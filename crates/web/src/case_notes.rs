//! A case's memos (メモ: 電話連絡など) and its attached scanned request (依頼書の写し),
//! on the case page:
//!
//! - `POST /cases/{id}/memos` (担当): appends a memo (fields: csrf, memo);
//! - `POST /cases/{id}/attachments` (担当, multipart: csrf, version, file): attaches the
//!   scanned request — PDF, PNG or JPEG by its first bytes, within `[attachments]
//!   max_bytes`. A replacement becomes the next version and the older ones stay listed
//!   (and downloadable); `version` is the latest version the page showed, so of two
//!   attaching at once one wins and the other is told (409);
//! - `GET /cases/{id}/attachments/{aid}`: the file as a download with its content type.
//!
//! All through the store ([`uketsuke_store::memos`], [`uketsuke_store::attachments`]),
//! within the user's bureau and office (another office's case: 404).

use axum::Form;
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use uketsuke_store::Error as StoreError;
use uketsuke_store::attachments::{self, FileKind};

use crate::auth::CurrentUser;
use crate::cases::{Notice, case_page};
use crate::error::Error;
use crate::state::AppState;

/// Extra room in a multipart body beyond the file (boundaries, the other fields).
const MULTIPART_SLACK: usize = 64 * 1024;

/// The request body limit of the attachment route for `limits`.
pub fn body_limit(limits: &attachments::Limits) -> usize {
    usize::try_from(limits.max_bytes)
        .unwrap_or(usize::MAX / 2)
        .saturating_add(MULTIPART_SLACK)
}

/// The case page again with `e` on top: 409 for a conflict, 422 for wrong input; other
/// errors (403, 404) as everywhere.
async fn refused(
    state: &AppState,
    user: &CurrentUser,
    id: i32,
    e: StoreError,
) -> Result<Response, Error> {
    let code = match e {
        StoreError::Conflict => StatusCode::CONFLICT,
        StoreError::Field { .. } | StoreError::NotAllowed(_) => StatusCode::UNPROCESSABLE_ENTITY,
        other => return Err(other.into()),
    };
    let page = case_page(state, user, id, Some(Notice::error(e.to_string()))).await?;
    Ok((code, page).into_response())
}

#[derive(Deserialize)]
pub struct MemoForm {
    csrf: String,
    #[serde(default)]
    memo: String,
}

/// `POST /cases/{id}/memos` (担当).
#[tracing::instrument(skip_all, fields(user_id = user.user.id, request_id = id))]
pub async fn add_memo(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i32>,
    Form(form): Form<MemoForm>,
) -> Result<Response, Error> {
    user.check_csrf(&form.csrf)?;
    match uketsuke_store::memos::add(&state.db, &user.caller(), id, &form.memo).await {
        Ok(_) => Ok(Redirect::to(&format!("/cases/{id}?done=memo#memos")).into_response()),
        Err(e) => refused(&state, &user, id, e).await,
    }
}

/// `POST /cases/{id}/attachments` (担当, multipart).
#[tracing::instrument(skip_all, fields(user_id = user.user.id, request_id = id))]
pub async fn attach(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i32>,
    mut multipart: Multipart,
) -> Result<Response, Error> {
    let (mut csrf, mut version, mut file) = (String::new(), None, None);
    let limit = state.attachment_limits;
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| read_error(e, &limit))?
    {
        match field.name() {
            Some("csrf") => csrf = field.text().await.unwrap_or_default(),
            Some("version") => version = field.text().await.ok(),
            Some("file") => {
                let name = field.file_name().unwrap_or_default().to_owned();
                let bytes = field.bytes().await.map_err(|e| read_error(e, &limit))?;
                file = Some((name, bytes));
            }
            _ => {}
        }
    }
    user.check_csrf(&csrf)?;
    let Some(seen) = version.and_then(|v| v.trim().parse::<i32>().ok()) else {
        return Err(Error::Unprocessable(
            "画面を開き直してから、もう一度添付してください（表示した版がわかりません）。何も保存していません。"
                .to_owned(),
        ));
    };
    let (name, bytes) = file.unwrap_or_default();
    match attachments::attach(&state.db, &user.caller(), id, seen, &name, &bytes, &limit).await {
        Ok(_) => Ok(Redirect::to(&format!("/cases/{id}?done=attach#attachments")).into_response()),
        Err(e) => refused(&state, &user, id, e).await,
    }
}

fn read_error(e: axum::extract::multipart::MultipartError, limits: &attachments::Limits) -> Error {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        Error::TooLarge(format!(
            "添付ファイルが大きすぎます（上限 {} MB）。何も保存していません。",
            limits.max_bytes / (1024 * 1024)
        ))
    } else {
        Error::Unprocessable(format!(
            "添付ファイルを読み取れませんでした（{e}）。何も保存していません。もう一度選んでください。"
        ))
    }
}

/// `GET /cases/{id}/attachments/{aid}`: the file, as a download.
#[tracing::instrument(skip_all, fields(user_id = user.user.id, request_id = id, attachment_id = aid))]
pub async fn download(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, aid)): Path<(i32, i32)>,
) -> Result<Response, Error> {
    let a = attachments::fetch(&state.db, &user.scope(), id, aid).await?;
    let kind = FileKind::of_mime(&a.content_type).ok_or(Error::NotFound)?;
    Ok(crate::view::download_as(
        a.data,
        kind.mime(),
        &format!("request-{id}-v{}.{}", a.seq, kind.extension()),
        &a.file_name,
    ))
}
