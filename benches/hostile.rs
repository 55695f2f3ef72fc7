//! Hostile connections against the RELEASE binary: loopback only, bounded counts and time.
//!
//! ```text
//! cargo build --release && cargo bench --profile dev --bench hostile
//! BENCH_SMOKE=1 cargo bench --profile dev --bench hostile        # CI: small counts, seconds
//! ```
//! Knobs: `BENCH_BIN`, `HOSTILE_CONNS` (2,000), `HOSTILE_HEADER_KB` (300), `HOSTILE_SOURCES`
//! (16 loopback addresses 127.0.0.2…, so no single address hits the per-address cap),
//! `HOSTILE_SLOW` (500), `HOSTILE_SLOW_POSTS` (100), `HOSTILE_TLS` (500), `HOSTILE_HOLD_SECS`
//! (30). Each phase starts a fresh server with the default limits:
//!
//! 1. **big heads**: `HOSTILE_CONNS` connections send `GET /healthz` with one header of
//!    `HOSTILE_HEADER_KB` KiB and stall. RSS and the sockets the server holds before, at the
//!    peak, after `HOSTILE_HOLD_SECS`, and 5 s after our side closed them all.
//! 2. **slowloris**: `HOSTILE_SLOW` connections send a request head one byte every 2 s, and
//!    `HOSTILE_SLOW_POSTS` logins a 1,000-byte body one byte every 2 s.
//! 3. **one address**: 300 connections from 127.0.0.9 that send nothing.
//! 4. **TLS**: `HOSTILE_TLS` connections that never start the handshake and as many that
//!    finish it and send half a request.
//!
//! Throughout, a prober on 127.0.0.1 opens a new connection every 250 ms for `GET /healthz` and
//! an agent's `GET /api/v1/me` (Bearer token) and records latency and failures. For every phase
//! the report gives how many hostile connections the server closed, and when. It asserts
//! nothing: it prints figures (docs/reliability.md).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::{Lat, Server, env_usize, mib, ms};
use switchboard::domain::users::Role;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

fn main() {
    switchboard::tls::install_crypto_provider();
    let smoke = common::smoke();
    let conns = env_usize("HOSTILE_CONNS", if smoke { 40 } else { 2000 });
    let header_kb = env_usize("HOSTILE_HEADER_KB", if smoke { 20 } else { 300 });
    let sources = env_usize("HOSTILE_SOURCES", 16).clamp(1, 200);
    let slow = env_usize("HOSTILE_SLOW", if smoke { 20 } else { 500 });
    let slow_posts = env_usize("HOSTILE_SLOW_POSTS", if smoke { 10 } else { 100 });
    let tls_conns = env_usize("HOSTILE_TLS", if smoke { 20 } else { 500 });
    let hold =
        Duration::from_secs(env_usize("HOSTILE_HOLD_SECS", if smoke { 4 } else { 30 }) as u64);
    let bin = common::require_binary();
    println!(
        "hostile bench: {conns} big heads of {header_kb} KiB from {sources} addresses, {slow} slowloris + {slow_posts} slow bodies, {tls_conns}+{tls_conns} TLS, hold {}s; load {}",
        hold.as_secs(),
        common::loadavg()
    );
    // Smoke runs (the debug binary of this tree) use short timeouts so the run takes seconds;
    // a full run measures the defaults.
    let env: Vec<(&str, &str)> = if smoke {
        vec![
            ("SWITCHBOARD_LIMITS__HEADER_TIMEOUT_SECS", "1"),
            ("SWITCHBOARD_LIMITS__BODY_TIMEOUT_SECS", "2"),
        ]
    } else {
        Vec::new()
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        big_heads(&bin, &env, conns, header_kb << 10, sources, hold).await;
        slowloris(&bin, &env, slow, slow_posts, sources, hold).await;
        one_address(&bin, &env, hold.min(Duration::from_secs(15))).await;
        tls(&bin, &env, tls_conns, sources, hold).await;
    });
}

/// A fresh server with an agent and its API token.
fn server(bin: &Path, env: &[(&str, &str)], tls: bool) -> (Server, tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let token = {
        let store = common::open_store(dir.path(), 8);
        let t = store
            .write_blocking(|ctx| {
                let u = common::put_user_in(ctx, "agent", Role::Agent, "x")?;
                common::api_token_in(ctx, u.id)
            })
            .unwrap();
        drop(store);
        t
    };
    let mut env = env.to_vec();
    if tls {
        env.push(("SWITCHBOARD_TLS", "self-signed"));
    }
    let mut srv = Server::spawn(bin, dir.path(), &env);
    if tls {
        // wait_ready speaks plain HTTP: poll for the listener instead.
        let addr = srv.base.trim_start_matches("http://").to_string();
        let t0 = Instant::now();
        while std::net::TcpStream::connect(&addr).is_err() && t0.elapsed() < Duration::from_secs(30)
        {
            std::thread::sleep(Duration::from_millis(20));
        }
        std::thread::sleep(Duration::from_millis(300));
    } else {
        srv.wait_ready(Duration::from_secs(30));
    }
    (srv, dir, token)
}

fn addr_of(srv: &Server) -> SocketAddr {
    srv.base.trim_start_matches("http://").parse().unwrap()
}

/// Sockets the server process holds (listener and control socket included).
fn sockets(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| {
            d.filter_map(Result::ok)
                .filter(|e| {
                    std::fs::read_link(e.path())
                        .map(|l| l.to_string_lossy().starts_with("socket:"))
                        .unwrap_or(false)
                })
                .count()
        })
        .unwrap_or(0)
}

fn source(i: usize, sources: usize) -> IpAddr {
    IpAddr::from([127, 0, 0, 2 + (i % sources) as u8])
}

async fn connect_from(src: IpAddr, to: SocketAddr) -> std::io::Result<TcpStream> {
    let s = TcpSocket::new_v4()?;
    s.bind(SocketAddr::new(src, 0))?;
    s.connect(to).await
}

/// Reads until the server closes (EOF or reset) or `until`; the time it closed, if it did.
async fn closed_by_server<S: AsyncReadExt + Unpin>(
    s: &mut S,
    start: Instant,
    until: Instant,
) -> Option<Duration> {
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout_at(until.into(), s.read(&mut buf)).await {
            Err(_) => return None,
            Ok(Ok(0)) | Ok(Err(_)) => return Some(start.elapsed()),
            Ok(Ok(_)) => continue,
        }
    }
}

/// `GET path` on a new connection from 127.0.0.1; the status line's code, or None.
async fn probe_once(to: SocketAddr, path: &str, token: &str) -> Option<u16> {
    let fut = async {
        let mut s = TcpStream::connect(to).await.ok()?;
        let req = format!(
            "GET {path} HTTP/1.1\r\nHost: {to}\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"
        );
        s.write_all(req.as_bytes()).await.ok()?;
        let mut buf = Vec::new();
        s.read_to_end(&mut buf).await.ok()?;
        std::str::from_utf8(buf.get(9..12)?).ok()?.parse().ok()
    };
    tokio::time::timeout(Duration::from_secs(5), fut)
        .await
        .ok()
        .flatten()
}

#[derive(Default, Clone)]
struct Probes {
    healthz: Lat,
    me: Lat,
    failed: usize,
}

/// Probes `/healthz` and `/api/v1/me` every 250 ms until `stop`.
fn spawn_prober(
    to: SocketAddr,
    token: String,
    stop: Arc<AtomicBool>,
) -> tokio::task::JoinHandle<Probes> {
    tokio::spawn(async move {
        let mut p = Probes::default();
        while !stop.load(Ordering::Relaxed) {
            for (path, lat) in [("/healthz", 0), ("/api/v1/me", 1)] {
                let t = Instant::now();
                match probe_once(to, path, &token).await {
                    Some(200) => {
                        if lat == 0 {
                            p.healthz.push(t.elapsed())
                        } else {
                            p.me.push(t.elapsed())
                        }
                    }
                    _ => p.failed += 1,
                }
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        p
    })
}

fn report_probes(p: &Probes) {
    println!(
        "  prober (new connection each): /healthz n={} p50 {:.1} ms max {:.1} ms; agent /api/v1/me n={} p50 {:.1} ms max {:.1} ms; failed {}",
        p.healthz.0.len(),
        ms(p.healthz.p(0.5)),
        ms(p.healthz.max()),
        p.me.0.len(),
        ms(p.me.p(0.5)),
        ms(p.me.max()),
        p.failed
    );
}

/// How many of `closed` (close times, None = still open) closed by `t`.
fn closed_by(closed: &[Option<Duration>], t: Duration) -> usize {
    closed.iter().filter(|c| c.is_some_and(|d| d <= t)).count()
}

fn report_closed(what: &str, closed: &[Option<Duration>], hold: Duration) {
    let mut times: Vec<Duration> = closed.iter().flatten().copied().collect();
    times.sort_unstable();
    let (first, last) = (times.first().copied(), times.last().copied());
    println!(
        "  {what}: {} connections; closed by the server within 2 s: {}, within 5 s: {}, within {} s: {} (first {}, last {}); still open: {}",
        closed.len(),
        closed_by(closed, Duration::from_secs(2)),
        closed_by(closed, Duration::from_secs(5)),
        hold.as_secs(),
        times.len(),
        first
            .map(|d| format!("{:.1} s", d.as_secs_f64()))
            .unwrap_or("-".into()),
        last.map(|d| format!("{:.1} s", d.as_secs_f64()))
            .unwrap_or("-".into()),
        closed.len() - times.len()
    );
}

async fn big_heads(
    bin: &Path,
    env: &[(&str, &str)],
    n: usize,
    header_bytes: usize,
    sources: usize,
    hold: Duration,
) {
    println!(
        "\n1. big heads: {n} × GET /healthz with a {} KiB header, then silence",
        header_bytes >> 10
    );
    let (srv, _dir, token) = tokio::task::block_in_place(|| server(bin, env, false));
    let to = addr_of(&srv);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (rss0, sock0) = (srv.rss_kb(), sockets(srv.pid));
    let stop = Arc::new(AtomicBool::new(false));
    let prober = spawn_prober(to, token, stop.clone());
    let start = Instant::now();
    let until = start + hold;
    let release = Arc::new(tokio::sync::Notify::new());
    let mut tasks = Vec::new();
    let head = Arc::new(format!(
        "GET /healthz HTTP/1.1\r\nHost: {to}\r\nX-Big: {}",
        "a".repeat(header_bytes)
    ));
    for i in 0..n {
        let head = head.clone();
        let release = release.clone();
        tasks.push(tokio::spawn(async move {
            let Ok(mut s) = connect_from(source(i, sources), to).await else {
                return (Some(Duration::ZERO), None);
            };
            // A refused write (the server closed early) is a close too.
            let wrote = s.write_all(head.as_bytes()).await;
            let closed = if wrote.is_err() {
                Some(start.elapsed())
            } else {
                closed_by_server(&mut s, start, until).await
            };
            // Keep our end open until told, like a client that never gives up.
            if closed.is_none() {
                release.notified().await;
            }
            (closed, Some(s))
        }));
    }
    let mut peak_rss = 0;
    let mut peak_sock = 0;
    while Instant::now() < until {
        peak_rss = peak_rss.max(srv.rss_kb());
        peak_sock = peak_sock.max(sockets(srv.pid));
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (rss_hold, sock_hold) = (srv.rss_kb(), sockets(srv.pid));
    release.notify_waiters();
    let mut closed = Vec::new();
    for t in tasks {
        let (c, s) = t.await.unwrap();
        closed.push(c);
        drop(s);
    }
    tokio::time::sleep(Duration::from_secs(5)).await;
    stop.store(true, Ordering::Relaxed);
    let probes = prober.await.unwrap();
    let (rss_after, sock_after) = (srv.rss_kb(), sockets(srv.pid));
    println!(
        "  server RSS: before {:.1} MiB, peak {:.1} MiB, after {} s {:.1} MiB, 5 s after we closed ours {:.1} MiB",
        mib(rss0),
        mib(peak_rss),
        hold.as_secs(),
        mib(rss_hold),
        mib(rss_after)
    );
    println!(
        "  server sockets: before {sock0}, peak {peak_sock}, after {} s {sock_hold}, 5 s after we closed ours {sock_after}",
        hold.as_secs()
    );
    report_closed("big heads", &closed, hold);
    report_probes(&probes);
    tokio::task::block_in_place(|| srv.stop());
}

async fn slowloris(
    bin: &Path,
    env: &[(&str, &str)],
    n: usize,
    posts: usize,
    sources: usize,
    hold: Duration,
) {
    println!("\n2. slowloris: {n} request heads and {posts} login bodies, one byte every 2 s");
    let (srv, _dir, token) = tokio::task::block_in_place(|| server(bin, env, false));
    let to = addr_of(&srv);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss0 = srv.rss_kb();
    let stop = Arc::new(AtomicBool::new(false));
    let prober = spawn_prober(to, token, stop.clone());
    let start = Instant::now();
    let until = start + hold;
    let mut heads = Vec::new();
    let mut bodies = Vec::new();
    for i in 0..n + posts {
        let (prefix, drip) = if i < n {
            (
                String::new(),
                format!(
                    "GET /healthz HTTP/1.1\r\nHost: {to}\r\nX-Slow: {}",
                    "a".repeat(10_000)
                ),
            )
        } else {
            (
                format!(
                    "POST /api/v1/session HTTP/1.1\r\nHost: {to}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
                ),
                "{".repeat(1000),
            )
        };
        let t = tokio::spawn(async move {
            let Ok(mut s) = connect_from(source(i, sources), to).await else {
                return Some(Duration::ZERO);
            };
            if !prefix.is_empty() && s.write_all(prefix.as_bytes()).await.is_err() {
                return Some(start.elapsed());
            }
            for b in drip.bytes() {
                if s.write_all(&[b]).await.is_err() {
                    return Some(start.elapsed());
                }
                let next = (Instant::now() + Duration::from_secs(2)).min(until);
                if let Some(c) = closed_by_server(&mut s, start, next).await {
                    return Some(c);
                }
                if Instant::now() >= until {
                    return None;
                }
            }
            None
        });
        if i < n {
            heads.push(t);
        } else {
            bodies.push(t);
        }
    }
    let mut peak_rss = 0;
    while Instant::now() < until {
        peak_rss = peak_rss.max(srv.rss_kb());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let mut h = Vec::new();
    for t in heads {
        h.push(t.await.unwrap());
    }
    let mut b = Vec::new();
    for t in bodies {
        b.push(t.await.unwrap());
    }
    stop.store(true, Ordering::Relaxed);
    let probes = prober.await.unwrap();
    println!(
        "  server RSS: before {:.1} MiB, peak {:.1} MiB",
        mib(rss0),
        mib(peak_rss)
    );
    report_closed("slow heads", &h, hold);
    report_closed("slow bodies", &b, hold);
    report_probes(&probes);
    tokio::task::block_in_place(|| srv.stop());
}

async fn one_address(bin: &Path, env: &[(&str, &str)], hold: Duration) {
    let n = 300;
    println!("\n3. one address: {n} silent connections from 127.0.0.9");
    let (srv, _dir, token) = tokio::task::block_in_place(|| server(bin, env, false));
    let to = addr_of(&srv);
    let stop = Arc::new(AtomicBool::new(false));
    let prober = spawn_prober(to, token, stop.clone());
    let start = Instant::now();
    let until = start + hold;
    let mut tasks = Vec::new();
    for _ in 0..n {
        tasks.push(tokio::spawn(async move {
            let Ok(mut s) = connect_from(IpAddr::from([127, 0, 0, 9]), to).await else {
                return Some(Duration::ZERO);
            };
            closed_by_server(&mut s, start, until).await
        }));
    }
    let mut c = Vec::new();
    for t in tasks {
        c.push(t.await.unwrap());
    }
    stop.store(true, Ordering::Relaxed);
    let probes = prober.await.unwrap();
    println!(
        "  closed within 0.5 s (refused by a cap): {}",
        closed_by(&c, Duration::from_millis(500))
    );
    report_closed("silent", &c, hold);
    report_probes(&probes);
    tokio::task::block_in_place(|| srv.stop());
}

async fn tls(bin: &Path, env: &[(&str, &str)], n: usize, sources: usize, hold: Duration) {
    println!(
        "\n4. TLS: {n} connections that never handshake, {n} that send half a request after it"
    );
    let (srv, dir, token) = tokio::task::block_in_place(|| server(bin, env, true));
    let to = addr_of(&srv);
    let pem = std::fs::read(dir.path().join("tls/cert.pem")).unwrap();
    let mut roots = rustls::RootCertStore::empty();
    {
        use rustls::pki_types::CertificateDer;
        use rustls::pki_types::pem::PemObject;
        roots
            .add(CertificateDer::from_pem_slice(&pem).unwrap())
            .unwrap();
    }
    let config = Arc::new(
        rustls::ClientConfig::builder()
            .with_root_certificates(roots)
            .with_no_client_auth(),
    );
    let connector = tokio_rustls::TlsConnector::from(config);
    let _ = token;
    let rss0 = srv.rss_kb();
    let start = Instant::now();
    let until = start + hold;
    let mut silent = Vec::new();
    let mut partial = Vec::new();
    for i in 0..2 * n {
        let connector = connector.clone();
        let t = tokio::spawn(async move {
            let Ok(mut s) = connect_from(source(i, sources), to).await else {
                return Some(Duration::ZERO);
            };
            if i < n {
                return closed_by_server(&mut s, start, until).await;
            }
            let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
            let Ok(Ok(mut t)) =
                tokio::time::timeout(Duration::from_secs(10), connector.connect(name, s)).await
            else {
                return Some(start.elapsed());
            };
            if t.write_all(b"GET /healthz HTTP/1.1\r\nHost: local")
                .await
                .is_err()
            {
                return Some(start.elapsed());
            }
            closed_by_server(&mut t, start, until).await
        });
        if i < n {
            silent.push(t);
        } else {
            partial.push(t);
        }
    }
    let mut peak_rss = 0;
    while Instant::now() < until {
        peak_rss = peak_rss.max(srv.rss_kb());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let mut a = Vec::new();
    for t in silent {
        a.push(t.await.unwrap());
    }
    let mut b = Vec::new();
    for t in partial {
        b.push(t.await.unwrap());
    }
    println!(
        "  server RSS: before {:.1} MiB, peak {:.1} MiB",
        mib(rss0),
        mib(peak_rss)
    );
    report_closed("no handshake", &a, hold);
    report_closed("half a request after the handshake", &b, hold);
    tokio::task::block_in_place(|| srv.stop());
}
