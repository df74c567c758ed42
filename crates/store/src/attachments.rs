//! The scanned paper request (依頼書の写し) attached to a case: PDF, PNG or JPEG only —
//! recognised by the file's first bytes, and the name's extension must agree — of at
//! most [`Limits::max_bytes`], stored in the database (so a backup holds it).
//!
//! Attaching is a guarded change: the caller says which version they saw (`seen`: the
//! number of the latest file, 0 when there was none) and the new file becomes the next
//! version only if that is still the latest; of two people attaching at once, exactly one
//! wins and the other gets [`Error::Conflict`]. A replacement keeps the older versions
//! (listed as history on the case page, still downloadable); nothing is ever deleted.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, TransactionTrait,
};
use serde::{Deserialize, Serialize};

use crate::entities::case_attachment;
use crate::error::{is_retryable, is_unique_violation};
use crate::lifecycle::{Caller, Scope};
use crate::memos::{case_in_scope, require};
use crate::users::Role;
use crate::{Error, Result, audit};

/// Limits on attachments (`[attachments]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// The largest file accepted, in bytes (default 10 MiB).
    pub max_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_bytes: 10 * 1024 * 1024,
        }
    }
}

/// What an attachment may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Pdf,
    Png,
    Jpeg,
}

impl FileKind {
    /// The kind the bytes are, by their signature (magic bytes), if one of ours.
    pub fn sniff(bytes: &[u8]) -> Option<Self> {
        if bytes.starts_with(b"%PDF-") {
            Some(Self::Pdf)
        } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(Self::Png)
        } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(Self::Jpeg)
        } else {
            None
        }
    }

    /// The kind a file name's extension claims, if one of ours.
    pub fn of_name(name: &str) -> Option<Self> {
        let ext = name.rsplit_once('.')?.1.to_ascii_lowercase();
        match ext.as_str() {
            "pdf" => Some(Self::Pdf),
            "png" => Some(Self::Png),
            "jpg" | "jpeg" => Some(Self::Jpeg),
            _ => None,
        }
    }

    pub fn mime(self) -> &'static str {
        match self {
            Self::Pdf => "application/pdf",
            Self::Png => "image/png",
            Self::Jpeg => "image/jpeg",
        }
    }

    /// The extension for a download's ASCII name.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Pdf => "pdf",
            Self::Png => "png",
            Self::Jpeg => "jpg",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Pdf => "PDF",
            Self::Png => "PNG",
            Self::Jpeg => "JPEG",
        }
    }

    /// The kind of a stored content type.
    pub fn of_mime(mime: &str) -> Option<Self> {
        [Self::Pdf, Self::Png, Self::Jpeg]
            .into_iter()
            .find(|k| k.mime() == mime)
    }
}

fn field(message: String) -> Error {
    Error::Field {
        field: "attachment",
        message,
    }
}

fn megabytes(n: u64) -> String {
    // Display only: one decimal place is enough.
    #[allow(clippy::cast_precision_loss)]
    let mb = n as f64 / (1024.0 * 1024.0);
    format!("{mb:.1} MB")
}

/// Checks a file before anything is stored: not empty, within the limit, a PDF, PNG or
/// JPEG by its first bytes, with an extension that says the same. Returns its kind.
pub fn check(name: &str, bytes: &[u8], limits: &Limits) -> Result<FileKind> {
    let shown = if name.trim().is_empty() {
        "（名前なし）"
    } else {
        name
    };
    if bytes.is_empty() {
        return Err(field(format!(
            "添付ファイル「{shown}」は空です（0バイト）。スキャンした依頼書のファイルを選んでください"
        )));
    }
    if bytes.len() as u64 > limits.max_bytes {
        return Err(field(format!(
            "添付ファイル「{shown}」は大きすぎます（{}、上限 {}）",
            megabytes(bytes.len() as u64),
            megabytes(limits.max_bytes)
        )));
    }
    let Some(claimed) = FileKind::of_name(name) else {
        return Err(field(format!(
            "添付ファイル「{shown}」: 添付できるのは PDF・PNG・JPEG（拡張子 .pdf .png .jpg .jpeg）だけです"
        )));
    };
    match FileKind::sniff(bytes) {
        Some(actual) if actual == claimed => Ok(actual),
        Some(actual) => Err(field(format!(
            "添付ファイル「{shown}」: 拡張子は{}ですが、中身は{}です。正しい拡張子のファイルを選んでください",
            claimed.label(),
            actual.label()
        ))),
        None => Err(field(format!(
            "添付ファイル「{shown}」: 中身が{}ではありません（PDF・PNG・JPEG だけを添付できます）",
            claimed.label()
        ))),
    }
}

/// An attachment without its bytes.
#[derive(Debug, Clone, Serialize)]
pub struct Info {
    pub id: i32,
    pub seq: i32,
    pub file_name: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub uploaded_by: String,
    pub uploaded_at: chrono::DateTime<Utc>,
}

const MAX_ATTEMPTS: u32 = 50;

/// An attachment's columns without its bytes, as read for the list.
type InfoRow = (i32, i32, String, String, i64, String, chrono::DateTime<Utc>);

/// Attaches `bytes` (named `name`) to case `case_id` as the version after `seen` (担当
/// or above, within the caller's scope): [`Error::Conflict`] when another file was
/// attached since the caller saw the case.
pub async fn attach(
    db: &DatabaseConnection,
    caller: &Caller,
    case_id: i32,
    seen: i32,
    name: &str,
    bytes: &[u8],
    limits: &Limits,
) -> Result<Info> {
    require(caller, Role::Clerk, "依頼書の添付")?;
    let kind = check(name, bytes, limits)?;
    for attempt in 1..=MAX_ATTEMPTS {
        match attach_once(db, caller, case_id, seen, name, bytes, kind).await {
            Err(Error::Db(e)) if is_retryable(&e) => {
                tracing::debug!(attempt, "attachment write collided; trying again");
                tokio::time::sleep(std::time::Duration::from_millis(u64::from(
                    attempt.min(10) * 3,
                )))
                .await;
            }
            other => return other,
        }
    }
    Err(Error::Conflict)
}

/// The latest version number of the case's attachment (0: none).
pub async fn latest_seq<C: ConnectionTrait>(conn: &C, case_id: i32) -> Result<i32> {
    let seq: Option<Option<i32>> = case_attachment::Entity::find()
        .select_only()
        .column_as(case_attachment::Column::Seq.max(), "seq")
        .filter(case_attachment::Column::RequestId.eq(case_id))
        .into_tuple()
        .one(conn)
        .await?;
    Ok(seq.flatten().unwrap_or(0))
}

async fn attach_once(
    db: &DatabaseConnection,
    caller: &Caller,
    case_id: i32,
    seen: i32,
    name: &str,
    bytes: &[u8],
    kind: FileKind,
) -> Result<Info> {
    let txn = db.begin().await?;
    let case = case_in_scope(&txn, &caller.scope, case_id).await?;
    if latest_seq(&txn, case.id).await? != seen {
        return Err(Error::Conflict);
    }
    let file_name: String = name.trim().chars().take(200).collect();
    let inserted = case_attachment::ActiveModel {
        request_id: Set(case.id),
        seq: Set(seen + 1),
        file_name: Set(file_name),
        content_type: Set(kind.mime().to_owned()),
        size_bytes: Set(i64::try_from(bytes.len()).unwrap_or(i64::MAX)),
        data: Set(bytes.to_vec()),
        uploaded_by_user_id: Set(caller.actor.user_id),
        uploaded_by: Set(caller.actor.name.clone()),
        uploaded_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&txn)
    .await;
    // The unique (case, version) decides between two attaching the same version at once.
    let row = match inserted {
        Ok(row) => row,
        Err(e) if is_unique_violation(&e) => return Err(Error::Conflict),
        Err(e) => return Err(e.into()),
    };
    let info = info(&row);
    audit::record(
        &txn,
        &caller.actor,
        if seen == 0 {
            "request.attach"
        } else {
            "request.attach_replace"
        },
        "reception_request",
        case.id,
        None,
        serde_json::to_value(serde_json::json!({
            "attachment_id": info.id,
            "attachment_seq": info.seq,
            "content_type": info.content_type,
            "size_bytes": info.size_bytes,
        }))
        .ok(),
    )
    .await?;
    txn.commit().await?;
    Ok(info)
}

fn info(m: &case_attachment::Model) -> Info {
    Info {
        id: m.id,
        seq: m.seq,
        file_name: m.file_name.clone(),
        content_type: m.content_type.clone(),
        size_bytes: m.size_bytes,
        uploaded_by: m.uploaded_by.clone(),
        uploaded_at: m.uploaded_at,
    }
}

/// The attachments of case `case_id` (within `scope`), newest first, without bytes.
pub async fn list<C: ConnectionTrait>(conn: &C, scope: &Scope, case_id: i32) -> Result<Vec<Info>> {
    case_in_scope(conn, scope, case_id).await?;
    let rows: Vec<InfoRow> = case_attachment::Entity::find()
        .select_only()
        .column(case_attachment::Column::Id)
        .column(case_attachment::Column::Seq)
        .column(case_attachment::Column::FileName)
        .column(case_attachment::Column::ContentType)
        .column(case_attachment::Column::SizeBytes)
        .column(case_attachment::Column::UploadedBy)
        .column(case_attachment::Column::UploadedAt)
        .filter(case_attachment::Column::RequestId.eq(case_id))
        .order_by_desc(case_attachment::Column::Seq)
        .into_tuple()
        .all(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(
            |(id, seq, file_name, content_type, size_bytes, uploaded_by, uploaded_at)| Info {
                id,
                seq,
                file_name,
                content_type,
                size_bytes,
                uploaded_by,
                uploaded_at,
            },
        )
        .collect())
}

/// Attachment `id` of case `case_id` with its bytes (within `scope`).
pub async fn fetch<C: ConnectionTrait>(
    conn: &C,
    scope: &Scope,
    case_id: i32,
    id: i32,
) -> Result<case_attachment::Model> {
    case_in_scope(conn, scope, case_id).await?;
    case_attachment::Entity::find_by_id(id)
        .one(conn)
        .await?
        .filter(|a| a.request_id == case_id)
        .ok_or(Error::NotFound)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_pdf_png_and_jpeg_by_their_first_bytes_with_a_matching_extension() {
        let limits = Limits { max_bytes: 100 };
        assert_eq!(
            check("a.pdf", b"%PDF-1.7\n", &limits).ok(),
            Some(FileKind::Pdf)
        );
        assert_eq!(
            check("a.PNG", b"\x89PNG\r\n\x1a\n....", &limits).ok(),
            Some(FileKind::Png)
        );
        assert_eq!(
            check("a.jpeg", &[0xFF, 0xD8, 0xFF, 0xE0], &limits).ok(),
            Some(FileKind::Jpeg)
        );
        let refused =
            |name: &str, bytes: &[u8]| check(name, bytes, &limits).unwrap_err().to_string();
        assert!(refused("setup.pdf", b"MZ\x90\x00").contains("中身がPDFではありません"));
        assert!(refused("a.png", b"%PDF-1.4").contains("中身はPDF"));
        assert!(refused("a.exe", b"%PDF-1.4").contains("PDF・PNG・JPEG"));
        assert!(refused("a.pdf", b"").contains("空です"));
        assert!(refused("a.pdf", &[b'%'; 101]).contains("大きすぎます"));
    }
}
