//! What a connection write asks for, read once from its typed request.
//!
//! CreateVpnConnection, ModifyVpnConnectionAttribute, CreateVpnAttachment,
//! ModifyVpnAttachmentAttribute and ModifyTunnelAttribute take the same
//! settings under slightly different names and types (each has its own
//! generated request). [`ConnectionDraft`] and [`TunnelDraft`] are those
//! settings in one form, so that one path applies and checks them
//! ([`ConnectionDraft::apply_attributes`], [`ConnectionDraft::apply_json`],
//! `tunnel::build_tunnels`, `tunnel::apply_modify`): a rule written once
//! holds for every operation that takes the setting.

use serde_json::{Map, Value};
use vpngw_model::{VpnConnection, validate};
use vpngw_ops::{
    vpc::{
        create_vpn_attachment as create_attachment_op, create_vpn_connection as create_op,
        modify_tunnel_attribute as modify_tunnel_op,
        modify_vpn_attachment_attribute as modify_attachment_op,
        modify_vpn_connection_attribute as modify_op,
    },
    wire::Fields,
};
use vpngw_protocol::ApiError;

use super::{given, ike_json};
use crate::{Ctx, errors};

/// `TunnelOptionsSpecification`: the tunnels of a dual-tunnel write.
pub(crate) const TOS: &str = "TunnelOptionsSpecification";

/// The settings of one connection write.
#[derive(Default)]
pub(crate) struct ConnectionDraft {
    pub name: Option<String>,
    pub customer_gateway_id: Option<String>,
    pub local_subnet: Option<String>,
    pub remote_subnet: Option<String>,
    pub enable_dpd: Option<bool>,
    pub enable_nat_traversal: Option<bool>,
    pub effect_immediately: Option<bool>,
    pub auto_config_route: Option<bool>,
    /// The CA certificate of a single tunnel, and the parameter that gave
    /// it: `RemoteCaCertificate` on connections, `RemoteCaCert` on
    /// attachments.
    pub remote_ca: Option<String>,
    pub remote_ca_param: &'static str,
    /// The JSON-string settings of a single tunnel.
    pub ike_config: Option<String>,
    pub ipsec_config: Option<String>,
    pub bgp_config: Option<String>,
    pub health_check_config: Option<String>,
    pub enable_tunnels_bgp: Option<bool>,
    pub tunnel_bandwidth: Option<String>,
    /// Attachments only.
    pub network_type: Option<String>,
    pub tunnels: Vec<TunnelDraft>,
}

/// One element of `TunnelOptionsSpecification`.
#[derive(Default)]
pub(crate) struct TunnelDraft {
    /// The element's parameter name (`TunnelOptionsSpecification.2`, or
    /// `TunnelOptionsSpecification` in ModifyTunnelAttribute), for errors.
    pub prefix: String,
    pub tunnel_id: Option<String>,
    pub role: Option<String>,
    /// The attachment operations name a tunnel by index (1 master, 2 slave).
    pub index: Option<i64>,
    pub customer_gateway_id: Option<String>,
    pub enable_dpd: Option<bool>,
    pub enable_nat_traversal: Option<bool>,
    pub remote_ca_certificate: Option<String>,
    /// The flattened sub-objects (`TunnelIkeConfig.*`), as the JSON maps the
    /// single-tunnel settings are read from (`ike_json`): one reader for both.
    pub ike: Option<Map<String, Value>>,
    pub ipsec: Option<Map<String, Value>>,
    pub bgp: Option<Map<String, Value>>,
}

/// A flattened sub-object of a typed request as a JSON map of its
/// parameters (values as the client sent them, strings).
fn sub_map<T: Fields>(sub: &Option<T>) -> Option<Map<String, Value>> {
    sub.as_ref().map(|s| {
        let mut fields = Vec::new();
        s.emit("", &mut fields);
        fields
            .into_iter()
            .map(|(k, v)| (k, Value::String(v)))
            .collect()
    })
}

/// A [`TunnelDraft`] of one typed `TunnelOptionsSpecification` element:
/// the fields every operation's element has, and the listed ones.
macro_rules! tunnel_draft {
    ($t:expr, $prefix:expr; $($field:ident),*) => {{
        let t = $t;
        #[allow(unused_mut)]
        let mut d = TunnelDraft {
            prefix: $prefix,
            customer_gateway_id: t.customer_gateway_id.clone(),
            enable_dpd: t.enable_dpd,
            enable_nat_traversal: t.enable_nat_traversal,
            ike: sub_map(&t.tunnel_ike_config),
            ipsec: sub_map(&t.tunnel_ipsec_config),
            bgp: sub_map(&t.tunnel_bgp_config),
            ..TunnelDraft::default()
        };
        $(tunnel_draft!(@set d, t, $field);)*
        d
    }};
    (@set $d:ident, $t:ident, tunnel_index) => { $d.index = $t.tunnel_index; };
    (@set $d:ident, $t:ident, $field:ident) => { $d.$field = $t.$field.clone(); };
}

/// The settings every connection write has; `Some` of a required one.
macro_rules! connection_draft {
    ($r:expr, $remote_ca:ident as $ca_param:literal; $($tunnel_field:ident),*) => {{
        let r = $r;
        ConnectionDraft {
            name: r.name.clone(),
            local_subnet: Given::given(&r.local_subnet),
            remote_subnet: Given::given(&r.remote_subnet),
            enable_dpd: r.enable_dpd,
            enable_nat_traversal: r.enable_nat_traversal,
            effect_immediately: r.effect_immediately,
            auto_config_route: r.auto_config_route,
            remote_ca: r.$remote_ca.clone(),
            remote_ca_param: $ca_param,
            ike_config: r.ike_config.clone(),
            ipsec_config: r.ipsec_config.clone(),
            bgp_config: r.bgp_config.clone(),
            health_check_config: r.health_check_config.clone(),
            enable_tunnels_bgp: r.enable_tunnels_bgp,
            tunnels: r
                .tunnel_options_specification
                .iter()
                .enumerate()
                .map(|(i, t)| tunnel_draft!(t, format!("{TOS}.{}", i + 1); $($tunnel_field),*))
                .collect(),
            ..ConnectionDraft::default()
        }
    }};
}

/// A required (`String`) or optional (`Option<String>`) request field as an option.
trait Given {
    fn given(&self) -> Option<String>;
}

impl Given for String {
    fn given(&self) -> Option<String> {
        Some(self.clone())
    }
}

impl Given for Option<String> {
    fn given(&self) -> Option<String> {
        self.clone()
    }
}

/// `TunnelBandwidth` of the connection operations, whose requests (in the
/// SDK and the vendor's metadata) have no such parameter while their answers
/// do: a raw request may send it, and it is read by name here, one of the
/// two parameters of the family outside the declarations (the other is an
/// attachment tunnel's `Role`, [`ConnectionDraft::with_raw_roles`];
/// docs/architecture.md).
fn raw_tunnel_bandwidth(ctx: &Ctx<'_>) -> Option<String> {
    ctx.opt("TunnelBandwidth").map(str::to_owned)
}

impl ConnectionDraft {
    pub fn of_create(ctx: &Ctx<'_>, r: &create_op::Request) -> ConnectionDraft {
        ConnectionDraft {
            customer_gateway_id: r.customer_gateway_id.clone(),
            tunnel_bandwidth: raw_tunnel_bandwidth(ctx),
            ..connection_draft!(r, remote_ca_certificate as "RemoteCaCertificate"; role, remote_ca_certificate)
        }
    }

    pub fn of_modify(ctx: &Ctx<'_>, r: &modify_op::Request) -> ConnectionDraft {
        ConnectionDraft {
            tunnel_bandwidth: raw_tunnel_bandwidth(ctx),
            ..connection_draft!(r, remote_ca_certificate as "RemoteCaCertificate"; role, tunnel_id, remote_ca_certificate)
        }
    }

    pub fn of_create_attachment(
        ctx: &Ctx<'_>,
        r: &create_attachment_op::Request,
    ) -> Result<ConnectionDraft, ApiError> {
        ConnectionDraft {
            customer_gateway_id: r.customer_gateway_id.clone(),
            tunnel_bandwidth: r.tunnel_bandwidth.clone(),
            network_type: r.network_type.clone(),
            ..connection_draft!(r, remote_ca_cert as "RemoteCaCert"; tunnel_index)
        }
        .with_raw_roles(ctx)
    }

    pub fn of_modify_attachment(
        ctx: &Ctx<'_>,
        r: &modify_attachment_op::Request,
    ) -> Result<ConnectionDraft, ApiError> {
        ConnectionDraft {
            customer_gateway_id: r.customer_gateway_id.clone(),
            tunnel_bandwidth: raw_tunnel_bandwidth(ctx),
            network_type: r.network_type.clone(),
            ..connection_draft!(r, remote_ca_cert as "RemoteCaCert"; tunnel_id, tunnel_index)
        }
        .with_raw_roles(ctx)
    }

    /// `TunnelOptionsSpecification.N.Role` of the attachment operations,
    /// which their SDK models lack (they name a tunnel by `TunnelIndex`) but
    /// Terraform's `alicloud_vpn_gateway_vpn_attachment` sends on create and
    /// update beside `TunnelIndex`; read by name, as before the typed
    /// requests, so that a role given wins over the index as on connections
    /// (docs/api-decisions.md, "Connection family, typed: keys read and
    /// dropped"). The elements are in index order, as the typed list's.
    fn with_raw_roles(mut self, ctx: &Ctx<'_>) -> Result<ConnectionDraft, ApiError> {
        if self.has_tunnels() {
            let raw = ctx.params.objects(TOS)?;
            for (d, p) in self.tunnels.iter_mut().zip(&raw) {
                d.role = p.get("Role").map(str::to_owned);
            }
        }
        Ok(self)
    }

    /// Whether the request configures tunnels (a dual-tunnel write).
    pub fn has_tunnels(&self) -> bool {
        !self.tunnels.is_empty()
    }

    /// The plain attributes: subnets, flags, the CA certificate, the name
    /// and (attachments) the network type.
    pub fn apply_attributes(&self, c: &mut VpnConnection) -> Result<(), ApiError> {
        if let Some(s) = subnets("LocalSubnet", self.local_subnet.as_deref())? {
            c.local_subnet = s;
        }
        if let Some(s) = subnets("RemoteSubnet", self.remote_subnet.as_deref())? {
            c.remote_subnet = s;
        }
        if let Some(v) = self.enable_dpd {
            c.enable_dpd = v;
        }
        if let Some(v) = self.enable_nat_traversal {
            c.enable_nat_traversal = v;
        }
        if let Some(v) = self.effect_immediately {
            c.effect_immediately = v;
        }
        if let Some(v) = self.auto_config_route {
            c.auto_config_route = v;
        }
        if let Some(v) = &self.remote_ca {
            c.remote_ca_certificate = (!v.is_empty()).then(|| v.clone());
        }
        if let Some(name) = &self.name {
            if !name.is_empty() && !validate::loose_name(name) {
                return Err(errors::invalid_name());
            }
            c.name = name.clone();
        }
        if let (Some(v), Some(a)) = (given(&self.network_type), c.attachment.as_mut()) {
            a.network_type = network_type(v)?;
        }
        Ok(())
    }

    /// Applies the JSON-string settings of a single tunnel (`IkeConfig`,
    /// `IpsecConfig`, `BgpConfig`, `HealthCheckConfig`).
    pub fn apply_json(&self, c: &mut VpnConnection) -> Result<(), ApiError> {
        if let Some(text) = given(&self.ike_config) {
            let map = ike_json::object("IkeConfig", text)?;
            ike_json::apply_ike(&mut c.ike, &map, "IkeConfig")?;
        }
        if let Some(text) = given(&self.ipsec_config) {
            let map = ike_json::object("IpsecConfig", text)?;
            ike_json::apply_ipsec(&mut c.ipsec, &map, "IpsecConfig")?;
        }
        if let Some(text) = given(&self.bgp_config) {
            let map = ike_json::object("BgpConfig", text)?;
            ike_json::apply_bgp(&mut c.bgp, &map, "BgpConfig")?;
        }
        if let Some(text) = given(&self.health_check_config) {
            let map = ike_json::object("HealthCheckConfig", text)?;
            c.health_check =
                ike_json::apply_health_check(c.health_check.take(), &map, "HealthCheckConfig")?;
        }
        Ok(())
    }

    /// A dual-tunnel connection refuses non-empty single-tunnel settings:
    /// they would silently do nothing. An empty object (`{}`, which
    /// Terraform always sends) means nothing and is accepted.
    pub fn refuse_single_tunnel_settings(&self) -> Result<(), ApiError> {
        let json = [
            ("IkeConfig", &self.ike_config),
            ("IpsecConfig", &self.ipsec_config),
            ("BgpConfig", &self.bgp_config),
            ("HealthCheckConfig", &self.health_check_config),
        ];
        for (name, value) in json {
            if let Some(text) = given(value) {
                // Malformed JSON is reported by the JSON parser, as for single tunnels.
                if !ike_json::object(name, text)?.is_empty() {
                    return Err(ApiError::invalid_parameter_because(
                        name,
                        "a dual-tunnel connection is configured per tunnel in TunnelOptionsSpecification.",
                    ));
                }
            }
        }
        if given(&self.remote_ca).is_some() {
            return Err(ApiError::invalid_parameter_because(
                self.remote_ca_param,
                if self.remote_ca_param == "RemoteCaCert" {
                    "a dual-tunnel attachment is configured per tunnel in TunnelOptionsSpecification."
                } else {
                    "a dual-tunnel connection takes it per tunnel \
                     (TunnelOptionsSpecification.N.RemoteCaCertificate)."
                },
            ));
        }
        Ok(())
    }
}

impl TunnelDraft {
    /// ModifyTunnelAttribute's one tunnel (`TunnelOptionsSpecification.*`).
    pub fn of_modify_tunnel(r: &modify_tunnel_op::Request) -> Option<TunnelDraft> {
        r.tunnel_options_specification
            .as_ref()
            .map(|t| tunnel_draft!(t, TOS.to_owned(); remote_ca_certificate))
    }

    /// The full name of one of this element's fields.
    pub fn name(&self, field: &str) -> String {
        format!("{}.{field}", self.prefix)
    }
}

/// A subnet list parameter, checked and written the one way.
pub(crate) fn subnets(name: &str, value: Option<&str>) -> Result<Option<String>, ApiError> {
    match value {
        None => Ok(None),
        Some(v) => validate::subnet_list(v)
            .map(|nets| Some(validate::join_subnets(&nets)))
            .map_err(|_| errors::illegal_subnet(name, v)),
    }
}

/// `NetworkType` of an attachment.
pub(crate) fn network_type(v: &str) -> Result<String, ApiError> {
    match v {
        "public" | "private" => Ok(v.to_owned()),
        _ => Err(ApiError::invalid_parameter("NetworkType")),
    }
}

/// `TunnelBandwidth` (`Standard`, 1 Gbit/s per tunnel, or `Large`, 3
/// Gbit/s), in any case (Terraform reads it back case-insensitively);
/// stored in the documented spelling.
pub(crate) fn tunnel_bandwidth(v: &str) -> Result<String, ApiError> {
    ["Standard", "Large"]
        .into_iter()
        .find(|c| c.eq_ignore_ascii_case(v))
        .map(str::to_owned)
        .ok_or_else(|| ApiError::invalid_parameter("TunnelBandwidth"))
}
