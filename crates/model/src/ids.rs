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
}

impl IdKind {
    pub fn prefix(self) -> &'static str {
        match self {
            IdKind::VpnGateway => "vpn-",
            IdKind::CustomerGateway => "cgw-",
            IdKind::VpnConnection => "vco-",
            IdKind::Tunnel => "tun-",
        }
    }
}

/// A fresh ID: prefix, region code (when the kind carries one), random tail.
pub fn new_id(kind: IdKind, region_code: &str) -> String {
    let (code, tail_len) = match kind {
        IdKind::Tunnel => ("", 18),
        _ => (region_code, 21 - region_code.len().min(21)),
    };
    let mut rng = rand::rng();
    let mut id = String::with_capacity(4 + 21);
    id.push_str(kind.prefix());
    id.push_str(code);
    for _ in 0..tail_len {
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
    fn ids_are_unique_enough() {
        let ids: std::collections::HashSet<_> = (0..10_000)
            .map(|_| new_id(IdKind::VpnConnection, "bp1"))
            .collect();
        assert_eq!(ids.len(), 10_000);
    }
}
