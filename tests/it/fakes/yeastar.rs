//! A fake Yeastar P-Series Open API (PROVIDERS.md, "PBX"), under `{origin}/openapi/v1.0` (the
//! base URL): `POST /get_token` with `{"username": <client id>, "password": <client secret>}`
//! → an access token valid 1800 s; `POST /call/dial?access_token=…` with
//! `{"caller": <extension>, "callee": <number>}` → `{"errcode":0,"errmsg":"SUCCESS","call_id"}`.
//! A non-zero `errcode` is a failure (HTTP 200, as Yeastar answers).
//!
//! Every request needs a `User-Agent` (the fake refuses one without); requests are recorded and
//! faults can be scripted like every fake's (`fail_next`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

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

    pub fn fail_next(&self, n: usize, fault: super::Fault) {
        self.server.core.fail_next(n, fault);
    }
}

fn answer(v: Value) -> Response {
    json_response(200, &v.to_string())
}

async fn handle(State(s): State<Arc<YsState>>, req: Request) -> Response {
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
