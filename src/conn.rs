//! Connections, before a request reaches the router: how many may be open, how long a client
//! may take to finish a request, and how much a request head may weigh. Without these limits a
//! client that opens connections and never finishes a request holds a socket and its buffers
//! for ever (docs/reliability.md, "Hostile connections").
//!
//! - Caps: `limits.max_connections` in all and `limits.max_connections_per_address` per client
//!   (an IPv4 address or an IPv6 /64). A connection over a cap is closed at once, counted in
//!   `http_connections_refused_total` and logged at most once a minute.
//! - Head: the TLS handshake, and each request line with its headers, must arrive within
//!   `limits.header_timeout_secs`; an idle HTTP/1 keep-alive connection closes after as long.
//!   A head over [`MAX_HEAD_BYTES`] is answered 431 (HTTP/2: the header list is capped alike).
//! - HTTP/2: the first stream must open within the header timeout, and a connection without an
//!   open stream for [`H2_IDLE`] is closed; keep-alive pings find peers that went away.
//! - Body: a request body gets `limits.body_timeout_secs`, plus one second per KiB received,
//!   i.e. after that grace it must keep an average of at least 1 KiB/s. Otherwise the request
//!   ends with 408 and the connection closes. Event streams are responses and are not affected;
//!   uploads that keep moving are not either.
//! - Stop: no new connections; open ones finish their requests for up to 5 s, then are closed.

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderValue, Request, Response, StatusCode, header};
use axum_server::tls_rustls::RustlsConfig;
use bytes::Bytes;
use http_body::{Body as HttpBody, Frame, SizeHint};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::{Instant, Sleep};
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

use crate::config::LimitsConfig;
use crate::ratelog::RateLimitedLog;

/// Largest request head (request line and headers) accepted.
pub const MAX_HEAD_BYTES: usize = 16 * 1024;
/// HTTP/1 read buffer per connection (hyper's minimum is 8 KiB; its default ~400 KiB).
const MAX_BUF_BYTES: usize = 32 * 1024;
/// An HTTP/2 connection without an open stream for this long is closed.
pub const H2_IDLE: Duration = Duration::from_secs(60);
/// The slowest average a request body may keep after its grace period, in bytes per second.
const MIN_BODY_RATE: u64 = 1024;
/// How long open connections get to finish when the server stops.
const GRACEFUL: Duration = Duration::from_secs(5);

type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[derive(Debug, Clone, Copy)]
pub struct Settings {
    pub max_connections: usize,
    pub max_per_address: usize,
    pub header_timeout: Duration,
    pub body_timeout: Duration,
}

impl Settings {
    pub fn from_config(l: &LimitsConfig) -> Self {
        Self {
            max_connections: l.max_connections.max(1),
            max_per_address: l.max_connections_per_address.max(1),
            header_timeout: Duration::from_secs(l.header_timeout_secs.max(1)),
            body_timeout: Duration::from_secs(l.body_timeout_secs.max(1)),
        }
    }
}

/// Open connections, in all and per client.
#[derive(Default)]
pub struct Counts {
    open: AtomicUsize,
    per_client: Mutex<HashMap<IpAddr, usize>>,
}

impl Counts {
    pub fn open(&self) -> usize {
        self.open.load(Ordering::Acquire)
    }

    fn admit(self: &Arc<Self>, peer: IpAddr, s: &Settings) -> Result<Admitted, &'static str> {
        let client = client_key(peer);
        let mut map = self
            .per_client
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if self.open.load(Ordering::Acquire) >= s.max_connections {
            return Err("total");
        }
        let n = map.entry(client).or_insert(0);
        if *n >= s.max_per_address {
            return Err("per_address");
        }
        *n += 1;
        let open = self.open.fetch_add(1, Ordering::AcqRel) + 1;
        metrics::gauge!("http_connections_open").set(open as f64);
        Ok(Admitted {
            counts: self.clone(),
            client,
        })
    }
}

/// Counts one open connection until dropped.
struct Admitted {
    counts: Arc<Counts>,
    client: IpAddr,
}

impl Drop for Admitted {
    fn drop(&mut self) {
        let mut map = self
            .counts
            .per_client
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(n) = map.get_mut(&self.client) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                map.remove(&self.client);
            }
        }
        let open = self
            .counts
            .open
            .fetch_sub(1, Ordering::AcqRel)
            .saturating_sub(1);
        metrics::gauge!("http_connections_open").set(open as f64);
    }
}

/// IPv4 (also mapped into IPv6) by address; IPv6 by /64, the usual share of one client.
fn client_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let mut seg = v6.segments();
            seg[4..].fill(0);
            IpAddr::from(seg)
        }
        v4 => v4,
    }
}

/// Accept and serve connections on `listener` until `stop` is cancelled; resolves once every
/// connection is closed (at most [`GRACEFUL`] plus a second after `stop`).
pub fn spawn(
    listener: TcpListener,
    tls: Option<RustlsConfig>,
    app: Router,
    settings: Settings,
    stop: CancellationToken,
) -> (Arc<Counts>, tokio::task::JoinHandle<()>) {
    let counts = Arc::new(Counts::default());
    let c = counts.clone();
    let join = tokio::spawn(accept_loop(listener, tls, app, settings, stop, c));
    (counts, join)
}

async fn accept_loop(
    listener: TcpListener,
    tls: Option<RustlsConfig>,
    app: Router,
    s: Settings,
    stop: CancellationToken,
    counts: Arc<Counts>,
) {
    let hard = CancellationToken::new();
    let refused_log = RateLimitedLog::new(Duration::from_secs(60));
    loop {
        let (tcp, peer) = tokio::select! {
            _ = stop.cancelled() => break,
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    if !matches!(e.kind(), std::io::ErrorKind::ConnectionAborted | std::io::ErrorKind::ConnectionReset) {
                        tracing::warn!(error = %e, "accept failed; retrying in 1 s");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                    continue;
                }
            },
        };
        let admitted = match counts.admit(peer.ip(), &s) {
            Ok(a) => a,
            Err(reason) => {
                drop(tcp);
                metrics::counter!("http_connections_refused_total", "reason" => reason)
                    .increment(1);
                if let Some(n) = refused_log.hit() {
                    tracing::warn!(
                        reason,
                        refused = n,
                        open = counts.open(),
                        peer = %peer.ip(),
                        "connection limit reached: closing new connections at once"
                    );
                }
                continue;
            }
        };
        // Event streams write many small frames; with Nagle's algorithm a frame waits for the
        // ACK of the previous one, which the browser delays up to 40 ms.
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "cannot set TCP_NODELAY");
        }
        let conn = Conn {
            peer,
            settings: s,
            app: app.clone(),
            stop: stop.clone(),
            hard: hard.clone(),
            state: Arc::new(ConnState {
                opened: Instant::now(),
                active: AtomicUsize::new(0),
                served: AtomicBool::new(false),
                idle_since_ms: AtomicU64::new(0),
            }),
        };
        tokio::spawn(conn.run(tcp, tls.clone(), admitted));
    }
    drop(listener);
    let deadline = Instant::now() + GRACEFUL;
    while counts.open() > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    hard.cancel();
    let deadline = Instant::now() + Duration::from_secs(1);
    while counts.open() > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

struct Conn {
    peer: SocketAddr,
    settings: Settings,
    app: Router,
    stop: CancellationToken,
    /// Cancelled when the graceful phase of a stop is over.
    hard: CancellationToken,
    state: Arc<ConnState>,
}

/// Requests in flight on one connection, and since when there were none.
struct ConnState {
    opened: Instant,
    active: AtomicUsize,
    served: AtomicBool,
    /// Milliseconds since the connection opened at which the last request ended.
    idle_since_ms: AtomicU64,
}

impl Conn {
    async fn run(self, tcp: TcpStream, tls: Option<RustlsConfig>, admitted: Admitted) {
        let _admitted = admitted;
        let Some(tls) = tls else {
            return self.http1(TokioIo::new(tcp)).await;
        };
        let acceptor = tokio_rustls::TlsAcceptor::from(tls.get_inner());
        let handshake = tokio::time::timeout(self.settings.header_timeout, acceptor.accept(tcp));
        let stream = tokio::select! {
            _ = self.stop.cancelled() => return,
            r = handshake => match r {
                Ok(Ok(stream)) => stream,
                Ok(Err(e)) => {
                    tracing::debug!(peer = %self.peer, error = %e, "TLS handshake failed");
                    return;
                }
                Err(_) => {
                    tracing::debug!(peer = %self.peer, "TLS handshake timed out");
                    return;
                }
            },
        };
        if stream.get_ref().1.alpn_protocol() == Some(b"h2") {
            self.http2(TokioIo::new(stream)).await
        } else {
            self.http1(TokioIo::new(stream)).await
        }
    }

    async fn http1<I>(self, io: I)
    where
        I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
    {
        let mut b = hyper::server::conn::http1::Builder::new();
        b.timer(TokioTimer::new())
            .header_read_timeout(self.settings.header_timeout)
            .max_buf_size(MAX_BUF_BYTES)
            .max_header_size(MAX_HEAD_BYTES);
        let conn = b.serve_connection(io, self.service(true));
        self.drive(conn, |c| c.graceful_shutdown(), false).await;
    }

    async fn http2<I>(self, io: I)
    where
        I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
    {
        let mut b = hyper::server::conn::http2::Builder::new(TokioExecutor::new());
        b.timer(TokioTimer::new())
            .max_header_list_size(MAX_HEAD_BYTES as u32)
            .max_concurrent_streams(100)
            .keep_alive_interval(Some(Duration::from_secs(30)))
            .keep_alive_timeout(Duration::from_secs(10));
        let conn = b.serve_connection(io, self.service(false));
        self.drive(conn, |c| c.graceful_shutdown(), true).await;
    }

    /// Runs the connection to its end; a stop asks it to finish gracefully, the end of the
    /// graceful phase drops it. With `watch_idle` (HTTP/2, where hyper has no header timeout)
    /// a connection that opens no stream in time, or stays without one, is shut down.
    async fn drive<F>(&self, conn: F, shutdown: fn(Pin<&mut F>), watch_idle: bool)
    where
        F: Future<Output = hyper::Result<()>>,
    {
        let mut conn = std::pin::pin!(conn);
        let mut closing: Option<Instant> = None;
        let period = (self.settings.header_timeout / 4)
            .clamp(Duration::from_millis(100), Duration::from_secs(1));
        let mut tick = tokio::time::interval(period);
        loop {
            tokio::select! {
                r = conn.as_mut() => {
                    if let Err(e) = r {
                        tracing::debug!(peer = %self.peer, error = %e, "connection ended with an error");
                    }
                    return;
                }
                _ = self.stop.cancelled(), if closing.is_none() => {
                    shutdown(conn.as_mut());
                    closing = Some(Instant::now());
                }
                _ = self.hard.cancelled() => return,
                _ = tick.tick(), if watch_idle => {
                    match closing {
                        // A peer that ignores GOAWAY gets the header timeout to go.
                        Some(t) if t.elapsed() > self.settings.header_timeout
                            && !self.stop.is_cancelled() => return,
                        Some(_) => {}
                        None => if self.state.idle_too_long(self.settings.header_timeout) {
                            shutdown(conn.as_mut());
                            closing = Some(Instant::now());
                        }
                    }
                }
            }
        }
    }

    fn service(&self, h1: bool) -> Svc {
        Svc {
            app: self.app.clone(),
            peer: self.peer,
            state: self.state.clone(),
            grace: self.settings.body_timeout,
            h1,
        }
    }
}

/// The router behind one connection: adds the peer address, paces the request body, keeps
/// the request counted until its response body is gone.
#[derive(Clone)]
struct Svc {
    app: Router,
    peer: SocketAddr,
    state: Arc<ConnState>,
    grace: Duration,
    h1: bool,
}

impl hyper::service::Service<Request<Incoming>> for Svc {
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Body>, Infallible>> + Send>>;

    fn call(&self, req: Request<Incoming>) -> Self::Future {
        let app = self.app.clone();
        let active = Active::begin(self.state.clone());
        let (peer, grace, h1) = (self.peer, self.grace, self.h1);
        Box::pin(async move {
            let (mut parts, body) = req.into_parts();
            parts.extensions.insert(ConnectInfo(peer));
            let timed_out = Arc::new(AtomicBool::new(false));
            let body = if body.is_end_stream() {
                Body::new(body)
            } else {
                Body::new(Paced::new(body, grace, timed_out.clone()))
            };
            let resp = match app.oneshot(Request::from_parts(parts, body)).await {
                Ok(r) => r,
                Err(never) => match never {},
            };
            let resp = if timed_out.load(Ordering::Acquire) {
                body_timeout_response(h1)
            } else {
                resp
            };
            Ok(resp.map(|b| {
                Body::new(Tracked {
                    inner: b,
                    _active: active,
                })
            }))
        })
    }
}

impl ConnState {
    fn idle_too_long(&self, header_timeout: Duration) -> bool {
        if self.active.load(Ordering::Acquire) > 0 {
            return false;
        }
        let now_ms = self.opened.elapsed().as_millis() as u64;
        if !self.served.load(Ordering::Acquire) {
            return now_ms > header_timeout.as_millis() as u64;
        }
        now_ms.saturating_sub(self.idle_since_ms.load(Ordering::Acquire))
            > H2_IDLE.as_millis() as u64
    }
}

/// One request in flight, until its response body is dropped (sent or abandoned).
struct Active {
    state: Arc<ConnState>,
}

impl Active {
    fn begin(state: Arc<ConnState>) -> Self {
        state.active.fetch_add(1, Ordering::AcqRel);
        state.served.store(true, Ordering::Release);
        Self { state }
    }
}

impl Drop for Active {
    fn drop(&mut self) {
        let s = &self.state;
        s.idle_since_ms
            .store(s.opened.elapsed().as_millis() as u64, Ordering::Release);
        s.active.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A response body that keeps its request counted as in flight until it is dropped.
struct Tracked {
    inner: Body,
    _active: Active,
}

impl HttpBody for Tracked {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }
    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }
    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// A request body that must keep a minimum pace: it ends with an error once it falls behind
/// `grace` + one second per [`MIN_BODY_RATE`] bytes received, counted from the request's start.
struct Paced {
    inner: Incoming,
    started: Instant,
    received: u64,
    grace: Duration,
    timer: Option<Pin<Box<Sleep>>>,
    timed_out: Arc<AtomicBool>,
}

impl Paced {
    fn new(inner: Incoming, grace: Duration, timed_out: Arc<AtomicBool>) -> Self {
        Self {
            inner,
            started: Instant::now(),
            received: 0,
            grace,
            timer: None,
            timed_out,
        }
    }

    fn deadline(&self) -> Instant {
        self.started + self.grace + Duration::from_millis(self.received * 1000 / MIN_BODY_RATE)
    }
}

#[derive(Debug, thiserror::Error)]
#[error("the request body arrived too slowly")]
struct BodyTooSlow;

impl HttpBody for Paced {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    this.received += data.len() as u64;
                    let deadline = this.deadline();
                    if let Some(t) = this.timer.as_mut() {
                        t.as_mut().reset(deadline);
                    }
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e.into()))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => {
                let deadline = this.deadline();
                let timer = this
                    .timer
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
                if timer.as_mut().poll(cx).is_ready() {
                    this.timed_out.store(true, Ordering::Release);
                    return Poll::Ready(Some(Err(Box::new(BodyTooSlow))));
                }
                Poll::Pending
            }
        }
    }
    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }
    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

fn body_timeout_response(h1: bool) -> Response<Body> {
    let body = serde_json::json!({"error": {
        "code": "timeout",
        "message": "the request body arrived too slowly; try again",
    }});
    let mut resp = Response::new(Body::from(body.to_string()));
    *resp.status_mut() = StatusCode::REQUEST_TIMEOUT;
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if h1 {
        h.insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clients_are_addresses_or_ipv6_slash_64() {
        let a: IpAddr = "2001:db8:1:2:3:4:5:6"
            .parse()
            .unwrap_or(IpAddr::from([0u8; 4]));
        let b: IpAddr = "2001:db8:1:2:ffff::1"
            .parse()
            .unwrap_or(IpAddr::from([0u8; 4]));
        assert_eq!(client_key(a), client_key(b));
        let mapped: IpAddr = "::ffff:10.0.0.7".parse().unwrap_or(IpAddr::from([0u8; 4]));
        assert_eq!(client_key(mapped), IpAddr::from([10, 0, 0, 7]));
    }
}
