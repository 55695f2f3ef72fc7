//! Fake providers for integration tests: small servers on 127.0.0.1:0 that speak the wire
//! formats of PROVIDERS.md, check our authentication and request shapes exactly, record every
//! request, and can be scripted to fail. Plus builders for signed webhooks, so a test can act
//! as the provider.
//!
//! | fake | speaks |
//! |---|---|
//! | [`whatsapp`] | WhatsApp Cloud API (Graph): send, mark read, media up/down; webhook builders |
//! | [`messenger`] | Messenger Send API, attachments; webhook builders |
//! | [`twilio`] | Twilio Messages API, media; form/status webhook builders |
//! | [`ami`] | Asterisk Manager Interface over TCP: Login, Originate (+ OriginateResponse), Logoff |
//! | [`yeastar`] | Yeastar P-Series Open API: get_token, call/dial |
//! | [`push`] | a Web Push service (RFC 8030); the browser side of a subscription (RFC 8291 decrypt, RFC 8292 VAPID check) |
//!
//! The signing code here deliberately calls hmac/sha1/sha2 directly instead of reusing
//! `switchboard::channels::signature`, so a bug on one side is caught by the other.

#![allow(dead_code)] // not every test uses every helper

pub mod ami;
pub mod instagram;
pub mod messenger;
pub mod push;
pub mod twilio;
pub mod whatsapp;
pub mod yeastar;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use hmac::{Hmac, Mac};
use tokio::sync::watch;

/// One request as the fake received it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    /// Path and query exactly as requested, e.g. `/v21.0/me/messages?access_token=…`.
    pub path_and_query: String,
    /// Header names in lowercase, in arrival order.
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

impl Recorded {
    pub fn path(&self) -> &str {
        self.path_and_query
            .split('?')
            .next()
            .unwrap_or(&self.path_and_query)
    }
    pub fn query_pairs(&self) -> Vec<(String, String)> {
        let q = self.path_and_query.split_once('?').map_or("", |(_, q)| q);
        url::form_urlencoded::parse(q.as_bytes())
            .into_owned()
            .collect()
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }
    /// The body decoded as a form, pairs in order (duplicates kept).
    pub fn form(&self) -> Vec<(String, String)> {
        url::form_urlencoded::parse(&self.body)
            .into_owned()
            .collect()
    }
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// A scripted misbehaviour for upcoming requests.
#[derive(Debug, Clone)]
pub enum Fault {
    /// HTTP 500 with the provider's generic error body.
    ServerError,
    /// HTTP 429 with `Retry-After: <secs>` and the provider's rate-limit body.
    RateLimited { retry_after_secs: u64 },
    /// Any status and body, e.g. a provider error like WhatsApp 131047.
    Reject { status: u16, body: String },
    /// Never answer (until the fake is dropped): the client's timeout fires after the
    /// request was sent.
    Hang,
    /// Read the request, then drop the connection without a complete answer.
    Drop,
    /// HTTP 200 with a body that is not the provider's JSON.
    Garbage,
}

struct Scripted {
    path_contains: Option<String>,
    fault: Fault,
}

/// Provider-specific error bodies for [`Fault::ServerError`] and [`Fault::RateLimited`].
pub(crate) struct Flavor {
    pub server_error: &'static str,
    pub rate_limited: &'static str,
}

/// What every fake shares: the request log, the fault script, the shutdown signal.
pub struct Core {
    requests: Mutex<Vec<Recorded>>,
    script: Mutex<VecDeque<Scripted>>,
    shutdown: watch::Receiver<bool>,
    flavor: Flavor,
    /// Every request waits this long before it is answered (see [`Core::set_delay`]).
    delay: Mutex<Duration>,
    /// Requests inside their delay right now, and the most seen at once.
    active: std::sync::atomic::AtomicUsize,
    peak: std::sync::atomic::AtomicUsize,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Core {
    pub fn requests(&self) -> Vec<Recorded> {
        lock(&self.requests).clone()
    }

    pub fn clear_requests(&self) {
        lock(&self.requests).clear();
    }

    /// Answer every request only after `d` (a slow provider), so overlapping sends show up
    /// in [`Core::peak_concurrency`] and a send's successor can be seen waiting for it.
    pub fn set_delay(&self, d: Duration) {
        *lock(&self.delay) = d;
    }

    /// The most requests that were being answered at the same time (while delayed).
    pub fn peak_concurrency(&self) -> usize {
        self.peak.load(std::sync::atomic::Ordering::SeqCst)
    }

    pub fn fail_next(&self, n: usize, fault: Fault) {
        let mut s = lock(&self.script);
        for _ in 0..n {
            s.push_back(Scripted {
                path_contains: None,
                fault: fault.clone(),
            });
        }
    }

    pub fn fail_next_on(&self, path_contains: &str, n: usize, fault: Fault) {
        let mut s = lock(&self.script);
        for _ in 0..n {
            s.push_back(Scripted {
                path_contains: Some(path_contains.to_owned()),
                fault: fault.clone(),
            });
        }
    }

    /// Read and record the request; answer it here when a fault is scripted for it.
    pub(crate) async fn intercept(&self, req: Request) -> Result<(Recorded, Request), Response> {
        let (parts, body) = req.into_parts();
        let bytes = axum::body::to_bytes(body, 256 * 1024 * 1024)
            .await
            .map_err(|e| (StatusCode::BAD_REQUEST, e.to_string()).into_response())?;
        let rec = Recorded {
            method: parts.method.to_string(),
            path_and_query: parts
                .uri
                .path_and_query()
                .map_or_else(|| parts.uri.path().to_owned(), |p| p.as_str().to_owned()),
            headers: parts
                .headers
                .iter()
                .map(|(k, v)| {
                    (
                        k.as_str().to_owned(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect(),
            body: bytes.clone(),
        };
        lock(&self.requests).push(rec.clone());
        let delay = *lock(&self.delay);
        if !delay.is_zero() {
            use std::sync::atomic::Ordering::SeqCst;
            let now = self.active.fetch_add(1, SeqCst) + 1;
            self.peak.fetch_max(now, SeqCst);
            tokio::time::sleep(delay).await;
            self.active.fetch_sub(1, SeqCst);
        }
        let fault = {
            let mut s = lock(&self.script);
            let pos = s.iter().position(|x| {
                x.path_contains
                    .as_deref()
                    .is_none_or(|p| rec.path_and_query.contains(p))
            });
            pos.and_then(|i| s.remove(i)).map(|x| x.fault)
        };
        match fault {
            None => Ok((rec, Request::from_parts(parts, Body::from(bytes)))),
            Some(f) => Err(self.fault_response(f).await),
        }
    }

    async fn fault_response(&self, fault: Fault) -> Response {
        match fault {
            Fault::ServerError => json_response(500, self.flavor.server_error),
            Fault::RateLimited { retry_after_secs } => {
                let mut r = json_response(429, self.flavor.rate_limited);
                if let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string()) {
                    r.headers_mut().insert(header::RETRY_AFTER, v);
                }
                r
            }
            Fault::Reject { status, body } => json_response(status, &body),
            Fault::Hang => {
                let mut rx = self.shutdown.clone();
                let _ = tokio::time::timeout(Duration::from_secs(120), rx.wait_for(|s| *s)).await;
                StatusCode::SERVICE_UNAVAILABLE.into_response()
            }
            Fault::Drop => {
                // Announce a body, then fail the body stream: hyper closes the connection
                // and the client sees a truncated exchange.
                let stream = futures_util::stream::once(async {
                    Err::<Bytes, std::io::Error>(std::io::Error::other("fake drops connection"))
                });
                let mut r = Response::new(Body::from_stream(stream));
                r.headers_mut()
                    .insert(header::CONTENT_LENGTH, HeaderValue::from_static("100"));
                r.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                );
                r
            }
            Fault::Garbage => (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "text/html")],
                "<html><body>502 Bad Gateway (not really)</body>",
            )
                .into_response(),
        }
    }
}

pub(crate) fn json_response(status: u16, body: &str) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_owned(),
    )
        .into_response()
}

pub(crate) fn header_str<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

/// A running fake: stops (and releases hanging requests) when dropped.
pub struct Server {
    pub addr: SocketAddr,
    pub core: Arc<Core>,
    stop: watch::Sender<bool>,
}

impl Server {
    /// Bind 127.0.0.1:0 and serve the router `make` builds around the shared core.
    pub(crate) async fn start(flavor: Flavor, make: impl FnOnce(Arc<Core>) -> Router) -> Server {
        let (stop, shutdown) = watch::channel(false);
        let core = Arc::new(Core {
            requests: Mutex::new(Vec::new()),
            script: Mutex::new(VecDeque::new()),
            shutdown: shutdown.clone(),
            flavor,
            delay: Mutex::new(Duration::ZERO),
            active: std::sync::atomic::AtomicUsize::new(0),
            peak: std::sync::atomic::AtomicUsize::new(0),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind fake provider on loopback");
        let addr = listener.local_addr().expect("fake provider address");
        let router = make(core.clone());
        let mut rx = shutdown;
        tokio::spawn(async move {
            let _ = axum::serve(listener, router)
                .with_graceful_shutdown(async move {
                    let _ = rx.wait_for(|s| *s).await;
                })
                .await;
        });
        Server { addr, core, stop }
    }

    pub fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

// ---------------------------------------------------------------------------------------------
// Independent signing (does not use switchboard::channels::signature).

pub fn hmac_sha256_hex(key: &str, data: &[u8]) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key.as_bytes()).expect("hmac key");
    mac.update(data);
    hex::encode(mac.finalize().into_bytes())
}

pub fn hmac_sha1_hex(key: &str, data: &[u8]) -> String {
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(key.as_bytes()).expect("hmac key");
    mac.update(data);
    hex::encode(mac.finalize().into_bytes())
}

pub fn hmac_sha1_base64(key: &str, data: &[u8]) -> String {
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(key.as_bytes()).expect("hmac key");
    mac.update(data);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// `X-Hub-Signature-256` value for a Meta webhook body.
pub fn meta_sign(app_secret: &str, body: &[u8]) -> String {
    format!("sha256={}", hmac_sha256_hex(app_secret, body))
}

/// Legacy `X-Hub-Signature` value.
pub fn meta_sign_sha1(app_secret: &str, body: &[u8]) -> String {
    format!("sha1={}", hmac_sha1_hex(app_secret, body))
}

/// The query Meta sends for the subscription handshake.
pub fn handshake_query(verify_token: &str, challenge: &str) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .append_pair("hub.mode", "subscribe")
        .append_pair("hub.verify_token", verify_token)
        .append_pair("hub.challenge", challenge)
        .finish()
}

/// Media bytes served in 16 KiB chunks without Content-Length (forces streaming limits).
pub(crate) fn chunked_body(bytes: Bytes) -> Body {
    let chunks: Vec<Result<Bytes, std::io::Error>> = bytes
        .chunks(16 * 1024)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    Body::from_stream(futures_util::stream::iter(chunks))
}

/// A file a fake serves for download.
#[derive(Debug, Clone)]
pub struct StoredMedia {
    pub bytes: Bytes,
    pub mime: String,
    pub filename: Option<String>,
    /// Serve with Content-Length (true) or chunked (false).
    pub with_length: bool,
}

impl StoredMedia {
    pub(crate) fn response(&self) -> Response {
        let body = if self.with_length {
            Body::from(self.bytes.clone())
        } else {
            chunked_body(self.bytes.clone())
        };
        let mut r = Response::new(body);
        if let Ok(v) = HeaderValue::from_str(&self.mime) {
            r.headers_mut().insert(header::CONTENT_TYPE, v);
        }
        r
    }
}
