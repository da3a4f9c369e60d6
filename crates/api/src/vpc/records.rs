//! What tag and resource-group operations share: naming a resource by a
//! `ResourceType` string, and rewriting a part of any stored resource's
//! document (`tags`, `resource_group_id`) under optimistic concurrency.

use serde_json::Value;
use vpngw_model::{CustomerGateway, VSwitch, Vpc, VpnConnection, VpnGateway};
use vpngw_protocol::ApiError;
use vpngw_store::{Kind, Resource, StoreError, StoreExt};

use crate::{Ctx, context::internal, errors};

/// A resource type as the tag and resource-group operations name it.
/// Clients spell these freely (`VpnGateWay`, `VPNGATEWAY`, `VpnGateway`), so
/// they are matched without regard to case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ResourceType {
    VpnGateway,
    CustomerGateway,
    /// A connection of a VPN gateway.
    VpnConnection,
    /// A connection made with CreateVpnAttachment (no VPN gateway).
    VpnAttachment,
    Vpc,
    VSwitch,
}

impl ResourceType {
    /// Parses a `ResourceType` value; anything else is
    /// `InvalidResourceType.NotFound` (404).
    pub fn parse(s: &str) -> Result<ResourceType, ApiError> {
        const ALL: [ResourceType; 6] = [
            ResourceType::VpnGateway,
            ResourceType::CustomerGateway,
            ResourceType::VpnConnection,
            ResourceType::VpnAttachment,
            ResourceType::Vpc,
            ResourceType::VSwitch,
        ];
        ALL.into_iter()
            .find(|t| t.upper().eq_ignore_ascii_case(s))
            .ok_or_else(errors::invalid_resource_type)
    }

    /// The spelling ListTagResources reports (`VPNGATEWAY`, …).
    pub fn upper(self) -> &'static str {
        match self {
            ResourceType::VpnGateway => "VPNGATEWAY",
            ResourceType::CustomerGateway => "CUSTOMERGATEWAY",
            ResourceType::VpnConnection => "VPNCONNECTION",
            ResourceType::VpnAttachment => "VPNATTACHMENT",
            ResourceType::Vpc => "VPC",
            ResourceType::VSwitch => "VSWITCH",
        }
    }

    pub fn kind(self) -> Kind {
        match self {
            ResourceType::VpnGateway => Kind::VpnGateway,
            ResourceType::CustomerGateway => Kind::CustomerGateway,
            ResourceType::VpnConnection | ResourceType::VpnAttachment => Kind::VpnConnection,
            ResourceType::Vpc => Kind::Vpc,
            ResourceType::VSwitch => Kind::VSwitch,
        }
    }

    /// Whether a stored document of this type's kind is of this type (a
    /// `vco-` record is a gateway connection or an attachment).
    pub fn matches(self, doc: &Value) -> bool {
        let attachment = doc.get("attachment").is_some_and(|a| !a.is_null());
        match self {
            ResourceType::VpnConnection => !attachment,
            ResourceType::VpnAttachment => attachment,
            _ => true,
        }
    }

    /// The type of a stored `vco-` document, or this type for other kinds.
    pub fn of_doc(self, doc: &Value) -> ResourceType {
        match self {
            ResourceType::VpnConnection | ResourceType::VpnAttachment => {
                if ResourceType::VpnAttachment.matches(doc) {
                    ResourceType::VpnAttachment
                } else {
                    ResourceType::VpnConnection
                }
            }
            other => other,
        }
    }
}

/// How many times a rewrite re-reads after losing a race before it answers
/// `VpnTask.CONFLICT`. A tag or group change is independent of whatever
/// else changed the record, so re-applying it on the new version is right.
const ATTEMPTS: usize = 5;

/// Applies `edit` to the stored document of `kind`/`id` and writes it back
/// over the version it read. `edit` sees the JSON document and says whether
/// it changed anything (nothing is written otherwise); its error aborts.
/// `None` when there is no such resource.
///
/// The document goes back through its domain type, so the record's
/// columns (links, parent, group, status) are derived exactly as every
/// other write derives them.
pub(crate) async fn rewrite(
    ctx: &Ctx<'_>,
    kind: Kind,
    id: &str,
    edit: &mut (dyn FnMut(&mut Value) -> Result<bool, ApiError> + Send),
) -> Result<Option<()>, ApiError> {
    match kind {
        Kind::VpnGateway => rewrite_as::<VpnGateway>(ctx, id, edit).await,
        Kind::CustomerGateway => rewrite_as::<CustomerGateway>(ctx, id, edit).await,
        Kind::VpnConnection => rewrite_as::<VpnConnection>(ctx, id, edit).await,
        Kind::Vpc => rewrite_as::<Vpc>(ctx, id, edit).await,
        Kind::VSwitch => rewrite_as::<VSwitch>(ctx, id, edit).await,
        _ => Ok(None),
    }
}

async fn rewrite_as<R: Resource>(
    ctx: &Ctx<'_>,
    id: &str,
    edit: &mut (dyn FnMut(&mut Value) -> Result<bool, ApiError> + Send),
) -> Result<Option<()>, ApiError> {
    let scope = ctx.scope()?;
    for _ in 0..ATTEMPTS {
        let Some(record) = ctx
            .store()
            .get(R::KIND, &scope, id)
            .await
            .map_err(internal)?
        else {
            return Ok(None);
        };
        let mut doc: Value =
            serde_json::from_str(&record.doc).map_err(|e| internal(StoreError::from(e)))?;
        if !edit(&mut doc)? {
            return Ok(Some(()));
        }
        let value: R = serde_json::from_value(doc).map_err(|e| internal(StoreError::from(e)))?;
        match ctx
            .store()
            .update_typed(&ctx.caller.account_id, &value, record.version)
            .await
        {
            Ok(_) => return Ok(Some(())),
            Err(StoreError::VersionConflict) => continue,
            Err(StoreError::NotFound) => return Ok(None),
            Err(e) => return Err(internal(e)),
        }
    }
    Err(errors::task_conflict())
}

/// The stored document of `kind`/`id`, if it exists in the caller's scope.
pub(crate) async fn doc(ctx: &Ctx<'_>, kind: Kind, id: &str) -> Result<Option<Value>, ApiError> {
    let Some(record) = ctx
        .store()
        .get(kind, &ctx.scope()?, id)
        .await
        .map_err(internal)?
    else {
        return Ok(None);
    };
    serde_json::from_str(&record.doc)
        .map(Some)
        .map_err(|e| internal(StoreError::from(e)))
}
