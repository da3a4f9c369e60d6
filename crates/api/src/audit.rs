//! The audit log: every write that reached an authenticated caller is
//! recorded, with its result, after it is answered by the handler and
//! before the answer leaves (the store acknowledges after its commit).
//! A handler may instead hand its success event to its write
//! ([`crate::Ctx::trail`]): it then commits in the same transaction as the
//! change, and the request waits for one commit instead of two (an audit
//! row that cannot be written then fails the change with it).
//!
//! Reads (`Describe*`, `List*`, `Get*`, …) and the data plane agent's
//! periodic reports and watches are not audited. A failed audit write never turns a
//! committed change into an error: it is logged and counted
//! (`vpngw_audit_failures_total`).

use std::net::IpAddr;

use vpngw_protocol::{ApiError, Params};
use vpngw_store::AuditEvent;

use crate::{Caller, Inner, actions::ActionDef};

/// Prefixes of read-only actions.
const READ_PREFIXES: &[&str] = &["Describe", "List", "Get", "Query", "Check", "Download"];

/// Whether an action changes something (and so is audited).
pub fn is_write(def: &ActionDef) -> bool {
    if matches!(def.name, "ReportDataplaneState" | "WatchGatewayState") {
        return false;
    }
    !READ_PREFIXES.iter().any(|p| def.name.starts_with(p))
}

/// Parameters that are not resources even though their name ends in `Id`.
const NOT_RESOURCES: &[&str] = &[
    "RegionId",
    "AccessKeyId",
    "OwnerId",
    "ResourceOwnerId",
    "ZoneId",
    "ClientToken",
];

/// RAM entities are named, not numbered.
const NAME_PARAMS: &[&str] = &["UserName", "GroupName", "RoleName", "PolicyName"];

fn names_a_resource(key: &str) -> bool {
    // `ResourceId.1` names a resource like `ResourceId` does.
    let last = key
        .rsplit('.')
        .find(|seg| !seg.chars().all(|c| c.is_ascii_digit()))
        .unwrap_or(key);
    (last.ends_with("Id") && !NOT_RESOURCES.contains(&last)) || NAME_PARAMS.contains(&last)
}

/// The resources a request named, then those its answer created.
pub fn resource_ids(params: &Params, answer: Option<&serde_json::Value>) -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    let mut push = |v: &str| {
        if !v.is_empty() && v.len() <= 256 && !ids.iter().any(|x| x == v) {
            ids.push(v.to_owned());
        }
    };
    for (k, v) in params.iter() {
        if names_a_resource(k) {
            push(v);
        }
    }
    if let Some(serde_json::Value::Object(map)) = answer {
        for (k, v) in map {
            if k != "RequestId"
                && names_a_resource(k)
                && let Some(s) = v.as_str()
            {
                push(s);
            }
        }
    }
    ids.truncate(64);
    ids
}

#[allow(clippy::too_many_arguments)]
pub(crate) async fn record(
    inner: &Inner,
    def: &ActionDef,
    caller: &Caller,
    params: &Params,
    result: &Result<vpngw_protocol::JsonAnswer, ApiError>,
    request_id: &str,
    now_ms: i64,
    peer: Option<IpAddr>,
) {
    if !is_write(def) {
        return;
    }
    let answer = result.as_ref().map(vpngw_protocol::JsonAnswer::to_value);
    let event = event(
        def,
        caller,
        params,
        answer.as_ref().map_err(|e| e.code.to_string()),
        request_id,
        now_ms,
        peer,
    );
    if let Err(e) = inner.store.append_audit(event).await {
        crate::telemetry::audit_failure();
        tracing::error!(error = %e, "writing the audit log failed");
    }
}

/// The event of a write that answered `answer` (`Ok`) or failed with an
/// error code.
fn event(
    def: &ActionDef,
    caller: &Caller,
    params: &Params,
    result: Result<&serde_json::Value, String>,
    request_id: &str,
    now_ms: i64,
    peer: Option<IpAddr>,
) -> AuditEvent {
    AuditEvent {
        time_ms: now_ms,
        request_id: request_id.to_owned(),
        account_id: caller.account_id.clone(),
        principal: caller.principal.clone(),
        access_key_id: caller.access_key_id.clone(),
        source_ip: peer.map(|p| p.to_string()),
        product: def.product.name().to_owned(),
        action: def.name.to_owned(),
        region_id: params.get("RegionId").map(str::to_owned),
        resource_ids: resource_ids(params, result.as_ref().ok().copied()),
        code: result.err(),
    }
}

/// The event [`record`] would write for the handler's success answering
/// `answer`, for the handler's write to carry ([`crate::Ctx::trail`]);
/// `None` for a read.
pub(crate) fn success(
    ctx: &crate::Ctx<'_>,
    answer: &vpngw_protocol::JsonAnswer,
) -> Option<AuditEvent> {
    is_write(ctx.def).then(|| {
        event(
            ctx.def,
            ctx.caller,
            ctx.params,
            Ok(&answer.to_value()),
            ctx.request_id,
            ctx.now_ms,
            ctx.peer,
        )
    })
}
