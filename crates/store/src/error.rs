//! The store's one error type.

/// What can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The database refused or failed.
    #[error("データベースの処理に失敗しました: {0}")]
    Db(#[from] sea_orm::DbErr),
    /// A value read from or given to the database is not a valid domain value.
    #[error(transparent)]
    Domain(#[from] uketsuke_domain::Error),
    /// Every usable 医療機関番号 of the district is taken.
    #[error(
        "{prefecture} 点数表{fee_schedule} 郡市区番号{district:02} には、交付できる医療機関番号が残っていません"
    )]
    NumbersExhausted {
        prefecture: String,
        fee_schedule: u8,
        district: u8,
    },
    /// Concurrent issuances kept colliding; nothing was written.
    #[error("番号の交付が混み合っています。時間をおいて再度お試しください（{attempts}回衝突）")]
    Contention { attempts: u32 },
    /// A value outside what the schema holds.
    #[error("{0}")]
    Invalid(String),
    /// No such record within the caller's bureau and office (what another bureau's or
    /// office's case looks like).
    #[error("見つかりません")]
    NotFound,
    /// The caller's role does not allow the action.
    #[error("{0}")]
    Forbidden(String),
    /// The action is not allowed from the case's status, or a condition is not met.
    #[error("{0}")]
    NotAllowed(String),
    /// One input is wrong: the field and what to fix.
    #[error("{message}")]
    Field {
        field: &'static str,
        message: String,
    },
    /// Someone changed the case since the caller saw it, or won a race for it.
    #[error("他の職員が先に処理しました。最新の内容を確認してください")]
    Conflict,
}

/// The store's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Whether the database refused a row because of a unique constraint.
    pub fn is_unique_violation(&self) -> bool {
        matches!(self, Error::Db(e) if is_unique_violation(e))
    }

    /// Whether the transaction collided with another writer and may be run again.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Error::Db(e) if is_retryable(e))
    }
}

/// Whether a database error is a unique-constraint violation (on either backend).
pub(crate) fn is_unique_violation(err: &sea_orm::DbErr) -> bool {
    matches!(
        err.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    )
}

/// Whether a database error is SQLite's "busy/locked": another writer holds the lock,
/// and the transaction may simply be tried again.
pub(crate) fn is_retryable(err: &sea_orm::DbErr) -> bool {
    if is_unique_violation(err) {
        return true;
    }
    let text = err.to_string();
    text.contains("database is locked")
        || text.contains("database table is locked")
        || text.contains("SQLITE_BUSY")
        || text.contains("could not serialize access")
        || text.contains("deadlock detected")
}
