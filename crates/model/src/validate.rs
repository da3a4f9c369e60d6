//! Input rules shared by several operations. Each returns `Err(())`-style
//! booleans/values; the API layer turns a failure into the operation's own
//! error code, since the cloud names the same rule differently per call.

use std::net::Ipv4Addr;

use ipnet::Ipv4Net;

/// Names of VPN gateways: 2–128 characters, starting with a letter (or CJK),
/// then letters, digits, `.`, `_`, `-`; never `http://`/`https://`.
/// Names of customer gateways and connections follow the looser 1–100 rule
/// (`loose_name`). Both as documented for the respective Create* calls.
pub fn gateway_name(s: &str) -> bool {
    let n = s.chars().count();
    (2..=128).contains(&n)
        && s.chars()
            .next()
            .is_some_and(|c| c.is_alphabetic() && !c.is_ascii_digit())
        && s.chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-'))
        && !starts_with_scheme(s)
}

/// 1–100 characters, not starting with `http://` or `https://`.
pub fn loose_name(s: &str) -> bool {
    let n = s.chars().count();
    (1..=100).contains(&n) && !starts_with_scheme(s)
}

/// Descriptions: 1–256 characters (the cloud says 2–256 on some calls and
/// accepts 1 on others; vpngw takes the union) not starting with a URL scheme.
pub fn description(s: &str) -> bool {
    let n = s.chars().count();
    (1..=256).contains(&n) && !starts_with_scheme(s)
}

fn starts_with_scheme(s: &str) -> bool {
    let l = s.to_ascii_lowercase();
    l.starts_with("http://") || l.starts_with("https://")
}

/// A customer gateway's IPv4 address: a dotted quad outside the ranges the
/// cloud refuses (help.aliyun.com, "Customer gateway", IP address
/// constraints): 100.64.0.0/10 (shared address space), 127.0.0.0/8,
/// 169.254.0.0/16, 224.0.0.0/4 and 255.0.0.0/8; nor 0.0.0.0. Private
/// (RFC 1918) addresses are allowed, as the cloud allows them for private
/// connections, and so is 198.18.0.0/15 (labs).
pub fn gateway_ip(s: &str) -> Option<Ipv4Addr> {
    let ip: Ipv4Addr = s.parse().ok()?;
    let [a, b, ..] = ip.octets();
    let refused = ip.is_unspecified()
        || (a == 100 && (64..128).contains(&b))
        || a == 127
        || (a == 169 && b == 254)
        || (224..240).contains(&a)
        || a == 255;
    (!refused).then_some(ip)
}

/// A comma-separated list of IPv4 CIDR blocks (`10.0.0.0/8,192.168.1.0/24`).
/// Host bits must be zero, as the cloud requires (`10.0.0.1/8` is refused).
/// Returns the normalised list, or the first offending item.
pub fn subnet_list(s: &str) -> Result<Vec<Ipv4Net>, String> {
    if s.trim().is_empty() {
        return Err(s.to_owned());
    }
    let mut out = Vec::new();
    for item in s.split(',') {
        let item = item.trim();
        let net: Ipv4Net = item.parse().map_err(|_| item.to_owned())?;
        if net.network() != net.addr() {
            return Err(item.to_owned());
        }
        if !out.contains(&net) {
            out.push(net);
        }
    }
    if out.len() > 10 {
        return Err(s.to_owned());
    }
    Ok(out)
}

/// Whether two CIDR blocks share an address (for blocks, one contains the other).
pub fn blocks_overlap(a: &Ipv4Net, b: &Ipv4Net) -> bool {
    a.contains(b) || b.contains(a)
}

/// Renders a subnet list the way the cloud echoes it: comma-joined, no spaces.
pub fn join_subnets(nets: &[Ipv4Net]) -> String {
    nets.iter()
        .map(|n| n.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subnets() {
        assert_eq!(
            join_subnets(&subnet_list("10.0.0.0/8, 192.168.1.0/24").unwrap()),
            "10.0.0.0/8,192.168.1.0/24"
        );
        assert_eq!(subnet_list("10.0.0.1/8").unwrap_err(), "10.0.0.1/8");
        assert!(subnet_list("").is_err());
        assert!(subnet_list("10.0.0.0/33").is_err());
        assert!(subnet_list("fe80::/64").is_err());
        assert!(subnet_list("10.0.0.0/8,").is_err());
    }

    #[test]
    fn names() {
        assert!(gateway_name("vpn-gw_1.a"));
        assert!(!gateway_name("1abc"));
        assert!(!gateway_name("a"));
        assert!(!gateway_name("http://x"));
        assert!(loose_name("1"));
        assert!(!loose_name(""));
        assert!(!loose_name(&"x".repeat(101)));
    }

    #[test]
    fn ips() {
        assert!(gateway_ip("47.100.1.2").is_some());
        assert!(gateway_ip("0.0.0.0").is_none());
        assert!(gateway_ip("127.0.0.1").is_none());
        assert!(gateway_ip("300.1.1.1").is_none());
        assert!(gateway_ip("1.2.3").is_none());
        // The ranges the cloud refuses, at both ends of each.
        for refused in [
            "100.64.0.0",
            "100.127.255.255",
            "127.255.255.254",
            "169.254.0.1",
            "169.254.169.254",
            "224.0.0.1",
            "239.255.255.255",
            "255.0.0.1",
            "255.255.255.255",
        ] {
            assert!(gateway_ip(refused).is_none(), "{refused}");
        }
        // Their neighbours, private ranges and the labs' benchmarking range.
        for accepted in [
            "100.63.255.255",
            "100.128.0.0",
            "126.255.255.255",
            "128.0.0.1",
            "169.253.1.1",
            "169.255.0.1",
            "223.255.255.255",
            "240.0.0.1",
            "10.0.0.1",
            "172.24.1.1",
            "192.168.1.1",
            "198.18.0.1",
        ] {
            assert!(gateway_ip(accepted).is_some(), "{accepted}");
        }
    }
}
