//! Facebook Messenger Platform and Instagram direct messages (Instagram API with Instagram
//! Login, which Meta documents in the Messenger Platform format): inbound webhook parsing,
//! sending, attachment downloads. One code path, parameterised by [`Platform`]: the envelope's
//! `object`, the send endpoint and its auth, and the attachment limits differ.
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
/// Instagram API with Instagram Login: sends go to `graph.instagram.com`.
pub const INSTAGRAM_BASE_URL: &str = "https://graph.instagram.com/v21.0";
/// Messenger's attachment size limit (also Instagram's for audio, video and files).
pub const MAX_ATTACHMENT_BYTES: u64 = 25 * 1024 * 1024;
/// Instagram's image limit (png, jpeg, gif).
pub const INSTAGRAM_MAX_IMAGE_BYTES: u64 = 8 * 1024 * 1024;
/// Instagram refuses text of 1000 characters or more ("must be less than 1000 characters").
pub const INSTAGRAM_MAX_TEXT_CHARS: usize = 999;

/// Which of Meta's two Messenger-format platforms a channel speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Platform {
    /// Facebook Messenger: `object = "page"`, `POST /me/messages?access_token=<page token>`.
    Messenger,
    /// Instagram direct messages: `object = "instagram"`,
    /// `POST /{ig-user-id}/messages` with `Authorization: Bearer <Instagram user token>`.
    Instagram,
}

impl Platform {
    /// The webhook envelope's `object`.
    pub fn object(self) -> &'static str {
        match self {
            Platform::Messenger => "page",
            Platform::Instagram => "instagram",
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Platform::Messenger => "Messenger",
            Platform::Instagram => "Instagram",
        }
    }
    /// The largest file of `kind` this platform accepts (sending and receiving).
    pub fn max_bytes(self, kind: MediaKind) -> u64 {
        match (self, kind) {
            (Platform::Instagram, MediaKind::Image | MediaKind::Sticker) => {
                INSTAGRAM_MAX_IMAGE_BYTES
            }
            _ => MAX_ATTACHMENT_BYTES,
        }
    }
}

/// Parse a Messenger webhook body (after its signature was verified).
pub fn parse_webhook(body: &[u8]) -> Result<Vec<InboundEvent>, ParseError> {
    parse_webhook_for(Platform::Messenger, body)
}

/// Parse a webhook body of `platform` (after its signature was verified). Every entry and
/// messaging item is visited; echoes of our own messages and item kinds we do not use (optins,
/// referrals, handover) are skipped; delivery and read receipts become watermark statuses.
/// Instagram story replies (`message.reply_to.story`) and story mentions (an attachment of type
/// `story_mention`) become text marked `[story reply]` / `[story mention]` with the story's URL.
pub fn parse_webhook_for(platform: Platform, body: &[u8]) -> Result<Vec<InboundEvent>, ParseError> {
    let root = json::parse_root(body)?;
    json::expect_object_kind(&root, platform.object())?;
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
            if let Some(mut ev) = parse_item(item, &ipath)? {
                if platform == Platform::Instagram {
                    seconds_to_ms(&mut ev);
                }
                out.push(ev);
            }
        }
    }
    Ok(out)
}

/// Meta documents Messenger timestamps in milliseconds; Instagram examples are not consistent,
/// so an Instagram timestamp too small to be milliseconds of this century (before 1973) is read
/// as seconds.
fn seconds_to_ms(ev: &mut InboundEvent) {
    const MS_FLOOR: i64 = 100_000_000_000;
    let fix = |t: &mut i64| {
        if (0..MS_FLOOR).contains(t) {
            *t = t.saturating_mul(1000);
        }
    };
    match ev {
        InboundEvent::Message(m) => fix(&mut m.timestamp_ms),
        InboundEvent::Status(s) => {
            fix(&mut s.timestamp_ms);
            if let StatusTarget::Watermark { up_to_ms, .. } = &mut s.target {
                fix(up_to_ms);
            }
        }
        InboundEvent::IdentityUpdate(_) | InboundEvent::Edit(_) => {}
    }
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
    // Reactions and edits (Messenger `message_reactions` / `message_edits`).
    if let Some(ev) = events::parse(item, ipath)? {
        return Ok(Some(ev));
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
    // Instagram: a reply to the business's story carries the story's CDN URL (it expires with
    // the story; Meta asks not to store the story itself, so it is kept as a link only).
    let story_reply = m
        .get("reply_to")
        .and_then(Value::as_object)
        .and_then(|r| r.get("story"))
        .and_then(Value::as_object)
        .map(|st| json::opt_str(st, "url").unwrap_or_default());
    let attachments = json::opt_array(m, "attachments", &mpath)?;
    if attachments.len() > 100 {
        return Err(ParseError::too_many(100));
    }
    let mut placeholders = Vec::new();
    for a in attachments.iter().filter_map(Value::as_object) {
        let kind = json::opt_str(a, "type").unwrap_or_else(|| "unknown".to_owned());
        let url = json::path_str(a, &["payload", "url"]);
        if kind == "story_mention" {
            // The customer mentioned the business in their story: a link, never downloaded.
            placeholders.push(match url {
                Some(u) => format!("[story mention] {u}"),
                None => "[story mention]".to_owned(),
            });
            continue;
        }
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
    if let Some(url) = story_reply {
        let mark = format!("[story reply] {url}");
        text = if text.is_empty() {
            mark.trim_end().to_owned()
        } else {
            format!("{} — {text}", mark.trim_end())
        };
    }
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
    pub platform: Platform,
    pub base_url: String,
    /// Messenger: the page access token (query parameter). Instagram: the Instagram user
    /// access token (bearer header).
    pub access_token: String,
    /// Instagram: the professional account's id (the path segment of the send endpoint).
    /// Unused for Messenger (`/me`).
    pub account_id: String,
}

/// The JSON body for `POST {base}/me/messages`: exactly one of text or attachment (by URL);
/// `human_agent_tag` switches `RESPONSE` to `MESSAGE_TAG` + `HUMAN_AGENT`.
pub fn send_body(msg: &OutboundMessage) -> Result<Value, SendError> {
    send_body_for(Platform::Messenger, msg)
}

/// The send body for `platform`: the same shape for Messenger and Instagram.
pub fn send_body_for(platform: Platform, msg: &OutboundMessage) -> Result<Value, SendError> {
    let invalid = |m: &str| SendError::permanent("invalid_message", m);
    if msg.template.is_some() {
        return Err(invalid(&format!(
            "{} has no WhatsApp templates; send text instead",
            platform.name()
        )));
    }
    if msg.to.trim().is_empty() {
        return Err(invalid("no recipient"));
    }
    let name = platform.name();
    let text = msg.text.as_deref().filter(|t| !t.is_empty());
    if platform == Platform::Instagram
        && text.is_some_and(|t| t.chars().count() > INSTAGRAM_MAX_TEXT_CHARS)
    {
        return Err(invalid(&format!(
            "Instagram messages are limited to {INSTAGRAM_MAX_TEXT_CHARS} characters"
        )));
    }
    let message = match (&msg.media, text) {
        (Some(_), Some(_)) => {
            return Err(invalid(&format!(
                "{name} sends text and an attachment as two messages; send them separately"
            )));
        }
        (Some(m), None) => {
            let MediaSource::Url(url) = &m.source else {
                return Err(invalid(&format!("{name} needs a public attachment URL")));
            };
            let kind = match (platform, m.kind) {
                (_, MediaKind::Image | MediaKind::Sticker) => "image",
                (_, MediaKind::Audio) => "audio",
                (_, MediaKind::Video) => "video",
                (Platform::Messenger, MediaKind::Document | MediaKind::File) => "file",
                (Platform::Instagram, MediaKind::Document | MediaKind::File) => {
                    return Err(invalid(
                        "Instagram accepts only images, audio and video as attachments, not files",
                    ));
                }
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

/// Send a message; `Ok` carries the `message_id`.
pub async fn send(
    client: &Client,
    cfg: &MessengerConfig,
    msg: &OutboundMessage,
) -> Result<SendOk, SendError> {
    let body = send_body_for(cfg.platform, msg)?;
    let request = match cfg.platform {
        Platform::Messenger => {
            let mut url = http::endpoint(&cfg.base_url, &["me", "messages"])
                .map_err(|e| SendError::permanent("bad_config", e))?;
            url.query_pairs_mut()
                .append_pair("access_token", &cfg.access_token);
            client.post(url)
        }
        Platform::Instagram => {
            if cfg.account_id.trim().is_empty() {
                return Err(SendError::permanent(
                    "bad_config",
                    "the Instagram account id is missing",
                ));
            }
            let url = http::endpoint(&cfg.base_url, &[cfg.account_id.trim(), "messages"])
                .map_err(|e| SendError::permanent("bad_config", e))?;
            client.post(url).bearer_auth(&cfg.access_token)
        }
    };
    let result = request.json(&body).send().await;
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

mod events;
#[cfg(test)]
mod tests;
