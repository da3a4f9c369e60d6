//! A gateway namespace and N customer-gateway namespaces on one machine, as
//! root, each with its own charon: real tunnels without leaving the host.
//!
//! Topology (all addresses stay inside the namespaces):
//!
//! ```text
//!  vpngwlab-<tag>-gw                               vpngwlab-<tag>-p<i>
//!  lo: 198.18.255.1/32, 198.18.255.2/32 (public)   lo: 10.<i>.0.1/32 (inside)
//!      10.0.0.1/32 (inside)
//!  p<i>: 198.18.<i>.1/30  <------ veth ------>     gw: 198.18.<i>.2/30 (public)
//!                                                  route 198.18.255.0/24 via 198.18.<i>.1
//! ```
//!
//! Every namespace name starts with [`LAB_PREFIX`]; the lab records its
//! owner's pid under `<tmp>/vpngw-lab/<tag>/owner`, so [`cleanup_stale`]
//! can remove what a crashed run left behind. [`Lab`] tears everything
//! down on drop.

use std::fs;
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::Duration;

use crate::charon::{Charon, CharonConfig, CharonError, Retransmit, pid_alive, terminate_pid};
use crate::model::{
    ConnectionDesired, GatewayDesired, IkeSettings, IpsecSettings, Secret, StartAction,
    TunnelDesired,
};

/// Prefix of every lab namespace.
pub const LAB_PREFIX: &str = "vpngwlab-";

/// Lab failures.
#[derive(Debug, thiserror::Error)]
pub enum LabError {
    /// A command failed.
    #[error("`{command}` failed: {message}")]
    Command {
        /// The command line.
        command: String,
        /// Its stderr or the spawn error.
        message: String,
    },
    /// Bad specification.
    #[error("invalid lab spec: {0}")]
    Spec(String),
    /// charon did not start.
    #[error("charon in {netns}: {source}")]
    Charon {
        /// Namespace.
        netns: String,
        /// Cause.
        #[source]
        source: CharonError,
    },
}

fn run(args: &[&str]) -> Result<String, LabError> {
    let out = Command::new(args[0])
        .args(&args[1..])
        .output()
        .map_err(|e| LabError::Command {
            command: args.join(" "),
            message: e.to_string(),
        })?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(LabError::Command {
            command: args.join(" "),
            message: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        })
    }
}

/// For tests: true, with a line saying why, when the lab cannot run here
/// (the test then returns: skipped).
pub fn skip(test: &str) -> bool {
    match preflight() {
        Ok(()) => false,
        Err(why) => {
            eprintln!(
                "SKIPPED {test}: {why} (tests in network namespaces need root, `ip netns` and /dev/net/tun)"
            );
            true
        }
    }
}

/// Why the lab cannot run here (not root, no `/dev/net/tun`, `ip netns add`
/// refused), or `Ok` when it can. Tests skip on `Err`.
pub fn preflight() -> Result<(), String> {
    static RESULT: std::sync::OnceLock<Result<(), String>> = std::sync::OnceLock::new();
    RESULT.get_or_init(preflight_uncached).clone()
}

fn preflight_uncached() -> Result<(), String> {
    if !nix::unistd::geteuid().is_root() {
        return Err("not running as root".into());
    }
    if !std::path::Path::new("/dev/net/tun").exists() {
        return Err("/dev/net/tun is missing".into());
    }
    let probe = format!("vpngwprobe-{}", std::process::id());
    match run(&["ip", "netns", "add", &probe]) {
        Ok(_) => {
            let _ = run(&["ip", "netns", "del", &probe]);
            Ok(())
        }
        Err(e) => Err(format!("`ip netns add` is not available: {e}")),
    }
}

fn lab_root() -> PathBuf {
    std::env::temp_dir().join("vpngw-lab")
}

fn lab_namespaces() -> Vec<String> {
    run(&["ip", "netns", "list"])
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|n| n.starts_with(LAB_PREFIX))
        .map(str::to_string)
        .collect()
}

fn kill_netns_processes(ns: &str) {
    for pid in run(&["ip", "netns", "pids", ns])
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.trim().parse::<i32>().ok())
    {
        terminate_pid(pid, Duration::from_secs(2));
    }
}

fn delete_netns(ns: &str) {
    kill_netns_processes(ns);
    let _ = run(&["ip", "netns", "del", ns]);
}

/// Remove every namespace, process and state directory of lab `tag`.
/// Idempotent.
pub fn teardown_tag(tag: &str) {
    let prefix = format!("{LAB_PREFIX}{tag}-");
    for ns in lab_namespaces() {
        if ns.starts_with(&prefix) {
            delete_netns(&ns);
        }
    }
    if std::env::var_os("VPNGW_LAB_KEEP").is_none() {
        let _ = fs::remove_dir_all(lab_root().join(tag));
    }
}

/// Held from a lab's first look for stale labs until its owner is written:
/// two labs built at once in one process (tests run in parallel) must not
/// find each other's directory before its owner is written and tear it down
/// as stale.
static CLAIMING: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn claiming() -> std::sync::MutexGuard<'static, ()> {
    CLAIMING
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Remove leftovers of labs whose owner process is gone (a crashed or
/// killed run). Returns the tags removed.
pub fn cleanup_stale() -> Vec<String> {
    let _claiming = claiming();
    remove_stale()
}

fn remove_stale() -> Vec<String> {
    let mut tags: Vec<String> = lab_namespaces()
        .iter()
        .filter_map(|ns| {
            let rest = ns.strip_prefix(LAB_PREFIX)?;
            let (tag, _) = rest.rsplit_once('-')?;
            Some(tag.to_string())
        })
        .collect();
    if let Ok(dirs) = fs::read_dir(lab_root()) {
        tags.extend(
            dirs.flatten()
                .filter_map(|d| d.file_name().into_string().ok()),
        );
    }
    tags.sort();
    tags.dedup();
    let mut removed = Vec::new();
    for tag in tags {
        let owner = fs::read_to_string(lab_root().join(&tag).join("owner"))
            .ok()
            .and_then(|s| s.trim().parse::<i32>().ok());
        let alive = owner.is_some_and(pid_alive);
        if !alive {
            teardown_tag(&tag);
            removed.push(tag);
        }
    }
    removed
}

/// What to build.
#[derive(Clone, Debug)]
pub struct LabSpec {
    /// Short name, `[a-z0-9]`, at most 12 characters; part of every
    /// namespace name.
    pub tag: String,
    /// Number of customer-gateway namespaces (1..=250).
    pub peers: usize,
    /// Public addresses of the gateway (1 or 2).
    pub gateway_addrs: usize,
    /// Retransmission schedule of every charon (fast by default so that
    /// IKEv2 DPD and failures show quickly).
    pub retransmit: Retransmit,
}

impl LabSpec {
    /// A lab with `peers` peers and a dual-address gateway.
    pub fn new(tag: impl Into<String>, peers: usize) -> Self {
        Self {
            tag: tag.into(),
            peers,
            gateway_addrs: 2,
            retransmit: Retransmit::FAST,
        }
    }
}

/// One namespace of the lab.
#[derive(Debug)]
pub struct LabNode {
    /// Namespace name.
    pub netns: String,
    /// Public addresses.
    pub public_addrs: Vec<IpAddr>,
    /// The inside address (on `lo`).
    pub inside_addr: IpAddr,
    /// The inside subnet (`10.x.0.0/24`).
    pub inside_subnet: String,
    /// The veth towards the other side (peers only: `gw`).
    pub link_dev: Option<String>,
    /// Route to the gateway's public addresses (peers only: destination,
    /// next hop); restored when the link comes back up.
    pub route: Option<(String, String)>,
    /// Directory for this node's charon.
    pub state_dir: PathBuf,
    retransmit: Retransmit,
    charon: Option<Charon>,
}

impl LabNode {
    /// Start this node's charon (once).
    pub fn start_charon(&mut self) -> Result<&Charon, LabError> {
        if self.charon.is_none() {
            let mut cfg = CharonConfig::new(self.state_dir.clone(), Some(self.netns.clone()));
            cfg.retransmit = self.retransmit;
            let charon = Charon::start(cfg).map_err(|source| LabError::Charon {
                netns: self.netns.clone(),
                source,
            })?;
            self.charon = Some(charon);
        }
        self.charon
            .as_ref()
            .ok_or_else(|| LabError::Spec("charon".into()))
    }

    /// This node's charon, if started.
    pub fn charon(&self) -> Option<&Charon> {
        self.charon.as_ref()
    }

    /// Mutable access to this node's charon.
    pub fn charon_mut(&mut self) -> Option<&mut Charon> {
        self.charon.as_mut()
    }

    /// Stop this node's charon.
    pub fn stop_charon(&mut self) {
        if let Some(mut c) = self.charon.take() {
            c.stop();
        }
    }

    /// Run a command inside the namespace.
    pub fn exec(&self, args: &[&str]) -> std::io::Result<Output> {
        Command::new("ip")
            .args(["netns", "exec", &self.netns])
            .args(args)
            .output()
    }

    /// Ping `to` from this node's inside address; true when at least one of
    /// `count` echo requests is answered.
    pub fn ping(&self, to: IpAddr, count: u32) -> bool {
        let count = count.to_string();
        let from = self.inside_addr.to_string();
        let to = to.to_string();
        self.exec(&[
            "ping", "-n", "-q", "-c", &count, "-i", "0.2", "-W", "1", "-I", &from, &to,
        ])
        .map(|o| o.status.success())
        .unwrap_or(false)
    }

    /// Ping `to` twice from this node, the source picked by the routes (a
    /// remote-access client's tunnel address); true when answered.
    pub fn reaches(&self, to: IpAddr) -> bool {
        let to = to.to_string();
        self.exec(&["ping", "-n", "-q", "-c", "2", "-i", "0.2", "-W", "2", &to])
            .map(|o| o.status.success())
            .unwrap_or(false)
    }

    fn add_route(&self) -> Result<(), LabError> {
        if let Some((dst, via)) = &self.route {
            run(&["ip", "-n", &self.netns, "route", "replace", dst, "via", via])?;
        }
        Ok(())
    }

    /// Bring this peer's link up or down (cuts the path to the gateway).
    /// Bringing it up restores the route the kernel dropped.
    pub fn set_link(&self, up: bool) -> Result<(), LabError> {
        let dev = self
            .link_dev
            .as_deref()
            .ok_or_else(|| LabError::Spec(format!("{} has no link", self.netns)))?;
        run(&[
            "ip",
            "-n",
            &self.netns,
            "link",
            "set",
            dev,
            if up { "up" } else { "down" },
        ])?;
        if up {
            self.add_route()?;
        }
        Ok(())
    }
}

/// A built lab. Dropping it stops every charon and deletes every namespace.
#[derive(Debug)]
pub struct Lab {
    /// The tag.
    pub tag: String,
    /// The gateway namespace.
    pub gateway: LabNode,
    /// The customer-gateway namespaces (index 0 is peer 1).
    pub peers: Vec<LabNode>,
    torn_down: bool,
}

impl Lab {
    /// Build the namespaces and links (no charon yet). Removes leftovers of
    /// the same tag first, and of crashed labs.
    pub fn build(spec: &LabSpec) -> Result<Lab, LabError> {
        let tag = spec.tag.as_str();
        if tag.is_empty()
            || tag.len() > 12
            || !tag
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        {
            return Err(LabError::Spec(format!(
                "tag {tag:?} must be 1-12 characters of [a-z0-9]"
            )));
        }
        if spec.peers == 0 || spec.peers > 250 {
            return Err(LabError::Spec("peers must be 1..=250".into()));
        }
        if !(1..=2).contains(&spec.gateway_addrs) {
            return Err(LabError::Spec("gateway_addrs must be 1 or 2".into()));
        }
        let claiming = claiming();
        remove_stale();
        teardown_tag(tag);
        let root = lab_root().join(tag);
        fs::create_dir_all(&root).map_err(|e| LabError::Command {
            command: format!("mkdir {}", root.display()),
            message: e.to_string(),
        })?;
        fs::write(root.join("owner"), std::process::id().to_string()).map_err(|e| {
            LabError::Command {
                command: "write owner".into(),
                message: e.to_string(),
            }
        })?;
        drop(claiming);

        let gw_ns = format!("{LAB_PREFIX}{tag}-gw");
        let gw_public: Vec<IpAddr> = (1..=spec.gateway_addrs)
            .map(|i| IpAddr::V4(Ipv4Addr::new(198, 18, 255, i as u8)))
            .collect();
        let mut lab = Lab {
            tag: tag.to_string(),
            gateway: LabNode {
                netns: gw_ns.clone(),
                public_addrs: gw_public.clone(),
                inside_addr: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
                inside_subnet: "10.0.0.0/24".into(),
                link_dev: None,
                route: None,
                state_dir: root.join("gw"),
                retransmit: spec.retransmit,
                charon: None,
            },
            peers: Vec::new(),
            torn_down: false,
        };
        // From here on, `lab` cleans up on any error.
        run(&["ip", "netns", "add", &gw_ns])?;
        run(&["ip", "-n", &gw_ns, "link", "set", "lo", "up"])?;
        for a in &gw_public {
            run(&[
                "ip",
                "-n",
                &gw_ns,
                "addr",
                "add",
                &format!("{a}/32"),
                "dev",
                "lo",
            ])?;
        }
        run(&[
            "ip",
            "-n",
            &gw_ns,
            "addr",
            "add",
            "10.0.0.1/32",
            "dev",
            "lo",
        ])?;

        for i in 1..=spec.peers {
            let ns = format!("{LAB_PREFIX}{tag}-p{i}");
            let octet = i as u8;
            let gw_dev = format!("p{i}");
            run(&["ip", "netns", "add", &ns])?;
            lab.peers.push(LabNode {
                netns: ns.clone(),
                public_addrs: vec![IpAddr::V4(Ipv4Addr::new(198, 18, octet, 2))],
                inside_addr: IpAddr::V4(Ipv4Addr::new(10, octet, 0, 1)),
                inside_subnet: format!("10.{octet}.0.0/24"),
                link_dev: Some("gw".into()),
                route: Some(("198.18.255.0/24".into(), format!("198.18.{octet}.1"))),
                state_dir: root.join(format!("p{i}")),
                retransmit: spec.retransmit,
                charon: None,
            });
            run(&["ip", "-n", &ns, "link", "set", "lo", "up"])?;
            run(&[
                "ip", "link", "add", &gw_dev, "netns", &gw_ns, "type", "veth", "peer", "name",
                "gw", "netns", &ns,
            ])?;
            run(&[
                "ip",
                "-n",
                &gw_ns,
                "addr",
                "add",
                &format!("198.18.{octet}.1/30"),
                "dev",
                &gw_dev,
            ])?;
            run(&[
                "ip",
                "-n",
                &ns,
                "addr",
                "add",
                &format!("198.18.{octet}.2/30"),
                "dev",
                "gw",
            ])?;
            run(&[
                "ip",
                "-n",
                &ns,
                "addr",
                "add",
                &format!("10.{octet}.0.1/32"),
                "dev",
                "lo",
            ])?;
            run(&["ip", "-n", &gw_ns, "link", "set", &gw_dev, "up"])?;
            run(&["ip", "-n", &ns, "link", "set", "gw", "up"])?;
            lab.peers[i - 1].add_route()?;
        }
        Ok(lab)
    }

    /// Start every charon (gateway and peers).
    pub fn start_all(&mut self) -> Result<(), LabError> {
        self.gateway.start_charon()?;
        for p in &mut self.peers {
            p.start_charon()?;
        }
        Ok(())
    }

    /// A connection from the gateway to peer `peer` (0-based) with one
    /// tunnel per gateway address in `gw_addrs` (indices into the gateway's
    /// public addresses), between the two inside subnets. Tunnel ids are
    /// `<connection_id>-t<n>`.
    pub fn connection(
        &self,
        peer: usize,
        connection_id: &str,
        gw_addrs: &[usize],
        ike: &IkeSettings,
        ipsec: &IpsecSettings,
    ) -> Result<ConnectionDesired, LabError> {
        let p = self
            .peers
            .get(peer)
            .ok_or_else(|| LabError::Spec(format!("no peer {peer}")))?;
        let mut tunnels = Vec::new();
        for (n, &ai) in gw_addrs.iter().enumerate() {
            let local = *self
                .gateway
                .public_addrs
                .get(ai)
                .ok_or_else(|| LabError::Spec(format!("no gateway address {ai}")))?;
            tunnels.push(TunnelDesired {
                tunnel_id: format!("{connection_id}-t{}", n + 1),
                local_addr: local,
                remote_addr: p.public_addrs[0],
                ike: ike.clone(),
                ipsec: ipsec.clone(),
                local_subnets: vec![self.gateway.inside_subnet.clone()],
                remote_subnets: vec![p.inside_subnet.clone()],
                dpd: true,
                nat_traversal: true,
                bgp: None,
                route_children: Vec::new(),
            });
        }
        Ok(ConnectionDesired {
            connection_id: connection_id.to_string(),
            start_action: StartAction::Start,
            tunnels,
        })
    }

    /// The gateway's desired state with these connections.
    pub fn gateway_desired(&self, connections: Vec<ConnectionDesired>) -> GatewayDesired {
        GatewayDesired {
            gateway_id: format!("vpn-lab{}", self.tag),
            local_addrs: self.gateway.public_addrs.clone(),
            connections,
        }
    }

    /// The last `lines` lines of every charon log, labelled by namespace.
    pub fn log_tails(&self, lines: usize) -> String {
        let mut out = String::new();
        for node in std::iter::once(&self.gateway).chain(&self.peers) {
            let log = fs::read_to_string(node.state_dir.join("charon.log")).unwrap_or_default();
            let all: Vec<&str> = log.lines().collect();
            out.push_str(&format!("----- charon log of {} -----\n", node.netns));
            for l in &all[all.len().saturating_sub(lines)..] {
                out.push_str(l);
                out.push('\n');
            }
        }
        out
    }

    /// Stop every charon and delete every namespace. Idempotent.
    pub fn teardown(&mut self) {
        if self.torn_down {
            return;
        }
        self.torn_down = true;
        for p in &mut self.peers {
            p.stop_charon();
        }
        self.gateway.stop_charon();
        teardown_tag(&self.tag);
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        if std::thread::panicking() {
            // A failing test: show what the charons said before the logs go.
            eprint!("{}", self.log_tails(80));
        }
        self.teardown();
    }
}

/// A PSK for lab connections.
pub fn lab_psk(seed: &str) -> Secret {
    Secret::new(format!("vpngw-lab-{seed}"))
}
