//! The revision of each VPN gateway's desired state, for agents that watch
//! it (`WatchGatewayState`).
//!
//! Every write of a record that belongs to a gateway ([`Kind::gateway_bond`]
//! says how each kind does) moves that gateway's revision by one, in the
//! write's own transaction, and records which records changed at that
//! revision. An agent states the revision it has and reads only what
//! changed after it ([`crate::Store::gateway_changes`]). Writes of what the
//! data plane measured ([`crate::Store::record_measurements`]) do not move
//! it: a measurement is not desired state.
//!
//! Waiting is [`GatewayFeed`]: a store wakes the subscribers of a gateway
//! once a write that moved its revision has committed (SQLite: the writer
//! thread after its COMMIT; PostgreSQL: `NOTIFY` in the transaction,
//! delivered to every replica's `LISTEN` connection on commit). A wake-up
//! says "read the revision again", never what changed, so a spurious one
//! costs a read and a lost one (a replica's listener reconnecting) is made
//! good by waking everyone.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

use crate::Kind;

/// How many changes per gateway are kept for incremental reads; an agent
/// further behind reads the whole desired state.
pub const KEPT_CHANGES: i64 = 4096;

/// How a kind belongs to a VPN gateway's desired state. One place for the
/// rule: a kind that joins the data plane says here how it belongs, and
/// every write of it moves the right gateway's revision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GatewayBond {
    /// Not part of any gateway's data plane.
    None,
    /// The gateway itself.
    Gateway,
    /// Belongs to the gateway its parent chain leads to (a connection's
    /// parent is its gateway; a connection route's parent its connection).
    Parent,
    /// Shared between gateways: belongs to the gateways of the records that
    /// link to it (a customer gateway, to those of its connections; a VPC,
    /// to the gateways placed in it).
    Linked,
}

impl Kind {
    /// See [`GatewayBond`].
    pub fn gateway_bond(self) -> GatewayBond {
        match self {
            Kind::VpnGateway => GatewayBond::Gateway,
            Kind::VpnConnection
            | Kind::VcoRoute
            | Kind::VpnRoute
            | Kind::VpnPbrRoute
            | Kind::SslVpnServer
            | Kind::SslVpnClientCert
            | Kind::IpsecServer => GatewayBond::Parent,
            // A VPC's vSwitch blocks are what its gateways announce over
            // BGP (the VPC's document keeps them, so a vSwitch created or
            // deleted writes it).
            Kind::CustomerGateway | Kind::Vpc => GatewayBond::Linked,
            // CEN's resources configure no VPN gateway (an attached
            // connection has none).
            Kind::VpnDiagnosis
            | Kind::VSwitch
            | Kind::CenInstance
            | Kind::TransitRouter
            | Kind::TransitRouterAttachment => GatewayBond::None,
        }
    }
}

/// What changed in a gateway's desired state after a revision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayChanges {
    /// The gateway's revision now (0: nothing was ever written for it).
    pub revision: i64,
    /// The records written after the revision asked about (each once, with
    /// its kind; a record may since have been deleted), or `None` when they
    /// are not known: the revision asked about is older than the changes
    /// kept, or newer than the gateway's (a database restored from an older
    /// backup). Then everything must be read.
    pub changed: Option<Vec<(Kind, String)>>,
}

/// Wakes those waiting for a gateway's revision to move. See the module
/// documentation.
#[derive(Debug, Default)]
pub struct GatewayFeed {
    waiting: Mutex<HashMap<String, Arc<Notify>>>,
}

/// A subscription to one gateway's changes; dropping it unsubscribes.
#[derive(Debug)]
pub struct Subscription<'a> {
    feed: &'a GatewayFeed,
    gateway_id: String,
    notify: Arc<Notify>,
}

impl GatewayFeed {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Notify>>> {
        self.waiting
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Subscribes to `gateway_id`. Create the wait
    /// ([`Subscription::notify`]`.notified()`, enabled) before reading the
    /// revision, so that a write committing in between is not missed.
    pub fn subscribe(&self, gateway_id: &str) -> Subscription<'_> {
        let notify = self
            .lock()
            .entry(gateway_id.to_owned())
            .or_default()
            .clone();
        Subscription {
            feed: self,
            gateway_id: gateway_id.to_owned(),
            notify,
        }
    }

    /// A write that moved `gateway_id`'s revision has committed.
    pub fn notify(&self, gateway_id: &str) {
        if let Some(n) = self.lock().get(gateway_id) {
            n.notify_waiters();
        }
    }

    /// Anything may have changed (changes may have been missed): everyone
    /// reads again.
    pub fn notify_all(&self) {
        for n in self.lock().values() {
            n.notify_waiters();
        }
    }

    /// How many gateways are waited for (for tests).
    pub fn subscribed(&self) -> usize {
        self.lock().len()
    }
}

impl Subscription<'_> {
    /// What to wait on.
    pub fn notify(&self) -> &Notify {
        &self.notify
    }
}

impl Drop for Subscription<'_> {
    fn drop(&mut self) {
        let mut waiting = self.feed.lock();
        // Two references: the map's and this one's. Then nobody else waits.
        if Arc::strong_count(&self.notify) <= 2 {
            waiting.remove(&self.gateway_id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn wakes_subscribers_of_the_gateway_only() {
        let feed = GatewayFeed::default();
        let a = feed.subscribe("vpn-a");
        let b = feed.subscribe("vpn-b");
        {
            let wait_a = a.notify().notified();
            let wait_b = b.notify().notified();
            tokio::pin!(wait_a, wait_b);
            wait_a.as_mut().enable();
            wait_b.as_mut().enable();
            feed.notify("vpn-a");
            tokio::time::timeout(std::time::Duration::from_secs(1), wait_a)
                .await
                .expect("woken");
            assert!(
                tokio::time::timeout(std::time::Duration::from_millis(50), &mut wait_b)
                    .await
                    .is_err()
            );
            feed.notify_all();
            tokio::time::timeout(std::time::Duration::from_secs(1), wait_b)
                .await
                .expect("woken by notify_all");
        }
        drop(a);
        assert_eq!(feed.subscribed(), 1);
        drop(b);
        assert_eq!(feed.subscribed(), 0);
    }
}
