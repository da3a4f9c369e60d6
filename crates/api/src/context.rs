//! What a handler gets: the parameters, the caller, the region, the clock,
//! and helpers for what many handlers do (scopes, pages, client tokens).

use std::{
    sync::atomic::{AtomicBool, Ordering},
    time::SystemTime,
};

use sha2::{Digest, Sha256};
use vpngw_model::catalog::Region;
use vpngw_protocol::{ApiError, JsonAnswer, Params};
use vpngw_store::{Idempotency, Kind, LogEntry, Scope, Store, StoreError, Trail};

use crate::{
    Caller, Config, Inner,
    actions::{ActionDef, Call},
    errors,
};

pub struct Ctx<'a> {
    pub(crate) inner: &'a Inner,
    pub params: &'a Params,
    pub caller: &'a Caller,
    /// The request's `RegionId`, already checked against the catalogue.
    pub region: Option<&'static Region>,
    pub now_ms: i64,
    pub request_id: &'a str,
    /// The client's address, when the server knows it (`acs:SourceIp`).
    pub peer: Option<std::net::IpAddr>,
    /// The request arrived over TLS (`acs:SecureTransport`).
    pub secure_transport: bool,
    /// The operation being answered.
    pub(crate) def: &'static ActionDef,
    /// Set by [`Ctx::audited`]: the handler's write carried its audit event.
    pub(crate) audited: &'a AtomicBool,
}

impl<'a> Call<'a> {
    /// The handler's context, once the region is known.
    pub(crate) fn ctx(&self, region: Option<&'static Region>) -> Ctx<'a> {
        if let Some(r) = region {
            tracing::Span::current().record("region", r.id);
        }
        Ctx {
            inner: self.inner,
            params: self.params,
            caller: self.caller,
            region,
            now_ms: self.now_ms,
            request_id: self.request_id,
            peer: self.info.peer,
            secure_transport: self.info.secure_transport,
            def: self.def,
            audited: self.audited,
        }
    }
}

impl<'a> Ctx<'a> {
    /// Authorizes resources the handler found through others (the
    /// connection of a tunnel named by `TunnelIds`), as the pipeline
    /// authorized those the request names.
    pub(crate) async fn authorize(
        &self,
        resources: &[vpngw_ops::Resource<'_>],
    ) -> Result<(), ApiError> {
        let arns: Vec<String> = resources
            .iter()
            .map(|r| {
                vpngw_policy::vpc_arn(
                    self.region.map_or("*", |r| r.id),
                    &self.caller.account_id,
                    r.kind.arn_type(),
                    r.id,
                )
            })
            .collect();
        crate::authz::check(
            self.inner,
            self.def,
            self.caller,
            &arns,
            self.now_ms,
            crate::RequestInfo {
                peer: self.peer,
                secure_transport: self.secure_transport,
            },
        )
        .await
    }

    pub fn store(&self) -> &'a dyn Store {
        &*self.inner.store
    }

    pub fn config(&self) -> &'a Config {
        &self.inner.config
    }

    pub fn secrets(&self) -> &'a crate::Secrets {
        &self.inner.secrets
    }

    /// The region named by `RegionId`, which regional operations require.
    pub fn region(&self) -> Result<&'static Region, ApiError> {
        self.region
            .ok_or_else(|| ApiError::missing_parameter("RegionId"))
    }

    /// The caller's account in the request's region.
    pub fn scope(&self) -> Result<Scope, ApiError> {
        Ok(Scope {
            account_id: self.caller.account_id.clone(),
            region_id: self.region()?.id.to_owned(),
        })
    }

    /// The trail of the handler's last write (`Store::insert_with` and
    /// friends): the event log `logs`, and the audit event of this request
    /// succeeding with `answer`, so that the change, its log and its audit
    /// event commit together. Once that write succeeded, answer with
    /// [`Ctx::audited`]`(answer)`; after a failed write the request is
    /// audited with its error as usual.
    pub(crate) fn trail(&self, logs: Vec<LogEntry>, answer: &JsonAnswer) -> Trail {
        Trail {
            logs,
            audit: crate::audit::success(self, answer),
        }
    }

    /// Says that the handler's write committed the audit event of its
    /// answer ([`Ctx::trail`]): the pipeline does not write another.
    pub(crate) fn mark_audited(&self) {
        self.audited.store(true, Ordering::Relaxed);
    }

    /// A non-empty optional string parameter.
    pub fn opt(&self, name: &str) -> Option<&'a str> {
        self.params.get(name).filter(|v| !v.is_empty())
    }

    /// `PageNumber` (default 1) and `PageSize` (default 10, at most `max`),
    /// as an offset and a limit.
    pub fn page(&self, max: i64) -> Result<(i64, i64), ApiError> {
        page(
            self.params.i64("PageNumber")?,
            self.params.i64("PageSize")?,
            max,
        )
    }
    /// The `ClientToken` guard for a create: the token and a fingerprint of
    /// every other business parameter, so the same token with other
    /// parameters is told apart (`IdempotentParameterMismatch`).
    pub fn idempotency(&self) -> Result<Option<Idempotency>, ApiError> {
        let Some(token) = self.opt("ClientToken") else {
            return Ok(None);
        };
        if token.len() > 64 || !token.is_ascii() {
            return Err(ApiError::invalid_parameter("ClientToken"));
        }
        let mut hash = Sha256::new();
        for (name, value) in self.params.iter() {
            if name == "ClientToken" || vpngw_protocol::COMMON_PARAMETERS.contains(&name) {
                continue;
            }
            hash.update(name.as_bytes());
            hash.update([0]);
            hash.update(value.as_bytes());
            hash.update([0]);
        }
        let fingerprint = hash.finalize().iter().map(|b| format!("{b:02x}")).collect();
        Ok(Some(Idempotency {
            token: token.to_owned(),
            fingerprint,
        }))
    }
}

/// A typed request's `PageNumber` (default 1) and `PageSize` (default 10,
/// at most `max`); out of range is `InvalidParameter` naming it.
pub fn page(number: Option<i64>, size: Option<i64>, max: i64) -> Result<(i64, i64), ApiError> {
    let number = number.unwrap_or(1);
    let size = size.unwrap_or(10);
    if number < 1 {
        return Err(ApiError::invalid_parameter("PageNumber"));
    }
    if !(1..=max).contains(&size) {
        return Err(ApiError::invalid_parameter("PageSize"));
    }
    Ok((number, size))
}

/// Milliseconds since the Unix epoch.
pub fn epoch_ms(t: SystemTime) -> i64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// A storage failure nobody expected: logged in full, answered as
/// `InternalError` without detail.
pub fn internal(e: StoreError) -> ApiError {
    tracing::error!(error = %e, "store failure");
    ApiError::internal()
}

/// Maps the store errors every write can meet; `not_found` is the
/// resource's own NotFound error.
pub fn store_error(e: StoreError, not_found: fn() -> ApiError) -> ApiError {
    match e {
        StoreError::NotFound => not_found(),
        StoreError::VersionConflict => errors::task_conflict(),
        StoreError::QuotaExceeded { .. } => errors::quota_full(),
        StoreError::IdempotencyMismatch => errors::idempotent_mismatch(),
        StoreError::MissingLink(id) => missing_link(&id),
        StoreError::Referenced { kind, id } => match kind {
            Kind::VpnConnection => errors::in_use_by_connection("resource", &id),
            _ => errors::task_conflict(),
        },
        other => internal(other),
    }
}

/// A link that vanished between the handler's check and the write: answer
/// the NotFound of the linked kind, judged by its ID prefix.
fn missing_link(id: &str) -> ApiError {
    vpngw_ops::Kind::of_id(id)
        .and_then(vpngw_ops::Kind::not_found)
        .unwrap_or_else(errors::vpn_connection_not_found)
}
