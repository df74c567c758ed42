//! Metrics and health (監視): `/metrics` in the Prometheus text exposition format
//! (version 0.0.4), the middleware that counts requests, and the scheduler's heartbeat
//! that `/healthz` reads.
//!
//! Hand-written rather than the `metrics` + `metrics-exporter-prometheus` crates: what
//! we count is a handful of counters and one histogram kept per application (so every
//! test's app has its own), the outbox and pool gauges are read at scrape time anyway,
//! and the crates would add about ten dependencies (quanta, crossbeam, a sketch
//! library…) and a process-global recorder for ~200 lines of code.
//!
//! Labels carry no ids and no personal data: the route is the *matched* path
//! (`/cases/{id}`, never `/cases/42`), requests that match no route are `unmatched`, the
//! method is one of the standard ones, and the status is its class (`2xx`…).
//!
//! Who may read it: with `metrics.token` set (`UKETSUKE_METRICS__TOKEN`), only a request
//! with `Authorization: Bearer <token>`; without one, only a client on the same machine
//! (a loopback peer) whose request did not come through a proxy (no `Forwarded`,
//! `X-Forwarded-For` or `X-Real-IP` header).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use crate::state::AppState;

/// The latency histogram's upper bounds, in seconds.
const BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// One route's requests of one method and status class.
#[derive(Debug, Default, Clone)]
struct HttpStats {
    count: u64,
    sum_seconds: f64,
    /// Requests at or under each bound of [`BUCKETS`] (not cumulative here).
    buckets: [u64; BUCKETS.len()],
}

/// (method, route, status class).
type HttpKey = (&'static str, String, &'static str);

/// The application's counters. One per running application, shared by its handlers and
/// its scheduler.
#[derive(Debug)]
pub struct Metrics {
    token_hash: Option<[u8; 32]>,
    started_at: i64,
    http: Mutex<BTreeMap<HttpKey, HttpStats>>,
    /// (job, outcome) → runs.
    jobs: Mutex<BTreeMap<(String, String), u64>>,
    /// The scheduler of this instance.
    pub scheduler: SchedulerBeat,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new(None)
    }
}

impl Metrics {
    /// Counters for an application; `token` is `metrics.token` (None: loopback only).
    pub fn new(token: Option<&str>) -> Self {
        Self {
            token_hash: token
                .filter(|t| !t.is_empty())
                .map(|t| Sha256::digest(t.as_bytes()).into()),
            started_at: unix_now(),
            http: Mutex::default(),
            jobs: Mutex::default(),
            scheduler: SchedulerBeat::default(),
        }
    }

    /// Counts one answered request.
    pub fn observe_request(
        &self,
        method: &'static str,
        route: String,
        status: StatusCode,
        seconds: f64,
    ) {
        let class = match status.as_u16() {
            100..=199 => "1xx",
            200..=299 => "2xx",
            300..=399 => "3xx",
            400..=499 => "4xx",
            _ => "5xx",
        };
        let mut http = self.http.lock().unwrap_or_else(|e| e.into_inner());
        let stats = http.entry((method, route, class)).or_default();
        stats.count += 1;
        stats.sum_seconds += seconds;
        if let Some(i) = BUCKETS.iter().position(|b| seconds <= *b) {
            stats.buckets[i] += 1;
        }
    }

    /// Counts a scheduled job's run: `outcome` is `done`, `nothing-to-send` or `failed`.
    pub fn job_ran(&self, job: &str, outcome: &str) {
        let mut jobs = self.jobs.lock().unwrap_or_else(|e| e.into_inner());
        *jobs
            .entry((job.to_owned(), outcome.to_owned()))
            .or_default() += 1;
    }

    /// Why a request may not read `/metrics` (None: it may).
    fn refusal(&self, headers: &HeaderMap, peer: Option<SocketAddr>) -> Option<Response> {
        if let Some(expected) = &self.token_hash {
            let given = headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "))
                .map(|t| <[u8; 32]>::from(Sha256::digest(t.trim().as_bytes())));
            return if given.as_ref() == Some(expected) {
                None
            } else {
                Some((
                    StatusCode::UNAUTHORIZED,
                    [(header::WWW_AUTHENTICATE, "Bearer")],
                    "メトリクスの読み取りには Authorization: Bearer（metrics.token の値）が必要です\n",
                )
                    .into_response())
            };
        }
        let proxied = ["forwarded", "x-forwarded-for", "x-real-ip"]
            .iter()
            .any(|h| headers.contains_key(*h));
        if peer.is_some_and(|p| p.ip().is_loopback()) && !proxied {
            None
        } else {
            Some(
                (
                    StatusCode::FORBIDDEN,
                    "metrics.token（環境変数 UKETSUKE_METRICS__TOKEN）が設定されていないため、\
                 メトリクスは同じ機械から直接（プロキシを通さずに）読む場合だけ返します\n",
                )
                    .into_response(),
            )
        }
    }

    /// The counters in the exposition format (the database's part is added by the
    /// handler).
    fn render_counters(&self, out: &mut String) {
        family(
            out,
            "uketsuke_http_requests_total",
            "counter",
            "HTTP requests answered, by method, route (the matched path) and status class.",
        );
        let http = self.http.lock().unwrap_or_else(|e| e.into_inner()).clone();
        for ((method, route, class), stats) in &http {
            let labels = labels(&[("method", method), ("route", route), ("status", class)]);
            let _ = writeln!(out, "uketsuke_http_requests_total{labels} {}", stats.count);
        }
        family(
            out,
            "uketsuke_http_request_duration_seconds",
            "histogram",
            "Time to answer an HTTP request, by method, route and status class.",
        );
        for ((method, route, class), stats) in &http {
            let base = [
                ("method", *method),
                ("route", route.as_str()),
                ("status", class),
            ];
            let mut cumulative = 0;
            for (bound, n) in BUCKETS.iter().zip(stats.buckets) {
                cumulative += n;
                let le = bound.to_string();
                let mut with_le = base.to_vec();
                with_le.push(("le", &le));
                let _ = writeln!(
                    out,
                    "uketsuke_http_request_duration_seconds_bucket{} {cumulative}",
                    labels(&with_le)
                );
            }
            let mut inf = base.to_vec();
            inf.push(("le", "+Inf"));
            let _ = writeln!(
                out,
                "uketsuke_http_request_duration_seconds_bucket{} {}",
                labels(&inf),
                stats.count
            );
            let _ = writeln!(
                out,
                "uketsuke_http_request_duration_seconds_sum{} {}",
                labels(&base),
                stats.sum_seconds
            );
            let _ = writeln!(
                out,
                "uketsuke_http_request_duration_seconds_count{} {}",
                labels(&base),
                stats.count
            );
        }
        let jobs = self.jobs.lock().unwrap_or_else(|e| e.into_inner()).clone();
        family(
            out,
            "uketsuke_job_runs_total",
            "counter",
            "Scheduled job runs by this instance's scheduler, by job and outcome (done, nothing-to-send, failed).",
        );
        for ((job, outcome), n) in &jobs {
            let _ = writeln!(
                out,
                "uketsuke_job_runs_total{} {n}",
                labels(&[("job", job), ("outcome", outcome)])
            );
        }
        family(
            out,
            "uketsuke_job_failures_total",
            "counter",
            "Scheduled job runs that failed (the log says why), by job.",
        );
        let mut failures: BTreeMap<&str, u64> = BTreeMap::new();
        for ((job, outcome), n) in &jobs {
            let entry = failures.entry(job.as_str()).or_default();
            if outcome == "failed" {
                *entry += n;
            }
        }
        for (job, n) in failures {
            let _ = writeln!(
                out,
                "uketsuke_job_failures_total{} {n}",
                labels(&[("job", job)])
            );
        }
        family(
            out,
            "uketsuke_scheduler_enabled",
            "gauge",
            "1 when this instance runs the scheduled jobs (schedule.enabled).",
        );
        let beat = self.scheduler.status(unix_now());
        let _ = writeln!(out, "uketsuke_scheduler_enabled {}", u8::from(beat.running));
        family(
            out,
            "uketsuke_scheduler_last_tick_timestamp_seconds",
            "gauge",
            "When this instance's scheduler last finished a tick (unix time; 0: never).",
        );
        let _ = writeln!(
            out,
            "uketsuke_scheduler_last_tick_timestamp_seconds {}",
            beat.last_tick.unwrap_or(0)
        );
        family(
            out,
            "uketsuke_process_start_time_seconds",
            "gauge",
            "When this instance started (unix time).",
        );
        let _ = writeln!(
            out,
            "uketsuke_process_start_time_seconds {}",
            self.started_at
        );
        family(
            out,
            "uketsuke_build_info",
            "gauge",
            "The running version (always 1).",
        );
        let _ = writeln!(
            out,
            "uketsuke_build_info{} 1",
            labels(&[("version", env!("CARGO_PKG_VERSION"))])
        );
    }
}

/// The scheduler's heartbeat: set when it starts and after each tick.
#[derive(Debug, Default)]
pub struct SchedulerBeat {
    /// Seconds between ticks; 0 while no scheduler runs in this instance.
    every_secs: AtomicU64,
    started: AtomicI64,
    last_tick: AtomicI64,
}

/// The scheduler as `/healthz` reports it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SchedulerStatus {
    /// Whether this instance runs the scheduled jobs.
    pub running: bool,
    /// When it last finished a tick (unix time).
    pub last_tick: Option<i64>,
    /// Seconds since then (or since it started, before its first tick).
    pub seconds_since_tick: Option<i64>,
    /// After how many seconds without a tick it counts as stalled.
    pub stalled_after_secs: Option<i64>,
    pub stalled: bool,
}

impl SchedulerBeat {
    /// The scheduler has started and will tick every `every_secs` seconds.
    pub fn started(&self, every_secs: u64) {
        self.started.store(unix_now(), Ordering::Relaxed);
        self.every_secs.store(every_secs.max(1), Ordering::Relaxed);
    }

    /// A tick has finished (`at`: unix time).
    pub fn ticked_at(&self, at: i64) {
        self.last_tick.store(at, Ordering::Relaxed);
    }

    /// A tick has finished now.
    pub fn ticked(&self) {
        self.ticked_at(unix_now());
    }

    /// The heartbeat at `now` (unix time). A scheduler is stalled when it has not
    /// finished a tick for three intervals and a minute (a long job gets its minute).
    pub fn status(&self, now: i64) -> SchedulerStatus {
        let every = i64::try_from(self.every_secs.load(Ordering::Relaxed)).unwrap_or(i64::MAX);
        let last = self.last_tick.load(Ordering::Relaxed);
        if every == 0 {
            return SchedulerStatus {
                running: false,
                last_tick: (last > 0).then_some(last),
                seconds_since_tick: None,
                stalled_after_secs: None,
                stalled: false,
            };
        }
        let since = now
            - if last > 0 {
                last
            } else {
                self.started.load(Ordering::Relaxed)
            };
        let limit = every.saturating_mul(3).saturating_add(60);
        SchedulerStatus {
            running: true,
            last_tick: (last > 0).then_some(last),
            seconds_since_tick: Some(since),
            stalled_after_secs: Some(limit),
            stalled: since > limit,
        }
    }
}

/// The middleware that counts every request by its matched route.
pub async fn track(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = method_label(request.method());
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let response = next.run(request).await;
    state.metrics.observe_request(
        method,
        route,
        response.status(),
        started.elapsed().as_secs_f64(),
    );
    response
}

fn method_label(method: &axum::http::Method) -> &'static str {
    match method.as_str() {
        "GET" => "GET",
        "POST" => "POST",
        "PUT" => "PUT",
        "PATCH" => "PATCH",
        "DELETE" => "DELETE",
        "HEAD" => "HEAD",
        "OPTIONS" => "OPTIONS",
        _ => "OTHER",
    }
}

/// `GET /metrics`.
pub async fn scrape(State(state): State<AppState>, request: Request) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
    if let Some(refusal) = state.metrics.refusal(request.headers(), peer) {
        return refusal;
    }
    let mut out = String::with_capacity(8 * 1024);
    state.metrics.render_counters(&mut out);
    render_database(&state, &mut out).await;
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        out,
    )
        .into_response()
}

/// The gauges read from the database at scrape time.
async fn render_database(state: &AppState, out: &mut String) {
    let counts = uketsuke_store::monitor::outbox_counts(&state.db).await;
    family(
        out,
        "uketsuke_database_up",
        "gauge",
        "1 when the database answered this scrape.",
    );
    let _ = writeln!(out, "uketsuke_database_up {}", u8::from(counts.is_ok()));
    if let Some(pool) = uketsuke_store::monitor::pool_stats(&state.db) {
        family(
            out,
            "uketsuke_db_pool_connections",
            "gauge",
            "Open database connections of this instance's pool (busy and idle).",
        );
        let _ = writeln!(out, "uketsuke_db_pool_connections {}", pool.size);
        family(
            out,
            "uketsuke_db_pool_idle_connections",
            "gauge",
            "Open database connections not in use.",
        );
        let _ = writeln!(out, "uketsuke_db_pool_idle_connections {}", pool.idle);
        family(
            out,
            "uketsuke_db_pool_max_connections",
            "gauge",
            "The most connections the pool may open (database.max_connections).",
        );
        let _ = writeln!(out, "uketsuke_db_pool_max_connections {}", pool.max);
    }
    let Ok(counts) = counts else {
        return;
    };
    family(
        out,
        "uketsuke_outbox_messages",
        "gauge",
        "Mail in the outbox by status: queued (the depth), sending, sent, dead (dead letters).",
    );
    for (status, n) in [
        ("queued", counts.queued),
        ("sending", counts.sending),
        ("sent", counts.sent),
        ("dead", counts.dead),
    ] {
        let _ = writeln!(
            out,
            "uketsuke_outbox_messages{} {n}",
            labels(&[("status", status)])
        );
    }
    family(
        out,
        "uketsuke_outbox_oldest_queued_age_seconds",
        "gauge",
        "How long the oldest queued mail has waited (0 when none waits).",
    );
    let age = counts
        .oldest_queued_at
        .map(|t| (chrono::Utc::now() - t).num_seconds().max(0))
        .unwrap_or(0);
    let _ = writeln!(out, "uketsuke_outbox_oldest_queued_age_seconds {age}");
}

/// `# HELP` and `# TYPE` of a metric family.
fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// `{a="x",b="y"}` with the values escaped as the format requires.
fn labels(pairs: &[(&str, &str)]) -> String {
    let inner: Vec<String> = pairs
        .iter()
        .map(|(k, v)| {
            let v = v
                .replace('\\', "\\\\")
                .replace('"', "\\\"")
                .replace('\n', "\\n");
            format!("{k}=\"{v}\"")
        })
        .collect();
    format!("{{{}}}", inner.join(","))
}

/// Now, as unix time.
pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::{SchedulerBeat, labels};

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(
            labels(&[("route", "/a\"b\\c\nd"), ("status", "2xx")]),
            r#"{route="/a\"b\\c\nd",status="2xx"}"#
        );
    }

    #[test]
    fn a_scheduler_is_stalled_after_three_intervals_and_a_minute() {
        let beat = SchedulerBeat::default();
        assert!(!beat.status(1_000).running, "no scheduler: never stalled");
        beat.started(60);
        beat.ticked_at(1_000);
        assert!(!beat.status(1_000 + 240).stalled);
        assert!(beat.status(1_000 + 241).stalled);
    }
}
