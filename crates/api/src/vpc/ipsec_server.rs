//! IPsec server (client-to-site): CreateIpsecServer, UpdateIpsecServer,
//! DeleteIpsecServer, ListIpsecServers, ListIpsecServerLogs, and the
//! agent's reports of the server (`OnlineClientCount`, the clients with
//! their virtual IPs) taken into the stored server.
//!
//! The rules are the model's (`vpngw_model::ipsec_server`); this layer
//! gives each broken rule its cloud error (docs/api-decisions.md, "IPsec
//! server"). The server is part of the gateway's SSL-VPN feature: it needs
//! `EnableSsl`, shares `SslConnections` with the SSL server (`MaxConnections`
//! in the answer; the agent enforces it across both servers) and may not use
//! the SSL server's blocks. One per gateway (the store counts them in the
//! insert's transaction). `Psk` is sealed at rest.

use serde_json::{Map, Value};
use vpngw_model::{
    IpsecServer, VpnGateway,
    dataplane::IpsecServerReport,
    ids::{IdKind, new_id},
    ipsec_server::{
        self as rules, RuleError, UsedBlock, check_against, ike_defaults, ipsec_defaults,
    },
    measured::{Measured, Measurement},
    ssl_vpn::MultiFactorAuth,
};
use vpngw_ops::vpc::{
    create_ipsec_server as create_op, delete_ipsec_server as delete_op,
    list_ipsec_server_logs as logs_op, list_ipsec_servers as list_op,
    update_ipsec_server as update_op,
};
use vpngw_protocol::ApiError;
use vpngw_store::{Inserted, Kind, ListQuery, StoreExt, Versioned};

use super::{
    ike_json, logs,
    ssl_vpn::{self, gateway_updating, insert_one_per_gateway, ready_gateway},
    tags::{decode_token, encode_token},
    views,
    vpn_gateway::{self, require_active},
};
use crate::{
    Ctx,
    context::{internal, page, store_error},
    errors,
};

pub(crate) async fn load(ctx: &Ctx<'_>, id: &str) -> Result<Versioned<IpsecServer>, ApiError> {
    ctx.store()
        .get_typed::<IpsecServer>(&ctx.scope()?, id)
        .await
        .map_err(internal)?
        .ok_or_else(errors::ipsec_server_not_found)
}

/// Where a server's pre-shared key is sealed.
fn psk_aad(id: &str) -> String {
    format!("ipsecserver:{id}:psk")
}

/// The cloud's error for a broken rule; `pool` is the `ClientIpPool` the
/// request gives or the server has.
fn rule_error(e: RuleError, pool: &str) -> ApiError {
    match e {
        RuleError::Subnets(e) => ssl_vpn::rule_error(e, pool),
        RuleError::Conflict { param, block, used } => errors::ipsec_server_block_in_use(
            param,
            &block.to_string(),
            &used.owner,
            used.param,
            &used.net.to_string(),
        ),
        RuleError::Name => errors::invalid_name(),
        RuleError::Psk => ApiError::invalid_parameter("Psk"),
        RuleError::PskDisabled => errors::illegal_param("PskEnabled"),
    }
}

/// `DryRun`: a string in the metadata (`true` / `false`, any case); empty
/// is not given.
fn dry_run(value: Option<&str>) -> Result<bool, ApiError> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(false),
        Some(v) if v.eq_ignore_ascii_case("true") => Ok(true),
        Some(v) if v.eq_ignore_ascii_case("false") => Ok(false),
        Some(_) => Err(ApiError::invalid_parameter("DryRun")),
    }
}

/// The keys of an `IkeConfig` / `IpsecConfig` that say something: Terraform
/// sends `null` for keys its schema lacks (its create reads `IpsecConfig`
/// under the wire names), `""` for fields a block leaves out and `0` for a
/// lifetime it leaves out; each of those keeps the current value (the
/// default on create) rather than being refused.
fn given_keys(param: &str, text: &str) -> Result<Map<String, Value>, ApiError> {
    let mut map = ike_json::object(param, text)?;
    map.retain(|key, v| match v {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Number(n) if key.ends_with("Lifetime") => n.as_i64() != Some(0),
        _ => true,
    });
    Ok(map)
}

/// The blocks the gateway's SSL server uses, which the IPsec server's may
/// not overlap.
async fn used_blocks(ctx: &Ctx<'_>, gateway_id: &str) -> Result<Vec<UsedBlock>, ApiError> {
    let Some(ssl) = ssl_vpn::of_gateway(ctx, gateway_id).await? else {
        return Ok(Vec::new());
    };
    let mut used = vec![UsedBlock {
        owner: ssl.id.clone(),
        param: "ClientIpPool",
        net: ssl.client_ip_pool.net(),
    }];
    used.extend(ssl.local_subnet.nets().iter().map(|net| UsedBlock {
        owner: ssl.id.clone(),
        param: "LocalSubnet",
        net: *net,
    }));
    Ok(used)
}

/// The server's settings as a request gives them; `None`: not given (Create
/// takes the default, Update keeps the stored value).
struct Settings {
    name: Option<String>,
    client_ip_pool: Option<String>,
    local_subnet: Option<String>,
    ike_config: Option<String>,
    ipsec_config: Option<String>,
    psk: Option<String>,
    psk_enabled: Option<bool>,
    effect_immediately: Option<bool>,
}

impl Settings {
    /// Only the name changes: the cloud applies that at once, without
    /// putting the gateway into `updating`.
    fn name_only(&self) -> bool {
        self.client_ip_pool.is_none()
            && self.local_subnet.is_none()
            && self.ike_config.is_none()
            && self.ipsec_config.is_none()
            && self.psk.is_none()
            && self.psk_enabled.is_none()
            && self.effect_immediately.is_none()
    }
}

/// Applies `s` to `server` (its `Psk` in the clear), checking every rule
/// against the blocks the gateway already uses. Nothing is stored here.
fn apply(server: &mut IpsecServer, s: Settings, used: &[UsedBlock]) -> Result<(), ApiError> {
    let pool_text = s
        .client_ip_pool
        .clone()
        .unwrap_or_else(|| server.client_ip_pool.to_string());
    let fail = |e: RuleError| rule_error(e, &pool_text);
    if let Some(name) = s.name {
        if !name.is_empty() {
            rules::check_name(&name).map_err(fail)?;
        }
        server.name = name;
    }
    if s.client_ip_pool.is_some() || s.local_subnet.is_some() {
        let local_text = s
            .local_subnet
            .clone()
            .unwrap_or_else(|| server.local_subnet.to_string());
        let (pool, local) = rules::parse_subnets(&pool_text, &local_text).map_err(fail)?;
        server.client_ip_pool = pool;
        server.local_subnet = local;
    }
    check_against(&server.client_ip_pool, &server.local_subnet, used).map_err(fail)?;
    if let Some(text) = &s.ike_config {
        ike_json::apply_ike(
            &mut server.ike,
            &given_keys("IkeConfig", text)?,
            "IkeConfig",
        )?;
    }
    if let Some(text) = &s.ipsec_config {
        ike_json::apply_ipsec(
            &mut server.ipsec,
            &given_keys("IpsecConfig", text)?,
            "IpsecConfig",
        )?;
    }
    if let Some(psk) = s.psk {
        rules::check_psk(&psk).map_err(fail)?;
        server.ike.psk = psk;
    }
    if let Some(enabled) = s.psk_enabled {
        rules::check_psk_enabled(enabled).map_err(fail)?;
        server.psk_enabled = enabled;
    }
    if let Some(e) = s.effect_immediately {
        server.effect_immediately = e;
    }
    Ok(())
}

fn created(s: &IpsecServer) -> create_op::Answer {
    create_op::Answer {
        creation_time: crate::ram::iso8601(s.create_time_ms),
        ipsec_server_id: s.id.clone(),
        ipsec_server_name: s.name.clone(),
        region_id: s.region_id.clone(),
        vpn_gateway_id: s.vpn_gateway_id.clone(),
    }
}

pub async fn create(ctx: &Ctx<'_>, req: create_op::Request) -> Result<create_op::Answer, ApiError> {
    let region = ctx.region()?;
    let gateway = ready_gateway(ctx, &req.vpn_gateway_id).await?;
    let used = used_blocks(ctx, &gateway.value.id).await?;
    let (pool, local) = rules::parse_subnets(&req.client_ip_pool, &req.local_subnet)
        .map_err(|e| rule_error(e, &req.client_ip_pool))?;
    let mut server = IpsecServer {
        id: new_id(IdKind::IpsecServer, region.id_prefix),
        region_id: region.id.to_owned(),
        vpn_gateway_id: gateway.value.id.clone(),
        name: String::new(),
        client_ip_pool: pool,
        local_subnet: local,
        effect_immediately: false,
        ike: ike_defaults(gateway.value.internet_ip.clone(), rules::generated_psk()),
        ipsec: ipsec_defaults(),
        psk_enabled: true,
        mfa: MultiFactorAuth::default(),
        resource_group_id: gateway.value.resource_group_id.clone(),
        create_time_ms: ctx.now_ms,
        online_client_count: 0,
        clients: Vec::new(),
        measured: Measured::default(),
    };
    let settings = Settings {
        name: req.ip_sec_server_name,
        client_ip_pool: None,
        local_subnet: None,
        ike_config: req.ike_config.filter(|t| !t.is_empty()),
        ipsec_config: req.ipsec_config.filter(|t| !t.is_empty()),
        psk: req.psk.filter(|p| !p.is_empty()),
        psk_enabled: req.psk_enabled,
        effect_immediately: req.effect_immediately,
    };
    apply(&mut server, settings, &used)?;
    if dry_run(req.dry_run.as_deref())? {
        return Err(errors::dry_run_passed());
    }
    server.ike.psk = ctx.secrets().seal(&server.ike.psk, &psk_aad(&server.id));
    match insert_one_per_gateway(ctx, &server, errors::ipsec_server_exists).await? {
        Inserted::Created => {
            gateway_updating(ctx, gateway).await;
            Ok(created(&server))
        }
        Inserted::Replayed { id } => Ok(created(&load(ctx, &id).await?.value)),
    }
}

pub async fn update(ctx: &Ctx<'_>, req: update_op::Request) -> Result<update_op::Answer, ApiError> {
    let Versioned { mut value, version } = load(ctx, &req.ipsec_server_id).await?;
    let settings = Settings {
        name: req.ipsec_server_name,
        client_ip_pool: req.client_ip_pool,
        local_subnet: req.local_subnet,
        ike_config: req.ike_config.filter(|t| !t.is_empty()),
        ipsec_config: req.ipsec_config.filter(|t| !t.is_empty()),
        psk: req.psk.filter(|p| !p.is_empty()),
        psk_enabled: req.psk_enabled,
        effect_immediately: req.effect_immediately,
    };
    let name_only = settings.name_only();
    let gateway = if name_only {
        vpn_gateway::load(ctx, &value.vpn_gateway_id).await?
    } else {
        ready_gateway(ctx, &value.vpn_gateway_id).await?
    };
    let used = used_blocks(ctx, &value.vpn_gateway_id).await?;
    value.ike.psk = ctx.secrets().open(&value.ike.psk, &psk_aad(&value.id))?;
    apply(&mut value, settings, &used)?;
    if dry_run(req.dry_run.as_deref())? {
        return Err(errors::dry_run_passed());
    }
    value.ike.psk = ctx.secrets().seal(&value.ike.psk, &psk_aad(&value.id));
    ctx.store()
        .update_typed(&ctx.caller.account_id, &value, version)
        .await
        .map_err(|e| store_error(e, errors::ipsec_server_not_found))?;
    if !name_only {
        gateway_updating(ctx, gateway).await;
    }
    Ok(update_op::Answer {})
}

pub async fn delete(ctx: &Ctx<'_>, req: delete_op::Request) -> Result<delete_op::Answer, ApiError> {
    let server = load(ctx, &req.ipsec_server_id).await?;
    let gateway = vpn_gateway::load(ctx, &server.value.vpn_gateway_id).await?;
    require_active(&gateway.value, ctx.now_ms)?;
    if dry_run(req.dry_run.as_deref())? {
        return Err(errors::dry_run_passed());
    }
    // The agent removes the server from charon, which ends every session.
    ctx.store()
        .delete(Kind::IpsecServer, &ctx.scope()?, &server.value.id)
        .await
        .map_err(|e| store_error(e, errors::ipsec_server_not_found))?;
    gateway_updating(ctx, gateway).await;
    Ok(delete_op::Answer {})
}

/// `MaxResults` of ListIpsecServers: documented 1–20, 10 when not given.
/// More is served as pages of 20: the Terraform provider's data source
/// sends 50 (PageSizeLarge) and follows `NextToken`.
const MAX_RESULTS: i64 = 20;
const DEFAULT_MAX_RESULTS: i64 = 10;

/// The ids a ListIpsecServers request filters on: `IpsecServerId.N` (the
/// SDKs) or a plain `IpsecServerId` holding a JSON list (`["iss-…"]`) or
/// one id. The plain form is outside the typed declaration, so its ids are
/// authorized here as the pipeline authorized the listed ones.
async fn requested_ids(ctx: &Ctx<'_>, listed: Vec<String>) -> Result<Vec<String>, ApiError> {
    let Some(plain) = ctx.opt("IpsecServerId") else {
        return Ok(listed);
    };
    let ids: Vec<String> = match serde_json::from_str::<Value>(plain) {
        Ok(Value::Array(items)) => items
            .into_iter()
            .map(|v| match v {
                Value::String(s) => Ok(s),
                _ => Err(ApiError::invalid_parameter("IpsecServerId")),
            })
            .collect::<Result<_, _>>()?,
        _ => vpn_gateway::id_list(Some(plain)),
    };
    let resources: Vec<vpngw_ops::Resource<'_>> = ids
        .iter()
        .map(|id| vpngw_ops::Resource {
            kind: vpngw_ops::Kind::IpsecServer,
            id,
        })
        .collect();
    ctx.authorize(&resources).await?;
    Ok(listed.into_iter().chain(ids).collect())
}

fn view(
    ctx: &Ctx<'_>,
    s: &IpsecServer,
    gateway: Option<&VpnGateway>,
) -> Result<list_op::IpsecServers, ApiError> {
    let psk = ctx.secrets().open(&s.ike.psk, &psk_aad(&s.id))?;
    let (_, online_client_count) = s.online(ctx.now_ms, ctx.config().clients_fresh_ms);
    let ike = views::ike(&s.ike, String::new());
    Ok(list_op::IpsecServers {
        client_ip_pool: s.client_ip_pool.to_string(),
        creation_time: crate::ram::iso8601(s.create_time_ms),
        effect_immediately: s.effect_immediately,
        i_daa_s_instance_id: s.mfa.idaas_instance_id.clone(),
        ike_config: list_op::IkeConfig {
            ike_auth_alg: ike.ike_auth_alg,
            ike_enc_alg: ike.ike_enc_alg,
            ike_lifetime: ike.ike_lifetime,
            ike_mode: ike.ike_mode,
            ike_pfs: ike.ike_pfs,
            ike_version: ike.ike_version,
            local_id: ike.local_id,
            remote_id: ike.remote_id,
        },
        internet_ip: gateway.map(|g| g.internet_ip.clone()).unwrap_or_default(),
        ipsec_config: views::ipsec(&s.ipsec),
        ipsec_server_id: s.id.clone(),
        ipsec_server_name: s.name.clone(),
        local_subnet: s.local_subnet.to_string(),
        max_connections: gateway.map_or(0, |g| g.ssl_connections),
        multi_factor_auth_enabled: s.mfa.enabled,
        online_client_count,
        psk,
        psk_enabled: s.psk_enabled,
        region_id: s.region_id.clone(),
        resource_group_id: s.resource_group_id.clone(),
        vpn_gateway_id: s.vpn_gateway_id.clone(),
    })
}

pub async fn list(ctx: &Ctx<'_>, req: list_op::Request) -> Result<list_op::Answer, ApiError> {
    let max = req.max_results.unwrap_or(DEFAULT_MAX_RESULTS);
    if max < 1 {
        return Err(ApiError::invalid_parameter("MaxResults"));
    }
    let max = max.min(MAX_RESULTS);
    let start = match req.next_token.as_deref().filter(|t| !t.is_empty()) {
        Some(t) => decode_token(t)?,
        None => 0,
    };
    let mut q = ListQuery::new(Kind::IpsecServer, ctx.scope()?, ctx.now_ms);
    q.ids = requested_ids(ctx, req.ipsec_server_id).await?;
    q.parent_id = req.vpn_gateway_id.filter(|g| !g.is_empty());
    q.resource_group_id = req.resource_group_id.filter(|g| !g.is_empty());
    if let Some(name) = req.ipsec_server_name.filter(|n| !n.is_empty()) {
        q.fields.push(("name", name));
    }
    q.offset = start as u64;
    q.limit = max as u64;
    let (servers, total) = ctx
        .store()
        .list_typed::<IpsecServer>(&q)
        .await
        .map_err(internal)?;
    let end = start + servers.len();
    let mut items = Vec::with_capacity(servers.len());
    for s in &servers {
        let gateway = vpn_gateway::load(ctx, &s.vpn_gateway_id).await.ok();
        items.push(view(ctx, s, gateway.as_ref().map(|g| &g.value))?);
    }
    Ok(list_op::Answer {
        ipsec_servers: items,
        max_results: max,
        next_token: if (end as u64) < total {
            encode_token(end)
        } else {
            String::new()
        },
        total_count: total as i64,
    })
}

pub async fn list_logs(ctx: &Ctx<'_>, req: logs_op::Request) -> Result<logs_op::Answer, ApiError> {
    let server = load(ctx, &req.ipsec_server_id).await?.value;
    let (from_ms, to_ms) = logs::window(ctx.now_ms, req.from, req.to, req.minute_period)?;
    let (number, size) = page(req.page_number, req.page_size, 50)?;
    let data = logs::lines(ctx, &server.id, None, (from_ms, to_ms), (number, size)).await?;
    Ok(logs_op::Answer {
        count: data.len() as i64,
        data,
        is_completed: true,
        page_number: number,
        page_size: size,
    })
}

/// Takes the agent's report of server `r.ipsec_server_id`, measured at
/// `measured_at`, if the server exists and is `gateway_id`'s (false
/// otherwise: deleted, or another gateway's). A report older than the
/// stored measurement, or one that says nothing new within `refresh_ms`,
/// writes nothing ([`IpsecServer::record`]); the SSL server's reports are
/// taken the same way.
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
        if value.record(measured_at, r, ctx.now_ms, refresh_ms) == Measurement::Changed {
            ctx.store()
                .update_typed::<IpsecServer>(&ctx.caller.account_id, &value, version)
                .await
                .map_err(|e| store_error(e, errors::ipsec_server_not_found))?;
        }
        Ok(true)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dry_run_is_a_string_flag() {
        assert_eq!(dry_run(None), Ok(false));
        assert_eq!(dry_run(Some("")), Ok(false));
        assert_eq!(dry_run(Some("TRUE")), Ok(true));
        assert_eq!(dry_run(Some("false")), Ok(false));
        assert_eq!(
            dry_run(Some("yes")).unwrap_err().code,
            "InvalidParameter".to_string()
        );
    }

    #[test]
    fn terraforms_empty_values_keep_the_defaults() {
        let map = given_keys(
            "IkeConfig",
            r#"{"IkeVersion":"","IkeMode":null,"IkeLifetime":0,"IkeEncAlg":"aes256","LocalId":""}"#,
        )
        .unwrap();
        assert_eq!(map.keys().collect::<Vec<_>>(), vec!["IkeEncAlg"]);
        assert!(given_keys("IkeConfig", "[1]").is_err());
    }
}
