//! Delivery: retries, permanent failures, restarts, reply windows, starting sessions.

use std::time::Duration;

use serde_json::json;

use super::*;
use crate::fakes::{Fault, messenger, twilio, whatsapp};

#[tokio::test]
async fn provider_500_then_recovery_delivers_exactly_once() {
    let t = TestServer::start().await;
    let wa = whatsapp::FakeWhatsApp::start().await;
    let (ch, sid) = whatsapp_conversation(&t, &wa).await;
    wa.fail_next(2, Fault::ServerError);
    let id = reply(&t, sid, json!({"text": "retry me"})).await.json()["id"]
        .as_u64()
        .unwrap();
    let m = wait_status(&t, id, "sent").await;
    assert!(m["provider_id"].as_str().unwrap().starts_with("wamid."));
    let sends = wa
        .requests()
        .iter()
        .filter(|r| r.path().ends_with("/messages"))
        .count();
    assert_eq!(sends, 3, "two 500s, then success");
    assert_eq!(wa.accepted().len(), 1, "delivered once");
    let h = t.admin.get(&format!("/api/v1/channels/{ch}")).await.json();
    assert!(
        h["health"]["last_send_error"]["reason"]
            .as_str()
            .unwrap()
            .contains("500"),
        "{h}"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(wa.accepted().len(), 1);
    t.stop().await;
}

#[tokio::test]
async fn provider_400_fails_at_once_with_the_providers_reason() {
    let t = TestServer::start().await;
    let tw = twilio::FakeTwilio::start().await;
    let ch = twilio_channel(&t, &tw).await;
    tw.fail_next(
        1,
        Fault::Reject {
            status: 400,
            body: twilio::error_body(
                400,
                21211,
                "The 'To' number +15005550001 is not a valid phone number.",
            ),
        },
    );
    let r = t
        .admin
        .post(
            "/api/v1/sessions",
            json!({"channel_id": ch, "to": "+15005550001", "text": "hi"}),
        )
        .await;
    let id = r.json()["message"]["id"].as_u64().unwrap();
    let m = wait_status(&t, id, "failed").await;
    let err = m["error"].as_str().unwrap();
    assert!(
        err.contains("21211") && err.contains("not a valid phone number"),
        "{err}"
    );
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(tw.requests().len(), 1, "a permanent failure is not retried");
    // WhatsApp answering 131047 synchronously: failed with the window explanation.
    let wa = whatsapp::FakeWhatsApp::start().await;
    let (_, sid) = whatsapp_conversation(&t, &wa).await;
    wa.close_window(CUSTOMER);
    let id = reply(&t, sid, json!({"text": "too late"})).await.json()["id"]
        .as_u64()
        .unwrap();
    let m = wait_status(&t, id, "failed").await;
    assert!(m["error"].as_str().unwrap().contains("24-hour"), "{m}");
    // The agent may retry a failed message.
    let r = t
        .admin
        .post(&format!("/api/v1/messages/{id}/retry"), json!({}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    t.stop().await;
}

#[tokio::test]
async fn restart_with_a_queued_outbox_delivers_once() {
    let mut t = TestServer::start().await;
    let wa = whatsapp::FakeWhatsApp::start().await;
    let (_, sid) = whatsapp_conversation(&t, &wa).await;
    wa.fail_next(
        1,
        Fault::RateLimited {
            retry_after_secs: 60,
        },
    );
    let id = reply(&t, sid, json!({"text": "after the restart"}))
        .await
        .json()["id"]
        .as_u64()
        .unwrap();
    wait_for("the rate-limited attempt", || async {
        (wa.requests()
            .iter()
            .filter(|r| r.path().ends_with("/messages"))
            .count()
            == 1)
            .then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(message(&t, id).await["status"], "queued");
    t.restart().await;
    // Retry-After is honoured: nothing happens before the time is up...
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(message(&t, id).await["status"], "queued");
    // ...then it goes out exactly once.
    t.clock.advance_ms(61_000);
    wait_status(&t, id, "sent").await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(wa.accepted().len(), 1);
    t.stop().await;
}

#[tokio::test]
async fn a_send_interrupted_by_shutdown_becomes_unknown_never_resent() {
    let mut t = TestServer::start().await;
    let wa = whatsapp::FakeWhatsApp::start().await;
    let (_, sid) = whatsapp_conversation(&t, &wa).await;
    wa.fail_next(1, Fault::Hang);
    let id = reply(&t, sid, json!({"text": "in flight"})).await.json()["id"]
        .as_u64()
        .unwrap();
    wait_for("the hanging send", || async {
        (wa.requests()
            .iter()
            .filter(|r| r.path().ends_with("/messages"))
            .count()
            == 1)
            .then_some(())
    })
    .await;
    t.restart().await;
    let m = wait_status(&t, id, "unknown").await;
    assert!(
        m["error"].as_str().unwrap().contains("may or may not"),
        "{m}"
    );
    t.clock.advance_ms(3_600_000);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let sends = wa
        .requests()
        .iter()
        .filter(|r| r.path().ends_with("/messages"))
        .count();
    assert_eq!(sends, 1, "never sent a second time on its own");
    // The agent decides: retry sends it (once).
    let r = t
        .admin
        .post(&format!("/api/v1/messages/{id}/retry"), json!({}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    wait_status(&t, id, "sent").await;
    assert_eq!(wa.accepted().len(), 1);
    t.stop().await;
}

#[tokio::test]
async fn whatsapp_window_refuses_free_text_after_24h_and_a_template_goes_out() {
    let mut t = TestServer::start().await;
    let wa = whatsapp::FakeWhatsApp::start().await;
    let (ch, sid) = whatsapp_conversation(&t, &wa).await;
    // Templates must be registered as the provider approved them before they can be sent.
    let r = t.admin.post("/api/v1/templates", json!({"name": "order_update", "language": "en_US", "body": "Your order {{1}} has shipped.", "channel_id": ch})).await;
    assert_eq!(r.status, 201, "{}", r.text());
    t.clock.advance_hours(25);
    t.relogin().await;
    let r = reply(&t, sid, json!({"text": "free text"})).await;
    assert_eq!(r.status, 422, "{}", r.text());
    assert_eq!(r.code(), "rule");
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("template")
    );
    let r = reply(
        &t,
        sid,
        json!({"template": {"name": "order_update", "language": "en_US", "params": ["4711"]}}),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let id = r.json()["id"].as_u64().unwrap();
    wait_status(&t, id, "sent").await;
    let sent = wa.accepted();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["type"], "template");
    assert_eq!(sent[0]["template"]["name"], "order_update");
    assert_eq!(sent[0]["template"]["language"]["code"], "en_US");
    assert_eq!(
        sent[0]["template"]["components"][0]["parameters"][0]["text"],
        "4711"
    );
    t.stop().await;
}

#[tokio::test]
async fn whatsapp_start_requires_a_template_and_reuses_the_open_session() {
    let t = TestServer::start().await;
    let wa = whatsapp::FakeWhatsApp::start().await;
    let ch = whatsapp_channel(&t, &wa).await;
    let r = t
        .admin
        .post(
            "/api/v1/templates",
            json!({"name": "hello", "language": "de", "body": "Hallo!", "channel_id": ch}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let r = t
        .admin
        .post(
            "/api/v1/sessions",
            json!({"channel_id": ch, "to": "+49 30 1234567", "text": "hi"}),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.text());
    assert!(r.text().contains("template"));
    let tpl = json!({"channel_id": ch, "to": "+49 30 1234567",
        "template": {"name": "hello", "language": "de", "params": []}});
    let a = t.admin.post("/api/v1/sessions", tpl.clone()).await;
    assert_eq!(a.status, 201, "{}", a.text());
    let b = t.admin.post("/api/v1/sessions", tpl).await;
    assert_eq!(a.json()["session_id"], b.json()["session_id"]);
    let id = b.json()["message"]["id"].as_u64().unwrap();
    wait_status(&t, id, "sent").await;
    assert_eq!(wa.accepted()[0]["to"], "49301234567");
    t.stop().await;
}

#[tokio::test]
async fn messenger_uses_the_human_agent_tag_between_24h_and_7_days() {
    let mut t = TestServer::start().await;
    let fb = messenger::FakeMessenger::start().await;
    let ch = messenger_channel(&t, &fb).await;
    let inbound = messenger::text_webhook(messenger::PAGE_ID, "PSID2", "m_in", "hi", 1);
    assert_eq!(post_fb(&t, ch, &inbound).await.status, 200);
    let sid = sessions(&t).await[0]["id"].as_u64().unwrap();
    t.clock.advance_hours(30);
    t.relogin().await;
    let id = reply(&t, sid, json!({"text": "sorry for the wait"}))
        .await
        .json()["id"]
        .as_u64()
        .unwrap();
    wait_status(&t, id, "sent").await;
    let sent = fb.accepted();
    assert_eq!(sent[0]["messaging_type"], "MESSAGE_TAG");
    assert_eq!(sent[0]["tag"], "HUMAN_AGENT");
    t.clock.advance_hours(24 * 7);
    t.relogin().await;
    let r = reply(&t, sid, json!({"text": "too late"})).await;
    assert_eq!(r.status, 422, "{}", r.text());
    // Messenger conversations cannot be started by an agent.
    let r = t
        .admin
        .post(
            "/api/v1/sessions",
            json!({"channel_id": ch, "to": "+4930123456", "text": "hi"}),
        )
        .await;
    assert_eq!(r.status, 422);
    t.stop().await;
}

#[tokio::test]
async fn sms_over_1600_characters_is_refused_before_queueing() {
    let t = TestServer::start().await;
    let tw = twilio::FakeTwilio::start().await;
    let ch = twilio_channel(&t, &tw).await;
    let r = t
        .admin
        .post(
            "/api/v1/sessions",
            json!({"channel_id": ch, "to": "+14155550100", "text": "a".repeat(1601)}),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.text());
    assert_eq!(count_messages(&t).await, 0);
    t.stop().await;
}

/// The texts of the send requests the fake received, in arrival order (failed ones too).
fn sent_texts(wa: &whatsapp::FakeWhatsApp) -> Vec<String> {
    wa.requests()
        .iter()
        .filter(|r| r.path().ends_with("/messages"))
        .filter_map(|r| r.json()["text"]["body"].as_str().map(str::to_owned))
        .collect()
}

/// Issue 24 item 6: the first of two replies to one customer gets a 500; the second must not
/// reach the provider before the retried first (it used to: up to 4 sends per channel were in
/// flight regardless of the conversation).
#[tokio::test]
async fn replies_to_one_customer_leave_in_order_when_the_first_is_retried() {
    let t = TestServer::start().await;
    let wa = whatsapp::FakeWhatsApp::start().await;
    let (_, sid) = whatsapp_conversation(&t, &wa).await;
    wa.fail_next(1, Fault::ServerError);
    let first = reply(&t, sid, json!({"text": "first"})).await.json()["id"]
        .as_u64()
        .unwrap();
    let second = reply(&t, sid, json!({"text": "second"})).await.json()["id"]
        .as_u64()
        .unwrap();
    wait_for("the first attempt (500)", || async {
        (!sent_texts(&wa).is_empty()).then_some(())
    })
    .await;
    // The first waits out its backoff (2 s on the test clock); the second waits behind it.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(sent_texts(&wa), ["first"], "the second did not overtake");
    assert_eq!(message(&t, second).await["status"], "queued");
    t.clock.advance_ms(3_000);
    wait_status(&t, first, "sent").await;
    wait_status(&t, second, "sent").await;
    assert_eq!(sent_texts(&wa), ["first", "first", "second"]);
    t.stop().await;
}

/// Ordering is per conversation: two customers of the same channel are still sent to in
/// parallel, while a second reply to one of them waits for the first.
#[tokio::test]
async fn different_conversations_still_send_in_parallel() {
    let t = TestServer::start().await;
    let wa = whatsapp::FakeWhatsApp::start().await;
    let (ch, s1) = whatsapp_conversation(&t, &wa).await;
    let body = whatsapp::text_webhook(
        whatsapp::PHONE_NUMBER_ID,
        "16505559876",
        "Ada Other",
        "wamid.IN2",
        "Me too",
        now_secs(&t),
    );
    assert_eq!(post_wa(&t, ch, &body).await.status, 200);
    let s2 = sessions(&t)
        .await
        .iter()
        .filter_map(|s| s["id"].as_u64())
        .find(|&id| id != s1)
        .unwrap();
    wa.set_delay(Duration::from_millis(1200));
    let started = std::time::Instant::now();
    let mut ids = Vec::new();
    for (s, text) in [(s1, "one-a"), (s2, "two-a"), (s1, "one-b")] {
        ids.push(
            reply(&t, s, json!({"text": text})).await.json()["id"]
                .as_u64()
                .unwrap(),
        );
    }
    for id in &ids {
        wait_status(&t, *id, "sent").await;
    }
    let took = started.elapsed();
    assert_eq!(wa.peak_concurrency(), 2, "the two conversations overlapped");
    let order = sent_texts(&wa);
    let pos = |s: &str| order.iter().position(|x| x == s).unwrap();
    assert!(pos("one-a") < pos("one-b"), "{order:?}");
    eprintln!("three sends of 1.2 s (two conversations) took {took:?}");
    t.stop().await;
}
