//! Real tunnels on one machine: a gateway namespace and N customer-gateway
//! namespaces, each with its own charon; one connection per peer.
//!
//! ```text
//! sudo cargo run -p vpngw-dataplane --example lab -- [--peers N] [--ikev2] [--hold SECONDS]
//! ```
//!
//! Prints the time until every tunnel is `ipsec_sa_established`, pings each
//! peer through its tunnel, prints the status table and tears everything
//! down (after `--hold` seconds, if given). Leftovers of a killed run are
//! removed by the next run.

use std::time::{Duration, Instant};

use vpngw_dataplane::lab::{self, Lab, LabSpec, lab_psk};
use vpngw_dataplane::{
    Applier, IkeSettings, IkeVersion, IpsecSettings, RenderOptions, TunnelState, Vici, mirror,
};

struct Args {
    peers: usize,
    ikev2: bool,
    hold: u64,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        peers: 3,
        ikev2: false,
        hold: 0,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--peers" => {
                args.peers = it
                    .next()
                    .and_then(|v| v.parse().ok())
                    .ok_or("--peers needs a number")?;
            }
            "--ikev2" => args.ikev2 = true,
            "--hold" => {
                args.hold = it
                    .next()
                    .and_then(|v| v.parse().ok())
                    .ok_or("--hold needs seconds")?;
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(args)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = parse_args()?;
    if let Err(why) = lab::preflight() {
        eprintln!("cannot build the lab here: {why}");
        std::process::exit(2);
    }
    let t = Instant::now();
    let mut lab = Lab::build(&LabSpec::new("demo", args.peers))?;
    lab.start_all()?;
    println!(
        "built {} namespaces and started {} charons in {:?}",
        args.peers + 1,
        args.peers + 1,
        t.elapsed()
    );

    let ike = IkeSettings {
        version: if args.ikev2 {
            IkeVersion::Ikev2
        } else {
            IkeVersion::Ikev1
        },
        psk: lab_psk("demo"),
        ..IkeSettings::default()
    };
    let mut connections = Vec::new();
    for i in 0..args.peers {
        let conn = lab.connection(
            i,
            &format!("vco-demo{}", i + 1),
            &[0],
            &ike,
            &IpsecSettings::default(),
        )?;
        let socket = lab.peers[i].charon().ok_or("peer charon")?.vici_socket();
        let mut peer = Applier::new(Vici::connect(socket).await?, RenderOptions::default());
        peer.apply(&mirror(&conn)).await?;
        connections.push(conn);
    }
    let desired = lab.gateway_desired(connections);
    let socket = lab.gateway.charon().ok_or("gateway charon")?.vici_socket();
    let mut gw = Applier::new(Vici::connect(socket).await?, RenderOptions::default());

    let t = Instant::now();
    let report = gw.apply(&desired).await?;
    let apply_time = t.elapsed();
    for e in &report.errors {
        println!("error: {e}");
    }
    loop {
        let status = gw.status(&desired).await?;
        let up = status
            .values()
            .filter(|s| s.state == TunnelState::IpsecSaEstablished)
            .count();
        if up == status.len() {
            println!(
                "{} tunnels loaded in {apply_time:?}, all ipsec_sa_established after {:?}",
                up,
                t.elapsed()
            );
            break;
        }
        if t.elapsed() > Duration::from_secs(30) {
            println!("only {up}/{} tunnels up after 30 s", status.len());
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    for p in &lab.peers {
        let ok = lab.gateway.ping(p.inside_addr, 1);
        println!(
            "ping {} -> {} ({}): {}",
            lab.gateway.inside_addr,
            p.inside_addr,
            p.netns,
            if ok { "ok" } else { "FAILED" }
        );
    }
    let status = gw.status(&desired).await?;
    let mut ids: Vec<&String> = status.keys().collect();
    ids.sort();
    for id in ids {
        let s = &status[id];
        println!(
            "{id}: {} ({}, {}) in {} B / out {} B",
            s.state.api_status(),
            s.ike_status(),
            s.ipsec_status(),
            s.bytes_in,
            s.bytes_out
        );
    }
    if args.hold > 0 {
        println!(
            "holding for {} s (gateway namespace: {})",
            args.hold, lab.gateway.netns
        );
        tokio::time::sleep(Duration::from_secs(args.hold)).await;
    }
    let t = Instant::now();
    gw.apply(&lab.gateway_desired(vec![])).await?;
    drop(gw);
    lab.teardown();
    println!("torn down in {:?}", t.elapsed());
    Ok(())
}
