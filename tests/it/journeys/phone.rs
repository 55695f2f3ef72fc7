//! Every page on a phone (390 × 844, English and German): nothing sticks out sideways (the
//! `fits` check behind every phone screenshot), the conversation's actions sit in a "⋯" menu
//! that the keyboard can open and Esc closes, internal chat shows the list or the chat, the
//! admin tables become stacked rows, and the website chat's bubble steps aside for its panel.
//! Plus B on a phone: pick up, reply, transfer and end through the menu.

use serde_json::json;

use crate::browser::{keys, skip};
use crate::fakes::whatsapp::FakeWhatsApp;
use crate::journeys::{Journey, Lang, Person};
use crate::support::{customer, setup};

/// Opens `path`, waits for `ready` and checks the page fits the phone.
async fn visit(p: &Person, path: &str, ready: &str) {
    p.open(path).await;
    p.el(ready).await;
    p.fits(path).await;
}

/// The world of the tour: a WhatsApp customer, a website chat, a colleague, a group chat with
/// a message, a template and a canned reply (so tables have rows).
async fn world(j: &Journey, wa: &FakeWhatsApp) -> (u64, u64, u64) {
    let ch = setup::whatsapp_channel(&j.t, wa).await;
    let lc = setup::livechat_channel(&j.t, &[], true).await;
    let (anna, anna_c) = j.t.user("anna", "agent").await;
    let m = customer::whatsapp(
        &j.t,
        ch,
        "4915112345678",
        "Jonas Weber",
        "Hi, is my order on its way? The tracking page says nothing since Monday.",
    )
    .await;
    let r =
        j.t.admin
            .post(
                "/api/v1/chats",
                json!({"name": "Front desk", "member_ids": [j.t.admin_id, anna]}),
            )
            .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let chat = r.json()["chat"]["id"].as_u64().unwrap();
    let r = anna_c
        .post(
            &format!("/api/v1/chats/{chat}/messages"),
            json!({"text": "Can someone cover the phones at 2?"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let r =
        j.t.admin
            .post(
                "/api/v1/templates",
                json!({"name": "order_ready", "language": "en",
                "body": "Hello {{1}}, your order {{2}} is ready for pick-up at our shop."}),
            )
            .await;
    assert_eq!(r.status, 201, "{}", r.text());
    (m.session_id, lc, chat)
}

async fn tour(j: &Journey, lang: Lang, lc: u64) {
    let p = j.browser().phone().lang(lang).login("admin").await;
    let (more, back) = match lang {
        Lang::En | Lang::Fr => ("More actions", "Back to the chats"),
        Lang::De => ("Weitere Aktionen", "Zurück zu den Chats"),
    };

    // The inbox: the list, the whole top bar (no cut "Ad…").
    visit(&p, "/chat/external", ".srow").await;
    p.see("Jonas Weber").await;
    p.screenshot_step("inbox").await;
    // The "☰" menu holds the other pages.
    p.click("#nav-toggle").await;
    p.el(".topbar.nav-open #navmore a[href='/admin']").await;
    p.fits("the page menu").await;
    p.screenshot_step("page-menu").await;
    p.type_in("#navmore a[href='/contacts']", keys::ESCAPE)
        .await;
    p.wait_gone(".topbar.nav-open").await;

    // A conversation: the list gives way; the actions are behind "⋯".
    p.click_text("Jonas Weber").await;
    p.el("#s-more").await;
    p.wait_js(
        "document.querySelector('.list-pane').offsetParent === null",
        "the list to give way to the conversation",
    )
    .await;
    p.fits("the conversation").await;
    // Keyboard: focus "⋯", Enter opens the menu on its first item, Esc closes it again.
    p.js("document.getElementById('s-more').focus(); return 0")
        .await;
    p.type_in("#s-more", keys::ENTER).await;
    p.el("#s-menu.open").await;
    assert_eq!(
        p.js("return document.getElementById('s-more').getAttribute('aria-expanded')")
            .await,
        json!("true")
    );
    assert_eq!(
        p.js("return document.activeElement.closest('#s-menu') !== null")
            .await,
        json!(true),
        "the menu's first item has the focus"
    );
    assert_eq!(
        p.js("return document.getElementById('s-more').getAttribute('aria-label')")
            .await,
        json!(more)
    );
    p.fits("the open action menu").await;
    p.screenshot_step("conversation-menu").await;
    p.type_in("#s-menu .act", keys::ESCAPE).await;
    p.wait_gone("#s-menu.open").await;
    assert_eq!(
        p.js("return document.activeElement.id").await,
        json!("s-more"),
        "Esc returns to ⋯"
    );
    // The composer is in view, at the bottom of the window.
    let composer = p
        .js(
            "const r = document.getElementById('composer-text').getBoundingClientRect(); \
             return r.top >= 0 && r.bottom <= innerHeight;",
        )
        .await;
    assert_eq!(composer, json!(true), "the composer is on screen");
    // Back to the list.
    p.click("#back").await;
    p.el(".srow").await;

    // Internal chat: the list, then the chat alone, then back.
    visit(&p, "/chat/internal", ".ic-item").await;
    p.screenshot_step("internal-list").await;
    p.click(".ic-item").await;
    p.wait_text("#ic-messages", "cover the phones").await;
    p.wait_js(
        "document.querySelector('.ic-side').offsetParent === null",
        "the chat list to give way",
    )
    .await;
    p.fits("an internal chat").await;
    p.screenshot_step("internal-chat").await;
    p.click_text(back).await;
    p.el(".ic-item").await;
    assert!(p.url().await.ends_with("/chat/internal"));

    // Every other page, admin tables as stacked rows.
    for (path, ready) in [
        ("/contacts", "main"),
        ("/reports", ".wf-kpis"),
        ("/canned", "main"),
        ("/settings", "main"),
        ("/admin/start", ".checklist"),
        ("/admin/channels", "table.list"),
        ("/admin/templates", "table.list"),
        ("/admin/canned", "main"),
        ("/admin/workflow", "main"),
        ("/admin/pbx", "main"),
        ("/admin/blocks", "main"),
        ("/admin/audit", "#audit-log"),
    ] {
        visit(&p, path, ready).await;
    }
    p.screenshot_step("admin-audit").await;
    visit(&p, "/reports", ".wf-kpis").await;
    p.screenshot_step("reports").await;
    visit(&p, "/admin/users", "table.list td[data-label]").await;
    p.screenshot_step("admin-users").await;
    visit(&p, &format!("/admin/channels/{lc}"), "#lc-settings").await;

    // The website chat on a phone: open, the panel fills the window and the bubble steps
    // aside, so the Start button is the one under the finger.
    let sr = "const sr = document.querySelector('#swb-livechat').shadowRoot;";
    p.open(&format!("/livechat/demo/{lc}")).await;
    p.wait_js(
        "document.querySelector('#swb-livechat') && document.querySelector('#swb-livechat').shadowRoot.querySelector('.bub')",
        "the chat bubble",
    )
    .await;
    p.js(&format!("{sr} sr.querySelector('.bub').click(); return 0"))
        .await;
    p.wait_js(
        &format!("(() => {{ {sr} return !sr.querySelector('.pre').hidden; }})()"),
        "the pre-chat form",
    )
    .await;
    let hit = p
        .js(&format!(
            "{sr} const go = sr.querySelector('.go'); const r = go.getBoundingClientRect(); \
             const at = sr.elementFromPoint(r.left + r.width - 4, r.top + r.height / 2); \
             return [at === go, r.bottom <= innerHeight, r.height >= 44, \
                     getComputedStyle(sr.querySelector('.bub')).display];"
        ))
        .await;
    assert_eq!(
        hit,
        json!([true, true, true, "none"]),
        "the Start button is free"
    );
    // The widget speaks the visitor's browser language (navigator.languages).
    let start = p
        .js(&format!("{sr} return sr.querySelector('.go').textContent;"))
        .await;
    let want = match lang {
        Lang::En | Lang::Fr => "Start chat",
        Lang::De => "Chat starten",
    };
    assert_eq!(start, json!(want), "the widget's Start button in {lang:?}");
    p.fits("the website chat").await;
    p.screenshot_step("widget").await;
    p.close().await;
}

#[tokio::test]
async fn journey_phone_every_page_fits() {
    if skip() {
        return;
    }
    let j = Journey::start("phone_every_page").await;
    let wa = FakeWhatsApp::start().await;
    let (_, lc, _) = world(&j, &wa).await;
    tour(&j, Lang::En, lc).await;
    tour(&j, Lang::De, lc).await;
    j.finish([]).await;
}

/// B on a phone: a customer writes; the agent picks up, replies, hands over to a colleague
/// with a note through the "⋯" menu; the colleague ends the chat with a result, on a phone too.
#[tokio::test]
async fn journey_b_phone_pick_up_reply_transfer_end() {
    if skip() {
        return;
    }
    let j = Journey::start("b_phone_pick_up_reply_transfer_end").await;
    let wa = FakeWhatsApp::start().await;
    let (ch, _, _) = setup::whatsapp_channel_for_anna_and_ben(&j.t, &wa).await;
    let r =
        j.t.admin
            .put("/api/v1/results", json!({"items": ["Resolved", "Sale"]}))
            .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let anna = j.browser().phone().login("anna").await;
    let ben = j.browser().phone().login("ben").await;
    anna.click_text("External").await;
    anna.wait_live().await;
    ben.click_text("External").await;
    ben.wait_live().await;

    customer::whatsapp(
        &j.t,
        ch,
        "4915112345678",
        "Jonas Weber",
        "Where is my parcel?",
    )
    .await;
    anna.wait_text("#unread-external", "1").await;
    anna.click_text("Jonas Weber").await;
    anna.see("Where is my parcel?").await;
    anna.fits("the new conversation").await;
    anna.click_text("Pick up").await;
    anna.wait_gone("[data-action=pickup]").await;
    anna.type_in(
        "#composer-text",
        &format!("Let me check with the warehouse.{}", keys::ENTER),
    )
    .await;
    anna.wait_text("#messages", "Let me check with the warehouse.")
        .await;
    anna.header_action("Transfer").await;
    anna.select("#transfer-to", "ben").await;
    anna.type_in("#transfer-note", "Warehouse question").await;
    anna.fits("the transfer dialog").await;
    anna.screenshot_step("transfer").await;
    anna.click("dialog.dlg[open] button[type=submit]").await;
    anna.wait_gone("dialog.dlg[open]").await;
    anna.wait_text(".s-sub", "Owner: ben").await;

    ben.wait_toast("transferred Jonas Weber to you").await;
    ben.click(".toast.transfer-toast").await;
    ben.wait_text(
        "#messages .activity[data-kind=transferred]",
        "Warehouse question",
    )
    .await;
    ben.header_action("End chat").await;
    ben.select("#end-result", "Resolved").await;
    ben.type_in("#end-note", "Parcel found").await;
    ben.fits("the end dialog").await;
    ben.click("dialog.dlg[open] button[type=submit]").await;
    ben.wait_text(".s-sub", "Closed · Resolved").await;
    ben.el("[data-action=reopen]").await;
    ben.screenshot_step("ben").await;
    anna.screenshot().await;
    j.finish([anna, ben]).await;
}
