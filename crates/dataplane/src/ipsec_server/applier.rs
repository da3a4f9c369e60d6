//! [`IpsecServerApplier`]: converges one charon to the desired IPsec server,
//! over the vici connection the tunnels' [`crate::Applier`] uses (which
//! leaves `iss-…` connections and keys alone).

use std::collections::BTreeSet;

use super::{OnlineClient, RenderedServer, is_server_name, online_clients, render_ipsec_server};
use crate::render::{RenderOptions, TunnelErrorKind};
use crate::vici::{Vici, ViciError};

/// What one [`IpsecServerApplier::apply`] did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ServerApplied {
    /// The server (re)loaded: new, or its settings changed.
    pub loaded: Option<String>,
    /// A server removed (deleted, or replaced by another id), its sessions
    /// ended.
    pub removed: Vec<String>,
    /// The sessions negotiated with the old settings were ended
    /// (`EffectImmediately`, or a new pool).
    pub sessions_ended: bool,
    /// Why the desired server is not loaded (it cannot be rendered, or
    /// charon refused it). Nothing of it runs then.
    pub error: Option<TunnelErrorKind>,
}

impl ServerApplied {
    /// True when nothing changed on the gateway.
    pub fn is_noop(&self) -> bool {
        self.loaded.is_none() && self.removed.is_empty() && self.error.is_none()
    }
}

/// The IPsec server part of one charon. It remembers what it loaded; on its
/// first apply it also removes servers it finds in charon but not in the
/// desired state (after an agent restart).
#[derive(Debug, Default)]
pub struct IpsecServerApplier {
    applied: Option<RenderedServer>,
    /// Pools of old settings or removed servers: charon unloads a pool only
    /// once its leases are gone, so they are retried on every apply.
    stale_pools: BTreeSet<String>,
    synced: bool,
}

/// The id of a server's key in charon (as [`super::render_ipsec_server`]
/// names it).
pub(super) fn secret_id(server_id: &str) -> String {
    format!("ike-{server_id}")
}

/// charon's refusal of a command as a problem of the server; transport
/// errors stay errors.
fn refusal(
    command: &'static str,
    r: Result<(), ViciError>,
) -> Result<Option<TunnelErrorKind>, ViciError> {
    match r {
        Ok(()) => Ok(None),
        Err(e @ ViciError::Failed { .. }) => Ok(Some(TunnelErrorKind::Rejected {
            command,
            message: e.to_string(),
        })),
        Err(e) => Err(e),
    }
}

impl IpsecServerApplier {
    /// charon restarted or the connection was replaced: what it holds is
    /// unknown again, so the next apply re-syncs and reloads.
    pub fn reset(&mut self) {
        self.applied = None;
        self.stale_pools.clear();
        self.synced = false;
    }

    /// The server loaded now.
    pub fn loaded(&self) -> Option<&str> {
        self.applied.as_ref().map(|r| r.server_id.as_str())
    }

    async fn remove(
        &mut self,
        vici: &Vici,
        name: &str,
        pool: Option<String>,
    ) -> Result<(), ViciError> {
        match vici.unload_conn(name).await {
            Ok(()) | Err(ViciError::Failed { .. }) => {}
            Err(e) => return Err(e),
        }
        // The key goes before the sessions: charon verifies a client's PSK
        // against every key that matches the gateway's identity, so a key
        // left behind would let clients of the old server into the next one.
        match vici.unload_shared(&secret_id(name)).await {
            Ok(()) | Err(ViciError::Failed { .. }) => {}
            Err(e) => return Err(e),
        }
        // The clients get a DELETE; their leases go offline.
        vici.terminate(name).await?;
        self.stale_pools.extend(pool);
        Ok(())
    }

    /// Converges charon to `desired` (`None`: no IPsec server), rendered
    /// with the tunnels' `options` (what this charon can negotiate). Transport
    /// errors abort (the caller retries); a server that cannot be rendered
    /// or that charon refuses is in [`ServerApplied::error`], and an older
    /// version of it does not keep running.
    pub async fn apply(
        &mut self,
        vici: &Vici,
        options: &RenderOptions,
        desired: Option<&super::IpsecServerDesired>,
    ) -> Result<ServerApplied, ViciError> {
        let r = self.converge(vici, options, desired).await;
        if r.is_err() {
            // Interrupted half way (a timeout, charon gone): what charon
            // holds is unknown, so the next apply syncs from charon again
            // instead of trusting what this one meant to do.
            self.reset();
        }
        r
    }

    async fn converge(
        &mut self,
        vici: &Vici,
        options: &RenderOptions,
        desired: Option<&super::IpsecServerDesired>,
    ) -> Result<ServerApplied, ViciError> {
        let mut report = ServerApplied::default();
        let wanted = match desired.map(|d| render_ipsec_server(d, options)) {
            None => None,
            Some(Ok(r)) => Some(r),
            Some(Err(e)) => {
                report.error = Some(TunnelErrorKind::Render(e));
                None
            }
        };
        let wanted_name = wanted.as_ref().map(|w| w.server_id.clone());
        if !self.synced {
            for name in vici.get_conns().await? {
                if is_server_name(&name) && Some(&name) != wanted_name.as_ref() {
                    self.remove(vici, &name, None).await?;
                    report.removed.push(name);
                }
            }
            // A key can outlive its connection (an apply interrupted
            // between the two): any server key but the wanted one goes.
            for id in vici.get_shared().await? {
                let stale = id
                    .strip_prefix("ike-")
                    .is_some_and(|n| is_server_name(n) && Some(n) != wanted_name.as_deref());
                if stale {
                    match vici.unload_shared(&id).await {
                        Ok(()) | Err(ViciError::Failed { .. }) => {}
                        Err(e) => return Err(e),
                    }
                }
            }
            for pool in vici.get_pools().await? {
                if is_server_name(&pool) {
                    self.stale_pools.insert(pool);
                }
            }
            self.synced = true;
        }

        let old = self.applied.take();
        match (old, wanted) {
            (Some(old), None) => {
                self.remove(vici, &old.server_id, Some(old.pool_name))
                    .await?;
                report.removed.push(old.server_id);
            }
            (None, None) => {}
            (Some(old), Some(new)) if old == new => self.applied = Some(old),
            (old, Some(new)) => {
                let mut old = old;
                if let Some(o) = old.take_if(|o| o.server_id != new.server_id) {
                    self.remove(vici, &o.server_id, Some(o.pool_name)).await?;
                    report.removed.push(o.server_id);
                }
                self.load(vici, new, old, &mut report).await?;
            }
        }

        let in_use = self.applied.as_ref().map(|a| a.pool_name.clone());
        let stale: Vec<String> = self.stale_pools.iter().cloned().collect();
        for pool in stale {
            if Some(&pool) == in_use.as_ref() {
                self.stale_pools.remove(&pool);
                continue;
            }
            match vici.unload_pool(&pool).await {
                Ok(()) => {
                    self.stale_pools.remove(&pool);
                }
                // Still has online leases, or already gone.
                Err(ViciError::Failed { message, .. }) => {
                    if !message.contains("online leases") {
                        self.stale_pools.remove(&pool);
                    }
                }
                Err(e) => return Err(e),
            }
        }
        Ok(report)
    }

    /// Loads `new` (the same server's `old` settings are replaced).
    async fn load(
        &mut self,
        vici: &Vici,
        new: RenderedServer,
        old: Option<RenderedServer>,
        report: &mut ServerApplied,
    ) -> Result<(), ViciError> {
        let name = new.server_id.clone();
        let new_pool = old.as_ref().is_none_or(|o| o.pool_name != new.pool_name);
        if let Some(kind) = Self::push(vici, &new, new_pool).await? {
            report.error = Some(kind);
            // Do not leave an older version running.
            if let Some(o) = old {
                self.remove(vici, &name, Some(o.pool_name)).await?;
                report.removed.push(name);
            }
            self.stale_pools.insert(new.pool_name);
            return Ok(());
        }
        if let Some(o) = old {
            if new_pool || new.effect_immediately {
                // Clients with addresses of the old pool cannot stay; with
                // EffectImmediately nobody keeps the old settings.
                vici.terminate(&name).await?;
                report.sessions_ended = true;
            }
            if new_pool {
                self.stale_pools.insert(o.pool_name);
            }
        }
        report.loaded = Some(name);
        self.applied = Some(new);
        Ok(())
    }

    /// Key, pool (when new) and connection of `new`; the first refusal.
    async fn push(
        vici: &Vici,
        new: &RenderedServer,
        new_pool: bool,
    ) -> Result<Option<TunnelErrorKind>, ViciError> {
        if let Some(r) = refusal("load-shared", vici.load_shared(&new.secret).await)? {
            return Ok(Some(r));
        }
        if new_pool
            && let Some(r) = refusal("load-pool", vici.load_pool(&new.pool_name, &new.pool).await)?
        {
            return Ok(Some(r));
        }
        refusal(
            "load-conn",
            vici.load_conn_section(&new.conn_message()).await,
        )
    }

    /// The clients connected to the loaded server.
    pub async fn clients(&self, vici: &Vici) -> Result<Vec<OnlineClient>, ViciError> {
        let Some(server) = &self.applied else {
            return Ok(Vec::new());
        };
        let sas = vici.list_sas().await?;
        Ok(online_clients(&server.server_id, &sas))
    }

    /// Ends one client's session.
    pub async fn disconnect(&self, vici: &Vici, ike_sa: u64) -> Result<(), ViciError> {
        vici.terminate_ike_sa(ike_sa).await
    }
}
