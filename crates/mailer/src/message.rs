//! [`OutgoingMessage`] and [`build_message`]: a message as the outbox holds it,
//! and the MIME message lettre sends.
//!
//! - Subject and body are UTF-8: the subject as RFC 2047 encoded words, the body
//!   `text/plain; charset=utf-8` in base64 or quoted-printable (lettre picks the
//!   shorter), so nothing depends on a server accepting 8-bit data.
//! - An attachment makes the message `multipart/mixed`: the body, then the file
//!   with its MIME type, base64, and `Content-Disposition: attachment` whose file
//!   name is RFC 2231 encoded (`filename*=utf-8''%E6%96%B0…`), so
//!   `新規指定医療機関一覧表_令和6年7月1日.xlsx` arrives as written.
//! - The Message-ID is the caller's (derived from the outbox row), so a message
//!   sent twice after a crash carries the same id both times.

use std::fmt;

use lettre::Message;
use lettre::message::header::ContentType;
use lettre::message::{Mailbox, MultiPart, SinglePart};

use crate::error::{Error, Result};

/// One message to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingMessage {
    /// `<outbox-42@uketsuke.localhost>`; the angle brackets may be left out.
    pub message_id: String,
    /// Recipients (`jimu@example.jp` or `名前 <jimu@example.jp>`).
    pub to: Vec<String>,
    /// Subject, in Japanese; line breaks become spaces.
    pub subject: String,
    /// Plain-text body, in Japanese.
    pub body: String,
    /// At most one file.
    pub attachment: Option<Attachment>,
}

/// A file attached to a message.
#[derive(Clone, PartialEq, Eq)]
pub struct Attachment {
    /// File name as the recipient sees it (Japanese is fine).
    pub name: String,
    /// MIME type, e.g. `application/vnd.openxmlformats-officedocument.spreadsheetml.sheet`.
    pub mime: String,
    /// The file.
    pub bytes: Vec<u8>,
}

impl fmt::Debug for Attachment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Attachment")
            .field("name", &self.name)
            .field("mime", &self.mime)
            .field("bytes", &format_args!("{} bytes", self.bytes.len()))
            .finish()
    }
}

/// The MIME message for `msg`, sent by `from` (`uketsuke@example.lg.jp` or
/// `名前 <uketsuke@example.lg.jp>`). The Date header is the time of the call.
///
/// # Errors
///
/// An address that does not parse, no recipient, a malformed Message-ID, an
/// attachment with no name or a MIME type that does not parse.
pub fn build_message(from: &str, msg: &OutgoingMessage) -> Result<Message> {
    let from = parse_mailbox("差出人", from)?;
    if msg.to.is_empty() {
        return Err(Error::NoRecipients);
    }
    let mut builder = Message::builder()
        .from(from)
        .message_id(Some(message_id(&msg.message_id)?))
        .subject(one_line(&msg.subject));
    for to in &msg.to {
        builder = builder.to(parse_mailbox("宛先", to)?);
    }
    let text = SinglePart::plain(msg.body.clone());
    let message = match &msg.attachment {
        None => builder.singlepart(text)?,
        Some(attachment) => {
            if attachment.name.trim().is_empty() {
                return Err(Error::EmptyAttachmentName);
            }
            let content_type = ContentType::parse(&attachment.mime).map_err(|e| Error::Mime {
                mime: attachment.mime.clone(),
                reason: e.to_string(),
            })?;
            let file = lettre::message::Attachment::new(attachment.name.clone())
                .body(attachment.bytes.clone(), content_type);
            builder.multipart(MultiPart::mixed().singlepart(text).singlepart(file))?
        }
    };
    Ok(message)
}

/// Parses `address` as a mailbox, naming its `role` in the error.
pub(crate) fn parse_mailbox(role: &'static str, address: &str) -> Result<Mailbox> {
    address
        .trim()
        .parse()
        .map_err(|e: lettre::address::AddressError| Error::Address {
            role,
            address: address.to_owned(),
            reason: e.to_string(),
        })
}

/// `<local@domain>` from `local@domain` or `<local@domain>`: printable ASCII,
/// one `@`, nothing on either side of it empty, no brackets or spaces inside.
fn message_id(raw: &str) -> Result<String> {
    let trimmed = raw.trim();
    let inner = trimmed
        .strip_prefix('<')
        .and_then(|s| s.strip_suffix('>'))
        .unwrap_or(trimmed);
    let parts_ok = inner.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty() && !domain.is_empty() && !domain.contains('@')
    });
    let chars_ok = inner.chars().all(|c| {
        c.is_ascii_graphic()
            && !matches!(
                c,
                '<' | '>' | '"' | '(' | ')' | ',' | ';' | ':' | '\\' | '[' | ']'
            )
    });
    if parts_ok && chars_ok {
        Ok(format!("<{inner}>"))
    } else {
        Err(Error::MessageId(raw.to_owned()))
    }
}

/// The subject on one line: CR and LF become spaces.
fn one_line(subject: &str) -> String {
    subject.replace(['\r', '\n'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_ids_get_their_angle_brackets_and_bad_ones_are_refused() {
        assert_eq!(
            message_id("outbox-42@uketsuke.localhost").unwrap(),
            "<outbox-42@uketsuke.localhost>"
        );
        assert_eq!(message_id(" <a.b@c> ").unwrap(), "<a.b@c>");
        for bad in [
            "",
            "<>",
            "no-at-sign",
            "@domain",
            "local@",
            "a b@c",
            "a@b@c",
            "<a@b",
            "受付@x",
        ] {
            assert!(message_id(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_subject_cannot_add_headers() {
        assert_eq!(
            one_line("件名\r\nBcc: x@example.jp"),
            "件名  Bcc: x@example.jp"
        );
    }
}
