//! End-to-end SSL-VPN: the gateway's OpenVPN server in the lab's gateway
//! namespace, stock `openvpn` clients in peer namespaces, configured only
//! from the client configuration the API hands out (`ClientConfig`, made by
//! the model) and the PKI's PEMs.
//!
//! Needs root, `ip netns` and `/dev/net/tun` (skipped with a message
//! otherwise) and `openvpn` from scripts/packages.txt (`scripts/install-packages
//! dataplane`; its absence is a failure). Run under
//! `flock /work/netns.lock` on a shared machine.

use std::path::Path;
use std::time::{Duration, Instant};

use vpngw_dataplane::Secret;
use vpngw_dataplane::lab::{Lab, LabSpec, skip};
use vpngw_dataplane::openvpn::client::{ClientFiles, SslClient};
use vpngw_dataplane::openvpn::management::LogLine;
use vpngw_dataplane::openvpn::process::DEFAULT_OPENVPN;
use vpngw_dataplane::openvpn::{SslServer, SslServerDesired, Transport};
use vpngw_model::ssl_vpn::{self, Cipher, ClientIpPool, LocalSubnets, MultiFactorAuth, Proto};

const NOW: i64 = 1_765_000_000_000;
const YEAR_MS: i64 = 365 * 24 * 3600 * 1000;

/// A server's CA and the model's view of it (what ClientConfig is made from).
struct Pki {
    server_id: String,
    ca: vpngw_pki::Issued,
    server: vpngw_pki::Issued,
    model: vpngw_model::SslVpnServer,
}

impl Pki {
    fn new(server_id: &str, proto: Proto, compress: bool, cipher: Cipher) -> Pki {
        let ca = vpngw_pki::new_ca(server_id, NOW).expect("ca");
        let server = vpngw_pki::issue_server(server_id, ca.key.expose(), NOW).expect("server");
        let model = vpngw_model::SslVpnServer {
            id: server_id.into(),
            region_id: "cn-hangzhou".into(),
            vpn_gateway_id: "vpn-lab".into(),
            name: String::new(),
            client_ip_pool: ClientIpPool::parse("10.200.0.0/24").expect("pool"),
            local_subnet: LocalSubnets::parse("10.0.0.0/24").expect("local"),
            proto,
            port: 1194,
            cipher,
            compress,
            dns_servers: vec![],
            mfa: MultiFactorAuth::default(),
            resource_group_id: String::new(),
            create_time_ms: NOW,
            tags: vec![],
            pki: vpngw_model::ssl_vpn::ServerPki {
                ca_cert_pem: ca.cert_pem.clone(),
                ca_key: String::new(),
                server_cert_pem: server.cert_pem.clone(),
                server_key: String::new(),
                next_serial: 2,
                revoked: vec![],
                crl_number: 1,
                crl_pem: String::new(),
            },
            connections: 0,
            clients: vec![],
            measured: vpngw_model::measured::Measured::default(),
        };
        Pki {
            server_id: server_id.into(),
            ca,
            server,
            model,
        }
    }

    fn desired(&self, lab: &Lab, revoked: &[(u64, &str)]) -> SslServerDesired {
        let crl = vpngw_pki::crl(
            &self.server_id,
            self.ca.key.expose(),
            &revoked.iter().map(|(s, _)| (*s, NOW)).collect::<Vec<_>>(),
            1 + revoked.len() as u64,
            NOW,
        )
        .expect("crl");
        SslServerDesired {
            server_id: self.server_id.clone(),
            listen_addr: lab.gateway.public_addrs[0],
            transport: match self.model.proto {
                Proto::Udp => Transport::Udp,
                Proto::Tcp => Transport::Tcp,
            },
            port: self.model.port,
            client_ip_pool: self.model.client_ip_pool.to_string(),
            local_subnets: vec![lab.gateway.inside_subnet.clone()],
            cipher: self.model.cipher.to_string(),
            compress: self.model.compress,
            dns_servers: vec![],
            max_clients: 5,
            admission: false,
            ca_cert_pem: self.ca.cert_pem.clone(),
            server_cert_pem: self.server.cert_pem.clone(),
            server_key_pem: Secret::new(self.server.key.expose()),
            crl_pem: crl,
            revoked: revoked.iter().map(|(_, cn)| cn.to_string()).collect(),
        }
    }

    /// What DescribeSslVpnClientCert would return for a new certificate.
    fn client(&self, lab: &Lab, cn: &str, serial: u64, signer: &vpngw_pki::Issued) -> ClientFiles {
        let cert = vpngw_pki::issue_client(
            &self.server_id,
            signer.key.expose(),
            cn,
            serial,
            NOW,
            NOW + 3 * YEAR_MS,
        )
        .expect("client");
        ClientFiles {
            client_config: ssl_vpn::client_config(
                &self.model,
                &lab.gateway.public_addrs[0].to_string(),
            ),
            ca_cert: self.ca.cert_pem.clone(),
            client_cert: cert.cert_pem,
            client_key: Secret::new(cert.key.expose()),
        }
    }
}

fn start_client(lab: &Lab, peer: usize, name: &str, files: &ClientFiles, wait: bool) -> SslClient {
    let dir = lab.gateway.state_dir.join(format!("client-{name}"));
    SslClient::start(
        Path::new(DEFAULT_OPENVPN),
        &lab.peers[peer].netns,
        &dir,
        files,
        wait,
        Duration::from_secs(20),
    )
    .unwrap_or_else(|e| panic!("client {name}: {e}"))
}

/// Waits until the server logs a line `pred` accepts.
async fn wait_for_log(
    server: &mut SslServer,
    timeout: Duration,
    pred: impl Fn(&LogLine) -> bool,
) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if server.take_log().await.iter().any(&pred) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

async fn names_of(server: &mut SslServer) -> Vec<String> {
    let mut names: Vec<String> = server
        .clients()
        .await
        .expect("clients")
        .into_iter()
        .map(|c| c.common_name)
        .collect();
    names.sort();
    names
}

/// A lab (tag `tag`: a gateway namespace with one public address, two
/// client namespaces), a PKI and an OpenVPN server in the gateway namespace
/// (not started yet); `None` when the test cannot run here.
fn setup(
    test: &str,
    tag: &str,
    proto: Proto,
    compress: bool,
    cipher: Cipher,
) -> Option<(Lab, Pki, SslServer)> {
    if skip(test) {
        return None;
    }
    let lab = Lab::build(&LabSpec {
        gateway_addrs: 1,
        ..LabSpec::new(tag, 2)
    })
    .expect("lab");
    let pki = Pki::new(&format!("vss-{tag}"), proto, compress, cipher);
    let server = SslServer::new(
        DEFAULT_OPENVPN,
        Some(lab.gateway.netns.clone()),
        lab.gateway.state_dir.join("openvpn"),
    );
    Some((lab, pki, server))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn udp_clients_connect_ping_and_a_revoked_one_is_cut_off_alone() {
    let Some((mut lab, pki, mut server)) = setup(
        "udp_clients_connect_ping_and_a_revoked_one_is_cut_off_alone",
        "sslu",
        Proto::Udp,
        false,
        Cipher::Aes128Cbc,
    ) else {
        return;
    };
    let applied = server
        .apply(Some(&pki.desired(&lab, &[])))
        .await
        .expect("apply");
    assert!(applied.restarted);

    let started = Instant::now();
    let a_files = pki.client(&lab, "vsc-a", 2, &pki.ca);
    let mut a = start_client(&lab, 0, "a", &a_files, true);
    eprintln!("client up in {:?}", started.elapsed());
    let b = start_client(&lab, 1, "b", &pki.client(&lab, "vsc-b", 3, &pki.ca), true);
    let inside = lab.gateway.inside_addr;
    assert!(
        lab.peers[0].reaches(inside),
        "client a reaches the LocalSubnet"
    );
    assert!(
        lab.peers[1].reaches(inside),
        "client b reaches the LocalSubnet"
    );

    let clients = server.clients().await.expect("clients");
    let mut names: Vec<&str> = clients.iter().map(|c| c.common_name.as_str()).collect();
    names.sort();
    assert_eq!(names, ["vsc-a", "vsc-b"]);
    let ca = clients
        .iter()
        .find(|c| c.common_name == "vsc-a")
        .expect("a");
    assert_eq!(ca.real_address, "198.18.1.2");
    let vaddr: std::net::Ipv4Addr = ca.virtual_address.parse().expect("virtual address");
    assert!(
        "10.200.0.0/24"
            .parse::<ipnet::Ipv4Net>()
            .unwrap()
            .contains(&vaddr)
    );
    assert!(ca.bytes_received > 0 && ca.connected_since > 0);

    // Revoke a: new CRL in place, a's session ended, b untouched.
    let applied = server
        .apply(Some(&pki.desired(&lab, &[(2, "vsc-a")])))
        .await
        .expect("apply");
    assert!(!applied.restarted && applied.crl_updated, "{applied:?}");
    assert_eq!(applied.disconnected, ["vsc-a"]);
    // a reconnects by itself and is refused by the CRL.
    assert!(
        wait_for_log(&mut server, Duration::from_secs(20), |l| {
            l.message.contains("certificate revoked") && l.common_name() == Some("vsc-a")
        })
        .await,
        "the server logs the revoked certificate's refusal"
    );
    // The ended session leaves the server's client list.
    let deadline = Instant::now() + Duration::from_secs(10);
    let names = loop {
        let names = names_of(&mut server).await;
        if names == ["vsc-b"] || Instant::now() > deadline {
            break names;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(names, ["vsc-b"]);
    assert!(!lab.peers[0].reaches(inside), "revoked client a is cut off");
    assert!(
        lab.peers[1].reaches(inside),
        "client b still reaches the LocalSubnet"
    );
    assert!(
        !b.log().contains("SIGUSR1[soft,ping-restart]") && !b.log().contains("Restart pause"),
        "b was not dropped:\n{}",
        b.log()
    );
    a.stop();
    server.apply(None).await.expect("stop");
    assert!(server.pid().is_none());
    lab.teardown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_with_compression_and_a_foreign_ca_refused() {
    let Some((mut lab, pki, mut server)) = setup(
        "tcp_with_compression_and_a_foreign_ca_refused",
        "sslt",
        Proto::Tcp,
        true,
        Cipher::None,
    ) else {
        return;
    };
    server
        .apply(Some(&pki.desired(&lab, &[])))
        .await
        .expect("apply");

    let _good = start_client(
        &lab,
        0,
        "good",
        &pki.client(&lab, "vsc-good", 2, &pki.ca),
        true,
    );
    assert!(
        lab.peers[0].reaches(lab.gateway.inside_addr),
        "TCP client reaches the LocalSubnet"
    );

    // A certificate from another CA, with this server's CA in its config.
    let other = vpngw_pki::new_ca("vss-sslt", NOW).expect("other ca");
    let forged = pki.client(&lab, "vsc-forged", 3, &other);
    let bad = start_client(&lab, 1, "forged", &forged, false);
    assert!(
        wait_for_log(&mut server, Duration::from_secs(20), |l| {
            l.message.contains("VERIFY ERROR") && l.common_name() == Some("vsc-forged")
        })
        .await,
        "the server logs why the foreign certificate is refused"
    );
    assert!(
        !bad.log()
            .contains(vpngw_dataplane::openvpn::client::CONNECTED)
    );
    assert_eq!(names_of(&mut server).await, ["vsc-good"]);

    // A changed configuration restarts the server, and the client comes back.
    let mut d = pki.desired(&lab, &[]);
    d.port = 1195;
    let applied = server.apply(Some(&d)).await.expect("apply");
    assert!(applied.restarted);
    server.apply(None).await.expect("stop");
    lab.teardown();
}
