//! Attacks on signing in: many wrong passwords at once, one address trying many
//! names, whether a locked account can be told from a wrong password, and whether an
//! anonymous visitor can fill the sessions table. Each part comes from its own loopback
//! address (127.0.0.x), so the server's per-address throttle of one does not touch the
//! others or the rest of the suite.

use std::net::IpAddr;

use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, DbBackend, Statement};

use super::client::Browser;
use super::{Ctx, Tally};

const WRONG: &str = "ユーザー名またはパスワードが違います";

async fn make_user(ctx: &Ctx, username: &str) -> anyhow::Result<String> {
    let password = super::world::password(username);
    let new = uketsuke_store::users::NewUser {
        username: username.to_owned(),
        display_name: username.to_owned(),
        password_hash: uketsuke_store::users::hash_password(&password),
        role: uketsuke_store::users::Role::Viewer,
        bureau_id: super::world::BUREAU.to_owned(),
        office_id: None,
    };
    uketsuke_store::users::create(
        &ctx.pool,
        &new,
        &uketsuke_store::audit::Actor::system("attack"),
    )
    .await?;
    Ok(password)
}

fn from(ctx: &Ctx, last: u8) -> Browser {
    Browser::from_address(&ctx.server.base_url, Some(IpAddr::from([127, 0, 0, last])))
}

/// 40 wrong passwords in parallel (40 browsers, 40 addresses), then the right one:
/// every failure counted, so the account is locked and the right password is refused
/// with the same words as a wrong one.
pub async fn parallel_wrong_passwords(ctx: &Ctx) -> anyhow::Result<Tally> {
    let mut t = Tally::new();
    let password = make_user(ctx, "brute-target").await?;
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(40));
    let mut tasks = Vec::new();
    for i in 0..40u8 {
        let b = from(ctx, 100 + i);
        let barrier = barrier.clone();
        tasks.push(tokio::spawn(async move {
            let csrf = b.csrf("/login").await?;
            barrier.wait().await;
            b.post_form(
                "/login",
                &[
                    ("csrf", csrf.as_str()),
                    ("username", "brute-target"),
                    ("password", "wrong-password-123"),
                ],
            )
            .await
        }));
    }
    for task in tasks {
        match task.await? {
            Ok(p) => t.check(
                p.status == StatusCode::OK && p.text().contains(WRONG),
                || format!("a wrong password got {}", p.status),
            ),
            Err(e) => t.error(&e),
        }
    }
    let user = uketsuke_store::users::find_by_username(&ctx.pool, "brute-target").await?;
    t.check(
        user.is_some_and(|u| u.locked_until.is_some_and(|l| l > chrono::Utc::now())),
        || "the account is not locked after 40 failures".into(),
    );
    let b = from(ctx, 99);
    let p = b.try_login("brute-target", &password).await?;
    t.check(
        p.status == StatusCode::OK && p.text().contains(WRONG),
        || format!("the right password on a locked account: {}", p.status),
    );
    t.check(!p.text().contains("ロックされています"), || {
        "a locked account is told apart from a wrong password".into()
    });
    let p = b.get("/dashboard").await?;
    t.check(p.to_login(), || "signed in despite the lock".into());
    Ok(t)
}

/// One address failing on many names: 429 「ログインの試行が多すぎます」 after 20
/// failures in 10 minutes, also for a right password; a forged X-Forwarded-For does not
/// make it another client; another address is not affected.
pub async fn throttle(ctx: &Ctx) -> anyhow::Result<Tally> {
    let mut t = Tally::new();
    let password = make_user(ctx, "throttle-ok").await?;
    let b = from(ctx, 60);
    for i in 0..20 {
        let p = b
            .try_login(&format!("guess{i}"), "wrong-password-123")
            .await?;
        t.check(p.status == StatusCode::OK, || {
            format!("failure {i} before the limit: {}", p.status)
        });
    }
    for i in 0..5 {
        let p = b
            .try_login(&format!("more{i}"), "wrong-password-123")
            .await?;
        t.check(
            p.status == StatusCode::TOO_MANY_REQUESTS
                && p.text().contains("ログインの試行が多すぎます"),
            || format!("failure {} past the limit: {}", 21 + i, p.status),
        );
    }
    let p = b.try_login("throttle-ok", &password).await?;
    t.check(p.status == StatusCode::TOO_MANY_REQUESTS, || {
        format!("the right password from a throttled address: {}", p.status)
    });
    for spoof in ["10.9.8.7", "127.0.0.1", "203.0.113.5, 127.0.0.1"] {
        let csrf = b.csrf("/login").await?;
        let r = b
            .client
            .post(b.url("/login"))
            .header("X-Forwarded-For", spoof)
            .header("X-Real-IP", spoof)
            .form(&[
                ("csrf", csrf.as_str()),
                ("username", "throttle-ok"),
                ("password", password.as_str()),
            ])
            .send()
            .await?;
        t.check(r.status() == StatusCode::TOO_MANY_REQUESTS, || {
            format!(
                "X-Forwarded-For {spoof} escaped the throttle: {}",
                r.status()
            )
        });
    }
    let other = from(ctx, 61);
    let p = other.try_login("throttle-ok", &password).await?;
    t.check(p.status == StatusCode::SEE_OTHER, || {
        format!("another address was throttled too: {}", p.status)
    });
    Ok(t)
}

/// The answers to an unknown name, a wrong password and a locked account are the same
/// page (same status, same words, same length apart from the CSRF token).
pub async fn same_answer(ctx: &Ctx) -> anyhow::Result<Tally> {
    let mut t = Tally::new();
    let _ = make_user(ctx, "lock-me").await?;
    let locker = from(ctx, 70);
    for _ in 0..6 {
        let _ = locker.try_login("lock-me", "wrong-password-123").await?;
    }
    let b = from(ctx, 71);
    let normalise = |html: String| -> String {
        let token = uketsuke_tests::csrf_of(&html);
        html.replace(&token, "TOKEN")
            .replace("lock-me", "NAME")
            .replace("tanto-a", "NAME")
            .replace("nobody-at-all", "NAME")
    };
    let locked = b
        .try_login("lock-me", &super::world::password("lock-me"))
        .await?;
    let locked_body = normalise(locked.text());
    for (what, user, pw) in [
        ("wrong password", "tanto-a", "wrong-password-123"),
        ("unknown name", "nobody-at-all", "wrong-password-123"),
        ("locked, wrong password", "lock-me", "wrong-password-123"),
    ] {
        let p = b.try_login(user, pw).await?;
        t.check(p.status == locked.status, || {
            format!("{what}: {} vs locked {}", p.status, locked.status)
        });
        let body = normalise(p.text());
        t.check(body == locked_body, || {
            format!(
                "{what}: the page differs from the locked account's ({} vs {} bytes)",
                body.len(),
                locked_body.len()
            )
        });
    }
    Ok(t)
}

/// 300 anonymous visits to the login page (and the start page) write no session row.
pub async fn anonymous_sessions(ctx: &Ctx) -> anyhow::Result<Tally> {
    let mut t = Tally::new();
    let count = || async {
        let backend = ctx.pool.get_database_backend();
        let row = ctx
            .pool
            .query_one_raw(Statement::from_string(
                backend,
                "SELECT COUNT(*) AS n FROM sessions".to_owned(),
            ))
            .await?;
        let n: i64 = match (backend, row) {
            (_, Some(r)) => r.try_get("", "n")?,
            (DbBackend::Postgres, None) | (_, None) => 0,
        };
        anyhow::Ok(n)
    };
    let before = count().await?;
    let visits = if ctx.fast { 100 } else { 300 };
    let mut tasks = Vec::new();
    for i in 0..visits {
        let b = ctx.browser();
        tasks.push(tokio::spawn(async move {
            let path = if i % 3 == 0 { "/" } else { "/login" };
            b.get(path).await.map(|p| p.status)
        }));
    }
    for task in tasks {
        match task.await? {
            Ok(s) => t.check(s == StatusCode::OK, || format!("GET /login: {s}")),
            Err(e) => t.error(&e),
        }
    }
    let after = count().await?;
    t.check(after == before, || {
        format!(
            "{} session rows were written by anonymous visits",
            after - before
        )
    });
    Ok(t)
}
