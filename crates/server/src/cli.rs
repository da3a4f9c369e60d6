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

#[derive(Subcommand)]
pub enum Command {
    /// Serve the API.
    Serve(ServeArgs),
}

#[derive(Args, Clone)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "VPNGW_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// Directory holding the database and the master key file.
    #[arg(long, env = "VPNGW_DATA_DIR", default_value = "./vpngw-data")]
    pub data_dir: PathBuf,

    /// Root access key ID given to the root account on first start.
    #[arg(long, env = "VPNGW_ROOT_ACCESS_KEY_ID", hide_env_values = true)]
    pub root_access_key_id: Option<String>,

    /// Root access key secret given to the root account on first start.
    #[arg(long, env = "VPNGW_ROOT_ACCESS_KEY_SECRET", hide_env_values = true)]
    pub root_access_key_secret: Option<String>,

    /// Milliseconds a new VPN gateway stays `init` before it is `active`.
    #[arg(long, env = "VPNGW_GATEWAY_PROVISION_DELAY_MS", default_value_t = 2000)]
    pub gateway_provision_delay_ms: i64,

    /// Milliseconds a modified VPN gateway stays `updating`.
    #[arg(long, env = "VPNGW_GATEWAY_UPDATE_DELAY_MS", default_value_t = 0)]
    pub gateway_update_delay_ms: i64,

    /// CIDR block VPN gateways' public IPs are taken from.
    #[arg(long, env = "VPNGW_PUBLIC_IP_POOL", default_value = "198.18.0.0/15")]
    pub public_ip_pool: ipnet::Ipv4Net,

    /// VPN gateways per account and region (0: unlimited).
    #[arg(long, env = "VPNGW_QUOTA_VPN_GATEWAYS", default_value_t = 100)]
    pub quota_vpn_gateways: u32,

    /// Customer gateways per account and region (0: unlimited).
    #[arg(long, env = "VPNGW_QUOTA_CUSTOMER_GATEWAYS", default_value_t = 100)]
    pub quota_customer_gateways: u32,

    /// IPsec connections per VPN gateway (0: unlimited).
    #[arg(
        long,
        env = "VPNGW_QUOTA_CONNECTIONS_PER_GATEWAY",
        default_value_t = 10
    )]
    pub quota_connections_per_gateway: u32,

    /// Largest request body accepted, in bytes.
    #[arg(long, env = "VPNGW_MAX_BODY_BYTES", default_value_t = 1 << 20)]
    pub max_body_bytes: usize,

    /// Log format: `text` or `json`.
    #[arg(long, env = "VPNGW_LOG_FORMAT", default_value = "text")]
    pub log_format: String,
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(args) => crate::serve::serve(args).await,
    }
}
