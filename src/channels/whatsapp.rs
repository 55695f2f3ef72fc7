//! WhatsApp Business Cloud API: subscription handshake and inbound webhook parsing.
//! Sending, uploads and media downloads live in the private `api` submodule and are re-exported here.

use serde_json::Value;
use subtle::ConstantTimeEq;

use super::json::{self, Budget, Obj};
use super::{
    DeliveryStatus, Identity, IdentityUpdate, InboundEvent, InboundMessage, MediaKind, MediaRef,
    MediaSource, ParseError, ProviderError, StatusTarget, StatusUpdate,
};

mod api;
pub use api::{
    MediaInfo, WhatsAppConfig, fetch_media, fetch_media_info, interactive_body, mark_read, send,
    send_body, send_interactive, typing, upload_media,
};

/// Default Graph API base (the version is part of the configurable base).
pub const DEFAULT_BASE_URL: &str = "https://graph.facebook.com/v21.0";

/// Error code: the 24 h customer-service window is closed; only a template may be sent.
pub const CODE_WINDOW_CLOSED: i64 = 131047;

/// Why a subscription handshake (`GET ?hub.mode=subscribe&hub.verify_token=…`) was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HandshakeError {
    /// `hub.mode` is not `subscribe`, or a parameter is missing.
    BadRequest,
    /// The verify token does not match the channel's.
    WrongToken,
}

/// Meta's verification handshake: `Ok(challenge)` (answer 200 with exactly that body, as
/// plain text) when `mode == "subscribe"` and `token` equals `expected_token`; otherwise
/// `Err` (answer 403). Shared by WhatsApp and Messenger.
pub fn verify_handshake(
    mode: Option<&str>,
    token: Option<&str>,
    challenge: Option<&str>,
    expected_token: &str,
) -> Result<String, HandshakeError> {
    let (Some("subscribe"), Some(token), Some(challenge)) = (mode, token, challenge) else {
        return Err(HandshakeError::BadRequest);
    };
    if expected_token.is_empty() || !bool::from(token.as_bytes().ct_eq(expected_token.as_bytes())) {
        return Err(HandshakeError::WrongToken);
    }
    Ok(challenge.to_owned())
}

/// [`verify_handshake`] on a raw query string (`hub.mode=subscribe&hub.verify_token=…`).
pub fn verify_handshake_query(query: &str, expected_token: &str) -> Result<String, HandshakeError> {
    let (mut mode, mut token, mut challenge) = (None, None, None);
    for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
        match k.as_ref() {
            "hub.mode" => mode = Some(v.into_owned()),
            "hub.verify_token" => token = Some(v.into_owned()),
            "hub.challenge" => challenge = Some(v.into_owned()),
            _ => {}
        }
    }
    verify_handshake(
        mode.as_deref(),
        token.as_deref(),
        challenge.as_deref(),
        expected_token,
    )
}

/// A readable message for a WhatsApp error code; 131047 says plainly that the window is closed.
pub(crate) fn describe_error(code: &str, provider_message: &str) -> String {
    if code == CODE_WINDOW_CLOSED.to_string() {
        format!(
            "the 24-hour customer service window is closed: only an approved template can be \
             sent until the customer writes again (provider: {provider_message})"
        )
    } else {
        provider_message.to_owned()
    }
}

/// Is `s` a business-scoped user id as Meta documents it: a two-letter country code, a
/// period, then up to 128 letters and digits (`US.13491208655302741918`); parent BSUIDs put
/// `ENT.` after the country code (`US.ENT.11815799212886844830`).
pub fn is_bsuid(s: &str) -> bool {
    let Some((cc, rest)) = s.split_once('.') else {
        return false;
    };
    let rest = rest.strip_prefix("ENT.").unwrap_or(rest);
    cc.len() == 2
        && cc.bytes().all(|b| b.is_ascii_uppercase())
        && !rest.is_empty()
        && rest.len() <= 128
        && rest.bytes().all(|b| b.is_ascii_alphanumeric())
}

fn bsuid(v: Option<String>) -> Option<String> {
    match v {
        Some(s) if is_bsuid(&s) => Some(s),
        Some(s) => {
            tracing::warn!(user_id = %s.chars().take(40).collect::<String>(), "malformed WhatsApp business-scoped user id ignored");
            None
        }
        None => None,
    }
}

/// Parse a webhook body (after its signature was verified) into events, in payload order.
/// Every entry, change, message and status is visited; changes other than `messages` and
/// `user_id_update` and unknown status values are skipped; unknown message types become
/// readable placeholders. A message with neither a phone number nor a well-formed
/// business-scoped user id cannot be answered and is skipped (acknowledged, nothing stored).
pub fn parse_webhook(body: &[u8]) -> Result<Vec<InboundEvent>, ParseError> {
    let root = json::parse_root(body)?;
    json::expect_object_kind(&root, "whatsapp_business_account")?;
    let entries = json::req_array(&root, "entry", &String::new)?;
    let mut budget = Budget::new();
    budget.take(entries.len())?;
    let mut out = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        let epath = || format!("entry[{i}]");
        let entry = json::as_obj(entry, &epath)?;
        let changes = json::opt_array(entry, "changes", &epath)?;
        budget.take(changes.len())?;
        for (j, change) in changes.iter().enumerate() {
            let cpath = || format!("entry[{i}].changes[{j}]");
            let change = json::as_obj(change, &cpath)?;
            let field = change.get("field").and_then(Value::as_str);
            if field != Some("messages") && field != Some("user_id_update") {
                continue;
            }
            let vpath = || format!("entry[{i}].changes[{j}].value");
            let value = match change.get("value") {
                Some(v) => json::as_obj(v, &vpath)?,
                None => return Err(ParseError::missing(&vpath())),
            };
            if field == Some("user_id_update") {
                parse_user_id_updates(value, &vpath, &mut budget, &mut out)?;
            } else {
                parse_value(value, &vpath, &mut budget, &mut out)?;
            }
        }
    }
    Ok(out)
}

fn parse_value(
    value: &Obj,
    vpath: &dyn Fn() -> String,
    budget: &mut Budget,
    out: &mut Vec<InboundEvent>,
) -> Result<(), ParseError> {
    let phone_number_id = json::path_str(value, &["metadata", "phone_number_id"])
        .ok_or_else(|| ParseError::missing(&format!("{}.metadata.phone_number_id", vpath())))?;
    let display = json::path_str(value, &["metadata", "display_phone_number"]);
    let contacts = json::opt_array(value, "contacts", vpath)?;
    let messages = json::opt_array(value, "messages", vpath)?;
    let statuses = json::opt_array(value, "statuses", vpath)?;
    budget.take(contacts.len())?;
    budget.take(messages.len())?;
    budget.take(statuses.len())?;
    let people: Vec<Person> = contacts
        .iter()
        .filter_map(Value::as_object)
        .map(|c| Person {
            wa_id: json::opt_str(c, "wa_id").filter(|s| !s.is_empty()),
            user_id: json::opt_str(c, "user_id").filter(|s| !s.is_empty()),
            name: json::path_str(c, &["profile", "name"]),
            username: json::path_str(c, &["profile", "username"]).filter(|s| !s.is_empty()),
        })
        .collect();
    for (k, m) in messages.iter().enumerate() {
        let mpath = || format!("{}.messages[{k}]", vpath());
        let m = json::as_obj(m, &mpath)?;
        let mut msg = parse_message(m, &mpath)?;
        let from_user_id = json::opt_str(m, "from_user_id").filter(|s| !s.is_empty());
        let phone = Some(msg.from.clone()).filter(|s| !s.is_empty());
        let person = people
            .iter()
            .find(|p| {
                (phone.is_some() && p.wa_id == phone)
                    || (from_user_id.is_some() && p.user_id == from_user_id)
            })
            .or_else(|| people.first().filter(|_| people.len() == 1));
        let phone = phone.or_else(|| person.and_then(|p| p.wa_id.clone()));
        let user_id = bsuid(from_user_id.or_else(|| person.and_then(|p| p.user_id.clone())));
        // The number stays the key where Meta sends it (existing contacts keep working);
        // a user who hid it behind a username is keyed by the business-scoped user id.
        let Some(key) = phone.clone().or_else(|| user_id.clone()) else {
            tracing::warn!(id = %msg.provider_id, "WhatsApp message without a phone number or a valid user id skipped");
            continue;
        };
        msg.from = key;
        msg.to.clone_from(&phone_number_id);
        msg.to_display.clone_from(&display);
        msg.contact_name = person.and_then(|p| p.name.clone());
        msg.identity = Identity {
            user_id,
            username: person.and_then(|p| p.username.clone()),
            phone,
        };
        out.push(InboundEvent::Message(msg));
    }
    for (k, s) in statuses.iter().enumerate() {
        let spath = || format!("{}.statuses[{k}]", vpath());
        let s = json::as_obj(s, &spath)?;
        if let Some(update) = parse_status(s, &spath)? {
            out.push(InboundEvent::Status(update));
        }
    }
    Ok(())
}

/// `[location] name, address` and an OpenStreetMap link for the coordinates (the inbox turns
/// it into a link).
fn location_text(m: &Obj) -> String {
    let p = |keys: &[&str]| json::path_str(m, keys);
    let mut s = "[location]".to_owned();
    let label: Vec<String> = [p(&["location", "name"]), p(&["location", "address"])]
        .into_iter()
        .flatten()
        .collect();
    if !label.is_empty() {
        s.push(' ');
        s.push_str(&label.join(", "));
    }
    let num = |k: &str| {
        json::get_path(m, &["location", k])
            .and_then(|v| v.as_f64().or_else(|| v.as_str()?.trim().parse().ok()))
            .filter(|x| x.is_finite())
    };
    if let (Some(lat), Some(lon)) = (num("latitude"), num("longitude")) {
        s.push_str(&format!(
            " https://www.openstreetmap.org/?mlat={lat}&mlon={lon}#map=17/{lat}/{lon}"
        ));
    }
    s
}

/// A provider-chosen word shown to agents: printable, at most 40 characters.
fn clip(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).take(40).collect()
}

/// One `contacts[]` entry of a messages webhook.
struct Person {
    wa_id: Option<String>,
    user_id: Option<String>,
    name: Option<String>,
    username: Option<String>,
}

/// `field = "user_id_update"`: `value.user_id_update[]` items, each with
/// `user_id.previous` / `user_id.current` and, when Meta shares it, `wa_id`. Items whose ids
/// are missing or malformed are skipped (acknowledged, nothing changed).
fn parse_user_id_updates(
    value: &Obj,
    vpath: &dyn Fn() -> String,
    budget: &mut Budget,
    out: &mut Vec<InboundEvent>,
) -> Result<(), ParseError> {
    let items = json::opt_array(value, "user_id_update", vpath)?;
    budget.take(items.len())?;
    for item in items.iter().filter_map(Value::as_object) {
        let previous = json::path_str(item, &["user_id", "previous"]);
        let current = json::path_str(item, &["user_id", "current"]);
        let (Some(previous), Some(current)) = (bsuid(previous), bsuid(current)) else {
            continue;
        };
        out.push(InboundEvent::IdentityUpdate(IdentityUpdate {
            previous,
            current,
            phone: json::opt_str(item, "wa_id").filter(|s| !s.is_empty()),
        }));
    }
    Ok(())
}

fn media_kind(t: &str) -> Option<MediaKind> {
    Some(match t {
        "image" => MediaKind::Image,
        "audio" => MediaKind::Audio,
        "video" => MediaKind::Video,
        "document" => MediaKind::Document,
        "sticker" => MediaKind::Sticker,
        _ => return None,
    })
}

fn parse_message(m: &Obj, mpath: &dyn Fn() -> String) -> Result<InboundMessage, ParseError> {
    let provider_id = json::req_str(m, "id", mpath)?;
    // Absent for a user who hid their number behind a username (then `from_user_id`).
    let from = json::opt_str(m, "from").unwrap_or_default();
    let secs = json::int_field(m, "timestamp", mpath)?;
    let timestamp_ms = json::secs_to_ms(secs, &format!("{}.timestamp", mpath()))?;
    let kind = json::opt_str(m, "type").unwrap_or_else(|| "unknown".to_owned());
    let mut reply_to = json::path_str(m, &["context", "id"]);
    let mut media = Vec::new();
    let p = |keys: &[&str]| json::path_str(m, keys);
    let text = if let Some(mk) = media_kind(&kind) {
        let obj = m
            .get(kind.as_str())
            .and_then(Value::as_object)
            .ok_or_else(|| ParseError::missing(&format!("{}.{kind}", mpath())))?;
        let id = json::req_str(obj, "id", &|| format!("{}.{kind}", mpath()))?;
        let caption = json::opt_str(obj, "caption");
        media.push(MediaRef {
            source: MediaSource::WhatsAppMediaId(id),
            mime: json::opt_str(obj, "mime_type"),
            filename: json::opt_str(obj, "filename"),
            caption: caption.clone(),
            sha256: json::opt_str(obj, "sha256"),
            kind: mk,
        });
        caption.unwrap_or_default()
    } else {
        match kind.as_str() {
            "text" => p(&["text", "body"]).unwrap_or_default(),
            "contacts" => {
                let names: Vec<String> = m
                    .get("contacts")
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(Value::as_object)
                            .filter_map(|c| {
                                let name = json::path_str(c, &["name", "formatted_name"])?;
                                let phones: Vec<String> = c
                                    .get("phones")
                                    .and_then(Value::as_array)
                                    .map(|a| {
                                        a.iter()
                                            .filter_map(Value::as_object)
                                            .filter_map(|p| json::opt_str(p, "phone"))
                                            .take(3)
                                            .collect()
                                    })
                                    .unwrap_or_default();
                                Some(if phones.is_empty() {
                                    name
                                } else {
                                    format!("{name} ({})", phones.join(", "))
                                })
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                format!("[contact card] {}", names.join(", "))
                    .trim_end()
                    .to_owned()
            }
            "button" => p(&["button", "text"])
                .map(|t| format!("[button] {t}"))
                .unwrap_or_else(|| "[button]".to_owned()),
            "interactive" => p(&["interactive", "button_reply", "title"])
                .or_else(|| {
                    let title = p(&["interactive", "list_reply", "title"])?;
                    Some(match p(&["interactive", "list_reply", "description"]) {
                        Some(d) => format!("{title} — {d}"),
                        None => title,
                    })
                })
                .map(|t| format!("[selected] {t}"))
                .unwrap_or_else(|| "[interactive reply]".to_owned()),
            "reaction" => {
                if reply_to.is_none() {
                    reply_to = p(&["reaction", "message_id"]);
                }
                match p(&["reaction", "emoji"]) {
                    Some(e) => format!("[reaction {e}]"),
                    None => "[reaction removed]".to_owned(),
                }
            }
            "location" => location_text(m),
            "order" => "[order]".to_owned(),
            "system" => p(&["system", "body"])
                .map(|b| format!("[system] {b}"))
                .unwrap_or_else(|| "[system message]".to_owned()),
            // Meta: `type = "unsupported"` with `unsupported.type` (e.g. "edit", "poll_creation")
            // and error 131051; older payloads said `unknown`. Stored, never dropped.
            "unsupported" | "unknown" => {
                let inner = p(&["unsupported", "type"]).unwrap_or_else(|| kind.clone());
                format!("[unsupported message ({})]", clip(&inner))
            }
            other => format!("[unsupported message ({})]", clip(other)),
        }
    };
    let reaction = (kind == "reaction")
        .then(|| p(&["reaction", "message_id"]))
        .flatten()
        .map(|message_id| super::Reaction {
            message_id,
            emoji: p(&["reaction", "emoji"]),
        });
    let choice = (kind == "interactive")
        .then(|| {
            p(&["interactive", "button_reply", "id"])
                .or_else(|| p(&["interactive", "list_reply", "id"]))
        })
        .flatten();
    Ok(InboundMessage {
        provider_id,
        from,
        to: String::new(),
        to_display: None,
        contact_name: None,
        timestamp_ms,
        text,
        media,
        reply_to,
        identity: Identity::default(),
        keyword: None,
        reaction,
        choice,
    })
}

fn parse_status(s: &Obj, spath: &dyn Fn() -> String) -> Result<Option<StatusUpdate>, ParseError> {
    let id = json::req_str(s, "id", spath)?;
    let status = match json::req_str(s, "status", spath)?.as_str() {
        "sent" => DeliveryStatus::Sent,
        "delivered" => DeliveryStatus::Delivered,
        "read" => DeliveryStatus::Read,
        "failed" => DeliveryStatus::Failed,
        // e.g. "deleted", "warning", "played": nothing to record against delivery state.
        _ => return Ok(None),
    };
    let secs = json::int_field(s, "timestamp", spath)?;
    let timestamp_ms = json::secs_to_ms(secs, &format!("{}.timestamp", spath()))?;
    let error = s
        .get("errors")
        .and_then(Value::as_array)
        .and_then(|a| a.first())
        .and_then(Value::as_object)
        .map(|e| {
            let code = json::opt_str(e, "code").unwrap_or_else(|| "unknown".to_owned());
            let provider_message = json::opt_str(e, "message")
                .or_else(|| json::path_str(e, &["error_data", "details"]))
                .or_else(|| json::opt_str(e, "title"))
                .unwrap_or_else(|| "no details given".to_owned());
            ProviderError {
                message: describe_error(&code, &provider_message),
                code,
            }
        });
    Ok(Some(StatusUpdate {
        target: StatusTarget::ProviderId(id),
        status,
        error,
        timestamp_ms,
    }))
}

#[cfg(test)]
mod tests;
