//! A stock road-warrior client of an IPsec server, configured only from the
//! values the API gives a user (ListIpsecServers: the gateway's
//! `InternetIp`, `Psk`, `IkeConfig` with `LocalId`/`RemoteId`, `IpsecConfig`,
//! `LocalSubnet`), as one would configure strongSwan on a laptop: dial the
//! gateway, ask for a virtual IP (`vips = 0.0.0.0`), reach `LocalSubnet`.
//! Labs and tests load it into a client namespace's charon over vici.

use std::net::IpAddr;

use super::IpsecServerDesired;
use crate::conf::Section;
use crate::model::{IkeSettings, IkeVersion, IpsecSettings, StartAction};
use crate::render::{
    RenderError, RenderOptions, RenderedSecret, RenderedTunnel, esp_proposal, ike_proposal,
    ike_version, phase1, phase2, subnets, valid_name,
};
use crate::status::IkeSaInfo;
use crate::vici::{Vici, ViciError};

/// What a client needs to know to dial an IPsec server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoadWarrior {
    /// The charon connection name on the client.
    pub name: String,
    /// The gateway's public address.
    pub server_addr: IpAddr,
    /// Phase 1: `local_id` is the client's identity (empty: its own
    /// address), `remote_id` the server's (`LocalId`).
    pub ike: IkeSettings,
    pub ipsec: IpsecSettings,
    /// `LocalSubnet`: where the client goes through the tunnel.
    pub remote_subnets: Vec<String>,
}

/// The client of `server` named `name` with `identity`: the server's
/// `RemoteId` when it has one (every client must present it), else
/// `identity` (empty: the client's own address).
pub fn road_warrior(server: &IpsecServerDesired, name: &str, identity: &str) -> RoadWarrior {
    let remote_id = server.ike.remote_id.trim();
    RoadWarrior {
        name: name.to_owned(),
        server_addr: server.local_addr,
        ike: IkeSettings {
            local_id: if remote_id.is_empty() {
                identity.to_owned()
            } else {
                remote_id.to_owned()
            },
            remote_id: server.effective_local_id(),
            ..server.ike.clone()
        },
        ipsec: server.ipsec.clone(),
        remote_subnets: server.local_subnets.clone(),
    }
}

/// Renders the client: `%any` local address, a virtual IP requested, one
/// child towards `LocalSubnet` (IKEv1 negotiates one pair of selectors per
/// IPsec SA, so one child per block there). It initiates when loaded.
pub fn render_road_warrior(
    rw: &RoadWarrior,
    options: &RenderOptions,
) -> Result<RenderedTunnel, RenderError> {
    if !valid_name(&rw.name) {
        return Err(RenderError::InvalidName(rw.name.clone()));
    }
    let proposal = ike_proposal(&rw.ike)?;
    let esp = esp_proposal(&rw.ipsec)?;
    let remote_ts = subnets("LocalSubnet", &rw.remote_subnets)?;
    if rw.ike.psk.is_empty() {
        return Err(RenderError::EmptyPsk);
    }
    let conn = Section::new()
        .kv("version", ike_version(rw.ike.version))
        .list("remote_addrs", [rw.server_addr.to_string()])
        .list("vips", ["0.0.0.0"]);
    let mut local = Section::new().kv("auth", "psk");
    if !rw.ike.local_id.trim().is_empty() {
        local = local.kv("id", rw.ike.local_id.trim());
    }
    let groups: Vec<Vec<String>> = if rw.ike.version == IkeVersion::Ikev1 {
        remote_ts.iter().map(|t| vec![t.clone()]).collect()
    } else {
        vec![remote_ts]
    };
    let mut children = Section::new();
    let mut names = Vec::new();
    for (i, ts) in groups.into_iter().enumerate() {
        let child_name = if i == 0 {
            rw.name.clone()
        } else {
            format!("{}-{}", rw.name, i + 1)
        };
        let child = phase2(
            Section::new().list("remote_ts", ts),
            &rw.ipsec,
            esp.clone(),
            true,
        );
        children = children.section(child_name.clone(), child);
        names.push(child_name);
    }
    let conn = phase1(conn, &rw.ike, proposal, true, options)
        .section("local", local)
        .section(
            "remote",
            Section::new()
                .kv("auth", "psk")
                .kv("id", rw.ike.remote_id.clone()),
        )
        .section("children", children);
    Ok(RenderedTunnel {
        connection_id: rw.name.clone(),
        tunnel_id: rw.name.clone(),
        start_action: StartAction::Start,
        children: names,
        conn,
        secret: RenderedSecret {
            id: format!("ike-{}", rw.name),
            owners: vec![rw.ike.remote_id.clone()],
            psk: rw.ike.psk.clone(),
        },
    })
}

/// A road warrior's view of its session.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientSession {
    /// IKE SA established.
    pub connected: bool,
    /// The address it got from the server's pool.
    pub virtual_ip: Option<String>,
    /// IPsec SAs installed.
    pub children_installed: usize,
}

/// The session of the client connection `name` among `sas`.
pub fn client_session(name: &str, sas: &[IkeSaInfo]) -> ClientSession {
    sas.iter()
        .filter(|s| s.name == name && s.is_established())
        .map(|s| ClientSession {
            connected: true,
            virtual_ip: s.local_vips.first().cloned(),
            children_installed: s.children.iter().filter(|c| c.is_installed()).count(),
        })
        .max_by_key(|s| s.children_installed)
        .unwrap_or_default()
}

/// Loads `client` into a charon and dials (without waiting for the outcome).
pub async fn dial(vici: &Vici, client: &RenderedTunnel) -> Result<(), ViciError> {
    vici.load_shared(&client.secret).await?;
    vici.load_conn(client).await?;
    for child in &client.children {
        vici.initiate(&client.tunnel_id, child).await?;
    }
    Ok(())
}

/// Hangs up (DELETE to the server) and unloads the client.
pub async fn hang_up(vici: &Vici, client: &RenderedTunnel) -> Result<(), ViciError> {
    match vici.unload_conn(&client.tunnel_id).await {
        Ok(()) | Err(ViciError::Failed { .. }) => {}
        Err(e) => return Err(e),
    }
    vici.terminate(&client.tunnel_id).await?;
    match vici.unload_shared(&client.secret.id).await {
        Ok(()) | Err(ViciError::Failed { .. }) => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ipsec_server::tests::desired;

    #[test]
    fn a_client_mirrors_the_server() {
        let server = desired();
        let rw = road_warrior(&server, "rw1", "rw1@example.test");
        assert_eq!(rw.ike.local_id, "rw1@example.test");
        assert_eq!(rw.ike.remote_id, "198.18.255.1");
        assert_eq!(rw.remote_subnets, server.local_subnets);
        let r = render_road_warrior(&rw, &RenderOptions::default()).expect("render");
        let conf = r.conn.to_conf();
        for line in [
            "version = 2",
            "remote_addrs = 198.18.255.1",
            "vips = 0.0.0.0",
            "proposals = aes128-sha1-modp1024",
            "id = rw1@example.test",
            "remote_ts = 10.0.0.0/24,192.168.7.0/24",
        ] {
            assert!(conf.lines().any(|l| l.trim() == line), "{line}:\n{conf}");
        }
        assert_eq!(r.children, ["rw1"]);
        assert_eq!(r.secret.owners, ["198.18.255.1"]);

        // A server with a RemoteId: every client presents it. IKEv1: one
        // child per local block.
        let mut server = desired();
        server.ike.remote_id = "staff".into();
        server.ike.version = IkeVersion::Ikev1;
        let rw = road_warrior(&server, "rw2", "ignored");
        assert_eq!(rw.ike.local_id, "staff");
        let r = render_road_warrior(&rw, &RenderOptions::default()).expect("render");
        assert_eq!(r.children, ["rw2", "rw2-2"]);
    }
}
