//! `vpngw`: the server binary and its command line.

mod account;
mod agent;
mod audit_cmd;
mod cli;
mod cloud;
mod config;
mod console;
mod database;
mod http;
mod lab;
mod listen;
mod logging;
mod metrics;
mod serve;
mod table;
mod text;
mod tls;

use clap::Parser;

/// Errors are one message (with its causes: `a: b: c`) and exit status 1,
/// never a backtrace, whatever `RUST_BACKTRACE` says: they are for the
/// operator, not for a debugger. clap's usage errors exit 2 on their own.
fn main() -> std::process::ExitCode {
    let cli = cli::Cli::parse();
    let result = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(anyhow::Error::from)
        .and_then(|runtime| runtime.block_on(cli::run(cli)));
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("Error: {}", text::printable(&format!("{e:#}")));
            std::process::ExitCode::FAILURE
        }
    }
}
