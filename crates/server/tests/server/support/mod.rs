//! Black-box harness for `vpngw serve`: the real binary on 127.0.0.1 with its
//! own data directory, killed with SIGKILL when dropped.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::{
    io::{Read, Write},
    net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

pub const KEY_ID: &str = "LTAIservertest000000001";
pub const SECRET: &str = "server-test-secret-0123456789";
pub const REGION: &str = "cn-hangzhou";

pub struct Server {
    pub child: Child,
    pub port: u16,
    pub data_dir: PathBuf,
    args: Vec<String>,
}

/// A child process killed (SIGKILL) and reaped when dropped.
pub struct Proc(pub Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Server {
    /// Starts `vpngw serve` on `data_dir` with `args` and waits for /healthz.
    pub fn start(data_dir: &Path, args: &[&str]) -> Server {
        Server::start_with_env(data_dir, args, &[])
    }

    /// [`Server::start`] with more environment variables (settings an
    /// older build ignores, where a flag would stop it from starting).
    pub fn start_with_env(data_dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Server {
        let port = free_port();
        let mut s = Server {
            child: spawn(data_dir, port, args, env),
            port,
            data_dir: data_dir.to_owned(),
            args: args.iter().map(|a| (*a).to_owned()).collect(),
        };
        s.wait_healthy();
        s
    }

    fn wait_healthy(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                let log =
                    std::fs::read_to_string(self.data_dir.join("stderr.log")).unwrap_or_default();
                panic!("vpngw exited during startup ({status}):\n{log}");
            }
            if let Some((status, _)) =
                self.raw("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                && status == 200
            {
                return;
            }
            assert!(Instant::now() < deadline, "vpngw not healthy after 30 s");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Kills the server with SIGKILL (no shutdown of any kind) and reaps it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Starts the server again on the same data directory and port.
    pub fn restart(&mut self) {
        self.kill();
        let args: Vec<&str> = self.args.iter().map(String::as_str).collect();
        self.child = spawn(&self.data_dir, self.port, &args, &[]);
        self.wait_healthy();
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// A signed client with the root key.
    pub fn client(&self) -> vpngw_client::Client {
        vpngw_client::Client::new(&self.endpoint(), KEY_ID, SECRET, REGION)
            .unwrap()
            .timeout(Duration::from_secs(20))
    }

    /// Sends raw request bytes; the status and body of the answer.
    pub fn raw(&self, request: &str) -> Option<(u16, String)> {
        self.raw_bytes(request.as_bytes())
    }

    pub fn raw_bytes(&self, request: &[u8]) -> Option<(u16, String)> {
        let mut s = TcpStream::connect(SocketAddr::from((Ipv4Addr::LOCALHOST, self.port))).ok()?;
        s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
        // The server may answer (and close) before reading everything.
        let _ = s.write_all(request);
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out);
        let text = String::from_utf8_lossy(&out).into_owned();
        let status = text.get(9..12)?.parse().ok()?;
        let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_owned())?;
        Some((status, body))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The binary under test: this build's, or `VPNGW_BIN` (to show that a test
/// fails on an older build).
fn binary() -> PathBuf {
    std::env::var_os("VPNGW_BIN").map_or_else(|| env!("CARGO_BIN_EXE_vpngw").into(), PathBuf::from)
}

fn spawn(data_dir: &Path, port: u16, args: &[&str], env: &[(&str, &str)]) -> Child {
    std::fs::create_dir_all(data_dir).unwrap();
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(data_dir.join("stderr.log"))
        .unwrap();
    Command::new(binary())
        .arg("serve")
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .arg("--data-dir")
        .arg(data_dir)
        .args(["--gateway-provision-delay-ms", "0", "--log", "warn"])
        .args(args)
        .env("VPNGW_ROOT_ACCESS_KEY_ID", KEY_ID)
        .env("VPNGW_ROOT_ACCESS_KEY_SECRET", SECRET)
        .env_remove("VPNGW_CONFIG")
        .env_remove("VPNGW_MASTER_KEY")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("starting vpngw")
}
