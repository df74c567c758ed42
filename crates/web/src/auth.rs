//! Authentication and request protection (認証): argon2 password hashes, server-side
//! sessions keyed by the hash of a random cookie token, CSRF tokens bound to the
//! session, and role checks — all enforced on the server for every request.

use axum::extract::{FromRef, FromRequestParts, OptionalFromRequestParts};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use chrono::{TimeDelta, Utc};
use sha2::{Digest, Sha256};
use uketsuke_store::entities::{session, user};
use uketsuke_store::users::{self, Role};

use crate::error::Error;
use crate::state::AppState;

/// The session cookie's name.
pub const COOKIE: &str = "uketsuke_session";

/// Authentication settings.
#[derive(Debug, Clone)]
pub struct AuthSettings {
    /// Set the `Secure` flag (the site is served over HTTPS).
    pub secure_cookies: bool,
    /// How long a session lives without use.
    pub session_ttl: TimeDelta,
    /// Failed logins before the account is locked.
    pub max_failures: i32,
    /// How long a lock lasts.
    pub lock_for: TimeDelta,
    /// Reverse proxies whose `X-Forwarded-For` names the client (信頼するプロキシ).
    pub trusted_proxies: Vec<ipnet::IpNet>,
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            secure_cookies: false,
            session_ttl: TimeDelta::hours(8),
            max_failures: 5,
            lock_for: TimeDelta::minutes(15),
            trusted_proxies: Vec::new(),
        }
    }
}

/// [`users::hash_password`] (argon2) on a blocking thread.
pub async fn hash_password_async(password: String) -> Result<String, Error> {
    tokio::task::spawn_blocking(move || users::hash_password(&password))
        .await
        .map_err(|e| Error::Internal(format!("hashing failed: {e}")))
}

/// Checks a password against its hash on a blocking thread.
pub async fn verify_password_async(password: String, hash: String) -> bool {
    tokio::task::spawn_blocking(move || users::verify_password(&password, &hash))
        .await
        .unwrap_or(false)
}

/// Why a new password is refused, if it is.
pub fn password_problem(password: &str, username: &str) -> Option<&'static str> {
    if password.chars().count() < 12 {
        Some("パスワードは12文字以上にしてください")
    } else if password.chars().count() > 128 {
        Some("パスワードは128文字以内にしてください")
    } else if password.eq_ignore_ascii_case(username) {
        Some("ユーザー名と同じパスワードは使えません")
    } else {
        None
    }
}

/// 256 random bits, hex-encoded.
pub fn random_token() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

/// The hash under which a cookie token's session is stored.
pub fn token_hash(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The session cookie for `token`.
pub fn session_cookie(token: String, settings: &AuthSettings) -> Cookie<'static> {
    Cookie::build((COOKIE, token))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(settings.secure_cookies)
        .build()
}

/// The current request's session: loaded from the cookie, or none yet.
#[derive(Debug, Clone)]
pub struct Session {
    pub row: session::Model,
    pub user: Option<user::Model>,
}

impl Session {
    /// Starts a new session (rotating any old one), returns it with the cookie to set.
    pub async fn start(
        state: &AppState,
        jar: CookieJar,
        user_id: Option<i32>,
    ) -> Result<(Session, CookieJar), Error> {
        if let Some(old) = jar.get(COOKIE) {
            users::delete_session(&state.db, &token_hash(old.value())).await?;
        }
        let token = random_token();
        let expires = Utc::now() + state.auth.session_ttl;
        let row = users::create_session(
            &state.db,
            &token_hash(&token),
            user_id,
            &random_token(),
            expires,
        )
        .await?;
        let user = match user_id {
            Some(id) => users::find_by_id(&state.db, id).await?,
            None => None,
        };
        let jar = jar.add(session_cookie(token, &state.auth));
        Ok((Session { row, user }, jar))
    }

    /// Whether `token` is this session's CSRF token (compared in constant time).
    pub fn csrf_ok(&self, token: &str) -> bool {
        constant_time_eq(self.row.csrf_token.as_bytes(), token.as_bytes())
    }
}

/// Compares two secrets in time that does not depend on where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl<S> OptionalFromRequestParts<S> for Session
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Error;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        let state = AppState::from_ref(state);
        let jar = CookieJar::from_headers(&parts.headers);
        let Some(cookie) = jar.get(COOKIE) else {
            return Ok(None);
        };
        let found = users::find_session(&state.db, &token_hash(cookie.value()), Utc::now()).await?;
        Ok(found.map(|(row, user)| Session { row, user }))
    }
}

/// The client's address (the peer of the connection), when the server knows it.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub Option<std::net::IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddr(
            parts
                .extensions
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                .map(|c| c.0.ip()),
        ))
    }
}

/// A signed-in staff member. Extracting it from a request that has no signed-in
/// session redirects to the login page.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub user: user::Model,
    pub role: Role,
    pub session: session::Model,
}

impl CurrentUser {
    /// Refuses (403) unless the user has at least `role`.
    pub fn require(&self, role: Role) -> Result<(), Error> {
        if self.role >= role {
            Ok(())
        } else {
            Err(Error::Forbidden(format!(
                "この操作には「{}」以上の権限が必要です",
                role.label()
            )))
        }
    }

    /// Refuses (404, so nothing leaks) a record of another bureau.
    pub fn require_bureau(&self, bureau_id: &str) -> Result<(), Error> {
        if self.user.bureau_id == bureau_id {
            Ok(())
        } else {
            Err(Error::NotFound)
        }
    }

    /// The cases this user may see and touch: their bureau's, and only their office's
    /// when the account is limited to one.
    pub fn scope(&self) -> uketsuke_store::lifecycle::Scope {
        uketsuke_store::lifecycle::Scope {
            bureau_id: self.user.bureau_id.clone(),
            office_id: self.user.office_id,
        }
    }

    /// Who acts, for the lifecycle's guarded change.
    pub fn caller(&self) -> uketsuke_store::lifecycle::Caller {
        uketsuke_store::lifecycle::Caller {
            actor: self.actor(),
            role: self.role,
            scope: self.scope(),
        }
    }

    /// The actor to write in the audit trail.
    pub fn actor(&self) -> uketsuke_store::audit::Actor {
        uketsuke_store::audit::Actor::user(self.user.id, &self.user.username)
    }

    /// Refuses a form whose CSRF token is not this session's.
    pub fn check_csrf(&self, token: &str) -> Result<(), Error> {
        if constant_time_eq(self.session.csrf_token.as_bytes(), token.as_bytes()) {
            Ok(())
        } else {
            Err(Error::Csrf)
        }
    }
}

/// The rejection when nobody is signed in: to the login page.
pub struct LoginRequired;

impl IntoResponse for LoginRequired {
    fn into_response(self) -> Response {
        Redirect::to("/login").into_response()
    }
}

impl<S> FromRequestParts<S> for CurrentUser
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let session = <Session as OptionalFromRequestParts<S>>::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let Some(Session {
            row,
            user: Some(user),
        }) = session
        else {
            return Err(LoginRequired.into_response());
        };
        let role = Role::parse(&user.role).map_err(|_| StatusCode::FORBIDDEN.into_response())?;
        Ok(CurrentUser {
            user,
            role,
            session: row,
        })
    }
}
