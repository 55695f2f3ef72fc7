//! `tls = "self-signed"`: a local CA made once issues the server certificate. The certificate
//! chains to the CA and covers the box's names (checked with rustls' WebPKI verifier, the one
//! clients use); a renewal or a new address issues a new certificate from the same CA; a
//! restart keeps the CA; `/ca.crt`, `/ca.pem`, `/ca-qr.svg` and the `/ca` page offer it, and
//! a client that trusts only that CA reaches the server over HTTPS.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use rustls::client::danger::ServerCertVerifier;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};

use crate::support::test_config;
use switchboard::clock::Clock as _;

const DAY: i64 = 86_400_000;
/// 2026-01-01T00:00:00Z.
const T0: i64 = 1_767_225_600_000;

fn ders(pem: &str) -> Vec<Vec<u8>> {
    pem.split("-----BEGIN CERTIFICATE-----")
        .skip(1)
        .map(|rest| {
            let b64: String = rest
                .split("-----END CERTIFICATE-----")
                .next()
                .unwrap()
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect();
            base64::engine::general_purpose::STANDARD
                .decode(b64)
                .unwrap()
        })
        .collect()
}

fn verifier(ca_der: &[u8]) -> Arc<rustls::client::WebPkiServerVerifier> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(CertificateDer::from(ca_der.to_vec())).unwrap();
    rustls::client::WebPkiServerVerifier::builder_with_provider(
        Arc::new(roots),
        Arc::new(rustls::crypto::ring::default_provider()),
    )
    .build()
    .unwrap()
}

fn verifies(ca_der: &[u8], leaf: &[u8], name: &str, at_ms: i64) -> bool {
    verifier(ca_der)
        .verify_server_cert(
            &CertificateDer::from(leaf.to_vec()),
            &[],
            &ServerName::try_from(name.to_string()).unwrap(),
            &[],
            UnixTime::since_unix_epoch(Duration::from_millis(at_ms as u64)),
        )
        .is_ok()
}

#[test]
fn the_server_certificate_chains_to_the_local_ca_covers_the_names_and_is_renewed_from_it() {
    let dir = tempfile::tempdir().unwrap();
    let lan: Vec<std::net::IpAddr> =
        vec!["192.168.1.23".parse().unwrap(), "fd00::23".parse().unwrap()];
    let (cert, key, ca) =
        switchboard::tls::ensure_local_ca(dir.path(), "sbtest", &lan, T0).unwrap();
    let chain = ders(&std::fs::read_to_string(&cert).unwrap());
    assert_eq!(chain.len(), 2, "server certificate, then the CA");
    assert_eq!(chain[1], ca.der);
    assert_eq!(ders(&ca.pem), vec![ca.der.clone()]);
    let leaf = chain[0].clone();
    for name in [
        "sbtest",
        "sbtest.local",
        "localhost",
        "127.0.0.1",
        "192.168.1.23",
        "fd00::23",
    ] {
        assert!(verifies(&ca.der, &leaf, name, T0), "covers {name}");
    }
    assert!(
        !verifies(&ca.der, &leaf, "other.example", T0),
        "only its names"
    );
    let stranger = rcgen::generate_simple_self_signed(vec!["x".into()]).unwrap();
    assert!(
        !verifies(stranger.cert.der(), &leaf, "sbtest", T0),
        "chains to this CA only"
    );
    use std::os::unix::fs::PermissionsExt;
    for k in [key.clone(), dir.path().join("ca-key.pem")] {
        let mode = std::fs::metadata(&k).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", k.display());
    }

    // A start well before the end keeps everything.
    let (_, _, again) =
        switchboard::tls::ensure_local_ca(dir.path(), "sbtest", &lan, T0 + 300 * DAY).unwrap();
    assert_eq!(again.der, ca.der);
    assert_eq!(ders(&std::fs::read_to_string(&cert).unwrap())[0], leaf);
    // Within 30 days of the end: a new server certificate from the same CA.
    let later = T0 + 380 * DAY;
    let (_, _, again) =
        switchboard::tls::ensure_local_ca(dir.path(), "sbtest", &lan, later).unwrap();
    assert_eq!(again.der, ca.der, "the CA stays");
    let renewed = ders(&std::fs::read_to_string(&cert).unwrap())[0].clone();
    assert_ne!(renewed, leaf);
    assert!(verifies(
        &ca.der,
        &renewed,
        "sbtest.local",
        later + 390 * DAY
    ));
    assert!(
        !verifies(&ca.der, &leaf, "sbtest.local", later + 390 * DAY),
        "the old one has ended"
    );
    // A new LAN address: a new certificate that covers it, same CA.
    let lan2: Vec<std::net::IpAddr> = vec!["10.0.0.7".parse().unwrap()];
    let (_, _, again) =
        switchboard::tls::ensure_local_ca(dir.path(), "sbtest", &lan2, later).unwrap();
    assert_eq!(again.der, ca.der);
    let moved = ders(&std::fs::read_to_string(&cert).unwrap())[0].clone();
    assert!(verifies(&ca.der, &moved, "10.0.0.7", later));
    assert!(!verifies(&ca.der, &moved, "192.168.1.23", later));
}

#[test]
fn an_old_self_signed_certificate_is_replaced_by_one_from_the_ca() {
    let dir = tempfile::tempdir().unwrap();
    let old = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    std::fs::write(dir.path().join("cert.pem"), old.cert.pem()).unwrap();
    std::fs::write(dir.path().join("key.pem"), old.signing_key.serialize_pem()).unwrap();
    std::fs::write(
        dir.path().join("self-signed.json"),
        br#"{"host":"sbtest","not_after_ms":99999999999999}"#,
    )
    .unwrap();
    let (cert, _, ca) = switchboard::tls::ensure_local_ca(dir.path(), "sbtest", &[], T0).unwrap();
    let leaf = ders(&std::fs::read_to_string(&cert).unwrap())[0].clone();
    assert!(verifies(&ca.der, &leaf, "sbtest", T0));
}

/// The server on `tls = "self-signed"` (its local CA made in `dir`), on a movable clock.
async fn serve_self_signed(
    dir: &std::path::Path,
) -> (
    switchboard::config::Config,
    switchboard::clock::TestClock,
    switchboard::server::Running,
) {
    switchboard::tls::install_crypto_provider();
    let mut cfg = test_config(dir);
    cfg.tls = switchboard::config::Tls::SelfSigned;
    let clock = switchboard::clock::TestClock::new();
    let running = switchboard::server::start(cfg.clone(), Arc::new(clock.clone()))
        .await
        .unwrap();
    (cfg, clock, running)
}

#[tokio::test]
async fn the_ca_is_offered_for_download_survives_a_restart_and_is_enough_to_trust_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let (cfg, clock, running) = serve_self_signed(dir.path()).await;
    let ca = running.state.tls_ca.clone().expect("a local CA");
    let base = format!("https://127.0.0.1:{}", running.addr.port());
    // A client that trusts only this CA (no public roots) reaches the server.
    let client = reqwest::Client::builder()
        .use_preconfigured_tls(
            rustls::ClientConfig::builder_with_provider(Arc::new(
                rustls::crypto::ring::default_provider(),
            ))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates({
                let mut roots = rustls::RootCertStore::empty();
                roots.add(CertificateDer::from(ca.der.clone())).unwrap();
                roots
            })
            .with_no_client_auth(),
        )
        .build()
        .unwrap();
    let r = client.get(format!("{base}/ca.crt")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/x-x509-ca-cert");
    assert!(
        r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("switchboard-ca.crt")
    );
    assert_eq!(r.bytes().await.unwrap().to_vec(), ca.der);
    let r = client.get(format!("{base}/ca.pem")).send().await.unwrap();
    assert_eq!(r.headers()["content-type"], "application/x-pem-file");
    assert_eq!(r.text().await.unwrap(), ca.pem);
    let r = client
        .get(format!("{base}/ca-qr.svg"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["content-type"], "image/svg+xml");
    assert!(r.text().await.unwrap().contains("<svg"));
    let page = client
        .get(format!("{base}/ca"))
        .header("accept-language", "de")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for needle in [
        "Android",
        "iOS",
        "Windows",
        "macOS",
        "/ca.crt",
        "Zertifizierungsstelle",
        &ca.fingerprint,
    ] {
        assert!(page.contains(needle), "page shows {needle}");
    }
    running.stop().await;

    // A restart keeps the CA (and, well before the end, the server certificate).
    clock.advance_hours(24 * 10);
    let running = switchboard::server::start(cfg.clone(), Arc::new(clock.clone()))
        .await
        .unwrap();
    assert_eq!(running.state.tls_ca.clone().unwrap().der, ca.der);
    running.stop().await;

    // Without self-signed TLS there is nothing to offer.
    let t = crate::support::TestServer::start().await;
    let anon = crate::support::Client::anonymous(&t.base());
    for p in ["/ca", "/ca.crt", "/ca.pem", "/ca-qr.svg"] {
        assert_eq!(anon.get(p).await.status, 404, "{p}");
    }
}

/// The server certificate a new TLS connection to `port` gets, checked against `ca` at `now_ms`.
async fn served_leaf(port: u16, ca_der: &[u8], now_ms: i64) -> Vec<u8> {
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .dangerous()
    // Accepts whatever is served; the test checks the chain itself at the clock's time
    // (the injected clock runs ahead of the real one).
    .with_custom_certificate_verifier(Arc::new(AcceptAny(verifier(ca_der))))
    .with_no_client_auth();
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let tls = tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
        .unwrap();
    let leaf = tls.get_ref().1.peer_certificates().unwrap()[0].to_vec();
    assert!(
        verifies(ca_der, &leaf, "localhost", now_ms),
        "chains to the CA and is valid then"
    );
    leaf
}

#[derive(Debug)]
struct AcceptAny(Arc<rustls::client::WebPkiServerVerifier>);

impl ServerCertVerifier for AcceptAny {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(m, c, d)
    }
    fn verify_tls13_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(m, c, d)
    }
    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

#[tokio::test]
async fn the_daily_renewal_swaps_a_new_certificate_from_the_same_ca_into_the_running_server() {
    let dir = tempfile::tempdir().unwrap();
    let (_, clock, running) = serve_self_signed(dir.path()).await;
    let ca = running.state.tls_ca.clone().expect("a local CA");
    let port = running.addr.port();
    let first = served_leaf(port, &ca.der, clock.now_ms()).await;

    // Well before the end the daily check keeps the certificate.
    clock.advance_hours(24 * 300);
    let said = switchboard::jobs::run_now(running.state.job_ctx(), "tls-renewal")
        .await
        .unwrap();
    assert!(said.contains("more than 30 days"), "{said}");
    assert_eq!(served_leaf(port, &ca.der, clock.now_ms()).await, first);

    // Within 30 days of the end: a new one from the same CA, served to the next connection
    // by the same running server.
    clock.advance_hours(24 * 80);
    let said = switchboard::jobs::run_now(running.state.job_ctx(), "tls-renewal")
        .await
        .unwrap();
    assert!(said.contains("renewed"), "{said}");
    let now = clock.now_ms();
    assert!(
        !verifies(&ca.der, &first, "localhost", now + 30 * DAY),
        "the first one is about to end"
    );
    let renewed = served_leaf(port, &ca.der, now).await;
    assert_ne!(renewed, first);
    assert!(verifies(&ca.der, &renewed, "localhost", now + 390 * DAY));
    assert_eq!(running.state.tls_ca.clone().unwrap().der, ca.der);
    running.stop().await;
}
