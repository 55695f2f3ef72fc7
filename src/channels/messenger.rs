//! Facebook Messenger Platform: inbound webhook parsing, sending, attachment downloads.
//! The subscription handshake and signatures are Meta's, shared with WhatsApp.

use reqwest::Client;
use serde_json::{Value, json};

use super::http::{self, MediaDownload};
use super::json::{self, Budget, Obj};
use super::{
    DeliveryStatus, InboundEvent, InboundMessage, MediaError, MediaKind, MediaRef, MediaSource,
    OutboundMessage, ParseError, SendError, SendOk, StatusTarget, StatusUpdate,
};

pub use super::whatsapp::{HandshakeError, verify_handshake, verify_handshake_query};

pub const DEFAULT_BASE_URL: &str = "https://graph.facebook.com/v21.0";
/// Messenger's attachment size limit.
pub const MAX_ATTACHMENT_BYTES: u64 = 25 * 1024 * 1024;

/// Parse a webhook body (after its signature was verified). Every entry and messaging item is
/// visited; echoes of our own messages and item kinds we do not use (reactions, optins,
/// referrals, handover) are skipped; delivery and read receipts become watermark statuses.
pub fn parse_webhook(body: &[u8]) -> Result<Vec<InboundEvent>, ParseError> {
    let root = json::parse_root(body)?;
    json::expect_object_kind(&root, "page")?;
    let entries = json::req_array(&root, "entry", &String::new)?;
    let mut budget = Budget::new();
    budget.take(entries.len())?;
    let mut out = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        let epath = || format!("entry[{i}]");
        let entry = json::as_obj(entry, &epath)?;
        let items = json::opt_array(entry, "messaging", &epath)?;
        budget.take(items.len())?;
        for (j, item) in items.iter().enumerate() {
            let ipath = || format!("entry[{i}].messaging[{j}]");
            let item = json::as_obj(item, &ipath)?;
            if let Some(ev) = parse_item(item, &ipath)? {
                out.push(ev);
            }
        }
    }
    Ok(out)
}

fn parse_item(item: &Obj, ipath: &dyn Fn() -> String) -> Result<Option<InboundEvent>, ParseError> {
    let sub = |k: &str| item.get(k).and_then(Value::as_object);
    if let Some(m) = sub("message") {
        if m.get("is_echo").and_then(Value::as_bool) == Some(true) {
            return Ok(None);
        }
        return parse_message(item, m, ipath).map(|m| Some(InboundEvent::Message(m)));
    }
    if let Some(p) = sub("postback") {
        // A button tap: keep it in the conversation when it has a message id.
        let Some(mid) = json::opt_str(p, "mid") else {
            return Ok(None);
        };
        let title = json::opt_str(p, "title").unwrap_or_default();
        let mut msg = base_message(item, ipath, mid)?;
        msg.text = format!("[button] {title}").trim_end().to_owned();
        return Ok(Some(InboundEvent::Message(msg)));
    }
    for (key, status) in [
        ("delivery", DeliveryStatus::Delivered),
        ("read", DeliveryStatus::Read),
    ] {
        if let Some(r) = sub(key) {
            let contact = sender(item, ipath)?;
            let rpath = || format!("{}.{key}", ipath());
            let up_to_ms = json::int_field(r, "watermark", &rpath)?;
            let timestamp_ms = json::int_field(item, "timestamp", ipath).unwrap_or(up_to_ms);
            return Ok(Some(InboundEvent::Status(StatusUpdate {
                target: StatusTarget::Watermark { contact, up_to_ms },
                status,
                error: None,
                timestamp_ms,
            })));
        }
    }
    Ok(None)
}

fn sender(item: &Obj, ipath: &dyn Fn() -> String) -> Result<String, ParseError> {
    json::path_str(item, &["sender", "id"])
        .ok_or_else(|| ParseError::missing(&format!("{}.sender.id", ipath())))
}

fn base_message(
    item: &Obj,
    ipath: &dyn Fn() -> String,
    provider_id: String,
) -> Result<InboundMessage, ParseError> {
    let from = sender(item, ipath)?;
    let to = json::path_str(item, &["recipient", "id"])
        .ok_or_else(|| ParseError::missing(&format!("{}.recipient.id", ipath())))?;
    let timestamp_ms = json::int_field(item, "timestamp", ipath)?;
    Ok(InboundMessage {
        provider_id,
        from,
        to,
        to_display: None,
        contact_name: None,
        timestamp_ms,
        text: String::new(),
        media: Vec::new(),
        reply_to: None,
        identity: Default::default(),
        keyword: None,
        reaction: None,
        choice: None,
    })
}

fn parse_message(
    item: &Obj,
    m: &Obj,
    ipath: &dyn Fn() -> String,
) -> Result<InboundMessage, ParseError> {
    let mpath = || format!("{}.message", ipath());
    let mid = json::req_str(m, "mid", &mpath)?;
    let mut msg = base_message(item, ipath, mid)?;
    msg.reply_to = json::path_str(m, &["reply_to", "mid"]);
    let attachments = json::opt_array(m, "attachments", &mpath)?;
    if attachments.len() > 100 {
        return Err(ParseError::too_many(100));
    }
    let mut placeholders = Vec::new();
    for a in attachments.iter().filter_map(Value::as_object) {
        let kind = json::opt_str(a, "type").unwrap_or_else(|| "unknown".to_owned());
        let url = json::path_str(a, &["payload", "url"]);
        let media_kind = match kind.as_str() {
            "image" => Some(MediaKind::Image),
            "video" => Some(MediaKind::Video),
            "audio" => Some(MediaKind::Audio),
            "file" => Some(MediaKind::File),
            _ => None,
        };
        match (media_kind, url) {
            (Some(kind), Some(url)) => msg.media.push(MediaRef {
                source: MediaSource::Url(url),
                mime: None,
                filename: None,
                caption: None,
                sha256: None,
                kind,
            }),
            _ => placeholders.push(match json::opt_str(a, "title") {
                Some(t) => format!("[{kind}: {t}]"),
                None => format!("[{kind}]"),
            }),
        }
    }
    let mut text = json::opt_str(m, "text").unwrap_or_default();
    for p in placeholders {
        if !text.is_empty() {
            text.push(' ');
        }
        text.push_str(&p);
    }
    if text.is_empty() && msg.media.is_empty() {
        text = "[unsupported message]".to_owned();
    }
    msg.text = text;
    Ok(msg)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessengerConfig {
    pub base_url: String,
    pub page_access_token: String,
}

/// The JSON body for `POST {base}/me/messages`: exactly one of text or attachment (by URL);
/// `human_agent_tag` switches `RESPONSE` to `MESSAGE_TAG` + `HUMAN_AGENT`.
pub fn send_body(msg: &OutboundMessage) -> Result<Value, SendError> {
    let invalid = |m: &str| SendError::permanent("invalid_message", m);
    if msg.template.is_some() {
        return Err(invalid(
            "Messenger has no WhatsApp templates; send text instead",
        ));
    }
    if msg.to.trim().is_empty() {
        return Err(invalid("no recipient"));
    }
    let text = msg.text.as_deref().filter(|t| !t.is_empty());
    let message = match (&msg.media, text) {
        (Some(_), Some(_)) => {
            return Err(invalid(
                "Messenger sends text and an attachment as two messages; send them separately",
            ));
        }
        (Some(m), None) => {
            let MediaSource::Url(url) = &m.source else {
                return Err(invalid("Messenger needs a public attachment URL"));
            };
            let kind = match m.kind {
                MediaKind::Image | MediaKind::Sticker => "image",
                MediaKind::Audio => "audio",
                MediaKind::Video => "video",
                MediaKind::Document | MediaKind::File => "file",
            };
            json!({"attachment": {"type": kind, "payload": {"url": url, "is_reusable": true}}})
        }
        (None, Some(t)) => json!({"text": t}),
        (None, None) => return Err(invalid("nothing to send: no text or attachment")),
    };
    let mut body =
        json!({"recipient": {"id": msg.to}, "messaging_type": "RESPONSE", "message": message});
    if msg.human_agent_tag {
        body["messaging_type"] = json!("MESSAGE_TAG");
        body["tag"] = json!("HUMAN_AGENT");
    }
    Ok(body)
}

fn message_id(v: &Value) -> Option<String> {
    v.get("message_id")?
        .as_str()
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// Send a message; `Ok` carries the Messenger `message_id`.
pub async fn send(
    client: &Client,
    cfg: &MessengerConfig,
    msg: &OutboundMessage,
) -> Result<SendOk, SendError> {
    let body = send_body(msg)?;
    let mut url = http::endpoint(&cfg.base_url, &["me", "messages"])
        .map_err(|e| SendError::permanent("bad_config", e))?;
    url.query_pairs_mut()
        .append_pair("access_token", &cfg.page_access_token);
    let result = client.post(url).json(&body).send().await;
    let value = http::send_outcome(result, http::graph_error, message_id).await?;
    Ok(SendOk {
        provider_id: message_id(&value).unwrap_or_default(),
    })
}

/// Download an attachment from its (public, unauthenticated) payload URL, with the size limit
/// enforced while streaming.
pub async fn fetch_attachment(
    client: &Client,
    url: &str,
    max_bytes: u64,
) -> Result<MediaDownload, MediaError> {
    let resp = client
        .get(url)
        .send()
        .await
        .map_err(|e| http::media_transport_error(&e))?;
    MediaDownload::from_response(resp, max_bytes, None, None)
}

#[cfg(test)]
mod tests;
