//! VPCs and vSwitches: the private network a VPN gateway sits in, with the
//! cloud's CIDR rules (CreateVpc and CreateVSwitch API references).
//!
//! A VPC keeps the blocks of its vSwitches (`Vpc::vswitch_blocks`): a new
//! vSwitch is checked against them and added in one versioned write of the
//! VPC, so two concurrent CreateVSwitch calls can never both take
//! overlapping blocks, and the per-VPC quota holds under concurrency too.

use std::net::Ipv4Addr;

use ipnet::Ipv4Net;
use serde::{Deserialize, Serialize};

use crate::{lifecycle::Lifecycle, tags::Tag};

/// CreateVpc without `CidrBlock`.
pub const DEFAULT_VPC_CIDR: &str = "172.16.0.0/12";
/// vSwitches per VPC (CreateVSwitch: "at most 150 vSwitches in a VPC").
pub const VSWITCHES_PER_VPC: usize = 150;
/// Prefix lengths a VPC's block may have.
pub const VPC_PREFIXES: std::ops::RangeInclusive<u8> = 8..=28;
/// Prefix lengths a vSwitch's block may have.
pub const VSWITCH_PREFIXES: std::ops::RangeInclusive<u8> = 16..=29;

/// Blocks no VPC may use or overlap: shared address space, multicast,
/// loopback and link-local (CreateVpc, "CidrBlock").
const RESERVED: [&str; 4] = [
    "100.64.0.0/10",
    "224.0.0.0/4",
    "127.0.0.0/8",
    "169.254.0.0/16",
];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Vpc {
    pub id: String,
    pub region_id: String,
    /// `VpcName`.
    pub name: String,
    pub description: String,
    pub cidr_block: Ipv4Net,
    /// `UserCidr`: blocks the user keeps for other networks (at most 3).
    pub user_cidrs: Vec<Ipv4Net>,
    /// The VPC's vRouter (`VRouterId`, `vrt-`).
    pub vrouter_id: String,
    /// The vRouter's system route table (`vtb-`).
    pub route_table_id: String,
    pub resource_group_id: String,
    pub create_time_ms: i64,
    /// `Pending`, then `Available`.
    pub lifecycle: Lifecycle,
    pub tags: Vec<Tag>,
    /// `(vSwitch id, block)` of every vSwitch of the VPC.
    pub vswitch_blocks: Vec<(String, Ipv4Net)>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VSwitch {
    pub id: String,
    pub region_id: String,
    pub vpc_id: String,
    pub zone_id: String,
    pub cidr_block: Ipv4Net,
    /// `VSwitchName`.
    pub name: String,
    pub description: String,
    pub resource_group_id: String,
    pub create_time_ms: i64,
    /// `Pending`, then `Available`.
    pub lifecycle: Lifecycle,
    pub tags: Vec<Tag>,
}

/// Why a VPC block is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VpcCidrError {
    /// Not `a.b.c.d/n`, or host bits set.
    Malformed,
    /// Prefix outside [`VPC_PREFIXES`].
    Prefix,
    /// Overlaps a reserved block.
    Reserved,
}

/// Why a vSwitch block is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VSwitchCidrError {
    Malformed,
    /// Prefix outside [`VSWITCH_PREFIXES`].
    Prefix,
    /// Not inside the VPC's block.
    OutsideVpc,
    /// Overlaps the block of this vSwitch of the VPC.
    Overlaps(String),
    /// The VPC has [`VSWITCHES_PER_VPC`] vSwitches.
    Quota,
}

/// A block with its host bits zero, as the cloud requires (`10.0.0.1/8` is
/// refused rather than truncated).
fn exact_block(s: &str) -> Option<Ipv4Net> {
    let net: Ipv4Net = s.trim().parse().ok()?;
    (net.network() == net.addr()).then_some(net)
}

fn overlap(a: &Ipv4Net, b: &Ipv4Net) -> bool {
    a.contains(b) || b.contains(a)
}

/// CreateVpc's `CidrBlock` (and `UserCidr`): any block of /8–/28 that
/// overlaps no reserved block — the private ranges and their subnets, or a
/// custom public one.
pub fn vpc_cidr(s: &str) -> Result<Ipv4Net, VpcCidrError> {
    let net = exact_block(s).ok_or(VpcCidrError::Malformed)?;
    if !VPC_PREFIXES.contains(&net.prefix_len()) {
        return Err(VpcCidrError::Prefix);
    }
    if RESERVED
        .iter()
        .filter_map(|r| r.parse::<Ipv4Net>().ok())
        .any(|r| overlap(&r, &net))
    {
        return Err(VpcCidrError::Reserved);
    }
    Ok(net)
}

impl Vpc {
    /// CreateVSwitch's `CidrBlock` for this VPC: /16–/29, inside the VPC's
    /// block, overlapping no other vSwitch of it, within the quota.
    pub fn vswitch_cidr(&self, s: &str) -> Result<Ipv4Net, VSwitchCidrError> {
        let net = exact_block(s).ok_or(VSwitchCidrError::Malformed)?;
        if !VSWITCH_PREFIXES.contains(&net.prefix_len()) {
            return Err(VSwitchCidrError::Prefix);
        }
        if !self.cidr_block.contains(&net) {
            return Err(VSwitchCidrError::OutsideVpc);
        }
        if let Some((id, _)) = self.vswitch_blocks.iter().find(|(_, b)| overlap(b, &net)) {
            return Err(VSwitchCidrError::Overlaps(id.clone()));
        }
        if self.vswitch_blocks.len() >= VSWITCHES_PER_VPC {
            return Err(VSwitchCidrError::Quota);
        }
        Ok(net)
    }

    /// The VPC's vSwitch ids, oldest first.
    pub fn vswitch_ids(&self) -> Vec<String> {
        self.vswitch_blocks
            .iter()
            .map(|(id, _)| id.clone())
            .collect()
    }
}

/// Addresses of a vSwitch that no instance gets: the first and the last
/// three (CreateVSwitch: "192.168.1.0, .253, .254 and .255 are reserved").
pub fn usable_addresses(block: &Ipv4Net) -> impl Iterator<Item = Ipv4Addr> + use<> {
    let first = u32::from(block.network()).saturating_add(1);
    let last = u32::from(block.broadcast()).saturating_sub(3);
    (first..=last).map(Ipv4Addr::from)
}

/// `AvailableIpAddressCount` of a vSwitch with `used` addresses taken.
pub fn available_ip_count(block: &Ipv4Net, used: usize) -> u64 {
    let size = 1u64 << (32 - block.prefix_len());
    size.saturating_sub(4).saturating_sub(used as u64)
}

/// An address of a vSwitch's block for something placed in it (a private
/// VPN gateway): one of the usable addresses (not the first, not the last
/// three, as [`available_ip_count`] counts them), the first from the
/// `start`-th one on, wrapping, that `taken` does not hold; `None` when every
/// usable address is taken.
pub fn free_host(
    block: &Ipv4Net,
    start: u64,
    taken: &[std::net::Ipv4Addr],
) -> Option<std::net::Ipv4Addr> {
    let usable = available_ip_count(block, 0);
    let first = u64::from(u32::from(block.network())) + 1;
    (0..usable)
        .map(|i| std::net::Ipv4Addr::from((first + (start + i) % usable) as u32))
        .find(|a| !taken.contains(a))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn free_hosts_are_usable_and_untaken() {
        let block = net("192.168.1.0/29"); // .1 to .4 usable
        let addr = |s: &str| s.parse::<std::net::Ipv4Addr>().unwrap();
        assert_eq!(free_host(&block, 0, &[]), Some(addr("192.168.1.1")));
        assert_eq!(free_host(&block, 5, &[]), Some(addr("192.168.1.2")));
        assert_eq!(
            free_host(&block, 3, &[addr("192.168.1.4")]),
            Some(addr("192.168.1.1"))
        );
        let all: Vec<_> = (1..=4).map(|i| addr(&format!("192.168.1.{i}"))).collect();
        assert_eq!(free_host(&block, 0, &all), None);
    }

    fn net(s: &str) -> Ipv4Net {
        s.parse().unwrap()
    }

    fn vpc(cidr: &str) -> Vpc {
        Vpc {
            id: "vpc-1".into(),
            region_id: "cn-hangzhou".into(),
            name: String::new(),
            description: String::new(),
            cidr_block: net(cidr),
            user_cidrs: Vec::new(),
            vrouter_id: "vrt-1".into(),
            route_table_id: "vtb-1".into(),
            resource_group_id: String::new(),
            create_time_ms: 0,
            lifecycle: Lifecycle::settled("Available"),
            tags: Vec::new(),
            vswitch_blocks: Vec::new(),
        }
    }

    #[test]
    fn vpc_blocks() {
        assert_eq!(vpc_cidr("172.16.0.0/12"), Ok(net("172.16.0.0/12")));
        assert_eq!(vpc_cidr("10.0.0.0/8"), Ok(net("10.0.0.0/8")));
        assert_eq!(vpc_cidr("192.168.0.0/28"), Ok(net("192.168.0.0/28")));
        // A custom public block is allowed.
        assert_eq!(vpc_cidr("47.0.0.0/16"), Ok(net("47.0.0.0/16")));
        assert_eq!(vpc_cidr("10.0.0.1/8"), Err(VpcCidrError::Malformed));
        assert_eq!(vpc_cidr("10.0.0.0"), Err(VpcCidrError::Malformed));
        assert_eq!(vpc_cidr("fd00::/8"), Err(VpcCidrError::Malformed));
        assert_eq!(vpc_cidr("10.0.0.0/7"), Err(VpcCidrError::Prefix));
        assert_eq!(vpc_cidr("192.168.0.0/29"), Err(VpcCidrError::Prefix));
        assert_eq!(vpc_cidr("100.64.0.0/16"), Err(VpcCidrError::Reserved));
        assert_eq!(vpc_cidr("96.0.0.0/4"), Err(VpcCidrError::Prefix));
        assert_eq!(vpc_cidr("100.0.0.0/8"), Err(VpcCidrError::Reserved));
        assert_eq!(vpc_cidr("169.254.0.0/16"), Err(VpcCidrError::Reserved));
        assert_eq!(vpc_cidr("127.0.0.0/8"), Err(VpcCidrError::Reserved));
        assert_eq!(vpc_cidr("224.0.0.0/8"), Err(VpcCidrError::Reserved));
    }

    #[test]
    fn vswitch_blocks() {
        let mut v = vpc("172.16.0.0/12");
        assert_eq!(v.vswitch_cidr("172.16.0.0/24"), Ok(net("172.16.0.0/24")));
        assert_eq!(
            v.vswitch_cidr("172.16.0.0/15"),
            Err(VSwitchCidrError::Prefix)
        );
        assert_eq!(
            v.vswitch_cidr("172.16.0.0/30"),
            Err(VSwitchCidrError::Prefix)
        );
        assert_eq!(
            v.vswitch_cidr("10.0.0.0/24"),
            Err(VSwitchCidrError::OutsideVpc)
        );
        assert_eq!(
            v.vswitch_cidr("172.16.0.1/24"),
            Err(VSwitchCidrError::Malformed)
        );
        v.vswitch_blocks
            .push(("vsw-a".into(), net("172.16.0.0/24")));
        assert_eq!(
            v.vswitch_cidr("172.16.0.128/25"),
            Err(VSwitchCidrError::Overlaps("vsw-a".into()))
        );
        assert_eq!(
            v.vswitch_cidr("172.16.0.0/16"),
            Err(VSwitchCidrError::Overlaps("vsw-a".into()))
        );
        assert_eq!(v.vswitch_cidr("172.16.1.0/24"), Ok(net("172.16.1.0/24")));
        // A vSwitch may take the VPC's whole block (then it is the only one).
        let w = vpc("192.168.0.0/24");
        assert_eq!(w.vswitch_cidr("192.168.0.0/24"), Ok(net("192.168.0.0/24")));
        let mut full = vpc("10.0.0.0/8");
        for i in 0..VSWITCHES_PER_VPC {
            full.vswitch_blocks
                .push((format!("vsw-{i}"), net(&format!("10.{i}.0.0/16"))));
        }
        assert_eq!(
            full.vswitch_cidr("10.200.0.0/16"),
            Err(VSwitchCidrError::Quota)
        );
    }

    #[test]
    fn reserved_addresses() {
        let b = net("192.168.1.0/24");
        let usable: Vec<Ipv4Addr> = usable_addresses(&b).collect();
        assert_eq!(usable.first(), Some(&Ipv4Addr::new(192, 168, 1, 1)));
        assert_eq!(usable.last(), Some(&Ipv4Addr::new(192, 168, 1, 252)));
        assert_eq!(usable.len(), 252);
        assert_eq!(available_ip_count(&b, 0), 252);
        assert_eq!(available_ip_count(&net("10.0.0.0/29"), 1), 3);
    }

    proptest! {
        /// Whatever is accepted lies inside the VPC and overlaps no sibling.
        #[test]
        fn accepted_blocks_are_disjoint(picks in proptest::collection::vec((0u32..256, 16u8..=29), 1..40)) {
            let mut v = vpc("10.0.0.0/8");
            for (i, (third, prefix)) in picks.into_iter().enumerate() {
                let candidate = Ipv4Net::new(Ipv4Addr::new(10, 0, third as u8, 0), prefix).unwrap().trunc();
                if let Ok(b) = v.vswitch_cidr(&candidate.to_string()) {
                    prop_assert!(v.cidr_block.contains(&b));
                    prop_assert!(v.vswitch_blocks.iter().all(|(_, o)| !overlap(o, &b)));
                    v.vswitch_blocks.push((format!("vsw-{i}"), b));
                }
            }
        }
    }
}
