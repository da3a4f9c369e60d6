//! The JSON-string parameters of connections (`IkeConfig`, `IpsecConfig`,
//! `BgpConfig`, `HealthCheckConfig`), applied onto existing settings.
//!
//! Clients send numbers either as JSON numbers or as strings (`86400` or
//! `"86400"`) and booleans as `true`/`"true"`; both are accepted. Keys are
//! matched exactly as the cloud spells them; unknown keys are ignored, as
//! the cloud does. An absent key keeps the current value, so Modify can
//! change one field.

use serde_json::{Map, Value};
use vpngw_model::connection::{
    AuthAlg, BgpConfig, DhGroup, EncAlg, HealthCheck, HealthCheckPolicy, IkeConfig, IkeMode,
    IkeVersion, IpsecConfig, IpsecPfs, LIFETIME_RANGE, valid_psk,
};
use vpngw_protocol::ApiError;

/// Parses the parameter `name` as a JSON object.
pub fn object(name: &str, text: &str) -> Result<Map<String, Value>, ApiError> {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(ApiError::invalid_parameter(name)),
    }
}

fn field_name(param: &str, key: &str) -> String {
    format!("{param}.{key}")
}

fn string<'m>(
    map: &'m Map<String, Value>,
    param: &str,
    key: &str,
) -> Result<Option<&'m str>, ApiError> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.as_str())),
        Some(_) => Err(ApiError::invalid_parameter(&field_name(param, key))),
    }
}

fn integer(map: &Map<String, Value>, param: &str, key: &str) -> Result<Option<i64>, ApiError> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .map(Some)
            .ok_or_else(|| ApiError::invalid_parameter(&field_name(param, key))),
        Some(Value::String(s)) => s
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| ApiError::invalid_parameter(&field_name(param, key))),
        Some(_) => Err(ApiError::invalid_parameter(&field_name(param, key))),
    }
}

fn boolean(map: &Map<String, Value>, param: &str, key: &str) -> Result<Option<bool>, ApiError> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Ok(Some(true)),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => Ok(Some(false)),
        Some(_) => Err(ApiError::invalid_parameter(&field_name(param, key))),
    }
}

/// A closed-vocabulary field: `parse` maps the wire string.
fn choice<T>(
    map: &Map<String, Value>,
    param: &str,
    key: &str,
    parse: fn(&str) -> Option<T>,
) -> Result<Option<T>, ApiError> {
    match string(map, param, key)? {
        None => Ok(None),
        Some(s) => parse(s)
            .map(Some)
            .ok_or_else(|| ApiError::invalid_parameter(&field_name(param, key))),
    }
}

fn lifetime(map: &Map<String, Value>, param: &str, key: &str) -> Result<Option<i64>, ApiError> {
    match integer(map, param, key)? {
        Some(v) if !LIFETIME_RANGE.contains(&v) => {
            Err(ApiError::invalid_parameter(&field_name(param, key)))
        }
        other => Ok(other),
    }
}

/// Applies `IkeConfig` keys onto `ike` (`param` names the parameter in errors).
pub fn apply_ike(
    ike: &mut IkeConfig,
    map: &Map<String, Value>,
    param: &str,
) -> Result<(), ApiError> {
    if let Some(v) = choice(map, param, "IkeVersion", IkeVersion::parse)? {
        ike.version = v;
    }
    if let Some(v) = choice(map, param, "IkeMode", IkeMode::parse)? {
        ike.mode = v;
    }
    if let Some(v) = choice(map, param, "IkeEncAlg", EncAlg::parse)? {
        ike.enc_alg = v;
    }
    if let Some(v) = choice(map, param, "IkeAuthAlg", AuthAlg::parse)? {
        ike.auth_alg = v;
    }
    if let Some(v) = choice(map, param, "IkePfs", DhGroup::parse)? {
        ike.pfs = v;
    }
    if let Some(v) = lifetime(map, param, "IkeLifetime")? {
        ike.lifetime_s = v;
    }
    if let Some(v) = string(map, param, "LocalId")?.filter(|s| !s.is_empty()) {
        ike.local_id = identity(v, param, "LocalId")?;
    }
    if let Some(v) = string(map, param, "RemoteId")?.filter(|s| !s.is_empty()) {
        ike.remote_id = identity(v, param, "RemoteId")?;
    }
    if let Some(v) = string(map, param, "Psk")?.filter(|s| !s.is_empty()) {
        if !valid_psk(v) {
            return Err(ApiError::invalid_parameter(&field_name(param, "Psk")));
        }
        ike.psk = v.to_owned();
    }
    Ok(())
}

/// IKE identities: an IP address or FQDN-like text, at most 100 characters, no spaces.
fn identity(v: &str, param: &str, key: &str) -> Result<String, ApiError> {
    if v.len() > 100 || !v.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ApiError::invalid_parameter(&field_name(param, key)));
    }
    Ok(v.to_owned())
}

/// Applies `IpsecConfig` keys onto `ipsec`.
pub fn apply_ipsec(
    ipsec: &mut IpsecConfig,
    map: &Map<String, Value>,
    param: &str,
) -> Result<(), ApiError> {
    if let Some(v) = choice(map, param, "IpsecEncAlg", EncAlg::parse)? {
        ipsec.enc_alg = v;
    }
    if let Some(v) = choice(map, param, "IpsecAuthAlg", AuthAlg::parse)? {
        ipsec.auth_alg = v;
    }
    if let Some(v) = choice(map, param, "IpsecPfs", IpsecPfs::parse)? {
        ipsec.pfs = v;
    }
    if let Some(v) = lifetime(map, param, "IpsecLifetime")? {
        ipsec.lifetime_s = v;
    }
    Ok(())
}

/// Applies `BgpConfig` (`EnableBgp`, `LocalAsn`, `TunnelCidr`, `LocalBgpIp`,
/// `AuthKey`) onto `bgp`, deriving the peer's address: the other host of the /30.
pub fn apply_bgp(
    bgp: &mut BgpConfig,
    map: &Map<String, Value>,
    param: &str,
) -> Result<(), ApiError> {
    if let Some(v) = boolean(map, param, "EnableBgp")? {
        bgp.enable = v;
    }
    if let Some(v) = integer(map, param, "LocalAsn")? {
        if !vpngw_model::customer_gateway::valid_asn(v) && v != 45104 {
            return Err(ApiError::invalid_parameter(&field_name(param, "LocalAsn")));
        }
        bgp.local_asn = Some(v);
    }
    if let Some(v) = string(map, param, "TunnelCidr")?.filter(|s| !s.is_empty()) {
        let net: ipnet::Ipv4Net = v
            .parse()
            .map_err(|_| ApiError::invalid_parameter(&field_name(param, "TunnelCidr")))?;
        let link_local: ipnet::Ipv4Net = "169.254.0.0/16".parse().unwrap_or_default();
        if net.prefix_len() != 30 || net.network() != net.addr() || !link_local.contains(&net) {
            return Err(ApiError::invalid_parameter(&field_name(
                param,
                "TunnelCidr",
            )));
        }
        bgp.tunnel_cidr = Some(net.to_string());
    }
    if let Some(v) = string(map, param, "LocalBgpIp")?.filter(|s| !s.is_empty()) {
        let ip: std::net::Ipv4Addr = v
            .parse()
            .map_err(|_| ApiError::invalid_parameter(&field_name(param, "LocalBgpIp")))?;
        bgp.local_bgp_ip = Some(ip.to_string());
    }
    if let Some(v) = string(map, param, "AuthKey")? {
        bgp.auth_key = (!v.is_empty()).then(|| v.to_owned());
    }
    if bgp.enable || bgp.tunnel_cidr.is_some() {
        bgp.local_asn.get_or_insert(45104);
    }
    derive_peer_ip(bgp, param)
}

/// The local BGP IP must be a host of the tunnel CIDR; the peer gets the other one.
fn derive_peer_ip(bgp: &mut BgpConfig, param: &str) -> Result<(), ApiError> {
    let (Some(cidr), Some(local)) = (&bgp.tunnel_cidr, &bgp.local_bgp_ip) else {
        return Ok(());
    };
    let net: ipnet::Ipv4Net = cidr.parse().map_err(|_| ApiError::internal())?;
    let local: std::net::Ipv4Addr = local.parse().map_err(|_| ApiError::internal())?;
    let hosts: Vec<_> = net.hosts().collect();
    if !hosts.contains(&local) {
        return Err(ApiError::invalid_parameter(&field_name(
            param,
            "LocalBgpIp",
        )));
    }
    bgp.peer_bgp_ip = hosts.iter().find(|h| **h != local).map(|h| h.to_string());
    Ok(())
}

/// Parses `HealthCheckConfig` onto an existing check, or the cloud's defaults
/// (interval 3 s, 3 retries, `revoke_route`). The cloud documents lower-case
/// keys (`enable`, `dip`, …) but its keys match without regard to case:
/// Terraform sends `Enable`, `Dip`, `Sip`, `Interval`, `Retry` when it
/// modifies a connection or an attachment, and `Policy` when it creates an
/// attachment.
pub fn apply_health_check(
    current: Option<HealthCheck>,
    map: &Map<String, Value>,
    param: &str,
) -> Result<Option<HealthCheck>, ApiError> {
    let map: Map<String, Value> = map
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
        .collect();
    let map = &map;
    let mut hc = current.unwrap_or(HealthCheck {
        enable: false,
        dip: String::new(),
        sip: String::new(),
        interval_s: 3,
        retry: 3,
        policy: HealthCheckPolicy::RevokeRoute,
    });
    if let Some(v) = boolean(map, param, "enable")? {
        hc.enable = v;
    }
    for (key, slot) in [("dip", &mut hc.dip), ("sip", &mut hc.sip)] {
        if let Some(v) = string(map, param, key)? {
            v.parse::<std::net::Ipv4Addr>()
                .map_err(|_| ApiError::invalid_parameter(&field_name(param, key)))?;
            *slot = v.to_owned();
        }
    }
    if let Some(v) = integer(map, param, "interval")? {
        if !(1..=60).contains(&v) {
            return Err(ApiError::invalid_parameter(&field_name(param, "interval")));
        }
        hc.interval_s = v;
    }
    if let Some(v) = integer(map, param, "retry")? {
        if !(1..=100).contains(&v) {
            return Err(ApiError::invalid_parameter(&field_name(param, "retry")));
        }
        hc.retry = v;
    }
    if let Some(v) = choice(map, param, "policy", HealthCheckPolicy::parse)? {
        hc.policy = v;
    }
    if hc.enable && (hc.dip.is_empty() || hc.sip.is_empty()) {
        return Err(ApiError::missing_parameter(&field_name(
            param,
            if hc.dip.is_empty() { "dip" } else { "sip" },
        )));
    }
    Ok(Some(hc))
}
