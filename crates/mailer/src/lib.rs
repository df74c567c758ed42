//! Mailer (送信): sends one message over SMTP with lettre, and says whether a
//! failure is worth retrying. It keeps no queue and never retries by itself:
//! handlers write an outbox row, the dispatcher claims it and calls
//! [`Mailer::send`], and the outbox decides about retries from
//! [`SendError::is_permanent`].
//!
//! A guided tour:
//! - [`settings`]: [`SmtpSettings`] — server, port, [`Security`] (plain, STARTTLS,
//!   implicit TLS), credentials whose password comes from an environment
//!   variable, the sender. The default is a local SMTP server on
//!   127.0.0.1:1025 with no TLS, as `docker compose` provides with Mailpit.
//! - [`message`]: [`OutgoingMessage`] and [`Attachment`], and [`build_message`],
//!   which turns them into a MIME message (UTF-8 subject and body, the attachment
//!   with its MIME type and its Japanese file name per RFC 2231).
//! - [`send`]: [`Mailer`] and [`SendError`] (permanent or transient, in Japanese).
//! - [`error`]: [`Error`], for settings and messages that cannot be used at all.

pub mod error;
pub mod message;
pub mod send;
pub mod settings;

pub use error::{Error, Result};
pub use message::{Attachment, OutgoingMessage, build_message};
pub use send::{Mailer, SendError};
pub use settings::{Security, SmtpSettings};
