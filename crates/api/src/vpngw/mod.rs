//! vpngw's own product (`Version` [`Product::Vpngw`]): operations the cloud
//! does not have, used by vpngw's components: the data plane agent's
//! `WatchGatewayState` (its desired state, pushed) and
//! `ReportDataplaneState` (what it measured), and `ResetState` of the local
//! mode.
//!
//! Signed and authenticated like every other call; the RAM action is
//! `vpngw:<Action>`.

mod events;
mod learned;
mod report;
mod reset;
pub mod watch;

use crate::actions::{ActionDef, Product};

pub(crate) static ACTIONS: &[ActionDef] = &[
    ActionDef {
        product: Product::Vpngw,
        name: "ReportDataplaneState",
        ram_action: "vpngw:ReportDataplaneState",
        handler: crate::handler!(report::report),
    },
    ActionDef {
        product: Product::Vpngw,
        name: "ResetState",
        ram_action: "vpngw:ResetState",
        handler: crate::handler!(reset::reset),
    },
    ActionDef {
        product: Product::Vpngw,
        name: "WatchGatewayState",
        ram_action: "vpngw:WatchGatewayState",
        handler: crate::handler!(watch::watch),
    },
    // The gateway's key, CA and CRL for the agent that runs its OpenVPN
    // (on the SSL server's ARN).
    ActionDef {
        product: Product::Vpngw,
        name: "DescribeSslVpnServerPki",
        ram_action: "vpngw:DescribeSslVpnServerPki",
        handler: crate::handler!(crate::vpc::ssl_vpn::online::describe_pki),
    },
];
