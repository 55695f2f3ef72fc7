//! Hostile connections against the real server (plain and TLS): requests that never finish are
//! closed within the timeouts, heads over the cap are refused, connections over the caps are
//! closed at once, and `/healthz`, a logged-in user, a slow but moving upload and an event
//! stream keep working meanwhile. Figures at full size: `benches/hostile.rs`.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};
use switchboard::ids::UserId;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

use crate::support::{TestServer, client_builder};

async fn connect_from(last: u8, to: SocketAddr) -> TcpStream {
    let s = TcpSocket::new_v4().unwrap();
    s.bind(SocketAddr::new(IpAddr::from([127, 0, 0, last]), 0))
        .unwrap();
    s.connect(to).await.unwrap()
}

/// Reads until the server closes; what it sent and when it closed (None: still open at `until`).
async fn until_closed<S: AsyncReadExt + Unpin>(
    s: &mut S,
    start: Instant,
    until: Duration,
) -> (Vec<u8>, Option<Duration>) {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout_at((start + until).into(), s.read(&mut buf)).await {
            Err(_) => return (got, None),
            Ok(Ok(0)) | Ok(Err(_)) => return (got, Some(start.elapsed())),
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
        }
    }
}

/// Requests `/healthz` on fresh connections every 100 ms while `f` runs; their latencies.
async fn healthz_meanwhile<F: std::future::Future>(base: &str, f: F) -> (F::Output, Vec<Duration>) {
    let http = client_builder()
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let url = format!("{base}/healthz");
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let s2 = stop.clone();
    let probe = tokio::spawn(async move {
        let mut lat = Vec::new();
        while !s2.load(std::sync::atomic::Ordering::Relaxed) {
            let t = Instant::now();
            let r = http.get(&url).send().await.expect("healthz answers");
            assert_eq!(r.status(), 200);
            lat.push(t.elapsed());
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        lat
    });
    let out = f.await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    (out, probe.await.unwrap())
}

fn fast(lat: &[Duration]) {
    assert!(lat.len() >= 5, "too few probes: {}", lat.len());
    let worst = lat.iter().max().unwrap();
    assert!(*worst < Duration::from_secs(1), "healthz took {worst:?}");
}

#[tokio::test]
async fn unfinished_requests_are_closed_in_time_while_the_server_keeps_answering() {
    let t = TestServer::start_with(|c| {
        c.limits.header_timeout_secs = 1;
        c.limits.body_timeout_secs = 2;
    })
    .await;
    let addr = t.running().addr;
    let me = t.admin.clone();
    let token = switchboard::domain::auth::create_api_token(
        &t.state().store,
        UserId(t.admin_id),
        "t",
        None,
        None,
    )
    .await
    .unwrap()
    .0;
    let start = Instant::now();
    let (results, lat) = healthz_meanwhile(&t.base(), async {
        let mut tasks = Vec::new();
        // 20 heads that stall halfway, from four addresses.
        for i in 0..20u8 {
            tasks.push(tokio::spawn(async move {
                let mut s = connect_from(2 + i % 4, addr).await;
                s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: a")
                    .await
                    .unwrap();
                ("head", until_closed(&mut s, start, Duration::from_secs(6)).await)
            }));
        }
        // 5 login bodies that trickle one byte every 400 ms.
        for _ in 0..5 {
            tasks.push(tokio::spawn(async move {
                let mut s = connect_from(6, addr).await;
                s.write_all(b"POST /api/v1/session HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
                    .await
                    .unwrap();
                let mut res = (Vec::new(), None);
                for _ in 0..15 {
                    let _ = s.write_all(b" ").await;
                    res = until_closed(&mut s, start, start.elapsed() + Duration::from_millis(400)).await;
                    if res.1.is_some() {
                        break;
                    }
                }
                ("body", res)
            }));
        }
        // A head over the 16 KiB cap is refused at once.
        tasks.push(tokio::spawn(async move {
            let mut s = connect_from(7, addr).await;
            let big = format!("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n", "a".repeat(20_000));
            let _ = s.write_all(big.as_bytes()).await;
            ("big", until_closed(&mut s, start, Duration::from_secs(6)).await)
        }));
        // Meanwhile the logged-in admin and a token keep working.
        for _ in 0..5 {
            assert_eq!(me.get("/api/v1/me").await.status, 200);
            let r = client_builder()
                .build()
                .unwrap()
                .get(format!("http://{addr}/api/v1/me"))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        let mut out = Vec::new();
        for t in tasks {
            out.push(t.await.unwrap());
        }
        out
    })
    .await;
    fast(&lat);
    for (what, (got, closed)) in results {
        let closed = closed.unwrap_or_else(|| panic!("a stalled {what} was still open after 6 s"));
        let text = String::from_utf8_lossy(&got);
        match what {
            // header_timeout_secs = 1 (hyper checks it when the socket next wakes)
            "head" => assert!(
                closed < Duration::from_millis(2500),
                "{what} closed after {closed:?}"
            ),
            // body_timeout_secs = 2 plus a second per KiB received
            "body" => {
                assert!(
                    closed < Duration::from_millis(4000),
                    "{what} closed after {closed:?}"
                );
                assert!(text.starts_with("HTTP/1.1 408"), "{text}");
                assert!(text.contains("\"code\":\"timeout\""), "{text}");
            }
            _ => {
                assert!(
                    closed < Duration::from_millis(1000),
                    "{what} closed after {closed:?}"
                );
                assert!(text.starts_with("HTTP/1.1 431"), "{text}");
            }
        }
    }
    t.stop().await;
}

#[tokio::test]
async fn uploads_that_keep_moving_and_event_streams_outlive_the_timeouts() {
    let t = TestServer::start_with(|c| {
        c.limits.header_timeout_secs = 1;
        c.limits.body_timeout_secs = 1;
    })
    .await;
    let addr = t.running().addr;
    let token = switchboard::domain::auth::create_api_token(
        &t.state().store,
        UserId(t.admin_id),
        "t",
        None,
        None,
    )
    .await
    .unwrap()
    .0;
    // An event stream stays open past every timeout.
    let events = client_builder()
        .build()
        .unwrap()
        .get(format!("http://{addr}/api/v1/events"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(events.status(), 200);
    let mut events = events.bytes_stream();
    // 12 KiB at about 3 KiB/s: 4 s, four times the body timeout, but always moving.
    let mut s = connect_from(2, addr).await;
    let head = format!(
        "POST /api/v1/attachments?scope=internal HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nX-Filename: slow.txt\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n",
        12 * 1024
    );
    s.write_all(head.as_bytes()).await.unwrap();
    for _ in 0..12 {
        s.write_all(&[b'x'; 1024]).await.unwrap();
        tokio::time::sleep(Duration::from_millis(330)).await;
    }
    let (got, _) = until_closed(&mut s, Instant::now(), Duration::from_secs(5)).await;
    let text = String::from_utf8_lossy(&got);
    assert!(text.starts_with("HTTP/1.1 201"), "{text}");
    // The stream, opened more than 4 s ago, still delivers.
    t.user("late", "agent").await;
    use futures_util::StreamExt;
    let chunk = tokio::time::timeout(Duration::from_secs(5), events.next())
        .await
        .expect("the event stream is still open")
        .expect("and delivers")
        .unwrap();
    assert!(!chunk.is_empty());
    t.stop().await;
}

#[tokio::test]
async fn connections_over_a_cap_are_closed_at_once_and_counted_back() {
    let t = TestServer::start_with(|c| {
        c.limits.header_timeout_secs = 2;
        c.limits.max_connections_per_address = 8;
        c.limits.max_connections = 24;
    })
    .await;
    let addr = t.running().addr;
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..12 {
        tasks.push(tokio::spawn(async move {
            let mut s = connect_from(8, addr).await;
            until_closed(&mut s, start, Duration::from_secs(5)).await.1
        }));
    }
    let mut closed: Vec<Duration> = Vec::new();
    for t in tasks {
        closed.push(
            t.await
                .unwrap()
                .expect("closed by the header timeout at the latest"),
        );
    }
    closed.sort();
    // Four over the per-address cap go at once, the eight admitted by the header timeout.
    assert!(closed[3] < Duration::from_millis(500), "{closed:?}");
    assert!(closed[4] > Duration::from_millis(1500), "{closed:?}");
    // Their slots are free again: the same address connects and is served.
    let mut s = connect_from(8, addr).await;
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let (got, _) = until_closed(&mut s, Instant::now(), Duration::from_secs(3)).await;
    assert!(got.starts_with(b"HTTP/1.1 200"));
    // The global cap: 3 addresses x 8 fill it; one more from a fourth address is closed at once.
    let mut held = Vec::new();
    for a in 9..12u8 {
        for _ in 0..8 {
            held.push(connect_from(a, addr).await);
        }
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(t.running().connections.open(), 24);
    let mut extra = connect_from(12, addr).await;
    let closed = until_closed(&mut extra, Instant::now(), Duration::from_millis(500))
        .await
        .1;
    assert!(closed.is_some(), "over the global cap");
    drop(held);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(t.running().connections.open(), 0);
    t.stop().await;
}

#[tokio::test]
async fn tls_handshakes_and_requests_that_stall_are_closed_in_time() {
    switchboard::tls::install_crypto_provider();
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = crate::support::test_config(dir.path());
    cfg.tls = switchboard::config::Tls::SelfSigned;
    cfg.limits.header_timeout_secs = 1;
    let running = switchboard::server::start(cfg, Arc::new(switchboard::clock::SystemClock))
        .await
        .unwrap();
    let addr = running.addr;
    let pem = std::fs::read(dir.path().join("tls/ca.pem")).unwrap();
    let mut roots = rustls::RootCertStore::empty();
    {
        use rustls::pki_types::CertificateDer;
        use rustls::pki_types::pem::PemObject;
        roots
            .add(CertificateDer::from_pem_slice(&pem).unwrap())
            .unwrap();
    }
    let start = Instant::now();
    let mut tasks = Vec::new();
    for alpn in [None, Some("http/1.1"), Some("h2")] {
        for _ in 0..5 {
            let mut config = rustls::ClientConfig::builder()
                .with_root_certificates(roots.clone())
                .with_no_client_auth();
            if let Some(p) = alpn {
                config.alpn_protocols = vec![p.as_bytes().to_vec()];
            }
            let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
            tasks.push(tokio::spawn(async move {
                let mut s = connect_from(3, addr).await;
                let Some(p) = alpn else {
                    // Never starts the handshake.
                    return (
                        "silent",
                        until_closed(&mut s, start, Duration::from_secs(5)).await.1,
                    );
                };
                let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
                let mut tls = connector.connect(name, s).await.unwrap();
                if p == "h2" {
                    // The connection preface and nothing more: no stream is ever opened.
                    tls.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\x04\0\0\0\0\0")
                        .await
                        .unwrap();
                } else {
                    tls.write_all(b"GET /healthz HTTP/1.1\r\nHost: local")
                        .await
                        .unwrap();
                }
                (
                    "partial",
                    until_closed(&mut tls, start, Duration::from_secs(5))
                        .await
                        .1,
                )
            }));
        }
    }
    let http = reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    for _ in 0..5 {
        let r = http
            .get(format!("https://127.0.0.1:{}/healthz", addr.port()))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    for t in tasks {
        let (what, closed) = t.await.unwrap();
        let closed =
            closed.unwrap_or_else(|| panic!("a {what} TLS connection was still open after 5 s"));
        assert!(
            closed < Duration::from_millis(2600),
            "{what} closed after {closed:?}"
        );
    }
    running.stop().await;
}
