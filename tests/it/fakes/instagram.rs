//! Fake Instagram (Instagram API with Instagram Login) plus builders for signed Instagram
//! webhooks. The server is the Messenger fake in its Instagram flavour
//! ([`FakeMessenger::start_instagram`]): `POST {origin}/v21.0/{IG_USER_ID}/messages` and
//! `GET {origin}/v21.0/me?fields=user_id,username`, both with `Authorization: Bearer <token>`;
//! `GET {origin}/cdn/{name}` serves public attachment URLs.
//!
//! Webhooks are the Messenger Platform format with `"object": "instagram"`; `entry[].id` is the
//! professional account id, `sender.id` the customer's Instagram-scoped id (IGSID). Story replies
//! carry `message.reply_to.story {url, id}`; story mentions an attachment of type
//! `story_mention` with `payload.url` (Meta, "Instagram Platform Webhook Notification Examples").

use serde_json::{Value, json};

pub use super::messenger::FakeMessenger;
pub use super::messenger::sign;

pub const TOKEN: &str = "IGAA-test-user-token";
pub const IG_USER_ID: &str = "17841400000000001";
pub const APP_SECRET: &str = "ig-app-secret";
pub const VERIFY_TOKEN: &str = "ig-verify-token";

pub async fn start() -> FakeMessenger {
    FakeMessenger::start_instagram(TOKEN, IG_USER_ID).await
}

/// An `object=instagram` batch of messaging items for the account.
pub fn webhook(items: Vec<Value>) -> String {
    json!({"object": "instagram", "entry": [{"id": IG_USER_ID, "time": 1_700_000_000_000_i64,
        "messaging": items}]})
    .to_string()
}

fn item(igsid: &str, ts_ms: i64, message: Value) -> Value {
    json!({"sender": {"id": igsid}, "recipient": {"id": IG_USER_ID}, "timestamp": ts_ms,
        "message": message})
}

pub fn text_webhook(igsid: &str, mid: &str, text: &str, ts_ms: i64) -> String {
    webhook(vec![item(igsid, ts_ms, json!({"mid": mid, "text": text}))])
}

/// One message with attachments (`type`, url) pairs.
pub fn attachment_webhook(igsid: &str, mid: &str, atts: &[(&str, &str)], ts_ms: i64) -> String {
    let atts: Vec<Value> = atts
        .iter()
        .map(|(kind, url)| json!({"type": kind, "payload": {"url": url}}))
        .collect();
    webhook(vec![item(
        igsid,
        ts_ms,
        json!({"mid": mid, "attachments": atts}),
    )])
}

/// The customer answered the business's story.
pub fn story_reply_webhook(
    igsid: &str,
    mid: &str,
    text: &str,
    story_url: &str,
    story_id: &str,
    ts_ms: i64,
) -> String {
    webhook(vec![item(
        igsid,
        ts_ms,
        json!({"mid": mid, "text": text,
            "reply_to": {"story": {"url": story_url, "id": story_id}}}),
    )])
}

/// The customer mentioned the business in their story.
pub fn story_mention_webhook(igsid: &str, mid: &str, story_url: &str, ts_ms: i64) -> String {
    attachment_webhook(igsid, mid, &[("story_mention", story_url)], ts_ms)
}
