//! The steps every declared operation takes between authentication and its
//! handler, generic over its declaration ([`vpngw_ops::Operation`]):
//!
//! 1. parse the typed request (`MissingParameter`, `InvalidParameter` naming
//!    the parameter, a resource type outside its table);
//! 2. resolve `RegionId` in the catalogue (`InvalidRegionId.NotFound`); an
//!    operation whose `RegionId` is optional and absent takes the region of
//!    the stored resource it names, looked up in the caller's account
//!    (the resource's NotFound if there is none), never `*`;
//! 3. authorize every resource the request names (`acs:vpc:{region}:
//!    {account}:{kind}/{id}`, plus `{kind}/*` of the kind the operation
//!    creates or lists when it names none of that kind);
//! 4. then the handler runs with a [`Ctx`], and [`reply`] encodes its answer.

use vpngw_model::catalog::{self, Region};
use vpngw_ops::{Declaration, Kind, Operation, Product, RegionRule, Request, Resource};
use vpngw_protocol::ApiError;
use vpngw_store::Scope;

use crate::{Ctx, actions::Call, authz, context::internal, errors};

/// Parses, resolves the region and authorizes a call of `O`.
pub(crate) async fn prepare<'a, O: Operation>(
    call: &'a Call<'a>,
) -> Result<(Ctx<'a>, O::Request), ApiError> {
    let request = O::Request::from_params(call.params)?;
    let mut region = match request.region_id() {
        Some(id) => Some(catalog::region(id).ok_or_else(errors::region_not_found)?),
        None => None,
    };
    let mut resources = Vec::new();
    request.resources(&mut resources);
    if region.is_none() && O::DECLARATION.region == RegionRule::Optional {
        region = stored_region(call, &resources).await?;
    }
    let arns = arns(
        &O::DECLARATION,
        &resources,
        &call.caller.account_id,
        region.map(|r| r.id),
    );
    authz::authorize(call, &arns).await?;
    Ok((call.ctx(region), request))
}

/// The same steps for an operation without a typed declaration (RAM, STS):
/// `RegionId`, and the resources its product's `resources()` name.
pub(crate) async fn prepare_untyped<'a>(call: &'a Call<'a>) -> Result<Ctx<'a>, ApiError> {
    let region = match call.params.get("RegionId").filter(|r| !r.is_empty()) {
        None => None,
        Some(id) => Some(catalog::region(id).ok_or_else(errors::region_not_found)?),
    };
    let resources = match call.def.product {
        Product::Ram => crate::ram::resources(call.def.name, call.params, call.caller),
        Product::Sts => crate::sts::resources(call.def.name, call.params),
        Product::Vpc | Product::Vpngw | Product::Ecs | Product::ResourceManager | Product::Cbn => {
            // Declared products never come here (`operations!`).
            return Err(ApiError::internal());
        }
    };
    authz::authorize(call, &resources).await?;
    Ok(call.ctx(region))
}

/// The store's kind of a resource kind vpngw keeps.
pub(crate) fn store_kind(kind: Kind) -> Option<vpngw_store::Kind> {
    kind.store_name().and_then(vpngw_store::Kind::parse)
}

/// The region of the first stored resource the request names: the one its
/// id encodes, once the resource is found there in the caller's account.
/// `None` when the request names no stored resource (DescribeRegions).
async fn stored_region(
    call: &Call<'_>,
    resources: &[Resource<'_>],
) -> Result<Option<&'static Region>, ApiError> {
    let Some((r, kind, not_found)) = resources.iter().find_map(|r| {
        // A CEN instance is global, and an attachment's id names no region
        // the way the others do (`tr-attach-<code>…`): neither gives one.
        if matches!(r.kind, Kind::CenInstance | Kind::TransitRouterAttachment) {
            return None;
        }
        let kind = store_kind(r.kind)?;
        Some((r, kind, r.kind.not_found()?))
    }) else {
        return Ok(None);
    };
    let region = catalog::region_of_id(r.id).ok_or_else(|| not_found.clone())?;
    let scope = Scope {
        account_id: call.caller.account_id.clone(),
        region_id: region.id.to_owned(),
    };
    call.inner
        .store
        .get(kind, &scope, r.id)
        .await
        .map_err(internal)?
        .ok_or(not_found)?;
    Ok(Some(region))
}

/// The resource ARNs a call acts on.
pub(crate) fn arns(
    decl: &Declaration,
    resources: &[Resource<'_>],
    account: &str,
    region: Option<&str>,
) -> Vec<String> {
    let region = region.unwrap_or("*");
    let mut out: Vec<String> = Vec::with_capacity(resources.len() + 1);
    for r in resources {
        let arn = kind_arn(r.kind, region, account, r.id);
        if !out.contains(&arn) {
            out.push(arn);
        }
    }
    if let Some(own) = decl.own_kind
        && !resources.iter().any(|r| r.kind == own)
    {
        out.insert(0, kind_arn(own, region, account, "*"));
    }
    if out.is_empty() {
        // A call that names no resource acts on its service in the region.
        let service = match decl.product {
            Product::Ecs => "ecs",
            Product::ResourceManager => "resourcemanager",
            Product::Cbn => "cen",
            _ => "vpc",
        };
        out.push(format!("acs:{service}:{region}:{account}:*"));
    }
    out
}

/// The ARN of a resource: `acs:vpc:{region}:{account}:{type}/{id}`; CEN's
/// resources are global to RAM (`acs:cen:*:{account}:ceninstance/{id}`, the
/// CEN authorization reference), whatever region the call names.
fn kind_arn(kind: Kind, region: &str, account: &str, id: &str) -> String {
    match kind.arn_service() {
        "vpc" => vpngw_policy::vpc_arn(region, account, kind.arn_type(), id),
        service => format!("acs:{service}:*:{account}:{}/{id}", kind.arn_type()),
    }
}

/// Serializes an answer into the reply body: once, straight to the JSON
/// text, keys in the order `serde_json::Value` gives them
/// ([`vpngw_protocol::JsonAnswer`]).
pub(crate) fn reply<T: serde::Serialize + ?Sized>(answer: &T) -> crate::actions::Reply {
    vpngw_protocol::JsonAnswer::new(answer).map_err(|e| {
        tracing::error!(error = %e, "response encoding failed");
        ApiError::internal()
    })
}

/// An answer of type `A`, already encoded: what a handler that remembers
/// its answers returns (`Operation => encoded(handler)`), so that a
/// remembered answer is not encoded again while its type stays the
/// operation's ([`crate::answers`]).
pub(crate) struct Encoded<A> {
    json: vpngw_protocol::JsonAnswer,
    of: std::marker::PhantomData<fn() -> A>,
}

impl<A: serde::Serialize> Encoded<A> {
    pub(crate) fn of(answer: &A) -> Result<Encoded<A>, ApiError> {
        Ok(Encoded {
            json: reply(answer)?,
            of: std::marker::PhantomData,
        })
    }
}

impl<A> Encoded<A> {
    pub(crate) fn into_json(self) -> vpngw_protocol::JsonAnswer {
        self.json
    }
}

impl<A> Clone for Encoded<A> {
    fn clone(&self) -> Self {
        Encoded {
            json: self.json.clone(),
            of: std::marker::PhantomData,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vpngw_ops::vpc;

    #[test]
    fn resource_forms() {
        let decl = <vpc::DescribeVpnConnection as Operation>::DECLARATION;
        let r = [Resource {
            kind: Kind::VpnConnection,
            id: "vco-1",
        }];
        assert_eq!(
            arns(&decl, &r, "123", Some("cn-hangzhou")),
            vec!["acs:vpc:cn-hangzhou:123:vpnconnection/vco-1"]
        );
        let decl = <vpc::CreateVpnConnection as Operation>::DECLARATION;
        let r = [
            Resource {
                kind: Kind::VpnGateway,
                id: "vpn-1",
            },
            Resource {
                kind: Kind::CustomerGateway,
                id: "cgw-1",
            },
        ];
        assert_eq!(
            arns(&decl, &r, "123", Some("cn-hangzhou")),
            vec![
                "acs:vpc:cn-hangzhou:123:vpnconnection/*",
                "acs:vpc:cn-hangzhou:123:vpngateway/vpn-1",
                "acs:vpc:cn-hangzhou:123:customergateway/cgw-1",
            ]
        );
        let decl = <vpc::DescribeRegions as Operation>::DECLARATION;
        assert_eq!(arns(&decl, &[], "123", None), vec!["acs:vpc:*:123:*"]);
    }
}
