//! `attack`: the attack and fault suite against a running `uketsuke` binary (see
//! `scripts/attack` and SECURITY.md). For each database it makes a fresh database,
//! starts `uketsuke serve` as a child process with it, attacks, and prints the table
//! `| attack | tries | held |`. Exits 1 if any line did not hold.

#[path = "../attack/mod.rs"]
mod attack;

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::process::ExitCode;
use std::time::Instant;

use attack::target::{Backend, Binary, Database, Server};
use attack::{Ctx, Report, Tally};
use clap::Parser;

/// The attack and fault suite (攻撃・障害試験).
#[derive(Debug, Parser)]
#[command(name = "attack")]
struct Args {
    /// The `uketsuke` binary to attack (built beforehand).
    #[arg(long)]
    bin: PathBuf,
    /// sqlite, postgres or both.
    #[arg(long, default_value = "both")]
    db: String,
    /// The quick subset (CI): fewer rounds and smaller files.
    #[arg(long)]
    fast: bool,
    /// The PostgreSQL server (a database `attack_<random>` is made on it and dropped).
    #[arg(
        long,
        env = "ATTACK_DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/postgres"
    )]
    pg_url: String,
    /// Run only the attacks whose name contains this.
    #[arg(long)]
    only: Option<String>,
}

type Attack = for<'a> fn(&'a Ctx) -> Pin<Box<dyn Future<Output = anyhow::Result<Tally>> + 'a>>;

macro_rules! attacks {
    ($($name:literal => $f:path),* $(,)?) => {
        vec![$(($name, (|ctx| Box::pin($f(ctx))) as Attack)),*]
    };
}

fn list() -> Vec<(&'static str, Attack)> {
    attacks![
        "unauthenticated access to every route (pages, forms, API)" => attack::access::unauthenticated,
        "role escalation (viewer, clerk posting approver/admin actions)" => attack::access::role_escalation,
        "cross-bureau access (pages, documents, actions, API, lists)" => attack::access::cross_bureau,
        "office boundary (東京事務所 account on a 千葉 case; counts)" => attack::access::office_boundary,
        "CSRF (every POST without, with a forged or another session's token)" => attack::access::csrf,
        "XSS (markup in names and inputs, every page showing them)" => attack::input::xss,
        "SQL injection (every search/filter parameter, path, login)" => attack::input::sql_injection,
        "header and path injection (CR/LF, ../)" => attack::input::header_and_path_injection,
        "NUL byte (search, entry form, accounts, login, API) → 422" => attack::input::nul,
        "plain refusals (re-send of a queued mail, import --office nosuchoffice)" => attack::input::plain_refusals,
        "CSV formula injection (case list UTF-8/Shift_JIS, 一覧表 export)" => attack::input::csv_injection,
        "lifecycle races via API (each action twice at once)" => attack::races::lifecycle_api,
        "lifecycle races via pages (two users, two tabs, no version)" => attack::races::lifecycle_pages,
        "duplicate submissions (entry form, API, upload confirm N at once)" => attack::races::duplicates,
        "login: 40 wrong passwords in parallel, then the right one" => attack::login::parallel_wrong_passwords,
        "login: per-address throttle (429 after 20, X-Forwarded-For)" => attack::login::throttle,
        "login: locked / unknown / wrong password answer alike" => attack::login::same_answer,
        "login: anonymous visits write no session row" => attack::login::anonymous_sessions,
        "hostile files (zip bomb, XXE, entity bomb, encrypted, corrupt, not xlsx)" => attack::files::hostile,
        "one huge cell, once and 4 at once (plain refusal, server memory)" => attack::files::huge_cell_uploads,
        "oversized bodies (413 ファイルが大きすぎます, import /dev/zero)" => attack::files::oversized,
        "two (three) dispatchers at once: each mail once" => attack::faults::two_dispatchers,
        "SMTP down then up: mail stays queued, goes out once" => attack::faults::smtp_outage,
        "kill -9 mid-import: all or none, then once" => attack::faults::kill_mid_import,
        "kill -9 mid-dispatch: none lost, none sent twice after restart" => attack::faults::kill_mid_dispatch,
        "no personal data in the server's log" => attack::input::personal_data_in_log,
    ]
}

async fn run(args: &Args, backend: Backend, bin: &Binary) -> anyhow::Result<Report> {
    let db = Database::create(backend, &args.pg_url, &bin.dir).await?;
    let outcome = run_on(args, backend, bin, &db).await;
    db.drop_now().await;
    outcome
}

async fn run_on(
    args: &Args,
    backend: Backend,
    bin: &Binary,
    db: &Database,
) -> anyhow::Result<Report> {
    let smtp = uketsuke_tests::smtp::SmtpSink::start().await;
    let server = Server::start(bin, &db.url, smtp.port)?;
    eprintln!(
        "{}: uketsuke serve (pid {}) at {}",
        backend.name(),
        server.pid(),
        server.base_url
    );
    let pool = db.connect().await?;
    let world = attack::world::World::create(&pool, &server.base_url).await?;
    let ctx = Ctx {
        bin: bin.clone(),
        db: db.handle(),
        pool,
        server,
        smtp,
        world,
        fast: args.fast,
    };
    let mut report = Report::default();
    for (name, f) in list() {
        if args.only.as_deref().is_some_and(|o| !name.contains(o)) {
            continue;
        }
        let started = Instant::now();
        let outcome = f(&ctx).await;
        report.add(name, outcome, started.elapsed().as_secs_f64());
    }
    if args
        .only
        .as_deref()
        .is_none_or(|o| "instances started at the same moment".contains(o))
    {
        let started = Instant::now();
        let outcome = attack::faults::simultaneous_start(&ctx, &args.pg_url).await;
        report.add(
            "2–3 instances started at the same moment on an empty database",
            outcome,
            started.elapsed().as_secs_f64(),
        );
    }
    if std::env::var_os("ATTACK_SHOW_LOG").is_some() {
        eprintln!("--- the server's log ---\n{}", ctx.server.log());
    }
    let _ = ctx.pool.close().await;
    Ok(report)
}

fn main() -> ExitCode {
    let args = Args::parse();
    let backends = match args.db.as_str() {
        "sqlite" => vec![Backend::Sqlite],
        "postgres" => vec![Backend::Postgres],
        "both" => vec![Backend::Sqlite, Backend::Postgres],
        other => {
            eprintln!("--db は sqlite・postgres・both のいずれかです（{other}）");
            return ExitCode::from(2);
        }
    };
    let Ok(bin_path) = std::fs::canonicalize(&args.bin) else {
        eprintln!(
            "uketsuke の実行ファイル {} がありません",
            args.bin.display()
        );
        return ExitCode::from(2);
    };
    let dir =
        std::env::temp_dir().join(format!("uketsuke-attack-{}", uuid::Uuid::new_v4().simple()));
    if let Err(e) = std::fs::create_dir_all(&dir) {
        eprintln!("{}: {e}", dir.display());
        return ExitCode::from(2);
    }
    let bin = Binary {
        path: bin_path,
        config_dir: PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../config")),
        dir: dir.clone(),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let started = Instant::now();
    let mut tables = String::new();
    let mut all_held = true;
    for backend in backends {
        let t0 = Instant::now();
        let title = format!(
            "{} — {}{}",
            backend.name(),
            bin.path.display(),
            if args.fast { " (--fast)" } else { "" }
        );
        match runtime.block_on(run(&args, backend, &bin)) {
            Ok(report) => {
                all_held &= report.all_held();
                tables.push_str(
                    &report.table(&format!("{title}, {:.0} s", t0.elapsed().as_secs_f64())),
                );
            }
            Err(e) => {
                all_held = false;
                tables.push_str(&format!(
                    "\n### {title}\n\nthe suite could not start: {e:#}\n"
                ));
            }
        }
    }
    runtime.shutdown_timeout(std::time::Duration::from_secs(5));
    let _ = std::fs::remove_dir_all(&dir);
    println!("{tables}");
    println!("wall time: {:.0} s", started.elapsed().as_secs_f64());
    if all_held {
        ExitCode::SUCCESS
    } else {
        println!("NOT every attack held.");
        ExitCode::from(1)
    }
}
