//! The agent inbox in headless Chromium: live arrival without reload, reply with ticks, receipts,
//! escaping, archive/unarchive, reply-window errors, SSE reconnect without gaps, transfer,
//! upload, and screenshots of the inbox and the session view (target/screenshots/).

use std::time::Duration;

use fantoccini::Locator;
use serde_json::json;
use switchboard::domain::messages::Status;

use crate::browser::{Browser, skip};
use crate::inbox_support::{ingest, set_status};
use crate::support::{PASSWORD, TestServer};

const ENTER: &str = "\u{E007}";
const SHIFT: &str = "\u{E008}";
const NULL: &str = "\u{E000}";

async fn count(b: &Browser, css: &str) -> usize {
    b.client
        .find_all(Locator::Css(css))
        .await
        .map(|v| v.len())
        .unwrap_or(0)
}

/// Waits until exactly `n` elements match `css` ([`crate::browser::PATIENCE`]).
async fn wait_count(b: &Browser, css: &str, n: usize) {
    let mut last = 0;
    let deadline = std::time::Instant::now() + crate::browser::PATIENCE;
    while std::time::Instant::now() < deadline {
        last = count(b, css).await;
        if last == n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{css}: wanted {n} elements, have {last}");
}

async fn js(b: &Browser, script: &str) -> serde_json::Value {
    b.client.execute(script, vec![]).await.unwrap()
}

/// Clicks `css`, finding it again if a live update replaced it in between.
async fn click(b: &Browser, css: &str) {
    let mut last = None;
    for _ in 0..20 {
        match b.el(css).await.click().await {
            Ok(_) => return,
            Err(e) => last = Some(e),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("cannot click {css}: {last:?}");
}

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
    let t = TestServer::start_with(crate::inbox_access::long_logins).await;
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
    ingest(
        &t,
        sms,
        "+4915209876543",
        Some("Petra Schulz"),
        "Can I move my appointment to Thursday?",
    )
    .await;
    let (s_fb, _) = ingest(
        &t,
        fb,
        "psid-77812",
        Some("Marco Rossi"),
        "Do you ship to Italy?",
    )
    .await;
    ingest(&t, lc, "visitor-19", None, "Hello? Is anyone there?").await;
    let (s_sms2, _) = ingest(&t, sms, "+4917612312312", None, "Thanks, received!").await;
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
    let (sid, _) = ingest(
        &t,
        wa,
        "4915112345678",
        Some("Jonas Weber"),
        "Hi! Is my order #4411 on its way?",
    )
    .await;
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
    ingest(&t, wa, "4915112345678", None, "It was due yesterday.").await;
    b.wait_text(&format!("li.srow[data-id=\"{sid}\"] .count"), "2")
        .await;
    b.screenshot("inbox").await;

    // Open it: history, then reply with Enter.
    click(&b, &format!("li.srow[data-id=\"{sid}\"] a")).await;
    b.wait_text("#messages", "It was due yesterday.").await;
    b.wait_for(
        |u| u.ends_with(&format!("/chat/external/{sid}")),
        "pushState to the session URL",
    )
    .await;
    wait_count(&b, &format!("li.srow.unread[data-id=\"{sid}\"]"), 0).await;
    let ta = b.el("#composer-text").await;
    ta.send_keys("Yes, it ships today ").await.unwrap();
    // An emoji from the picker, and Shift+Enter for a new line (not a send).
    click(&b, "#emoji-btn").await;
    click(&b, "#emoji-pop button:first-child").await;
    ta.send_keys(&format!("{SHIFT}{ENTER}{NULL}ETA Friday"))
        .await
        .unwrap();
    assert_eq!(count(&b, ".msg.out").await, 0, "Shift+Enter did not send");
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
    set_status(&t, mid, Status::Sent, None).await;
    b.el(".msg.out .tick.sent").await;
    set_status(&t, mid, Status::Delivered, None).await;
    b.el(".msg.out .tick.delivered").await;
    set_status(&t, mid, Status::Read, None).await;
    b.el(&format!(".msg.out[data-id=\"{mid}\"] .tick.read"))
        .await;

    // An internal note, and a failed message with its reason and a retry button.
    click(&b, "[data-action=note]").await;
    b.el(".composer-area.mode-note").await;
    let ta = b.el("#composer-text").await;
    ta.send_keys("Customer is a reseller – check discount.")
        .await
        .unwrap();
    ta.send_keys(ENTER).await.unwrap();
    b.wait_text(".msg.note .text", "check discount").await;
    click(&b, ".modes button[data-mode=reply]").await;
    let ta = b.el("#composer-text").await;
    ta.send_keys("Tracking: DHL 00340434").await.unwrap();
    ta.send_keys(ENTER).await.unwrap();
    b.wait_text(".msg.out:last-child .text", "Tracking").await;
    let failed = last_out(&t, sid).await;
    set_status(
        &t,
        failed,
        Status::Failed,
        Some("131047: Re-engagement message (more than 24 hours)"),
    )
    .await;
    b.wait_text(&format!(".msg[data-id=\"{failed}\"] .fail"), "131047")
        .await;
    ingest(&t, wa, "4915112345678", None, "Great, thank you 🙏").await;
    b.wait_text("#messages", "Great, thank you").await;
    click(&b, "[data-action=details]").await;
    b.wait_text("#details", "+49 30 1234567").await;
    b.screenshot("session").await;

    // Retry puts it back in the queue.
    click(&b, &format!(".msg[data-id=\"{failed}\"] .retry")).await;
    b.el(&format!(".msg[data-id=\"{failed}\"] .tick.queued"))
        .await;

    // Phone-sized: list and session are two views with a back button (details panel closed).
    b.client.set_window_size(390, 844).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    click(&b, ".details-x").await;
    wait_count(&b, ".show-details", 0).await;
    assert!(b.el("#composer-text").await.is_displayed().await.unwrap());
    assert!(!b.el(".list-pane").await.is_displayed().await.unwrap());
    b.screenshot("session-phone").await;
    click(&b, "#back").await;
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
    let (sid, _) = ingest(
        &t,
        wa,
        "4915100000001",
        Some("<b onmouseover=alert(2)>Eve</b>"),
        "first",
    )
    .await;
    let b = Browser::start().await;
    b.login(&t.base(), "anna", PASSWORD).await;
    b.goto(&format!("{}/chat/external/{sid}", t.base())).await;
    b.wait_text("#messages", "first").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let evil = "<img src=x onerror=alert(1)>";
    ingest(&t, wa, "4915100000001", None, evil).await;
    b.wait_text("#messages", evil).await;
    b.wait_text("#session-list", evil).await;
    b.wait_text(".s-name", "<b onmouseover=alert(2)>Eve</b>")
        .await;
    assert_eq!(
        count(&b, "img[src='x']").await,
        0,
        "no image element from user text"
    );
    assert_eq!(count(&b, ".s-name b, .srow-name b").await, 0);
    assert!(b.client.get_alert_text().await.is_err(), "no alert ran");
    // The server-rendered first paint is escaped too.
    b.goto(&format!("{}/chat/external/{sid}", t.base())).await;
    b.wait_text("#messages", evil).await;
    assert_eq!(count(&b, "img[src='x']").await, 0);
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
    let (sid, _) = ingest(&t, wa, "4915100000002", Some("Archie"), "please file this").await;
    let b = Browser::start().await;
    b.login(&t.base(), "anna", PASSWORD).await;
    b.goto(&format!("{}/chat/external/{sid}", t.base())).await;
    b.wait_text("#messages", "please file this").await;
    click(&b, "[data-action=archive]").await;
    b.el("[data-action=unarchive]").await;
    wait_count(&b, &format!("li.srow[data-id=\"{sid}\"]"), 0).await;
    let d = t.admin.get(&format!("/api/v1/sessions/{sid}")).await.json();
    assert_eq!(d["session"]["archived"], true);
    click(&b, "#scope-tabs a[data-scope=archived]").await;
    b.wait_text("#session-list", "Archie").await;
    click(&b, "[data-action=unarchive]").await;
    b.el("[data-action=archive]").await;
    wait_count(&b, &format!("li.srow[data-id=\"{sid}\"]"), 0).await;
    let d = t.admin.get(&format!("/api/v1/sessions/{sid}")).await.json();
    assert_eq!(d["session"]["archived"], false);
    click(&b, "#scope-tabs a[data-scope=all]").await;
    b.wait_text("#session-list", "Archie").await;
    // Pick up moves it to "Mine".
    click(&b, "[data-action=pickup]").await;
    wait_count(&b, "[data-action=pickup]", 0).await;
    click(&b, "#scope-tabs a[data-scope=mine]").await;
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
    let (sid, _) = ingest(&t, wa, "4915100000003", Some("Late Larry"), "hello").await;
    let b = Browser::start().await;
    b.login(&t.base(), "anna", PASSWORD).await;
    b.goto(&format!("{}/chat/external/{sid}", t.base())).await;
    b.wait_text("#messages", "hello").await;
    // The page still thinks the window is open; 25 hours pass.
    t.clock.advance_hours(25);
    let ta = b.el("#composer-text").await;
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
    assert_eq!(count(&b, "#composer-text").await, 0);
    b.close().await;
    t.stop().await;
}

#[tokio::test]
async fn sse_drop_and_reconnect_misses_nothing() {
    if skip() {
        return;
    }
    let Setup { t, wa, .. } = setup().await;
    let (sid, _) = ingest(&t, wa, "4915100000004", Some("Gap Gabi"), "before the drop").await;
    let b = Browser::start().await;
    b.login(&t.base(), "anna", PASSWORD).await;
    b.goto(&format!("{}/chat/external/{sid}", t.base())).await;
    b.wait_text("#messages", "before the drop").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    js(&b, "SB.live.drop(3000)").await;
    assert!(
        b.el("#conn-state").await.is_displayed().await.unwrap(),
        "reconnecting… shown"
    );
    // Meanwhile: messages to the open session and a brand-new session.
    for i in 1..=5 {
        ingest(&t, wa, "4915100000004", None, &format!("gap-{i}")).await;
    }
    let (other, _) = ingest(&t, wa, "4915100000005", Some("New Nora"), "while offline").await;
    assert!(b.el("#conn-state").await.is_displayed().await.unwrap());
    b.wait_text("#messages", "gap-5").await;
    for i in 1..=5 {
        b.wait_text("#messages", &format!("gap-{i}")).await;
    }
    wait_count(&b, ".msg.in", 6).await;
    b.wait_text(&format!("li.srow[data-id=\"{other}\"]"), "New Nora")
        .await;
    wait_count(&b, "#conn-state[hidden]", 1).await;
    let seq = js(&b, "return SB.live.seq").await;
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
        sid = ingest(
            &t,
            wa,
            "4915100000012",
            Some("Chatty Chris"),
            &format!("line {i}"),
        )
        .await
        .0;
    }
    let b = Browser::start().await;
    b.login(&t.base(), "anna", PASSWORD).await;
    b.goto(&format!("{}/chat/external/{sid}", t.base())).await;
    b.wait_text("#messages", "line 130").await;
    wait_count(&b, ".msg.in", 100).await;
    click(&b, "#earlier").await;
    wait_count(&b, ".msg.in", 130).await;
    b.wait_text("#messages", "line 1\n").await;
    assert_eq!(count(&b, "#earlier").await, 0, "no more pages");
    b.close().await;
    t.stop().await;
}

#[tokio::test]
async fn new_unassigned_session_alerts_until_picked_up_and_muted_ones_stay_quiet() {
    if skip() {
        return;
    }
    let Setup { t, wa, .. } = setup().await;
    let (quiet, _) = ingest(&t, wa, "4915100000010", Some("Quiet Quentin"), "hello").await;
    let b = Browser::start().await;
    b.login(&t.base(), "anna", PASSWORD).await;
    b.goto(&format!("{}/settings", t.base())).await;
    b.el("#desktop-toggle").await;
    b.goto(&format!("{}/chat/external", t.base())).await;
    b.wait_text("#session-list", "Quiet Quentin").await;
    // Mute one session from its view.
    click(&b, &format!("li.srow[data-id=\"{quiet}\"] a")).await;
    click(&b, "[data-action=mute]").await;
    b.el("[data-action=mute][title=Unmute]").await;
    b.goto(&format!("{}/chat/external", t.base())).await;
    b.wait_text("#session-list", "Quiet Quentin").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = js(&b, "return SB.notify.alerts").await.as_u64().unwrap();
    ingest(&t, wa, "4915100000010", None, "are you there?").await;
    b.el(&format!("li.srow[data-id=\"{quiet}\"] .dot")).await;
    assert_eq!(
        count(&b, &format!("li.srow[data-id=\"{quiet}\"] .count")).await,
        0
    );
    assert_eq!(
        js(&b, "return SB.notify.alerts").await.as_u64().unwrap(),
        before,
        "a muted session does not alert"
    );
    // A new unassigned session alerts (pop-up) and keeps repeating until someone picks it up.
    let (new, _) = ingest(
        &t,
        wa,
        "4915100000011",
        Some("Urgent Ursula"),
        "need help now",
    )
    .await;
    b.wait_text("#toasts", "Urgent Ursula").await;
    let deadline = std::time::Instant::now() + crate::browser::PATIENCE;
    while std::time::Instant::now() < deadline {
        let r = js(&b, "return SB.notify.repeatingFor()").await;
        if r.as_array()
            .unwrap()
            .iter()
            .any(|v| v.as_u64() == Some(new))
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let r = js(&b, "return SB.notify.repeatingFor()").await;
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
        let r = js(&b, "return SB.notify.repeatingFor()").await;
        if r.as_array().unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(js(&b, "return SB.notify.repeatingFor()").await, json!([]));
    b.close().await;
    t.stop().await;
}

#[tokio::test]
async fn fake_whatsapp_webhook_reaches_the_open_inbox_and_reply_is_delivered() {
    use crate::fakes::whatsapp::{self as wa_fake, self as webhooks, FakeWhatsApp};
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
    let now = t.state().now() / 1000;
    let body = webhooks::text_webhook(
        wa_fake::PHONE_NUMBER_ID,
        "4915112345678",
        "Jonas",
        "wamid.IN1",
        "Hallo from WhatsApp",
        now,
    );
    let r = reqwest::Client::new()
        .post(format!("{}/hooks/whatsapp/{cid}", t.base()))
        .header("content-type", "application/json")
        .header(
            "x-hub-signature-256",
            webhooks::sign(wa_fake::APP_SECRET, body.as_bytes()),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    b.wait_text("#session-list", "Jonas").await;
    click(&b, "#session-list li.srow a").await;
    b.wait_text("#messages", "Hallo from WhatsApp").await;
    let ta = b.el("#composer-text").await;
    ta.send_keys("Hi Jonas").await.unwrap();
    ta.send_keys(ENTER).await.unwrap();
    let deadline = std::time::Instant::now() + crate::browser::PATIENCE;
    while std::time::Instant::now() < deadline {
        if !fake.accepted().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let sid0 = t.admin.get("/api/v1/sessions").await.json()["sessions"][0]["id"]
        .as_u64()
        .unwrap();
    let dbg = t
        .admin
        .get(&format!("/api/v1/sessions/{sid0}/messages"))
        .await
        .text();
    assert!(
        !fake.accepted().is_empty(),
        "the fake received the reply: {dbg} / {:?}",
        fake.requests()
            .iter()
            .map(|r| r.path().to_string())
            .collect::<Vec<_>>()
    );
    b.el(".msg.out .tick.sent").await;
    let sid = t.admin.get("/api/v1/sessions").await.json()["sessions"][0]["id"]
        .as_u64()
        .unwrap();
    let out = t
        .admin
        .get(&format!("/api/v1/sessions/{sid}/messages"))
        .await
        .json();
    let wamid = out
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|m| m["direction"] == "out")
        .and_then(|m| m["provider_id"].as_str())
        .expect("provider id of the reply")
        .to_string();
    let body = webhooks::status_webhook(
        wa_fake::PHONE_NUMBER_ID,
        &wamid,
        "read",
        "4915112345678",
        now + 5,
        None,
    );
    reqwest::Client::new()
        .post(format!("{}/hooks/whatsapp/{cid}", t.base()))
        .header("content-type", "application/json")
        .header(
            "x-hub-signature-256",
            webhooks::sign(wa_fake::APP_SECRET, body.as_bytes()),
        )
        .body(body)
        .send()
        .await
        .unwrap();
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
    let (sid, _) = ingest(
        &t,
        wa,
        "4915100000006",
        Some("Ida Image"),
        "send me a photo",
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("photo.png");
    std::fs::write(&path, tiny_png()).unwrap();
    let b = Browser::start().await;
    b.login(&t.base(), "anna", PASSWORD).await;
    b.goto(&format!("{}/chat/external/{sid}", t.base())).await;
    b.wait_text("#messages", "send me a photo").await;
    js(&b, "document.getElementById('attach-input').hidden = false").await;
    b.el("#attach-input")
        .await
        .send_keys(path.to_str().unwrap())
        .await
        .unwrap();
    b.el(".chip.done[data-progress=\"100\"]").await;
    click(&b, "#send-btn").await;
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
                members: Some(vec![agent_id, ben_id]),
                ..Default::default()
            };
            switchboard::domain::channels::update_in(ctx, admin, wa, &input)
        })
        .await
        .unwrap();
    let (sid, _) = ingest(
        &t,
        wa,
        "4915100000007",
        Some("Theo Transfer"),
        "I need the billing team",
    )
    .await;
    let b = Browser::start().await;
    b.login(&t.base(), "anna", PASSWORD).await;
    b.goto(&format!("{}/chat/external/{sid}", t.base())).await;
    b.wait_text("#messages", "billing team").await;
    click(&b, "[data-action=transfer]").await;
    let sel = b.el("#transfer-to").await;
    sel.select_by_label("ben").await.unwrap();
    b.el("#transfer-note")
        .await
        .send_keys("VIP customer, invoice 2024-118")
        .await
        .unwrap();
    click(&b, "dialog.dlg button[type=submit]").await;
    wait_count(&b, "dialog.dlg", 0).await;
    b.close().await;

    let b2 = Browser::start().await;
    b2.login(&t.base(), "ben", PASSWORD).await;
    b2.goto(&format!("{}/chat/external?scope=mine", t.base()))
        .await;
    b2.wait_text("#session-list", "Theo Transfer").await;
    click(&b2, "#session-list li.srow a").await;
    b2.wait_text("#messages", "billing team").await;
    click(&b2, "[data-action=details]").await;
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
    let (sid, _) = ingest(
        &t,
        wa,
        "4915100000042",
        Some("Carla Canned"),
        "When are you open?",
    )
    .await;
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
