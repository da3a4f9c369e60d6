//! The shapes that cross the [`crate::Store`] boundary.

use serde::{Deserialize, Serialize};

/// Resource kinds. The string form is what the store writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Kind {
    VpnGateway,
    CustomerGateway,
    VpnConnection,
    /// A route of an IPsec connection (CreateVcoRouteEntry).
    VcoRoute,
    /// A destination-based route of a VPN gateway.
    VpnRoute,
    /// A policy-based route of a VPN gateway.
    VpnPbrRoute,
    /// A diagnosis of a VPN gateway's IPsec connection (DiagnoseVpnGateway).
    VpnDiagnosis,
    /// An SSL-VPN server of a VPN gateway (`vss-`).
    SslVpnServer,
    /// A client certificate of an SSL-VPN server (`vsc-`).
    SslVpnClientCert,
    /// An IPsec server (client-to-site) of a VPN gateway (`iss-`).
    IpsecServer,
    Vpc,
    /// A vSwitch; its parent is its VPC.
    VSwitch,
    /// A CEN instance (`cen-`), global: kept in the scope's region
    /// `vpngw_model::cen::GLOBAL_REGION`.
    CenInstance,
    /// A transit router (`tr-`) of a CEN instance.
    TransitRouter,
    /// A transit router's VPN attachment (`tr-attach-`); its parent is its
    /// transit router, and it holds the attached connection.
    TransitRouterAttachment,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::VpnGateway => "vpn_gateway",
            Kind::CustomerGateway => "customer_gateway",
            Kind::VpnConnection => "vpn_connection",
            Kind::VcoRoute => "vco_route",
            Kind::VpnRoute => "vpn_route",
            Kind::VpnPbrRoute => "vpn_pbr_route",
            Kind::VpnDiagnosis => "vpn_diagnosis",
            Kind::SslVpnServer => "ssl_vpn_server",
            Kind::SslVpnClientCert => "ssl_vpn_client_cert",
            Kind::IpsecServer => "ipsec_server",
            Kind::Vpc => "vpc",
            Kind::VSwitch => "vswitch",
            Kind::CenInstance => "cen_instance",
            Kind::TransitRouter => "transit_router",
            Kind::TransitRouterAttachment => "transit_router_attachment",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Some(match s {
            "vpn_gateway" => Kind::VpnGateway,
            "customer_gateway" => Kind::CustomerGateway,
            "vpn_connection" => Kind::VpnConnection,
            "vco_route" => Kind::VcoRoute,
            "vpn_route" => Kind::VpnRoute,
            "vpn_pbr_route" => Kind::VpnPbrRoute,
            "vpn_diagnosis" => Kind::VpnDiagnosis,
            "ssl_vpn_server" => Kind::SslVpnServer,
            "ssl_vpn_client_cert" => Kind::SslVpnClientCert,
            "ipsec_server" => Kind::IpsecServer,
            "vpc" => Kind::Vpc,
            "vswitch" => Kind::VSwitch,
            "cen_instance" => Kind::CenInstance,
            "transit_router" => Kind::TransitRouter,
            "transit_router_attachment" => Kind::TransitRouterAttachment,
            _ => return None,
        })
    }
}

/// Whose and where: every resource belongs to one account in one region,
/// and is invisible from any other scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    pub account_id: String,
    pub region_id: String,
}

/// A stored resource.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub kind: Kind,
    pub id: String,
    pub account_id: String,
    pub region_id: String,
    /// The resource this one belongs to (a connection's VPN gateway); listable.
    pub parent_id: Option<String>,
    /// Resources that must exist while this one does (parent included).
    pub links: Vec<String>,
    pub resource_group_id: String,
    /// Stored status and pending transition, for status filters.
    pub status: Option<vpngw_model::Lifecycle>,
    /// Bumped on every update; an update must name the version it read.
    pub version: i64,
    /// The resource itself, as JSON.
    pub doc: String,
}

impl Record {
    pub fn scope(&self) -> Scope {
        Scope {
            account_id: self.account_id.clone(),
            region_id: self.region_id.clone(),
        }
    }
}

/// Conditions checked atomically with an insert.
#[derive(Debug, Clone, Default)]
pub struct InsertGuard {
    pub quota: Option<Quota>,
    pub idempotency: Option<Idempotency>,
    /// Top-level document fields whose values together must be unique among
    /// records of the same kind in the scope (a customer gateway's
    /// `ip_address`; a connection's gateway and customer gateway). Empty: no check.
    pub unique: Vec<(&'static str, String)>,
}

/// At most `limit` records of the inserted kind per scope, or per parent
/// when `per_parent` is set.
#[derive(Debug, Clone)]
pub struct Quota {
    pub limit: u32,
    pub per_parent: bool,
}

/// A `ClientToken` and a fingerprint of the request's other parameters.
#[derive(Debug, Clone)]
pub struct Idempotency {
    pub token: String,
    pub fingerprint: String,
}

/// What an insert did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inserted {
    Created,
    /// The same `ClientToken` and parameters were seen before: this is the
    /// id that request created, and nothing new was written.
    Replayed {
        id: String,
    },
}

/// A list request. Empty filters match everything.
#[derive(Debug, Clone)]
pub struct ListQuery {
    pub kind: Kind,
    pub scope: Scope,
    pub ids: Vec<String>,
    pub parent_id: Option<String>,
    /// Records that link to this id (connections using a customer gateway).
    pub linked_to: Option<String>,
    pub resource_group_id: Option<String>,
    /// Effective status as of `now_ms`.
    pub status: Option<String>,
    pub now_ms: i64,
    /// Top-level document fields that must equal a value (`vpc_id`).
    pub fields: Vec<(&'static str, String)>,
    /// Tag filters: key, and value if given. All must match.
    pub tags: Vec<(String, Option<String>)>,
    pub offset: u64,
    pub limit: u64,
}

impl ListQuery {
    pub fn new(kind: Kind, scope: Scope, now_ms: i64) -> Self {
        ListQuery {
            kind,
            scope,
            ids: Vec::new(),
            parent_id: None,
            linked_to: None,
            resource_group_id: None,
            status: None,
            now_ms,
            fields: Vec::new(),
            tags: Vec::new(),
            offset: 0,
            limit: 10,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Page {
    pub records: Vec<Record>,
    pub total: u64,
}

/// A root account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountRecord {
    pub id: String,
    pub name: String,
    pub created_ms: i64,
}

/// An access key. `secret` is whatever the identity layer stores (sealed).
#[derive(Clone, PartialEq, Eq)]
pub struct AccessKeyRecord {
    pub id: String,
    pub account_id: String,
    /// `root`, or the RAM user the key belongs to.
    pub principal: String,
    pub secret: String,
    /// `Active` or `Inactive`.
    pub status: String,
    pub created_ms: i64,
}

impl std::fmt::Debug for AccessKeyRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessKeyRecord")
            .field("id", &self.id)
            .field("account_id", &self.account_id)
            .field("principal", &self.principal)
            .field("secret", &"[REDACTED]")
            .field("status", &self.status)
            .finish()
    }
}
