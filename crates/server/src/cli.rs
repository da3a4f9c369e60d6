//! Command-line interface. Every flag can also be set through the
//! environment variable named beside it.

use std::{net::SocketAddr, path::PathBuf};

use clap::{Args, Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "vpngw",
    version,
    about = "A self-hosted Alibaba Cloud IPsec-VPN API"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

// Parsed once per process: the size of `ServeArgs` costs nothing worth a box.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
pub enum Command {
    /// Serve the API.
    Serve(ServeArgs),
    /// Manage root accounts (works beside a running server).
    Account {
        #[command(subcommand)]
        command: crate::account::AccountCommand,
    },
    /// Drive one VPN gateway's data plane (strongSwan) and report what it
    /// measures to the API.
    Agent(crate::agent::AgentArgs),
    /// Build real tunnels for a VPN gateway in network namespaces (root).
    Lab(crate::lab::LabArgs),
    /// Call a VPC operation, aliyun CLI style: `vpngw vpc DescribeVpnGateways --RegionId cn-hangzhou`.
    Vpc(crate::cloud::CallArgs),
    /// Call a RAM operation: `vpngw ram ListUsers`.
    Ram(crate::cloud::RamCallArgs),
    /// Call an STS operation: `vpngw sts GetCallerIdentity`.
    Sts(crate::cloud::StsCallArgs),
    /// Empty a `vpngw serve --dev` server back to its first start (ResetState).
    Reset(crate::cloud::ResetArgs),
    /// Save credentials, region and endpoint in a profile (~/.vpngw/config.json).
    Configure(crate::cloud::ConfigureArgs),
    /// Show the audit log of writes, from the data directory.
    Audit(crate::audit_cmd::AuditArgs),
    /// Print a shell completion script (e.g. `vpngw completion bash > /etc/bash_completion.d/vpngw`).
    Completion {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

/// Flags of `vpngw serve`. Each is optional here: an absent one falls back
/// to its environment variable (clap), then to the config file, then to the
/// default ([`crate::config::Settings`], which documents the precedence and
/// how to add a setting). Field names are the file's keys.
#[derive(Args, Clone, Default, serde::Serialize)]
pub struct ServeArgs {
    /// TOML file with any of the settings below (unknown keys are errors).
    #[arg(long, env = "VPNGW_CONFIG", value_name = "PATH")]
    #[serde(skip)]
    pub config: Option<PathBuf>,

    /// Local mode for test suites (docs/local-mode.md): temporary data dir, the well-known root key, no provisioning delays, ResetState [default: false].
    #[arg(long, env = "VPNGW_DEV", num_args = 0..=1, default_missing_value = "true")]
    pub dev: Option<bool>,

    /// Address to listen on: HTTPS when TLS is configured, else HTTP [default: 127.0.0.1:8080].
    #[arg(long, env = "VPNGW_LISTEN")]
    pub listen: Option<SocketAddr>,

    /// With TLS: also serve plain HTTP on this address [default: none].
    #[arg(long, env = "VPNGW_LISTEN_HTTP")]
    pub listen_http: Option<SocketAddr>,

    /// `self-signed`: HTTPS with a certificate from a CA generated in the data dir; `off`: plain HTTP [default: HTTPS if --tls-cert/--tls-key are set].
    #[arg(long, env = "VPNGW_TLS", value_enum)]
    pub tls: Option<crate::config::TlsMode>,

    /// PEM certificate chain for HTTPS, leaf first; reloaded on SIGHUP and on change.
    #[arg(long, env = "VPNGW_TLS_CERT", value_name = "PATH")]
    pub tls_cert: Option<PathBuf>,

    /// PEM private key of --tls-cert; reloaded with it.
    #[arg(long, env = "VPNGW_TLS_KEY", value_name = "PATH")]
    pub tls_key: Option<PathBuf>,

    /// Directory holding the database and the master key file; empty: a temporary one, removed at exit [default: ./vpngw-data, with --dev a temporary one].
    #[arg(long, env = "VPNGW_DATA_DIR")]
    pub data_dir: Option<PathBuf>,

    /// PostgreSQL database `postgres://user:password@host:5432/db`, shared by replicas [default: SQLite in the data dir].
    #[arg(long, env = "VPNGW_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,

    /// Master key file [default: <data-dir>/master.key]; VPNGW_MASTER_KEY (the key itself) wins.
    #[arg(long, env = "VPNGW_MASTER_KEY_FILE")]
    pub master_key_file: Option<PathBuf>,

    /// Root access key ID given to the root account on first start [default: generated, with --dev the well-known one].
    #[arg(long, env = "VPNGW_ROOT_ACCESS_KEY_ID", hide_env_values = true)]
    pub root_access_key_id: Option<String>,

    /// Root access key secret given to the root account on first start [default: generated, with --dev the well-known one].
    #[arg(long, env = "VPNGW_ROOT_ACCESS_KEY_SECRET", hide_env_values = true)]
    pub root_access_key_secret: Option<String>,

    /// Milliseconds a new VPN gateway stays `init` before it is `active` [default: 2000, with --dev 0].
    #[arg(long, env = "VPNGW_GATEWAY_PROVISION_DELAY_MS")]
    pub gateway_provision_delay_ms: Option<i64>,

    /// Milliseconds a modified VPN gateway stays `updating` [default: 0].
    #[arg(long, env = "VPNGW_GATEWAY_UPDATE_DELAY_MS")]
    pub gateway_update_delay_ms: Option<i64>,

    /// CIDR block VPN gateways' public IPs are taken from [default: 198.18.0.0/15].
    #[arg(long, env = "VPNGW_PUBLIC_IP_POOL")]
    pub public_ip_pool: Option<ipnet::Ipv4Net>,

    /// VPCs per account and region, 0: unlimited [default: 10].
    #[arg(long, env = "VPNGW_QUOTA_VPCS")]
    pub quota_vpcs: Option<u32>,

    /// VPN gateways per account and region, 0: unlimited [default: 100].
    #[arg(long, env = "VPNGW_QUOTA_VPN_GATEWAYS")]
    pub quota_vpn_gateways: Option<u32>,

    /// Customer gateways per account and region, 0: unlimited [default: 100].
    #[arg(long, env = "VPNGW_QUOTA_CUSTOMER_GATEWAYS")]
    pub quota_customer_gateways: Option<u32>,

    /// IPsec connections per VPN gateway, 0: unlimited [default: 10].
    #[arg(long, env = "VPNGW_QUOTA_CONNECTIONS_PER_GATEWAY")]
    pub quota_connections_per_gateway: Option<u32>,

    /// Largest request body accepted, in bytes [default: 1048576].
    #[arg(long, env = "VPNGW_MAX_BODY_BYTES")]
    pub max_body_bytes: Option<usize>,

    /// Open connections at most, within the fd limit; over it the one waiting longest for its client is closed [default: 10000].
    #[arg(long, env = "VPNGW_MAX_CONNECTIONS")]
    pub max_connections: Option<usize>,

    /// Milliseconds from accept (or a request's first byte) to its complete head [default: 10000].
    #[arg(long, env = "VPNGW_HEADER_READ_TIMEOUT_MS")]
    pub header_read_timeout_ms: Option<u64>,

    /// Keep-alive: milliseconds a connection may stay idle between requests [default: 60000].
    #[arg(long, env = "VPNGW_IDLE_TIMEOUT_MS")]
    pub idle_timeout_ms: Option<u64>,

    /// Milliseconds to read a whole request body (then 408 `RequestTimeout`) [default: 30000].
    #[arg(long, env = "VPNGW_BODY_READ_TIMEOUT_MS")]
    pub body_read_timeout_ms: Option<u64>,

    /// Signature nonces kept in the 30-minute replay window, in all; past it `Throttling` [default: 2000000].
    #[arg(long, env = "VPNGW_NONCE_LIMIT")]
    pub nonce_limit: Option<usize>,

    /// Signature nonces kept of one access key; past it `Throttling.User`; 0: only --nonce-limit [default: 500000].
    #[arg(long, env = "VPNGW_NONCE_LIMIT_PER_KEY")]
    pub nonce_limit_per_key: Option<usize>,

    /// Requests per second per account, answered `Throttling.User` beyond it; per process, 0: no limit [default: 0].
    #[arg(long, env = "VPNGW_RATE_LIMIT_PER_ACCOUNT")]
    pub rate_limit_per_account: Option<u32>,

    /// CreateVpnGateway refuses a VpcId / VSwitchId vpngw does not know (else external VPCs are accepted as given) [default: false].
    #[arg(long, env = "VPNGW_STRICT_VPC", num_args = 0..=1, default_missing_value = "true")]
    pub strict_vpc: Option<bool>,

    /// Log format on stderr [default: text].
    #[arg(long, env = "VPNGW_LOG_FORMAT", value_enum)]
    pub log_format: Option<crate::config::LogFormat>,

    /// Log filter (tracing directives, e.g. `debug` or `vpngw_api=debug,info`) [default: info].
    #[arg(long, env = "VPNGW_LOG")]
    pub log: Option<String>,

    /// Serve Prometheus metrics at /metrics [default: true].
    #[arg(long, env = "VPNGW_METRICS")]
    pub metrics: Option<bool>,

    /// Serve the web console at /console/ [default: true].
    #[arg(long, env = "VPNGW_CONSOLE")]
    pub console: Option<bool>,
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(args) => crate::serve::serve(args).await,
        Command::Account { command } => crate::account::run(command).await,
        Command::Agent(args) => crate::agent::run(args).await,
        Command::Lab(args) => crate::lab::run(args).await,
        Command::Vpc(a) => call(crate::cloud::CloudProduct::Vpc, &a.action, &a.rest).await,
        Command::Ram(a) => call(crate::cloud::CloudProduct::Ram, &a.action, &a.rest).await,
        Command::Sts(a) => call(crate::cloud::CloudProduct::Sts, &a.action, &a.rest).await,
        Command::Reset(a) => call(crate::cloud::CloudProduct::Vpngw, "ResetState", &a.rest).await,
        Command::Configure(a) => usage(crate::cloud::configure(a).map(|()| 0)),
        Command::Audit(a) => crate::audit_cmd::run(a).await,
        Command::Completion { shell } => {
            let mut command = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut command, "vpngw", &mut std::io::stdout());
            Ok(())
        }
    }
}

/// `vpngw vpc|ram|sts|reset …` and `vpngw configure`: a usage error (a parameter the operation does not
/// take, a waiter that timed out) is one `ERROR: …` line and exit status 1,
/// like an API error, never a backtrace.
async fn call(
    product: crate::cloud::CloudProduct,
    action: &str,
    rest: &[String],
) -> anyhow::Result<()> {
    usage(crate::cloud::run(product, action, rest).await)
}

/// The exit of a CLI command: its code, or its error as one `ERROR: …` line
/// and status 1.
fn usage(result: anyhow::Result<i32>) -> anyhow::Result<()> {
    match result {
        Ok(code) => exit_with(code),
        Err(e) => {
            eprintln!("ERROR: {e:#}");
            exit_with(1)
        }
    }
}

/// Ends the process with `code` when it is not 0 (an API error was printed).
fn exit_with(code: i32) -> anyhow::Result<()> {
    if code != 0 {
        use std::io::Write;
        let _ = std::io::stdout().flush();
        std::process::exit(code);
    }
    Ok(())
}
