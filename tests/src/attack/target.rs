//! The target: a database of the run's own, and the real `uketsuke` binary started,
//! run and killed as a separate process against it (`serve`, `import`, `outbox send`).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use sea_orm::{ConnectionTrait, DatabaseConnection};

/// Which database the run attacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        }
    }
}

/// A fresh database: a SQLite file in the run's folder, or `attack_<random>` on the
/// PostgreSQL server, dropped by [`Database::drop_now`].
pub struct Database {
    pub url: String,
    pub backend: Backend,
    admin_url: Option<String>,
    name: String,
}

impl Database {
    pub async fn create(backend: Backend, pg_url: &str, dir: &Path) -> anyhow::Result<Self> {
        let id = uuid::Uuid::new_v4().simple().to_string();
        match backend {
            Backend::Sqlite => {
                let path = dir.join(format!("attack-{}.sqlite", &id[..8]));
                Ok(Self {
                    url: format!("sqlite://{}?mode=rwc", path.display()),
                    backend,
                    admin_url: None,
                    name: path.display().to_string(),
                })
            }
            Backend::Postgres => {
                let name = format!("attack_{}", &id[..12]);
                let admin = sea_orm::Database::connect(pg_url)
                    .await
                    .with_context(|| format!("PostgreSQL ({pg_url}) に接続できません"))?;
                admin
                    .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                    .await?;
                let _ = admin.close().await;
                Ok(Self {
                    url: replace_database(pg_url, &name),
                    backend,
                    admin_url: Some(pg_url.to_owned()),
                    name,
                })
            }
        }
    }

    /// Another handle on the same database (dropping stays with the owner's
    /// [`Database::drop_now`]).
    pub fn handle(&self) -> Self {
        Self {
            url: self.url.clone(),
            backend: self.backend,
            admin_url: None,
            name: self.name.clone(),
        }
    }

    /// Drops the PostgreSQL database (a SQLite file goes with the run's folder).
    pub async fn drop_now(&self) {
        if let Some(admin_url) = &self.admin_url
            && let Ok(admin) = sea_orm::Database::connect(admin_url.as_str()).await
        {
            let _ = admin
                .execute_unprepared(&format!(
                    "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                    self.name
                ))
                .await;
            let _ = admin.close().await;
        }
    }

    /// A pool of our own on it, for setting up and counting (never for attacking).
    pub async fn connect(&self) -> anyhow::Result<DatabaseConnection> {
        Ok(uketsuke_store::db::connect(&self.url, 4).await?)
    }
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

/// How to run the binary: where it is, the configuration and the environment.
#[derive(Clone)]
pub struct Binary {
    pub path: PathBuf,
    pub config_dir: PathBuf,
    /// The working folder (temporary files of the run).
    pub dir: PathBuf,
}

impl Binary {
    /// A command for `uketsuke ARGS` on `db`, mail to `smtp_port`, the scheduler off and
    /// the built-in dispatcher idle (the suite starts dispatchers itself).
    pub fn command(&self, db: &str, smtp_port: u16, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.path);
        cmd.args(args)
            .current_dir(&self.dir)
            .env("UKETSUKE_CONFIG_DIR", &self.config_dir)
            .env("DATABASE_URL", db)
            .env("UKETSUKE_SMTP__PORT", smtp_port.to_string())
            .env("UKETSUKE_SMTP__TIMEOUT_SECS", "5")
            .env("UKETSUKE_SCHEDULE__ENABLED", "false")
            .env("UKETSUKE_OUTBOX__POLL_SECS", "86400")
            .env("UKETSUKE_OUTBOX__BASE_DELAY_SECS", "1")
            .env_remove("UKETSUKE_ENV")
            .env_remove("RUST_LOG")
            .stdin(Stdio::null());
        cmd
    }

    /// Runs `uketsuke ARGS` to the end.
    pub fn run(&self, db: &str, smtp_port: u16, args: &[&str]) -> anyhow::Result<Output> {
        self.command(db, smtp_port, args)
            .output()
            .with_context(|| format!("{} を実行できません", self.path.display()))
    }
}

/// A running `uketsuke serve`.
pub struct Server {
    pub child: Child,
    pub base_url: String,
    /// Everything it wrote to stderr so far (its log).
    pub log: Arc<Mutex<String>>,
}

impl Server {
    /// Starts `serve` on a random port and waits until `/healthz` answers.
    pub fn start(bin: &Binary, db: &str, smtp_port: u16) -> anyhow::Result<Self> {
        Self::start_with(bin, db, smtp_port, &[])
    }

    /// As [`Server::start`], with extra environment variables.
    pub fn start_with(
        bin: &Binary,
        db: &str,
        smtp_port: u16,
        env: &[(&str, &str)],
    ) -> anyhow::Result<Self> {
        let mut cmd = bin.command(db, smtp_port, &["serve", "--bind", "127.0.0.1:0"]);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .context("uketsuke serve を起動できません")?;
        let stderr = child.stderr.take().context("stderr")?;
        let log = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = std::sync::mpsc::channel::<String>();
        let sink = log.clone();
        std::thread::spawn(move || {
            let marker = "uketsuke: http://";
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(rest) = line.split(marker).nth(1)
                    && let Some(addr) = rest.split('/').next()
                {
                    let _ = tx.send(addr.to_owned());
                }
                if let Ok(mut l) = sink.lock() {
                    l.push_str(&line);
                    l.push('\n');
                }
            }
        });
        let addr = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(a) => a,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                let log = log.lock().map(|l| l.clone()).unwrap_or_default();
                bail!("uketsuke serve が起動しませんでした:\n{log}");
            }
        };
        Ok(Self {
            child,
            base_url: format!("http://{addr}"),
            log,
        })
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `VmRSS` and `VmHWM` (peak) of the process, in KiB.
    pub fn memory_kib(&self) -> (u64, u64) {
        memory_kib(self.pid())
    }

    /// Resets the high-water mark (`VmHWM`) to the current RSS, so that the next
    /// reading is the peak of what follows.
    pub fn reset_peak(&self) {
        let _ = std::fs::write(format!("/proc/{}/clear_refs", self.pid()), "5");
    }

    /// The log so far.
    pub fn log(&self) -> String {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// `kill -9`.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// `VmRSS` and `VmHWM` of a process, in KiB (0 when unreadable).
pub fn memory_kib(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// Waits for a child with a deadline; kills it when the deadline passes.
pub fn wait_with_deadline(child: &mut Child, limit: Duration) -> Option<std::process::ExitStatus> {
    let start = Instant::now();
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
