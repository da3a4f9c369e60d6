//! `vpngw-bench`: drives `vpngw serve` over loopback with signed requests
//! and compares it, in the same run, with a bare hyper server answering a
//! body of the same size (the ceiling on this machine) and with moto's EC2
//! DescribeVpnConnections (the peer emulator) when moto is installed.
//!
//! Every run is bounded by a request count and a duration. See
//! BENCHMARKS.md for the targets, the commands and the figures.

use std::{
    path::{Path, PathBuf},
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use vpngw_bench::{
    bare,
    load::{self, MakeParams, Signer, Spec},
    procs::{self, Proc, VpngwOpts},
    stats::RunStats,
};

const VPC: &str = "2016-04-28";
const REGION: &str = "cn-hangzhou";

#[derive(Parser)]
#[command(name = "vpngw-bench", about = "Benchmarks for vpngw (loopback only)")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// DescribeVpnConnection against vpngw, the bare hyper ceiling and moto.
    Describe(Common),
    /// CreateVpnConnection (durable) at rising concurrency: group commit.
    Create(CreateArgs),
    /// N connections: bulk load, DescribeVpnConnections first/last page,
    /// RSS, and startup time on the loaded database.
    Scale(ScaleArgs),
    /// DescribeVpnConnection over HTTPS and over HTTP, alternately, against
    /// one `vpngw serve --tls self-signed --listen-http …`.
    Tls(Common),
    /// Everything above, in order.
    All(ScaleArgs),
    /// (internal) the bare hyper server.
    #[command(hide = true)]
    BareServer {
        #[arg(long)]
        port: u16,
        #[arg(long)]
        body_size: usize,
    },
}

#[derive(Args, Clone)]
struct Common {
    /// The vpngw binary [default: $CARGO_TARGET_DIR/release/vpngw, else target/release/vpngw].
    #[arg(long)]
    vpngw_bin: Option<PathBuf>,
    /// moto's server; skipped when absent.
    #[arg(long, default_value = ".venv/bin/moto_server")]
    moto_bin: PathBuf,
    /// Concurrent connections (one request in flight on each).
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// Seconds per measured run (each run also stops after --max-requests).
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Requests per measured run, at most.
    #[arg(long, default_value_t = 1_000_000)]
    max_requests: u64,
    /// Where data directories and server logs go [default: a temporary directory].
    #[arg(long)]
    work_dir: Option<PathBuf>,
}

#[derive(Args, Clone)]
struct CreateArgs {
    #[command(flatten)]
    common: Common,
    /// Concurrency levels to measure.
    #[arg(long, value_delimiter = ',', default_value = "1,4,16,64")]
    levels: Vec<usize>,
}

#[derive(Args, Clone)]
struct ScaleArgs {
    #[command(flatten)]
    common: Common,
    /// Connections to load.
    #[arg(long, default_value_t = 100_000)]
    connections: u64,
    /// Connections per VPN gateway (each gateway gets this many customer gateways).
    #[arg(long, default_value_t = 100)]
    per_gateway: u64,
    /// Sequential requests per page measurement.
    #[arg(long, default_value_t = 300)]
    page_requests: u64,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        match cli.command {
            Cmd::BareServer { port, body_size } => {
                bare::serve(port, bare::body_of_size(body_size)).await
            }
            Cmd::Describe(c) => {
                let env = Env::new(&c)?;
                describe(&env).await
            }
            Cmd::Create(a) => {
                let env = Env::new(&a.common)?;
                create_scaling(&env, &a.levels).await
            }
            Cmd::Scale(a) => {
                let env = Env::new(&a.common)?;
                scale(&env, &a).await
            }
            Cmd::Tls(c) => {
                let env = Env::new(&c)?;
                tls_vs_http(&env).await
            }
            Cmd::All(a) => {
                let env = Env::new(&a.common)?;
                describe(&env).await?;
                create_scaling(&env, &[1, 4, 16, 64]).await?;
                scale(&env, &a).await
            }
        }
    })
}

/// What every scenario needs.
struct Env {
    common: Common,
    bin: PathBuf,
    work: PathBuf,
    _tmp: Option<tempfile::TempDir>,
    signer: Signer,
}

impl Env {
    fn new(common: &Common) -> anyhow::Result<Env> {
        let bin = match &common.vpngw_bin {
            Some(b) => b.clone(),
            None => std::env::var_os("CARGO_TARGET_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from("target"))
                .join("release/vpngw"),
        };
        anyhow::ensure!(bin.exists(), "no vpngw binary at {}", bin.display());
        let (work, tmp) = match &common.work_dir {
            Some(d) => {
                std::fs::create_dir_all(d)?;
                (d.clone(), None)
            }
            None => {
                let t = tempfile::Builder::new().prefix("vpngw-bench").tempdir()?;
                (t.path().to_owned(), Some(t))
            }
        };
        println!("# vpngw-bench");
        println!(
            "vpngw {}  cores {}  load {}",
            bin.display(),
            std::thread::available_parallelism().map_or(0, |n| n.get()),
            std::fs::read_to_string("/proc/loadavg")
                .unwrap_or_default()
                .split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        );
        Ok(Env {
            common: common.clone(),
            bin,
            work,
            _tmp: tmp,
            signer: Signer {
                access_key_id: "LTAIbench00000000000001".into(),
                secret: "bench-secret-0123456789abcdef".into(),
                region: Some(REGION.into()),
            },
        })
    }

    fn opts(&self, name: &str, args: &[&str]) -> VpngwOpts {
        let mut all: Vec<String> = vec![
            "--gateway-provision-delay-ms".into(),
            "0".into(),
            "--log".into(),
            "warn".into(),
        ];
        all.extend(args.iter().map(|s| (*s).to_owned()));
        VpngwOpts {
            bin: self.bin.clone(),
            data_dir: self.work.join(name),
            access_key_id: self.signer.access_key_id.clone(),
            secret: self.signer.secret.clone(),
            args: all,
            log: Some(self.work.join(format!("{name}.log"))),
            health_port: None,
        }
    }

    fn spec(&self, port: u16, concurrency: usize) -> Spec {
        Spec {
            port,
            concurrency,
            max_requests: self.common.max_requests,
            max_duration: Duration::from_secs(self.common.seconds),
            extra_headers: Vec::new(),
            tls: None,
        }
    }
}

const UNLIMITED: &[&str] = &[
    "--quota-vpn-gateways",
    "0",
    "--quota-customer-gateways",
    "0",
    "--quota-connections-per-gateway",
    "0",
];

fn p(action: &str, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    load::params(action, VPC, extra)
}

fn field(v: &serde_json::Value, name: &str) -> anyhow::Result<String> {
    v[name]
        .as_str()
        .map(str::to_owned)
        .with_context(|| format!("no {name} in {v}"))
}

/// A customer gateway IP for index `i` (unique up to 16M).
fn cgw_ip(i: u64) -> String {
    format!(
        "47.{}.{}.{}",
        (i >> 16) & 0xff,
        (i >> 8) & 0xff,
        (i & 0xff).max(1)
    )
}

async fn gateway(port: u16, s: &Signer) -> anyhow::Result<String> {
    let gw = load::ok(
        port,
        s,
        &p(
            "CreateVpnGateway",
            &[("VpcId", "vpc-bench"), ("Bandwidth", "10")],
        ),
    )
    .await?;
    field(&gw, "VpnGatewayId")
}

async fn customer_gateway(port: u16, s: &Signer, i: u64) -> anyhow::Result<String> {
    let cgw = load::ok(
        port,
        s,
        &p("CreateCustomerGateway", &[("IpAddress", &cgw_ip(i))]),
    )
    .await?;
    field(&cgw, "CustomerGatewayId")
}

fn connection_params(gw: &str, cgw: &str, name: &str) -> Vec<(String, String)> {
    p(
        "CreateVpnConnection",
        &[
            ("VpnGatewayId", gw),
            ("CustomerGatewayId", cgw),
            ("LocalSubnet", "10.0.0.0/8"),
            ("RemoteSubnet", "192.168.0.0/16"),
            ("Name", name),
        ],
    )
}

fn ratio(a: f64, b: f64) -> String {
    if b > 0.0 {
        format!("{:.2}x", a / b)
    } else {
        "n/a".into()
    }
}

async fn warm(spec: &Spec, signer: &Signer, make: &MakeParams) {
    let mut w = spec.clone();
    w.max_duration = Duration::from_secs(1);
    w.max_requests = w.max_requests.min(5_000);
    let _ = load::run(&w, signer, make.clone()).await;
}

// ---- DescribeVpnConnection over HTTPS vs HTTP ----------------------------

/// One server, its HTTPS (`--listen`) and plain-HTTP (`--listen-http`)
/// listeners measured alternately (HTTP, HTTPS, HTTP, HTTPS) so that both
/// see the same store and the same machine load; keep-alive connections.
async fn tls_vs_http(env: &Env) -> anyhow::Result<()> {
    let c = env.common.concurrency;
    println!("\n## DescribeVpnConnection over HTTPS and HTTP, keep-alive, concurrency {c}");
    let http_port = procs::free_port()?;
    let listen_http = format!("127.0.0.1:{http_port}");
    let mut opts = env.opts(
        "tls",
        &["--tls", "self-signed", "--listen-http", &listen_http],
    );
    opts.health_port = Some(http_port);
    let server = procs::vpngw(&opts)?;
    let tls = load::tls_connector(&opts.data_dir.join("tls").join("ca.pem"))?;
    let s = &env.signer;
    let gw = gateway(http_port, s).await?;
    let cgw = customer_gateway(http_port, s, 1).await?;
    let vco = load::ok(http_port, s, &connection_params(&gw, &cgw, "bench")).await?;
    let vco = field(&vco, "VpnConnectionId")?;
    let make: MakeParams = {
        let params = p("DescribeVpnConnection", &[("VpnConnectionId", &vco)]);
        Arc::new(move |_| params.clone())
    };
    let http = env.spec(http_port, c);
    let https = Spec {
        tls: Some(tls),
        ..env.spec(server.port, c)
    };
    warm(&http, s, &make).await;
    warm(&https, s, &make).await;
    let (mut http_rps, mut https_rps) = (Vec::new(), Vec::new());
    // Server CPU microseconds per answered request, per round.
    let (mut http_cpu, mut https_cpu) = (Vec::new(), Vec::new());
    for round in 1..=2 {
        let before = server.cpu_time();
        let plain = load::run(&http, s, make.clone()).await;
        http_cpu.push(server.cpu_us_per_request(before, plain.ok));
        println!(
            "http  {round}   {plain}   server CPU {:.0} µs/req",
            http_cpu[round - 1]
        );
        let before = server.cpu_time();
        let secure = load::run(&https, s, make.clone()).await;
        https_cpu.push(server.cpu_us_per_request(before, secure.ok));
        println!(
            "https {round}   {secure}   server CPU {:.0} µs/req",
            https_cpu[round - 1]
        );
        http_rps.push(plain.ok_throughput());
        https_rps.push(secure.ok_throughput());
    }
    drop(server);
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    println!(
        "https/http throughput ratio: {:.2} (mean of 2 rounds each: {:.0} vs {:.0} req/s)",
        mean(&https_rps) / mean(&http_rps),
        mean(&https_rps),
        mean(&http_rps)
    );
    println!(
        "https/http server CPU per request: {:.2} ({:.0} vs {:.0} µs)",
        mean(&https_cpu) / mean(&http_cpu),
        mean(&https_cpu),
        mean(&http_cpu)
    );
    Ok(())
}

// ---- DescribeVpnConnection vs the ceiling vs moto ------------------------

async fn describe(env: &Env) -> anyhow::Result<()> {
    let c = env.common.concurrency;
    println!("\n## DescribeVpnConnection, signed and authorized, concurrency {c}");
    let server = procs::vpngw(&env.opts("describe", &[]))?;
    let s = &env.signer;
    let gw = gateway(server.port, s).await?;
    let cgw = customer_gateway(server.port, s, 1).await?;
    let vco = load::ok(server.port, s, &connection_params(&gw, &cgw, "bench")).await?;
    let vco = field(&vco, "VpnConnectionId")?;
    let make: MakeParams = {
        let params = p("DescribeVpnConnection", &[("VpnConnectionId", &vco)]);
        Arc::new(move |_| params.clone())
    };
    let spec = env.spec(server.port, c);
    warm(&spec, s, &make).await;
    let cpu_before = server.cpu_time();
    let vpngw = load::run(&spec, s, make.clone()).await;
    let cpu_us = server.cpu_us_per_request(cpu_before, vpngw.ok);
    let (rss, hwm) = server.rss_kib();
    drop(server);
    println!("vpngw       {vpngw}");
    println!(
        "            answer {} bytes, server CPU {cpu_us:.1} µs/req, RSS {} MiB (peak {} MiB)",
        vpngw.body_bytes,
        rss / 1024,
        hwm / 1024
    );

    let bare = procs::bare(vpngw.body_bytes)?;
    let bspec = env.spec(bare.port, c);
    warm(&bspec, s, &make).await;
    let ceiling = load::run(&bspec, s, make.clone()).await;
    drop(bare);
    println!("bare hyper  {ceiling}");

    let moto = match moto_describe(env).await {
        Ok(m) => m,
        Err(e) => {
            println!("moto        skipped: {e:#}");
            None
        }
    };
    println!(
        "ratio vpngw/bare: throughput {}  (target ≥ 0.6x); p99 {:.2} ms (target ≤ 5 ms)",
        ratio(vpngw.throughput(), ceiling.throughput()),
        vpngw.percentile(99.0).as_secs_f64() * 1e3
    );
    if let Some(m) = moto {
        println!(
            "ratio vpngw/moto: throughput {}; moto/bare {}",
            ratio(vpngw.throughput(), m.throughput()),
            ratio(m.throughput(), ceiling.throughput())
        );
    }
    Ok(())
}

/// moto's EC2 DescribeVpnConnections of one connection, same client, same
/// signing work (moto ignores the V1 parameters and the signature).
async fn moto_describe(env: &Env) -> anyhow::Result<Option<RunStats>> {
    let Some(moto) = procs::moto(&env.common.moto_bin)? else {
        println!(
            "moto        skipped: {} not installed",
            env.common.moto_bin.display()
        );
        return Ok(None);
    };
    let auth = (
        http::header::AUTHORIZATION,
        http::HeaderValue::from_static(
            "AWS4-HMAC-SHA256 Credential=AKIDBENCH/20250101/us-east-1/ec2/aws4_request, SignedHeaders=host, Signature=00",
        ),
    );
    let ec2 = |action: &str, extra: &[(&str, &str)]| load::params(action, "2016-11-15", extra);
    let mut conn = load::Conn::connect(moto.port, None, vec![auth.clone()]).await?;
    let s = &env.signer;
    let xml_field = |body: &[u8], tag: &str| -> anyhow::Result<String> {
        let text = String::from_utf8_lossy(body);
        let open = format!("<{tag}>");
        let start = text
            .find(&open)
            .with_context(|| format!("no {tag} in {text}"))?
            + open.len();
        let end = text[start..].find('<').context("unterminated")? + start;
        Ok(text[start..end].to_owned())
    };
    let (_, b) = conn
        .post(s.sign(&ec2(
            "CreateCustomerGateway",
            &[
                ("Type", "ipsec.1"),
                ("IpAddress", "47.1.1.1"),
                ("BgpAsn", "65000"),
            ],
        ))?)
        .await?;
    let cgw = xml_field(&b, "customerGatewayId")?;
    let (_, b) = conn
        .post(s.sign(&ec2("CreateVpnGateway", &[("Type", "ipsec.1")]))?)
        .await?;
    let vgw = xml_field(&b, "vpnGatewayId")?;
    let (_, b) = conn
        .post(s.sign(&ec2(
            "CreateVpnConnection",
            &[
                ("Type", "ipsec.1"),
                ("CustomerGatewayId", &cgw),
                ("VpnGatewayId", &vgw),
            ],
        ))?)
        .await?;
    let vpn = xml_field(&b, "vpnConnectionId")?;
    let params = ec2("DescribeVpnConnections", &[("VpnConnectionId.1", &vpn)]);
    let make: MakeParams = Arc::new(move |_| params.clone());
    let mut spec = env.spec(moto.port, env.common.concurrency);
    spec.extra_headers = vec![auth];
    warm(&spec, s, &make).await;
    let stats = load::run(&spec, s, make).await;
    println!("moto EC2    {stats}");
    println!("            answer {} bytes (XML)", stats.body_bytes);
    Ok(Some(stats))
}

// ---- CreateVpnConnection at rising concurrency (group commit) -------------

/// How many `write + fdatasync` of 4 KiB this filesystem does per second:
/// the most durable commits per second without sharing fsyncs.
fn fsync_rate(dir: &Path) -> anyhow::Result<f64> {
    use std::io::Write;
    let path = dir.join("fsync-probe");
    let mut f = std::fs::File::create(&path)?;
    let block = [0u8; 4096];
    let n = 200;
    let start = Instant::now();
    for _ in 0..n {
        f.write_all(&block)?;
        f.sync_data()?;
    }
    let rate = f64::from(n) / start.elapsed().as_secs_f64();
    drop(f);
    let _ = std::fs::remove_file(&path);
    Ok(rate)
}

async fn create_scaling(env: &Env, levels: &[usize]) -> anyhow::Result<()> {
    println!("\n## CreateVpnConnection, durable (WAL, synchronous=FULL), by concurrency");
    let server = procs::vpngw(&env.opts("create", UNLIMITED))?;
    let fsyncs = fsync_rate(&env.work)?;
    println!("fsync ceiling of this disk: {fsyncs:.0} fdatasync/s (4 KiB writes)");
    let s = &env.signer;
    // Each create needs its own (gateway, customer gateway) pair.
    let per_gateway = 100u64;
    let mut base = 1u64;
    let cgws = create_cgws(server.port, s, per_gateway, &mut base).await?;
    let cgws = Arc::new(cgws);
    let mut first: Option<f64> = None;
    for &c in levels {
        let budget = (env.common.max_requests).min(200_000);
        let gateways = budget.div_ceil(per_gateway).min(400);
        let gws = Arc::new(create_gateways(server.port, s, gateways).await?);
        let make: MakeParams = {
            let (gws, cgws) = (gws.clone(), cgws.clone());
            Arc::new(move |n| {
                let g = &gws[(n / per_gateway) as usize % gws.len()];
                let cg = &cgws[(n % per_gateway) as usize];
                connection_params(g, cg, &format!("c{n}"))
            })
        };
        let mut spec = env.spec(server.port, c);
        spec.max_requests = gateways * per_gateway;
        let counters = |port| {
            (
                procs::metric(port, "vpngw_store_write_jobs_total").unwrap_or(0.0),
                procs::metric(port, "vpngw_store_group_commits_total").unwrap_or(0.0),
            )
        };
        let (jobs0, commits0) = counters(server.port);
        let stats = load::run(&spec, s, make).await;
        let (jobs1, commits1) = counters(server.port);
        let rate = stats.ok_throughput();
        let scale = first.map_or_else(|| "1.00x".to_owned(), |f| ratio(rate, f));
        first.get_or_insert(rate);
        println!(
            "c={c:<3} {rate:>7.0} creates/s ({} vs c=1), {:.1} durable writes per create, {:.1} writes per commit (fsync)  {stats}",
            scale,
            (jobs1 - jobs0) / stats.ok.max(1) as f64,
            (jobs1 - jobs0) / (commits1 - commits0).max(1.0),
        );
    }
    Ok(())
}

async fn create_cgws(port: u16, s: &Signer, n: u64, base: &mut u64) -> anyhow::Result<Vec<String>> {
    let mut out = Vec::with_capacity(n as usize);
    for _ in 0..n {
        out.push(customer_gateway(port, s, *base).await?);
        *base += 1;
    }
    Ok(out)
}

async fn create_gateways(port: u16, s: &Signer, n: u64) -> anyhow::Result<Vec<String>> {
    let make: MakeParams = Arc::new(|_| {
        p(
            "CreateVpnGateway",
            &[("VpcId", "vpc-bench"), ("Bandwidth", "10")],
        )
    });
    let before = list_ids(
        port,
        s,
        "DescribeVpnGateways",
        "VpnGateways",
        "VpnGateway",
        "VpnGatewayId",
    )
    .await?;
    let spec = Spec {
        port,
        concurrency: 16,
        max_requests: n,
        max_duration: Duration::from_secs(600),
        extra_headers: Vec::new(),
        tls: None,
    };
    let stats = load::run(&spec, s, make).await;
    anyhow::ensure!(stats.ok == n, "creating gateways: {stats}");
    let all = list_ids(
        port,
        s,
        "DescribeVpnGateways",
        "VpnGateways",
        "VpnGateway",
        "VpnGatewayId",
    )
    .await?;
    let known: std::collections::HashSet<_> = before.into_iter().collect();
    Ok(all.into_iter().filter(|id| !known.contains(id)).collect())
}

async fn list_ids(
    port: u16,
    s: &Signer,
    action: &str,
    outer: &str,
    inner: &str,
    id: &str,
) -> anyhow::Result<Vec<String>> {
    let mut out = Vec::new();
    let mut page = 1u64;
    loop {
        let v = load::ok(
            port,
            s,
            &p(
                action,
                &[("PageSize", "50"), ("PageNumber", &page.to_string())],
            ),
        )
        .await?;
        let items = v[outer][inner].as_array().cloned().unwrap_or_default();
        if items.is_empty() {
            return Ok(out);
        }
        for item in items {
            out.push(field(&item, id)?);
        }
        page += 1;
    }
}

// ---- 100,000 connections ---------------------------------------------------

async fn scale(env: &Env, a: &ScaleArgs) -> anyhow::Result<()> {
    let n = a.connections;
    println!("\n## {n} connections");
    let opts = env.opts("scale", UNLIMITED);
    let mut server = procs::vpngw(&opts)?;
    let s = &env.signer;
    let per = a.per_gateway.max(1);
    let mut base = 1u64;
    let cgws = Arc::new(create_cgws(server.port, s, per, &mut base).await?);
    let gws = Arc::new(create_gateways(server.port, s, n.div_ceil(per)).await?);
    // Bulk load through the API: the same signed creates as any client.
    let make: MakeParams = {
        let (gws, cgws) = (gws.clone(), cgws.clone());
        Arc::new(move |i| {
            connection_params(
                &gws[(i / per) as usize],
                &cgws[(i % per) as usize],
                &format!("c{i}"),
            )
        })
    };
    let spec = Spec {
        port: server.port,
        concurrency: env.common.concurrency,
        max_requests: n,
        max_duration: Duration::from_secs(3600),
        extra_headers: Vec::new(),
        tls: None,
    };
    let loaded = load::run(&spec, s, make).await;
    println!(
        "bulk load (CreateVpnConnection, c={}): {loaded}",
        spec.concurrency
    );
    anyhow::ensure!(loaded.ok == n, "the bulk load fell short");
    pages(env, &server, a).await?;
    let (rss, hwm) = server.rss_kib();
    println!(
        "RSS after load and paging: {} MiB (peak {} MiB; target ≤ 200 MB)",
        rss / 1024,
        hwm / 1024
    );

    // Startup on the loaded database.
    server.kill();
    let db = std::fs::metadata(opts.data_dir.join("vpngw.db")).map_or(0, |m| m.len());
    println!("database: {} MiB", db / (1 << 20));
    for attempt in 1..=3 {
        let t0 = Instant::now();
        let restarted = procs::vpngw(&opts)?;
        let healthy = restarted.startup;
        load::ok(
            restarted.port,
            s,
            &p("DescribeVpnConnections", &[("PageSize", "50")]),
        )
        .await?;
        let first = t0.elapsed();
        let (rss, _) = restarted.rss_kib();
        println!(
            "startup #{attempt}: healthy in {:.0} ms, first DescribeVpnConnections answered at {:.0} ms (target ≤ 2000 ms), RSS {} MiB",
            healthy.as_secs_f64() * 1e3,
            first.as_secs_f64() * 1e3,
            rss / 1024
        );
        if attempt == 3 {
            pages(env, &restarted, a).await?;
        }
    }
    Ok(())
}

async fn pages(env: &Env, server: &Proc, a: &ScaleArgs) -> anyhow::Result<()> {
    let s = &env.signer;
    let first = load::ok(
        server.port,
        s,
        &p("DescribeVpnConnections", &[("PageSize", "50")]),
    )
    .await?;
    let total = first["TotalCount"].as_u64().unwrap_or(0);
    let last_page = total.div_ceil(50).max(1).to_string();
    for (label, page) in [("first", "1"), ("last", last_page.as_str())] {
        let params = p(
            "DescribeVpnConnections",
            &[("PageSize", "50"), ("PageNumber", page)],
        );
        let make: MakeParams = Arc::new(move |_| params.clone());
        let spec = Spec {
            port: server.port,
            concurrency: 1,
            max_requests: a.page_requests,
            max_duration: Duration::from_secs(env.common.seconds),
            extra_headers: Vec::new(),
            tls: None,
        };
        warm(
            &Spec {
                max_requests: 20,
                ..spec.clone()
            },
            s,
            &make,
        )
        .await;
        let stats = load::run(&spec, s, make).await;
        println!(
            "DescribeVpnConnections PageSize 50, {label} page ({page} of {total} total), c=1: median {:.2} ms (target ≤ 2 ms)  {stats}",
            stats.median().as_secs_f64() * 1e3
        );
    }
    Ok(())
}
