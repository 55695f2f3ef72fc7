//! Smaller defects found by probing the server from outside (issue 24, item 7): the CSRF origin
//! check compares scheme and port; the setup link dies once any administrator exists; /metrics
//! is not for everyone; a bad signed media link answers the JSON error; the self-signed
//! certificate names the box and expires (and is renewed).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use switchboard::ids::UserId;

use reqwest::header::{HeaderMap, HeaderValue};
use serde_json::json;

use crate::support::{PASSWORD, TestServer, client_builder, test_config};

/// A cookie-authenticated POST without the CSRF token: only the Origin can vouch for it.
async fn post_with_origin(t: &TestServer, host: Option<&str>, origin: &str) -> u16 {
    let mut h: HeaderMap = t.admin.headers(false);
    h.insert("origin", HeaderValue::from_str(origin).unwrap());
    if let Some(host) = host {
        h.insert("host", HeaderValue::from_str(host).unwrap());
    }
    let n = rand_suffix();
    t.admin
        .http
        .post(t.admin.url("/api/v1/canned"))
        .headers(h)
        .json(&json!({"shortcut": format!("o{n}"), "text": "hello"}))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

#[tokio::test]
async fn csrf_origin_must_match_scheme_host_and_port() {
    let t = TestServer::start().await;
    let port = t.running().addr.port();
    let here = format!("127.0.0.1:{port}");
    assert_eq!(
        post_with_origin(&t, None, &format!("http://{here}")).await,
        201
    );
    for bad in [
        format!("http://127.0.0.1:{}", port + 1),
        format!("https://{here}"),
        "http://127.0.0.1".to_string(),
        "null".to_string(),
    ] {
        assert_eq!(post_with_origin(&t, None, &bad).await, 403, "{bad}");
    }
    // A Host without a port means the scheme's default port (80 here, no TLS).
    assert_eq!(
        post_with_origin(&t, Some("box.lan"), "http://box.lan").await,
        201
    );
    assert_eq!(
        post_with_origin(&t, Some("box.lan"), "http://box.lan:80").await,
        201
    );
    for bad in ["http://box.lan:8080", "https://box.lan", "http://evil.lan"] {
        assert_eq!(
            post_with_origin(&t, Some("box.lan"), bad).await,
            403,
            "{bad}"
        );
    }
    t.stop().await;
}

#[tokio::test]
async fn the_setup_link_dies_once_an_administrator_exists_even_one_made_on_the_command_line() {
    switchboard::tls::install_crypto_provider();
    let dir = tempfile::tempdir().unwrap();
    let cfg = test_config(dir.path());
    let running = switchboard::server::start(cfg, Arc::new(switchboard::clock::SystemClock))
        .await
        .unwrap();
    let link = running.setup_url.clone().unwrap();
    let base = format!("http://{}", running.addr);
    let link = link.replace(&running.state.public_url, &base);
    let http = client_builder().build().unwrap();
    let toml = dir.path().join("c.toml");
    std::fs::write(
        &toml,
        format!(
            "data_dir = {:?}\nlisten = \"127.0.0.1:0\"\n",
            dir.path().display().to_string()
        ),
    )
    .unwrap();
    let cli = |args: &'static [&'static str]| {
        let toml = toml.clone();
        tokio::task::spawn_blocking(move || {
            let out = std::process::Command::new(env!("CARGO_BIN_EXE_switchboard"))
                .arg("--config")
                .arg(&toml)
                .args(args)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        })
    };
    // An agent made on the command line does not end setup: someone must still administer.
    cli(&[
        "user",
        "add",
        "carl",
        "--role",
        "agent",
        "--password",
        "carl-password-1",
    ])
    .await
    .unwrap();
    assert_eq!(http.get(&link).send().await.unwrap().status(), 200);
    // An administrator does.
    cli(&[
        "user",
        "add",
        "root2",
        "--role",
        "admin",
        "--password",
        "root2-password-1",
    ])
    .await
    .unwrap();
    assert_eq!(http.get(&link).send().await.unwrap().status(), 404);
    let token = link.split("token=").nth(1).unwrap();
    let r = http
        .post(format!("{base}/setup"))
        .form(&[
            ("token", token),
            ("username", "mallory"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    running.stop().await;
}

async fn metrics_from(t: &TestServer, last: u8, token: Option<&str>) -> u16 {
    let http = client_builder()
        .local_address(IpAddr::from([127, 0, 0, last]))
        .build()
        .unwrap();
    let mut rb = http.get(format!("{}/metrics", t.base()));
    if let Some(tok) = token {
        rb = rb.bearer_auth(tok);
    }
    rb.send().await.unwrap().status().as_u16()
}

async fn tokens(t: &TestServer) -> (String, String) {
    let (agent, _) = t.user("agnes", "agent").await;
    let store = &t.state().store;
    let admin = switchboard::domain::auth::create_api_token(
        store,
        UserId(t.admin_id),
        "scrape",
        None,
        None,
    )
    .await
    .unwrap()
    .0;
    let agent = switchboard::domain::auth::create_api_token(store, UserId(agent), "x", None, None)
        .await
        .unwrap()
        .0;
    (admin, agent)
}

#[tokio::test]
async fn metrics_are_for_this_machine_or_administrators() {
    // Default ("local"): this machine, or an administrator from anywhere.
    let t = TestServer::start().await;
    let (admin, agent) = tokens(&t).await;
    assert_eq!(metrics_from(&t, 1, None).await, 200, "loopback");
    assert_eq!(
        metrics_from(&t, 2, Some(&agent)).await,
        200,
        "all of 127/8 is loopback"
    );
    // A peer on the LAN: this machine has only loopback, so the whole router is driven
    // in-process with the peer address the accept loop would have set.
    let lan = |token: Option<&str>| {
        let mut req = axum::http::Request::get("/metrics");
        if let Some(tok) = token {
            req = req.header("authorization", format!("Bearer {tok}"));
        }
        let mut req = req.body(axum::body::Body::empty()).unwrap();
        req.extensions_mut()
            .insert(axum::extract::ConnectInfo(SocketAddr::from((
                [10, 0, 0, 5],
                40000,
            ))));
        let app = switchboard::app(t.state().clone());
        async move {
            tower::ServiceExt::oneshot(app, req)
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(lan(None).await, 403);
    assert_eq!(lan(Some(&agent)).await, 403);
    assert_eq!(lan(Some(&admin)).await, 200);
    t.stop().await;

    let t = TestServer::start_with(|c| c.metrics.access = "admin".into()).await;
    let (admin, agent) = tokens(&t).await;
    assert_eq!(
        metrics_from(&t, 1, None).await,
        403,
        "admin only: loopback is not enough"
    );
    assert_eq!(metrics_from(&t, 1, Some(&agent)).await, 403);
    assert_eq!(metrics_from(&t, 2, Some(&admin)).await, 200);
    let body = client_builder()
        .build()
        .unwrap()
        .get(format!("{}/metrics", t.base()))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(body.contains("http_connections_open"), "{body}");
    t.stop().await;
}

#[tokio::test]
async fn a_signed_media_link_with_a_huge_expiry_answers_the_json_error() {
    let t = TestServer::start().await;
    let anon = client_builder().build().unwrap();
    for path in [
        "/media/1/99999999999999999999999/abc",
        "/media/99999999999999999999999/1/abc",
        "/media/1/-5/abc",
    ] {
        let r = anon
            .get(format!("{}{path}", t.base()))
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        assert!((400..500).contains(&status), "{path}: {status}");
        let v: serde_json::Value = r
            .json()
            .await
            .unwrap_or_else(|e| panic!("{path}: not JSON: {e}"));
        assert!(v["error"]["code"].is_string(), "{path}: {v}");
    }
    t.stop().await;
}

fn cert_der(dir: &std::path::Path) -> Vec<u8> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let pem = std::fs::read(dir.join("tls/cert.pem")).unwrap();
    CertificateDer::from_pem_slice(&pem).unwrap().to_vec()
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

/// `YYMMDD` of `now + days` as an X.509 UTCTime starts.
fn utc_day(now_ms: i64, days: i64) -> String {
    chrono::DateTime::from_timestamp_millis(now_ms + days * 86_400_000)
        .unwrap()
        .format("%y%m%d")
        .to_string()
}

#[tokio::test]
async fn the_self_signed_certificate_names_the_box_lasts_397_days_and_is_renewed() {
    use switchboard::clock::Clock;
    switchboard::tls::install_crypto_provider();
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = test_config(dir.path());
    cfg.tls = switchboard::config::Tls::SelfSigned;
    // A certificate of an older version (rcgen's defaults: valid until 4096) is replaced.
    std::fs::create_dir_all(dir.path().join("tls")).unwrap();
    let old = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    std::fs::write(dir.path().join("tls/cert.pem"), old.cert.pem()).unwrap();
    std::fs::write(
        dir.path().join("tls/key.pem"),
        old.signing_key.serialize_pem(),
    )
    .unwrap();

    let clock = switchboard::clock::TestClock::new();
    let start = |clock: &switchboard::clock::TestClock| {
        switchboard::server::start(cfg.clone(), Arc::new(clock.clone()))
    };
    let running = start(&clock).await.unwrap();
    let first_fp = running.state.tls_fingerprint.clone().unwrap();
    let der = cert_der(dir.path());
    let host = switchboard::tls::hostname().unwrap_or_else(|| "localhost".into());
    assert!(!contains(&der, "rcgen self signed cert"));
    assert!(
        contains(&der, "Switchboard") && contains(&der, &host),
        "O and CN"
    );
    assert!(
        contains(&der, &utc_day(clock.now_ms(), 397)),
        "valid 397 days"
    );
    running.stop().await;

    // A restart well before expiry keeps it.
    clock.advance_hours(24 * 300);
    let running = start(&clock).await.unwrap();
    assert_eq!(running.state.tls_fingerprint.clone().unwrap(), first_fp);
    running.stop().await;
    // Within 30 days of the end: a new one, valid 397 days from then.
    clock.advance_hours(24 * 80);
    let running = start(&clock).await.unwrap();
    assert_ne!(running.state.tls_fingerprint.clone().unwrap(), first_fp);
    assert!(contains(
        &cert_der(dir.path()),
        &utc_day(clock.now_ms(), 397)
    ));
    running.stop().await;
}
