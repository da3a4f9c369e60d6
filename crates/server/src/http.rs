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

pub fn router(state: AppState, max_body_bytes: usize) -> Router {
    let mut router = Router::new().route("/healthz", get(healthz));
    if state.metrics.is_some() {
        router = router.route("/metrics", get(crate::metrics::scrape));
    }
    if state.console {
        router = router.merge(crate::console::routes());
    }
    router
        .fallback(rpc)
        .layer(tower_http::limit::RequestBodyLimitLayer::new(
            max_body_bytes,
        ))
        .with_state(state)
}

async fn healthz(State(state): State<AppState>) -> StatusCode {
    if state.ready.load(Ordering::Acquire) {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    }
}

/// Every other request is an RPC call: the API lives at `/` for any Host.
async fn rpc(State(state): State<AppState>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body: Bytes = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(b) => b,
        Err(_) => {
            return (
                StatusCode::PAYLOAD_TOO_LARGE,
                "request body too large or unreadable",
            )
                .into_response();
        }
    };
    let raw = RawRequest {
        method: &parts.method,
        query: parts.uri.query(),
        headers: &parts.headers,
        body: &body,
    };
    // Set when the server was started with connect info (`vpngw serve`).
    let peer = parts
        .extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip());
    // Every line logged while answering carries RequestId and Action: the
    // pipeline fills in the span's fields as soon as it knows them.
    let span = tracing::info_span!(
        "request",
        request_id = tracing::field::Empty,
        action = tracing::field::Empty
    );
    let started = std::time::Instant::now();
    let (encoded, outcome) = state
        .service
        .call_with(&raw, vpngw_api::RequestInfo { peer })
        .instrument(span.clone())
        .await;
    let elapsed = started.elapsed();
    vpngw_api::telemetry::request(&outcome.action, outcome.code.as_deref(), elapsed);
    span.in_scope(|| {
        tracing::info!(
            code = outcome.code.as_deref().unwrap_or(""),
            status = encoded.status,
            elapsed_ms = elapsed.as_secs_f64() * 1000.0,
            "answered"
        )
    });
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
