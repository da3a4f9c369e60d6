//! vpngw data plane: turns the desired state of a VPN gateway into real
//! IKE/IPsec tunnels on strongSwan and reports what charon actually did.
//!
//! - [`model`]: what the data plane needs ([`GatewayDesired`] →
//!   [`ConnectionDesired`] → [`TunnelDesired`]), in the API's vocabulary.
//! - [`render`]: desired state → `swanctl.conf` / vici messages, with the
//!   algorithm mapping and typed per-tunnel errors; [`mirror`] gives the
//!   customer-gateway side.
//! - [`charon`]: one charon per network namespace (kernel-libipsec, private
//!   `/run`, own vici socket).
//! - [`crypto`]: what the running charon can negotiate ([`HostCrypto`]),
//!   so that a tunnel the host cannot do gets an error naming the package.
//! - [`vici`]: vici client ([`Vici`]) and diff-based [`Applier`].
//! - [`forwarding`]: routes + tunnel states → which tunnel each packet
//!   takes, and what libipsec needs for it (pure; `docs/dataplane-routing.md`).
//! - [`status`]: `list-sas` → API `Status` per tunnel, and log events.
//! - [`backend`]: the [`Dataplane`] trait the agent's control loop drives,
//!   with [`StrongSwan`] (real charon) and [`Simulated`] (deterministic).
//! - [`openvpn`]: SSL-VPN — the gateway's OpenVPN server (rendering,
//!   process, management interface) and stock clients for labs.
//! - [`ipsec_server`]: the IPsec server (client-to-site) — one more
//!   connection with an address pool on the gateway's charon, its clients
//!   from `list-sas`, and stock road-warrior clients for labs.
//! - [`bgp`]: the gateway's BGP speaker (BIRD 2): `bird.conf`, the
//!   process, its control socket, session states and learned routes.
//! - [`lab`]: gateway + peer namespaces with their own charons, for tests
//!   and demos (root only).
//!
//! Everything that talks to charon needs root on the machine it runs on;
//! rendering, mirroring and status mapping do not.

pub mod backend;
pub mod bgp;
pub mod charon;
pub mod conf;
pub mod crypto;
pub mod forwarding;
pub mod ipsec_server;
pub mod lab;
pub mod model;
pub mod openvpn;
pub mod promotion;
pub mod render;
pub mod status;
pub mod vici;

pub use backend::{BackendError, Dataplane, Simulated, StrongSwan};
pub use charon::{Charon, CharonConfig, CharonError, Retransmit};
pub use crypto::HostCrypto;
pub use model::{
    ConnectionDesired, GatewayDesired, IkeMode, IkeSettings, IkeVersion, IpsecSettings, Secret,
    StartAction, TunnelBgp, TunnelDesired,
};
pub use render::{
    DpdTiming, RenderError, RenderOptions, Rendered, RenderedSecret, RenderedTunnel, TunnelError,
    TunnelErrorKind, mirror, render_gateway,
};
pub use status::{
    DataplaneEvent, EventKind, IkeSaInfo, TunnelState, TunnelStatus, failure_reason, tunnel_status,
};
pub use vici::{Applier, ApplyReport, EventSubscription, Vici, ViciError};
