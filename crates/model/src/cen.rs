//! Cloud Enterprise Network (CEN): the CEN instance, its Enterprise Edition
//! transit routers with their CIDR blocks, and the transit router's
//! attachments of IPsec-VPN connections (`Cbn` 2017-09-12). What Terraform's
//! vpn_gateway_vco_route example builds before its VPN connection is bound
//! to a transit router.
//!
//! A transit router keeps its CIDR blocks in its own document, so a new
//! block is checked against the others (overlap, at most five) and added in
//! one versioned write, as a VPC keeps its vSwitches' blocks.

use std::net::Ipv4Addr;

use ipnet::Ipv4Net;
use serde::{Deserialize, Serialize};

use crate::{lifecycle::Lifecycle, tags::Tag};

/// The store's region of CEN instances: a CEN instance is global (no
/// `RegionId` in CreateCen or DescribeCens), so all of an account's are kept
/// under this one scope.
pub const GLOBAL_REGION: &str = "global";
/// CIDR blocks per transit router (CreateTransitRouterCidr: "at most five").
pub const CIDRS_PER_TRANSIT_ROUTER: usize = 5;
/// Prefix lengths of a transit router's CIDR block (16 to 24 bits).
pub const TR_CIDR_PREFIXES: std::ops::RangeInclusive<u8> = 16..=24;
/// Blocks a transit router CIDR may not be in or overlap (the
/// CreateTransitRouterCidr reference).
const RESERVED: [&str; 4] = [
    "100.64.0.0/10",
    "224.0.0.0/4",
    "127.0.0.0/8",
    "169.254.0.0/16",
];

/// A CEN instance (`cen-`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CenInstance {
    pub id: String,
    /// `Name`.
    pub name: String,
    pub description: String,
    /// `REDUCED` (the default) or `FULL`.
    pub protection_level: String,
    pub resource_group_id: String,
    pub create_time_ms: i64,
    /// `Creating`, then `Active`; `Deleting` once DeleteCen has claimed it.
    pub lifecycle: Lifecycle,
    pub tags: Vec<Tag>,
    /// `(region, id)` of its transit routers: a transit router is claimed
    /// here by a versioned write (one per region), and DeleteCen marks the
    /// instance `Deleting` by one only when none is left, so the two never
    /// race past each other (the store cannot link across scopes).
    pub transit_routers: Vec<(String, String)>,
}

/// A CIDR block of a transit router (`TransitRouterCidrId`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TransitRouterCidr {
    pub id: String,
    pub cidr: Ipv4Net,
    pub name: String,
    pub description: String,
    pub publish_cidr_route: bool,
    /// The VPN attachments holding an address of this block, with it.
    pub allocated_to: Vec<(String, Ipv4Addr)>,
}

/// An Enterprise Edition transit router (`tr-`), in one region of its CEN
/// instance (its parent).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TransitRouter {
    pub id: String,
    pub region_id: String,
    pub cen_id: String,
    pub name: String,
    pub description: String,
    pub support_multicast: bool,
    pub resource_group_id: String,
    pub create_time_ms: i64,
    /// `Creating`, then `Active`.
    pub lifecycle: Lifecycle,
    pub tags: Vec<Tag>,
    pub cidrs: Vec<TransitRouterCidr>,
}

/// Why a transit router CIDR block is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrCidrError {
    /// Not an IPv4 block with zero host bits.
    Malformed,
    /// A prefix length outside 16–24, or in a reserved range.
    Unsupported,
    /// Overlaps the block of this id.
    Overlaps(String),
    /// The router has five blocks already.
    Quota,
}

/// An IPv4 block written canonically (host bits zero).
pub fn parse_block(s: &str) -> Option<Ipv4Net> {
    let net: Ipv4Net = s.parse().ok()?;
    (net.trunc() == net && net.to_string() == s).then_some(net)
}

impl TransitRouter {
    /// The block `s` as a new CIDR of this router, unless the rules refuse
    /// it; `except` is a block being replaced (ModifyTransitRouterCidr).
    pub fn cidr_block(&self, s: &str, except: Option<&str>) -> Result<Ipv4Net, TrCidrError> {
        let net = parse_block(s).ok_or(TrCidrError::Malformed)?;
        if !TR_CIDR_PREFIXES.contains(&net.prefix_len())
            || RESERVED.iter().any(|r| {
                let r: Ipv4Net = r.parse().unwrap_or_default();
                r.contains(&net.network()) || net.contains(&r.network())
            })
        {
            return Err(TrCidrError::Unsupported);
        }
        let others = self.cidrs.iter().filter(|c| Some(c.id.as_str()) != except);
        for c in others.clone() {
            if c.cidr.contains(&net.network()) || net.contains(&c.cidr.network()) {
                return Err(TrCidrError::Overlaps(c.id.clone()));
            }
        }
        if except.is_none() && others.count() >= CIDRS_PER_TRANSIT_ROUTER {
            return Err(TrCidrError::Quota);
        }
        Ok(net)
    }

    /// Gives attachment `id` an address: the first free one of the first
    /// block with room, after the block's first three (reserved, as the
    /// cloud reserves three blocks of it). `None`: no block, or all full.
    pub fn allocate(&mut self, id: &str) -> Option<Ipv4Addr> {
        for c in &mut self.cidrs {
            let free = c
                .cidr
                .hosts()
                .skip(3)
                .find(|a| !c.allocated_to.iter().any(|(_, b)| b == a));
            if let Some(addr) = free {
                c.allocated_to.push((id.to_owned(), addr));
                return Some(addr);
            }
        }
        None
    }

    /// Gives back what attachment `id` was allocated.
    pub fn release(&mut self, id: &str) {
        for c in &mut self.cidrs {
            c.allocated_to.retain(|(a, _)| a != id);
        }
    }
}

/// A transit router's attachment of an IPsec-VPN connection
/// (`tr-attach-`), in the transit router's region.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TransitRouterVpnAttachment {
    pub id: String,
    pub region_id: String,
    pub cen_id: String,
    pub transit_router_id: String,
    /// The attached connection (`vco-`, made with CreateVpnAttachment).
    pub vpn_id: String,
    pub vpn_owner_id: i64,
    pub name: String,
    pub description: String,
    pub auto_publish_route_enabled: bool,
    /// `POSTPAY`.
    pub charge_type: String,
    /// `PayByCenOwner` or `PayByResourceOwner`.
    pub order_type: String,
    pub zones: Vec<String>,
    /// The address the attachment took from the router's block.
    pub address: Option<Ipv4Addr>,
    pub resource_group_id: String,
    pub create_time_ms: i64,
    /// `Attaching`, then `Attached`.
    pub lifecycle: Lifecycle,
    pub tags: Vec<Tag>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn router(blocks: &[&str]) -> TransitRouter {
        TransitRouter {
            id: "tr-1".into(),
            region_id: "cn-hangzhou".into(),
            cen_id: "cen-1".into(),
            name: String::new(),
            description: String::new(),
            support_multicast: false,
            resource_group_id: String::new(),
            create_time_ms: 0,
            lifecycle: Lifecycle::settled("Active"),
            tags: Vec::new(),
            cidrs: blocks
                .iter()
                .enumerate()
                .map(|(i, b)| TransitRouterCidr {
                    id: format!("cidr-{i}"),
                    cidr: b.parse().unwrap(),
                    name: String::new(),
                    description: String::new(),
                    publish_cidr_route: true,
                    allocated_to: Vec::new(),
                })
                .collect(),
        }
    }

    #[test]
    fn cidr_rules() {
        let tr = router(&["192.168.0.0/16"]);
        assert_eq!(
            tr.cidr_block("10.0.0.0/24", None).unwrap().to_string(),
            "10.0.0.0/24"
        );
        assert_eq!(
            tr.cidr_block("10.0.0.1/24", None),
            Err(TrCidrError::Malformed)
        );
        assert_eq!(tr.cidr_block("nonsense", None), Err(TrCidrError::Malformed));
        assert_eq!(
            tr.cidr_block("10.0.0.0/8", None),
            Err(TrCidrError::Unsupported)
        );
        assert_eq!(
            tr.cidr_block("10.0.0.0/25", None),
            Err(TrCidrError::Unsupported)
        );
        assert_eq!(
            tr.cidr_block("169.254.0.0/16", None),
            Err(TrCidrError::Unsupported)
        );
        assert_eq!(
            tr.cidr_block("100.64.1.0/24", None),
            Err(TrCidrError::Unsupported)
        );
        assert_eq!(
            tr.cidr_block("192.168.10.0/24", None),
            Err(TrCidrError::Overlaps("cidr-0".into()))
        );
        // Replacing the block itself does not overlap it.
        assert!(tr.cidr_block("192.168.10.0/24", Some("cidr-0")).is_ok());
        let full = router(&[
            "10.1.0.0/16",
            "10.2.0.0/16",
            "10.3.0.0/16",
            "10.4.0.0/16",
            "10.5.0.0/16",
        ]);
        assert_eq!(
            full.cidr_block("10.6.0.0/16", None),
            Err(TrCidrError::Quota)
        );
    }

    #[test]
    fn allocation() {
        let mut tr = router(&["192.168.0.0/16"]);
        assert_eq!(tr.allocate("a").unwrap().to_string(), "192.168.0.4");
        assert_eq!(tr.allocate("b").unwrap().to_string(), "192.168.0.5");
        tr.release("a");
        assert_eq!(tr.allocate("c").unwrap().to_string(), "192.168.0.4");
        assert!(router(&[]).allocate("a").is_none());
    }
}
