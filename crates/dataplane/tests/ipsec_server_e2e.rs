//! End to end: the gateway's IPsec server on the gateway's charon (driven
//! through `ServerPlane`, as the agent's part drives it, beside the tunnels'
//! backend that runs charon), stock road-warrior
//! charons in client namespaces configured only from the server's API
//! values (`road_warrior`).
//!
//! Needs root, `ip netns` and `/dev/net/tun` (skipped with a message
//! otherwise) and the `dataplane` packages of scripts/packages.txt. Run under
//! `flock /work/netns.lock` on a shared machine.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use vpngw_dataplane::ipsec_server::road_warrior::{
    ClientSession, client_session, dial, hang_up, render_road_warrior, road_warrior,
};
use vpngw_dataplane::ipsec_server::{CharonServer, IpsecServerDesired, OnlineClient, ServerPlane};
use vpngw_dataplane::lab::{Lab, LabSpec, lab_psk, skip};
use vpngw_dataplane::{
    CharonConfig, Dataplane, DataplaneEvent, DpdTiming, EventKind, GatewayDesired, IkeSettings,
    IkeVersion, IpsecSettings, RenderOptions, RenderedSecret, RenderedTunnel, Retransmit,
    StrongSwan, Vici, failure_reason,
};

fn options() -> RenderOptions {
    RenderOptions {
        dpd: DpdTiming {
            delay_s: 1,
            timeout_s: 3,
        },
        ..RenderOptions::default()
    }
}

const POOL: &str = "10.200.0.0/24";

/// A lab with `clients` client namespaces, the gateway's charon in the
/// gateway namespace (the tunnels' backend, which starts it) and the IPsec
/// server's way to it; the clients' charons started.
async fn setup(tag: &str, clients: usize) -> (Lab, StrongSwan, CharonServer) {
    let mut lab = Lab::build(&LabSpec {
        gateway_addrs: 1,
        ..LabSpec::new(tag, clients)
    })
    .expect("lab");
    for p in &mut lab.peers {
        p.start_charon().expect("client charon");
    }
    let mut config = CharonConfig::new(
        lab.gateway.state_dir.clone(),
        Some(lab.gateway.netns.clone()),
    );
    config.retransmit = Retransmit::FAST;
    let tunnels = StrongSwan::start(config, options(), 1)
        .await
        .expect("gateway charon");
    let server = tunnels.ipsec_server();
    (lab, tunnels, server)
}

fn server(
    lab: &Lab,
    id: &str,
    version: IkeVersion,
    local_subnets: Vec<String>,
) -> IpsecServerDesired {
    IpsecServerDesired {
        server_id: id.into(),
        local_addr: lab.gateway.public_addrs[0],
        client_ip_pool: POOL.into(),
        local_subnets,
        ike: IkeSettings {
            version,
            psk: lab_psk(id),
            ..IkeSettings::default()
        },
        ipsec: IpsecSettings::default(),
        effect_immediately: false,
    }
}

async fn client_vici(lab: &Lab, i: usize) -> Vici {
    let charon = lab.peers[i].charon().expect("client charon");
    Vici::connect(charon.vici_socket()).await.expect("vici")
}

async fn session(vici: &Vici, client: &RenderedTunnel) -> ClientSession {
    client_session(&client.tunnel_id, &vici.list_sas().await.expect("list-sas"))
}

/// Polls the client's session every 50 ms until `done` holds.
async fn wait_session(
    vici: &Vici,
    client: &RenderedTunnel,
    what: &str,
    done: impl Fn(&ClientSession) -> bool,
) -> ClientSession {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let s = session(vici, client).await;
        if done(&s) {
            return s;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}: {s:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A client's session with its IPsec SA up, and the address it got.
async fn connected(vici: &Vici, client: &RenderedTunnel) -> String {
    wait_session(vici, client, "the session", |s| {
        s.children_installed > 0 && s.virtual_ip.is_some()
    })
    .await
    .virtual_ip
    .unwrap_or_default()
}

async fn disconnected(vici: &Vici, client: &RenderedTunnel, what: &str) {
    wait_session(vici, client, what, |s| !s.connected).await;
}

async fn clients_now(server: &mut CharonServer) -> Vec<OnlineClient> {
    server.clients().await.expect("clients")
}

fn in_pool(ip: &str) -> bool {
    let pool: ipnet::Ipv4Net = POOL.parse().expect("pool");
    ip.parse::<std::net::Ipv4Addr>()
        .is_ok_and(|a| pool.contains(&a))
}

fn server_events(events: &[DataplaneEvent], server: &str) -> Vec<String> {
    events
        .iter()
        .filter(|e| e.tunnel_id.as_deref() == Some(server))
        .map(|e| e.message.clone())
        .collect()
}

/// IKEv2 with the API's defaults: clients get addresses from the pool and
/// reach LocalSubnet, show as online with their identities; a wrong PSK is
/// refused with a log line that says so; connections of the gateway do not
/// disturb the server; a session over the quota can be ended alone; a new
/// pool ends the old sessions; removing the server disconnects its clients.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn road_warriors_connect_ping_and_are_cut_off_with_the_server() {
    if skip("road_warriors_connect_ping_and_are_cut_off_with_the_server") {
        return;
    }
    let (mut lab, mut tunnels, mut iss) = setup("issv2", 2).await;
    let mut d = server(
        &lab,
        "iss-lab2",
        IkeVersion::Ikev2,
        vec![lab.gateway.inside_subnet.clone()],
    );
    let applied = iss.apply(Some(&d)).await.expect("apply");
    assert_eq!(applied.loaded.as_deref(), Some("iss-lab2"), "{applied:?}");
    assert!(applied.error.is_none());
    assert!(iss.apply(Some(&d)).await.expect("again").is_noop());

    // Client 1 dials with the server's values and reaches LocalSubnet.
    let started = Instant::now();
    let c1 =
        render_road_warrior(&road_warrior(&d, "rw1", "rw1@lab.test"), &options()).expect("rw1");
    let v1 = client_vici(&lab, 0).await;
    dial(&v1, &c1).await.expect("dial rw1");
    let vip1 = connected(&v1, &c1).await;
    eprintln!("[issv2] rw1 connected as {vip1} in {:?}", started.elapsed());
    assert!(in_pool(&vip1), "{vip1} from {POOL}");
    assert!(
        lab.peers[0].reaches(lab.gateway.inside_addr),
        "rw1 reaches LocalSubnet"
    );
    let online = clients_now(&mut iss).await;
    assert_eq!(online.len(), 1, "{online:?}");
    assert_eq!(online[0].identity, "rw1@lab.test");
    assert_eq!(online[0].virtual_ips, std::slice::from_ref(&vip1));
    assert_eq!(
        online[0].remote_addr,
        lab.peers[0].public_addrs[0].to_string()
    );
    assert!(online[0].ipsec_established && online[0].bytes_in > 0);

    // The tunnels' applier leaves the server alone (an agent applies both).
    let no_tunnels = GatewayDesired {
        gateway_id: "vpn-lab".into(),
        local_addrs: lab.gateway.public_addrs.clone(),
        connections: vec![],
    };
    tunnels.apply(&no_tunnels).await.expect("apply tunnels");
    assert_eq!(clients_now(&mut iss).await.len(), 1);

    // Client 2 with a wrong key: refused, and the server says why.
    let mut bad = road_warrior(&d, "rw2", "rw2@lab.test");
    bad.ike.psk = lab_psk("not-the-servers");
    let c2_bad = render_road_warrior(&bad, &options()).expect("rw2");
    let v2 = client_vici(&lab, 1).await;
    dial(&v2, &c2_bad).await.expect("dial rw2");
    let mut events = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    let why = loop {
        events.extend(iss.take_events());
        if let Some(m) = server_events(&events, "iss-lab2")
            .into_iter()
            .find(|m| failure_reason(m).is_some())
        {
            break m;
        }
        assert!(
            Instant::now() < deadline,
            "no refusal in the log: {events:#?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    eprintln!("[issv2] wrong PSK: {why}");
    assert_eq!(
        failure_reason(&why),
        Some("authentication failed: pre-shared key or identity mismatch")
    );
    assert!(why.contains("rw2@lab.test"), "{why}");
    assert!(!session(&v2, &c2_bad).await.connected);
    assert_eq!(clients_now(&mut iss).await.len(), 1);
    assert!(
        server_events(&events, "iss-lab2")
            .iter()
            .any(|m| m.contains("established") && m.contains(&format!("virtual IP {vip1}"))),
        "{events:#?}"
    );
    assert!(events.iter().any(|e| e.kind == EventKind::IkeUp));
    // The server's events are not the tunnels'.
    let theirs = tunnels.take_events();
    assert!(
        theirs.iter().all(|e| e
            .tunnel_id
            .as_deref()
            .is_none_or(|t| !t.starts_with("iss-"))),
        "{theirs:#?}"
    );

    // With the right key client 2 gets its own address.
    hang_up(&v2, &c2_bad).await.expect("hang up");
    let c2 =
        render_road_warrior(&road_warrior(&d, "rw2", "rw2@lab.test"), &options()).expect("rw2");
    dial(&v2, &c2).await.expect("dial rw2");
    let vip2 = connected(&v2, &c2).await;
    assert!(in_pool(&vip2) && vip2 != vip1, "{vip2}");
    assert!(
        lab.peers[1].reaches(lab.gateway.inside_addr),
        "rw2 reaches LocalSubnet"
    );
    let online = clients_now(&mut iss).await;
    assert_eq!(online.len(), 2);

    // Over the quota, the newest session is ended alone.
    let newest = online
        .iter()
        .min_by_key(|c| c.connected_for_s)
        .filter(|c| c.identity == "rw2@lab.test")
        .or_else(|| online.iter().find(|c| c.identity == "rw2@lab.test"))
        .expect("rw2 online")
        .ike_sa;
    iss.disconnect(newest).await.expect("disconnect");
    disconnected(&v2, &c2, "rw2 cut off").await;
    assert!(lab.peers[0].reaches(lab.gateway.inside_addr), "rw1 stays");
    assert_eq!(clients_now(&mut iss).await.len(), 1);
    hang_up(&v2, &c2).await.expect("hang up rw2");

    // A change without EffectImmediately keeps the session; a new pool
    // cannot (its address is not in it), and the old pool goes.
    d.ipsec.lifetime_s = 3600;
    let applied = iss.apply(Some(&d)).await.expect("apply");
    assert!(
        applied.loaded.is_some() && !applied.sessions_ended,
        "{applied:?}"
    );
    assert!(session(&v1, &c1).await.connected);
    d.client_ip_pool = "10.201.0.0/24".into();
    let applied = iss.apply(Some(&d)).await.expect("apply");
    assert!(applied.sessions_ended, "{applied:?}");
    disconnected(&v1, &c1, "rw1 cut off by the new pool").await;
    hang_up(&v1, &c1).await.expect("hang up rw1");
    let c1 =
        render_road_warrior(&road_warrior(&d, "rw1", "rw1@lab.test"), &options()).expect("rw1");
    dial(&v1, &c1).await.expect("redial rw1");
    let vip = connected(&v1, &c1).await;
    assert!(vip.starts_with("10.201.0."), "{vip}");
    // The old pool goes once its leases are gone (every apply retries).
    let gw_vici = Vici::connect(tunnels.config().vici_socket())
        .await
        .expect("gateway vici");
    let deadline = Instant::now() + Duration::from_secs(5);
    let pools = loop {
        iss.apply(Some(&d)).await.expect("apply");
        let pools = gw_vici.get_pools().await.expect("pools");
        if pools.len() == 1 || Instant::now() > deadline {
            break pools;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(pools, ["iss-lab2-10-201-0-0-24"]);

    // Removing the server disconnects its clients.
    let applied = iss.apply(None).await.expect("remove");
    assert_eq!(applied.removed, ["iss-lab2"]);
    disconnected(&v1, &c1, "rw1 disconnected with the server").await;
    assert!(
        !lab.peers[0].reaches(lab.gateway.inside_addr),
        "no server, no way in"
    );
    assert!(clients_now(&mut iss).await.is_empty());
    let server_keys = |keys: Vec<String>| -> Vec<String> {
        keys.into_iter()
            .filter(|k| k.starts_with("ike-iss-"))
            .collect()
    };
    assert_eq!(
        server_keys(gw_vici.get_shared().await.expect("keys")),
        Vec::<String>::new(),
        "the removed server's key is gone: charon would let its clients into the next server"
    );

    // A key that outlived its server (an apply interrupted between the two,
    // then an agent restart): the next agent's first apply removes it.
    let stray = RenderedSecret {
        id: "ike-iss-stray".into(),
        owners: vec![lab.gateway.public_addrs[0].to_string()],
        psk: lab_psk("iss-stray"),
    };
    gw_vici.load_shared(&stray).await.expect("stray key");
    let mut restarted = tunnels.ipsec_server();
    restarted.apply(None).await.expect("first apply");
    assert_eq!(
        server_keys(gw_vici.get_shared().await.expect("keys")),
        Vec::<String>::new()
    );
    drop((iss, restarted, tunnels));
    lab.teardown();
}

/// IKEv1 main mode with two local blocks: a stock client negotiates one
/// IPsec SA per block and reaches both.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ikev1_road_warrior_reaches_every_local_block() {
    if skip("ikev1_road_warrior_reaches_every_local_block") {
        return;
    }
    let (mut lab, tunnels, mut iss) = setup("issv1", 1).await;
    let second: IpAddr = "192.168.77.1".parse().expect("ip");
    lab.gateway
        .exec(&["ip", "addr", "add", "192.168.77.1/32", "dev", "lo"])
        .expect("second local address");
    let d = server(
        &lab,
        "iss-lab1",
        IkeVersion::Ikev1,
        vec![lab.gateway.inside_subnet.clone(), "192.168.77.0/24".into()],
    );
    let applied = iss.apply(Some(&d)).await.expect("apply");
    assert!(applied.error.is_none(), "{applied:?}");
    let c = render_road_warrior(&road_warrior(&d, "rw1", ""), &options()).expect("rw1");
    let v = client_vici(&lab, 0).await;
    dial(&v, &c).await.expect("dial");
    let vip = connected(&v, &c).await;
    assert!(in_pool(&vip), "{vip}");
    wait_session(&v, &c, "both IPsec SAs", |s| s.children_installed == 2).await;
    assert!(lab.peers[0].reaches(lab.gateway.inside_addr), "first block");
    assert!(lab.peers[0].reaches(second), "second block");
    let online = clients_now(&mut iss).await;
    assert_eq!(online.len(), 1);
    // Without an identity of its own the client is known by its address.
    assert_eq!(online[0].identity, lab.peers[0].public_addrs[0].to_string());
    drop((iss, tunnels));
    lab.teardown();
}
