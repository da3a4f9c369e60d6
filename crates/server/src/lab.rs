//! `vpngw lab`: real tunnels against the API on one machine (root).
//!
//! For one VPN gateway of the API it builds
//! - a gateway network namespace wearing the gateway's public address(es)
//!   (`InternetIp`, `DisasterRecoveryInternetIp`) and runs `vpngw agent`
//!   for it (charon inside the namespace, the agent outside so that it
//!   reaches the API on 127.0.0.1);
//! - one namespace per customer gateway its connections use, wearing the
//!   customer gateway's `IpAddress`, with its own charon configured as the
//!   mirror of each connection ([`vpngw_dataplane::mirror`]), created as
//!   connections appear and kept in step as they change (the lab watches
//!   the gateway like its agent: `WatchGatewayState`);
//! - the inside addresses: the first address of every `LocalSubnet` and the
//!   health check's `Sip` in the gateway namespace, the first address of
//!   every `RemoteSubnet` and `Dip` in the peer's.
//!
//! Addresses never leave the namespaces: each peer namespace is joined to
//! the gateway namespace by a veth pair without addresses of its own, with
//! host routes to the public addresses on both ends.
//!
//! `vpngw lab` starts a background process (the same binary, `--foreground`)
//! that owns the peers and the agent, waits until it is ready, prints what to
//! watch and returns; `vpngw lab --down` stops it, which deletes everything.
//! `--shared-peer` puts every customer gateway into one namespace with one
//! charon (for hundreds of connections).

use std::collections::{BTreeSet, HashMap};
use std::net::IpAddr;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Args;
use serde::Serialize;
use vpngw_dataplane::ipsec_server::IpsecServerDesired;
use vpngw_dataplane::ipsec_server::road_warrior::{
    client_session, dial, hang_up, render_road_warrior, road_warrior,
};
use vpngw_dataplane::lab::{LAB_PREFIX, cleanup_stale, preflight, teardown_tag};
use vpngw_dataplane::{
    Applier, Charon, CharonConfig, GatewayDesired, RenderOptions, RenderedTunnel, Retransmit,
    Secret, Vici, mirror,
};

use crate::agent::desired::{self, GatewayState};
use crate::agent::routing;
use crate::agent::source::Watcher;
use vpngw_dataplane::bgp::control::Control;
use vpngw_dataplane::bgp::process::BirdConfig;
use vpngw_dataplane::bgp::{BgpDesired, BgpSpeaker, BgpTimers, SessionDesired};

/// The peers' BGP timers: short, so that a session the gateway dropped with
/// its tunnel is over on the peer's side soon too (the hold time of a
/// session is the shorter of the two ends').
const LAB_BGP_TIMERS: BgpTimers = BgpTimers {
    hold_s: 6,
    keepalive_s: 2,
};

mod ssl_clients;

#[derive(Args, Clone, Debug)]
pub struct LabArgs {
    /// The VPN gateway to build the lab for (`vpn-…`).
    #[arg(long)]
    pub gateway: String,

    /// The vpngw API endpoint.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub server: String,

    /// PEM file of the CA(s) to verify an https:// server with (passed on
    /// to the agent), instead of the system's.
    #[arg(long, env = "VPNGW_CA_FILE", value_name = "PATH")]
    pub ca_file: Option<PathBuf>,

    /// The gateway's region.
    #[arg(long, default_value = "cn-hangzhou")]
    pub region: String,

    /// Tear the lab of this gateway down.
    #[arg(long)]
    pub down: bool,

    /// Print the running lab's summary again, its BGP line measured now
    /// (sessions established, prefixes learned by the gateway's BIRD).
    #[arg(long, conflicts_with = "down")]
    pub status: bool,

    /// Run in the foreground (Ctrl-C tears down) instead of in the background.
    #[arg(long)]
    pub foreground: bool,

    /// One namespace and charon for every customer gateway instead of one each.
    #[arg(long)]
    pub shared_peer: bool,

    /// Milliseconds between two looks after the peers, the agent and the
    /// clients without a change (changes are pushed: WatchGatewayState), and
    /// between two reads of the gateway with a server that cannot push.
    #[arg(long, default_value_t = 500)]
    pub sync_interval_ms: u64,

    /// `IP=PSK`: the customer gateway at IP uses this pre-shared key instead
    /// of the connection's (to watch a mismatch). Repeatable.
    #[arg(long = "peer-psk", value_name = "IP=PSK")]
    pub peer_psk: Vec<String>,

    /// `IP=KEY`: the customer gateway at IP signs its BGP sessions with
    /// this TCP-MD5 key instead of the connection's `AuthKey` (to watch a
    /// mismatch). Repeatable.
    #[arg(long = "peer-bgp-key", value_name = "IP=KEY")]
    pub peer_bgp_key: Vec<String>,
    /// Stock OpenVPN clients of the gateway's SSL server: N namespaces,
    /// each with an `openvpn` configured only from DescribeSslVpnClientCert
    /// (certificates taken from the server's, created when it has too few).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub ssl_clients: usize,

    /// The openvpn binary of the lab's SSL clients.
    #[arg(long, default_value = "openvpn")]
    pub openvpn: PathBuf,

    /// Stock road-warrior clients of the gateway's IPsec server: N
    /// namespaces with a charon each, configured only from the server's API
    /// values (ListIpsecServers), that dial in (and again when the server's
    /// configuration changes or their session is gone).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub ipsec_clients: usize,

    /// The pre-shared key the lab's IPsec clients use instead of the
    /// server's (to watch a refusal).
    #[arg(long, value_name = "PSK")]
    pub ipsec_client_psk: Option<String>,

    /// Arguments passed on to `vpngw agent` (after `--`), e.g.
    /// `-- --dpd-delay-s 2 --dpd-timeout-s 6 --retransmit fast`.
    #[arg(last = true)]
    pub agent_args: Vec<String>,
}

/// Where a lab keeps its state (the same root as the data plane's tests).
fn lab_root() -> PathBuf {
    std::env::temp_dir().join("vpngw-lab")
}

/// `vpn-bp1xyz…` → the last 12 of its `[a-z0-9]` characters.
pub fn tag_of(gateway_id: &str) -> String {
    let chars: Vec<char> = gateway_id
        .trim_start_matches("vpn-")
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    chars[chars.len().saturating_sub(12)..].iter().collect()
}

pub async fn run(args: LabArgs) -> anyhow::Result<()> {
    let tag = tag_of(&args.gateway);
    if tag.is_empty() {
        bail!("{:?} is not a VPN gateway id", args.gateway);
    }
    let dir = lab_root().join(&tag);
    if args.down {
        return down(&tag, &dir);
    }
    if args.status {
        return status(&args.gateway, &dir).await;
    }
    if let Err(why) = preflight() {
        bail!("vpngw lab needs root, network namespaces and /dev/net/tun: {why}");
    }
    if let Some(pid) = owner(&dir) {
        bail!(
            "a lab for {} is already running (pid {pid}); `vpngw lab --down --gateway {}` first",
            args.gateway,
            args.gateway
        );
    }
    if args.foreground {
        crate::agent::init_logging("text");
        return foreground(args, tag, dir).await;
    }
    background(&args, &dir)
}

/// The summary's BGP line: what the gateway's BIRD (the agent's, in the
/// lab's state directory) is doing now.
async fn bgp_line(dir: &Path) -> String {
    let socket = dir.join("gw").join("bird.ctl");
    let how = format!("birdc -s {} show protocols all", socket.display());
    let summary = match Control::connect(&socket).await {
        Ok(mut c) => c.summary().await.ok(),
        Err(_) => None,
    };
    let Some(s) = summary else {
        return format!(
            "\x20 bgp     the gateway's BIRD is not running (the agent starts it with the first tunnel that has BGP); {how}\n"
        );
    };
    let plural =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    format!(
        "\x20 bgp     {} of {} established, {} learned ({}); {how}\n",
        s.established,
        plural(s.sessions, "session", "sessions"),
        plural(s.prefixes, "prefix", "prefixes"),
        plural(s.routes, "route", "routes"),
    )
}

/// `--status`: the running lab's summary with its BGP line measured now.
async fn status(gateway: &str, dir: &Path) -> anyhow::Result<()> {
    if owner(dir).is_none() {
        bail!("no lab for {gateway} is running; `vpngw lab --gateway {gateway}` starts one");
    }
    let summary = std::fs::read_to_string(dir.join("ready"))
        .with_context(|| format!("the lab for {gateway} is not ready yet"))?;
    let bgp = bgp_line(dir).await;
    for line in summary.split_inclusive('\n') {
        if line.starts_with("  bgp ") {
            print!("{bgp}");
        } else {
            print!("{line}");
        }
    }
    Ok(())
}

fn owner(dir: &Path) -> Option<i32> {
    let pid: i32 = std::fs::read_to_string(dir.join("owner"))
        .ok()?
        .trim()
        .parse()
        .ok()?;
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None)
        .is_ok()
        .then_some(pid)
}

/// Starts `vpngw lab --foreground …` detached and waits for it to be ready.
fn background(args: &LabArgs, dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let _ = std::fs::remove_file(dir.join("ready"));
    let log_path = dir.join("lab.log");
    let log = std::fs::File::create(&log_path)?;
    // Read through our own handle: the lab process removes its directory when it fails.
    let mut log_reader = std::fs::File::open(&log_path)?;
    let exe = std::env::current_exe()?;
    let mut cmd = Command::new(exe);
    cmd.arg("lab")
        .arg("--foreground")
        .args(["--gateway", &args.gateway, "--server", &args.server])
        .args(["--region", &args.region])
        .args(["--sync-interval-ms", &args.sync_interval_ms.to_string()]);
    if let Some(ca) = &args.ca_file {
        cmd.arg("--ca-file").arg(ca);
    }
    if args.shared_peer {
        cmd.arg("--shared-peer");
    }
    for p in &args.peer_psk {
        cmd.args(["--peer-psk", p]);
    }
    for p in &args.peer_bgp_key {
        cmd.args(["--peer-bgp-key", p]);
    }
    cmd.args(["--ssl-clients", &args.ssl_clients.to_string()])
        .arg("--openvpn")
        .arg(&args.openvpn);
    cmd.args(["--ipsec-clients", &args.ipsec_clients.to_string()]);
    if let Some(psk) = &args.ipsec_client_psk {
        cmd.args(["--ipsec-client-psk", psk]);
    }
    if !args.agent_args.is_empty() {
        cmd.arg("--").args(&args.agent_args);
    }
    cmd.stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .process_group(0);
    let mut child = cmd.spawn().context("starting the lab process")?;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(summary) = std::fs::read_to_string(dir.join("ready")) {
            print!("{summary}");
            return Ok(());
        }
        if let Ok(Some(status)) = child.try_wait() {
            let mut text = String::new();
            let _ = std::io::Read::read_to_string(&mut log_reader, &mut text);
            bail!("the lab process exited ({status}):\n{text}");
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            bail!(
                "the lab did not come up within 60 s; see {}",
                log_path.display()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn down(tag: &str, dir: &Path) -> anyhow::Result<()> {
    if let Some(pid) = owner(dir) {
        let p = nix::unistd::Pid::from_raw(pid);
        let _ = nix::sys::signal::kill(p, nix::sys::signal::Signal::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(20);
        while nix::sys::signal::kill(p, None).is_ok() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        if nix::sys::signal::kill(p, None).is_ok() {
            let _ = nix::sys::signal::kill(p, nix::sys::signal::Signal::SIGKILL);
        }
    }
    // Whatever is left (a killed lab process): the agent, namespaces, files.
    if let Ok(text) = std::fs::read_to_string(dir.join("lab.json"))
        && let Some(pid) = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| v.get("agent_pid").and_then(serde_json::Value::as_i64))
            .and_then(|p| i32::try_from(p).ok())
    {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGTERM,
        );
    }
    teardown_tag(tag);
    let _ = std::fs::remove_dir_all(dir);
    println!("lab {tag} torn down");
    Ok(())
}

fn ip(args: &[&str]) -> anyhow::Result<String> {
    let out = Command::new("ip")
        .args(args)
        .output()
        .with_context(|| format!("running ip {}", args.join(" ")))?;
    if !out.status.success() {
        bail!(
            "ip {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Runs `ip -n ns -batch -` with one command per line; `-force` keeps going
/// after lines that fail (an address that is already there).
fn ip_batch(ns: &str, lines: &[String]) -> anyhow::Result<()> {
    if lines.is_empty() {
        return Ok(());
    }
    use std::io::Write;
    let mut child = Command::new("ip")
        .args(["-n", ns, "-force", "-batch", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .context("running ip -batch")?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(lines.join("\n").as_bytes())?;
        stdin.write_all(b"\n")?;
    }
    let out = child.wait_with_output()?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    let real: Vec<&str> = stderr
        .lines()
        .filter(|l| !l.contains("File exists") && !l.starts_with("Command failed"))
        .collect();
    if !real.is_empty() {
        tracing::warn!(netns = ns, "ip -batch: {}", real.join(" | "));
    }
    Ok(())
}

/// Puts the addresses of `wanted` that `owned` lacks on the namespace's
/// `lo` and records them; true when it added any.
fn own_on_lo(
    ns: &str,
    owned: &mut BTreeSet<IpAddr>,
    wanted: impl IntoIterator<Item = IpAddr>,
) -> anyhow::Result<bool> {
    let mut batches = IpBatches::default();
    let added = batches.own_on_lo(ns, owned, wanted);
    batches.run()?;
    Ok(added)
}

/// `ip` commands gathered per namespace and run with one `ip -batch` each:
/// a sync that adds a thousand customer gateways' addresses runs a few
/// processes, not thousands (each one a fork and exec: on a busy machine
/// the peers would load their side many seconds after the gateway).
#[derive(Default)]
struct IpBatches(std::collections::BTreeMap<String, Vec<String>>);

impl IpBatches {
    fn push(&mut self, ns: &str, line: String) {
        self.0.entry(ns.to_owned()).or_default().push(line);
    }

    /// [`own_on_lo`], run with the batch.
    fn own_on_lo(
        &mut self,
        ns: &str,
        owned: &mut BTreeSet<IpAddr>,
        wanted: impl IntoIterator<Item = IpAddr>,
    ) -> bool {
        let new: BTreeSet<IpAddr> = wanted.into_iter().filter(|a| !owned.contains(a)).collect();
        for a in &new {
            self.push(ns, format!("address add {} dev lo", host_prefix(a)));
        }
        let added = !new.is_empty();
        owned.extend(new);
        added
    }

    fn run(self) -> anyhow::Result<()> {
        for (ns, lines) in &self.0 {
            ip_batch(ns, lines)?;
        }
        Ok(())
    }
}

fn host_prefix(a: &IpAddr) -> String {
    format!("{a}/{}", if a.is_ipv4() { 32 } else { 128 })
}

/// The first usable address of a CIDR block (the block's own address for
/// /31, /32 and IPv6 /127, /128).
fn first_host(cidr: &str) -> Option<IpAddr> {
    let net: ipnet::IpNet = cidr.trim().parse().ok()?;
    match net {
        ipnet::IpNet::V4(n) => {
            if n.prefix_len() >= 31 {
                Some(IpAddr::V4(n.network()))
            } else {
                Some(IpAddr::V4(std::net::Ipv4Addr::from(
                    u32::from(n.network()).wrapping_add(1),
                )))
            }
        }
        ipnet::IpNet::V6(n) => {
            if n.prefix_len() >= 127 {
                Some(IpAddr::V6(n.network()))
            } else {
                Some(IpAddr::V6(std::net::Ipv6Addr::from(
                    u128::from(n.network()).wrapping_add(1),
                )))
            }
        }
    }
}

struct Peer {
    ns: String,
    /// The veth end in the gateway namespace.
    gw_dev: String,
    state_dir: PathBuf,
    addrs: BTreeSet<IpAddr>,
    inside: BTreeSet<IpAddr>,
    charon: Charon,
    applier: Applier,
    /// The customer gateway's BGP speaker, once one of its tunnels has BGP.
    bird: Option<BgpSpeaker>,
}

/// How long a road warrior waits before dialling again when it has no
/// session (refused, or ended by the server).
const REDIAL_AFTER: Duration = Duration::from_secs(5);

/// A stock road-warrior client of the gateway's IPsec server.
struct RoadWarriorNode {
    ns: String,
    /// What it authenticates as when the server has no `RemoteId`.
    identity: String,
    addr: IpAddr,
    state_dir: PathBuf,
    charon: Charon,
    vici: Vici,
    /// The server configuration (digest) it dialled with, the client
    /// configuration, and when.
    dialed: Option<(String, RenderedTunnel, Instant)>,
}

impl RoadWarriorNode {
    /// Dials the server `server` (digest, desired) with its values (and
    /// `psk` instead of the server's, when given); hangs up when there is
    /// none; dials again when the configuration changed or, after
    /// [`REDIAL_AFTER`], when the session is gone.
    async fn sync(
        &mut self,
        server: Option<&(String, IpsecServerDesired)>,
        psk: Option<&str>,
    ) -> anyhow::Result<bool> {
        let Some((digest, d)) = server else {
            if let Some((_, client, _)) = self.dialed.take() {
                hang_up(&self.vici, &client).await?;
                return Ok(true);
            }
            return Ok(false);
        };
        let stale = match &self.dialed {
            None => true,
            Some((dialled, _, _)) if dialled != digest => true,
            Some((_, client, at)) => {
                at.elapsed() >= REDIAL_AFTER
                    && !client_session(&client.tunnel_id, &self.vici.list_sas().await?).connected
            }
        };
        if !stale {
            return Ok(false);
        }
        if let Some((_, old, _)) = self.dialed.take() {
            hang_up(&self.vici, &old).await?;
        }
        let mut rw = road_warrior(d, "rw", &self.identity);
        if let Some(psk) = psk {
            rw.ike.psk = Secret::new(psk);
        }
        let client = render_road_warrior(&rw, &RenderOptions::default())?;
        dial(&self.vici, &client).await?;
        tracing::info!(client = %self.ns, server = %d.server_id, "road warrior dialling");
        self.dialed = Some((digest.clone(), client, Instant::now()));
        Ok(true)
    }
}

#[derive(Serialize)]
struct RoadWarriorInfo {
    ns: String,
    /// Where it dials from.
    addr: String,
    identity: String,
    charon_log: String,
    vici: String,
}

#[derive(Serialize)]
struct PeerInfo {
    ns: String,
    /// The peer's end of its link to the gateway (set it down to cut the link).
    link_dev: &'static str,
    addrs: Vec<String>,
    inside: Vec<String>,
    charon_log: String,
    /// The peer's BIRD (its sessions mirror the gateway's).
    bird_log: String,
    bird_socket: String,
}

#[derive(Serialize)]
struct LabInfo {
    tag: String,
    gateway: String,
    gateway_ns: String,
    gateway_addrs: Vec<String>,
    gateway_inside: Vec<String>,
    agent_pid: u32,
    agent_log: String,
    lab_log: String,
    charon_log: String,
    vici: String,
    peers: Vec<PeerInfo>,
    ssl_clients: Vec<ssl_clients::SslClientInfo>,
    road_warriors: Vec<RoadWarriorInfo>,
}

struct Lab {
    tag: String,
    dir: PathBuf,
    gateway: String,
    gw_ns: String,
    gw_addrs: Vec<IpAddr>,
    gw_inside: BTreeSet<IpAddr>,
    peers: Vec<Peer>,
    by_ip: HashMap<IpAddr, usize>,
    shared: bool,
    psk_override: HashMap<IpAddr, String>,
    bgp_key_override: HashMap<IpAddr, String>,
    ssl: ssl_clients::SslClients,
    road_warriors: Vec<RoadWarriorNode>,
    ipsec_clients: usize,
    ipsec_client_psk: Option<String>,
    agent: Option<Child>,
    agent_cmd: Vec<String>,
}

impl Lab {
    fn info(&self) -> LabInfo {
        LabInfo {
            tag: self.tag.clone(),
            gateway: self.gateway.clone(),
            gateway_ns: self.gw_ns.clone(),
            gateway_addrs: self.gw_addrs.iter().map(ToString::to_string).collect(),
            gateway_inside: self.gw_inside.iter().map(ToString::to_string).collect(),
            agent_pid: self.agent.as_ref().map_or(0, Child::id),
            agent_log: self.dir.join("agent.log").display().to_string(),
            lab_log: self.dir.join("lab.log").display().to_string(),
            charon_log: self.dir.join("gw/charon.log").display().to_string(),
            vici: self.dir.join("gw/charon.vici").display().to_string(),
            peers: self
                .peers
                .iter()
                .map(|p| PeerInfo {
                    ns: p.ns.clone(),
                    link_dev: "gw",
                    addrs: p.addrs.iter().map(ToString::to_string).collect(),
                    inside: p.inside.iter().map(ToString::to_string).collect(),
                    charon_log: p.state_dir.join("charon.log").display().to_string(),
                    bird_log: p.state_dir.join("bird.log").display().to_string(),
                    bird_socket: p.state_dir.join("bird.ctl").display().to_string(),
                })
                .collect(),
            ssl_clients: self.ssl.info(),
            road_warriors: self
                .road_warriors
                .iter()
                .map(|r| RoadWarriorInfo {
                    ns: r.ns.clone(),
                    addr: r.addr.to_string(),
                    identity: r.identity.clone(),
                    charon_log: r.state_dir.join("charon.log").display().to_string(),
                    vici: r.charon.vici_socket().display().to_string(),
                })
                .collect(),
        }
    }

    fn write_info(&self) {
        if let Ok(text) = serde_json::to_string_pretty(&self.info()) {
            let tmp = self.dir.join("lab.json.tmp");
            if std::fs::write(&tmp, text).is_ok() {
                let _ = std::fs::rename(tmp, self.dir.join("lab.json"));
            }
        }
    }

    fn start_agent(&mut self) -> anyhow::Result<()> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("agent.log"))?;
        let exe = std::env::current_exe()?;
        let child = Command::new(exe)
            .args(&self.agent_cmd)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .context("starting vpngw agent")?;
        tracing::info!(pid = child.id(), "agent started");
        self.agent = Some(child);
        Ok(())
    }

    fn stop_agent(&mut self) {
        if let Some(mut child) = self.agent.take() {
            if let Ok(pid) = i32::try_from(child.id()) {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(pid),
                    nix::sys::signal::Signal::SIGTERM,
                );
            }
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// The peer wearing `addr`, created if needed (the address and its
    /// route go into `batches`).
    async fn peer_for(&mut self, addr: IpAddr, batches: &mut IpBatches) -> anyhow::Result<usize> {
        if let Some(&i) = self.by_ip.get(&addr) {
            return Ok(i);
        }
        let index = if self.shared && !self.peers.is_empty() {
            0
        } else {
            self.new_peer().await?
        };
        let peer = &mut self.peers[index];
        batches.push(
            &peer.ns,
            format!("address add {} dev lo", host_prefix(&addr)),
        );
        batches.push(
            &self.gw_ns,
            format!("route replace {} dev {}", host_prefix(&addr), peer.gw_dev),
        );
        peer.addrs.insert(addr);
        self.by_ip.insert(addr, index);
        tracing::info!(peer = %peer.ns, address = %addr, "customer gateway address added");
        Ok(index)
    }

    /// A namespace `<prefix><tag>-<name>` joined to the gateway namespace by
    /// a veth pair (`<name>` on the gateway's side, `gw` on its own), with
    /// its own charon.
    fn new_node(&self, name: &str) -> anyhow::Result<(String, String, PathBuf, Charon)> {
        let ns = format!("{LAB_PREFIX}{}-{name}", self.tag);
        ip(&["netns", "add", &ns])?;
        ip(&["-n", &ns, "link", "set", "lo", "up"])?;
        ip(&[
            "link",
            "add",
            name,
            "netns",
            &self.gw_ns,
            "type",
            "veth",
            "peer",
            "name",
            "gw",
            "netns",
            &ns,
        ])?;
        ip(&["-n", &self.gw_ns, "link", "set", name, "up"])?;
        ip(&["-n", &ns, "link", "set", "gw", "up"])?;
        let state_dir = self.dir.join(name);
        let mut cfg = CharonConfig::new(state_dir.clone(), Some(ns.clone()));
        cfg.retransmit = Retransmit::FAST;
        let charon = tokio::task::block_in_place(|| Charon::start(cfg))
            .with_context(|| format!("starting charon in {ns}"))?;
        Ok((ns, name.to_owned(), state_dir, charon))
    }

    async fn new_peer(&mut self) -> anyhow::Result<usize> {
        let (ns, gw_dev, state_dir, charon) =
            self.new_node(&format!("p{}", self.peers.len() + 1))?;
        let vici = charon.vici().await?;
        let applier = Applier::new(vici, RenderOptions::default());
        tracing::info!(peer = %ns, "peer namespace created");
        self.peers.push(Peer {
            ns,
            gw_dev,
            state_dir,
            addrs: BTreeSet::new(),
            inside: BTreeSet::new(),
            charon,
            applier,
            bird: None,
        });
        Ok(self.peers.len() - 1)
    }

    /// Road warrior `n` (1-based): its own namespace and charon, an address
    /// of the shared address space (100.100.0.0/16: where a phone behind a
    /// carrier's NAT comes from; the API refuses it as a client pool), a
    /// route to the gateway's public addresses.
    async fn new_road_warrior(&mut self) -> anyhow::Result<()> {
        let n = self.road_warriors.len() + 1;
        let addr = IpAddr::V4(std::net::Ipv4Addr::new(
            100,
            100,
            (n / 200) as u8,
            (n % 200 + 1) as u8,
        ));
        let (ns, gw_dev, state_dir, charon) = self.new_node(&format!("rw{n}"))?;
        ip_batch(&ns, &[format!("address add {} dev lo", host_prefix(&addr))])?;
        ip_batch(
            &ns,
            &self
                .gw_addrs
                .iter()
                .map(|a| format!("route replace {} dev gw", host_prefix(a)))
                .collect::<Vec<_>>(),
        )?;
        ip_batch(
            &self.gw_ns,
            &[format!("route replace {} dev {gw_dev}", host_prefix(&addr))],
        )?;
        let vici = charon.vici().await?;
        tracing::info!(client = %ns, address = %addr, "road-warrior namespace created");
        self.road_warriors.push(RoadWarriorNode {
            ns,
            identity: format!("rw{n}@lab"),
            addr,
            state_dir,
            charon,
            vici,
            dialed: None,
        });
        Ok(())
    }

    /// Keeps `ipsec_clients` road warriors dialled into the gateway's IPsec
    /// server with its current configuration (hung up when there is none).
    async fn sync_road_warriors(&mut self, state: &GatewayState) -> anyhow::Result<bool> {
        if self.ipsec_clients == 0 {
            return Ok(false);
        }
        let server = match &state.ipsec_server {
            Some(Ok(f)) => f
                .desired
                .as_ref()
                .ok()
                .map(|d| (f.digest.clone(), d.clone())),
            _ => None,
        };
        let mut changed = false;
        if let Some((_, d)) = &server {
            // Something to reach: the first address of every local block.
            let new: Vec<IpAddr> = d
                .local_subnets
                .iter()
                .filter_map(|b| first_host(b))
                .filter(|a| !self.gw_inside.contains(a))
                .collect();
            if !new.is_empty() {
                ip_batch(
                    &self.gw_ns,
                    &new.iter()
                        .map(|a| format!("address add {} dev lo", host_prefix(a)))
                        .collect::<Vec<_>>(),
                )?;
                self.gw_inside.extend(new);
            }
            while self.road_warriors.len() < self.ipsec_clients {
                self.new_road_warrior().await?;
                changed = true;
            }
        }
        let psk = self.ipsec_client_psk.clone();
        for rw in &mut self.road_warriors {
            changed |= rw.sync(server.as_ref(), psk.as_deref()).await?;
        }
        Ok(changed)
    }

    /// Brings the peers in line with the gateway's connections.
    async fn sync(&mut self, state: &GatewayState) -> anyhow::Result<bool> {
        let mut changed = false;
        let mut batches = IpBatches::default();
        let mut mirrors: Vec<vpngw_dataplane::ConnectionDesired> = Vec::new();
        let mut gw_inside: Vec<IpAddr> = Vec::new();
        for c in state.connections.values() {
            let Ok(d) = &c.desired else { continue };
            let remote_inside: Vec<IpAddr> = c
                .spec
                .remote_subnet
                .split(',')
                .filter_map(first_host)
                .chain(
                    c.spec
                        .health_check
                        .as_ref()
                        .and_then(|h| h.dip.parse().ok()),
                )
                .collect();
            let route_dests = state
                .routes
                .iter()
                .filter(|r| r.next_hop == c.spec.connection_id)
                .filter_map(|r| first_host(&r.dest.to_string()));
            let remote_inside: Vec<IpAddr> = remote_inside.into_iter().chain(route_dests).collect();
            gw_inside.extend(c.spec.local_subnet.split(',').filter_map(first_host));
            gw_inside.extend(
                c.spec
                    .health_check
                    .as_ref()
                    .and_then(|h| h.sip.parse::<IpAddr>().ok()),
            );
            for t in &d.tunnels {
                let i = self.peer_for(t.remote_addr, &mut batches).await?;
                let peer = &mut self.peers[i];
                changed |=
                    batches.own_on_lo(&peer.ns, &mut peer.inside, remote_inside.iter().copied());
            }
            let mut m = mirror(d).connections.remove(0);
            for t in &mut m.tunnels {
                if let Some(psk) = self.psk_override.get(&t.local_addr) {
                    t.ike.psk = Secret::new(psk.clone());
                }
            }
            mirrors.push(m);
        }
        // Policy-based routes choose by source: the gateway owns an address
        // in each source, to send from (and libipsec needs one there).
        gw_inside.extend(state.routes.iter().filter_map(|r| match r.table {
            vpngw_dataplane::forwarding::RouteTable::Policy { source, .. } => {
                first_host(&source.to_string())
            }
            vpngw_dataplane::forwarding::RouteTable::Destination => None,
        }));
        changed |= batches.own_on_lo(&self.gw_ns, &mut self.gw_inside, gw_inside);
        // Routes to the gateway go with the link when it is set down: put
        // them back (idempotent).
        for peer in &self.peers {
            for a in &self.gw_addrs {
                batches.push(&peer.ns, format!("route replace {} dev gw", host_prefix(a)));
            }
        }
        // Every address and route in place before the peers load their side.
        batches.run()?;
        for (i, peer) in self.peers.iter_mut().enumerate() {
            let connections = mirrors
                .iter()
                .filter_map(|m| {
                    let mut m = m.clone();
                    m.tunnels.retain(|t| peer.addrs.contains(&t.local_addr));
                    (!m.tunnels.is_empty()).then_some(m)
                })
                .collect();
            let desired = GatewayDesired {
                gateway_id: format!("lab-peer-{}", i + 1),
                local_addrs: peer.addrs.iter().copied().collect(),
                connections,
            };
            let report = match peer.applier.apply(&desired).await {
                Ok(r) => r,
                Err(vpngw_dataplane::ViciError::Closed) => {
                    tracing::warn!(peer = %peer.ns, "peer charon went away; restarting it");
                    peer.charon.stop();
                    let mut cfg = CharonConfig::new(peer.state_dir.clone(), Some(peer.ns.clone()));
                    cfg.retransmit = Retransmit::FAST;
                    peer.charon = tokio::task::block_in_place(|| Charon::start(cfg))?;
                    peer.applier
                        .reconnect(Vici::connect(peer.charon.vici_socket()).await?);
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
            if !report.is_noop() {
                tracing::info!(peer = %peer.ns, loaded = ?report.loaded, unloaded = ?report.unloaded, "peer configuration");
                changed = true;
            }
            for e in &report.errors {
                tracing::warn!(peer = %peer.ns, "{e}");
            }
        }
        self.sync_bgp(state).await?;
        Ok(changed)
    }

    /// Every customer gateway runs BIRD with the mirror of the gateway's
    /// sessions to it, and announces its connections' `RemoteSubnet`s.
    async fn sync_bgp(&mut self, state: &GatewayState) -> anyhow::Result<()> {
        let mut per_peer: HashMap<usize, (Vec<SessionDesired>, Vec<ipnet::Ipv4Net>)> =
            HashMap::new();
        for c in state.connections.values() {
            for t in &c.spec.tunnels {
                let Some(bgp) = &t.bgp else { continue };
                let Some(addrs) = routing::tunnel_bgp(bgp) else {
                    continue;
                };
                let Ok(remote) = t.remote_addr.parse::<IpAddr>() else {
                    continue;
                };
                let Some(&i) = self.by_ip.get(&remote) else {
                    continue;
                };
                let key = self
                    .bgp_key_override
                    .get(&remote)
                    .cloned()
                    .unwrap_or_else(|| bgp.auth_key.clone());
                let entry = per_peer.entry(i).or_default();
                entry.0.push(SessionDesired {
                    tunnel_id: t.tunnel_id.clone(),
                    connection_id: c.spec.connection_id.clone(),
                    local_ip: addrs.peer_ip,
                    peer_ip: addrs.local_ip,
                    local_asn: u32::try_from(bgp.peer_asn)
                        .ok()
                        .filter(|a| *a > 0)
                        .unwrap_or(65000),
                    peer_asn: u32::try_from(bgp.local_asn)
                        .ok()
                        .filter(|a| *a > 0)
                        .unwrap_or(vpngw_dataplane::bgp::DEFAULT_LOCAL_ASN),
                    auth_key: Secret::new(key),
                    enabled: true,
                    withheld: Vec::new(),
                });
                entry.1.extend(
                    c.spec
                        .remote_subnet
                        .split(',')
                        .filter_map(|s| s.trim().parse::<ipnet::Ipv4Net>().ok())
                        .filter(|n| n.prefix_len() > 0),
                );
            }
        }
        for (i, peer) in self.peers.iter_mut().enumerate() {
            let Some((sessions, advertised)) = per_peer.remove(&i) else {
                if let Some(bird) = peer.bird.as_mut() {
                    bird.apply(&BgpDesired {
                        router_id: std::net::Ipv4Addr::new(169, 254, 0, 2),
                        sessions: Vec::new(),
                        advertised: Vec::new(),
                        timers: LAB_BGP_TIMERS,
                    })
                    .await?;
                }
                continue;
            };
            // The peer's end of each session is an address of the peer.
            own_on_lo(
                &peer.ns,
                &mut peer.inside,
                sessions.iter().map(|s| IpAddr::V4(s.local_ip)),
            )?;
            if peer.bird.is_none() {
                let config = BirdConfig::new(peer.state_dir.clone(), Some(peer.ns.clone()));
                peer.bird = Some(
                    BgpSpeaker::start(config)
                        .await
                        .with_context(|| format!("starting bird in {}", peer.ns))?,
                );
                tracing::info!(peer = %peer.ns, "peer bird started");
            }
            let router_id = sessions
                .iter()
                .map(|s| s.local_ip)
                .min()
                .unwrap_or(std::net::Ipv4Addr::new(169, 254, 0, 2));
            let desired = BgpDesired {
                router_id,
                sessions,
                advertised,
                timers: LAB_BGP_TIMERS,
            };
            if let Some(bird) = peer.bird.as_mut() {
                for e in bird.apply(&desired).await? {
                    tracing::warn!(peer = %peer.ns, tunnel = %e.tunnel_id, "{}", e.message);
                }
            }
        }
        Ok(())
    }

    /// Keeps the lab's SSL clients connected to the gateway's SSL server,
    /// with the first address of each of its `LocalSubnet` blocks on the
    /// gateway namespace for them to reach.
    async fn sync_ssl(
        &mut self,
        client: &vpngw_client::Client,
        state: &GatewayState,
    ) -> anyhow::Result<bool> {
        let server = match &state.ssl_server {
            Some(Ok(f)) => Some(f),
            _ => None,
        };
        let mut changed = false;
        if let Some(Ok(d)) = server.map(|f| &f.desired) {
            let new: Vec<IpAddr> = d
                .local_subnets
                .iter()
                .filter_map(|b| first_host(b))
                .filter(|a| !self.gw_inside.contains(a))
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            if !new.is_empty() {
                ip_batch(
                    &self.gw_ns,
                    &new.iter()
                        .map(|a| format!("address add {} dev lo", host_prefix(a)))
                        .collect::<Vec<_>>(),
                )?;
                self.gw_inside.extend(new);
                changed = true;
            }
        }
        let lab = (
            self.tag.as_str(),
            self.gw_ns.as_str(),
            self.gw_addrs.as_slice(),
            self.dir.as_path(),
        );
        changed |= self.ssl.sync(client, server, lab).await?;
        Ok(changed)
    }

    fn teardown(&mut self) {
        self.ssl.stop();
        self.stop_agent();
        for p in &mut self.peers {
            if let Some(mut b) = p.bird.take() {
                b.stop();
            }
            p.charon.stop();
        }
        for r in &mut self.road_warriors {
            r.charon.stop();
        }
        teardown_tag(&self.tag);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

async fn foreground(args: LabArgs, tag: String, dir: PathBuf) -> anyhow::Result<()> {
    cleanup_stale();
    teardown_tag(&tag);
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join("owner"), std::process::id().to_string())?;
    let mut psk_override = HashMap::new();
    for p in &args.peer_psk {
        let (ip, psk) = p
            .split_once('=')
            .with_context(|| format!("--peer-psk {p:?}: expected IP=PSK"))?;
        let ip: IpAddr = ip
            .parse()
            .with_context(|| format!("--peer-psk {p:?}: {ip:?} is not an IP address"))?;
        psk_override.insert(ip, psk.to_owned());
    }
    let mut bgp_key_override = HashMap::new();
    for p in &args.peer_bgp_key {
        let (ip, key) = p
            .split_once('=')
            .with_context(|| format!("--peer-bgp-key {p:?}: expected IP=KEY"))?;
        let ip: IpAddr = ip
            .parse()
            .with_context(|| format!("--peer-bgp-key {p:?}: {ip:?} is not an IP address"))?;
        bgp_key_override.insert(ip, key.to_owned());
    }
    let client =
        crate::agent::client_from_env(&args.server, &args.region, args.ca_file.as_deref())?;

    // The gateway's public addresses, once the gateway exists.
    let deadline = Instant::now() + Duration::from_secs(30);
    let gw_addrs = loop {
        match client
            .vpc_typed("DescribeVpnGateway", &[("VpnGatewayId", &args.gateway)])
            .await
        {
            Ok(g) => {
                let addrs = desired::gateway_addrs(&g);
                if !addrs.is_empty() {
                    break addrs;
                }
            }
            // An untrusted server or a bad endpoint does not get better by waiting.
            Err(e @ (vpngw_client::ClientError::Tls(_) | vpngw_client::ClientError::Config(_))) => {
                bail!("reading VPN gateway {}: {e}", args.gateway)
            }
            Err(e) if Instant::now() > deadline => {
                bail!("reading VPN gateway {}: {e}", args.gateway)
            }
            Err(_) => {}
        }
        if Instant::now() > deadline {
            bail!("VPN gateway {} has no InternetIp", args.gateway);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };

    let gw_ns = format!("{LAB_PREFIX}{tag}-gw");
    let mut agent_cmd: Vec<String> = [
        "agent",
        "--gateway",
        &args.gateway,
        "--server",
        &args.server,
        "--region",
        &args.region,
        "--netns",
        &gw_ns,
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    if let Some(ca) = &args.ca_file {
        agent_cmd.push("--ca-file".into());
        agent_cmd.push(ca.display().to_string());
    }
    agent_cmd.push("--state-dir".into());
    agent_cmd.push(dir.join("gw").display().to_string());
    agent_cmd.extend(args.agent_args.iter().cloned());
    let mut lab = Lab {
        tag: tag.clone(),
        dir: dir.clone(),
        gateway: args.gateway.clone(),
        gw_ns: gw_ns.clone(),
        gw_addrs: gw_addrs.clone(),
        gw_inside: BTreeSet::new(),
        peers: Vec::new(),
        by_ip: HashMap::new(),
        shared: args.shared_peer,
        psk_override,
        bgp_key_override,
        ssl: ssl_clients::SslClients::new(args.ssl_clients, args.openvpn.clone()),
        road_warriors: Vec::new(),
        ipsec_clients: args.ipsec_clients,
        ipsec_client_psk: args.ipsec_client_psk.clone(),
        agent: None,
        agent_cmd,
    };
    let built = async {
        ip(&["netns", "add", &gw_ns])?;
        ip(&["-n", &gw_ns, "link", "set", "lo", "up"])?;
        ip_batch(
            &gw_ns,
            &gw_addrs
                .iter()
                .map(|a| format!("address add {} dev lo", host_prefix(a)))
                .collect::<Vec<_>>(),
        )?;
        lab.start_agent()?;
        anyhow::Ok(())
    }
    .await;
    if let Err(e) = built {
        lab.teardown();
        return Err(e);
    }
    lab.write_info();
    let summary = format!(
        "vpngw lab {tag}: VPN gateway {gw} in network namespace {gw_ns} ({addrs})\n\
         \x20 agent   pid {pid}, log {dir}/agent.log\n\
         \x20 charon  log {dir}/gw/charon.log\n\
         {bgp}\
         \x20 peers   one namespace {LAB_PREFIX}{tag}-p<N> per customer gateway, created as connections appear{shared} (log {dir}/lab.log)\n\
         {clients}\
         \x20 state   {dir}/lab.json\n\
         watch:\n\
         \x20 DescribeVpnConnections with VpnGatewayId={gw}: Status, TunnelOptionsSpecification.*.Status, VcoHealthCheck.Status\n\
         \x20 DescribeVpnConnectionLogs with VpnConnectionId=vco-…\n\
         \x20 ip netns exec {gw_ns} swanctl --list-sas --uri unix://{dir}/gw/charon.vici\n\
         \x20 tail -f {dir}/agent.log\n\
         \x20 vpngw lab --status --gateway {gw} (the BGP line measured again)\n\
         tear down:\n\
         \x20 vpngw lab --down --gateway {gw}\n",
        gw = args.gateway,
        addrs = gw_addrs
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", "),
        pid = lab.agent.as_ref().map_or(0, Child::id),
        dir = dir.display(),
        bgp = bgp_line(&dir).await,
        shared = if args.shared_peer {
            " (shared: one namespace for all)"
        } else {
            ""
        },
        clients = if args.ipsec_clients > 0 {
            format!(
                "\x20 ipsec   {n} road warriors {LAB_PREFIX}{tag}-rw1..rw{n} dial the gateway's IPsec server once ListIpsecServers shows one (OnlineClientCount; ListIpsecServerLogs)\n",
                n = args.ipsec_clients
            )
        } else {
            String::new()
        },
    );
    print!("{summary}");
    std::fs::write(dir.join("ready"), &summary)?;

    let shutdown = async {
        let term = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut s) => {
                    s.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {},
            _ = term => {},
        }
    };
    tokio::pin!(shutdown);
    // The peers follow the gateway as its agent does: pushed by
    // WatchGatewayState (polled every --sync-interval-ms only with a server
    // that cannot push); the sync also runs every --sync-interval-ms with
    // the state it has, to look after the agent, the peers' routes and the
    // clients that redial.
    let interval = Duration::from_millis(args.sync_interval_ms.max(50));
    let (desired_tx, mut desired) = tokio::sync::watch::channel(None);
    let watching = Watcher::new(client.clone(), &args.gateway, interval).run(desired_tx);
    tokio::pin!(watching);
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            () = &mut watching => break,
            changed = desired.changed() => {
                if changed.is_err() {
                    break;
                }
            }
            _ = tokio::time::sleep(interval) => {}
        }
        if let Some(child) = lab.agent.as_mut()
            && let Ok(Some(status)) = child.try_wait()
        {
            tracing::warn!(%status, "the agent exited; restarting it");
            lab.agent = None;
            if let Err(e) = lab.start_agent() {
                tracing::error!(error = %e, "restarting the agent failed");
            }
            lab.write_info();
        }
        let state = desired.borrow_and_update().clone();
        match state {
            None => {}
            Some(state) if state.gone => {
                tracing::warn!("the VPN gateway is gone; the lab stays until `vpngw lab --down`");
            }
            Some(f) => {
                match lab.sync(&f).await {
                    Ok(true) => lab.write_info(),
                    Ok(false) => {}
                    Err(e) => tracing::warn!(error = %e, "syncing the peers failed"),
                }
                match lab.sync_ssl(&client, &f).await {
                    Ok(true) => lab.write_info(),
                    Ok(false) => {}
                    Err(e) => tracing::warn!(error = %e, "syncing the SSL clients failed"),
                }
                match lab.sync_road_warriors(&f).await {
                    Ok(true) => lab.write_info(),
                    Ok(false) => {}
                    Err(e) => tracing::warn!(error = %e, "syncing the road warriors failed"),
                }
            }
        }
    }
    tracing::info!("tearing the lab down");
    lab.teardown();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_and_hosts() {
        assert_eq!(tag_of("vpn-bp1q8bgx4xnkm2ogj3ywf"), "xnkm2ogj3ywf");
        assert_eq!(tag_of("vpn-abc"), "abc");
        assert_eq!(first_host("10.1.0.0/24"), "10.1.0.1".parse().ok());
        assert_eq!(first_host("10.1.0.7/32"), "10.1.0.7".parse().ok());
        assert_eq!(first_host("fd00::/64"), "fd00::1".parse().ok());
        assert_eq!(first_host("nope"), None);
    }
}
