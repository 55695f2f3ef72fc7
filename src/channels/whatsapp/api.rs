//! WhatsApp Cloud API calls: send (text, media, template), mark read, upload, media download.

use reqwest::Client;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

use super::describe_error;
use crate::channels::http::{self, ApiError, MediaDownload};
use crate::channels::{
    Interactive, MAX_BUTTONS, MAX_ROWS, MediaError, MediaKind, MediaSource, OutboundMessage,
    SendError, SendOk,
};

/// One WhatsApp business number's API settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WhatsAppConfig {
    /// Graph base including the version, e.g. [`super::DEFAULT_BASE_URL`].
    pub base_url: String,
    /// System-user or app access token (sent as `Authorization: Bearer`).
    pub access_token: String,
    pub phone_number_id: String,
}

fn api_error(v: &Value) -> Option<ApiError> {
    let mut e = http::graph_error(v)?;
    e.message = describe_error(&e.code, &e.message);
    Some(e)
}

fn message_id(v: &Value) -> Option<String> {
    v.get("messages")?
        .get(0)?
        .get("id")?
        .as_str()
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn bad_config(reason: String) -> SendError {
    SendError::permanent("bad_config", reason)
}

/// The exact JSON body for `POST {base}/{phone_number_id}/messages`. A template wins over
/// media, media over text; with media, `text` becomes the caption where WhatsApp allows one.
pub fn send_body(msg: &OutboundMessage) -> Result<Value, SendError> {
    if msg.to.trim().is_empty() {
        return Err(SendError::permanent("invalid_message", "no recipient"));
    }
    let mut body = json!({
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
    });
    // A user known only by business-scoped user id (number hidden behind a username) is
    // addressed with `recipient`; a phone number with `to` (Meta: `to` wins when both are set).
    if super::is_bsuid(&msg.to) {
        body["recipient"] = json!(msg.to);
    } else {
        body["to"] = json!(msg.to);
    }
    if let Some(t) = &msg.template {
        let mut template = json!({"name": t.name, "language": {"code": t.language}});
        if !t.params.is_empty() {
            let params: Vec<Value> = t
                .params
                .iter()
                .map(|p| json!({"type": "text", "text": p}))
                .collect();
            template["components"] = json!([{"type": "body", "parameters": params}]);
        }
        body["type"] = json!("template");
        body["template"] = template;
    } else if let Some(m) = &msg.media {
        let kind = match m.kind {
            MediaKind::File => MediaKind::Document,
            k => k,
        };
        let mut obj = match &m.source {
            MediaSource::WhatsAppMediaId(id) => json!({"id": id}),
            MediaSource::Url(url) => json!({"link": url}),
        };
        let caption = m.caption.as_ref().or(msg.text.as_ref());
        if let Some(c) = caption.filter(|c| !c.is_empty()) {
            if matches!(kind, MediaKind::Audio | MediaKind::Sticker) {
                return Err(SendError::permanent(
                    "invalid_message",
                    format!("WhatsApp {kind} messages cannot carry text; send it separately"),
                ));
            }
            obj["caption"] = json!(c);
        }
        if kind == MediaKind::Document
            && let Some(f) = &m.filename
        {
            obj["filename"] = json!(f);
        }
        body["type"] = json!(kind.as_str());
        body[kind.as_str()] = obj;
    } else if let Some(text) = msg.text.as_ref().filter(|t| !t.is_empty()) {
        body["type"] = json!("text");
        body["text"] = json!({"preview_url": false, "body": text});
    } else {
        return Err(SendError::permanent(
            "invalid_message",
            "nothing to send: no text, media or template",
        ));
    }
    Ok(body)
}

/// The exact JSON body of an interactive message (Cloud API `"type": "interactive"`): up to
/// three choices as reply buttons (`interactive.type = "button"`, titles at most 20
/// characters), up to ten as a list (`interactive.type = "list"`, one section, row titles at
/// most 24 characters, the opening button at most 20). `text` is the body (at most 1024).
/// The customer's pick comes back as `interactive.button_reply.id` / `list_reply.id`.
pub fn interactive_body(to: &str, text: &str, it: &Interactive) -> Result<Value, SendError> {
    let bad = |why: &str| SendError::permanent("invalid_message", why);
    if to.trim().is_empty() {
        return Err(bad("no recipient"));
    }
    if text.trim().is_empty() || text.chars().count() > 1024 {
        return Err(bad(
            "an interactive message needs a body of 1 to 1024 characters",
        ));
    }
    let n = it.options.len();
    if n == 0 || n > MAX_ROWS {
        return Err(bad("an interactive message takes 1 to 10 choices"));
    }
    let buttons = n <= MAX_BUTTONS;
    let max_title = if buttons { 20 } else { 24 };
    for c in &it.options {
        if c.id.is_empty() || c.id.len() > 200 || c.title.chars().count() > max_title {
            return Err(bad("a choice needs an id and a short title"));
        }
    }
    let interactive = if buttons {
        let b: Vec<Value> = it
            .options
            .iter()
            .map(|c| json!({"type": "reply", "reply": {"id": c.id, "title": c.title}}))
            .collect();
        json!({"type": "button", "body": {"text": text}, "action": {"buttons": b}})
    } else {
        let label: String = it.button.chars().take(20).collect();
        let rows: Vec<Value> = it
            .options
            .iter()
            .map(|c| json!({"id": c.id, "title": c.title}))
            .collect();
        json!({"type": "list", "body": {"text": text},
            "action": {"button": label, "sections": [{"rows": rows}]}})
    };
    let mut body = json!({
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "type": "interactive",
        "interactive": interactive,
    });
    if super::is_bsuid(to) {
        body["recipient"] = json!(to);
    } else {
        body["to"] = json!(to);
    }
    Ok(body)
}

/// Send an interactive message ([`interactive_body`]).
pub async fn send_interactive(
    client: &Client,
    cfg: &WhatsAppConfig,
    to: &str,
    text: &str,
    it: &Interactive,
) -> Result<SendOk, SendError> {
    let body = interactive_body(to, text, it)?;
    post_message(client, cfg, &body).await
}

/// `POST {base}/{phone_number_id}/messages` with `body`; `Ok` carries the `wamid.…`.
async fn post_message(
    client: &Client,
    cfg: &WhatsAppConfig,
    body: &Value,
) -> Result<SendOk, SendError> {
    let url =
        http::endpoint(&cfg.base_url, &[&cfg.phone_number_id, "messages"]).map_err(bad_config)?;
    let result = client
        .post(url)
        .bearer_auth(&cfg.access_token)
        .json(body)
        .send()
        .await;
    let value = http::send_outcome(result, api_error, message_id).await?;
    let provider_id = message_id(&value).unwrap_or_default();
    Ok(SendOk { provider_id })
}

/// Send a message; `Ok` carries the `wamid.…` that status webhooks will refer to.
pub async fn send(
    client: &Client,
    cfg: &WhatsAppConfig,
    msg: &OutboundMessage,
) -> Result<SendOk, SendError> {
    let body = send_body(msg)?;
    post_message(client, cfg, &body).await
}

/// Mark an inbound message as read (blue ticks for the customer); Meta marks the earlier
/// messages of the conversation read with it.
pub async fn mark_read(
    client: &Client,
    cfg: &WhatsAppConfig,
    message_id: &str,
) -> Result<(), SendError> {
    let body = json!({"messaging_product": "whatsapp", "status": "read", "message_id": message_id});
    read_call(client, cfg, body).await
}

/// Mark read and show the customer a typing indicator (Meta, "Typing indicators"): it goes
/// away when we reply or after 25 seconds.
pub async fn typing(
    client: &Client,
    cfg: &WhatsAppConfig,
    message_id: &str,
) -> Result<(), SendError> {
    let body = json!({"messaging_product": "whatsapp", "status": "read", "message_id": message_id,
        "typing_indicator": {"type": "text"}});
    read_call(client, cfg, body).await
}

async fn read_call(client: &Client, cfg: &WhatsAppConfig, body: Value) -> Result<(), SendError> {
    let url =
        http::endpoint(&cfg.base_url, &[&cfg.phone_number_id, "messages"]).map_err(bad_config)?;
    let result = client
        .post(url)
        .bearer_auth(&cfg.access_token)
        .json(&body)
        .send()
        .await;
    fn success(v: &Value) -> Option<String> {
        v.get("success")?.as_bool()?.then(String::new)
    }
    http::send_outcome(result, api_error, success).await?;
    Ok(())
}

/// Upload a file for sending (`POST {base}/{phone_number_id}/media`, multipart `file`, `type`,
/// `messaging_product`). `data` may be a stream (`reqwest::Body::wrap_stream`) so large files
/// are not held in memory; pass `len` when known. Returns the media id.
pub async fn upload_media(
    client: &Client,
    cfg: &WhatsAppConfig,
    data: reqwest::Body,
    len: Option<u64>,
    filename: &str,
    mime: &str,
) -> Result<String, SendError> {
    let url =
        http::endpoint(&cfg.base_url, &[&cfg.phone_number_id, "media"]).map_err(bad_config)?;
    let part = match len {
        Some(n) => Part::stream_with_length(data, n),
        None => Part::stream(data),
    };
    let part = part
        .file_name(filename.to_owned())
        .mime_str(mime)
        .map_err(|e| SendError::permanent("invalid_message", format!("bad MIME type: {e}")))?;
    let form = Form::new()
        .text("messaging_product", "whatsapp")
        .text("type", mime.to_owned())
        .part("file", part);
    let result = client
        .post(url)
        .bearer_auth(&cfg.access_token)
        .multipart(form)
        .send()
        .await;
    fn id(v: &Value) -> Option<String> {
        match v.get("id")? {
            Value::String(s) if !s.is_empty() => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }
    let value = http::send_outcome(result, api_error, id).await?;
    Ok(id(&value).unwrap_or_default())
}

/// What `GET {base}/{media_id}` says about an inbound file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaInfo {
    /// Short-lived download URL (needs the same bearer token).
    pub url: String,
    pub mime: Option<String>,
    pub sha256: Option<String>,
    pub file_size: Option<u64>,
}

fn graph_media_error(status: reqwest::StatusCode, body: &[u8]) -> MediaError {
    let parsed = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| http::graph_error(&v));
    match (http::media_status_error(status), parsed) {
        (MediaError::Permanent { .. }, Some(e)) if !e.transient => MediaError::Permanent {
            code: e.code,
            message: e.message,
        },
        (other, _) => other,
    }
}

/// Resolve a media id to its download URL and metadata (`file_size` may be string or number).
pub async fn fetch_media_info(
    client: &Client,
    cfg: &WhatsAppConfig,
    media_id: &str,
) -> Result<MediaInfo, MediaError> {
    let url =
        http::endpoint(&cfg.base_url, &[media_id]).map_err(|message| MediaError::Permanent {
            code: "bad_config".into(),
            message,
        })?;
    let resp = client
        .get(url)
        .bearer_auth(&cfg.access_token)
        .send()
        .await
        .map_err(|e| http::media_transport_error(&e))?;
    let status = resp.status();
    let body = http::read_limited(resp, http::MAX_API_BODY)
        .await
        .map_err(|reason| MediaError::Transient { reason })?;
    if !status.is_success() {
        return Err(graph_media_error(status, &body));
    }
    let bad = |what: &str| MediaError::Permanent {
        code: "bad_answer".into(),
        message: format!("media metadata answer {what}"),
    };
    let v: Value = serde_json::from_slice(&body).map_err(|_| bad("is not JSON"))?;
    let url = v
        .get("url")
        .and_then(Value::as_str)
        .filter(|u| !u.is_empty())
        .ok_or_else(|| bad("has no url"))?
        .to_owned();
    let text = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
    let file_size = match v.get("file_size") {
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    };
    Ok(MediaInfo {
        url,
        mime: text("mime_type"),
        sha256: text("sha256"),
        file_size,
    })
}

/// Download an inbound file by media id: metadata, then the bytes with the same bearer token,
/// as a stream that fails once more than `max_bytes` arrive (refused early when the metadata
/// or Content-Length already says it is too large).
pub async fn fetch_media(
    client: &Client,
    cfg: &WhatsAppConfig,
    media_id: &str,
    max_bytes: u64,
) -> Result<MediaDownload, MediaError> {
    let info = fetch_media_info(client, cfg, media_id).await?;
    if info.file_size.is_some_and(|n| n > max_bytes) {
        return Err(MediaError::TooLarge { limit: max_bytes });
    }
    let resp = client
        .get(&info.url)
        .bearer_auth(&cfg.access_token)
        .send()
        .await
        .map_err(|e| http::media_transport_error(&e))?;
    MediaDownload::from_response(resp, max_bytes, info.mime, info.file_size)
}
