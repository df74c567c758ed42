//! The command line (コマンド): what the bureau's IT staff and scripts run. Every
//! command reads its inputs through the same domain parsers as the web forms, so a
//! wrong date or code reads the same everywhere. Machine-readable output is JSON on
//! stdout; messages for people go to stderr.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use chrono::NaiveDate;
use clap::{Args, Parser, Subcommand, ValueEnum};
use serde_json::json;
use uketsuke_domain::{FeeSchedule, InstitutionCode, Prefecture, RequestKind};
use uketsuke_rules::eligibility::{self, RequestFacts};
use uketsuke_store::audit::Actor;
use uketsuke_store::issuance::{self, District, IssueOptions};

use crate::settings::Settings;
use crate::startup;

/// uketsuke — 受付番号の交付事務を支援するシステム (issues 受付番号 to facilities
/// about to be designated as 保険医療機関・保険薬局).
#[derive(Debug, Parser)]
#[command(name = "uketsuke", version, about, long_about = None)]
pub struct Cli {
    /// The configuration folder (default: ./config, or UKETSUKE_CONFIG_DIR).
    #[arg(
        long,
        global = true,
        env = "UKETSUKE_CONFIG_DIR",
        default_value = "config"
    )]
    pub config: PathBuf,
    /// The local settings folder (ローカル設定: local.toml and bureaus/{id}.toml),
    /// layered over the shipped config and never overwritten by an upgrade
    /// (default: ./local when it exists, or UKETSUKE_LOCAL_DIR).
    #[arg(long, global = true, env = "UKETSUKE_LOCAL_DIR")]
    pub local_dir: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start the web server (creates and migrates the database if needed).
    Serve(ServeArgs),
    /// Apply, revert or list database migrations.
    Migrate {
        #[command(subcommand)]
        action: MigrateAction,
    },
    /// Check a 医療機関等コード / 受付番号, or find the next free one.
    Code {
        #[command(subcommand)]
        action: CodeAction,
    },
    /// The bureau's calendar of open and closed days.
    Calendar {
        #[command(subcommand)]
        action: CalendarAction,
    },
    /// Deadlines for a designation date: 提出期限, 回答期限, 実施機関への提出期限.
    Due(DueArgs),
    /// The published schedule (日程表) of a bureau and year: each month's designation
    /// date with its deadlines, as JSON (the rows `due` prints), .xlsx or the public
    /// page's HTML.
    Schedule(ScheduleArgs),
    /// Check the configuration and print what is in effect (secrets hidden).
    Config {
        #[command(subcommand)]
        action: ConfigAction,
    },
    /// Import request forms (別紙1) and monthly lists, or with --registry the bureaus'
    /// lists of existing codes. Exit 0 when every file is clean, 1 when any has an error.
    Import(ImportArgs),
    /// Write the 新規指定医療機関一覧表 for one council session or a date range, as
    /// .xlsx or CSV (nothing is sent).
    Export(ExportArgs),
    /// Our blank request form (別紙1) as .xlsx.
    Form {
        #[command(subcommand)]
        action: FormAction,
    },
    /// Scheduled jobs: list them, or run one for a period by hand.
    Jobs {
        #[command(subcommand)]
        action: JobsAction,
    },
    /// The email outbox.
    Outbox {
        #[command(subcommand)]
        action: OutboxAction,
    },
    /// Demo and scale data.
    Demo {
        #[command(subcommand)]
        action: DemoAction,
    },
    /// Staff accounts: add, list, unlock, reset-password, disable, enable.
    User {
        #[command(subcommand)]
        action: crate::accounts::UserAction,
    },
    /// API tokens for the JSON API (/api/v1): create (shown once), list, revoke.
    Token {
        #[command(subcommand)]
        action: TokenAction,
    },
    /// Eligibility rules.
    Rules {
        #[command(subcommand)]
        action: RulesAction,
    },
    /// Copy the database to FILE while the server runs (SQLite: VACUUM INTO;
    /// PostgreSQL: pg_dump --format=custom). FILE must not exist yet.
    #[command(after_help = crate::backup::EXIT_CODES_HELP)]
    Backup {
        /// Where to write the backup (e.g. /var/backups/uketsuke/2026-11-30.sqlite).
        #[arg(long)]
        out: PathBuf,
    },
    /// Put a backup back into an EMPTY database (a new one, or one `serve` has only
    /// started); a database holding data is refused and left as it was. Stop the server
    /// first.
    #[command(after_help = crate::backup::EXIT_CODES_HELP)]
    Restore {
        /// The file `uketsuke backup` wrote (or a pg_dump in custom or plain format).
        file: PathBuf,
    },
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Load demo data (one bureau, requests in every state) if the database has none.
    #[arg(long)]
    pub demo: bool,
    /// Address to listen on (overrides server.bind), e.g. 127.0.0.1:8080.
    #[arg(long)]
    pub bind: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum MigrateAction {
    /// Apply every pending migration.
    Up,
    /// Revert migrations (the last one by default).
    Down {
        /// How many to revert; 0 reverts all.
        #[arg(long, default_value_t = 1)]
        steps: u32,
    },
    /// List migrations and whether each is applied.
    Status,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The files (.xlsx, .xlsm, .xls, .ods).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Read and check only; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
    /// The files are registries of existing codes (届出受理医療機関名簿,
    /// コード内容別医療機関一覧表).
    #[arg(long)]
    pub registry: bool,
    /// Import the valid rows of a file that has errors (otherwise nothing of it).
    #[arg(long)]
    pub valid_rows: bool,
    /// With --registry: the date of a list whose title does not say 「…現在」
    /// (YYYY-MM-DD; default today). A list that says one uses its own.
    #[arg(long, requires = "registry")]
    pub as_of: Option<String>,
    /// The bureau the requests were sent to (default: app.default_bureau).
    #[arg(long)]
    pub bureau: Option<String>,
    /// The office that received them (its code in the bureau's file).
    #[arg(long)]
    pub office: Option<String>,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// One council session (its id, as `jobs list` and the delivery log show).
    #[arg(long, conflicts_with_all = ["from", "to"])]
    pub session: Option<i32>,
    /// First council date of a range (答申日).
    #[arg(long, requires = "to")]
    pub from: Option<String>,
    /// Last council date of a range.
    #[arg(long, requires = "from")]
    pub to: Option<String>,
    /// Bureau id for a range (default: app.default_bureau).
    #[arg(long)]
    pub bureau: Option<String>,
    /// xlsx or csv.
    #[arg(long, default_value = "xlsx")]
    pub format: String,
    /// For CSV: utf8 (with BOM) or sjis (Shift_JIS).
    #[arg(long, default_value = "utf8")]
    pub encoding: String,
    /// Where to write it.
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum FormAction {
    /// Write our blank 別紙1 (or with --plan our blank 別紙2) to a file.
    Blank {
        /// The 「オンライン資格確認の導入計画書」 (別紙2) instead of the 別紙1.
        #[arg(long)]
        plan: bool,
        /// Where to write it (default: the form's title .xlsx).
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum JobsAction {
    /// List the jobs and their latest runs.
    List,
    /// Run a job for one period (a period already run is not run again).
    Run {
        /// council-export, digest or not-designated-review.
        job: String,
        /// council-export: the council session's id; the others: BUREAU:YYYY-MM-DD
        /// (default: the default bureau, today).
        #[arg(long)]
        period: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum OutboxAction {
    /// Send every message that is due, now. Exit 1 when any message could not be sent.
    Send {
        /// First make this queued message (its id in the delivery log) due now, even if
        /// its next try is later (audited).
        #[arg(long, value_name = "ID")]
        now: Option<i64>,
    },
}

#[derive(Debug, Subcommand)]
pub enum DemoAction {
    /// Load the demo data (one bureau, requests in every state) into an empty database.
    Load,
    /// Fill an empty database with realistic, valid data at scale (benchmarks).
    Generate {
        /// Existing codes in the registry.
        #[arg(long, default_value_t = 250_000)]
        facilities: usize,
        /// Requests (with their facilities and numbers), over ten years.
        #[arg(long, default_value_t = 150_000)]
        requests: usize,
        /// The seed: the same seed gives the same data.
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenAction {
    /// Create a bearer token that acts as USERNAME (its role, bureau and office) and
    /// print it once; only its hash is kept.
    Create {
        /// The staff account the token acts as.
        username: String,
        /// What the token is for (e.g. the tool that uses it).
        #[arg(long, default_value = "")]
        label: String,
    },
    /// List the tokens (never the tokens themselves) as JSON lines.
    List,
    /// Revoke a token by its id; it stops working at once.
    Revoke {
        /// The token's id (see `token list`).
        id: i32,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConfigAction {
    /// Load every configuration file and print the settings in effect as JSON.
    Check,
}

#[derive(Debug, Subcommand)]
pub enum CodeAction {
    /// Check a 10-digit code; prints JSON. Exit 0 valid, 1 wrong check digit, 2 not a code.
    Check {
        /// The code, e.g. 1310110049 (全角 digits and separators are accepted).
        code: String,
    },
    /// Print (or issue) the next free number in a district.
    Next {
        /// 都道府県コード, e.g. 13.
        #[arg(long)]
        prefecture: String,
        /// 点数表: 1 医科, 3 歯科, 4 調剤, 6 訪問看護.
        #[arg(long)]
        fee_schedule: String,
        /// 郡市区番号, 0–99.
        #[arg(long)]
        district: u8,
        /// Only show the number; issue nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum CalendarAction {
    /// Print each closed day in a period: YYYY-MM-DD<TAB>reason.
    Closed {
        #[arg(long)]
        from: String,
        #[arg(long)]
        to: String,
        /// Bureau id (default: app.default_bureau).
        #[arg(long)]
        bureau: Option<String>,
    },
}

#[derive(Debug, Args)]
pub struct DueArgs {
    /// 指定日 (designation date), e.g. 2024-04-01 or 令和6年4月1日.
    #[arg(long)]
    pub designation: String,
    /// Bureau id (default: app.default_bureau).
    #[arg(long)]
    pub bureau: Option<String>,
}

#[derive(Debug, Args)]
pub struct ScheduleArgs {
    /// Bureau id, e.g. kanto-shinetsu.
    #[arg(long)]
    pub bureau: String,
    /// The year (西暦), e.g. 2027.
    #[arg(long)]
    pub year: i32,
    /// json (default), xlsx (needs --out) or html.
    #[arg(long, value_enum, default_value_t = ScheduleFormat::Json)]
    pub format: ScheduleFormat,
    /// Write to FILE instead of stdout.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// The output of `uketsuke schedule`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ScheduleFormat {
    Json,
    Xlsx,
    Html,
}

#[derive(Debug, Subcommand)]
pub enum RulesAction {
    /// Assess a request; prints JSON {eligible, decision, reasons, warnings}.
    Check {
        /// medical (医科), dental (歯科) or pharmacy (薬局).
        #[arg(long, value_enum)]
        kind: KindArg,
        /// 指定希望日.
        #[arg(long)]
        designation: String,
        /// 受付日 (the day the request arrived).
        #[arg(long)]
        received: String,
        /// The designation is backdated (遡及指定).
        #[arg(long)]
        retroactive: bool,
        /// Bureau id (default: app.default_bureau).
        #[arg(long)]
        bureau: Option<String>,
    },
}

/// The kind of a request, as the command line names it.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum KindArg {
    Medical,
    Dental,
    Pharmacy,
}

impl From<KindArg> for RequestKind {
    fn from(k: KindArg) -> Self {
        match k {
            KindArg::Medical => RequestKind::Medical,
            KindArg::Dental => RequestKind::Dental,
            KindArg::Pharmacy => RequestKind::Pharmacy,
        }
    }
}

/// Runs a parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Code {
            action: CodeAction::Check { code },
        } => Ok(code_check(&code)),
        command => {
            let settings = Settings::load_with_local(&cli.config, cli.local_dir.as_deref())?;
            run_with_settings(command, settings).await
        }
    }
}

async fn run_with_settings(command: Command, settings: Settings) -> anyhow::Result<ExitCode> {
    match command {
        Command::Serve(args) => serve(settings, args).await?,
        Command::Migrate { action } => migrate(&settings, action).await?,
        Command::Code {
            action: CodeAction::Check { code },
        } => return Ok(code_check(&code)),
        Command::Code {
            action:
                CodeAction::Next {
                    prefecture,
                    fee_schedule,
                    district,
                    dry_run,
                },
        } => code_next(&settings, &prefecture, &fee_schedule, district, dry_run).await?,
        Command::Calendar {
            action: CalendarAction::Closed { from, to, bureau },
        } => {
            calendar_closed(&settings, &from, &to, bureau.as_deref())?;
        }
        Command::Due(args) => due(&settings, &args)?,
        Command::Schedule(args) => schedule(&settings, &args)?,
        Command::Config {
            action: ConfigAction::Check,
        } => {
            let report = crate::operator::config_report(&settings).await;
            println!("{}", serde_json::to_string_pretty(&report)?);
        }
        Command::Jobs { action } => jobs_command(&settings, action).await?,
        Command::Demo { action } => {
            // Demo data is an explicit choice: it may create the database.
            let db = crate::operator::open_database(&settings, true).await?;
            match action {
                DemoAction::Load => crate::demo::load(&db, &settings).await?,
                DemoAction::Generate {
                    facilities,
                    requests,
                    seed,
                } => {
                    let report =
                        crate::generate::generate(&db, &settings, facilities, requests, seed)
                            .await?;
                    println!("{}", serde_json::to_string(&report)?);
                }
            }
        }
        Command::Import(args) => return import_command(&settings, args).await,
        Command::Backup { out } => return crate::backup::backup(&settings, &out).await,
        Command::Restore { file } => return crate::backup::restore(&settings, &file).await,
        Command::Export(args) => export_command(&settings, args).await?,
        Command::Form {
            action: FormAction::Blank { plan, out },
        } => {
            let (bytes, default_name) = if plan {
                (
                    uketsuke_ingest::blank_plan_xlsx()?,
                    "オンライン資格確認の導入計画書.xlsx",
                )
            } else {
                (
                    uketsuke_ingest::blank_form_xlsx()?,
                    "受付番号情報提供依頼書兼回答書.xlsx",
                )
            };
            let out = out.unwrap_or_else(|| PathBuf::from(default_name));
            std::fs::write(&out, bytes)
                .with_context(|| format!("{} に書き込めません", out.display()))?;
            eprintln!("{} を作成しました", out.display());
        }
        Command::Outbox {
            action: OutboxAction::Send { now },
        } => {
            let db = crate::operator::open_database(&settings, false).await?;
            return crate::operator::outbox_send(&settings, &db, now, &cli_actor()).await;
        }
        Command::Token { action } => token(&settings, action).await?,
        Command::User { action } => {
            let db = crate::operator::open_database(&settings, false).await?;
            crate::accounts::run(&settings, &db, action, &cli_actor()).await?;
        }
        Command::Rules {
            action:
                RulesAction::Check {
                    kind,
                    designation,
                    received,
                    retroactive,
                    bureau,
                },
        } => rules_check(
            &settings,
            kind.into(),
            &designation,
            &received,
            retroactive,
            bureau.as_deref(),
        )?,
    }
    Ok(ExitCode::SUCCESS)
}

async fn serve(settings: Settings, args: ServeArgs) -> anyhow::Result<()> {
    // `serve` is the documented first command on a fresh machine: it may create the
    // database, and says which one (and which bureau) when nobody chose them.
    let db = crate::operator::open_database(&settings, true).await?;
    if args.demo {
        crate::demo::load(&db, &settings)
            .await
            .context("デモデータを読み込めません")?;
    }
    let in_use = crate::operator::bureaus_in_use(&db, &settings).await?;
    tracing::info!(bureaus = %in_use.join(","), "bureaus in use (the scheduled jobs run for these)");
    let bind = args.bind.unwrap_or_else(|| settings.server.bind.clone());
    let app = startup::Application::build(&settings, db, &bind, args.demo).await?;
    let addr = app.local_addr()?;
    tracing::info!(%addr, database = %startup::redact(&settings.database.url), "listening");
    if !startup::json_logs() {
        eprintln!("uketsuke: http://{addr}/ で待ち受けています（終了は Ctrl-C）");
    }
    startup::spawn_background(app.db(), app.metrics(), settings)?;
    app.run_until_stopped().await
}

async fn migrate(settings: &Settings, action: MigrateAction) -> anyhow::Result<()> {
    crate::operator::announce(settings);
    if matches!(action, MigrateAction::Up)
        && crate::operator::is_new_database(&settings.database.url)
    {
        crate::operator::announce_creation(settings);
    }
    let db = uketsuke_store::db::connect(&settings.database.url, 1)
        .await
        .with_context(|| {
            format!(
                "データベースに接続できません（{}）",
                startup::redact(&settings.database.url)
            )
        })?;
    match action {
        MigrateAction::Up => {
            let pending: Vec<String> = uketsuke_store::db::migration_status(&db)
                .await?
                .into_iter()
                .filter(|m| !m.applied)
                .map(|m| m.name)
                .collect();
            if pending.is_empty() {
                eprintln!("適用する移行はありません（データベースは最新です）");
            } else {
                uketsuke_store::db::migrate_up(&db).await?;
                eprintln!(
                    "{} 件の移行を適用しました: {}",
                    pending.len(),
                    pending.join(", ")
                );
            }
        }
        MigrateAction::Down { steps } => {
            uketsuke_store::db::migrate_down(&db, (steps > 0).then_some(steps)).await?;
            eprintln!("移行を戻しました");
        }
        MigrateAction::Status => {
            for m in uketsuke_store::db::migration_status(&db).await? {
                println!(
                    "{}\t{}",
                    if m.applied { "applied" } else { "pending" },
                    m.name
                );
            }
        }
    }
    Ok(())
}

/// `code check`: JSON on stdout; exit 0 valid, 1 wrong check digit, 2 not a code.
fn code_check(input: &str) -> ExitCode {
    match InstitutionCode::inspect(input) {
        Ok(inspection) => {
            match serde_json::to_string(&inspection) {
                Ok(text) => println!("{text}"),
                Err(e) => {
                    eprintln!("{e}");
                    return ExitCode::from(2);
                }
            }
            if inspection.valid {
                ExitCode::SUCCESS
            } else {
                eprintln!(
                    "検証番号が一致しません（正しい検証番号は {}）",
                    inspection.expected_check_digit
                );
                ExitCode::from(1)
            }
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(2)
        }
    }
}

async fn code_next(
    settings: &Settings,
    prefecture: &str,
    fee_schedule: &str,
    district: u8,
    dry_run: bool,
) -> anyhow::Result<()> {
    let prefecture = Prefecture::parse(prefecture)?;
    let fee_schedule = FeeSchedule::parse(fee_schedule)?;
    if district > 99 {
        bail!("郡市区番号は 00〜99 で指定してください（{district}）");
    }
    let district = District {
        prefecture,
        fee_schedule,
        number: district,
    };
    let db = crate::operator::open_database(settings, false).await?;
    let code = if dry_run {
        issuance::peek_next(&db, district, &settings.numbering).await?
    } else {
        let options = IssueOptions {
            request_id: None,
            status: uketsuke_store::lifecycle::NumberStatus::Approved,
        };
        let row =
            issuance::issue(&db, district, &settings.numbering, &options, &cli_actor()).await?;
        InstitutionCode::parse(&row.code)?
    };
    println!(
        "{}",
        json!({
            "code": code.to_string(),
            "prefecture": prefecture.code_str(),
            "fee_schedule": fee_schedule.digit().to_string(),
            "district": format!("{:02}", code.district()),
            "serial": format!("{:04}", code.serial()),
            "check_digit": code.check_digit(),
            "issued": !dry_run,
        })
    );
    Ok(())
}

fn calendar_closed(
    settings: &Settings,
    from: &str,
    to: &str,
    bureau: Option<&str>,
) -> anyhow::Result<()> {
    let (from, to) = (date_arg("--from", from)?, date_arg("--to", to)?);
    if to < from {
        bail!("--to（{to}）が --from（{from}）より前です");
    }
    let bureau = settings.bureau(bureau.unwrap_or(&settings.app.default_bureau))?;
    let calendar = bureau.calendar()?;
    let mut out = String::new();
    for (day, reason) in calendar.closed_days(from, to) {
        out.push_str(&format!("{}\t{reason}\n", day.format("%Y-%m-%d")));
    }
    print!("{out}");
    Ok(())
}

async fn export_command(settings: &Settings, args: ExportArgs) -> anyhow::Result<()> {
    use uketsuke_store::entities::council_session;
    let db = crate::operator::open_database(settings, false).await?;
    // 「[… 現在]」 on the list is the day it is made.
    let (bureau, rows, as_of, subtitle) = match (args.session, &args.from, &args.to) {
        (Some(id), _, _) => {
            let session = <council_session::Entity as sea_orm::EntityTrait>::find_by_id(id)
                .one(&db)
                .await?
                .with_context(|| format!("地医協の回（ID {id}）がありません"))?;
            let bureau = settings.bureau(&session.bureau_id)?;
            let rows = crate::jobs::council_rows(&db, &session).await?;
            (
                bureau,
                rows,
                crate::jobs::now_in_japan().date(),
                format!("{} {}", bureau.name, session.name),
            )
        }
        (None, Some(from), Some(to)) => {
            let (from, to) = (date_arg("--from", from)?, date_arg("--to", to)?);
            let bureau = settings.bureau(
                args.bureau
                    .as_deref()
                    .unwrap_or(&settings.app.default_bureau),
            )?;
            let rows = crate::jobs::range_rows(&db, &bureau.id, from, to).await?;
            let subtitle = format!(
                "{}（答申日 {}〜{}）",
                bureau.name,
                uketsuke_domain::format_wareki(from),
                uketsuke_domain::format_wareki(to)
            );
            (bureau, rows, crate::jobs::now_in_japan().date(), subtitle)
        }
        _ => bail!("--session か、--from と --to を指定してください"),
    };
    let bytes = match args.format.as_str() {
        "xlsx" => uketsuke_export::list_xlsx(&bureau.export, as_of, Some(&subtitle), &rows)?,
        "csv" => {
            let encoding = match args.encoding.as_str() {
                "utf8" => uketsuke_export::CsvEncoding::Utf8Bom,
                "sjis" | "shift_jis" => uketsuke_export::CsvEncoding::ShiftJis,
                other => bail!("--encoding は utf8 か sjis です（{other}）"),
            };
            uketsuke_export::list_csv(&bureau.export, &rows, encoding)?
        }
        other => bail!("--format は xlsx か csv です（{other}）"),
    };
    std::fs::write(&args.out, bytes)
        .with_context(|| format!("{} に書き込めません", args.out.display()))?;
    eprintln!(
        "{} に {} 件を書き出しました",
        args.out.display(),
        rows.len()
    );
    Ok(())
}

async fn import_command(settings: &Settings, args: ImportArgs) -> anyhow::Result<ExitCode> {
    let as_of = match args.as_of.as_deref() {
        Some(text) => Some(
            chrono::NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").map_err(|_| {
                anyhow::anyhow!(
                    "--as-of「{text}」は日付ではありません（YYYY-MM-DD、例: 2026-11-01）"
                )
            })?,
        ),
        None => None,
    };
    let options = crate::import::ImportOptions {
        dry_run: args.dry_run,
        registry: args.registry,
        valid_rows: args.valid_rows,
        as_of,
        bureau: args
            .bureau
            .unwrap_or_else(|| settings.app.default_bureau.clone()),
        office: args.office,
    };
    let db = if args.dry_run {
        None
    } else {
        Some(crate::operator::open_database(settings, false).await?)
    };
    let reports =
        crate::import::import_files(db.as_ref(), settings, &args.files, &options, &cli_actor())
            .await?;
    if args.json {
        println!("{}", serde_json::to_string(&json!({ "files": reports }))?);
    } else {
        for r in &reports {
            let what = if options.registry {
                "件の既存コード"
            } else {
                "件の依頼"
            };
            let read = r.registry_entries.unwrap_or(r.requests.len());
            match &r.plans {
                Some(plans) => println!(
                    "{}: {}件の導入計画書（別紙2）、エラー {} 件",
                    r.file,
                    plans.len(),
                    r.errors.len()
                ),
                None => println!("{}: {read}{what}、エラー {} 件", r.file, r.errors.len()),
            }
            for e in &r.errors {
                let place = [e.sheet.as_deref(), e.cell.as_deref()]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" ");
                println!("  {place}: {}", e.message);
            }
            match &r.written {
                _ if r.plans.is_some() => println!(
                    "  導入計画書は案件に属するため、案件の画面（計画書の取込）か API で提出してください（このコマンドは読み取りと点検のみ）"
                ),
                Some(w) => println!("  書き込み: {w}"),
                None if args.dry_run => println!("  （--dry-run のため書き込みません）"),
                None => println!(
                    "  エラーがあるため、このファイルは書き込みませんでした（--valid-rows で正しい行だけ取り込めます）"
                ),
            }
        }
    }
    let clean = reports.iter().all(|r| r.errors.is_empty());
    Ok(if clean {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

async fn jobs_command(settings: &Settings, action: JobsAction) -> anyhow::Result<()> {
    let db = crate::operator::open_database(settings, false).await?;
    match action {
        JobsAction::List => {
            for (name, what) in crate::jobs::JOBS {
                println!("{name}\t{what}");
            }
            for run in uketsuke_store::jobs::recent(&db, 20).await? {
                println!(
                    "run\t{}\t{}\t{}\t{}\t{}",
                    run.job,
                    run.period,
                    run.status,
                    run.started_at.format("%Y-%m-%dT%H:%M:%SZ"),
                    run.detail.unwrap_or_default()
                );
            }
        }
        JobsAction::Run { job, period } => {
            let period = match period {
                Some(p) => p,
                None if job == "council-export" => {
                    bail!("council-export には --period（地医協の回のID）が必要です")
                }
                None => format!(
                    "{}:{}",
                    settings.app.default_bureau,
                    crate::jobs::now_in_japan().date().format("%Y-%m-%d")
                ),
            };
            let report = crate::jobs::run(&db, settings, &job, &period).await?;
            println!("{}", serde_json::to_string(&report)?);
        }
    }
    Ok(())
}

fn due(settings: &Settings, args: &DueArgs) -> anyhow::Result<()> {
    let designation = date_arg("--designation", &args.designation)?;
    let bureau = settings.bureau(
        args.bureau
            .as_deref()
            .unwrap_or(&settings.app.default_bureau),
    )?;
    let d =
        uketsuke_rules::deadlines::deadlines(&bureau.calendar()?, &bureau.deadlines, designation);
    println!(
        "{}",
        json!({
            "designation": iso(d.designation),
            "bureau": bureau.id,
            "submission_deadline": iso(d.submission_deadline),
            "answer_due": iso(d.answer_due),
            "implementing_body_due": iso(d.implementing_body_due),
        })
    );
    Ok(())
}

fn schedule(settings: &Settings, args: &ScheduleArgs) -> anyhow::Result<()> {
    let rules = startup::bureau_rules(settings)?;
    let bureau = settings.bureau(&args.bureau)?;
    let rules = rules
        .get(&bureau.id)
        .with_context(|| format!("局 '{}' の規則を読めません", bureau.id))?;
    let letters = startup::letter_settings(settings);
    let table = uketsuke_web::schedule::ScheduleTable::new(rules, &letters, args.year)
        .map_err(|e| anyhow::anyhow!("--year: {e}"))?;
    let bytes = match args.format {
        ScheduleFormat::Json => {
            let mut text = serde_json::to_string_pretty(&table.json())?;
            text.push('\n');
            text.into_bytes()
        }
        ScheduleFormat::Html => table
            .standalone_html()
            .context("日程表の HTML を作れません")?
            .into_bytes(),
        ScheduleFormat::Xlsx => {
            if args.out.is_none() {
                bail!(
                    "--format xlsx には --out FILE を指定してください（.xlsx は端末に表示できません）"
                );
            }
            table
                .xlsx()
                .map_err(|e| anyhow::anyhow!("日程表の .xlsx を作れません: {e}"))?
        }
    };
    match &args.out {
        Some(out) => {
            std::fs::write(out, bytes)
                .with_context(|| format!("{} に書き込めません", out.display()))?;
            eprintln!("{} を作成しました", out.display());
        }
        None => {
            use std::io::Write;
            std::io::stdout()
                .write_all(&bytes)
                .context("標準出力に書き込めません")?;
        }
    }
    Ok(())
}

fn rules_check(
    settings: &Settings,
    kind: RequestKind,
    designation: &str,
    received: &str,
    retroactive: bool,
    bureau: Option<&str>,
) -> anyhow::Result<()> {
    let designation = date_arg("--designation", designation)?;
    let received = date_arg("--received", received)?;
    let bureau = settings.bureau(bureau.unwrap_or(&settings.app.default_bureau))?;
    let deadlines =
        uketsuke_rules::deadlines::deadlines(&bureau.calendar()?, &bureau.deadlines, designation);
    let facts = RequestFacts {
        kinds: vec![kind],
        designation,
        received,
        retroactive,
        duplicate_of: None,
    };
    let assessment = eligibility::assess(&facts, &deadlines, &settings.eligibility);
    println!("{}", serde_json::to_string(&assessment)?);
    Ok(())
}

/// A date argument, in any notation the domain accepts (西暦, 和暦, Excel serial).
fn date_arg(name: &str, value: &str) -> anyhow::Result<NaiveDate> {
    uketsuke_domain::parse_date(value).with_context(|| format!("{name} の日付を読めません"))
}

fn iso(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// The command line acts as the operating-system user who runs it.
async fn token(settings: &Settings, action: TokenAction) -> anyhow::Result<()> {
    use uketsuke_store::tokens;
    let db = crate::operator::open_database(settings, false).await?;
    match action {
        TokenAction::Create { username, label } => {
            let (token, row) = tokens::create(&db, &username, &label, &cli_actor()).await?;
            eprintln!(
                "職員「{username}」として使うAPIトークン（ID {}）を作成しました。この表示は一度だけです:",
                row.id
            );
            println!("{token}");
        }
        TokenAction::List => {
            for (t, username) in tokens::list(&db).await? {
                println!(
                    "{}",
                    json!({
                        "id": t.id,
                        "username": username,
                        "label": t.label,
                        "created_at": t.created_at,
                        "last_used_at": t.last_used_at,
                        "revoked_at": t.revoked_at,
                    })
                );
            }
        }
        TokenAction::Revoke { id } => {
            tokens::revoke(&db, id, &cli_actor()).await?;
            eprintln!("トークン（ID {id}）を失効させました");
        }
    }
    Ok(())
}

fn cli_actor() -> Actor {
    let user = std::env::var("USER").unwrap_or_else(|_| "unknown".to_owned());
    Actor::system(&format!("cli:{user}"))
}
