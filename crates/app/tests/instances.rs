//! Several instances, one database: three real `uketsuke serve` processes started at
//! the same moment on one fresh PostgreSQL database, driven round robin with no load
//! balancer — start-up (migrations applied once, all come up), a session signed in on
//! one and used (and ended) on the others, numbers issued from all at once with no
//! duplicate, the scheduler running each job once per period (and only for the bureau
//! in use), and the outbox sending each mail once to a real SMTP server.
//!
//! Runs on PostgreSQL only (`TEST_DATABASE_URL`, as `.ci/run` sets it); without it the
//! test says SKIPPED and passes.

mod common;
mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use chrono::TimeDelta;
use common::TempDir;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};
use serde_json::{Value, json};
use support::{PgDatabase, Server, browser, csrf_of, login};
use uketsuke_store::audit::Actor;
use uketsuke_store::users::{self, NewUser, Role};

const INSTANCES: usize = 3;
const REQUESTS: usize = 24;

async fn add_user(db: &DatabaseConnection, name: &str, role: Role) -> (String, String) {
    let password = format!("pw-{name}-0123456789");
    users::create(
        db,
        &NewUser {
            username: name.to_owned(),
            display_name: format!("{name} さん"),
            password_hash: users::hash_password(&password),
            role,
            bureau_id: "kanto-shinetsu".to_owned(),
            office_id: None,
        },
        &Actor::system("test"),
    )
    .await
    .unwrap();
    let (token, _) = uketsuke_store::tokens::create(db, name, "multi", &Actor::system("test"))
        .await
        .unwrap();
    (password, token)
}

async fn post(base: &str, path: &str, token: &str, body: Value) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!("{base}{path}"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn scalar(db: &DatabaseConnection, sql: &str) -> i64 {
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap()
        .unwrap();
    row.try_get_by_index::<i64>(0).unwrap()
}

async fn rows(db: &DatabaseConnection, sql: &str) -> Vec<(String, String, i64)> {
    db.query_all_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap()
        .iter()
        .map(|r| {
            (
                r.try_get_by_index::<String>(0).unwrap(),
                r.try_get_by_index::<String>(1).unwrap(),
                r.try_get_by_index::<i64>(2).unwrap(),
            )
        })
        .collect()
}

/// Waits until `check` holds, or fails with `what` after `within`.
async fn eventually<F, Fut>(within: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    while !check().await {
        assert!(started.elapsed() < within, "{what} (after {within:?})");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_instances_share_one_postgresql_database() {
    let Some(pg) =
        PgDatabase::create("uk_multi", "three_instances_share_one_postgresql_database").await
    else {
        return;
    };
    let sink = support::smtp::SmtpSink::start().await;
    let tmp = TempDir::new();
    // The installation's own settings: one bureau in use, jobs due from midnight, a
    // fast scheduler and dispatcher, the test's SMTP server.
    let site = tmp.path().join("site");
    std::fs::create_dir_all(&site).unwrap();
    std::fs::write(
        site.join("local.toml"),
        format!(
            "[app]\nbureaus = [\"kanto-shinetsu\"]\n\n\
             [schedule]\ncouncil_export_at = \"00:00:00\"\ndigest_at = \"00:00:00\"\n\
             not_designated_at = \"00:00:00\"\ntick_secs = 5\n\n\
             [outbox]\npoll_secs = 1\n\n[smtp]\nport = {}\n",
            sink.port
        ),
    )
    .unwrap();
    let env = [
        ("DATABASE_URL", pg.url.clone()),
        ("UKETSUKE_LOCAL_DIR", site.display().to_string()),
        ("UKETSUKE_DATABASE__MAX_CONNECTIONS", "4".to_owned()),
    ];

    // Start-up: all at the same moment, on an empty database.
    let mut servers: Vec<Server> = (0..INSTANCES)
        .map(|_| Server::start(tmp.path(), &env))
        .collect();
    let mut bases = Vec::new();
    for server in &mut servers {
        bases.push(server.ready(Duration::from_secs(120)).await);
    }
    let db = Database::connect(&pg.url).await.unwrap();
    let states = uketsuke_store::db::migration_status(&db).await.unwrap();
    assert!(states.iter().all(|m| m.applied), "{states:?}");
    assert_eq!(
        scalar(&db, "SELECT COUNT(*) FROM seaql_migrations").await,
        i64::try_from(states.len()).unwrap(),
        "each migration recorded once"
    );
    assert_eq!(scalar(&db, "SELECT COUNT(*) FROM bureaus").await, 8);
    for base in &bases {
        let health = reqwest::get(format!("{base}/healthz")).await.unwrap();
        assert_eq!(health.status(), 200, "{base}");
    }

    let (tanto_pw, clerk) = add_user(&db, "tanto", Role::Clerk).await;
    let (_, approver) = add_user(&db, "kessai", Role::Approver).await;

    // A session signed in on one instance works on the others, and ends everywhere.
    let browser = browser();
    login(&browser, &bases[0], "tanto", &tanto_pw).await;
    for base in &bases[1..] {
        let page = browser
            .get(format!("{base}/dashboard"))
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), 200, "the session is known on {base}");
        assert!(page.text().await.unwrap().contains("tanto さん"));
    }
    let page = browser
        .get(format!("{}/dashboard", bases[2]))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let response = browser
        .post(format!("{}/logout", bases[2]))
        .form(&[("csrf", csrf_of(&page))])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    let response = browser
        .get(format!("{}/dashboard", bases[0]))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response
            .headers()
            .get("location")
            .map(|l| l.to_str().unwrap()),
        Some("/login"),
        "signed out on one instance is signed out on all"
    );

    // Numbers issued from every instance at once: no duplicate.
    let created = futures_join((0..REQUESTS).map(|i| {
        let (base, clerk) = (bases[i % INSTANCES].clone(), clerk.clone());
        async move {
            let (status, case) = post(
                &base,
                "/api/v1/requests",
                &clerk,
                json!({
                    "kind": "医科",
                    "facility_name": format!("多重起動{i}内科"),
                    "facility_address": "東京都新宿区西新宿2-8-1",
                    "designation_date": "令和9年4月1日",
                    "founder_name": "厚生 太郎",
                    "contact_phone": "03-5321-1111",
                    "received_on": "2026-11-25",
                }),
            )
            .await;
            assert_eq!(status, 201, "{case}");
            case
        }
    }))
    .await;
    let proposed = futures_join(created.iter().enumerate().map(|(i, case)| {
        let (base, clerk) = (bases[(i + 1) % INSTANCES].clone(), clerk.clone());
        let (id, version) = (case["id"].as_i64().unwrap(), case["version"].clone());
        async move {
            let (status, case) = post(
                &base,
                &format!("/api/v1/requests/{id}/propose"),
                &clerk,
                json!({"version": version, "district": "01"}),
            )
            .await;
            assert_eq!(status, 200, "{case}");
            case
        }
    }))
    .await;
    let numbers: BTreeSet<String> = proposed
        .iter()
        .map(|c| c["number"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(numbers.len(), REQUESTS, "{numbers:?}");
    assert_eq!(
        scalar(&db, "SELECT COUNT(DISTINCT code) FROM issued_numbers").await,
        i64::try_from(REQUESTS).unwrap()
    );
    assert_eq!(
        scalar(&db, "SELECT COUNT(*) FROM issued_numbers").await,
        i64::try_from(REQUESTS).unwrap()
    );

    // Three approved on three instances, then a council held a week ago: the scheduler
    // of some instance exports its list once, and the outbox sends it once.
    let approved = futures_join(proposed.iter().take(3).enumerate().map(|(i, case)| {
        let (base, approver) = (bases[i % INSTANCES].clone(), approver.clone());
        let (id, version) = (case["id"].as_i64().unwrap(), case["version"].clone());
        async move {
            let (status, case) = post(
                &base,
                &format!("/api/v1/requests/{id}/approve"),
                &approver,
                json!({"version": version}),
            )
            .await;
            assert_eq!(status, 200, "{case}");
            id
        }
    }))
    .await;
    let held_on = uketsuke_domain::today_in_japan() - TimeDelta::days(7);
    let (status, session) = post(
        &bases[1],
        "/api/v1/council-sessions",
        &approver,
        json!({"prefecture": "13", "held_on": held_on.to_string(), "request_ids": approved}),
    )
    .await;
    assert_eq!(status, 201, "{session}");
    let session_id = session["id"].as_i64().unwrap();

    // And a batch of mail queued at once, for every dispatcher to race for.
    for i in 0..15 {
        uketsuke_store::outbox::enqueue(
            &db,
            &uketsuke_store::outbox::NewMessage {
                dedupe_key: format!("multi:{i}"),
                kind: "digest".to_owned(),
                bureau_id: Some("kanto-shinetsu".to_owned()),
                recipients: vec!["staff@uketsuke.localhost".to_owned()],
                subject: format!("複数台 {i}"),
                body: "本文".to_owned(),
                attachment: None,
            },
            chrono::Utc::now(),
        )
        .await
        .unwrap();
    }

    eventually(
        Duration::from_secs(60),
        "the council list was exported",
        || {
            let db = db.clone();
            async move {
                scalar(
                    &db,
                    &format!(
                        "SELECT COUNT(*) FROM job_runs WHERE job = 'council-export' \
                     AND period = '{session_id}:1' AND status = 'done'"
                    ),
                )
                .await
                    == 1
            }
        },
    )
    .await;
    eventually(Duration::from_secs(60), "every mail was sent", || {
        let db = db.clone();
        async move { scalar(&db, "SELECT COUNT(*) FROM outbox WHERE status <> 'sent'").await == 0 }
    })
    .await;
    // Give a duplicate the chance to show up.
    tokio::time::sleep(Duration::from_secs(3)).await;

    let ids: Vec<i64> = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT id FROM outbox ORDER BY id",
        ))
        .await
        .unwrap()
        .iter()
        .map(|r| r.try_get_by_index::<i64>(0).unwrap())
        .collect();
    assert!(ids.len() >= 16, "the list and the batch: {ids:?}");
    let messages = sink.messages();
    let mut received: BTreeMap<i64, usize> = BTreeMap::new();
    for m in &messages {
        for id in &ids {
            if m.data.contains(&format!("<uketsuke-outbox-{id}@")) {
                *received.entry(*id).or_default() += 1;
            }
        }
    }
    for id in &ids {
        assert_eq!(
            received.get(id),
            Some(&1),
            "outbox row {id} reached the SMTP server exactly once"
        );
    }
    assert_eq!(messages.len(), ids.len(), "nothing else was sent");
    assert_eq!(
        scalar(
            &db,
            &format!(
                "SELECT COUNT(*) FROM outbox WHERE dedupe_key LIKE 'council-list:{session_id}:%'"
            )
        )
        .await,
        1
    );

    // Each (job, period) ran once, and only for the bureau in use.
    for (job, period, runs) in rows(
        &db,
        "SELECT job, period, COUNT(*) FROM job_runs GROUP BY job, period",
    )
    .await
    {
        assert_eq!(runs, 1, "{job} {period}");
        assert!(
            job == "council-export" || period.starts_with("kanto-shinetsu:"),
            "a job ran for a bureau not in use: {job} {period}"
        );
    }
    let settings =
        uketsuke::settings::Settings::load_with_local(&support::config_dir(), Some(&site)).unwrap();
    let today = uketsuke_domain::today_in_japan();
    if settings
        .bureau("kanto-shinetsu")
        .unwrap()
        .calendar()
        .unwrap()
        .is_open(today)
    {
        for job in ["digest", "not-designated-review"] {
            assert_eq!(
                scalar(
                    &db,
                    &format!(
                        "SELECT COUNT(*) FROM job_runs WHERE job = '{job}' \
                         AND period = 'kanto-shinetsu:{today}'"
                    )
                )
                .await,
                1,
                "{job} ran today, once"
            );
        }
    }

    // Every instance served its share.
    for server in &servers {
        assert!(
            server
                .log()
                .contains("route=/api/v1/requests/{id}/{action}"),
            "{}",
            server.log()
        );
    }
}

/// Runs the futures concurrently and returns their outputs in order.
async fn futures_join<F: std::future::Future + Send + 'static>(
    futures: impl Iterator<Item = F>,
) -> Vec<F::Output>
where
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut out = Vec::with_capacity(handles.len());
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}
