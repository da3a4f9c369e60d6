//! The entries of a VPC's system route table, as `DescribeRouteEntryList`
//! lists them (docs/api-decisions.md, "The VPC's route table").
//!
//! They are derived, never stored: one `System` entry per vSwitch (its
//! block, next hop `local`), and one entry per destination that a VPN
//! gateway of the VPC publishes (a destination-based or policy-based route
//! with `PublishVpc`, or a BGP-learned route while the gateway propagates
//! them), next hop the gateway. So an entry appears with the publication and
//! goes with the withdrawal, the route or the gateway, in the same write.
//!
//! Entry ids are stable: the same table and destination always name the
//! same `rte-` id, so a client may keep one between two reads.

use std::collections::BTreeMap;

use ipnet::Ipv4Net;
use sha2::{Digest, Sha256};

use crate::{vpc::Vpc, wire_enum};

wire_enum!(
    /// `Type` of an entry (`RouteEntryType` filter).
    EntryType { System = "System", Custom = "Custom", Bgp = "BGP" }
);

wire_enum!(
    /// `NextHopType` of an entry's next hop.
    NextHopType { Local = "local", VpnGateway = "VpnGateway" }
);

/// A route a VPN gateway of the VPC puts into its system table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published<'a> {
    pub vpn_gateway_id: &'a str,
    pub destination: Ipv4Net,
    /// Learned over BGP (propagated), rather than configured.
    pub learned: bool,
}

/// One entry of the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteTableEntry {
    /// `rte-…`, stable for (table, destination).
    pub id: String,
    pub destination: Ipv4Net,
    pub entry_type: EntryType,
    pub next_hop_type: NextHopType,
    /// The gateways for `VpnGateway` (more than one is an equal-cost route,
    /// as the cloud lists several `NextHop`s); empty for `local`.
    pub next_hop_ids: Vec<String>,
}

/// The VPC's system table: its vSwitches' blocks in address order, then
/// the published destinations in address order. A destination published by
/// several gateways is one entry with each gateway as a next hop; it is
/// `Custom` if any gateway configured it, `BGP` if all learned it. A
/// destination equal to a vSwitch's block stays the vSwitch's (the cloud
/// never lets a route take a vSwitch's block from it).
pub fn system_table<'a>(
    vpc: &Vpc,
    region_code: &str,
    published: impl IntoIterator<Item = Published<'a>>,
) -> Vec<RouteTableEntry> {
    let mut local: Vec<Ipv4Net> = vpc.vswitch_blocks.iter().map(|(_, b)| *b).collect();
    local.sort();
    let mut remote: BTreeMap<Ipv4Net, (bool, Vec<String>)> = BTreeMap::new();
    for p in published {
        if local.contains(&p.destination) {
            continue;
        }
        let (configured, hops) = remote.entry(p.destination).or_default();
        *configured |= !p.learned;
        if !hops.iter().any(|h| h == p.vpn_gateway_id) {
            hops.push(p.vpn_gateway_id.to_owned());
            hops.sort();
        }
    }
    let table = vpc.route_table_id.as_str();
    let locals = local.into_iter().map(|dest| RouteTableEntry {
        id: entry_id(table, region_code, dest),
        destination: dest,
        entry_type: EntryType::System,
        next_hop_type: NextHopType::Local,
        next_hop_ids: Vec::new(),
    });
    let remotes = remote
        .into_iter()
        .map(|(dest, (configured, hops))| RouteTableEntry {
            id: entry_id(table, region_code, dest),
            destination: dest,
            entry_type: if configured {
                EntryType::Custom
            } else {
                EntryType::Bgp
            },
            next_hop_type: NextHopType::VpnGateway,
            next_hop_ids: hops,
        });
    locals.chain(remotes).collect()
}

/// `rte-` + the region code + 18 characters of a digest of the table and
/// destination: the shape of the cloud's ids, the same on every read.
fn entry_id(table: &str, region_code: &str, destination: Ipv4Net) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let digest = Sha256::digest(format!("{table}\n{destination}").as_bytes());
    let tail_len = 21 - region_code.len().min(21);
    let mut id = String::with_capacity(4 + 21);
    id.push_str("rte-");
    id.push_str(region_code);
    id.extend(
        digest
            .iter()
            .take(tail_len)
            .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char),
    );
    id
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Lifecycle;

    fn vpc(blocks: &[&str]) -> Vpc {
        Vpc {
            id: "vpc-bp1test".into(),
            region_id: "cn-hangzhou".into(),
            name: String::new(),
            description: String::new(),
            cidr_block: "172.16.0.0/12".parse().unwrap(),
            user_cidrs: Vec::new(),
            vrouter_id: "vrt-bp1test".into(),
            route_table_id: "vtb-bp1test".into(),
            resource_group_id: String::new(),
            create_time_ms: 0,
            lifecycle: Lifecycle::settled("Available"),
            tags: Vec::new(),
            vswitch_blocks: blocks
                .iter()
                .enumerate()
                .map(|(i, b)| (format!("vsw-{i}"), b.parse().unwrap()))
                .collect(),
        }
    }

    fn published<'a>(gw: &'a str, dest: &str, learned: bool) -> Published<'a> {
        Published {
            vpn_gateway_id: gw,
            destination: dest.parse().unwrap(),
            learned,
        }
    }

    #[test]
    fn vswitches_then_published_destinations_in_address_order() {
        let table = system_table(
            &vpc(&["172.16.1.0/24", "172.16.0.0/24"]),
            "bp1",
            [
                published("vpn-b", "10.0.1.0/24", false),
                published("vpn-a", "10.0.0.0/24", true),
            ],
        );
        let seen: Vec<(String, &str, &str, Vec<String>)> = table
            .iter()
            .map(|e| {
                (
                    e.destination.to_string(),
                    e.entry_type.as_str(),
                    e.next_hop_type.as_str(),
                    e.next_hop_ids.clone(),
                )
            })
            .collect();
        assert_eq!(
            seen,
            vec![
                ("172.16.0.0/24".into(), "System", "local", vec![]),
                ("172.16.1.0/24".into(), "System", "local", vec![]),
                (
                    "10.0.0.0/24".into(),
                    "BGP",
                    "VpnGateway",
                    vec!["vpn-a".into()]
                ),
                (
                    "10.0.1.0/24".into(),
                    "Custom",
                    "VpnGateway",
                    vec!["vpn-b".into()]
                ),
            ]
        );
    }

    #[test]
    fn one_entry_per_destination_and_a_vswitch_keeps_its_block() {
        let table = system_table(
            &vpc(&["172.16.0.0/24"]),
            "bp1",
            [
                published("vpn-b", "10.0.0.0/24", true),
                published("vpn-a", "10.0.0.0/24", false),
                published("vpn-a", "10.0.0.0/24", true),
                published("vpn-a", "172.16.0.0/24", false),
            ],
        );
        assert_eq!(table.len(), 2, "{table:?}");
        let entry = &table[1];
        assert_eq!(entry.entry_type, EntryType::Custom);
        assert_eq!(entry.next_hop_ids, vec!["vpn-a", "vpn-b"]);
        assert_eq!(table[0].next_hop_type, NextHopType::Local);
    }

    #[test]
    fn entry_ids_are_stable_and_shaped_like_the_clouds() {
        let a = system_table(&vpc(&["172.16.0.0/24"]), "bp1", []);
        let b = system_table(&vpc(&["172.16.0.0/24", "172.16.1.0/24"]), "bp1", []);
        assert_eq!(a[0].id, b[0].id);
        assert_ne!(b[0].id, b[1].id);
        assert_eq!(a[0].id.len(), "rte-".len() + 21);
        let tail = a[0].id.strip_prefix("rte-bp1").unwrap();
        assert!(
            tail.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()),
            "{}",
            a[0].id
        );
    }
}
