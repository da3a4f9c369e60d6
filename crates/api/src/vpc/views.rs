//! Stored settings as the answers' typed shapes (`vpngw_ops::vpc`), field for
//! field as the SDK models name and type them. The same datum may change
//! type between answers: Describe* carry a tunnel's numbers and booleans as
//! strings, the Modify* answers with their real types.

use vpngw_model::{
    Tag, VpnConnection,
    connection::{BgpConfig, IkeConfig, IpsecConfig, Tunnel},
    dataplane::bgp_status,
};
use vpngw_ops::vpc::shapes;

/// A resource's tags, in the answers' `Tags: {Tag: [{Key, Value}]}` shape.
pub fn tags(tags: &[Tag]) -> shapes::Tags {
    shapes::Tags {
        tag: tags
            .iter()
            .map(|t| shapes::Tag {
                key: t.key.clone(),
                value: t.value.clone(),
            })
            .collect(),
    }
}

pub(crate) fn on_off(b: bool) -> &'static str {
    if b { "enable" } else { "disable" }
}

/// `IkeConfig` with real types; `psk` opened (or empty where not shown).
pub fn ike(c: &IkeConfig, psk: String) -> shapes::IkeConfig {
    shapes::IkeConfig {
        ike_version: c.version.as_str().to_owned(),
        ike_mode: c.mode.as_str().to_owned(),
        ike_enc_alg: c.enc_alg.as_str().to_owned(),
        ike_auth_alg: c.auth_alg.as_str().to_owned(),
        ike_pfs: c.pfs.as_str().to_owned(),
        ike_lifetime: c.lifetime_s,
        local_id: c.local_id.clone(),
        remote_id: c.remote_id.clone(),
        psk,
    }
}

/// `IpsecConfig` with real types.
pub fn ipsec(c: &IpsecConfig) -> shapes::IpsecConfig {
    shapes::IpsecConfig {
        ipsec_enc_alg: c.enc_alg.as_str().to_owned(),
        ipsec_auth_alg: c.auth_alg.as_str().to_owned(),
        ipsec_pfs: c.pfs.as_str().to_owned(),
        ipsec_lifetime: c.lifetime_s,
    }
}

/// A tunnel's `TunnelBgpConfig` in the Modify* answers: what is set, with
/// real types.
pub fn tunnel_bgp(b: &BgpConfig) -> shapes::TunnelBgpConfig {
    shapes::TunnelBgpConfig {
        local_asn: b.local_asn,
        peer_asn: b.peer_asn,
        tunnel_cidr: b.tunnel_cidr.clone(),
        local_bgp_ip: b.local_bgp_ip.clone(),
        peer_bgp_ip: b.peer_bgp_ip.clone(),
    }
}

/// One tunnel as DescribeVpnConnection(s) show it: numbers and booleans as
/// strings, with its PSK `psk` opened; `bgp_status`:
/// [`vpngw_model::dataplane::bgp_status`].
pub fn tunnel_options(
    t: &Tunnel,
    state: &str,
    psk: String,
    bgp_status: &str,
) -> shapes::TunnelOptions {
    shapes::TunnelOptions {
        tunnel_id: t.id.clone(),
        tunnel_index: t.index,
        role: t.role.as_str().to_owned(),
        customer_gateway_id: t.customer_gateway_id.clone(),
        enable_dpd: t.enable_dpd.to_string(),
        enable_nat_traversal: t.enable_nat_traversal.to_string(),
        internet_ip: t.internet_ip.clone(),
        remote_ca_certificate: t.remote_ca_certificate.clone(),
        state: state.to_owned(),
        status: t.status.clone(),
        zone_no: t.zone_no.clone(),
        tunnel_ike_config: shapes::TunnelIkeConfig {
            ike_version: t.ike.version.as_str().to_owned(),
            ike_mode: t.ike.mode.as_str().to_owned(),
            ike_enc_alg: t.ike.enc_alg.as_str().to_owned(),
            ike_auth_alg: t.ike.auth_alg.as_str().to_owned(),
            ike_pfs: t.ike.pfs.as_str().to_owned(),
            ike_lifetime: t.ike.lifetime_s.to_string(),
            local_id: t.ike.local_id.clone(),
            remote_id: t.ike.remote_id.clone(),
            psk,
        },
        tunnel_ipsec_config: shapes::TunnelIpsecConfig {
            ipsec_enc_alg: t.ipsec.enc_alg.as_str().to_owned(),
            ipsec_auth_alg: t.ipsec.auth_alg.as_str().to_owned(),
            ipsec_pfs: t.ipsec.pfs.as_str().to_owned(),
            ipsec_lifetime: t.ipsec.lifetime_s.to_string(),
        },
        tunnel_bgp_config: shapes::TunnelBgpConfig2 {
            local_asn: t.bgp.local_asn.map(|a| a.to_string()),
            peer_asn: t.bgp.peer_asn.map(|a| a.to_string()),
            tunnel_cidr: t.bgp.tunnel_cidr.clone(),
            local_bgp_ip: t.bgp.local_bgp_ip.clone(),
            peer_bgp_ip: t.bgp.peer_bgp_ip.clone(),
            bgp_status: bgp_status.to_owned(),
        },
    }
}

/// A tunnel as a Modify* answer shows it (each operation has its own
/// type): the fields they share, with real types, plus the listed ones.
/// `$t` is opened (plaintext PSK).
macro_rules! typed_tunnel {
    ($ty:path, $t:expr, $state:expr; $($field:ident: $value:expr),* $(,)?) => {{
        let t: &vpngw_model::connection::Tunnel = $t;
        $ty {
            tunnel_id: t.id.clone(),
            role: t.role.as_str().to_owned(),
            customer_gateway_id: t.customer_gateway_id.clone(),
            enable_dpd: t.enable_dpd,
            enable_nat_traversal: t.enable_nat_traversal,
            internet_ip: t.internet_ip.clone(),
            state: $state.to_owned(),
            tunnel_ike_config: $crate::vpc::views::ike(&t.ike, t.ike.psk.clone()),
            tunnel_ipsec_config: $crate::vpc::views::ipsec(&t.ipsec),
            $($field: $value,)*
        }
    }};
}
pub(crate) use typed_tunnel;

/// A `VcoHealthCheck` (each answer has its own type): `Enable` a string,
/// the rest only when a health check is configured, plus the listed fields.
macro_rules! health_check {
    ($ty:path, $h:expr; $($field:ident: $value:expr),* $(,)?) => {{
        let h: Option<&vpngw_model::connection::HealthCheck> = $h;
        $ty {
            enable: h.is_some_and(|h| h.enable).to_string(),
            dip: h.map(|h| h.dip.clone()),
            sip: h.map(|h| h.sip.clone()),
            interval: h.map(|h| h.interval_s),
            retry: h.map(|h| h.retry),
            $($field: $value,)*
        }
    }};
}
pub(crate) use health_check;

/// A connection's `VpnBgpConfig` (each answer has its own type): the ASNs
/// and addresses when set, the status, plus the listed fields.
macro_rules! vpn_bgp {
    ($ty:path, $b:expr, $status:expr; $($field:ident: $value:expr),* $(,)?) => {{
        let b: &vpngw_model::connection::BgpConfig = $b;
        $ty {
            local_asn: b.local_asn,
            peer_asn: b.peer_asn,
            tunnel_cidr: b.tunnel_cidr.clone(),
            local_bgp_ip: b.local_bgp_ip.clone(),
            peer_bgp_ip: b.peer_bgp_ip.clone(),
            status: $status.to_owned(),
            $($field: $value,)*
        }
    }};
}
pub(crate) use vpn_bgp;

/// The fields every answer that shows a whole connection has (each
/// operation has its own type), plus the listed ones. `$c` is a stored or
/// opened connection; the PSK comes with the listed `ike_config`.
macro_rules! connection_fields {
    ($ty:path, $c:expr; $($field:ident: $value:expr),* $(,)?) => {{
        let c: &vpngw_model::VpnConnection = $c;
        $ty {
            vpn_connection_id: c.id.clone(),
            vpn_gateway_id: c.vpn_gateway_id.clone().unwrap_or_default(),
            name: c.name.clone(),
            local_subnet: c.local_subnet.clone(),
            remote_subnet: c.remote_subnet.clone(),
            create_time: c.create_time_ms,
            effect_immediately: c.effect_immediately,
            enable_dpd: c.enable_dpd,
            enable_nat_traversal: c.enable_nat_traversal,
            enable_tunnels_bgp: c.enable_tunnels_bgp,
            resource_group_id: c.resource_group_id.clone(),
            ipsec_config: $crate::vpc::views::ipsec(&c.ipsec),
            $($field: $value,)*
        }
    }};
}
pub(crate) use connection_fields;

/// A connection's `VpnBgpConfig` in the Modify* answers (no `AuthKey`).
pub fn modified_bgp(c: &VpnConnection) -> shapes::VpnBgpConfig {
    vpn_bgp!(
        shapes::VpnBgpConfig, &c.bgp, bgp_status(c, &c.id);
        enable_bgp: c.bgp.enable.to_string(),
    )
}
