//! A fake Web Push service (RFC 8030) on loopback, and the browser's side of a subscription.
//!
//! The service takes `POST /push/<id>` and answers 201 Created, recording every request (faults
//! scripted as every fake's: `fail_next(1, Fault::ServerError)`, `Fault::Reject { status: 410,
//! .. }`). [`BrowserKeys`] is what a browser makes when it subscribes: a P-256 key pair
//! (`p256dh`) and a 16-byte `auth` secret; [`BrowserKeys::decrypt`] opens a push body as the
//! browser would (RFC 8291 / RFC 8188 `aes128gcm`). [`verify_vapid`] checks the
//! `Authorization: vapid t=…, k=…` header (RFC 8292) against the server's public key.
//!
//! This side is written from the RFCs with ring's primitives directly, not with
//! `switchboard::domain::push::crypto`, so a mistake on one side shows on the other.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::{aead, agreement, hkdf, rand::SystemRandom};

use super::{Core, Flavor, Recorded, Server};

pub struct FakePushService {
    pub server: Server,
}

async fn handle(State(core): State<Arc<Core>>, req: Request) -> Response {
    match core.intercept(req).await {
        Ok(_) => StatusCode::CREATED.into_response(),
        Err(fault) => fault,
    }
}

impl FakePushService {
    pub async fn start() -> FakePushService {
        let flavor = Flavor {
            server_error: r#"{"reason":"internal error"}"#,
            rate_limited: r#"{"reason":"too many requests"}"#,
        };
        let server = Server::start(flavor, |core| {
            Router::new().fallback(handle).with_state(core)
        })
        .await;
        FakePushService { server }
    }

    /// An endpoint URL of this service (`http://127.0.0.1:PORT/push/<name>`).
    pub fn endpoint(&self, name: &str) -> String {
        format!("{}/push/{name}", self.server.origin())
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.server.core.requests()
    }

    /// The requests posted to `endpoint`.
    pub fn requests_to(&self, endpoint: &str) -> Vec<Recorded> {
        let path = endpoint
            .trim_start_matches(&self.server.origin())
            .to_string();
        self.requests()
            .into_iter()
            .filter(|r| r.path() == path)
            .collect()
    }

    /// Waits (up to 10 s) until `endpoint` has received `n` requests; returns them.
    pub async fn wait_for(&self, endpoint: &str, n: usize) -> Vec<Recorded> {
        for _ in 0..200 {
            let got = self.requests_to(endpoint);
            if got.len() >= n {
                return got;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!(
            "{endpoint} got {} pushes, expected {n}",
            self.requests_to(endpoint).len()
        );
    }
}

/// A browser's subscription keys. The private key can open one push (ring's ECDH keys are
/// single-use); [`BrowserKeys::new`] again for the next.
pub struct BrowserKeys {
    private: Option<agreement::EphemeralPrivateKey>,
    pub public: Vec<u8>,
    pub auth: [u8; 16],
}

struct Len(usize);
impl hkdf::KeyType for Len {
    fn len(&self) -> usize {
        self.0
    }
}

fn hkdf_expand(prk: &hkdf::Prk, info: &[&[u8]], n: usize) -> Vec<u8> {
    let mut out = vec![0u8; n];
    prk.expand(info, Len(n)).unwrap().fill(&mut out).unwrap();
    out
}

impl BrowserKeys {
    pub fn new() -> BrowserKeys {
        let rng = SystemRandom::new();
        let private =
            agreement::EphemeralPrivateKey::generate(&agreement::ECDH_P256, &rng).unwrap();
        let public = private.compute_public_key().unwrap().as_ref().to_vec();
        let mut auth = [0u8; 16];
        getrandom::fill(&mut auth).unwrap();
        BrowserKeys {
            private: Some(private),
            public,
            auth,
        }
    }

    pub fn p256dh_b64(&self) -> String {
        URL_SAFE_NO_PAD.encode(&self.public)
    }

    pub fn auth_b64(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.auth)
    }

    /// Open a push body: the plaintext payload.
    pub fn decrypt(&mut self, body: &[u8]) -> Vec<u8> {
        assert!(body.len() > 21, "push body too short");
        let salt = &body[..16];
        let rs = u32::from_be_bytes([body[16], body[17], body[18], body[19]]);
        let idlen = body[20] as usize;
        let as_public = &body[21..21 + idlen];
        let ciphertext = &body[21 + idlen..];
        assert_eq!(idlen, 65, "key id is the sender's uncompressed P-256 key");
        assert!(ciphertext.len() as u32 <= rs, "one record");
        let private = self
            .private
            .take()
            .expect("these keys already opened a push");
        let ecdh = agreement::agree_ephemeral(
            private,
            &agreement::UnparsedPublicKey::new(&agreement::ECDH_P256, as_public),
            |s| s.to_vec(),
        )
        .unwrap();
        let prk_key = hkdf::Salt::new(hkdf::HKDF_SHA256, &self.auth).extract(&ecdh);
        let ikm = hkdf_expand(&prk_key, &[b"WebPush: info\0", &self.public, as_public], 32);
        let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, salt).extract(&ikm);
        let cek = hkdf_expand(&prk, &[b"Content-Encoding: aes128gcm\0"], 16);
        let nonce = hkdf_expand(&prk, &[b"Content-Encoding: nonce\0"], 12);
        let key = aead::LessSafeKey::new(aead::UnboundKey::new(&aead::AES_128_GCM, &cek).unwrap());
        let mut buf = ciphertext.to_vec();
        let plain = key
            .open_in_place(
                aead::Nonce::try_assume_unique_for_key(&nonce).unwrap(),
                aead::Aad::empty(),
                &mut buf,
            )
            .expect("the push decrypts with the subscription's keys");
        // The last record ends with 0x02, then optional zero padding.
        let end = plain.iter().rposition(|&b| b != 0).expect("a delimiter");
        assert_eq!(plain[end], 2, "last-record delimiter");
        plain[..end].to_vec()
    }
}

/// Checks `Authorization: vapid t=<jwt>, k=<key>` against `public_key_b64`; returns the claims.
pub fn verify_vapid(header: &str, public_key_b64: &str) -> serde_json::Value {
    let rest = header.strip_prefix("vapid ").expect("vapid scheme");
    let mut t = None;
    let mut k = None;
    for part in rest.split(',') {
        let part = part.trim();
        if let Some(v) = part.strip_prefix("t=") {
            t = Some(v);
        } else if let Some(v) = part.strip_prefix("k=") {
            k = Some(v);
        }
    }
    let (t, k) = (t.expect("t="), k.expect("k="));
    assert_eq!(k, public_key_b64, "k= is the key the server publishes");
    let (input, sig) = t.rsplit_once('.').unwrap();
    let public = URL_SAFE_NO_PAD.decode(k).unwrap();
    ring::signature::UnparsedPublicKey::new(&ring::signature::ECDSA_P256_SHA256_FIXED, public)
        .verify(input.as_bytes(), &URL_SAFE_NO_PAD.decode(sig).unwrap())
        .expect("the VAPID token verifies against the public key");
    let (header, claims) = input.split_once('.').unwrap();
    let header: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap();
    assert_eq!(header["alg"], "ES256");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(claims).unwrap()).unwrap()
}
