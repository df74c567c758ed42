//! Settings (設定): read once at start-up, in layers —
//! `config/default.toml` → `config/{UKETSUKE_ENV}.toml` → the local settings
//! `local/local.toml` → `UKETSUKE_SECTION__KEY` environment variables (and
//! `DATABASE_URL`) — plus one file per bureau in `config/bureaus/*.toml`, each
//! overridden key by key by `local/bureaus/{id}.toml`. Everything is typed with
//! `deny_unknown_fields`: a misspelt key or a bad value stops start-up with the file,
//! the key and the reason.
//!
//! The local settings folder (ローカル設定: `./local`, or `UKETSUKE_LOCAL_DIR`) belongs
//! to the bureau, not to the release: an upgrade replaces `config/` and never touches
//! it, so the bureau's choice, its 地医協 dates and its recipients survive upgrades.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use chrono::NaiveDate;
use figment::Figment;
use figment::providers::{Env, Format, Toml};
use serde::{Deserialize, Serialize};
use uketsuke_domain::{Bureau, Prefecture};
use uketsuke_export::ListLayout;
use uketsuke_mailer::SmtpSettings;
use uketsuke_rules::calendar::{Calendar, CalendarConfig};
use uketsuke_rules::deadlines::DeadlineConfig;
use uketsuke_rules::eligibility::EligibilityPolicy;
use uketsuke_rules::numbering::NumberingPolicy;

/// Environment variables that choose *which* configuration to read, not part of it
/// (`UKETSUKE_ENV`, `UKETSUKE_CONFIG_DIR`, `UKETSUKE_LOCAL_DIR`), or that other parts
/// of the program read (`UKETSUKE_LOG_FORMAT`).
const META_VARS: [&str; 4] = ["env", "config_dir", "local_dir", "log_format"];

/// The local settings folder used when `UKETSUKE_LOCAL_DIR` is not set (relative to the
/// working directory, like `config`).
pub const DEFAULT_LOCAL_DIR: &str = "local";

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
    /// What letters print when a bureau's file says nothing (the guidance enclosure).
    #[serde(default)]
    pub letters: uketsuke_web::letterhead::LetterDefaults,
    /// Limits on a case's attached scanned request (size).
    #[serde(default)]
    pub attachments: uketsuke_store::attachments::Limits,
    /// Filled from `config/bureaus/*.toml` (and `local/bureaus/*.toml`), not from the
    /// layered files.
    #[serde(skip)]
    pub bureaus: Vec<BureauSettings>,
    /// Where the settings came from.
    #[serde(skip)]
    pub origin: Origin,
}

/// Where the settings came from: the files read and whether the database was chosen.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    /// `UKETSUKE_ENV`, if set.
    pub environment: Option<String>,
    /// The files read, in the order they were layered.
    pub files: Vec<PathBuf>,
    /// The local settings folder, if there is one.
    pub local_dir: Option<PathBuf>,
    /// Where `database.url` came from (a file, or an environment variable).
    pub database_url_from: String,
    /// `database.url` is the shipped default of `config/default.toml`.
    pub database_is_default: bool,
}

impl Origin {
    /// Whether anyone chose this environment: `UKETSUKE_ENV` is set, or the database
    /// was named (`DATABASE_URL`, `UKETSUKE_DATABASE__URL` or a local setting).
    pub fn configured(&self) -> bool {
        self.environment.is_some() || !self.database_is_default
    }
}

/// Where the web server listens.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    /// e.g. `127.0.0.1:8080`
    pub bind: String,
    /// Set the `Secure` flag on cookies (behind HTTPS).
    #[serde(default)]
    pub secure_cookies: bool,
    /// Reverse proxies (addresses or networks, e.g. `10.0.0.0/8`) whose
    /// `X-Forwarded-For` names the client. Empty: the header is ignored.
    #[serde(default)]
    pub trusted_proxies: Vec<String>,
}

impl ServerSettings {
    /// `trusted_proxies` parsed: a bare address is a network of one.
    pub fn trusted_proxy_networks(&self) -> anyhow::Result<Vec<ipnet::IpNet>> {
        self.trusted_proxies
            .iter()
            .map(|p| {
                p.parse::<ipnet::IpNet>()
                    .or_else(|_| p.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                    .map_err(|_| {
                        anyhow::anyhow!(
                            "server.trusted_proxies: '{p}' はアドレスでもネットワーク（例 10.0.0.0/8）でもありません"
                        )
                    })
            })
            .collect()
    }
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
    /// 使用する局: the bureaus this installation serves, whose scheduled jobs run.
    /// Empty (the default): the bureaus that have at least one active account, or all
    /// configured bureaus while there is no account at all.
    #[serde(default)]
    pub bureaus: Vec<String>,
}

/// The outbox's retry policy.
#[derive(Debug, Clone, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Serialize, Deserialize)]
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
    /// 地医協 dates, by prefecture code (`"23" = [2027-01-21, "2027-02-18"]`: bare TOML
    /// dates or strings).
    #[serde(default, deserialize_with = "council_dates")]
    pub council_dates: BTreeMap<String, Vec<NaiveDate>>,
    #[serde(default)]
    pub recipients: Recipients,
    /// The 新規指定医療機関一覧表's title and columns (rename, drop, reorder).
    #[serde(default)]
    pub export: ListLayout,
    /// The letters' letterhead (文書番号, 局長名, 担当・連絡先, 問い合わせ先), per bureau
    /// and office, the guidance enclosure and the public schedule's note.
    #[serde(default)]
    pub letters: uketsuke_web::letterhead::BureauLetters,
}

/// An office (事務所・分室).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OfficeSettings {
    pub code: String,
    pub name: String,
    pub prefectures: Vec<String>,
}

/// Who receives what. The production address of the 実施機関 belongs only in an
/// example file; the defaults send to a local SMTP server.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recipients {
    /// 医療保険情報提供等実施機関: receives the 新規指定医療機関一覧表.
    #[serde(default)]
    pub implementing_body: Vec<String>,
    /// Staff who receive the daily digest.
    #[serde(default)]
    pub staff: Vec<String>,
}

/// `[council_dates]`, each date a bare TOML date or a `"YYYY-MM-DD"` string.
fn council_dates<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<BTreeMap<String, Vec<NaiveDate>>, D::Error> {
    let raw = BTreeMap::<String, Vec<uketsuke_rules::ConfigDate>>::deserialize(deserializer)?;
    Ok(raw
        .into_iter()
        .map(|(prefecture, dates)| {
            let mut dates: Vec<NaiveDate> = dates.into_iter().map(|d| d.0).collect();
            dates.sort_unstable();
            (prefecture, dates)
        })
        .collect())
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
    /// environment named by `UKETSUKE_ENV` (if set), with the local settings of
    /// `UKETSUKE_LOCAL_DIR` (or `./local` when it exists) and environment overrides.
    pub fn load(config_dir: &Path) -> anyhow::Result<Self> {
        let local = std::env::var_os("UKETSUKE_LOCAL_DIR")
            .filter(|d| !d.is_empty())
            .map(PathBuf::from);
        Self::load_with_local(config_dir, local.as_deref())
    }

    /// [`Settings::load`] with the local settings folder given: `Some(dir)` must exist;
    /// `None` uses `./local` if it exists.
    pub fn load_with_local(config_dir: &Path, local_dir: Option<&Path>) -> anyhow::Result<Self> {
        let env_name = std::env::var("UKETSUKE_ENV").ok().filter(|e| !e.is_empty());
        let local_dir = match local_dir {
            Some(dir) if dir.is_dir() => Some(dir.to_path_buf()),
            Some(dir) => bail!(
                "ローカル設定のフォルダ {} がありません（UKETSUKE_LOCAL_DIR / --local-dir）",
                dir.display()
            ),
            None => {
                let dir = PathBuf::from(DEFAULT_LOCAL_DIR);
                dir.is_dir().then_some(dir)
            }
        };
        let default_file = config_dir.join("default.toml");
        if !default_file.is_file() {
            bail!(
                "設定ファイル {} が見つかりません（UKETSUKE_CONFIG_DIR で設定フォルダを指定できます）",
                default_file.display()
            );
        }
        let mut files = vec![default_file.clone()];
        let mut figment = Figment::from(Toml::file(&default_file));
        if let Some(name) = &env_name {
            let file = config_dir.join(format!("{name}.toml"));
            if !file.is_file() {
                bail!(
                    "UKETSUKE_ENV={name} ですが、設定ファイル {} がありません",
                    file.display()
                );
            }
            figment = figment.merge(Toml::file(&file));
            files.push(file);
        }
        if let Some(dir) = &local_dir {
            let file = dir.join("local.toml");
            if file.is_file() {
                figment = figment.merge(Toml::file(&file));
                files.push(file);
            }
        }
        figment = figment.merge(Env::prefixed("UKETSUKE_").ignore(&META_VARS).split("__"));
        let mut database_url_from = None;
        if let Ok(url) = std::env::var("DATABASE_URL")
            && !url.is_empty()
        {
            figment = figment.merge(("database.url", url));
            database_url_from = Some("環境変数 DATABASE_URL".to_owned());
        }
        let url_source = figment
            .find_metadata("database.url")
            .and_then(|m| m.source.as_ref())
            .and_then(|s| s.file_path())
            .map(Path::to_path_buf);
        let same_file = |a: &Path, b: &Path| {
            a == b || std::fs::canonicalize(a).ok() == std::fs::canonicalize(b).ok()
        };
        let database_is_default = database_url_from.is_none()
            && url_source
                .as_deref()
                .is_some_and(|f| same_file(f, &default_file));
        let database_url_from = database_url_from.unwrap_or_else(|| match &url_source {
            Some(file) => file.display().to_string(),
            None => "環境変数 UKETSUKE_DATABASE__URL".to_owned(),
        });
        let mut settings: Settings = figment
            .extract()
            .map_err(|e| anyhow::anyhow!(describe_figment_error(e)))?;
        let (bureaus, bureau_files) = load_bureaus(
            &config_dir.join("bureaus"),
            local_dir.as_ref().map(|d| d.join("bureaus")).as_deref(),
        )?;
        files.extend(bureau_files);
        settings.bureaus = bureaus;
        settings.origin = Origin {
            environment: env_name,
            files,
            local_dir,
            database_url_from,
            database_is_default,
        };
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

    /// The bureaus in use (使用する局), given the bureaus that have an active account:
    /// `app.bureaus` when set; otherwise the bureaus with an account, or every
    /// configured bureau while no bureau has one.
    pub fn bureaus_in_use<'a>(&'a self, with_accounts: &[String]) -> Vec<&'a BureauSettings> {
        if !self.app.bureaus.is_empty() {
            return self
                .bureaus
                .iter()
                .filter(|b| self.app.bureaus.contains(&b.id))
                .collect();
        }
        let staffed: Vec<&BureauSettings> = self
            .bureaus
            .iter()
            .filter(|b| with_accounts.contains(&b.id))
            .collect();
        if staffed.is_empty() {
            self.bureaus.iter().collect()
        } else {
            staffed
        }
    }

    fn validate(&self) -> anyhow::Result<()> {
        self.server.trusted_proxy_networks()?;
        if let Some(g) = &self.letters.guidance {
            g.validate()
                .map_err(|e| anyhow::anyhow!("設定エラー: キー letters.{e}"))?;
        }
        self.bureau(&self.app.default_bureau)
            .context("app.default_bureau の値が不正です")?;
        for id in &self.app.bureaus {
            self.bureau(id).context("app.bureaus の値が不正です")?;
        }
        if !self.app.bureaus.is_empty() && !self.app.bureaus.contains(&self.app.default_bureau) {
            bail!(
                "app.default_bureau（{}）が app.bureaus（{}）に含まれていません",
                self.app.default_bureau,
                self.app.bureaus.join(", ")
            );
        }
        Ok(())
    }
}

/// Reads every `*.toml` in `dir` as one bureau, each overridden key by key by the file
/// of the same name in `local_dir` (a local file with no shipped one is a bureau of its
/// own), checked against the law's table of bureaus and prefectures. Returns the
/// bureaus and the files read.
fn load_bureaus(
    dir: &Path,
    local_dir: Option<&Path>,
) -> anyhow::Result<(Vec<BureauSettings>, Vec<PathBuf>)> {
    let tomls = |dir: &Path| -> anyhow::Result<Vec<PathBuf>> {
        Ok(std::fs::read_dir(dir)
            .with_context(|| format!("局の設定フォルダ {} を読めません", dir.display()))?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect())
    };
    let shipped = tomls(dir)?;
    let local = match local_dir {
        Some(d) if d.is_dir() => tomls(d)?,
        _ => Vec::new(),
    };
    let mut names: Vec<std::ffi::OsString> = shipped
        .iter()
        .chain(&local)
        .filter_map(|p| p.file_name().map(ToOwned::to_owned))
        .collect();
    names.sort();
    names.dedup();
    let mut bureaus = Vec::with_capacity(names.len());
    let mut read = Vec::new();
    for name in names {
        let base = shipped.iter().find(|p| p.file_name() == Some(&name));
        let over = local.iter().find(|p| p.file_name() == Some(&name));
        let mut figment = Figment::new();
        for file in base.into_iter().chain(over) {
            figment = figment.merge(Toml::file(file));
            read.push(file.clone());
        }
        let bureau: BureauSettings = figment
            .extract()
            .map_err(|e| anyhow::anyhow!(describe_figment_error(e)))?;
        let named = over.or(base).map_or_else(|| dir.join(&name), Clone::clone);
        check_bureau(&named, &bureau)?;
        bureaus.push(bureau);
    }
    if bureaus.is_empty() {
        bail!(
            "局の設定が一つもありません（{} に *.toml を置いてください）",
            dir.display()
        );
    }
    Ok((bureaus, read))
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
    let office_codes: Vec<&str> = b.offices.iter().map(|o| o.code.as_str()).collect();
    b.letters
        .validate(&office_codes)
        .map_err(|e| anyhow::anyhow!("{}: {e}", at("letters")))?;
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
