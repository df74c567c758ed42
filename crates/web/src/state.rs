//! The shared state of the web application.

use std::collections::BTreeMap;
use std::sync::Arc;

use uketsuke_rules::calendar::Calendar;
use uketsuke_rules::eligibility::EligibilityPolicy;
use uketsuke_store::DatabaseConnection;

use crate::auth::AuthSettings;

pub use uketsuke_store::bureaus::BureauRules;

/// What every handler can reach. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub site: Arc<SiteInfo>,
    pub auth: Arc<AuthSettings>,
    /// Failed logins per client address.
    pub login_throttle: Arc<crate::throttle::LoginThrottle>,
    /// Each bureau's rules (calendar, deadlines), by bureau id.
    pub bureaus: Arc<BTreeMap<String, BureauRules>>,
    /// When a request is returned as too early (and the other eligibility settings).
    pub eligibility: EligibilityPolicy,
    /// Uploaded workbooks read at once (the rest wait their turn).
    pub upload_permits: Arc<tokio::sync::Semaphore>,
    /// The import jobs this process is running.
    pub imports: Arc<crate::imports::Running>,
    /// Limits on uploaded workbooks.
    pub ingest_limits: uketsuke_ingest::Limits,
    /// Limits on a case's attached scanned request.
    pub attachment_limits: uketsuke_store::attachments::Limits,
    /// The ranges and rules for new numbers.
    pub numbering: uketsuke_rules::numbering::NumberingPolicy,
    /// Request counters and the scheduler's heartbeat (`/metrics`, `/healthz`).
    pub metrics: Arc<crate::metrics::Metrics>,
    /// The letters' letterheads, the guidance enclosure and the schedule's note.
    pub letters: Arc<crate::letterhead::LetterSettings>,
}

impl AppState {
    /// The calendar of `bureau_id` (the law's calendar if the bureau is unknown).
    pub fn calendar(&self, bureau_id: &str) -> Calendar {
        self.bureaus
            .get(bureau_id)
            .map(|b| b.calendar.clone())
            .unwrap_or_default()
    }

    /// The rules of `bureau_id`.
    pub fn bureau(&self, bureau_id: &str) -> Option<&BureauRules> {
        self.bureaus.get(bureau_id)
    }
}

/// Facts about this deployment shown on the pages.
#[derive(Debug, Clone)]
pub struct SiteInfo {
    /// The bureau this installation serves by default (局名).
    pub bureau_name: String,
    /// All configured bureaus' names.
    pub bureau_names: Vec<String>,
    /// Whether demo data was loaded at start-up.
    pub demo: bool,
}
