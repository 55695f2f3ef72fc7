//! Channels as an admin makes them (through `POST /api/v1/channels`), wired to a provider fake:
//! the fakes' credentials, its API base, the admin as a member. The customer helpers in
//! [`super::customer`] sign their webhooks with the same credentials.

use serde_json::{Value, json};

use super::server::TestServer;
use crate::fakes::{instagram, messenger, twilio, whatsapp};

/// Create a channel through the admin API; returns its id.
pub async fn create_channel(t: &TestServer, body: Value) -> u64 {
    let r = t.admin.post("/api/v1/channels", body).await;
    assert_eq!(r.status, 201, "create channel: {}", r.text());
    r.json()["id"].as_u64().unwrap()
}

/// A WhatsApp channel "WA" talking to `fake`, the admin a member.
pub async fn whatsapp_channel(t: &TestServer, fake: &whatsapp::FakeWhatsApp) -> u64 {
    create_channel(
        t,
        json!({"kind": "whatsapp", "name": "WA", "api_base": fake.base_url(),
            "members": [t.admin_id],
            "credentials": {"phone_number_id": whatsapp::PHONE_NUMBER_ID,
                "access_token": whatsapp::TOKEN, "app_secret": whatsapp::APP_SECRET,
                "verify_token": whatsapp::VERIFY_TOKEN}}),
    )
    .await
}

/// The WhatsApp channel of [`whatsapp_channel`] in a manual queue, with agents anna and ben
/// as members beside the admin; returns (channel, anna, ben).
pub async fn whatsapp_channel_for_anna_and_ben(
    t: &TestServer,
    fake: &whatsapp::FakeWhatsApp,
) -> (u64, u64, u64) {
    let ch = whatsapp_channel(t, fake).await;
    let (anna, _) = t.user("anna", "agent").await;
    let (ben, _) = t.user("ben", "agent").await;
    let r = t
        .admin
        .patch(
            &format!("/api/v1/channels/{ch}"),
            json!({"members": [t.admin_id, anna, ben], "queue_mode": "manual"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    (ch, anna, ben)
}

/// An SMS channel "SMS" talking to `fake` (Twilio).
pub async fn twilio_channel(t: &TestServer, fake: &twilio::FakeTwilio) -> u64 {
    create_channel(
        t,
        json!({"kind": "sms", "name": "SMS", "api_base": fake.base_url(),
            "credentials": {"account_sid": twilio::ACCOUNT_SID, "auth_token": twilio::AUTH_TOKEN,
                "from_number": twilio::FROM_NUMBER}}),
    )
    .await
}

/// A Messenger channel "FB" talking to `fake`.
pub async fn messenger_channel(t: &TestServer, fake: &messenger::FakeMessenger) -> u64 {
    create_channel(
        t,
        json!({"kind": "messenger", "name": "FB", "api_base": fake.base_url(),
            "credentials": {"page_id": messenger::PAGE_ID, "page_token": messenger::PAGE_TOKEN,
                "app_secret": messenger::APP_SECRET, "verify_token": messenger::VERIFY_TOKEN}}),
    )
    .await
}

/// An Instagram channel "IG" talking to `fake` (the Instagram flavour of the Messenger fake).
pub async fn instagram_channel(t: &TestServer, fake: &messenger::FakeMessenger) -> u64 {
    create_channel(
        t,
        json!({"kind": "instagram", "name": "IG", "api_base": fake.base_url(),
            "credentials": {"ig_user_id": instagram::IG_USER_ID, "access_token": instagram::TOKEN,
                "app_secret": instagram::APP_SECRET, "verify_token": instagram::VERIFY_TOKEN}}),
    )
    .await
}

/// The website of the live-chat tests.
pub const SITE: &str = "https://www.sunnyside.example";

/// A live-chat channel "Website" allowing `origins`, with or without the pre-chat form.
pub async fn livechat_channel(t: &TestServer, origins: &[&str], prechat: bool) -> u64 {
    t.channel(json!({
        "kind": "livechat", "name": "Website",
        "livechat": {
            "title": "Chat with us", "greeting": "Hello!", "accent": "#2f6fed",
            "allowed_origins": origins, "prechat_form": prechat,
            "offline_message": "We are away.", "uploads": true
        }
    }))
    .await
}
