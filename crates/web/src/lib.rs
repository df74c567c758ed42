//! Web (画面): the staff's server-rendered pages, with axum and askama templates that
//! are compiled and checked at build time. Pages work without JavaScript.
//!
//! - [`state`]: what every handler can reach (the database, the bureaus' settings);
//! - [`auth`]: passwords, sessions, CSRF and roles; [`account`]: login, logout, password;
//! - [`layout`]: the frame every page shares; [`dashboard`]: the staff's first page;
//! - [`deliveries`]: the delivery log with 再送, and the 未指定 review;
//! - [`routes`]: the router, its security headers, and the pages themselves;
//! - [`error`]: one error type that logs a 500 once and shows a plain Japanese page.

pub mod account;
pub mod auth;
pub mod dashboard;
pub mod deliveries;
pub mod error;
pub mod layout;
pub mod routes;
pub mod state;

pub use routes::router;
pub use state::{AppState, SiteInfo};
