//! The real `uketsuke serve` as an operator sees it: its log (an access log without
//! query strings; failed logins and lockouts with the client address, never the name
//! typed), the 地医協 dates of the local settings on the dashboard, the delivery log's
//! next try and an administrator's 今すぐ送信, and a disabled account shut out.

mod common;
mod support;

use std::time::Duration;

use chrono::{TimeDelta, Utc};
use common::TempDir;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Database, DatabaseConnection, EntityTrait, QueryFilter, Set,
};
use support::{Server, browser, csrf_of, login};
use uketsuke_store::audit::Actor;
use uketsuke_store::entities::{audit_log, outbox};
use uketsuke_store::users::{self, NewUser, Role};

async fn add_user(db: &DatabaseConnection, name: &str, role: Role, bureau: &str) -> (i32, String) {
    let password = format!("pw-{name}-0123456789");
    let row = users::create(
        db,
        &NewUser {
            username: name.to_owned(),
            display_name: format!("{name} さん"),
            password_hash: users::hash_password(&password),
            role,
            bureau_id: bureau.to_owned(),
            office_id: None,
        },
        &Actor::system("test"),
    )
    .await
    .unwrap();
    (row.id, password)
}

/// POSTs the login form and returns the response status and where it redirects.
async fn try_login(
    client: &reqwest::Client,
    base: &str,
    username: &str,
    password: &str,
) -> Option<String> {
    let form = client
        .get(format!("{base}/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let response = client
        .post(format!("{base}/login"))
        .form(&[
            ("csrf", csrf_of(&form).as_str()),
            ("username", username),
            ("password", password),
        ])
        .send()
        .await
        .unwrap();
    response
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap_or_default().to_owned())
}

async fn queue(
    db: &DatabaseConnection,
    key: &str,
    bureau: &str,
    next_try: chrono::DateTime<Utc>,
) -> outbox::Model {
    let row = uketsuke_store::outbox::enqueue(
        db,
        &uketsuke_store::outbox::NewMessage {
            dedupe_key: key.to_owned(),
            kind: "digest".to_owned(),
            bureau_id: Some(bureau.to_owned()),
            recipients: vec!["staff@uketsuke.localhost".to_owned()],
            subject: format!("件名 {key}"),
            body: "本文".to_owned(),
            attachment: None,
        },
        Utc::now(),
    )
    .await
    .unwrap();
    let mut active: outbox::ActiveModel = row.into();
    active.next_attempt_at = Set(next_try);
    active.attempts = Set(1);
    active.last_error = Set(Some("接続できません".to_owned()));
    active.update(db).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_logs_requests_and_failed_logins_shows_local_council_dates_and_lets_an_admin_send_now()
 {
    let tmp = TempDir::new();
    let today = uketsuke_domain::today_in_japan();
    let tokyo = today + TimeDelta::days(40);
    let niigata = today + TimeDelta::days(10);
    let past = today - TimeDelta::days(5);
    let site = tmp.path().join("site");
    std::fs::create_dir_all(site.join("bureaus")).unwrap();
    std::fs::write(
        site.join("bureaus/kanto-shinetsu.toml"),
        format!("[council_dates]\n\"13\" = [{tokyo}]\n\"15\" = [\"{past}\", {niigata}]\n"),
    )
    .unwrap();
    let sink = support::smtp::SmtpSink::start().await;
    let url = format!("sqlite://{}/uketsuke.sqlite?mode=rwc", tmp.path().display());
    let mut server = Server::start(
        tmp.path(),
        &[
            ("DATABASE_URL", url.clone()),
            ("UKETSUKE_LOCAL_DIR", site.display().to_string()),
            ("UKETSUKE_SMTP__PORT", sink.port.to_string()),
            ("UKETSUKE_OUTBOX__POLL_SECS", "1".to_owned()),
        ],
    );
    let base = server.ready(Duration::from_secs(60)).await;
    let db = Database::connect(&url).await.unwrap();
    let (kanri_id, kanri_pw) = add_user(&db, "kanri", Role::Admin, "kanto-shinetsu").await;
    let (_, kessai_pw) = add_user(&db, "kessai", Role::Approver, "kanto-shinetsu").await;
    let (lock_id, _) = add_user(&db, "lockme", Role::Clerk, "kanto-shinetsu").await;
    let (_, tanto_pw) = add_user(&db, "tanto", Role::Clerk, "kanto-shinetsu").await;

    // Failed logins: logged with the client address and the account's id, never the
    // name typed or the password.
    let stranger = browser();
    assert_eq!(
        try_login(&stranger, &base, "kanri", "wrong-password-xyz").await,
        None
    );
    assert_eq!(
        try_login(&stranger, &base, "yamada-hanako", "wrong-password-xyz").await,
        None
    );
    for _ in 0..5 {
        try_login(&stranger, &base, "lockme", "wrong-password-xyz").await;
    }

    // The dashboard shows the next 地医協 of each prefecture from the local settings.
    let admin = browser();
    login(&admin, &base, "kanri", &kanri_pw).await;
    let page = admin
        .get(format!("{base}/dashboard"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!page.contains("予定が登録されていません"), "{page}");
    let planned = &page[page
        .find("id=\"planned-councils\"")
        .expect("a table of planned dates")..];
    assert!(
        planned.contains("東京都") && planned.contains("新潟県"),
        "{planned}"
    );
    assert!(planned.contains(&uketsuke_domain::format_wareki(tokyo)));
    assert!(planned.contains(&uketsuke_domain::format_wareki(niigata)));
    assert!(
        !planned.contains(&uketsuke_domain::format_wareki(past)),
        "a past date is not next"
    );
    assert!(
        planned.find("新潟県") < planned.find("東京都"),
        "soonest first"
    );

    // An account of the Tokyo office sees Tokyo's council only.
    let tokyo_office = uketsuke_store::bureaus::office_id(&db, "kanto-shinetsu", "tokyo")
        .await
        .unwrap()
        .expect("the Tokyo office is configured");
    let office_pw = "pw-tokyo-0123456789";
    users::create(
        &db,
        &NewUser {
            username: "tokyo".to_owned(),
            display_name: "東京 さん".to_owned(),
            password_hash: users::hash_password(office_pw),
            role: Role::Clerk,
            bureau_id: "kanto-shinetsu".to_owned(),
            office_id: Some(tokyo_office),
        },
        &Actor::system("test"),
    )
    .await
    .unwrap();
    let office = browser();
    login(&office, &base, "tokyo", office_pw).await;
    let page = office
        .get(format!("{base}/dashboard"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let planned = &page[page
        .find("id=\"planned-councils\"")
        .expect("a table of planned dates")..];
    assert!(
        planned.contains("東京都") && !planned.contains("新潟県"),
        "{planned}"
    );

    // A search with a name in its query string.
    let response = admin
        .get(format!("{base}/cases?name=やまなみ内科"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);

    // The delivery log: the next try of a queued mail, in 和暦 with the time.
    let next_try = Utc::now() + TimeDelta::hours(2);
    let mine = queue(&db, "ops:mine", "kanto-shinetsu", next_try).await;
    let theirs = queue(&db, "ops:theirs", "kinki", next_try).await;
    let page = admin
        .get(format!("{base}/deliveries"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let jst = next_try + TimeDelta::hours(9);
    let expected = format!(
        "{} {}",
        uketsuke_domain::format_wareki(jst.date_naive()),
        jst.format("%H:%M:%S")
    );
    assert!(page.contains(&expected), "next try {expected} in:\n{page}");
    assert!(page.contains(&format!("/deliveries/{}/send-now", mine.id)));
    assert!(
        !page.contains("件名 ops:theirs"),
        "another bureau's mail is not listed"
    );
    let csrf = csrf_of(&page);

    // An approver sees no button and may not send now.
    let approver = browser();
    login(&approver, &base, "kessai", &kessai_pw).await;
    let page = approver
        .get(format!("{base}/deliveries"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!page.contains("send-now"), "{page}");
    let response = approver
        .post(format!("{base}/deliveries/{}/send-now", mine.id))
        .form(&[("csrf", csrf_of(&page))])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    // Without the form's token, or for another bureau's mail, nothing happens.
    let response = admin
        .post(format!("{base}/deliveries/{}/send-now", mine.id))
        .form(&[("csrf", "forged")])
        .send()
        .await
        .unwrap();
    assert_ne!(response.status(), 303);
    let response = admin
        .post(format!("{base}/deliveries/{}/send-now", theirs.id))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    let still = outbox::Entity::find_by_id(mine.id)
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(still.next_attempt_at, mine.next_attempt_at);
    assert!(sink.messages().is_empty());

    // The administrator sends it now: audited, and the dispatcher sends it at once.
    let response = admin
        .post(format!("{base}/deliveries/{}/send-now", mine.id))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    let started = std::time::Instant::now();
    while sink.messages().is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the mail was not sent"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(sink.messages().len(), 1);
    assert!(sink.messages()[0].data.contains("Subject:"));
    let audit = audit_log::Entity::find()
        .filter(audit_log::Column::Action.eq("outbox.send_now"))
        .all(&db)
        .await
        .unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].actor_user_id, Some(kanri_id));
    let other = outbox::Entity::find_by_id(theirs.id)
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        other.status,
        uketsuke_store::outbox::status::QUEUED,
        "another bureau's mail waits"
    );

    // A disabled account: its session ends at once and it cannot sign in.
    let clerk = browser();
    login(&clerk, &base, "tanto", &tanto_pw).await;
    assert_eq!(
        clerk
            .get(format!("{base}/dashboard"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let dir = tmp.path().to_path_buf();
    let url_for_cli = url.clone();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_uketsuke"))
            .args(["user", "disable", "tanto"])
            .current_dir(dir)
            .env("UKETSUKE_CONFIG_DIR", support::config_dir())
            .env("DATABASE_URL", url_for_cli)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let response = clerk.get(format!("{base}/dashboard")).send().await.unwrap();
    assert_eq!(
        response
            .headers()
            .get("location")
            .map(|l| l.to_str().unwrap()),
        Some("/login"),
        "the disabled account's session ended"
    );
    assert_eq!(try_login(&clerk, &base, "tanto", &tanto_pw).await, None);

    // The log, read as an operator would.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let log = server.log();
    let line = |needle: &str| -> String {
        log.lines()
            .find(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no line with {needle:?} in:\n{log}"))
            .to_owned()
    };
    let failed = line(&format!("login failed user_id={kanri_id}"));
    assert!(
        failed.contains("WARN") && failed.contains("client=127.0.0.1"),
        "{failed}"
    );
    let unknown = line("login failed: no such active account");
    assert!(
        unknown.contains("WARN") && unknown.contains("client=127.0.0.1"),
        "{unknown}"
    );
    let locked = line("account locked");
    assert!(
        locked.contains(&format!("user_id={lock_id}")) && locked.contains("client=127.0.0.1"),
        "{locked}"
    );
    let access = line("route=/dashboard");
    for part in [
        "INFO",
        "method=GET",
        "status=200",
        "latency_ms=",
        "client=127.0.0.1",
    ] {
        assert!(access.contains(part), "{part} in {access}");
    }
    let search = line("route=/cases ");
    assert!(search.contains("status=200"), "{search}");
    assert!(line("route=/deliveries/{id}/send-now").contains("status=403"));
    for secret in [
        "yamada-hanako",
        "wrong-password-xyz",
        "やまなみ",
        "name=",
        &kanri_pw,
        "kanri",
    ] {
        assert!(
            !log.contains(secret),
            "{secret:?} must not be logged:\n{log}"
        );
    }
}

/// One login attempt with `X-Forwarded-For: forwarded`; returns the status and where
/// it redirects.
async fn login_via(
    base: &str,
    forwarded: &str,
    username: &str,
    password: &str,
) -> (u16, Option<String>) {
    let client = browser();
    let form = client
        .get(format!("{base}/login"))
        .header("x-forwarded-for", forwarded)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let response = client
        .post(format!("{base}/login"))
        .header("x-forwarded-for", forwarded)
        .form(&[
            ("csrf", csrf_of(&form).as_str()),
            ("username", username),
            ("password", password),
        ])
        .send()
        .await
        .unwrap();
    (
        response.status().as_u16(),
        response
            .headers()
            .get("location")
            .map(|l| l.to_str().unwrap_or_default().to_owned()),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_a_trusted_proxy_the_forwarded_client_is_logged_and_throttled_and_otherwise_ignored()
{
    let tmp = TempDir::new();
    let site = tmp.path().join("site");
    std::fs::create_dir_all(&site).unwrap();
    std::fs::write(
        site.join("local.toml"),
        "[server]\ntrusted_proxies = [\"127.0.0.0/8\"]\n",
    )
    .unwrap();
    let url = format!("sqlite://{}/uketsuke.sqlite?mode=rwc", tmp.path().display());
    let mut proxied = Server::start(
        tmp.path(),
        &[
            ("DATABASE_URL", url.clone()),
            ("UKETSUKE_LOCAL_DIR", site.display().to_string()),
        ],
    );
    let base = proxied.ready(Duration::from_secs(60)).await;
    let db = Database::connect(&url).await.unwrap();
    let (_, password) = add_user(&db, "tanto", Role::Clerk, "kanto-shinetsu").await;

    // Twenty failures from one client behind the proxy stop that client only (on a
    // name with no account, so that no account lock is involved).
    for _ in 0..20 {
        let (status, to) = login_via(
            &base,
            "198.51.100.9, 203.0.113.7",
            "nobody",
            "wrong-password-1",
        )
        .await;
        assert_eq!((status, to), (200, None));
    }
    let (status, _) = login_via(&base, "203.0.113.7", "tanto", &password).await;
    assert_eq!(status, 429, "the client that failed twenty times waits");
    let (_, to) = login_via(&base, "203.0.113.8", "tanto", &password).await;
    assert_eq!(
        to.as_deref(),
        Some("/dashboard"),
        "another client behind the same proxy signs in"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    let log = proxied.log();
    assert!(
        log.lines()
            .any(|l| l.contains("route=/login") && l.contains("client=203.0.113.7")),
        "the right-most forwarded address is the client:\n{log}"
    );
    assert!(
        !log.contains("client=198.51.100.9"),
        "an address the client wrote is not trusted"
    );
    assert!(log.contains("login throttled") && log.contains("client=203.0.113.7"));

    // Without trusted proxies the header is the client's word, and ignored.
    let other = TempDir::new();
    let mut direct = Server::start(
        other.path(),
        &[(
            "DATABASE_URL",
            format!(
                "sqlite://{}/uketsuke.sqlite?mode=rwc",
                other.path().display()
            ),
        )],
    );
    let base = direct.ready(Duration::from_secs(60)).await;
    let response = reqwest::Client::new()
        .get(format!("{base}/healthz"))
        .header("x-forwarded-for", "203.0.113.99")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let log = direct.log();
    assert!(
        log.lines()
            .any(|l| l.contains("route=/healthz") && l.contains("client=127.0.0.1")),
        "{log}"
    );
    assert!(!log.contains("203.0.113.99"), "{log}");
}
