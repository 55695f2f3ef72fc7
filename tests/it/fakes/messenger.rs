//! Fake Messenger Send API plus builders for signed Messenger webhooks. The same server plays
//! Instagram (Instagram API with Instagram Login) when started with
//! [`FakeMessenger::start_instagram`] (see `fakes::instagram`).
//!
//! Messenger endpoints: `POST {origin}/v21.0/me/messages?access_token=…` (base URL =
//! `{origin}/v21.0`) and `GET {origin}/cdn/{name}` (public attachment URLs, no auth).
//! Instagram endpoints: `POST {origin}/v21.0/{ig-user-id}/messages` and
//! `GET {origin}/v21.0/me?fields=user_id,username`, both with `Authorization: Bearer <token>`
//! and no `access_token` parameter.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::{Core, Flavor, Recorded, Server, StoredMedia, json_response, lock};

pub const PAGE_TOKEN: &str = "page-test-token";
pub const PAGE_ID: &str = "101112131415";
pub const APP_SECRET: &str = "ms-app-secret";
pub const VERIFY_TOKEN: &str = "ms-verify-token";

const SERVER_ERROR: &str = r#"{"error":{"message":"An unexpected error has occurred. Please retry your request later.","type":"OAuthException","code":2,"is_transient":true,"fbtrace_id":"AfakeTrace"}}"#;
const RATE_LIMITED: &str = r#"{"error":{"message":"(#613) Calls to this api have exceeded the rate limit.","type":"OAuthException","code":613,"fbtrace_id":"AfakeTrace"}}"#;

/// Graph error body as Messenger sends it.
pub fn error_body(code: i64, subcode: Option<i64>, message: &str) -> String {
    let mut e = json!({"message": message, "type": "OAuthException", "code": code,
        "fbtrace_id": "AfakeTrace"});
    if let Some(s) = subcode {
        e["error_subcode"] = json!(s);
    }
    json!({ "error": e }).to_string()
}

struct MsState {
    core: Arc<Core>,
    token: String,
    /// Instagram mode: the professional account id of the send path.
    instagram: Option<String>,
    origin: Mutex<String>,
    files: Mutex<HashMap<String, StoredMedia>>,
    closed_windows: Mutex<HashSet<String>>,
    accepted: Mutex<Vec<Value>>,
    counter: AtomicU64,
    /// B: User Profile API answers by PSID (`set_profile`).
    profiles: Mutex<HashMap<String, Value>>,
}

pub struct FakeMessenger {
    pub server: Server,
    state: Arc<MsState>,
}

impl FakeMessenger {
    pub async fn start() -> FakeMessenger {
        FakeMessenger::start_with(PAGE_TOKEN).await
    }

    pub async fn start_with(page_token: &str) -> FakeMessenger {
        FakeMessenger::start_mode(page_token, None).await
    }

    /// The Instagram flavour: `token` is the Instagram user access token, `ig_user_id` the
    /// professional account id in the send path.
    pub async fn start_instagram(token: &str, ig_user_id: &str) -> FakeMessenger {
        FakeMessenger::start_mode(token, Some(ig_user_id.to_owned())).await
    }

    async fn start_mode(page_token: &str, instagram: Option<String>) -> FakeMessenger {
        let mut state = None;
        let flavor = Flavor {
            server_error: SERVER_ERROR,
            rate_limited: RATE_LIMITED,
        };
        let server = Server::start(flavor, |core| {
            let s = Arc::new(MsState {
                core,
                token: page_token.to_owned(),
                instagram,
                origin: Mutex::new(String::new()),
                files: Mutex::new(HashMap::new()),
                closed_windows: Mutex::new(HashSet::new()),
                accepted: Mutex::new(Vec::new()),
                counter: AtomicU64::new(1),
                profiles: Mutex::new(HashMap::new()),
            });
            state = Some(s.clone());
            Router::new().fallback(handle).with_state(s)
        })
        .await;
        let state = state.expect("router built");
        *lock(&state.origin) = server.origin();
        FakeMessenger { server, state }
    }

    pub fn base_url(&self) -> String {
        format!("{}/v21.0", self.server.origin())
    }

    pub fn config(&self) -> switchboard::channels::messenger::MessengerConfig {
        use switchboard::channels::messenger::{MessengerConfig, Platform};
        match &self.state.instagram {
            Some(id) => MessengerConfig {
                platform: Platform::Instagram,
                base_url: self.base_url(),
                access_token: self.state.token.clone(),
                account_id: id.clone(),
            },
            None => MessengerConfig {
                platform: Platform::Messenger,
                base_url: self.base_url(),
                access_token: self.state.token.clone(),
                account_id: String::new(),
            },
        }
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.server.core.requests()
    }

    pub fn fail_next(&self, n: usize, fault: super::Fault) {
        self.server.core.fail_next(n, fault);
    }

    pub fn fail_next_on(&self, path_contains: &str, n: usize, fault: super::Fault) {
        self.server.core.fail_next_on(path_contains, n, fault);
    }

    pub fn accepted(&self) -> Vec<Value> {
        lock(&self.state.accepted).clone()
    }

    /// From now on `RESPONSE` messages to `psid` fail with code 10 / subcode 2018278;
    /// `MESSAGE_TAG` + `HUMAN_AGENT` still works.
    pub fn close_window(&self, psid: &str) {
        lock(&self.state.closed_windows).insert(psid.to_owned());
    }

    /// B: the User Profile API answers `GET /v21.0/{psid}?fields=first_name,last_name,profile_pic`
    /// with these fields (plus `id`); other PSIDs get Graph error 100 / subcode 33.
    pub fn set_profile(&self, psid: &str, first: &str, last: &str, pic: &str) {
        lock(&self.state.profiles).insert(
            psid.to_owned(),
            json!({"first_name": first, "last_name": last, "profile_pic": pic, "id": psid}),
        );
    }

    /// Serve a public attachment; returns its payload URL.
    pub fn add_attachment(&self, bytes: &[u8], mime: &str) -> String {
        let n = self.state.counter.fetch_add(1, Ordering::SeqCst);
        let name = format!("att{n}");
        let media = StoredMedia {
            bytes: Bytes::copy_from_slice(bytes),
            mime: mime.to_owned(),
            filename: None,
            with_length: true,
        };
        lock(&self.state.files).insert(name.clone(), media);
        format!("{}/cdn/{name}?_nc_ht=fake&oh=sig", self.server.origin())
    }
}

async fn handle(State(s): State<Arc<MsState>>, req: Request) -> Response {
    let (rec, _req) = match s.core.intercept(req).await {
        Ok(x) => x,
        Err(resp) => return resp,
    };
    let segs: Vec<&str> = rec.path().trim_start_matches('/').split('/').collect();
    if let Some(ig) = &s.instagram {
        return instagram(&s, ig, &rec, &segs);
    }
    match (rec.method.as_str(), segs.as_slice()) {
        ("GET", ["cdn", name]) => match lock(&s.files).get(*name) {
            Some(m) => m.response(),
            None => (StatusCode::NOT_FOUND, "URL signature expired").into_response(),
        },
        ("GET", ["v21.0", "me"]) => {
            let tokens: Vec<String> = rec
                .query_pairs()
                .into_iter()
                .filter(|(k, _)| k == "access_token")
                .map(|(_, v)| v)
                .collect();
            if tokens != [s.token.clone()] {
                return json_response(
                    400,
                    &error_body(
                        190,
                        None,
                        "Invalid OAuth access token - Cannot parse access token",
                    ),
                );
            }
            json_response(
                200,
                &serde_json::json!({"name": "Sunnyside Dental", "id": PAGE_ID}).to_string(),
            )
        }
        ("GET", ["v21.0", psid]) if *psid != "me" => profile(&s, &rec, psid),
        ("POST", ["v21.0", "me", "messages"]) => {
            let tokens: Vec<String> = rec
                .query_pairs()
                .into_iter()
                .filter(|(k, _)| k == "access_token")
                .map(|(_, v)| v)
                .collect();
            if tokens != [s.token.clone()] {
                return json_response(400, &error_body(190, None, "Invalid OAuth access token."));
            }
            send(&s, &rec)
        }
        _ => json_response(400, &error_body(100, None, "Unsupported request (fake)")),
    }
}

/// Instagram: bearer token only, the account id in the path.
fn instagram(s: &MsState, ig: &str, rec: &Recorded, segs: &[&str]) -> Response {
    if let ("GET", ["cdn", name]) = (rec.method.as_str(), segs) {
        return match lock(&s.files).get(*name) {
            Some(m) => m.response(),
            None => (StatusCode::NOT_FOUND, "URL signature expired").into_response(),
        };
    }
    let bearer = format!("Bearer {}", s.token);
    let token_ok = rec.header("authorization") == Some(bearer.as_str())
        && !rec.query_pairs().iter().any(|(k, _)| k == "access_token");
    if !token_ok {
        return json_response(
            400,
            &error_body(
                190,
                None,
                "Invalid OAuth access token - Cannot parse access token",
            ),
        );
    }
    match (rec.method.as_str(), segs) {
        ("GET", ["v21.0", "me"]) => json_response(
            200,
            &json!({"user_id": ig, "username": "sunnyside.dental"}).to_string(),
        ),
        ("POST", ["v21.0", id, "messages"]) if *id == ig => send(s, rec),
        _ => json_response(400, &error_body(100, None, "Unsupported request (fake)")),
    }
}

/// B: `GET /{psid}?fields=…&access_token=…` (User Profile API).
fn profile(s: &MsState, rec: &Recorded, psid: &str) -> Response {
    let q = rec.query_pairs();
    let token = q
        .iter()
        .find(|(k, _)| k == "access_token")
        .map(|(_, v)| v.clone());
    if token.as_deref() != Some(s.token.as_str()) {
        return json_response(400, &error_body(190, None, "Invalid OAuth access token."));
    }
    if !q
        .iter()
        .any(|(k, v)| k == "fields" && v.contains("first_name"))
    {
        return json_response(400, &error_body(100, None, "(#100) fields are required"));
    }
    match lock(&s.profiles).get(psid) {
        Some(p) => json_response(200, &p.to_string()),
        None => json_response(
            400,
            &error_body(
                100,
                Some(33),
                "Unsupported get request. Object does not exist",
            ),
        ),
    }
}

fn send(s: &MsState, rec: &Recorded) -> Response {
    let bad = |m: &str| json_response(400, &error_body(100, None, &format!("(#100) {m}")));
    if s.instagram.is_none() && rec.header("authorization").is_some() {
        return bad("send the page token as access_token only");
    }
    if !rec
        .header("content-type")
        .is_some_and(|c| c.starts_with("application/json"))
    {
        return bad("Content-Type must be application/json");
    }
    let Ok(Value::Object(body)) = serde_json::from_slice::<Value>(&rec.body) else {
        return bad("body must be a JSON object");
    };
    if let Err(e) = check_shape(&body, s.instagram.is_some()) {
        return bad(&e);
    }
    let psid = body
        .get("recipient")
        .and_then(|r| r.get("id"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let kind = body.get("messaging_type").and_then(Value::as_str);
    if kind != Some("MESSAGE_TAG") && lock(&s.closed_windows).contains(&psid) {
        let subcode = if s.instagram.is_some() {
            2_534_022
        } else {
            2_018_278
        };
        return json_response(
            400,
            &error_body(
                10,
                Some(subcode),
                "(#10) This message is sent outside of allowed window.",
            ),
        );
    }
    let n = s.counter.fetch_add(1, Ordering::SeqCst);
    lock(&s.accepted).push(Value::Object(body));
    json_response(
        200,
        &json!({"recipient_id": psid, "message_id": format!("m_FAKE{n:08}")}).to_string(),
    )
}

/// Messenger's send shape; Instagram's is the same with `messaging_type` optional, only the
/// `HUMAN_AGENT` tag, and text up to 1000 characters.
fn check_shape(body: &serde_json::Map<String, Value>, instagram: bool) -> Result<(), String> {
    if let Some(k) = body
        .keys()
        .find(|k| !["recipient", "messaging_type", "tag", "message"].contains(&k.as_str()))
    {
        return Err(format!("unexpected field {k}"));
    }
    let psid = body
        .get("recipient")
        .and_then(|r| r.get("id"))
        .and_then(Value::as_str);
    if psid.is_none_or(str::is_empty)
        || body
            .get("recipient")
            .and_then(Value::as_object)
            .is_some_and(|r| r.len() != 1)
    {
        return Err("recipient must be {\"id\": PSID}".into());
    }
    match (
        body.get("messaging_type").and_then(Value::as_str),
        body.get("tag").and_then(Value::as_str),
    ) {
        (Some("RESPONSE" | "UPDATE"), None) => {}
        (None, None) if instagram => {}
        (Some("MESSAGE_TAG"), Some(t)) if instagram && t != "HUMAN_AGENT" => {
            return Err("Instagram allows only the HUMAN_AGENT tag".into());
        }
        (
            Some("MESSAGE_TAG"),
            Some(
                "HUMAN_AGENT"
                | "ACCOUNT_UPDATE"
                | "CONFIRMED_EVENT_UPDATE"
                | "POST_PURCHASE_UPDATE",
            ),
        ) => {}
        (Some("MESSAGE_TAG"), _) => return Err("MESSAGE_TAG needs a valid tag".into()),
        (Some(_), Some(_)) => return Err("tag is only allowed with MESSAGE_TAG".into()),
        _ => return Err("messaging_type must be RESPONSE, UPDATE or MESSAGE_TAG".into()),
    }
    let msg = body
        .get("message")
        .and_then(Value::as_object)
        .ok_or("message is required")?;
    match (msg.get("text"), msg.get("attachment")) {
        (Some(Value::String(t)), None) if msg.len() == 1 => {
            let max = if instagram { 1000 } else { 2000 };
            if t.is_empty() || t.chars().count() > max {
                return Err(format!("message.text must be 1..{max} characters"));
            }
        }
        (None, Some(Value::Object(a))) if msg.len() == 1 => {
            let t = a.get("type").and_then(Value::as_str);
            if !matches!(t, Some("image" | "video" | "audio" | "file")) {
                return Err("attachment.type must be image, video, audio or file".into());
            }
            let url = a
                .get("payload")
                .and_then(|p| p.get("url"))
                .and_then(Value::as_str);
            if !url.is_some_and(|u| u.starts_with("http")) {
                return Err("attachment.payload.url must be an absolute URL".into());
            }
        }
        _ => return Err("message needs exactly one of text or attachment".into()),
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Webhook builders (the test acts as Meta).

fn page_webhook(page_id: &str, items: Vec<Value>) -> String {
    json!({"object": "page", "entry": [{"id": page_id, "time": 1_700_000_000_000_i64,
        "messaging": items}]})
    .to_string()
}

pub fn text_item(page_id: &str, psid: &str, mid: &str, text: &str, ts_ms: i64) -> Value {
    json!({"sender": {"id": psid}, "recipient": {"id": page_id}, "timestamp": ts_ms,
        "message": {"mid": mid, "text": text}})
}

pub fn text_webhook(page_id: &str, psid: &str, mid: &str, text: &str, ts_ms: i64) -> String {
    page_webhook(page_id, vec![text_item(page_id, psid, mid, text, ts_ms)])
}

/// One message with attachments (`kind`, url) pairs.
pub fn attachment_webhook(
    page_id: &str,
    psid: &str,
    mid: &str,
    attachments: &[(&str, &str)],
    ts_ms: i64,
) -> String {
    let atts: Vec<Value> = attachments
        .iter()
        .map(|(kind, url)| json!({"type": kind, "payload": {"url": url}}))
        .collect();
    page_webhook(
        page_id,
        vec![
            json!({"sender": {"id": psid}, "recipient": {"id": page_id}, "timestamp": ts_ms,
            "message": {"mid": mid, "attachments": atts}}),
        ],
    )
}

/// The page's own message echoed back (must be ignored).
pub fn echo_webhook(page_id: &str, psid: &str, mid: &str, text: &str, ts_ms: i64) -> String {
    page_webhook(
        page_id,
        vec![
            json!({"sender": {"id": page_id}, "recipient": {"id": psid}, "timestamp": ts_ms,
            "message": {"mid": mid, "is_echo": true, "app_id": 1234, "text": text}}),
        ],
    )
}

pub fn delivery_webhook(page_id: &str, psid: &str, mids: &[&str], watermark: i64) -> String {
    page_webhook(
        page_id,
        vec![json!({"sender": {"id": psid}, "recipient": {"id": page_id},
            "timestamp": watermark + 50, "delivery": {"mids": mids, "watermark": watermark}})],
    )
}

pub fn read_webhook(page_id: &str, psid: &str, watermark: i64) -> String {
    page_webhook(
        page_id,
        vec![json!({"sender": {"id": psid}, "recipient": {"id": page_id},
            "timestamp": watermark + 50, "read": {"watermark": watermark}})],
    )
}

/// `X-Hub-Signature-256` header value.
pub fn sign(app_secret: &str, body: &[u8]) -> String {
    super::meta_sign(app_secret, body)
}

/// Legacy `X-Hub-Signature` header value.
pub fn sign_sha1(app_secret: &str, body: &[u8]) -> String {
    super::meta_sign_sha1(app_secret, body)
}

pub use super::handshake_query;
