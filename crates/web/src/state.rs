//! The shared state of the web application.

use std::collections::BTreeMap;
use std::sync::Arc;

use sea_orm::DatabaseConnection;
use uketsuke_rules::calendar::Calendar;

use crate::auth::AuthSettings;

/// What every handler can reach. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub site: Arc<SiteInfo>,
    pub auth: Arc<AuthSettings>,
    /// Each bureau's calendar of open days, by bureau id.
    pub calendars: Arc<BTreeMap<String, Calendar>>,
}

impl AppState {
    /// The calendar of `bureau_id` (the law's calendar if the bureau is unknown).
    pub fn calendar(&self, bureau_id: &str) -> Calendar {
        self.calendars.get(bureau_id).cloned().unwrap_or_default()
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
