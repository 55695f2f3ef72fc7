//! A fake Yeastar P-Series Open API (PROVIDERS.md, "PBX"), under `{origin}/openapi/v1.0` (the
//! base URL): `POST /get_token` with `{"username": <client id>, "password": <client secret>}`
//! → an access token valid 1800 s; `POST /call/dial?access_token=…` with
//! `{"caller": <extension>, "callee": <number>}` → `{"errcode":0,"errmsg":"SUCCESS","call_id"}`.
//! A non-zero `errcode` is a failure (HTTP 200, as Yeastar answers).
//!
//! Every request needs a `User-Agent` (the fake refuses one without); requests are recorded and
//! faults can be scripted like every fake's (`fail_next`).
//!
//! Events (Yeastar developer guide, "Monitor Events via WebSocket"): `GET
//! /openapi/v1.0/subscribe?access_token=…` upgrades to a WebSocket (RFC 6455, written here:
//! client frames must be masked, ours are not); `{"topic_list":[…]}` is answered
//! `{"errcode":0,"errmsg":"SUCCESS"}`, the text `heartbeat` with `heartbeat response`;
//! [`FakeYeastar::send_event`] pushes `{"type":…,"sn":…,"msg":"<JSON text>"}` to every
//! subscriber, [`FakeYeastar::drop_subscribers`] closes them.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use base64::Engine as _;
use sha1::Digest as _;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::broadcast;

use axum::Router;
use axum::extract::{Request, State};
use axum::response::Response;
use serde_json::{Value, json};

use super::{Core, Flavor, Recorded, Server, json_response, lock};

pub const CLIENT_ID: &str = "client-id";
pub const CLIENT_SECRET: &str = "client-secret-xyz";
pub const CALL_ID: &str = "1700000000.42";

const SERVER_ERROR: &str = r#"{"errcode":-1,"errmsg":"INTERNAL SERVER ERROR"}"#;
const RATE_LIMITED: &str = r#"{"errcode":-1,"errmsg":"TOO MANY REQUESTS"}"#;

struct YsState {
    core: Arc<Core>,
    issued: Mutex<Vec<String>>,
    /// `Some((errcode, errmsg))`: every dial fails so.
    dial_error: Mutex<Option<(i64, String)>>,
    token_requests: AtomicU64,
    push: broadcast::Sender<Push>,
    subscribers: AtomicUsize,
    /// Every text a subscriber sent (topic lists, heartbeats).
    received: Mutex<Vec<String>>,
}

#[derive(Clone, Debug)]
enum Push {
    Text(String),
    Drop,
}

pub struct FakeYeastar {
    pub server: Server,
    state: Arc<YsState>,
}

impl FakeYeastar {
    pub async fn start() -> FakeYeastar {
        let mut state = None;
        let flavor = Flavor {
            server_error: SERVER_ERROR,
            rate_limited: RATE_LIMITED,
        };
        let server = Server::start(flavor, |core| {
            let s = Arc::new(YsState {
                core,
                issued: Mutex::new(Vec::new()),
                dial_error: Mutex::new(None),
                token_requests: AtomicU64::new(0),
                push: broadcast::channel(1024).0,
                subscribers: AtomicUsize::new(0),
                received: Mutex::new(Vec::new()),
            });
            state = Some(s.clone());
            Router::new().fallback(handle).with_state(s)
        })
        .await;
        let state = state.expect("router built");
        FakeYeastar { server, state }
    }

    /// `http://127.0.0.1:PORT/openapi/v1.0`.
    pub fn base_url(&self) -> String {
        format!("{}/openapi/v1.0", self.server.origin())
    }

    /// From now on every dial answers this `errcode` / `errmsg` (e.g. 20002, "CALLER BUSY").
    pub fn fail_dials(&self, errcode: i64, errmsg: &str) {
        *lock(&self.state.dial_error) = Some((errcode, errmsg.to_owned()));
    }

    /// How many times a token was asked for (good or bad credentials).
    pub fn token_requests(&self) -> u64 {
        self.state.token_requests.load(Ordering::SeqCst)
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.server.core.requests()
    }

    /// Pushes event `kind` with `msg` (as JSON text, as the PBX sends it) to every subscriber.
    pub fn send_event(&self, kind: u32, msg: Value) {
        let text = json!({"type": kind, "sn": "3631A2124XXX", "msg": msg.to_string()}).to_string();
        let _ = self.state.push.send(Push::Text(text));
    }

    /// Pushes raw text (garbage included).
    pub fn send_raw(&self, text: &str) {
        let _ = self.state.push.send(Push::Text(text.to_string()));
    }

    pub fn drop_subscribers(&self) {
        let _ = self.state.push.send(Push::Drop);
    }

    pub fn subscribers(&self) -> usize {
        self.state.subscribers.load(Ordering::SeqCst)
    }

    /// What subscribers sent.
    pub fn received(&self) -> Vec<String> {
        lock(&self.state.received).clone()
    }

    pub async fn wait_subscribers(&self, n: usize) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.subscribers() < n {
            assert!(
                Instant::now() < deadline,
                "fewer than {n} Yeastar subscribers"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub fn fail_next(&self, n: usize, fault: super::Fault) {
        self.server.core.fail_next(n, fault);
    }
}

fn answer(v: Value) -> Response {
    json_response(200, &v.to_string())
}

async fn handle(State(s): State<Arc<YsState>>, req: Request) -> Response {
    if req.uri().path() == "/openapi/v1.0/subscribe" {
        return subscribe(s, req);
    }
    let (rec, _) = match s.core.intercept(req).await {
        Ok(x) => x,
        Err(resp) => return resp,
    };
    if rec.header("user-agent").is_none_or(str::is_empty) {
        return json_response(
            400,
            r#"{"errcode":-1,"errmsg":"User-Agent header required (fake)"}"#,
        );
    }
    match (rec.method.as_str(), rec.path()) {
        ("POST", "/openapi/v1.0/get_token") => {
            s.token_requests.fetch_add(1, Ordering::SeqCst);
            if rec.json() != json!({"username": CLIENT_ID, "password": CLIENT_SECRET}) {
                return answer(json!({"errcode": 10004, "errmsg": "INVALID CLIENT"}));
            }
            let token = format!("tok-{}", lock(&s.issued).len() + 1);
            lock(&s.issued).push(token.clone());
            answer(
                json!({"errcode": 0, "errmsg": "SUCCESS", "access_token": token,
                "access_token_expire_time": 1800, "refresh_token": "refresh-fake",
                "refresh_token_expire_time": 86400}),
            )
        }
        ("POST", "/openapi/v1.0/call/dial") => {
            let token = rec
                .query_pairs()
                .into_iter()
                .find(|(k, _)| k == "access_token")
                .map(|(_, v)| v);
            if !token.is_some_and(|t| lock(&s.issued).contains(&t)) {
                // The fake's own code: PROVIDERS.md documents only "non-zero is a failure".
                return answer(json!({"errcode": 10006, "errmsg": "INVALID ACCESS TOKEN (fake)"}));
            }
            let body = rec.json();
            let (caller, callee) = (&body["caller"], &body["callee"]);
            if !caller.is_string() || !callee.is_string() {
                return answer(json!({"errcode": 10002, "errmsg": "PARAMETER ERROR (fake)"}));
            }
            match lock(&s.dial_error).clone() {
                Some((code, msg)) => answer(json!({"errcode": code, "errmsg": msg})),
                None => answer(json!({"errcode": 0, "errmsg": "SUCCESS", "call_id": CALL_ID})),
            }
        }
        _ => json_response(
            404,
            &json!({"errcode": -1, "errmsg": format!("no such endpoint {} (fake)", rec.path())})
                .to_string(),
        ),
    }
}

const GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// The WebSocket upgrade of `/subscribe`: a valid access token, `Upgrade: websocket`, a key.
fn subscribe(s: Arc<YsState>, mut req: Request) -> Response {
    let token = req
        .uri()
        .query()
        .and_then(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .find(|(k, _)| k == "access_token")
                .map(|(_, v)| v.into_owned())
        })
        .unwrap_or_default();
    if !lock(&s.issued).contains(&token) {
        return json_response(
            401,
            r#"{"errcode":10006,"errmsg":"INVALID ACCESS TOKEN (fake)"}"#,
        );
    }
    let h = req.headers();
    let upgrade = h
        .get("upgrade")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    let key = h
        .get("sec-websocket-key")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let ua = h.get("user-agent").is_some();
    if !upgrade || key.is_empty() || !ua || h.get("sec-websocket-version").is_none() {
        return json_response(
            400,
            r#"{"errcode":-1,"errmsg":"not a WebSocket upgrade (fake)"}"#,
        );
    }
    let accept = base64::engine::general_purpose::STANDARD
        .encode(sha1::Sha1::digest(format!("{key}{GUID}").as_bytes()));
    let on_upgrade = hyper::upgrade::on(&mut req);
    tokio::spawn(async move {
        let Ok(up) = on_upgrade.await else { return };
        let io = hyper_util::rt::TokioIo::new(up);
        serve_ws(s, io).await;
    });
    Response::builder()
        .status(101)
        .header("upgrade", "websocket")
        .header("connection", "Upgrade")
        .header("sec-websocket-accept", accept)
        .body(axum::body::Body::empty())
        .unwrap()
}

fn frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![0x80 | opcode];
    let len = payload.len();
    if len < 126 {
        f.push(len as u8);
    } else if len <= u16::MAX as usize {
        f.push(126);
        f.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        f.push(127);
        f.extend_from_slice(&(len as u64).to_be_bytes());
    }
    f.extend_from_slice(payload);
    f
}

/// One client frame: (opcode, unmasked payload); None at the end. Panics on an unmasked one.
async fn read_frame<R: tokio::io::AsyncRead + Unpin>(r: &mut R) -> Option<(u8, Vec<u8>)> {
    let mut h = [0u8; 2];
    r.read_exact(&mut h).await.ok()?;
    assert!(h[1] & 0x80 != 0, "client WebSocket frames must be masked");
    let mut len = u64::from(h[1] & 0x7f);
    if len == 126 {
        let mut b = [0u8; 2];
        r.read_exact(&mut b).await.ok()?;
        len = u64::from(u16::from_be_bytes(b));
    } else if len == 127 {
        let mut b = [0u8; 8];
        r.read_exact(&mut b).await.ok()?;
        len = u64::from_be_bytes(b);
    }
    let mut mask = [0u8; 4];
    r.read_exact(&mut mask).await.ok()?;
    let mut p = vec![0u8; len as usize];
    r.read_exact(&mut p).await.ok()?;
    for (i, b) in p.iter_mut().enumerate() {
        *b ^= mask[i % 4];
    }
    Some((h[0] & 0x0f, p))
}

async fn serve_ws<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static>(
    s: Arc<YsState>,
    io: T,
) {
    let (mut r, mut w) = tokio::io::split(io);
    let (tx, mut from_client) = tokio::sync::mpsc::channel::<(u8, Vec<u8>)>(64);
    let reader = tokio::spawn(async move {
        while let Some(f) = read_frame(&mut r).await {
            if tx.send(f).await.is_err() {
                break;
            }
        }
    });
    let mut push = s.push.subscribe();
    let mut subscribed = false;
    loop {
        let out = tokio::select! {
            f = from_client.recv() => match f {
                None | Some((8, _)) => break,
                Some((1, p)) => {
                    let text = String::from_utf8_lossy(&p).into_owned();
                    lock(&s.received).push(text.clone());
                    if text == "heartbeat" {
                        frame(1, b"heartbeat response")
                    } else if serde_json::from_str::<Value>(&text)
                        .is_ok_and(|v| v["topic_list"].is_array())
                    {
                        if !subscribed {
                            subscribed = true;
                            s.subscribers.fetch_add(1, Ordering::SeqCst);
                        }
                        frame(1, br#"{"errcode":0,"errmsg":"SUCCESS"}"#)
                    } else {
                        frame(1, br#"{"errcode":-1,"errmsg":"UNKNOWN REQUEST (fake)"}"#)
                    }
                }
                Some(_) => continue,
            },
            m = push.recv() => match m {
                Ok(Push::Text(t)) if subscribed => frame(1, t.as_bytes()),
                Ok(Push::Text(_)) | Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Ok(Push::Drop) | Err(broadcast::error::RecvError::Closed) => {
                    let _ = w.write_all(&frame(8, &[])).await;
                    break;
                }
            },
        };
        if w.write_all(&out).await.is_err() {
            break;
        }
    }
    reader.abort();
    if subscribed {
        s.subscribers.fetch_sub(1, Ordering::SeqCst);
    }
}
