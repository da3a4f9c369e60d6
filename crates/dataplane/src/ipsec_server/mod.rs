//! The gateway's IPsec server (client-to-site): one more connection on the
//! gateway's charon, which any client may dial. Measured with strongSwan
//! 5.9.8 (docs/api-decisions.md, "IPsec server"):
//!
//! - The server is a swanctl connection named by the server id (`iss-…`)
//!   with no remote address (`%any`), PSK authentication on both sides, a
//!   virtual IP pool (`pools { <pool> { addrs = ClientIpPool } }`: vici's
//!   own attribute provider, no extra plugin; charon hands out the pool's
//!   addresses without its network and broadcast address, 254 of a /24),
//!   one child with `local_ts = LocalSubnet` (the client's side is its
//!   virtual IP), and the IKE/IPsec algorithms mapped as for connections
//!   ([`crate::render::phase1`], [`crate::render::phase2`]).
//! - `unique = never`: clients may share an identity (the API has one
//!   `RemoteId` for all of them, or none) without replacing each other; each
//!   gets its own address.
//! - The key's owner is the server's identity only, so it matches any
//!   client identity (or `RemoteId`'s, when set).
//! - The pool is named after the server and its block ([`pool_name`]): a
//!   new `ClientIpPool` is a new pool, and the old one is unloaded once its
//!   leases are gone (charon refuses to unload a pool with online leases).
//! - The server only responds: a road warrior has no fixed address to dial,
//!   so `EffectImmediately` cannot mean "negotiate now". It keeps the
//!   meaning UpdateIpsecServer gives it: `true` ends the sessions
//!   negotiated with the old settings when they change.
//!
//! [`applier::IpsecServerApplier`] converges a charon to the desired server;
//! [`plane`] is what the agent drives (the gateway's charon over its own
//! vici connection, or a simulated server); [`road_warrior`] is a stock
//! client, for labs and tests.

pub mod applier;
pub mod plane;
pub mod road_warrior;

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::conf::{Section, conf_value};
use crate::model::{IkeSettings, IkeVersion, IpsecSettings};
use crate::render::conf_secret;
use crate::render::{
    RenderError, RenderOptions, RenderedSecret, esp_proposal, ike_proposal, ike_version, phase1,
    phase2, subnets, valid_name,
};
use crate::status::IkeSaInfo;

pub use applier::{IpsecServerApplier, ServerApplied};
pub use plane::{CharonServer, ServerPlane, SimulatedServer};

/// Every IPsec server id (and so its charon connection) starts with this.
pub const SERVER_PREFIX: &str = "iss-";

/// Whether a charon connection (or a key's `ike-<name>` tail) belongs to an
/// IPsec server rather than to a tunnel.
pub fn is_server_name(name: &str) -> bool {
    name.starts_with(SERVER_PREFIX)
}

/// The desired state of the gateway's IPsec server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IpsecServerDesired {
    /// `iss-…`: the charon connection and child name.
    pub server_id: String,
    /// The gateway's public address (`InternetIp`), where clients dial.
    pub local_addr: IpAddr,
    /// `ClientIpPool`.
    pub client_ip_pool: String,
    /// `LocalSubnet`.
    pub local_subnets: Vec<String>,
    /// Phase 1, with the server's `Psk`; `local_id` empty means the local
    /// address, `remote_id` empty means any client.
    pub ike: IkeSettings,
    /// Phase 2.
    pub ipsec: IpsecSettings,
    /// `EffectImmediately`: a change ends the sessions negotiated with the
    /// old settings (a new pool always does).
    pub effect_immediately: bool,
}

impl IpsecServerDesired {
    /// `LocalId`, or the gateway's address.
    pub fn effective_local_id(&self) -> String {
        let id = self.ike.local_id.trim();
        if id.is_empty() {
            self.local_addr.to_string()
        } else {
            id.to_owned()
        }
    }
}

/// The name of the pool of `server_id` with `block`: a new block is a new
/// pool.
pub fn pool_name(server_id: &str, block: &str) -> String {
    let tail: String = block
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    format!("{server_id}-{tail}")
}

/// An IPsec server rendered for charon.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RenderedServer {
    pub server_id: String,
    /// The body of `connections.<server_id>`.
    pub conn: Section,
    pub pool_name: String,
    /// The body of `pools.<pool_name>`.
    pub pool: Section,
    pub secret: RenderedSecret,
    pub effect_immediately: bool,
}

impl RenderedServer {
    /// `swanctl.conf` text (contains the PSK in clear).
    pub fn to_swanctl_conf(&self) -> String {
        let mut out = format!("# vpngw IPsec server {}\n", self.server_id);
        Section::new()
            .section(
                "connections",
                Section::new().section(self.server_id.clone(), self.conn.clone()),
            )
            .section(
                "pools",
                Section::new().section(self.pool_name.clone(), self.pool.clone()),
            )
            .write_conf(&mut out, 0);
        out.push_str(&format!(
            "secrets {{\n    {} {{\n        id-1 = {}\n        secret = {}\n    }}\n}}\n",
            self.secret.id,
            conf_value(&self.secret.owners[0]),
            conf_secret(self.secret.psk.expose()),
        ));
        out
    }

    /// The vici `load-conn` message.
    pub fn conn_message(&self) -> Section {
        Section::new().section(self.server_id.clone(), self.conn.clone())
    }
}

/// Renders the server. The same algorithm vocabulary and refusals as a
/// connection's (sm3/sm4 are [`RenderError::UnsupportedAlgorithm`]).
pub fn render_ipsec_server(
    d: &IpsecServerDesired,
    options: &RenderOptions,
) -> Result<RenderedServer, RenderError> {
    if !valid_name(&d.server_id) || !is_server_name(&d.server_id) {
        return Err(RenderError::InvalidName(d.server_id.clone()));
    }
    let proposal = ike_proposal(&d.ike)?;
    let esp = esp_proposal(&d.ipsec)?;
    if let Some(host) = &options.host {
        host.check_tunnel(&d.ike, &d.ipsec)?;
    }
    let pool = match subnets("ClientIpPool", std::slice::from_ref(&d.client_ip_pool))?.as_slice() {
        [one] => one.clone(),
        _ => {
            return Err(RenderError::InvalidSubnet {
                field: "ClientIpPool",
                value: d.client_ip_pool.clone(),
            });
        }
    };
    let local_ts = subnets("LocalSubnet", &d.local_subnets)?;
    if d.ike.psk.is_empty() {
        return Err(RenderError::EmptyPsk);
    }
    let local_id = d.effective_local_id();
    let pool_name = pool_name(&d.server_id, &pool);

    let conn = Section::new()
        .kv("version", ike_version(d.ike.version))
        .list("local_addrs", [d.local_addr.to_string()])
        .list("pools", [pool_name.clone()]);
    let mut remote = Section::new().kv("auth", "psk");
    let remote_id = d.ike.remote_id.trim();
    if !remote_id.is_empty() {
        remote = remote.kv("id", remote_id);
    }
    let child = phase2(
        Section::new().list("local_ts", local_ts),
        &d.ipsec,
        esp,
        true,
    );
    let conn = phase1(conn, &d.ike, proposal, true, options)
        .kv("unique", "never")
        .section(
            "local",
            Section::new().kv("auth", "psk").kv("id", local_id.clone()),
        )
        .section("remote", remote)
        .section(
            "children",
            Section::new().section(d.server_id.clone(), child),
        );
    Ok(RenderedServer {
        server_id: d.server_id.clone(),
        conn,
        pool_name,
        pool: Section::new().kv("addrs", pool),
        secret: RenderedSecret {
            id: applier::secret_id(&d.server_id),
            owners: vec![local_id],
            psk: d.ike.psk.clone(),
        },
        effect_immediately: d.effect_immediately,
    })
}

/// One client connected to an IPsec server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OnlineClient {
    /// charon's IKE SA id (to end the session).
    pub ike_sa: u64,
    /// The identity the client authenticated with.
    pub identity: String,
    /// Where it dialled from.
    pub remote_addr: String,
    /// The address it got from `ClientIpPool`.
    pub virtual_ips: Vec<String>,
    /// Seconds since it connected.
    pub connected_for_s: u64,
    /// IPsec SA installed (traffic flows).
    pub ipsec_established: bool,
    pub bytes_in: u64,
    pub bytes_out: u64,
}

/// The clients of `server_id` among `sas`: established IKE SAs of the
/// server that were given an address from the pool.
pub fn online_clients(server_id: &str, sas: &[IkeSaInfo]) -> Vec<OnlineClient> {
    sas.iter()
        .filter(|sa| sa.name == server_id && sa.is_established() && !sa.remote_vips.is_empty())
        .map(|sa| {
            let installed = sa.children.iter().filter(|c| c.is_installed());
            OnlineClient {
                ike_sa: sa.uniqueid,
                identity: sa.remote_id.clone(),
                remote_addr: sa.remote_host.clone(),
                virtual_ips: sa.remote_vips.clone(),
                connected_for_s: sa.established_s.unwrap_or_default(),
                ipsec_established: sa.children.iter().any(|c| c.is_installed()),
                bytes_in: installed.clone().map(|c| c.bytes_in).sum(),
                bytes_out: installed.map(|c| c.bytes_out).sum(),
            }
        })
        .collect()
}

/// Whether charon would negotiate IKEv1 with this server (the road warrior
/// then needs one child per local block).
pub fn is_ikev1(d: &IpsecServerDesired) -> bool {
    d.ike.version == IkeVersion::Ikev1
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::model::{IkeMode, Secret};
    use crate::status::parse_ike_sas;

    pub(crate) fn desired() -> IpsecServerDesired {
        IpsecServerDesired {
            server_id: "iss-1".into(),
            local_addr: "198.18.255.1".parse().expect("ip"),
            client_ip_pool: "10.200.0.0/24".into(),
            local_subnets: vec!["10.0.0.0/24".into(), "192.168.7.0/24".into()],
            ike: IkeSettings {
                version: IkeVersion::Ikev2,
                psk: Secret::new("s3cret"),
                ..IkeSettings::default()
            },
            ipsec: IpsecSettings::default(),
            effect_immediately: false,
        }
    }

    #[test]
    fn server_with_api_defaults() {
        let r = render_ipsec_server(&desired(), &RenderOptions::default()).expect("render");
        insta::assert_snapshot!(r.to_swanctl_conf());
        assert_eq!(r.pool_name, "iss-1-10-200-0-0-24");
        assert_eq!(r.secret.owners, ["198.18.255.1"]);
        assert!(!format!("{r:?}").contains("s3cret"));
        assert_eq!(r.secret.to_vici().get_str("data"), Some("s3cret"));
    }

    #[test]
    fn identities_ikev1_aggressive_and_lifetimes() {
        let mut d = desired();
        d.ike.version = IkeVersion::Ikev1;
        d.ike.mode = IkeMode::Aggressive;
        d.ike.local_id = "vpn.example.test".into();
        d.ike.remote_id = "staff@example.test".into();
        d.ike.enc_alg = "aes256".into();
        d.ike.pfs = "group14".into();
        d.ipsec.pfs = "disabled".into();
        d.ipsec.lifetime_s = 3600;
        let r = render_ipsec_server(&d, &RenderOptions::default()).expect("render");
        let conf = r.to_swanctl_conf();
        for line in [
            "version = 1",
            "aggressive = yes",
            "proposals = aes256-sha1-modp2048",
            "dpd_timeout = 30s",
            "id = vpn.example.test",
            "id = staff@example.test",
            "esp_proposals = aes128-sha1",
            "life_time = 3600s",
        ] {
            assert!(conf.lines().any(|l| l.trim() == line), "{line}:\n{conf}");
        }
        assert_eq!(r.secret.owners, ["vpn.example.test"]);
    }

    #[test]
    fn refusals_are_the_connections() {
        let o = RenderOptions::default();
        let mut d = desired();
        d.ike.enc_alg = "sm4".into();
        assert!(matches!(
            render_ipsec_server(&d, &o),
            Err(RenderError::UnsupportedAlgorithm {
                field: "IkeConfig.IkeEncAlg",
                ..
            })
        ));
        let mut d = desired();
        d.ike.psk = Secret::default();
        assert_eq!(render_ipsec_server(&d, &o), Err(RenderError::EmptyPsk));
        let mut d = desired();
        d.client_ip_pool = "10.0.0.0/24,10.1.0.0/24".into();
        assert!(matches!(
            render_ipsec_server(&d, &o),
            Err(RenderError::InvalidSubnet {
                field: "ClientIpPool",
                ..
            })
        ));
        let mut d = desired();
        d.local_subnets.clear();
        assert_eq!(
            render_ipsec_server(&d, &o),
            Err(RenderError::MissingSubnets("LocalSubnet"))
        );
        let mut d = desired();
        d.server_id = "vco-1".into();
        assert!(matches!(
            render_ipsec_server(&d, &o),
            Err(RenderError::InvalidName(_))
        ));
    }

    #[test]
    fn clients_from_list_sas() {
        let sa = |name: &str, id: &str, state: &str, vip: Option<&str>| {
            let mut s = Section::new()
                .kv("uniqueid", "7")
                .kv("version", "2")
                .kv("state", state)
                .kv("remote-host", "198.18.1.2")
                .kv("remote-id", id)
                .kv("established", "12");
            if let Some(v) = vip {
                s = s.list("remote-vips", [v]);
            }
            let child = Section::new()
                .kv("name", name)
                .kv("state", "INSTALLED")
                .kv("bytes-in", "84")
                .kv("bytes-out", "168");
            Section::new().section(
                name,
                s.section("child-sas", Section::new().section("c-1", child)),
            )
        };
        let mut sas = parse_ike_sas(&sa("iss-1", "rw1", "ESTABLISHED", Some("10.200.0.1")));
        sas.extend(parse_ike_sas(&sa("iss-1", "rw2", "CONNECTING", None)));
        sas.extend(parse_ike_sas(&sa(
            "vco-1",
            "198.18.9.2",
            "ESTABLISHED",
            None,
        )));
        let clients = online_clients("iss-1", &sas);
        assert_eq!(clients.len(), 1);
        let c = &clients[0];
        assert_eq!(c.identity, "rw1");
        assert_eq!(c.virtual_ips, ["10.200.0.1"]);
        assert_eq!((c.ike_sa, c.connected_for_s), (7, 12));
        assert!(c.ipsec_established);
        assert_eq!((c.bytes_in, c.bytes_out), (84, 168));
        assert!(online_clients("iss-2", &sas).is_empty());
    }
}
