//! Channels: webhook intake (handshakes, signatures, batches, media, duplicates, receipts), the
//! outbound delivery worker (retries, permanent failures, restarts, reply windows), bad input,
//! the channels API and admin page. Providers are the in-test fakes.

mod admin;
mod bad_input;
mod inbound;
mod media;
mod outbound;

use std::future::Future;
use std::time::Duration;

use serde_json::{Value, json};
use switchboard::clock::Clock;

use crate::fakes::{messenger, twilio, whatsapp};
use crate::support::{Client, Resp, TestServer};

pub const CUSTOMER: &str = "16505551234";

pub fn now_secs(t: &TestServer) -> i64 {
    t.clock.now_ms() / 1000
}

/// Create a channel through the admin API; returns its id.
pub async fn create_channel(t: &TestServer, body: Value) -> u64 {
    let r = t.admin.post("/api/v1/channels", body).await;
    assert_eq!(r.status, 201, "create channel: {}", r.text());
    r.json()["id"].as_u64().unwrap()
}

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

pub async fn twilio_channel(t: &TestServer, fake: &twilio::FakeTwilio) -> u64 {
    create_channel(
        t,
        json!({"kind": "sms", "name": "SMS", "api_base": fake.base_url(),
            "credentials": {"account_sid": twilio::ACCOUNT_SID, "auth_token": twilio::AUTH_TOKEN,
                "from_number": twilio::FROM_NUMBER}}),
    )
    .await
}

pub async fn messenger_channel(t: &TestServer, fake: &messenger::FakeMessenger) -> u64 {
    create_channel(
        t,
        json!({"kind": "messenger", "name": "FB", "api_base": fake.base_url(),
            "credentials": {"page_id": messenger::PAGE_ID, "page_token": messenger::PAGE_TOKEN,
                "app_secret": messenger::APP_SECRET, "verify_token": messenger::VERIFY_TOKEN}}),
    )
    .await
}

/// POST a Meta webhook (signature header given or left out).
pub async fn post_meta(t: &TestServer, path: &str, body: &[u8], sig: Option<&str>) -> Resp {
    let c = Client::anonymous(&t.base());
    let mut rb = c
        .http
        .post(c.url(path))
        .header("content-type", "application/json")
        .body(body.to_vec());
    if let Some(s) = sig {
        rb = rb.header("x-hub-signature-256", s);
    }
    c.send(rb).await
}

/// POST a correctly signed WhatsApp webhook to channel `ch`.
pub async fn post_wa(t: &TestServer, ch: u64, body: &str) -> Resp {
    let sig = whatsapp::sign(whatsapp::APP_SECRET, body.as_bytes());
    post_meta(
        t,
        &format!("/hooks/whatsapp/{ch}"),
        body.as_bytes(),
        Some(&sig),
    )
    .await
}

pub async fn post_fb(t: &TestServer, ch: u64, body: &str) -> Resp {
    let sig = messenger::sign(messenger::APP_SECRET, body.as_bytes());
    post_meta(
        t,
        &format!("/hooks/messenger/{ch}"),
        body.as_bytes(),
        Some(&sig),
    )
    .await
}

/// POST a Twilio form to `path`, signed for `{public_url}{path}` with `token`.
pub async fn post_twilio(
    t: &TestServer,
    path: &str,
    params: &[(String, String)],
    token: &str,
) -> Resp {
    let url = format!("{}{path}", t.base());
    let (body, sig) = twilio::signed_webhook(token, &url, params);
    let c = Client::anonymous(&t.base());
    c.send(
        c.http
            .post(c.url(path))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("x-twilio-signature", sig)
            .body(body),
    )
    .await
}

/// Poll `f` until it yields `Some` (10 s at most).
pub async fn wait_for<T, F, Fut>(what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    for _ in 0..200 {
        if let Some(v) = f().await {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

pub async fn sessions(t: &TestServer) -> Vec<Value> {
    let r = t.admin.get("/api/v1/sessions?limit=200").await;
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()["sessions"].as_array().cloned().unwrap_or_default()
}

pub async fn messages(t: &TestServer, session_id: u64) -> Vec<Value> {
    let r = t
        .admin
        .get(&format!("/api/v1/sessions/{session_id}/messages?limit=200"))
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    r.json().as_array().cloned().unwrap_or_default()
}

/// Every message stored, across all sessions (read from the store directly).
pub async fn count_messages(t: &TestServer) -> usize {
    t.state()
        .store
        .read(|rtx| {
            use redb::ReadableTableMetadata;
            Ok(rtx
                .open_table(switchboard::store::tables::MESSAGES)?
                .len()? as usize)
        })
        .await
        .unwrap()
}

pub async fn message(t: &TestServer, id: u64) -> Value {
    let m = t
        .state()
        .store
        .read(move |rtx| switchboard::domain::messages::get(rtx, id))
        .await
        .unwrap()
        .unwrap();
    serde_json::to_value(m).unwrap()
}

/// Wait until message `id` has `status`.
pub async fn wait_status(t: &TestServer, id: u64, status: &str) -> Value {
    let what = format!("message {id} to become {status}");
    wait_for(&what, || async {
        let m = message(t, id).await;
        (m["status"] == status).then_some(m)
    })
    .await
}

/// A WhatsApp channel with one inbound message from [`CUSTOMER`]; returns (channel, session).
pub async fn whatsapp_conversation(t: &TestServer, fake: &whatsapp::FakeWhatsApp) -> (u64, u64) {
    let ch = whatsapp_channel(t, fake).await;
    let body = whatsapp::text_webhook(
        whatsapp::PHONE_NUMBER_ID,
        CUSTOMER,
        "Grace Customer",
        "wamid.IN1",
        "Hello?",
        now_secs(t),
    );
    assert_eq!(post_wa(t, ch, &body).await.status, 200);
    let s = sessions(t).await;
    (ch, s[0]["id"].as_u64().unwrap())
}

/// Log the admin in again (after moving the clock past the login session's lifetime).
pub async fn relogin(t: &mut TestServer) {
    t.admin = Client::login(&t.base(), crate::support::ADMIN, crate::support::PASSWORD).await;
}

pub async fn reply(t: &TestServer, session: u64, body: Value) -> Resp {
    t.admin
        .post(&format!("/api/v1/sessions/{session}/messages"), body)
        .await
}
