//! The HTTP edge: axum routes around the API pipeline.

use axum::{
    Router,
    body::Bytes,
    extract::{Request, State},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use std::sync::{
    Arc,
    atomic::{AtomicBool, Ordering},
};
use tracing::Instrument;
use vpngw_api::Service;
use vpngw_protocol::RawRequest;

#[derive(Clone)]
pub struct AppState {
    pub service: Service,
    pub ready: Arc<AtomicBool>,
    /// `/metrics`, when enabled.
    pub metrics: Option<crate::metrics::Metrics>,
    /// Serve the web console at `/console/`.
    pub console: bool,
}

/// How much of a request body the RPC endpoint reads, and for how long.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimits {
    pub max_bytes: usize,
    /// The whole body must arrive within this (`body_read_timeout_ms`).
    pub read_timeout: std::time::Duration,
}

pub fn router(state: AppState, body: BodyLimits) -> Router {
    let mut router = Router::new().route("/healthz", get(healthz));
    if state.metrics.is_some() {
        router = router.route("/metrics", get(crate::metrics::scrape));
    }
    if state.console {
        router = router.merge(crate::console::routes());
    }
    // The RPC handler enforces the body limit itself, so that a refusal is
    // an error body the SDKs can read (`RequestBodyTooLarge`), not text.
    router
        .fallback(move |state: State<AppState>, request: Request| rpc(state, request, body))
        .with_state(state)
}

/// What a TLS listener serves to a client that speaks plain HTTP to it:
/// every request is answered 400 `InvalidProtocol.NeedSsl` (the cloud's
/// code and message for an HTTPS-only endpoint called over HTTP), and the
/// connection is closed.
pub fn needs_tls(state: AppState) -> Router {
    Router::new()
        .fallback(
            |State(state): State<AppState>, request: Request| async move {
                let (parts, _) = request.into_parts();
                let err = vpngw_protocol::ApiError::new(
                    "InvalidProtocol.NeedSsl",
                    "Your request is denied as lack of ssl protect. This port speaks HTTPS: \
                 call it with https:// (SDKs: protocol \"https\").",
                )
                .with_status(400);
                let mut response = refusal(&state, &parts, &err);
                response
                    .headers_mut()
                    .insert(header::CONNECTION, HeaderValue::from_static("close"));
                response
            },
        )
        .with_state(state)
}

/// 413 `RequestBodyTooLarge`: the API gateway's status and wording
/// ("Request body too Large"), in the RPC error body.
fn body_too_large(max_body_bytes: usize) -> vpngw_protocol::ApiError {
    vpngw_protocol::ApiError::new(
        "RequestBodyTooLarge",
        format!("Request body too Large: at most {max_body_bytes} bytes are accepted."),
    )
    .with_status(413)
}

/// 408 `RequestTimeout`: the body did not arrive within `body_read_timeout_ms`.
fn body_timeout(limits: BodyLimits) -> vpngw_protocol::ApiError {
    vpngw_protocol::ApiError::new(
        "RequestTimeout",
        format!(
            "The request body was not received within {} ms.",
            limits.read_timeout.as_millis()
        ),
    )
    .with_status(408)
}

async fn healthz(State(state): State<AppState>) -> StatusCode {
    if state.ready.load(Ordering::Acquire) {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    }
}

/// The whole body, refused as soon as it grows past the limit (a chunked
/// body has no Content-Length to check first).
async fn read_body(
    body: axum::body::Body,
    declared: Option<u64>,
    max_body_bytes: usize,
) -> Result<Bytes, vpngw_protocol::ApiError> {
    use futures_util::StreamExt;
    let mut stream = body.into_data_stream();
    let mut buf: Vec<u8> =
        Vec::with_capacity(declared.map_or(0, |n| n.min(max_body_bytes as u64) as usize));
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| {
            vpngw_protocol::ApiError::new("InvalidParameter", "The request body could not be read.")
        })?;
        if buf.len() + chunk.len() > max_body_bytes {
            return Err(body_too_large(max_body_bytes));
        }
        if buf.is_empty() && declared.is_some_and(|n| n == chunk.len() as u64) {
            // The usual case: the whole body in one chunk, no copy.
            return Ok(chunk);
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(Bytes::from(buf))
}

/// The header the web console sets on the reads of its periodic refresh:
/// their `answered` lines are logged at debug, not info, so that an open
/// console does not fill the log. Writes and errors stay at info, whoever
/// sets the header.
pub const CONSOLE_POLL_HEADER: &str = "x-vpngw-console-poll";

/// A browser opening the server's address (`GET /`, no parameters, asking
/// for HTML) is sent to the console instead of a `MissingSignature` error.
fn is_browser_visit(parts: &http::request::Parts) -> bool {
    parts.method == http::Method::GET
        && parts.uri.path() == "/"
        && parts.uri.query().is_none_or(str::is_empty)
        && parts
            .headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.contains("text/html"))
}

/// Every other request is an RPC call: the API lives at `/` for any Host.
async fn rpc(State(state): State<AppState>, request: Request, limits: BodyLimits) -> Response {
    let (parts, body) = request.into_parts();
    if state.console && is_browser_visit(&parts) {
        return axum::response::Redirect::to("/console/").into_response();
    }
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let max_body_bytes = limits.max_bytes;
    let body: Result<Bytes, vpngw_protocol::ApiError> = match declared {
        // Refused before reading a byte of it.
        Some(n) if n > max_body_bytes as u64 => Err(body_too_large(max_body_bytes)),
        Some(0) => Ok(Bytes::new()),
        _ => {
            // Waiting for the client: the connection may be closed to make
            // room for others meanwhile (listen.rs), and gets no longer
            // than the body timeout.
            let _waiting = parts
                .extensions
                .get::<crate::listen::ClientWait>()
                .map(crate::listen::ClientWait::reading_body);
            tokio::time::timeout(
                limits.read_timeout,
                read_body(body, declared, max_body_bytes),
            )
            .await
            .unwrap_or_else(|_| Err(body_timeout(limits)))
        }
    };
    let body = match body {
        Ok(b) => b,
        Err(err) => {
            let mut response = refusal(&state, &parts, &err);
            // The rest of the body is not read: this connection ends here.
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            return response;
        }
    };
    let raw = RawRequest {
        method: &parts.method,
        query: parts.uri.query(),
        headers: &parts.headers,
        body: &body,
    };
    // Set by the accept loop (`vpngw serve`); absent in in-process tests.
    let transport = parts.extensions.get::<crate::listen::Transport>();
    let info = vpngw_api::RequestInfo {
        peer: transport.map(|t| t.peer.ip()),
        secure_transport: transport.is_some_and(|t| t.tls),
    };
    // Every line logged while answering carries RequestId, Action, the
    // caller and the source address: the pipeline fills in the span's
    // fields as soon as it knows them.
    let span = tracing::info_span!(
        "request",
        request_id = tracing::field::Empty,
        action = tracing::field::Empty,
        account = tracing::field::Empty,
        principal = tracing::field::Empty,
        region = tracing::field::Empty,
        source_ip = tracing::field::Empty,
    );
    if let Some(ip) = info.peer {
        span.record("source_ip", tracing::field::display(ip));
    }
    let console_poll = parts.headers.contains_key(CONSOLE_POLL_HEADER);
    let started = std::time::Instant::now();
    let (encoded, outcome) = state
        .service
        .call_with(&raw, info)
        .instrument(span.clone())
        .await;
    let elapsed = started.elapsed();
    vpngw_api::telemetry::request(&outcome.action, outcome.code.as_deref(), elapsed);
    let code = outcome.code.as_deref().unwrap_or("OK");
    let elapsed_us = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
    span.in_scope(|| {
        let read = ["Describe", "List", "Get"]
            .iter()
            .any(|p| outcome.action.starts_with(p));
        if console_poll && read && outcome.code.is_none() {
            tracing::debug!(code, status = encoded.status, elapsed_us, "answered");
        } else {
            tracing::info!(code, status = encoded.status, elapsed_us, "answered");
        }
    });
    encoded_response(encoded, &outcome)
}

/// The cloud's error answer to a request refused before the pipeline
/// (its body unread or unusable), logged like any answer.
fn refusal(
    state: &AppState,
    parts: &axum::http::request::Parts,
    err: &vpngw_protocol::ApiError,
) -> Response {
    let raw = RawRequest {
        method: &parts.method,
        query: parts.uri.query(),
        headers: &parts.headers,
        body: &[],
    };
    let (encoded, outcome) = state.service.refuse(&raw, err);
    let source_ip = parts
        .extensions
        .get::<crate::listen::Transport>()
        .map(|t| t.peer.ip());
    tracing::info!(
        request_id = %outcome.request_id,
        source_ip = source_ip.map(tracing::field::display),
        code = %err.code,
        status = encoded.status,
        "refused"
    );
    encoded_response(encoded, &outcome)
}

fn encoded_response(encoded: vpngw_protocol::Encoded, outcome: &vpngw_api::Outcome) -> Response {
    let mut response = Response::new(axum::body::Body::from(encoded.body));
    *response.status_mut() =
        StatusCode::from_u16(encoded.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(encoded.content_type),
    );
    if let Ok(v) = HeaderValue::from_str(&outcome.request_id) {
        response.headers_mut().insert("x-acs-request-id", v);
    }
    response
}
