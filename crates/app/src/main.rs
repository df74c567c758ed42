//! The `uketsuke` binary: parses the command line, sets up logging (text, or JSON with
//! `UKETSUKE_LOG_FORMAT=json`; the level from `RUST_LOG`) and runs it.

use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;
use uketsuke::cli::{Cli, Command};

/// mimalloc instead of glibc's malloc: a page allocates many small rows and strings,
/// and glibc's malloc and free stood out in the server's profile under load
/// (BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let default_level = if matches!(cli.command, Command::Serve(_)) {
        "info"
    } else {
        "warn"
    };
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new(format!("{default_level},sqlx=warn,sea_orm=warn")));
    // UKETSUKE_LOG_FORMAT=json: one JSON object per line (for a log collector); the
    // level filter is RUST_LOG's either way.
    match std::env::var(uketsuke::startup::LOG_FORMAT_VAR).as_deref() {
        Ok("json") => tracing_subscriber::fmt()
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .init(),
        Ok("text") | Ok("") | Err(_) => tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .init(),
        Ok(other) => {
            eprintln!(
                "エラー: UKETSUKE_LOG_FORMAT は json か text です（'{other}' が指定されています）"
            );
            return ExitCode::from(2);
        }
    }
    match uketsuke::cli::run(cli).await {
        Ok(code) => code,
        Err(e) => {
            if uketsuke::startup::json_logs() {
                tracing::error!(error = %format!("{e:#}"), "command failed");
            } else {
                eprintln!("エラー: {e:#}");
            }
            ExitCode::from(2)
        }
    }
}
