#![allow(dead_code)] // each test binary uses a different subset
//! Helpers for running the real `uketsuke` binary.
//!
//! Each test gets a folder of its own ([`TempDir`]) and a database of its own: a SQLite
//! file in that folder, or — when `TEST_DATABASE_URL` names a PostgreSQL server — a
//! fresh database `uk_cli_<uuid>` created through that URL on first use and dropped
//! with the folder. The binary is given it as `DATABASE_URL`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

use sea_orm::{ConnectionTrait, Database};

/// The workspace's `config/` folder.
pub fn config_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../config"))
}

/// The PostgreSQL server the tests run on, if `TEST_DATABASE_URL` names one.
pub fn postgres_server() -> Option<String> {
    std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|u| u.starts_with("postgres"))
}

/// A temporary folder and a database of a test's own, both removed on drop.
pub struct TempDir {
    path: PathBuf,
    database: OnceLock<String>,
}

impl TempDir {
    pub fn new() -> Self {
        let dir =
            std::env::temp_dir().join(format!("uketsuke-cli-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        Self {
            path: dir,
            database: OnceLock::new(),
        }
    }

    /// A folder with a SQLite database whatever `TEST_DATABASE_URL` says: for the tests
    /// that are about SQLite files themselves (a backup into a `.sqlite` file).
    pub fn sqlite() -> Self {
        let tmp = Self::new();
        let url = format!("sqlite://{}/uketsuke.sqlite?mode=rwc", tmp.path.display());
        let _ = tmp.database.set(url);
        tmp
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the binary runs on PostgreSQL here.
    pub fn is_postgres(&self) -> bool {
        postgres_server().is_some()
    }

    /// This test's database URL, created on first use.
    pub fn database_url(&self) -> &str {
        self.database.get_or_init(|| match postgres_server() {
            Some(server) => {
                let name = format!("uk_cli_{}", uuid::Uuid::new_v4().simple());
                on_server(&server, &format!("CREATE DATABASE \"{name}\""));
                replace_database(&server, &name)
            }
            None => format!("sqlite://{}/uketsuke.sqlite?mode=rwc", self.path.display()),
        })
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if let (Some(server), Some(url)) = (postgres_server(), self.database.get())
            && url.starts_with("postgres")
            && let Some(name) = url.rsplit('/').next()
        {
            let name = name.split('?').next().unwrap_or(name);
            on_server(
                &server,
                &format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"),
            );
        }
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// Runs one statement on the server's maintenance database, on a thread and runtime of
/// its own (the CLI tests are synchronous).
fn on_server(server: &str, sql: &str) {
    let (server, sql) = (server.to_owned(), sql.to_owned());
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let admin = Database::connect(&server)
                .await
                .unwrap_or_else(|e| panic!("TEST_DATABASE_URL ({server}) must be reachable: {e}"));
            admin
                .execute_unprepared(&sql)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
            let _ = admin.close().await;
        });
    })
    .join()
    .unwrap();
}

/// The first column of every row `sql` returns from the database at `url`, as text.
pub fn query_texts(url: &str, sql: &str) -> Vec<String> {
    let (url, sql) = (url.to_owned(), sql.to_owned());
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let db = Database::connect(&url).await.unwrap();
            let rows = db
                .query_all_raw(sea_orm::Statement::from_string(
                    db.get_database_backend(),
                    sql,
                ))
                .await
                .unwrap();
            let texts = rows
                .iter()
                .map(|row| row.try_get_by_index::<String>(0).unwrap())
                .collect();
            let _ = db.close().await;
            texts
        })
    })
    .join()
    .unwrap()
}

/// `postgres://user@host:port/db?x` with its database replaced by `name`.
fn replace_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let authority_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let base = match base[authority_end..].find('/') {
        Some(slash) => &base[..authority_end + slash],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

/// The binary, with the workspace config and this test's database.
pub fn command(tmp: &TempDir, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_uketsuke"));
    cmd.args(args)
        .current_dir(tmp.path())
        .env("UKETSUKE_CONFIG_DIR", config_dir())
        .env_remove("UKETSUKE_ENV")
        .env_remove("RUST_LOG")
        .env("DATABASE_URL", tmp.database_url());
    cmd
}

/// Runs `uketsuke ARGS` with the workspace config and a database of its own.
pub fn uketsuke(tmp: &TempDir, args: &[&str]) -> Output {
    uketsuke_with(tmp, args, &[])
}

/// As [`uketsuke`], with extra environment variables.
pub fn uketsuke_with(tmp: &TempDir, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = command(tmp, args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

/// As [`uketsuke`], with `stdin` written to the binary's standard input.
pub fn uketsuke_stdin(tmp: &TempDir, args: &[&str], stdin: &str) -> Output {
    use std::io::Write;
    let mut child = command(tmp, args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

/// Standard output as text.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Standard error as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Standard output parsed as JSON.
pub fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}\nstderr: {}",
            stdout(o),
            stderr(o)
        )
    })
}
