//! Monitoring end to end: `/metrics` parses as the Prometheus text format, counts
//! requests by matched route (never an id) and the scheduler's job runs, shows the
//! outbox and the pool, and is refused through a proxy; `/healthz` turns "degraded" when
//! a mail goes dead or the scheduler stalls, and "down" (503) without a database.

use std::collections::BTreeMap;

use chrono::{NaiveDate, NaiveTime, TimeDelta};
use sea_orm::{EntityTrait, PaginatorTrait};
use uketsuke_store::entities::{council_session, outbox as outbox_row, reception_request};
use uketsuke_tests::TestApp;
use uketsuke_tests::smtp::SmtpSink;

/// One sample: name, labels, value.
type Sample = (String, BTreeMap<String, String>, f64);

/// Parses the text exposition format strictly: every line is a `# HELP`, a `# TYPE` or
/// a sample of a family whose type was declared before it; label values are quoted and
/// escaped; values are numbers. Panics naming the first bad line.
fn parse_exposition(text: &str) -> Vec<Sample> {
    fn is_name(s: &str) -> bool {
        let mut chars = s.chars();
        chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
    }
    let mut types: BTreeMap<String, String> = BTreeMap::new();
    let mut samples = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let bad = |why: &str| -> ! { panic!("line {}: {why}: {line:?}", n + 1) };
        if line.is_empty() {
            bad("empty line");
        }
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, help) = rest.split_once(' ').unwrap_or_else(|| bad("HELP"));
            if !is_name(name) || help.is_empty() {
                bad("HELP");
            }
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap_or_else(|| bad("TYPE"));
            if !is_name(name)
                || !["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind)
            {
                bad("TYPE");
            }
            if types.insert(name.to_owned(), kind.to_owned()).is_some() {
                bad("a family declared twice");
            }
            continue;
        }
        if line.starts_with('#') {
            bad("a comment that is neither HELP nor TYPE");
        }
        let (name, rest) = match line.find(['{', ' ']) {
            Some(i) => line.split_at(i),
            None => bad("no value"),
        };
        if !is_name(name) {
            bad("metric name");
        }
        let mut labels = BTreeMap::new();
        let rest = if let Some(mut body) = rest.strip_prefix('{') {
            loop {
                if let Some(after) = body.strip_prefix('}') {
                    break after;
                }
                let eq = body.find('=').unwrap_or_else(|| bad("label"));
                let key = &body[..eq];
                if !is_name(key) {
                    bad("label name");
                }
                let mut chars = body[eq + 1..].char_indices();
                if chars.next().map(|(_, c)| c) != Some('"') {
                    bad("label value not quoted");
                }
                let mut value = String::new();
                let mut end = None;
                let mut escaped = false;
                for (i, c) in chars {
                    match (escaped, c) {
                        (true, 'n') => {
                            value.push('\n');
                            escaped = false;
                        }
                        (true, '\\' | '"') => {
                            value.push(c);
                            escaped = false;
                        }
                        (true, _) => bad("bad escape"),
                        (false, '\\') => escaped = true,
                        (false, '"') => {
                            end = Some(eq + 1 + i + 1);
                            break;
                        }
                        (false, c) => value.push(c),
                    }
                }
                let end = end.unwrap_or_else(|| bad("unterminated label value"));
                labels.insert(key.to_owned(), value);
                body = &body[end..];
                body = body.strip_prefix(',').unwrap_or(body);
            }
        } else {
            rest
        };
        let value = rest
            .strip_prefix(' ')
            .unwrap_or_else(|| bad("no space before the value"));
        let value: f64 = match value {
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            v => v.parse().unwrap_or_else(|_| bad("value")),
        };
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|s| {
                name.strip_suffix(s)
                    .filter(|f| types.get(*f).is_some_and(|t| t == "histogram"))
            })
            .unwrap_or(name);
        if !types.contains_key(family) {
            bad("a sample before its # TYPE");
        }
        samples.push((name.to_owned(), labels, value));
    }
    samples
}

/// The value of the sample `name` whose labels include `labels`.
fn value(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    samples
        .iter()
        .find(|(n, l, _)| {
            n == name
                && labels
                    .iter()
                    .all(|(k, v)| l.get(*k).map(String::as_str) == Some(*v))
        })
        .map(|(_, _, v)| *v)
}

async fn scrape(app: &TestApp) -> Vec<Sample> {
    let response = app.get("/metrics").await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    parse_exposition(&response.text().await.unwrap())
}

async fn health(app: &TestApp) -> (u16, serde_json::Value) {
    let response = app.get("/healthz").await;
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_job_runs_in_the_text_format() {
    let app = TestApp::spawn_with(true).await;
    let password = app.create_user("m-tanto", "clerk", "kanto-shinetsu").await;
    app.login("m-tanto", &password).await;
    let ids: Vec<i32> = reception_request::Entity::find()
        .all(&app.db)
        .await
        .unwrap()
        .iter()
        .map(|r| r.id)
        .take(2)
        .collect();
    for id in &ids {
        assert_eq!(app.get(&format!("/cases/{id}")).await.status(), 200);
    }
    assert_eq!(app.get("/no/such/page/12345").await.status(), 404);

    // The scheduler's tick on an open day after every job's time (2026-11-24, 10:00 JST).
    let now = NaiveDate::from_ymd_opt(2026, 11, 24)
        .unwrap()
        .and_time(NaiveTime::from_hms_opt(10, 0, 0).unwrap());
    let reports =
        uketsuke::jobs::tick_counted(&app.db, &app.settings, now, Some(&app.metrics)).await;
    assert!(!reports.is_empty());

    let samples = scrape(&app).await;
    let cases = value(
        &samples,
        "uketsuke_http_requests_total",
        &[
            ("route", "/cases/{id}"),
            ("method", "GET"),
            ("status", "2xx"),
        ],
    );
    assert_eq!(cases, Some(2.0), "both case pages under one matched route");
    assert_eq!(
        value(
            &samples,
            "uketsuke_http_request_duration_seconds_count",
            &[("route", "/cases/{id}"), ("status", "2xx")]
        ),
        Some(2.0)
    );
    assert_eq!(
        value(
            &samples,
            "uketsuke_http_request_duration_seconds_bucket",
            &[("route", "/cases/{id}"), ("le", "+Inf")]
        ),
        Some(2.0)
    );
    assert!(
        value(
            &samples,
            "uketsuke_http_requests_total",
            &[("route", "unmatched"), ("status", "4xx")]
        )
        .is_some()
    );
    for (_, labels, _) in &samples {
        for value in labels.values() {
            for id in &ids {
                assert!(
                    !value.contains(&format!("/cases/{id}")),
                    "no id in a label: {value}"
                );
            }
            assert!(!value.contains("12345"), "no raw URL in a label: {value}");
        }
    }
    let runs: f64 = samples
        .iter()
        .filter(|(n, _, _)| n == "uketsuke_job_runs_total")
        .map(|(_, _, v)| v)
        .sum();
    assert_eq!(
        runs as usize,
        reports
            .iter()
            .filter(|r| r.outcome != "already-done")
            .count(),
        "each run that did something is counted"
    );
    assert!(
        value(&samples, "uketsuke_job_runs_total", &[("job", "digest")]).is_some(),
        "digest ran"
    );
    assert!(
        value(
            &samples,
            "uketsuke_scheduler_last_tick_timestamp_seconds",
            &[]
        )
        .unwrap()
            > 0.0
    );
    let queued = outbox_row::Entity::find().count(&app.db).await.unwrap();
    assert_eq!(
        value(
            &samples,
            "uketsuke_outbox_messages",
            &[("status", "queued")]
        ),
        Some(queued as f64)
    );
    assert_eq!(
        value(&samples, "uketsuke_outbox_messages", &[("status", "dead")]),
        Some(0.0)
    );
    assert!(value(&samples, "uketsuke_db_pool_connections", &[]).unwrap() >= 1.0);
    assert!(value(&samples, "uketsuke_db_pool_max_connections", &[]).unwrap() >= 1.0);
    assert_eq!(value(&samples, "uketsuke_database_up", &[]), Some(1.0));

    // The counters move.
    app.get(&format!("/cases/{}", ids[0])).await;
    let again = scrape(&app).await;
    assert_eq!(
        value(
            &again,
            "uketsuke_http_requests_total",
            &[("route", "/cases/{id}"), ("status", "2xx")]
        ),
        Some(3.0)
    );
    assert_eq!(
        value(
            &again,
            "uketsuke_http_requests_total",
            &[("route", "/metrics"), ("status", "2xx")]
        ),
        Some(1.0),
        "the first scrape is counted by the second"
    );
}

#[tokio::test]
async fn metrics_are_refused_through_a_proxy_when_no_token_is_set() {
    let app = TestApp::spawn().await;
    for header in ["x-forwarded-for", "forwarded", "x-real-ip"] {
        let response = app
            .client
            .get(format!("{}/metrics", app.base_url))
            .header(header, "for=203.0.113.7")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 403, "{header}");
        assert!(
            response
                .text()
                .await
                .unwrap()
                .contains("UKETSUKE_METRICS__TOKEN")
        );
    }
    assert_eq!(app.get("/metrics").await.status(), 200, "loopback, direct");
}

#[tokio::test]
async fn healthz_is_degraded_while_a_mail_is_dead() {
    let app = TestApp::spawn_with(true).await;
    let (status, body) = health(&app).await;
    assert_eq!(
        (status, body["status"].as_str()),
        (200, Some("ok")),
        "{body}"
    );
    let session = council_session::Entity::find()
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    uketsuke::jobs::run(
        &app.db,
        &app.settings,
        "council-export",
        &session.id.to_string(),
    )
    .await
    .unwrap();
    let sink = SmtpSink::start().await;
    sink.refuse_recipients(true);
    let mailer = uketsuke_mailer::Mailer::new(&uketsuke_mailer::SmtpSettings {
        port: sink.port,
        timeout_secs: 5,
        ..Default::default()
    })
    .unwrap();
    let report = uketsuke::dispatch::send_due(
        &app.db,
        &mailer,
        "uketsuke@uketsuke.localhost",
        &app.settings.outbox.policy(),
    )
    .await
    .unwrap();
    assert_eq!(report.dead, 1);

    let (status, body) = health(&app).await;
    assert_eq!(status, 200, "degraded still serves: {body}");
    assert_eq!(body["status"], "degraded");
    assert_eq!(body["outbox"]["dead"], 1);
    assert_eq!(body["reasons"][0]["code"], "dead_letters");
    assert!(
        body["reasons"][0]["message"]
            .as_str()
            .unwrap()
            .contains("送信不能")
    );
    let samples = scrape(&app).await;
    assert_eq!(
        value(&samples, "uketsuke_outbox_messages", &[("status", "dead")]),
        Some(1.0)
    );
}

#[tokio::test]
async fn healthz_is_degraded_when_the_scheduler_stalls_and_ok_once_it_ticks() {
    let app = TestApp::spawn().await;
    let (_, body) = health(&app).await;
    assert_eq!(body["scheduler"]["running"], false, "no scheduler in tests");
    assert_eq!(body["status"], "ok");

    app.metrics.scheduler.started(60);
    let now = uketsuke_web::metrics::unix_now();
    app.metrics.scheduler.ticked_at(now - 10 * 60);
    let (status, body) = health(&app).await;
    assert_eq!(status, 200);
    assert_eq!(body["status"], "degraded", "{body}");
    assert_eq!(body["scheduler"]["stalled"], true);
    assert_eq!(body["reasons"][0]["code"], "scheduler_stalled");

    // A real tick of the scheduler beats again.
    let today = (chrono::Utc::now() + TimeDelta::hours(9)).naive_utc();
    uketsuke::jobs::tick_counted(&app.db, &app.settings, today, Some(&app.metrics)).await;
    let (_, body) = health(&app).await;
    assert_eq!(body["status"], "ok", "{body}");
    assert_eq!(body["scheduler"]["stalled"], false);
}

#[tokio::test]
async fn healthz_is_down_with_503_when_the_database_is_unreachable() {
    let app = TestApp::spawn().await;
    app.db.clone().close().await.unwrap();
    let (status, body) = health(&app).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["status"], "down");
    assert_eq!(body["reasons"][0]["code"], "database_unreachable");
    let samples = scrape(&app).await;
    assert_eq!(value(&samples, "uketsuke_database_up", &[]), Some(0.0));
}

#[test]
fn the_exposition_parser_rejects_what_prometheus_would() {
    for bad in [
        "x 1",                                     // no TYPE
        "# TYPE x counter\nx{a=b} 1",              // unquoted label
        "# TYPE x counter\nx one",                 // not a number
        "# TYPE x counter\nx{a=\"\\q\"} 1",        // bad escape
        "# TYPE x counter\n# TYPE x counter\nx 1", // declared twice
        "# TYPE x counter\n\nx 1",                 // empty line
    ] {
        assert!(
            std::panic::catch_unwind(|| parse_exposition(bad)).is_err(),
            "{bad:?}"
        );
    }
    let ok = parse_exposition(
        "# HELP h a histogram\n# TYPE h histogram\nh_bucket{le=\"+Inf\",r=\"/a\\\"b\"} 2\nh_sum 0.5\nh_count 2",
    );
    assert_eq!(ok.len(), 3);
    assert_eq!(ok[0].1["r"], "/a\"b");
}
