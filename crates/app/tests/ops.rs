//! The operator's commands through the real binary: `backup` and `restore` with their
//! exit codes (a refusal is 1, a missing PostgreSQL tool is 3 with the command to run),
//! and `serve` with JSON logs and `/metrics` behind its token.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{TempDir, json, stderr, stdout, uketsuke, uketsuke_with};

#[test]
fn backup_and_restore_help_lists_the_exit_codes() {
    let tmp = TempDir::new();
    for command in ["backup", "restore"] {
        let out = uketsuke(&tmp, &[command, "--help"]);
        assert!(out.status.success());
        let help = stdout(&out);
        assert!(help.contains("Exit codes"), "{help}");
        assert!(help.contains("3  pg_dump"), "{help}");
    }
}

#[test]
fn a_sqlite_backup_restores_into_a_new_file_and_never_over_data() {
    // About SQLite files: SQLite on the PostgreSQL run too.
    let tmp = TempDir::sqlite();
    let out = uketsuke(&tmp, &["demo", "load"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let file = tmp.path().join("b.sqlite");
    let out = uketsuke(&tmp, &["backup", "--out", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let summary = json(&out);
    assert_eq!(summary["backend"], "sqlite");
    let requests = summary["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["table"] == "reception_requests")
        .map(|t| t["rows"].as_u64().unwrap())
        .unwrap();
    assert!(requests > 0);
    assert!(stderr(&out).contains("バックアップを"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "only the owner reads a backup: {mode:o}");
    }

    let out = uketsuke(&tmp, &["backup", "--out", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "the file exists");
    assert!(stderr(&out).contains("既にあります"));

    let out = uketsuke(&tmp, &["restore", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("データがあります"),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("reception_requests"));

    let fresh = format!("sqlite://{}/fresh/u.sqlite?mode=rwc", tmp.path().display());
    let out = uketsuke_with(
        &tmp,
        &["restore", file.to_str().unwrap()],
        &[("DATABASE_URL", &fresh)],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let restored = json(&out);
    let rows = restored["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["table"] == "reception_requests")
        .map(|t| t["rows"].as_u64().unwrap());
    assert_eq!(rows, Some(requests));

    // A SQLite backup is not restored into PostgreSQL (refused before connecting).
    let out = uketsuke_with(
        &tmp,
        &["restore", file.to_str().unwrap()],
        &[("DATABASE_URL", "postgres://u@127.0.0.1:1/none")],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("SQLite のバックアップ"));
}

#[test]
fn a_postgresql_backup_without_pg_dump_exits_3_and_says_what_to_run() {
    let tmp = TempDir::new();
    let empty_path = tmp.path().join("bin");
    std::fs::create_dir_all(&empty_path).unwrap();
    let out = uketsuke_with(
        &tmp,
        &["backup", "--out", "/nonexistent-folder/uketsuke.dump"],
        &[
            (
                "DATABASE_URL",
                "postgres://uketsuke:s3cret@db.internal:5432/uketsuke",
            ),
            ("PATH", empty_path.to_str().unwrap()),
        ],
    );
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let message = stderr(&out);
    assert!(
        message.contains(
            "pg_dump --format=custom --no-owner --no-privileges --file /nonexistent-folder/uketsuke.dump 'postgres://uketsuke@db.internal:5432/uketsuke'"
        ),
        "{message}"
    );
    assert!(!message.contains("s3cret"), "no password in the message");
    assert!(message.contains("PGPASSWORD"));
}

/// `GET path` over a plain TCP connection; (status, body).
fn get(addr: &str, path: &str, headers: &[(&str, &str)]) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).unwrap();
    let mut request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        request.push_str(&format!("{k}: {v}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

/// A child process killed when dropped, so a failing assertion leaves no server behind.
struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn serve_writes_json_logs_and_guards_metrics_with_its_token() {
    let tmp = TempDir::new();
    let token = "metrics-token-for-the-test-0123456789";
    // On this test's own database (PostgreSQL with TEST_DATABASE_URL).
    let child = common::command(&tmp, &["serve", "--bind", "127.0.0.1:0"])
        .env("UKETSUKE_LOG_FORMAT", "json")
        .env("RUST_LOG", "info")
        .env("UKETSUKE_METRICS__TOKEN", token)
        .env("UKETSUKE_SCHEDULE__TICK_SECS", "5")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut child = Killed(child);
    let (lines_tx, lines_rx) = std::sync::mpsc::channel::<String>();
    let stderr_pipe = child.0.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr_pipe).lines().map_while(Result::ok) {
            let _ = lines_tx.send(line);
        }
    });
    let mut lines = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    let addr = loop {
        let line = lines_rx
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .unwrap_or_else(|_| panic!("serve did not log 'listening': {lines:?}"));
        let event: serde_json::Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("a log line is not JSON ({e}): {line}"));
        lines.push(line);
        if event["message"] == "listening" {
            break event["addr"].as_str().unwrap().to_owned();
        }
    };

    let (status, _) = get(&addr, "/metrics", &[]);
    assert_eq!(status, 401, "no token");
    let (status, _) = get(&addr, "/metrics", &[("Authorization", "Bearer wrong")]);
    assert_eq!(status, 401, "a wrong token");
    let bearer = format!("Bearer {token}");
    let (status, body) = get(&addr, "/metrics", &[("Authorization", &bearer)]);
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("uketsuke_scheduler_enabled 1"), "{body}");
    assert!(
        body.contains(
            "uketsuke_http_requests_total{method=\"GET\",route=\"/metrics\",status=\"4xx\"} 2"
        ),
        "{body}"
    );
    let (status, body) = get(&addr, "/healthz", &[]);
    assert_eq!(status, 200);
    let health: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(health["scheduler"]["running"], true, "{health}");
    assert_eq!(health["status"], "ok", "{health}");
    let (status, _) = get(&addr, "/login", &[]);
    assert_eq!(status, 200);

    drop(child);
    lines.extend(lines_rx.try_iter());
    for line in &lines {
        let event: serde_json::Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("a log line is not JSON ({e}): {line}"));
        assert!(
            event["timestamp"].is_string() && event["level"].is_string(),
            "{line}"
        );
        assert!(!line.contains(token), "the token is never logged");
    }
}
