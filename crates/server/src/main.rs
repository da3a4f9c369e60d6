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
mod text;
mod tls;

use clap::Parser;

fn main() -> anyhow::Result<()> {
    let cli = cli::Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(cli::run(cli))
}
