//! B6 Reopen, B7 Organise, B11 Stop a spammer: reopening a closed and archived
//! conversation and replying in it; an internal note, tags, the inbox filters and search;
//! blocking from the conversation and bulk archive (refused as a whole over a colleague's).

use serde_json::json;

use crate::browser::{keys, skip};
use crate::fakes::twilio::FakeTwilio;
use crate::journeys::{Journey, Viewport};
use crate::support::read::{self, wait_for};
use crate::support::{customer, setup};

async fn sms_world(j: &Journey) -> (FakeTwilio, u64) {
    let sms = FakeTwilio::start().await;
    let ch = setup::twilio_channel(&j.t, &sms).await;
    (sms, ch)
}

#[tokio::test]
async fn journey_b6_reopen_and_continue() {
    b6_reopen_and_continue(Viewport::Desktop).await;
}

/// The same on a phone (390 × 844): nothing sideways at any screenshot.
#[tokio::test]
async fn journey_b6_reopen_and_continue_phone() {
    b6_reopen_and_continue(Viewport::Phone).await;
}

async fn b6_reopen_and_continue(vp: Viewport) {
    if skip() {
        return;
    }
    let j = Journey::start("b6_reopen_and_continue").await;
    let (sms, ch) = sms_world(&j).await;
    // Last week: Lena asked, the chat was ended and archived.
    let a = customer::sms(&j.t, ch, "+4917612345678", "Are my lenses in?").await;
    let sid = a.session_id;
    for path in ["pickup", "close", "archive"] {
        let r =
            j.t.admin
                .post(&format!("/api/v1/sessions/{sid}/{path}"), json!({}))
                .await;
        assert_eq!(r.status, 200, "{path}: {}", r.text());
    }

    let anna = j.browser().viewport(vp).login("admin").await;
    anna.click_text("External").await;
    anna.click_text("Archived").await;
    anna.click(&format!("li.srow[data-id='{sid}'] a")).await;
    anna.see("Are my lenses in?").await;
    anna.click_text("Reopen").await;
    anna.wait_gone("[data-action=reopen]").await;
    anna.wait_text(".s-sub", "Owner: You").await;
    anna.type_in("#composer-text", "Yes, they arrived today.")
        .await;
    anna.type_in("#composer-text", keys::ENTER).await;
    anna.wait_text("#messages", "Yes, they arrived today.")
        .await;
    wait_for("Twilio receives the reply", || async {
        sms.accepted()
            .iter()
            .any(|p| {
                p.iter()
                    .any(|(k, v)| k == "Body" && v == "Yes, they arrived today.")
            })
            .then_some(())
    })
    .await;
    let s = read::session(&j.t.admin, sid).await;
    assert_eq!(s["status"], "open");
    assert_eq!(s["archived"], false);
    // Back in the main list.
    anna.back_to_list().await;
    anna.click_text("All").await;
    anna.el(&format!("li.srow[data-id='{sid}']")).await;
    anna.screenshot().await;
    j.finish([anna]).await;
}

#[tokio::test]
async fn journey_b7_organise() {
    if skip() {
        return;
    }
    let j = Journey::start("b7_organise").await;
    let (_sms, ch) = sms_world(&j).await;
    let r =
        j.t.admin
            .put("/api/v1/tags", json!({"items": ["order", "complaint"]}))
            .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let lena = customer::sms(&j.t, ch, "+4917612345678", "Where is my order 4711?").await;
    let tom = customer::sms(&j.t, ch, "+4917698765432", "The frame broke.").await;
    let r =
        j.t.admin
            .post(
                &format!("/api/v1/sessions/{}/close", tom.session_id),
                json!({}),
            )
            .await;
    assert_eq!(r.status, 200, "{}", r.text());

    let anna = j.login("admin").await;
    anna.click_text("External").await;
    anna.click(&format!("li.srow[data-id='{}'] a", lena.session_id))
        .await;
    anna.see("Where is my order 4711?").await;

    // An internal note.
    anna.click_text("Internal note").await;
    anna.type_in("#composer-text", "Checked with the lab: ships Monday.")
        .await;
    anna.type_in("#composer-text", keys::ENTER).await;
    anna.wait_text(".msg.note", "Checked with the lab").await;

    // Tags: an unknown one is refused where it was typed; a known one sticks.
    anna.click_text("Details").await;
    anna.fill("Add tag", "vip").await;
    anna.click(".tag-add button").await;
    anna.wait_text("#tag-error", "not on the tag list").await;
    let s = read::session(&j.t.admin, lena.session_id).await;
    assert_eq!(s["tags"], json!([]));
    anna.fill("Add tag", "order").await;
    anna.click(".tag-add button").await;
    anna.wait_text("#session-tags", "order").await;
    anna.wait_text(&format!("li.srow[data-id='{}']", lena.session_id), "order")
        .await;

    // Filters: by tag, by state, by channel; the search by name, number or text.
    let row = |id: u64| format!("li.srow[data-id='{id}']");
    anna.select("#tag-filter", "order").await;
    anna.wait_count("li.srow", 1).await;
    anna.el(&row(lena.session_id)).await;
    anna.select("#tag-filter", "All tags").await;
    anna.wait_count("li.srow", 2).await;
    anna.select("#status-filter", "Closed").await;
    anna.wait_count("li.srow", 1).await;
    anna.el(&row(tom.session_id)).await;
    anna.select("#status-filter", "Any state").await;
    anna.select("#channel-filter", "SMS").await;
    anna.wait_count("li.srow", 2).await;
    anna.type_in("#inbox-search", "frame").await;
    anna.wait_count("li.srow", 1).await;
    anna.el(&row(tom.session_id)).await;
    anna.fill("Search name, number or text", "4917612").await;
    anna.wait_count("li.srow", 1).await;
    anna.el(&row(lena.session_id)).await;
    assert!(anna.url().await.contains("q=4917612"));
    anna.screenshot().await;

    // An unknown tag in the address bar: a clear message above the list, not a broken page.
    anna.open("/chat/external?tag=nosuchtag").await;
    anna.wait_text("#list-error", "not on the tag list").await;

    // The same list on a phone in German: filters and search fit, no sideways scrolling.
    let phone = j.browser().phone().german().login("admin").await;
    phone.open("/chat/external?tag=order").await;
    phone.wait_count("li.srow", 1).await;
    phone.field("Name, Nummer oder Text suchen").await;
    let wide = phone
        .js("return document.documentElement.scrollWidth > window.innerWidth")
        .await;
    assert_eq!(wide, json!(false), "sideways scrolling on a phone");
    phone.screenshot().await;
    j.finish([anna, phone]).await;
}

#[tokio::test]
async fn journey_b11_stop_a_spammer() {
    b11_stop_a_spammer(Viewport::Desktop).await;
}

/// The same on a phone (390 × 844): nothing sideways at any screenshot.
#[tokio::test]
async fn journey_b11_stop_a_spammer_phone() {
    b11_stop_a_spammer(Viewport::Phone).await;
}

async fn b11_stop_a_spammer(vp: Viewport) {
    if skip() {
        return;
    }
    let j = Journey::start("b11_stop_a_spammer").await;
    let (_sms, ch) = sms_world(&j).await;
    let (anna_id, anna_api) = j.t.user("anna", "agent").await;
    let (ben_id, _) = j.t.user("ben", "agent").await;
    let r =
        j.t.admin
            .patch(
                &format!("/api/v1/channels/{ch}"),
                json!({"members": [j.t.admin_id, anna_id, ben_id]}),
            )
            .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let mut spam = Vec::new();
    for i in 0..3 {
        let a = customer::sms(&j.t, ch, &format!("+4915700000{i:03}"), "WIN A PRIZE").await;
        spam.push(a.session_id);
    }
    // A customer Anna is looking after.
    let real = customer::sms(&j.t, ch, "+4917612345678", "Hello, a real question").await;
    let r = anna_api
        .post(
            &format!("/api/v1/sessions/{}/pickup", real.session_id),
            json!({}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());

    let ben = j.browser().viewport(vp).login("ben").await;
    ben.click_text("External").await;
    ben.wait_count("li.srow", 4).await;

    // Block the sender of the first from the conversation.
    ben.click(&format!("li.srow[data-id='{}'] a", spam[0]))
        .await;
    ben.header_action("Block").await;
    ben.click("dialog .dlg-actions button.primary").await;
    ben.wait_toast("is blocked").await;
    ben.wait_gone("[data-action=block]").await;

    // Bulk over a colleague's conversation too: refused, nothing changed.
    ben.back_to_list().await;
    for id in spam.iter().chain([&real.session_id]) {
        ben.click(&format!("li.srow[data-id='{id}'] input.srow-sel"))
            .await;
    }
    ben.wait_text("#bulk-bar", "4 selected").await;
    ben.click("#bulk-archive").await;
    ben.wait_text("#list-error", "not yours to change").await;
    for id in spam.iter().chain([&real.session_id]) {
        assert_eq!(read::session(&j.t.admin, *id).await["archived"], false);
    }
    // Without it: all three archived at once.
    ben.click(&format!(
        "li.srow[data-id='{}'] input.srow-sel",
        real.session_id
    ))
    .await;
    ben.wait_text("#bulk-bar", "3 selected").await;
    ben.click("#bulk-archive").await;
    ben.wait_toast("3 conversations archived").await;
    ben.wait_count("li.srow", 1).await;
    for id in &spam {
        assert_eq!(read::session(&j.t.admin, *id).await["archived"], true);
    }
    ben.screenshot().await;
    j.finish([ben]).await;
}
