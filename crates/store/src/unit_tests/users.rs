//! Accounts, lockout and sessions (`users.rs`).

use chrono::{TimeDelta, Utc};
use sea_orm::{EntityTrait, PaginatorTrait};

use super::{BUREAU, TestDb};
use crate::audit::Actor;
use crate::entities::session;
use crate::users::{self, NewUser, Role};

fn admin() -> Actor {
    Actor::system("test-admin")
}

#[test]
fn roles_are_ordered_named_and_parsed_in_both_languages() {
    let all = [Role::Viewer, Role::Clerk, Role::Approver, Role::Admin];
    assert!(all.windows(2).all(|w| w[0] < w[1]));
    let ids: Vec<_> = all.iter().map(|r| r.as_str()).collect();
    assert_eq!(ids, ["viewer", "clerk", "approver", "admin"]);
    let labels: Vec<_> = all.iter().map(|r| r.label()).collect();
    assert_eq!(labels, ["閲覧", "担当", "決裁", "管理"]);
    for role in all {
        assert_eq!(Role::parse(role.as_str()).unwrap(), role);
        assert_eq!(Role::parse(role.label()).unwrap(), role);
    }
    let err = Role::parse("boss").unwrap_err().to_string();
    assert!(err.contains("役割「boss」は使えません"), "{err}");
}

#[tokio::test]
async fn an_account_limited_to_an_office_keeps_its_office() {
    let t = TestDb::new().await;
    let office = crate::entities::office::Entity::find()
        .all(&t.db)
        .await
        .unwrap()
        .into_iter()
        .find(|o| o.code == "gunma")
        .unwrap();
    let row = users::create(
        &t.db,
        &NewUser {
            username: "maebashi".into(),
            display_name: "前橋".into(),
            password_hash: "h".into(),
            role: Role::Clerk,
            bureau_id: BUREAU.into(),
            office_id: Some(office.id),
        },
        &admin(),
    )
    .await
    .unwrap();
    assert_eq!(row.office_id, Some(office.id));
    let found = users::find_by_username(&t.db, "maebashi")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.office_id, Some(office.id));
}

#[tokio::test]
async fn an_account_is_created_once_with_a_trimmed_name_and_audited() {
    let t = TestDb::new().await;
    let new = |username: &str| NewUser {
        username: username.into(),
        display_name: "伊藤".into(),
        password_hash: "h".into(),
        role: Role::Clerk,
        bureau_id: BUREAU.into(),
        office_id: None,
    };
    let row = users::create(&t.db, &new("  ito "), &admin())
        .await
        .unwrap();
    assert_eq!(row.username, "ito");
    assert_eq!(row.role, "clerk");
    assert!(row.active);
    assert_eq!(row.failed_logins, 0);
    let found = users::find_by_username(&t.db, " ito")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.id, row.id);
    assert_eq!(t.audit("user.create").await.len(), 1);

    let taken = users::create(&t.db, &new("ito"), &admin())
        .await
        .unwrap_err();
    assert!(
        taken.to_string().contains("「ito」は既に使われています"),
        "{taken}"
    );
    for bad in ["   ", &"x".repeat(65)] {
        let err = users::create(&t.db, &new(bad), &admin()).await.unwrap_err();
        assert!(err.to_string().contains("1〜64文字"), "{err}");
    }
    // 64 characters (kana count as one) are enough.
    users::create(&t.db, &new(&"あ".repeat(64)), &admin())
        .await
        .unwrap();
    assert_eq!(t.audit("user.create").await.len(), 2);
}

#[tokio::test]
async fn a_lock_holds_until_its_time_and_not_at_it() {
    let t = TestDb::new().await;
    let mut u = t.user("ito", Role::Clerk).await;
    let now = Utc::now();
    assert!(!users::is_locked(&u, now));
    u.locked_until = Some(now);
    assert!(!users::is_locked(&u, now), "a lock ending now has ended");
    assert!(users::is_locked(&u, now - TimeDelta::seconds(1)));
}

#[tokio::test]
async fn failed_logins_count_up_and_lock_at_the_limit_once() {
    let t = TestDb::new().await;
    let u = t.user("ito", Role::Clerk).await;
    let now = Utc::now();
    let lock_for = TimeDelta::minutes(15);
    let u = users::record_failed_login(&t.db, u, 3, lock_for, now)
        .await
        .unwrap();
    assert_eq!(u.failed_logins, 1);
    assert_eq!(u.locked_until, None);
    let u = users::record_failed_login(&t.db, u, 3, lock_for, now)
        .await
        .unwrap();
    assert_eq!(u.failed_logins, 2);
    assert_eq!(u.locked_until, None);
    assert!(t.audit("user.lock").await.is_empty());
    let u = users::record_failed_login(&t.db, u, 3, lock_for, now)
        .await
        .unwrap();
    assert_eq!(u.failed_logins, 0, "the count starts again under the lock");
    assert_eq!(
        u.locked_until.map(|t| t.timestamp()),
        Some((now + lock_for).timestamp())
    );
    assert!(users::is_locked(&u, now));
    let locks = t.audit("user.lock").await;
    assert_eq!(locks.len(), 1);
    assert_eq!(locks[0].entity_id, u.id.to_string());
    assert_eq!(locks[0].actor, "auth");

    // A success clears what a failure left.
    let u = users::record_failed_login(&t.db, u, 3, lock_for, now)
        .await
        .unwrap();
    assert_eq!(u.failed_logins, 1);
    let u = users::record_successful_login(&t.db, u, now).await.unwrap();
    assert_eq!((u.failed_logins, u.locked_until), (0, None));
    let stored = users::find_by_id(&t.db, u.id).await.unwrap().unwrap();
    assert_eq!((stored.failed_logins, stored.locked_until), (0, None));
    assert_eq!(t.audit("user.lock").await.len(), 1);
}

#[tokio::test]
async fn a_success_after_a_lock_lifts_it_and_a_clean_account_is_left_alone() {
    let t = TestDb::new().await;
    let u = t.user("ito", Role::Clerk).await;
    let now = Utc::now();
    let locked = users::record_failed_login(&t.db, u, 1, TimeDelta::minutes(5), now)
        .await
        .unwrap();
    assert!(locked.locked_until.is_some());
    let later = now + TimeDelta::hours(1);
    let u = users::record_successful_login(&t.db, locked, later)
        .await
        .unwrap();
    let stored = users::find_by_id(&t.db, u.id).await.unwrap().unwrap();
    assert_eq!(stored.locked_until, None);
    assert_eq!(stored.updated_at.timestamp(), later.timestamp());
    // Nothing to clear: the row is not written (its update time stays).
    let much_later = later + TimeDelta::hours(1);
    users::record_successful_login(&t.db, stored, much_later)
        .await
        .unwrap();
    let again = users::find_by_id(&t.db, u.id).await.unwrap().unwrap();
    assert_eq!(again.updated_at.timestamp(), later.timestamp());
}

#[tokio::test]
async fn a_password_change_stores_the_new_hash_and_is_audited_without_it() {
    let t = TestDb::new().await;
    let u = t.user("ito", Role::Clerk).await;
    let before = u.password_changed_at;
    let actor = Actor::user(u.id, "ito");
    let changed = users::set_password(&t.db, u, "new-hash".into(), &actor)
        .await
        .unwrap();
    assert_eq!(changed.password_hash, "new-hash");
    assert!(changed.password_changed_at >= before);
    let stored = users::find_by_id(&t.db, changed.id).await.unwrap().unwrap();
    assert_eq!(stored.password_hash, "new-hash");
    let audit = t.audit("user.password_change").await;
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].actor_user_id, Some(changed.id));
    assert_eq!(
        (audit[0].before.clone(), audit[0].after.clone()),
        (None, None)
    );
}

#[tokio::test]
async fn a_reset_password_lifts_the_lock_and_ends_every_session() {
    let t = TestDb::new().await;
    let u = t.user("ito", Role::Clerk).await;
    let other = t.user("sato", Role::Clerk).await;
    let now = Utc::now();
    let u = users::record_failed_login(&t.db, u, 1, TimeDelta::hours(1), now)
        .await
        .unwrap();
    let u = users::record_failed_login(&t.db, u, 5, TimeDelta::hours(1), now)
        .await
        .unwrap();
    assert_eq!(u.failed_logins, 1);
    let expires = now + TimeDelta::hours(8);
    users::create_session(&t.db, "s-ito", Some(u.id), "c", expires)
        .await
        .unwrap();
    users::create_session(&t.db, "s-sato", Some(other.id), "c", expires)
        .await
        .unwrap();
    let reset = users::reset_password(&t.db, u, "reset-hash".into(), &admin())
        .await
        .unwrap();
    let stored = users::find_by_id(&t.db, reset.id).await.unwrap().unwrap();
    assert_eq!(stored.password_hash, "reset-hash");
    assert_eq!((stored.failed_logins, stored.locked_until), (0, None));
    assert!(
        users::find_session(&t.db, "s-ito", now)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        users::find_session(&t.db, "s-sato", now)
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(t.audit("user.password_reset").await.len(), 1);
}

#[tokio::test]
async fn a_session_lives_until_it_expires_and_belongs_to_an_active_user() {
    let t = TestDb::new().await;
    let u = t.user("ito", Role::Clerk).await;
    let now = Utc::now();
    let expires = now + TimeDelta::hours(1);
    let created = users::create_session(&t.db, "s1", Some(u.id), "csrf-1", expires)
        .await
        .unwrap();
    assert_eq!(created.csrf_token, "csrf-1");
    let (s, user) = users::find_session(&t.db, "s1", now)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(s.id, "s1");
    assert_eq!(user.map(|u| u.username).as_deref(), Some("ito"));
    assert!(
        users::find_session(&t.db, "s2", now)
            .await
            .unwrap()
            .is_none()
    );

    // An anonymous session (before signing in).
    users::create_session(&t.db, "anon", None, "c", expires)
        .await
        .unwrap();
    let (_, user) = users::find_session(&t.db, "anon", now)
        .await
        .unwrap()
        .unwrap();
    assert!(user.is_none());

    // A disabled account's session has no user (and set_active removed it anyway).
    let disabled = users::set_active(&t.db, u.clone(), false, &admin())
        .await
        .unwrap();
    assert!(!disabled.active);
    assert!(
        users::find_session(&t.db, "s1", now)
            .await
            .unwrap()
            .is_none()
    );
    users::create_session(&t.db, "s3", Some(u.id), "c", expires)
        .await
        .unwrap();
    let (_, user) = users::find_session(&t.db, "s3", now)
        .await
        .unwrap()
        .unwrap();
    assert!(user.is_none(), "a disabled account is not signed in");

    // At its expiry time a session is over, and it is removed.
    assert!(
        users::find_session(&t.db, "anon", expires)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        session::Entity::find_by_id("anon".to_owned())
            .one(&t.db)
            .await
            .unwrap()
            .is_none()
    );
    let just_before = expires - TimeDelta::seconds(1);
    assert!(
        users::find_session(&t.db, "s3", just_before)
            .await
            .unwrap()
            .is_some()
    );
}

#[tokio::test]
async fn logout_ends_one_session_and_a_password_change_ends_the_accounts() {
    let t = TestDb::new().await;
    let ito = t.user("ito", Role::Clerk).await;
    let sato = t.user("sato", Role::Clerk).await;
    let now = Utc::now();
    let expires = now + TimeDelta::hours(1);
    for (id, user) in [("a", ito.id), ("b", ito.id), ("c", sato.id)] {
        users::create_session(&t.db, id, Some(user), "x", expires)
            .await
            .unwrap();
    }
    users::delete_session(&t.db, "a").await.unwrap();
    assert!(
        users::find_session(&t.db, "a", now)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        users::find_session(&t.db, "b", now)
            .await
            .unwrap()
            .is_some()
    );
    users::delete_sessions_of(&t.db, ito.id).await.unwrap();
    assert!(
        users::find_session(&t.db, "b", now)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        users::find_session(&t.db, "c", now)
            .await
            .unwrap()
            .is_some()
    );
}

#[tokio::test]
async fn purging_removes_the_expired_sessions_and_counts_them() {
    let t = TestDb::new().await;
    let now = Utc::now();
    for (id, expires) in [
        ("old", now - TimeDelta::hours(1)),
        ("ends-now", now),
        ("live", now + TimeDelta::seconds(1)),
    ] {
        users::create_session(&t.db, id, None, "x", expires)
            .await
            .unwrap();
    }
    assert_eq!(users::purge_expired_sessions(&t.db, now).await.unwrap(), 2);
    assert_eq!(session::Entity::find().count(&t.db).await.unwrap(), 1);
    assert!(
        users::find_session(&t.db, "live", now)
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(users::purge_expired_sessions(&t.db, now).await.unwrap(), 0);
}

#[test]
fn the_password_hash_is_argon2_and_verifies_only_its_password() {
    let hash = users::hash_password("correct horse battery");
    assert!(hash.starts_with("$argon2"), "{hash}");
    assert!(users::verify_password("correct horse battery", &hash));
    assert!(!users::verify_password("correct horse batterY", &hash));
    assert!(!users::verify_password(
        "correct horse battery",
        "not a hash"
    ));
    assert_ne!(
        hash,
        users::hash_password("correct horse battery"),
        "salted"
    );
}

#[tokio::test]
async fn accounts_are_listed_by_bureau_and_name() {
    let t = TestDb::new().await;
    for name in ["sato", "ito", "abe"] {
        t.user(name, Role::Viewer).await;
    }
    let names = |rows: Vec<crate::entities::user::Model>| -> Vec<String> {
        rows.into_iter().map(|u| u.username).collect()
    };
    assert_eq!(
        names(users::in_bureau(&t.db, BUREAU).await.unwrap()),
        ["abe", "ito", "sato"]
    );
    assert!(users::in_bureau(&t.db, "kinki").await.unwrap().is_empty());
    assert_eq!(
        names(users::all(&t.db).await.unwrap()),
        ["abe", "ito", "sato"]
    );
}

#[tokio::test]
async fn unlock_and_enable_start_afresh_and_are_audited() {
    let t = TestDb::new().await;
    let u = t.user("ito", Role::Clerk).await;
    let now = Utc::now();
    let locked = users::record_failed_login(&t.db, u, 1, TimeDelta::hours(1), now)
        .await
        .unwrap();
    let locked = users::record_failed_login(&t.db, locked, 9, TimeDelta::hours(1), now)
        .await
        .unwrap();
    assert_eq!(locked.failed_logins, 1);
    assert!(locked.locked_until.is_some());
    let unlocked = users::unlock(&t.db, locked, &admin()).await.unwrap();
    assert_eq!((unlocked.failed_logins, unlocked.locked_until), (0, None));
    let stored = users::find_by_id(&t.db, unlocked.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((stored.failed_logins, stored.locked_until), (0, None));
    assert_eq!(t.audit("user.unlock").await.len(), 1);

    // Disabling keeps the counters; enabling clears them.
    let counted = users::record_failed_login(&t.db, stored, 1, TimeDelta::hours(1), now)
        .await
        .unwrap();
    let counted = users::record_failed_login(&t.db, counted, 9, TimeDelta::hours(1), now)
        .await
        .unwrap();
    assert_eq!(counted.failed_logins, 1);
    assert!(counted.locked_until.is_some());
    let disabled = users::set_active(&t.db, counted, false, &admin())
        .await
        .unwrap();
    assert!(!disabled.active);
    assert_eq!(
        disabled.failed_logins, 1,
        "a disabled account keeps its count"
    );
    let audit = t.audit("user.disable").await;
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].before, Some(serde_json::json!({ "active": true })));
    assert_eq!(audit[0].after, Some(serde_json::json!({ "active": false })));
    let enabled = users::set_active(&t.db, disabled, true, &admin())
        .await
        .unwrap();
    assert!(enabled.active);
    assert_eq!((enabled.failed_logins, enabled.locked_until), (0, None));
    let audit = t.audit("user.enable").await;
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].after, Some(serde_json::json!({ "active": true })));
    // Enabling leaves sessions alone.
    users::create_session(&t.db, "s", Some(enabled.id), "x", now + TimeDelta::hours(1))
        .await
        .unwrap();
    users::set_active(&t.db, enabled, true, &admin())
        .await
        .unwrap();
    assert!(
        users::find_session(&t.db, "s", now)
            .await
            .unwrap()
            .is_some()
    );
}
