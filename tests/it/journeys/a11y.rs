//! Every page in German, and axe (WCAG 2.2 A/AA, `crate::browser::axe`) on every page and the
//! states people open there: dialogs, popovers, errors; desktop and phone, German and English.
//! German screenshots of every page go to `target/screenshots/de/journeys/x1_every_page-*.png`.

use serde_json::json;

use crate::browser::skip;
use crate::fakes::whatsapp::FakeWhatsApp;
use crate::journeys::{Journey, Lang, Person, Viewport};
use crate::support::{customer, setup};

/// A screenshot of the step, then axe on the page as it is.
async fn check(p: &Person, step: &str) {
    p.screenshot_step(step).await;
    let lang = match p.lang {
        Lang::En | Lang::Fr => "en",
        Lang::De => "de",
    };
    let vp = match p.viewport {
        Viewport::Desktop => "desktop",
        Viewport::Phone => "phone",
    };
    p.axe(&format!("{step} [{lang}, {vp}]")).await;
}

/// Labels a person reads, in the person's language.
fn say(p: &Person, en: &'static str, de: &'static str) -> &'static str {
    match p.lang {
        Lang::En | Lang::Fr => en,
        Lang::De => de,
    }
}

/// The world: a WhatsApp channel with a waiting customer, a live-chat channel, a colleague
/// who wrote in a group chat, a template and a blocked number.
async fn world(j: &Journey) -> (u64, u64) {
    let wa = Box::leak(Box::new(FakeWhatsApp::start().await));
    let ch = setup::whatsapp_channel(&j.t, wa).await;
    let lc = setup::livechat_channel(&j.t, &["https://www.example.com"], true).await;
    let (ben_id, ben) = j.t.user("ben", "agent").await;
    let _ = ben_id;
    customer::whatsapp(
        &j.t,
        ch,
        "4915112345678",
        "Jonas Weber",
        "Ist meine Bestellung unterwegs?",
    )
    .await;
    let admin_id = j.t.admin.get("/api/v1/me").await.json()["id"]
        .as_u64()
        .unwrap_or(1);
    let r = ben
        .post(
            "/api/v1/chats",
            json!({"name": "Empfang", "member_ids": [admin_id]}),
        )
        .await;
    let chat = r.json()["chat"]["id"].as_u64().unwrap();
    ben.post(
        &format!("/api/v1/chats/{chat}/messages"),
        json!({"text": "Kannst du Frau Weber zurückrufen?"}),
    )
    .await;
    j.t.admin
        .post(
            "/api/v1/templates",
            json!({"name": "order_update", "language": "de", "body": "Hallo {{1}}, Ihre Bestellung {{2}} ist unterwegs."}),
        )
        .await;
    (ch, lc)
}

/// Every page and its open states, as one person sees them.
async fn walk(p: &Person, ch: u64, lc: u64) {
    // The inbox, a conversation, its dialogs and popovers.
    p.open("/chat/external").await;
    p.el("#session-list").await;
    p.see("Jonas Weber").await;
    check(p, "inbox").await;
    p.click_text("Jonas Weber").await;
    p.see("Ist meine Bestellung unterwegs?").await;
    check(p, "conversation").await;
    p.click_text(say(p, "Pick up", "Übernehmen")).await;
    p.wait_gone("[data-action=pickup]").await;
    p.click_text(say(p, "Emoji", "Emoji")).await;
    p.el(".emoji-pop, .emoji-popover, [role=dialog], [role=menu]")
        .await;
    check(p, "emoji").await;
    p.b.client
        .active_element()
        .await
        .unwrap()
        .send_keys(crate::browser::keys::ESCAPE)
        .await
        .unwrap();
    p.header_action(say(p, "Transfer", "Weiterleiten")).await;
    p.el("dialog[open]").await;
    check(p, "transfer").await;
    p.click_text(say(p, "Cancel", "Abbrechen")).await;
    p.wait_gone("dialog[open]").await;
    p.header_action(say(p, "End chat", "Chat beenden")).await;
    p.el("dialog[open]").await;
    check(p, "end").await;
    p.click_text(say(p, "Cancel", "Abbrechen")).await;
    p.wait_gone("dialog[open]").await;
    p.open("/chat/external").await;
    p.el("#session-list").await;
    p.click_text(say(p, "New conversation", "Neue Unterhaltung"))
        .await;
    p.el("dialog[open]").await;
    check(p, "start").await;

    // The internal chat.
    p.open("/chat/internal").await;
    p.see("Empfang").await;
    check(p, "internal").await;
    p.click(".ic-item").await;
    p.see("Kannst du Frau Weber zurückrufen?").await;
    check(p, "internal-chat").await;

    // Everyone's pages.
    for (path, step) in [
        ("/contacts", "contacts"),
        ("/reports", "reports"),
        ("/canned", "canned"),
        ("/settings", "settings"),
    ] {
        p.open(path).await;
        p.el("h1").await;
        check(p, step).await;
    }

    // The administrator's pages.
    let channel = format!("/admin/channels/{ch}");
    let live = format!("/admin/livechat/{lc}");
    for (path, step) in [
        ("/admin/start", "admin-start"),
        ("/admin/users", "admin-users"),
        ("/admin/channels", "admin-channels"),
        (channel.as_str(), "admin-channel"),
        (live.as_str(), "admin-livechat"),
        ("/admin/templates", "admin-templates"),
        ("/admin/canned", "admin-canned"),
        ("/admin/workflow", "admin-workflow"),
        ("/admin/pbx", "admin-pbx"),
        ("/admin/blocks", "admin-blocks"),
        ("/admin/audit", "admin-audit"),
    ] {
        p.open(path).await;
        p.el("h1").await;
        check(p, step).await;
    }
    // A form error shown on the page, and the error page.
    p.open("/admin/pbx").await;
    p.fill(say(p, "Host", "Host"), "pbx.example.com").await;
    p.fill(say(p, "Username", "Benutzername"), "switchboard")
        .await;
    p.js("document.querySelector('input[name=port]').value = ''; return 0")
        .await;
    p.fill(say(p, "Port", "Port"), "99999").await;
    p.click_text(say(p, "Use Asterisk AMI", "Asterisk AMI verwenden"))
        .await;
    p.el("p.error").await;
    check(p, "admin-pbx-error").await;
    // The live-chat widget on the demo page, open.
    p.open(&format!("/livechat/demo/{lc}")).await;
    p.click_text(say(p, "Open chat", "Chat öffnen")).await;
    p.see(say(p, "Start chat", "Chat starten")).await;
    check(p, "widget").await;
    p.open("/admin/channels/999999").await;
    p.el("h1").await;
    p.screenshot_step("error-page").await;
}

/// The pages before signing in: the login form (with its error) and the live-chat widget.
async fn signed_out(p: &Person, lc: u64) {
    p.open("/login").await;
    p.el("input[name=username]").await;
    check(p, "login").await;
    p.type_in("input[name=username]", "nobody").await;
    p.type_in("input[name=password]", "wrong password").await;
    p.click("button[type=submit]").await;
    p.el("p.error").await;
    check(p, "login-error").await;
    let _ = lc;
}

#[tokio::test]
async fn journey_x1_every_page_in_german_and_accessible() {
    if skip() {
        return;
    }
    let j = Journey::start("x1_every_page").await;
    let (ch, lc) = world(&j).await;
    let de = j.browser().german().login("admin").await;
    walk(&de, ch, lc).await;
    let out = j.browser().german().open().await;
    signed_out(&out, lc).await;
    j.finish([de, out]).await;
}

#[tokio::test]
async fn journey_x1_every_page_on_a_german_phone() {
    if skip() {
        return;
    }
    let j = Journey::start("x1_every_page").await;
    let (ch, lc) = world(&j).await;
    let de = j.browser().phone().german().login("admin").await;
    walk(&de, ch, lc).await;
    j.finish([de]).await;
}

#[tokio::test]
async fn journey_x1_every_page_in_english_and_accessible() {
    if skip() {
        return;
    }
    let j = Journey::start("x1_every_page").await;
    let (ch, lc) = world(&j).await;
    let en = j.login("admin").await;
    walk(&en, ch, lc).await;
    let phone = j.browser().phone().open().await;
    signed_out(&phone, lc).await;
    j.finish([en, phone]).await;
}

/// Types `keys` wherever the focus is, as a keyboard does (key down, key up).
async fn press(p: &Person, keys: &str) {
    use fantoccini::actions::{InputSource, KeyAction, KeyActions};
    let mut a = KeyActions::new("keyboard".into());
    for c in keys.chars() {
        a = a
            .then(KeyAction::Down { value: c })
            .then(KeyAction::Up { value: c });
    }
    p.client.perform_actions(a).await.unwrap();
    p.client.release_actions().await.unwrap();
}

/// The id of the conversation the address bar shows.
async fn open_id(p: &Person) -> u64 {
    let url = p.url().await;
    url.rsplit('/')
        .next()
        .and_then(|s| s.split('?').next())
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

/// An agent works the inbox by keyboard: `?` lists the shortcuts, `j`/`k` walk the
/// conversations, `p` picks up, `n` writes a note, Esc leaves the composer, `r` replies,
/// `e` asks to end; Enter on a row moves the focus into the conversation.
#[tokio::test]
async fn journey_x2_keyboard_shortcuts() {
    if skip() {
        return;
    }
    let j = Journey::start("x2_keyboard_shortcuts").await;
    let wa = FakeWhatsApp::start().await;
    let ch = setup::whatsapp_channel(&j.t, &wa).await;
    let first = customer::whatsapp(&j.t, ch, "4915111111111", "Anna Alt", "Hallo?").await;
    let second = customer::whatsapp(&j.t, ch, "4915122222222", "Bernd Berg", "Guten Tag").await;
    let p = j.browser().german().login("admin").await;
    p.open("/chat/external").await;
    p.wait_count("li.srow", 2).await;

    press(&p, "?").await;
    p.el("#kb-help").await;
    p.see("Nächste Unterhaltung").await;
    check(&p, "help").await;
    press(&p, crate::browser::keys::ESCAPE).await;
    p.wait_gone("#kb-help").await;

    // j opens the top conversation (the newest: Bernd), j again the next, k back.
    press(&p, "j").await;
    p.see("Guten Tag").await;
    assert_eq!(open_id(&p).await, second.session_id);
    p.wait_js(
        "document.activeElement && document.activeElement.classList.contains('s-name')",
        "the focus on the conversation's name",
    )
    .await;
    press(&p, "j").await;
    p.see("Hallo?").await;
    assert_eq!(open_id(&p).await, first.session_id);
    press(&p, "k").await;
    p.see("Guten Tag").await;
    assert_eq!(open_id(&p).await, second.session_id);

    // p picks it up, n writes a note, Esc leaves the composer, r switches back to replying.
    press(&p, "p").await;
    p.wait_gone("[data-action=pickup]").await;
    press(&p, "n").await;
    p.el("#composer-area.mode-note").await;
    p.wait_js(
        "document.activeElement && document.activeElement.id === 'composer-text'",
        "the focus in the note composer",
    )
    .await;
    p.type_in("#composer-text", "Rückruf um drei").await;
    press(&p, crate::browser::keys::ENTER).await;
    p.see("Rückruf um drei").await;
    press(&p, crate::browser::keys::ESCAPE).await;
    press(&p, "r").await;
    p.el("#composer-area.mode-reply").await;
    press(&p, crate::browser::keys::ESCAPE).await;

    // e asks to end the chat (a dialog); Esc cancels it.
    press(&p, "e").await;
    p.el("dialog[open]").await;
    press(&p, crate::browser::keys::ESCAPE).await;
    p.wait_gone("dialog[open]").await;

    // Enter on a row of the list opens it and puts the focus in the conversation.
    p.js("document.querySelector('li.srow:last-child a').focus(); return 0")
        .await;
    press(&p, crate::browser::keys::ENTER).await;
    p.see("Hallo?").await;
    p.wait_js(
        "document.activeElement && document.activeElement.classList.contains('s-name')",
        "the focus in the conversation after Enter",
    )
    .await;
    p.screenshot().await;
    j.finish([p]).await;
}
