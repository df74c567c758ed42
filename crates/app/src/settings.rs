//! Settings (設定): read once at start-up, in layers —
//! `config/default.toml` → `config/{UKETSUKE_ENV}.toml` → `UKETSUKE_SECTION__KEY`
//! environment variables (and `DATABASE_URL`) — plus one file per bureau in
//! `config/bureaus/*.toml`. Everything is typed with `deny_unknown_fields`: a misspelt
//! key or a bad value stops start-up with the file, the key and the reason.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use chrono::NaiveDate;
use figment::Figment;
use figment::providers::{Env, Format, Toml};
use serde::Deserialize;
use uketsuke_domain::{Bureau, Prefecture};
use uketsuke_export::ListLayout;
use uketsuke_mailer::SmtpSettings;
use uketsuke_rules::calendar::{Calendar, CalendarConfig};
use uketsuke_rules::deadlines::DeadlineConfig;
use uketsuke_rules::eligibility::EligibilityPolicy;
use uketsuke_rules::numbering::NumberingPolicy;

/// Environment variables that choose *which* configuration to read, or how to log, not
/// part of it.
const META_VARS: [&str; 3] = ["env", "config_dir", "log_format"];

/// The whole configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub app: AppSettings,
    #[serde(default)]
    pub eligibility: EligibilityPolicy,
    #[serde(default)]
    pub numbering: NumberingPolicy,
    /// Limits on imported files (size, zip bombs, rows, cells).
    #[serde(default)]
    pub ingest: uketsuke_ingest::Limits,
    /// The SMTP server mail is sent through.
    #[serde(default)]
    pub smtp: SmtpSettings,
    /// How the outbox retries.
    #[serde(default)]
    pub outbox: OutboxSettings,
    /// When the scheduled jobs run (Japan time).
    #[serde(default)]
    pub schedule: ScheduleSettings,
    /// Who may read `/metrics`.
    #[serde(default)]
    pub metrics: MetricsSettings,
    /// Filled from `config/bureaus/*.toml`, not from the layered files.
    #[serde(skip)]
    pub bureaus: Vec<BureauSettings>,
}

/// Where the web server listens.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    /// e.g. `127.0.0.1:8080`
    pub bind: String,
    /// Set the `Secure` flag on cookies (behind HTTPS).
    #[serde(default)]
    pub secure_cookies: bool,
}

/// The database.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    /// `sqlite://data/uketsuke.sqlite?mode=rwc` or `postgres://…`; `DATABASE_URL` wins.
    pub url: String,
    pub max_connections: u32,
}

/// The application.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppSettings {
    /// The bureau used when a command is given none (`--bureau`).
    pub default_bureau: String,
}

/// The outbox's retry policy.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OutboxSettings {
    /// After this many failed attempts a message is given up (送信不能).
    pub max_attempts: i32,
    /// The first retry waits this many seconds; each further one twice as long.
    pub base_delay_secs: i64,
    /// No wait is longer than this.
    pub max_delay_secs: i64,
    /// How long a claimed message belongs to one sender.
    pub lease_secs: i64,
    /// How often `serve` looks for mail to send.
    pub poll_secs: u64,
}

impl Default for OutboxSettings {
    fn default() -> Self {
        Self {
            max_attempts: 8,
            base_delay_secs: 60,
            max_delay_secs: 6 * 3600,
            lease_secs: 300,
            poll_secs: 30,
        }
    }
}

impl OutboxSettings {
    /// The store's retry policy.
    pub fn policy(&self) -> uketsuke_store::outbox::RetryPolicy {
        uketsuke_store::outbox::RetryPolicy {
            max_attempts: self.max_attempts,
            base_delay: chrono::TimeDelta::seconds(self.base_delay_secs),
            max_delay: chrono::TimeDelta::seconds(self.max_delay_secs),
            lease: chrono::TimeDelta::seconds(self.lease_secs),
        }
    }
}

/// When the scheduled jobs run, in Japan time (Asia/Tokyo, UTC+9, no daylight saving).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ScheduleSettings {
    /// Whether `serve` runs the jobs itself (turn off where a separate runner does).
    pub enabled: bool,
    /// After a council session, on the next open day at this time: send its 一覧表.
    pub council_export_at: chrono::NaiveTime,
    /// Each open day at this time: the digest of answers due and overdue.
    pub digest_at: chrono::NaiveTime,
    /// Each open day at this time: the list of facilities to confirm as 未指定.
    pub not_designated_at: chrono::NaiveTime,
    /// How often the scheduler looks at the clock.
    pub tick_secs: u64,
}

impl Default for ScheduleSettings {
    fn default() -> Self {
        let at = |h, m| chrono::NaiveTime::from_hms_opt(h, m, 0).unwrap_or_default();
        Self {
            enabled: true,
            council_export_at: at(9, 0),
            digest_at: at(8, 30),
            not_designated_at: at(8, 45),
            tick_secs: 60,
        }
    }
}

/// `/metrics` (メトリクス).
#[derive(Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsSettings {
    /// The bearer token a scraper must send (`UKETSUKE_METRICS__TOKEN`, a secret). Unset:
    /// only clients on the same machine, not through a proxy, may read `/metrics`.
    pub token: Option<String>,
}

impl std::fmt::Debug for MetricsSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetricsSettings")
            .field("token", &self.token.as_ref().map(|_| "***"))
            .finish()
    }
}

/// One bureau's file, `config/bureaus/{id}.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BureauSettings {
    /// One of the eight ids, e.g. `kanto-shinetsu`; must match the file name.
    pub id: String,
    /// 局名, e.g. 関東信越厚生局.
    pub name: String,
    /// The prefectures under its jurisdiction (two-digit codes).
    pub prefectures: Vec<String>,
    #[serde(default)]
    pub offices: Vec<OfficeSettings>,
    /// 提出期限: the named rule and the published table that overrides it.
    pub deadlines: DeadlineConfig,
    /// Closed or open days beyond the law's (a new holiday needs no release).
    #[serde(default)]
    pub calendar: CalendarConfig,
    /// 地医協 dates, by prefecture code.
    #[serde(default)]
    pub council_dates: BTreeMap<String, Vec<NaiveDate>>,
    #[serde(default)]
    pub recipients: Recipients,
    /// The 新規指定医療機関一覧表's title and columns (rename, drop, reorder).
    #[serde(default)]
    pub export: ListLayout,
}

/// An office (事務所・分室).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OfficeSettings {
    pub code: String,
    pub name: String,
    pub prefectures: Vec<String>,
}

/// Who receives what. The production address of the 実施機関 belongs only in an
/// example file; the defaults send to a local SMTP server.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recipients {
    /// 医療保険情報提供等実施機関: receives the 新規指定医療機関一覧表.
    #[serde(default)]
    pub implementing_body: Vec<String>,
    /// Staff who receive the daily digest.
    #[serde(default)]
    pub staff: Vec<String>,
}

impl BureauSettings {
    /// The bureau's calendar of open days.
    pub fn calendar(&self) -> anyhow::Result<Calendar> {
        Calendar::new(self.calendar.clone())
            .with_context(|| format!("局 {} の calendar 設定が不正です", self.id))
    }
}

impl Settings {
    /// Reads the configuration from `config_dir` (normally `./config`), for the
    /// environment named by `UKETSUKE_ENV` (if set), with environment overrides.
    pub fn load(config_dir: &Path) -> anyhow::Result<Self> {
        let env_name = std::env::var("UKETSUKE_ENV").ok().filter(|e| !e.is_empty());
        let default_file = config_dir.join("default.toml");
        if !default_file.is_file() {
            bail!(
                "設定ファイル {} が見つかりません（UKETSUKE_CONFIG_DIR で設定フォルダを指定できます）",
                default_file.display()
            );
        }
        let mut figment = Figment::from(Toml::file(&default_file));
        if let Some(name) = &env_name {
            let file = config_dir.join(format!("{name}.toml"));
            if !file.is_file() {
                bail!(
                    "UKETSUKE_ENV={name} ですが、設定ファイル {} がありません",
                    file.display()
                );
            }
            figment = figment.merge(Toml::file(file));
        }
        figment = figment.merge(Env::prefixed("UKETSUKE_").ignore(&META_VARS).split("__"));
        if let Ok(url) = std::env::var("DATABASE_URL")
            && !url.is_empty()
        {
            figment = figment.merge(("database.url", url));
        }
        let mut settings: Settings = figment
            .extract()
            .map_err(|e| anyhow::anyhow!(describe_figment_error(e)))?;
        settings.bureaus = load_bureaus(&config_dir.join("bureaus"))?;
        settings.validate()?;
        Ok(settings)
    }

    /// The settings of bureau `id`, or a message listing the known ones.
    pub fn bureau(&self, id: &str) -> anyhow::Result<&BureauSettings> {
        self.bureaus.iter().find(|b| b.id == id).with_context(|| {
            let known: Vec<&str> = self.bureaus.iter().map(|b| b.id.as_str()).collect();
            format!(
                "局 '{id}' は設定されていません（設定済み: {}）",
                known.join(", ")
            )
        })
    }

    fn validate(&self) -> anyhow::Result<()> {
        self.bureau(&self.app.default_bureau)
            .context("app.default_bureau の値が不正です")?;
        Ok(())
    }
}

/// Reads every `*.toml` in `dir` as one bureau, checked against the law's table of
/// bureaus and prefectures.
fn load_bureaus(dir: &Path) -> anyhow::Result<Vec<BureauSettings>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("局の設定フォルダ {} を読めません", dir.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    let mut bureaus = Vec::with_capacity(files.len());
    for file in files {
        let bureau: BureauSettings = Figment::from(Toml::file(&file))
            .extract()
            .map_err(|e| anyhow::anyhow!(describe_figment_error(e)))?;
        check_bureau(&file, &bureau)?;
        bureaus.push(bureau);
    }
    if bureaus.is_empty() {
        bail!(
            "局の設定が一つもありません（{} に *.toml を置いてください）",
            dir.display()
        );
    }
    Ok(bureaus)
}

fn check_bureau(file: &Path, b: &BureauSettings) -> anyhow::Result<()> {
    let at = |key: &str| format!("{}: キー {key}", file.display());
    let known = Bureau::from_id(&b.id).map_err(|e| anyhow::anyhow!("{}: {e}", at("id")))?;
    if file.file_stem().and_then(|s| s.to_str()) != Some(b.id.as_str()) {
        bail!("{}: id '{}' とファイル名が一致しません", at("id"), b.id);
    }
    let jurisdiction: Vec<Prefecture> = known.prefectures();
    let parse = |key: &str, code: &str| -> anyhow::Result<Prefecture> {
        let p = Prefecture::parse(code).map_err(|e| anyhow::anyhow!("{}: {e}", at(key)))?;
        if !jurisdiction.contains(&p) {
            bail!(
                "{}: {}（{}）は{}の管轄ではありません",
                at(key),
                code,
                p.name(),
                known.name()
            );
        }
        Ok(p)
    };
    for code in &b.prefectures {
        parse("prefectures", code)?;
    }
    for office in &b.offices {
        for code in &office.prefectures {
            parse(&format!("offices[{}].prefectures", office.code), code)?;
        }
    }
    for code in b.council_dates.keys() {
        parse("council_dates", code)?;
    }
    b.calendar()
        .map_err(|e| anyhow::anyhow!("{}: {e:#}", at("calendar")))?;
    b.export
        .validate()
        .map_err(|e| anyhow::anyhow!("{}: {e}", at("export")))?;
    b.deadlines
        .validate()
        .map_err(|e| anyhow::anyhow!("{}: {e}", at("deadlines")))?;
    for address in b
        .recipients
        .implementing_body
        .iter()
        .chain(&b.recipients.staff)
    {
        if !address.contains('@') {
            bail!(
                "{}: '{address}' はメールアドレスではありません",
                at("recipients")
            );
        }
    }
    Ok(())
}

/// figment's error, with the file and key it names, in one line per problem.
fn describe_figment_error(error: figment::Error) -> String {
    error
        .into_iter()
        .map(|e| {
            let key = if e.path.is_empty() {
                "（最上位）".to_owned()
            } else {
                e.path.join(".")
            };
            let source = e
                .metadata
                .as_ref()
                .and_then(|m| m.source.as_ref())
                .map(|s| s.to_string())
                .unwrap_or_else(|| "環境変数".to_owned());
            format!("設定エラー: {source}: キー {key}: {}", e.kind)
        })
        .collect::<Vec<_>>()
        .join("\n")
}
