//! CreateVpnConnection, DescribeVpnConnection(s),
//! ModifyVpnConnectionAttribute, DeleteVpnConnection.
//!
//! Secrets (the PSK, the BGP key) are sealed in the stored document and
//! opened only to build a response.

use serde::Serialize;
use vpngw_model::{
    Lifecycle, VpnConnection,
    connection::{BgpConfig, IkeConfig, IpsecConfig, STATUS_NOT_ESTABLISHED, generate_psk},
    ids::{IdKind, new_id},
    validate,
};
use vpngw_protocol::ApiError;
use vpngw_store::{InsertGuard, Inserted, Kind, ListQuery, Quota, StoreExt, Versioned};

use super::{
    customer_gateway, ike_json, reply, tag_filters,
    views::{OpenedSecrets, VpnConnectionView},
    vpn_gateway::{self, id_list, require_active},
};
use crate::{Ctx, actions::Reply, context::store_error, errors};

pub(crate) async fn load(ctx: &Ctx<'_>, id: &str) -> Result<Versioned<VpnConnection>, ApiError> {
    ctx.store()
        .get_typed::<VpnConnection>(&ctx.scope()?, id)
        .await
        .map_err(crate::context::internal)?
        .ok_or_else(errors::vpn_connection_not_found)
}

fn psk_aad(id: &str) -> String {
    format!("vpnconnection:{id}:psk")
}

fn bgp_key_aad(id: &str) -> String {
    format!("vpnconnection:{id}:bgpkey")
}

/// Seals the plaintext secrets of a connection about to be stored.
pub(crate) fn seal(ctx: &Ctx<'_>, c: &mut VpnConnection) {
    c.ike.psk = ctx.secrets().seal(&c.ike.psk, &psk_aad(&c.id));
    if let Some(k) = &c.bgp.auth_key {
        c.bgp.auth_key = Some(ctx.secrets().seal(k, &bgp_key_aad(&c.id)));
    }
    super::tunnel::seal_tunnels(ctx, c);
}

/// Opens the secrets of a stored connection in place.
pub(crate) fn unseal(ctx: &Ctx<'_>, c: &mut VpnConnection) -> Result<(), ApiError> {
    c.ike.psk = ctx.secrets().open(&c.ike.psk, &psk_aad(&c.id))?;
    if let Some(k) = &c.bgp.auth_key {
        c.bgp.auth_key = Some(ctx.secrets().open(k, &bgp_key_aad(&c.id))?);
    }
    super::tunnel::unseal_tunnels(ctx, c)?;
    Ok(())
}

/// The connection as answered. A function of the connection, its state as
/// of `ctx.now_ms` and the master key only: DescribeVpnConnection reuses
/// its answers on that basis (`answers.rs`).
pub(crate) fn view(
    ctx: &Ctx<'_>,
    c: &VpnConnection,
    list_item: bool,
) -> Result<VpnConnectionView, ApiError> {
    // Only the secrets are opened (in `unseal`'s order); the connection is
    // not copied for it.
    let secrets = OpenedSecrets {
        psk: ctx.secrets().open(&c.ike.psk, &psk_aad(&c.id))?,
        bgp_auth_key: c
            .bgp
            .auth_key
            .as_ref()
            .map(|k| ctx.secrets().open(k, &bgp_key_aad(&c.id)))
            .transpose()?,
        tunnel_psks: super::tunnel::opened_psks(ctx, c)?,
    };
    Ok(VpnConnectionView::of(c, secrets, ctx.now_ms, list_item))
}

fn subnets(ctx: &Ctx<'_>, name: &str) -> Result<Option<String>, ApiError> {
    match ctx.params.get(name) {
        None => Ok(None),
        Some(v) => validate::subnet_list(v)
            .map(|nets| Some(validate::join_subnets(&nets)))
            .map_err(|_| errors::illegal_subnet(name, v)),
    }
}

/// Applies the JSON-string parameters present in the request.
fn apply_json_params(ctx: &Ctx<'_>, c: &mut VpnConnection) -> Result<(), ApiError> {
    if let Some(text) = ctx.opt("IkeConfig") {
        ike_json::apply_ike(
            &mut c.ike,
            &ike_json::object("IkeConfig", text)?,
            "IkeConfig",
        )?;
    }
    if let Some(text) = ctx.opt("IpsecConfig") {
        ike_json::apply_ipsec(
            &mut c.ipsec,
            &ike_json::object("IpsecConfig", text)?,
            "IpsecConfig",
        )?;
    }
    if let Some(text) = ctx.opt("BgpConfig") {
        ike_json::apply_bgp(
            &mut c.bgp,
            &ike_json::object("BgpConfig", text)?,
            "BgpConfig",
        )?;
    }
    if let Some(text) = ctx.opt("HealthCheckConfig") {
        let map = ike_json::object("HealthCheckConfig", text)?;
        c.health_check =
            ike_json::apply_health_check(c.health_check.take(), &map, "HealthCheckConfig")?;
    }
    Ok(())
}

fn apply_flags(ctx: &Ctx<'_>, c: &mut VpnConnection) -> Result<(), ApiError> {
    let p = ctx.params;
    if let Some(v) = p.bool("EnableDpd")? {
        c.enable_dpd = v;
    }
    if let Some(v) = p.bool("EnableNatTraversal")? {
        c.enable_nat_traversal = v;
    }
    if let Some(v) = p.bool("EffectImmediately")? {
        c.effect_immediately = v;
    }
    if let Some(v) = p.bool("AutoConfigRoute")? {
        c.auto_config_route = v;
    }
    if let Some(v) = p.get("RemoteCaCertificate") {
        c.remote_ca_certificate = (!v.is_empty()).then(|| v.to_owned());
    }
    if let Some(name) = p.get("Name") {
        if !name.is_empty() && !validate::loose_name(name) {
            return Err(errors::invalid_name());
        }
        c.name = name.to_owned();
    }
    Ok(())
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Created {
    vpn_connection_id: String,
    name: String,
    create_time: i64,
}

pub async fn create(ctx: &Ctx<'_>) -> Reply {
    let region = ctx.region()?;
    let gateway = vpn_gateway::load(ctx, ctx.params.required("VpnGatewayId")?).await?;
    // Dual-tunnel gateways take TunnelOptionsSpecification instead of a
    // customer gateway (tunnel.rs).
    let dual = super::tunnel::create_mode(ctx, &gateway.value)?;
    let customer_gateway = if dual {
        None
    } else {
        Some(customer_gateway::load(ctx, ctx.params.required("CustomerGatewayId")?).await?)
    };
    let peer_ip = customer_gateway
        .as_ref()
        .map(|c| c.value.ip_address.clone());
    let local_subnet =
        subnets(ctx, "LocalSubnet")?.ok_or_else(|| ApiError::missing_parameter("LocalSubnet"))?;
    let remote_subnet =
        subnets(ctx, "RemoteSubnet")?.ok_or_else(|| ApiError::missing_parameter("RemoteSubnet"))?;
    let id = new_id(IdKind::VpnConnection, region.id_prefix);
    let mut conn = VpnConnection {
        id: id.clone(),
        region_id: region.id.to_owned(),
        vpn_gateway_id: Some(gateway.value.id.clone()),
        customer_gateway_id: customer_gateway.as_ref().map(|c| c.value.id.clone()),
        name: String::new(),
        local_subnet,
        remote_subnet,
        effect_immediately: false,
        enable_dpd: true,
        enable_nat_traversal: true,
        auto_config_route: true,
        remote_ca_certificate: None,
        ike: IkeConfig::defaults(
            gateway.value.internet_ip.clone(),
            peer_ip.clone().unwrap_or_default(),
            generate_psk(),
        ),
        ipsec: IpsecConfig::default(),
        bgp: BgpConfig::default(),
        health_check: None,
        tunnels: Vec::new(),
        enable_tunnels_bgp: false,
        tunnel_bandwidth: None,
        // CreateVpnConnection takes no ResourceGroupId: a gateway's
        // connections are in the gateway's group.
        resource_group_id: gateway.value.resource_group_id.clone(),
        create_time_ms: ctx.now_ms,
        tags: customer_gateway::create_tags(ctx)?,
        state: Lifecycle::settled("active"),
        status: STATUS_NOT_ESTABLISHED.to_owned(),
        measured: None,
        attachment: None,
    };
    apply_flags(ctx, &mut conn)?;
    apply_json_params(ctx, &mut conn)?;
    // The clashing connection of a dual-tunnel create, which the insert
    // refuses unless this is a ClientToken replay.
    let mut clash = None;
    match &customer_gateway {
        Some(cgw) => conn.bgp.peer_asn = cgw.value.asn,
        None => {
            conn.enable_tunnels_bgp = ctx.params.bool("EnableTunnelsBgp")?.unwrap_or(false);
            let sides = super::tunnel::gateway_sides(region, &gateway.value)?;
            super::tunnel::build_tunnels(ctx, &sides, &mut conn).await?;
            clash =
                super::tunnel::clashing_connection(ctx, &ctx.scope()?, &gateway.value.id, &conn)
                    .await?;
        }
    }
    require_active(&gateway.value, ctx.now_ms)?;
    if ctx.params.bool("DryRun")?.unwrap_or(false) {
        return Err(errors::dry_run_passed());
    }
    let opened = conn.clone();
    seal(ctx, &mut conn);
    let limit = ctx.config().quotas.connections_per_gateway;
    let guard = InsertGuard {
        quota: (limit > 0).then_some(Quota {
            limit,
            per_parent: true,
        }),
        idempotency: ctx.idempotency()?,
        // One single-tunnel connection per gateway and peer: the cloud says
        // so, and strongSwan could not tell two such tunnels apart.
        unique: match (&conn.customer_gateway_id, clash) {
            (Some(cgw), _) => vec![
                ("vpn_gateway_id", gateway.value.id.clone()),
                ("customer_gateway_id", cgw.clone()),
            ],
            // Dual tunnel: a clash found above makes the insert fail as a
            // duplicate (after the ClientToken check, so a replay still
            // answers the first result).
            (None, Some(other)) => vec![("id", other)],
            (None, None) => Vec::new(),
        },
    };
    // The connection, its log entries and the audit event of this answer
    // commit together: one durable commit per create.
    let answer = reply(&Created {
        vpn_connection_id: conn.id.clone(),
        name: conn.name.clone(),
        create_time: conn.create_time_ms,
    })?;
    let entries = super::logs::created(ctx, &ctx.scope()?, &opened, peer_ip.as_deref());
    let inserted = ctx
        .store()
        .insert_typed_with(
            &ctx.caller.account_id,
            &conn,
            guard,
            ctx.trail(entries, &answer),
        )
        .await
        .map_err(|e| match e {
            vpngw_store::StoreError::Duplicate => errors::connection_already_exists(),
            e => store_error(e, errors::vpn_connection_not_found),
        })?;
    match inserted {
        Inserted::Created => {
            super::routes::auto::configure(ctx, &opened).await?;
            Ok(ctx.audited(answer))
        }
        Inserted::Replayed { id } => {
            let created = load(ctx, &id).await?.value;
            reply(&Created {
                vpn_connection_id: created.id,
                name: created.name,
                create_time: created.create_time_ms,
            })
        }
    }
}

pub async fn describe(ctx: &Ctx<'_>) -> Reply {
    let id = ctx.params.required("VpnConnectionId")?;
    // `load`, without decoding the document unless the answer must be
    // written: it depends on the connection, its state as of now and the
    // master key only (`view`), so it is reused while those are the same.
    let record = ctx
        .store()
        .get(Kind::VpnConnection, &ctx.scope()?, id)
        .await
        .map_err(crate::context::internal)?
        .ok_or_else(errors::vpn_connection_not_found)?;
    ctx.inner
        .answers
        .connection(&record, ctx.now_ms, |c| reply(&view(ctx, c, false)?))
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Page {
    total_count: u64,
    page_number: i64,
    page_size: i64,
    vpn_connections: List,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct List {
    vpn_connection: Vec<VpnConnectionView>,
}

pub async fn describe_many(ctx: &Ctx<'_>) -> Reply {
    let (number, size) = ctx.page(50)?;
    let mut q = ListQuery::new(Kind::VpnConnection, ctx.scope()?, ctx.now_ms);
    q.ids = id_list(ctx.opt("VpnConnectionId"));
    q.parent_id = ctx.opt("VpnGatewayId").map(str::to_owned);
    q.linked_to = ctx.opt("CustomerGatewayId").map(str::to_owned);
    q.resource_group_id = ctx.opt("ResourceGroupId").map(str::to_owned);
    q.tags = tag_filters(ctx.params, "Tag")?;
    q.offset = ((number - 1) * size) as u64;
    q.limit = size as u64;
    let (conns, total) = ctx
        .store()
        .list_typed::<VpnConnection>(&q)
        .await
        .map_err(crate::context::internal)?;
    reply(&Page {
        total_count: total,
        page_number: number,
        page_size: size,
        vpn_connections: List {
            vpn_connection: conns
                .iter()
                .map(|c| view(ctx, c, true))
                .collect::<Result<_, _>>()?,
        },
    })
}

/// ModifyVpnConnectionAttribute's answer: the connection as now configured.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Modified {
    vpn_connection_id: String,
    vpn_gateway_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    customer_gateway_id: Option<String>,
    name: String,
    description: String,
    local_subnet: String,
    remote_subnet: String,
    create_time: i64,
    effect_immediately: bool,
    enable_dpd: bool,
    enable_nat_traversal: bool,
    enable_tunnels_bgp: bool,
    resource_group_id: String,
    ike_config: super::views::IkeConfigView,
    ipsec_config: super::views::IpsecConfigView,
    vpn_bgp_config: super::views::VpnBgpConfigView,
    vco_health_check: super::views::VcoHealthCheckView,
    /// Dual-tunnel connections: the tunnels, with real integer and boolean types.
    #[serde(skip_serializing_if = "Option::is_none")]
    tunnel_options_specification: Option<super::tunnel::TypedTunnels>,
}

/// Concurrent modifications of one connection take turns, and a lost race
/// with another replica is retried (`crate::rmw`): no update is lost, and
/// `VpnTask.CONFLICT` is answered only after repeated conflicts.
pub async fn modify(ctx: &Ctx<'_>) -> Reply {
    let id = ctx.params.required("VpnConnectionId")?;
    crate::rmw::serialized(ctx, id, || modify_once(ctx)).await
}

async fn modify_once(ctx: &Ctx<'_>) -> Reply {
    let id = ctx.params.required("VpnConnectionId")?;
    let Versioned {
        value: stored,
        version,
    } = load(ctx, id).await?;
    // A transit-router attachment has no gateway to wait for.
    if let Some(gateway_id) = &stored.vpn_gateway_id {
        let gateway = vpn_gateway::load(ctx, gateway_id).await?;
        require_active(&gateway.value, ctx.now_ms)?;
    }
    let mut conn = stored;
    unseal(ctx, &mut conn)?;
    let before = conn.clone();
    if !conn.tunnels.is_empty() {
        super::tunnel::refuse_single_tunnel_settings(ctx)?;
    }
    if let Some(s) = subnets(ctx, "LocalSubnet")? {
        conn.local_subnet = s;
    }
    if let Some(s) = subnets(ctx, "RemoteSubnet")? {
        conn.remote_subnet = s;
    }
    apply_flags(ctx, &mut conn)?;
    apply_json_params(ctx, &mut conn)?;
    // Dual tunnel: TunnelOptionsSpecification and EnableTunnelsBgp.
    super::tunnel::apply_modify(ctx, &mut conn).await?;
    let scope = ctx.scope()?;
    if let Some(gateway_id) = &conn.vpn_gateway_id
        && conn.tunnels != before.tunnels
        && super::tunnel::clashing_connection(ctx, &scope, gateway_id, &conn)
            .await?
            .is_some()
    {
        return Err(errors::connection_already_exists());
    }
    let opened = conn.clone();
    seal(ctx, &mut conn);
    let entries = super::logs::modified(ctx, &scope, &before, &opened);
    let health_status = vpngw_model::dataplane::health_check_status(&opened);
    let answer = reply(&Modified {
        ike_config: super::views::IkeConfigView::of(&opened.ike, opened.ike.psk.clone()),
        ipsec_config: super::views::IpsecConfigView::of(&opened.ipsec),
        vpn_bgp_config: super::views::VpnBgpConfigView::of(
            &opened.bgp,
            opened.bgp.auth_key.clone(),
            vpngw_model::dataplane::bgp_status(&opened, &opened.id),
        ),
        vco_health_check: super::views::VcoHealthCheckView::of(
            opened.health_check.as_ref(),
            health_status,
        ),
        tunnel_options_specification: super::tunnel::typed_tunnels(&opened, ctx.now_ms),
        vpn_connection_id: opened.id,
        vpn_gateway_id: opened.vpn_gateway_id.unwrap_or_default(),
        customer_gateway_id: opened.customer_gateway_id,
        name: opened.name,
        description: String::new(),
        local_subnet: opened.local_subnet,
        remote_subnet: opened.remote_subnet,
        create_time: opened.create_time_ms,
        effect_immediately: opened.effect_immediately,
        enable_dpd: opened.enable_dpd,
        enable_nat_traversal: opened.enable_nat_traversal,
        enable_tunnels_bgp: opened.enable_tunnels_bgp,
        resource_group_id: opened.resource_group_id,
    })?;
    // The change, its log entries and its audit event commit together.
    ctx.store()
        .update_typed_with(
            &ctx.caller.account_id,
            &conn,
            version,
            ctx.trail(entries, &answer),
        )
        .await
        .map_err(|e| store_error(e, errors::vpn_connection_not_found))?;
    super::routes::auto::configure(ctx, &conn).await?;
    Ok(ctx.audited(answer))
}

pub async fn delete(ctx: &Ctx<'_>) -> Reply {
    let id = ctx.params.required("VpnConnectionId")?;
    let conn = load(ctx, id).await?;
    if let Some(gateway_id) = &conn.value.vpn_gateway_id {
        let gateway = vpn_gateway::load(ctx, gateway_id).await?;
        if gateway.value.lifecycle.effective(ctx.now_ms) == "updating" {
            return Err(errors::gateway_configuring());
        }
    }
    let scope = ctx.scope()?;
    let answer = reply(&serde_json::json!({}))?;
    let entries = vec![super::logs::entry(
        ctx,
        &scope,
        id,
        None,
        "connection deleted".to_owned(),
    )];
    ctx.store()
        // Its routes go with it (routes::CASCADE); its log entry and audit
        // event commit with the delete.
        .delete_cascade_with(
            Kind::VpnConnection,
            &scope,
            id,
            super::routes::CASCADE,
            ctx.trail(entries, &answer),
        )
        .await
        .map_err(|e| store_error(e, errors::vpn_connection_not_found))?;
    Ok(ctx.audited(answer))
}
