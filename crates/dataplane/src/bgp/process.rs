//! The `bird` process of a gateway, in its network namespace.
//!
//! It runs in the foreground as our child (`ip netns exec <ns> bird -f -c
//! <conf> -s <socket> -P <pid file>`), so its pid is ours to stop; the pid
//! file lets a new agent stop a crashed one's leftover first. BIRD needs
//! nothing under `/run` when its control socket is given.

use std::fs;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::charon::{pid_alive, terminate_child, terminate_pid};

/// Where one `bird` keeps its files, and how to run it.
#[derive(Clone, Debug)]
pub struct BirdConfig {
    /// Directory for `bird.conf`, the control socket, the pid file and the
    /// log (not under `/run`).
    pub state_dir: PathBuf,
    /// Network namespace to run in; `None` runs in the current one.
    pub netns: Option<String>,
    /// The `bird` binary.
    pub bird_bin: PathBuf,
    /// How long to wait for the control socket.
    pub start_timeout: Duration,
}

impl BirdConfig {
    pub fn new(state_dir: impl Into<PathBuf>, netns: Option<String>) -> BirdConfig {
        BirdConfig {
            state_dir: state_dir.into(),
            netns,
            bird_bin: PathBuf::from(super::DEFAULT_BIRD),
            start_timeout: Duration::from_secs(10),
        }
    }

    pub fn conf_path(&self) -> PathBuf {
        self.state_dir.join("bird.conf")
    }

    pub fn socket_path(&self) -> PathBuf {
        self.state_dir.join("bird.ctl")
    }

    pub fn pid_path(&self) -> PathBuf {
        self.state_dir.join("bird.pid")
    }

    pub fn log_path(&self) -> PathBuf {
        self.state_dir.join("bird.log")
    }
}

/// Starting `bird` failed.
#[derive(Debug, thiserror::Error)]
pub enum BirdError {
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    #[error("bird exited during startup ({status}): {output}")]
    Exited { status: String, output: String },
    #[error("bird's control socket {0} did not come up in time")]
    Timeout(PathBuf),
}

fn io_err(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> BirdError {
    let context = context.into();
    move |source| BirdError::Io { context, source }
}

/// Stops the `bird` whose pid is in `pid_file` (a crashed run's leftover),
/// if that process is still a bird.
pub fn stop_leftover(pid_file: &Path) {
    let Some(pid) = fs::read_to_string(pid_file)
        .ok()
        .and_then(|t| t.trim().parse::<i32>().ok())
    else {
        return;
    };
    let is_bird = fs::read_to_string(format!("/proc/{pid}/cmdline"))
        .map(|c| c.split('\0').next().is_some_and(|b| b.ends_with("bird")))
        .unwrap_or(false);
    if pid_alive(pid) && is_bird {
        terminate_pid(pid, Duration::from_secs(3));
    }
    let _ = fs::remove_file(pid_file);
}

/// A running `bird`. Dropping it stops it (SIGTERM: BIRD closes its
/// sessions with a Cease notification; then SIGKILL).
#[derive(Debug)]
pub struct Bird {
    config: BirdConfig,
    child: Option<Child>,
}

impl Bird {
    /// Starts `bird` on the configuration already written at
    /// [`BirdConfig::conf_path`] and waits for its control socket.
    pub fn start(config: BirdConfig) -> Result<Bird, BirdError> {
        stop_leftover(&config.pid_path());
        let socket = config.socket_path();
        let _ = fs::remove_file(&socket);
        let out_path = config.state_dir.join("bird.out");
        let out = fs::File::create(&out_path)
            .map_err(io_err(format!("creating {}", out_path.display())))?;
        let err = out.try_clone().map_err(io_err("duplicating a handle"))?;
        let mut cmd = match &config.netns {
            Some(ns) => {
                let mut c = Command::new("ip");
                c.args(["netns", "exec", ns]).arg(&config.bird_bin);
                c
            }
            None => Command::new(&config.bird_bin),
        };
        cmd.arg("-f")
            .arg("-c")
            .arg(config.conf_path())
            .arg("-s")
            .arg(&socket)
            .arg("-P")
            .arg(config.pid_path())
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err);
        let child = cmd.spawn().map_err(io_err("spawning bird"))?;
        let mut bird = Bird {
            config,
            child: Some(child),
        };
        let deadline = Instant::now() + bird.config.start_timeout;
        loop {
            if socket.exists() && UnixStream::connect(&socket).is_ok() {
                return Ok(bird);
            }
            if let Some(status) = bird
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                bird.child = None;
                return Err(BirdError::Exited {
                    status: status.to_string(),
                    output: fs::read_to_string(&out_path).unwrap_or_default(),
                });
            }
            if Instant::now() > deadline {
                bird.stop();
                return Err(BirdError::Timeout(socket));
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    pub fn config(&self) -> &BirdConfig {
        &self.config
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    pub fn is_running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }

    /// SIGTERM, then SIGKILL after 3 s. Idempotent.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            terminate_child(&mut child, Duration::from_secs(3));
        }
        let _ = fs::remove_file(self.config.socket_path());
        let _ = fs::remove_file(self.config.pid_path());
    }
}

impl Drop for Bird {
    fn drop(&mut self) {
        self.stop();
    }
}
