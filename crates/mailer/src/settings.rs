//! [`SmtpSettings`]: where and how to send. Secrets stay out of configuration
//! files: `password_env` names the environment variable that holds the
//! password, which [`crate::Mailer::new`] reads at start-up.
//!
//! ```toml
//! [smtp]
//! host = "smtp.example.lg.jp"
//! port = 587
//! security = "starttls"        # "none" | "starttls" | "tls"
//! username = "uketsuke"
//! password_env = "UKETSUKE_SMTP_PASSWORD"
//! from = "受付番号管理システム <uketsuke@example.lg.jp>"
//! timeout_secs = 60
//! ```

use serde::{Deserialize, Serialize};

/// How the connection to the SMTP server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Security {
    /// No TLS (`"none"`): only for a relay on this machine or a test server.
    #[default]
    None,
    /// STARTTLS, required (`"starttls"`; usually port 587).
    StartTls,
    /// Implicit TLS from the first byte (`"tls"`; usually port 465).
    Tls,
}

/// The SMTP server and the sender. `Default` is a local server on
/// 127.0.0.1:1025 with no TLS and no authentication (Mailpit in `docker compose`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SmtpSettings {
    /// Host name or IP address of the server.
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// TLS mode.
    pub security: Security,
    /// User name for SMTP AUTH, if the server wants it.
    pub username: Option<String>,
    /// Name of the environment variable holding the password (never the
    /// password itself).
    pub password_env: Option<String>,
    /// The sender: `uketsuke@example.lg.jp` or `名前 <uketsuke@example.lg.jp>`.
    pub from: String,
    /// Seconds one delivery may take, from connecting to the server's last
    /// answer; after that it is a transient failure.
    pub timeout_secs: u64,
}

impl Default for SmtpSettings {
    fn default() -> Self {
        Self {
            host: "127.0.0.1".to_owned(),
            port: 1025,
            security: Security::None,
            username: None,
            password_env: None,
            from: "uketsuke@uketsuke.localhost".to_owned(),
            timeout_secs: 60,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_is_a_plain_local_server_on_port_1025() {
        let s = SmtpSettings::default();
        assert_eq!(
            (s.host.as_str(), s.port, s.security),
            ("127.0.0.1", 1025, Security::None)
        );
        assert_eq!(s.from, "uketsuke@uketsuke.localhost");
        assert!(s.username.is_none() && s.password_env.is_none());
    }

    #[test]
    fn settings_read_security_names_and_fill_in_defaults() {
        let s: SmtpSettings = serde_json::from_str(
            r#"{"host": "smtp.example.lg.jp", "port": 587, "security": "starttls",
                "username": "u", "password_env": "UKETSUKE_SMTP_PASSWORD"}"#,
        )
        .unwrap();
        assert_eq!(s.security, Security::StartTls);
        assert_eq!(s.timeout_secs, 60);
        assert_eq!(s.from, "uketsuke@uketsuke.localhost");
        let tls: Security = serde_json::from_str(r#""tls""#).unwrap();
        assert_eq!(tls, Security::Tls);
    }

    #[test]
    fn settings_refuse_unknown_fields_such_as_a_password() {
        let err = serde_json::from_str::<SmtpSettings>(r#"{"password": "secret"}"#).unwrap_err();
        assert!(
            err.to_string().contains("unknown field `password`"),
            "{err}"
        );
        let err = serde_json::from_str::<SmtpSettings>(r#"{"security": "ssl"}"#).unwrap_err();
        assert!(err.to_string().contains("ssl"), "{err}");
    }
}
