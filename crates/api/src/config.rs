//! Behaviour settings of the API (timings, quotas, address pools).

use ipnet::Ipv4Net;

#[derive(Debug, Clone)]
pub struct Config {
    /// How long a new VPN gateway stays `init` before it is `active`.
    pub gateway_provision_delay_ms: i64,
    /// How long a modified VPN gateway stays `updating`.
    pub gateway_update_delay_ms: i64,
    /// Where VPN gateways' public IPs come from. The default, 198.18.0.0/15
    /// (RFC 2544 benchmarking), is never routed on the internet.
    pub public_ip_pool: Ipv4Net,
    pub quotas: Quotas,
    /// The shortest STS credential AssumeRole issues, in seconds: the
    /// cloud's 900 unless lowered for tests with the environment variable
    /// `VPNGW_STS_MIN_DURATION_SECONDS` (read by `Config::default`).
    pub sts_min_duration_seconds: i64,
    /// Requests per second and account (token bucket, one second of
    /// burst); 0: no limit. Per process (`throttle.rs`).
    pub rate_limit_per_account: u32,
    /// Serve `ResetState` (vpngw's own product), which empties the store
    /// back to a first start: `vpngw serve --dev` only.
    pub reset_allowed: bool,
    /// Refuse CreateVpnGateway with a `VpcId` or `VSwitchId` vpngw does
    /// not know (otherwise such "external" VPCs are accepted as given).
    pub strict_vpc: bool,
    /// How long the remote-access clients of an agent's last report are
    /// shown without a newer report (the SSL server's DescribeSslVpnClients
    /// and `Connections`, the IPsec server's `OnlineClientCount`): three of
    /// the agent's 30 s refreshes, so a lost report or two do not hide live
    /// clients and a dead agent's clients go within 90 s
    /// (`vpngw_model::measured`; docs/api-decisions.md "SSL-VPN").
    pub clients_fresh_ms: i64,
}

/// Per-account limits; 0 means unlimited.
#[derive(Debug, Clone)]
pub struct Quotas {
    pub vpcs_per_region: u32,
    pub vpn_gateways_per_region: u32,
    pub customer_gateways_per_region: u32,
    pub connections_per_gateway: u32,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            gateway_provision_delay_ms: 2_000,
            gateway_update_delay_ms: 0,
            clients_fresh_ms: 90_000,
            public_ip_pool: Ipv4Net::new(std::net::Ipv4Addr::new(198, 18, 0, 0), 15)
                .unwrap_or_default(),
            quotas: Quotas::default(),
            sts_min_duration_seconds: std::env::var("VPNGW_STS_MIN_DURATION_SECONDS")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(900),
            rate_limit_per_account: 0,
            reset_allowed: false,
            strict_vpc: false,
        }
    }
}

impl Default for Quotas {
    /// The cloud's default quotas for one account and region.
    fn default() -> Self {
        Quotas {
            vpcs_per_region: 10,
            vpn_gateways_per_region: 100,
            customer_gateways_per_region: 100,
            connections_per_gateway: 10,
        }
    }
}
