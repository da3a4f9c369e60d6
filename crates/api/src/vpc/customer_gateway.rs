//! CreateCustomerGateway, DescribeCustomerGateway(s),
//! ModifyCustomerGatewayAttribute, DeleteCustomerGateway.

use serde::Serialize;
use vpngw_model::{
    CustomerGateway, Tag,
    customer_gateway::valid_asn,
    ids::{IdKind, new_id},
    validate,
};
use vpngw_protocol::ApiError;
use vpngw_store::{InsertGuard, Inserted, Kind, ListQuery, Quota, StoreError, StoreExt, Versioned};

use super::{reply, tag_filters, views::CustomerGatewayView, vpn_gateway::id_list};
use crate::{
    Ctx,
    actions::{ActionDef, Reply},
    context::store_error,
    errors,
};

pub(crate) static ACTIONS: &[ActionDef] = crate::vpc_actions! {
    CreateCustomerGateway => create,
    DescribeCustomerGateway => describe,
    DescribeCustomerGateways => describe_many,
    ModifyCustomerGatewayAttribute => modify,
    DeleteCustomerGateway => delete,
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

fn view(ctx: &Ctx<'_>, c: &CustomerGateway) -> Result<CustomerGatewayView, ApiError> {
    let auth_key = match &c.auth_key {
        Some(sealed) => Some(ctx.secrets().open(sealed, &auth_key_aad(&c.id))?),
        None => None,
    };
    Ok(CustomerGatewayView::of(c, auth_key))
}

/// `Tags.N.Key`/`Tags.N.Value` of a create call, checked the cloud's way.
pub(crate) fn create_tags(ctx: &Ctx<'_>) -> Result<Vec<Tag>, ApiError> {
    super::tags::parse(ctx.params, "Tags")
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Created {
    customer_gateway_id: String,
    ip_address: String,
    name: String,
    description: String,
    create_time: i64,
}

pub async fn create(ctx: &Ctx<'_>) -> Reply {
    let p = ctx.params;
    let region = ctx.region()?;
    let ip = p.required("IpAddress")?;
    let ip = validate::gateway_ip(ip).ok_or_else(errors::ip_wrong_format)?;
    let name = ctx.opt("Name").unwrap_or("");
    if !name.is_empty() && !validate::loose_name(name) {
        return Err(errors::invalid_name());
    }
    let description = ctx.opt("Description").unwrap_or("");
    if !description.is_empty() && !validate::description(description) {
        return Err(errors::invalid_description());
    }
    let asn = match ctx.opt("Asn") {
        None => None,
        Some(a) => match a.parse::<i64>() {
            Ok(n) if valid_asn(n) => Some(n),
            _ => return Err(ApiError::invalid_parameter("Asn")),
        },
    };
    let id = new_id(IdKind::CustomerGateway, region.id_prefix);
    let auth_key = match ctx.opt("AuthKey") {
        None => None,
        Some(k) if k.len() <= 64 && k.bytes().all(|b| b.is_ascii_graphic()) => {
            Some(ctx.secrets().seal(k, &auth_key_aad(&id)))
        }
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
        resource_group_id: super::resource_group::from_create(ctx)?,
        create_time_ms: ctx.now_ms,
        tags: create_tags(ctx)?,
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
    let answer = reply(&Created {
        customer_gateway_id: gateway.id.clone(),
        ip_address: gateway.ip_address.clone(),
        name: gateway.name.clone(),
        description: gateway.description.clone(),
        create_time: gateway.create_time_ms,
    })?;
    let inserted = ctx
        .store()
        .insert_typed_with(
            &ctx.caller.account_id,
            &gateway,
            guard,
            ctx.trail(Vec::new(), &answer),
        )
        .await
        .map_err(|e| match e {
            StoreError::Duplicate => errors::ip_already_exists(),
            e => store_error(e, errors::customer_gateway_not_found),
        })?;
    match inserted {
        Inserted::Created => Ok(ctx.audited(answer)),
        Inserted::Replayed { id } => {
            let created = load(ctx, &id).await?.value;
            reply(&Created {
                customer_gateway_id: created.id,
                ip_address: created.ip_address,
                name: created.name,
                description: created.description,
                create_time: created.create_time_ms,
            })
        }
    }
}

pub async fn describe(ctx: &Ctx<'_>) -> Reply {
    let c = load(ctx, ctx.params.required("CustomerGatewayId")?).await?;
    reply(&view(ctx, &c.value)?)
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Page {
    total_count: u64,
    page_number: i64,
    page_size: i64,
    customer_gateways: List,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct List {
    customer_gateway: Vec<CustomerGatewayView>,
}

pub async fn describe_many(ctx: &Ctx<'_>) -> Reply {
    let (number, size) = ctx.page(50)?;
    let mut q = ListQuery::new(Kind::CustomerGateway, ctx.scope()?, ctx.now_ms);
    q.ids = id_list(ctx.opt("CustomerGatewayId"));
    q.resource_group_id = ctx.opt("ResourceGroupId").map(str::to_owned);
    q.tags = tag_filters(ctx.params, "Tag")?;
    q.offset = ((number - 1) * size) as u64;
    q.limit = size as u64;
    let (gateways, total) = ctx
        .store()
        .list_typed::<CustomerGateway>(&q)
        .await
        .map_err(crate::context::internal)?;
    reply(&Page {
        total_count: total,
        page_number: number,
        page_size: size,
        customer_gateways: List {
            customer_gateway: gateways
                .iter()
                .map(|c| view(ctx, c))
                .collect::<Result<_, _>>()?,
        },
    })
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Modified {
    customer_gateway_id: String,
    ip_address: String,
    name: String,
    description: String,
    create_time: i64,
    resource_group_id: String,
}

pub async fn modify(ctx: &Ctx<'_>) -> Reply {
    let id = ctx.params.required("CustomerGatewayId")?;
    let Versioned { mut value, version } = load(ctx, id).await?;
    if let Some(name) = ctx.params.get("Name") {
        if !name.is_empty() && !validate::loose_name(name) {
            return Err(errors::invalid_name());
        }
        value.name = name.to_owned();
    }
    if let Some(d) = ctx.params.get("Description") {
        if !d.is_empty() && !validate::description(d) {
            return Err(errors::invalid_description());
        }
        value.description = d.to_owned();
    }
    if let Some(k) = ctx.params.get("AuthKey") {
        if k.len() > 64 || !k.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(ApiError::invalid_parameter("AuthKey"));
        }
        value.auth_key = (!k.is_empty()).then(|| ctx.secrets().seal(k, &auth_key_aad(id)));
    }
    ctx.store()
        .update_typed(&ctx.caller.account_id, &value, version)
        .await
        .map_err(|e| store_error(e, errors::customer_gateway_not_found))?;
    reply(&Modified {
        customer_gateway_id: value.id,
        ip_address: value.ip_address,
        name: value.name,
        description: value.description,
        create_time: value.create_time_ms,
        resource_group_id: value.resource_group_id,
    })
}

pub async fn delete(ctx: &Ctx<'_>) -> Reply {
    let id = ctx.params.required("CustomerGatewayId")?;
    ctx.store()
        .delete(Kind::CustomerGateway, &ctx.scope()?, id)
        .await
        .map_err(|e| match e {
            StoreError::Referenced { id: user, .. } => {
                errors::in_use_by_connection("customer gateway", &user)
            }
            e => store_error(e, errors::customer_gateway_not_found),
        })?;
    reply(&serde_json::json!({}))
}
