//! Where the agent's desired state comes from: it reads the gateway's state
//! through the API and publishes every new [`GatewayState`] on a watch
//! channel, which the agent's loop hands to its parts.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use vpngw_client::Client;

use super::desired::{self, GatewayState};

/// The latest desired state; `None` until the first read.
pub type Desired = Option<Arc<GatewayState>>;

/// Reads the desired state every `interval` through the public API.
pub struct Poller {
    client: Client,
    gateway_id: String,
    interval: Duration,
    cgw_ips: HashMap<String, String>,
    vco_routes: desired::VcoRoutes,
}

impl Poller {
    pub fn new(client: Client, gateway_id: &str, interval: Duration) -> Poller {
        Poller {
            client,
            gateway_id: gateway_id.to_owned(),
            interval,
            cgw_ips: HashMap::new(),
            vco_routes: desired::VcoRoutes::new(),
        }
    }

    /// Runs forever, publishing what changed.
    pub async fn run(mut self, out: watch::Sender<Desired>) {
        loop {
            match desired::fetch(
                &self.client,
                &self.gateway_id,
                &mut self.cgw_ips,
                &mut self.vco_routes,
            )
            .await
            {
                Ok(state) => publish(&out, state),
                // Keep the tunnels as they are until the API answers again.
                Err(e) => {
                    tracing::warn!(error = %e, "reading the desired state failed; keeping the current configuration")
                }
            }
            tokio::time::sleep(self.interval).await;
        }
    }
}

/// Publishes `state` unless it says the same as the current one.
pub fn publish(out: &watch::Sender<Desired>, state: GatewayState) {
    out.send_if_modified(|current| {
        if current.as_deref().is_some_and(|c| c.same_as(&state)) {
            return false;
        }
        *current = Some(Arc::new(state));
        true
    });
}
