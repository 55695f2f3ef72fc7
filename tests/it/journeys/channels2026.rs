//! Journeys of the 2026 provider changes (issue 20): a WhatsApp user who hid their number
//! behind a username. Customers and Meta are the fakes, speaking the documented formats
//! (docs/providers.md §2.8); everything the agent does is clicked.

use serde_json::Value;

use crate::browser::{keys, skip};
use crate::fakes::whatsapp::{self, FakeWhatsApp};
use crate::journeys::{Journey, Viewport};
use crate::support::read::wait_for;
use crate::support::{customer, setup};

const OLD_ID: &str = "US.13491208655302741918";
const NEW_ID: &str = "US.20391208655302741999";

/// Meta posts a message of a username user (no `from`, only `from_user_id`).
async fn bsuid_writes(j: &Journey, ch: u64, user_id: &str, wamid: &str, text: &str) -> u16 {
    let body = whatsapp::bsuid_text_webhook(
        user_id,
        "sheena.n",
        "Sheena Nelson",
        None,
        wamid,
        text,
        customer::now_secs(&j.t),
    );
    customer::post_wa(&j.t, ch, &body).await.status
}

/// Sends the fake accepted that went to `recipient` (a BSUID), in order.
fn sends_to(wa: &FakeWhatsApp, recipient: &str) -> Vec<Value> {
    wa.accepted()
        .into_iter()
        .filter(|b| b["recipient"] == recipient)
        .collect()
}

/// W1: a customer without a visible number writes; the agent sees the name and the username
/// (never the opaque id), answers (sent to the user id with `recipient`), the customer's id
/// changes (`user_id_update`) and the conversation carries on under the new id; then the
/// agent blocks them and a further message is not stored.
#[tokio::test]
async fn journey_w1_username_customer_answered_moved_blocked() {
    w1(Viewport::Desktop).await;
}

/// The same on a German phone (390 × 844).
#[tokio::test]
async fn journey_w1_username_customer_answered_moved_blocked_phone() {
    w1(Viewport::Phone).await;
}

async fn w1(vp: Viewport) {
    if skip() {
        return;
    }
    let j = Journey::start("w1_username_customer").await;
    let wa = FakeWhatsApp::start().await;
    let ch = setup::whatsapp_channel(&j.t, &wa).await;
    let mut b = j.browser().viewport(vp);
    if vp == Viewport::Phone {
        b = b.german();
    }
    let admin = b.login("admin").await;
    let de = vp == Viewport::Phone;
    admin.open("/chat/external").await;
    admin.wait_live().await;

    assert_eq!(
        bsuid_writes(&j, ch, OLD_ID, "wamid.bsuid.1", "Hi, where is my parcel?").await,
        200
    );
    admin.wait_text("#session-list", "Sheena Nelson").await;
    admin.click_text("Sheena Nelson").await;
    admin.see("Hi, where is my parcel?").await;
    // The username in the header, not the user id.
    let head = admin.wait_text(".s-head", "@sheena.n").await;
    assert!(!head.contains(OLD_ID), "the opaque id is not shown: {head}");
    admin.click("[data-action=pickup]").await;
    admin.wait_gone("[data-action=pickup]").await;
    admin
        .type_in("#composer-text", &format!("It ships today!{}", keys::ENTER))
        .await;
    admin.wait_text("#messages", "It ships today!").await;
    let sent = wait_for("the reply at the fake, to the user id", || {
        let s = sends_to(&wa, OLD_ID);
        async move { s.into_iter().next() }
    })
    .await;
    assert_eq!(sent["recipient_type"], "individual", "{sent}");
    assert!(
        sent.get("to").is_none(),
        "no phone number to send to: {sent}"
    );
    assert_eq!(sent["text"]["body"], "It ships today!");

    // Sheena changes her number: Meta announces her new user id.
    let upd = whatsapp::user_id_update_webhook(
        whatsapp::PHONE_NUMBER_ID,
        OLD_ID,
        NEW_ID,
        None,
        customer::now_secs(&j.t),
    );
    assert_eq!(customer::post_wa(&j.t, ch, &upd).await.status, 200);
    assert_eq!(
        bsuid_writes(&j, ch, NEW_ID, "wamid.bsuid.2", "New phone, same me").await,
        200
    );
    // Same conversation, not a new customer.
    admin.wait_text("#messages", "New phone, same me").await;
    admin.wait_count("li.srow", 1).await;
    admin
        .type_in("#composer-text", &format!("Noted!{}", keys::ENTER))
        .await;
    let sent = wait_for("the second reply goes to the new id", || {
        let s = sends_to(&wa, NEW_ID);
        async move { s.into_iter().next() }
    })
    .await;
    assert_eq!(sent["text"]["body"], "Noted!");

    // Blocked: a further message is acknowledged and not stored.
    admin
        .header_action(if de { "Sperren" } else { "Block" })
        .await;
    admin.click("dialog .dlg-actions button.primary").await;
    admin.wait_gone("[data-action=block]").await;
    assert_eq!(
        bsuid_writes(&j, ch, NEW_ID, "wamid.bsuid.3", "spam spam").await,
        200
    );
    let blocks = j.t.admin.get("/api/v1/blocks").await.json();
    let list = blocks.as_array().expect("block list");
    assert_eq!(list.len(), 1, "{blocks}");
    assert_eq!(list[0]["contact"]["user_id"], NEW_ID, "{blocks}");
    assert_eq!(list[0]["contact"]["username"], "sheena.n", "{blocks}");
    admin.see("Noted!").await;
    admin.screenshot().await;
    let shown = admin.wait_text("#messages", "Noted!").await;
    assert!(
        !shown.contains("spam spam"),
        "the blocked message is not stored"
    );
    j.finish([admin]).await;
}

/// S1: SMS that a carrier accepts. A 6 MB PDF is refused when attached, with Twilio's MMS
/// limit as the reason; the customer replies STOP and the composer says why nothing can be
/// sent (the API refuses too); after START the agent replies; a later 30034 failure shows in
/// plain words on the channel's health line.
#[tokio::test]
async fn journey_s1_sms_opt_out_and_mms_limits() {
    s1(Viewport::Desktop).await;
}

/// The same on a German phone (390 × 844).
#[tokio::test]
async fn journey_s1_sms_opt_out_and_mms_limits_phone() {
    s1(Viewport::Phone).await;
}

async fn s1(vp: Viewport) {
    if skip() {
        return;
    }
    let j = Journey::start("s1_sms_opt_out_and_mms_limits").await;
    let sms = crate::fakes::twilio::FakeTwilio::start().await;
    let ch = setup::twilio_channel(&j.t, &sms).await;
    let de = vp == Viewport::Phone;
    let mut b = j.browser().viewport(vp);
    if de {
        b = b.german();
    }
    let admin = b.login("admin").await;
    let m = customer::sms(&j.t, ch, "+14155550100", "Can you send the brochure?").await;
    admin
        .open(&format!("/chat/external/{}", m.session_id))
        .await;
    admin.see("Can you send the brochure?").await;
    admin.click("[data-action=pickup]").await;
    admin.wait_gone("[data-action=pickup]").await;

    // A 6 MB PDF: refused at attach time, the reason in the composer.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("brochure.pdf");
    let mut pdf = b"%PDF-1.4\n".to_vec();
    pdf.resize(6 << 20, b' ');
    std::fs::write(&path, pdf).unwrap();
    admin
        .el("#attach-input")
        .await
        .send_keys(path.to_str().unwrap())
        .await
        .unwrap();
    let chip = admin
        .wait_text(
            ".chip.bad .chip-err",
            if de { "5 MB" } else { "at most 5 MB" },
        )
        .await;
    if de {
        assert!(chip.contains("höchstens 5 MB"), "{chip}");
    }

    // STOP: the composer says why, and the API refuses as well.
    customer::sms(&j.t, ch, "+14155550100", "STOP").await;
    let note = admin
        .wait_text(
            "#window-note",
            if de {
                "mit STOP geantwortet"
            } else {
                "replied STOP"
            },
        )
        .await;
    assert!(note.contains("START"), "{note}");
    let r =
        j.t.admin
            .post(
                &format!("/api/v1/sessions/{}/messages", m.session_id),
                serde_json::json!({"text": "are you there?"}),
            )
            .await;
    assert_eq!(r.status, 422, "{}", r.text());
    admin.screenshot_step("opted_out").await;

    // START: the agent can answer again.
    customer::sms(&j.t, ch, "+14155550100", "START").await;
    admin.wait_gone("#window-note").await;
    admin
        .type_in(
            "#composer-text",
            &format!("Welcome back! Here is the link.{}", keys::ENTER),
        )
        .await;
    admin
        .wait_text("#messages", "Welcome back! Here is the link.")
        .await;
    wait_for("Twilio receives the reply", || async {
        sms.accepted()
            .iter()
            .any(|p| {
                p.iter()
                    .any(|(k, v)| k == "Body" && v == "Welcome back! Here is the link.")
            })
            .then_some(())
    })
    .await;

    // Twilio reports the carrier refused it: unregistered 10DLC traffic (30034).
    let mut p = crate::fakes::twilio::status_params(
        "SM0000000000000000000000000000abcd",
        "undelivered",
        None,
    );
    p.push(("ErrorCode".into(), "30034".into()));
    let r = customer::post_twilio(
        &j.t,
        &format!("/hooks/twilio/{ch}/status"),
        &p,
        crate::fakes::twilio::AUTH_TOKEN,
    )
    .await;
    assert!(r.status < 300, "{}", r.text());
    admin.open(&format!("/admin/channels/{ch}")).await;
    admin
        .wait_text("#channel-health", "not registered for US A2P 10DLC")
        .await;
    admin.screenshot().await;
    j.finish([admin]).await;
}

/// W2: the agent opens a WhatsApp conversation and the customer gets blue ticks (Meta's
/// mark-read body reaches the fake); while the agent types the customer sees "typing…" (the
/// documented `typing_indicator` body); a message type Meta cannot deliver shows as
/// "unsupported message (type)"; the admin switches both signals off on the channel page and
/// no further calls are made.
#[tokio::test]
async fn journey_w2_read_and_typing_switchable() {
    w2(Viewport::Desktop).await;
}

/// The same on a German phone (390 × 844).
#[tokio::test]
async fn journey_w2_read_and_typing_switchable_phone() {
    w2(Viewport::Phone).await;
}

fn reads(wa: &FakeWhatsApp) -> Vec<Value> {
    wa.accepted()
        .into_iter()
        .filter(|b| b["status"] == "read")
        .collect()
}

async fn w2(vp: Viewport) {
    if skip() {
        return;
    }
    let j = Journey::start("w2_read_and_typing").await;
    let wa = FakeWhatsApp::start().await;
    let ch = setup::whatsapp_channel(&j.t, &wa).await;
    let de = vp == Viewport::Phone;
    let mut b = j.browser().viewport(vp);
    if de {
        b = b.german();
    }
    let admin = b.login("admin").await;
    let m = customer::whatsapp(&j.t, ch, "4915112345678", "Jonas Weber", "Hallo?").await;
    let body = whatsapp::webhook(
        whatsapp::PHONE_NUMBER_ID,
        &[("4915112345678", "Jonas Weber")],
        vec![
            serde_json::json!({"from": "4915112345678", "id": "wamid.poll.1",
            "timestamp": customer::now_secs(&j.t).to_string(), "type": "unsupported",
            "unsupported": {"type": "poll_creation"},
            "errors": [{"code": 131051, "title": "Message type unknown"}]}),
        ],
        vec![],
    );
    assert_eq!(customer::post_wa(&j.t, ch, &body).await.status, 200);
    admin.open("/chat/external").await;
    admin.wait_live().await;
    admin.click_text("Jonas Weber").await;
    admin
        .wait_text("#messages", "[unsupported message (poll_creation)]")
        .await;
    let read = wait_for("blue ticks: mark-read at Meta", || {
        let r = reads(&wa);
        async move { r.into_iter().next() }
    })
    .await;
    assert_eq!(
        read,
        serde_json::json!({"messaging_product": "whatsapp", "status": "read",
            "message_id": "wamid.poll.1"}),
        "one call for the newest message marks the earlier ones too"
    );
    admin.click("[data-action=pickup]").await;
    admin.wait_gone("[data-action=pickup]").await;
    admin.type_in("#composer-text", "Moment, ich schaue").await;
    let typing = wait_for("typing indicator at Meta", || {
        let r = reads(&wa)
            .into_iter()
            .find(|b| b.get("typing_indicator").is_some());
        async move { r }
    })
    .await;
    assert_eq!(
        typing["typing_indicator"],
        serde_json::json!({"type": "text"})
    );
    assert_eq!(typing["message_id"], "wamid.poll.1");
    admin.type_in("#composer-text", keys::ENTER).await;
    admin.wait_text("#messages", "Moment, ich schaue").await;
    admin.screenshot_step("conversation").await;

    // Switched off on the channel page: a new message, opened, makes no call.
    admin.open(&format!("/admin/channels/{ch}")).await;
    admin.click("#wa-signals input[name=read_receipts]").await;
    admin
        .click("#wa-signals input[name=typing_indicator]")
        .await;
    admin
        .click_text(if de { "Speichern" } else { "Save" })
        .await;
    admin
        .el("#wa-signals input[name=read_receipts]:not(:checked)")
        .await;
    let before = reads(&wa).len();
    customer::whatsapp(&j.t, ch, "4915112345678", "Jonas Weber", "Noch da?").await;
    admin
        .open(&format!("/chat/external/{}", m.session_id))
        .await;
    admin.see("Noch da?").await;
    admin.type_in("#composer-text", "Ja").await;
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    assert_eq!(reads(&wa).len(), before, "{:?}", reads(&wa));
    admin.screenshot().await;
    j.finish([admin]).await;
}

/// W3: rich customer messages shown properly. The customer reacts 👍 to the agent's reply
/// (shown on that reply), answers it with a quote, shares a location (a map link), a contact
/// card and a list choice; a reaction to a message we never had is acknowledged and changes
/// nothing.
#[tokio::test]
async fn journey_w3_rich_customer_messages() {
    w3(Viewport::Desktop).await;
}

/// The same on a German phone (390 × 844).
#[tokio::test]
async fn journey_w3_rich_customer_messages_phone() {
    w3(Viewport::Phone).await;
}

async fn w3(vp: Viewport) {
    if skip() {
        return;
    }
    let j = Journey::start("w3_rich_customer_messages").await;
    let wa = FakeWhatsApp::start().await;
    let ch = setup::whatsapp_channel(&j.t, &wa).await;
    let de = vp == Viewport::Phone;
    let mut b = j.browser().viewport(vp);
    if de {
        b = b.german();
    }
    let admin = b.login("admin").await;
    const WA_ID: &str = "4915112345678";
    let m = customer::whatsapp(&j.t, ch, WA_ID, "Jonas Weber", "Is my order ready?").await;
    admin
        .open(&format!("/chat/external/{}", m.session_id))
        .await;
    admin.see("Is my order ready?").await;
    admin.click("[data-action=pickup]").await;
    admin.wait_gone("[data-action=pickup]").await;
    admin
        .type_in(
            "#composer-text",
            &format!("It ships Monday.{}", keys::ENTER),
        )
        .await;
    admin.wait_text("#messages", "It ships Monday.").await;
    let reply_wamid = wait_for("the reply's wamid", || {
        let t = &j.t;
        let sid = m.session_id;
        async move {
            let msgs = t
                .admin
                .get(&format!("/api/v1/sessions/{sid}/messages"))
                .await
                .json();
            msgs.as_array()?.iter().find(|x| x["direction"] == "out")?["provider_id"]
                .as_str()
                .map(str::to_string)
        }
    })
    .await;
    let ts = customer::now_secs(&j.t).to_string();
    let items = vec![
        serde_json::json!({"from": WA_ID, "id": "wamid.r1", "timestamp": ts, "type": "reaction",
            "reaction": {"message_id": reply_wamid, "emoji": "👍"}}),
        serde_json::json!({"from": WA_ID, "id": "wamid.q1", "timestamp": ts, "type": "text",
            "context": {"from": whatsapp::DISPLAY_NUMBER, "id": reply_wamid},
            "text": {"body": "Great, where do I pick it up?"}}),
        serde_json::json!({"from": WA_ID, "id": "wamid.l1", "timestamp": ts, "type": "location",
            "location": {"latitude": 52.52, "longitude": 13.405, "name": "Home",
                         "address": "Unter den Linden 1, Berlin"}}),
        serde_json::json!({"from": WA_ID, "id": "wamid.c1", "timestamp": ts, "type": "contacts",
            "contacts": [{"name": {"formatted_name": "Anna Weber", "first_name": "Anna"},
                          "phones": [{"phone": "+49 30 1234567", "type": "HOME"}]}]}),
        serde_json::json!({"from": WA_ID, "id": "wamid.i1", "timestamp": ts, "type": "interactive",
            "interactive": {"type": "list_reply", "list_reply": {"id": "express",
                "title": "Express", "description": "1-2 days"}}}),
    ];
    let body = whatsapp::webhook(
        whatsapp::PHONE_NUMBER_ID,
        &[(WA_ID, "Jonas Weber")],
        items,
        vec![],
    );
    assert_eq!(customer::post_wa(&j.t, ch, &body).await.status, 200);
    admin.wait_text(".msg.out .reaction", "👍").await;
    admin.wait_text(".msg.in .quote", "It ships Monday.").await;
    admin.see("Great, where do I pick it up?").await;
    admin
        .el(".msg.in a[href^='https://www.openstreetmap.org/?mlat=52.52']")
        .await;
    admin
        .wait_text("#messages", "[contact card] Anna Weber (+49 30 1234567)")
        .await;
    admin
        .wait_text("#messages", "[selected] Express — 1-2 days")
        .await;
    let label = admin
        .js("return document.querySelector('.msg.out .reaction').getAttribute('aria-label')")
        .await;
    let want = if de {
        "mit 👍 reagiert"
    } else {
        "reacted with 👍"
    };
    assert!(label.as_str().unwrap_or_default().contains(want), "{label}");

    // A reaction to a message we never had: 200, nothing stored or changed.
    let before =
        j.t.admin
            .get(&format!("/api/v1/sessions/{}/messages", m.session_id))
            .await
            .json();
    let stray = whatsapp::webhook(
        whatsapp::PHONE_NUMBER_ID,
        &[(WA_ID, "Jonas Weber")],
        vec![
            serde_json::json!({"from": WA_ID, "id": "wamid.r2", "timestamp": ts,
            "type": "reaction", "reaction": {"message_id": "wamid.never.seen", "emoji": "😡"}}),
        ],
        vec![],
    );
    assert_eq!(customer::post_wa(&j.t, ch, &stray).await.status, 200);
    let after =
        j.t.admin
            .get(&format!("/api/v1/sessions/{}/messages", m.session_id))
            .await
            .json();
    assert_eq!(before, after, "nothing changed");
    admin.screenshot().await;
    j.finish([admin]).await;
}
