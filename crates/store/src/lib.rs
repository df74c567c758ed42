//! Store (保存): the database — sea-orm entities, connecting and migrating, and the
//! queries that must be atomic (number issuance, the audit trail). SQLite by default,
//! PostgreSQL when the URL says so; the same code and schema on both.
//!
//! Modules, in reading order:
//! - [`db`]: connecting (with SQLite's pragmas), migrating, the health check;
//! - [`entities`]: one sea-orm entity per table;
//! - [`bureaus`]: mirroring the configured bureaus and offices into their tables;
//! - [`audit`]: writing the audit trail, inside the caller's transaction;
//! - [`issuance`]: issuing the next free number, guarded by a unique constraint;
//! - [`lifecycle`]: the case's typed states, its transition table and the one guarded
//!   change every action goes through;
//! - [`plans`]: the 導入計画書 (別紙2) of a case: submissions, the check, 確認済 and
//!   経過措置 届出;
//! - [`requests`]: recording requests and their facilities, and the case statuses;
//! - [`queues`]: the work queues (決裁待ち, 回答待ち, …) as conditions on the case list;
//! - [`bulk`]: one command on many cases, each through its own guarded change;
//! - [`outbox`]: the email outbox — queue, atomic claim, sent / retry / dead;
//! - [`jobs`]: scheduled job runs, unique per (job, period);
//! - [`registry`]: importing existing codes, whole or not at all, idempotently;
//! - [`tokens`]: API tokens, stored hashed, acting as their user;
//! - [`views`]: what the JSON API reads (a case with its history, lists, council sessions,
//!   the delivery log);
//! - [`users`]: staff accounts, roles, lockout, and server-side sessions;
//! - [`uploads`]: workbooks waiting for confirmation after their preview;
//! - [`council_dates`]: 地医協の開催予定日 kept by an administrator (add, move, delete);
//! - [`calendar`]: what falls due in a month (the calendar page);
//! - [`reports`]: counts by office, kind and status for a month (the monthly report);
//! - [`memos`] and [`attachments`]: a case's memos and its scanned paper request;
//! - [`monitor`]: what operators watch (outbox depth, dead letters, the pool) and the
//!   table inventory that backup and restore check.

pub mod attachments;
pub mod audit;
pub mod bulk;
pub mod bureaus;
pub mod calendar;
pub mod cases;
pub mod council;
pub mod council_dates;
pub mod dashboard;
pub mod db;
pub mod entities;
mod error;
pub mod imports;
pub mod intake;
pub mod issuance;
pub mod jobs;
pub mod lifecycle;
pub mod memos;
pub mod monitor;
pub mod outbox;
pub mod plans;
pub mod queues;
pub mod reflection;
pub mod registry;
pub mod reports;
pub mod requests;
pub mod tokens;
pub mod uploads;
pub mod users;
pub mod views;

#[cfg(test)]
mod unit_tests;

pub use error::{Error, Result};
pub use sea_orm::{DatabaseConnection, DbBackend};
