//! What the data plane needs to know about one VPN gateway.
//!
//! These types are deliberately independent of the API crates: the API layer
//! maps its resources (VpnGateway, CustomerGateway, VpnConnection and its
//! tunnels) into a [`GatewayDesired`]. Algorithm names keep the API's
//! vocabulary (`aes`, `sha1`, `group2`, `sm4`, ...) so that the mapping, and
//! the refusal of values strongSwan lacks, happens in one place
//! ([`crate::render`]).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr};
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::forwarding::Selector;

/// The desired state of one gateway (one charon instance).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GatewayDesired {
    /// The API's gateway id (`vpn-...`).
    pub gateway_id: String,
    /// The gateway's public addresses: one, or two for dual-tunnel gateways.
    pub local_addrs: Vec<IpAddr>,
    /// Every IPsec connection bound to the gateway.
    pub connections: Vec<ConnectionDesired>,
}

/// One IPsec connection: one tunnel (single-tunnel mode) or two (dual-tunnel).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionDesired {
    /// The API's connection id (`vco-...`).
    pub connection_id: String,
    /// What charon does once the configuration is loaded.
    #[serde(default)]
    pub start_action: StartAction,
    /// The tunnels; for a single-tunnel connection exactly one.
    pub tunnels: Vec<TunnelDesired>,
}

/// When negotiation starts (the API's `EffectImmediately`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StartAction {
    /// Negotiate as soon as the configuration is loaded
    /// (`EffectImmediately=true`).
    Start,
    /// Negotiate when traffic matching the subnets arrives
    /// (`EffectImmediately=false`, the API default).
    #[default]
    Trap,
    /// Only respond to the peer.
    None,
}

/// One tunnel: one IKE SA with its IPsec SA(s).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TunnelDesired {
    /// Unique on the gateway; becomes the charon connection name, so only
    /// `[A-Za-z0-9_-]` (the API's `tun-...`/`vco-...` ids qualify).
    pub tunnel_id: String,
    /// This side's public address (one of the gateway's `local_addrs`).
    pub local_addr: IpAddr,
    /// The peer's public address (the customer gateway's `IpAddress`).
    pub remote_addr: IpAddr,
    /// Phase 1.
    pub ike: IkeSettings,
    /// Phase 2.
    pub ipsec: IpsecSettings,
    /// CIDRs on this side (the API's `LocalSubnet`, split on commas).
    pub local_subnets: Vec<String>,
    /// CIDRs on the peer's side (the API's `RemoteSubnet`).
    pub remote_subnets: Vec<String>,
    /// Dead peer detection (`EnableDpd`, default on).
    pub dpd: bool,
    /// NAT traversal (`EnableNatTraversal`, default on).
    pub nat_traversal: bool,
    /// The BGP session's addresses when BGP is on for the tunnel: a child
    /// of their own (`LocalBgpIp/32 === peer/32`) carries the session.
    #[serde(default)]
    pub bgp: Option<TunnelBgp>,
    /// Children for routes, beyond `local_subnets × remote_subnets`: what
    /// [`crate::forwarding::compute`] found the configured ones cannot
    /// express. Changing only these never renegotiates the tunnel.
    #[serde(default)]
    pub route_children: Vec<Selector>,
}

/// The addresses of a tunnel's BGP session (inside `TunnelCidr`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TunnelBgp {
    /// `LocalBgpIp`.
    pub local_ip: Ipv4Addr,
    /// The peer's address in `TunnelCidr`.
    pub peer_ip: Ipv4Addr,
}

/// IKE version (`IkeVersion`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IkeVersion {
    /// `ikev1` (API default).
    #[default]
    Ikev1,
    /// `ikev2`.
    Ikev2,
}

/// IKEv1 phase-1 mode (`IkeMode`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IkeMode {
    /// `main` (API default).
    #[default]
    Main,
    /// `aggressive`.
    Aggressive,
}

/// A value the API vocabulary does not know.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} {value:?}")]
pub struct UnknownValue {
    /// Which field.
    pub what: &'static str,
    /// The value given.
    pub value: String,
}

impl IkeVersion {
    /// The API spelling.
    pub fn as_api_str(self) -> &'static str {
        match self {
            IkeVersion::Ikev1 => "ikev1",
            IkeVersion::Ikev2 => "ikev2",
        }
    }
}

impl FromStr for IkeVersion {
    type Err = UnknownValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "ikev1" => Ok(IkeVersion::Ikev1),
            "ikev2" => Ok(IkeVersion::Ikev2),
            _ => Err(UnknownValue {
                what: "IkeVersion",
                value: s.to_string(),
            }),
        }
    }
}

impl IkeMode {
    /// The API spelling.
    pub fn as_api_str(self) -> &'static str {
        match self {
            IkeMode::Main => "main",
            IkeMode::Aggressive => "aggressive",
        }
    }
}

impl FromStr for IkeMode {
    type Err = UnknownValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "main" => Ok(IkeMode::Main),
            "aggressive" => Ok(IkeMode::Aggressive),
            _ => Err(UnknownValue {
                what: "IkeMode",
                value: s.to_string(),
            }),
        }
    }
}

/// Phase-1 settings (`IkeConfig` / `TunnelIkeConfig`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IkeSettings {
    /// `IkeVersion`.
    pub version: IkeVersion,
    /// `IkeMode` (IKEv1 only; ignored for IKEv2).
    pub mode: IkeMode,
    /// `IkeEncAlg`: aes, aes192, aes256, des, 3des (sm4 is refused).
    pub enc_alg: String,
    /// `IkeAuthAlg`: md5, sha1, sha256, sha384, sha512 (sm3 is refused).
    pub auth_alg: String,
    /// `IkePfs`: group1, group2, group5, group14, group24.
    pub pfs: String,
    /// `IkeLifetime` in seconds (0: strongSwan's default).
    pub lifetime_s: u64,
    /// `LocalId`; empty means this side's public address.
    pub local_id: String,
    /// `RemoteId`; empty means the peer's public address.
    pub remote_id: String,
    /// `Psk`.
    pub psk: Secret,
}

impl Default for IkeSettings {
    /// The API defaults used by the project: IKEv1 main mode,
    /// aes/sha1/group2, 86400 s, no ids, empty PSK (must be set).
    fn default() -> Self {
        Self {
            version: IkeVersion::Ikev1,
            mode: IkeMode::Main,
            enc_alg: "aes".into(),
            auth_alg: "sha1".into(),
            pfs: "group2".into(),
            lifetime_s: 86400,
            local_id: String::new(),
            remote_id: String::new(),
            psk: Secret::default(),
        }
    }
}

/// Phase-2 settings (`IpsecConfig` / `TunnelIpsecConfig`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IpsecSettings {
    /// `IpsecEncAlg`.
    pub enc_alg: String,
    /// `IpsecAuthAlg`.
    pub auth_alg: String,
    /// `IpsecPfs`: a group, or `disabled`.
    pub pfs: String,
    /// `IpsecLifetime` in seconds (0: strongSwan's default).
    pub lifetime_s: u64,
}

impl Default for IpsecSettings {
    /// aes/sha1/group2, 86400 s.
    fn default() -> Self {
        Self {
            enc_alg: "aes".into(),
            auth_alg: "sha1".into(),
            pfs: "group2".into(),
            lifetime_s: 86400,
        }
    }
}

/// A secret (pre-shared key). `Debug` never prints it; there is no
/// `Display`. Serde (de)serializes the plain value because the agent has to
/// receive it; keep serialized forms out of logs.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wrap a secret.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself: only for handing it to charon or the peer's config.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// True when no secret is set.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[REDACTED]")
    }
}

impl From<&str> for Secret {
    fn from(s: &str) -> Self {
        Self::new(s)
    }
}

impl From<String> for Secret {
    fn from(s: String) -> Self {
        Self::new(s)
    }
}

impl TunnelDesired {
    /// `LocalId`, or the local address when empty.
    pub fn effective_local_id(&self) -> String {
        if self.ike.local_id.trim().is_empty() {
            self.local_addr.to_string()
        } else {
            self.ike.local_id.trim().to_string()
        }
    }

    /// `RemoteId`, or the remote address when empty.
    pub fn effective_remote_id(&self) -> String {
        if self.ike.remote_id.trim().is_empty() {
            self.remote_addr.to_string()
        } else {
            self.ike.remote_id.trim().to_string()
        }
    }
}

impl GatewayDesired {
    /// Every tunnel with the id of its connection.
    pub fn tunnels(&self) -> impl Iterator<Item = (&ConnectionDesired, &TunnelDesired)> {
        self.connections
            .iter()
            .flat_map(|c| c.tunnels.iter().map(move |t| (c, t)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_debug_is_redacted() {
        let s = IkeSettings {
            psk: Secret::new("hunter2"),
            ..IkeSettings::default()
        };
        let dbg = format!("{s:?}");
        assert!(dbg.contains("[REDACTED]"));
        assert!(!dbg.contains("hunter2"));
    }

    #[test]
    fn parses_api_vocabulary() {
        assert_eq!("ikev2".parse::<IkeVersion>(), Ok(IkeVersion::Ikev2));
        assert_eq!("IKEv1".parse::<IkeVersion>(), Ok(IkeVersion::Ikev1));
        assert_eq!("aggressive".parse::<IkeMode>(), Ok(IkeMode::Aggressive));
        assert!("ikev3".parse::<IkeVersion>().is_err());
        assert_eq!(IkeMode::Main.as_api_str(), "main");
    }
}
