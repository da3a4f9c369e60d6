//! The accept loop. Every listener — plain HTTP or HTTPS — hands its
//! connections to the same code, so that whatever bounds a connection
//! (HTTP/1 and HTTP/2 settings, the limits below, graceful shutdown)
//! applies to both alike; the only step a TLS listener adds is the
//! handshake before it.
//!
//! A TLS listener looks at the first byte a client sends: a TLS handshake
//! record starts with 0x16, anything else is a plain-HTTP client on the
//! HTTPS port, which gets the cloud's `InvalidProtocol.NeedSsl` answer
//! (`http::needs_tls`) instead of a handshake failure or a hang.
//!
//! # Limits (#13)
//!
//! One [`Limits`] holds for all the listeners of a server:
//!
//! - **Timeouts.** A connection waiting for its client is in one of three
//!   phases: reading a request head or a TLS handshake (from accept, or
//!   from the first byte after an idle spell: `header_read_timeout`), idle
//!   between requests (`idle_timeout`, HTTP keep-alive), or reading a
//!   request body (`body_read_timeout`, enforced where the body is read,
//!   `http.rs`). Past its deadline the connection is closed (checked every
//!   quarter of the shorter of the first two, so a timeout holds within a
//!   quarter of itself). While the server works on a request no deadline
//!   runs. hyper's own `header_read_timeout` is not used: it runs from the
//!   end of the previous answer, so it cannot tell a slow head from an
//!   idle keep-alive connection.
//! - **A cap on open connections** (`max_connections`, and never more
//!   than the process's file descriptor limit leaves room for, keeping
//!   [`fd_reserve`] for the store, logs and the accept itself). A new
//!   connection over the cap takes the place of the connection that has
//!   waited for its client the longest (a half-sent head, an idle
//!   keep-alive, a dribbled body), which is closed; if every connection
//!   is busy on the server's side, the new one is closed at once, before a
//!   byte of it is read. So a client that holds connections open without
//!   using them (slowloris, file descriptor exhaustion) cannot keep others
//!   out: `/healthz` and signed requests keep being answered.

use std::{
    collections::BTreeMap,
    future::Future,
    io,
    net::SocketAddr,
    pin::Pin,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicU8, AtomicU64, AtomicUsize, Ordering},
    },
    task::{Context, Poll},
    time::{Duration, Instant},
};

use axum::Router;
use hyper_util::{
    rt::{TokioExecutor, TokioIo, TokioTimer},
    server::{
        conn::auto,
        graceful::{GracefulShutdown, Watcher},
    },
};
use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    net::{TcpListener, TcpStream},
    sync::Notify,
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

/// The limits of one server's connections (module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Open connections at most (further capped by the fd limit).
    pub max_connections: usize,
    /// From accept, or from a request's first byte, to its complete head
    /// (a TLS handshake included).
    pub header_read_timeout: Duration,
    /// Between the end of an answer and the next request's first byte.
    pub idle_timeout: Duration,
    /// To read a request's whole body (`http.rs` applies it).
    pub body_read_timeout: Duration,
}

/// File descriptors kept out of the connection cap: the store's files and
/// connections, the log, the accept of a connection that will be refused.
pub fn fd_reserve(fd_limit: usize) -> usize {
    (fd_limit / 8).max(64)
}

/// Raises the soft file descriptor limit to the hard one and returns it
/// (what the connection cap has to fit in).
pub fn raise_fd_limit() -> usize {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    match getrlimit(Resource::RLIMIT_NOFILE) {
        Ok((soft, hard)) => {
            if soft < hard && setrlimit(Resource::RLIMIT_NOFILE, hard, hard).is_ok() {
                usize::try_from(hard).unwrap_or(usize::MAX)
            } else {
                usize::try_from(soft).unwrap_or(usize::MAX)
            }
        }
        Err(_) => 1024,
    }
}

/// The connection cap within `fd_limit`.
pub fn effective_cap(limits: &Limits, fd_limit: usize) -> usize {
    let room = fd_limit.saturating_sub(fd_reserve(fd_limit)).max(1);
    limits.max_connections.clamp(1, room)
}

/// The first byte of a TLS record carrying a handshake (the ClientHello).
const TLS_HANDSHAKE_RECORD: u8 = 0x16;
/// How long open connections may take to finish once shutdown begins.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);
/// Connections told to close to make room that may still hold their file
/// descriptor while new ones are accepted (`fd_reserve` keeps room).
const EVICTION_SLACK: usize = 16;

/// What every connection is served with.
struct Shared {
    /// The API, the console, `/healthz`, `/metrics`.
    app: Router,
    /// The answer to a plain-HTTP request on a TLS listener.
    needs_tls: Router,
    http: auto::Builder<TokioExecutor>,
    limits: Limits,
    /// The effective cap (`max_connections` within the fd limit).
    cap: usize,
    epoch: Instant,
    next_id: AtomicU64,
    open: Mutex<Table>,
    /// Notified whenever a connection closes.
    closed: Notify,
    refused: AtomicU64,
    evicted: AtomicU64,
}

/// Serves `listeners` until `shutdown` completes, then lets open
/// connections finish (at most [`DRAIN_TIMEOUT`]). `fd_limit`: what
/// [`raise_fd_limit`] returned.
pub async fn serve(
    listeners: Vec<Listener>,
    app: Router,
    needs_tls: Router,
    limits: Limits,
    fd_limit: usize,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let mut http = auto::Builder::new(TokioExecutor::new());
    // Our deadlines, not hyper's (module documentation).
    http.http1()
        .timer(TokioTimer::new())
        .header_read_timeout(None);
    http.http2().timer(TokioTimer::new());
    let shared = Arc::new(Shared {
        app,
        needs_tls,
        http,
        limits,
        cap: effective_cap(&limits, fd_limit),
        epoch: Instant::now(),
        next_id: AtomicU64::new(0),
        open: Mutex::new(Table::default()),
        closed: Notify::new(),
        refused: AtomicU64::new(0),
        evicted: AtomicU64::new(0),
    });
    let graceful = Arc::new(GracefulShutdown::new());
    let mut loops = tokio::task::JoinSet::new();
    for listener in listeners {
        loops.spawn(accept_loop(listener, shared.clone(), graceful.clone()));
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

async fn accept_loop(listener: Listener, shared: Arc<Shared>, graceful: Arc<GracefulShutdown>) {
    let mut last_error_log: Option<Instant> = None;
    loop {
        // Connections told to close to make room still hold their file
        // descriptor until their task ends: accept no faster than they
        // go, so that the process stays within its descriptors.
        loop {
            let closed = shared.closed.notified();
            if shared.open_count() < shared.cap + EVICTION_SLACK {
                break;
            }
            closed.await;
        }
        let (stream, peer) = match listener.tcp.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of file descriptors (the cap should prevent it, but
                // other files count too) and the like: the listener is
                // still good. Log at most once a second, wait a moment.
                if last_error_log.is_none_or(|t| t.elapsed() >= Duration::from_secs(1)) {
                    tracing::warn!(error = %e, "accepting a connection failed");
                    last_error_log = Some(Instant::now());
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let Some((id, conn)) = shared.admit() else {
            // Refused cheaply: closed before a byte is read.
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let shared = shared.clone();
        let graceful = graceful.watcher();
        let tls = match &listener.security {
            Security::Plain => None,
            Security::Tls(acceptor) => Some(acceptor.clone()),
        };
        tokio::spawn(async move {
            let stream = Watched {
                inner: stream,
                conn: conn.clone(),
            };
            // A connection evicted (or past its deadline) during its TLS
            // handshake ends here as well as during a request.
            tokio::select! {
                () = shared.serve_connection(stream, tls, peer, &conn, graceful) => {}
                () = conn.evict.notified() => {}
            }
            shared.forget(id);
        });
    }
}

impl Shared {
    /// Handshake (TLS listeners), then HTTP/1.1 or HTTP/2.
    async fn serve_connection(
        &self,
        stream: Watched<TcpStream>,
        tls: Option<TlsAcceptor>,
        peer: SocketAddr,
        conn: &Arc<Conn>,
        graceful: Watcher,
    ) {
        let plain = Transport { peer, tls: false };
        let Some(acceptor) = tls else {
            return self.serve(stream, &self.app, plain, conn, graceful).await;
        };
        let handshake = async {
            let mut first = [0u8; 1];
            match stream.inner.peek(&mut first).await {
                Ok(1) if first[0] == TLS_HANDSHAKE_RECORD => {
                    acceptor.accept(stream).await.map(Ok).map_err(Some)
                }
                Ok(1) => Ok(Err(stream)),
                // Closed before sending anything.
                _ => Err(None),
            }
        };
        // The handshake is part of reading the first request head.
        match tokio::time::timeout(self.limits.header_read_timeout, handshake).await {
            Ok(Ok(Ok(tls))) => {
                let transport = Transport { peer, tls: true };
                self.serve(tls, &self.app, transport, conn, graceful).await
            }
            Ok(Ok(Err(stream))) => {
                self.serve(stream, &self.needs_tls, plain, conn, graceful)
                    .await
            }
            Ok(Err(Some(e))) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
            Ok(Err(None)) => {}
            Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
        }
    }

    /// HTTP/1.1 or HTTP/2 (by the client's preface) on one connection,
    /// until it ends, its deadline passes or shutdown has drained it.
    async fn serve<I>(
        &self,
        io: I,
        app: &Router,
        transport: Transport,
        conn: &Arc<Conn>,
        graceful: Watcher,
    ) where
        I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let app = app.clone();
        let service = {
            let conn = conn.clone();
            hyper::service::service_fn(move |mut request: hyper::Request<_>| {
                request.extensions_mut().insert(transport);
                request.extensions_mut().insert(ClientWait(conn.clone()));
                conn.request_started();
                let call = tower_service::Service::call(&mut app.clone(), request);
                let conn = conn.clone();
                async move {
                    let answer = call.await;
                    conn.request_ended();
                    answer
                }
            })
        };
        let connection = graceful.watch(self.http.serve_connection(TokioIo::new(io), service));
        tokio::pin!(connection);
        let limits = self.limits;
        // The deadline is checked every quarter of the shorter timeout, not
        // re-armed on every phase change: nothing on a request's path wakes
        // the watchdog, and a timeout holds within a quarter of itself.
        let check_every = (limits.header_read_timeout.min(limits.idle_timeout) / 4)
            .max(Duration::from_millis(10));
        loop {
            tokio::select! {
                ended = &mut connection => {
                    if let Err(e) = ended {
                        tracing::debug!(peer = %transport.peer, error = %e, "connection ended with an error");
                    }
                    return;
                }
                () = tokio::time::sleep(check_every) => {
                    if conn.deadline(&limits).is_some_and(|d| d <= Instant::now()) {
                        return;
                    }
                }
            }
        }
    }

    /// A place for a new connection: a free one, or the place of the
    /// connection that has waited for its client the longest.
    fn admit(&self) -> Option<(u64, Arc<Conn>)> {
        let mut open = self
            .open
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if open.conns.len() - open.evicting >= self.cap {
            let waiting_longest = open
                .conns
                .values()
                .filter(|c| c.phase() != Phase::Busy && !c.evicting.load(Ordering::Relaxed))
                .min_by_key(|c| c.since_ms.load(Ordering::Relaxed))
                .cloned();
            let Some(victim) = waiting_longest else {
                let n = self.refused.fetch_add(1, Ordering::Relaxed) + 1;
                if n.is_power_of_two() {
                    tracing::warn!(
                        open = open.conns.len(),
                        refused = n,
                        "connection refused: every connection is busy and the cap is reached"
                    );
                }
                return None;
            };
            // Its task closes it and takes it out of the table.
            victim.evicting.store(true, Ordering::Relaxed);
            open.evicting += 1;
            victim.evict.notify_one();
            let n = self.evicted.fetch_add(1, Ordering::Relaxed) + 1;
            if n.is_power_of_two() {
                tracing::warn!(
                    cap = self.cap,
                    evicted = n,
                    "open connections at the cap: closing those that waited longest for their client"
                );
            }
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let conn = Arc::new(Conn {
            evicting: AtomicBool::new(false),
            phase: AtomicU8::new(Phase::Head as u8),
            since_ms: AtomicU64::new(0),
            busy: AtomicUsize::new(0),
            evict: Notify::new(),
            epoch: self.epoch,
        });
        conn.set(Phase::Head);
        open.conns.insert(id, conn.clone());
        Some((id, conn))
    }

    fn forget(&self, id: u64) {
        let mut open = self
            .open
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(c) = open.conns.remove(&id)
            && c.evicting.load(Ordering::Relaxed)
        {
            open.evicting -= 1;
        }
        drop(open);
        self.closed.notify_waiters();
    }

    fn open_count(&self) -> usize {
        self.open
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .conns
            .len()
    }
}

/// The open connections, by accept order.
#[derive(Default)]
struct Table {
    conns: BTreeMap<u64, Arc<Conn>>,
    /// Of them, told to close and not gone yet.
    evicting: usize,
}

/// What a connection is waiting for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum Phase {
    /// The client: the rest of a request head (or a TLS handshake).
    Head = 0,
    /// The client: a next request (keep-alive).
    Idle = 1,
    /// The client: the rest of a request body (its deadline is the body
    /// reader's).
    Body = 2,
    /// The server: it is answering.
    Busy = 3,
}

impl Phase {
    fn from_u8(v: u8) -> Phase {
        match v {
            0 => Phase::Head,
            1 => Phase::Idle,
            2 => Phase::Body,
            _ => Phase::Busy,
        }
    }
}

/// One open connection, as its watchdog and the table see it.
struct Conn {
    /// Told to close to make room; still open until its task ends.
    evicting: AtomicBool,
    phase: AtomicU8,
    /// Milliseconds since the server's epoch when the phase began.
    since_ms: AtomicU64,
    /// Requests the server is answering on it (HTTP/2: several).
    busy: AtomicUsize,
    /// Told to close (evicted to make room).
    evict: Notify,
    epoch: Instant,
}

impl Conn {
    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn set(&self, phase: Phase) {
        self.since_ms.store(self.now_ms(), Ordering::Relaxed);
        self.phase.store(phase as u8, Ordering::Release);
    }

    fn phase(&self) -> Phase {
        Phase::from_u8(self.phase.load(Ordering::Acquire))
    }

    /// Bytes arrived: an idle connection starts reading a request head.
    fn bytes_arrived(&self) {
        if self
            .phase
            .compare_exchange(
                Phase::Idle as u8,
                Phase::Head as u8,
                Ordering::AcqRel,
                Ordering::Relaxed,
            )
            .is_ok()
        {
            self.since_ms.store(self.now_ms(), Ordering::Relaxed);
        }
    }

    fn request_started(&self) {
        self.busy.fetch_add(1, Ordering::AcqRel);
        self.set(Phase::Busy);
    }

    fn request_ended(&self) {
        if self.busy.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.set(Phase::Idle);
        }
    }

    /// When the current phase times out (`None`: no deadline of ours).
    fn deadline(&self, limits: &Limits) -> Option<Instant> {
        let timeout = match self.phase() {
            Phase::Head => limits.header_read_timeout,
            Phase::Idle => limits.idle_timeout,
            Phase::Body | Phase::Busy => return None,
        };
        let since = Duration::from_millis(self.since_ms.load(Ordering::Relaxed));
        Some(self.epoch + since + timeout)
    }
}

/// Marks the time a handler waits for the client's request body: the
/// connection may then be evicted to make room, like one waiting for a
/// request head. In the request's extensions (`vpngw serve` only).
#[derive(Clone)]
pub struct ClientWait(Arc<Conn>);

impl ClientWait {
    /// Waiting for the body until the guard is dropped.
    pub fn reading_body(&self) -> impl Drop + use<> {
        struct Reading(Arc<Conn>);
        impl Drop for Reading {
            fn drop(&mut self) {
                self.0.set(Phase::Busy);
            }
        }
        self.0.set(Phase::Body);
        Reading(self.0.clone())
    }
}

/// A stream that tells its connection when bytes arrive.
struct Watched<S> {
    inner: S,
    conn: Arc<Conn>,
}

impl<S: AsyncRead + Unpin> AsyncRead for Watched<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let this = &mut *self;
        let polled = Pin::new(&mut this.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            this.conn.bytes_arrived();
        }
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Watched<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_leaves_room_in_the_fd_limit() {
        let limits = Limits {
            max_connections: 10_000,
            header_read_timeout: Duration::from_secs(1),
            idle_timeout: Duration::from_secs(1),
            body_read_timeout: Duration::from_secs(1),
        };
        assert_eq!(effective_cap(&limits, 256), 192);
        assert_eq!(effective_cap(&limits, 1024), 896);
        assert_eq!(effective_cap(&limits, 1 << 20), 10_000);
        assert_eq!(effective_cap(&limits, 10), 1);
    }
}
