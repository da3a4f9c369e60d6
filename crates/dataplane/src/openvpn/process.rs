//! An `openvpn` process, server or client, in a network namespace.
//!
//! It runs in the foreground as our child (`ip netns exec <ns> openvpn
//! --config …`), so its pid is ours to stop; it also writes a pid file
//! (`writepid`), so that a crashed agent's leftover can be found and
//! stopped before a new server binds the same port.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::charon::{pid_alive, terminate_child, terminate_pid};

/// Debian's OpenVPN.
pub const DEFAULT_OPENVPN: &str = "/usr/sbin/openvpn";

/// Starting or stopping OpenVPN failed.
#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    #[error("openvpn exited during startup ({status}): {output}")]
    Exited { status: String, output: String },
    #[error("openvpn did not become ready within {0:?}: {1}")]
    Timeout(Duration, String),
}

pub(crate) fn io_err(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> ProcessError {
    let context = context.into();
    move |source| ProcessError::Io { context, source }
}

/// A running `openvpn`. Dropping it stops it (SIGTERM, then SIGKILL).
#[derive(Debug)]
pub struct OpenVpn {
    child: Option<Child>,
    log: PathBuf,
}

/// Stops the `openvpn` whose pid is in `pid_file` (a crashed run's
/// leftover), if it is still one.
pub fn stop_leftover(pid_file: &Path) {
    let Some(pid) = fs::read_to_string(pid_file)
        .ok()
        .and_then(|t| t.trim().parse::<i32>().ok())
    else {
        return;
    };
    let is_openvpn = fs::read_to_string(format!("/proc/{pid}/cmdline"))
        .map(|c| c.contains("openvpn"))
        .unwrap_or(false);
    if pid_alive(pid) && is_openvpn {
        terminate_pid(pid, Duration::from_secs(3));
    }
    let _ = fs::remove_file(pid_file);
}

impl OpenVpn {
    /// Starts `openvpn --config <config>` (in `netns`, when given) with its
    /// output into `log`, and waits until `ready` says so (the management
    /// socket accepts, the client logged "Initialization Sequence
    /// Completed", …) or `timeout` passes.
    pub fn start(
        binary: &Path,
        netns: Option<&str>,
        config: &Path,
        log: &Path,
        timeout: Duration,
        ready: impl Fn() -> bool,
    ) -> Result<OpenVpn, ProcessError> {
        let mut cmd = match netns {
            Some(ns) => {
                let mut c = Command::new("ip");
                c.args(["netns", "exec", ns]).arg(binary);
                c
            }
            None => Command::new(binary),
        };
        let out_path = log.with_extension("out");
        let out = fs::File::create(&out_path)
            .map_err(io_err(format!("creating {}", out_path.display())))?;
        let err = out.try_clone().map_err(io_err("duplicating a handle"))?;
        cmd.arg("--config")
            .arg(config)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err);
        let child = cmd.spawn().map_err(io_err("spawning openvpn"))?;
        let mut p = OpenVpn {
            child: Some(child),
            log: log.to_path_buf(),
        };
        let deadline = Instant::now() + timeout;
        loop {
            if ready() {
                return Ok(p);
            }
            if let Some(status) = p.child.as_mut().and_then(|c| c.try_wait().ok().flatten()) {
                p.child = None;
                let mut output = fs::read_to_string(&out_path).unwrap_or_default();
                output.push_str(&p.tail(30));
                return Err(ProcessError::Exited {
                    status: status.to_string(),
                    output,
                });
            }
            if Instant::now() > deadline {
                let tail = p.tail(30);
                p.stop();
                return Err(ProcessError::Timeout(timeout, tail));
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// The last `lines` lines of its log.
    pub fn tail(&self, lines: usize) -> String {
        let text = fs::read_to_string(&self.log).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    /// Its log so far.
    pub fn read_log(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    pub fn is_running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }

    /// SIGTERM (a client says goodbye to its server), then SIGKILL after
    /// 3 s. Idempotent.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            terminate_child(&mut child, Duration::from_secs(3));
        }
    }
}

impl Drop for OpenVpn {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Writes `text` to `path` through a temporary file and a rename, so that
/// OpenVPN never reads half a file; `private` files are readable by their
/// owner only.
pub fn write_file(path: &Path, text: &str, private: bool) -> Result<(), ProcessError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = path.with_extension("tmp");
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(if private { 0o600 } else { 0o644 })
        .open(&tmp)
        .map_err(io_err(format!("writing {}", tmp.display())))?;
    f.write_all(text.as_bytes())
        .map_err(io_err(format!("writing {}", tmp.display())))?;
    fs::rename(&tmp, path).map_err(io_err(format!("renaming to {}", path.display())))
}
