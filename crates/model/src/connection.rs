//! IPsec-VPN connections: single-tunnel (one customer gateway, top-level
//! IKE/IPsec settings) or dual-tunnel (two tunnels with their own settings).

use serde::{Deserialize, Serialize};

use crate::{lifecycle::Lifecycle, tags::Tag, wire_enum};

wire_enum!(IkeVersion { V1 = "ikev1", V2 = "ikev2" });
wire_enum!(IkeMode { Main = "main", Aggressive = "aggressive" });
wire_enum!(
    /// Encryption algorithms of both phases. `sm4` exists only on ShangMi
    /// gateways in the cloud; vpngw accepts it and the data plane reports it
    /// as unsupported.
    EncAlg { Aes = "aes", Aes192 = "aes192", Aes256 = "aes256", Des = "des", TripleDes = "3des", Sm4 = "sm4" }
);
wire_enum!(AuthAlg { Md5 = "md5", Sha1 = "sha1", Sha256 = "sha256", Sha384 = "sha384", Sha512 = "sha512", Sm3 = "sm3" });
wire_enum!(
    /// Diffie-Hellman groups of the IKE phase.
    DhGroup { Group1 = "group1", Group2 = "group2", Group5 = "group5", Group14 = "group14", Group24 = "group24" }
);
wire_enum!(
    /// Diffie-Hellman groups of the IPsec phase, where PFS can be switched off.
    IpsecPfs { Disabled = "disabled", Group1 = "group1", Group2 = "group2", Group5 = "group5", Group14 = "group14", Group24 = "group24" }
);
wire_enum!(TunnelRole { Master = "master", Slave = "slave" });
wire_enum!(
    /// What HealthCheckConfig's `policy` does with routes when probes fail:
    /// withdraw them, or keep them. Keeping is `reserve_route` in the SDK's
    /// documentation and Terraform's validation, `keep_route` in other
    /// references; both are accepted and answered as they were sent.
    HealthCheckPolicy {
        RevokeRoute = "revoke_route",
        ReserveRoute = "reserve_route",
        KeepRoute = "keep_route",
    }
);

/// Lifetimes (seconds) the cloud accepts for both phases.
pub const LIFETIME_RANGE: std::ops::RangeInclusive<i64> = 0..=86400;

/// Phase-1 settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IkeConfig {
    pub version: IkeVersion,
    pub mode: IkeMode,
    pub enc_alg: EncAlg,
    pub auth_alg: AuthAlg,
    pub pfs: DhGroup,
    pub lifetime_s: i64,
    /// Defaults to the VPN gateway's public IP.
    pub local_id: String,
    /// Defaults to the customer gateway's IP.
    pub remote_id: String,
    pub psk: String,
}

/// Phase-2 settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IpsecConfig {
    pub enc_alg: EncAlg,
    pub auth_alg: AuthAlg,
    pub pfs: IpsecPfs,
    pub lifetime_s: i64,
}

impl IkeConfig {
    /// The cloud's defaults (ikev1, main, aes, sha1, group2, 86400 s) with the
    /// given identities and key.
    pub fn defaults(local_id: String, remote_id: String, psk: String) -> Self {
        IkeConfig {
            version: IkeVersion::V1,
            mode: IkeMode::Main,
            enc_alg: EncAlg::Aes,
            auth_alg: AuthAlg::Sha1,
            pfs: DhGroup::Group2,
            lifetime_s: 86400,
            local_id,
            remote_id,
            psk,
        }
    }
}

impl Default for IpsecConfig {
    fn default() -> Self {
        IpsecConfig {
            enc_alg: EncAlg::Aes,
            auth_alg: AuthAlg::Sha1,
            pfs: IpsecPfs::Group2,
            lifetime_s: 86400,
        }
    }
}

/// BGP on a single-tunnel connection (or one tunnel).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct BgpConfig {
    pub enable: bool,
    pub local_asn: Option<i64>,
    pub peer_asn: Option<i64>,
    /// A /30 inside 169.254.0.0/16.
    pub tunnel_cidr: Option<String>,
    pub local_bgp_ip: Option<String>,
    pub peer_bgp_ip: Option<String>,
    pub auth_key: Option<String>,
}

/// Health check of a connection: probe `dip` from `sip` through the tunnel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HealthCheck {
    pub enable: bool,
    pub dip: String,
    pub sip: String,
    pub interval_s: i64,
    pub retry: i64,
    pub policy: HealthCheckPolicy,
}

/// One tunnel of a dual-tunnel connection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tunnel {
    pub id: String,
    /// 1 or 2.
    pub index: i64,
    pub role: TunnelRole,
    pub customer_gateway_id: String,
    pub enable_dpd: bool,
    pub enable_nat_traversal: bool,
    pub remote_ca_certificate: Option<String>,
    pub ike: IkeConfig,
    pub ipsec: IpsecConfig,
    pub bgp: BgpConfig,
    pub zone_no: String,
    /// The gateway-side public IP of this tunnel.
    pub internet_ip: String,
    /// Negotiation status, as last measured by the data plane.
    pub status: String,
}

/// The transit-router side of a connection made with CreateVpnAttachment
/// (no VPN gateway): where it is deployed and what it is bound to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attachment {
    /// `CEN`: made to be attached to a transit router.
    pub attach_type: String,
    /// `public` or `private`.
    pub network_type: String,
    /// The connection's own gateway address (it has no VPN gateway).
    pub internet_ip: String,
    pub zone_no: String,
    /// The CEN instance of the transit router it is bound to, if any.
    pub attach_instance_id: Option<String>,
    pub transit_router_id: Option<String>,
    pub transit_router_name: Option<String>,
    pub cross_account_authorized: bool,
}

/// An IPsec-VPN connection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VpnConnection {
    pub id: String,
    pub region_id: String,
    /// `None` for a transit-router attachment (CreateVpnAttachment), which
    /// has no VPN gateway; see `attachment`.
    pub vpn_gateway_id: Option<String>,
    /// Single-tunnel connections only.
    pub customer_gateway_id: Option<String>,
    pub name: String,
    /// Comma-separated CIDR blocks, normalised.
    pub local_subnet: String,
    pub remote_subnet: String,
    pub effect_immediately: bool,
    pub enable_dpd: bool,
    pub enable_nat_traversal: bool,
    pub auto_config_route: bool,
    pub remote_ca_certificate: Option<String>,
    pub ike: IkeConfig,
    pub ipsec: IpsecConfig,
    pub bgp: BgpConfig,
    pub health_check: Option<HealthCheck>,
    /// Empty for single-tunnel connections.
    pub tunnels: Vec<Tunnel>,
    pub enable_tunnels_bgp: bool,
    /// `Standard` or `Large`.
    pub tunnel_bandwidth: Option<String>,
    pub resource_group_id: String,
    pub create_time_ms: i64,
    pub tags: Vec<Tag>,
    /// Configuration state: `active`, `updating`, `deleting`.
    pub state: Lifecycle,
    /// Negotiation status, as last measured by the data plane.
    pub status: String,
    /// What the data plane last measured (ReportDataplaneState); `None`
    /// until an agent reported. `status` and the tunnels' `status` are kept
    /// in step with it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub measured: Option<crate::dataplane::Measured>,
    /// Set exactly when `vpn_gateway_id` is `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachment: Option<Attachment>,
}

impl VpnConnection {
    /// A single-tunnel connection to `customer_gateway_id` with the cloud's
    /// defaults (DPD, NAT traversal and route auto-configuration on, default
    /// IPsec phase, no BGP or health check, state `active`), of no VPN gateway
    /// and no attachment yet: callers set what their operation decides.
    pub fn single_tunnel(
        id: String,
        region_id: String,
        customer_gateway_id: String,
        ike: IkeConfig,
        create_time_ms: i64,
    ) -> VpnConnection {
        VpnConnection {
            id,
            region_id,
            vpn_gateway_id: None,
            customer_gateway_id: Some(customer_gateway_id),
            name: String::new(),
            local_subnet: String::new(),
            remote_subnet: String::new(),
            effect_immediately: false,
            enable_dpd: true,
            enable_nat_traversal: true,
            auto_config_route: true,
            remote_ca_certificate: None,
            ike,
            ipsec: IpsecConfig::default(),
            bgp: BgpConfig::default(),
            health_check: None,
            tunnels: Vec::new(),
            enable_tunnels_bgp: false,
            tunnel_bandwidth: None,
            resource_group_id: String::new(),
            create_time_ms,
            tags: Vec::new(),
            state: Lifecycle::settled("active"),
            status: STATUS_NOT_ESTABLISHED.to_owned(),
            attachment: None,
            measured: None,
        }
    }

    /// Whether this is a transit-router attachment rather than a connection of a VPN gateway.
    pub fn is_attachment(&self) -> bool {
        self.attachment.is_some()
    }
}

/// The status a connection has before any data plane has measured it.
pub const STATUS_NOT_ESTABLISHED: &str = "ike_sa_not_established";

/// A pre-shared key as the cloud generates one when none is given: 16
/// random alphanumerics.
pub fn generate_psk() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    (0..16)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

/// The cloud's PSK rule: 1–100 printable ASCII characters without spaces.
pub fn valid_psk(s: &str) -> bool {
    (1..=100).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_graphic())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_round_trip() {
        for s in EncAlg::ALL {
            assert_eq!(EncAlg::parse(s).unwrap().as_str(), *s);
        }
        assert_eq!(EncAlg::parse("AES"), None);
        assert_eq!(
            serde_json::to_string(&EncAlg::TripleDes).unwrap(),
            "\"3des\""
        );
        assert_eq!(IpsecPfs::parse("disabled"), Some(IpsecPfs::Disabled));
    }

    #[test]
    fn both_spellings_of_keeping_routes_round_trip() {
        for (wire, policy) in [
            ("reserve_route", HealthCheckPolicy::ReserveRoute),
            ("keep_route", HealthCheckPolicy::KeepRoute),
        ] {
            assert_eq!(HealthCheckPolicy::parse(wire), Some(policy));
            let json = serde_json::to_string(&policy).unwrap();
            assert_eq!(json, format!("\"{wire}\""));
        }
        assert_eq!(HealthCheckPolicy::parse("drop_route"), None);
    }

    #[test]
    fn psk_rules() {
        let psk = generate_psk();
        assert!(valid_psk(&psk));
        assert!(!valid_psk("has space"));
        assert!(!valid_psk(""));
        assert!(valid_psk("ps+/=1&*~"));
    }
}
