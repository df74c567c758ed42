//! Signing in and out, and changing one's password (ログイン・ログアウト・パスワード変更).

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::Cookie;
use chrono::Utc;
use serde::Deserialize;
use uketsuke_store::users;

use crate::auth::{self, COOKIE, CurrentUser, Session};
use crate::error::Error;
use crate::layout::Layout;
use crate::state::AppState;

#[derive(Template, WebTemplate)]
#[template(path = "login.html")]
struct LoginPage {
    layout: Layout,
    username: String,
    error: Option<String>,
}

/// The login form's CSRF cookie: a random token that the form carries too (a double
/// submit), so that showing the form writes nothing to the database. A session is
/// created only by a successful login.
pub const LOGIN_COOKIE: &str = "uketsuke_login";

fn login_cookie(token: String, state: &AppState) -> Cookie<'static> {
    Cookie::build((LOGIN_COOKIE, token))
        .path("/login")
        .http_only(true)
        .same_site(axum_extra::extract::cookie::SameSite::Strict)
        .secure(state.auth.secure_cookies)
        .build()
}

fn login_page(state: &AppState, csrf: &str, username: &str, error: Option<&str>) -> LoginPage {
    let mut layout = Layout::public(state, None);
    layout.csrf = csrf.to_owned();
    LoginPage {
        layout,
        username: username.to_owned(),
        error: error.map(str::to_owned),
    }
}

/// `GET /login`: the form (a signed-in user goes to the dashboard).
#[tracing::instrument(skip_all)]
pub async fn login_form(
    State(state): State<AppState>,
    session: Option<Session>,
    jar: CookieJar,
) -> Result<Response, Error> {
    if session.is_some_and(|s| s.user.is_some()) {
        return Ok(Redirect::to("/dashboard").into_response());
    }
    let token = auth::random_token();
    let page = login_page(&state, &token, "", None);
    Ok((jar.add(login_cookie(token, &state)), page).into_response())
}

#[derive(Deserialize)]
pub struct LoginForm {
    csrf: String,
    username: String,
    password: String,
}

/// The one answer to a failed login, whatever failed: an unknown name, a wrong
/// password, or a locked account (so that none of them tells an attacker anything).
const LOGIN_FAILED: &str =
    "ユーザー名またはパスワードが違います。続けて失敗するとアカウントは一時的にロックされます。";

/// `POST /login`. The password is checked (argon2) in every case, so an unknown name, a
/// wrong password and a locked account take the same time and get the same answer;
/// failures are counted atomically per account and per client address.
#[tracing::instrument(skip_all)]
pub async fn login(
    State(state): State<AppState>,
    client: auth::ClientAddr,
    jar: CookieJar,
    Form(form): Form<LoginForm>,
) -> Result<Response, Error> {
    let csrf_ok = jar
        .get(LOGIN_COOKIE)
        .is_some_and(|c| auth::constant_time_eq(c.value().as_bytes(), form.csrf.as_bytes()));
    if !csrf_ok {
        return Err(Error::Csrf);
    }
    let started = std::time::Instant::now();
    if let Some(ip) = client.0
        && state.login_throttle.blocked(ip, started)
    {
        tracing::warn!(client = %ip, "login throttled: too many failures from this address");
        let page = login_page(
            &state,
            &form.csrf,
            &form.username,
            Some("ログインの試行が多すぎます。しばらくしてから再度お試しください。"),
        );
        return Ok((axum::http::StatusCode::TOO_MANY_REQUESTS, page).into_response());
    }
    let now = Utc::now();
    let user = users::find_by_username(&state.db, &form.username)
        .await?
        .filter(|u| u.active);
    let hash = user
        .as_ref()
        .map_or_else(|| DUMMY_HASH.clone(), |u| u.password_hash.clone());
    let password_ok = auth::verify_password_async(form.password.clone(), hash).await;
    match user {
        Some(user) if password_ok && !users::is_locked(&user, now) => {
            let user = users::record_successful_login(&state.db, user, now).await?;
            tracing::info!(user_id = user.id, client = ?client.0, "login");
            // A new session id on login, so a planted cookie is worth nothing.
            let (_, jar) = Session::start(&state, jar, Some(user.id)).await?;
            let jar = jar.remove(Cookie::build(LOGIN_COOKIE).path("/login"));
            Ok((jar, Redirect::to("/dashboard")).into_response())
        }
        user => {
            // Logged with the client address; never the password, and never the name
            // typed (personal data): only the account's id when the account exists.
            let client_addr = client.0.map_or_else(|| "-".to_owned(), |ip| ip.to_string());
            if let Some(user) = user {
                let was_locked = users::is_locked(&user, now);
                let id = user.id;
                let mut locked_now = false;
                if !password_ok {
                    let after = users::record_failed_login(
                        &state.db,
                        user,
                        state.auth.max_failures,
                        state.auth.lock_for,
                        now,
                    )
                    .await?;
                    locked_now = !was_locked && users::is_locked(&after, now);
                }
                tracing::warn!(
                    user_id = id,
                    locked = was_locked,
                    client = %client_addr,
                    "login failed"
                );
                if locked_now {
                    tracing::warn!(user_id = id, client = %client_addr, "account locked after repeated failed logins");
                }
            } else {
                tracing::warn!(client = %client_addr, "login failed: no such active account");
            }
            if let Some(ip) = client.0 {
                state.login_throttle.failed(ip, std::time::Instant::now());
            }
            let page = login_page(&state, &form.csrf, &form.username, Some(LOGIN_FAILED));
            Ok(page.into_response())
        }
    }
}

/// A hash of a random password, to spend the same time on unknown names.
static DUMMY_HASH: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| uketsuke_store::users::hash_password(&auth::random_token()));

#[derive(Deserialize)]
pub struct CsrfOnly {
    csrf: String,
}

/// `POST /logout`.
#[tracing::instrument(skip_all)]
pub async fn logout(
    State(state): State<AppState>,
    user: CurrentUser,
    jar: CookieJar,
    Form(form): Form<CsrfOnly>,
) -> Result<Response, Error> {
    user.check_csrf(&form.csrf)?;
    users::delete_session(&state.db, &user.session.id).await?;
    let jar = jar.remove(Cookie::build(COOKIE).path("/"));
    Ok((jar, Redirect::to("/login")).into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "password.html")]
struct PasswordPage {
    layout: Layout,
    error: Option<String>,
    done: bool,
}

/// `GET /password`.
pub async fn password_form(State(state): State<AppState>, user: CurrentUser) -> impl IntoResponse {
    PasswordPage {
        layout: Layout::signed_in(&state, &user),
        error: None,
        done: false,
    }
}

#[derive(Deserialize)]
pub struct PasswordForm {
    csrf: String,
    current: String,
    new: String,
    confirm: String,
}

/// `POST /password`: the current password, and the new one twice.
#[tracing::instrument(skip_all)]
pub async fn change_password(
    State(state): State<AppState>,
    user: CurrentUser,
    jar: CookieJar,
    Form(form): Form<PasswordForm>,
) -> Result<Response, Error> {
    user.check_csrf(&form.csrf)?;
    let page = |error: &str| PasswordPage {
        layout: Layout::signed_in(&state, &user),
        error: Some(error.to_owned()),
        done: false,
    };
    if !auth::verify_password_async(form.current.clone(), user.user.password_hash.clone()).await {
        return Ok(page("現在のパスワードが違います。").into_response());
    }
    if form.new != form.confirm {
        return Ok(page("新しいパスワードが確認欄と一致しません。").into_response());
    }
    if let Some(problem) = auth::password_problem(&form.new, &user.user.username) {
        return Ok(page(problem).into_response());
    }
    let hash = auth::hash_password_async(form.new.clone()).await?;
    let actor = user.actor();
    let account = users::set_password(&state.db, user.user.clone(), hash, &actor).await?;
    // Every other session of this account ends; this one is renewed.
    users::delete_sessions_of(&state.db, account.id).await?;
    let (session, jar) = Session::start(&state, jar, Some(account.id)).await?;
    let fresh = CurrentUser {
        user: account,
        role: user.role,
        session: session.row,
    };
    Ok((
        jar,
        PasswordPage {
            layout: Layout::signed_in(&state, &fresh),
            error: None,
            done: true,
        },
    )
        .into_response())
}
