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
use vpngw_api::Service;
use vpngw_protocol::RawRequest;

#[derive(Clone)]
pub struct AppState {
    pub service: Service,
    pub ready: Arc<AtomicBool>,
}

pub fn router(state: AppState, max_body_bytes: usize) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
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
    let (encoded, outcome) = state
        .service
        .call_with(&raw, vpngw_api::RequestInfo { peer })
        .await;
    tracing::info!(
        request_id = %outcome.request_id,
        action = %outcome.action,
        code = outcome.code.as_deref().unwrap_or(""),
        status = encoded.status,
        "request"
    );
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
