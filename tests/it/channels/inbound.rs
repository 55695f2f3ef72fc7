//! Intake: handshakes, signatures, batches, duplicates, receipts, echoes, blocked senders.

use serde_json::json;
use switchboard::clock::Clock;
use switchboard::ids::ChannelId;
use switchboard::ids::UserId;

use super::*;
use crate::fakes::{handshake_query, messenger, twilio, whatsapp};
use crate::support::EventStream;

#[tokio::test]
async fn meta_handshakes_answer_the_challenge_only_with_the_right_token() {
    let t = TestServer::start().await;
    let wa = whatsapp::FakeWhatsApp::start().await;
    let fb = messenger::FakeMessenger::start().await;
    let wa_ch = whatsapp_channel(&t, &wa).await;
    let fb_ch = messenger_channel(&t, &fb).await;
    let anon = Client::anonymous(&t.base());
    for (path, token) in [
        (format!("/hooks/whatsapp/{wa_ch}"), whatsapp::VERIFY_TOKEN),
        (format!("/hooks/messenger/{fb_ch}"), messenger::VERIFY_TOKEN),
    ] {
        let r = anon
            .get(&format!("{path}?{}", handshake_query(token, "1158201444")))
            .await;
        assert_eq!(r.status, 200, "{path}");
        assert_eq!(r.text(), "1158201444", "the body is exactly the challenge");
        assert!(r.header("content-type").unwrap().starts_with("text/plain"));
        let r = anon
            .get(&format!(
                "{path}?{}",
                handshake_query("wrong", "1158201444")
            ))
            .await;
        assert_eq!(r.status, 403, "{path}");
        assert!(!r.text().contains("1158201444"));
        let r = anon
            .get(&format!(
                "{path}?hub.mode=unsubscribe&hub.verify_token={token}&hub.challenge=5"
            ))
            .await;
        assert_eq!(r.status, 403);
    }
    // The other kind's handshake and an unknown channel are refused.
    let q = handshake_query(whatsapp::VERIFY_TOKEN, "1");
    assert_eq!(
        anon.get(&format!("/hooks/messenger/{wa_ch}?{q}"))
            .await
            .status,
        400
    );
    assert_eq!(
        anon.get(&format!("/hooks/whatsapp/999?{q}")).await.status,
        404
    );
    t.stop().await;
}

#[tokio::test]
async fn bad_or_missing_signatures_store_nothing_and_show_on_the_health_line() {
    let t = TestServer::start().await;
    let wa = whatsapp::FakeWhatsApp::start().await;
    let fb = messenger::FakeMessenger::start().await;
    let tw = twilio::FakeTwilio::start().await;
    let wa_ch = whatsapp_channel(&t, &wa).await;
    let fb_ch = messenger_channel(&t, &fb).await;
    let tw_ch = twilio_channel(&t, &tw).await;
    let body = whatsapp::text_webhook(
        whatsapp::PHONE_NUMBER_ID,
        CUSTOMER,
        "G",
        "wamid.S1",
        "hi",
        1,
    );
    let path = format!("/hooks/whatsapp/{wa_ch}");
    let r = post_meta(&t, &path, body.as_bytes(), None).await;
    assert_eq!(r.status, 401, "{}", r.text());
    let forged = whatsapp::sign("not-the-secret", body.as_bytes());
    assert_eq!(
        post_meta(&t, &path, body.as_bytes(), Some(&forged))
            .await
            .status,
        403
    );
    // Signed over another body.
    let other = whatsapp::sign(whatsapp::APP_SECRET, b"{}");
    assert_eq!(
        post_meta(&t, &path, body.as_bytes(), Some(&other))
            .await
            .status,
        403
    );
    assert_eq!(
        post_meta(&t, &path, body.as_bytes(), Some("sha256=zz"))
            .await
            .status,
        403
    );
    let fb_body = messenger::text_webhook(messenger::PAGE_ID, "PSID1", "m_1", "hi", 1);
    let r = post_meta(
        &t,
        &format!("/hooks/messenger/{fb_ch}"),
        fb_body.as_bytes(),
        Some(&messenger::sign("wrong", fb_body.as_bytes())),
    )
    .await;
    assert_eq!(r.status, 403);
    // Twilio: signed with the wrong token, and signed for another URL (the Host is not trusted).
    let params = twilio::inbound_params("SM1", "+14155550100", twilio::FROM_NUMBER, "hi");
    let tw_path = format!("/hooks/twilio/{tw_ch}");
    assert_eq!(
        post_twilio(&t, &tw_path, &params, "wrong-token")
            .await
            .status,
        403
    );
    let (form, sig) = twilio::signed_webhook(
        twilio::AUTH_TOKEN,
        &format!("https://attacker.example{tw_path}"),
        &params,
    );
    let c = Client::anonymous(&t.base());
    let r = c
        .send(
            c.http
                .post(c.url(&tw_path))
                .header("content-type", "application/x-www-form-urlencoded")
                .header("x-twilio-signature", sig)
                .body(form),
        )
        .await;
    assert_eq!(r.status, 403);
    assert_eq!(count_messages(&t).await, 0);
    assert!(sessions(&t).await.is_empty());
    let h = t
        .admin
        .get(&format!("/api/v1/channels/{wa_ch}"))
        .await
        .json();
    let failure = &h["health"]["last_signature_failure"];
    assert!(failure["at"].as_i64().unwrap() > 0, "{h}");
    assert!(h["health"]["last_inbound"].is_null());
    // The correctly signed request goes through.
    assert_eq!(post_wa(&t, wa_ch, &body).await.status, 200);
    assert_eq!(
        post_twilio(&t, &tw_path, &params, twilio::AUTH_TOKEN)
            .await
            .status,
        200
    );
    assert_eq!(count_messages(&t).await, 2);
    t.stop().await;
}

#[tokio::test]
async fn batched_whatsapp_payload_stores_every_entry_change_and_message() {
    let t = TestServer::start().await;
    let wa = whatsapp::FakeWhatsApp::start().await;
    let ch = whatsapp_channel(&t, &wa).await;
    let ts = now_secs(&t);
    let change = |from: &str, name: &str, ids: &[&str]| {
        json!({"field": "messages", "value": {"messaging_product": "whatsapp",
            "metadata": {"display_phone_number": whatsapp::DISPLAY_NUMBER,
                "phone_number_id": whatsapp::PHONE_NUMBER_ID},
            "contacts": [{"profile": {"name": name}, "wa_id": from}],
            "messages": ids.iter().map(|id| whatsapp::text_message(from, id, &format!("text {id}"), ts)).collect::<Vec<_>>()}})
    };
    let body = json!({"object": "whatsapp_business_account", "entry": [
        {"id": "W1", "changes": [change("111111", "Ann", &["wamid.A1", "wamid.A2"]),
                                 change("222222", "Bob", &["wamid.B1"])]},
        {"id": "W2", "changes": [change("333333", "Cid", &["wamid.C1", "wamid.C2", "wamid.C3"]),
                                 {"field": "account_update", "value": {}}]}]})
    .to_string();
    let r = post_wa(&t, ch, &body).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.text(), "EVENT_RECEIVED");
    assert_eq!(count_messages(&t).await, 6);
    let list = sessions(&t).await;
    assert_eq!(list.len(), 3);
    let mut names: Vec<String> = list
        .iter()
        .map(|s| s["contact_name"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["Ann", "Bob", "Cid"],
        "profile names become contact names"
    );
    let cid = list.iter().find(|s| s["contact_name"] == "Cid").unwrap();
    assert_eq!(messages(&t, cid["id"].as_u64().unwrap()).await.len(), 3);
    t.stop().await;
}

#[tokio::test]
async fn a_redelivered_webhook_is_acknowledged_and_stored_once() {
    let t = TestServer::start().await;
    let wa = whatsapp::FakeWhatsApp::start().await;
    let tw = twilio::FakeTwilio::start().await;
    let ch = whatsapp_channel(&t, &wa).await;
    let tw_ch = twilio_channel(&t, &tw).await;
    let body = whatsapp::text_webhook(
        whatsapp::PHONE_NUMBER_ID,
        CUSTOMER,
        "G",
        "wamid.DUP",
        "once",
        1,
    );
    for _ in 0..3 {
        assert_eq!(post_wa(&t, ch, &body).await.status, 200);
    }
    // The same id twice inside one batch is stored once too.
    let twice = whatsapp::webhook(
        whatsapp::PHONE_NUMBER_ID,
        &[],
        vec![
            whatsapp::text_message(CUSTOMER, "wamid.TWICE", "x", 1),
            whatsapp::text_message(CUSTOMER, "wamid.TWICE", "x", 1),
        ],
        vec![],
    );
    assert_eq!(post_wa(&t, ch, &twice).await.status, 200);
    let params = twilio::inbound_params("SMdup", "+14155550100", twilio::FROM_NUMBER, "hi");
    for _ in 0..2 {
        let r = post_twilio(
            &t,
            &format!("/hooks/twilio/{tw_ch}"),
            &params,
            twilio::AUTH_TOKEN,
        )
        .await;
        assert_eq!(r.status, 200);
        assert_eq!(
            r.text(),
            r#"<?xml version="1.0" encoding="UTF-8"?><Response></Response>"#
        );
        assert_eq!(r.header("content-type").as_deref(), Some("text/xml"));
    }
    assert_eq!(count_messages(&t).await, 3);
    t.stop().await;
}

#[tokio::test]
async fn messenger_echoes_are_ignored_and_blocked_senders_dropped() {
    let t = TestServer::start().await;
    let fb = messenger::FakeMessenger::start().await;
    let ch = messenger_channel(&t, &fb).await;
    let echo = messenger::echo_webhook(messenger::PAGE_ID, "PSID9", "m_echo", "our own reply", 1);
    assert_eq!(post_fb(&t, ch, &echo).await.status, 200);
    assert_eq!(count_messages(&t).await, 0);
    assert!(sessions(&t).await.is_empty());
    // Block PSID9, then its message is acknowledged but not stored.
    let admin = t.admin_id;
    t.state()
        .store
        .write(move |ctx| {
            use switchboard::domain::contacts;
            let (mut c, _) = contacts::upsert_in(ctx, ChannelId(ch), "PSID9", None)?;
            c.blocked = Some(contacts::Block {
                reason: "spam".into(),
                by: UserId(admin),
                at: ctx.now,
            });
            contacts::put_in(ctx, &c)
        })
        .await
        .unwrap();
    let msg = messenger::text_webhook(messenger::PAGE_ID, "PSID9", "m_blocked", "spam", 1);
    assert_eq!(post_fb(&t, ch, &msg).await.status, 200);
    assert_eq!(count_messages(&t).await, 0);
    let ok = messenger::text_webhook(messenger::PAGE_ID, "PSID10", "m_ok", "hello", 1);
    assert_eq!(post_fb(&t, ch, &ok).await.status, 200);
    assert_eq!(count_messages(&t).await, 1);
    t.stop().await;
}

#[tokio::test]
async fn end_to_end_webhook_reply_and_receipts_to_read() {
    let t = TestServer::start().await;
    let wa = whatsapp::FakeWhatsApp::start().await;
    let (_ch, sid) = whatsapp_conversation(&t, &wa).await;
    // Visible through the API as soon as the webhook was acknowledged.
    let msgs = messages(&t, sid).await;
    assert_eq!(msgs.len(), 1);
    assert_eq!(msgs[0]["text"], "Hello?");
    assert_eq!(msgs[0]["direction"], "in");
    let r = reply(&t, sid, json!({"text": "How can we help?"})).await;
    assert_eq!(r.status, 201, "{}", r.text());
    let id = r.json()["id"].as_u64().unwrap();
    let sent = wait_status(&t, id, "sent").await;
    let wamid = sent["provider_id"].as_str().unwrap().to_string();
    let accepted = wa.accepted();
    assert_eq!(accepted.len(), 1, "exactly one send: {accepted:?}");
    assert_eq!(accepted[0]["to"], CUSTOMER);
    assert_eq!(accepted[0]["text"]["body"], "How can we help?");
    let ch = sent["channel_id"].as_u64().unwrap();
    let ts = now_secs(&t);
    for (status, expect) in [
        ("delivered", "delivered"),
        ("sent", "delivered"),
        ("read", "read"),
    ] {
        let body = whatsapp::status_webhook(
            whatsapp::PHONE_NUMBER_ID,
            &wamid,
            status,
            CUSTOMER,
            ts,
            None,
        );
        assert_eq!(post_wa(&t, ch, &body).await.status, 200);
        assert_eq!(message(&t, id).await["status"], expect, "after {status}");
    }
    let msgs = messages(&t, sid).await;
    assert_eq!(msgs[1]["status"], "read");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(wa.accepted().len(), 1, "never sent twice");
    t.stop().await;
}

#[tokio::test]
async fn whatsapp_failed_status_131047_fails_the_message_with_the_reason() {
    let t = TestServer::start().await;
    let wa = whatsapp::FakeWhatsApp::start().await;
    let (ch, sid) = whatsapp_conversation(&t, &wa).await;
    let id = reply(&t, sid, json!({"text": "late"})).await.json()["id"]
        .as_u64()
        .unwrap();
    let wamid = wait_status(&t, id, "sent").await["provider_id"]
        .as_str()
        .unwrap()
        .to_string();
    let body = whatsapp::status_webhook(
        whatsapp::PHONE_NUMBER_ID,
        &wamid,
        "failed",
        CUSTOMER,
        now_secs(&t),
        Some((131047, "Re-engagement message")),
    );
    assert_eq!(post_wa(&t, ch, &body).await.status, 200);
    let m = message(&t, id).await;
    assert_eq!(m["status"], "failed");
    let err = m["error"].as_str().unwrap();
    assert!(err.contains("24-hour") && err.contains("131047"), "{err}");
    t.stop().await;
}

#[tokio::test]
async fn twilio_status_callbacks_move_an_sms_to_delivered_and_failed() {
    let t = TestServer::start().await;
    let tw = twilio::FakeTwilio::start().await;
    let ch = twilio_channel(&t, &tw).await;
    // SMS may start a session with free text.
    let r = t
        .admin
        .post(
            "/api/v1/sessions",
            json!({"channel_id": ch, "to": "+1 415 555 0100", "text": "Your order is ready"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let id = r.json()["message"]["id"].as_u64().unwrap();
    let sid = wait_status(&t, id, "sent").await["provider_id"]
        .as_str()
        .unwrap()
        .to_string();
    let form = &tw.accepted()[0];
    let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    assert_eq!(get("To").as_deref(), Some("+14155550100"));
    assert_eq!(get("Body").as_deref(), Some("Your order is ready"));
    assert_eq!(
        get("StatusCallback"),
        Some(format!("{}/hooks/twilio/{ch}/status", t.base()))
    );
    let status_path = format!("/hooks/twilio/{ch}/status");
    for (status, expect) in [
        ("sent", "sent"),
        ("delivered", "delivered"),
        ("read", "read"),
    ] {
        let r = post_twilio(
            &t,
            &status_path,
            &twilio::status_params(&sid, status, None),
            twilio::AUTH_TOKEN,
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(message(&t, id).await["status"], expect);
    }
    // A second message that is undelivered carries Twilio's code.
    let session = sessions(&t).await[0]["id"].as_u64().unwrap();
    let id2 = reply(&t, session, json!({"text": "second"})).await.json()["id"]
        .as_u64()
        .unwrap();
    let sid2 = wait_status(&t, id2, "sent").await["provider_id"]
        .as_str()
        .unwrap()
        .to_string();
    let p = twilio::status_params(
        &sid2,
        "undelivered",
        Some(("30003", "Unreachable destination handset")),
    );
    assert_eq!(
        post_twilio(&t, &status_path, &p, twilio::AUTH_TOKEN)
            .await
            .status,
        200
    );
    let m = message(&t, id2).await;
    assert_eq!(m["status"], "failed");
    assert!(m["error"].as_str().unwrap().contains("30003"), "{m}");
    t.stop().await;
}

#[tokio::test]
async fn messenger_watermarks_move_replies_to_delivered_then_read() {
    let t = TestServer::start().await;
    let fb = messenger::FakeMessenger::start().await;
    let ch = messenger_channel(&t, &fb).await;
    let inbound = messenger::text_webhook(
        messenger::PAGE_ID,
        "PSID1",
        "m_in1",
        "hi there",
        t.clock.now_ms(),
    );
    assert_eq!(post_fb(&t, ch, &inbound).await.status, 200);
    let sid = sessions(&t).await[0]["id"].as_u64().unwrap();
    let id = reply(&t, sid, json!({"text": "Hello from the office"}))
        .await
        .json()["id"]
        .as_u64()
        .unwrap();
    wait_status(&t, id, "sent").await;
    let sent = fb.accepted();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["recipient"]["id"], "PSID1");
    assert_eq!(sent[0]["messaging_type"], "RESPONSE");
    let mark = t.clock.now_ms() + 1000;
    let d = messenger::delivery_webhook(messenger::PAGE_ID, "PSID1", &[], mark);
    assert_eq!(post_fb(&t, ch, &d).await.status, 200);
    assert_eq!(message(&t, id).await["status"], "delivered");
    let r = messenger::read_webhook(messenger::PAGE_ID, "PSID1", mark);
    assert_eq!(post_fb(&t, ch, &r).await.status, 200);
    assert_eq!(message(&t, id).await["status"], "read");
    t.stop().await;
}

/// Webhooks read their channel from an in-memory cache; a changed app secret or a deleted
/// channel must apply to the very next webhook.
#[tokio::test]
async fn channel_changes_apply_to_the_next_webhook_at_once() {
    let t = TestServer::start().await;
    let wa = whatsapp::FakeWhatsApp::start().await;
    let ch = whatsapp_channel(&t, &wa).await;
    let path = format!("/hooks/whatsapp/{ch}");
    let hook = |n: u32| {
        whatsapp::text_webhook(
            whatsapp::PHONE_NUMBER_ID,
            CUSTOMER,
            "G",
            &format!("wamid.CACHE{n}"),
            "hi",
            1,
        )
    };
    let b1 = hook(1);
    let old_sig = whatsapp::sign(whatsapp::APP_SECRET, b1.as_bytes());
    assert_eq!(
        post_meta(&t, &path, b1.as_bytes(), Some(&old_sig))
            .await
            .status,
        200
    );
    let r = t
        .admin
        .patch(
            &format!("/api/v1/channels/{ch}"),
            json!({"credentials": {"app_secret": "rotated-secret"}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let b2 = hook(2);
    let r = post_meta(
        &t,
        &path,
        b2.as_bytes(),
        Some(&whatsapp::sign(whatsapp::APP_SECRET, b2.as_bytes())),
    )
    .await;
    assert_eq!(
        r.status,
        403,
        "the old secret no longer works: {}",
        r.text()
    );
    let r = post_meta(
        &t,
        &path,
        b2.as_bytes(),
        Some(&whatsapp::sign("rotated-secret", b2.as_bytes())),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        t.admin
            .delete(&format!("/api/v1/channels/{ch}"))
            .await
            .status,
        204
    );
    let b3 = hook(3);
    let r = post_meta(
        &t,
        &path,
        b3.as_bytes(),
        Some(&whatsapp::sign("rotated-secret", b3.as_bytes())),
    )
    .await;
    assert_eq!(r.status, 404, "deleted channel: {}", r.text());
    t.stop().await;
}

/// A customer who changes their WhatsApp profile name: the contact is renamed (unless an agent
/// named it) and open inboxes hear about it at once.
#[tokio::test]
async fn a_new_profile_name_renames_the_contact_live() {
    let t = TestServer::start().await;
    let wa = whatsapp::FakeWhatsApp::start().await;
    let ch = whatsapp_channel(&t, &wa).await;
    let path = format!("/hooks/whatsapp/{ch}");
    let send = |name: &'static str, id: &'static str| {
        let body = whatsapp::text_webhook(whatsapp::PHONE_NUMBER_ID, CUSTOMER, name, id, "hi", 1);
        let sig = whatsapp::sign(whatsapp::APP_SECRET, body.as_bytes());
        (body, sig)
    };
    let (b, s) = send("Old Name", "wamid.PN1");
    assert_eq!(
        post_meta(&t, &path, b.as_bytes(), Some(&s)).await.status,
        200
    );
    let mut sse = EventStream::open(&t.admin).await;
    let (b, s) = send("New Name", "wamid.PN2");
    assert_eq!(
        post_meta(&t, &path, b.as_bytes(), Some(&s)).await.status,
        200
    );
    let update = sse.next_of_kind("contact.updated").await;
    assert!(update.json.to_string().contains("New Name"), "{update:?}");
    t.stop().await;
}
