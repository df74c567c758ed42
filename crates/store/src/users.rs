//! Staff accounts (職員) and their server-side sessions (セッション).
//!
//! Passwords are hashed with argon2 by [`hash_password`] before they reach the
//! account functions, which never see a password. A session row is keyed by the hash of the cookie's token, so a copy
//! of the database does not give anyone a live session.

use chrono::{DateTime, TimeDelta, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, Set,
};

use crate::audit::{self, Actor};
use crate::entities::{session, user};
use crate::{Error, Result};

/// The roles, weakest first.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// 閲覧: reads.
    Viewer,
    /// 担当: enters requests, proposes numbers, prints answers.
    Clerk,
    /// 決裁: approves numbers, returns, records council decisions.
    Approver,
    /// 管理: manages accounts.
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Clerk => "clerk",
            Role::Approver => "approver",
            Role::Admin => "admin",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Viewer => "閲覧",
            Role::Clerk => "担当",
            Role::Approver => "決裁",
            Role::Admin => "管理",
        }
    }

    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "viewer" | "閲覧" => Ok(Role::Viewer),
            "clerk" | "担当" => Ok(Role::Clerk),
            "approver" | "決裁" => Ok(Role::Approver),
            "admin" | "管理" => Ok(Role::Admin),
            other => Err(Error::Invalid(format!(
                "役割「{other}」は使えません（viewer 閲覧 / clerk 担当 / approver 決裁 / admin 管理）"
            ))),
        }
    }
}

/// A new account.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    pub password_hash: String,
    pub role: Role,
    pub bureau_id: String,
    pub office_id: Option<i32>,
}

/// Creates an account; a taken username is a clear error.
pub async fn create<C: ConnectionTrait>(
    conn: &C,
    new: &NewUser,
    actor: &Actor,
) -> Result<user::Model> {
    let username = new.username.trim();
    if username.is_empty() || username.chars().count() > 64 {
        return Err(Error::Invalid(
            "ユーザー名は1〜64文字で指定してください".to_owned(),
        ));
    }
    if find_by_username(conn, username).await?.is_some() {
        return Err(Error::Invalid(format!(
            "ユーザー名「{username}」は既に使われています"
        )));
    }
    let now = Utc::now();
    let row = user::ActiveModel {
        username: Set(username.to_owned()),
        display_name: Set(new.display_name.clone()),
        password_hash: Set(new.password_hash.clone()),
        role: Set(new.role.as_str().to_owned()),
        bureau_id: Set(new.bureau_id.clone()),
        office_id: Set(new.office_id),
        failed_logins: Set(0),
        active: Set(true),
        password_changed_at: Set(now),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    audit::record(
        conn,
        actor,
        "user.create",
        "user",
        row.id,
        None,
        serde_json::to_value(&row).ok(),
    )
    .await?;
    Ok(row)
}

/// The account with this username.
pub async fn find_by_username<C: ConnectionTrait>(
    conn: &C,
    username: &str,
) -> Result<Option<user::Model>> {
    Ok(user::Entity::find()
        .filter(user::Column::Username.eq(username.trim()))
        .one(conn)
        .await?)
}

/// Whether the account is locked at `now`.
pub fn is_locked(user: &user::Model, now: DateTime<Utc>) -> bool {
    user.locked_until.is_some_and(|until| until > now)
}

/// Counts a failed login atomically (concurrent failures each count) and locks the
/// account once `max_failures` is reached; the lock is written (and audited) once.
pub async fn record_failed_login<C: ConnectionTrait>(
    conn: &C,
    user: user::Model,
    max_failures: i32,
    lock_for: TimeDelta,
    now: DateTime<Utc>,
) -> Result<user::Model> {
    use sea_orm::sea_query::{Expr, ExprTrait};
    let id = user.id;
    user::Entity::update_many()
        .col_expr(
            user::Column::FailedLogins,
            Expr::col(user::Column::FailedLogins).add(1),
        )
        .col_expr(user::Column::UpdatedAt, Expr::value(now))
        .filter(user::Column::Id.eq(id))
        .exec(conn)
        .await?;
    // Whoever brings the count to the limit locks the account (and resets the count).
    let locked = user::Entity::update_many()
        .col_expr(user::Column::FailedLogins, Expr::value(0))
        .col_expr(user::Column::LockedUntil, Expr::value(Some(now + lock_for)))
        .filter(user::Column::Id.eq(id))
        .filter(user::Column::FailedLogins.gte(max_failures))
        .exec(conn)
        .await?
        .rows_affected
        == 1;
    let row = find_by_id(conn, id).await?.ok_or(Error::NotFound)?;
    if locked {
        audit::record(
            conn,
            &Actor::system("auth"),
            "user.lock",
            "user",
            id,
            None,
            Some(serde_json::json!({ "locked_until": row.locked_until })),
        )
        .await?;
    }
    Ok(row)
}

/// Clears the failure count after a successful login.
pub async fn record_successful_login<C: ConnectionTrait>(
    conn: &C,
    user: user::Model,
    now: DateTime<Utc>,
) -> Result<user::Model> {
    if user.failed_logins == 0 && user.locked_until.is_none() {
        return Ok(user);
    }
    let mut active: user::ActiveModel = user.into();
    active.failed_logins = Set(0);
    active.locked_until = Set(None);
    active.updated_at = Set(now);
    Ok(active.update(conn).await?)
}

/// Replaces the password hash (audited without the hash).
pub async fn set_password<C: ConnectionTrait>(
    conn: &C,
    user: user::Model,
    password_hash: String,
    actor: &Actor,
) -> Result<user::Model> {
    let id = user.id;
    let now = Utc::now();
    let mut active: user::ActiveModel = user.into();
    active.password_hash = Set(password_hash);
    active.password_changed_at = Set(now);
    active.updated_at = Set(now);
    let row = active.update(conn).await?;
    audit::record(conn, actor, "user.password_change", "user", id, None, None).await?;
    Ok(row)
}

/// Creates a session. `id_hash` is the hash of the cookie's token.
pub async fn create_session<C: ConnectionTrait>(
    conn: &C,
    id_hash: &str,
    user_id: Option<i32>,
    csrf_token: &str,
    expires_at: DateTime<Utc>,
) -> Result<session::Model> {
    Ok(session::ActiveModel {
        id: Set(id_hash.to_owned()),
        user_id: Set(user_id),
        csrf_token: Set(csrf_token.to_owned()),
        data: Set(None),
        expires_at: Set(expires_at),
        created_at: Set(Utc::now()),
    }
    .insert(conn)
    .await?)
}

/// A live session and its user (if signed in).
pub async fn find_session<C: ConnectionTrait>(
    conn: &C,
    id_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<(session::Model, Option<user::Model>)>> {
    // One query for both (every page view starts here).
    let Some((s, user)) = session::Entity::find_by_id(id_hash.to_owned())
        .select_also(user::Entity)
        .join(
            sea_orm::JoinType::LeftJoin,
            session::Entity::belongs_to(user::Entity)
                .from(session::Column::UserId)
                .to(user::Column::Id)
                .into(),
        )
        .one(conn)
        .await?
    else {
        return Ok(None);
    };
    if s.expires_at <= now {
        session::Entity::delete_by_id(s.id).exec(conn).await?;
        return Ok(None);
    }
    Ok(Some((s, user.filter(|u| u.active))))
}

/// Ends a session (logout).
pub async fn delete_session<C: ConnectionTrait>(conn: &C, id_hash: &str) -> Result<()> {
    session::Entity::delete_by_id(id_hash.to_owned())
        .exec(conn)
        .await?;
    Ok(())
}

/// Ends every session of a user (after a password change).
pub async fn delete_sessions_of<C: ConnectionTrait>(conn: &C, user_id: i32) -> Result<()> {
    session::Entity::delete_many()
        .filter(session::Column::UserId.eq(user_id))
        .exec(conn)
        .await?;
    Ok(())
}

/// Removes expired sessions; returns how many.
pub async fn purge_expired_sessions<C: ConnectionTrait>(
    conn: &C,
    now: DateTime<Utc>,
) -> Result<u64> {
    let result = session::Entity::delete_many()
        .filter(session::Column::ExpiresAt.lte(now))
        .exec(conn)
        .await?;
    Ok(result.rows_affected)
}

/// The account with this id.
pub async fn find_by_id<C: ConnectionTrait>(conn: &C, id: i32) -> Result<Option<user::Model>> {
    Ok(user::Entity::find_by_id(id).one(conn).await?)
}

/// Hashes a password with argon2 (PHC string). Slow by design: run it off the async
/// threads (`tokio::task::spawn_blocking`) when serving requests.
pub fn hash_password(password: &str) -> String {
    password_auth::generate_hash(password)
}

/// Whether `password` matches the argon2 `hash`. As slow as [`hash_password`].
pub fn verify_password(password: &str, hash: &str) -> bool {
    password_auth::verify_password(password, hash).is_ok()
}

/// The bureau's accounts, by username.
pub async fn in_bureau<C: ConnectionTrait>(conn: &C, bureau_id: &str) -> Result<Vec<user::Model>> {
    use sea_orm::QueryOrder;
    Ok(user::Entity::find()
        .filter(user::Column::BureauId.eq(bureau_id))
        .order_by_asc(user::Column::Username)
        .all(conn)
        .await?)
}

/// Lifts a lock and resets the failure count (audited as `user.unlock`).
pub async fn unlock<C: ConnectionTrait>(
    conn: &C,
    account: user::Model,
    actor: &Actor,
) -> Result<user::Model> {
    let mut active: user::ActiveModel = account.into();
    active.locked_until = Set(None);
    active.failed_logins = Set(0);
    active.updated_at = Set(Utc::now());
    let account = active.update(conn).await?;
    audit::record(conn, actor, "user.unlock", "user", account.id, None, None).await?;
    Ok(account)
}

/// Every account, by bureau and username (`uketsuke user list`).
pub async fn all<C: ConnectionTrait>(conn: &C) -> Result<Vec<user::Model>> {
    use sea_orm::QueryOrder;
    Ok(user::Entity::find()
        .order_by_asc(user::Column::BureauId)
        .order_by_asc(user::Column::Username)
        .all(conn)
        .await?)
}

/// Disables (`active = false`) or enables an account, audited as `user.disable` /
/// `user.enable`. A disabled account cannot sign in, its API tokens stop working, and
/// every session it has ends here.
pub async fn set_active<C: ConnectionTrait>(
    conn: &C,
    account: user::Model,
    active: bool,
    actor: &Actor,
) -> Result<user::Model> {
    let id = account.id;
    let before = account.active;
    let mut row: user::ActiveModel = account.into();
    row.active = Set(active);
    if active {
        // Enabling starts afresh: no lock, no failures carried over.
        row.failed_logins = Set(0);
        row.locked_until = Set(None);
    }
    row.updated_at = Set(Utc::now());
    let account = row.update(conn).await?;
    if !active {
        delete_sessions_of(conn, id).await?;
    }
    audit::record(
        conn,
        actor,
        if active {
            "user.enable"
        } else {
            "user.disable"
        },
        "user",
        id,
        Some(serde_json::json!({ "active": before })),
        Some(serde_json::json!({ "active": active })),
    )
    .await?;
    Ok(account)
}

/// Sets a new password chosen by an administrator (`uketsuke user reset-password`):
/// the lock is lifted, the failure count reset and every session ends. Audited as
/// `user.password_reset`, without the hash.
pub async fn reset_password<C: ConnectionTrait>(
    conn: &C,
    account: user::Model,
    password_hash: String,
    actor: &Actor,
) -> Result<user::Model> {
    let id = account.id;
    let now = Utc::now();
    let mut row: user::ActiveModel = account.into();
    row.password_hash = Set(password_hash);
    row.password_changed_at = Set(now);
    row.failed_logins = Set(0);
    row.locked_until = Set(None);
    row.updated_at = Set(now);
    let account = row.update(conn).await?;
    delete_sessions_of(conn, id).await?;
    audit::record(conn, actor, "user.password_reset", "user", id, None, None).await?;
    Ok(account)
}
