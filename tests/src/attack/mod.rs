//! The attack and fault suite (`scripts/attack`): hostile requests, races and faults
//! against a separately running `uketsuke` binary with a database of its own. Each
//! attack counts its tries and says whether the system held; the table is the result.
//!
//! - [`target`]: the database, the binary, `serve` as a child process (kill -9, memory);
//! - [`client`]: a browser (cookies, CSRF) and an API client;
//! - [`world`]: the accounts, tokens and cases every attack starts from;
//! - [`access`]: unauthenticated, role, bureau and office boundaries, CSRF;
//! - [`input`]: XSS, SQL/header/path injection, NUL, CSV formulas, personal data in logs;
//! - [`login`]: lockout, throttle, same answers, no session rows for anonymous visitors;
//! - [`files`]: hostile workbooks, one huge cell (server memory), 413, `/dev/zero`;
//! - [`races`]: lifecycle actions twice at once, double submissions;
//! - [`faults`]: two dispatchers, SMTP outage, kill -9 mid-import and mid-dispatch,
//!   instances starting together on an empty database.

pub mod access;
pub mod client;
pub mod faults;
pub mod files;
pub mod input;
pub mod login;
pub mod races;
pub mod target;
pub mod world;

use std::fmt::Write as _;

/// One attack's count: every hostile try, and what did not hold.
#[derive(Debug, Default)]
pub struct Tally {
    pub tries: u32,
    pub failures: Vec<String>,
}

impl Tally {
    pub fn new() -> Self {
        Self::default()
    }

    /// One try: held when `held`, else `why` is recorded.
    pub fn check(&mut self, held: bool, why: impl FnOnce() -> String) {
        self.tries += 1;
        if !held {
            self.failures.push(why());
        }
    }

    /// A try whose attempt itself failed (the request could not be made).
    pub fn error(&mut self, e: &anyhow::Error) {
        self.tries += 1;
        self.failures.push(format!("{e:#}"));
    }
}

/// One line of the table.
#[derive(Debug)]
pub struct Line {
    pub attack: String,
    pub tries: u32,
    /// `None` when it held; else the first reason (and how many more).
    pub failure: Option<String>,
    pub seconds: f64,
}

/// The table of one run.
#[derive(Debug, Default)]
pub struct Report {
    pub lines: Vec<Line>,
}

impl Report {
    /// Records an attack's tally (or the error that stopped it).
    pub fn add(&mut self, attack: &str, outcome: anyhow::Result<Tally>, seconds: f64) {
        // Every reason goes to stderr (the first ten), the first into the table.
        let failures: Vec<String> = match &outcome {
            Ok(t) => t.failures.iter().take(10).cloned().collect(),
            Err(e) => vec![format!("could not run: {e:#}")],
        };
        let line = match outcome {
            Ok(t) if t.tries == 0 => Line {
                attack: attack.to_owned(),
                tries: 0,
                failure: Some("no try was made".to_owned()),
                seconds,
            },
            Ok(t) => {
                let failure = t.failures.first().map(|first| {
                    let more = t.failures.len() - 1;
                    if more > 0 {
                        format!("{first} (+{more} more)")
                    } else {
                        first.clone()
                    }
                });
                Line {
                    attack: attack.to_owned(),
                    tries: t.tries,
                    failure,
                    seconds,
                }
            }
            Err(e) => Line {
                attack: attack.to_owned(),
                tries: 0,
                failure: Some(format!("could not run: {e:#}")),
                seconds,
            },
        };
        let held = if line.failure.is_none() { "yes" } else { "NO" };
        eprintln!(
            "  {held:<3} {} ({} tries, {:.1} s)",
            line.attack, line.tries, line.seconds
        );
        for f in &failures {
            eprintln!("      {f}");
        }
        self.lines.push(line);
    }

    pub fn all_held(&self) -> bool {
        self.lines.iter().all(|l| l.failure.is_none())
    }

    /// The table, as Markdown.
    pub fn table(&self, title: &str) -> String {
        let mut out = format!("\n### {title}\n\n| attack | tries | held |\n|---|---:|---|\n");
        for l in &self.lines {
            let held = match &l.failure {
                None => "yes".to_owned(),
                Some(f) => {
                    let short: String = f
                        .replace('|', "/")
                        .replace('\n', " ")
                        .chars()
                        .take(200)
                        .collect();
                    format!("NO: {short}")
                }
            };
            let _ = writeln!(out, "| {} | {} | {held} |", l.attack, l.tries);
        }
        let held = self.lines.iter().filter(|l| l.failure.is_none()).count();
        let _ = writeln!(out, "\n{held} of {} held.", self.lines.len());
        out
    }
}

/// The shared state of one run against one database.
pub struct Ctx {
    pub bin: target::Binary,
    pub db: target::Database,
    pub pool: sea_orm::DatabaseConnection,
    pub server: target::Server,
    pub smtp: uketsuke_tests::smtp::SmtpSink,
    pub world: world::World,
    /// The quick subset (CI).
    pub fast: bool,
}

impl Ctx {
    /// A browser on the running server.
    pub fn browser(&self) -> client::Browser {
        client::Browser::new(&self.server.base_url)
    }

    /// A browser signed in as one of the world's accounts.
    pub async fn signed_in(&self, username: &str) -> anyhow::Result<client::Browser> {
        let b = self.browser();
        b.login_ok(username, &world::password(username)).await?;
        Ok(b)
    }

    /// The API as one of the world's accounts.
    pub fn api(&self, username: &str) -> client::Api {
        client::Api::new(&self.server.base_url, self.world.token(username))
    }
}
