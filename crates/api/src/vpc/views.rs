//! Response shapes, field for field as the SDK models name and type them
//! (`alibabacloud_vpc20160428/models`). Lists are wrapped the cloud's way
//! (`Tags: {Tag: [...]}`), and the same datum may change type between
//! shapes: dual-tunnel options carry numbers and booleans as strings.

use serde::Serialize;
use vpngw_model::{
    Tag, VpnConnection,
    connection::{BgpConfig, HealthCheck, IkeConfig, IpsecConfig, Tunnel},
};

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TagView {
    pub key: String,
    pub value: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Tags {
    pub tag: Vec<TagView>,
}

impl Tags {
    pub fn of(tags: &[Tag]) -> Tags {
        Tags {
            tag: tags
                .iter()
                .map(|t| TagView {
                    key: t.key.clone(),
                    value: t.value.clone(),
                })
                .collect(),
        }
    }
}

/// A resource's tags, in the answers' `Tags: {Tag: [{Key, Value}]}` shape.
pub fn tags(tags: &[Tag]) -> vpngw_ops::vpc::shapes::Tags {
    vpngw_ops::vpc::shapes::Tags {
        tag: tags
            .iter()
            .map(|t| vpngw_ops::vpc::shapes::Tag {
                key: t.key.clone(),
                value: t.value.clone(),
            })
            .collect(),
    }
}

pub(crate) fn on_off(b: bool) -> &'static str {
    if b { "enable" } else { "disable" }
}

fn bool_str(b: bool) -> String {
    b.to_string()
}

// ---- IPsec connection --------------------------------------------------------

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct IkeConfigView {
    pub ike_version: &'static str,
    pub ike_mode: &'static str,
    pub ike_enc_alg: &'static str,
    pub ike_auth_alg: &'static str,
    pub ike_pfs: &'static str,
    pub ike_lifetime: i64,
    pub local_id: String,
    pub remote_id: String,
    pub psk: String,
}

impl IkeConfigView {
    pub fn of(c: &IkeConfig, psk: String) -> IkeConfigView {
        IkeConfigView {
            ike_version: c.version.as_str(),
            ike_mode: c.mode.as_str(),
            ike_enc_alg: c.enc_alg.as_str(),
            ike_auth_alg: c.auth_alg.as_str(),
            ike_pfs: c.pfs.as_str(),
            ike_lifetime: c.lifetime_s,
            local_id: c.local_id.clone(),
            remote_id: c.remote_id.clone(),
            psk,
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct IpsecConfigView {
    pub ipsec_enc_alg: &'static str,
    pub ipsec_auth_alg: &'static str,
    pub ipsec_pfs: &'static str,
    pub ipsec_lifetime: i64,
}

impl IpsecConfigView {
    pub fn of(c: &IpsecConfig) -> IpsecConfigView {
        IpsecConfigView {
            ipsec_enc_alg: c.enc_alg.as_str(),
            ipsec_auth_alg: c.auth_alg.as_str(),
            ipsec_pfs: c.pfs.as_str(),
            ipsec_lifetime: c.lifetime_s,
        }
    }
}

/// `VpnBgpConfig`: `EnableBgp` is a string, the ASNs are integers.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct VpnBgpConfigView {
    pub enable_bgp: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub local_asn: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peer_asn: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tunnel_cidr: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub local_bgp_ip: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peer_bgp_ip: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth_key: Option<String>,
    pub status: String,
}

impl VpnBgpConfigView {
    pub fn of(b: &BgpConfig, auth_key: Option<String>, status: &str) -> VpnBgpConfigView {
        VpnBgpConfigView {
            enable_bgp: bool_str(b.enable),
            local_asn: b.local_asn,
            peer_asn: b.peer_asn,
            tunnel_cidr: b.tunnel_cidr.clone(),
            local_bgp_ip: b.local_bgp_ip.clone(),
            peer_bgp_ip: b.peer_bgp_ip.clone(),
            auth_key,
            status: status.to_owned(),
        }
    }
}

/// `VcoHealthCheck`: `Enable` is a string, `Interval`/`Retry` integers.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct VcoHealthCheckView {
    pub enable: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dip: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sip: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interval: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<&'static str>,
    pub status: String,
}

impl VcoHealthCheckView {
    pub fn of(h: Option<&HealthCheck>, status: &str) -> VcoHealthCheckView {
        match h {
            None => VcoHealthCheckView {
                enable: "false".into(),
                dip: None,
                sip: None,
                interval: None,
                retry: None,
                policy: None,
                status: status.to_owned(),
            },
            Some(h) => VcoHealthCheckView {
                enable: bool_str(h.enable),
                dip: Some(h.dip.clone()),
                sip: Some(h.sip.clone()),
                interval: Some(h.interval_s),
                retry: Some(h.retry),
                policy: Some(h.policy.as_str()),
                status: status.to_owned(),
            },
        }
    }
}

/// One tunnel as DescribeVpnConnection(s) show it: numbers and booleans as strings.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TunnelOptionsView {
    pub tunnel_id: String,
    pub tunnel_index: i64,
    pub role: &'static str,
    pub customer_gateway_id: String,
    pub enable_dpd: String,
    pub enable_nat_traversal: String,
    pub internet_ip: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remote_ca_certificate: Option<String>,
    pub state: String,
    pub status: String,
    pub zone_no: String,
    pub tunnel_ike_config: TunnelIkeConfigView,
    pub tunnel_ipsec_config: TunnelIpsecConfigView,
    pub tunnel_bgp_config: TunnelBgpConfigView,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TunnelIkeConfigView {
    pub ike_version: &'static str,
    pub ike_mode: &'static str,
    pub ike_enc_alg: &'static str,
    pub ike_auth_alg: &'static str,
    pub ike_pfs: &'static str,
    pub ike_lifetime: String,
    pub local_id: String,
    pub remote_id: String,
    pub psk: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TunnelIpsecConfigView {
    pub ipsec_enc_alg: &'static str,
    pub ipsec_auth_alg: &'static str,
    pub ipsec_pfs: &'static str,
    pub ipsec_lifetime: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
/// `TunnelBgpConfig` of Describe*: no `EnableBgp` (the connection's
/// `EnableTunnelsBgp` says it), ASNs as strings, and `BgpStatus`.
pub struct TunnelBgpConfigView {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub local_asn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peer_asn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tunnel_cidr: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub local_bgp_ip: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peer_bgp_ip: Option<String>,
    pub bgp_status: String,
}

impl TunnelOptionsView {
    /// `bgp_status`: [`vpngw_model::dataplane::bgp_status`] of the tunnel.
    pub fn of(t: &Tunnel, state: &str, psk: String, bgp_status: &str) -> TunnelOptionsView {
        TunnelOptionsView {
            tunnel_id: t.id.clone(),
            tunnel_index: t.index,
            role: t.role.as_str(),
            customer_gateway_id: t.customer_gateway_id.clone(),
            enable_dpd: bool_str(t.enable_dpd),
            enable_nat_traversal: bool_str(t.enable_nat_traversal),
            internet_ip: t.internet_ip.clone(),
            remote_ca_certificate: t.remote_ca_certificate.clone(),
            state: state.to_owned(),
            status: t.status.clone(),
            zone_no: t.zone_no.clone(),
            tunnel_ike_config: TunnelIkeConfigView {
                ike_version: t.ike.version.as_str(),
                ike_mode: t.ike.mode.as_str(),
                ike_enc_alg: t.ike.enc_alg.as_str(),
                ike_auth_alg: t.ike.auth_alg.as_str(),
                ike_pfs: t.ike.pfs.as_str(),
                ike_lifetime: t.ike.lifetime_s.to_string(),
                local_id: t.ike.local_id.clone(),
                remote_id: t.ike.remote_id.clone(),
                psk,
            },
            tunnel_ipsec_config: TunnelIpsecConfigView {
                ipsec_enc_alg: t.ipsec.enc_alg.as_str(),
                ipsec_auth_alg: t.ipsec.auth_alg.as_str(),
                ipsec_pfs: t.ipsec.pfs.as_str(),
                ipsec_lifetime: t.ipsec.lifetime_s.to_string(),
            },
            tunnel_bgp_config: TunnelBgpConfigView {
                local_asn: t.bgp.local_asn.map(|a| a.to_string()),
                peer_asn: t.bgp.peer_asn.map(|a| a.to_string()),
                tunnel_cidr: t.bgp.tunnel_cidr.clone(),
                local_bgp_ip: t.bgp.local_bgp_ip.clone(),
                peer_bgp_ip: t.bgp.peer_bgp_ip.clone(),
                bgp_status: bgp_status.to_owned(),
            },
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TunnelOptionsSpecificationView {
    pub tunnel_options: Vec<TunnelOptionsView>,
}

/// The secrets of a connection, opened for display.
pub struct OpenedSecrets {
    pub psk: String,
    pub bgp_auth_key: Option<String>,
    pub tunnel_psks: Vec<String>,
}

/// DescribeVpnConnection's body and one item of DescribeVpnConnections; the
/// only difference is the name of the tag wrapper (`Tags` vs `Tag`), which
/// the caller sets by choosing the field.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct VpnConnectionView {
    pub vpn_connection_id: String,
    pub vpn_gateway_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_gateway_id: Option<String>,
    pub name: String,
    pub local_subnet: String,
    pub remote_subnet: String,
    pub create_time: i64,
    pub effect_immediately: bool,
    pub enable_dpd: bool,
    pub enable_nat_traversal: bool,
    pub enable_tunnels_bgp: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remote_ca_certificate: Option<String>,
    pub state: String,
    pub status: String,
    pub network_type: String,
    /// Transit-router attachments only (CreateVpnAttachment).
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub attachment: Option<super::attachment::AttachmentFieldsView>,
    pub ike_config: IkeConfigView,
    pub ipsec_config: IpsecConfigView,
    pub vpn_bgp_config: VpnBgpConfigView,
    pub vco_health_check: VcoHealthCheckView,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tunnel_options_specification: Option<TunnelOptionsSpecificationView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tunnel_bandwidth: Option<String>,
    pub resource_group_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Tags>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tag: Option<Tags>,
}

impl VpnConnectionView {
    /// `list_item` selects DescribeVpnConnections' `Tag` wrapper instead of `Tags`.
    pub fn of(
        c: &VpnConnection,
        secrets: OpenedSecrets,
        now_ms: i64,
        list_item: bool,
    ) -> VpnConnectionView {
        let state = c.state.effective(now_ms).to_owned();
        let tunnels = (!c.tunnels.is_empty()).then(|| TunnelOptionsSpecificationView {
            tunnel_options: c
                .tunnels
                .iter()
                .zip(
                    secrets
                        .tunnel_psks
                        .iter()
                        .cloned()
                        .chain(std::iter::repeat(String::new())),
                )
                .map(|(t, psk)| {
                    TunnelOptionsView::of(
                        t,
                        &state,
                        psk,
                        vpngw_model::dataplane::bgp_status(c, &t.id),
                    )
                })
                .collect(),
        });
        let tags = Tags::of(&c.tags);
        let (tags, tag) = if list_item {
            (None, Some(tags))
        } else {
            (Some(tags), None)
        };
        VpnConnectionView {
            vpn_connection_id: c.id.clone(),
            vpn_gateway_id: c.vpn_gateway_id.clone().unwrap_or_default(),
            customer_gateway_id: c.customer_gateway_id.clone(),
            name: c.name.clone(),
            local_subnet: c.local_subnet.clone(),
            remote_subnet: c.remote_subnet.clone(),
            create_time: c.create_time_ms,
            effect_immediately: c.effect_immediately,
            enable_dpd: c.enable_dpd,
            enable_nat_traversal: c.enable_nat_traversal,
            enable_tunnels_bgp: c.enable_tunnels_bgp,
            remote_ca_certificate: c.remote_ca_certificate.clone(),
            status: c.status.clone(),
            state,
            network_type: c
                .attachment
                .as_ref()
                .map_or("public", |a| a.network_type.as_str())
                .to_owned(),
            attachment: c.attachment.as_ref().map(|a| {
                super::attachment::AttachmentFieldsView::of(a, c.tunnel_bandwidth.as_deref())
            }),
            ike_config: IkeConfigView::of(&c.ike, secrets.psk),
            ipsec_config: IpsecConfigView::of(&c.ipsec),
            vpn_bgp_config: VpnBgpConfigView::of(
                &c.bgp,
                secrets.bgp_auth_key,
                vpngw_model::dataplane::bgp_status(c, &c.id),
            ),
            vco_health_check: VcoHealthCheckView::of(
                c.health_check.as_ref(),
                vpngw_model::dataplane::health_check_status(c),
            ),
            tunnel_options_specification: tunnels,
            tunnel_bandwidth: c.tunnel_bandwidth.clone(),
            resource_group_id: c.resource_group_id.clone(),
            tags,
            tag,
        }
    }
}
