//! The agent inbox in headless Chromium: live arrival without reload, reply with ticks, receipts,
//! escaping, archive/unarchive, reply-window errors, SSE reconnect without gaps, transfer,
//! upload, and screenshots of the inbox and the session view (target/screenshots/).

use std::time::Duration;
use switchboard::ids::ChannelId;
use switchboard::ids::UserId;

use serde_json::json;
use switchboard::domain::messages::Status;

use crate::browser::keys::{ENTER, NULL, SHIFT};
use crate::browser::{Browser, skip};
use crate::support::customer::{receipt, writes};
use crate::support::{PASSWORD, TestServer};

/// The newest outbound message of a session (via the API).
async fn last_out(t: &TestServer, sid: u64) -> u64 {
    let msgs = t
        .admin
        .get(&format!("/api/v1/sessions/{sid}/messages"))
        .await
        .json();
    msgs.as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|m| m["direction"] == "out")
        .and_then(|m| m["id"].as_u64())
        .expect("an outbound message")
}

struct Setup {
    t: TestServer,
    agent_id: u64,
    wa: u64,
}

async fn setup() -> Setup {
    let t = TestServer::builder().long_logins().start().await;
    let (agent_id, _) = t.user("anna", "agent").await;
    let wa = t
        .channel(json!({"kind": "whatsapp", "name": "WhatsApp Sales", "business_address": "+49 30 1234567", "members": [agent_id]}))
        .await;
    Setup { t, agent_id, wa }
}

#[tokio::test]
async fn inbound_appears_live_reply_ticks_to_read_and_screenshots() {
    if skip() {
        return;
    }
    let Setup { t, agent_id, wa } = setup().await;
    let sms = t
        .channel(json!({"kind": "sms", "name": "SMS Office", "business_address": "+49 30 555000", "members": [agent_id]}))
        .await;
    let fb = t
        .channel(json!({"kind": "messenger", "name": "Facebook", "members": [agent_id]}))
        .await;
    let lc = t
        .channel(json!({"kind": "livechat", "name": "Website", "members": [agent_id]}))
        .await;
    // Some earlier conversations so the list looks like a working day.
    writes(
        &t,
        sms,
        "+4915209876543",
        Some("Petra Schulz"),
        "Can I move my appointment to Thursday?",
    )
    .await;
    let s_fb = writes(
        &t,
        fb,
        "psid-77812",
        Some("Marco Rossi"),
        "Do you ship to Italy?",
    )
    .await
    .session_id;
    writes(&t, lc, "visitor-19", None, "Hello? Is anyone there?").await;
    let s_sms2 = writes(&t, sms, "+4917612312312", None, "Thanks, received!")
        .await
        .session_id;
    t.admin
        .post(&format!("/api/v1/sessions/{s_sms2}/read"), json!({}))
        .await;
    t.admin
        .post(&format!("/api/v1/sessions/{s_fb}/pickup"), json!({}))
        .await;

    let b = Browser::start().await;
    b.login(&t.base(), "anna", PASSWORD).await;
    b.goto(&format!("{}/chat/external", t.base())).await;
    b.wait_text("#session-list", "Petra Schulz").await;
    // Wait until the stream is connected (the page asked for it with its rendered seq).
    b.wait_text("#session-list", "Marco Rossi").await;
    tokio::time::sleep(Duration::from_millis(500)).await;

    // A customer writes: the session appears on top without a reload, unread and counted.
    let sid = writes(
        &t,
        wa,
        "4915112345678",
        Some("Jonas Weber"),
        "Hi! Is my order #4411 on its way?",
    )
    .await
    .session_id;
    b.wait_text("#session-list li.srow:first-child", "Jonas Weber")
        .await;
    b.el(&format!("li.srow.unread[data-id=\"{sid}\"] .count"))
        .await;
    b.el("#unread-external:not([hidden])").await;
    let title = b.client.title().await.unwrap();
    assert!(
        title.starts_with('('),
        "unread total in the tab title: {title}"
    );
    writes(&t, wa, "4915112345678", None, "It was due yesterday.").await;
    b.wait_text(&format!("li.srow[data-id=\"{sid}\"] .count"), "2")
        .await;
    b.screenshot("inbox").await;

    // Open it: history, then reply with Enter.
    b.click(&format!("li.srow[data-id=\"{sid}\"] a")).await;
    b.wait_text("#messages", "It was due yesterday.").await;
    b.wait_for(
        |u| u.ends_with(&format!("/chat/external/{sid}")),
        "pushState to the session URL",
    )
    .await;
    b.wait_count(&format!("li.srow.unread[data-id=\"{sid}\"]"), 0)
        .await;
    let ta = b.el("#composer-text").await;
    ta.send_keys("Yes, it ships today ").await.unwrap();
    // An emoji from the picker, and Shift+Enter for a new line (not a send).
    b.click("#emoji-btn").await;
    b.click("#emoji-pop button:first-child").await;
    ta.send_keys(&format!("{SHIFT}{ENTER}{NULL}ETA Friday"))
        .await
        .unwrap();
    assert_eq!(b.count(".msg.out").await, 0, "Shift+Enter did not send");
    ta.send_keys(ENTER).await.unwrap();
    b.wait_text(".msg.out .text", "Yes, it ships today 😀\nETA Friday")
        .await;
    b.el(".msg.out .tick.queued").await;
    assert_eq!(
        b.el("#composer-text")
            .await
            .prop("value")
            .await
            .unwrap()
            .as_deref(),
        Some("")
    );
    let mid = last_out(&t, sid).await;
    receipt(&t, mid, Status::Sent, None).await;
    b.el(".msg.out .tick.sent").await;
    receipt(&t, mid, Status::Delivered, None).await;
    b.el(".msg.out .tick.delivered").await;
    receipt(&t, mid, Status::Read, None).await;
    b.el(&format!(".msg.out[data-id=\"{mid}\"] .tick.read"))
        .await;

    // An internal note, and a failed message with its reason and a retry button.
    b.click("[data-action=note]").await;
    b.el(".composer-area.mode-note").await;
    let ta = b.el("#composer-text").await;
    ta.send_keys("Customer is a reseller – check discount.")
        .await
        .unwrap();
    ta.send_keys(ENTER).await.unwrap();
    b.wait_text(".msg.note .text", "check discount").await;
    b.click(".modes button[data-mode=reply]").await;
    let ta = b.el("#composer-text").await;
    ta.send_keys("Tracking: DHL 00340434").await.unwrap();
    ta.send_keys(ENTER).await.unwrap();
    b.wait_text(".msg.out:last-child .text", "Tracking").await;
    let failed = last_out(&t, sid).await;
    receipt(
        &t,
        failed,
        Status::Failed,
        Some("131047: Re-engagement message (more than 24 hours)"),
    )
    .await;
    b.wait_text(&format!(".msg[data-id=\"{failed}\"] .fail"), "131047")
        .await;
    writes(&t, wa, "4915112345678", None, "Great, thank you 🙏").await;
    b.wait_text("#messages", "Great, thank you").await;
    b.click("[data-action=details]").await;
    b.wait_text("#details", "+49 30 1234567").await;
    b.screenshot("session").await;

    // Retry puts it back in the queue.
    b.click(&format!(".msg[data-id=\"{failed}\"] .retry")).await;
    b.el(&format!(".msg[data-id=\"{failed}\"] .tick.queued"))
        .await;

    // Phone-sized: list and session are two views with a back button (details panel closed).
    b.client.set_window_size(390, 844).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    b.click(".details-x").await;
    b.wait_count(".show-details", 0).await;
    assert!(b.el("#composer-text").await.is_displayed().await.unwrap());
    assert!(!b.el(".list-pane").await.is_displayed().await.unwrap());
    b.screenshot("session-phone").await;
    b.click("#back").await;
    b.wait_for(|u| u.ends_with("/chat/external"), "back to the list")
        .await;
    assert!(b.el(".list-pane").await.is_displayed().await.unwrap());
    b.screenshot("inbox-phone").await;
    b.close().await;
    t.stop().await;
}

#[tokio::test]
async fn hostile_message_bodies_render_as_text() {
    if skip() {
        return;
    }
    let Setup { t, wa, .. } = setup().await;
    let sid = writes(
        &t,
        wa,
        "4915100000001",
        Some("<b onmouseover=alert(2)>Eve</b>"),
        "first",
    )
    .await
    .session_id;
    let b = Browser::start().await;
    b.login(&t.base(), "anna", PASSWORD).await;
    b.goto(&format!("{}/chat/external/{sid}", t.base())).await;
    b.wait_text("#messages", "first").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let evil = "<img src=x onerror=alert(1)>";
    writes(&t, wa, "4915100000001", None, evil).await;
    b.wait_text("#messages", evil).await;
    b.wait_text("#session-list", evil).await;
    b.wait_text(".s-name", "<b onmouseover=alert(2)>Eve</b>")
        .await;
    assert_eq!(
        b.count("img[src='x']").await,
        0,
        "no image element from user text"
    );
    assert_eq!(b.count(".s-name b, .srow-name b").await, 0);
    assert!(b.client.get_alert_text().await.is_err(), "no alert ran");
    // The server-rendered first paint is escaped too.
    b.goto(&format!("{}/chat/external/{sid}", t.base())).await;
    b.wait_text("#messages", evil).await;
    assert_eq!(b.count("img[src='x']").await, 0);
    assert!(b.client.get_alert_text().await.is_err());
    b.close().await;
    t.stop().await;
}

#[tokio::test]
async fn archive_and_unarchive() {
    if skip() {
        return;
    }
    let Setup { t, wa, .. } = setup().await;
    let sid = writes(&t, wa, "4915100000002", Some("Archie"), "please file this")
        .await
        .session_id;
    let b = Browser::start().await;
    b.login(&t.base(), "anna", PASSWORD).await;
    b.goto(&format!("{}/chat/external/{sid}", t.base())).await;
    b.wait_text("#messages", "please file this").await;
    b.click("[data-action=archive]").await;
    b.el("[data-action=unarchive]").await;
    b.wait_count(&format!("li.srow[data-id=\"{sid}\"]"), 0)
        .await;
    let d = t.admin.get(&format!("/api/v1/sessions/{sid}")).await.json();
    assert_eq!(d["session"]["archived"], true);
    b.click("#scope-tabs a[data-scope=archived]").await;
    b.wait_text("#session-list", "Archie").await;
    b.click("[data-action=unarchive]").await;
    b.el("[data-action=archive]").await;
    b.wait_count(&format!("li.srow[data-id=\"{sid}\"]"), 0)
        .await;
    let d = t.admin.get(&format!("/api/v1/sessions/{sid}")).await.json();
    assert_eq!(d["session"]["archived"], false);
    b.click("#scope-tabs a[data-scope=all]").await;
    b.wait_text("#session-list", "Archie").await;
    // Pick up moves it to "Mine".
    b.click("[data-action=pickup]").await;
    b.wait_count("[data-action=pickup]", 0).await;
    b.click("#scope-tabs a[data-scope=mine]").await;
    b.wait_text("#session-list", "Archie").await;
    b.close().await;
    t.stop().await;
}

#[tokio::test]
async fn reply_refused_by_the_window_is_explained_inline() {
    if skip() {
        return;
    }
    let Setup { t, wa, .. } = setup().await;
    let sid = writes(&t, wa, "4915100000003", Some("Late Larry"), "hello")
        .await
        .session_id;
    let b = Browser::start().await;
    b.login(&t.base(), "anna", PASSWORD).await;
    b.goto(&format!("{}/chat/external/{sid}", t.base())).await;
    b.wait_text("#messages", "hello").await;
    // The page's script has the conversation (window open) before time moves on.
    let ta = b.el("#composer-text").await;
    // The page still thinks the window is open; 25 hours pass.
    t.clock.advance_hours(25);
    ta.send_keys("sorry for the delay").await.unwrap();
    ta.send_keys(ENTER).await.unwrap();
    b.wait_text("#composer-error", "24-hour WhatsApp window is closed")
        .await;
    // The text is kept, and after a reload the composer offers templates instead.
    assert_eq!(
        b.el("#composer-text")
            .await
            .prop("value")
            .await
            .unwrap()
            .as_deref(),
        Some("sorry for the delay")
    );
    b.goto(&format!("{}/chat/external/{sid}", t.base())).await;
    b.wait_text("#window-note", "Send an approved template")
        .await;
    b.el("#templates").await;
    assert_eq!(b.count("#composer-text").await, 0);
    b.close().await;
    t.stop().await;
}

#[tokio::test]
async fn sse_drop_and_reconnect_misses_nothing() {
    if skip() {
        return;
    }
    let Setup { t, wa, .. } = setup().await;
    let sid = writes(&t, wa, "4915100000004", Some("Gap Gabi"), "before the drop")
        .await
        .session_id;
    let b = Browser::start().await;
    b.login(&t.base(), "anna", PASSWORD).await;
    b.goto(&format!("{}/chat/external/{sid}", t.base())).await;
    b.wait_text("#messages", "before the drop").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    b.js("SB.live.drop(3000)").await;
    assert!(
        b.el("#conn-state").await.is_displayed().await.unwrap(),
        "reconnecting… shown"
    );
    // Meanwhile: messages to the open session and a brand-new session.
    for i in 1..=5 {
        writes(&t, wa, "4915100000004", None, &format!("gap-{i}")).await;
    }
    let other = writes(&t, wa, "4915100000005", Some("New Nora"), "while offline")
        .await
        .session_id;
    assert!(b.el("#conn-state").await.is_displayed().await.unwrap());
    b.wait_text("#messages", "gap-5").await;
    for i in 1..=5 {
        b.wait_text("#messages", &format!("gap-{i}")).await;
    }
    b.wait_count(".msg.in", 6).await;
    b.wait_text(&format!("li.srow[data-id=\"{other}\"]"), "New Nora")
        .await;
    b.wait_count("#conn-state[hidden]", 1).await;
    let seq = b.js("return SB.live.seq").await;
    assert!(seq.as_u64().unwrap_or(0) > 0, "seq tracked: {seq}");
    b.close().await;
    t.stop().await;
}

#[tokio::test]
async fn long_history_loads_earlier_pages() {
    if skip() {
        return;
    }
    let Setup { t, wa, .. } = setup().await;
    let mut sid = 0;
    for i in 1..=130 {
        sid = writes(
            &t,
            wa,
            "4915100000012",
            Some("Chatty Chris"),
            &format!("line {i}"),
        )
        .await
        .session_id;
    }
    let b = Browser::start().await;
    b.login(&t.base(), "anna", PASSWORD).await;
    b.goto(&format!("{}/chat/external/{sid}", t.base())).await;
    b.wait_text("#messages", "line 130").await;
    // 50 per page: two more pages to reach the first line.
    b.wait_count(".msg.in", 50).await;
    b.click("#earlier").await;
    b.wait_count(".msg.in", 100).await;
    b.click("#earlier").await;
    b.wait_count(".msg.in", 130).await;
    b.wait_text("#messages", "line 1\n").await;
    assert_eq!(b.count("#earlier").await, 0, "no more pages");
    b.close().await;
    t.stop().await;
}

#[tokio::test]
async fn new_unassigned_session_alerts_until_picked_up_and_muted_ones_stay_quiet() {
    if skip() {
        return;
    }
    let Setup { t, wa, .. } = setup().await;
    let quiet = writes(&t, wa, "4915100000010", Some("Quiet Quentin"), "hello")
        .await
        .session_id;
    let b = Browser::start().await;
    b.login(&t.base(), "anna", PASSWORD).await;
    b.goto(&format!("{}/settings", t.base())).await;
    b.el("#desktop-toggle").await;
    b.goto(&format!("{}/chat/external", t.base())).await;
    b.wait_text("#session-list", "Quiet Quentin").await;
    // Mute one session from its view.
    b.click(&format!("li.srow[data-id=\"{quiet}\"] a")).await;
    b.click("[data-action=mute]").await;
    b.el("[data-action=mute][title=Unmute]").await;
    b.goto(&format!("{}/chat/external", t.base())).await;
    b.wait_text("#session-list", "Quiet Quentin").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = b.js("return SB.notify.alerts").await.as_u64().unwrap();
    writes(&t, wa, "4915100000010", None, "are you there?").await;
    b.el(&format!("li.srow[data-id=\"{quiet}\"] .dot")).await;
    assert_eq!(
        b.count(&format!("li.srow[data-id=\"{quiet}\"] .count"))
            .await,
        0
    );
    assert_eq!(
        b.js("return SB.notify.alerts").await.as_u64().unwrap(),
        before,
        "a muted session does not alert"
    );
    // A new unassigned session alerts (pop-up) and keeps repeating until someone picks it up.
    let new = writes(
        &t,
        wa,
        "4915100000011",
        Some("Urgent Ursula"),
        "need help now",
    )
    .await
    .session_id;
    b.wait_text("#toasts", "Urgent Ursula").await;
    let deadline = std::time::Instant::now() + crate::browser::PATIENCE;
    while std::time::Instant::now() < deadline {
        let r = b.js("return SB.notify.repeatingFor()").await;
        if r.as_array()
            .unwrap()
            .iter()
            .any(|v| v.as_u64() == Some(new))
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let r = b.js("return SB.notify.repeatingFor()").await;
    assert!(
        r.as_array()
            .unwrap()
            .iter()
            .any(|v| v.as_u64() == Some(new)),
        "{r}"
    );
    let title = b.client.title().await.unwrap();
    assert!(
        title.starts_with("(1)"),
        "muted unread not counted: {title}"
    );
    t.admin
        .post(&format!("/api/v1/sessions/{new}/pickup"), json!({}))
        .await;
    let deadline = std::time::Instant::now() + crate::browser::PATIENCE;
    while std::time::Instant::now() < deadline {
        let r = b.js("return SB.notify.repeatingFor()").await;
        if r.as_array().unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(b.js("return SB.notify.repeatingFor()").await, json!([]));
    b.close().await;
    t.stop().await;
}

#[tokio::test]
async fn fake_whatsapp_webhook_reaches_the_open_inbox_and_reply_is_delivered() {
    use crate::fakes::whatsapp::{self as wa_fake, FakeWhatsApp};
    use crate::support::customer::{self, now_secs, post_wa};
    use crate::support::read::{message, wait_for};
    if skip() {
        return;
    }
    let t = TestServer::start().await;
    let (agent_id, _) = t.user("anna", "agent").await;
    let fake = FakeWhatsApp::start().await;
    let cid = t
        .channel(json!({"kind": "whatsapp", "name": "WA", "members": [agent_id],
            "api_base": fake.base_url(),
            "credentials": {"phone_number_id": wa_fake::PHONE_NUMBER_ID, "access_token": wa_fake::TOKEN,
                            "app_secret": wa_fake::APP_SECRET, "verify_token": wa_fake::VERIFY_TOKEN}}))
        .await;
    let b = Browser::start().await;
    b.login(&t.base(), "anna", PASSWORD).await;
    b.goto(&format!("{}/chat/external", t.base())).await;
    b.el("#session-list").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    // The customer writes: a signed webhook from the (fake) Cloud API.
    let sid = customer::whatsapp(&t, cid, "4915112345678", "Jonas", "Hallo from WhatsApp")
        .await
        .session_id;
    b.wait_text("#session-list", "Jonas").await;
    b.click("#session-list li.srow a").await;
    b.wait_text("#messages", "Hallo from WhatsApp").await;
    let ta = b.el("#composer-text").await;
    ta.send_keys("Hi Jonas").await.unwrap();
    ta.send_keys(ENTER).await.unwrap();
    let _ = wait_for("the fake to receive the reply", || async {
        (!fake.accepted().is_empty()).then_some(())
    })
    .await;
    b.el(".msg.out .tick.sent").await;
    let wamid = message(&t, last_out(&t, sid).await).await["provider_id"]
        .as_str()
        .expect("provider id of the reply")
        .to_string();
    let body = wa_fake::status_webhook(
        wa_fake::PHONE_NUMBER_ID,
        &wamid,
        "read",
        "4915112345678",
        now_secs(&t) + 5,
        None,
    );
    assert_eq!(post_wa(&t, cid, &body).await.status, 200);
    b.el(".msg.out .tick.read").await;
    b.close().await;
    t.stop().await;
}

#[tokio::test]
async fn upload_an_image_with_progress() {
    if skip() {
        return;
    }
    let Setup { t, wa, .. } = setup().await;
    let sid = writes(
        &t,
        wa,
        "4915100000006",
        Some("Ida Image"),
        "send me a photo",
    )
    .await
    .session_id;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("photo.png");
    std::fs::write(&path, tiny_png()).unwrap();
    let b = Browser::start().await;
    b.login(&t.base(), "anna", PASSWORD).await;
    b.goto(&format!("{}/chat/external/{sid}", t.base())).await;
    b.wait_text("#messages", "send me a photo").await;
    b.el("#attach-input").await;
    b.js("document.getElementById('attach-input').hidden = false")
        .await;
    b.el("#attach-input")
        .await
        .send_keys(path.to_str().unwrap())
        .await
        .unwrap();
    b.el(".chip.done[data-progress=\"100\"]").await;
    b.click("#send-btn").await;
    b.el(".msg.out .file.thumb img").await;
    b.close().await;
    t.stop().await;
}

fn tiny_png() -> Vec<u8> {
    // 1x1 transparent PNG.
    base64::Engine::decode(
        &base64::engine::general_purpose::STANDARD,
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=",
    )
    .unwrap()
}

#[tokio::test]
async fn transfer_to_a_colleague_who_sees_history_and_note() {
    if skip() {
        return;
    }
    let Setup { t, wa, agent_id } = setup().await;
    let (ben_id, _) = t.user("ben", "agent").await;
    // The receiver must be able to see the channel: make ben a member too.
    let admin = t.admin_id;
    t.state()
        .store
        .write(move |ctx| {
            let input = switchboard::domain::channels::ChannelInput {
                members: Some(vec![UserId(agent_id), UserId(ben_id)]),
                ..Default::default()
            };
            switchboard::domain::channels::update_in(ctx, UserId(admin), ChannelId(wa), &input)
        })
        .await
        .unwrap();
    let sid = writes(
        &t,
        wa,
        "4915100000007",
        Some("Theo Transfer"),
        "I need the billing team",
    )
    .await
    .session_id;
    let b = Browser::start().await;
    b.login(&t.base(), "anna", PASSWORD).await;
    b.goto(&format!("{}/chat/external/{sid}", t.base())).await;
    b.wait_text("#messages", "billing team").await;
    b.click("[data-action=transfer]").await;
    let sel = b.el("#transfer-to").await;
    sel.select_by_label("ben").await.unwrap();
    b.el("#transfer-note")
        .await
        .send_keys("VIP customer, invoice 2024-118")
        .await
        .unwrap();
    b.click("dialog.dlg button[type=submit]").await;
    b.wait_count("dialog.dlg", 0).await;
    b.close().await;

    let b2 = Browser::start().await;
    b2.login(&t.base(), "ben", PASSWORD).await;
    b2.goto(&format!("{}/chat/external?scope=mine", t.base()))
        .await;
    b2.wait_text("#session-list", "Theo Transfer").await;
    b2.click("#session-list li.srow a").await;
    b2.wait_text("#messages", "billing team").await;
    b2.click("[data-action=details]").await;
    let all = format!(
        "{} {}",
        b2.el("#messages").await.text().await.unwrap(),
        b2.el("#details").await.text().await.unwrap()
    );
    assert!(all.contains("VIP customer, invoice 2024-118"), "{all}");
    b2.close().await;
    t.stop().await;
}

#[tokio::test]
async fn canned_reply_is_inserted_by_slash_shortcut() {
    if skip() {
        return;
    }
    let Setup { t, wa, .. } = setup().await;
    // A shared reply (admin) and a personal one of the agent.
    let r = t
        .admin
        .post(
            "/api/v1/canned",
            json!({"shortcut": "hours", "text": "We are open Mon-Fri 8-18.", "shared": true}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let sid = writes(
        &t,
        wa,
        "4915100000042",
        Some("Carla Canned"),
        "When are you open?",
    )
    .await
    .session_id;
    let b = Browser::start().await;
    b.login(&t.base(), "anna", PASSWORD).await;
    b.goto(&format!("{}/chat/external/{sid}", t.base())).await;
    b.wait_text("#messages", "When are you open?").await;
    let ta = b.el("#composer-text").await;
    ta.send_keys("/ho").await.unwrap();
    b.wait_text("#canned-pop", "We are open").await;
    ta.send_keys("\u{E007}").await.unwrap(); // Enter picks the highlighted reply
    let value = b
        .client
        .execute(
            "return document.getElementById('composer-text').value",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(value, json!("We are open Mon-Fri 8-18."));
    ta.send_keys("\u{E007}").await.unwrap(); // Enter again sends it
    b.wait_text("#messages .msg.out", "We are open Mon-Fri 8-18.")
        .await;
    b.close().await;
    t.stop().await;
}
