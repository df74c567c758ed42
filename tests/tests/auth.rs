//! Accounts and access, end to end through the real pages: login with argon2 hashes,
//! server-side sessions, lockout, CSRF on every form, password change, and each bureau
//! seeing only its own cases.

use uketsuke_tests::{TestApp, assert_refused, refusal};

#[tokio::test]
async fn a_page_for_staff_redirects_to_login_when_nobody_is_signed_in() {
    let app = TestApp::spawn().await;
    let response = app.get("/dashboard").await;
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()["location"], "/login");
}

#[tokio::test]
async fn the_login_form_writes_nothing_and_the_session_cookie_is_http_only_and_same_site() {
    use sea_orm::{EntityTrait, PaginatorTrait};
    let app = TestApp::spawn().await;
    let sessions = || async {
        uketsuke_store::entities::session::Entity::find()
            .count(&app.db)
            .await
            .unwrap()
    };
    let before = sessions().await;
    for _ in 0..50 {
        let response = app.get("/login").await;
        let cookie = response.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(cookie.starts_with("uketsuke_login="), "{cookie}");
        assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
    }
    assert_eq!(
        sessions().await,
        before,
        "an anonymous form writes no session row"
    );
    let html = app.get("/login").await.text().await.unwrap();
    assert!(html.contains("<label for=\"username\">ユーザー名</label>"));

    let password = app.create_user("kato", "viewer", "kanto-shinetsu").await;
    let response = app.try_login("kato", &password).await;
    assert_eq!(response.status(), 303);
    let cookies: Vec<String> = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|c| c.to_str().unwrap().to_owned())
        .collect();
    let session = cookies
        .iter()
        .find(|c| c.starts_with("uketsuke_session="))
        .expect("a session cookie on login");
    assert!(session.contains("HttpOnly") && session.contains("SameSite=Lax"));
    assert_eq!(
        sessions().await,
        before + 1,
        "one session, for the signed-in user"
    );
}

#[tokio::test]
async fn a_clerk_signs_in_sees_the_dashboard_and_signs_out() {
    let app = TestApp::spawn_with(true).await;
    let password = app.create_user("tanaka", "clerk", "kanto-shinetsu").await;
    app.login("tanaka", &password).await;
    let html = app.get("/dashboard").await.text().await.unwrap();
    assert!(html.contains("ダッシュボード"));
    assert!(html.contains("tanaka さん（担当）"));
    assert!(html.contains("回答期限を過ぎた依頼"));
    assert!(
        html.contains("ひだまり小児科"),
        "the demo's overdue request is listed"
    );

    let csrf = app.csrf("/dashboard").await;
    let response = app.post_form("/logout", &[("csrf", csrf.as_str())]).await;
    assert_eq!(response.status(), 303);
    assert_eq!(app.get("/dashboard").await.status(), 303, "signed out");
}

#[tokio::test]
async fn a_wrong_password_is_refused_and_five_failures_lock_the_account() {
    let app = TestApp::spawn().await;
    let password = app.create_user("suzuki", "viewer", "kanto-shinetsu").await;
    for _ in 0..5 {
        let response = app.try_login("suzuki", "wrong-password-123").await;
        assert_eq!(response.status(), 200);
        assert!(
            response
                .text()
                .await
                .unwrap()
                .contains("ユーザー名またはパスワードが違います")
        );
    }
    let response = app.try_login("suzuki", &password).await;
    assert_eq!(
        response.status(),
        200,
        "locked: even the right password does not sign in"
    );
    let html = response.text().await.unwrap();
    assert!(
        html.contains("ユーザー名またはパスワードが違います"),
        "a locked account gets the same answer as a wrong password"
    );
    assert!(!html.contains("ロックされています"));
    assert_eq!(app.get("/dashboard").await.status(), 303, "not signed in");
}

/// 40 wrong passwords at once from 40 browsers (each with its own form), then the right
/// one: every failure counted, so the account is locked.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_wrong_passwords_all_count_and_lock_the_account() {
    let app = TestApp::spawn().await;
    let password = app.create_user("ito", "viewer", "kanto-shinetsu").await;
    let mut tasks = Vec::new();
    for _ in 0..40 {
        let client = TestApp::client_for(&app);
        let base = app.base_url.clone();
        tasks.push(tokio::spawn(async move {
            let page = client
                .get(format!("{base}/login"))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            let csrf = uketsuke_tests::csrf_of(&page);
            client
                .post(format!("{base}/login"))
                .form(&[
                    ("csrf", csrf.as_str()),
                    ("username", "ito"),
                    ("password", "wrong-password-123"),
                ])
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 429),
        "{statuses:?}"
    );
    let user = uketsuke_store::users::find_by_username(&app.db, "ito")
        .await
        .unwrap()
        .unwrap();
    assert!(
        user.locked_until.is_some_and(|t| t > chrono::Utc::now()),
        "the account is locked"
    );
    // The right password, from the same address: refused (locked or throttled).
    let response = app.try_login("ito", &password).await;
    assert_ne!(response.status(), 303, "not signed in");
}

/// One address that keeps failing is slowed down, whichever names it tries.
#[tokio::test]
async fn one_address_failing_again_and_again_is_throttled() {
    let app = TestApp::spawn().await;
    let mut last = 0;
    for i in 0..21 {
        let response = app
            .try_login(&format!("guess{i}"), "wrong-password-123")
            .await;
        last = response.status().as_u16();
        if i < 20 {
            assert_eq!(last, 200, "attempt {i}");
        }
    }
    assert_eq!(last, 429, "the 21st failure from one address");
    let html = app.try_login("guess", "x").await.text().await.unwrap();
    assert!(html.contains("ログインの試行が多すぎます"));
}

#[tokio::test]
async fn an_unknown_user_gets_the_same_message_as_a_wrong_password() {
    let app = TestApp::spawn().await;
    let response = app.try_login("nobody", "whatever-password").await;
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("ユーザー名またはパスワードが違います")
    );
}

#[tokio::test]
async fn a_form_without_the_sessions_csrf_token_is_refused() {
    let app = TestApp::spawn().await;
    let password = app.create_user("sato", "clerk", "kanto-shinetsu").await;
    let _ = app.get("/login").await;
    let response = app
        .post_form(
            "/login",
            &[
                ("csrf", "forged"),
                ("username", "sato"),
                ("password", password.as_str()),
            ],
        )
        .await;
    assert_refused(response, refusal::CSRF).await;
    app.login("sato", &password).await;
    let response = app.post_form("/logout", &[("csrf", "forged")]).await;
    assert_refused(response, refusal::CSRF).await;
    assert_eq!(app.get("/dashboard").await.status(), 200, "still signed in");
}

#[tokio::test]
async fn a_password_change_needs_the_current_password_and_ends_old_sessions() {
    let app = TestApp::spawn().await;
    let old = app.create_user("ito", "approver", "kanto-shinetsu").await;
    app.login("ito", &old).await;
    // The same account signed in on another terminal.
    let elsewhere = app.browser_signed_in("ito", &old).await;
    let dashboard = |client: reqwest::Client| {
        let url = format!("{}/dashboard", app.base_url);
        async move { client.get(url).send().await.unwrap().status().as_u16() }
    };
    assert_eq!(
        dashboard(elsewhere.clone()).await,
        200,
        "signed in elsewhere"
    );
    let csrf = app.csrf("/password").await;
    let response = app
        .post_form(
            "/password",
            &[
                ("csrf", csrf.as_str()),
                ("current", "not-it-at-all"),
                ("new", "brand-new-password-1"),
                ("confirm", "brand-new-password-1"),
            ],
        )
        .await;
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("現在のパスワードが違います")
    );
    let response = app
        .post_form(
            "/password",
            &[
                ("csrf", csrf.as_str()),
                ("current", old.as_str()),
                ("new", "short"),
                ("confirm", "short"),
            ],
        )
        .await;
    assert!(response.text().await.unwrap().contains("12文字以上"));
    let response = app
        .post_form(
            "/password",
            &[
                ("csrf", csrf.as_str()),
                ("current", old.as_str()),
                ("new", "brand-new-password-1"),
                ("confirm", "brand-new-password-1"),
            ],
        )
        .await;
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("パスワードを変更しました")
    );
    assert_eq!(
        dashboard(elsewhere.clone()).await,
        303,
        "the other terminal's session has ended"
    );
    assert_eq!(
        dashboard(app.client.clone()).await,
        200,
        "the session that changed it stays"
    );

    let other = TestApp::client_for(&app);
    let page = other
        .get(format!("{}/login", app.base_url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = uketsuke_tests::csrf_of(&page);
    let response = other
        .post(format!("{}/login", app.base_url))
        .form(&[
            ("csrf", csrf.as_str()),
            ("username", "ito"),
            ("password", old.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "the old password no longer works");
    let response = other
        .post(format!("{}/login", app.base_url))
        .form(&[
            ("csrf", csrf.as_str()),
            ("username", "ito"),
            ("password", "brand-new-password-1"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303, "the new one does");
}

#[tokio::test]
async fn staff_of_another_bureau_see_none_of_its_cases() {
    let app = TestApp::spawn_with(true).await;
    let password = app.create_user("kyushu-clerk", "clerk", "kyushu").await;
    app.login("kyushu-clerk", &password).await;
    let html = app.get("/dashboard").await.text().await.unwrap();
    assert!(
        !html.contains("ひだまり小児科"),
        "a kanto-shinetsu case must not show in kyushu"
    );
    assert!(html.contains("回答期限を過ぎた依頼（0件）"));
}

/// The hash the app itself stored for `username`, read from the database.
async fn stored_hash(app: &TestApp, username: &str) -> String {
    uketsuke_store::users::find_by_username(&app.db, username)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("{username} exists"))
        .password_hash
}

/// Checks `password` against a stored PHC string with the argon2 crate itself, not with
/// the app's own helper.
fn argon2_accepts(hash: &str, password: &str) -> bool {
    use argon2::password_hash::{PasswordHash, PasswordVerifier};
    let parsed = PasswordHash::new(hash).unwrap_or_else(|e| panic!("not a PHC string: {e}"));
    assert_eq!(parsed.algorithm.as_str(), "argon2id", "{hash}");
    argon2::Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok()
}

#[tokio::test]
async fn passwords_are_stored_as_argon2_hashes() {
    let app = TestApp::spawn().await;
    // An account made through the admin page: its first password is made and hashed by
    // the app, not by a test helper.
    let admin_password = app.create_user("kato", "admin", "kanto-shinetsu").await;
    app.login("kato", &admin_password).await;
    let csrf = app.csrf("/admin/users").await;
    let html = app
        .post_form(
            "/admin/users",
            &[
                ("csrf", csrf.as_str()),
                ("username", "shinki"),
                ("display_name", "新規 花子"),
                ("role", "clerk"),
                ("office_id", ""),
            ],
        )
        .await
        .text()
        .await
        .unwrap();
    let marker = "初期パスワード: <strong class=\"code\">";
    let start = html.find(marker).expect("the first password is shown") + marker.len();
    let first = html[start..].split('<').next().unwrap().to_owned();
    assert!(first.chars().count() >= 12, "{first}");
    let hash = stored_hash(&app, "shinki").await;
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    assert!(!hash.contains(&first));
    assert!(argon2_accepts(&hash, &first), "the shown password verifies");
    assert!(!argon2_accepts(&hash, "wrong-password-123"));

    // The new account changes its password on the password page: the stored hash is
    // replaced by one of the new password, salted afresh.
    let shinki = app.browser_signed_in("shinki", &first).await;
    let page = shinki
        .get(format!("{}/password", app.base_url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = uketsuke_tests::csrf_of(&page);
    let changed = shinki
        .post(format!("{}/password", app.base_url))
        .form(&[
            ("csrf", csrf.as_str()),
            ("current", first.as_str()),
            ("new", "a-new-and-long-password"),
            ("confirm", "a-new-and-long-password"),
        ])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(changed.contains("パスワードを変更しました"), "{changed}");
    let after = stored_hash(&app, "shinki").await;
    assert_ne!(after, hash);
    assert!(after.starts_with("$argon2id$"), "{after}");
    assert!(argon2_accepts(&after, "a-new-and-long-password"));
    assert!(
        !argon2_accepts(&after, &first),
        "the old password no longer verifies"
    );
}

#[tokio::test]
async fn an_admin_adds_an_account_whose_first_password_works_and_unlocks_a_locked_one() {
    let app = TestApp::spawn().await;
    let clerk_password = app.create_user("ippan", "clerk", "kanto-shinetsu").await;
    app.login("ippan", &clerk_password).await;
    // Only 管理 may manage accounts.
    assert_refused(app.get("/admin/users").await, &refusal::role("管理")).await;
    let csrf = app.csrf("/dashboard").await;
    app.post_form("/logout", &[("csrf", csrf.as_str())]).await;

    let admin_password = app.create_user("kanri", "admin", "kanto-shinetsu").await;
    app.login("kanri", &admin_password).await;
    let csrf = app.csrf("/admin/users").await;
    let html = app
        .post_form(
            "/admin/users",
            &[
                ("csrf", csrf.as_str()),
                ("username", "shinjin"),
                ("display_name", "新人 一郎"),
                ("role", "viewer"),
                ("office_id", ""),
            ],
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("職員「shinjin」を作成しました"));
    let marker = "初期パスワード: <strong class=\"code\">";
    let start = html.find(marker).unwrap() + marker.len();
    let first_password = html[start..].split('<').next().unwrap().to_owned();
    let again = app.get("/admin/users").await.text().await.unwrap();
    assert!(
        !again.contains(&first_password),
        "the password is shown once"
    );

    let other = TestApp::client_for(&app);
    let login_page = other
        .get(format!("{}/login", app.base_url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let token = uketsuke_tests::csrf_of(&login_page);
    let response = other
        .post(format!("{}/login", app.base_url))
        .form(&[
            ("csrf", token.as_str()),
            ("username", "shinjin"),
            ("password", first_password.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303, "the new account signs in");

    // Lock 'ippan' out (from a third browser), then unlock it.
    let other = TestApp::client_for(&app);
    for _ in 0..5 {
        let page = other
            .get(format!("{}/login", app.base_url))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let token = uketsuke_tests::csrf_of(&page);
        other
            .post(format!("{}/login", app.base_url))
            .form(&[
                ("csrf", token.as_str()),
                ("username", "ippan"),
                ("password", "wrong-wrong-wrong"),
            ])
            .send()
            .await
            .unwrap();
    }
    let html = app.get("/admin/users").await.text().await.unwrap();
    assert!(html.contains("ロック中"));
    let user = uketsuke_store::users::find_by_username(&app.db, "ippan")
        .await
        .unwrap()
        .unwrap();
    let csrf = app.csrf("/admin/users").await;
    let response = app
        .post_form(
            &format!("/admin/users/{}/unlock", user.id),
            &[("csrf", csrf.as_str())],
        )
        .await;
    assert_eq!(response.status(), 303);
    assert!(
        !app.get("/admin/users")
            .await
            .text()
            .await
            .unwrap()
            .contains("ロック中")
    );
}
