#![allow(dead_code)] // each test binary uses a different subset
//! Helpers for running the real `uketsuke` binary.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The workspace's `config/` folder.
pub fn config_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../config"))
}

/// A temporary folder removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new() -> Self {
        let dir =
            std::env::temp_dir().join(format!("uketsuke-cli-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `uketsuke ARGS` with the workspace config and a database of its own under `tmp`.
pub fn uketsuke(tmp: &TempDir, args: &[&str]) -> Output {
    uketsuke_with(tmp, args, &[])
}

/// As [`uketsuke`], with extra environment variables.
pub fn uketsuke_with(tmp: &TempDir, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_uketsuke"));
    cmd.args(args)
        .current_dir(tmp.path())
        .env("UKETSUKE_CONFIG_DIR", config_dir())
        .env_remove("UKETSUKE_ENV")
        .env_remove("RUST_LOG");
    // Tests choose the database: PostgreSQL is only used through TEST_DATABASE_URL
    // by the end-to-end crate; the CLI tests use SQLite files.
    cmd.env(
        "DATABASE_URL",
        format!("sqlite://{}/uketsuke.sqlite?mode=rwc", tmp.path().display()),
    );
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
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
