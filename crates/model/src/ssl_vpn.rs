//! SSL-VPN: a VPN gateway's OpenVPN server (`vss-…`) and the client
//! certificates it accepts (`vsc-…`), with the cloud's input rules.
//!
//! The rules, from the SDK models' documentation of CreateSslVpnServer /
//! ModifySslVpnServer and the VPN Gateway user guide:
//! - `ClientIpPool`: one IPv4 block, mask /16–/29, not inside 100.64.0.0/10,
//!   127.0.0.0/8, 169.254.0.0/16, 224.0.0.0/4 (224–239) or 255.0.0.0/8.
//!   Every client gets its own /30 out of it (OpenVPN `topology net30`), so
//!   the pool must hold four addresses per connection the gateway allows
//!   (`SslConnections`): [`ClientIpPool::admits`].
//! - `LocalSubnet`: 1–5 comma-separated IPv4 blocks, mask /8–/32, none in
//!   127.0.0.0/8, 169.254.0.0/16, 224.0.0.0/4 or 255.0.0.0/8, and none
//!   overlapping the client pool ([`overlap`]).
//! - `Proto` `TCP` (the SDK's documented default) or `UDP`; `Port` 1–65535,
//!   default 1194, except the ports the cloud keeps for itself
//!   ([`REFUSED_PORTS`]); `Cipher` AES-128-CBC (default), AES-192-CBC,
//!   AES-256-CBC or `none`; `Compress` default false.
//! - `EnableMultiFactorAuth` needs `IDaaSInstanceId` and `IDaaSRegionId`
//!   (EIAM 2.0 instances also an application id). vpngw stores and echoes
//!   them; it does not ask IDaaS for a user name and password at connect
//!   time (docs/api-decisions.md, "SSL-VPN").

use std::net::Ipv4Addr;

use ipnet::Ipv4Net;
use serde::{Deserialize, Serialize};

use crate::{measured::Measured, tags::Tag, wire_enum};

wire_enum!(
    /// `Proto`: the transport OpenVPN listens on.
    Proto { Tcp = "TCP", Udp = "UDP" }
);
wire_enum!(
    /// `Cipher`: the data-channel cipher offered to clients older than
    /// OpenVPN 2.4, which cannot negotiate one (newer clients negotiate
    /// AES-GCM whatever this says, as the cloud documents).
    Cipher { Aes128Cbc = "AES-128-CBC", Aes192Cbc = "AES-192-CBC", Aes256Cbc = "AES-256-CBC", None = "none" }
);

/// `Port` when none is given.
pub const DEFAULT_PORT: i64 = 1194;
/// Ports the cloud refuses for an SSL server (its own services: SSH, HTTP(S),
/// DNS, DHCP, NTP, IKE, management ports).
pub const REFUSED_PORTS: &[i64] = &[
    22, 2222, 22222, 9000, 9001, 9002, 7505, 80, 443, 53, 68, 123, 4510, 4560, 500, 4500,
];
/// At most this many `LocalSubnet` blocks.
pub const MAX_LOCAL_SUBNETS: usize = 5;
/// Addresses one client takes from the pool: its own /30.
pub const ADDRESSES_PER_CLIENT: u64 = 4;
/// How long a client certificate is valid (the cloud's SSL client
/// certificates are valid for three years).
pub const CLIENT_CERT_VALIDITY_MS: i64 = 3 * 365 * 24 * 3600 * 1000;
/// A certificate this close to its `EndTime` is `expiring-soon`.
pub const EXPIRING_SOON_MS: i64 = 7 * 24 * 3600 * 1000;

/// Blocks a client pool may not touch.
const POOL_RESERVED: &[(Ipv4Addr, u8)] = &[
    (Ipv4Addr::new(100, 64, 0, 0), 10),
    (Ipv4Addr::new(127, 0, 0, 0), 8),
    (Ipv4Addr::new(169, 254, 0, 0), 16),
    (Ipv4Addr::new(224, 0, 0, 0), 4),
    (Ipv4Addr::new(255, 0, 0, 0), 8),
];
/// Blocks a local subnet may not touch (the pool's list without the shared
/// address space, which a VPC may route).
const LOCAL_RESERVED: &[(Ipv4Addr, u8)] = &[
    (Ipv4Addr::new(127, 0, 0, 0), 8),
    (Ipv4Addr::new(169, 254, 0, 0), 16),
    (Ipv4Addr::new(224, 0, 0, 0), 4),
    (Ipv4Addr::new(255, 0, 0, 0), 8),
];

/// Why an SSL server's parameters are refused. The API layer gives each its
/// cloud error code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuleError {
    /// `ClientIpPool` is not an IPv4 block with its host bits clear.
    PoolMalformed,
    /// `ClientIpPool`'s mask is outside /16–/29.
    PoolMask,
    /// `ClientIpPool` touches a reserved block.
    PoolReserved,
    /// The pool has fewer than four addresses per allowed connection.
    PoolTooSmall { max_connections: i64 },
    /// A `LocalSubnet` item is not an IPv4 block with its host bits clear.
    LocalSubnetMalformed(String),
    /// A `LocalSubnet` item's mask is outside /8–/32.
    LocalSubnetMask(String),
    /// A `LocalSubnet` item touches a reserved block.
    LocalSubnetReserved(String),
    /// More than [`MAX_LOCAL_SUBNETS`] blocks.
    LocalSubnetTooMany,
    /// The pool overlaps this `LocalSubnet` block.
    Overlap(String),
    /// `Port` is outside 1–65535 or refused.
    Port,
    /// `DnsServers` is not a list of IPv4 addresses.
    DnsServers,
    /// `EnableMultiFactorAuth` without the IDaaS instance it needs.
    IdaasMissing,
    /// `Name`: 1–100 characters, not starting with `http://` or `https://`.
    Name,
}

/// `Name` of a server or a certificate: 1–100 characters, not starting with
/// `http://` or `https://`.
pub fn check_name(name: &str) -> Result<(), RuleError> {
    crate::validate::loose_name(name)
        .then_some(())
        .ok_or(RuleError::Name)
}

fn touches(net: Ipv4Net, reserved: &[(Ipv4Addr, u8)]) -> bool {
    reserved.iter().any(|&(addr, len)| {
        let r = Ipv4Net::new(addr, len).expect("reserved blocks are valid");
        r.contains(&net) || net.contains(&r)
    })
}

fn block(s: &str) -> Option<Ipv4Net> {
    let net: Ipv4Net = s.trim().parse().ok()?;
    (net.network() == net.addr()).then_some(net)
}

/// A valid `ClientIpPool`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ClientIpPool(Ipv4Net);

impl ClientIpPool {
    pub fn parse(s: &str) -> Result<Self, RuleError> {
        let net = block(s).ok_or(RuleError::PoolMalformed)?;
        if !(16..=29).contains(&net.prefix_len()) {
            return Err(RuleError::PoolMask);
        }
        if touches(net, POOL_RESERVED) {
            return Err(RuleError::PoolReserved);
        }
        Ok(ClientIpPool(net))
    }

    pub fn net(&self) -> Ipv4Net {
        self.0
    }

    /// Addresses in the pool.
    pub fn size(&self) -> u64 {
        1u64 << (32 - self.0.prefix_len())
    }

    /// Whether the pool has a /30 for each of `max_connections` clients.
    pub fn admits(&self, max_connections: i64) -> bool {
        u64::try_from(max_connections)
            .is_ok_and(|n| self.size() >= n.saturating_mul(ADDRESSES_PER_CLIENT))
    }

    /// [`Self::admits`] as a rule.
    pub fn check_capacity(&self, max_connections: i64) -> Result<(), RuleError> {
        if self.admits(max_connections) {
            Ok(())
        } else {
            Err(RuleError::PoolTooSmall { max_connections })
        }
    }
}

impl std::fmt::Display for ClientIpPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// A valid `LocalSubnet`: 1–5 blocks in the order given, duplicates dropped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct LocalSubnets(Vec<Ipv4Net>);

impl LocalSubnets {
    pub fn parse(s: &str) -> Result<Self, RuleError> {
        let mut out: Vec<Ipv4Net> = Vec::new();
        for item in s.split(',') {
            let item = item.trim();
            let net = block(item).ok_or_else(|| RuleError::LocalSubnetMalformed(item.into()))?;
            if net.prefix_len() < 8 {
                return Err(RuleError::LocalSubnetMask(item.into()));
            }
            if touches(net, LOCAL_RESERVED) {
                return Err(RuleError::LocalSubnetReserved(item.into()));
            }
            if !out.contains(&net) {
                out.push(net);
            }
        }
        if out.len() > MAX_LOCAL_SUBNETS {
            return Err(RuleError::LocalSubnetTooMany);
        }
        Ok(LocalSubnets(out))
    }

    pub fn nets(&self) -> &[Ipv4Net] {
        &self.0
    }
}

impl std::fmt::Display for LocalSubnets {
    /// As the cloud echoes it: comma-joined, no spaces.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&crate::validate::join_subnets(&self.0))
    }
}

/// The first `LocalSubnet` block the pool overlaps, if any.
pub fn overlap(pool: &ClientIpPool, local: &LocalSubnets) -> Result<(), RuleError> {
    match local
        .0
        .iter()
        .find(|n| crate::validate::blocks_overlap(n, &pool.0))
    {
        Some(n) => Err(RuleError::Overlap(n.to_string())),
        None => Ok(()),
    }
}

/// A valid `Port`.
pub fn check_port(port: i64) -> Result<u16, RuleError> {
    if REFUSED_PORTS.contains(&port) {
        return Err(RuleError::Port);
    }
    u16::try_from(port)
        .ok()
        .filter(|p| *p > 0)
        .ok_or(RuleError::Port)
}

/// `DnsServers`: comma-separated IPv4 addresses pushed to clients (at most
/// two, as on a client's network settings); empty means none.
pub fn parse_dns_servers(s: &str) -> Result<Vec<Ipv4Addr>, RuleError> {
    if s.trim().is_empty() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for item in s.split(',') {
        let ip: Ipv4Addr = item.trim().parse().map_err(|_| RuleError::DnsServers)?;
        if ip.is_unspecified() || ip.is_multicast() || ip.is_broadcast() {
            return Err(RuleError::DnsServers);
        }
        if !out.contains(&ip) {
            out.push(ip);
        }
    }
    if out.len() > 2 {
        return Err(RuleError::DnsServers);
    }
    Ok(out)
}

/// Two-factor authentication through IDaaS, as configured. Stored and
/// echoed; vpngw does not contact IDaaS.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MultiFactorAuth {
    pub enabled: bool,
    pub idaas_instance_id: String,
    pub idaas_region_id: String,
    pub idaas_application_id: String,
}

impl MultiFactorAuth {
    /// Enabled needs an instance and its region.
    pub fn check(&self) -> Result<(), RuleError> {
        if self.enabled && (self.idaas_instance_id.is_empty() || self.idaas_region_id.is_empty()) {
            return Err(RuleError::IdaasMissing);
        }
        Ok(())
    }

    /// `IDaaSInstanceVersion`: `EIAM 2.0` for an instance bound with an
    /// application (EIAM 2.0 needs one, 1.0 does not); absent otherwise.
    pub fn instance_version(&self) -> Option<&'static str> {
        (!self.idaas_instance_id.is_empty() && !self.idaas_application_id.is_empty())
            .then_some("EIAM 2.0")
    }
}

/// The server's certificate authority and the gateway's own certificate,
/// made when the server is created (`vpngw_pki`). Private keys are sealed
/// by the API layer before they are stored here.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServerPki {
    pub ca_cert_pem: String,
    /// Sealed.
    pub ca_key: String,
    pub server_cert_pem: String,
    /// Sealed.
    pub server_key: String,
    /// The next serial number a client certificate gets.
    pub next_serial: u64,
    /// Certificates revoked so far (deleted client certificates), for the CRL.
    pub revoked: Vec<Revoked>,
    /// The CRL's number: increases with every new CRL.
    pub crl_number: u64,
    /// The CRL signed when the server was made or a certificate was last
    /// revoked: what OpenVPN's `crl-verify` reads.
    #[serde(default)]
    pub crl_pem: String,
}

impl ServerPki {
    /// Records the revocation of `cert` at `now_ms` and gives the number the
    /// next CRL must carry. Revoking a certificate twice records it once.
    pub fn revoke(&mut self, cert: &SslVpnClientCert, now_ms: i64) -> u64 {
        if !self.revoked.iter().any(|r| r.serial == cert.serial) {
            self.revoked.push(Revoked {
                serial: cert.serial,
                common_name: cert.id.clone(),
                revoked_ms: now_ms,
            });
        }
        self.crl_number += 1;
        self.crl_number
    }

    /// The common names whose live sessions must end.
    pub fn revoked_names(&self) -> Vec<String> {
        self.revoked.iter().map(|r| r.common_name.clone()).collect()
    }
}

/// One revoked client certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revoked {
    pub serial: u64,
    /// Its common name (the certificate id), so that a live session can be ended.
    pub common_name: String,
    pub revoked_ms: i64,
}

/// An SSL-VPN server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SslVpnServer {
    pub id: String,
    pub region_id: String,
    pub vpn_gateway_id: String,
    pub name: String,
    pub client_ip_pool: ClientIpPool,
    pub local_subnet: LocalSubnets,
    pub proto: Proto,
    pub port: u16,
    pub cipher: Cipher,
    pub compress: bool,
    pub dns_servers: Vec<Ipv4Addr>,
    pub mfa: MultiFactorAuth,
    /// The gateway's, always (the cloud keeps them together).
    pub resource_group_id: String,
    pub create_time_ms: i64,
    pub tags: Vec<Tag>,
    pub pki: ServerPki,
    /// `Connections` as last measured by the data plane.
    pub connections: i64,
    /// The clients connected when the data plane last measured
    /// (DescribeSslVpnClients).
    #[serde(default)]
    pub clients: Vec<SslClient>,
    /// When `connections` and `clients` were measured and accepted: they
    /// stand only while that is recent ([`SslVpnServer::online`]).
    #[serde(flatten)]
    pub measured: Measured,
}

/// One client connected to an SSL server, as OpenVPN's management interface
/// shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct SslClient {
    /// The certificate's common name: its `SslVpnClientCertId`.
    pub common_name: String,
    /// Where it connects from.
    pub ip: String,
    pub port: i64,
    /// The address it got from `ClientIpPool`.
    pub private_ip: String,
    /// When it connected, ms since the epoch.
    pub connected_time: i64,
    pub receive_bytes: i64,
    pub send_bytes: i64,
}

impl SslVpnServer {
    /// The clients and `Connections` as the agent last reported them, or
    /// none when no report came for `fresh_ms` (the agent is gone: its
    /// clients cannot be online any more; a live agent reports a server
    /// with clients at least every 30 s).
    pub fn online(&self, now_ms: i64, fresh_ms: i64) -> (&[SslClient], i64) {
        if self.measured.fresh(now_ms, fresh_ms) {
            (&self.clients, self.connections)
        } else {
            (&[], 0)
        }
    }

    /// `DnsServers` as the API echoes it.
    pub fn dns_servers_text(&self) -> String {
        self.dns_servers
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// An SSL client certificate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SslVpnClientCert {
    pub id: String,
    pub region_id: String,
    pub ssl_vpn_server_id: String,
    pub name: String,
    /// The server's, always.
    pub resource_group_id: String,
    pub create_time_ms: i64,
    pub end_time_ms: i64,
    pub serial: u64,
    pub cert_pem: String,
    /// Sealed.
    pub key: String,
}

/// `ClientConfig` of DescribeSslVpnClientCert: the OpenVPN client
/// configuration the cloud hands out with a certificate. Like the cloud's
/// `config.ovpn` it names its certificate files (`ca.crt`, `client.crt`,
/// `client.key`: the `CaCert`, `ClientCert` and `ClientKey` of the same
/// answer) instead of embedding them, so a client saves four files side by
/// side and runs `openvpn --config config.ovpn`.
pub fn client_config(server: &SslVpnServer, ssl_vpn_internet_ip: &str) -> String {
    let proto = match server.proto {
        Proto::Udp => "udp",
        Proto::Tcp => "tcp",
    };
    let mut c = format!(
        "client\ndev tun\nproto {proto}\nremote {ssl_vpn_internet_ip} {port}\n\
         resolv-retry infinite\nnobind\npersist-key\npersist-tun\n\
         ca ca.crt\ncert client.crt\nkey client.key\nremote-cert-tls server\n\
         keepalive 10 60\ncipher {cipher}\n",
        port = server.port,
        cipher = server.cipher,
    );
    if server.compress {
        c.push_str("comp-lzo\n");
    }
    c.push_str("verb 3\n");
    c
}

/// `Status` of a client certificate at `now_ms`.
pub fn cert_status(end_time_ms: i64, now_ms: i64) -> &'static str {
    if now_ms >= end_time_ms {
        "expired"
    } else if end_time_ms - now_ms <= EXPIRING_SOON_MS {
        "expiring-soon"
    } else {
        "normal"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn pools() {
        assert_eq!(ClientIpPool::parse("10.0.0.0/24").unwrap().size(), 256);
        assert_eq!(
            ClientIpPool::parse("10.0.0.1/24"),
            Err(RuleError::PoolMalformed)
        );
        assert_eq!(ClientIpPool::parse("10.0.0.0/15"), Err(RuleError::PoolMask));
        assert_eq!(ClientIpPool::parse("10.0.0.0/30"), Err(RuleError::PoolMask));
        assert_eq!(
            ClientIpPool::parse("100.64.0.0/16"),
            Err(RuleError::PoolReserved)
        );
        assert_eq!(
            ClientIpPool::parse("169.254.1.0/24"),
            Err(RuleError::PoolReserved)
        );
        assert_eq!(
            ClientIpPool::parse("fd00::/64"),
            Err(RuleError::PoolMalformed)
        );
        // The cloud's table: 5 connections need /27, 1000 need /20.
        let p27 = ClientIpPool::parse("10.0.0.0/27").unwrap();
        assert!(p27.admits(5) && !p27.admits(10));
        let p20 = ClientIpPool::parse("10.0.0.0/20").unwrap();
        assert!(p20.admits(1000));
        assert!(!ClientIpPool::parse("10.0.0.0/21").unwrap().admits(1000));
    }

    #[test]
    fn local_subnets() {
        let l = LocalSubnets::parse("10.1.0.0/16, 192.168.0.0/24,10.1.0.0/16").unwrap();
        assert_eq!(l.to_string(), "10.1.0.0/16,192.168.0.0/24");
        assert_eq!(
            LocalSubnets::parse("10.0.0.0/7"),
            Err(RuleError::LocalSubnetMask("10.0.0.0/7".into()))
        );
        assert!(LocalSubnets::parse("10.0.0.1/32").is_ok());
        assert!(matches!(
            LocalSubnets::parse("127.0.0.0/8"),
            Err(RuleError::LocalSubnetReserved(_))
        ));
        assert!(LocalSubnets::parse("100.64.0.0/16").is_ok());
        assert_eq!(
            LocalSubnets::parse(
                "1.0.0.0/24,2.0.0.0/24,3.0.0.0/24,4.0.0.0/24,5.0.0.0/24,6.0.0.0/24"
            ),
            Err(RuleError::LocalSubnetTooMany)
        );
        assert!(matches!(
            LocalSubnets::parse("10.0.0.0/8,"),
            Err(RuleError::LocalSubnetMalformed(_))
        ));
        let pool = ClientIpPool::parse("10.1.2.0/24").unwrap();
        assert_eq!(
            overlap(&pool, &l),
            Err(RuleError::Overlap("10.1.0.0/16".into()))
        );
        let other = LocalSubnets::parse("10.2.0.0/16").unwrap();
        assert_eq!(overlap(&pool, &other), Ok(()));
    }

    #[test]
    fn ports_vocabularies_and_dns() {
        assert_eq!(check_port(DEFAULT_PORT), Ok(1194));
        for p in REFUSED_PORTS {
            assert_eq!(check_port(*p), Err(RuleError::Port));
        }
        assert_eq!(check_port(0), Err(RuleError::Port));
        assert_eq!(check_port(65536), Err(RuleError::Port));
        assert_eq!(Proto::parse("UDP"), Some(Proto::Udp));
        assert_eq!(Proto::parse("udp"), None);
        assert_eq!(Cipher::parse("none"), Some(Cipher::None));
        assert_eq!(Cipher::parse("AES-256-GCM"), None);
        assert_eq!(parse_dns_servers("8.8.8.8, 1.1.1.1").unwrap().len(), 2);
        assert!(parse_dns_servers("").unwrap().is_empty());
        assert!(parse_dns_servers("8.8.8.8,x").is_err());
        assert!(parse_dns_servers("1.1.1.1,2.2.2.2,3.3.3.3").is_err());
    }

    #[test]
    fn multi_factor_auth_and_status() {
        let mut m = MultiFactorAuth {
            enabled: true,
            ..MultiFactorAuth::default()
        };
        assert_eq!(m.check(), Err(RuleError::IdaasMissing));
        m.idaas_instance_id = "idaas-cn-x".into();
        m.idaas_region_id = "cn-hangzhou".into();
        assert_eq!(m.check(), Ok(()));
        assert_eq!(m.instance_version(), None);
        m.idaas_application_id = "app_x".into();
        assert_eq!(m.instance_version(), Some("EIAM 2.0"));
        assert_eq!(cert_status(100, 200), "expired");
        assert_eq!(cert_status(EXPIRING_SOON_MS + 10, 20), "expiring-soon");
        assert_eq!(cert_status(EXPIRING_SOON_MS * 3, 0), "normal");
    }

    #[test]
    fn client_config_is_an_openvpn_client_of_this_server() {
        let mut server = SslVpnServer {
            id: "vss-1".into(),
            region_id: "cn-hangzhou".into(),
            vpn_gateway_id: "vpn-1".into(),
            name: String::new(),
            client_ip_pool: ClientIpPool::parse("10.200.0.0/24").unwrap(),
            local_subnet: LocalSubnets::parse("10.0.0.0/24").unwrap(),
            proto: Proto::Udp,
            port: 1194,
            cipher: Cipher::Aes128Cbc,
            compress: false,
            dns_servers: vec![],
            mfa: MultiFactorAuth::default(),
            resource_group_id: String::new(),
            create_time_ms: 0,
            tags: vec![],
            pki: ServerPki {
                ca_cert_pem: String::new(),
                ca_key: String::new(),
                server_cert_pem: String::new(),
                server_key: String::new(),
                next_serial: 2,
                revoked: vec![],
                crl_number: 1,
                crl_pem: String::new(),
            },
            connections: 0,
            clients: vec![],
            measured: Measured::default(),
        };
        let c = client_config(&server, "198.18.0.9");
        for line in [
            "client",
            "dev tun",
            "proto udp",
            "remote 198.18.0.9 1194",
            "ca ca.crt",
            "cert client.crt",
            "key client.key",
            "remote-cert-tls server",
            "cipher AES-128-CBC",
        ] {
            assert!(c.lines().any(|l| l == line), "{line} missing from\n{c}");
        }
        assert!(!c.contains("comp-lzo"));
        server.proto = Proto::Tcp;
        server.port = 443;
        server.compress = true;
        server.cipher = Cipher::None;
        let c = client_config(&server, "198.18.0.9");
        assert!(c.contains("proto tcp\nremote 198.18.0.9 443\n"));
        assert!(c.contains("cipher none\n") && c.contains("comp-lzo\n"));
    }

    fn net() -> impl Strategy<Value = (u32, u8)> {
        (any::<u32>(), 0u8..=32)
    }

    proptest! {
        /// Every pool that parses is a /16–/29 block clear of the reserved
        /// blocks, holds size/4 clients, and prints back as given.
        #[test]
        fn pools_that_parse_are_valid((addr, len) in net()) {
            let text = format!("{}/{len}", Ipv4Addr::from(addr));
            match ClientIpPool::parse(&text) {
                Ok(p) => {
                    prop_assert!((16..=29).contains(&p.net().prefix_len()));
                    prop_assert_eq!(p.to_string(), text);
                    prop_assert!(!touches(p.net(), POOL_RESERVED));
                    let clients = (p.size() / ADDRESSES_PER_CLIENT) as i64;
                    prop_assert!(p.admits(clients));
                    prop_assert!(!p.admits(clients + 1));
                }
                Err(RuleError::PoolMalformed) => {
                    let n = Ipv4Net::new(Ipv4Addr::from(addr), len).unwrap();
                    prop_assert_ne!(n.network(), n.addr());
                }
                Err(_) => {}
            }
        }

        /// Overlap is symmetric in containment and agrees with address arithmetic.
        #[test]
        fn overlap_matches_address_ranges((a, alen) in (any::<u32>(), 16u8..=29), (b, blen) in (any::<u32>(), 8u8..=32)) {
            let pool = Ipv4Net::new(Ipv4Addr::from(a), alen).unwrap().trunc();
            let local = Ipv4Net::new(Ipv4Addr::from(b), blen).unwrap().trunc();
            let (Ok(p), Ok(l)) = (ClientIpPool::parse(&pool.to_string()), LocalSubnets::parse(&local.to_string())) else {
                return Ok(());
            };
            let disjoint = u32::from(pool.broadcast()) < u32::from(local.network())
                || u32::from(local.broadcast()) < u32::from(pool.network());
            prop_assert_eq!(overlap(&p, &l).is_ok(), disjoint);
        }

        /// Ports: exactly 1–65535 without the refused ones.
        #[test]
        fn ports(p in -10i64..70_000) {
            let ok = (1..=65535).contains(&p) && !REFUSED_PORTS.contains(&p);
            prop_assert_eq!(check_port(p).is_ok(), ok);
        }
    }
}
