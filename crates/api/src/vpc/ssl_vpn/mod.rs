//! SSL-VPN: a VPN gateway's OpenVPN server and its client certificates.
//!
//! - this module: CreateSslVpnServer, DescribeSslVpnServers,
//!   ModifySslVpnServer, DeleteSslVpnServer;
//! - `certs.rs`: the client certificates (Create/Describe/Modify/Delete,
//!   DescribeSslVpnClientCerts);
//! - `online.rs`: what the data plane measured (DescribeSslVpnClients,
//!   DescribeVpnSslServerLogs) and the agent's DescribeSslVpnServerPki;
//! - `pki.rs`: the server's certificate authority, keys sealed at rest.
//!
//! The rules are the model's (`vpngw_model::ssl_vpn`); this layer gives each
//! broken rule its cloud error. One server per gateway (the store counts
//! them in the insert's transaction), on a gateway with `EnableSsl`; its
//! `ClientIpPool` holds a /30 for each of the gateway's `SslConnections`.
//! Deleting the server deletes its certificates with it (the cloud's
//! reference); the agent then stops OpenVPN, which ends every session.

pub mod certs;
pub mod online;
pub mod pki;

use vpngw_model::{
    SslVpnServer, VpnGateway,
    ids::{IdKind, new_id},
    ssl_vpn::{
        self, Cipher, ClientIpPool, DEFAULT_PORT, LocalSubnets, MultiFactorAuth, Proto, RuleError,
    },
};
use vpngw_ops::vpc::{
    create_ssl_vpn_server, delete_ssl_vpn_server, describe_ssl_vpn_servers, modify_ssl_vpn_server,
};
use vpngw_protocol::ApiError;
use vpngw_store::{InsertGuard, Inserted, Kind, ListQuery, Quota, StoreError, StoreExt, Versioned};

use super::vpn_gateway::{self, id_list, require_active};
use crate::{
    Ctx,
    context::{internal, page, store_error},
    errors,
};

pub(crate) async fn load(ctx: &Ctx<'_>, id: &str) -> Result<Versioned<SslVpnServer>, ApiError> {
    ctx.store()
        .get_typed::<SslVpnServer>(&ctx.scope()?, id)
        .await
        .map_err(internal)?
        .ok_or_else(errors::ssl_vpn_server_not_found)
}

/// The gateway's SSL server, if it has one.
pub(crate) async fn of_gateway(
    ctx: &Ctx<'_>,
    gateway_id: &str,
) -> Result<Option<SslVpnServer>, ApiError> {
    let mut q = ListQuery::new(Kind::SslVpnServer, ctx.scope()?, ctx.now_ms);
    q.parent_id = Some(gateway_id.to_owned());
    q.limit = 1;
    let (mut servers, _) = ctx
        .store()
        .list_typed::<SslVpnServer>(&q)
        .await
        .map_err(internal)?;
    Ok(servers.pop())
}

/// The cloud's error for a broken rule.
pub(crate) fn rule_error(e: RuleError, pool: &str) -> ApiError {
    match e {
        RuleError::PoolMalformed | RuleError::PoolMask | RuleError::PoolReserved => {
            errors::illegal_subnet("ClientIpPool", pool)
        }
        RuleError::PoolTooSmall { max_connections } => {
            errors::client_ip_pool_too_small(pool, max_connections)
        }
        RuleError::LocalSubnetMalformed(s)
        | RuleError::LocalSubnetMask(s)
        | RuleError::LocalSubnetReserved(s) => errors::illegal_subnet("LocalSubnet", &s),
        RuleError::LocalSubnetTooMany => {
            ApiError::invalid_parameter_because("LocalSubnet", "at most 5 blocks are allowed.")
        }
        RuleError::Overlap(block) => errors::client_ip_pool_overlaps(pool, &block),
        RuleError::Port => errors::illegal_param("Port"),
        RuleError::DnsServers => errors::illegal_param("DnsServers"),
        RuleError::IdaasMissing => ApiError::missing_parameter("IDaaSInstanceId"),
        RuleError::Name => errors::invalid_name(),
    }
}

/// The server's settings as a request gives them; `None`: not given (Create
/// takes the default, Modify keeps the stored value). An empty `Proto` or
/// `Cipher` is not given; an empty `Name` or `DnsServers` clears it.
#[derive(Default)]
struct Settings {
    name: Option<String>,
    client_ip_pool: Option<String>,
    local_subnet: Option<String>,
    proto: Option<String>,
    port: Option<i64>,
    cipher: Option<String>,
    compress: Option<bool>,
    dns_servers: Option<String>,
    enable_mfa: Option<bool>,
    idaas_instance_id: Option<String>,
    idaas_region_id: Option<String>,
    idaas_application_id: Option<String>,
}

fn given(v: Option<String>) -> Option<String> {
    v.filter(|v| !v.is_empty())
}

impl Settings {
    /// CreateSslVpnServer's settings; the pool and local subnets are
    /// parsed by `create` (required there).
    fn of_create(r: &create_ssl_vpn_server::Request) -> Settings {
        Settings {
            name: r.name.clone(),
            proto: given(r.proto.clone()),
            port: r.port,
            cipher: given(r.cipher.clone()),
            compress: r.compress,
            dns_servers: r.dns_servers.clone(),
            enable_mfa: r.enable_multi_factor_auth,
            idaas_instance_id: r.i_daa_s_instance_id.clone(),
            idaas_region_id: r.i_daa_s_region_id.clone(),
            idaas_application_id: r.i_daa_s_application_id.clone(),
            ..Settings::default()
        }
    }

    fn of_modify(r: modify_ssl_vpn_server::Request) -> Settings {
        Settings {
            name: r.name,
            client_ip_pool: r.client_ip_pool,
            local_subnet: r.local_subnet,
            proto: given(r.proto),
            port: r.port,
            cipher: given(r.cipher),
            compress: r.compress,
            dns_servers: r.dns_servers,
            enable_mfa: r.enable_multi_factor_auth,
            idaas_instance_id: r.i_daa_s_instance_id,
            idaas_region_id: r.i_daa_s_region_id,
            idaas_application_id: r.i_daa_s_application_id,
        }
    }
}

/// Applies `s` to `server`, checking every rule against the gateway's
/// `SslConnections`. Nothing is stored here.
fn apply(server: &mut SslVpnServer, s: Settings, gateway: &VpnGateway) -> Result<(), ApiError> {
    let pool_text = s
        .client_ip_pool
        .clone()
        .unwrap_or_else(|| server.client_ip_pool.to_string());
    let fail = |e: RuleError| rule_error(e, &pool_text);
    if let Some(name) = s.name {
        if !name.is_empty() {
            ssl_vpn::check_name(&name).map_err(fail)?;
        }
        server.name = name;
    }
    if let Some(pool) = &s.client_ip_pool {
        server.client_ip_pool = ClientIpPool::parse(pool).map_err(fail)?;
    }
    if let Some(local) = &s.local_subnet {
        server.local_subnet = LocalSubnets::parse(local).map_err(fail)?;
    }
    ssl_vpn::overlap(&server.client_ip_pool, &server.local_subnet).map_err(fail)?;
    server
        .client_ip_pool
        .check_capacity(gateway.ssl_connections)
        .map_err(fail)?;
    if let Some(p) = s.proto {
        server.proto = Proto::parse(&p).ok_or_else(|| errors::illegal_param("Proto"))?;
    }
    if let Some(port) = s.port {
        server.port = ssl_vpn::check_port(port).map_err(fail)?;
    }
    if let Some(c) = s.cipher {
        server.cipher = Cipher::parse(&c).ok_or_else(|| errors::illegal_param("Cipher"))?;
    }
    if let Some(c) = s.compress {
        server.compress = c;
    }
    if let Some(dns) = s.dns_servers {
        server.dns_servers = ssl_vpn::parse_dns_servers(&dns).map_err(fail)?;
    }
    if let Some(enabled) = s.enable_mfa {
        server.mfa.enabled = enabled;
    }
    if let Some(v) = s.idaas_instance_id {
        server.mfa.idaas_instance_id = v;
    }
    if let Some(v) = s.idaas_region_id {
        server.mfa.idaas_region_id = v;
    }
    if let Some(v) = s.idaas_application_id {
        server.mfa.idaas_application_id = v;
    }
    server.mfa.check().map_err(fail)
}

fn refuse_dry_run(flag: Option<bool>) -> Result<(), ApiError> {
    if flag == Some(true) {
        return Err(errors::dry_run_passed());
    }
    Ok(())
}

/// Puts the gateway into `updating` for the configured delay, as the cloud
/// does while it applies an SSL-VPN or IPsec server change (Terraform waits for `active`).
/// A conflicting write of the gateway wins: the change itself is stored.
pub(crate) async fn gateway_updating(ctx: &Ctx<'_>, gateway: Versioned<VpnGateway>) {
    let delay = ctx.config().gateway_update_delay_ms;
    if delay <= 0 {
        return;
    }
    let Versioned { mut value, version } = gateway;
    value.lifecycle.settle(ctx.now_ms);
    value.lifecycle = vpngw_model::Lifecycle::transition("updating", ctx.now_ms + delay, "active");
    if let Err(e) = ctx
        .store()
        .update_typed(&ctx.caller.account_id, &value, version)
        .await
    {
        tracing::debug!(error = %e, "gateway left active after an SSL-VPN change");
    }
}

/// A gateway that takes SSL-VPN changes now: exists, has `EnableSsl`, is
/// `active`.
pub(crate) async fn ready_gateway(
    ctx: &Ctx<'_>,
    id: &str,
) -> Result<Versioned<VpnGateway>, ApiError> {
    let gateway = vpn_gateway::load(ctx, id).await?;
    if !gateway.value.enable_ssl {
        return Err(errors::ssl_vpn_disabled());
    }
    require_active(&gateway.value, ctx.now_ms)?;
    Ok(gateway)
}

fn created(s: &SslVpnServer) -> create_ssl_vpn_server::Answer {
    create_ssl_vpn_server::Answer {
        ssl_vpn_server_id: s.id.clone(),
        name: s.name.clone(),
    }
}

pub async fn create(
    ctx: &Ctx<'_>,
    req: create_ssl_vpn_server::Request,
) -> Result<create_ssl_vpn_server::Answer, ApiError> {
    let region = ctx.region()?;
    let gateway = ready_gateway(ctx, &req.vpn_gateway_id).await?;
    let pool = req.client_ip_pool.as_str();
    let id = new_id(IdKind::SslVpnServer, region.id_prefix);
    let mut server = SslVpnServer {
        id: id.clone(),
        region_id: region.id.to_owned(),
        vpn_gateway_id: gateway.value.id.clone(),
        name: String::new(),
        client_ip_pool: ClientIpPool::parse(pool).map_err(|e| rule_error(e, pool))?,
        local_subnet: LocalSubnets::parse(&req.local_subnet).map_err(|e| rule_error(e, pool))?,
        proto: Proto::Tcp,
        port: ssl_vpn::check_port(DEFAULT_PORT).map_err(|e| rule_error(e, ""))?,
        cipher: Cipher::Aes128Cbc,
        compress: false,
        dns_servers: Vec::new(),
        mfa: MultiFactorAuth::default(),
        resource_group_id: gateway.value.resource_group_id.clone(),
        create_time_ms: ctx.now_ms,
        tags: Vec::new(),
        pki: vpngw_model::ssl_vpn::ServerPki {
            ca_cert_pem: String::new(),
            ca_key: String::new(),
            server_cert_pem: String::new(),
            server_key: String::new(),
            next_serial: 0,
            revoked: Vec::new(),
            crl_number: 0,
            crl_pem: String::new(),
        },
        connections: 0,
        clients: Vec::new(),
        measured: vpngw_model::measured::Measured::default(),
    };
    apply(&mut server, Settings::of_create(&req), &gateway.value)?;
    refuse_dry_run(req.dry_run)?;
    server.pki = pki::new_server(ctx.secrets(), &id, ctx.now_ms)?;
    match insert_one_per_gateway(ctx, &server, errors::ssl_vpn_server_exists).await? {
        Inserted::Created => {
            gateway_updating(ctx, gateway).await;
            Ok(created(&server))
        }
        Inserted::Replayed { id } => Ok(created(&load(ctx, &id).await?.value)),
    }
}

/// Stores a new server of the gateway's SSL-VPN feature (the SSL server,
/// the IPsec server) under the request's `ClientToken`: one of its kind per
/// gateway, counted in the insert's transaction; `exists` is the cloud's
/// error for a second one.
pub(crate) async fn insert_one_per_gateway<R: vpngw_store::Resource>(
    ctx: &Ctx<'_>,
    server: &R,
    exists: fn() -> ApiError,
) -> Result<Inserted, ApiError> {
    let guard = InsertGuard {
        quota: Some(Quota {
            limit: 1,
            per_parent: true,
        }),
        idempotency: ctx.idempotency()?,
        unique: Vec::new(),
    };
    ctx.store()
        .insert_typed(&ctx.caller.account_id, server, guard)
        .await
        .map_err(|e| match e {
            StoreError::QuotaExceeded { .. } => exists(),
            e => store_error(e, errors::vpn_gateway_not_found),
        })
}

/// `InternetIp` of a server: the address its clients dial.
pub(crate) fn internet_ip(gateway: &VpnGateway) -> String {
    gateway
        .ssl_vpn_internet_ip
        .clone()
        .unwrap_or_else(|| gateway.internet_ip.clone())
}

/// The server as DescribeSslVpnServers shows it at `now_ms`; `gateway`
/// gives `MaxConnections` and `InternetIp`.
fn view(
    ctx: &Ctx<'_>,
    s: &SslVpnServer,
    gateway: Option<&VpnGateway>,
) -> describe_ssl_vpn_servers::SslVpnServer {
    let (_, connections) = s.online(ctx.now_ms, ctx.config().clients_fresh_ms);
    describe_ssl_vpn_servers::SslVpnServer {
        region_id: s.region_id.clone(),
        ssl_vpn_server_id: s.id.clone(),
        vpn_gateway_id: s.vpn_gateway_id.clone(),
        name: s.name.clone(),
        local_subnet: s.local_subnet.to_string(),
        client_ip_pool: s.client_ip_pool.to_string(),
        create_time: s.create_time_ms,
        cipher: s.cipher.to_string(),
        proto: s.proto.to_string(),
        port: i64::from(s.port),
        compress: s.compress,
        connections,
        max_connections: gateway.map_or(0, |g| g.ssl_connections),
        internet_ip: gateway.map(internet_ip).unwrap_or_default(),
        enable_multi_factor_auth: s.mfa.enabled,
        i_daa_s_instance_id: s.mfa.idaas_instance_id.clone(),
        i_daa_s_region_id: s.mfa.idaas_region_id.clone(),
        i_daa_s_application_id: s.mfa.idaas_application_id.clone(),
        i_daa_s_instance_version: s.mfa.instance_version().map(str::to_owned),
        resource_group_id: s.resource_group_id.clone(),
        dns_servers: s.dns_servers_text(),
    }
}

pub async fn describe_many(
    ctx: &Ctx<'_>,
    req: describe_ssl_vpn_servers::Request,
) -> Result<describe_ssl_vpn_servers::Answer, ApiError> {
    let (number, size) = page(req.page_number, req.page_size, 50)?;
    let mut q = ListQuery::new(Kind::SslVpnServer, ctx.scope()?, ctx.now_ms);
    q.ids = id_list(req.ssl_vpn_server_id.as_deref());
    q.parent_id = given(req.vpn_gateway_id);
    q.resource_group_id = given(req.resource_group_id);
    if let Some(name) = given(req.name) {
        q.fields.push(("name", name));
    }
    q.offset = ((number - 1) * size) as u64;
    q.limit = size as u64;
    let (servers, total) = ctx
        .store()
        .list_typed::<SslVpnServer>(&q)
        .await
        .map_err(internal)?;
    let mut items = Vec::with_capacity(servers.len());
    for s in &servers {
        let gateway = vpn_gateway::load(ctx, &s.vpn_gateway_id).await.ok();
        items.push(view(ctx, s, gateway.as_ref().map(|g| &g.value)));
    }
    Ok(describe_ssl_vpn_servers::Answer {
        total_count: total as i64,
        page_number: number,
        page_size: size,
        ssl_vpn_servers: describe_ssl_vpn_servers::SslVpnServers {
            ssl_vpn_server: items,
        },
    })
}

/// ModifySslVpnServer answers the server as DescribeSslVpnServers shows it,
/// less what its SDK model lacks (`DnsServers`, `IDaaSRegionId`): the same
/// fields, carried over by name.
fn modify_answer(
    ctx: &Ctx<'_>,
    s: &SslVpnServer,
    gateway: &VpnGateway,
) -> Result<modify_ssl_vpn_server::Answer, ApiError> {
    serde_json::to_value(view(ctx, s, Some(gateway)))
        .and_then(serde_json::from_value)
        .map_err(|e| {
            tracing::error!(error = %e, "ModifySslVpnServer's answer");
            ApiError::internal()
        })
}

pub async fn modify(
    ctx: &Ctx<'_>,
    req: modify_ssl_vpn_server::Request,
) -> Result<modify_ssl_vpn_server::Answer, ApiError> {
    let dry_run = req.dry_run;
    let Versioned { mut value, version } = load(ctx, &req.ssl_vpn_server_id).await?;
    let gateway = ready_gateway(ctx, &value.vpn_gateway_id).await?;
    apply(&mut value, Settings::of_modify(req), &gateway.value)?;
    refuse_dry_run(dry_run)?;
    ctx.store()
        .update_typed(&ctx.caller.account_id, &value, version)
        .await
        .map_err(|e| store_error(e, errors::ssl_vpn_server_not_found))?;
    let answer = modify_answer(ctx, &value, &gateway.value)?;
    gateway_updating(ctx, gateway).await;
    Ok(answer)
}

pub async fn delete(
    ctx: &Ctx<'_>,
    req: delete_ssl_vpn_server::Request,
) -> Result<delete_ssl_vpn_server::Answer, ApiError> {
    let server = load(ctx, &req.ssl_vpn_server_id).await?;
    let gateway = vpn_gateway::load(ctx, &server.value.vpn_gateway_id).await?;
    require_active(&gateway.value, ctx.now_ms)?;
    // The certificates go with the server, in one transaction (the cloud's
    // DeleteSslVpnServer deletes them too); the agent stops OpenVPN.
    ctx.store()
        .delete_cascade(
            Kind::SslVpnServer,
            &ctx.scope()?,
            &server.value.id,
            &[Kind::SslVpnClientCert],
        )
        .await
        .map_err(|e| store_error(e, errors::ssl_vpn_server_not_found))?;
    gateway_updating(ctx, gateway).await;
    Ok(delete_ssl_vpn_server::Answer {})
}
