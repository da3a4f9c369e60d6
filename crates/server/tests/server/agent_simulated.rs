//! `vpngw agent --backend simulated` against a real `vpngw serve`, no root
//! needed: the agent reads the desired state over HTTP like any client, and
//! its reports are accepted (the configuration digests it computes from the
//! public answers match the server's), so its log lines reach
//! DescribeVpnConnectionLogs. Nothing is negotiated: Status stays
//! `ike_sa_not_established`. The agent converges again after a restart of
//! either side. (Real tunnels: tests/sdk/test_dataplane_e2e.py.)
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use vpngw_client::Client;

const KEY: &str = "agenttestkey01";
const SECRET: &str = "agent-test-secret-0123456789";

use crate::support::{Proc, free_port};

fn serve(dir: &std::path::Path, port: u16) -> Proc {
    let child = Command::new(env!("CARGO_BIN_EXE_vpngw"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .arg("--data-dir")
        .arg(dir)
        .env("VPNGW_ROOT_ACCESS_KEY_ID", KEY)
        .env("VPNGW_ROOT_ACCESS_KEY_SECRET", SECRET)
        .env("VPNGW_GATEWAY_PROVISION_DELAY_MS", "0")
        .env("VPNGW_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "vpngw serve did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    Proc(child)
}

fn agent(port: u16, gateway: &str) -> Proc {
    Proc(
        Command::new(env!("CARGO_BIN_EXE_vpngw"))
            .args(["agent", "--backend", "simulated", "--interval-ms", "200"])
            .args([
                "--gateway",
                gateway,
                "--server",
                &format!("http://127.0.0.1:{port}"),
            ])
            .env("ALIBABA_CLOUD_ACCESS_KEY_ID", KEY)
            .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", SECRET)
            .env("VPNGW_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    )
}

async fn logs(c: &Client, vco: &str) -> Vec<String> {
    let a = c
        .vpc(
            "DescribeVpnConnectionLogs",
            &[
                ("VpnConnectionId", vco),
                ("MinutePeriod", "10"),
                ("PageSize", "50"),
            ],
        )
        .await
        .unwrap();
    a["Data"]["Logs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap().to_owned())
        .collect()
}

async fn wait_log(c: &Client, vco: &str, what: &str, since: usize) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let l = logs(c, vco).await;
        if l.iter()
            .skip(since)
            .any(|x| x.contains("[dataplane]") && x.contains(what))
        {
            return l;
        }
        assert!(
            Instant::now() < deadline,
            "no {what:?} line for {vco}: {l:#?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn create(c: &Client, gw: &str, ip: &str, ike: Option<&str>) -> String {
    let cgw = c
        .vpc("CreateCustomerGateway", &[("IpAddress", ip)])
        .await
        .unwrap();
    let cgw = cgw["CustomerGatewayId"].as_str().unwrap();
    let mut p = vec![
        ("VpnGatewayId", gw),
        ("CustomerGatewayId", cgw),
        ("LocalSubnet", "10.0.0.0/24"),
        ("RemoteSubnet", "192.168.1.0/24"),
        (
            "HealthCheckConfig",
            r#"{"enable":true,"sip":"10.0.0.9","dip":"192.168.1.9"}"#,
        ),
    ];
    if let Some(ike) = ike {
        p.push(("IkeConfig", ike));
    }
    let v: Value = c.vpc("CreateVpnConnection", &p).await.unwrap();
    v["VpnConnectionId"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn simulated_agent_reports_are_accepted_and_converge_after_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut server = serve(dir.path(), port);
    let c = Client::new(
        &format!("http://127.0.0.1:{port}"),
        KEY,
        SECRET,
        "cn-hangzhou",
    )
    .unwrap();
    let gw = c
        .vpc(
            "CreateVpnGateway",
            &[("VpcId", "vpc-agenttest"), ("Bandwidth", "10")],
        )
        .await
        .unwrap();
    let gw = gw["VpnGatewayId"].as_str().unwrap().to_owned();
    let ok = create(&c, &gw, "203.0.113.7", None).await;
    let sm4 = create(&c, &gw, "203.0.113.8", Some(r#"{"IkeEncAlg":"sm4"}"#)).await;

    let mut a = agent(port, &gw);
    wait_log(&c, &ok, "simulated data plane", 0).await;
    wait_log(&c, &sm4, "not supported", 0).await;
    for id in [&ok, &sm4] {
        let d = c
            .vpc("DescribeVpnConnection", &[("VpnConnectionId", id)])
            .await
            .unwrap();
        assert_eq!(d["Status"], "ike_sa_not_established");
        assert_eq!(d["VcoHealthCheck"]["Status"], "failed");
    }

    // A new configuration is applied again (and only then reported on).
    let before = logs(&c, &ok).await.len();
    c.vpc(
        "ModifyVpnConnectionAttribute",
        &[("VpnConnectionId", &ok), ("RemoteSubnet", "192.168.2.0/24")],
    )
    .await
    .unwrap();
    wait_log(&c, &ok, "simulated data plane", before).await;

    // Agent restart: it converges again.
    drop(a);
    let before = logs(&c, &ok).await.len();
    a = agent(port, &gw);
    wait_log(&c, &ok, "simulated data plane", before).await;

    // Server restart under a running agent: reports resume.
    drop(server);
    tokio::time::sleep(Duration::from_millis(500)).await;
    server = serve(dir.path(), port);
    let third = create(&c, &gw, "203.0.113.9", None).await;
    wait_log(&c, &third, "simulated data plane", 0).await;
    drop(a);
    drop(server);
}
