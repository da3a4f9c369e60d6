//! The agent drives a gateway's data plane as a set of parts: one per
//! component (charon's IPsec connections today; an OpenVPN server for
//! SSL-VPN, a BGP daemon, charon's IPsec server as they join). Each part
//! takes its own section of the desired state ([`GatewayState`]) and adds
//! its own section to the report ([`DataplaneReport`]); the agent's loop
//! (`agent/mod.rs`) hands every new desired state to every part, wakes a
//! part when it has work, and forwards what it measured to the reporter
//! (`agent/report.rs`), which sends only what changed.
//!
//! A new component is one type implementing [`Part`], listed in
//! `agent::run`, plus its sections in `GatewayState` (desired.rs, filled by
//! the reads in source.rs) and in `DataplaneReport` (model/src/dataplane.rs,
//! merged by report.rs).

use std::sync::Arc;

use async_trait::async_trait;
use vpngw_model::dataplane::DataplaneReport;

use super::desired::GatewayState;

/// One data-plane component the agent keeps in step with the control plane.
#[async_trait(?Send)]
pub trait Part {
    /// For logs (`ipsec`, `openvpn`, `bgp`, …).
    fn name(&self) -> &'static str;

    /// The desired state changed: converge to it, loading only what changed
    /// since the last call. Problems go into the next [`Part::step`]'s
    /// report; a failed call is retried by the part itself (on its next
    /// step), not by the loop.
    async fn apply(&mut self, desired: &Arc<GatewayState>);

    /// Resolves when the part has work: an event from its daemon, or a timer
    /// of its own (a retry, a probe, a periodic check). Must be cancel-safe:
    /// the loop drops it when the desired state changes first.
    async fn wait(&mut self);

    /// Does what is due (measure what changed, retry, probe) and adds what
    /// it measured to `out`. The reporter sends only what differs from what
    /// the control plane already accepted, so a part may repeat itself.
    async fn step(&mut self, out: &mut DataplaneReport);
}
