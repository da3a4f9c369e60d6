//! The servers under test, each in its own child process bound to
//! 127.0.0.1, killed when dropped.

use std::{
    net::{Ipv4Addr, SocketAddr, TcpListener},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use anyhow::Context;

/// A port that was free a moment ago.
pub fn free_port() -> anyhow::Result<u16> {
    let l = TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))?;
    Ok(l.local_addr()?.port())
}

/// A child process, killed (SIGKILL) and reaped on drop.
pub struct Proc {
    pub child: Child,
    pub port: u16,
    /// From spawn to the first good answer.
    pub startup: Duration,
}

impl Proc {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Resident and peak resident memory, in KiB (`VmRSS`, `VmHWM`).
    pub fn rss_kib(&self) -> (u64, u64) {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap_or_default();
        let field = |name: &str| {
            status
                .lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
                .unwrap_or(0)
        };
        (field("VmRSS:"), field("VmHWM:"))
    }

    /// CPU time the process has used so far (user + system, `/proc/<pid>/stat`). On a shared
    /// machine this is the steadier measure of cost: other load slows the wall clock, not the
    /// work one request takes.
    pub fn cpu_time(&self) -> Duration {
        let stat =
            std::fs::read_to_string(format!("/proc/{}/stat", self.pid())).unwrap_or_default();
        // Fields after the command name (which may contain spaces) start at state, field 3;
        // utime and stime are fields 14 and 15, in clock ticks.
        let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
        let field = |n: usize| -> u64 {
            after
                .split_whitespace()
                .nth(n - 3)
                .and_then(|v| v.parse().ok())
                .unwrap_or(0)
        };
        let ticks = nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)
            .ok()
            .flatten()
            .and_then(|t| u64::try_from(t).ok())
            .unwrap_or(100)
            .max(1);
        Duration::from_micros((field(14) + field(15)) * 1_000_000 / ticks)
    }

    /// Server CPU microseconds per request for `requests` answered since
    /// [`Proc::cpu_time`] was `before`.
    pub fn cpu_us_per_request(&self, before: Duration, requests: u64) -> f64 {
        (self.cpu_time() - before).as_secs_f64() * 1e6 / requests.max(1) as f64
    }

    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill();
    }
}

/// How to start `vpngw serve`.
#[derive(Clone)]
pub struct VpngwOpts {
    pub bin: PathBuf,
    pub data_dir: PathBuf,
    pub access_key_id: String,
    pub secret: String,
    /// Extra `serve` flags.
    pub args: Vec<String>,
    pub log: Option<PathBuf>,
    /// Where `/healthz` answers in plain HTTP when `--listen` is HTTPS
    /// (`--listen-http`); `None`: the main port.
    pub health_port: Option<u16>,
}

/// Starts `vpngw serve` and waits until `/healthz` answers 200.
pub fn vpngw(opts: &VpngwOpts) -> anyhow::Result<Proc> {
    let port = free_port()?;
    let stderr = match &opts.log {
        Some(p) => Stdio::from(std::fs::File::create(p)?),
        None => Stdio::null(),
    };
    let start = Instant::now();
    let child = Command::new(&opts.bin)
        .arg("serve")
        .arg("--listen")
        .arg(format!("127.0.0.1:{port}"))
        .arg("--data-dir")
        .arg(&opts.data_dir)
        .args(&opts.args)
        .env("VPNGW_ROOT_ACCESS_KEY_ID", &opts.access_key_id)
        .env("VPNGW_ROOT_ACCESS_KEY_SECRET", &opts.secret)
        .env_remove("VPNGW_CONFIG")
        // One key signs every request of a run (half a million in ten
        // seconds): bounded by the total nonce limit only. Older builds
        // ignore the variable.
        .env("VPNGW_NONCE_LIMIT_PER_KEY", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .with_context(|| format!("starting {}", opts.bin.display()))?;
    let mut proc = Proc {
        child,
        port,
        startup: Duration::ZERO,
    };
    proc.port = opts.health_port.unwrap_or(port);
    wait_http(&mut proc, "/healthz", Duration::from_secs(60))?;
    proc.port = port;
    proc.startup = start.elapsed();
    Ok(proc)
}

/// Starts this binary's `bare-server` answering `body_size` bytes.
pub fn bare(body_size: usize) -> anyhow::Result<Proc> {
    let port = free_port()?;
    let start = Instant::now();
    let child = Command::new(std::env::current_exe()?)
        .args(["bare-server", "--port", &port.to_string()])
        .args(["--body-size", &body_size.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()?;
    let mut proc = Proc {
        child,
        port,
        startup: Duration::ZERO,
    };
    wait_http(&mut proc, "/", Duration::from_secs(10))?;
    proc.startup = start.elapsed();
    Ok(proc)
}

/// Starts moto's server (`moto_server`) if `bin` exists.
pub fn moto(bin: &Path) -> anyhow::Result<Option<Proc>> {
    if !bin.exists() {
        return Ok(None);
    }
    let port = free_port()?;
    let start = Instant::now();
    let child = Command::new(bin)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let mut proc = Proc {
        child,
        port,
        startup: Duration::ZERO,
    };
    wait_http(&mut proc, "/moto-api/", Duration::from_secs(60))?;
    proc.startup = start.elapsed();
    Ok(Some(proc))
}

/// The value of an unlabelled counter or gauge on `GET /metrics`.
pub fn metric(port: u16, name: &str) -> Option<f64> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(SocketAddr::from((Ipv4Addr::LOCALHOST, port))).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    s.write_all(b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .ok()?;
    let mut text = String::new();
    s.read_to_string(&mut text).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
}

/// Polls `GET path` until it answers (any status below 500 counts for the
/// bare server and moto; `/healthz` must be 200).
fn wait_http(proc: &mut Proc, path: &str, limit: Duration) -> anyhow::Result<()> {
    use std::io::{Read, Write};
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = proc.child.try_wait()? {
            anyhow::bail!("server exited during startup: {status}");
        }
        if let Ok(mut s) =
            std::net::TcpStream::connect(SocketAddr::from((Ipv4Addr::LOCALHOST, proc.port)))
        {
            let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
            let req =
                format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
            if s.write_all(req.as_bytes()).is_ok() {
                let mut buf = [0u8; 64];
                if let Ok(n) = s.read(&mut buf) {
                    let head = String::from_utf8_lossy(&buf[..n]);
                    let ok = if path == "/healthz" {
                        head.starts_with("HTTP/1.1 200")
                    } else {
                        head.starts_with("HTTP/1.")
                    };
                    if ok {
                        return Ok(());
                    }
                }
            }
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "server not ready after {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}
