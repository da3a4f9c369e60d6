//! vpngw's own product (`Version` [`Product::Vpngw`]): operations the cloud
//! does not have, used by vpngw's components. Today one: the data plane
//! agent's `ReportDataplaneState`.
//!
//! Signed and authenticated like every other call; the RAM action is
//! `vpngw:<Action>`.

mod events;
mod report;

use crate::actions::{ActionDef, Product};

pub(crate) static ACTIONS: &[ActionDef] = &[ActionDef {
    product: Product::Vpngw,
    name: "ReportDataplaneState",
    ram_action: "vpngw:ReportDataplaneState",
    handler: crate::handler!(report::report),
}];
