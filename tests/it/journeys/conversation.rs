//! Journeys of the conversation view and the composer (JOURNEYS.md B1–B4, B8, B9, B12 and two
//! agents on one customer): everything the agent does is clicked; customers and providers are
//! the fakes.

use serde_json::json;

use crate::browser::{keys, skip};
use crate::fakes::Fault;
use crate::fakes::whatsapp::{self, FakeWhatsApp};
use crate::journeys::{Journey, Viewport};
use crate::support::read::wait_for;
use crate::support::{EventStream, Visitor, customer, setup};

/// B4: more than 24 hours after the customer's last message the composer offers templates;
/// choosing one shows a field for each parameter and a preview; a missing or over-long
/// parameter is refused beside the fields (nothing sent); then it is sent and shown.
#[tokio::test]
async fn journey_b4_template_with_parameters() {
    b4_template_with_parameters(Viewport::Desktop).await;
}

/// The same on a phone (390 × 844): nothing sideways at any screenshot.
#[tokio::test]
async fn journey_b4_template_with_parameters_phone() {
    b4_template_with_parameters(Viewport::Phone).await;
}

async fn b4_template_with_parameters(vp: Viewport) {
    if skip() {
        return;
    }
    let j = Journey::start("b4_template_with_parameters").await;
    let wa = FakeWhatsApp::start().await;
    let ch = setup::whatsapp_channel(&j.t, &wa).await;
    let r =
        j.t.admin
            .post(
                "/api/v1/templates",
                json!({"name": "order_ready", "language": "en",
                "body": "Hello {{1}}, your order {{2}} is ready."}),
            )
            .await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["params"], 2);
    let m = customer::whatsapp(&j.t, ch, "4915112345678", "Jonas Weber", "Any news?").await;
    j.t.clock.advance_hours(25);

    let admin = j.browser().viewport(vp).login("admin").await;
    admin
        .open(&format!("/chat/external/{}", m.session_id))
        .await;
    admin.see("Any news?").await;
    admin.select("#template-select", "order_ready (en)").await;
    admin.wait_count(".tpl-params input", 2).await;
    admin.see("Hello {{1}}, your order {{2}} is ready.").await;

    // Nothing filled in: refused beside the fields.
    admin.click_text("Send template").await;
    admin
        .wait_text("#composer-error", "Parameter 1 is missing")
        .await;
    // One over-long parameter: refused too.
    admin.fill("Parameter {{1}}", "Jonas").await;
    admin.fill("Parameter {{2}}", &"x".repeat(1025)).await;
    admin.click_text("Send template").await;
    admin
        .wait_text("#composer-error", "Parameter 2 is too long")
        .await;
    let sends = |wa: &FakeWhatsApp| {
        wa.accepted()
            .into_iter()
            .filter(|b| b["type"] == "template")
            .collect::<Vec<_>>()
    };
    assert!(sends(&wa).is_empty(), "nothing is sent for bad input");

    admin.fill("Parameter {{2}}", "A-1042").await;
    admin
        .wait_text(
            "#template-preview",
            "Hello Jonas, your order A-1042 is ready.",
        )
        .await;
    admin.click_text("Send template").await;
    admin
        .wait_text("#messages", "Hello Jonas, your order A-1042 is ready.")
        .await;
    let sent = wait_for("the template at the fake", || {
        let s = sends(&wa);
        async move { s.into_iter().next() }
    })
    .await;
    assert_eq!(sent["template"]["name"], "order_ready");
    let params = &sent["template"]["components"][0]["parameters"];
    assert_eq!(params[0]["text"], "Jonas", "{sent}");
    assert_eq!(params[1]["text"], "A-1042", "{sent}");
    // Sending the template answered the conversation: it is the admin's now.
    admin.wait_gone("button[data-action=pickup]").await;
    admin.screenshot().await;
    j.finish([admin]).await;
}

/// A real WhatsApp status receipt (the provider's signed webhook) for our reply `wamid`.
async fn wa_status(j: &Journey, ch: u64, wamid: &str, status: &str) {
    let body = whatsapp::status_webhook(
        whatsapp::PHONE_NUMBER_ID,
        wamid,
        status,
        "4915112345678",
        customer::now_secs(&j.t),
        None,
    );
    assert_eq!(customer::post_wa(&j.t, ch, &body).await.status, 200);
}

/// The provider's id of the newest reply in session `sid` (what its receipts refer to).
async fn newest_wamid(j: &Journey, sid: u64) -> String {
    wait_for("the reply's provider id", || async {
        let msgs =
            j.t.admin
                .get(&format!("/api/v1/sessions/{sid}/messages"))
                .await
                .json();
        msgs.as_array()?
            .iter()
            .rev()
            .find(|m| m["direction"] == "out")?["provider_id"]
            .as_str()
            .map(str::to_string)
    })
    .await
}

/// B2: a WhatsApp message arrives; a toast and the badge announce it; the agent opens it,
/// picks it up and replies with Enter; the ticks go sent → delivered → read.
#[tokio::test]
async fn journey_b2_answer_a_customer() {
    b2_answer_a_customer(Viewport::Desktop).await;
}

/// The same on a phone (390 × 844): nothing sideways at any screenshot.
#[tokio::test]
async fn journey_b2_answer_a_customer_phone() {
    b2_answer_a_customer(Viewport::Phone).await;
}

async fn b2_answer_a_customer(vp: Viewport) {
    if skip() {
        return;
    }
    let j = Journey::start("b2_answer_a_customer").await;
    let wa = FakeWhatsApp::start().await;
    let ch = setup::whatsapp_channel(&j.t, &wa).await;
    let admin = j.browser().viewport(vp).login("admin").await;
    admin.click_text("External").await;
    admin.wait_live().await;

    let m = customer::whatsapp(
        &j.t,
        ch,
        "4915112345678",
        "Jonas Weber",
        "Hi, is my order on its way?",
    )
    .await;
    let toast = admin.wait_toast("Jonas Weber").await;
    assert!(toast.contains("New customer waiting"), "{toast}");
    admin.wait_text("#unread-external", "1").await;
    admin.click_text("Jonas Weber").await;
    admin.see("Hi, is my order on its way?").await;
    admin.click_text("Pick up").await;
    admin.wait_gone("[data-action=pickup]").await;
    admin
        .type_in("#composer-text", &format!("It ships today!{}", keys::ENTER))
        .await;
    admin.wait_text("#messages", "It ships today!").await;
    admin.el(".msg.out .tick.sent").await;
    let wamid = newest_wamid(&j, m.session_id).await;
    wa_status(&j, ch, &wamid, "delivered").await;
    admin.el(".msg.out .tick.delivered").await;
    wa_status(&j, ch, &wamid, "read").await;
    admin.el(".msg.out .tick.read").await;
    admin.wait_gone("#unread-external:not([hidden])").await;
    admin.screenshot().await;
    j.finish([admin]).await;
}

fn png(w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, y| image::Rgb([x as u8, y as u8, 120]));
    let mut out = Vec::new();
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    out
}

/// B3: a `/shortcut` canned reply, an emoji, a file with a progress bar; the image shows
/// inline and the newest message (the image) is scrolled into view.
#[tokio::test]
async fn journey_b3_reply_richly() {
    b3_reply_richly(Viewport::Desktop).await;
}

/// The same on a phone (390 × 844): nothing sideways at any screenshot.
#[tokio::test]
async fn journey_b3_reply_richly_phone() {
    b3_reply_richly(Viewport::Phone).await;
}

async fn b3_reply_richly(vp: Viewport) {
    if skip() {
        return;
    }
    let j = Journey::start("b3_reply_richly").await;
    let wa = FakeWhatsApp::start().await;
    let ch = setup::whatsapp_channel(&j.t, &wa).await;
    let r =
        j.t.admin
            .post(
                "/api/v1/canned",
                json!({"shortcut": "hours", "text": "We are open Monday to Friday, 9 to 17."}),
            )
            .await;
    assert_eq!(r.status, 201, "{}", r.text());
    // A long conversation, so the newest message is far below the first.
    let mut m = None;
    for i in 0..25 {
        m = Some(
            customer::whatsapp(
                &j.t,
                ch,
                "4915112345678",
                "Jonas Weber",
                &format!("question {i}"),
            )
            .await,
        );
    }
    let sid = m.unwrap().session_id;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("parcel.png");
    std::fs::write(&path, png(800, 600)).unwrap();

    let admin = j.browser().viewport(vp).login("admin").await;
    admin.open(&format!("/chat/external/{sid}")).await;
    admin.see("question 24").await;
    admin.type_in("#composer-text", "/hou").await;
    admin.wait_text("#canned-pop", "/hours").await;
    admin.type_in("#composer-text", keys::ENTER).await;
    assert_eq!(
        admin.value("#composer-text").await,
        "We are open Monday to Friday, 9 to 17."
    );
    admin.type_in("#composer-text", " ").await;
    admin.click_text("Emoji").await;
    admin.click_text("👍").await;
    admin.type_in("#composer-text", keys::ENTER).await;
    admin
        .wait_text("#messages", "We are open Monday to Friday, 9 to 17. 👍")
        .await;

    // The attach button's file input (a person picks the file in the browser's dialog). A
    // local upload is quick: note whether its progress bar was ever shown.
    admin
        .js("window.__sawBar = false; new MutationObserver(() => { \
               if (document.querySelector('.chip .bar')) window.__sawBar = true; \
             }).observe(document.body, { childList: true, subtree: true }); return true;")
        .await;
    admin
        .el("#attach-input")
        .await
        .send_keys(path.to_str().unwrap())
        .await
        .unwrap();
    admin.el(".chip.done[data-progress=\"100\"]").await;
    assert_eq!(
        admin.js("return window.__sawBar").await,
        json!(true),
        "a progress bar"
    );
    admin.click_text("Send").await;
    admin.el(".msg.out .file.thumb img").await;
    // The newest message is the image; once it has loaded it is in view.
    let state = "const all = document.querySelectorAll('#messages .msg'); \
         const last = all[all.length - 1]; const i = last && last.querySelector('.file.thumb img'); \
         const b = document.getElementById('messages'); \
         return { img: !!i, loaded: !!(i && i.complete && i.naturalWidth > 0), \
                  gap: b.scrollHeight - b.scrollTop - b.clientHeight };";
    let mut seen = json!(null);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(45);
    while std::time::Instant::now() < deadline {
        seen = admin.js(state).await;
        if seen["loaded"] == true && seen["gap"].as_f64().is_some_and(|g| g < 4.0) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert!(
        seen["loaded"] == true && seen["gap"].as_f64().is_some_and(|g| g < 4.0),
        "the newest message (the image) is loaded and in view: {seen}"
    );
    wait_for("the image at the fake", || {
        let sent = wa.accepted().into_iter().find(|b| b["type"] == "image");
        async move { sent }
    })
    .await;
    admin.screenshot().await;
    j.finish([admin]).await;
}

/// B1: the inbox shows a visible "Turn on alerts" button while sound is locked (browsers keep
/// audio silent until a click) or notifications are not allowed; one click unlocks audio,
/// asks the browser, saves both in the settings, and the prompt goes.
#[tokio::test]
async fn journey_b1_one_click_turns_on_alerts() {
    if skip() {
        return;
    }
    let j = Journey::start("b1_one_click_turns_on_alerts").await;
    let (_, _) = j.t.user("anna", "agent").await;
    let anna = j.browser().open().await;
    // The browser's permission prompt, answered "Allow" (headless Chromium has no prompt).
    anna.before_page_scripts(
        "(() => { let p = 'default'; \
           Object.defineProperty(Notification, 'permission', { get: () => p, configurable: true }); \
           Notification.requestPermission = () => { p = 'granted'; return Promise.resolve(p); }; })();",
    )
    .await;
    anna.login("anna", crate::support::PASSWORD).await;
    anna.click_text("External").await;
    anna.see("Sound and desktop notifications are off.").await;
    anna.click_text("Turn on alerts").await;
    anna.see("Sound and desktop notifications are on.").await;
    anna.wait_js(
        "document.getElementById('alerts-on').hidden === true",
        "the button goes",
    )
    .await;
    let me = wait_for("the saved settings", || async {
        let me = j.t.admin.get("/api/v1/users").await.json();
        let anna = me
            .as_array()?
            .iter()
            .find(|u| u["username"] == "anna")?
            .clone();
        (anna["notify"]["sound"] == true && anna["notify"]["desktop"] == true).then_some(anna)
    })
    .await;
    assert_eq!(me["notify"]["sound"], true);
    anna.screenshot().await;
    // After a reload the prompt stays away only while audio is unlocked: it asks again for
    // the click browsers need, but the settings stay on.
    j.finish([anna]).await;
}

/// A WhatsApp channel (manual queue) with anna and ben as members; a customer has written.
async fn two_agents(j: &Journey, wa: &FakeWhatsApp) -> (u64, u64, u64) {
    let (ch, anna, _) = setup::whatsapp_channel_for_anna_and_ben(&j.t, wa).await;
    let m = customer::whatsapp(
        &j.t,
        ch,
        "4915112345678",
        "Jonas Weber",
        "Where is my parcel?",
    )
    .await;
    (ch, m.session_id, anna)
}

/// Two agents, one customer (docs/inbox.md): in a manual queue the first reply makes the
/// replier the owner (Pick up goes); the colleague sees who owns it, is not offered Transfer,
/// Pick up or End chat, and a reply from them is sent only after confirming.
#[tokio::test]
async fn journey_b2_two_agents_one_customer() {
    if skip() {
        return;
    }
    let j = Journey::start("b2_two_agents_one_customer").await;
    let wa = FakeWhatsApp::start().await;
    let (_, sid, anna_id) = two_agents(&j, &wa).await;
    let anna = j.login("anna").await;
    // Ben works on his phone.
    let ben = j.browser().phone().login("ben").await;
    let url = format!("/chat/external/{sid}");

    anna.open(&url).await;
    anna.see("Where is my parcel?").await;
    anna.el("[data-action=pickup]").await;
    anna.type_in("#composer-text", &format!("Let me check.{}", keys::ENTER))
        .await;
    anna.wait_text("#messages", "Let me check.").await;
    // Replying picked it up.
    anna.wait_gone("[data-action=pickup]").await;
    anna.wait_text(".s-sub", "Owner: You").await;
    anna.el("[data-action=transfer]").await;
    anna.el("[data-action=end]").await;

    ben.open(&url).await;
    ben.wait_text(".s-sub", "Owner: anna").await;
    ben.wait_text("#owner-note", "anna owns this conversation")
        .await;
    ben.assert_absent("[data-action=pickup]").await;
    ben.assert_absent("[data-action=transfer]").await;
    ben.assert_absent("[data-action=end]").await;
    ben.type_in("#composer-text", &format!("I can help too.{}", keys::ENTER))
        .await;
    ben.wait_text(".confirm-bar", "Send your reply anyway?")
        .await;
    assert_eq!(
        ben.count(".msg.out").await,
        1,
        "nothing sent before confirming"
    );
    let fits = "document.documentElement.scrollWidth <= window.innerWidth";
    assert_eq!(
        ben.js(&format!("return {fits}")).await,
        json!(true),
        "no sideways scrolling"
    );
    ben.click_text("Send anyway").await;
    ben.wait_text("#messages", "I can help too.").await;
    anna.wait_text("#messages", "I can help too.").await;
    let s =
        j.t.admin
            .get(&format!("/api/v1/sessions/{sid}"))
            .await
            .json();
    assert_eq!(s["session"]["assignee"], anna_id, "anna still owns it");
    ben.screenshot().await;
    j.finish([anna, ben]).await;
}

/// B8: anna transfers the conversation to ben with a note; ben gets a toast naming her and
/// the customer, and sees the note in the conversation itself; ben hands it back to the queue.
#[tokio::test]
async fn journey_b8_hand_over() {
    b8_hand_over(Viewport::Desktop).await;
}

/// The same on a phone (390 × 844): nothing sideways at any screenshot.
#[tokio::test]
async fn journey_b8_hand_over_phone() {
    b8_hand_over(Viewport::Phone).await;
}

async fn b8_hand_over(vp: Viewport) {
    if skip() {
        return;
    }
    let j = Journey::start("b8_hand_over").await;
    let wa = FakeWhatsApp::start().await;
    let (_, sid, _) = two_agents(&j, &wa).await;
    let anna = j.browser().viewport(vp).login("anna").await;
    let ben = j.browser().viewport(vp).login("ben").await;
    ben.click_text("External").await;
    ben.wait_live().await;

    anna.open(&format!("/chat/external/{sid}")).await;
    anna.click_text("Pick up").await;
    anna.wait_gone("[data-action=pickup]").await;
    anna.header_action("Transfer").await;
    anna.select("#transfer-to", "ben").await;
    anna.type_in("#transfer-note", "VIP, wants a callback")
        .await;
    anna.click("dialog.dlg[open] button[type=submit]").await;
    anna.wait_gone("dialog.dlg[open]").await;
    anna.wait_text(".s-sub", "Owner: ben").await;
    anna.assert_absent("[data-action=transfer]").await;

    let toast = ben.wait_toast("transferred Jonas Weber to you").await;
    assert!(toast.contains("anna transferred"), "{toast}");
    assert!(toast.contains("VIP, wants a callback"), "{toast}");
    ben.click(".toast.transfer-toast").await;
    ben.wait_text(
        "#messages .activity[data-kind=transferred]",
        "VIP, wants a callback",
    )
    .await;
    let line = ben
        .wait_text("#messages .activity[data-kind=transferred]", "to ben")
        .await;
    assert!(!line.contains("user:"), "{line}");

    // Back to the queue.
    ben.header_action("Transfer").await;
    ben.select("#transfer-to", "Back to the queue").await;
    ben.type_in("#transfer-note", "Off tomorrow").await;
    ben.click("dialog.dlg[open] button[type=submit]").await;
    ben.wait_text(".s-sub", "Unassigned").await;
    ben.el("[data-action=pickup]").await;
    ben.wait_text("#messages", "to the queue: Off tomorrow")
        .await;
    ben.screenshot().await;
    if vp == Viewport::Desktop {
        // The same lines read in German by a German colleague: recorded as words, not as
        // English text.
        let de = j.browser().german().login("admin").await;
        de.open(&format!("/chat/external/{sid}")).await;
        de.wait_text("#messages", "an ben: VIP, wants a callback")
            .await;
        de.wait_text("#messages", "in die Warteschlange: Off tomorrow")
            .await;
        de.screenshot_step("timeline-in-german").await;
        de.close().await;
    }
    j.finish([anna, ben]).await;
}

/// B9: end the chat with a result picked from the admin's list (a select) and a note; the
/// actions carry visible labels; archive and unarchive.
#[tokio::test]
async fn journey_b9_finish() {
    b9_finish(Viewport::Desktop).await;
}

/// The same on a phone (390 × 844): nothing sideways at any screenshot.
#[tokio::test]
async fn journey_b9_finish_phone() {
    b9_finish(Viewport::Phone).await;
}

async fn b9_finish(vp: Viewport) {
    if skip() {
        return;
    }
    let j = Journey::start("b9_finish").await;
    let wa = FakeWhatsApp::start().await;
    let (_, sid, _) = two_agents(&j, &wa).await;
    let r =
        j.t.admin
            .put(
                "/api/v1/results",
                json!({"items": ["Resolved", "Sale", "Spam"]}),
            )
            .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let anna = j.browser().viewport(vp).login("anna").await;
    anna.open(&format!("/chat/external/{sid}")).await;
    anna.click_text("Pick up").await;
    anna.wait_gone("[data-action=pickup]").await;
    // The End chat action is labelled in words, not only an icon (on a phone, in the menu).
    if vp == Viewport::Desktop {
        let label = anna
            .js("return document.querySelector('[data-action=end] .act-label').offsetParent !== null")
            .await;
        assert_eq!(label, json!(true), "End chat shows its label");
    }
    anna.header_action("End chat").await;
    anna.select("#end-result", "Resolved").await;
    anna.type_in("#end-note", "Sent the tracking link").await;
    anna.click("dialog.dlg[open] button[type=submit]").await;
    anna.wait_text(".s-sub", "Closed · Resolved").await;
    anna.wait_text("#messages .activity[data-kind=closed]", "Chat ended")
        .await;
    anna.assert_absent("[data-action=end]").await;
    // The dialog closes once the refreshed pane is drawn; wait for it before the next click.
    anna.wait_gone("dialog.dlg[open]").await;
    anna.header_action("Archive").await;
    anna.el("[data-action=unarchive]").await;
    anna.header_action("Unarchive").await;
    anna.el("[data-action=archive]").await;
    let s =
        j.t.admin
            .get(&format!("/api/v1/sessions/{sid}"))
            .await
            .json();
    assert_eq!(s["session"]["result"], "Resolved");
    assert_eq!(s["session"]["close_note"], "Sent the tracking link");
    anna.screenshot().await;
    j.finish([anna]).await;
}

/// B12: the provider refuses a reply for a passing reason: "retrying (attempt n, next at …)"
/// with its reason; then it refuses for good: "failed" with the reason and a Retry button
/// that works.
#[tokio::test]
async fn journey_b12_see_a_failure() {
    b12_see_a_failure(Viewport::Desktop).await;
}

/// The same on a phone (390 × 844): nothing sideways at any screenshot.
#[tokio::test]
async fn journey_b12_see_a_failure_phone() {
    b12_see_a_failure(Viewport::Phone).await;
}

async fn b12_see_a_failure(vp: Viewport) {
    if skip() {
        return;
    }
    let j = Journey::start("b12_see_a_failure").await;
    let wa = FakeWhatsApp::start().await;
    let ch = setup::whatsapp_channel(&j.t, &wa).await;
    // The injected faults are for the send: no read-receipt or typing calls in between.
    let r =
        j.t.admin
            .patch(
                &format!("/api/v1/channels/{ch}"),
                json!({"read_receipts": false, "typing_indicator": false}),
            )
            .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let m = customer::whatsapp(&j.t, ch, "4915112345678", "Jonas Weber", "Hello?").await;
    let admin = j.browser().viewport(vp).login("admin").await;
    admin
        .open(&format!("/chat/external/{}", m.session_id))
        .await;
    admin.see("Hello?").await;
    // Busy: "try again in 10 minutes".
    wa.fail_next(
        1,
        Fault::RateLimited {
            retry_after_secs: 600,
        },
    );
    wa.fail_next(
        1,
        Fault::Reject {
            status: 400,
            body: r#"{"error":{"message":"(#131026) Message undeliverable","type":"OAuthException","code":131026,"error_data":{"details":"Receiver is incapable of receiving this message"}}}"#.into(),
        },
    );
    admin
        .type_in(
            "#composer-text",
            &format!("Your parcel is here.{}", keys::ENTER),
        )
        .await;
    let line = admin
        .wait_text(".msg.out .retrying", "Retrying (attempt 1")
        .await;
    assert!(line.contains("next at"), "{line}");
    admin.screenshot_step("retrying").await;
    // The next attempt is due: the provider now refuses for good.
    j.t.clock.advance_ms(601_000);
    let fail = admin.wait_text(".msg.out .fail", "Not delivered").await;
    assert!(fail.contains("131026"), "{fail}");
    admin.assert_absent(".msg.out .retrying").await;
    admin.click_text("Retry").await;
    admin.el(".msg.out .tick.sent").await;
    admin.assert_absent(".msg.out .fail").await;
    admin.screenshot().await;
    j.finish([admin]).await;
}

/// Live-chat typing both ways (D1, promised by the widget and the docs): the visitor's typing
/// shows under the agent's conversation; the agent's typing reaches the visitor's stream as
/// "admin is typing" (the widget's own page shows it; the visitor is played by its API).
#[tokio::test]
async fn journey_d1_typing_both_ways() {
    if skip() {
        return;
    }
    const SITE: &str = "https://shop.example";
    let j = Journey::start("d1_typing_both_ways").await;
    let ch = setup::livechat_channel(&j.t, &[SITE], false).await;
    let mut v = Visitor::new(&j.t, ch, Some(SITE));
    v.start("Vera Visitor", "").await;
    let sid = customer::livechat(&v, "Do you ship to Austria?")
        .await
        .session_id;
    let mut stream = EventStream::visitor(&j.t, &v, None).await;

    let admin = j.login("admin").await;
    admin.open(&format!("/chat/external/{sid}")).await;
    admin.see("Do you ship to Austria?").await;
    admin.wait_live().await;
    assert_eq!(v.post("/typing", json!({})).await.status, 204);
    admin
        .wait_text("#typing-line", "Vera Visitor is typing…")
        .await;
    admin.screenshot_step("visitor-typing").await;

    admin.type_in("#composer-text", "Yes, we").await;
    let ev = stream.until(|e| e.kind() == "typing").await.pop().unwrap();
    assert!(
        !ev.data()["name"].as_str().unwrap_or("").is_empty(),
        "{ev:?}"
    );
    admin
        .type_in("#composer-text", &format!(" do!{}", keys::ENTER))
        .await;
    admin.wait_text("#messages", "Yes, we do!").await;
    customer::livechat(&v, "Great, thanks").await;
    admin.wait_text("#messages", "Great, thanks").await;
    admin
        .wait_js(
            "document.getElementById('typing-line').textContent === ''",
            "the typing line goes when the message arrives",
        )
        .await;
    admin.screenshot().await;
    j.finish([admin]).await;
}
