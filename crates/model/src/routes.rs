//! Routes: the destination-based routes of an IPsec connection (VCO routes,
//! used by transit-router attachments and connections in route mode), and
//! the destination-based and policy-based route tables of a VPN gateway.
//!
//! The cloud has no IDs for routes: every call names a route by its fields
//! (destination, next hop, and the source for policy-based routes). vpngw
//! still needs a stable key to store them under; [`VcoRoute::key`],
//! [`VpnRoute::key`] and [`VpnPbrRoute::key`] derive it from exactly the
//! fields that identify a route, prefixed by the owner's ID (globally unique
//! and never reused), so the same route always has the same key, two routes
//! that the cloud would call duplicates collide on it, and the key never
//! appears on the wire.

use std::str::FromStr;

use ipnet::Ipv4Net;
use serde::{Deserialize, Serialize};

use crate::wire_enum;

wire_enum!(
    /// `RouteEntryType`: routes configured through the API, or learned over BGP.
    RouteEntryType { Custom = "custom", Bgp = "bgp" }
);

/// The only tunnelling protocol (`OverlayMode`).
pub const OVERLAY_IPSEC: &str = "Ipsec";
/// Weights a route may have: standby and active.
pub const WEIGHTS: &[i64] = &[0, 100];
/// Priorities of policy-based routes; a smaller value wins.
pub const PRIORITY_RANGE: std::ops::RangeInclusive<i64> = 1..=100;
/// `Priority` of a policy-based route created without one.
pub const DEFAULT_PRIORITY: i64 = 10;

/// `State` of a gateway route that is advertised to the VPC's route table.
pub const STATE_PUBLISHED: &str = "published";
/// `State` of a gateway route that is not advertised.
pub const STATE_NORMAL: &str = "normal";

/// A route of one IPsec connection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VcoRoute {
    /// Internal key, see [`VcoRoute::key`].
    pub id: String,
    pub region_id: String,
    pub vpn_connection_id: String,
    /// Normalised IPv4 CIDR block.
    pub route_dest: String,
    /// The connection itself.
    pub next_hop: String,
    pub weight: i64,
    pub overlay_mode: String,
    pub description: String,
    pub route_entry_type: RouteEntryType,
    /// BGP routes only: `CLOUD` or `VPN_BGP`.
    pub source: String,
    /// BGP routes only.
    pub as_path: String,
    /// BGP routes only.
    pub community: String,
    /// `published` for custom routes, `Active` for BGP routes.
    pub state: String,
    pub create_time_ms: i64,
}

impl VcoRoute {
    pub fn key(
        vpn_connection_id: &str,
        kind: RouteEntryType,
        route_dest: &str,
        next_hop: &str,
    ) -> String {
        format!("{vpn_connection_id}/{kind}/{route_dest}/{next_hop}")
    }
}

/// A destination-based route of a VPN gateway.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VpnRoute {
    /// Internal key, see [`VpnRoute::key`].
    pub id: String,
    pub region_id: String,
    pub vpn_gateway_id: String,
    pub route_dest: String,
    /// An IPsec connection of the gateway.
    pub next_hop: String,
    pub weight: i64,
    pub overlay_mode: String,
    pub description: String,
    /// Advertised to the VPC's system route table (`State` `published`).
    pub publish_vpc: bool,
    pub route_entry_type: RouteEntryType,
    pub source: String,
    pub as_path: String,
    pub community: String,
    pub create_time_ms: i64,
}

impl VpnRoute {
    pub fn key(
        vpn_gateway_id: &str,
        kind: RouteEntryType,
        route_dest: &str,
        next_hop: &str,
    ) -> String {
        let table = match kind {
            RouteEntryType::Custom => "dbr",
            RouteEntryType::Bgp => "bgp",
        };
        format!("{vpn_gateway_id}/{table}/{route_dest}/{next_hop}")
    }

    pub fn state(&self) -> &'static str {
        if self.publish_vpc {
            STATE_PUBLISHED
        } else {
            STATE_NORMAL
        }
    }
}

/// A policy-based route of a VPN gateway: traffic from `route_source` to
/// `route_dest` goes to `next_hop`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VpnPbrRoute {
    /// Internal key, see [`VpnPbrRoute::key`].
    pub id: String,
    pub region_id: String,
    pub vpn_gateway_id: String,
    pub route_source: String,
    pub route_dest: String,
    pub next_hop: String,
    pub weight: i64,
    pub priority: i64,
    pub overlay_mode: String,
    pub description: String,
    pub publish_vpc: bool,
    pub create_time_ms: i64,
    /// Created by the connection's `AutoConfigRoute` (see
    /// [`auto_config_pairs`]), so that a change of its subnets replaces
    /// it; never on the wire. Routes stored before this field: `false`.
    #[serde(default)]
    pub auto_configured: bool,
}

impl VpnPbrRoute {
    pub fn key(
        vpn_gateway_id: &str,
        route_source: &str,
        route_dest: &str,
        next_hop: &str,
    ) -> String {
        format!("{vpn_gateway_id}/pbr/{route_source}/{route_dest}/{next_hop}")
    }

    pub fn state(&self) -> &'static str {
        if self.publish_vpc {
            STATE_PUBLISHED
        } else {
            STATE_NORMAL
        }
    }
}

/// A route's CIDR block as the cloud takes it: IPv4, prefix length given,
/// host bits zero, written canonically (no leading zeros), so that the value
/// a client sent is the value every answer echoes and clients that find
/// their route again by comparing strings (Terraform) do. Surrounding
/// blanks are dropped.
pub fn route_cidr(s: &str) -> Option<String> {
    let s = s.trim();
    let net = Ipv4Net::from_str(s).ok()?;
    let canonical = net.to_string();
    (net.network() == net.addr() && canonical == s).then_some(canonical)
}

/// The policy-based routes `AutoConfigRoute=true` gives a connection of a
/// VPN gateway, as (source, destination): one per `LocalSubnet` block and
/// `RemoteSubnet` block, in the order given. A destination of `0.0.0.0/0`
/// (a connection in destination routing mode) gives none: the cloud refuses
/// that destination for policy-based routes.
pub fn auto_config_pairs(local_subnet: &str, remote_subnet: &str) -> Vec<(String, String)> {
    let blocks = |list: &str| -> Vec<Ipv4Net> {
        list.split(',')
            .filter_map(|s| Ipv4Net::from_str(s.trim()).ok())
            .map(|n| n.trunc())
            .collect()
    };
    let remotes: Vec<Ipv4Net> = blocks(remote_subnet)
        .into_iter()
        .filter(|n| n.prefix_len() > 0)
        .collect();
    let mut out = Vec::new();
    for l in blocks(local_subnet) {
        for r in &remotes {
            let pair = (l.to_string(), r.to_string());
            if !out.contains(&pair) {
                out.push(pair);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_config_routes_pair_every_local_block_with_every_remote_block() {
        let pairs = auto_config_pairs("10.0.0.0/24,10.0.1.0/24", "192.168.0.0/16");
        assert_eq!(
            pairs,
            [
                ("10.0.0.0/24".to_owned(), "192.168.0.0/16".to_owned()),
                ("10.0.1.0/24".to_owned(), "192.168.0.0/16".to_owned())
            ]
        );
        // Destination routing mode: no policy-based route to 0.0.0.0/0.
        assert!(auto_config_pairs("0.0.0.0/0", "0.0.0.0/0").is_empty());
        assert_eq!(auto_config_pairs("0.0.0.0/0", "10.0.0.0/8").len(), 1);
        assert!(auto_config_pairs("", "10.0.0.0/8").is_empty());
    }

    #[test]
    fn cidrs() {
        assert_eq!(route_cidr("10.0.0.0/24").as_deref(), Some("10.0.0.0/24"));
        assert_eq!(route_cidr(" 0.0.0.0/0 ").as_deref(), Some("0.0.0.0/0"));
        assert_eq!(route_cidr("10.0.0.1/24"), None);
        assert_eq!(route_cidr("10.0.0.1"), None);
        assert_eq!(route_cidr("10.0.0.0/33"), None);
        assert_eq!(route_cidr("fd00::/8"), None);
        assert_eq!(route_cidr("010.0.0.0/8"), None);
    }

    #[test]
    fn keys_name_exactly_the_identifying_fields() {
        assert_eq!(
            VpnRoute::key("vpn-1", RouteEntryType::Custom, "10.0.0.0/24", "vco-1"),
            "vpn-1/dbr/10.0.0.0/24/vco-1"
        );
        assert_ne!(
            VpnRoute::key("vpn-1", RouteEntryType::Custom, "10.0.0.0/24", "vco-1"),
            VpnRoute::key("vpn-1", RouteEntryType::Bgp, "10.0.0.0/24", "vco-1")
        );
        assert_eq!(
            VpnPbrRoute::key("vpn-1", "192.168.0.0/16", "10.0.0.0/24", "vco-1"),
            "vpn-1/pbr/192.168.0.0/16/10.0.0.0/24/vco-1"
        );
        assert_eq!(
            VcoRoute::key("vco-1", RouteEntryType::Custom, "10.0.0.0/24", "vco-1"),
            "vco-1/custom/10.0.0.0/24/vco-1"
        );
    }
}
