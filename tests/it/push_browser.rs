//! The Settings page's push toggle, clicked in Chromium. Headless Chromium has no push service
//! to subscribe with (its `pushManager.subscribe` needs Google's), so the test stubs
//! `PushManager.prototype.subscribe/getSubscription` and the notification permission before the
//! page's scripts run; everything else is real: the page registers the service worker
//! (/sw-push.js), fetches the VAPID key, subscribes with it and posts the subscription; then a
//! customer's message makes the server push to the fake push service, and the test opens the
//! push with the keys it gave the stub. A second test hands that push to the page's service
//! worker through the DevTools protocol and checks the notification and what tapping it opens.

use serde_json::json;

use crate::browser::{Browser, BrowserOptions, skip};
use crate::fakes::push::{BrowserKeys, FakePushService};
use crate::support::customer::writes;
use crate::support::{ADMIN, PASSWORD, TestServer};

/// A server with an SMS channel, a fake push service, and a phone-sized Chromium whose
/// `PushManager` subscribes with this test's keys to that service (headless Chromium has no
/// push service of its own).
struct PushPhone {
    fake: FakePushService,
    t: TestServer,
    ch: u64,
    keys: BrowserKeys,
    endpoint: String,
    b: Browser,
}

async fn push_phone() -> PushPhone {
    let fake = FakePushService::start().await;
    let t = TestServer::start().await;
    let ch = t
        .channel(json!({"kind":"sms","name":"SMS","members":[t.admin_id]}))
        .await;
    let keys = BrowserKeys::new();
    let endpoint = fake.endpoint("chromium");
    let stub = json!({
        "endpoint": endpoint,
        "expirationTime": null,
        "keys": {"p256dh": keys.p256dh_b64(), "auth": keys.auth_b64()},
    });
    let b = Browser::start_with(BrowserOptions {
        width: 390,
        height: 844,
        lang: None,
    })
    .await;
    b.before_page_scripts(&stub_push(&stub)).await;
    PushPhone {
        fake,
        t,
        ch,
        keys,
        endpoint,
        b,
    }
}

#[tokio::test]
async fn settings_toggle_subscribes_this_device_and_a_push_arrives() {
    if skip() {
        return;
    }
    let PushPhone {
        fake,
        t,
        ch,
        mut keys,
        endpoint,
        b,
    } = push_phone().await;
    b.login(&t.base(), ADMIN, PASSWORD).await;
    b.goto(&format!("{}/settings", t.base())).await;
    b.wait_text("#push-status", "receives no push notifications")
        .await;
    b.click("#push-toggle").await;
    b.wait_text("#push-status", "This device receives push notifications.")
        .await;
    // The page subscribed with the server's 65-byte VAPID key, visible-only, through a service
    // worker it registered at the root.
    assert_eq!(
        b.js("return localStorage.getItem('stub-push-key-bytes')")
            .await,
        "65"
    );
    assert_eq!(
        b.js("return localStorage.getItem('stub-push-user-visible')")
            .await,
        "true"
    );
    let script = b
        .js("return navigator.serviceWorker.getRegistration('/').then((r) => { const w = r && (r.active || r.waiting || r.installing); return w ? w.scriptURL : ''; })")
        .await;
    // The Settings page registers /sw-push.js; the app's /sw.js (which imports it) may take
    // the same scope back when its own registration finishes later.
    let script = script.as_str().unwrap_or("");
    assert!(
        script.ends_with("/sw-push.js") || script.ends_with("/sw.js"),
        "{script}"
    );
    let subs = t.admin.get("/api/v1/push/subscriptions").await.json();
    assert_eq!(subs[0]["endpoint"], endpoint.as_str(), "{subs}");
    assert_eq!(subs[0]["hide_content"], false);
    // Hide content on this device.
    b.click("#push-hide").await;
    b.wait_text("#push-status", "Saved.").await;
    let subs = t.admin.get("/api/v1/push/subscriptions").await.json();
    assert_eq!(subs[0]["hide_content"], true, "{subs}");

    // A customer writes: the push reaches the push service and opens with this device's keys.
    let sid = writes(&t, ch, "+4930999", Some("Greta"), "secret order 77")
        .await
        .session_id;
    let got = fake.wait_for(&endpoint, 1).await;
    let p: serde_json::Value = serde_json::from_slice(&keys.decrypt(&got[0].body)).unwrap();
    assert_eq!(p["title"], "New conversation: Greta");
    assert_eq!(p["url"], format!("/chat/external/{sid}"));
    assert!(!p.to_string().contains("secret order"), "{p}");

    // After a reload the page shows this device's state.
    b.goto(&format!("{}/settings", t.base())).await;
    b.wait_text("#push-status", "This device receives push notifications.")
        .await;
    assert_eq!(
        b.js("return document.getElementById('push-toggle').checked")
            .await,
        true
    );
    assert_eq!(
        b.js("return document.getElementById('push-hide').checked")
            .await,
        true
    );
    b.js("document.getElementById('push-settings').scrollIntoView(); return 0")
        .await;
    b.screenshot("push/settings-push-on").await;

    // Off: the server forgets the device.
    b.click("#push-toggle").await;
    b.wait_text("#push-status", "receives no push notifications")
        .await;
    assert_eq!(
        t.admin.get("/api/v1/push/subscriptions").await.json(),
        json!([])
    );
    b.close().await;
}

/// Stubs `PushManager.prototype.subscribe/getSubscription` (headless Chromium has no push
/// service) to hand out `stub`, and grants the notification permission as the page sees it.
fn stub_push(stub: &serde_json::Value) -> String {
    format!(
        r#"(() => {{
  const KEY = "stub-push-subscription";
  const make = (j) => ({{ endpoint: j.endpoint, toJSON: () => j,
    unsubscribe: async () => {{ localStorage.removeItem(KEY); return true; }} }});
  if (window.PushManager) {{
    PushManager.prototype.subscribe = async function (opts) {{
      localStorage.setItem("stub-push-key-bytes", String(new Uint8Array(opts.applicationServerKey).length));
      localStorage.setItem("stub-push-user-visible", String(opts.userVisibleOnly));
      const j = {stub};
      localStorage.setItem(KEY, JSON.stringify(j));
      return make(j);
    }};
    PushManager.prototype.getSubscription = async function () {{
      const s = localStorage.getItem(KEY);
      return s ? make(JSON.parse(s)) : null;
    }};
  }}
  if (window.Notification) {{
    Object.defineProperty(Notification, "permission", {{ get: () => "granted" }});
    Notification.requestPermission = async () => "granted";
  }}
}})();"#
    )
}

/// A push handed to the page's service worker through the DevTools protocol
/// (`ServiceWorker.deliverPushMessage`, the browser's side of a push service delivering) shows
/// a notification with the conversation's title and link. Headless Chromium cannot click a
/// notification (no DevTools command for it), so the tap is played in the page: the worker's
/// own script (/sw-push.js, its `notificationclick` handler unchanged) is loaded into the page
/// with `clients` stubbed, a `notificationclick` for the shown notification's data is
/// dispatched, and the window it opens is followed to the conversation.
#[tokio::test]
async fn a_push_shows_a_notification_that_opens_the_conversation() {
    if skip() {
        return;
    }
    let PushPhone {
        fake,
        t,
        ch,
        mut keys,
        endpoint,
        b,
    } = push_phone().await;
    let origin = t.base();
    b.cdp(
        "Browser.grantPermissions",
        json!({"origin": origin, "permissions": ["notifications"]}),
    )
    .await
    .unwrap();
    b.login(&t.base(), ADMIN, PASSWORD).await;
    b.goto(&format!("{}/settings", t.base())).await;
    b.click("#push-toggle").await;
    b.wait_text("#push-status", "This device receives push notifications.")
        .await;
    b.js("return navigator.serviceWorker.ready.then(() => 0)")
        .await;

    // A customer writes; the server's push, as the browser would decrypt it.
    let sid = writes(&t, ch, "+4930777", Some("Hanna"), "where is my parcel")
        .await
        .session_id;
    let got = fake.wait_for(&endpoint, 1).await;
    let payload = String::from_utf8(keys.decrypt(&got[0].body)).unwrap();
    let p: serde_json::Value = serde_json::from_str(&payload).unwrap();
    let path = format!("/chat/external/{sid}");
    assert_eq!(p["url"], path.as_str(), "{p}");

    // Deliver it to the page's service worker registration. Its id is not visible to pages
    // (DevTools reports it only in events, which ChromeDriver's endpoint does not pass on); a
    // fresh profile numbers registrations from 0, so try the first few.
    b.cdp("ServiceWorker.enable", json!({})).await.unwrap();
    // The page's worker settles first (the app's /sw.js and the Settings page's /sw-push.js
    // share the scope; either carries the push handlers).
    b.wait_js(
        "window.__swSettled || (navigator.serviceWorker.getRegistration('/').then((r) => { window.__swSettled = !!(r && r.active && !r.installing && !r.waiting); }), false)",
        "the service worker to settle",
    )
    .await;
    let mut shown = serde_json::Value::Null;
    let deadline = std::time::Instant::now() + crate::support::PATIENCE;
    'rounds: while std::time::Instant::now() < deadline {
        for id in 0..4 {
            let _ = b
                .cdp(
                    "ServiceWorker.deliverPushMessage",
                    json!({"origin": origin, "registrationId": id.to_string(), "data": payload}),
                )
                .await;
        }
        for _ in 0..10 {
            let n = b
                .js("return navigator.serviceWorker.ready.then((r) => r.getNotifications()).then((ns) => ns.map((n) => ({title: n.title, body: n.body, tag: n.tag, url: n.data && n.data.url})))")
                .await;
            if n.as_array().is_some_and(|a| !a.is_empty()) {
                shown = n;
                break 'rounds;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
    assert_eq!(
        shown.as_array().map(Vec::len),
        Some(1),
        "one notification: {shown}"
    );
    let n = &shown[0];
    assert_eq!(n["title"], "New conversation: Hanna", "{shown}");
    assert_eq!(n["url"], path.as_str(), "{shown}");
    assert_eq!(n["title"], p["title"]);
    assert_eq!(n["body"], p["body"]);

    // The tap: the worker's notificationclick handler, run in the page with `clients` stubbed
    // (no window of ours is open there, so it opens one), opens the conversation.
    b.goto(&format!("{}/settings", t.base())).await;
    b.js(
        "return new Promise((ok, fail) => { const s = document.createElement('script'); s.src = '/sw-push.js'; s.onload = () => ok(0); s.onerror = fail; document.head.append(s); })",
    )
    .await;
    let opened = b
        .js(r#"return (async () => {
  let opened = null;
  globalThis.clients = {
    matchAll: async () => [],
    openWindow: async (u) => { opened = u; return null; },
  };
  const [shown] = await navigator.serviceWorker.ready.then((r) => r.getNotifications());
  let closed = false, wait = Promise.resolve();
  const ev = new Event("notificationclick");
  ev.notification = { data: shown.data, close: () => { closed = true; } };
  ev.waitUntil = (p) => { wait = p; };
  globalThis.dispatchEvent(ev);
  await wait;
  return { opened, closed };
})()"#)
        .await;
    assert_eq!(opened["closed"], true, "{opened}");
    assert_eq!(opened["opened"], format!("{origin}{path}"), "{opened}");
    // A link to another site in a push opens this server's start page instead.
    let elsewhere = b
        .js("return (async () => { let o = null; globalThis.clients.openWindow = async (u) => { o = u; }; let w; const ev = new Event('notificationclick'); ev.notification = { data: { url: 'https://evil.example/x' }, close() {} }; ev.waitUntil = (p) => { w = p; }; globalThis.dispatchEvent(ev); await w; return o; })()")
        .await;
    assert_eq!(elsewhere, format!("{origin}/"));
    b.goto(opened["opened"].as_str().unwrap()).await;
    b.wait_text("body", "where is my parcel").await;
    b.screenshot("push/notification-opens-conversation").await;
    b.close().await;
}
