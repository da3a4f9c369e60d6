//! VPN gateways.

use serde::{Deserialize, Serialize};

use crate::{lifecycle::Lifecycle, tags::Tag};

/// Bandwidths (Mbps) CreateVpnGateway accepts.
pub const BANDWIDTHS: &[i64] = &[5, 10, 20, 50, 100, 200, 500, 1000];
/// SslConnections values CreateVpnGateway accepts.
pub const SSL_CONNECTIONS: &[i64] = &[5, 10, 20, 50, 100, 200, 500, 1000];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VpnGateway {
    pub id: String,
    pub region_id: String,
    pub name: String,
    pub description: String,
    pub vpc_id: String,
    pub vswitch_id: String,
    /// Set for dual-tunnel gateways: a second vSwitch in another zone.
    pub disaster_recovery_vswitch_id: Option<String>,
    pub internet_ip: String,
    /// The second public IP of a dual-tunnel gateway.
    pub disaster_recovery_internet_ip: Option<String>,
    pub ssl_vpn_internet_ip: Option<String>,
    pub bandwidth_mbps: i64,
    /// `public` or `private`.
    pub network_type: String,
    /// `PostpayByFlow` or `Prepay`, as DescribeVpnGateway reports it.
    pub charge_type: String,
    pub enable_ipsec: bool,
    pub enable_ssl: bool,
    pub ssl_connections: i64,
    /// `Normal` or `NationalStandard`.
    pub vpn_type: String,
    pub auto_propagate: bool,
    pub enable_bgp: bool,
    pub resource_group_id: String,
    pub create_time_ms: i64,
    /// Prepaid gateways expire; pay-as-you-go ones report the cloud's far-future value.
    pub end_time_ms: i64,
    pub lifecycle: Lifecycle,
    pub tags: Vec<Tag>,
}

impl VpnGateway {
    /// `Spec` as DescribeVpnGateway reports it: the bandwidth with an `M`.
    pub fn spec(&self) -> String {
        format!("{}M", self.bandwidth_mbps)
    }
}
