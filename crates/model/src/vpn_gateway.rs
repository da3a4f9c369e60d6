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
    /// Absent from gateways stored before enhanced gateways were served:
    /// those are all traditional.
    #[serde(default)]
    pub gateway_type: GatewayType,
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
    /// The VPC and vSwitches vpngw knows that the gateway was placed in
    /// (CreateVpnGateway with a known `VSwitchId`): they cannot be deleted
    /// while it exists. Empty for a gateway in an external VPC.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub placed_in: Vec<String>,
}

impl VpnGateway {
    /// `Spec` as DescribeVpnGateway reports it: the bandwidth with an `M`;
    /// empty for an enhanced gateway, which is created without one.
    pub fn spec(&self) -> String {
        match self.gateway_type {
            GatewayType::Traditional => format!("{}M", self.bandwidth_mbps),
            GatewayType::EnhancedSiteToSite => String::new(),
        }
    }
}

/// `GatewayType`: a traditional gateway (CreateVpnGateway: IPsec and
/// SSL-VPN, single or dual tunnel) or an enhanced one
/// (CreateEnhancedVpnGateway: site-to-cloud IPsec only, dual tunnel only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum GatewayType {
    #[default]
    Traditional,
    #[serde(rename = "Enhanced.SiteToSite")]
    EnhancedSiteToSite,
}

impl GatewayType {
    /// The value the API sends and takes.
    pub fn as_str(self) -> &'static str {
        match self {
            GatewayType::Traditional => "Traditional",
            GatewayType::EnhancedSiteToSite => "Enhanced.SiteToSite",
        }
    }

    /// The API's value, exactly as it spells it.
    pub fn parse(value: &str) -> Option<Self> {
        [GatewayType::Traditional, GatewayType::EnhancedSiteToSite]
            .into_iter()
            .find(|t| t.as_str() == value)
    }
}

/// The gateway's two remote-access servers, which share one connection
/// quota: `SslConnections` (`SslMaxConnections` in DescribeVpnGateway,
/// `MaxConnections` in ListIpsecServers). The cloud: "if the maximum number
/// of SSL-VPN connections is 5 and three SSL clients are already connected
/// to SSL-VPN, only two more clients can connect to the IPsec server".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RemoteAccess {
    /// The SSL-VPN server (OpenVPN).
    Ssl,
    /// The IPsec server (IKE road warriors on charon).
    Ipsec,
}

/// One client session of a remote-access server, as the data plane sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteSession {
    pub server: RemoteAccess,
    /// How the data plane names the session (a charon IKE SA id, an OpenVPN
    /// client id).
    pub session: String,
    /// Seconds since the session came up.
    pub connected_for_s: u64,
}

/// How many more clients may connect to either server while `online` are.
pub fn free_connections(max_connections: i64, online: usize) -> i64 {
    max_connections.saturating_sub(i64::try_from(online).unwrap_or(i64::MAX))
}

/// The sessions to end so that at most `max_connections` stay: the newest
/// ones, which a full gateway would have refused. The servers learn of each
/// other's clients only after the fact, so a client that got in over the
/// quota is let go as soon as the data plane sees it.
pub fn over_quota(max_connections: i64, sessions: &[RemoteSession]) -> Vec<&RemoteSession> {
    let keep = usize::try_from(max_connections.max(0)).unwrap_or(usize::MAX);
    let mut newest_first: Vec<&RemoteSession> = sessions.iter().collect();
    // Ties (the same second) by name, so both sides of a race agree.
    newest_first.sort_by(|a, b| {
        a.connected_for_s
            .cmp(&b.connected_for_s)
            .then_with(|| b.session.cmp(&a.session))
    });
    let excess = sessions.len().saturating_sub(keep);
    newest_first.truncate(excess);
    newest_first
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn session(server: RemoteAccess, name: &str, age: u64) -> RemoteSession {
        RemoteSession {
            server,
            session: name.into(),
            connected_for_s: age,
        }
    }

    #[test]
    fn the_clouds_example_three_ssl_leave_two_for_ipsec() {
        let mut online = vec![
            session(RemoteAccess::Ssl, "s1", 300),
            session(RemoteAccess::Ssl, "s2", 200),
            session(RemoteAccess::Ssl, "s3", 100),
        ];
        assert_eq!(free_connections(5, online.len()), 2);
        online.push(session(RemoteAccess::Ipsec, "i1", 50));
        online.push(session(RemoteAccess::Ipsec, "i2", 40));
        assert!(over_quota(5, &online).is_empty());
        online.push(session(RemoteAccess::Ipsec, "i3", 0));
        let cut = over_quota(5, &online);
        assert_eq!(cut.len(), 1);
        assert_eq!(cut[0].session, "i3");
        assert_eq!(free_connections(5, online.len()), -1);
    }

    proptest! {
        /// Exactly the excess goes, and nothing that goes is older than
        /// anything that stays.
        #[test]
        fn the_newest_excess_goes(max in 0i64..8, ages in proptest::collection::vec(0u64..20, 0..12)) {
            let sessions: Vec<RemoteSession> = ages
                .iter()
                .enumerate()
                .map(|(i, a)| session(if i % 2 == 0 { RemoteAccess::Ssl } else { RemoteAccess::Ipsec }, &format!("c{i:02}"), *a))
                .collect();
            let cut = over_quota(max, &sessions);
            prop_assert_eq!(cut.len(), sessions.len().saturating_sub(max as usize));
            let oldest_cut = cut.iter().map(|s| s.connected_for_s).max();
            for s in &sessions {
                if !cut.iter().any(|c| c.session == s.session) {
                    prop_assert!(oldest_cut.is_none_or(|o| s.connected_for_s >= o));
                }
            }
        }
    }
}
