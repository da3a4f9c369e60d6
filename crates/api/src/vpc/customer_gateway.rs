//! CreateCustomerGateway, DescribeCustomerGateway(s),
//! ModifyCustomerGatewayAttribute, DeleteCustomerGateway.

use vpngw_model::{
    CustomerGateway,
    customer_gateway::valid_asn,
    ids::{IdKind, new_id},
    validate,
};
use vpngw_ops::vpc::{
    create_customer_gateway as create_op, delete_customer_gateway as delete_op,
    describe_customer_gateway as describe_op, describe_customer_gateways as list_op,
    modify_customer_gateway_attribute as modify_op, shapes,
};
use vpngw_protocol::ApiError;
use vpngw_store::{InsertGuard, Inserted, Kind, ListQuery, Quota, StoreError, StoreExt, Versioned};

use super::{tag_filters_of, tags, views, vpn_gateway::id_list};
use crate::{
    Ctx,
    context::{page, store_error},
    errors,
};

pub(crate) async fn load(ctx: &Ctx<'_>, id: &str) -> Result<Versioned<CustomerGateway>, ApiError> {
    ctx.store()
        .get_typed::<CustomerGateway>(&ctx.scope()?, id)
        .await
        .map_err(crate::context::internal)?
        .ok_or_else(errors::customer_gateway_not_found)
}

/// Where a customer gateway's BGP key is sealed.
fn auth_key_aad(id: &str) -> String {
    format!("customergateway:{id}:authkey")
}

/// The answer of DescribeCustomerGateway(s): the BGP key opened.
fn view(ctx: &Ctx<'_>, c: &CustomerGateway) -> Result<shapes::CustomerGateway, ApiError> {
    let auth_key = match &c.auth_key {
        Some(sealed) => Some(ctx.secrets().open(sealed, &auth_key_aad(&c.id))?),
        None => None,
    };
    Ok(shapes::CustomerGateway {
        customer_gateway_id: c.id.clone(),
        name: c.name.clone(),
        description: c.description.clone(),
        ip_address: c.ip_address.clone(),
        asn: c.asn,
        auth_key,
        create_time: c.create_time_ms,
        resource_group_id: c.resource_group_id.clone(),
        tags: views::tags(&c.tags),
    })
}

/// A BGP key: at most 64 printable ASCII characters without spaces.
fn valid_auth_key(k: &str) -> bool {
    k.len() <= 64 && k.bytes().all(|b| b.is_ascii_graphic())
}

fn created(c: &CustomerGateway) -> create_op::Answer {
    create_op::Answer {
        customer_gateway_id: c.id.clone(),
        ip_address: c.ip_address.clone(),
        name: c.name.clone(),
        description: c.description.clone(),
        create_time: c.create_time_ms,
    }
}

pub async fn create(ctx: &Ctx<'_>, req: create_op::Request) -> Result<create_op::Answer, ApiError> {
    let region = ctx.region()?;
    let ip = validate::gateway_ip(&req.ip_address).ok_or_else(errors::ip_wrong_format)?;
    let name = req.name.as_deref().unwrap_or("");
    if !name.is_empty() && !validate::loose_name(name) {
        return Err(errors::invalid_name());
    }
    let description = req.description.as_deref().unwrap_or("");
    if !description.is_empty() && !validate::description(description) {
        return Err(errors::invalid_description());
    }
    let asn = match req.asn.as_deref().filter(|a| !a.is_empty()) {
        None => None,
        Some(a) => match a.parse::<i64>() {
            Ok(n) if valid_asn(n) => Some(n),
            _ => return Err(ApiError::invalid_parameter("Asn")),
        },
    };
    let id = new_id(IdKind::CustomerGateway, region.id_prefix);
    let auth_key = match req.auth_key.as_deref().filter(|k| !k.is_empty()) {
        None => None,
        Some(k) if valid_auth_key(k) => Some(ctx.secrets().seal(k, &auth_key_aad(&id))),
        Some(_) => return Err(ApiError::invalid_parameter("AuthKey")),
    };
    let gateway = CustomerGateway {
        id: id.clone(),
        region_id: region.id.to_owned(),
        name: name.to_owned(),
        description: description.to_owned(),
        ip_address: ip.to_string(),
        asn,
        auth_key,
        resource_group_id: super::resource_group::of_create(req.resource_group_id.as_deref())?,
        create_time_ms: ctx.now_ms,
        tags: tags::of_request(&req.tags)?,
    };
    let limit = ctx.config().quotas.customer_gateways_per_region;
    let guard = InsertGuard {
        quota: (limit > 0).then_some(Quota {
            limit,
            per_parent: false,
        }),
        idempotency: ctx.idempotency()?,
        unique: vec![("ip_address", gateway.ip_address.clone())],
    };
    // The gateway and the audit event of this answer commit together.
    let answer = created(&gateway);
    let trail = ctx.trail(Vec::new(), &super::reply(&answer)?);
    let inserted = ctx
        .store()
        .insert_typed_with(&ctx.caller.account_id, &gateway, guard, trail)
        .await
        .map_err(|e| match e {
            StoreError::Duplicate => errors::ip_already_exists(),
            e => store_error(e, errors::customer_gateway_not_found),
        })?;
    match inserted {
        Inserted::Created => {
            ctx.mark_audited();
            Ok(answer)
        }
        Inserted::Replayed { id } => Ok(created(&load(ctx, &id).await?.value)),
    }
}

pub async fn describe(
    ctx: &Ctx<'_>,
    req: describe_op::Request,
) -> Result<describe_op::Answer, ApiError> {
    let c = load(ctx, &req.customer_gateway_id).await?;
    view(ctx, &c.value)
}

pub async fn describe_many(
    ctx: &Ctx<'_>,
    req: list_op::Request,
) -> Result<list_op::Answer, ApiError> {
    let (number, size) = page(req.page_number, req.page_size, 50)?;
    let mut q = ListQuery::new(Kind::CustomerGateway, ctx.scope()?, ctx.now_ms);
    q.ids = id_list(req.customer_gateway_id.as_deref());
    q.resource_group_id = req.resource_group_id.filter(|g| !g.is_empty());
    q.tags = tag_filters_of(&req.tag);
    q.offset = ((number - 1) * size) as u64;
    q.limit = size as u64;
    let (gateways, total) = ctx
        .store()
        .list_typed::<CustomerGateway>(&q)
        .await
        .map_err(crate::context::internal)?;
    Ok(list_op::Answer {
        total_count: total as i64,
        page_number: number,
        page_size: size,
        customer_gateways: list_op::CustomerGateways {
            customer_gateway: gateways
                .iter()
                .map(|c| view(ctx, c))
                .collect::<Result<_, _>>()?,
        },
    })
}

pub async fn modify(ctx: &Ctx<'_>, req: modify_op::Request) -> Result<modify_op::Answer, ApiError> {
    let id = req.customer_gateway_id.as_str();
    let Versioned { mut value, version } = load(ctx, id).await?;
    if let Some(name) = req.name {
        if !name.is_empty() && !validate::loose_name(&name) {
            return Err(errors::invalid_name());
        }
        value.name = name;
    }
    if let Some(d) = req.description {
        if !d.is_empty() && !validate::description(&d) {
            return Err(errors::invalid_description());
        }
        value.description = d;
    }
    if let Some(k) = req.auth_key.as_deref() {
        if !valid_auth_key(k) {
            return Err(ApiError::invalid_parameter("AuthKey"));
        }
        value.auth_key = (!k.is_empty()).then(|| ctx.secrets().seal(k, &auth_key_aad(id)));
    }
    ctx.store()
        .update_typed(&ctx.caller.account_id, &value, version)
        .await
        .map_err(|e| store_error(e, errors::customer_gateway_not_found))?;
    Ok(modify_op::Answer {
        customer_gateway_id: value.id,
        ip_address: value.ip_address,
        name: value.name,
        description: value.description,
        create_time: value.create_time_ms,
        resource_group_id: value.resource_group_id,
    })
}

pub async fn delete(ctx: &Ctx<'_>, req: delete_op::Request) -> Result<delete_op::Answer, ApiError> {
    ctx.store()
        .delete(
            Kind::CustomerGateway,
            &ctx.scope()?,
            &req.customer_gateway_id,
        )
        .await
        .map_err(|e| match e {
            StoreError::Referenced { id: user, .. } => {
                errors::in_use_by_connection("customer gateway", &user)
            }
            e => store_error(e, errors::customer_gateway_not_found),
        })?;
    Ok(delete_op::Answer {})
}
