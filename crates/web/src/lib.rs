//! Web (画面): the staff's server-rendered pages, with axum and askama templates that
//! are compiled and checked at build time. Pages work without JavaScript.
//!
//! - [`state`]: what every handler can reach (the database, the bureaus' settings);
//! - [`auth`]: passwords, sessions, CSRF and roles; [`account`]: login, logout, password;
//! - [`layout`]: the frame every page shares; [`dashboard`]: the staff's first page;
//! - [`deliveries`]: the delivery log with 再送 and 今すぐ送信, and the 未指定 review;
//! - [`access_log`]: one log line per request (route, status, latency, client);
//! - [`cases`]: finding cases (filters, search, paging, .xlsx/CSV) and the case page;
//! - [`routes`]: the router, its security headers, and the pages themselves;
//! - [`actions`]: what staff do to a case (起案, 決裁, 回答, 返戻, 取下げ, 無効化);
//! - [`letters`]: the printed 回答書 (one or many, each with its guidance enclosure) and
//!   返戻通知; [`letterhead`]: their configured sender, numbers and wording;
//! - [`schedule`]: the public schedule (日程表) of a bureau and year, without login;
//! - [`council`]: the 地医協 sessions; [`council_dates`]: the 地医協 dates an
//!   administrator keeps per prefecture;
//! - [`admin`]: the bureau's accounts, for the 管理 role;
//! - [`calendar`]: the month of deadlines and 地医協 dates; [`reports`]: the monthly
//!   report (page and .xlsx);
//! - [`case_notes`]: a case's memos and its attached scanned request;
//! - [`entry`]: uploading forms and lists with a preview, and the blank form;
//! - [`new_request`]: the entry form, 別紙1 field by field;
//! - [`view`]: view helpers (Japan time, percent-encoding, downloads);
//! - [`error`]: one error type that logs a 500 once and shows a plain Japanese page;
//! - [`metrics`]: `/metrics` (Prometheus text format), the request counter and the
//!   scheduler's heartbeat that `/healthz` reads.
//!
//! The pages hold no queries of their own: they read and write through the store
//! ([`uketsuke_store`]), and saving forms as requests is [`uketsuke_store::intake`].

pub mod access_log;
pub mod account;
pub mod actions;
pub mod admin;
pub mod api;
pub mod auth;
pub mod calendar;
pub mod case_notes;
pub mod cases;
pub mod council;
pub mod council_dates;
pub mod dashboard;
pub mod deliveries;
pub mod entry;
pub mod error;
pub mod guard;
pub mod imports;
pub mod layout;
pub mod letterhead;
pub mod letters;
pub mod metrics;
pub mod new_request;
pub mod registry;
pub mod reports;
pub mod routes;
pub mod schedule;
pub mod state;
pub mod throttle;
pub mod view;

pub use routes::router;
pub use state::{AppState, BureauRules, SiteInfo};
