//! End-to-end: real charons in network namespaces, real tunnels.
//!
//! Needs root, `ip netns` and `/dev/net/tun`; without them each test prints
//! why and returns (skip). Needs the `dataplane` packages of
//! scripts/packages.txt (`scripts/install-packages dataplane`); their
//! absence is a failure, not a skip.
//!
//! Each test builds its own lab (distinct tag), so they run in parallel.

use std::time::{Duration, Instant};

use vpngw_dataplane::crypto::PluginState;
use vpngw_dataplane::lab::{self, Lab, LabSpec, lab_psk, skip};
use vpngw_dataplane::vici::WAVE_PLACE_HELD;
use vpngw_dataplane::{
    Applier, CharonConfig, Dataplane, DataplaneEvent, DpdTiming, EventKind, IkeSettings,
    IkeVersion, IpsecSettings, RenderError, RenderOptions, StartAction, StrongSwan, TunnelBgp,
    TunnelErrorKind, TunnelState, TunnelStatus, Vici, failure_reason, mirror, render_gateway,
};

/// Fast DPD for tests: check after 1 s of silence, IKEv1 gives up after 3 s
/// (IKEv2 after the lab's retransmission schedule, 3 s).
fn options() -> RenderOptions {
    RenderOptions {
        dpd: DpdTiming {
            delay_s: 1,
            timeout_s: 3,
        },
        ..RenderOptions::default()
    }
}

async fn applier(lab: &Lab, node: Option<usize>) -> Applier {
    let charon = match node {
        None => lab.gateway.charon(),
        Some(i) => lab.peers[i].charon(),
    }
    .expect("charon started");
    let vici = Vici::connect(charon.vici_socket())
        .await
        .expect("vici connect");
    Applier::new(vici, options())
}

/// Poll `tunnel`'s status every 20 ms until `done` holds; returns the status
/// and the time it took.
async fn wait_status(
    applier: &Applier,
    tunnel: &str,
    timeout: Duration,
    done: impl Fn(&TunnelStatus) -> bool,
) -> Result<(TunnelStatus, Duration), String> {
    let start = Instant::now();
    loop {
        let sas = applier.vici().list_sas().await.map_err(|e| e.to_string())?;
        let st = vpngw_dataplane::tunnel_status(tunnel, &sas);
        if done(&st) {
            return Ok((st, start.elapsed()));
        }
        if start.elapsed() > timeout {
            return Err(format!(
                "tunnel {tunnel}: still {:?} after {:?}",
                st.state, timeout
            ));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn wait_no_sas(applier: &Applier, timeout: Duration) -> Result<Duration, String> {
    let start = Instant::now();
    loop {
        let sas = applier.vici().list_sas().await.map_err(|e| e.to_string())?;
        if sas.is_empty() {
            return Ok(start.elapsed());
        }
        if start.elapsed() > timeout {
            return Err(format!("SAs still present after {timeout:?}: {sas:?}"));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn established(s: &TunnelStatus) -> bool {
    s.state == TunnelState::IpsecSaEstablished
}

fn has_event(events: &[DataplaneEvent], tunnel: &str, kind: EventKind) -> bool {
    events
        .iter()
        .any(|e| e.kind == kind && e.tunnel_id.as_deref() == Some(tunnel))
}

/// Establish, ping, cut the link (DPD), restore and re-converge, delete.
async fn full_cycle(tag: &str, ike: IkeSettings, ipsec: IpsecSettings) {
    let mut lab = Lab::build(&LabSpec::new(tag, 1)).expect("build lab");
    lab.start_all().expect("start charons");
    let conn = lab
        .connection(0, &format!("vco-{tag}"), &[0], &ike, &ipsec)
        .expect("connection");
    let tunnel = conn.tunnels[0].tunnel_id.clone();
    let gw_desired = lab.gateway_desired(vec![conn.clone()]);
    let peer_desired = mirror(&conn);

    let mut peer = applier(&lab, Some(0)).await;
    let report = peer.apply(&peer_desired).await.expect("peer apply");
    assert!(report.errors.is_empty(), "{:?}", report.errors);

    let gw_socket = lab.gateway.charon().expect("gw charon").vici_socket();
    let mut events = Vici::subscribe_events(&gw_socket, 1)
        .await
        .expect("subscribe");
    let mut gw = applier(&lab, None).await;
    let t0 = Instant::now();
    let report = gw.apply(&gw_desired).await.expect("gw apply");
    assert_eq!(report.loaded, vec![tunnel.clone()]);
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    let (st, _) = wait_status(&gw, &tunnel, Duration::from_secs(10), established)
        .await
        .expect("established");
    let setup = t0.elapsed();
    eprintln!("[{tag}] {tunnel}: ipsec_sa_established {setup:?} after apply");
    assert_eq!(st.state.api_status(), "ipsec_sa_established");

    // A second apply of the same state changes nothing.
    let again = gw.apply(&gw_desired).await.expect("re-apply");
    assert!(again.is_noop(), "{again:?}");
    assert_eq!(again.unchanged, vec![tunnel.clone()]);

    // Traffic through the tunnel, both ways, and counters move.
    let peer_inside = lab.peers[0].inside_addr;
    assert!(lab.gateway.ping(peer_inside, 3), "ping gw -> peer");
    assert!(
        lab.peers[0].ping(lab.gateway.inside_addr, 3),
        "ping peer -> gw"
    );
    let (st, _) = wait_status(&gw, &tunnel, Duration::from_secs(2), |s| {
        s.packets_in >= 3 && s.packets_out >= 3
    })
    .await
    .expect("counters");
    eprintln!(
        "[{tag}] counters: in {} B/{} pkts, out {} B/{} pkts",
        st.bytes_in, st.packets_in, st.bytes_out, st.packets_out
    );

    // Cut the link: DPD takes the SA down.
    lab.peers[0].set_link(false).expect("link down");
    let (st, took) = wait_status(&gw, &tunnel, Duration::from_secs(15), |s| {
        s.state == TunnelState::IkeSaNotEstablished
    })
    .await
    .expect("DPD clears the SA");
    eprintln!("[{tag}] link cut: {} after {took:?}", st.state.api_status());
    assert!(!lab.gateway.ping(peer_inside, 1), "no tunnel, no reply");

    // Restore the link; the gateway re-initiates and converges again.
    lab.peers[0].set_link(true).expect("link up");
    // The peer may still hold its side of the dead SA until its own DPD
    // fires; wait for that so the new negotiation is clean.
    wait_no_sas(&peer, Duration::from_secs(15))
        .await
        .expect("peer cleared");
    let t1 = Instant::now();
    let started = gw
        .ensure_initiated(&mut |_| true)
        .await
        .expect("ensure_initiated");
    assert_eq!(started, vec![tunnel.clone()]);
    wait_status(&gw, &tunnel, Duration::from_secs(10), established)
        .await
        .expect("re-established");
    eprintln!(
        "[{tag}] re-established {:?} after link restore",
        t1.elapsed()
    );
    assert!(lab.gateway.ping(peer_inside, 2), "ping after re-establish");

    // Delete the connection: the SA disappears on both sides.
    let report = gw
        .apply(&lab.gateway_desired(vec![]))
        .await
        .expect("apply empty");
    assert_eq!(report.unloaded, vec![tunnel.clone()]);
    let took = wait_no_sas(&gw, Duration::from_secs(5))
        .await
        .expect("gw SAs gone");
    wait_no_sas(&peer, Duration::from_secs(5))
        .await
        .expect("peer SAs gone");
    eprintln!("[{tag}] connection deleted: SAs gone after {took:?}");
    assert!(gw.vici().get_conns().await.expect("conns").is_empty());

    let evs = events.drain();
    assert!(has_event(&evs, &tunnel, EventKind::IkeUp), "{evs:#?}");
    assert!(has_event(&evs, &tunnel, EventKind::ChildUp), "{evs:#?}");
    assert!(has_event(&evs, &tunnel, EventKind::IkeDown), "{evs:#?}");
    let t = Instant::now();
    lab.teardown();
    eprintln!("[{tag}] teardown {:?}", t.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ikev1_main_api_defaults() {
    if skip("ikev1_main_api_defaults") {
        return;
    }
    let ike = IkeSettings {
        psk: lab_psk("v1"),
        ..IkeSettings::default()
    };
    full_cycle("v1", ike, IpsecSettings::default()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ikev2_aes256_sha256_group14() {
    if skip("ikev2_aes256_sha256_group14") {
        return;
    }
    let ike = IkeSettings {
        version: IkeVersion::Ikev2,
        enc_alg: "aes256".into(),
        auth_alg: "sha256".into(),
        pfs: "group14".into(),
        psk: lab_psk("v2"),
        ..IkeSettings::default()
    };
    let ipsec = IpsecSettings {
        enc_alg: "aes256".into(),
        auth_alg: "sha256".into(),
        pfs: "group14".into(),
        lifetime_s: 3600,
    };
    full_cycle("v2", ike, ipsec).await;
}

/// Establish and ping, nothing else.
async fn establish_and_ping(tag: &str, ike: IkeSettings, ipsec: IpsecSettings) {
    let mut lab = Lab::build(&LabSpec::new(tag, 1)).expect("build lab");
    lab.start_all().expect("start charons");
    let conn = lab
        .connection(0, &format!("vco-{tag}"), &[0], &ike, &ipsec)
        .expect("connection");
    let tunnel = conn.tunnels[0].tunnel_id.clone();
    let mut peer = applier(&lab, Some(0)).await;
    peer.apply(&mirror(&conn)).await.expect("peer apply");
    let mut gw = applier(&lab, None).await;
    let report = gw
        .apply(&lab.gateway_desired(vec![conn]))
        .await
        .expect("gw apply");
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    let (_, took) = wait_status(&gw, &tunnel, Duration::from_secs(10), established)
        .await
        .expect("established");
    eprintln!("[{tag}] {tunnel}: ipsec_sa_established after {took:?}");
    assert!(lab.gateway.ping(lab.peers[0].inside_addr, 2), "ping");
    lab.teardown();
}

/// IKEv1 aggressive mode with FQDN ids, 3des/md5/group5, IPsec without PFS.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ikev1_aggressive_pfs_disabled() {
    if skip("ikev1_aggressive_pfs_disabled") {
        return;
    }
    let ike = IkeSettings {
        mode: vpngw_dataplane::IkeMode::Aggressive,
        enc_alg: "3des".into(),
        auth_alg: "md5".into(),
        pfs: "group5".into(),
        local_id: "gw.vpngw.test".into(),
        remote_id: "branch.vpngw.test".into(),
        psk: lab_psk("aggr"),
        ..IkeSettings::default()
    };
    let ipsec = IpsecSettings {
        enc_alg: "aes192".into(),
        auth_alg: "sha512".into(),
        pfs: "disabled".into(),
        lifetime_s: 1800,
    };
    establish_and_ping("aggr", ike, ipsec).await;
}

/// Two tunnels (one per gateway address) to one customer gateway. The peer
/// side is loaded from the rendered `swanctl.conf` text with `swanctl`, so
/// the text form is exercised too. Changing one tunnel reloads only it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dual_tunnel_connection() {
    if skip("dual_tunnel_connection") {
        return;
    }
    let mut lab = Lab::build(&LabSpec::new("dual", 1)).expect("build lab");
    lab.start_all().expect("start charons");
    let ike = IkeSettings {
        psk: lab_psk("dual"),
        ..IkeSettings::default()
    };
    let mut conn = lab
        .connection(0, "vco-dual", &[0, 1], &ike, &IpsecSettings::default())
        .expect("connection");
    let (t1, t2) = (
        conn.tunnels[0].tunnel_id.clone(),
        conn.tunnels[1].tunnel_id.clone(),
    );

    // Customer side from swanctl.conf text.
    let load_peer_text = |conn: &vpngw_dataplane::ConnectionDesired| {
        let rendered = render_gateway(&mirror(conn), &options());
        assert!(rendered.errors.is_empty(), "{:?}", rendered.errors);
        let file = lab.peers[0].state_dir.join("swanctl.conf");
        std::fs::write(&file, rendered.to_swanctl_conf()).expect("write swanctl.conf");
        let socket = lab.peers[0].charon().expect("peer charon").vici_socket();
        let out = std::process::Command::new("swanctl")
            .args(["--load-all", "--noprompt", "--file"])
            .arg(&file)
            .arg("--uri")
            .arg(format!("unix://{}", socket.display()))
            .output()
            .expect("run swanctl");
        let text = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "swanctl --load-all failed: {text}");
        assert!(text.contains("loaded connection 'vco-dual-t2'"), "{text}");
    };
    load_peer_text(&conn);

    let mut gw = applier(&lab, None).await;
    let t0 = Instant::now();
    let report = gw
        .apply(&lab.gateway_desired(vec![conn.clone()]))
        .await
        .expect("apply");
    assert_eq!(report.loaded, vec![t1.clone(), t2.clone()]);
    let (a, b) = tokio::join!(
        wait_status(&gw, &t1, Duration::from_secs(10), established),
        wait_status(&gw, &t2, Duration::from_secs(10), established),
    );
    a.expect("tunnel 1");
    b.expect("tunnel 2");
    eprintln!(
        "[dual] both tunnels ipsec_sa_established {:?} after apply",
        t0.elapsed()
    );
    let sas = gw.vici().list_sas().await.expect("list-sas");
    let locals: Vec<&str> = sas.iter().map(|s| s.local_host.as_str()).collect();
    assert!(
        locals.contains(&"198.18.255.1") && locals.contains(&"198.18.255.2"),
        "{sas:?}"
    );
    assert!(
        lab.gateway.ping(lab.peers[0].inside_addr, 3),
        "ping over the tunnels"
    );

    // Change tunnel 2 only (new PSK on both sides): only it is reloaded and
    // renegotiated; tunnel 1 keeps its SA.
    let sa_ids = |sas: &[vpngw_dataplane::IkeSaInfo], t: &str| -> Vec<u64> {
        sas.iter()
            .filter(|s| s.name == t)
            .map(|s| s.uniqueid)
            .collect()
    };
    let before = gw.vici().list_sas().await.expect("sas");
    conn.tunnels[1].ike.psk = lab_psk("dual-rotated");
    load_peer_text(&conn);
    let report = gw
        .apply(&lab.gateway_desired(vec![conn.clone()]))
        .await
        .expect("apply change");
    assert_eq!(report.loaded, vec![t2.clone()]);
    assert_eq!(report.unchanged, vec![t1.clone()]);
    let old_t2 = sa_ids(&before, &t2);
    let start = Instant::now();
    loop {
        let sas = gw.vici().list_sas().await.expect("sas");
        let st = vpngw_dataplane::tunnel_status(&t2, &sas);
        let ids = sa_ids(&sas, &t2);
        if established(&st) && !ids.is_empty() && ids.iter().all(|id| !old_t2.contains(id)) {
            assert_eq!(
                sa_ids(&sas, &t1),
                sa_ids(&before, &t1),
                "tunnel 1 untouched"
            );
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "tunnel 2 not renegotiated: {sas:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    eprintln!(
        "[dual] tunnel 2 renegotiated with the new PSK in {:?}",
        start.elapsed()
    );

    // Delete the connection through a fresh applier, as after an agent
    // restart: it finds the connections in charon and removes them.
    drop(gw);
    let mut gw = applier(&lab, None).await;
    let report = gw
        .apply(&lab.gateway_desired(vec![]))
        .await
        .expect("delete");
    let mut unloaded = report.unloaded.clone();
    unloaded.sort();
    assert_eq!(unloaded, vec![t1.clone(), t2.clone()]);
    wait_no_sas(&gw, Duration::from_secs(5))
        .await
        .expect("SAs gone");
    assert!(gw.vici().get_shared().await.expect("keys").is_empty());
    lab.teardown();
}

/// `EffectImmediately=false` would negotiate on first traffic, but
/// kernel-libipsec raises no acquires for trap policies, so such a
/// connection is negotiated at once (documented in `RenderOptions`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn not_immediate_still_negotiates_with_libipsec() {
    if skip("not_immediate_still_negotiates_with_libipsec") {
        return;
    }
    let mut lab = Lab::build(&LabSpec::new("trap", 1)).expect("build lab");
    lab.start_all().expect("start charons");
    let ike = IkeSettings {
        version: IkeVersion::Ikev2,
        psk: lab_psk("trap"),
        ..IkeSettings::default()
    };
    let mut conn = lab
        .connection(0, "vco-trap", &[0], &ike, &IpsecSettings::default())
        .expect("connection");
    conn.start_action = StartAction::Trap;
    let tunnel = conn.tunnels[0].tunnel_id.clone();
    let mut peer = applier(&lab, Some(0)).await;
    peer.apply(&mirror(&conn)).await.expect("peer apply");
    let mut gw = applier(&lab, None).await;
    gw.apply(&lab.gateway_desired(vec![conn]))
        .await
        .expect("gw apply");
    wait_status(&gw, &tunnel, Duration::from_secs(5), established)
        .await
        .expect("established without traffic");
    assert!(lab.gateway.ping(lab.peers[0].inside_addr, 2));
    lab.teardown();
}

/// A lab whose owner died (no Drop ran) is found and removed, with the
/// processes still running in its namespaces.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_lab_is_cleaned_up() {
    if skip("stale_lab_is_cleaned_up") {
        return;
    }
    let lab = Lab::build(&LabSpec::new("stale", 1)).expect("build lab");
    // A process left behind in the gateway namespace (kept as our child so
    // that it can be reaped; charon would be one in a real crash).
    let mut leftover = std::process::Command::new("ip")
        .args(["netns", "exec", &lab.gateway.netns, "sleep", "600"])
        .spawn()
        .expect("spawn");
    std::thread::sleep(Duration::from_millis(100));
    let owner = lab.gateway.state_dir.parent().expect("root").join("owner");
    // Simulate a crash: forget the lab and hand it to a pid that is gone.
    std::mem::forget(lab);
    let mut gone = std::process::Command::new("true").spawn().expect("spawn");
    let dead_pid = gone.id();
    gone.wait().expect("wait");
    std::fs::write(&owner, dead_pid.to_string()).expect("owner");

    let removed = lab::cleanup_stale();
    assert!(removed.contains(&"stale".to_string()), "{removed:?}");
    let list = std::process::Command::new("ip")
        .args(["netns", "list"])
        .output()
        .expect("ip netns list");
    assert!(!String::from_utf8_lossy(&list.stdout).contains("vpngwlab-stale-"));
    let status = leftover.wait().expect("reap");
    assert!(
        !status.success(),
        "the leftover process was killed: {status}"
    );
    assert!(!owner.exists());
}

/// Mismatched PSKs (IKEv1 and IKEv2) stay `ike_sa_not_established` with a
/// log line saying why; sm4 is a typed error; charon keeps running; a dead
/// charon is reported promptly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_are_reported() {
    if skip("failures_are_reported") {
        return;
    }
    let mut lab = Lab::build(&LabSpec::new("fail", 3)).expect("build lab");
    lab.start_all().expect("start charons");
    let v1 = IkeSettings {
        psk: lab_psk("gateway-side"),
        ..IkeSettings::default()
    };
    let v2 = IkeSettings {
        version: IkeVersion::Ikev2,
        ..v1.clone()
    };
    let sm4 = IkeSettings {
        enc_alg: "sm4".into(),
        ..v1.clone()
    };
    let c1 = lab
        .connection(0, "vco-badpsk1", &[0], &v1, &IpsecSettings::default())
        .expect("c1");
    let c2 = lab
        .connection(1, "vco-badpsk2", &[0], &v2, &IpsecSettings::default())
        .expect("c2");
    let c3 = lab
        .connection(2, "vco-sm4", &[0], &sm4, &IpsecSettings::default())
        .expect("c3");
    // The customer side has another PSK.
    for (i, c) in [&c1, &c2].into_iter().enumerate() {
        let mut m = mirror(c);
        m.connections[0].tunnels[0].ike.psk = lab_psk("customer-side");
        let mut peer = applier(&lab, Some(i)).await;
        let r = peer.apply(&m).await.expect("peer apply");
        assert!(r.errors.is_empty());
    }

    let gw_socket = lab.gateway.charon().expect("gw").vici_socket();
    let mut events = Vici::subscribe_events(&gw_socket, 1)
        .await
        .expect("subscribe");
    let mut gw = applier(&lab, None).await;
    let desired = lab.gateway_desired(vec![c1.clone(), c2.clone(), c3.clone()]);
    let report = gw.apply(&desired).await.expect("apply");
    assert_eq!(report.loaded.len(), 2);
    assert_eq!(report.errors.len(), 1);
    let err = &report.errors[0];
    assert_eq!(err.connection_id, "vco-sm4");
    assert_eq!(
        err.kind,
        TunnelErrorKind::Render(RenderError::UnsupportedAlgorithm {
            field: "IkeConfig.IkeEncAlg",
            value: "sm4".into()
        })
    );
    eprintln!("[fail] log line: {err}");

    // Give the negotiations time to fail (retransmits: 3 s in the lab).
    tokio::time::sleep(Duration::from_secs(4)).await;
    let status = gw.status(&desired).await.expect("status");
    for t in ["vco-badpsk1-t1", "vco-badpsk2-t1", "vco-sm4-t1"] {
        assert_eq!(status[t].state, TunnelState::IkeSaNotEstablished, "{t}");
        assert_eq!(status[t].ike_status(), "ike_sa_not_established");
    }
    let evs = events.drain();
    let reason = |t: &str| -> Vec<String> {
        evs.iter()
            .filter(|e| e.tunnel_id.as_deref() == Some(t) && e.kind == EventKind::Log)
            .map(|e| e.message.clone())
            .collect()
    };
    let r1 = reason("vco-badpsk1-t1");
    let r2 = reason("vco-badpsk2-t1");
    let why = |lines: &[String]| lines.iter().find_map(|m| failure_reason(m));
    eprintln!(
        "[fail] IKEv1 bad PSK: {:?} ({} log lines)",
        why(&r1),
        r1.len()
    );
    eprintln!(
        "[fail] IKEv2 bad PSK: {:?} ({} log lines)",
        why(&r2),
        r2.len()
    );
    assert!(
        why(&r1).is_some_and(|r| r.contains("pre-shared key")),
        "IKEv1 reason: {r1:#?}"
    );
    assert!(
        why(&r2).is_some_and(|r| r.contains("authentication failed")),
        "IKEv2 reason: {r2:#?}"
    );
    assert!(!evs.iter().any(|e| e.kind == EventKind::IkeUp), "{evs:?}");

    // charon is alive and well.
    let v = gw.vici().version().await.expect("version");
    assert_eq!(v.get_str("daemon"), Some("charon"));

    // A charon that goes away is noticed quickly, not after a timeout.
    lab.gateway.stop_charon();
    let t = Instant::now();
    let e = gw.vici().list_sas().await.expect_err("charon is gone");
    assert!(
        t.elapsed() < Duration::from_secs(2),
        "{e} after {:?}",
        t.elapsed()
    );
    assert!(!gw.vici().is_alive());
    lab.teardown();
}

/// The installed packages are complete: the gateway's charon loads every
/// plugin of its `load` list and can negotiate every algorithm the API
/// accepts (this fails on a host without, e.g., libstrongswan-standard-
/// plugins). With the openssl plugin left out of `load`, the backend reads
/// that at start and refuses a 3des tunnel before loading it, naming the
/// algorithm, the plugin and the package, while an aes tunnel loads.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn host_crypto_is_read_at_start() {
    if skip("host_crypto_is_read_at_start") {
        return;
    }
    let lab = Lab::build(&LabSpec::new("crypto", 1)).expect("build lab");
    let config = CharonConfig::new(
        lab.gateway.state_dir.clone(),
        Some(lab.gateway.netns.clone()),
    );
    let full = StrongSwan::start(config.clone(), options(), 1)
        .await
        .expect("start charon");
    let host = full.host_crypto().expect("charon answered get-algorithms");
    assert!(
        host.failed_plugins().is_empty(),
        "charon did not load {:?}: their packages are missing (scripts/install-packages dataplane)",
        host.failed_plugins()
    );
    assert!(host.unavailable().is_empty(), "{:?}", host.unavailable());
    drop(full);

    let mut config = config;
    config.load.retain(|p| p != "openssl");
    let mut backend = StrongSwan::start(config, options(), 1)
        .await
        .expect("start charon without openssl");
    let host = backend
        .host_crypto()
        .expect("charon answered get-algorithms");
    let missing: Vec<&str> = host.unavailable().iter().map(|u| u.value).collect();
    assert_eq!(missing, ["des", "3des", "md5"]);

    let aes = IkeSettings {
        psk: lab_psk("crypto"),
        ..IkeSettings::default()
    };
    let des3 = IkeSettings {
        enc_alg: "3des".into(),
        ..aes.clone()
    };
    let c1 = lab
        .connection(0, "vco-3des", &[0], &des3, &IpsecSettings::default())
        .expect("c1");
    let c2 = lab
        .connection(0, "vco-aes", &[1], &aes, &IpsecSettings::default())
        .expect("c2");
    let report = backend
        .apply(&lab.gateway_desired(vec![c1, c2]))
        .await
        .expect("apply");
    assert_eq!(report.loaded, ["vco-aes-t1"]);
    assert_eq!(report.errors.len(), 1, "{:?}", report.errors);
    let err = &report.errors[0];
    assert_eq!(err.tunnel_id, "vco-3des-t1");
    assert_eq!(
        err.kind,
        TunnelErrorKind::Render(RenderError::AlgorithmUnavailable {
            field: "IkeConfig.IkeEncAlg",
            value: "3des".into(),
            algorithm: "3DES_CBC",
            plugin: "openssl",
            package: "libstrongswan-standard-plugins",
            state: PluginState::NotConfigured,
        })
    );
    eprintln!("[crypto] log line: {err}");
}

/// Whether the gateway holds an installed child named `child` of `tunnel`.
async fn has_child(gw: &Applier, tunnel: &str, child: &str) -> bool {
    gw.vici()
        .list_sas()
        .await
        .expect("list-sas")
        .iter()
        .filter(|s| s.name == tunnel)
        .any(|s| s.children.iter().any(|c| c.name == child))
}

/// A tunnel's BGP session child that could not be installed when it was
/// first negotiated is initiated again by `ensure_initiated`: the session
/// runs only through that child, so without the retry BGP stays down until
/// the IKE SA is renegotiated. Here, as in the agent when its BGP part is a
/// moment late: `LocalBgpIp` is not yet on the gateway's `lo`, and
/// kernel-libipsec cannot install a child without a local address inside
/// its local selector ("unable to install IPsec policies").
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bgp_child_that_failed_is_initiated_again() {
    if skip("a_bgp_child_that_failed_is_initiated_again") {
        return;
    }
    let mut lab = Lab::build(&LabSpec::new("bgpch", 1)).expect("build lab");
    lab.start_all().expect("start charons");
    let ike = IkeSettings {
        psk: lab_psk("bgpch"),
        ..IkeSettings::default()
    };
    let mut conn = lab
        .connection(0, "vco-bgpch", &[0], &ike, &IpsecSettings::default())
        .expect("connection");
    let (local, peer_ip) = ("169.254.44.1", "169.254.44.2");
    conn.tunnels[0].bgp = Some(TunnelBgp {
        local_ip: local.parse().expect("ip"),
        peer_ip: peer_ip.parse().expect("ip"),
    });
    let tunnel = conn.tunnels[0].tunnel_id.clone();
    let bgp_child = format!("{tunnel}-bgp");
    let on_lo = |node: &vpngw_dataplane::lab::LabNode, addr: &str| {
        let out = node
            .exec(&["ip", "addr", "add", &format!("{addr}/32"), "dev", "lo"])
            .expect("ip addr add");
        assert!(out.status.success(), "{out:?}");
    };

    on_lo(&lab.peers[0], peer_ip);
    let mut peer = applier(&lab, Some(0)).await;
    peer.apply(&mirror(&conn)).await.expect("peer apply");
    let mut gw = applier(&lab, None).await;
    gw.apply(&lab.gateway_desired(vec![conn.clone()]))
        .await
        .expect("gw apply");
    wait_status(&gw, &tunnel, Duration::from_secs(10), established)
        .await
        .expect("established");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        !has_child(&gw, &tunnel, &bgp_child).await,
        "{bgp_child} installed without its local address"
    );

    // The address arrives; the next ensure_initiated asks again.
    on_lo(&lab.gateway, local);
    let t0 = Instant::now();
    gw.ensure_initiated(&mut |_| true)
        .await
        .expect("ensure_initiated");
    while !has_child(&gw, &tunnel, &bgp_child).await {
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "{bgp_child} not initiated again\n{}",
            lab.log_tails(60)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    eprintln!(
        "[bgpch] {bgp_child} up {:?} after ensure_initiated",
        t0.elapsed()
    );
    assert!(
        established(&vpngw_dataplane::tunnel_status(
            &tunnel,
            &gw.vici().list_sas().await.expect("list-sas")
        )),
        "the tunnel's own child is still up"
    );
    lab.teardown();
}

/// #18: an applier whose caller starts the tunnels loads them without
/// starting them, and `ensure_initiated` starts them in waves: never more
/// than its number negotiating at once, each tunnel started once, all up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tunnels_start_in_waves() {
    if skip("tunnels_start_in_waves") {
        return;
    }
    let mut lab = Lab::build(&LabSpec::new("waves", 3)).expect("build lab");
    lab.start_all().expect("start charons");
    let ike = IkeSettings {
        version: IkeVersion::Ikev2,
        psk: lab_psk("waves"),
        ..IkeSettings::default()
    };
    let conns: Vec<_> = (0..3)
        .map(|i| {
            lab.connection(
                i,
                &format!("vco-wave{i}"),
                &[0],
                &ike,
                &IpsecSettings::default(),
            )
            .expect("connection")
        })
        .collect();
    for (i, c) in conns.iter().enumerate() {
        let mut peer = applier(&lab, Some(i)).await;
        let r = peer.apply(&mirror(c)).await.expect("peer apply");
        assert!(r.errors.is_empty(), "{:?}", r.errors);
    }
    let mut gw = applier(&lab, None).await.started_by_caller(1);
    let report = gw
        .apply(&lab.gateway_desired(conns.clone()))
        .await
        .expect("apply");
    assert_eq!(report.loaded.len(), 3, "{report:?}");
    // Loaded, not started.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let sas = gw.vici().list_sas().await.expect("list-sas");
    assert!(sas.is_empty(), "charon started tunnels itself: {sas:?}");

    let names: Vec<String> = conns
        .iter()
        .map(|c| c.tunnels[0].tunnel_id.clone())
        .collect();
    let mut started = Vec::new();
    let mut started_at = std::collections::HashMap::new();
    let t0 = Instant::now();
    loop {
        for name in gw
            .ensure_initiated(&mut |_| true)
            .await
            .expect("ensure_initiated")
        {
            started_at.insert(name.clone(), Instant::now());
            started.push(name);
        }
        let sas = gw.vici().list_sas().await.expect("list-sas");
        // A start holds its place until its SA is up, WAVE_PLACE_HELD at
        // most (then a slow negotiation no longer holds the others back).
        let holding = sas
            .iter()
            .filter(|s| !s.is_established())
            .filter(|s| {
                started_at
                    .get(&s.name)
                    .is_some_and(|t| t.elapsed() < WAVE_PLACE_HELD)
            })
            .count();
        assert!(holding <= 1, "more than one wave of one: {sas:?}");
        let up = names
            .iter()
            .filter(|n| established(&vpngw_dataplane::tunnel_status(n, &sas)))
            .count();
        if up == names.len() {
            break;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(20),
            "{up} of {} up after 20 s; started {started:?}",
            names.len()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    eprintln!(
        "[waves] 3 tunnels one at a time: all up after {:?}",
        t0.elapsed()
    );
    started.sort();
    assert_eq!(started, names, "each tunnel started once");
    lab.teardown();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_start_frees_its_place_in_the_wave() {
    if skip("a_refused_start_frees_its_place_in_the_wave") {
        return;
    }
    // Two tunnels, one place: the first one's peer has not loaded its side
    // (it answers NO_PROPOSAL_CHOSEN at once), the second one's has. The
    // second starts as soon as the first is refused, not WAVE_PLACE_HELD
    // later.
    let mut lab = Lab::build(&LabSpec::new("wavefree", 2)).expect("build lab");
    lab.start_all().expect("start charons");
    let ike = IkeSettings {
        version: IkeVersion::Ikev2,
        psk: lab_psk("wavefree"),
        ..IkeSettings::default()
    };
    let conns: Vec<_> = (0..2)
        .map(|i| {
            lab.connection(
                i,
                &format!("vco-free{i}"),
                &[0],
                &ike,
                &IpsecSettings::default(),
            )
            .expect("connection")
        })
        .collect();
    let mut ready_peer = applier(&lab, Some(1)).await;
    let r = ready_peer
        .apply(&mirror(&conns[1]))
        .await
        .expect("peer apply");
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    let mut gw = applier(&lab, None).await.started_by_caller(1);
    gw.apply(&lab.gateway_desired(conns.clone()))
        .await
        .expect("apply");
    let (refused, ready) = (
        conns[0].tunnels[0].tunnel_id.clone(),
        conns[1].tunnels[0].tunnel_id.clone(),
    );
    assert!(refused < ready, "started in name order");
    let t0 = Instant::now();
    let mut started_at = std::collections::HashMap::new();
    loop {
        // Each tunnel is started once (the agent's back-off decides the rest).
        let mut once = |name: &str| !started_at.contains_key(name);
        for name in gw.ensure_initiated(&mut once).await.expect("ensure") {
            started_at.insert(name, t0.elapsed());
        }
        if started_at.contains_key(&ready) {
            break;
        }
        assert!(
            t0.elapsed() < WAVE_PLACE_HELD * 2,
            "{ready} not started: {started_at:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    eprintln!("[waves] refused start, then the next: {started_at:?}");
    assert!(started_at.contains_key(&refused), "{started_at:?}");
    assert!(
        started_at[&ready] < WAVE_PLACE_HELD / 2,
        "the refused start held its place: {started_at:?}"
    );
    wait_status(&gw, &ready, Duration::from_secs(10), established)
        .await
        .expect("the second tunnel up");
    lab.teardown();
}
