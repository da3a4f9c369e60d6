//! [`SslServer`]: the gateway's OpenVPN server as the agent drives it.

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::Duration;

use super::management::{AdmissionRequest, ConnectedClient, LogLine, Management, ManagementError};
use super::process::{OpenVpn, ProcessError, stop_leftover, write_file};
use super::{ServerFiles, SslRenderError, SslServerDesired, render_server_conf};

/// How long OpenVPN may take to open its management socket.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// Why the server could not be converged or read.
#[derive(Debug, thiserror::Error)]
pub enum SslServerError {
    #[error(transparent)]
    Render(#[from] SslRenderError),
    #[error(transparent)]
    Process(#[from] ProcessError),
    #[error(transparent)]
    Management(#[from] ManagementError),
}

#[derive(Debug)]
struct Running {
    process: OpenVpn,
    management: Management,
    /// What it was started with (without the CRL).
    started: SslServerDesired,
    crl_pem: String,
    /// Clients whose session was ended: OpenVPN tells the client at once
    /// but keeps the instance in its status for a few seconds ("Delayed
    /// exit in 5 seconds"); they are not connected any more.
    ended: HashSet<String>,
}

/// What [`SslServer::apply`] did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct SslApplied {
    /// OpenVPN was (re)started: every client reconnects.
    pub restarted: bool,
    /// OpenVPN was stopped (no SSL server any more).
    pub stopped: bool,
    /// A new CRL was written (no restart).
    pub crl_updated: bool,
    /// Common names whose live sessions were ended (revoked).
    pub disconnected: Vec<String>,
}

/// The OpenVPN server of one gateway: see the module documentation of
/// [`super`].
#[derive(Debug)]
pub struct SslServer {
    binary: PathBuf,
    netns: Option<String>,
    state_dir: PathBuf,
    running: Option<Running>,
    /// Log lines read but not yet taken, including those of a server that
    /// was stopped since.
    log: Vec<LogLine>,
}

impl SslServer {
    /// A server run by `binary` in `netns` (or here), with its files in
    /// `state_dir` (its own directory: not under `/run`, which `ip netns
    /// exec` does not share). Nothing starts before [`Self::apply`].
    pub fn new(binary: impl Into<PathBuf>, netns: Option<String>, state_dir: PathBuf) -> Self {
        SslServer {
            binary: binary.into(),
            netns,
            state_dir,
            running: None,
            log: Vec::new(),
        }
    }

    pub fn state_dir(&self) -> &std::path::Path {
        &self.state_dir
    }

    /// OpenVPN's pid while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.running.as_ref().and_then(|r| r.process.pid())
    }

    /// Converges to `desired` (`None`: no SSL server). A change of the
    /// server's configuration restarts OpenVPN; a new CRL alone is written
    /// in place (OpenVPN reads it at the next handshake); revoked clients
    /// still connected are disconnected either way.
    pub async fn apply(
        &mut self,
        desired: Option<&SslServerDesired>,
    ) -> Result<SslApplied, SslServerError> {
        let mut applied = SslApplied::default();
        let Some(d) = desired else {
            if let Some(mut r) = self.running.take() {
                self.collect_log(&mut r).await;
                r.process.stop();
                applied.stopped = true;
            }
            return Ok(applied);
        };
        let alive = match self.running.as_mut() {
            Some(r) => r.process.is_running() && r.started == d.restart_key(),
            None => false,
        };
        if !alive {
            if let Some(mut r) = self.running.take() {
                self.collect_log(&mut r).await;
                r.process.stop();
            }
            self.running = Some(self.start(d).await?);
            applied.restarted = true;
        }
        let Some(r) = self.running.as_mut() else {
            return Ok(applied);
        };
        if r.crl_pem != d.crl_pem {
            write_file(&ServerFiles(&self.state_dir).crl(), &d.crl_pem, false)?;
            r.crl_pem = d.crl_pem.clone();
            applied.crl_updated = true;
        }
        if !d.revoked.is_empty() {
            let connected = self.clients().await?;
            let r = self.running.as_mut().ok_or(ManagementError::Closed)?;
            for c in connected {
                if d.revoked.contains(&c.common_name)
                    && r.management.disconnect(&c.client_id).await?
                {
                    r.ended.insert(c.client_id);
                    applied.disconnected.push(c.common_name);
                }
            }
        }
        Ok(applied)
    }

    async fn start(&mut self, d: &SslServerDesired) -> Result<Running, SslServerError> {
        let dir = self.state_dir.clone();
        let files = ServerFiles(&dir);
        let conf = render_server_conf(d, &dir)?;
        std::fs::create_dir_all(&dir).map_err(super::process::io_err(format!(
            "creating {}",
            dir.display()
        )))?;
        stop_leftover(&files.pid());
        write_file(&files.ca(), &d.ca_cert_pem, false)?;
        write_file(&files.cert(), &d.server_cert_pem, false)?;
        write_file(&files.key(), d.server_key_pem.expose(), true)?;
        write_file(&files.crl(), &d.crl_pem, false)?;
        write_file(&files.conf(), &conf, false)?;
        let socket = files.management();
        let _ = std::fs::remove_file(&socket);
        let (binary, netns, conf_path, log) = (
            self.binary.clone(),
            self.netns.clone(),
            files.conf(),
            files.log(),
        );
        let process = tokio::task::block_in_place(|| {
            OpenVpn::start(
                &binary,
                netns.as_deref(),
                &conf_path,
                &log,
                START_TIMEOUT,
                || socket.exists(),
            )
        })?;
        let management = Management::connect(&socket).await?;
        Ok(Running {
            process,
            management,
            started: d.restart_key(),
            crl_pem: d.crl_pem.clone(),
            ended: HashSet::new(),
        })
    }

    async fn collect_log(&mut self, r: &mut Running) {
        if let Ok(lines) = r.management.take_log().await {
            self.log.extend(lines);
        }
    }

    /// The clients connected now (none while no server runs). OpenVPN's
    /// status lists a client from its TLS handshake on; one without a pool
    /// address yet (waiting to be admitted, or refused) is not connected.
    pub async fn clients(&mut self) -> Result<Vec<ConnectedClient>, SslServerError> {
        let Some(r) = self.running.as_mut() else {
            return Ok(Vec::new());
        };
        match r.management.clients().await {
            Ok(mut c) => {
                c.retain(|c| !c.virtual_address.is_empty());
                r.ended.retain(|id| c.iter().any(|c| c.client_id == *id));
                c.retain(|c| !r.ended.contains(&c.client_id));
                Ok(c)
            }
            Err(e) => {
                // The process died or hung: the next apply starts it again.
                if let Some(mut r) = self.running.take() {
                    r.process.stop();
                }
                Err(e.into())
            }
        }
    }

    /// Ends one client's session (`client_id` of [`ConnectedClient`]); false
    /// when no such client is connected.
    pub async fn disconnect(&mut self, client_id: &str) -> Result<bool, SslServerError> {
        let Some(r) = self.running.as_mut() else {
            return Ok(false);
        };
        let ended = r.management.disconnect(client_id).await?;
        if ended {
            r.ended.insert(client_id.to_owned());
        }
        Ok(ended)
    }

    /// Returns once a client waits to be admitted (never while no server
    /// runs). Cancel-safe.
    pub async fn admission_waiting(&mut self) -> Result<(), SslServerError> {
        match self.running.as_mut() {
            Some(r) => Ok(r.management.admission_waiting().await?),
            None => std::future::pending().await,
        }
    }

    /// The clients waiting to be admitted (`admission` of the desired
    /// state); each is answered with [`Self::admit`] or [`Self::refuse`].
    pub async fn take_admissions(&mut self) -> Result<Vec<AdmissionRequest>, SslServerError> {
        match self.running.as_mut() {
            Some(r) => Ok(r.management.take_admissions().await?),
            None => Ok(Vec::new()),
        }
    }

    pub async fn admit(&mut self, request: &AdmissionRequest) -> Result<(), SslServerError> {
        if let Some(r) = self.running.as_mut() {
            r.management.admit(request).await?;
        }
        Ok(())
    }

    /// Refuses a waiting client with `reason` (in OpenVPN's log and the
    /// client's `AUTH_FAILED`).
    pub async fn refuse(
        &mut self,
        request: &AdmissionRequest,
        reason: &str,
    ) -> Result<(), SslServerError> {
        if let Some(r) = self.running.as_mut() {
            r.management.refuse(request, reason).await?;
        }
        Ok(())
    }

    /// The server's log lines since the last call.
    pub async fn take_log(&mut self) -> Vec<LogLine> {
        if let Some(mut r) = self.running.take() {
            self.collect_log(&mut r).await;
            self.running = Some(r);
        }
        std::mem::take(&mut self.log)
    }

    /// Stops OpenVPN.
    pub fn stop(&mut self) {
        if let Some(mut r) = self.running.take() {
            r.process.stop();
        }
    }
}
