// Fuzz harness: the JSON-string parameters of connections (`IkeConfig`,
// `IpsecConfig`, `BgpConfig`, `HealthCheckConfig`), parsed and applied onto
// the defaults as CreateVpnConnection does. Shared, through `include!`, by
// the cargo-fuzz target `fuzz/fuzz_targets/ike_json.rs` and the stable replay
// test `crates/api/tests/api/fuzz_seeds.rs`. Never panics; what it accepts is
// within the documented ranges.

use vpngw_api::vpc::ike_json;
use vpngw_model::connection::{BgpConfig, IkeConfig, IpsecConfig, LIFETIME_RANGE, valid_psk};

/// Runs one input; `true` when all four parameters accept it (unknown keys
/// are ignored, as the cloud does, so any object of valid values does).
pub fn run(data: &[u8]) -> bool {
    let text = String::from_utf8_lossy(data);
    let mut accepted = 0;

    let mut ike = IkeConfig::defaults("198.18.0.1".into(), "100.64.0.1".into(), "psk0123".into());
    if let Ok(map) = ike_json::object("IkeConfig", &text)
        && ike_json::apply_ike(&mut ike, &map, "IkeConfig").is_ok()
    {
        accepted += 1;
        assert!(LIFETIME_RANGE.contains(&ike.lifetime_s));
        assert!(valid_psk(&ike.psk));
        assert!(ike.local_id.len() <= 100 && ike.remote_id.len() <= 100);
    }
    let mut ipsec = IpsecConfig::default();
    if let Ok(map) = ike_json::object("IpsecConfig", &text)
        && ike_json::apply_ipsec(&mut ipsec, &map, "IpsecConfig").is_ok()
    {
        accepted += 1;
        assert!(LIFETIME_RANGE.contains(&ipsec.lifetime_s));
    }
    let mut bgp = BgpConfig::default();
    if let Ok(map) = ike_json::object("BgpConfig", &text)
        && ike_json::apply_bgp(&mut bgp, &map, "BgpConfig").is_ok()
    {
        accepted += 1;
        if let (Some(cidr), Some(local), Some(peer)) =
            (&bgp.tunnel_cidr, &bgp.local_bgp_ip, &bgp.peer_bgp_ip)
        {
            let net: ipnet::Ipv4Net = cidr.parse().expect("a stored CIDR parses");
            assert_eq!(net.prefix_len(), 30);
            assert_ne!(local, peer);
            for ip in [local, peer] {
                assert!(net.contains(&ip.parse::<std::net::Ipv4Addr>().expect("an IP")));
            }
        }
    }
    if let Ok(map) = ike_json::object("HealthCheckConfig", &text)
        && let Ok(Some(hc)) = ike_json::apply_health_check(None, &map, "HealthCheckConfig")
    {
        accepted += 1;
        assert!((1..=60).contains(&hc.interval_s) && (1..=100).contains(&hc.retry));
        assert!(!hc.enable || (!hc.dip.is_empty() && !hc.sip.is_empty()));
    }
    accepted == 4
}
