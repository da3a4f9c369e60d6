//! Domain model of vpngw: resource types, IDs, validation, and what the API
//! knows about itself (the operation table generated from the vendor's
//! metadata, and the region/zone catalogue). No IO.

pub mod catalog;
pub mod cen;
pub mod connection;
pub mod customer_gateway;
pub mod dataplane;
pub mod ids;
pub mod ipsec_server;
pub mod lifecycle;
pub mod measured;
pub mod operations;
pub mod routes;
pub mod ssl_vpn;
pub mod tags;
pub mod validate;
pub mod vpc;
pub mod vpc_routes;
pub mod vpn_gateway;
mod wire_enum;

pub use cen::{CenInstance, TransitRouter, TransitRouterVpnAttachment};
pub use connection::VpnConnection;
pub use customer_gateway::CustomerGateway;
pub use ipsec_server::IpsecServer;
pub use lifecycle::Lifecycle;
pub use routes::{VcoRoute, VpnPbrRoute, VpnRoute};
pub use ssl_vpn::{SslVpnClientCert, SslVpnServer};
pub use tags::Tag;
pub use vpc::{VSwitch, Vpc};
pub use vpn_gateway::{GatewayType, VpnGateway};
