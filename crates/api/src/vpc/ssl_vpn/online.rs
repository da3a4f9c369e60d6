//! What the data plane measured of an SSL server: DescribeSslVpnClients
//! (the clients OpenVPN's management interface showed in the agent's last
//! report) and DescribeVpnSslServerLogs (OpenVPN's log lines the agent
//! reported, from the event log); and what the agent needs to run the
//! server that no public answer carries: DescribeSslVpnServerPki (vpngw's
//! own product).

use vpngw_model::{SslVpnServer, dataplane::SslVpnServerReport};
use vpngw_protocol::ApiError;
use vpngw_store::{LogQuery, StoreExt, Versioned};

use super::views::{ClientInfo, ClientsPage, Logs, LogsPage, Pki};
use super::{load, of_gateway, pki};
use crate::{
    Ctx,
    actions::Reply,
    context::{internal, store_error},
    errors,
    vpc::{logs, reply, vpn_gateway},
};

/// `Status` of a connected client.
const ONLINE: &str = "online";

pub async fn describe_clients(ctx: &Ctx<'_>) -> Reply {
    let (number, size) = ctx.page(50)?;
    let gateway = vpn_gateway::load(ctx, ctx.params.required("VpnGatewayId")?)
        .await?
        .value;
    let clients = match of_gateway(ctx, &gateway.id).await? {
        Some(s) => s.clients,
        None => Vec::new(),
    };
    let total = clients.len();
    let start = usize::try_from((number - 1).saturating_mul(size)).unwrap_or(usize::MAX);
    let list = clients
        .into_iter()
        .skip(start)
        .take(usize::try_from(size).unwrap_or(0))
        .map(|c| ClientInfo {
            common_name: c.common_name,
            ip: c.ip,
            port: c.port,
            private_ip: c.private_ip,
            connected_time: c.connected_time,
            receive_bytes: c.receive_bytes,
            send_bytes: c.send_bytes,
            status: ONLINE,
        })
        .collect();
    reply(&ClientsPage {
        vpn_gateway_id: gateway.id,
        region_id: gateway.region_id,
        total_count: total as u64,
        page_number: number,
        page_size: size,
        client_info_list: list,
    })
}

pub async fn describe_logs(ctx: &Ctx<'_>) -> Reply {
    let p = ctx.params;
    let server = load(ctx, p.required("VpnSslServerId")?).await?.value;
    let (from_ms, to_ms) = logs::window(
        ctx.now_ms,
        p.i64("From")?,
        p.i64("To")?,
        p.i64("MinutePeriod")?,
    )?;
    let (number, size) = ctx.page(50)?;
    let page = ctx
        .store()
        .list_logs(&LogQuery {
            scope: ctx.scope()?,
            resource_id: server.id.clone(),
            // Lines about one client are filed under its certificate.
            tunnel_id: ctx.opt("SslVpnClientCertId").map(str::to_owned),
            from_ms,
            to_ms,
            offset: u64::try_from((number - 1).saturating_mul(size)).unwrap_or(u64::MAX),
            limit: u64::try_from(size).unwrap_or(10),
        })
        .await
        .map_err(internal)?;
    let lines: Vec<String> = page.entries.iter().map(logs::render).collect();
    reply(&LogsPage {
        count: lines.len(),
        is_completed: true,
        page_number: number,
        page_size: size,
        data: Logs { logs: lines },
    })
}

/// The agent's read of what OpenVPN needs besides the public answer: the
/// CA, the gateway's certificate and key, the CRL and the revoked names.
pub async fn describe_pki(ctx: &Ctx<'_>) -> Reply {
    let server = load(ctx, ctx.params.required("SslVpnServerId")?)
        .await?
        .value;
    reply(&Pki {
        ssl_vpn_server_id: server.id.clone(),
        ca_cert: server.pki.ca_cert_pem.clone(),
        server_cert: server.pki.server_cert_pem.clone(),
        server_key: pki::server_key(ctx.secrets(), &server)?,
        crl: server.pki.crl_pem.clone(),
        revoked_common_names: server.pki.revoked_names(),
    })
}

/// Stores what the agent measured of the gateway's SSL server: the clients
/// and their count, when they changed or the stored ones are older than
/// `refresh_ms`. A report about another gateway's server, or one deleted
/// since, is `false` (unknown).
pub(crate) async fn accept_report(
    ctx: &Ctx<'_>,
    gateway_id: &str,
    measured_at: i64,
    r: &SslVpnServerReport,
    refresh_ms: i64,
) -> Result<bool, ApiError> {
    crate::rmw::serialized(ctx, &r.ssl_vpn_server_id, || async {
        let Versioned { mut value, version } = match load(ctx, &r.ssl_vpn_server_id).await {
            Ok(s) if s.value.vpn_gateway_id == gateway_id => s,
            _ => return Ok(false),
        };
        if measured_at < value.measured_at_ms {
            return Ok(true);
        }
        let changed = value.connections != r.connections || value.clients != r.clients;
        if !changed && measured_at - value.measured_at_ms < refresh_ms {
            return Ok(true);
        }
        value.connections = r.connections;
        value.clients = r.clients.clone();
        value.measured_at_ms = measured_at;
        ctx.store()
            .update_typed::<SslVpnServer>(&ctx.caller.account_id, &value, version)
            .await
            .map_err(|e| store_error(e, errors::ssl_vpn_server_not_found))?;
        Ok(true)
    })
    .await
}
