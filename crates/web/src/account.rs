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

/// `GET /login`: the form, with a fresh anonymous session for its CSRF token.
#[tracing::instrument(skip_all)]
pub async fn login_form(
    State(state): State<AppState>,
    session: Option<Session>,
    jar: CookieJar,
) -> Result<Response, Error> {
    let (session, jar) = match session {
        Some(s) if s.user.is_some() => return Ok(Redirect::to("/dashboard").into_response()),
        Some(s) => (s, jar),
        None => Session::start(&state, jar, None).await?,
    };
    let page = LoginPage {
        layout: Layout::public(&state, Some(&session)),
        username: String::new(),
        error: None,
    };
    Ok((jar, page).into_response())
}

#[derive(Deserialize)]
pub struct LoginForm {
    csrf: String,
    username: String,
    password: String,
}

/// `POST /login`.
#[tracing::instrument(skip_all)]
pub async fn login(
    State(state): State<AppState>,
    session: Option<Session>,
    jar: CookieJar,
    Form(form): Form<LoginForm>,
) -> Result<Response, Error> {
    let Some(session) = session.filter(|s| s.csrf_ok(&form.csrf)) else {
        return Err(Error::Csrf);
    };
    let now = Utc::now();
    let fail = |message: &str| {
        LoginPage {
            layout: Layout::public(&state, Some(&session)),
            username: form.username.clone(),
            error: Some(message.to_owned()),
        }
        .into_response()
    };
    let Some(user) = users::find_by_username(&state.db, &form.username)
        .await?
        .filter(|u| u.active)
    else {
        // Same work and same message whether or not the account exists.
        let _ = auth::verify_password_async(form.password.clone(), DUMMY_HASH.clone()).await;
        return Ok(fail("ユーザー名またはパスワードが違います。"));
    };
    if users::is_locked(&user, now) {
        return Ok(fail(
            "ログインに続けて失敗したため、このアカウントは一時的にロックされています。しばらくしてから再度お試しください。",
        ));
    }
    if !auth::verify_password_async(form.password.clone(), user.password_hash.clone()).await {
        let user = users::record_failed_login(
            &state.db,
            user,
            state.auth.max_failures,
            state.auth.lock_for,
            now,
        )
        .await?;
        tracing::info!(user_id = user.id, "login failed");
        return Ok(fail("ユーザー名またはパスワードが違います。"));
    }
    let user = users::record_successful_login(&state.db, user, now).await?;
    tracing::info!(user_id = user.id, "login");
    // A new session id on login, so a planted cookie is worth nothing.
    let (_, jar) = Session::start(&state, jar, Some(user.id)).await?;
    Ok((jar, Redirect::to("/dashboard")).into_response())
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
