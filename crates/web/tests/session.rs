//! Sessions and the request extractors of `auth.rs` on a real (in-memory SQLite)
//! database: starting and rotating a session, reading it back from the cookie, the
//! signed-in user (or the way to the login page), the CSRF token and the client address.
//! The pages that use them are tested end to end in tests/tests/auth.rs.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRequestParts, OptionalFromRequestParts};
use axum::http::{Request, StatusCode, header, request::Parts};
use axum::response::IntoResponse;
use axum_extra::extract::CookieJar;
use chrono::{TimeDelta, Utc};
use uketsuke_store::audit::Actor;
use uketsuke_store::bureaus::{BureauSeed, OfficeSeed};
use uketsuke_store::users::{self, NewUser, Role};
use uketsuke_web::auth::{
    self, AuthSettings, COOKIE, ClientAddr, CurrentUser, LoginRequired, Session,
};
use uketsuke_web::{AppState, SiteInfo};

async fn state() -> AppState {
    let db = uketsuke_store::db::connect("sqlite::memory:", 1)
        .await
        .unwrap();
    uketsuke_store::db::migrate_up(&db).await.unwrap();
    uketsuke_store::bureaus::sync(
        &db,
        &[BureauSeed {
            id: "kanto-shinetsu".into(),
            name: "関東信越厚生局".into(),
            offices: vec![OfficeSeed {
                code: "tokyo".into(),
                name: "東京事務所".into(),
                prefectures: vec!["13".into()],
            }],
        }],
    )
    .await
    .unwrap();
    AppState {
        db,
        site: Arc::new(SiteInfo {
            bureau_name: "関東信越厚生局".into(),
            bureau_names: vec!["関東信越厚生局".into()],
            demo: false,
        }),
        auth: Arc::new(AuthSettings::default()),
        login_throttle: Arc::default(),
        bureaus: Arc::new(BTreeMap::new()),
        eligibility: Default::default(),
        upload_permits: Arc::new(tokio::sync::Semaphore::new(1)),
        imports: Arc::default(),
        ingest_limits: Default::default(),
        attachment_limits: Default::default(),
        numbering: Default::default(),
        metrics: Arc::new(uketsuke_web::metrics::Metrics::new(None)),
        letters: Arc::default(),
    }
}

async fn account(
    state: &AppState,
    username: &str,
    role: Role,
) -> uketsuke_store::entities::user::Model {
    users::create(
        &state.db,
        &NewUser {
            username: username.into(),
            display_name: username.into(),
            password_hash: "h".into(),
            role,
            bureau_id: "kanto-shinetsu".into(),
            office_id: None,
        },
        &Actor::system("test"),
    )
    .await
    .unwrap()
}

/// A request's parts carrying `cookie` as the session cookie.
fn parts_with(cookie: Option<&str>) -> Parts {
    let mut request = Request::builder().uri("/dashboard");
    if let Some(value) = cookie {
        request = request.header(header::COOKIE, format!("{COOKIE}={value}; other=1"));
    }
    request.body(()).unwrap().into_parts().0
}

fn cookie_value(jar: &CookieJar) -> String {
    jar.get(COOKIE)
        .expect("the session cookie is set")
        .value()
        .to_owned()
}

fn is_token(s: &str) -> bool {
    s.len() == 64 && s.chars().all(|c| c.is_ascii_hexdigit())
}

#[tokio::test]
async fn a_started_session_is_stored_under_its_cookies_hash_until_its_ttl() {
    let state = state().await;
    let before = Utc::now();
    let (session, jar) = Session::start(&state, CookieJar::new(), None)
        .await
        .unwrap();
    let token = cookie_value(&jar);
    assert!(is_token(&token), "{token}");
    assert_eq!(session.row.id, auth::token_hash(&token));
    assert!(is_token(&session.row.csrf_token));
    assert_ne!(session.row.csrf_token, token);
    assert!(session.user.is_none());
    let ttl = state.auth.session_ttl;
    assert!(session.row.expires_at >= before + ttl - TimeDelta::seconds(1));
    assert!(session.row.expires_at <= Utc::now() + ttl + TimeDelta::seconds(1));
    let (stored, _) = users::find_session(&state.db, &auth::token_hash(&token), Utc::now())
        .await
        .unwrap()
        .expect("stored and live");
    assert_eq!(stored.csrf_token, session.row.csrf_token);
    assert!(session.csrf_ok(&session.row.csrf_token));
    assert!(!session.csrf_ok(&token));
    assert!(!session.csrf_ok(""));
}

#[tokio::test]
async fn signing_in_rotates_the_session_and_carries_the_user() {
    let state = state().await;
    let ito = account(&state, "ito", Role::Clerk).await;
    let (_, jar) = Session::start(&state, CookieJar::new(), None)
        .await
        .unwrap();
    let old = cookie_value(&jar);
    let (session, jar) = Session::start(&state, jar, Some(ito.id)).await.unwrap();
    let new = cookie_value(&jar);
    assert_ne!(old, new);
    assert_eq!(session.user.map(|u| u.id), Some(ito.id));
    assert_eq!(session.row.user_id, Some(ito.id));
    let now = Utc::now();
    assert!(
        users::find_session(&state.db, &auth::token_hash(&old), now)
            .await
            .unwrap()
            .is_none(),
        "the old session ends"
    );
    assert!(
        users::find_session(&state.db, &auth::token_hash(&new), now)
            .await
            .unwrap()
            .is_some()
    );
}

#[tokio::test]
async fn the_session_is_read_back_from_its_cookie() {
    let state = state().await;
    let ito = account(&state, "ito", Role::Approver).await;
    let (started, jar) = Session::start(&state, CookieJar::new(), Some(ito.id))
        .await
        .unwrap();
    let token = cookie_value(&jar);
    let found = <Session as OptionalFromRequestParts<AppState>>::from_request_parts(
        &mut parts_with(Some(&token)),
        &state,
    )
    .await
    .unwrap()
    .expect("the cookie's session");
    assert_eq!(found.row.id, started.row.id);
    assert_eq!(found.user.map(|u| u.username).as_deref(), Some("ito"));
    for parts in [parts_with(None), parts_with(Some("0000"))] {
        let mut parts = parts;
        let none =
            <Session as OptionalFromRequestParts<AppState>>::from_request_parts(&mut parts, &state)
                .await
                .unwrap();
        assert!(none.is_none());
    }

    let user = CurrentUser::from_request_parts(&mut parts_with(Some(&token)), &state)
        .await
        .unwrap();
    assert_eq!((user.user.id, user.role), (ito.id, Role::Approver));
    assert_eq!(user.session.id, started.row.id);
}

fn goes_to_login(response: &axum::response::Response) -> bool {
    response.status() == StatusCode::SEE_OTHER
        && response
            .headers()
            .get(header::LOCATION)
            .map(|v| v.as_bytes())
            == Some(b"/login")
}

#[tokio::test]
async fn without_a_signed_in_session_the_way_is_to_the_login_page() {
    let state = state().await;
    assert!(goes_to_login(&LoginRequired.into_response()));
    let (_, jar) = Session::start(&state, CookieJar::new(), None)
        .await
        .unwrap();
    let anonymous = cookie_value(&jar);
    for cookie in [None, Some("0000"), Some(anonymous.as_str())] {
        let refused = CurrentUser::from_request_parts(&mut parts_with(cookie), &state)
            .await
            .unwrap_err();
        assert!(goes_to_login(&refused), "{cookie:?}: {refused:?}");
    }
}

#[tokio::test]
async fn the_client_address_is_the_connections_peer() {
    let mut parts = parts_with(None);
    let ClientAddr(none) = ClientAddr::from_request_parts(&mut parts, &())
        .await
        .unwrap();
    assert_eq!(none, None);
    let peer: std::net::SocketAddr = "192.0.2.7:5050".parse().unwrap();
    parts.extensions.insert(ConnectInfo(peer));
    let ClientAddr(addr) = ClientAddr::from_request_parts(&mut parts, &())
        .await
        .unwrap();
    assert_eq!(addr, Some(peer.ip()));
}
