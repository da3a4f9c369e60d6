//! IPsec server (client-to-site): what the control plane keeps of it.
//!
//! The five operations (Create/Update/Delete/ListIpsecServers,
//! ListIpsecServerLogs) are not served yet; they join this module on the
//! typed operations framework. What is here: the agent's reports of the
//! server (`OnlineClientCount`, the clients with their virtual IPs) taken
//! into the stored server, and its log lines filed under it.

use vpngw_model::{IpsecServer, dataplane::IpsecServerReport, ipsec_server::Measurement};
use vpngw_protocol::ApiError;
use vpngw_store::{StoreExt, Versioned};

use crate::{
    Ctx,
    context::{internal, store_error},
    errors,
};

pub(crate) async fn load(ctx: &Ctx<'_>, id: &str) -> Result<Versioned<IpsecServer>, ApiError> {
    ctx.store()
        .get_typed::<IpsecServer>(&ctx.scope()?, id)
        .await
        .map_err(internal)?
        .ok_or_else(errors::ipsec_server_not_found)
}

/// Takes the agent's report of server `r.ipsec_server_id`, measured at
/// `measured_at`, if the server exists and is `gateway_id`'s (false
/// otherwise: deleted, or another gateway's). A report older than the
/// stored measurement, or one that says nothing new within `refresh_ms`,
/// writes nothing ([`IpsecServer::record`]).
pub(crate) async fn accept_report(
    ctx: &Ctx<'_>,
    gateway_id: &str,
    measured_at: i64,
    r: &IpsecServerReport,
    refresh_ms: i64,
) -> Result<bool, ApiError> {
    crate::rmw::serialized(ctx, &r.ipsec_server_id, || async {
        let Versioned { mut value, version } = match load(ctx, &r.ipsec_server_id).await {
            Ok(s) if s.value.vpn_gateway_id == gateway_id => s,
            _ => return Ok(false),
        };
        if value.record(measured_at, r, refresh_ms) == Measurement::Changed {
            ctx.store()
                .update_typed::<IpsecServer>(&ctx.caller.account_id, &value, version)
                .await
                .map_err(|e| store_error(e, errors::ipsec_server_not_found))?;
        }
        Ok(true)
    })
    .await
}
