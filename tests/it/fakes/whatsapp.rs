//! Fake WhatsApp Cloud API (Graph) plus builders for signed WhatsApp webhooks.
//!
//! Endpoints under `{origin}/v21.0` (the base URL): `POST /{phone_number_id}/messages`
//! (send / mark read), `POST /{phone_number_id}/media` (multipart upload), `GET /{media_id}`
//! (media metadata), `GET /{phone_number_id}` (the phone number record, for Test connection);
//! and `GET {origin}/cdn/{media_id}` (bytes, bearer required).

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Request, State};
use axum::response::Response;
use serde_json::{Value, json};
use sha2::Digest as _;

use super::{Core, Flavor, Recorded, Server, StoredMedia, json_response, lock};

mod webhooks;
pub use webhooks::*;

pub const TOKEN: &str = "wa-test-token";
pub const PHONE_NUMBER_ID: &str = "106540352242922";
pub const DISPLAY_NUMBER: &str = "15550783881";
pub const APP_SECRET: &str = "wa-app-secret";
pub const VERIFY_TOKEN: &str = "wa-verify-token";

const SERVER_ERROR: &str = r#"{"error":{"message":"An unexpected error has occurred. Please retry your request later.","type":"OAuthException","code":2,"is_transient":true,"fbtrace_id":"AfakeTrace"}}"#;
const RATE_LIMITED: &str = r#"{"error":{"message":"(#130429) Rate limit hit","type":"OAuthException","code":130429,"error_data":{"messaging_product":"whatsapp","details":"Cloud API message throughput has been reached."},"fbtrace_id":"AfakeTrace"}}"#;

/// The body Meta answers when the 24 h window is closed (code 131047).
pub fn window_closed_body() -> String {
    json!({"error": {"message": "(#131047) Re-engagement message", "type": "OAuthException",
        "code": 131047, "error_data": {"messaging_product": "whatsapp",
        "details": "Message failed to send because more than 24 hours have passed since the customer last replied to this number."},
        "fbtrace_id": "AfakeTrace"}})
    .to_string()
}

fn graph_error(status: u16, code: i64, message: &str) -> Response {
    json_response(
        status,
        &json!({"error": {"message": message, "type": "OAuthException", "code": code,
            "fbtrace_id": "AfakeTrace"}})
        .to_string(),
    )
}

struct WaState {
    core: Arc<Core>,
    token: String,
    phone_number_id: String,
    origin: Mutex<String>,
    media: Mutex<HashMap<String, (StoredMedia, Option<Value>)>>,
    closed_windows: Mutex<HashSet<String>>,
    accepted: Mutex<Vec<Value>>,
    counter: AtomicU64,
}

pub struct FakeWhatsApp {
    pub server: Server,
    state: Arc<WaState>,
}

impl FakeWhatsApp {
    /// Start with [`TOKEN`] and [`PHONE_NUMBER_ID`].
    pub async fn start() -> FakeWhatsApp {
        FakeWhatsApp::start_with(TOKEN, PHONE_NUMBER_ID).await
    }

    pub async fn start_with(token: &str, phone_number_id: &str) -> FakeWhatsApp {
        let mut state = None;
        let flavor = Flavor {
            server_error: SERVER_ERROR,
            rate_limited: RATE_LIMITED,
        };
        let server = Server::start(flavor, |core| {
            let s = Arc::new(WaState {
                core,
                token: token.to_owned(),
                phone_number_id: phone_number_id.to_owned(),
                origin: Mutex::new(String::new()),
                media: Mutex::new(HashMap::new()),
                closed_windows: Mutex::new(HashSet::new()),
                accepted: Mutex::new(Vec::new()),
                counter: AtomicU64::new(1),
            });
            state = Some(s.clone());
            Router::new().fallback(handle).with_state(s)
        })
        .await;
        let state = state.expect("router built");
        *lock(&state.origin) = server.origin();
        FakeWhatsApp { server, state }
    }

    /// Graph base including the version: `http://127.0.0.1:PORT/v21.0`.
    pub fn base_url(&self) -> String {
        format!("{}/v21.0", self.server.origin())
    }

    pub fn config(&self) -> switchboard::channels::whatsapp::WhatsAppConfig {
        switchboard::channels::whatsapp::WhatsAppConfig {
            base_url: self.base_url(),
            access_token: self.state.token.clone(),
            phone_number_id: self.state.phone_number_id.clone(),
        }
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.server.core.requests()
    }

    pub fn set_delay(&self, d: std::time::Duration) {
        self.server.core.set_delay(d);
    }

    pub fn peak_concurrency(&self) -> usize {
        self.server.core.peak_concurrency()
    }

    pub fn fail_next(&self, n: usize, fault: super::Fault) {
        self.server.core.fail_next(n, fault);
    }

    pub fn fail_next_on(&self, path_contains: &str, n: usize, fault: super::Fault) {
        self.server.core.fail_next_on(path_contains, n, fault);
    }

    /// Message bodies the fake accepted (sends and mark-read), in order.
    pub fn accepted(&self) -> Vec<Value> {
        lock(&self.state.accepted).clone()
    }

    /// From now on free-form messages to `wa_id` fail with 131047 (templates still work).
    pub fn close_window(&self, wa_id: &str) {
        lock(&self.state.closed_windows).insert(wa_id.to_owned());
    }

    /// Make a file downloadable by media id. `file_size` in the metadata is sent as a string
    /// (as Meta does), the bytes in chunks without Content-Length.
    pub fn add_media(&self, bytes: &[u8], mime: &str) -> String {
        self.add_media_with(bytes, mime, Some(json!(bytes.len().to_string())))
    }

    /// Like [`Self::add_media`] with an explicit `file_size` metadata value (a number, a
    /// string, a lie, or `None` to omit it).
    pub fn add_media_with(&self, bytes: &[u8], mime: &str, file_size: Option<Value>) -> String {
        let id = format!(
            "{}",
            900_000 + self.state.counter.fetch_add(1, Ordering::SeqCst)
        );
        let media = StoredMedia {
            bytes: Bytes::copy_from_slice(bytes),
            mime: mime.to_owned(),
            filename: None,
            with_length: false,
        };
        lock(&self.state.media).insert(id.clone(), (media, file_size));
        id
    }

    /// A file uploaded through `POST /{phone_number_id}/media`.
    pub fn uploaded(&self, media_id: &str) -> Option<StoredMedia> {
        lock(&self.state.media)
            .get(media_id)
            .map(|(m, _)| m.clone())
    }
}

async fn handle(State(s): State<Arc<WaState>>, req: Request) -> Response {
    let (rec, req) = match s.core.intercept(req).await {
        Ok(x) => x,
        Err(resp) => return resp,
    };
    if rec.header("authorization") != Some(format!("Bearer {}", s.token).as_str()) {
        return graph_error(
            401,
            190,
            "Invalid OAuth access token - Cannot parse access token",
        );
    }
    let segs: Vec<&str> = rec.path().trim_start_matches('/').split('/').collect();
    match (rec.method.as_str(), segs.as_slice()) {
        ("POST", ["v21.0", pnid, "messages"]) if *pnid == s.phone_number_id => {
            send_message(&s, &rec)
        }
        ("POST", ["v21.0", pnid, "media"]) if *pnid == s.phone_number_id => upload(&s, req).await,
        ("GET", ["v21.0", id]) if *id == s.phone_number_id => phone_number(&s),
        ("GET", ["v21.0", id]) => media_info(&s, id),
        ("GET", ["cdn", id]) => match lock(&s.media).get(*id) {
            Some((m, _)) => m.response(),
            None => graph_error(404, 100, "media URL expired"),
        },
        _ => graph_error(
            400,
            100,
            &format!(
                "Unsupported {} request to {} (fake)",
                rec.method, rec.path_and_query
            ),
        ),
    }
}

/// `GET /{phone_number_id}`: the phone number record, as the Cloud API documents it.
fn phone_number(s: &WaState) -> Response {
    json_response(
        200,
        &json!({"verified_name": "Sunnyside Dental", "code_verification_status": "VERIFIED",
            "display_phone_number": format!("+{DISPLAY_NUMBER}"), "quality_rating": "GREEN",
            "platform_type": "CLOUD_API", "throughput": {"level": "STANDARD"},
            "id": s.phone_number_id})
        .to_string(),
    )
}

fn media_info(s: &WaState, id: &str) -> Response {
    let media = lock(&s.media);
    let Some((m, size)) = media.get(id) else {
        return graph_error(
            400,
            100,
            &format!("Unsupported get request. Object with ID '{id}' does not exist"),
        );
    };
    let mut v = json!({"messaging_product": "whatsapp",
        "url": format!("{}/cdn/{id}", lock(&s.origin)),
        "mime_type": m.mime, "sha256": hex::encode(sha2::Sha256::digest(&m.bytes)), "id": id});
    if let Some(size) = size {
        v["file_size"] = size.clone();
    }
    json_response(200, &v.to_string())
}

async fn upload(s: &WaState, req: Request) -> Response {
    let bad = |m: &str| graph_error(400, 100, &format!("(#100) {m}"));
    let Ok(mut mp) = Multipart::from_request(req, &()).await else {
        return bad("expected multipart/form-data");
    };
    let (mut product, mut kind, mut file) = (None, None, None);
    while let Ok(Some(field)) = mp.next_field().await {
        let name = field.name().unwrap_or_default().to_owned();
        let filename = field.file_name().map(str::to_owned);
        let ctype = field.content_type().map(str::to_owned);
        let Ok(data) = field.bytes().await else {
            return bad("unreadable multipart field");
        };
        match name.as_str() {
            "messaging_product" => product = Some(String::from_utf8_lossy(&data).into_owned()),
            "type" => kind = Some(String::from_utf8_lossy(&data).into_owned()),
            "file" => file = Some((data, filename, ctype)),
            other => return bad(&format!("unexpected field {other}")),
        }
    }
    if product.as_deref() != Some("whatsapp") {
        return bad("messaging_product must be whatsapp");
    }
    let Some(kind) = kind.filter(|k| k.contains('/')) else {
        return bad("type (the MIME type) is required");
    };
    let Some((data, filename, _)) = file.filter(|(_, f, _)| f.is_some()) else {
        return bad("file (with a filename) is required");
    };
    let id = format!("{}", 800_000 + s.counter.fetch_add(1, Ordering::SeqCst));
    let size = Some(json!(data.len()));
    let media = StoredMedia {
        bytes: data,
        mime: kind,
        filename,
        with_length: true,
    };
    lock(&s.media).insert(id.clone(), (media, size));
    json_response(200, &json!({"id": id}).to_string())
}

fn send_message(s: &WaState, rec: &Recorded) -> Response {
    let bad = |m: &str| graph_error(400, 100, &format!("(#100) Invalid parameter: {m}"));
    if !rec
        .header("content-type")
        .is_some_and(|c| c.starts_with("application/json"))
    {
        return bad("Content-Type must be application/json");
    }
    let Ok(Value::Object(body)) = serde_json::from_slice::<Value>(&rec.body) else {
        return bad("body must be a JSON object");
    };
    if body.get("messaging_product") != Some(&json!("whatsapp")) {
        return bad("messaging_product must be \"whatsapp\"");
    }
    if body.contains_key("status") {
        // Mark read, optionally with the typing indicator (`{"type":"text"}`, nothing else).
        let typing = body.get("typing_indicator");
        let ok = body.len() == 3 + usize::from(typing.is_some())
            && typing.is_none_or(|t| *t == json!({"type": "text"}))
            && body.get("status") == Some(&json!("read"))
            && body
                .get("message_id")
                .and_then(Value::as_str)
                .is_some_and(|m| m.starts_with("wamid."));
        if !ok {
            return bad(
                "mark-read needs exactly messaging_product, status=read, message_id (and optionally typing_indicator {type:text})",
            );
        }
        lock(&s.accepted).push(Value::Object(body));
        return json_response(200, r#"{"success":true}"#);
    }
    if let Err(e) = check_message_shape(s, &body) {
        return bad(&e);
    }
    // `to` (a phone number) or `recipient` (a business-scoped user id); `to` wins.
    let by_user_id = body.get("to").is_none();
    let to = body
        .get("to")
        .or_else(|| body.get("recipient"))
        .and_then(Value::as_str)
        .unwrap_or_default();
    let kind = body.get("type").and_then(Value::as_str).unwrap_or_default();
    if kind != "template" && lock(&s.closed_windows).contains(to) {
        return json_response(400, &window_closed_body());
    }
    let n = s.counter.fetch_add(1, Ordering::SeqCst);
    let wamid = format!("wamid.HBgLFAKE{n:010}");
    let mut msg = json!({"id": wamid});
    if kind == "template" {
        msg["message_status"] = json!("accepted");
    }
    lock(&s.accepted).push(Value::Object(body.clone()));
    json_response(
        200,
        &json!({"messaging_product": "whatsapp",
            "contacts": [if by_user_id { json!({"input": to, "user_id": to}) }
                         else { json!({"input": to, "wa_id": to}) }],
            "messages": [msg]})
        .to_string(),
    )
}

/// Meta's documented BSUID shape: `CC.` + up to 128 alphanumerics (parent ids: `CC.ENT.…`).
pub fn is_bsuid(s: &str) -> bool {
    let Some((cc, rest)) = s.split_once('.') else {
        return false;
    };
    let rest = rest.strip_prefix("ENT.").unwrap_or(rest);
    cc.len() == 2
        && cc.bytes().all(|b| b.is_ascii_uppercase())
        && (1..=128).contains(&rest.len())
        && rest.bytes().all(|b| b.is_ascii_alphanumeric())
}

fn check_message_shape(s: &WaState, body: &serde_json::Map<String, Value>) -> Result<(), String> {
    fn str_of(v: Option<&Value>) -> Option<&str> {
        v.and_then(Value::as_str).filter(|x| !x.is_empty())
    }
    if body.get("recipient_type") != Some(&json!("individual")) {
        return Err("recipient_type must be \"individual\"".into());
    }
    match (str_of(body.get("to")), str_of(body.get("recipient"))) {
        (None, None) => return Err("to or recipient is required".into()),
        (None, Some(r)) if !is_bsuid(r) => {
            return Err(format!("recipient {r} is not a business-scoped user id"));
        }
        _ => {}
    }
    let kind = str_of(body.get("type")).ok_or("type is required")?;
    let allowed = [
        "messaging_product",
        "recipient_type",
        "to",
        "recipient",
        "type",
        kind,
        "context",
    ];
    if let Some(k) = body.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(format!("unexpected field {k}"));
    }
    let obj = body
        .get(kind)
        .and_then(Value::as_object)
        .ok_or(format!("{kind} object is required"))?;
    let only = |keys: &[&str]| match obj.keys().find(|k| !keys.contains(&k.as_str())) {
        Some(k) => Err(format!("unexpected field {kind}.{k}")),
        None => Ok(()),
    };
    match kind {
        "text" => {
            only(&["body", "preview_url"])?;
            let text = str_of(obj.get("body")).ok_or("text.body is required")?;
            if text.chars().count() > 4096 {
                return Err("text.body longer than 4096 characters".into());
            }
            if !obj.get("preview_url").is_none_or(Value::is_boolean) {
                return Err("text.preview_url must be a boolean".into());
            }
        }
        "image" | "video" | "document" | "audio" | "sticker" => {
            match kind {
                "document" => only(&["id", "link", "caption", "filename"])?,
                "image" | "video" => only(&["id", "link", "caption"])?,
                _ => only(&["id", "link"])?,
            }
            match (str_of(obj.get("id")), str_of(obj.get("link"))) {
                (Some(id), None) if lock(&s.media).contains_key(id) => {}
                (Some(id), None) => return Err(format!("unknown media id {id}")),
                (None, Some(link)) if link.starts_with("http") => {}
                _ => return Err(format!("{kind} needs exactly one of id or link")),
            }
        }
        "template" => {
            only(&["name", "language", "components"])?;
            str_of(obj.get("name")).ok_or("template.name is required")?;
            str_of(obj.get("language").and_then(|l| l.get("code")))
                .ok_or("template.language.code is required")?;
            for c in obj
                .get("components")
                .map(|c| c.as_array().cloned().unwrap_or_default())
                .unwrap_or_default()
            {
                str_of(c.get("type")).ok_or("component type is required")?;
                for p in c
                    .get("parameters")
                    .and_then(Value::as_array)
                    .ok_or("component parameters must be an array")?
                {
                    if p.get("type") != Some(&json!("text")) || str_of(p.get("text")).is_none() {
                        return Err("template parameters must be {type:text,text:…}".into());
                    }
                }
            }
        }
        "interactive" => {
            // Cloud API interactive messages: reply buttons (1–3, title ≤ 20) or a list
            // (one or more sections, 1–10 rows in all, row title ≤ 24, button ≤ 20); body ≤ 1024.
            only(&["type", "body", "action", "header", "footer"])?;
            let body = str_of(obj.get("body").and_then(|b| b.get("text")))
                .ok_or("interactive.body.text is required")?;
            if body.chars().count() > 1024 {
                return Err("interactive.body.text longer than 1024 characters".into());
            }
            let action = obj
                .get("action")
                .and_then(Value::as_object)
                .ok_or("interactive.action is required")?;
            let title_ok = |v: Option<&Value>, max: usize| {
                str_of(v).is_some_and(|t| !t.is_empty() && t.chars().count() <= max)
            };
            match str_of(obj.get("type")) {
                Some("button") => {
                    let b = action
                        .get("buttons")
                        .and_then(Value::as_array)
                        .ok_or("interactive.action.buttons is required")?;
                    if b.is_empty() || b.len() > 3 {
                        return Err("1 to 3 reply buttons".into());
                    }
                    for x in b {
                        if x.get("type") != Some(&json!("reply"))
                            || str_of(x.get("reply").and_then(|r| r.get("id"))).is_none()
                            || !title_ok(x.get("reply").and_then(|r| r.get("title")), 20)
                        {
                            return Err("a button is {type:reply,reply:{id,title≤20}}".into());
                        }
                    }
                }
                Some("list") => {
                    if !title_ok(action.get("button"), 20) {
                        return Err("interactive.action.button (≤20) is required".into());
                    }
                    let sections = action
                        .get("sections")
                        .and_then(Value::as_array)
                        .ok_or("interactive.action.sections is required")?;
                    let mut rows = 0;
                    for sec in sections {
                        for r in sec
                            .get("rows")
                            .and_then(Value::as_array)
                            .ok_or("section rows are required")?
                        {
                            if str_of(r.get("id")).is_none() || !title_ok(r.get("title"), 24) {
                                return Err("a row is {id,title≤24}".into());
                            }
                            rows += 1;
                        }
                    }
                    if rows == 0 || rows > 10 {
                        return Err("1 to 10 list rows".into());
                    }
                }
                _ => return Err("interactive.type must be button or list here".into()),
            }
        }
        other => return Err(format!("type {other} is not supported by the fake")),
    }
    Ok(())
}
