//! [`Error`]: settings or a message that cannot be used at all, with messages in
//! Japanese. Delivery failures are [`crate::SendError`], which says whether to
//! try again.

/// A setting or a message the mailer cannot use.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An address does not parse.
    #[error("{role}のメールアドレス「{address}」が正しくありません: {reason}")]
    Address {
        /// 差出人 (from) or 宛先 (to).
        role: &'static str,
        /// The address as given.
        address: String,
        /// Why, from lettre.
        reason: String,
    },

    /// A message with no recipient.
    #[error("宛先が1つもありません。")]
    NoRecipients,

    /// The Message-ID is not of the form `<local@domain>`.
    #[error("Message-ID「{0}」が正しくありません（例: <outbox-42@uketsuke.localhost>）。")]
    MessageId(String),

    /// The attachment's MIME type does not parse.
    #[error("添付ファイルの種類「{mime}」が正しくありません: {reason}")]
    Mime {
        /// The MIME type as given.
        mime: String,
        /// Why.
        reason: String,
    },

    /// The attachment has no file name.
    #[error("添付ファイルの名前が空です。")]
    EmptyAttachmentName,

    /// lettre could not assemble the message.
    #[error("メールを組み立てられません: {0}")]
    Build(#[from] lettre::error::Error),

    /// `password_env` names a variable that is not set.
    #[error("SMTP のパスワードを読む環境変数 {var} が設定されていません（smtp.password_env）。")]
    MissingPassword {
        /// The variable's name.
        var: String,
    },

    /// A user name without a password, or a password without a user name.
    #[error("SMTP 認証には smtp.username と smtp.password_env の両方が必要です。")]
    IncompleteCredentials,

    /// Another setting that cannot work.
    #[error("SMTP の設定 smtp.{field} が正しくありません: {reason}")]
    Setting {
        /// The setting's name.
        field: &'static str,
        /// Why.
        reason: String,
    },
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
