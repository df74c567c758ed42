//! The `uketsuke` binary: parses the command line and runs it.

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
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| {
                EnvFilter::new(format!("{default_level},sqlx=warn,sea_orm=warn"))
            }),
        )
        .with_writer(std::io::stderr)
        .init();
    match uketsuke::cli::run(cli).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("エラー: {e:#}");
            ExitCode::from(2)
        }
    }
}
