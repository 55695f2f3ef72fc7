//! XSS sweep in headless Chromium: hostile payloads in every user-controlled field the product
//! stores and renders (contact names and numbers, channel settings, users, notes, transfer and
//! end-chat notes, tags and results, canned replies, WhatsApp templates, blocks, PBX settings,
//! live-chat texts, file names, internal chats, search, reports, timeline and audit), then every
//! page and client-rendered view that shows them — including live updates over SSE.
//!
//! For every page it asserts: the payload is there literally as text (so the test fails if
//! escaping breaks and the markup is parsed), no element carries an event-handler / `srcdoc`
//! attribute or a `javascript:` URL, no inline script or frame was injected, `window.__xss` is
//! unset and no alert is open. The server-rendered HTML of each page is also fetched raw and must
//! not contain any payload unescaped. The strict CSP would stop most injected handlers from
//! running, so the checks look at the DOM rather than only at `window.__xss`.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::browser::{Browser, skip};
use crate::fakes::whatsapp;
use crate::support::customer::{now_secs, post_wa, writes};
use crate::support::read::{newest_session, wait_status};
use crate::support::{ADMIN, Client, EventStream, PASSWORD, Resp, TestServer, Visitor};

// ---- payload shapes ---------------------------------------------------------------------
const IMG: &str = r#"<img src=x onerror="window.__xss=1">"#;
const SCRIPT: &str = "<script>window.__xss=1</script>";
const SVG: &str = r#""><svg onload="window.__xss=1">"#;
const IFRAME: &str = r#"'><iframe srcdoc="<script>parent.__xss=1</script>">"#;
const JS_URL: &str = "javascript:window.__xss=1//";
const TPL: &str = "{{7*7}} ${7*7} <%= 7*7 %>";
const TEXTAREA: &str = "</textarea><svg onload=window.__xss=1>";

/// Fragments that must never appear unescaped in server-rendered HTML.
const RAW_MARKERS: &[&str] = &[
    "<img src=x",
    "<img/src=x",
    "<script>window",
    "<script>parent",
    "<svg onload",
    "<iframe",
    "</textarea><svg",
    "<%= 7*7",
];

/// The inbox list as `inbox.js` renders it (its channel icons carry a title; the server's do not).
const INBOX_READY: &str = "document.querySelector('#session-list li.srow img.ch-icon[title]')";
/// A session pane as `inbox.js` renders it (the details panel exists only then).
const SESSION_READY: &str = "document.querySelector('#session-list li.srow img.ch-icon[title]') \
    && document.querySelector('#details')";
const CHAT_READY: &str = "document.querySelector('#ic-app[data-ready=\"1\"]')";

fn p(label: &str, shape: &str) -> String {
    format!("{label} {shape}")
}

/// Every field's hostile value, labelled so a failure says which one broke.
struct Payloads {
    login_user: String,
    admin_name: String,
    admin_email: String,
    mal_name: String,
    mal_email: String,
    wa_name: String,
    wa_biz: String,
    sms_name: String,
    sms_from: String,
    lc_name: String,
    lc_title: String,
    lc_greet: String,
    lc_offline: String,
    c1_profile: String,
    c1_renamed: String,
    c1_renamed2: String,
    c1_in: String,
    c1_live_in: String,
    reply: String,
    fail_reason: String,
    note: String,
    live_note: String,
    file_txt: String,
    file_txt_body: String,
    file_png: String,
    tpl_body: String,
    tpl_param: String,
    s3_name: String,
    transfer_note: String,
    tag1: String,
    tag2: String,
    result1: String,
    close_note: String,
    addr2: String,
    sms_in: String,
    block_reason: String,
    canned_shared: String,
    canned_own: String,
    pbx_user: String,
    pbx_context: String,
    pbx_caller: String,
    live_name: String,
    live_msg: String,
    group: String,
    group2: String,
    g_msg: String,
    g_live: String,
    g_file: String,
    direct_msg: String,
    direct_live: String,
    visitor_name: String,
    visitor_msg: String,
    widget_name: String,
    widget_msg: String,
    agent_reply: String,
}

impl Payloads {
    fn new() -> Self {
        Payloads {
            login_user: SVG.to_string(),
            // Visitors see an agent's first word only: make that hostile too.
            admin_name: format!("<img/src=x/onerror=window.__xss=1>Ada {SVG}"),
            admin_email: r#"ada+"><svg/onload=window.__xss=1>@example.org"#.into(),
            mal_name: p("Mal", SCRIPT),
            mal_email: "mal'><iframe/srcdoc=x>@example.org".into(),
            wa_name: p("WA", SVG),
            wa_biz: p("Biz", IFRAME),
            sms_name: p("SMS", JS_URL),
            sms_from: p("From", SVG),
            lc_name: p("LC", SCRIPT),
            lc_title: p("Title", IMG),
            lc_greet: p("Greet", IFRAME),
            lc_offline: format!("Away {SCRIPT} {TPL}"),
            c1_profile: p("Cust", IMG),
            c1_renamed: p("Renamed", SVG),
            c1_renamed2: p("Again", IFRAME),
            c1_in: format!("Hello quokka {SCRIPT}"),
            c1_live_in: p("Live in", IFRAME),
            reply: p("Reply", IFRAME),
            fail_reason: p("Err", IMG),
            note: format!("Note {SVG} {TPL}"),
            live_note: p("Live note", IMG),
            file_txt: format!("F {IMG}.txt"),
            file_txt_body: p("Body", SCRIPT),
            file_png: format!("P {SVG}.png"),
            tpl_body: format!("Hi {{{{1}}}}! {SCRIPT}"),
            tpl_param: p("Param", SVG),
            s3_name: p("Started", JS_URL),
            transfer_note: p("Xfer", IFRAME),
            tag1: p("Tag", IMG),
            tag2: TEXTAREA.to_string(),
            result1: p("Res", SVG),
            close_note: p("End", SCRIPT),
            addr2: "+49\"><svg onload=window.__xss=1>".into(),
            sms_in: p("SMS in", TPL),
            block_reason: p("Spam", IFRAME),
            canned_shared: p("Open 9-5", IMG),
            canned_own: p("Bye", SVG),
            pbx_user: r#"pbx"><svg onload="window.__xss=1">"#.into(),
            pbx_context: p("ctx", IMG),
            pbx_caller: format!("Switchboard <100> {SCRIPT}"),
            live_name: p("Live", IMG),
            live_msg: p("Live msg", SCRIPT),
            group: p("Group", IFRAME),
            group2: p("Group2", SCRIPT),
            g_msg: format!("@admin look quokka {IMG}"),
            g_live: p("G live", SVG),
            g_file: format!("G {SVG}.txt"),
            direct_msg: p("Direct", SCRIPT),
            direct_live: p("Direct live", IMG),
            visitor_name: p("Vis", SVG),
            visitor_msg: p("Visitor", IMG),
            widget_name: p("Widget", IFRAME),
            widget_msg: p("W", SCRIPT),
            agent_reply: p("Agent", IMG),
        }
    }
}

// ---- the browser-side probe ---------------------------------------------------------------

/// Collects the page's text (light DOM, open shadow roots, form values, the title) and every
/// sign of injected markup. `arguments[0]`: the strings that must be present.
const PROBE: &str = r#"
const want = arguments[0];
const roots = [];
const walk = (r) => { roots.push(r); for (const e of r.querySelectorAll('*')) if (e.shadowRoot) walk(e.shadowRoot); };
if (document.body) walk(document.body);
const parts = [document.title];
const bad = [];
for (const r of roots) {
  parts.push(r.textContent);
  for (const e of r.querySelectorAll('input, textarea, option')) parts.push(e.value);
  for (const e of r.querySelectorAll('*')) {
    const tag = e.localName;
    for (const a of Array.from(e.attributes)) {
      const n = a.name.toLowerCase();
      if (n.startsWith('on') || n === 'srcdoc' || n === 'formaction') bad.push(tag + '[' + n + ']');
      if (['href', 'src', 'action', 'xlink:href', 'data'].includes(n) && /^\s*(javascript|vbscript|data):/i.test(a.value)) bad.push(tag + '[' + n + '=' + a.value + ']');
    }
    if (tag === 'script' && !e.hasAttribute('src')) bad.push('inline <script>');
    if (['iframe', 'frame', 'object', 'embed'].includes(tag)) bad.push('<' + tag + '>');
    if (tag === 'img' && e.getAttribute('src') === 'x') bad.push('<img src=x>');
  }
}
const text = parts.join('\n');
return {
  missing: want.filter((w) => !text.includes(w)),
  bad,
  xss: typeof window.__xss === 'undefined' ? null : String(window.__xss),
};
"#;

struct Sweep {
    t: TestServer,
    b: Browser,
    failures: Vec<String>,
    /// (page, number of hostile strings checked there)
    covered: Vec<(String, usize)>,
}

/// The browser's helpers (`js`, `wait_js`, `click`, …) on the sweep itself.
impl std::ops::Deref for Sweep {
    type Target = Browser;
    fn deref(&self) -> &Browser {
        &self.b
    }
}

impl Sweep {
    /// Waits (up to 15 s) until every `want` string is on the page, then records what is
    /// missing and any injected markup, `window.__xss` or alert.
    async fn verify(&mut self, page: &str, want: &[String]) {
        let deadline = Instant::now() + Duration::from_secs(15);
        let mut last = json!(null);
        loop {
            match self.b.client.execute(PROBE, vec![json!(want)]).await {
                Ok(v) => {
                    let done = v["missing"].as_array().is_some_and(|m| m.is_empty());
                    last = v;
                    if done || Instant::now() > deadline {
                        break;
                    }
                }
                Err(e) => {
                    if let Ok(text) = self.b.client.get_alert_text().await {
                        self.failures
                            .push(format!("{page}: an alert opened: {text:?}"));
                        let _ = self.b.client.dismiss_alert().await;
                    } else if Instant::now() > deadline {
                        self.failures.push(format!("{page}: probe failed: {e}"));
                        break;
                    }
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        if let Some(m) = last["missing"].as_array()
            && !m.is_empty()
        {
            self.failures
                .push(format!("{page}: not shown literally: {m:?}"));
        }
        if let Some(bad) = last["bad"].as_array()
            && !bad.is_empty()
        {
            self.failures
                .push(format!("{page}: injected markup: {bad:?}"));
        }
        if !last["xss"].is_null() {
            self.failures
                .push(format!("{page}: window.__xss = {}", last["xss"]));
        }
        if let Ok(text) = self.b.client.get_alert_text().await {
            self.failures
                .push(format!("{page}: an alert opened: {text:?}"));
            let _ = self.b.client.dismiss_alert().await;
        }
        self.covered.push((page.to_string(), want.len()));
    }

    /// Opens a server-rendered page and verifies it; also checks its raw HTML.
    async fn page(&mut self, path: &str, want: &[String]) {
        self.app_page(path, "true", want).await;
    }

    /// Like [`Sweep::page`], for a page a script renders: verifies once `ready` (a JS
    /// expression) says the script has replaced the server's first paint.
    async fn app_page(&mut self, path: &str, ready: &str, want: &[String]) {
        self.raw(path).await;
        self.b.goto(&format!("{}{path}", self.t.base())).await;
        self.wait_js(ready, &format!("{path} to be rendered by its script"))
            .await;
        self.verify(path, want).await;
    }

    /// The HTML as the server sends it must not contain any payload unescaped.
    async fn raw(&mut self, path: &str) {
        let r = self.t.admin.get(path).await;
        let html = r.text();
        if r.status != 200 {
            self.failures
                .push(format!("{path}: raw GET answered {}", r.status));
        }
        for m in RAW_MARKERS {
            if html.contains(m) {
                self.failures
                    .push(format!("{path}: server HTML contains {m:?} unescaped"));
            }
        }
    }
}

fn ok(r: &Resp, what: &str) -> Value {
    assert!(
        (200..300).contains(&r.status),
        "{what}: {} {}",
        r.status,
        r.text()
    );
    if r.body.is_empty() {
        Value::Null
    } else {
        r.json()
    }
}

fn id(v: &Value) -> u64 {
    v["id"].as_u64().unwrap_or_else(|| panic!("no id in {v}"))
}

fn pct(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b == b'.' || b == b'-' || b == b'_' {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Uploads a file; returns its id and the name the server keeps (sanitized for file systems).
async fn upload(c: &Client, query: &str, name: &str, mime: &str, bytes: Vec<u8>) -> (u64, String) {
    let r = c
        .send(
            c.http
                .post(c.url(&format!("/api/v1/attachments?{query}")))
                .headers(c.headers(true))
                .header("x-filename", pct(name))
                .header("content-type", mime)
                .body(bytes),
        )
        .await;
    let v = ok(&r, "upload");
    (id(&v), v["name"].as_str().unwrap_or_default().to_string())
}

fn png_bytes() -> Vec<u8> {
    let img = image::RgbImage::from_fn(64, 48, |x, y| image::Rgb([x as u8 * 4, y as u8 * 5, 120]));
    let mut out = Vec::new();
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    out
}

/// Strings of a JSON list of objects under `key` that carry a payload.
fn hostile(items: &Value, key: &str) -> Vec<String> {
    items
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|e| e[key].as_str())
                .filter(|s| s.contains("__xss") || s.contains("7*7"))
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

fn s(v: &[&String]) -> Vec<String> {
    v.iter().map(|x| (*x).clone()).collect()
}

#[tokio::test]
async fn hostile_input_in_every_field_renders_as_text_on_every_page() {
    if skip() {
        return;
    }
    let started = Instant::now();
    let x = Payloads::new();
    let t = TestServer::start().await;
    let wa_fake = whatsapp::FakeWhatsApp::start().await;
    let admin = t.admin.clone();
    let admin_id = t.admin_id;

    // ---- people ---------------------------------------------------------------------------
    ok(
        &admin
            .patch(
                "/api/v1/me",
                json!({"display_name": x.admin_name, "email": x.admin_email, "extension": "100"}),
            )
            .await,
        "admin profile",
    );
    let (mal_id, mal) = t.user("mallory", "agent").await;
    ok(
        &mal.patch(
            "/api/v1/me",
            json!({"display_name": x.mal_name, "email": x.mal_email, "extension": "+4930*77#"}),
        )
        .await,
        "mallory profile",
    );

    // ---- channels -------------------------------------------------------------------------
    let wa = id(&ok(
        &admin
            .post(
                "/api/v1/channels",
                json!({"kind": "whatsapp", "name": x.wa_name, "business_address": x.wa_biz,
                    "api_base": wa_fake.base_url(), "members": [mal_id],
                    "credentials": {"phone_number_id": whatsapp::PHONE_NUMBER_ID,
                        "access_token": whatsapp::TOKEN, "app_secret": whatsapp::APP_SECRET,
                        "verify_token": whatsapp::VERIFY_TOKEN}}),
            )
            .await,
        "whatsapp channel",
    ));
    let sms = t
        .channel(
            json!({"kind": "sms", "name": x.sms_name, "business_address": "+49 30 555000",
            "members": [mal_id], "credentials": {"from_number": x.sms_from}}),
        )
        .await;
    let lc = t
        .channel(json!({"kind": "livechat", "name": x.lc_name,
            "livechat": {"title": x.lc_title, "greeting": x.lc_greet, "accent": "#2f6fed",
                "allowed_origins": [], "prechat_form": true, "offline_message": x.lc_offline,
                "uploads": true}}))
        .await;

    // ---- workflow settings ----------------------------------------------------------------
    ok(
        &admin
            .put("/api/v1/tags", json!({"items": [x.tag1, x.tag2]}))
            .await,
        "tags",
    );
    ok(
        &admin
            .put("/api/v1/results", json!({"items": [x.result1, "Resolved"]}))
            .await,
        "results",
    );
    ok(
        &admin
            .post(
                "/api/v1/templates",
                json!({"name": "order_update", "language": "en", "body": x.tpl_body}),
            )
            .await,
        "template",
    );
    ok(
        &admin
            .post(
                "/api/v1/canned",
                json!({"shortcut": "hours", "text": x.canned_shared, "shared": true}),
            )
            .await,
        "shared canned",
    );
    ok(
        &admin
            .post(
                "/api/v1/canned",
                json!({"shortcut": "bye", "text": x.canned_own}),
            )
            .await,
        "own canned",
    );
    ok(
        &admin
            .put(
                "/api/v1/pbx",
                json!({"kind": "ami", "host": "pbx.lan", "port": 5038, "username": x.pbx_user,
                    "secret": "s3cret-s3cret", "context": x.pbx_context, "caller_id": x.pbx_caller}),
            )
            .await,
        "pbx",
    );

    // ---- customer sessions ----------------------------------------------------------------
    // S1: WhatsApp, the name comes from the webhook's profile.
    let now = now_secs(&t);
    let hook = whatsapp::text_webhook(
        whatsapp::PHONE_NUMBER_ID,
        "4915100000001",
        &x.c1_profile,
        "wamid.X1",
        &x.c1_in,
        now,
    );
    assert_eq!(post_wa(&t, wa, &hook).await.status, 200);
    let s1 = newest_session(&t, wa).await;
    let s1_id = id(&s1);
    assert_eq!(s1["contact_name"], x.c1_profile.as_str());
    let c1_id = s1["contact_id"].as_u64().unwrap();
    let sp = |sid: u64, rest: &str| format!("/api/v1/sessions/{sid}{rest}");
    ok(
        &admin
            .post(&sp(s1_id, "/messages"), json!({"text": x.reply}))
            .await,
        "reply",
    );
    let failing = id(&ok(
        &admin
            .post(&sp(s1_id, "/messages"), json!({"text": "this one fails"}))
            .await,
        "reply 2",
    ));
    let sent = wait_status(&t, failing, "sent").await;
    let wamid = sent["provider_id"].as_str().unwrap().to_string();
    let st = whatsapp::status_webhook(
        whatsapp::PHONE_NUMBER_ID,
        &wamid,
        "failed",
        "4915100000001",
        now + 5,
        Some((131047, &x.fail_reason)),
    );
    assert_eq!(post_wa(&t, wa, &st).await.status, 200);
    wait_status(&t, failing, "failed").await;
    let (txt, txt_name) = upload(
        &admin,
        &format!("channel_id={wa}"),
        &x.file_txt,
        "text/plain",
        x.file_txt_body.clone().into_bytes(),
    )
    .await;
    let (png, png_name) = upload(
        &admin,
        &format!("channel_id={wa}"),
        &x.file_png,
        "image/png",
        png_bytes(),
    )
    .await;
    // File names are made safe for file systems (no < > " …) before they are stored.
    assert!(
        !txt_name.contains('<') && txt_name.ends_with(".txt"),
        "{txt_name}"
    );
    ok(
        &admin
            .post(
                &sp(s1_id, "/messages"),
                json!({"text": "", "attachment_ids": [txt, png]}),
            )
            .await,
        "files",
    );
    ok(
        &mal.post(&sp(s1_id, "/notes"), json!({"text": x.note}))
            .await,
        "note",
    );
    ok(
        &admin
            .put(&sp(s1_id, "/tags"), json!({"tags": [x.tag1, x.tag2]}))
            .await,
        "session tags",
    );
    ok(
        &admin
            .post(
                &sp(s1_id, "/transfer"),
                json!({"to_user_id": mal_id, "note": x.transfer_note}),
            )
            .await,
        "transfer",
    );

    // S2: SMS from a hostile sender id, ended with a result and note, then blocked.
    let s2_id = writes(&t, sms, &x.addr2, None, &x.sms_in).await.session_id;
    ok(
        &admin
            .post(
                &sp(s2_id, "/close"),
                json!({"result": x.result1, "note": x.close_note}),
            )
            .await,
        "close",
    );
    let c2_id = ok(&admin.get(&sp(s2_id, "")).await, "s2")["contact"]["id"]
        .as_u64()
        .unwrap();
    ok(
        &admin
            .post(
                &format!("/api/v1/contacts/{c2_id}/block"),
                json!({"reason": x.block_reason}),
            )
            .await,
        "block",
    );

    // S3: WhatsApp started by the agent with the template (so only templates may follow).
    let started_s3 = ok(
        &admin
            .post(
                "/api/v1/sessions",
                json!({"channel_id": wa, "to": "4915100000003", "name": x.s3_name, "text": "",
                    "template": {"name": "order_update", "language": "en", "params": [x.tpl_param]}}),
            )
            .await,
        "start with template",
    );
    let s3_id = started_s3["session_id"].as_u64().unwrap();
    let tpl_text = started_s3["message"]["text"].as_str().unwrap().to_string();
    assert!(tpl_text.contains(&x.tpl_param), "{tpl_text}");

    // Live chat: the admin is online (an open stream), a visitor writes over the HTTP API.
    let _online = EventStream::open(&admin).await;
    let mut visitor = Visitor::new(&t, lc, Some(&t.base()));
    visitor.start(&x.visitor_name, "vis@example.org").await;
    ok(&visitor.say(&x.visitor_msg, "vis-1").await, "visitor says");

    // ---- internal chats -------------------------------------------------------------------
    let group = ok(
        &admin
            .post(
                "/api/v1/chats",
                json!({"name": x.group, "member_ids": [mal_id]}),
            )
            .await,
        "group",
    );
    let gid = group["chat"]["id"].as_u64().unwrap();
    let cp = |cid: u64, rest: &str| format!("/api/v1/chats/{cid}{rest}");
    ok(
        &mal.post(&cp(gid, "/messages"), json!({"text": x.g_msg}))
            .await,
        "group message",
    );
    let (gfile, gfile_name) = upload(
        &mal,
        "scope=internal",
        &x.g_file,
        "text/plain",
        b"plain".to_vec(),
    )
    .await;
    ok(
        &mal.post(
            &cp(gid, "/messages"),
            json!({"text": "", "attachment_ids": [gfile]}),
        )
        .await,
        "group file",
    );
    let direct = ok(
        &mal.post("/api/v1/chats", json!({"user_id": admin_id}))
            .await,
        "direct",
    );
    let did = direct["chat"]["id"].as_u64().unwrap();
    ok(
        &mal.post(&cp(did, "/messages"), json!({"text": x.direct_msg}))
            .await,
        "direct message",
    );
    eprintln!("xss sweep: data ready after {:?}", started.elapsed());

    let b = Browser::start().await;
    let mut w = Sweep {
        t,
        b,
        failures: Vec::new(),
        covered: Vec::new(),
    };
    let base = w.t.base();

    // ---- login page: a failed login shows the typed username back --------------------------
    w.b.goto(&format!("{base}/login")).await;
    w.b.el("input[name=username]")
        .await
        .send_keys(&x.login_user)
        .await
        .unwrap();
    w.b.el("input[name=password]")
        .await
        .send_keys("wrong-password")
        .await
        .unwrap();
    w.click("button[type=submit]").await;
    w.b.el("p.error").await;
    w.verify("/login (failed)", &s(&[&x.login_user])).await;
    w.b.login(&base, ADMIN, PASSWORD).await;

    // ---- inbox list, with live arrivals and a rename ---------------------------------------
    w.app_page(
        "/chat/external",
        INBOX_READY,
        &s(&[
            &x.c1_profile,
            &x.addr2,
            &x.s3_name,
            &x.visitor_name,
            &x.visitor_msg,
            &x.wa_name,
            &x.sms_name,
            &x.lc_name,
            &x.mal_name,
            &tpl_text,
        ]),
    )
    .await;
    w.wait_js(
        "document.body.dataset.seq && window.SB && SB.live.es && SB.live.es.readyState === 1",
        "the event stream",
    )
    .await;
    writes(&w.t, wa, "4915100000004", Some(&x.live_name), &x.live_msg).await;
    ok(
        &admin
            .patch(
                &format!("/api/v1/contacts/{c1_id}"),
                json!({"name": x.c1_renamed}),
            )
            .await,
        "rename",
    );
    w.verify(
        "/chat/external (live: new session, toast, rename)",
        &s(&[&x.live_name, &x.live_msg, &x.c1_renamed]),
    )
    .await;
    w.wait_js(
        &format!(
            "document.querySelector('#toasts').textContent.includes({})",
            json!(x.live_name)
        ),
        "a pop-up naming the new customer",
    )
    .await;

    // ---- session view: messages, files, details, timeline; live updates; dialogs -----------
    let s1_path = format!("/chat/external/{s1_id}");
    let timeline1 = ok(&admin.get(&sp(s1_id, "")).await, "detail")["timeline"].clone();
    let mut want = s(&[
        &x.c1_renamed,
        &x.c1_in,
        &x.reply,
        &x.fail_reason,
        &x.note,
        &x.mal_name,
        &txt_name,
        &x.file_txt_body,
        &x.wa_name,
        &x.wa_biz,
        &x.transfer_note,
        &x.tag1,
        &x.tag2,
    ]);
    want.extend(hostile(&timeline1, "detail"));
    w.app_page(&s1_path, SESSION_READY, &want).await;
    w.wait_js("document.querySelector('#composer-text')", "the composer")
        .await;
    // Live: the customer writes, a colleague notes, the contact is renamed again.
    writes(&w.t, wa, "4915100000001", None, &x.c1_live_in).await;
    ok(
        &mal.post(&sp(s1_id, "/notes"), json!({"text": x.live_note}))
            .await,
        "live note",
    );
    ok(
        &admin
            .patch(
                &format!("/api/v1/contacts/{c1_id}"),
                json!({"name": x.c1_renamed2}),
            )
            .await,
        "rename again",
    );
    w.verify(
        &format!("{s1_path} (live)"),
        &s(&[&x.c1_live_in, &x.live_note, &x.c1_renamed2]),
    )
    .await;
    w.wait_js(
        &format!(
            "document.querySelector('.s-name').textContent === {}",
            json!(x.c1_renamed2)
        ),
        "the header to follow the rename",
    )
    .await;
    // Canned replies offered on "/".
    w.b.el("#composer-text").await.send_keys("/").await.unwrap();
    w.wait_js(
        "!document.querySelector('#canned-pop').hidden",
        "canned replies",
    )
    .await;
    w.verify(
        &format!("{s1_path} (canned pop-up)"),
        &s(&[&x.canned_shared, &x.canned_own]),
    )
    .await;
    // The image opens in the lightbox with its name.
    w.click(".file.thumb").await;
    w.b.el("dialog.lightbox[open]").await;
    w.verify(&format!("{s1_path} (lightbox)"), &s(&[&png_name]))
        .await;
    w.js("document.querySelector('dialog.lightbox').close(); return true;")
        .await;
    // Transfer dialog lists colleagues by name; the end dialog offers the admin's results.
    w.click("[data-action=transfer]").await;
    w.b.el("dialog.dlg[open] #transfer-to").await;
    w.verify(&format!("{s1_path} (transfer dialog)"), &s(&[&x.mal_name]))
        .await;
    w.js("document.querySelector('dialog.dlg').close(); return true;")
        .await;
    w.click("[data-action=end]").await;
    w.b.el("dialog.dlg[open] #end-result").await;
    w.verify(&format!("{s1_path} (end dialog)"), &s(&[&x.result1]))
        .await;
    w.js("document.querySelector('dialog.dlg').close(); return true;")
        .await;

    // S2: closed with result and note, blocked.
    let timeline2 = ok(&admin.get(&sp(s2_id, "")).await, "detail 2")["timeline"].clone();
    let mut want = s(&[
        &x.addr2,
        &x.sms_in,
        &x.sms_name,
        &x.result1,
        &x.close_note,
        &x.block_reason,
    ]);
    want.extend(hostile(&timeline2, "detail"));
    w.app_page(&format!("/chat/external/{s2_id}"), SESSION_READY, &want)
        .await;

    // S3: the template message, and the template picker with the registered body.
    let s3_path = format!("/chat/external/{s3_id}");
    w.app_page(
        &s3_path,
        SESSION_READY,
        &s(&[&x.s3_name, &tpl_text, &x.tpl_param]),
    )
    .await;
    w.b.el("#template-select").await;
    w.js(
        "const s = document.querySelector('#template-select'); s.value = '0'; \
          s.dispatchEvent(new Event('change')); return true;",
    )
    .await;
    w.verify(&format!("{s3_path} (template picker)"), &s(&[&x.tpl_body]))
        .await;

    // Live-chat session from the HTTP visitor.
    let lc_sessions = ok(
        &admin
            .get(&format!("/api/v1/sessions?channel_id={lc}"))
            .await,
        "lc sessions",
    );
    let lc_sid = id(&lc_sessions["sessions"][0]);
    w.app_page(
        &format!("/chat/external/{lc_sid}"),
        SESSION_READY,
        &s(&[&x.visitor_name, &x.visitor_msg, &x.lc_name]),
    )
    .await;

    // ---- directory, reports ---------------------------------------------------------------
    w.page(
        "/contacts",
        &s(&[
            &x.c1_renamed2,
            &x.addr2,
            &x.s3_name,
            &x.visitor_name,
            &x.live_name,
            &x.sms_in,
        ]),
    )
    .await;
    // Each contact links to its sessions in the inbox.
    w.wait_js(
        &format!("document.querySelector('a[href=\"/chat/external/{s1_id}\"]')"),
        "the contact's session link",
    )
    .await;
    w.page(
        &format!("/contacts?q={}", pct(SCRIPT)),
        &s(&[&SCRIPT.to_string()]),
    )
    .await;
    let report = ok(&admin.get("/api/v1/reports").await, "report");
    let mut want = hostile(&report["channels"], "name");
    want.extend(hostile(&report["agents"], "name"));
    assert!(want.contains(&x.wa_name), "report channels: {report}");
    w.page("/reports", &want).await;
    w.page(&format!("/reports?from={}", pct(IMG)), &[]).await;

    // ---- admin pages ----------------------------------------------------------------------
    w.page(
        "/admin/users",
        &s(&[&x.admin_name, &x.admin_email, &x.mal_name, &x.mal_email]),
    )
    .await;
    w.page(
        "/admin/channels",
        &s(&[&x.wa_name, &x.sms_name, &x.lc_name]),
    )
    .await;
    w.page(
        &format!("/admin/channels/{wa}"),
        &s(&[&x.wa_name, &x.wa_biz, &x.mal_name, &x.admin_name]),
    )
    .await;
    w.page(
        &format!("/admin/channels/{sms}"),
        &s(&[&x.sms_name, &x.sms_from]),
    )
    .await;
    w.page(&format!("/admin/channels/{wa}/delete"), &s(&[&x.wa_name]))
        .await;
    w.page("/admin/templates", &s(&[&x.tpl_body])).await;
    w.page("/admin/canned", &s(&[&x.canned_shared])).await;
    w.page("/canned", &s(&[&x.canned_own])).await;
    w.page("/admin/workflow", &s(&[&x.tag1, &x.tag2, &x.result1]))
        .await;
    // A refused save shows the offending entry back in the error message.
    let too_long = format!("{SCRIPT}{}", "x".repeat(40));
    w.js(&format!(
        "const f = document.querySelector('form[action=\"/admin/workflow\"]'); \
         f.tags.value = {}; f.submit(); return true;",
        json!(too_long)
    ))
    .await;
    w.b.el("p.error").await;
    w.verify("/admin/workflow (refused save)", &[too_long])
        .await;
    w.page(
        "/admin/pbx",
        &s(&[&x.pbx_user, &x.pbx_context, &x.pbx_caller]),
    )
    .await;
    w.page("/admin/blocks", &s(&[&x.addr2, &x.block_reason]))
        .await;
    let audit = ok(&admin.get("/api/v1/audit?limit=200").await, "audit");
    let want = hostile(&audit, "detail");
    assert!(want.len() >= 5, "audit entries with payloads: {want:?}");
    w.page("/admin/audit", &want).await;
    w.page(&format!("/admin/livechat/{lc}"), &s(&[&x.lc_name]))
        .await;
    w.page("/settings", &s(&[&x.admin_name, &x.admin_email]))
        .await;

    // ---- internal chat: list, group (live), members, direct, search ------------------------
    w.app_page(
        &format!("/chat/internal/{gid}"),
        CHAT_READY,
        &s(&[&x.group, &x.mal_name, &x.g_msg, &gfile_name]),
    )
    .await;
    w.b.el("#ic-app[data-ready='1'][data-live='1']").await;
    ok(&mal.post(&cp(gid, "/typing"), json!({})).await, "typing");
    w.wait_js(
        &format!(
            "document.querySelector('#ic-typing').textContent.startsWith({})",
            json!(format!("{} ", x.mal_name))
        ),
        "the typing indicator with the colleague's name",
    )
    .await;
    w.verify(&format!("/chat/internal/{gid} (typing)"), &[])
        .await;
    ok(
        &mal.post(&cp(gid, "/messages"), json!({"text": x.g_live}))
            .await,
        "live group message",
    );
    ok(
        &admin.patch(&cp(gid, ""), json!({"name": x.group2})).await,
        "rename group",
    );
    ok(
        &mal.post(&cp(did, "/messages"), json!({"text": x.direct_live}))
            .await,
        "live direct message",
    );
    w.verify(
        &format!("/chat/internal/{gid} (live)"),
        &s(&[&x.g_live, &x.group2, &x.direct_live]),
    )
    .await;
    w.wait_js(
        &format!(
            "document.querySelector('#ic-toasts').textContent.includes({})",
            json!(x.direct_live)
        ),
        "a pop-up for the other chat's message",
    )
    .await;
    w.click("#ic-settings").await;
    w.b.el("#ic-panel:not([hidden]) .ic-member").await;
    w.verify(
        &format!("/chat/internal/{gid} (members)"),
        &s(&[&x.mal_name, &x.admin_name, &x.group2]),
    )
    .await;
    w.app_page(
        &format!("/chat/internal/{did}"),
        CHAT_READY,
        &s(&[&x.mal_name, &x.mal_email, &x.direct_msg, &x.group2]),
    )
    .await;
    w.b.el("#ic-app[data-ready='1']").await;
    let found = ok(&admin.get("/api/v1/search?q=quokka").await, "search");
    let mut want = hostile(&found["results"], "snippet");
    want.extend(hostile(&found["results"], "title"));
    want.extend(hostile(&found["results"], "author_name"));
    assert!(want.len() >= 4, "search hits: {found}");
    w.b.el("#ic-find").await.send_keys("quokka").await.unwrap();
    w.b.el("#ic-found:not([hidden]) .ic-hit").await;
    w.verify("/chat/internal (search)", &want).await;
    w.js(
        "const f = document.querySelector('#ic-find'); f.value = 'mallory'; \
          f.dispatchEvent(new Event('input')); return true;",
    )
    .await;
    w.b.el(&format!("#ic-found .ic-person[data-user-id='{mal_id}']"))
        .await;
    w.verify(
        "/chat/internal (colleague search)",
        &s(&[&x.mal_name, &x.mal_email]),
    )
    .await;
    w.click("#ic-new-group").await;
    w.b.el(&format!("#ic-group-people input[value='{mal_id}']"))
        .await;
    w.verify("/chat/internal (new group dialog)", &s(&[&x.mal_name]))
        .await;

    // ---- live chat: the demo page's widget as the customer, the agent answers --------------
    w.page(&format!("/livechat/demo/{lc}"), &s(&[&x.lc_name]))
        .await;
    let sr = "document.querySelector('#swb-livechat').shadowRoot";
    w.wait_js(&format!("{sr}.querySelector('.bub')"), "the chat bubble")
        .await;
    w.js(&format!("{sr}.querySelector('.bub').click(); return true;"))
        .await;
    w.wait_js(
        &format!("!{sr}.querySelector('form.pre').hidden"),
        "the pre-chat form (an agent is online)",
    )
    .await;
    w.js(&format!(
        "const f = {sr}.querySelector('form.pre'); f.name.value = {}; \
         f.email.value = 'widget@example.org'; f.requestSubmit(); return true;",
        json!(x.widget_name)
    ))
    .await;
    w.wait_js(
        &format!("!{sr}.querySelector('.comp').hidden"),
        "the composer",
    )
    .await;
    w.js(&format!(
        "const i = {sr}.querySelector('.comp textarea'); i.value = {}; \
         i.dispatchEvent(new KeyboardEvent('keydown', {{key: 'Enter', bubbles: true}})); return true;",
        json!(x.widget_msg)
    ))
    .await;
    w.wait_js(
        &format!("{sr}.querySelector('.me[data-id]')"),
        "the visitor's message to be stored",
    )
    .await;
    let lc_sessions = ok(
        &admin
            .get(&format!("/api/v1/sessions?channel_id={lc}"))
            .await,
        "lc sessions",
    );
    let wsid = lc_sessions["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["contact_name"] == x.widget_name.as_str())
        .map(id)
        .expect("the widget's session");
    let first_name = x.admin_name.split_whitespace().next().unwrap().to_string();
    ok(
        &admin.post(&sp(wsid, "/typing"), json!({})).await,
        "agent typing",
    );
    w.wait_js(
        &format!(
            "{sr}.querySelector('.typing').textContent.startsWith({})",
            json!(format!("{first_name} "))
        ),
        "the agent's typing indicator with the agent's first name",
    )
    .await;
    w.verify(&format!("/livechat/demo/{lc} (typing)"), &[])
        .await;
    ok(
        &admin
            .post(&sp(wsid, "/messages"), json!({"text": x.agent_reply}))
            .await,
        "agent reply",
    );
    w.verify(
        &format!("/livechat/demo/{lc} (widget)"),
        &s(&[
            &x.lc_title,
            &x.lc_greet,
            &x.lc_offline,
            &x.widget_msg,
            &x.agent_reply,
            &first_name,
        ]),
    )
    .await;
    // The agent's side of that conversation.
    w.app_page(
        &format!("/chat/external/{wsid}"),
        SESSION_READY,
        &s(&[&x.widget_name, &x.widget_msg, &x.agent_reply]),
    )
    .await;

    let total: usize = w.covered.iter().map(|c| c.1).sum();
    eprintln!(
        "xss sweep: {} views, {total} hostile strings checked in {:?}",
        w.covered.len(),
        started.elapsed()
    );
    let Sweep { t, b, failures, .. } = w;
    b.close().await;
    t.stop().await;
    assert!(
        failures.is_empty(),
        "XSS sweep found {} problem(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Fields whose format cannot carry markup refuse it at intake (so the sweep above does not
/// need to put payloads there).
#[tokio::test]
async fn restricted_fields_refuse_markup() {
    let t = TestServer::start().await;
    let a = &t.admin;
    let cases = [
        (
            a.post(
                "/api/v1/users",
                json!({"username": "<b>x</b>", "password": PASSWORD, "role": "agent"}),
            )
            .await,
            "username",
        ),
        (
            a.patch("/api/v1/me", json!({"extension": "<svg onload=1>"}))
                .await,
            "extension",
        ),
        (
            a.patch("/api/v1/me", json!({"email": "<svg onload=1>"}))
                .await,
            "email",
        ),
        (
            a.post(
                "/api/v1/templates",
                json!({"name": "<b>x</b>", "language": "en", "body": "Hi"}),
            )
            .await,
            "name",
        ),
        (
            a.post(
                "/api/v1/templates",
                json!({"name": "ok", "language": "<b>", "body": "Hi"}),
            )
            .await,
            "language",
        ),
        (
            a.post(
                "/api/v1/canned",
                json!({"shortcut": "<b>x</b>", "text": "Hi"}),
            )
            .await,
            "shortcut",
        ),
        (
            a.post(
                "/api/v1/channels",
                json!({"kind": "livechat", "name": "LC", "livechat": {"accent": "red;}</style><script>"}}),
            )
            .await,
            "livechat.accent",
        ),
        (
            a.post(
                "/api/v1/channels",
                json!({"kind": "livechat", "name": "LC",
                    "livechat": {"allowed_origins": ["javascript:alert(1)"]}}),
            )
            .await,
            "livechat.allowed_origins",
        ),
        (
            a.post(
                "/api/v1/channels",
                json!({"kind": "sms", "name": "S", "api_base": "javascript:alert(1)"}),
            )
            .await,
            "api_base",
        ),
    ];
    for (r, field) in cases {
        assert_eq!(r.status, 422, "{field} accepted markup: {}", r.text());
        assert!(
            r.json()["error"]["message"]
                .as_str()
                .is_some_and(|m| m.starts_with(&format!("{field}: "))),
            "{field}: refused for another reason: {}",
            r.text()
        );
    }
    t.stop().await;
}
