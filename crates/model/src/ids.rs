//! Resource IDs in the cloud's format.
//!
//! Real IDs are a type prefix, a three-character region code and lowercase
//! alphanumerics: `vpn-bp1q8bgx4xnkm2ogj…` is a VPN gateway in cn-hangzhou
//! (`bp1`). The seed page shows 21 characters after the dash for gateways,
//! customer gateways and connections, and 18 (no region code) for tunnels.

use rand::Rng;

const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";

/// The kinds of ID vpngw hands out, each with its wire prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdKind {
    VpnGateway,
    CustomerGateway,
    VpnConnection,
    Tunnel,
    SslVpnServer,
    SslVpnClientCert,
    IpsecServer,
    Vpc,
    VSwitch,
    /// A VPC's vRouter.
    VRouter,
    /// A route table of a vRouter.
    RouteTable,
    /// A CEN instance (global: no region code).
    Cen,
    TransitRouter,
    /// A transit router's CIDR block (no region code).
    TransitRouterCidr,
    TransitRouterAttachment,
}

impl IdKind {
    pub fn prefix(self) -> &'static str {
        match self {
            IdKind::VpnGateway => "vpn-",
            IdKind::CustomerGateway => "cgw-",
            IdKind::VpnConnection => "vco-",
            IdKind::Tunnel => "tun-",
            IdKind::SslVpnServer => "vss-",
            IdKind::SslVpnClientCert => "vsc-",
            IdKind::IpsecServer => "iss-",
            IdKind::Vpc => "vpc-",
            IdKind::VSwitch => "vsw-",
            IdKind::VRouter => "vrt-",
            IdKind::RouteTable => "vtb-",
            IdKind::Cen => "cen-",
            IdKind::TransitRouter => "tr-",
            IdKind::TransitRouterCidr => "cidr-",
            IdKind::TransitRouterAttachment => "tr-attach-",
        }
    }
}

/// The tail's first characters: the creation time in milliseconds, in
/// base 36 with digits before letters, so that IDs sort (bytewise, as the
/// store's indexes do) in the order they were made.
const TIME_CHARS: usize = 8;
const ORDERED: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";

/// A fresh ID: prefix, region code (when the kind carries one), then the
/// creation time (see [`TIME_CHARS`]) and random characters (at least 10,
/// so IDs made in the same millisecond still differ).
///
/// Time first keeps each insert into the store's id-keyed indexes (the
/// records, their links, the event log) on the last pages instead of a
/// random page of each: a durable create then writes about half as many
/// pages (BENCHMARKS.md, "API").
pub fn new_id(kind: IdKind, region_code: &str) -> String {
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    new_id_at(kind, region_code, now_ms)
}

fn new_id_at(kind: IdKind, region_code: &str, now_ms: u64) -> String {
    let (code, tail_len) = match kind {
        IdKind::Tunnel => ("", 18),
        IdKind::Cen | IdKind::TransitRouterCidr => ("", 18),
        _ => (region_code, 21 - region_code.len().min(21)),
    };
    let mut rng = rand::rng();
    let mut id = String::with_capacity(4 + 21);
    id.push_str(kind.prefix());
    id.push_str(code);
    let mut time = [b'0'; TIME_CHARS];
    let mut t = now_ms;
    for slot in time.iter_mut().rev() {
        *slot = ORDERED[(t % 36) as usize];
        t /= 36;
    }
    let timed = TIME_CHARS.min(tail_len.saturating_sub(10));
    id.extend(time[TIME_CHARS - timed..].iter().map(|&b| b as char));
    for _ in timed..tail_len {
        id.push(ALPHABET[rng.random_range(0..ALPHABET.len())] as char);
    }
    id
}

/// Whether `s` has the shape of an ID of this kind (prefix, then lowercase alphanumerics).
/// Used to answer NotFound without a store lookup for obviously foreign strings.
pub fn looks_like(kind: IdKind, s: &str) -> bool {
    s.strip_prefix(kind.prefix()).is_some_and(|rest| {
        !rest.is_empty()
            && rest.len() <= 64
            && rest
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_have_the_clouds_shape() {
        let id = new_id(IdKind::VpnGateway, "bp1");
        assert!(id.starts_with("vpn-bp1"));
        assert_eq!(id.len(), 4 + 21);
        assert!(looks_like(IdKind::VpnGateway, &id));
        let tun = new_id(IdKind::Tunnel, "bp1");
        assert!(tun.starts_with("tun-"));
        assert_eq!(tun.len(), 4 + 18);
        assert!(!looks_like(IdKind::VpnConnection, &id));
        assert!(!looks_like(IdKind::VpnGateway, "vpn-BP1"));
    }

    #[test]
    fn ids_sort_in_creation_order() {
        let t = 1_764_000_000_000;
        let ids: Vec<String> = [t, t + 1, t + 35, t + 36, t + 1_000_000]
            .iter()
            .map(|&ms| new_id_at(IdKind::VpnConnection, "bp1", ms))
            .collect();
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(ids, sorted);
        for id in &ids {
            assert_eq!(id.len(), 4 + 21);
            assert!(looks_like(IdKind::VpnConnection, id));
        }
        let tun = new_id_at(IdKind::Tunnel, "bp1", t);
        assert_eq!(tun.len(), 4 + 18);
    }

    #[test]
    fn ids_are_unique_enough() {
        let ids: std::collections::HashSet<_> = (0..10_000)
            .map(|_| new_id(IdKind::VpnConnection, "bp1"))
            .collect();
        assert_eq!(ids.len(), 10_000);
    }
}
