//! One charon per gateway (or per lab peer), each in its own network
//! namespace with its own `strongswan.conf`, vici socket and private `/run`.
//!
//! Why a private `/run`: charon's pidfile path is fixed
//! (`/var/run/charon.pid`), so two charons on one machine collide. `ip netns
//! exec` already gives the command its own mount namespace, so
//! `mount -t tmpfs tmpfs /run` there is invisible to the rest of the machine.
//! Keep `state_dir` outside `/run` for the same reason.
//!
//! ESP runs in userspace (`kernel-libipsec`, ESP in UDP 4500): the kernels
//! this project runs on have XFRM but no `INET_ESP`.

use std::fs;
use std::io;
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

/// The mark on charon's own packets (`socket-default.fwmark`): they skip
/// table 220 (`kernel-netlink.fwmark = !…`) and the forwarding's blocks.
pub const CHARON_FWMARK: &str = "0x4d";

/// Default charon binary on Debian.
pub const DEFAULT_CHARON: &str = "/usr/lib/ipsec/charon";

/// One charon plugin of the `load` list and the Debian package that ships it
/// (`dpkg -S /usr/lib/ipsec/plugins/libstrongswan-<name>.so`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Plugin {
    /// Plugin name as in `load`.
    pub name: &'static str,
    /// charon refuses to start without it (`!` in `load`).
    pub critical: bool,
    /// The Debian package.
    pub package: &'static str,
}

const fn plugin(name: &'static str, package: &'static str) -> Plugin {
    Plugin {
        name,
        critical: false,
        package,
    }
}

const fn critical(name: &'static str, package: &'static str) -> Plugin {
    Plugin {
        name,
        critical: true,
        package,
    }
}

/// What charon loads, in order. des, 3des and md5 only come from `openssl`.
/// Every package named here must be installed on a gateway host:
/// scripts/packages.txt lists them (a unit test checks it), and
/// `vpngw agent` checks at start-up what charon really loaded
/// ([`crate::crypto::HostCrypto`]).
pub const PLUGINS: &[Plugin] = &[
    plugin("random", "libstrongswan"),
    plugin("nonce", "libstrongswan"),
    plugin("openssl", "libstrongswan-standard-plugins"),
    plugin("pem", "libstrongswan"),
    plugin("pkcs1", "libstrongswan"),
    plugin("x509", "libstrongswan"),
    plugin("pubkey", "libstrongswan"),
    plugin("revocation", "libstrongswan"),
    plugin("constraints", "libstrongswan"),
    plugin("kdf", "libstrongswan"),
    plugin("hmac", "libstrongswan"),
    plugin("sha1", "libstrongswan"),
    plugin("sha2", "libstrongswan"),
    plugin("aes", "libstrongswan"),
    plugin("gmp", "libstrongswan"),
    // Userspace ESP over TUN (no INET_ESP in the kernel).
    critical("kernel-libipsec", "libcharon-extra-plugins"),
    plugin("kernel-netlink", "libstrongswan"),
    plugin("socket-default", "strongswan-libcharon"),
    critical("vici", "strongswan-swanctl"),
    plugin("updown", "strongswan-libcharon"),
];

/// The Debian package that ships plugin `name` (`None` for a plugin vpngw
/// does not load by default).
pub fn plugin_package(name: &str) -> Option<&'static str> {
    let name = name.trim_end_matches('!');
    PLUGINS.iter().find(|p| p.name == name).map(|p| p.package)
}

/// The default `load` list: [`PLUGINS`], critical ones marked with `!`.
pub fn default_load() -> Vec<String> {
    PLUGINS
        .iter()
        .map(|p| {
            if p.critical {
                format!("{}!", p.name)
            } else {
                p.name.to_string()
            }
        })
        .collect()
}

/// charon's retransmission schedule. IKEv2 DPD declares the peer dead when
/// a liveness check is not answered after `tries` retransmissions, i.e. after
/// `timeout * (1 + base + base^2 + ... + base^tries)` seconds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Retransmit {
    /// `retransmit_timeout` (seconds).
    pub timeout_s: f64,
    /// `retransmit_base`.
    pub base: f64,
    /// `retransmit_tries`.
    pub tries: u32,
}

impl Retransmit {
    /// strongSwan's own defaults (4 s, 1.8, 5 tries: ≈165 s).
    pub const STRONGSWAN: Retransmit = Retransmit {
        timeout_s: 4.0,
        base: 1.8,
        tries: 5,
    };
    /// Gateway default (2 s, 1.5, 3 tries: 2+3+4.5+6.75 ≈ 16 s of
    /// retransmits): with the default 10 s DPD delay a silent IKEv2 peer is
    /// declared dead after ≈26 s, close to the IKEv1 `dpd_timeout` of 30 s.
    pub const GATEWAY: Retransmit = Retransmit {
        timeout_s: 2.0,
        base: 1.5,
        tries: 3,
    };
    /// Fast schedule for tests and the lab (1 s, 1.0, 2 tries: 3 s).
    pub const FAST: Retransmit = Retransmit {
        timeout_s: 1.0,
        base: 1.0,
        tries: 2,
    };

    /// Seconds from the first send until charon gives up.
    pub fn give_up_after_s(&self) -> f64 {
        (0..=self.tries)
            .map(|n| self.timeout_s * self.base.powi(n as i32))
            .sum()
    }
}

impl Default for Retransmit {
    fn default() -> Self {
        Retransmit::GATEWAY
    }
}

/// How to run one charon.
#[derive(Clone, Debug)]
pub struct CharonConfig {
    /// Directory for `strongswan.conf`, the vici socket and the logs. Must
    /// not be under `/run` (it is replaced by a private tmpfs).
    pub state_dir: PathBuf,
    /// Network namespace to run in (`ip netns exec`); `None` runs in the
    /// current one (still with a private `/run`, via `unshare -m`).
    pub netns: Option<String>,
    /// Retransmission schedule.
    pub retransmit: Retransmit,
    /// charon binary.
    pub charon_bin: PathBuf,
    /// Level of the file log (`-1`..`4`; 1 is "control", enough to see why
    /// a negotiation failed).
    pub log_level: i32,
    /// How long to wait for the vici socket.
    pub start_timeout: Duration,
    /// charon's `load` list (plugin names, `!` = required to start);
    /// [`default_load`] unless the host needs another set.
    pub load: Vec<String>,
}

impl CharonConfig {
    /// Defaults for a state directory and an optional namespace.
    pub fn new(state_dir: impl Into<PathBuf>, netns: Option<String>) -> Self {
        Self {
            state_dir: state_dir.into(),
            netns,
            retransmit: Retransmit::default(),
            charon_bin: PathBuf::from(DEFAULT_CHARON),
            log_level: 1,
            start_timeout: Duration::from_secs(10),
            load: default_load(),
        }
    }

    /// Path of the vici socket.
    pub fn vici_socket(&self) -> PathBuf {
        self.state_dir.join("charon.vici")
    }

    /// Path of charon's log file.
    pub fn log_path(&self) -> PathBuf {
        self.state_dir.join("charon.log")
    }

    /// Path of the generated `strongswan.conf`.
    pub fn conf_path(&self) -> PathBuf {
        self.state_dir.join("strongswan.conf")
    }

    /// The `strongswan.conf` for this instance.
    pub fn strongswan_conf(&self) -> String {
        let vici = self.vici_socket();
        let log = self.log_path();
        let r = &self.retransmit;
        format!(
            "# generated by vpngw-dataplane\n\
charon {{\n\
    load = {load}\n\
    install_routes = yes\n\
    # The API offers IKEv1 aggressive mode with PSK.\n\
    i_dont_care_about_security_and_use_aggressive_mode_psk = yes\n\
    retransmit_timeout = {timeout}\n\
    retransmit_base = {base}\n\
    retransmit_tries = {tries}\n\
    filelog {{\n\
        vpngw {{\n\
            path = {log}\n\
            time_format = %Y-%m-%d %H:%M:%S\n\
            default = {level}\n\
            ike_name = yes\n\
            append = yes\n\
            flush_line = yes\n\
        }}\n\
    }}\n\
    syslog {{\n\
        daemon {{\n\
            default = -1\n\
        }}\n\
    }}\n\
    plugins {{\n\
        vici {{\n\
            socket = unix://{vici}\n\
        }}\n\
        # charon's own packets (IKE, and libipsec's ESP in UDP) carry a mark\n\
        # and skip table 220, so that a 0.0.0.0/0 remote selector cannot\n\
        # swallow the packets to other peers (docs/dataplane-routing.md).\n\
        socket-default {{\n\
            fwmark = {mark}\n\
        }}\n\
        kernel-netlink {{\n\
            fwmark = !{mark}\n\
        }}\n\
        kernel-libipsec {{\n\
            allow_peer_ts = yes\n\
        }}\n\
    }}\n\
}}\n\
swanctl {{\n\
    socket = unix://{vici}\n\
}}\n",
            load = self.load.join(" "),
            timeout = r.timeout_s,
            base = r.base,
            tries = r.tries,
            log = log.display(),
            level = self.log_level,
            vici = vici.display(),
            mark = CHARON_FWMARK,
        )
    }
}

/// Errors starting or stopping charon.
#[derive(Debug, thiserror::Error)]
pub enum CharonError {
    /// Filesystem or spawn failure.
    #[error("{context}: {source}")]
    Io {
        /// What we were doing.
        context: String,
        /// The error.
        #[source]
        source: io::Error,
    },
    /// charon exited before its vici socket came up.
    #[error("charon exited during startup ({status}); output: {output}")]
    Exited {
        /// Exit status.
        status: String,
        /// Its stdout/stderr and the start of its log.
        output: String,
    },
    /// The vici socket did not come up in time.
    #[error("charon's vici socket {0} did not come up in time")]
    Timeout(PathBuf),
}

fn io_err(context: impl Into<String>) -> impl FnOnce(io::Error) -> CharonError {
    let context = context.into();
    move |source| CharonError::Io { context, source }
}

/// A running charon. Dropping it stops it (SIGTERM, then SIGKILL).
#[derive(Debug)]
pub struct Charon {
    config: CharonConfig,
    child: Option<Child>,
}

impl Charon {
    /// Write `strongswan.conf` and start charon; returns once its vici
    /// socket accepts connections.
    pub fn start(config: CharonConfig) -> Result<Charon, CharonError> {
        fs::create_dir_all(&config.state_dir)
            .map_err(io_err(format!("creating {}", config.state_dir.display())))?;
        let conf = config.conf_path();
        fs::write(&conf, config.strongswan_conf())
            .map_err(io_err(format!("writing {}", conf.display())))?;
        let socket = config.vici_socket();
        let _ = fs::remove_file(&socket);
        let out_path = config.state_dir.join("charon.out");
        let out = fs::File::create(&out_path)
            .map_err(io_err(format!("creating {}", out_path.display())))?;
        let err = out
            .try_clone()
            .map_err(io_err("duplicating output handle"))?;

        let script = format!(
            "mount -t tmpfs tmpfs /run && exec {}",
            shell_quote(&config.charon_bin.display().to_string())
        );
        let mut cmd = match &config.netns {
            Some(ns) => {
                let mut c = Command::new("ip");
                c.args(["netns", "exec", ns, "sh", "-c", &script]);
                c
            }
            None => {
                let mut c = Command::new("unshare");
                c.args(["--mount", "--propagation", "private", "sh", "-c", &script]);
                c
            }
        };
        cmd.env("STRONGSWAN_CONF", &conf)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err);
        let child = cmd.spawn().map_err(io_err("spawning charon"))?;
        let mut charon = Charon {
            config,
            child: Some(child),
        };
        charon.wait_ready()?;
        Ok(charon)
    }

    fn wait_ready(&mut self) -> Result<(), CharonError> {
        let socket = self.config.vici_socket();
        let deadline = Instant::now() + self.config.start_timeout;
        loop {
            if socket.exists() && UnixStream::connect(&socket).is_ok() {
                return Ok(());
            }
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                self.child = None;
                let mut output = fs::read_to_string(self.config.state_dir.join("charon.out"))
                    .unwrap_or_default();
                let log = fs::read_to_string(self.config.log_path()).unwrap_or_default();
                output.push_str(&log.chars().take(4000).collect::<String>());
                return Err(CharonError::Exited {
                    status: status.to_string(),
                    output,
                });
            }
            if Instant::now() > deadline {
                self.stop();
                return Err(CharonError::Timeout(socket));
            }
            thread::sleep(Duration::from_millis(10));
        }
    }

    /// Its configuration.
    pub fn config(&self) -> &CharonConfig {
        &self.config
    }

    /// The vici socket path.
    pub fn vici_socket(&self) -> PathBuf {
        self.config.vici_socket()
    }

    /// charon's log file.
    pub fn log_path(&self) -> PathBuf {
        self.config.log_path()
    }

    /// The log file's contents so far.
    pub fn read_log(&self) -> String {
        fs::read_to_string(self.config.log_path()).unwrap_or_default()
    }

    /// charon's pid (the spawned process `exec`s into charon).
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// True while charon runs.
    pub fn is_running(&mut self) -> bool {
        match self.child.as_mut() {
            Some(c) => matches!(c.try_wait(), Ok(None)),
            None => false,
        }
    }

    /// Connect a vici client to this charon.
    pub async fn vici(&self) -> Result<crate::vici::Vici, crate::vici::ViciError> {
        crate::vici::Vici::connect(self.vici_socket()).await
    }

    /// Stop charon: SIGTERM (it sends DELETEs for its SAs), then SIGKILL
    /// after 3 s. Idempotent.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            terminate_child(&mut child, Duration::from_secs(3));
        }
        let _ = fs::remove_file(self.config.vici_socket());
    }
}

impl Drop for Charon {
    fn drop(&mut self) {
        self.stop();
    }
}

/// SIGTERM a child, wait up to `grace`, then SIGKILL and reap it.
pub(crate) fn terminate_child(child: &mut Child, grace: Duration) {
    if let Ok(Some(_)) = child.try_wait() {
        return;
    }
    if let Ok(pid) = i32::try_from(child.id()) {
        let _ = kill(Pid::from_raw(pid), Signal::SIGTERM);
    }
    let deadline = Instant::now() + grace;
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        thread::sleep(Duration::from_millis(10));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// SIGTERM a pid we do not own as a `Child`, then SIGKILL after `grace`.
pub(crate) fn terminate_pid(pid: i32, grace: Duration) {
    let p = Pid::from_raw(pid);
    if kill(p, Signal::SIGTERM).is_err() {
        return;
    }
    let deadline = Instant::now() + grace;
    while Instant::now() < deadline {
        if kill(p, None).is_err() {
            return;
        }
        thread::sleep(Duration::from_millis(10));
    }
    let _ = kill(p, Signal::SIGKILL);
}

/// True if a process with this pid exists.
pub(crate) fn pid_alive(pid: i32) -> bool {
    kill(Pid::from_raw(pid), None).is_ok()
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strongswan_conf_has_libipsec_vici_and_log() {
        let mut c = CharonConfig::new("/tmp/vpngw-x", Some("ns".into()));
        c.retransmit = Retransmit::FAST;
        let conf = c.strongswan_conf();
        assert!(conf.contains("kernel-libipsec! kernel-netlink"));
        assert!(conf.contains("socket = unix:///tmp/vpngw-x/charon.vici"));
        assert!(conf.contains("path = /tmp/vpngw-x/charon.log"));
        assert!(conf.contains("retransmit_tries = 2"));
        assert!(conf.contains("i_dont_care_about_security_and_use_aggressive_mode_psk = yes"));
        assert!(conf.contains("fwmark = 0x4d\n") && conf.contains("fwmark = !0x4d\n"));
        assert!(conf.contains("allow_peer_ts = yes"));
    }

    #[test]
    fn load_list_is_the_plugin_table() {
        let c = CharonConfig::new("/tmp/vpngw-x", None);
        let conf = c.strongswan_conf();
        assert!(conf.contains(
            "load = random nonce openssl pem pkcs1 x509 pubkey revocation constraints kdf hmac sha1 sha2 aes gmp kernel-libipsec! kernel-netlink socket-default vici! updown\n"
        ), "{conf}");
        assert_eq!(
            plugin_package("openssl"),
            Some("libstrongswan-standard-plugins")
        );
        assert_eq!(plugin_package("vici!"), Some("strongswan-swanctl"));
        assert_eq!(plugin_package("ccm"), None);
    }

    /// Every package that ships a plugin charon loads is installed by
    /// scripts/install-packages: listed in the `dataplane` group of
    /// scripts/packages.txt, or a dependency of `strongswan-charon` (which
    /// `apt-get install --no-install-recommends` still brings).
    #[test]
    fn every_plugin_package_is_in_the_package_list() {
        const DEPENDENCIES_OF_STRONGSWAN_CHARON: &[&str] =
            &["libstrongswan", "strongswan-libcharon"];
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/packages.txt");
        let text = fs::read_to_string(path).expect("scripts/packages.txt");
        let dataplane: Vec<&str> = text
            .lines()
            .map(|l| l.split('#').next().unwrap_or(""))
            .filter_map(|l| {
                let mut words = l.split_whitespace();
                match (words.next(), words.next()) {
                    (Some(package), Some("dataplane")) => Some(package),
                    _ => None,
                }
            })
            .collect();
        assert!(dataplane.contains(&"strongswan-charon"), "{dataplane:?}");
        for p in PLUGINS {
            assert!(
                dataplane.contains(&p.package)
                    || DEPENDENCIES_OF_STRONGSWAN_CHARON.contains(&p.package),
                "charon plugin {} comes with {}, which scripts/packages.txt does not list",
                p.name,
                p.package
            );
        }
    }

    #[test]
    fn retransmit_schedule() {
        assert!((Retransmit::FAST.give_up_after_s() - 3.0).abs() < 1e-9);
        assert!((Retransmit::GATEWAY.give_up_after_s() - 16.25).abs() < 1e-9);
        assert!(Retransmit::STRONGSWAN.give_up_after_s() > 160.0);
    }
}
