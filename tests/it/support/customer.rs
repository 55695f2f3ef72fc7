//! "A customer writes": one helper per way a customer's message reaches the server, each
//! returning where it was stored ([`Arrived`]).
//!
//! - [`whatsapp`], [`messenger`], [`sms`]: the provider's signed webhook (Cloud API JSON with
//!   `X-Hub-Signature-256`, Messenger JSON, Twilio form with `X-Twilio-Signature`), sent to a
//!   channel made with the fakes' credentials by [`super::setup`]. This is what a journey uses.
//! - [`livechat`]: a website visitor ([`super::visitor::Visitor`]) sends a message.
//! - [`writes`] / [`intake`]: the domain intake every webhook ends in, for channels that have no
//!   provider behind them (`t.channel(json!({"kind": "sms", …}))`) and tests about what happens
//!   after intake. It passes the server's live presence, as the webhook handlers do.
//!
//! [`post_wa`], [`post_fb`], [`post_twilio`] and [`post_meta`] send a raw webhook body when a
//! test needs another shape (receipts, batches, media, bad signatures).

use std::sync::atomic::{AtomicU64, Ordering};
use switchboard::ids::ChannelId;
use switchboard::ids::MessageId;

use switchboard::domain::messages::{self, Ingested, NewInbound, Status};

use super::client::{Client, Resp};
use super::server::TestServer;
use super::visitor::Visitor;
use crate::fakes::{instagram, messenger, twilio, whatsapp};

/// Where a customer's message was stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arrived {
    pub session_id: u64,
    pub message_id: u64,
}

static NEXT: AtomicU64 = AtomicU64::new(1);

fn next_id() -> u64 {
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// The provider's clock for webhook timestamps: the server's (movable) clock, in seconds.
pub fn now_secs(t: &TestServer) -> i64 {
    use switchboard::clock::Clock;
    t.clock.now_ms() / 1000
}

// --- the domain intake -------------------------------------------------------------------

/// A text message from `from` with a provider id no other test message has.
pub fn inbound(from: &str, name: Option<&str>, text: &str) -> NewInbound {
    NewInbound {
        provider_id: Some(format!("test-{}", next_id())),
        from: from.to_string(),
        contact_name: name.map(str::to_string),
        text: text.to_string(),
        files: vec![],
        at: None,
    }
}

/// Hands `m` to the domain intake on channel `ch` with the server's live presence (as the
/// webhook handlers do); returns what the intake made of it (stored, duplicate, blocked).
pub async fn intake(t: &TestServer, ch: u64, m: NewInbound) -> Ingested {
    intake_on(t.state(), ch, m).await
}

/// [`intake`] for code that holds the state rather than the server (a spawned writer).
pub async fn intake_on(state: &switchboard::AppState, ch: u64, m: NewInbound) -> Ingested {
    let policy = state.presence.policy(state.now());
    state
        .store
        .write(move |ctx| {
            let ch = switchboard::domain::channels::get_in(ctx, ChannelId(ch))?;
            messages::ingest_with_in(ctx, &ch, &m, &policy)
        })
        .await
        .unwrap()
}

/// A customer message on channel `ch` through the domain intake; it must be stored.
pub async fn writes(
    t: &TestServer,
    ch: u64,
    from: &str,
    name: Option<&str>,
    text: &str,
) -> Arrived {
    stored(&intake(t, ch, inbound(from, name, text)).await)
}

/// The place of a stored message; panics on a duplicate or a blocked sender.
pub fn stored(i: &Ingested) -> Arrived {
    match i {
        Ingested::Stored {
            session_id,
            message_id,
            ..
        } => Arrived {
            session_id: session_id.get(),
            message_id: message_id.get(),
        },
        other => panic!("expected a stored message, got {other:?}"),
    }
}

/// A delivery status for an outbound message, as a provider's receipt would set it.
pub async fn receipt(t: &TestServer, message_id: u64, status: Status, error: Option<&str>) {
    let error = error.map(str::to_string);
    t.state()
        .store
        .write(move |ctx| {
            let mut m = messages::get_in(ctx, MessageId(message_id))?;
            messages::receipts::set_status_in(ctx, &mut m, status, error.clone())
        })
        .await
        .unwrap();
}

// --- through the providers' webhooks -----------------------------------------------------

/// A WhatsApp user writes: one signed Cloud API webhook with a text message to channel `ch`
/// (made by [`super::setup::whatsapp_channel`]). `from` is the wa_id (digits, no `+`).
pub async fn whatsapp(t: &TestServer, ch: u64, from: &str, name: &str, text: &str) -> Arrived {
    let wamid = format!("wamid.customer.{}", next_id());
    let body = whatsapp::text_webhook(
        whatsapp::PHONE_NUMBER_ID,
        from,
        name,
        &wamid,
        text,
        now_secs(t),
    );
    let r = post_wa(t, ch, &body).await;
    assert_eq!(r.status, 200, "WhatsApp webhook: {}", r.text());
    find_by_provider_id(t, ch, &wamid).await
}

/// A Facebook user writes to the page: one signed Messenger webhook to channel `ch` (made by
/// [`super::setup::messenger_channel`]). `psid` is the page-scoped user id.
pub async fn messenger(t: &TestServer, ch: u64, psid: &str, text: &str) -> Arrived {
    let mid = format!("m_customer{}", next_id());
    let body = messenger::text_webhook(messenger::PAGE_ID, psid, &mid, text, now_secs(t) * 1000);
    let r = post_fb(t, ch, &body).await;
    assert_eq!(r.status, 200, "Messenger webhook: {}", r.text());
    find_by_provider_id(t, ch, &mid).await
}

/// Someone sends an SMS: a signed Twilio form to channel `ch` (made by
/// [`super::setup::twilio_channel`]). `from` is an E.164 number.
pub async fn sms(t: &TestServer, ch: u64, from: &str, text: &str) -> Arrived {
    // Inbound SIDs from their own range: the fake numbers the messages it accepts
    // `SM000…01`, `SM000…02`, … and Twilio never gives two messages one SID (a shared SID
    // would make the intake drop this message as a redelivery).
    let sid = format!("SM{:032x}", (0xc0_u128 << 120) | u128::from(next_id()));
    let params = twilio::inbound_params(&sid, from, twilio::FROM_NUMBER, text);
    let r = post_twilio(
        t,
        &format!("/hooks/twilio/{ch}"),
        &params,
        twilio::AUTH_TOKEN,
    )
    .await;
    assert!(r.status < 300, "Twilio webhook: {} {}", r.status, r.text());
    find_by_provider_id(t, ch, &sid).await
}

/// A website visitor (already started, see [`Visitor::start`]) sends `text`.
pub async fn livechat(v: &Visitor, text: &str) -> Arrived {
    let r = v.say(text, &format!("c{}", next_id())).await;
    assert_eq!(r.status, 201, "visitor message: {}", r.text());
    let m = &r.json()["message"];
    Arrived {
        session_id: m["session_id"].as_u64().unwrap(),
        message_id: m["id"].as_u64().unwrap(),
    }
}

/// The stored message with this provider id on channel `ch`, as the admin sees it.
async fn find_by_provider_id(t: &TestServer, ch: u64, provider_id: &str) -> Arrived {
    let list = t
        .admin
        .get(&format!(
            "/api/v1/sessions?channel_id={ch}&scope=all&limit=50"
        ))
        .await;
    assert_eq!(list.status, 200, "{}", list.text());
    for s in list.json()["sessions"].as_array().unwrap() {
        let sid = s["id"].as_u64().unwrap();
        let msgs = t
            .admin
            .get(&format!("/api/v1/sessions/{sid}/messages?limit=200"))
            .await
            .json();
        if let Some(m) = msgs
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["provider_id"] == provider_id)
        {
            return Arrived {
                session_id: sid,
                message_id: m["id"].as_u64().unwrap(),
            };
        }
    }
    panic!("no message {provider_id} stored on channel {ch}")
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

/// POST a correctly signed WhatsApp webhook body to channel `ch`.
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

/// POST a correctly signed Messenger webhook body to channel `ch`.
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

/// POST a correctly signed Instagram webhook body to channel `ch`.
pub async fn post_ig(t: &TestServer, ch: u64, body: &str) -> Resp {
    let sig = instagram::sign(instagram::APP_SECRET, body.as_bytes());
    post_meta(
        t,
        &format!("/hooks/instagram/{ch}"),
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
