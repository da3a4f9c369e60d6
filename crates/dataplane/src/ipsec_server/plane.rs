//! [`ServerPlane`]: the IPsec server's side of a gateway's data plane, as
//! the agent's IPsec server part drives it, beside (not through) the
//! tunnels' [`crate::Dataplane`]:
//!
//! - [`CharonServer`]: the gateway's charon, reached over its own vici
//!   connection and event subscription (the tunnels' backend starts and
//!   restarts charon; this side reconnects and reloads after a restart);
//! - [`SimulatedServer`]: configured, and nobody connects.

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use super::{
    IpsecServerApplier, IpsecServerDesired, OnlineClient, RenderedServer, ServerApplied,
    is_server_name, render_ipsec_server,
};
use crate::backend::BackendError;
use crate::render::{RenderOptions, TunnelErrorKind};
use crate::status::{DataplaneEvent, EventKind};
use crate::vici::{EventSubscription, Vici, ViciError};

/// The IPsec server's side of the data plane.
#[allow(async_fn_in_trait)]
pub trait ServerPlane {
    /// Converge to `desired` (`None`: no IPsec server).
    async fn apply(
        &mut self,
        desired: Option<&IpsecServerDesired>,
    ) -> Result<ServerApplied, BackendError>;

    /// The clients connected now.
    async fn clients(&mut self) -> Result<Vec<OnlineClient>, BackendError>;

    /// Ends one client's session ([`OnlineClient::ike_sa`]).
    async fn disconnect(&mut self, ike_sa: u64) -> Result<(), BackendError>;

    /// The server's log events since the last call.
    fn take_events(&mut self) -> Vec<DataplaneEvent>;

    /// Waits until an event of the server arrives (true) or `timeout`
    /// passes (false). Cancel-safe.
    async fn wait_event(&mut self, timeout: Duration) -> bool;
}

/// The IPsec server on the gateway's charon, over `socket`.
#[derive(Debug)]
pub struct CharonServer {
    socket: PathBuf,
    options: RenderOptions,
    max_log_level: i64,
    vici: Option<Vici>,
    events: Option<EventSubscription>,
    applier: IpsecServerApplier,
    pending: Vec<DataplaneEvent>,
}

impl CharonServer {
    /// The server on the charon listening on `socket`, rendered with
    /// `options` (those of the gateway's tunnels: what this charon can
    /// negotiate); log lines up to `max_log_level` become events. Nothing
    /// connects before the first call.
    pub fn new(socket: impl Into<PathBuf>, options: RenderOptions, max_log_level: i64) -> Self {
        CharonServer {
            socket: socket.into(),
            options,
            max_log_level,
            vici: None,
            events: None,
            applier: IpsecServerApplier::default(),
            pending: Vec::new(),
        }
    }

    /// A vici connection and an event subscription, (re)made as needed.
    /// After a reconnection charon's state is unknown: the applier re-syncs.
    async fn ensure_connected(&mut self) -> Result<(), ViciError> {
        if self.vici.as_ref().is_none_or(|v| !v.is_alive()) {
            self.vici = None;
            self.events = None;
            self.applier.reset();
            let vici = Vici::connect(&self.socket).await?;
            self.events = Some(Vici::subscribe_events(&self.socket, self.max_log_level).await?);
            self.vici = Some(vici);
        }
        Ok(())
    }

    /// Drops the connection after charon went away (the next call
    /// reconnects, once the tunnels' backend has restarted charon).
    fn checked<T>(&mut self, r: Result<T, ViciError>) -> Result<T, BackendError> {
        if matches!(r, Err(ViciError::Closed) | Err(ViciError::Connect { .. })) {
            self.vici = None;
        }
        r.map_err(BackendError::from)
    }
}

impl ServerPlane for CharonServer {
    async fn apply(
        &mut self,
        desired: Option<&IpsecServerDesired>,
    ) -> Result<ServerApplied, BackendError> {
        let r = async {
            self.ensure_connected().await?;
            let vici = self.vici.as_ref().ok_or(ViciError::Closed)?;
            self.applier.apply(vici, &self.options, desired).await
        }
        .await;
        self.checked(r)
    }

    async fn clients(&mut self) -> Result<Vec<OnlineClient>, BackendError> {
        let r = async {
            self.ensure_connected().await?;
            let vici = self.vici.as_ref().ok_or(ViciError::Closed)?;
            self.applier.clients(vici).await
        }
        .await;
        self.checked(r)
    }

    async fn disconnect(&mut self, ike_sa: u64) -> Result<(), BackendError> {
        let r = async {
            self.ensure_connected().await?;
            let vici = self.vici.as_ref().ok_or(ViciError::Closed)?;
            vici.terminate_ike_sa(ike_sa).await
        }
        .await;
        self.checked(r)
    }

    fn take_events(&mut self) -> Vec<DataplaneEvent> {
        let mut out = std::mem::take(&mut self.pending);
        if let Some(sub) = self.events.as_mut() {
            out.extend(sub.drain().into_iter().filter(of_a_server));
        }
        out
    }

    async fn wait_event(&mut self, timeout: Duration) -> bool {
        let Some(sub) = self.events.as_mut() else {
            tokio::time::sleep(timeout).await;
            return false;
        };
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            match tokio::time::timeout_at(deadline, sub.next()).await {
                Ok(Some(e)) if of_a_server(&e) => {
                    self.pending.push(e);
                    return true;
                }
                // The tunnels' events are the tunnels' part's.
                Ok(Some(_)) => {}
                // charon went away: the next call reconnects.
                Ok(None) => {
                    self.events = None;
                    self.vici = None;
                    return true;
                }
                Err(_) => return false,
            }
        }
    }
}

fn of_a_server(e: &DataplaneEvent) -> bool {
    e.tunnel_id.as_deref().is_some_and(is_server_name)
}

/// A simulated IPsec server: configured, nobody connects (no root, no
/// network; the agent's `--backend simulated`).
#[derive(Debug, Default)]
pub struct SimulatedServer {
    options: RenderOptions,
    loaded: Option<RenderedServer>,
    events: Vec<DataplaneEvent>,
}

impl SimulatedServer {
    pub fn new(options: RenderOptions) -> Self {
        SimulatedServer {
            options,
            ..Self::default()
        }
    }

    fn log(&mut self, server: &str, message: String) {
        self.events.push(DataplaneEvent {
            at: SystemTime::now(),
            tunnel_id: Some(server.to_owned()),
            kind: EventKind::Log,
            group: Some("CFG".into()),
            message,
        });
    }
}

impl ServerPlane for SimulatedServer {
    async fn apply(
        &mut self,
        desired: Option<&IpsecServerDesired>,
    ) -> Result<ServerApplied, BackendError> {
        let mut applied = ServerApplied::default();
        let wanted = match desired.map(|d| (d, render_ipsec_server(d, &self.options))) {
            Some((_, Ok(r))) => Some(r),
            Some((d, Err(e))) => {
                self.log(&d.server_id, e.to_string());
                applied.error = Some(TunnelErrorKind::Render(e));
                None
            }
            None => None,
        };
        if self.loaded == wanted {
            return Ok(applied);
        }
        if let Some(old) = self.loaded.take() {
            let line = format!(
                "IPsec server {} removed from the simulated data plane",
                old.server_id
            );
            self.log(&old.server_id, line);
            applied.removed.push(old.server_id);
        }
        if let Some(new) = wanted {
            let line = format!(
                "IPsec server {} configured on the simulated data plane: no client can connect without a real gateway",
                new.server_id
            );
            self.log(&new.server_id, line);
            applied.loaded = Some(new.server_id.clone());
            self.loaded = Some(new);
        }
        Ok(applied)
    }

    async fn clients(&mut self) -> Result<Vec<OnlineClient>, BackendError> {
        Ok(Vec::new())
    }

    async fn disconnect(&mut self, _ike_sa: u64) -> Result<(), BackendError> {
        Ok(())
    }

    fn take_events(&mut self) -> Vec<DataplaneEvent> {
        std::mem::take(&mut self.events)
    }

    async fn wait_event(&mut self, timeout: Duration) -> bool {
        tokio::time::sleep(timeout).await;
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn simulated_server_has_no_clients_and_says_so() {
        let mut s = SimulatedServer::new(RenderOptions::default());
        let mut d = crate::ipsec_server::tests::desired();
        let applied = s.apply(Some(&d)).await.expect("apply");
        assert_eq!(applied.loaded.as_deref(), Some("iss-1"));
        assert!(s.apply(Some(&d)).await.expect("again").is_noop());
        assert!(s.clients().await.expect("clients").is_empty());
        let ev = s.take_events();
        assert_eq!(ev.len(), 1);
        assert_eq!(ev[0].tunnel_id.as_deref(), Some("iss-1"));
        assert!(ev[0].message.contains("no client can connect"), "{ev:?}");

        // sm4 cannot run: the old server goes, with the reason.
        d.ike.enc_alg = "sm4".into();
        let applied = s.apply(Some(&d)).await.expect("sm4");
        assert_eq!(applied.removed, ["iss-1"]);
        assert!(applied.error.is_some());
        let ev = s.take_events();
        assert!(ev.iter().any(|e| e.message.contains("sm4")), "{ev:?}");
        let applied = s.apply(None).await.expect("none");
        assert!(applied.removed.is_empty() && applied.error.is_none());
    }
}
