//! The command line: argument parsing, configuration, output and exit codes. The only
//! module that prints.

mod apply;
mod args;
mod config;
mod diff;
mod dump;
mod fleet;
mod gates;
mod init;
mod lint;
mod lint_rewrite;
mod plan;
mod progress;
mod render;
mod saved_plan;
mod sides;
mod status;

use clap::Parser;
use std::process::ExitCode;

pub use args::Cli;

/// Exit codes, like `git diff --exit-code`.
pub const EXIT_CLEAN: u8 = 0;
pub const EXIT_DIFFERENCES: u8 = 1;
pub const EXIT_ERROR: u8 = 2;

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(EXIT_ERROR);
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            args::Command::Diff(a) => diff::run(a).await,
            args::Command::Plan(a) => plan::run(a).await,
            args::Command::Apply(a) => apply::run(a).await,
            args::Command::Status(a) => status::run(a).await,
            args::Command::Init(a) => init::run(a),
            args::Command::Dump(a) => dump::run(a).await,
            args::Command::Lint(a) => lint::run(a).await,
        }
    });
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("{}", render::error(&e));
            ExitCode::from(EXIT_ERROR)
        }
    }
}
