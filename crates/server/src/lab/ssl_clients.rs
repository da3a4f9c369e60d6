//! `vpngw lab --ssl-clients N`: N stock `openvpn` clients of the gateway's
//! SSL server, each in its own namespace, configured only from what the API
//! hands out (DescribeSslVpnClientCert: `ClientConfig`, `CaCert`,
//! `ClientCert`, `ClientKey`).
//!
//! Client `n` uses the server's `n`-th certificate (DescribeSslVpnClientCerts,
//! oldest first); when the server has fewer than N, the lab creates the
//! missing ones (`Name` `lab-ssl<n>`). A client is started again when the
//! server's configuration changed (new `ClientConfig`) and is stopped when
//! its certificate or the server is gone. Like the road warriors, the
//! namespaces dial from the shared address space (100.101.0.0/16) over a
//! veth pair to the gateway namespace, and the first address of every
//! `LocalSubnet` block is put on the gateway namespace, so a connected
//! client can ping it.

use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use serde::Serialize;
use vpngw_client::Client;
use vpngw_dataplane::Secret;
use vpngw_dataplane::lab::LAB_PREFIX;
use vpngw_dataplane::openvpn::Transport;
use vpngw_dataplane::openvpn::client::{ClientFiles, SslClient};

use super::{host_prefix, ip, ip_batch};
use crate::agent::desired::FetchedSslServer;

/// How long a client may take to start (not to connect: it retries alone).
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// One client namespace and its `openvpn`.
struct Node {
    ns: String,
    addr: IpAddr,
    dir: PathBuf,
    /// The certificate it connects with (kept once given).
    cert: Option<String>,
    /// The server settings it was started for, and its `openvpn`.
    running: Option<(String, SslClient)>,
}

#[derive(Serialize)]
pub(super) struct SslClientInfo {
    ns: String,
    addr: String,
    /// `SslVpnClientCertId`, once given.
    cert: String,
    log: String,
}

/// The lab's SSL clients. See the module documentation.
pub(super) struct SslClients {
    wanted: usize,
    openvpn: PathBuf,
    nodes: Vec<Node>,
}

fn text(v: &serde_json::Value, key: &str) -> String {
    v.get(key)
        .and_then(|x| x.as_str())
        .unwrap_or_default()
        .to_owned()
}

impl SslClients {
    pub(super) fn new(wanted: usize, openvpn: PathBuf) -> SslClients {
        SslClients {
            wanted,
            openvpn,
            nodes: Vec::new(),
        }
    }

    pub(super) fn info(&self) -> Vec<SslClientInfo> {
        self.nodes
            .iter()
            .map(|n| SslClientInfo {
                ns: n.ns.clone(),
                addr: n.addr.to_string(),
                cert: n.cert.clone().unwrap_or_default(),
                log: n.dir.join("client.log").display().to_string(),
            })
            .collect()
    }

    /// Client `n` (1-based): a namespace joined to the gateway's by a veth
    /// pair, an address, routes both ways.
    fn new_node(
        &mut self,
        tag: &str,
        gw_ns: &str,
        gw_addrs: &[IpAddr],
        dir: &Path,
    ) -> anyhow::Result<()> {
        let n = self.nodes.len() + 1;
        let addr = IpAddr::V4(Ipv4Addr::new(
            100,
            101,
            (n / 200) as u8,
            (n % 200 + 1) as u8,
        ));
        let name = format!("ssl{n}");
        let ns = format!("{LAB_PREFIX}{tag}-{name}");
        ip(&["netns", "add", &ns])?;
        ip(&["-n", &ns, "link", "set", "lo", "up"])?;
        ip(&[
            "link", "add", &name, "netns", gw_ns, "type", "veth", "peer", "name", "gw", "netns",
            &ns,
        ])?;
        ip(&["-n", gw_ns, "link", "set", &name, "up"])?;
        ip(&["-n", &ns, "link", "set", "gw", "up"])?;
        let mut lines = vec![format!("address add {} dev lo", host_prefix(&addr))];
        lines.extend(
            gw_addrs
                .iter()
                .map(|a| format!("route replace {} dev gw", host_prefix(a))),
        );
        ip_batch(&ns, &lines)?;
        ip_batch(
            gw_ns,
            &[format!("route replace {} dev {name}", host_prefix(&addr))],
        )?;
        tracing::info!(client = %ns, address = %addr, "SSL client namespace created");
        self.nodes.push(Node {
            ns,
            addr,
            dir: dir.join(&name),
            cert: None,
            running: None,
        });
        Ok(())
    }

    /// Gives every client without a certificate one of the server's
    /// (oldest first, not taken by another client), creating the missing
    /// ones. A client keeps its certificate: deleted, it is refused, as a
    /// revoked user would be.
    async fn assign_certs(&mut self, client: &Client, server_id: &str) -> anyhow::Result<()> {
        if self.nodes.iter().all(|n| n.cert.is_some()) {
            return Ok(());
        }
        let answer = client
            .vpc(
                "DescribeSslVpnClientCerts",
                &[("SslVpnServerId", server_id), ("PageSize", "50")],
            )
            .await?;
        let mut free: Vec<String> = answer
            .get("SslVpnClientCertKeys")
            .and_then(|v| v.get("SslVpnClientCertKey"))
            .and_then(|v| v.as_array())
            .map(|a| a.iter().map(|c| text(c, "SslVpnClientCertId")).collect())
            .unwrap_or_default();
        free.retain(|c| !self.nodes.iter().any(|n| n.cert.as_ref() == Some(c)));
        free.reverse();
        for (i, node) in self.nodes.iter_mut().enumerate() {
            if node.cert.is_some() {
                continue;
            }
            let cert = match free.pop() {
                Some(c) => c,
                None => {
                    let name = format!("lab-ssl{}", i + 1);
                    let created = client
                        .vpc(
                            "CreateSslVpnClientCert",
                            &[("SslVpnServerId", server_id), ("Name", &name)],
                        )
                        .await?;
                    text(&created, "SslVpnClientCertId")
                }
            };
            node.cert = Some(cert);
        }
        Ok(())
    }

    /// Keeps the clients connected to `server` (stopped when there is none).
    /// Returns whether anything changed.
    pub(super) async fn sync(
        &mut self,
        client: &Client,
        server: Option<&FetchedSslServer>,
        lab: (&str, &str, &[IpAddr], &Path),
    ) -> anyhow::Result<bool> {
        if self.wanted == 0 {
            return Ok(false);
        }
        let (tag, gw_ns, gw_addrs, dir) = lab;
        let Some((server_id, dialled, listener)) = server.and_then(|s| {
            let d = s.desired.as_ref().ok()?;
            // What a client's configuration depends on: a change of these
            // restarts the clients, a new CRL does not.
            let key = format!(
                "{} {} {:?} {} {} {}",
                s.server_id, d.listen_addr, d.transport, d.port, d.cipher, d.compress
            );
            Some((s.server_id.clone(), key, (d.transport, d.port)))
        }) else {
            let mut changed = false;
            for n in &mut self.nodes {
                if let Some((_, mut c)) = n.running.take() {
                    c.stop();
                    changed = true;
                }
                n.cert = None;
            }
            return Ok(changed);
        };
        while self.nodes.len() < self.wanted {
            self.new_node(tag, gw_ns, gw_addrs, dir)?;
        }
        self.assign_certs(client, &server_id).await?;
        let mut changed = false;
        let due = self
            .nodes
            .iter()
            .any(|n| n.cert.is_some() && n.running.as_ref().is_none_or(|(d, _)| *d != dialled));
        if due && !server_listens(gw_ns, listener)? {
            // A UDP client that dials before the server is bound waits for
            // its TLS retransmission (2, 4, 8, 16 s): start the clients once
            // the agent's OpenVPN listens (the next sync).
            return Ok(changed);
        }
        for node in &mut self.nodes {
            let Some(cert) = node.cert.clone() else {
                continue;
            };
            if node.running.as_ref().is_some_and(|(d, _)| *d == dialled) {
                continue;
            }
            if let Some((_, mut old)) = node.running.take() {
                old.stop();
            }
            let c = match client
                .vpc("DescribeSslVpnClientCert", &[("SslVpnClientCertId", &cert)])
                .await
            {
                Ok(c) => c,
                // Deleted before it was ever used: nothing to connect with.
                Err(e) if e.is_not_found() => continue,
                Err(e) => return Err(e.into()),
            };
            let files = ClientFiles {
                client_config: text(&c, "ClientConfig"),
                ca_cert: text(&c, "CaCert"),
                client_cert: text(&c, "ClientCert"),
                client_key: Secret::new(text(&c, "ClientKey")),
            };
            let (openvpn, ns, cdir) = (self.openvpn.clone(), node.ns.clone(), node.dir.clone());
            let started = tokio::task::block_in_place(|| {
                SslClient::start(&openvpn, &ns, &cdir, &files, false, START_TIMEOUT)
            })
            .with_context(|| format!("starting openvpn in {ns}"))?;
            tracing::info!(client = %node.ns, cert = %cert, "SSL client started");
            node.running = Some((dialled.clone(), started));
            changed = true;
        }
        Ok(changed)
    }

    pub(super) fn stop(&mut self) {
        for n in &mut self.nodes {
            if let Some((_, mut c)) = n.running.take() {
                c.stop();
            }
        }
    }
}

/// Whether a socket of `transport` is bound to `port` in the gateway's
/// namespace (the agent's OpenVPN, started or restarted for the current
/// settings).
fn server_listens(gw_ns: &str, (transport, port): (Transport, u16)) -> anyhow::Result<bool> {
    let kind = match transport {
        Transport::Udp => "-u",
        Transport::Tcp => "-t",
    };
    let sport = format!(":{port}");
    let out = ip(&[
        "netns", "exec", gw_ns, "ss", "-Hln", kind, "sport", "=", &sport,
    ])?;
    Ok(!out.trim().is_empty())
}
