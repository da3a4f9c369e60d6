//! CreateVpnConnection, DescribeVpnConnection(s),
//! ModifyVpnConnectionAttribute, DeleteVpnConnection.
//!
//! Secrets (the PSK, the BGP key) are sealed in the stored document and
//! opened only to build a response.

use vpngw_model::{
    Lifecycle, VpnConnection,
    connection::{BgpConfig, IkeConfig, IpsecConfig, STATUS_NOT_ESTABLISHED, generate_psk},
    dataplane::{bgp_status, health_check_status},
    ids::{IdKind, new_id},
};
use vpngw_ops::vpc::{
    create_vpn_connection as create_op, delete_vpn_connection as delete_op,
    describe_vpn_connection as describe_op, describe_vpn_connections as list_op,
    modify_vpn_connection_attribute as modify_op, shapes,
};
use vpngw_protocol::ApiError;
use vpngw_store::{InsertGuard, Inserted, Kind, ListQuery, Quota, StoreExt, Versioned};

use super::{
    customer_gateway,
    draft::{ConnectionDraft, subnets},
    given, reply, tag_filters_of, tags,
    views::{self, connection_fields, health_check, typed_tunnel, vpn_bgp},
    vpn_gateway::{self, id_list, require_active},
};
use crate::{
    Ctx,
    context::{page, store_error},
    errors,
    operation::Encoded,
};

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

/// The secrets of a stored connection, opened for its answer.
struct OpenedSecrets {
    psk: String,
    bgp_auth_key: Option<String>,
    tunnel_psks: Vec<String>,
}

fn opened_secrets(ctx: &Ctx<'_>, c: &VpnConnection) -> Result<OpenedSecrets, ApiError> {
    // Only the secrets are opened (in `unseal`'s order); the connection is
    // not copied for it.
    Ok(OpenedSecrets {
        psk: ctx.secrets().open(&c.ike.psk, &psk_aad(&c.id))?,
        bgp_auth_key: c
            .bgp
            .auth_key
            .as_ref()
            .map(|k| ctx.secrets().open(k, &bgp_key_aad(&c.id)))
            .transpose()?,
        tunnel_psks: super::tunnel::opened_psks(ctx, c)?,
    })
}

/// The connection as DescribeVpnConnection answers it and as
/// DescribeVpnConnections lists it (two types): every field but the tag
/// wrapper, `ZoneNo` and `VpnBgpConfig`, which the callers add.
macro_rules! connection_answer {
    ($ty:path, $c:expr, $secrets:expr, $now_ms:expr; $($field:ident: $value:expr),* $(,)?) => {{
        let c: &VpnConnection = $c;
        let secrets: &OpenedSecrets = $secrets;
        let effective_state = c.state.effective($now_ms).to_owned();
        let a = c.attachment.as_ref();
        connection_fields!(
            $ty, c;
            customer_gateway_id: c.customer_gateway_id.clone(),
            remote_ca_certificate: c.remote_ca_certificate.clone(),
            status: c.status.clone(),
            network_type: a.map_or("public", |a| a.network_type.as_str()).to_owned(),
            // Transit-router attachments only (CreateVpnAttachment).
            attach_type: a.map(|a| a.attach_type.clone()),
            attach_instance_id: a.map(|a| a.attach_instance_id.clone().unwrap_or_default()),
            spec: a.map(|_| super::attachment::spec(c.tunnel_bandwidth.as_deref()).to_owned()),
            internet_ip: a.map(|a| a.internet_ip.clone()),
            transit_router_id: a.map(|a| a.transit_router_id.clone().unwrap_or_default()),
            transit_router_name: a.map(|a| a.transit_router_name.clone().unwrap_or_default()),
            cross_account_authorized: a.map(|a| a.cross_account_authorized),
            ike_config: views::ike(&c.ike, secrets.psk.clone()),
            vco_health_check: health_check!(
                shapes::VcoHealthCheck, c.health_check.as_ref();
                policy: c.health_check.as_ref().map(|h| h.policy.as_str().to_owned()),
                status: health_check_status(c).to_owned(),
            ),
            tunnel_options_specification: (!c.tunnels.is_empty()).then(|| {
                shapes::TunnelOptionsSpecification {
                    tunnel_options: c
                        .tunnels
                        .iter()
                        .zip(secrets.tunnel_psks.iter().cloned().chain(std::iter::repeat(String::new())))
                        .map(|(t, psk)| views::tunnel_options(t, &effective_state, psk, bgp_status(c, &t.id)))
                        .collect(),
                }
            }),
            tunnel_bandwidth: c.tunnel_bandwidth.clone(),
            state: effective_state,
            $($field: $value,)*
        )
    }};
}

/// DescribeVpnConnection's answer. A function of the connection, its state
/// as of `ctx.now_ms` and the master key only: DescribeVpnConnection reuses
/// its answers on that basis (`answers.rs`).
pub(crate) fn answer(ctx: &Ctx<'_>, c: &VpnConnection) -> Result<describe_op::Answer, ApiError> {
    let secrets = opened_secrets(ctx, c)?;
    Ok(connection_answer!(
        describe_op::Answer, c, &secrets, ctx.now_ms;
        tags: views::tags(&c.tags),
        zone_no: c.attachment.as_ref().map(|a| a.zone_no.clone()),
        vpn_bgp_config: vpn_bgp!(
            describe_op::VpnBgpConfig, &c.bgp, bgp_status(c, &c.id);
            enable_bgp: c.bgp.enable.to_string(),
            auth_key: secrets.bgp_auth_key.clone(),
        ),
    ))
}

/// The connection as DescribeVpnConnections lists it: what the agent reads
/// (directly, or in WatchGatewayState's answer) and the report is judged by.
pub(crate) fn list_item(
    ctx: &Ctx<'_>,
    c: &VpnConnection,
) -> Result<list_op::VpnConnection, ApiError> {
    let secrets = opened_secrets(ctx, c)?;
    Ok(connection_answer!(
        list_op::VpnConnection, c, &secrets, ctx.now_ms;
        tag: views::tags(&c.tags),
        vpn_bgp_config: vpn_bgp!(
            list_op::VpnBgpConfig, &c.bgp, bgp_status(c, &c.id);
            auth_key: secrets.bgp_auth_key.clone(),
        ),
    ))
}

fn created(c: &VpnConnection) -> create_op::Answer {
    create_op::Answer {
        vpn_connection_id: c.id.clone(),
        name: c.name.clone(),
        create_time: c.create_time_ms,
    }
}

pub async fn create(ctx: &Ctx<'_>, req: create_op::Request) -> Result<create_op::Answer, ApiError> {
    let region = ctx.region()?;
    let gateway = vpn_gateway::load(ctx, &req.vpn_gateway_id).await?;
    let draft = ConnectionDraft::of_create(ctx, &req);
    // Dual-tunnel gateways take TunnelOptionsSpecification instead of a
    // customer gateway (tunnel.rs).
    let dual = super::tunnel::create_mode(&draft, &gateway.value)?;
    let customer_gateway = if dual {
        None
    } else {
        let id = given(&req.customer_gateway_id)
            .ok_or_else(|| ApiError::missing_parameter("CustomerGatewayId"))?;
        Some(customer_gateway::load(ctx, id).await?)
    };
    let peer_ip = customer_gateway
        .as_ref()
        .map(|c| c.value.ip_address.clone());
    let local_subnet = subnets("LocalSubnet", Some(&req.local_subnet))?
        .ok_or_else(|| ApiError::missing_parameter("LocalSubnet"))?;
    let remote_subnet = subnets("RemoteSubnet", Some(&req.remote_subnet))?
        .ok_or_else(|| ApiError::missing_parameter("RemoteSubnet"))?;
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
        tags: tags::of_request(&req.tags)?,
        state: Lifecycle::settled("active"),
        status: STATUS_NOT_ESTABLISHED.to_owned(),
        measured: None,
        attachment: None,
    };
    draft.apply_attributes(&mut conn)?;
    draft.apply_json(&mut conn)?;
    // The clashing connection of a dual-tunnel create, which the insert
    // refuses unless this is a ClientToken replay.
    let mut clash = None;
    match &customer_gateway {
        Some(cgw) => conn.bgp.peer_asn = cgw.value.asn,
        None => {
            conn.enable_tunnels_bgp = draft.enable_tunnels_bgp.unwrap_or(false);
            let sides = super::tunnel::gateway_sides(region, &gateway.value)?;
            super::tunnel::build_tunnels(ctx, &sides, &draft, &mut conn).await?;
            clash =
                super::tunnel::clashing_connection(ctx, &ctx.scope()?, &gateway.value.id, &conn)
                    .await?;
        }
    }
    require_active(&gateway.value, ctx.now_ms)?;
    if req.dry_run.unwrap_or(false) {
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
    let answer = created(&conn);
    let entries = super::logs::created(ctx, &ctx.scope()?, &opened, peer_ip.as_deref());
    let inserted = ctx
        .store()
        .insert_typed_with(
            &ctx.caller.account_id,
            &conn,
            guard,
            ctx.trail(entries, &reply(&answer)?),
        )
        .await
        .map_err(|e| match e {
            vpngw_store::StoreError::Duplicate => errors::connection_already_exists(),
            e => store_error(e, errors::vpn_connection_not_found),
        })?;
    match inserted {
        Inserted::Created => {
            super::routes::auto::configure(ctx, &opened).await?;
            ctx.mark_audited();
            Ok(answer)
        }
        Inserted::Replayed { id } => Ok(created(&load(ctx, &id).await?.value)),
    }
}

pub(crate) async fn describe(
    ctx: &Ctx<'_>,
    req: describe_op::Request,
) -> Result<Encoded<describe_op::Answer>, ApiError> {
    // `load`, without decoding the document unless the answer must be
    // written: it depends on the connection, its state as of now and the
    // master key only (`answer`), so it is reused while those are the same.
    let record = ctx
        .store()
        .get(Kind::VpnConnection, &ctx.scope()?, &req.vpn_connection_id)
        .await
        .map_err(crate::context::internal)?
        .ok_or_else(errors::vpn_connection_not_found)?;
    ctx.inner
        .answers
        .connection(&record, ctx.now_ms, |c| Encoded::of(&answer(ctx, c)?))
}

pub async fn describe_many(
    ctx: &Ctx<'_>,
    req: list_op::Request,
) -> Result<list_op::Answer, ApiError> {
    let (number, size) = page(req.page_number, req.page_size, 50)?;
    let mut q = ListQuery::new(Kind::VpnConnection, ctx.scope()?, ctx.now_ms);
    q.ids = id_list(given(&req.vpn_connection_id));
    q.parent_id = given(&req.vpn_gateway_id).map(str::to_owned);
    q.linked_to = given(&req.customer_gateway_id).map(str::to_owned);
    q.resource_group_id = given(&req.resource_group_id).map(str::to_owned);
    q.tags = tag_filters_of(&req.tag);
    q.offset = ((number - 1) * size) as u64;
    q.limit = size as u64;
    let (conns, total) = ctx
        .store()
        .list_typed::<VpnConnection>(&q)
        .await
        .map_err(crate::context::internal)?;
    Ok(list_op::Answer {
        total_count: total as i64,
        page_number: number,
        page_size: size,
        vpn_connections: list_op::VpnConnections {
            vpn_connection: conns
                .iter()
                .map(|c| list_item(ctx, c))
                .collect::<Result<_, _>>()?,
        },
    })
}

/// Concurrent modifications of one connection take turns, and a lost race
/// with another replica is retried (`crate::rmw`): no update is lost, and
/// `VpnTask.CONFLICT` is answered only after repeated conflicts.
pub async fn modify(ctx: &Ctx<'_>, req: modify_op::Request) -> Result<modify_op::Answer, ApiError> {
    let draft = ConnectionDraft::of_modify(ctx, &req);
    let id = req.vpn_connection_id.as_str();
    crate::rmw::serialized(ctx, id, || modify_once(ctx, id, &draft)).await
}

async fn modify_once(
    ctx: &Ctx<'_>,
    id: &str,
    draft: &ConnectionDraft,
) -> Result<modify_op::Answer, ApiError> {
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
        draft.refuse_single_tunnel_settings()?;
    }
    draft.apply_attributes(&mut conn)?;
    draft.apply_json(&mut conn)?;
    // Dual tunnel: TunnelOptionsSpecification and EnableTunnelsBgp.
    super::tunnel::apply_modify(ctx, draft, &mut conn).await?;
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
    let answer = modified(&opened, ctx.now_ms);
    // The change, its log entries and its audit event commit together.
    ctx.store()
        .update_typed_with(
            &ctx.caller.account_id,
            &conn,
            version,
            ctx.trail(entries, &reply(&answer)?),
        )
        .await
        .map_err(|e| store_error(e, errors::vpn_connection_not_found))?;
    super::routes::auto::configure(ctx, &conn).await?;
    ctx.mark_audited();
    Ok(answer)
}

/// ModifyVpnConnectionAttribute's answer: the opened connection as now
/// configured; a dual-tunnel connection's tunnels with real integer and
/// boolean types.
fn modified(c: &VpnConnection, now_ms: i64) -> modify_op::Answer {
    let state = c.state.effective(now_ms);
    connection_fields!(
        modify_op::Answer, c;
        customer_gateway_id: c.customer_gateway_id.clone(),
        description: String::new(),
        ike_config: views::ike(&c.ike, c.ike.psk.clone()),
        vpn_bgp_config: views::modified_bgp(c),
        vco_health_check: health_check!(modify_op::VcoHealthCheck, c.health_check.as_ref();),
        tunnel_options_specification: (!c.tunnels.is_empty()).then(|| {
            modify_op::TunnelOptionsSpecification {
                tunnel_options: c
                    .tunnels
                    .iter()
                    .map(|t| {
                        typed_tunnel!(
                            modify_op::TunnelOptions, t, state;
                            zone_no: t.zone_no.clone(),
                            remote_ca_certificate: t.remote_ca_certificate.clone(),
                            tunnel_bgp_config: views::tunnel_bgp(&t.bgp),
                        )
                    })
                    .collect(),
            }
        }),
    )
}

pub async fn delete(ctx: &Ctx<'_>, req: delete_op::Request) -> Result<delete_op::Answer, ApiError> {
    let id = req.vpn_connection_id.as_str();
    let conn = load(ctx, id).await?;
    if let Some(gateway_id) = &conn.value.vpn_gateway_id {
        let gateway = vpn_gateway::load(ctx, gateway_id).await?;
        if gateway.value.lifecycle.effective(ctx.now_ms) == "updating" {
            return Err(errors::gateway_configuring());
        }
    }
    let scope = ctx.scope()?;
    let answer = delete_op::Answer {};
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
            ctx.trail(entries, &reply(&answer)?),
        )
        .await
        .map_err(|e| store_error(e, errors::vpn_connection_not_found))?;
    ctx.mark_audited();
    Ok(answer)
}
