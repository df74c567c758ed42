//! The dispatcher (送信処理): takes due messages from the outbox and sends them over
//! SMTP, with no database lock held while talking to the server. Each message is marked
//! sent, or put back with a backoff, or given up (送信不能) — see the store's outbox
//! module for where at-least-once delivery begins and ends.

use chrono::Utc;
use sea_orm::DatabaseConnection;
use serde::Serialize;
use uketsuke_mailer::{Attachment, Mailer, OutgoingMessage};
use uketsuke_store::entities::outbox as row;
use uketsuke_store::outbox::{self, RetryPolicy};

/// What one pass did.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct DispatchReport {
    pub sent: u32,
    pub retrying: u32,
    pub dead: u32,
}

/// The Message-ID of an outbox row: derived from the row, so a resend after a crash
/// carries the same id and the recipient can recognise it.
pub fn message_id(row: &row::Model, from: &str) -> String {
    let domain = from
        .rsplit_once('@')
        .map(|(_, d)| d.trim_end_matches('>'))
        .unwrap_or("uketsuke.localhost");
    format!("<uketsuke-outbox-{}@{}>", row.id, domain)
}

fn outgoing(row: &row::Model, from: &str) -> OutgoingMessage {
    let to: Vec<String> = serde_json::from_value(row.recipients.clone()).unwrap_or_default();
    let attachment = match (&row.attachment_name, &row.attachment) {
        (Some(name), Some(bytes)) => Some(Attachment {
            name: name.clone(),
            mime: row
                .attachment_mime
                .clone()
                .unwrap_or_else(|| "application/octet-stream".to_owned()),
            bytes: bytes.clone(),
        }),
        _ => None,
    };
    OutgoingMessage {
        message_id: message_id(row, from),
        to,
        subject: row.subject.clone(),
        body: row.body.clone(),
        attachment,
    }
}

/// Sends every due message, a batch at a time, until none is due.
pub async fn send_due(
    db: &DatabaseConnection,
    mailer: &Mailer,
    from: &str,
    policy: &RetryPolicy,
) -> anyhow::Result<DispatchReport> {
    let mut report = DispatchReport::default();
    loop {
        let claimed = outbox::claim_due(db, Utc::now(), policy, 10).await?;
        if claimed.is_empty() {
            return Ok(report);
        }
        for row in claimed {
            let message = outgoing(&row, from);
            match mailer.send(&message).await {
                Ok(()) => {
                    outbox::mark_sent(db, &row, &message.message_id, Utc::now()).await?;
                    tracing::info!(outbox_id = row.id, kind = %row.kind, "mail sent");
                    report.sent += 1;
                }
                Err(e) => {
                    let status = outbox::mark_failed(
                        db,
                        &row,
                        &e.to_string(),
                        e.is_permanent(),
                        policy,
                        Utc::now(),
                    )
                    .await?;
                    tracing::warn!(outbox_id = row.id, attempts = row.attempts, %status, error = %e, "mail not sent");
                    if status == outbox::status::DEAD {
                        report.dead += 1;
                    } else {
                        report.retrying += 1;
                    }
                }
            }
        }
    }
}
