//! HTTPS end to end against the real binary: `serve --tls self-signed` and
//! `--tls-cert/--tls-key`, the start-up errors for bad files, a plain-HTTP
//! client on the HTTPS port, and vpngw's own clients (`vpngw agent`,
//! `vpngw vpc`, `vpngw_client`) verifying the server — and refusing it
//! without the CA. (The official SDKs over HTTPS, RAM's
//! `acs:SecureTransport` and certificate reload under load:
//! tests/sdk/test_tls.py.)
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{
    io::{Read, Write},
    path::{Path, PathBuf},
    process::{Command, Output, Stdio},
    time::{Duration, Instant},
};

use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use vpngw_client::Client;

const KEY: &str = "LTAItlstest0000000001";
const SECRET: &str = "tls-test-secret-0123456789";

use crate::support::{Proc, free_port};

fn vpngw() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_vpngw"));
    c.env("VPNGW_LOG", "warn")
        .env_remove("VPNGW_CA_FILE")
        .env("ALIBABA_CLOUD_ACCESS_KEY_ID", KEY)
        .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", SECRET);
    c
}

fn serve_command(dir: &Path, port: u16, args: &[&str]) -> Command {
    let mut c = vpngw();
    c.args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .arg("--data-dir")
        .arg(dir.join("data"))
        .args(args)
        .env("VPNGW_ROOT_ACCESS_KEY_ID", KEY)
        .env("VPNGW_ROOT_ACCESS_KEY_SECRET", SECRET)
        .env("VPNGW_GATEWAY_PROVISION_DELAY_MS", "0");
    c
}

/// `vpngw serve` with `args`, once it accepts connections.
fn serve(dir: &Path, port: u16, args: &[&str]) -> Proc {
    let child = serve_command(dir, port, args)
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

/// `vpngw serve` with `args` that must fail at start-up: its stderr.
fn refused(dir: &Path, args: &[&str]) -> String {
    let mut child = serve_command(dir, free_port(), args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("vpngw serve {args:?} did not fail");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out: Output = child.wait_with_output().unwrap();
    assert!(!out.status.success(), "vpngw serve {args:?} succeeded");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A CA, and leaf certificates for 127.0.0.1/localhost it signs.
struct Pki {
    dir: PathBuf,
    ca_pem: String,
    issuer: Issuer<'static, KeyPair>,
}

impl Pki {
    fn new(dir: &Path) -> Pki {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca = params.self_signed(&key).unwrap();
        let ca_path = dir.join("ca.pem");
        std::fs::write(&ca_path, ca.pem()).unwrap();
        Pki {
            dir: dir.to_owned(),
            ca_pem: ca.pem(),
            issuer: Issuer::new(params, key),
        }
    }

    fn ca(&self) -> PathBuf {
        self.dir.join("ca.pem")
    }

    /// Writes `<name>.pem` and `<name>.key`; `days` from now (negative: expired).
    fn leaf(&self, name: &str, days: i64) -> (PathBuf, PathBuf) {
        let key = KeyPair::generate().unwrap();
        let mut params =
            CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).unwrap();
        let now = time::OffsetDateTime::now_utc();
        params.not_before = now - time::Duration::days(days.abs() + 2);
        params.not_after = now + time::Duration::days(days);
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        let (c, k) = (
            self.dir.join(format!("{name}.pem")),
            self.dir.join(format!("{name}.key")),
        );
        std::fs::write(&c, cert.pem()).unwrap();
        std::fs::write(&k, key.serialize_pem()).unwrap();
        (c, k)
    }
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn bad_certificate_files_are_start_up_errors_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new(dir.path());
    let (good_cert, good_key) = pki.leaf("good", 30);
    let (_, other_key) = pki.leaf("other", 30);
    let (expired_cert, expired_key) = pki.leaf("expired", -1);
    let junk = dir.path().join("junk.pem");
    std::fs::write(&junk, "not a certificate\n").unwrap();
    let tls = |c: &Path, k: &Path| refused(dir.path(), &["--tls-cert", s(c), "--tls-key", s(k)]);

    let e = tls(&good_cert, &other_key);
    assert!(
        e.contains("does not belong to the certificate") && e.contains("other.key"),
        "{e}"
    );
    let e = tls(&expired_cert, &expired_key);
    assert!(e.contains("expired.pem") && e.contains("expired on"), "{e}");
    let e = tls(&junk, &good_key);
    assert!(
        e.contains("junk.pem") && e.contains("not a PEM file"),
        "{e}"
    );
    let e = tls(&good_cert, &junk);
    assert!(
        e.contains("junk.pem") && e.contains("not a PEM file"),
        "{e}"
    );
    // A certificate where the key should be.
    let e = tls(&good_cert, &good_cert);
    assert!(
        e.contains("good.pem") && e.contains("no private key"),
        "{e}"
    );
    let e = tls(&dir.path().join("absent.pem"), &good_key);
    assert!(e.contains("absent.pem"), "{e}");
    let e = refused(dir.path(), &["--tls-cert", s(&good_cert)]);
    assert!(e.contains("set both --tls-cert and --tls-key"), "{e}");
    let e = refused(dir.path(), &["--listen-http", "127.0.0.1:1"]);
    assert!(e.contains("TLS is not configured"), "{e}");
    // Nothing was created for a server that did not start.
    assert!(!dir.path().join("data").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certificate_files_serve_https_to_a_client_that_trusts_the_ca() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new(dir.path());
    let (cert, key) = pki.leaf("server", 30);
    let port = free_port();
    let _server = serve(
        dir.path(),
        port,
        &["--tls-cert", s(&cert), "--tls-key", s(&key)],
    );
    let https = format!("https://127.0.0.1:{port}");
    let client = Client::new(&https, KEY, SECRET, "cn-hangzhou").unwrap();
    // The system's CAs do not include this one: refused, never skipped.
    let e = client.vpc("DescribeRegions", &[]).await.unwrap_err();
    assert!(
        matches!(e, vpngw_client::ClientError::Tls(_))
            && e.to_string().contains("UnknownIssuer")
            && e.to_string().contains("--ca-file"),
        "{e}"
    );
    let client = client.ca_file(&pki.ca()).unwrap();
    let regions = client.vpc("DescribeRegions", &[]).await.unwrap();
    assert!(regions["Regions"]["Region"].as_array().unwrap().len() > 3);
    // localhost is in the certificate too.
    let by_name = Client::new(
        &format!("https://localhost:{port}"),
        KEY,
        SECRET,
        "cn-hangzhou",
    )
    .unwrap()
    .ca_file(&pki.ca())
    .unwrap();
    by_name.vpc("DescribeRegions", &[]).await.unwrap();
    // A plain-HTTP client on the HTTPS port gets the cloud's answer at once.
    let started = Instant::now();
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    stream
        .write_all(b"POST /?Action=DescribeRegions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(started.elapsed() < Duration::from_secs(3));
    assert!(answer.starts_with("HTTP/1.1 400 "), "{answer}");
    assert!(
        answer.contains("\"Code\":\"InvalidProtocol.NeedSsl\""),
        "{answer}"
    );
    assert!(answer.contains("This port speaks HTTPS"), "{answer}");
    assert!(pki.ca_pem.starts_with("-----BEGIN CERTIFICATE-----"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn self_signed_ca_is_kept_across_restarts_and_trusted_by_vpngw_tools() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let server = serve(dir.path(), port, &["--tls", "self-signed"]);
    let tls_dir = dir.path().join("data/tls");
    let ca = tls_dir.join("ca.pem");
    // The port is bound before the certificate is made: wait for it.
    let deadline = Instant::now() + Duration::from_secs(20);
    while !tls_dir.join("server.pem").exists() {
        assert!(Instant::now() < deadline, "no certificate was generated");
        std::thread::sleep(Duration::from_millis(20));
    }
    let ca_before = std::fs::read(&ca).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &str| {
            std::fs::metadata(tls_dir.join(p))
                .unwrap()
                .permissions()
                .mode()
                & 0o777
        };
        assert_eq!(mode("ca.key"), 0o600);
        assert_eq!(mode("server.key"), 0o600);
        assert_eq!(
            std::fs::metadata(&tls_dir).unwrap().permissions().mode() & 0o777,
            0o700
        );
    }
    let https = format!("https://127.0.0.1:{port}");
    let client = Client::new(&https, KEY, SECRET, "cn-hangzhou")
        .unwrap()
        .ca_file(&ca)
        .unwrap();
    let gw = client
        .vpc(
            "CreateVpnGateway",
            &[("VpcId", "vpc-tlstest"), ("Bandwidth", "10")],
        )
        .await
        .unwrap();
    let gw = gw["VpnGatewayId"].as_str().unwrap().to_owned();
    let cgw = client
        .vpc("CreateCustomerGateway", &[("IpAddress", "203.0.113.7")])
        .await
        .unwrap();
    let vco = client
        .vpc(
            "CreateVpnConnection",
            &[
                ("VpnGatewayId", &gw),
                (
                    "CustomerGatewayId",
                    cgw["CustomerGatewayId"].as_str().unwrap(),
                ),
                ("LocalSubnet", "10.0.0.0/24"),
                ("RemoteSubnet", "192.168.1.0/24"),
            ],
        )
        .await
        .unwrap();
    let vco = vco["VpnConnectionId"].as_str().unwrap().to_owned();

    // The agent over HTTPS: without the CA it refuses the server (and says
    // why); with it, its reports land.
    let agent = |ca: Option<&Path>| {
        let mut c = vpngw();
        c.args(["agent", "--backend", "simulated", "--interval-ms", "200"])
            .args(["--gateway", &gw, "--server", &https])
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        if let Some(ca) = ca {
            c.arg("--ca-file").arg(ca);
        }
        Proc(c.spawn().unwrap())
    };
    let mut untrusting = agent(None);
    std::thread::sleep(Duration::from_millis(1500));
    let _ = untrusting.0.kill();
    let mut stderr = String::new();
    untrusting
        .0
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(stderr.contains("UnknownIssuer"), "{stderr}");
    assert!(
        !logs(&client, &vco)
            .await
            .iter()
            .any(|l| l.contains("[dataplane]"))
    );
    let _agent = agent(Some(&ca));
    let deadline = Instant::now() + Duration::from_secs(20);
    while !logs(&client, &vco)
        .await
        .iter()
        .any(|l| l.contains("[dataplane]"))
    {
        assert!(Instant::now() < deadline, "no agent report over HTTPS");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // `vpngw vpc` over HTTPS, with --ca-file or VPNGW_CA_FILE.
    let cli = |with: &dyn Fn(&mut Command)| {
        let mut c = vpngw();
        c.args(["vpc", "DescribeVpnGateway", "--VpnGatewayId", &gw])
            .args(["--endpoint", &https]);
        with(&mut c);
        c.output().unwrap()
    };
    let out = cli(&|c| {
        c.arg("--ca-file").arg(&ca);
    });
    assert!(out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains(&gw));
    let out = cli(&|c| {
        c.env("VPNGW_CA_FILE", &ca);
    });
    assert!(out.status.success(), "{out:?}");
    let out = cli(&|_| {});
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("UnknownIssuer"));

    // A restart reuses the CA: the client configured before still works.
    drop(server);
    let _server = serve(dir.path(), port, &["--tls", "self-signed"]);
    assert_eq!(std::fs::read(&ca).unwrap(), ca_before);
    client.vpc("DescribeRegions", &[]).await.unwrap();
}

async fn logs(c: &Client, vco: &str) -> Vec<String> {
    let a = c
        .vpc(
            "DescribeVpnConnectionLogs",
            &[("VpnConnectionId", vco), ("MinutePeriod", "10")],
        )
        .await
        .unwrap();
    a["Data"]["Logs"]
        .as_array()
        .map(|l| {
            l.iter()
                .filter_map(|x| x.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}
