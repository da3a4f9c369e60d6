//! SSL-VPN on OpenVPN (Debian `openvpn` 2.6): one server per gateway, in
//! the gateway's network namespace, beside charon.
//!
//! - [`SslServerDesired`]: what the server must be (the API's SSL server,
//!   its certificates and the CRL), in plain data; [`render_server_conf`]
//!   turns it into `server.conf`.
//! - [`process`]: the `openvpn` process (start in the namespace, stop, a
//!   leftover of a crashed agent stopped first).
//! - [`management`]: OpenVPN's management interface on a unix socket in the
//!   state directory: connected clients, ending a session, log lines.
//! - [`SslServer`] (`server.rs`): the part the agent drives — apply the
//!   desired state (restart only when the server's configuration changed;
//!   a new CRL is written in place and the revoked clients' live sessions
//!   are ended, so nobody else is dropped), read clients and log events.
//! - [`client`]: a stock `openvpn` client in a namespace, for labs and tests.
//!
//! Why these OpenVPN settings (measured with OpenVPN 2.6.14, see
//! docs/api-decisions.md "SSL-VPN"):
//! - `topology net30` with `server <pool>`: every client gets its own /30 of
//!   `ClientIpPool`, as the cloud documents; OpenVPN keeps the first /30 for
//!   itself.
//! - `data-ciphers` lists the AEAD ciphers first: clients from 2.4 on
//!   negotiate one of them whatever `Cipher` says (the cloud documents the
//!   same); `Cipher` is `data-ciphers-fallback`, the cipher of older
//!   clients, and is offered too.
//! - `crl-verify`: OpenVPN re-reads the file when it changes, at every new
//!   TLS handshake, so a revoked certificate is refused at its next connect
//!   without a restart.
//! - `max-clients` is the gateway's `SslConnections` (with admission: the
//!   agent counts the quota, and OpenVPN's limit leaves room for the
//!   clients it refuses).
//! - `management-client-auth` (when [`SslServerDesired::admission`] asks for
//!   it): a client whose certificate passed waits until the management
//!   client admits or refuses it, so a client over a quota that OpenVPN
//!   does not know (the one both remote-access servers share) is refused
//!   at connect (`AUTH_FAILED`: a stock client stops) instead of being let
//!   in and cut off again.

pub mod client;
pub mod management;
pub mod process;
mod server;

use std::fmt::Write as _;
use std::net::IpAddr;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::model::Secret;

pub use server::{SslServer, SslServerError};

/// `Proto`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Transport {
    Udp,
    Tcp,
}

/// The desired state of a gateway's SSL server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SslServerDesired {
    /// `vss-…`.
    pub server_id: String,
    /// The gateway's `SslVpnInternetIp`: the address OpenVPN listens on.
    pub listen_addr: IpAddr,
    pub transport: Transport,
    pub port: u16,
    /// `ClientIpPool`, an IPv4 CIDR block (/16–/29).
    pub client_ip_pool: String,
    /// `LocalSubnet`: routes pushed to clients.
    pub local_subnets: Vec<String>,
    /// `Cipher`: `AES-128-CBC`, `AES-192-CBC`, `AES-256-CBC` or `none`.
    pub cipher: String,
    pub compress: bool,
    /// Pushed to clients as their DNS servers.
    pub dns_servers: Vec<String>,
    /// The gateway's `SslConnections`.
    pub max_clients: u32,
    /// Every client passing the TLS handshake waits for
    /// [`SslServer::admit`] or [`SslServer::refuse`] (the agent, which
    /// counts the quota the gateway's remote-access servers share); false:
    /// OpenVPN admits every valid certificate up to `max_clients`.
    #[serde(default)]
    pub admission: bool,
    pub ca_cert_pem: String,
    pub server_cert_pem: String,
    pub server_key_pem: Secret,
    pub crl_pem: String,
    /// Common names (certificate ids) of revoked certificates: sessions
    /// still open with one of them are ended.
    pub revoked: Vec<String>,
}

impl SslServerDesired {
    /// The part of the desired state that needs a restart when it changes
    /// (everything but the CRL and the revoked names).
    fn restart_key(&self) -> SslServerDesired {
        SslServerDesired {
            crl_pem: String::new(),
            revoked: Vec::new(),
            ..self.clone()
        }
    }
}

/// Why a desired state cannot be rendered.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SslRenderError {
    #[error("ClientIpPool {0:?} is not an IPv4 block of /16 to /29")]
    Pool(String),
    #[error("LocalSubnet {0:?} is not an IPv4 block")]
    LocalSubnet(String),
    #[error("Cipher {0:?} is not AES-128-CBC, AES-192-CBC, AES-256-CBC or none")]
    Cipher(String),
    #[error("DnsServers {0:?} is not an IPv4 address")]
    Dns(String),
}

/// The name of the server's TUN device (one SSL server per gateway
/// namespace).
pub const TUN_DEVICE: &str = "vpngw-ssl";
/// AEAD ciphers every client from OpenVPN 2.4 on negotiates first.
const AEAD_CIPHERS: &str = "AES-256-GCM:AES-128-GCM:CHACHA20-POLY1305";

fn ipv4_block(s: &str) -> Option<ipnet::Ipv4Net> {
    let net: ipnet::Ipv4Net = s.trim().parse().ok()?;
    (net.network() == net.addr()).then_some(net)
}

/// Files of a server in its state directory.
pub struct ServerFiles<'a>(pub &'a Path);

impl ServerFiles<'_> {
    pub fn conf(&self) -> std::path::PathBuf {
        self.0.join("server.conf")
    }
    pub fn ca(&self) -> std::path::PathBuf {
        self.0.join("ca.pem")
    }
    pub fn cert(&self) -> std::path::PathBuf {
        self.0.join("server.pem")
    }
    pub fn key(&self) -> std::path::PathBuf {
        self.0.join("server.key")
    }
    pub fn crl(&self) -> std::path::PathBuf {
        self.0.join("crl.pem")
    }
    pub fn management(&self) -> std::path::PathBuf {
        self.0.join("management.sock")
    }
    pub fn log(&self) -> std::path::PathBuf {
        self.0.join("openvpn.log")
    }
    pub fn pid(&self) -> std::path::PathBuf {
        self.0.join("openvpn.pid")
    }
}

/// `server.conf` for `d`, with its files in `dir`.
pub fn render_server_conf(d: &SslServerDesired, dir: &Path) -> Result<String, SslRenderError> {
    let pool = ipv4_block(&d.client_ip_pool)
        .filter(|p| (16..=29).contains(&p.prefix_len()))
        .ok_or_else(|| SslRenderError::Pool(d.client_ip_pool.clone()))?;
    let cipher = match d.cipher.as_str() {
        c @ ("AES-128-CBC" | "AES-192-CBC" | "AES-256-CBC" | "none") => c,
        other => return Err(SslRenderError::Cipher(other.to_owned())),
    };
    let f = ServerFiles(dir);
    let mut c = String::from("# generated by vpngw-dataplane: the SSL-VPN server ");
    c.push_str(&d.server_id);
    c.push('\n');
    let _ = writeln!(c, "dev {TUN_DEVICE}\ndev-type tun");
    let proto = match d.transport {
        Transport::Udp => "udp",
        Transport::Tcp => "tcp-server",
    };
    let _ = writeln!(c, "proto {proto}\nlocal {}\nport {}", d.listen_addr, d.port);
    if d.transport == Transport::Udp {
        // A restart (new settings) tells UDP clients to reconnect at once
        // instead of after their keepalive timeout; TCP clients see the
        // connection close.
        c.push_str("explicit-exit-notify 1\n");
    }
    let _ = writeln!(
        c,
        "topology net30\nserver {} {}",
        pool.network(),
        pool.netmask()
    );
    for s in &d.local_subnets {
        let net = ipv4_block(s).ok_or_else(|| SslRenderError::LocalSubnet(s.clone()))?;
        let _ = writeln!(c, "push \"route {} {}\"", net.network(), net.netmask());
    }
    for dns in &d.dns_servers {
        let ip: std::net::Ipv4Addr = dns
            .trim()
            .parse()
            .map_err(|_| SslRenderError::Dns(dns.clone()))?;
        let _ = writeln!(c, "push \"dhcp-option DNS {ip}\"");
    }
    let max_clients = d.max_clients.max(1);
    if d.admission {
        // The agent holds the quota; OpenVPN's own limit only bounds the
        // clients it keeps at once, with room for those waiting to be
        // refused (a client over `max-clients` gets a bare reset and
        // retries forever, never hearing why).
        let _ = writeln!(
            c,
            "max-clients {}",
            max_clients.saturating_mul(2).max(max_clients + 8)
        );
    } else {
        let _ = writeln!(c, "max-clients {max_clients}");
    }
    if d.admission {
        // Clients have a certificate, no password: without the second
        // line OpenVPN would ask them for one.
        c.push_str("management-client-auth\nauth-user-pass-optional\n");
    }
    c.push_str("keepalive 10 60\npersist-key\npersist-tun\n");
    let _ = writeln!(
        c,
        "ca {}\ncert {}\nkey {}\ndh none\ncrl-verify {}\nremote-cert-tls client",
        f.ca().display(),
        f.cert().display(),
        f.key().display(),
        f.crl().display()
    );
    if cipher == "none" {
        let _ = writeln!(c, "data-ciphers {AEAD_CIPHERS}\ndata-ciphers-fallback none");
    } else {
        let _ = writeln!(
            c,
            "data-ciphers {AEAD_CIPHERS}:{cipher}\ndata-ciphers-fallback {cipher}"
        );
    }
    if d.compress {
        // The client configuration says `comp-lzo`; 2.6 refuses compression
        // unless allowed, on both sides.
        c.push_str("allow-compression yes\ncomp-lzo yes\npush \"comp-lzo yes\"\n");
    }
    let _ = writeln!(
        c,
        "management {} unix\nlog {}\nwritepid {}\nverb 3",
        f.management().display(),
        f.log().display(),
        f.pid().display()
    );
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn desired() -> SslServerDesired {
        SslServerDesired {
            server_id: "vss-1".into(),
            listen_addr: "198.18.255.1".parse().expect("ip"),
            transport: Transport::Udp,
            port: 1194,
            client_ip_pool: "10.200.0.0/24".into(),
            local_subnets: vec!["10.0.0.0/24".into(), "192.168.7.0/24".into()],
            cipher: "AES-128-CBC".into(),
            compress: false,
            dns_servers: vec!["10.0.0.53".into()],
            max_clients: 5,
            admission: false,
            ca_cert_pem: "CA".into(),
            server_cert_pem: "CERT".into(),
            server_key_pem: Secret::new("KEY"),
            crl_pem: "CRL".into(),
            revoked: vec![],
        }
    }

    #[test]
    fn renders_net30_routes_ciphers_and_management() {
        let conf = render_server_conf(&desired(), Path::new("/var/lib/x")).expect("render");
        for line in [
            "dev vpngw-ssl",
            "proto udp",
            "explicit-exit-notify 1",
            "local 198.18.255.1",
            "port 1194",
            "topology net30",
            "server 10.200.0.0 255.255.255.0",
            "push \"route 10.0.0.0 255.255.255.0\"",
            "push \"route 192.168.7.0 255.255.255.0\"",
            "push \"dhcp-option DNS 10.0.0.53\"",
            "max-clients 5",
            "crl-verify /var/lib/x/crl.pem",
            "data-ciphers AES-256-GCM:AES-128-GCM:CHACHA20-POLY1305:AES-128-CBC",
            "data-ciphers-fallback AES-128-CBC",
            "management /var/lib/x/management.sock unix",
        ] {
            assert!(conf.lines().any(|l| l == line), "{line} missing:\n{conf}");
        }
        assert!(!conf.contains("comp-lzo"));
        assert!(
            !conf.contains("KEY"),
            "keys go to files, not into the config"
        );

        let mut d = desired();
        d.transport = Transport::Tcp;
        d.compress = true;
        d.cipher = "none".into();
        let conf = render_server_conf(&d, Path::new("/x")).expect("render");
        assert!(conf.contains("proto tcp-server\n"));
        assert!(conf.contains("comp-lzo yes\n"));
        assert!(conf.contains("data-ciphers-fallback none\n"));
        assert!(!conf.contains("management-client-auth"));
        d.admission = true;
        let conf = render_server_conf(&d, Path::new("/x")).expect("render");
        assert!(conf.contains("management-client-auth\nauth-user-pass-optional\n"));
        assert!(conf.contains("max-clients 13\n"), "room to refuse: {conf}");
    }

    #[test]
    fn refuses_what_openvpn_cannot_take() {
        let mut d = desired();
        d.client_ip_pool = "10.0.0.0/30".into();
        assert!(matches!(
            render_server_conf(&d, Path::new("/x")),
            Err(SslRenderError::Pool(_))
        ));
        let mut d = desired();
        d.cipher = "BF-CBC".into();
        assert!(render_server_conf(&d, Path::new("/x")).is_err());
        let mut d = desired();
        d.local_subnets = vec!["10.0.0.1/24".into()];
        assert!(render_server_conf(&d, Path::new("/x")).is_err());
    }

    #[test]
    fn only_the_server_configuration_needs_a_restart() {
        let a = desired();
        let mut b = desired();
        b.crl_pem = "CRL2".into();
        b.revoked = vec!["vsc-1".into()];
        assert_eq!(a.restart_key(), b.restart_key());
        b.port = 1195;
        assert_ne!(a.restart_key(), b.restart_key());
    }
}
