//! The shared state of the web application.

use std::sync::Arc;

use sea_orm::DatabaseConnection;

/// What every handler can reach. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub site: Arc<SiteInfo>,
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
