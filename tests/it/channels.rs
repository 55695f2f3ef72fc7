//! Channels: webhook intake (handshakes, signatures, batches, media, duplicates, receipts), the
//! outbound delivery worker (retries, permanent failures, restarts, reply windows), bad input,
//! the channels API and admin page. Providers are the in-test fakes.

mod admin;
mod bad_input;
mod bsuid;
mod inbound;
mod instagram;
mod media;
mod messenger_events;
mod outbound;
mod sms_rules;
mod wa_signals;

use crate::support::customer::{now_secs, post_fb, post_meta, post_twilio, post_wa};
use crate::support::read::{message, messages, sessions, wait_for, wait_status};
use crate::support::setup::{messenger_channel, twilio_channel, whatsapp_channel};
use crate::support::{Client, Resp, TestServer};

use serde_json::Value;

use crate::fakes::whatsapp;

pub const CUSTOMER: &str = "16505551234";

/// Every message stored, across all sessions (read from the store directly).
pub async fn count_messages(t: &TestServer) -> usize {
    t.count(switchboard::store::tables::MESSAGES).await as usize
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

pub async fn reply(t: &TestServer, session: u64, body: Value) -> Resp {
    t.admin
        .post(&format!("/api/v1/sessions/{session}/messages"), body)
        .await
}
