//! The parts of authentication that need no server: password rules, tokens and their
//! hashes, the constant-time comparison, the session cookie's flags and the role, bureau
//! and CSRF checks of a signed-in user. The pages themselves are tested end to end in
//! tests/tests/auth.rs.

use chrono::{TimeDelta, Utc};
use uketsuke_store::entities::{session, user};
use uketsuke_store::users::Role;
use uketsuke_web::auth::{self, AuthSettings, CurrentUser};
use uketsuke_web::error::Error;

#[test]
fn a_password_needs_12_to_128_characters_and_not_the_username() {
    let eleven = "a".repeat(11);
    let twelve = "a".repeat(12);
    assert_eq!(
        auth::password_problem(&eleven, "ito"),
        Some("パスワードは12文字以上にしてください")
    );
    assert_eq!(auth::password_problem(&twelve, "ito"), None);
    // Characters, not bytes: twelve kana are enough.
    assert_eq!(auth::password_problem(&"あ".repeat(12), "ito"), None);
    assert_eq!(auth::password_problem(&"x".repeat(128), "ito"), None);
    assert_eq!(
        auth::password_problem(&"x".repeat(129), "ito"),
        Some("パスワードは128文字以内にしてください")
    );
    assert_eq!(
        auth::password_problem("Suzuki-Ichiro", "suzuki-ichiro"),
        Some("ユーザー名と同じパスワードは使えません")
    );
}

#[test]
fn tokens_are_256_random_bits_and_stored_only_as_their_sha256() {
    let a = auth::random_token();
    let b = auth::random_token();
    assert_eq!(a.len(), 64, "{a}");
    assert!(a.bytes().all(|c| c.is_ascii_hexdigit()), "{a}");
    assert_ne!(a, b);
    // The SHA-256 test vector of FIPS 180-2.
    assert_eq!(
        auth::token_hash("abc"),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    assert_ne!(auth::token_hash(&a), a);
}

#[test]
fn constant_time_eq_is_equality() {
    assert!(auth::constant_time_eq(b"", b""));
    assert!(auth::constant_time_eq(b"token-1", b"token-1"));
    assert!(!auth::constant_time_eq(b"token-1", b"token-2"));
    assert!(!auth::constant_time_eq(b"token-1", b"token-"));
    assert!(!auth::constant_time_eq(b"", b"x"));
    // A difference in the first byte, and one where an AND or an XOR of the
    // differences would cancel out.
    assert!(!auth::constant_time_eq(b"a1", b"b1"));
    assert!(!auth::constant_time_eq(b"\x01\x01", b"\x02\x02"));
    assert!(!auth::constant_time_eq(b"\x03\x00", b"\x00\x03"));
}

#[test]
fn the_session_cookie_is_http_only_same_site_and_secure_when_asked() {
    use axum_extra::extract::cookie::SameSite;
    let plain = auth::session_cookie("t0k3n".into(), &AuthSettings::default());
    assert_eq!(plain.name(), auth::COOKIE);
    assert_eq!(plain.value(), "t0k3n");
    assert_eq!(plain.path(), Some("/"));
    assert_eq!(plain.http_only(), Some(true));
    assert_eq!(plain.same_site(), Some(SameSite::Lax));
    assert_ne!(plain.secure(), Some(true));
    let secure = auth::session_cookie(
        "t0k3n".into(),
        &AuthSettings {
            secure_cookies: true,
            ..AuthSettings::default()
        },
    );
    assert_eq!(secure.secure(), Some(true));
}

#[tokio::test]
async fn a_hash_verifies_its_own_password_only() {
    let hash = auth::hash_password_async("correct horse battery".into())
        .await
        .unwrap();
    assert!(hash.starts_with("$argon2"), "{hash}");
    assert!(auth::verify_password_async("correct horse battery".into(), hash.clone()).await);
    assert!(!auth::verify_password_async("correct horse battery!".into(), hash).await);
    assert!(!auth::verify_password_async("x".into(), "not a hash".into()).await);
}

fn current(role: Role) -> CurrentUser {
    let now = Utc::now();
    CurrentUser {
        user: user::Model {
            id: 7,
            username: "tanto".into(),
            display_name: "担当 花子".into(),
            password_hash: String::new(),
            role: role.as_str().into(),
            bureau_id: "kanto-shinetsu".into(),
            office_id: Some(3),
            failed_logins: 0,
            locked_until: None,
            active: true,
            password_changed_at: now,
            created_at: now,
            updated_at: now,
        },
        role,
        session: session::Model {
            id: auth::token_hash("cookie"),
            user_id: Some(7),
            csrf_token: "csrf-of-this-session".into(),
            data: None,
            expires_at: now + TimeDelta::hours(8),
            created_at: now,
        },
    }
}

#[test]
fn a_role_is_enough_for_itself_and_weaker_ones_only() {
    let approver = current(Role::Approver);
    assert!(approver.require(Role::Viewer).is_ok());
    assert!(approver.require(Role::Approver).is_ok());
    let Err(Error::Forbidden(message)) = approver.require(Role::Admin) else {
        panic!("an approver is not an admin");
    };
    assert_eq!(message, "この操作には「管理」以上の権限が必要です");
    assert!(matches!(
        current(Role::Viewer).require(Role::Clerk),
        Err(Error::Forbidden(_))
    ));
}

#[test]
fn another_bureau_is_not_found_and_a_wrong_csrf_token_is_refused() {
    let user = current(Role::Clerk);
    assert!(user.require_bureau("kanto-shinetsu").is_ok());
    assert!(matches!(user.require_bureau("kinki"), Err(Error::NotFound)));
    assert!(user.check_csrf("csrf-of-this-session").is_ok());
    assert!(matches!(user.check_csrf("forged"), Err(Error::Csrf)));
    assert!(matches!(user.check_csrf(""), Err(Error::Csrf)));
}

#[test]
fn the_caller_carries_the_users_scope_role_and_name() {
    let user = current(Role::Approver);
    let caller = user.caller();
    assert_eq!(caller.role, Role::Approver);
    assert_eq!(caller.scope, user.scope());
    assert_eq!(caller.scope.bureau_id, "kanto-shinetsu");
    assert_eq!(caller.scope.office_id, Some(3));
    assert_eq!(caller.actor, uketsuke_store::audit::Actor::user(7, "tanto"));
    assert_eq!(user.actor(), caller.actor);
}
