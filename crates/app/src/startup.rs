//! Start-up: connect to the database, migrate it, mirror the bureaus, and serve.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use sea_orm::DatabaseConnection;
use tokio::net::TcpListener;
use uketsuke_store::bureaus::{BureauSeed, OfficeSeed};
use uketsuke_web::auth::AuthSettings;
use uketsuke_web::{AppState, BureauRules, SiteInfo};

use crate::settings::Settings;

/// Connects to the configured database, applies pending migrations and mirrors the
/// configured bureaus and offices.
pub async fn prepare_database(settings: &Settings) -> anyhow::Result<DatabaseConnection> {
    let url = &settings.database.url;
    // Instances starting together on one database take turns here (connecting too:
    // a new SQLite file's journal mode is set on the first connection).
    let seeds = bureau_seeds(settings);
    let db = uketsuke_store::db::with_startup_lock(url, || async {
        let db = uketsuke_store::db::connect(url, settings.database.max_connections)
            .await
            .map_err(|e| {
                uketsuke_store::Error::Invalid(format!(
                    "データベースに接続できません（{}）: {e}",
                    redact(url)
                ))
            })?;
        uketsuke_store::db::migrate_up(&db).await.map_err(|e| {
            uketsuke_store::Error::Invalid(format!(
                "データベースの移行（migrate up）に失敗しました: {e}"
            ))
        })?;
        uketsuke_store::bureaus::sync(&db, &seeds)
            .await
            .map_err(|e| {
                uketsuke_store::Error::Invalid(format!(
                    "局・事務所の設定をデータベースに反映できません: {e}"
                ))
            })?;
        // The bureaus' published 地医協 dates become planned sessions (once each).
        let today = uketsuke_domain::today_in_japan();
        for b in &settings.bureaus {
            uketsuke_store::council::plan_configured(&db, &b.id, &b.council_dates, today)
                .await
                .map_err(|e| {
                    uketsuke_store::Error::Invalid(format!(
                        "局 {} の地医協の開催予定日（council_dates）を登録できません: {e}",
                        b.id
                    ))
                })?;
        }
        Ok(db)
    })
    .await
    .context("起動時の準備に失敗しました")?;
    Ok(db)
}

/// The configured bureaus as the store wants them.
pub fn bureau_seeds(settings: &Settings) -> Vec<BureauSeed> {
    settings
        .bureaus
        .iter()
        .map(|b| BureauSeed {
            id: b.id.clone(),
            name: b.name.clone(),
            offices: b
                .offices
                .iter()
                .map(|o| OfficeSeed {
                    code: o.code.clone(),
                    name: o.name.clone(),
                    prefectures: o.prefectures.clone(),
                })
                .collect(),
        })
        .collect()
}

/// Each configured bureau's rules, as the web pages and the import use them.
pub fn bureau_rules(settings: &Settings) -> anyhow::Result<BTreeMap<String, BureauRules>> {
    let mut rules = BTreeMap::new();
    for b in &settings.bureaus {
        rules.insert(
            b.id.clone(),
            BureauRules {
                id: b.id.clone(),
                name: b.name.clone(),
                prefectures: b.prefectures.clone(),
                calendar: b.calendar()?,
                deadlines: b.deadlines.clone(),
                export: b.export.clone(),
                council_dates: b.council_dates.clone(),
            },
        );
    }
    Ok(rules)
}

/// Each configured bureau's letterhead and wording, with the defaults.
pub fn letter_settings(settings: &Settings) -> uketsuke_web::letterhead::LetterSettings {
    uketsuke_web::letterhead::LetterSettings {
        bureaus: settings
            .bureaus
            .iter()
            .map(|b| (b.id.clone(), b.letters.clone()))
            .collect(),
        defaults: settings.letters.clone(),
    }
}

/// A running web application, bound to its port.
pub struct Application {
    listener: TcpListener,
    state: AppState,
}

impl Application {
    /// Binds `bind` (use port 0 for a random port) and prepares the router.
    pub async fn build(
        settings: &Settings,
        db: DatabaseConnection,
        bind: &str,
        demo: bool,
    ) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(bind)
            .await
            .with_context(|| format!("{bind} で待ち受けできません（既に使われていませんか）"))?;
        let default_bureau = settings.bureau(&settings.app.default_bureau)?;
        let interrupted = uketsuke_store::imports::sweep_interrupted(&db).await?;
        if interrupted > 0 {
            tracing::warn!(
                jobs = interrupted,
                "import jobs interrupted by a stop were marked failed"
            );
        }
        let site = SiteInfo {
            bureau_name: default_bureau.name.clone(),
            bureau_names: settings.bureaus.iter().map(|b| b.name.clone()).collect(),
            demo,
        };
        let auth = AuthSettings {
            secure_cookies: settings.server.secure_cookies,
            trusted_proxies: settings.server.trusted_proxy_networks()?,
            ..AuthSettings::default()
        };
        let state = AppState {
            db,
            site: Arc::new(site),
            auth: Arc::new(auth),
            login_throttle: Arc::default(),
            upload_permits: Arc::new(tokio::sync::Semaphore::new(2)),
            imports: Arc::default(),
            bureaus: Arc::new(bureau_rules(settings)?),
            eligibility: settings.eligibility,
            ingest_limits: settings.ingest.clone(),
            attachment_limits: settings.attachments,
            numbering: settings.numbering,
            metrics: Arc::new(uketsuke_web::metrics::Metrics::new(
                settings.metrics.token.as_deref(),
            )),
            letters: Arc::new(letter_settings(settings)),
        };
        Ok(Self { listener, state })
    }

    /// The application's database pool.
    pub fn db(&self) -> DatabaseConnection {
        self.state.db.clone()
    }

    /// The application's counters and the scheduler's heartbeat.
    pub fn metrics(&self) -> Arc<uketsuke_web::metrics::Metrics> {
        self.state.metrics.clone()
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> anyhow::Result<SocketAddr> {
        Ok(self.listener.local_addr()?)
    }

    /// Serves until the process is asked to stop (Ctrl-C or SIGTERM).
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let router = uketsuke_web::router(self.state);
        axum::serve(
            self.listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("サーバーが異常終了しました")
    }
}

/// Starts the scheduler (if enabled) and the outbox dispatcher as background tasks; the
/// scheduler counts its runs and beats in `metrics`.
pub fn spawn_background(
    db: DatabaseConnection,
    metrics: Arc<uketsuke_web::metrics::Metrics>,
    settings: Settings,
) -> anyhow::Result<()> {
    let mailer = uketsuke_mailer::Mailer::new(&settings.smtp).context("SMTP の設定が不正です")?;
    let settings = Arc::new(settings);
    if settings.schedule.enabled {
        let (db, settings) = (db.clone(), settings.clone());
        let every = settings.schedule.tick_secs.max(5);
        metrics.scheduler.started(every);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(every));
            loop {
                tick.tick().await;
                crate::jobs::tick_counted(
                    &db,
                    &settings,
                    crate::jobs::now_in_japan(),
                    Some(&metrics),
                )
                .await;
            }
        });
    }
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(
            settings.outbox.poll_secs.max(1),
        ));
        let policy = settings.outbox.policy();
        loop {
            tick.tick().await;
            if let Err(e) =
                crate::dispatch::send_due(&db, &mailer, &settings.smtp.from, &policy).await
            {
                tracing::error!(error = %format!("{e:#}"), "outbox dispatch failed");
            }
        }
    });
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down");
}

/// The environment variable that switches the logs to JSON lines (`json`) or plain text
/// (`text`, the default).
pub const LOG_FORMAT_VAR: &str = "UKETSUKE_LOG_FORMAT";

/// Whether the logs are JSON lines (then nothing else is written to standard error by
/// `serve`, so a log collector reads every line as JSON).
pub fn json_logs() -> bool {
    std::env::var(LOG_FORMAT_VAR).as_deref() == Ok("json")
}

/// A database URL with its password hidden, for messages and logs.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            match userinfo.find(':') {
                Some(colon) => format!(
                    "{}{}:***{}",
                    &url[..scheme + 3],
                    &userinfo[..colon],
                    &url[at..]
                ),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn redact_hides_the_password_of_a_database_url() {
        assert_eq!(redact("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact("sqlite://data/u.sqlite"), "sqlite://data/u.sqlite");
    }
}
