//! vpngw's own product (`Version` [`Product::Vpngw`]): operations the cloud
//! does not have, used by vpngw's components: the data plane agent's
//! `WatchGatewayState` (its desired state, pushed) and
//! `ReportDataplaneState` (what it measured), and `ResetState` of the local
//! mode.
//!
//! Signed and authenticated like every other call; the RAM action is
//! `vpngw:<Action>`.
//!
//! [`Product::Vpngw`]: crate::actions::Product::Vpngw

mod events;
mod learned;
mod report;
mod reset;
pub mod watch;

use crate::actions::ActionDef;

/// vpngw's operations.
pub(crate) static OPERATIONS: &[ActionDef] = crate::operations! {
    vpngw;
    ReportDataplaneState => report::report,
    ResetState => reset::reset,
    WatchGatewayState => untyped(watch::watch),
    // The gateway's key, CA and CRL for the agent that runs its OpenVPN
    // (on the SSL server's ARN).
    DescribeSslVpnServerPki => crate::vpc::ssl_vpn::online::describe_pki,
};
