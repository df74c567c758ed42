//! API tokens (`tokens.rs`).

use chrono::{TimeDelta, Utc};
use sea_orm::EntityTrait;

use super::TestDb;
use crate::audit::Actor;
use crate::entities::api_token;
use crate::tokens;
use crate::users::{self, Role};

fn admin() -> Actor {
    Actor::system("test-admin")
}

#[test]
fn a_token_is_stored_as_its_sha256_in_hex() {
    // FIPS 180-2's example "abc"; surrounding blanks of a pasted token are ignored.
    let abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    assert_eq!(tokens::hash("abc"), abc);
    assert_eq!(tokens::hash(" abc\n"), abc);
    assert_ne!(tokens::hash("abd"), abc);
}

#[tokio::test]
async fn a_token_is_created_for_an_active_user_with_a_trimmed_label() {
    let t = TestDb::new().await;
    let ito = t.user("ito", Role::Clerk).await;
    let (token, row) = tokens::create(&t.db, "ito", "  連携 ", &admin())
        .await
        .unwrap();
    assert!(token.starts_with(tokens::PREFIX), "{token}");
    assert_eq!(token.len(), tokens::PREFIX.len() + 64);
    assert!(token[3..].chars().all(|c| c.is_ascii_hexdigit()), "{token}");
    assert_eq!(row.user_id, ito.id);
    assert_eq!(row.label, "連携");
    assert_eq!(row.token_hash, tokens::hash(&token));
    assert_ne!(row.token_hash, token, "only the hash is stored");
    assert_eq!((row.last_used_at, row.revoked_at), (None, None));
    let audit = t.audit("api_token.create").await;
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].entity_id, row.id.to_string());
    let (second, _) = tokens::create(&t.db, "ito", "", &admin()).await.unwrap();
    assert_ne!(token, second);

    // 200 characters (kana count as one) are enough; 201 are not.
    tokens::create(&t.db, "ito", &"あ".repeat(200), &admin())
        .await
        .unwrap();
    let err = tokens::create(&t.db, "ito", &"あ".repeat(201), &admin())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("200文字以内"), "{err}");

    let err = tokens::create(&t.db, "nobody", "x", &admin())
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("職員「nobody」は登録されていません"),
        "{err}"
    );
    users::set_active(&t.db, ito, false, &admin())
        .await
        .unwrap();
    let err = tokens::create(&t.db, "ito", "x", &admin())
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("職員「ito」は無効になっています"),
        "{err}"
    );
    assert_eq!(t.audit("api_token.create").await.len(), 3);
}

#[tokio::test]
async fn tokens_are_listed_newest_first_with_their_users() {
    let t = TestDb::new().await;
    t.user("ito", Role::Clerk).await;
    t.user("sato", Role::Viewer).await;
    let (_, first) = tokens::create(&t.db, "ito", "first", &admin())
        .await
        .unwrap();
    let (_, second) = tokens::create(&t.db, "sato", "second", &admin())
        .await
        .unwrap();
    let listed: Vec<(i32, String)> = tokens::list(&t.db)
        .await
        .unwrap()
        .into_iter()
        .map(|(t, name)| (t.id, name))
        .collect();
    assert_eq!(
        listed,
        [(second.id, "sato".to_owned()), (first.id, "ito".to_owned())]
    );
}

#[tokio::test]
async fn a_token_authenticates_its_active_user_until_revoked() {
    let t = TestDb::new().await;
    let ito = t.user("ito", Role::Clerk).await;
    let (token, row) = tokens::create(&t.db, "ito", "x", &admin()).await.unwrap();
    let now = Utc::now();
    let (found, user) = tokens::authenticate(&t.db, &token, now)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((found.id, user.id), (row.id, ito.id));
    assert!(
        tokens::authenticate(&t.db, "uk_0000", now)
            .await
            .unwrap()
            .is_none()
    );

    let revoked = tokens::revoke(&t.db, row.id, &admin()).await.unwrap();
    assert!(revoked.revoked_at.is_some());
    assert!(
        tokens::authenticate(&t.db, &token, now)
            .await
            .unwrap()
            .is_none()
    );
    let audit = t.audit("api_token.revoke").await;
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].entity_id, row.id.to_string());
    assert!(audit[0].after.as_ref().unwrap()["revoked_at"].is_string());

    let again = tokens::revoke(&t.db, row.id, &admin()).await.unwrap_err();
    assert!(again.to_string().contains("失効済みです"), "{again}");
    let unknown = tokens::revoke(&t.db, row.id + 100, &admin())
        .await
        .unwrap_err();
    assert!(unknown.to_string().contains("はありません"), "{unknown}");
    assert_eq!(t.audit("api_token.revoke").await.len(), 1);
}

#[tokio::test]
async fn a_disabled_users_token_stops_working() {
    let t = TestDb::new().await;
    let ito = t.user("ito", Role::Clerk).await;
    let (token, _) = tokens::create(&t.db, "ito", "x", &admin()).await.unwrap();
    users::set_active(&t.db, ito, false, &admin())
        .await
        .unwrap();
    assert!(
        tokens::authenticate(&t.db, &token, Utc::now())
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn a_tokens_use_is_stamped_at_most_once_a_minute() {
    let t = TestDb::new().await;
    t.user("ito", Role::Clerk).await;
    let (token, row) = tokens::create(&t.db, "ito", "x", &admin()).await.unwrap();
    let stamp = || async {
        api_token::Entity::find_by_id(row.id)
            .one(&t.db)
            .await
            .unwrap()
            .unwrap()
            .last_used_at
            .map(|t| t.timestamp())
    };
    // Whole seconds: PostgreSQL keeps microseconds, and "exactly a minute later" must
    // be exact.
    let t0 = chrono::DateTime::from_timestamp(Utc::now().timestamp(), 0).unwrap();
    tokens::authenticate(&t.db, &token, t0).await.unwrap();
    assert_eq!(
        stamp().await,
        Some(t0.timestamp()),
        "the first use is stamped"
    );
    let minute = t0 + TimeDelta::minutes(1);
    tokens::authenticate(&t.db, &token, minute).await.unwrap();
    assert_eq!(
        stamp().await,
        Some(t0.timestamp()),
        "not again within the minute"
    );
    let later = minute + TimeDelta::seconds(1);
    tokens::authenticate(&t.db, &token, later).await.unwrap();
    assert_eq!(
        stamp().await,
        Some(later.timestamp()),
        "stamped after the minute"
    );
}
