//! The desired state of one gateway, read through the public API exactly as
//! any client would (DescribeVpnGateway, DescribeVpnConnections by
//! `VpnGatewayId` page by page, DescribeCustomerGateway), and mapped into the
//! data plane's [`GatewayDesired`].

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ipnet::Ipv4Net;
use vpngw_client::{Client, ClientError};
use vpngw_dataplane::forwarding::{RouteTable, StaticRoute};
use vpngw_dataplane::ipsec_server::IpsecServerDesired;
use vpngw_dataplane::openvpn::{SslServerDesired, Transport};
use vpngw_dataplane::{
    ConnectionDesired, GatewayDesired, IkeSettings, IpsecSettings, Secret, StartAction,
    TunnelDesired,
};
use vpngw_model::dataplane::{
    ConnectionAnswer, ConnectionSpec, GatewayAnswer, IpsecServerAnswer, IpsecServerSpec,
    TunnelSpec, customer_gateway_ids, ipsec_server_spec_from_api, spec_from_api,
};
use vpngw_model::routes::STATE_PUBLISHED;
use vpngw_ops::vpc::{
    describe_customer_gateway, describe_ssl_vpn_servers, describe_vco_route_entries,
    describe_vpn_connections, describe_vpn_pbr_route_entries, describe_vpn_route_entries,
    list_ipsec_servers,
};
use vpngw_ops::vpngw::describe_ssl_vpn_server_pki;

/// DescribeVpnConnections' largest page.
const PAGE_SIZE: usize = 50;

/// One connection as read from the API.
#[derive(Debug, Clone)]
pub struct FetchedConnection {
    pub spec: ConnectionSpec,
    /// [`ConnectionSpec::digest`], sent back with every report.
    pub digest: String,
    /// The data plane's form, or why the connection cannot be given to the
    /// data plane (it then stays `ike_sa_not_established` with that reason).
    pub desired: Result<ConnectionDesired, String>,
}

impl FetchedConnection {
    /// The connection of a DescribeVpnConnection(s) item, or why it cannot
    /// be read.
    pub fn from_view(
        view: &ConnectionAnswer,
        gateway: &GatewayAnswer,
        customer_gateway_ip: &dyn Fn(&str) -> Option<String>,
    ) -> Result<FetchedConnection, String> {
        let spec = spec_from_api(view, gateway, customer_gateway_ip).map_err(|e| e.to_string())?;
        Ok(FetchedConnection {
            digest: spec.digest(),
            desired: desired_connection(&spec),
            spec,
        })
    }
}

/// The gateway's IPsec server as read from the API (ListIpsecServers).
#[derive(Debug, Clone)]
pub struct FetchedIpsecServer {
    pub spec: IpsecServerSpec,
    /// [`IpsecServerSpec::digest`], sent back with every report.
    pub digest: String,
    /// The data plane's form, or why the server cannot be given to it.
    pub desired: Result<IpsecServerDesired, String>,
}

impl FetchedIpsecServer {
    /// The server of a ListIpsecServers item, or why it cannot be read.
    pub fn from_view(view: &IpsecServerAnswer) -> Result<FetchedIpsecServer, String> {
        let spec = ipsec_server_spec_from_api(view).map_err(|e| e.to_string())?;
        Ok(FetchedIpsecServer {
            digest: spec.digest(),
            desired: desired_ipsec_server(&spec),
            spec,
        })
    }
}

/// Everything the control plane wants of one gateway, as the agent last
/// read it. Each part of the agent takes its own section (the IPsec part:
/// `local_addrs` and `connections`); a component that joins the data plane
/// adds its section here and to the reads that fill it.
#[derive(Debug, Clone, Default)]
pub struct GatewayState {
    /// The gateway was deleted (DescribeVpnGateway says NotFound): every
    /// part unloads everything.
    pub gone: bool,
    /// The gateway's public addresses.
    pub local_addrs: Vec<IpAddr>,
    /// IPsec connections by id (shared between the states published one
    /// after another: a change copies only what changed).
    pub connections: BTreeMap<String, Arc<FetchedConnection>>,
    /// Connections whose answer could not be read (`id -> why`); they
    /// cannot be reported on.
    pub unreadable: BTreeMap<String, String>,
    /// The gateway's routes: policy-based, destination-based, then the
    /// connections' VCO routes, each table oldest first (the order breaks
    /// ties). Read with [`fetch_routes`].
    pub routes: Vec<StaticRoute>,
    /// The destinations of the gateway's destination-based and policy-based
    /// routes that are published to its VPC (`State` `published`), with
    /// their next hop: the gateway announces them to its BGP peers.
    pub published: Vec<(Ipv4Net, String)>,
    /// The blocks of the vSwitches of the gateway's VPC (`WatchGatewayState`'s
    /// `VSwitchCidrBlocks`; a poller does not read them): the VPC's system
    /// routes, which the gateway announces over BGP.
    pub vswitch_blocks: Vec<Ipv4Net>,
    /// The gateway's SSL server (`None`: none), or why it cannot be read.
    pub ssl_server: Option<Result<FetchedSslServer, String>>,
    /// The IPsec server part's section: the gateway's IPsec server, if any
    /// (or why its answer could not be read).
    pub ipsec_server: Option<Result<FetchedIpsecServer, String>>,
}

/// The gateway's SSL server as read from the API.
#[derive(Debug, Clone)]
pub struct FetchedSslServer {
    pub server_id: String,
    /// Changes whenever anything OpenVPN is given changes (CRL included).
    pub digest: String,
    /// The data plane's form, or why the server cannot be run.
    pub desired: Result<SslServerDesired, String>,
}

impl GatewayState {
    /// The state of a gateway that does not exist.
    pub fn gone() -> GatewayState {
        GatewayState {
            gone: true,
            ..GatewayState::default()
        }
    }

    /// Whether `other` asks for the same data plane (connections compared by
    /// their configuration digest).
    pub fn same_as(&self, other: &GatewayState) -> bool {
        let ssl = |s: &GatewayState| match &s.ssl_server {
            None => None,
            Some(Ok(f)) => Some(Ok(f.digest.clone())),
            Some(Err(why)) => Some(Err(why.clone())),
        };
        let server_digest = |s: &GatewayState| match &s.ipsec_server {
            None => None,
            Some(Ok(f)) => Some(Ok(f.digest.clone())),
            Some(Err(why)) => Some(Err(why.clone())),
        };
        self.gone == other.gone
            && ssl(self) == ssl(other)
            && server_digest(self) == server_digest(other)
            && self.local_addrs == other.local_addrs
            && self.unreadable == other.unreadable
            && self.routes == other.routes
            && self.published == other.published
            && self.vswitch_blocks == other.vswitch_blocks
            && self.connections.len() == other.connections.len()
            && self
                .connections
                .iter()
                .zip(&other.connections)
                .all(|((a, x), (b, y))| a == b && x.digest == y.digest)
    }

    /// The desired state for the data plane.
    pub fn desired(&self, gateway_id: &str) -> GatewayDesired {
        GatewayDesired {
            gateway_id: gateway_id.to_owned(),
            local_addrs: self.local_addrs.clone(),
            connections: self
                .connections
                .values()
                .filter_map(|c| c.desired.as_ref().ok().cloned())
                .collect(),
        }
    }

    /// The connection a tunnel belongs to.
    pub fn connection_of_tunnel(&self, tunnel: &str) -> Option<&FetchedConnection> {
        // A single-tunnel connection's tunnel is named after it.
        if let Some(c) = self.connections.get(tunnel) {
            return Some(c);
        }
        self.connections
            .values()
            .find(|c| c.spec.tunnels.iter().any(|t| t.tunnel_id == tunnel))
            .map(|c| &**c)
    }
}

/// The gateway's public addresses: `InternetIp`, on dual-tunnel gateways
/// `DisasterRecoveryInternetIp`, and the address SSL clients dial
/// (`SslVpnInternetIp`, which may be `InternetIp`), each once.
pub fn gateway_addrs(gateway: &GatewayAnswer) -> Vec<IpAddr> {
    let mut out: Vec<IpAddr> = Vec::new();
    for ip in [
        &gateway.internet_ip,
        &gateway.disaster_recovery_internet_ip,
        &gateway.ssl_vpn_internet_ip,
    ]
    .into_iter()
    .filter_map(|s| s.parse().ok())
    {
        if !out.contains(&ip) {
            out.push(ip);
        }
    }
    out
}

/// Reads the gateway, its connections and their customer gateways through
/// the public API, page by page (the read of agents whose server has no
/// `WatchGatewayState`). `cgw_ips` caches customer gateway addresses (they
/// cannot change).
pub async fn fetch(
    client: &Client,
    gateway_id: &str,
    cgw_ips: &mut HashMap<String, String>,
    vco_routes: &mut VcoRoutes,
) -> Result<GatewayState, ClientError> {
    let gateway: GatewayAnswer = match client
        .vpc_typed("DescribeVpnGateway", &[("VpnGatewayId", gateway_id)])
        .await
    {
        Ok(g) => g,
        Err(e) if e.is_not_found() => return Ok(GatewayState::gone()),
        Err(e) => return Err(e),
    };
    let items: Vec<ConnectionAnswer> = all_pages(
        client,
        "DescribeVpnConnections",
        &[("VpnGatewayId", gateway_id)],
        |a: describe_vpn_connections::Answer| (a.total_count, a.vpn_connections.vpn_connection),
    )
    .await?;
    // Customer gateways not seen yet.
    for id in items.iter().flat_map(customer_gateway_ids) {
        if id.is_empty() || cgw_ips.contains_key(&id) {
            continue;
        }
        match client
            .vpc_typed::<describe_customer_gateway::Answer>(
                "DescribeCustomerGateway",
                &[("CustomerGatewayId", &id)],
            )
            .await
        {
            Ok(cgw) => {
                if !cgw.ip_address.is_empty() {
                    cgw_ips.insert(id, cgw.ip_address);
                }
            }
            Err(e) if e.is_not_found() => {}
            Err(e) => return Err(e),
        }
    }
    let lookup = |id: &str| cgw_ips.get(id).cloned();
    let mut state = GatewayState {
        local_addrs: gateway_addrs(&gateway),
        ssl_server: fetch_ssl_server(client, gateway_id).await?,
        ..GatewayState::default()
    };
    state.ipsec_server = fetch_ipsec_server(client, gateway_id).await?;
    for c in &items {
        let id = c.vpn_connection_id.clone();
        match FetchedConnection::from_view(c, &gateway, &lookup) {
            Ok(conn) => {
                state.connections.insert(id, Arc::new(conn));
            }
            Err(why) => {
                state.unreadable.insert(id, why);
            }
        }
    }
    (state.routes, state.published) =
        fetch_routes(client, gateway_id, vco_routes, &state, VcoReads::Refresh).await?;
    Ok(state)
}

/// Every page of a Describe call's list: `items` takes one page's answer
/// apart into its `TotalCount` and its items.
async fn all_pages<A: serde::de::DeserializeOwned, T>(
    client: &Client,
    action: &str,
    params: &[(&str, &str)],
    items: impl Fn(A) -> (i64, Vec<T>),
) -> Result<Vec<T>, ClientError> {
    let mut out = Vec::new();
    let size = PAGE_SIZE.to_string();
    for page in 1.. {
        let number = page.to_string();
        let mut p: Vec<(&str, &str)> = params.to_vec();
        p.push(("PageSize", &size));
        p.push(("PageNumber", &number));
        let (total, batch) = items(client.vpc_typed(action, &p).await?);
        let total = usize::try_from(total).unwrap_or(0);
        let got = batch.len();
        out.extend(batch);
        if got < PAGE_SIZE || out.len() >= total {
            break;
        }
    }
    Ok(out)
}

/// How a poller re-reads VCO routes: nothing tells it that they changed,
/// so each connection's are read again at most this often (one call per
/// connection: a gateway with many connections must not make every read
/// of its state hundreds of calls), [`VCO_PER_READ`] connections per read.
/// A watcher reads them when the revision says they changed.
pub const VCO_REFRESH: Duration = Duration::from_secs(20);
/// Connections whose VCO routes a poller reads per read of the state, at
/// most.
const VCO_PER_READ: usize = 20;

/// Each connection's VCO routes as last read, and which must be read again.
#[derive(Debug, Default)]
pub struct VcoRoutes {
    /// Connection -> (when read, its routes).
    read: HashMap<String, (Instant, Vec<StaticRoute>)>,
    /// Connections whose VCO routes changed since they were read.
    stale: HashSet<String>,
}

/// Which connections' VCO routes a read of the state reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VcoReads {
    /// New and changed ones ([`VcoRoutes::changed`]), all of them: the
    /// watcher, told by the gateway's revision.
    Changed,
    /// Also those read longer than [`VCO_REFRESH`] ago, [`VCO_PER_READ`] at
    /// most, the oldest first: the poller, told nothing.
    Refresh,
}

impl VcoRoutes {
    pub fn new() -> VcoRoutes {
        VcoRoutes::default()
    }

    /// The VCO routes of `connections` changed (`None`: of any connection).
    pub fn changed(&mut self, connections: Option<&[String]>) {
        match connections {
            Some(ids) => self.stale.extend(ids.iter().cloned()),
            None => self.stale.extend(self.read.keys().cloned()),
        }
    }

    /// The connections of `state` whose routes `reads` reads now.
    fn due<'a>(&self, state: &'a GatewayState, reads: VcoReads, now: Instant) -> Vec<&'a String> {
        let refresh = reads == VcoReads::Refresh;
        let mut due: Vec<&String> = state
            .connections
            .keys()
            .filter(|id| match self.read.get(*id) {
                None => true,
                Some((at, _)) => {
                    self.stale.contains(*id) || (refresh && now.duration_since(*at) >= VCO_REFRESH)
                }
            })
            .collect();
        if refresh {
            due.sort_by_key(|id| self.read.get(*id).map(|(at, _)| *at));
            due.truncate(VCO_PER_READ);
        }
        due
    }
}

/// A route of the data plane's table from an answer's `RouteDest`,
/// `NextHop` and `Weight`; none when the destination is not an IPv4 block
/// or there is no next hop.
fn route_of(table: RouteTable, dest: &str, next_hop: &str, weight: i64) -> Option<StaticRoute> {
    Some(StaticRoute {
        table,
        dest: dest.parse().ok()?,
        next_hop: Some(next_hop).filter(|h| !h.is_empty())?.to_owned(),
        weight,
    })
}

/// A gateway route's destination and next hop when its `State` says it is
/// published to the VPC.
fn published_of(route: &StaticRoute, state: &str) -> Option<(Ipv4Net, String)> {
    (state == STATE_PUBLISHED).then(|| (route.dest, route.next_hop.clone()))
}

/// The gateway's static routes (see [`GatewayState::routes`]) and the
/// published ones ([`GatewayState::published`]); of the connections' VCO
/// routes, those `reads` says are due are read again.
pub async fn fetch_routes(
    client: &Client,
    gateway_id: &str,
    vco: &mut VcoRoutes,
    state: &GatewayState,
    reads: VcoReads,
) -> Result<(Vec<StaticRoute>, Vec<(Ipv4Net, String)>), ClientError> {
    let gw = [("VpnGatewayId", gateway_id)];
    let mut routes = Vec::new();
    let mut published = Vec::new();
    let pbr = all_pages(
        client,
        "DescribeVpnPbrRouteEntries",
        &gw,
        |a: describe_vpn_pbr_route_entries::Answer| {
            (a.total_count, a.vpn_pbr_route_entries.vpn_pbr_route_entry)
        },
    )
    .await?;
    for r in pbr {
        let Ok(source) = r.route_source.parse() else {
            continue;
        };
        let table = RouteTable::Policy {
            source,
            priority: r.priority,
        };
        if let Some(route) = route_of(table, &r.route_dest, &r.next_hop, r.weight) {
            published.extend(published_of(&route, &r.state));
            routes.push(route);
        }
    }
    let destination = all_pages(
        client,
        "DescribeVpnRouteEntries",
        &gw,
        |a: describe_vpn_route_entries::Answer| {
            (a.total_count, a.vpn_route_entries.vpn_route_entry)
        },
    )
    .await?;
    for r in destination {
        let table = RouteTable::Destination;
        if let Some(route) = route_of(table, &r.route_dest, &r.next_hop, r.weight) {
            published.extend(published_of(&route, &r.state));
            routes.push(route);
        }
    }
    published.sort();
    published.dedup();
    vco.read.retain(|id, _| state.connections.contains_key(id));
    vco.stale.retain(|id| state.connections.contains_key(id));
    let now = Instant::now();
    for id in vco.due(state, reads, now) {
        let items = all_pages(
            client,
            "DescribeVcoRouteEntries",
            &[("VpnConnectionId", id)],
            |a: describe_vco_route_entries::Answer| (a.total_count, a.vco_route_entries),
        )
        .await;
        let items = match items {
            Ok(items) => items,
            // Deleted meanwhile: the next read of the state drops it.
            Err(e) if e.is_not_found() => Vec::new(),
            Err(e) => return Err(e),
        };
        // A connection's own routes go through it, whatever `NextHop` says.
        let list = items
            .iter()
            .filter_map(|r| route_of(RouteTable::Destination, &r.route_dest, id, r.weight))
            .collect();
        vco.read.insert(id.clone(), (now, list));
        vco.stale.remove(id);
    }
    for id in state.connections.keys() {
        if let Some((_, list)) = vco.read.get(id) {
            routes.extend(list.iter().cloned());
        }
    }
    Ok((routes, published))
}

/// The gateway's SSL server: DescribeSslVpnServers, then what only the
/// agent is given (DescribeSslVpnServerPki). A control plane that does not
/// serve SSL-VPN (`UnsupportedOperation`) has none.
pub async fn fetch_ssl_server(
    client: &Client,
    gateway_id: &str,
) -> Result<Option<Result<FetchedSslServer, String>>, ClientError> {
    let answer: describe_ssl_vpn_servers::Answer = match client
        .vpc_typed("DescribeSslVpnServers", &[("VpnGatewayId", gateway_id)])
        .await
    {
        Ok(a) => a,
        Err(e) if e.code() == Some("UnsupportedOperation") => return Ok(None),
        Err(e) => return Err(e),
    };
    let Some(view) = answer.ssl_vpn_servers.ssl_vpn_server.into_iter().next() else {
        return Ok(None);
    };
    let id = view.ssl_vpn_server_id.as_str();
    let pki: describe_ssl_vpn_server_pki::Answer = match client
        .vpngw_typed("DescribeSslVpnServerPki", &[("SslVpnServerId", id)])
        .await
    {
        Ok(p) => p,
        // Deleted between the two reads: the next read has no server.
        Err(e) if e.is_not_found() => return Ok(None),
        Err(e) => {
            return Ok(Some(Err(format!(
                "{id}: its certificates cannot be read: {e}"
            ))));
        }
    };
    Ok(Some(Ok(ssl_server_from_api(&view, pki))))
}

/// The data plane's form of an SSL server from one DescribeSslVpnServers
/// item and the server's DescribeSslVpnServerPki answer.
pub fn ssl_server_from_api(
    view: &describe_ssl_vpn_servers::SslVpnServer,
    pki: describe_ssl_vpn_server_pki::Answer,
) -> FetchedSslServer {
    use sha2::{Digest, Sha256};
    let server_id = view.ssl_vpn_server_id.clone();
    let desired = (|| {
        let listen_addr: IpAddr = view
            .internet_ip
            .parse()
            .map_err(|_| format!("{server_id}: the gateway has no SslVpnInternetIp"))?;
        let transport = match view.proto.as_str() {
            "UDP" => Transport::Udp,
            "TCP" => Transport::Tcp,
            other => return Err(format!("{server_id}: Proto {other:?} is not TCP or UDP")),
        };
        let port = u16::try_from(view.port).map_err(|_| format!("{server_id}: bad Port"))?;
        Ok(SslServerDesired {
            server_id: server_id.clone(),
            listen_addr,
            transport,
            port,
            client_ip_pool: view.client_ip_pool.clone(),
            local_subnets: split_subnets(&view.local_subnet),
            cipher: view.cipher.clone(),
            compress: view.compress,
            dns_servers: split_subnets(&view.dns_servers),
            max_clients: u32::try_from(view.max_connections).unwrap_or(0),
            // The SSL part admits each client against the quota it shares
            // with the IPsec server.
            admission: true,
            ca_cert_pem: pki.ca_cert,
            server_cert_pem: pki.server_cert,
            server_key_pem: Secret::new(pki.server_key),
            crl_pem: pki.crl,
            revoked: pki.revoked_common_names,
        })
    })();
    // Of what OpenVPN is given, not of the whole answer (`Connections`
    // changes with every report).
    let digest = {
        let given = match &desired {
            Ok(d) => serde_json::to_string(d).unwrap_or_default(),
            Err(why) => why.clone(),
        };
        Sha256::digest(given.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    };
    FetchedSslServer {
        server_id,
        digest,
        desired,
    }
}

/// The gateway's IPsec server (ListIpsecServers by `VpnGatewayId`; one per
/// gateway). A control plane that does not serve the operation has none.
pub async fn fetch_ipsec_server(
    client: &Client,
    gateway_id: &str,
) -> Result<Option<Result<FetchedIpsecServer, String>>, ClientError> {
    let answer: list_ipsec_servers::Answer = match client
        .vpc_typed("ListIpsecServers", &[("VpnGatewayId", gateway_id)])
        .await
    {
        Ok(a) => a,
        Err(e)
            if matches!(
                e.code(),
                Some("UnsupportedOperation" | "InvalidAction.NotFound")
            ) =>
        {
            return Ok(None);
        }
        // An agent whose identity may not list IPsec servers cannot know
        // whether there is one: its part keeps what it runs, with the reason.
        Err(e) if matches!(e.code(), Some("NoPermission" | "Forbidden")) => {
            return Ok(Some(Err(format!("ListIpsecServers refused: {e}"))));
        }
        Err(e) => return Err(e),
    };
    Ok(answer
        .ipsec_servers
        .first()
        .map(FetchedIpsecServer::from_view))
}

fn split_subnets(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Phase 1 (with the PSK) and phase 2 of a tunnel in the data plane's
/// vocabulary; an IKE version or mode it does not know is refused.
fn phases(t: &TunnelSpec) -> Result<(IkeSettings, IpsecSettings), String> {
    let lifetime = |v: i64| u64::try_from(v).unwrap_or(0);
    let ike = IkeSettings {
        version: t
            .ike_version
            .parse()
            .map_err(|e| format!("tunnel {}: {e}", t.tunnel_id))?,
        mode: if t.ike_mode.is_empty() {
            Default::default()
        } else {
            t.ike_mode
                .parse()
                .map_err(|e| format!("tunnel {}: {e}", t.tunnel_id))?
        },
        enc_alg: t.ike_enc_alg.clone(),
        auth_alg: t.ike_auth_alg.clone(),
        pfs: t.ike_pfs.clone(),
        lifetime_s: lifetime(t.ike_lifetime_s),
        local_id: t.local_id.clone(),
        remote_id: t.remote_id.clone(),
        psk: Secret::new(t.psk.clone()),
    };
    let ipsec = IpsecSettings {
        enc_alg: t.ipsec_enc_alg.clone(),
        auth_alg: t.ipsec_auth_alg.clone(),
        pfs: t.ipsec_pfs.clone(),
        lifetime_s: lifetime(t.ipsec_lifetime_s),
    };
    Ok((ike, ipsec))
}

/// The data plane's form of the gateway's IPsec server, or why it cannot
/// be given to the data plane.
pub fn desired_ipsec_server(spec: &IpsecServerSpec) -> Result<IpsecServerDesired, String> {
    let (ike, ipsec) = phases(&spec.phases)?;
    let local_addr = spec.phases.local_addr.parse::<IpAddr>().map_err(|_| {
        format!(
            "{}: gateway address {:?} is not an IP address",
            spec.ipsec_server_id, spec.phases.local_addr
        )
    })?;
    Ok(IpsecServerDesired {
        server_id: spec.ipsec_server_id.clone(),
        local_addr,
        client_ip_pool: spec.client_ip_pool.clone(),
        local_subnets: split_subnets(&spec.local_subnet),
        ike,
        ipsec,
        effect_immediately: spec.effect_immediately,
    })
}

/// The data plane's form of a connection. Values the data plane's
/// vocabulary lacks (an unknown IKE version, an address that does not
/// parse) make the whole connection undeliverable, with the reason.
/// Algorithms are passed through: the renderer refuses sm3/sm4 per tunnel.
pub fn desired_connection(spec: &ConnectionSpec) -> Result<ConnectionDesired, String> {
    let mut tunnels = Vec::new();
    for t in &spec.tunnels {
        let addr = |what: &str, v: &str| {
            v.parse::<IpAddr>()
                .map_err(|_| format!("tunnel {}: {what} {v:?} is not an IP address", t.tunnel_id))
        };
        let (ike, ipsec) = phases(t)?;
        tunnels.push(TunnelDesired {
            tunnel_id: t.tunnel_id.clone(),
            local_addr: addr("gateway address", &t.local_addr)?,
            remote_addr: addr("customer gateway address", &t.remote_addr)?,
            ike,
            ipsec,
            local_subnets: split_subnets(&spec.local_subnet),
            remote_subnets: split_subnets(&spec.remote_subnet),
            dpd: t.enable_dpd,
            nat_traversal: t.enable_nat_traversal,
            bgp: t.bgp.as_ref().and_then(super::routing::tunnel_bgp),
            route_children: Vec::new(),
        });
    }
    Ok(ConnectionDesired {
        connection_id: spec.connection_id.clone(),
        start_action: if spec.effect_immediately {
            StartAction::Start
        } else {
            StartAction::Trap
        },
        tunnels,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use vpngw_model::dataplane::TunnelSpec;

    /// A single-tunnel connection `id` as read from the API.
    pub(crate) fn fetched(id: &str) -> FetchedConnection {
        let mut spec = spec();
        spec.connection_id = id.into();
        spec.tunnels[0].tunnel_id = id.into();
        FetchedConnection {
            digest: spec.digest(),
            desired: desired_connection(&spec),
            spec,
        }
    }

    fn spec() -> ConnectionSpec {
        ConnectionSpec {
            connection_id: "vco-1".into(),
            effect_immediately: false,
            local_subnet: "10.0.0.0/24,10.0.1.0/24".into(),
            remote_subnet: "10.1.0.0/24".into(),
            health_check: None,
            tunnels: vec![TunnelSpec {
                tunnel_id: "vco-1".into(),
                local_addr: "198.18.0.1".into(),
                remote_addr: "203.0.113.1".into(),
                enable_dpd: true,
                enable_nat_traversal: false,
                ike_version: "ikev2".into(),
                ike_mode: "main".into(),
                ike_enc_alg: "aes256".into(),
                ike_auth_alg: "sha256".into(),
                ike_pfs: "group14".into(),
                ike_lifetime_s: 3600,
                local_id: String::new(),
                remote_id: String::new(),
                psk: "k".into(),
                ipsec_enc_alg: "aes".into(),
                ipsec_auth_alg: "sha1".into(),
                ipsec_pfs: "disabled".into(),
                ipsec_lifetime_s: 1800,
                bgp: None,
            }],
        }
    }

    #[test]
    fn vco_routes_are_read_when_new_or_changed_and_a_poller_refreshes_them() {
        let mut state = GatewayState::default();
        for id in ["vco-1", "vco-2"] {
            state.connections.insert(id.into(), Arc::new(fetched(id)));
        }
        let t0 = Instant::now();
        let mut vco = VcoRoutes::new();
        let due = |vco: &VcoRoutes, reads, at| -> Vec<String> {
            vco.due(&state, reads, at).into_iter().cloned().collect()
        };
        assert_eq!(due(&vco, VcoReads::Changed, t0), ["vco-1", "vco-2"]);
        for id in ["vco-1", "vco-2"] {
            vco.read.insert(id.into(), (t0, Vec::new()));
        }
        let later = t0 + VCO_REFRESH;
        // The watcher reads only what the revision says changed...
        assert!(due(&vco, VcoReads::Changed, later).is_empty());
        vco.changed(Some(&["vco-2".to_owned()]));
        assert_eq!(due(&vco, VcoReads::Changed, t0), ["vco-2"]);
        vco.stale.clear();
        vco.changed(None);
        assert_eq!(due(&vco, VcoReads::Changed, t0), ["vco-1", "vco-2"]);
        vco.stale.clear();
        // ...the poller also what it read too long ago.
        assert!(due(&vco, VcoReads::Refresh, t0).is_empty());
        assert_eq!(due(&vco, VcoReads::Refresh, later), ["vco-1", "vco-2"]);
    }

    #[test]
    fn maps_spec_to_desired() {
        let d = desired_connection(&spec()).unwrap();
        assert_eq!(d.start_action, StartAction::Trap);
        let t = &d.tunnels[0];
        assert_eq!(t.local_subnets, vec!["10.0.0.0/24", "10.0.1.0/24"]);
        assert_eq!(t.ike.version, vpngw_dataplane::IkeVersion::Ikev2);
        assert_eq!(t.ike.lifetime_s, 3600);
        assert_eq!(t.ipsec.pfs, "disabled");
        assert!(!t.nat_traversal);
        assert_eq!(t.ike.psk.expose(), "k");

        let mut bad = spec();
        bad.tunnels[0].remote_addr = "example.com".into();
        assert!(
            desired_connection(&bad)
                .unwrap_err()
                .contains("not an IP address")
        );
        let mut bad = spec();
        bad.tunnels[0].ike_version = "ikev3".into();
        assert!(desired_connection(&bad).is_err());
    }
}
