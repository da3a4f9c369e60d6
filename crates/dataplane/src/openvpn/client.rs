//! A stock `openvpn` client in a network namespace, configured only from
//! what the API hands out: `ClientConfig` (which names `ca.crt`,
//! `client.crt` and `client.key`) and the three PEMs, written side by side
//! into the client's directory. Labs and tests use it; nothing is added to
//! the configuration except where to log.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::process::{OpenVpn, ProcessError, io_err, write_file};
use crate::model::Secret;

/// The line a client logs once its tunnel is up and routes are set.
pub const CONNECTED: &str = "Initialization Sequence Completed";

/// What DescribeSslVpnClientCert returns, as a client needs it.
#[derive(Clone, Debug)]
pub struct ClientFiles {
    pub client_config: String,
    pub ca_cert: String,
    pub client_cert: String,
    pub client_key: Secret,
}

/// A running client.
#[derive(Debug)]
pub struct SslClient {
    dir: PathBuf,
    process: OpenVpn,
}

impl SslClient {
    /// Writes the files into `dir` and starts the client in `netns`. With
    /// `wait_connected`, returns once the client logged [`CONNECTED`]
    /// (error after `timeout`); otherwise once it started.
    pub fn start(
        binary: &Path,
        netns: &str,
        dir: &Path,
        files: &ClientFiles,
        wait_connected: bool,
        timeout: Duration,
    ) -> Result<SslClient, ProcessError> {
        std::fs::create_dir_all(dir).map_err(io_err(format!("creating {}", dir.display())))?;
        write_file(&dir.join("ca.crt"), &files.ca_cert, false)?;
        write_file(&dir.join("client.crt"), &files.client_cert, false)?;
        write_file(&dir.join("client.key"), files.client_key.expose(), true)?;
        // Relative file names in ClientConfig resolve against `cd`; the log
        // goes to a file we can read. Both on the command line, so the
        // configuration stays the API's.
        let wrapper = format!("cd {}\nconfig client.ovpn\nlog client.log\n", dir.display());
        write_file(&dir.join("client.ovpn"), &files.client_config, false)?;
        write_file(&dir.join("run.conf"), &wrapper, false)?;
        let log = dir.join("client.log");
        let _ = std::fs::remove_file(&log);
        let log_for_ready = log.clone();
        let process = OpenVpn::start(
            binary,
            Some(netns),
            &dir.join("run.conf"),
            &log,
            timeout,
            || {
                !wait_connected
                    || std::fs::read_to_string(&log_for_ready).is_ok_and(|t| t.contains(CONNECTED))
            },
        )?;
        Ok(SslClient {
            dir: dir.to_path_buf(),
            process,
        })
    }

    /// Its log so far.
    pub fn log(&self) -> String {
        self.process.read_log()
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn is_running(&mut self) -> bool {
        self.process.is_running()
    }

    /// Waits until its log contains `text` (true) or `timeout` passes.
    pub fn wait_log(&self, text: &str, timeout: Duration) -> bool {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            if self.log().contains(text) {
                return true;
            }
            if std::time::Instant::now() > deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn stop(&mut self) {
        self.process.stop();
    }
}
