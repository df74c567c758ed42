//! The `uketsuke` application: settings, start-up, the command line and the demo data.
//! The binary (`main.rs`) only parses arguments and calls into here, so the end-to-end
//! tests start exactly the same application.
//!
//! - [`settings`]: the layered configuration and the bureaus' files;
//! - [`startup`]: connecting, migrating and serving;
//! - [`cli`]: the commands for staff scripts and IT (`code`, `calendar`, `due`, `rules`…);
//! - [`demo`]: demo data — one bureau with requests in every state;
//! - [`generate`]: scale data for benchmarks (`uketsuke demo generate`);
//! - [`jobs`]: the scheduled jobs (council export, digest, 未指定 review);
//! - [`dispatch`]: sending the outbox over SMTP;
//! - [`accounts`]: the account commands (`user add | list | unlock | reset-password |
//!   disable | enable`);
//! - [`operator`]: the operator's controls — which database a command uses, `config
//!   check`, the bureaus in use, `outbox send`.
//! - [`backup`]: `backup` and `restore` of the whole database.

pub mod accounts;
pub mod backup;
pub mod cli;
pub mod demo;
pub mod dispatch;
pub mod generate;
pub mod import;
pub mod jobs;
pub mod operator;
pub mod settings;
pub mod startup;
