//! Builders for WhatsApp webhooks (the test acts as Meta) and their signatures.

use serde_json::{Value, json};

use super::DISPLAY_NUMBER;

/// One `messages[]` item of type text.
pub fn text_message(from: &str, wamid: &str, text: &str, ts_secs: i64) -> Value {
    json!({"from": from, "id": wamid, "timestamp": ts_secs.to_string(), "type": "text",
           "text": {"body": text}})
}

/// One `messages[]` item carrying media (`kind` = image/document/audio/video/sticker).
pub fn media_message(
    from: &str,
    wamid: &str,
    kind: &str,
    media_id: &str,
    mime: &str,
    caption: Option<&str>,
    ts_secs: i64,
) -> Value {
    let mut obj = json!({"id": media_id, "mime_type": mime, "sha256": "c2hhMjU2LWZha2U="});
    if let Some(c) = caption {
        obj["caption"] = json!(c);
    }
    if kind == "document" {
        obj["filename"] = json!("file.pdf");
    }
    json!({"from": from, "id": wamid, "timestamp": ts_secs.to_string(), "type": kind, kind: obj})
}

/// One `statuses[]` item; `error` = (code, title) for failed statuses.
pub fn status(
    wamid: &str,
    status: &str,
    recipient: &str,
    ts_secs: i64,
    error: Option<(i64, &str)>,
) -> Value {
    let mut v = json!({"id": wamid, "status": status, "timestamp": ts_secs.to_string(),
        "recipient_id": recipient,
        "conversation": {"id": "CONV1", "origin": {"type": "service"}},
        "pricing": {"billable": true, "pricing_model": "CBP", "category": "service"}});
    if let Some((code, title)) = error {
        v["errors"] = json!([{"code": code, "title": title, "message": title,
            "error_data": {"details": title}}]);
    }
    v
}

/// A full webhook body with one change holding `contacts` (wa_id, name), messages, statuses.
pub fn webhook(
    phone_number_id: &str,
    contacts: &[(&str, &str)],
    messages: Vec<Value>,
    statuses: Vec<Value>,
) -> String {
    let mut value = json!({"messaging_product": "whatsapp",
        "metadata": {"display_phone_number": DISPLAY_NUMBER, "phone_number_id": phone_number_id}});
    if !contacts.is_empty() {
        value["contacts"] = contacts
            .iter()
            .map(|(id, name)| json!({"profile": {"name": name}, "wa_id": id}))
            .collect();
    }
    if !messages.is_empty() {
        value["messages"] = Value::Array(messages);
    }
    if !statuses.is_empty() {
        value["statuses"] = Value::Array(statuses);
    }
    json!({"object": "whatsapp_business_account", "entry": [{"id": "WABA_ID",
        "changes": [{"value": value, "field": "messages"}]}]})
    .to_string()
}

pub fn text_webhook(
    phone_number_id: &str,
    from: &str,
    name: &str,
    wamid: &str,
    text: &str,
    ts_secs: i64,
) -> String {
    webhook(
        phone_number_id,
        &[(from, name)],
        vec![text_message(from, wamid, text, ts_secs)],
        vec![],
    )
}

pub fn status_webhook(
    phone_number_id: &str,
    wamid: &str,
    status_value: &str,
    recipient: &str,
    ts_secs: i64,
    error: Option<(i64, &str)>,
) -> String {
    webhook(
        phone_number_id,
        &[],
        vec![],
        vec![status(wamid, status_value, recipient, ts_secs, error)],
    )
}

/// A message from a user who hid their number behind a username (Meta, 2026): `messages[]`
/// has no `from` but `from_user_id` (the BSUID); `contacts[]` has `user_id` and
/// `profile.username`, and `wa_id` only when `phone` is given (Meta still shares it).
/// To the fake's [`super::PHONE_NUMBER_ID`].
pub fn bsuid_text_webhook(
    user_id: &str,
    username: &str,
    name: &str,
    phone: Option<&str>,
    wamid: &str,
    text: &str,
    ts_secs: i64,
) -> String {
    let mut contact = json!({"profile": {"name": name, "username": username}, "user_id": user_id});
    let mut message = json!({"from_user_id": user_id, "id": wamid,
        "timestamp": ts_secs.to_string(), "type": "text", "text": {"body": text}});
    if let Some(p) = phone {
        contact["wa_id"] = json!(p);
        message["from"] = json!(p);
    }
    let value = json!({"messaging_product": "whatsapp",
        "metadata": {"display_phone_number": DISPLAY_NUMBER, "phone_number_id": super::PHONE_NUMBER_ID},
        "contacts": [contact], "messages": [message]});
    json!({"object": "whatsapp_business_account", "entry": [{"id": "WABA_ID",
        "changes": [{"value": value, "field": "messages"}]}]})
    .to_string()
}

/// The `user_id_update` webhook: the user's BSUID changed from `previous` to `current`
/// (after a number change); `wa_id` only when Meta shares the number.
pub fn user_id_update_webhook(
    phone_number_id: &str,
    previous: &str,
    current: &str,
    phone: Option<&str>,
    ts_secs: i64,
) -> String {
    let mut item = json!({"user_id": {"previous": previous, "current": current},
        "timestamp": ts_secs.to_string()});
    if let Some(p) = phone {
        item["wa_id"] = json!(p);
    }
    let value = json!({"messaging_product": "whatsapp",
        "metadata": {"display_phone_number": DISPLAY_NUMBER, "phone_number_id": phone_number_id},
        "user_id_update": [item]});
    json!({"object": "whatsapp_business_account", "entry": [{"id": "WABA_ID",
        "changes": [{"value": value, "field": "user_id_update"}]}]})
    .to_string()
}

/// `X-Hub-Signature-256` header value.
pub fn sign(app_secret: &str, body: &[u8]) -> String {
    crate::fakes::meta_sign(app_secret, body)
}

/// Legacy `X-Hub-Signature` header value.
pub fn sign_sha1(app_secret: &str, body: &[u8]) -> String {
    crate::fakes::meta_sign_sha1(app_secret, body)
}

pub use crate::fakes::handshake_query;
