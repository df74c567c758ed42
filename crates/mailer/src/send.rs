//! [`Mailer`]: one SMTP client made from [`SmtpSettings`], and [`SendError`], what
//! went wrong and whether trying again can help.
//!
//! Permanent ([`SendError::is_permanent`]): the message cannot be built (a bad
//! address), or the server answered 5xx to it (unknown recipient, message too
//! large, policy). Everything else is transient: the server could not be reached,
//! did not answer in time, TLS failed, it answered 4xx, or it refused our
//! credentials (535/530/534/538 — a 5xx, but a fault of our configuration, not of
//! the message: once an operator fixes it, the queued messages go out).
//!
//! The mailer never retries and never logs a failure (the dispatcher logs it
//! once, with the outbox row): it sends, or says why not.

use std::fmt;
use std::sync::OnceLock;
use std::time::Duration;

use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::{AsyncSmtpTransportBuilder, Error as SmtpError};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use crate::error::{Error, Result};
use crate::message::{OutgoingMessage, build_message, parse_mailbox};
use crate::settings::{Security, SmtpSettings};

type Transport = AsyncSmtpTransport<Tokio1Executor>;

/// Sends messages to one SMTP server. Cheap to share (`Arc` it, or clone it:
/// clones share the connection pool).
///
/// [`Mailer::new`] checks the settings and reads the password at once, so a
/// bad configuration fails at start-up. The connection pool starts with the
/// first [`Mailer::send`] and lives on that Tokio runtime: make one `Mailer` per
/// runtime.
#[derive(Clone)]
pub struct Mailer {
    builder: AsyncSmtpTransportBuilder,
    transport: std::sync::Arc<OnceLock<Transport>>,
    from: String,
    from_address: String,
    server: String,
    timeout_secs: u64,
}

impl fmt::Debug for Mailer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Not the builder: it holds the password.
        f.debug_struct("Mailer")
            .field("server", &self.server)
            .field("from", &self.from)
            .finish_non_exhaustive()
    }
}

impl Mailer {
    /// A mailer for `settings`.
    ///
    /// # Errors
    ///
    /// An unparsable `from`, an empty host, a zero timeout, a user name without
    /// `password_env` (or the reverse), or a `password_env` that is not set.
    pub fn new(settings: &SmtpSettings) -> Result<Self> {
        let from = parse_mailbox("差出人", &settings.from)?;
        let host = settings.host.trim();
        if host.is_empty() {
            return Err(Error::Setting {
                field: "host",
                reason: "ホスト名が空です。".to_owned(),
            });
        }
        if settings.timeout_secs == 0 {
            return Err(Error::Setting {
                field: "timeout_secs",
                reason: "1秒以上を指定してください。".to_owned(),
            });
        }
        let mut builder = match settings.security {
            Security::None => Transport::builder_dangerous(host),
            Security::StartTls => Transport::starttls_relay(host).map_err(|e| tls_setting(&e))?,
            Security::Tls => Transport::relay(host).map_err(|e| tls_setting(&e))?,
        }
        .port(settings.port)
        .timeout(Some(Duration::from_secs(settings.timeout_secs)));

        match (&settings.username, &settings.password_env) {
            (None, None) => {}
            (Some(user), Some(var)) => {
                let password =
                    std::env::var(var).map_err(|_| Error::MissingPassword { var: var.clone() })?;
                if settings.security == Security::None {
                    tracing::warn!(
                        host,
                        "SMTP credentials will be sent without TLS (smtp.security = \"none\")"
                    );
                }
                builder = builder.credentials(Credentials::new(user.clone(), password));
            }
            _ => return Err(Error::IncompleteCredentials),
        }

        Ok(Self {
            builder,
            transport: std::sync::Arc::default(),
            from: settings.from.clone(),
            from_address: from.email.to_string(),
            server: format!("{host}:{}", settings.port),
            timeout_secs: settings.timeout_secs,
        })
    }

    /// The sender as configured (`名前 <uketsuke@example.lg.jp>`).
    pub fn from(&self) -> &str {
        &self.from
    }

    /// The sender's address alone (`uketsuke@example.lg.jp`), e.g. for the
    /// domain of Message-IDs.
    pub fn from_address(&self) -> &str {
        &self.from_address
    }

    /// `host:port` of the server.
    pub fn server(&self) -> &str {
        &self.server
    }

    fn transport(&self) -> &Transport {
        self.transport.get_or_init(|| self.builder.clone().build())
    }

    /// Sends `msg` once. `Ok` means the server accepted it (250 after DATA) for
    /// every recipient; a recipient refused is an error for the whole message.
    ///
    /// # Errors
    ///
    /// [`SendError`]; see [`SendError::is_permanent`].
    #[tracing::instrument(skip_all, fields(message_id = %msg.message_id, recipients = msg.to.len()))]
    pub async fn send(&self, msg: &OutgoingMessage) -> Result<(), SendError> {
        let message = build_message(&self.from, msg)?;
        self.within_timeout(self.transport().send(message))
            .await?
            .map_err(|e| self.classify(&e))?;
        tracing::debug!(server = %self.server, "accepted by the SMTP server");
        Ok(())
    }

    /// `future`, or [`SendError::Timeout`] once `timeout_secs` have passed.
    /// lettre bounds only the TCP connect; this bounds the whole conversation
    /// (a server that accepts and then says nothing would hold us forever).
    async fn within_timeout<T>(
        &self,
        future: impl std::future::Future<Output = T>,
    ) -> Result<T, SendError> {
        tokio::time::timeout(Duration::from_secs(self.timeout_secs), future)
            .await
            .map_err(|_| SendError::Timeout {
                server: self.server.clone(),
                secs: self.timeout_secs,
            })
    }

    /// Connects and says NOOP: for a health check, not needed before sending.
    ///
    /// # Errors
    ///
    /// As for [`Mailer::send`].
    pub async fn check_connection(&self) -> Result<(), SendError> {
        match self
            .within_timeout(self.transport().test_connection())
            .await?
        {
            Ok(true) => Ok(()),
            Ok(false) => Err(SendError::Connection {
                server: self.server.clone(),
                detail: "NOOP に応答がありません".to_owned(),
            }),
            Err(e) => Err(self.classify(&e)),
        }
    }

    fn classify(&self, e: &SmtpError) -> SendError {
        let server = self.server.clone();
        let detail = e.to_string();
        let code = e
            .status()
            .and_then(|code| code.to_string().parse::<u16>().ok());
        match code {
            Some(code @ (530 | 534 | 535 | 538)) => SendError::Authentication {
                server,
                code,
                detail,
            },
            Some(code) if e.is_permanent() => SendError::Rejected {
                server,
                code,
                detail,
            },
            Some(code) => SendError::Deferred {
                server,
                code,
                detail,
            },
            None if e.is_timeout() => SendError::Timeout {
                server,
                secs: self.timeout_secs,
            },
            None if e.is_tls() => SendError::Tls { server, detail },
            None => SendError::Connection { server, detail },
        }
    }
}

fn tls_setting(e: &SmtpError) -> Error {
    Error::Setting {
        field: "security",
        reason: format!("TLS の設定を作れません: {e}"),
    }
}

/// Why a message was not sent. `Display` is Japanese and includes the server's
/// answer, for the delivery log.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The message cannot be built (e.g. a malformed address): permanent.
    #[error("メールを作成できません: {0}")]
    Message(#[from] Error),

    /// The server refused the message for good (5xx): permanent.
    #[error(
        "SMTP サーバー {server} が受け付けませんでした（{code}・再送しても届きません）: {detail}"
    )]
    Rejected {
        /// `host:port`.
        server: String,
        /// The reply code, 500–599.
        code: u16,
        /// lettre's description, with the server's text.
        detail: String,
    },

    /// The server refused our credentials or requires them: transient (fix the
    /// configuration; the outbox keeps trying).
    #[error(
        "SMTP サーバー {server} で認証できませんでした（{code}・SMTP の設定を確認してください）: {detail}"
    )]
    Authentication {
        /// `host:port`.
        server: String,
        /// 530, 534, 535 or 538.
        code: u16,
        /// lettre's description, with the server's text.
        detail: String,
    },

    /// The server answered 4xx: transient.
    #[error(
        "SMTP サーバー {server} が一時的に受け付けませんでした（{code}・後で再送します）: {detail}"
    )]
    Deferred {
        /// `host:port`.
        server: String,
        /// The reply code, 400–499.
        code: u16,
        /// lettre's description, with the server's text.
        detail: String,
    },

    /// The conversation did not end in time: transient.
    #[error(
        "SMTP サーバー {server} とのやり取りが{secs}秒以内に終わりませんでした（後で再送します）。"
    )]
    Timeout {
        /// `host:port`.
        server: String,
        /// The configured timeout.
        secs: u64,
    },

    /// TLS could not be set up: transient.
    #[error(
        "SMTP サーバー {server} との TLS 接続に失敗しました（smtp.security を確認してください）: {detail}"
    )]
    Tls {
        /// `host:port`.
        server: String,
        /// lettre's description.
        detail: String,
    },

    /// Could not connect, or the connection broke: transient.
    #[error("SMTP サーバー {server} に接続できませんでした（後で再送します）: {detail}")]
    Connection {
        /// `host:port`.
        server: String,
        /// lettre's description.
        detail: String,
    },
}

impl SendError {
    /// Whether sending the same message again cannot succeed: a message that
    /// cannot be built, or a 5xx answer other than to authentication.
    pub fn is_permanent(&self) -> bool {
        matches!(self, SendError::Message(_) | SendError::Rejected { .. })
    }

    /// The SMTP reply code, if the server answered with an error.
    pub fn smtp_code(&self) -> Option<u16> {
        match self {
            SendError::Rejected { code, .. }
            | SendError::Authentication { code, .. }
            | SendError::Deferred { code, .. } => Some(*code),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> SmtpSettings {
        SmtpSettings::default()
    }

    #[test]
    fn a_bad_sender_or_incomplete_credentials_fail_at_start_up() {
        let bad_from = SmtpSettings {
            from: "not an address".to_owned(),
            ..settings()
        };
        let err = Mailer::new(&bad_from).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("差出人のメールアドレス「not an address」"),
            "{err}"
        );

        let user_only = SmtpSettings {
            username: Some("u".to_owned()),
            ..settings()
        };
        assert!(matches!(
            Mailer::new(&user_only),
            Err(Error::IncompleteCredentials)
        ));

        let zero = SmtpSettings {
            timeout_secs: 0,
            ..settings()
        };
        assert!(
            Mailer::new(&zero)
                .unwrap_err()
                .to_string()
                .contains("timeout_secs")
        );
    }

    #[test]
    fn a_password_variable_that_is_not_set_fails_at_start_up() {
        let missing = SmtpSettings {
            username: Some("uketsuke".to_owned()),
            password_env: Some("UKETSUKE_TEST_SURELY_UNSET_9F3A".to_owned()),
            ..settings()
        };
        let err = Mailer::new(&missing).unwrap_err();
        assert_eq!(
            err.to_string(),
            "SMTP のパスワードを読む環境変数 UKETSUKE_TEST_SURELY_UNSET_9F3A が設定されていません（smtp.password_env）。"
        );
    }

    #[test]
    fn the_mailer_knows_its_sender_and_server_and_hides_its_password() {
        let mailer = Mailer::new(&SmtpSettings {
            from: "受付番号システム <uketsuke@example.lg.jp>".to_owned(),
            username: Some("u".to_owned()),
            password_env: Some("PATH".to_owned()),
            ..settings()
        })
        .unwrap();
        assert_eq!(mailer.from_address(), "uketsuke@example.lg.jp");
        assert_eq!(mailer.server(), "127.0.0.1:1025");
        let debug = format!("{mailer:?}");
        let path = std::env::var("PATH").unwrap();
        assert!(!debug.contains(&path), "{debug}");
    }

    #[test]
    fn only_unbuildable_messages_and_rejections_are_permanent() {
        let server = "h:25".to_owned();
        let detail = String::new();
        assert!(SendError::Message(Error::NoRecipients).is_permanent());
        assert!(
            SendError::Rejected {
                server: server.clone(),
                code: 550,
                detail: detail.clone()
            }
            .is_permanent()
        );
        for transient in [
            SendError::Authentication {
                server: server.clone(),
                code: 535,
                detail: detail.clone(),
            },
            SendError::Deferred {
                server: server.clone(),
                code: 451,
                detail: detail.clone(),
            },
            SendError::Timeout {
                server: server.clone(),
                secs: 1,
            },
            SendError::Tls {
                server: server.clone(),
                detail: detail.clone(),
            },
            SendError::Connection { server, detail },
        ] {
            assert!(!transient.is_permanent(), "{transient}");
        }
    }
}
