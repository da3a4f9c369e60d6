//! The ceiling: a bare hyper HTTP/1.1 server that reads each request body
//! and answers a fixed JSON body, on the same kind of tokio runtime as
//! `vpngw serve` (multi-threaded, one worker per core). Whatever vpngw does
//! beyond this (parsing, signature, store, encoding) is what the ratio
//! measures.

use std::{
    convert::Infallible,
    net::{Ipv4Addr, SocketAddr},
};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Request, Response, body::Incoming, service::service_fn};
use hyper_util::rt::TokioIo;

/// A JSON body of exactly `size` bytes (at least 2).
pub fn body_of_size(size: usize) -> Bytes {
    let size = size.max(16);
    let mut s = String::with_capacity(size);
    s.push_str("{\"Pad\":\"");
    while s.len() < size - 2 {
        s.push('x');
    }
    s.push_str("\"}");
    Bytes::from(s)
}

/// Serves forever on 127.0.0.1:`port`.
pub async fn serve(port: u16, body: Bytes) -> anyhow::Result<()> {
    let listener =
        tokio::net::TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, port))).await?;
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        let body = body.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req: Request<Incoming>| {
                let body = body.clone();
                async move {
                    // Read the request like a real handler must.
                    let _ = req.into_body().collect().await;
                    let mut response = Response::new(Full::new(body));
                    response.headers_mut().insert(
                        http::header::CONTENT_TYPE,
                        http::HeaderValue::from_static("application/json;charset=utf-8"),
                    );
                    Ok::<_, Infallible>(response)
                }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_has_the_asked_size() {
        for n in [16, 100, 2345] {
            let b = body_of_size(n);
            assert_eq!(b.len(), n);
            let _: serde_json::Value = serde_json::from_slice(&b).unwrap_or_default();
        }
    }
}
