//! What the data plane measured of an SSL server: DescribeSslVpnClients
//! (the clients OpenVPN's management interface showed in the agent's last
//! report) and DescribeVpnSslServerLogs (OpenVPN's log lines the agent
//! reported, from the event log); and what the agent needs to run the
//! server that no public answer carries: DescribeSslVpnServerPki (vpngw's
//! own product).

use vpngw_model::{SslVpnServer, dataplane::SslVpnServerReport, measured::Measurement};
use vpngw_ops::{
    vpc::{describe_ssl_vpn_clients, describe_vpn_ssl_server_logs, shapes},
    vpngw::describe_ssl_vpn_server_pki,
};
use vpngw_protocol::ApiError;
use vpngw_store::{StoreExt, Versioned};

use super::{given, load, of_gateway, pki};
use crate::{
    Ctx,
    context::{page, store_error},
    errors,
    vpc::{logs, vpn_gateway},
};

/// `Status` of a connected client.
const ONLINE: &str = "online";

pub async fn describe_clients(
    ctx: &Ctx<'_>,
    req: describe_ssl_vpn_clients::Request,
) -> Result<describe_ssl_vpn_clients::Answer, ApiError> {
    let (number, size) = page(req.page_number, req.page_size, 50)?;
    let gateway = vpn_gateway::load(ctx, &req.vpn_gateway_id).await?.value;
    let clients = match of_gateway(ctx, &gateway.id).await? {
        Some(s) => s
            .online(ctx.now_ms, ctx.config().clients_fresh_ms)
            .0
            .to_vec(),
        None => Vec::new(),
    };
    let total = clients.len();
    let start = usize::try_from((number - 1).saturating_mul(size)).unwrap_or(usize::MAX);
    let list = clients
        .into_iter()
        .skip(start)
        .take(usize::try_from(size).unwrap_or(0))
        .map(|c| describe_ssl_vpn_clients::ClientInfoList {
            common_name: c.common_name,
            ip: c.ip,
            // A string in the SDK's model (`ClientInfoList.Port`).
            port: c.port.to_string(),
            private_ip: c.private_ip,
            connected_time: c.connected_time,
            receive_bytes: c.receive_bytes,
            send_bytes: c.send_bytes,
            status: ONLINE.to_owned(),
        })
        .collect();
    Ok(describe_ssl_vpn_clients::Answer {
        vpn_gateway_id: gateway.id,
        region_id: gateway.region_id,
        total_count: total as i64,
        page_number: number,
        page_size: size,
        client_info_list: list,
    })
}

pub async fn describe_logs(
    ctx: &Ctx<'_>,
    req: describe_vpn_ssl_server_logs::Request,
) -> Result<describe_vpn_ssl_server_logs::Answer, ApiError> {
    let server = load(ctx, &req.vpn_ssl_server_id).await?.value;
    let (from_ms, to_ms) = logs::window(ctx.now_ms, req.from, req.to, req.minute_period)?;
    let (number, size) = page(req.page_number, req.page_size, 50)?;
    // Lines about one client are filed under its certificate.
    let client = given(req.ssl_vpn_client_cert_id);
    let lines = logs::lines(ctx, &server.id, client, (from_ms, to_ms), (number, size)).await?;
    Ok(shapes::Shape2 {
        count: lines.len() as i64,
        is_completed: true,
        page_number: number,
        page_size: size,
        data: shapes::Data { logs: lines },
    })
}

/// The agent's read of what OpenVPN needs besides the public answer: the
/// CA, the gateway's certificate and key, the CRL and the revoked names.
pub async fn describe_pki(
    ctx: &Ctx<'_>,
    req: describe_ssl_vpn_server_pki::Request,
) -> Result<describe_ssl_vpn_server_pki::Answer, ApiError> {
    let server = load(ctx, &req.ssl_vpn_server_id).await?.value;
    Ok(describe_ssl_vpn_server_pki::Answer {
        ssl_vpn_server_id: server.id.clone(),
        ca_cert: server.pki.ca_cert_pem.clone(),
        server_cert: server.pki.server_cert_pem.clone(),
        server_key: pki::server_key(ctx.secrets(), &server)?,
        crl: server.pki.crl_pem.clone(),
        revoked_common_names: server.pki.revoked_names(),
    })
}

/// Stores what the agent measured of the gateway's SSL server: the clients
/// and their count, when they changed or the stored ones were accepted
/// `refresh_ms` ago or more
/// ([`vpngw_model::measured::Measured::judge`]). A report about another
/// gateway's server, or one deleted since, is `false` (unknown).
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
        let changed = value.connections != r.connections || value.clients != r.clients;
        if value
            .measured
            .judge(measured_at, changed, ctx.now_ms, refresh_ms)
            != Measurement::Changed
        {
            return Ok(true);
        }
        value.connections = r.connections;
        value.clients = r.clients.clone();
        ctx.store()
            .update_typed::<SslVpnServer>(&ctx.caller.account_id, &value, version)
            .await
            .map_err(|e| store_error(e, errors::ssl_vpn_server_not_found))?;
        Ok(true)
    })
    .await
}
