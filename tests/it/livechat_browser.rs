//! The widget in headless Chromium, embedded on a page served from a different origin (a tiny
//! server in the test), talking to the real Switchboard server.

use std::time::Duration;

use serde_json::{Value, json};
use switchboard::store::tables;

use crate::browser::{Browser, skip};
use crate::support::read::newest_session;
use crate::support::setup::{SITE, livechat_channel};
use crate::support::{EventStream, TestServer, Visitor};

/// A "customer website" on its own port (so its own origin) with the widget snippet and a
/// hostile stylesheet the widget must be immune to.
struct HostPage {
    origin: String,
    listener: Option<tokio::net::TcpListener>,
}

impl HostPage {
    async fn bind() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let origin = format!("http://{}", listener.local_addr().unwrap());
        HostPage {
            origin,
            listener: Some(listener),
        }
    }
    fn serve(&mut self, switchboard: &str, channel: u64) {
        let html = format!(
            r#"<!doctype html><html><head><meta charset="utf-8"><title>Shop</title>
<style>* {{ color: red !important; font-family: serif !important; }} button {{ display: none !important; }}
.panel, .bub {{ display: none !important; }}</style></head>
<body><h1>Sunnyside shop</h1><p>Host page content.</p>
<script src="{switchboard}/widget.js" data-channel="{channel}" async></script></body></html>"#
        );
        let app = axum::Router::new().route(
            "/",
            axum::routing::get(move || {
                let h = html.clone();
                async move { axum::response::Html(h) }
            }),
        );
        let listener = self.listener.take().unwrap();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
    }
}

const SR: &str = "const sr = document.querySelector('#swb-livechat') && document.querySelector('#swb-livechat').shadowRoot;";

/// Runs `body` in the page with `sr` bound to the widget's shadow root.
async fn js(b: &Browser, body: &str) -> Value {
    b.js(&format!("{SR} {body}")).await
}

/// Polls `cond` (a JS expression using `sr`) until it is true (30 s of wall clock, so a
/// busy CI machine running several browsers at once does not shorten the patience).
async fn wait_js(b: &Browser, cond: &str, what: &str) {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while std::time::Instant::now() < deadline {
        if js(
            b,
            &format!("try {{ return !!({cond}); }} catch (e) {{ return false; }}"),
        )
        .await
        .as_bool()
            == Some(true)
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let panel = js(
        b,
        "return sr ? sr.querySelector('.panel').innerText : 'no widget';",
    )
    .await;
    panic!("timed out waiting for {what}; panel: {panel}");
}

async fn panel_text(b: &Browser) -> String {
    js(b, "return sr.querySelector('.panel').innerText;")
        .await
        .as_str()
        .unwrap_or_default()
        .to_string()
}

async fn type_and_enter(b: &Browser, text: &str) {
    js(
        b,
        &format!(
            "const i = sr.querySelector('.comp textarea'); i.focus(); i.value = {}; \
             i.dispatchEvent(new KeyboardEvent('keydown', {{key: 'Enter', bubbles: true}})); return true;",
            json!(text)
        ),
    )
    .await;
}

async fn open_widget(b: &Browser, origin: &str) {
    b.goto(&format!("{origin}/")).await;
    wait_js(b, "sr && sr.querySelector('.bub')", "the chat bubble").await;
    // The host page's `button { display: none !important }` does not reach into the widget.
    assert_eq!(
        js(
            b,
            "return getComputedStyle(sr.querySelector('.bub')).display;"
        )
        .await,
        "flex"
    );
    js(b, "sr.querySelector('.bub').click(); return true;").await;
    wait_js(b, "!sr.querySelector('.panel').hidden", "the panel to open").await;
}

const XSS_NAME: &str = r#"Eve <img src=x onerror="window.__xss='name'">"#;
const XSS_TEXT: &str = r#"Hi <b id="pwn">bold</b><img src=x onerror="window.__xss='text'"> & bye"#;
const XSS_REPLY: &str =
    r#"Hello Eve <script>window.__xss='reply'</script><img src=x onerror="window.__xss='reply'">"#;

#[tokio::test]
async fn widget_round_trip_from_another_origin_with_reload_flood_and_xss() {
    if skip() {
        return;
    }
    let t = TestServer::start().await;
    let mut host = HostPage::bind().await;
    let ch = livechat_channel(&t, &[&host.origin], true).await;
    host.serve(&t.base(), ch);
    // The agent (the admin; the channel has no members) is online with an open stream.
    let mut agent = EventStream::open(&t.admin).await;

    let b = Browser::start().await;
    open_widget(&b, &host.origin).await;
    wait_js(
        &b,
        "!sr.querySelector('form.pre').hidden",
        "the pre-chat form",
    )
    .await;
    let text = panel_text(&b).await;
    assert!(
        text.contains("Chat with us") && text.contains("We are online"),
        "{text}"
    );
    js(
        &b,
        &format!(
            "const f = sr.querySelector('form.pre'); f.name.value = {}; f.email.value = 'eve@example.com'; \
             f.requestSubmit(); return true;",
            json!(XSS_NAME)
        ),
    )
    .await;
    wait_js(&b, "!sr.querySelector('.comp').hidden", "the composer").await;
    type_and_enter(&b, XSS_TEXT).await;

    // The agent sees it live, stored verbatim.
    let got = agent
        .until(|e| e.kind() == "message.created" && e.data()["text"] == XSS_TEXT)
        .await;
    assert!(!got.is_empty());
    let s = newest_session(&t, ch).await;
    assert_eq!(s["contact_name"], XSS_NAME);
    let sid = s["id"].as_u64().unwrap();
    // The visitor's own bubble shows the text as text, delivered (has an id).
    wait_js(
        &b,
        &format!(
            "[...sr.querySelectorAll('.me[data-id] .t')].some(e => e.textContent === {})",
            json!(XSS_TEXT)
        ),
        "the visitor's message",
    )
    .await;

    // The agent replies (and types first); the visitor sees both live.
    t.admin
        .post(&format!("/api/v1/sessions/{sid}/typing"), json!({}))
        .await;
    wait_js(
        &b,
        "!sr.querySelector('.typing').hidden",
        "the typing indicator",
    )
    .await;
    assert!(panel_text(&b).await.contains("Ada is typing"));
    let r = t
        .admin
        .post(
            &format!("/api/v1/sessions/{sid}/messages"),
            json!({"text": XSS_REPLY}),
        )
        .await;
    assert_eq!(r.status, 201);
    let reply_id = r.json()["id"].as_u64().unwrap();
    wait_js(
        &b,
        &format!(
            "[...sr.querySelectorAll('.ag .t')].some(e => e.textContent === {})",
            json!(XSS_REPLY)
        ),
        "the agent's reply",
    )
    .await;
    // The open panel reports the reply read; the agent marks the chat read: "Seen".
    let mut read = false;
    let deadline = std::time::Instant::now() + crate::browser::PATIENCE;
    while std::time::Instant::now() < deadline {
        let msgs = t
            .admin
            .get(&format!("/api/v1/sessions/{sid}/messages"))
            .await
            .json();
        if msgs
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["id"] == reply_id && m["status"] == "read")
        {
            read = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(read, "the widget did not report the reply as read");
    t.admin
        .post(&format!("/api/v1/sessions/{sid}/read"), json!({}))
        .await;
    wait_js(&b, "sr.querySelector('.seen')", "the Seen marker").await;

    // Nothing was injected anywhere.
    assert_eq!(js(&b, "return typeof window.__xss;").await, "undefined");
    assert_eq!(
        js(&b, "return !!sr.querySelector('#pwn, script, .t img');").await,
        false
    );
    b.screenshot("widget").await;

    // Reload: the conversation is still there.
    open_widget(&b, &host.origin).await;
    wait_js(
        &b,
        &format!(
            "[...sr.querySelectorAll('.ag .t')].some(e => e.textContent === {})",
            json!(XSS_REPLY)
        ),
        "the reply after reload",
    )
    .await;
    let text = panel_text(&b).await;
    assert!(text.contains("Hi <b id=\"pwn\">bold</b>"), "{text}");
    assert_eq!(
        js(&b, "return sr.querySelector('form.pre').hidden;").await,
        true
    );

    // A flood from the widget is throttled: the visitor is told, the inbox gets at most 10.
    let before = t.count(tables::MESSAGES).await;
    // The message may go again when a later send succeeds (a slow run refills the allowance),
    // so note the moment it is shown.
    js(&b, "window.__sawSlow = false; const e = sr.querySelector('.err'); new MutationObserver(() => { if (!e.hidden && /Too many/.test(e.textContent)) window.__sawSlow = true; }).observe(e, {childList: true, characterData: true, subtree: true, attributes: true}); return 0;").await;
    for i in 0..14 {
        type_and_enter(&b, &format!("flood {i}")).await;
    }
    wait_js(&b, "window.__sawSlow", "the throttle message").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let added = t.count(tables::MESSAGES).await - before;
    assert!((1..14).contains(&added), "{added} flood messages stored");
    assert_eq!(js(&b, "return typeof window.__xss;").await, "undefined");
    b.close().await;
    t.stop().await;
}

#[tokio::test]
async fn a_disallowed_origin_is_refused_and_stores_nothing() {
    if skip() {
        return;
    }
    let t = TestServer::start().await;
    let mut host = HostPage::bind().await;
    let ch = livechat_channel(&t, &["https://only-this.example"], false).await;
    host.serve(&t.base(), ch);
    let b = Browser::start().await;
    b.goto(&format!("{}/", host.origin)).await;
    // The config was asked for and refused: visitors see no widget at all (no broken bubble).
    wait_js(
        &b,
        "performance.getEntriesByType('resource').some(e => e.name.endsWith('/config'))",
        "the widget's config request",
    )
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        js(
            &b,
            "return document.querySelector('#swb-livechat') === null;"
        )
        .await,
        true
    );
    let refusal = js(&b, "return fetch(document.querySelector('script[data-channel]').src.replace('/widget.js', '/livechat/' + document.querySelector('script[data-channel]').dataset.channel + '/config')).then(r => r.json()).then(j => j.error.message);").await;
    assert!(
        refusal
            .as_str()
            .is_some_and(|m| m.contains("not available on this website")),
        "{refusal}"
    );
    // Even a script on that page calling the API directly gets nowhere.
    let status = b
        .client
        .execute_async(
            &format!(
                "const done = arguments[0]; fetch({}, {{method: 'POST', headers: {{'Content-Type': 'application/json'}}, body: '{{}}'}})
                 .then(r => done(r.status), e => done('blocked'));",
                json!(format!("{}/livechat/{ch}/visitors", t.base()))
            ),
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(status, "blocked");
    assert_eq!(t.count(tables::LIVECHAT_VISITORS).await, 0);
    assert_eq!(t.count(tables::MESSAGES).await, 0);
    b.close().await;
    t.stop().await;
}

#[tokio::test]
async fn with_no_agent_online_the_offline_form_reaches_the_inbox() {
    if skip() {
        return;
    }
    let t = TestServer::start().await;
    let (otto, _) = t.user("otto", "agent").await;
    let mut host = HostPage::bind().await;
    let ch = t
        .channel(
            json!({"kind": "livechat", "name": "Site", "members": [otto],
            "livechat": {"allowed_origins": [host.origin], "prechat_form": true,
                         "offline_message": "We are away – leave a note."}}),
        )
        .await;
    host.serve(&t.base(), ch);
    let b = Browser::start().await;
    open_widget(&b, &host.origin).await;
    wait_js(
        &b,
        "!sr.querySelector('form.off').hidden",
        "the offline form",
    )
    .await;
    assert!(panel_text(&b).await.contains("We are away – leave a note."));
    js(
        &b,
        "const f = sr.querySelector('form.off'); f.name.value = 'Olga'; f.email.value = 'olga@example.com'; \
         f.text.value = 'Please call me back'; f.requestSubmit(); return true;",
    )
    .await;
    wait_js(
        &b,
        "/get back to you/.test(sr.querySelector('.note').textContent)",
        "the thank-you note",
    )
    .await;
    let s = newest_session(&t, ch).await;
    assert_eq!(s["contact_name"], "Olga");
    assert_eq!(s["last_preview"], "Please call me back");
    b.close().await;
    t.stop().await;
}

#[tokio::test]
async fn visitor_uploads_an_image() {
    let t = TestServer::start().await;
    let mut host = HostPage::bind().await;
    let ch = livechat_channel(&t, &[&host.origin], false).await;
    host.serve(&t.base(), ch);
    let b = Browser::start().await;
    open_widget(&b, &host.origin).await;
    wait_js(&b, "!sr.querySelector('.comp').hidden", "the composer").await;
    // A 1×1 PNG through the file input.
    js(
        &b,
        "const png = Uint8Array.from(atob('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=='), c => c.charCodeAt(0)); \
         const dt = new DataTransfer(); dt.items.add(new File([png], 'dot.png', {type: 'image/png'})); \
         const i = sr.querySelector('input[type=file]'); i.files = dt.files; i.dispatchEvent(new Event('change')); return true;",
    )
    .await;
    wait_js(
        &b,
        "sr.querySelector('.me[data-id] .t img, .me[data-id] .t div')",
        "the image message",
    )
    .await;
    let s = newest_session(&t, ch).await;
    let msgs = t
        .admin
        .get(&format!("/api/v1/sessions/{}/messages", s["id"]))
        .await
        .json();
    assert_eq!(msgs[0]["files"][0]["mime"], "image/png");
    b.close().await;
    t.stop().await;
}

#[tokio::test]
async fn agent_inbox_renders_visitor_xss_as_text() {
    let t = TestServer::start().await;
    let ch = livechat_channel(&t, &[SITE], true).await;
    let mut v = Visitor::new(&t, ch, Some(SITE));
    v.start(XSS_NAME, "eve@example.com").await;
    assert_eq!(v.say(XSS_TEXT, "x1").await.status, 201);
    let b = Browser::start().await;
    b.login(&t.base(), "admin", crate::support::PASSWORD).await;
    b.goto(&format!("{}/chat/external", t.base())).await;
    b.wait_text("body", "Eve <img").await;
    b.client
        .find(fantoccini::Locator::XPath(
            "//*[contains(text(), 'Eve <img')]",
        ))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.wait_text("body", "<b id=\"pwn\">bold</b>").await;
    assert_eq!(
        b.client
            .execute("return typeof window.__xss;", vec![])
            .await
            .unwrap(),
        "undefined"
    );
    assert!(
        b.client
            .find(fantoccini::Locator::Css("#pwn"))
            .await
            .is_err()
    );
    b.close().await;
    t.stop().await;
}

#[tokio::test]
async fn demo_page_works_under_our_strict_csp() {
    if skip() {
        return;
    }
    let t = TestServer::start().await;
    let ch = livechat_channel(&t, &[], false).await;
    let b = Browser::start().await;
    b.login(&t.base(), "admin", crate::support::PASSWORD).await;
    b.goto(&format!("{}/livechat/demo/{ch}", t.base())).await;
    wait_js(&b, "sr && sr.querySelector('.bub')", "the chat bubble").await;
    // The constructable stylesheet applies despite `style-src 'self'`.
    assert_eq!(
        js(
            &b,
            "return getComputedStyle(sr.querySelector('.bub')).backgroundColor;"
        )
        .await,
        "rgb(47, 111, 237)"
    );
    js(&b, "sr.querySelector('.bub').click(); return true;").await;
    wait_js(
        &b,
        "!sr.querySelector('.comp').hidden",
        "the composer (admin online, no pre-chat form)",
    )
    .await;
    type_and_enter(&b, "Hello from the demo page").await;
    wait_js(&b, "sr.querySelector('.me[data-id]')", "the stored message").await;
    let s = newest_session(&t, ch).await;
    assert_eq!(s["last_preview"], "Hello from the demo page");
    let sid = s["id"].as_u64().unwrap();
    t.admin
        .post(
            &format!("/api/v1/sessions/{sid}/messages"),
            json!({"text": "Hi from the inbox"}),
        )
        .await;
    wait_js(
        &b,
        "[...sr.querySelectorAll('.ag .t')].some(e => e.textContent === 'Hi from the inbox')",
        "the reply",
    )
    .await;
    b.close().await;
    t.stop().await;
}
