//! The accept loop. Every listener — plain HTTP or HTTPS — hands its
//! connections to the same code ([`Connections::serve`]), so that whatever
//! bounds a connection (HTTP/1 and HTTP/2 settings, timeouts, graceful
//! shutdown) applies to both alike; the only step a TLS listener adds is
//! the handshake before it.
//!
//! A TLS listener looks at the first byte a client sends: a TLS handshake
//! record starts with 0x16, anything else is a plain-HTTP client on the
//! HTTPS port, which gets the cloud's `InvalidProtocol.NeedSsl` answer
//! (`http::needs_tls`) instead of a handshake failure or a hang.

use std::{future::Future, net::SocketAddr, sync::Arc, time::Duration};

use axum::Router;
use hyper_util::{
    rt::{TokioExecutor, TokioIo, TokioTimer},
    server::{conn::auto, graceful::GracefulShutdown},
};
use tokio::{
    io::{AsyncRead, AsyncWrite},
    net::{TcpListener, TcpStream},
};
use tokio_rustls::TlsAcceptor;

/// How a request reached the server; every request carries it as an
/// extension (`acs:SourceIp`, `acs:SecureTransport`).
#[derive(Debug, Clone, Copy)]
pub struct Transport {
    pub peer: SocketAddr,
    /// The connection is TLS.
    pub tls: bool,
}

/// What a listener speaks.
pub enum Security {
    Plain,
    Tls(TlsAcceptor),
}

pub struct Listener {
    pub tcp: TcpListener,
    pub security: Security,
}

impl Listener {
    pub fn scheme(&self) -> &'static str {
        match self.security {
            Security::Plain => "http",
            Security::Tls(_) => "https",
        }
    }
}

/// The first byte of a TLS record carrying a handshake (the ClientHello).
const TLS_HANDSHAKE_RECORD: u8 = 0x16;
/// From accepting a connection on a TLS listener to the end of the
/// handshake: a client that says nothing is dropped after it.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long open connections may take to finish once shutdown begins.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

/// What every connection is served with.
#[derive(Clone)]
struct Connections {
    /// The API, the console, `/healthz`, `/metrics`.
    app: Router,
    /// The answer to a plain-HTTP request on a TLS listener.
    needs_tls: Router,
    http: auto::Builder<TokioExecutor>,
}

/// Serves `listeners` until `shutdown` completes, then lets open
/// connections finish (at most [`DRAIN_TIMEOUT`]).
pub async fn serve(
    listeners: Vec<Listener>,
    app: Router,
    needs_tls: Router,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let mut http = auto::Builder::new(TokioExecutor::new());
    http.http1().timer(TokioTimer::new());
    http.http2().timer(TokioTimer::new());
    let connections = Arc::new(Connections {
        app,
        needs_tls,
        http,
    });
    let graceful = Arc::new(GracefulShutdown::new());
    let mut loops = tokio::task::JoinSet::new();
    for listener in listeners {
        loops.spawn(accept_loop(listener, connections.clone(), graceful.clone()));
    }
    shutdown.await;
    // Stop accepting; then the accept loops' handles are gone.
    loops.shutdown().await;
    let Ok(graceful) = Arc::try_unwrap(graceful) else {
        return Ok(());
    };
    if tokio::time::timeout(DRAIN_TIMEOUT, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            "connections still open {}s after shutdown began; closing them",
            DRAIN_TIMEOUT.as_secs()
        );
    }
    Ok(())
}

async fn accept_loop(
    listener: Listener,
    connections: Arc<Connections>,
    graceful: Arc<GracefulShutdown>,
) {
    loop {
        let (stream, peer) = match listener.tcp.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of file descriptors and the like: the listener is
                // still good, so wait a moment and accept again.
                tracing::warn!(error = %e, "accepting a connection failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let connections = connections.clone();
        let graceful = graceful.watcher();
        let tls = match &listener.security {
            Security::Plain => None,
            Security::Tls(acceptor) => Some(acceptor.clone()),
        };
        tokio::spawn(async move {
            match tls {
                None => {
                    let transport = Transport { peer, tls: false };
                    connections
                        .serve(stream, &connections.app, transport, graceful)
                        .await
                }
                Some(acceptor) => {
                    connections
                        .serve_tls(stream, acceptor, peer, graceful)
                        .await
                }
            }
        });
    }
}

impl Connections {
    /// Handshake, then [`Connections::serve`]; a client that does not start
    /// with a TLS record is answered in plain HTTP that this port needs TLS.
    async fn serve_tls(
        &self,
        stream: TcpStream,
        acceptor: TlsAcceptor,
        peer: SocketAddr,
        graceful: hyper_util::server::graceful::Watcher,
    ) {
        let plain = Transport { peer, tls: false };
        let handshake = async {
            let mut first = [0u8; 1];
            match stream.peek(&mut first).await {
                Ok(1) if first[0] == TLS_HANDSHAKE_RECORD => {
                    acceptor.accept(stream).await.map(Ok).map_err(Some)
                }
                Ok(1) => Ok(Err(stream)),
                // Closed before sending anything.
                _ => Err(None),
            }
        };
        match tokio::time::timeout(HANDSHAKE_TIMEOUT, handshake).await {
            Ok(Ok(Ok(tls))) => {
                let transport = Transport { peer, tls: true };
                self.serve(tls, &self.app, transport, graceful).await
            }
            Ok(Ok(Err(stream))) => self.serve(stream, &self.needs_tls, plain, graceful).await,
            Ok(Err(Some(e))) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
            Ok(Err(None)) => {}
            Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
        }
    }

    /// HTTP/1.1 or HTTP/2 (by the client's preface) on one connection.
    async fn serve<I>(
        &self,
        io: I,
        app: &Router,
        transport: Transport,
        graceful: hyper_util::server::graceful::Watcher,
    ) where
        I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let app = app.clone();
        let service = hyper::service::service_fn(move |mut request: hyper::Request<_>| {
            request.extensions_mut().insert(transport);
            tower_service::Service::call(&mut app.clone(), request)
        });
        let connection = self.http.serve_connection(TokioIo::new(io), service);
        if let Err(e) = graceful.watch(connection).await {
            tracing::debug!(peer = %transport.peer, error = %e, "connection ended with an error");
        }
    }
}
