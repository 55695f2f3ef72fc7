//! Office-admin journeys (JOURNEYS.md A1–A6, A10, D1, …): connecting channels from the pages alone,
//! testing them against the providers' fakes, deleting one after a confirmation, putting the
//! website chat on a second origin and answering a visitor there.

use crate::browser::skip;
use crate::fakes::ami::{self, FakeAmi, Mode};
use crate::fakes::messenger::{self, FakeMessenger};
use crate::fakes::twilio::{self, FakeTwilio};
use crate::fakes::whatsapp::{self, FakeWhatsApp};
use crate::fakes::yeastar::{self, FakeYeastar};
use crate::journeys::{Journey, Lang, Person};
use crate::support::{PASSWORD, customer, setup};
use switchboard::ids::ChannelId;
use switchboard::store::tables::CHANNELS;

/// Opens the "Advanced" disclosure and points the channel at a fake provider.
async fn point_at(admin: &Person, base: &str) {
    admin.click_text("Advanced").await;
    admin.fill("API base URL", base).await;
}

/// A3: the admin connects WhatsApp: only WhatsApp's fields with hints, missing credentials are
/// refused by name, the webhook URL and verify token can be copied, the non-HTTPS public URL
/// is warned about, and Test connection shows the phone number or Meta's own error.
#[tokio::test]
async fn journey_a3_connect_whatsapp() {
    if skip() {
        return;
    }
    let j = Journey::start("a3_connect_whatsapp").await;
    let wa = FakeWhatsApp::start().await;
    let admin = j.login("admin").await;
    admin.click_text("Admin").await;
    admin.click_text("Channels").await;
    admin.see("No channel yet").await;
    admin.click_text("WhatsApp").await;
    admin.wait_text("h1", "New channel: WhatsApp").await;
    admin.see("WhatsApp → API Setup").await;
    for other in ["account_sid", "page_id", "page_token", "from_number"] {
        admin.assert_absent(&format!("input[name={other}]")).await;
    }
    // Only a name: refused, and the message names what is missing.
    admin.fill("Name", "WhatsApp Sales").await;
    admin.click_text("Create channel").await;
    let err = admin.wait_text("#form-error", "Phone number ID").await;
    assert!(err.contains("Access token"), "{err}");
    assert_eq!(j.t.count(CHANNELS).await, 0);

    admin.fill("Name", "WhatsApp Sales").await;
    admin
        .fill("Phone number ID", whatsapp::PHONE_NUMBER_ID)
        .await;
    admin.fill("Access token", whatsapp::TOKEN).await;
    admin.fill("App secret", whatsapp::APP_SECRET).await;
    admin.fill("Verify token", whatsapp::VERIFY_TOKEN).await;
    point_at(&admin, &wa.base_url()).await;
    admin.click_text("Create channel").await;
    admin.see("Saved.").await;
    // The webhook URL and the verify token are there to copy; secrets are not shown back.
    let url = format!("{}/hooks/whatsapp/1", j.t.base());
    assert_eq!(admin.value(".webhooks input").await, url);
    admin.el(&format!("button[data-copy=\"{url}\"]")).await;
    assert_eq!(
        admin.value("input[name=verify_token]").await,
        whatsapp::VERIFY_TOKEN
    );
    admin
        .el(&format!("button[data-copy=\"{}\"]", whatsapp::VERIFY_TOKEN))
        .await;
    assert_eq!(admin.value("input[name=access_token]").await, "");
    admin.wait_text("#https-warning", "public HTTPS").await;

    admin.click_text("Test connection").await;
    admin
        .wait_text("#test-result", "Connected: Sunnyside Dental +15550783881")
        .await;
    // A wrong token: Meta's own words.
    admin.fill("Access token", "EAAG-expired-token").await;
    admin.click_text("Save").await;
    admin.see("Saved.").await;
    admin.click_text("Test connection").await;
    admin
        .wait_text("#test-result", "Invalid OAuth access token")
        .await;
    admin.screenshot().await;
    j.finish([admin]).await;
}

/// A4: Twilio SMS and Messenger the same way, each with only its own fields and Test
/// connection answered by the provider (the account, the page, or the provider's error).
#[tokio::test]
async fn journey_a4_connect_twilio_and_messenger() {
    if skip() {
        return;
    }
    let j = Journey::start("a4_connect_twilio_and_messenger").await;
    let tw = FakeTwilio::start().await;
    let fb = FakeMessenger::start().await;
    let admin = j.login("admin").await;
    admin.open("/admin/channels").await;
    admin.click_text("SMS (Twilio)").await;
    admin.wait_text("h1", "SMS (Twilio)").await;
    admin.assert_absent("input[name=phone_number_id]").await;
    admin.assert_absent("input[name=verify_token]").await;
    admin.fill("Name", "Front desk SMS").await;
    admin.fill("Account SID", twilio::ACCOUNT_SID).await;
    admin.click_text("Create channel").await;
    admin.wait_text("#form-error", "Auth token").await;
    admin.fill("Name", "Front desk SMS").await;
    admin.fill("Account SID", twilio::ACCOUNT_SID).await;
    admin.fill("Auth token", "wrong-token").await;
    admin.fill("From number", twilio::FROM_NUMBER).await;
    point_at(&admin, &tw.base_url()).await;
    admin.click_text("Create channel").await;
    admin.see("Saved.").await;
    admin.see("A message comes in").await;
    admin.click_text("Test connection").await;
    admin
        .wait_text("#test-result", "Authenticate (code 20003)")
        .await;
    admin.fill("Auth token", twilio::AUTH_TOKEN).await;
    admin.click_text("Save").await;
    admin.click_text("Test connection").await;
    admin
        .wait_text("#test-result", "Connected: Sunnyside Dental (active)")
        .await;
    admin.screenshot_step("twilio").await;

    admin.click_text("Channels").await;
    admin.click_text("Facebook Messenger").await;
    admin.wait_text("h1", "Facebook Messenger").await;
    admin.assert_absent("input[name=account_sid]").await;
    admin.fill("Name", "Facebook page").await;
    admin.fill("Page ID", messenger::PAGE_ID).await;
    admin.fill("Page access token", messenger::PAGE_TOKEN).await;
    admin.fill("App secret", messenger::APP_SECRET).await;
    admin.fill("Verify token", messenger::VERIFY_TOKEN).await;
    point_at(&admin, &fb.base_url()).await;
    admin.click_text("Create channel").await;
    admin.see("Saved.").await;
    admin.see("subscribe your page to the app").await;
    admin.click_text("Test connection").await;
    admin
        .wait_text("#test-result", "Connected: Sunnyside Dental")
        .await;
    // The list shows both, with their kind.
    admin.click_text("Channels").await;
    admin.wait_text(".channels-list", "Front desk SMS").await;
    admin
        .wait_text(".channels-list", "Facebook Messenger")
        .await;
    admin.screenshot().await;
    j.finish([admin]).await;
}

/// A10: deleting a channel asks first and says what it holds.
#[tokio::test]
async fn journey_a10_delete_a_channel_after_confirmation() {
    if skip() {
        return;
    }
    let j = Journey::start("a10_delete_a_channel").await;
    let wa = FakeWhatsApp::start().await;
    let ch = setup::whatsapp_channel(&j.t, &wa).await;
    customer::whatsapp(&j.t, ch, "4915112345678", "Jonas Weber", "Hello?").await;
    customer::whatsapp(&j.t, ch, "4915112345678", "Jonas Weber", "Anyone there?").await;
    let admin = j.login("admin").await;
    admin.open("/admin/channels").await;
    admin.click_text("WA").await;
    admin.click_text("Delete channel…").await;
    let text = admin
        .wait_text("#delete-consequences", "1 conversation,")
        .await;
    assert!(text.contains("2 messages"), "{text}");
    assert!(text.contains("0 attachments"), "{text}");
    admin.see("nobody can answer").await;
    // German counts the same way: one "Gespräch", not "Gespräche".
    let de = j.browser().german().login("admin").await;
    de.open(&format!("/admin/channels/{ch}/delete")).await;
    let text = de.wait_text("#delete-consequences", "1 Gespräch,").await;
    assert!(text.contains("2 Nachrichten"), "{text}");
    de.close().await;
    // Cancel keeps it.
    admin.click_text("Cancel").await;
    admin.wait_text("h1", "WA").await;
    assert_eq!(j.t.count(CHANNELS).await, 1);
    admin.click_text("Delete channel…").await;
    admin.screenshot_step("confirm").await;
    admin.click_text("Yes, delete this channel").await;
    admin.see("No channel yet").await;
    assert_eq!(j.t.count(CHANNELS).await, 0);
    admin.screenshot().await;
    j.finish([admin]).await;
}

/// Creates agent "anna" through the Users page.
async fn add_agent(admin: &Person) {
    admin.open("/admin/users").await;
    admin.fill("Username", "anna").await;
    admin.fill("Display name", "Anna Berger").await;
    admin.fill("Email", "anna@sunnyside.example").await;
    admin.fill("Extension", "201").await;
    admin.fill("Password", "anna-password-1").await;
    admin.select_labelled("Role", "Agent").await;
    admin.click_text("Create").await;
    admin
        .el("input[name=display_name][value=\"Anna Berger\"]")
        .await;
}

/// A1: the used setup link says setup is complete and leads to sign-in; the admin's
/// checklist ticks itself as agents are added and a channel is connected.
#[tokio::test]
async fn journey_a1_first_start_checklist() {
    if skip() {
        return;
    }
    let j = Journey::start("a1_first_start_checklist").await;
    let admin = j.browser().open().await;
    admin.open("/setup?token=the-link-from-the-log").await;
    admin
        .wait_text("#setup-complete", "Setup is complete")
        .await;
    admin.click_text("Sign in").await;
    admin.login("admin", PASSWORD).await;
    admin.open("/admin/start").await;
    admin.wait_text("#start-progress", "0 / 4 done").await;
    admin.click_text("Go to Users").await;
    add_agent(&admin).await;
    admin.click_text("Getting started").await;
    admin.wait_text("#start-progress", "1 / 4 done").await;
    assert_eq!(admin.count(".checklist .step.done").await, 1);
    admin.click_text("Go to Channels").await;
    admin.click_text("SMS (Twilio)").await;
    admin.fill("Name", "SMS").await;
    admin.fill("Account SID", twilio::ACCOUNT_SID).await;
    admin.fill("Auth token", twilio::AUTH_TOKEN).await;
    admin.fill("From number", twilio::FROM_NUMBER).await;
    admin.click_text("Create channel").await;
    admin.see("Saved.").await;
    admin.click_text("Getting started").await;
    admin.wait_text("#start-progress", "2 / 4 done").await;
    admin.see("Create a website chat").await;
    admin.screenshot().await;
    j.finish([admin]).await;
}

/// A2: the admin adds an agent with name, extension, e-mail and role; the agent signs in.
#[tokio::test]
async fn journey_a2_add_an_agent() {
    if skip() {
        return;
    }
    let j = Journey::start("a2_add_an_agent").await;
    let admin = j.login("admin").await;
    add_agent(&admin).await;
    let anna = j.browser().open().await;
    anna.login("anna", "anna-password-1").await;
    anna.open("/settings").await;
    assert_eq!(anna.value("input[name=display_name]").await, "Anna Berger");
    anna.screenshot().await;
    j.finish([admin, anna]).await;
}

/// The id in the current `/admin/channels/{id}…` address.
async fn channel_id_from_url(admin: &Person) -> u64 {
    let url = admin.url().await;
    let tail = url.split("/admin/channels/").nth(1).unwrap_or_default();
    tail.split(['?', '/', '#'])
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no channel id in {url}"))
}

async fn stored_livechat(j: &Journey, id: u64) -> switchboard::domain::channels::LivechatSettings {
    j.t.state()
        .store
        .read(move |rtx| switchboard::domain::channels::get(rtx, ChannelId(id)))
        .await
        .unwrap()
        .unwrap()
        .livechat
}

/// Sets the colour picker (it takes no typing) and tells the page, as a pick would.
async fn pick_colour(admin: &Person, hex: &str) {
    admin
        .js(&format!(
            "const c = document.getElementById('lc-accent'); c.value = '{hex}'; \
             c.dispatchEvent(new Event('input', {{bubbles: true}})); return true;"
        ))
        .await;
}

/// Creates the website chat channel "Website" through the pages, the admin a member of it.
async fn create_website_chat(admin: &Person) {
    admin.open("/admin/channels").await;
    admin.click_text("Website chat").await;
    admin.fill("Name", "Website").await;
    admin.click("input[name=members]").await;
    admin.click_text("Create channel").await;
    admin.see("Saved.").await;
}

/// A5: the website chat's page has a field for every widget setting, refuses an origin with a
/// path by name (in the page as typed, and on save with nothing changed), previews title,
/// greeting and colour while the admin types, and offers the snippet with a Copy button.
#[tokio::test]
async fn journey_a5_put_the_chat_on_the_website() {
    if skip() {
        return;
    }
    let j = Journey::start("a5_put_the_chat_on_the_website").await;
    let admin = j.login("admin").await;
    create_website_chat(&admin).await;
    let id = channel_id_from_url(&admin).await;

    // An address with a path is not an origin: said beside the field, and refused on save.
    admin
        .fill(
            "Websites allowed to use the chat",
            "https://www.sunnyside.example/contact",
        )
        .await;
    admin
        .wait_text("#lc-origins-error", "is not an origin")
        .await;
    admin.click_text("Save").await;
    admin.wait_text("#form-error", "has a path").await;
    admin.wait_text("#lc-origins-error", "has a path").await;
    assert_eq!(
        admin.value("#lc-origins").await,
        "https://www.sunnyside.example/contact",
        "what the admin typed stays for correcting"
    );
    assert!(stored_livechat(&j, id).await.allowed_origins.is_empty());

    // The preview follows the typing, before anything is saved.
    admin
        .fill(
            "Websites allowed to use the chat",
            "https://www.sunnyside.example",
        )
        .await;
    admin
        .wait_js(
            "document.getElementById('lc-origins-error').hidden",
            "the origin error to go",
        )
        .await;
    admin.fill("Widget title", "Sunnyside Dental").await;
    admin
        .wait_text("#lc-preview-title", "Sunnyside Dental")
        .await;
    admin
        .fill("Greeting", "Hi! Questions about your appointment?")
        .await;
    admin
        .wait_text("#lc-preview-greeting", "Questions about your appointment?")
        .await;
    pick_colour(&admin, "#2a6f5b").await;
    admin
        .wait_js(
            "getComputedStyle(document.getElementById('lc-preview-title')).backgroundColor \
             === 'rgb(42, 111, 91)'",
            "the preview in the new colour",
        )
        .await;
    admin
        .fill("Text when nobody is online", "We are away; leave a note.")
        .await;
    admin.click("input[name=lc_uploads]").await;
    // Most of the office's website visitors read German; a browser in a language Switchboard
    // has no file for gets the widget in German, not English.
    admin
        .select_labelled(
            "Widget language for visitors whose browser language we do not have",
            "Deutsch",
        )
        .await;
    admin.screenshot_step("preview").await;
    admin.click_text("Save").await;
    admin.see("Saved.").await;

    let lc = stored_livechat(&j, id).await;
    assert_eq!(lc.allowed_origins, vec!["https://www.sunnyside.example"]);
    assert_eq!(lc.title, "Sunnyside Dental");
    assert_eq!(lc.greeting, "Hi! Questions about your appointment?");
    assert_eq!(lc.accent, "#2a6f5b");
    assert_eq!(lc.offline_message, "We are away; leave a note.");
    assert!(lc.prechat_form);
    assert!(!lc.uploads);
    assert_eq!(lc.language, "de");

    // The snippet, copied with its button.
    let snippet = admin.value("#livechat-snippet").await;
    assert!(
        snippet.contains(&format!("data-channel=\"{id}\"")) && snippet.contains("/widget.js"),
        "{snippet}"
    );
    admin
        .js("window.__copied = ''; navigator.clipboard.writeText = (t) => { window.__copied = t; return Promise.resolve(); }; return true;")
        .await;
    admin.click("#lc-copy").await;
    admin
        .wait_js(
            &format!("window.__copied === {}", serde_json::json!(snippet)),
            "the snippet on the clipboard",
        )
        .await;
    admin.screenshot().await;

    // In German on a phone: the same fields, no sideways scroll.
    let de = j.browser().phone().german().login("admin").await;
    de.open(&format!("/admin/channels/{id}")).await;
    de.field("Websites, die den Chat verwenden dürfen").await;
    de.wait_text("#lc-preview-title", "Sunnyside Dental").await;
    // The widget fields, preview and snippet fit the phone's width (the page's top and admin
    // navigation are not this journey's).
    de.wait_js(
        "[...document.querySelectorAll('#lc-settings *, #lc-embed *')]\
         .every(e => e.getBoundingClientRect().right <= window.innerWidth)",
        "the widget settings within 390 px",
    )
    .await;
    de.screenshot().await;

    // The widget in the channel's language for a French browser, in English for an English
    // one (the admin's preview of the widget, /livechat/demo/{id}).
    let fr = j.browser().lang(Lang::Fr).login("admin").await;
    for (who, start) in [(&fr, "Chat starten"), (&admin, "Start chat")] {
        who.open(&format!("/livechat/demo/{id}")).await;
        who.wait_js(
            "document.querySelector('#swb-livechat') && document.querySelector('#swb-livechat').shadowRoot.querySelector('.bub')",
            "the chat bubble",
        )
        .await;
        who.js("document.querySelector('#swb-livechat').shadowRoot.querySelector('.bub').click(); return 0")
            .await;
        who.wait_js(
            &format!(
                "document.querySelector('#swb-livechat').shadowRoot.querySelector('.go').textContent === {}",
                serde_json::json!(start)
            ),
            start,
        )
        .await;
    }
    fr.screenshot_step("widget-for-a-french-browser").await;
    j.finish([admin, de, fr]).await;
}

/// A stand-in office website on a second origin (another port): every request gets `html`.
async fn serve_site(html: String) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let html = html.clone();
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = sock.read(&mut buf).await;
                let resp = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: text/html; charset=utf-8\r\n\
                     content-length: {}\r\nconnection: close\r\n\r\n{html}",
                    html.len()
                );
                let _ = sock.write_all(resp.as_bytes()).await;
                let _ = sock.shutdown().await;
            });
        }
    });
    origin
}

/// Waits until the widget's shadow DOM holds `needle` in its visible text.
async fn widget_shows(visitor: &Person, needle: &str) {
    visitor
        .wait_js(
            &format!(
                "(() => {{ const h = document.getElementById('swb-livechat'); \
                 return !!h && h.shadowRoot.querySelector('.panel').innerText.includes({}); }})()",
                serde_json::json!(needle)
            ),
            needle,
        )
        .await;
}

/// D1: the office's website (a second origin) carries the snippet; the admin allows that
/// origin in the channel's page; a visitor opens the site, fills the pre-chat form and writes;
/// the agent sees it in the inbox and answers; the visitor reads the answer in the widget.
#[tokio::test]
async fn journey_d1_ask_the_office() {
    if skip() {
        return;
    }
    let j = Journey::start("d1_ask_the_office").await;
    let admin = j.login("admin").await;
    create_website_chat(&admin).await;
    let snippet = admin.value("#livechat-snippet").await;
    let site = serve_site(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Sunnyside Dental</title></head>\
         <body><h1>Sunnyside Dental</h1><p>Opening hours: Mon–Fri 8–18.</p>{snippet}</body></html>"
    ))
    .await;
    admin.fill("Websites allowed to use the chat", &site).await;
    admin.click_text("Save").await;
    admin.see("Saved.").await;

    // The agent waits in the inbox (that makes the chat "online").
    admin.click_text("External").await;
    admin.wait_live().await;

    let visitor = j.browser().open().await;
    visitor.open(&site).await;
    visitor.click_text("Open chat").await;
    visitor.fill("Name", "Vera Visitor").await;
    visitor.fill("E-mail", "vera@example.org").await;
    visitor.click_text("Start chat").await;
    visitor
        .fill("Message", "Can I move my appointment to Friday?")
        .await;
    visitor.click_text("Send").await;

    admin.click_text("Vera Visitor").await;
    admin.see("Can I move my appointment to Friday?").await;
    admin.click_text("Pick up").await;
    admin.wait_gone("[data-action=pickup]").await;
    admin
        .type_in(
            "#composer-text",
            &format!("Yes, Friday 10:00 is free.{}", crate::browser::keys::ENTER),
        )
        .await;
    admin.wait_text("#messages", "Friday 10:00 is free").await;

    widget_shows(&visitor, "Yes, Friday 10:00 is free.").await;
    visitor.screenshot().await;
    j.finish([admin, visitor]).await;
}

/// A6: the admin prepares the team's tools from the pages: a WhatsApp template with two
/// parameters, a shared canned reply, the tags and results lists, and the channel's queue mode
/// and per-agent cap; then an agent finds each of them where she works.
#[tokio::test]
async fn journey_a6_prepare_the_teams_tools() {
    if skip() {
        return;
    }
    let j = Journey::start("a6_prepare_the_teams_tools").await;
    let wa = FakeWhatsApp::start().await;
    let ch = setup::whatsapp_channel(&j.t, &wa).await;
    let admin = j.login("admin").await;

    admin.open("/admin/channels").await;
    admin.click_text("Templates").await;
    admin.wait_text("h1", "WhatsApp templates").await;
    admin.fill("Name", "order_update").await;
    admin.fill("Language", "en_US").await;
    admin
        .fill("Body", "Hi {{1}}, your order {{2}} has shipped.")
        .await;
    admin.select_labelled("Channel", "WA").await;
    admin.click_text("Register").await;
    admin.wait_text("table", "order_update").await;

    admin.click_text("Canned replies").await;
    admin.wait_text("h1", "Shared canned replies").await;
    admin.fill("Shortcut", "hours").await;
    admin.fill("Text", "We are open 8:00 to 18:00.").await;
    admin.click_text("Save").await;
    admin.wait_text("table", "hours").await;

    admin.click_text("Tags & results").await;
    admin.wait_text("h1", "Tags and session results").await;
    admin
        .fill("Tags agents may put on sessions", "order\nrefund")
        .await;
    admin
        .fill("Results offered when ending a chat", "Solved\nCall back")
        .await;
    admin.click_text("Save").await;
    admin.wait_text("h1", "Tags and session results").await;

    admin.click_text("Channels").await;
    admin.click_text("WA").await;
    admin.wait_text("h1", "WA").await;
    admin
        .select_labelled("Queue mode", "Assign on arrival")
        .await;
    admin.fill("Open conversations per agent", "3").await;
    admin.click_text("Save").await;
    admin.see("Saved.").await;

    // What the agents' pages are given, read back through the API they use.
    let tpl =
        j.t.admin
            .get(&format!("/api/v1/templates?channel_id={ch}"))
            .await;
    assert_eq!(tpl.status, 200, "{}", tpl.text());
    let tpl = tpl.json().to_string();
    assert!(tpl.contains("order_update"), "{tpl}");
    let canned = j.t.admin.get("/api/v1/canned").await.json().to_string();
    assert!(canned.contains("hours"), "{canned}");
    let lists = format!(
        "{} {}",
        j.t.admin.get("/api/v1/tags").await.text(),
        j.t.admin.get("/api/v1/results").await.text()
    );
    for want in ["order", "refund", "Solved", "Call back"] {
        assert!(lists.contains(want), "{want} missing in {lists}");
    }
    let c =
        j.t.admin
            .get(&format!("/api/v1/channels/{ch}"))
            .await
            .json();
    assert_eq!(c["queue_mode"], "assign_on_arrival", "{c}");
    assert_eq!(c["max_sessions_per_agent"], 3, "{c}");
    admin.screenshot().await;
    j.finish([admin]).await;
}

/// A1: before any channel, the admin's empty inbox points to Admin → Channels; an agent's
/// empty inbox says neutrally where conversations come from.
#[tokio::test]
async fn journey_a1_empty_inbox_points_to_channels() {
    if skip() {
        return;
    }
    let j = Journey::start("a1_empty_inbox_points_to_channels").await;
    let admin = j.login("admin").await;
    add_agent(&admin).await;
    admin.open("/chat/external").await;
    admin.wait_text("#list-empty", "channels you connect").await;
    admin.click_text("Admin → Channels").await;
    admin.see("No channel yet").await;
    let anna = j.browser().open().await;
    anna.login("anna", "anna-password-1").await;
    anna.open("/chat/external").await;
    anna.wait_text("#list-empty", "when customers write").await;
    anna.assert_absent("#empty-channels-link").await;
    admin.screenshot().await;
    j.finish([admin, anna]).await;
}

/// A8: the admin blocks a number from the block list by clicking, sees it with the contact's
/// name, the channel's name, their own name and a local time (no ids), then lifts the block.
#[tokio::test]
async fn journey_a8_block_and_unblock_from_the_block_list() {
    if skip() {
        return;
    }
    let j = Journey::start("a8_block_and_unblock").await;
    let wa = FakeWhatsApp::start().await;
    let ch = setup::whatsapp_channel(&j.t, &wa).await;
    customer::whatsapp(
        &j.t,
        ch,
        "4915112345678",
        "Jonas Weber",
        "Buy cheap watches",
    )
    .await;
    let admin = j.login("admin").await;
    admin.click_text("Admin").await;
    admin.click_text("Block list").await;
    admin.see("Nobody is blocked.").await;
    // A reason is required: refused at the form, nothing blocked.
    admin.fill("Number or address", "4915112345678").await;
    admin.fill("Reason", "   ").await;
    admin.click_text("Block").await;
    admin.wait_text("#block-error", "reason").await;
    admin.see("Nobody is blocked.").await;
    admin.select_labelled("Channel", "WA").await;
    admin.fill("Number or address", "4915112345678").await;
    admin.fill("Reason", "Spam").await;
    admin.click_text("Block").await;
    let row = admin.wait_text("#block-list tbody", "Jonas Weber").await;
    assert!(row.contains("WA"), "{row}");
    assert!(row.contains("Ada Admin"), "{row}");
    assert!(row.contains("Spam"), "{row}");
    assert!(!row.contains("user:"), "{row}");
    let when = admin.wait_text("#block-list time", ":").await;
    assert!(!when.chars().all(|c| c.is_ascii_digit()), "{when}");
    assert!(!when.contains("UTC"), "{when}");
    // A number that never wrote can be blocked too.
    admin.fill("Number or address", "4917600000000").await;
    admin.fill("Reason", "Harassment").await;
    admin.click_text("Block").await;
    admin.wait_text("#block-list tbody", "4917600000000").await;
    admin.screenshot_step("blocked").await;
    admin.click_text("Lift block: Jonas Weber").await;
    admin.wait_text("#block-list tbody", "4917600000000").await;
    let rest = admin.wait_text("#block-list tbody", "Harassment").await;
    assert!(!rest.contains("Jonas Weber"), "{rest}");
    admin.screenshot().await;
    j.finish([admin]).await;
}

/// A9: the audit log names people and channels and shows local times, not ids and epochs.
#[tokio::test]
async fn journey_a9_audit_log_with_names_and_dates() {
    if skip() {
        return;
    }
    let j = Journey::start("a9_audit_log_with_names").await;
    let wa = FakeWhatsApp::start().await;
    let ch = setup::whatsapp_channel(&j.t, &wa).await;
    customer::whatsapp(&j.t, ch, "4915112345678", "Jonas Weber", "Hello").await;
    let admin = j.login("admin").await;
    add_agent(&admin).await;
    admin.open("/admin/blocks").await;
    admin.fill("Number or address", "4915112345678").await;
    admin.fill("Reason", "Spam").await;
    admin.click_text("Block").await;
    admin.wait_text("#block-list tbody", "Jonas Weber").await;
    admin.click_text("Audit log").await;
    let log = admin.wait_text("#audit-log tbody", "Anna Berger").await;
    assert!(log.contains("Ada Admin"), "{log}");
    assert!(log.contains("Jonas Weber"), "{log}");
    assert!(log.contains("WA"), "{log}");
    for raw in ["user:", "channel:", "contact:"] {
        assert!(!log.contains(raw), "{raw} in {log}");
    }
    let when = admin.wait_text("#audit-log time", ":").await;
    assert!(!when.contains("UTC"), "{when}");
    assert!(!when.chars().all(|c| c.is_ascii_digit()), "{when}");
    admin.screenshot().await;

    // A German admin reads the same log in German: what was recorded as words (a role, a
    // template's parameters) is not stuck in English, and a template is named, not numbered.
    let r =
        j.t.admin
            .post(
                "/api/v1/templates",
                serde_json::json!({"name": "order_update", "language": "de", "body": "Hallo {{1}}, Ihre Bestellung {{2}} ist unterwegs."}),
            )
            .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let de = j.browser().german().login("admin").await;
    de.open("/admin/audit").await;
    let log = de
        .wait_text("#audit-log tbody", "order_update (de), 2 Parameter")
        .await;
    assert!(
        log.contains("(Agent)") && log.contains("WA (WhatsApp)"),
        "{log}"
    );
    assert!(
        !log.contains("template:") && !log.contains("parameters"),
        "{log}"
    );
    de.screenshot().await;
    j.finish([admin, de]).await;
}

/// A7: the admin enters Asterisk AMI credentials and presses **Test**: a wrong secret shows
/// Asterisk's own "Authentication failed", the right one passes, is saved, and a second Test
/// with the secret field left masked uses the stored secret. Then Yeastar: a wrong client
/// secret shows Yeastar's errcode, the right one passes.
#[tokio::test]
async fn journey_a7_link_the_pbx_and_test_it() {
    if skip() {
        return;
    }
    let j = Journey::start("a7_link_the_pbx").await;
    let pbx = FakeAmi::start(Mode::Answered).await;
    let ys = FakeYeastar::start().await;
    let admin = j.login("admin").await;
    admin.click_text("Admin").await;
    admin.click_text("PBX").await;
    admin.fill("Host", "127.0.0.1").await;
    admin.fill("Port", &pbx.port.to_string()).await;
    admin.fill("Username", ami::USERNAME).await;
    admin.fill("Secret", "wrong-secret").await;
    admin.click_text("Test the AMI login").await;
    admin
        .wait_text(
            "#pbx-test",
            "Test failed: the PBX refused the login: Authentication failed",
        )
        .await;
    admin.fill("Host", "127.0.0.1").await;
    admin.fill("Port", &pbx.port.to_string()).await;
    admin.fill("Username", ami::USERNAME).await;
    admin.fill("Secret", ami::SECRET).await;
    admin.click_text("Test the AMI login").await;
    admin
        .wait_text("#pbx-test", "Test passed: Authentication accepted")
        .await;
    admin.fill("Host", "127.0.0.1").await;
    admin.fill("Port", &pbx.port.to_string()).await;
    admin.fill("Username", ami::USERNAME).await;
    admin.fill("Secret", ami::SECRET).await;
    admin.click_text("Use Asterisk AMI").await;
    admin
        .wait_text("#pbx-status", "Current link: Asterisk AMI")
        .await;
    // The status line keeps the last test's answer and its (local) time.
    let status = admin
        .wait_text("#pbx-status", "Test passed: Authentication accepted")
        .await;
    assert!(!status.contains("UTC"), "{status}");
    // The stored secret comes back masked; Test uses the stored one.
    admin.click_text("Test the AMI login").await;
    admin
        .wait_text("#pbx-test", "Test passed: Authentication accepted")
        .await;
    admin.screenshot_step("ami").await;
    admin.fill("Base URL", &ys.base_url()).await;
    admin.fill("Client ID", yeastar::CLIENT_ID).await;
    admin.fill("Client secret", "nope").await;
    admin.click_text("Test the Yeastar login").await;
    admin.wait_text("#pbx-test", "errcode 10004").await;
    admin.fill("Base URL", &ys.base_url()).await;
    admin.fill("Client ID", yeastar::CLIENT_ID).await;
    admin.fill("Client secret", yeastar::CLIENT_SECRET).await;
    admin.click_text("Test the Yeastar login").await;
    admin.wait_text("#pbx-test", "Test passed").await;
    admin.screenshot().await;
    j.finish([admin]).await;
}
