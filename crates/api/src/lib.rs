//! The API layer: from a parsed RPC request to a reply.
//!
//! [`Service::call`] is the whole request pipeline, independent of HTTP:
//! parse → route (Version + Action through the [`actions`] table) →
//! authenticate (key, timestamp, signature, nonce; STS tokens) → parse the
//! operation's typed request → authorize the resources it names (RAM
//! policies, [`authz`]) → run the handler → encode JSON or XML
//! ([`operation`]). The server crate only adds sockets around it.

pub mod actions;
mod answers;
pub mod audit;
mod auth;
mod authz;
pub mod bootstrap;
mod cbn;
mod config;
mod context;
mod ecs;
pub mod errors;
pub mod operation;
pub mod ram;
mod resourcemanager;
mod rmw;
mod secrets;
pub mod sts;
pub mod telemetry;
mod throttle;
pub mod vpc;
pub mod vpngw;

use std::{sync::Arc, time::SystemTime};

use vpngw_protocol::{
    ApiError, Encoded, Format, RawRequest, encode_error, encode_success, encode_success_json,
};
use vpngw_store::Store;

pub use auth::{Caller, Identity};
pub use authz::RequestInfo;
pub use config::{Config, Quotas};
pub use context::Ctx;
pub use secrets::Secrets;

/// The API, shared by every connection.
#[derive(Clone)]
pub struct Service {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub store: Arc<dyn Store>,
    pub config: Config,
    pub secrets: Secrets,
    /// `--rate-limit-per-account`; `None`: no limit.
    pub limiter: Option<throttle::RateLimiter>,
    /// Turns for read-modify-writes of one record ([`rmw`]).
    pub record_locks: rmw::RecordLocks,
    /// DescribeVpnConnection's answers, reused while the connection is the
    /// same ([`answers`]).
    pub answers: answers::AnswerMemo,
    /// Set by [`Service::close`]: long polls answer at once.
    pub closing: tokio::sync::watch::Sender<bool>,
}

/// What the pipeline tells the server about a request, for its logs and metrics.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub request_id: String,
    pub action: String,
    /// The error code, if the call failed.
    pub code: Option<String>,
}

impl Service {
    pub fn new(store: Arc<dyn Store>, config: Config, secrets: Secrets) -> Service {
        Service {
            inner: Arc::new(Inner {
                store,
                limiter: throttle::RateLimiter::new(config.rate_limit_per_account),
                record_locks: rmw::RecordLocks::default(),
                answers: answers::AnswerMemo::default(),
                closing: tokio::sync::watch::Sender::new(false),
                config,
                secrets,
            }),
        }
    }

    /// The server is stopping: requests waiting for a change
    /// (`WatchGatewayState`) answer now, so that they do not hold the stop.
    pub fn close(&self) {
        self.inner.closing.send_replace(true);
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.inner.store
    }

    /// The sealer of stored secrets (to create accounts beside the server).
    pub fn secrets(&self) -> &Secrets {
        &self.inner.secrets
    }

    /// The cloud-shaped error answer (JSON, with a RequestId) for a request
    /// the HTTP edge refuses before the pipeline sees it, such as a body
    /// over `--max-body-bytes`.
    pub fn refuse(&self, raw: &RawRequest<'_>, err: &ApiError) -> (Encoded, Outcome) {
        let request_id = vpngw_protocol::new_request_id();
        let product = actions::guess(raw);
        let body = encode_error(
            Format::Json,
            err,
            &request_id,
            product.host_id(),
            product.name(),
        );
        let outcome = Outcome {
            request_id,
            action: String::new(),
            code: Some(err.code.to_string()),
        };
        (body, outcome)
    }

    /// Answers one HTTP request addressed to the RPC endpoint.
    pub async fn call(&self, raw: &RawRequest<'_>) -> (Encoded, Outcome) {
        self.call_with(raw, RequestInfo::default()).await
    }

    /// [`Service::call`] with what the server knows about the connection
    /// (the peer address, for `acs:SourceIp` conditions).
    pub async fn call_with(&self, raw: &RawRequest<'_>, info: RequestInfo) -> (Encoded, Outcome) {
        let request_id = vpngw_protocol::new_request_id();
        let now = SystemTime::now();
        // The server's request span (if any) carries these on every line.
        tracing::Span::current().record("request_id", request_id.as_str());
        let parsed = match vpngw_protocol::parse(raw) {
            Ok(p) => p,
            Err(e) => {
                let outcome = Outcome {
                    request_id: request_id.clone(),
                    action: String::new(),
                    code: Some(e.code.to_string()),
                };
                let product = actions::guess(raw);
                let body = encode_error(
                    Format::Json,
                    &e,
                    &request_id,
                    product.host_id(),
                    product.name(),
                );
                return (body, outcome);
            }
        };
        let format = parsed.format();
        let action_name = parsed.action().to_owned();
        tracing::Span::current().record("action", action_name.as_str());
        let result = self.dispatch(&parsed, &request_id, now, info).await;
        let (product, result) = match result {
            Ok((def, body)) => (def.product, Ok(body)),
            Err((product, e)) => (product, Err(e)),
        };
        match result {
            Ok(body) => {
                let encoded = match format {
                    // The common case: the answer's text with RequestId
                    // among its keys, no `Value` in between.
                    Format::Json => encode_success_json(
                        body.to_json_with(&[("RequestId", request_id.as_str())]),
                    ),
                    Format::Xml => {
                        let mut body = body.to_value();
                        if let serde_json::Value::Object(map) = &mut body {
                            map.insert(
                                "RequestId".into(),
                                serde_json::Value::String(request_id.clone()),
                            );
                        }
                        encode_success(format, &action_name, &body)
                    }
                };
                let outcome = Outcome {
                    request_id,
                    action: action_name,
                    code: None,
                };
                (encoded, outcome)
            }
            Err(e) => {
                let encoded =
                    encode_error(format, &e, &request_id, product.host_id(), product.name());
                let outcome = Outcome {
                    request_id,
                    action: action_name,
                    code: Some(e.code.to_string()),
                };
                (encoded, outcome)
            }
        }
    }

    async fn dispatch(
        &self,
        req: &vpngw_protocol::RpcRequest,
        request_id: &str,
        now: SystemTime,
        info: RequestInfo,
    ) -> Result<
        (&'static actions::ActionDef, vpngw_protocol::JsonAnswer),
        (actions::Product, ApiError),
    > {
        let def = actions::route(req.version(), req.action())
            .map_err(|e| (actions::product_of(req.version()), e))?;
        let fail = |e: ApiError| (def.product, e);
        let caller = auth::authenticate(&self.inner, req, now)
            .await
            .map_err(fail)?;
        let span = tracing::Span::current();
        span.record("account", caller.account_id.as_str());
        span.record("principal", caller.principal.as_str());
        // Over its rate an account is refused before any work is done.
        if let Some(limiter) = &self.inner.limiter
            && !limiter.admit(&caller.account_id, std::time::Instant::now())
        {
            return Err(fail(ApiError::throttling_user()));
        }
        // Everything after authentication is audited when it is a write.
        let audited = std::sync::atomic::AtomicBool::new(false);
        let call = actions::Call {
            inner: &self.inner,
            params: req.params(),
            caller: &caller,
            now_ms: context::epoch_ms(now),
            request_id,
            info,
            def,
            audited: &audited,
        };
        let result = (def.run)(&call).await;
        // Unless the handler's write committed the event of its success
        // with the change (`Ctx::trail`).
        if !(result.is_ok() && audited.load(std::sync::atomic::Ordering::Relaxed)) {
            audit::record(
                &self.inner,
                def,
                &caller,
                req.params(),
                &result,
                request_id,
                context::epoch_ms(now),
                info.peer,
            )
            .await;
        }
        let body = result.map_err(fail)?;
        Ok((def, body))
    }
}
