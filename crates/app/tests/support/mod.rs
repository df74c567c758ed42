#![allow(dead_code)] // each test binary uses a different subset
//! Helpers for tests that run the real `uketsuke serve`: a server process with its log
//! captured, a PostgreSQL database of a test's own, and the end-to-end kit's SMTP sink
//! (the same file, included here so the binary's tests need no dependency on it).

#[path = "../../../../tests/src/smtp.rs"]
pub mod smtp;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, Database};

/// The workspace's `config/` folder.
pub fn config_dir() -> std::path::PathBuf {
    std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../config"))
}

/// A running `uketsuke serve` (the built binary), killed when dropped.
pub struct Server {
    child: Child,
    log: Arc<Mutex<String>>,
}

impl Server {
    /// Starts `uketsuke serve --bind 127.0.0.1:0` in `cwd` with `env` (and the
    /// workspace's config), capturing its standard error.
    pub fn start(cwd: &Path, env: &[(&str, String)]) -> Self {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_uketsuke"));
        cmd.args(["serve", "--bind", "127.0.0.1:0"])
            .current_dir(cwd)
            .env("UKETSUKE_CONFIG_DIR", config_dir())
            .env("NO_COLOR", "1")
            .env_remove("UKETSUKE_ENV")
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("the uketsuke binary starts");
        let log = Arc::new(Mutex::new(String::new()));
        let stderr = child.stderr.take().expect("stderr is piped");
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if let Ok(mut l) = sink.lock() {
                    l.push_str(&strip_ansi(&line));
                    l.push('\n');
                }
            }
        });
        Self { child, log }
    }

    /// Everything the server wrote to standard error so far.
    pub fn log(&self) -> String {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// Waits until the server says where it listens; returns its base URL.
    pub async fn ready(&mut self, within: Duration) -> String {
        let started = Instant::now();
        loop {
            let log = self.log();
            if let Some(at) = log.find("http://")
                && let Some(end) = log[at..].find("/ で待ち受けています")
            {
                return log[at..at + end].to_owned();
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("uketsuke serve exited ({status}):\n{log}");
            }
            assert!(
                started.elapsed() < within,
                "uketsuke serve did not come up in {within:?}:\n{log}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// A fresh PostgreSQL database on the server of `TEST_DATABASE_URL`, named
/// `{prefix}_{uuid}`, dropped when this is dropped.
pub struct PgDatabase {
    pub url: String,
    admin_url: String,
    name: String,
}

impl PgDatabase {
    /// `None` (with a line saying so) when `TEST_DATABASE_URL` is not set.
    pub async fn create(prefix: &str, test: &str) -> Option<Self> {
        let Some(admin_url) = std::env::var("TEST_DATABASE_URL")
            .ok()
            .filter(|u| u.starts_with("postgres"))
        else {
            eprintln!(
                "SKIPPED: {test} needs PostgreSQL: set TEST_DATABASE_URL=postgres://… (.ci/run does)"
            );
            return None;
        };
        let name = format!("{prefix}_{}", uuid::Uuid::new_v4().simple());
        let admin = Database::connect(&admin_url)
            .await
            .unwrap_or_else(|e| panic!("TEST_DATABASE_URL ({admin_url}) must be reachable: {e}"));
        admin
            .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
            .await
            .unwrap_or_else(|e| panic!("cannot create {name}: {e}"));
        let _ = admin.close().await;
        let url = match admin_url.rsplit_once('/') {
            Some((base, _)) if base.contains("://") && base.len() > "postgres://".len() => {
                format!("{base}/{name}")
            }
            _ => format!("{admin_url}/{name}"),
        };
        Some(Self {
            url,
            admin_url,
            name,
        })
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async {
                if let Ok(admin) = Database::connect(&admin_url).await {
                    let _ = admin
                        .execute_unprepared(&format!(
                            "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                        ))
                        .await;
                    let _ = admin.close().await;
                }
            });
        })
        .join();
    }
}

/// A client that keeps cookies (across ports: cookies ignore the port) and does not
/// follow redirects.
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .build()
        .expect("client")
}

/// The value of `name="csrf"` in a page.
pub fn csrf_of(page: &str) -> String {
    let at = page
        .find("name=\"csrf\" value=\"")
        .unwrap_or_else(|| panic!("no csrf field in:\n{page}"));
    let rest = &page[at + "name=\"csrf\" value=\"".len()..];
    rest[..rest.find('"').unwrap_or(0)].to_owned()
}

/// Signs in on `base` with `client` (GET the form, POST it); panics unless it worked.
pub async fn login(client: &reqwest::Client, base: &str, username: &str, password: &str) {
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
    assert_eq!(
        response
            .headers()
            .get("location")
            .map(|l| l.to_str().unwrap_or_default()),
        Some("/dashboard"),
        "login of {username} on {base}"
    );
}
