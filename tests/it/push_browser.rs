//! The Settings page's push toggle, clicked in Chromium. Headless Chromium has no push service
//! to subscribe with (its `pushManager.subscribe` needs Google's), so the test stubs
//! `PushManager.prototype.subscribe/getSubscription` and the notification permission before the
//! page's scripts run; everything else is real: the page registers the service worker
//! (/sw-push.js), fetches the VAPID key, subscribes with it and posts the subscription; then a
//! customer's message makes the server push to the fake push service, and the test opens the
//! push with the keys it gave the stub.

use serde_json::json;

use crate::browser::{Browser, BrowserOptions, skip};
use crate::fakes::push::{BrowserKeys, FakePushService};
use crate::support::customer::writes;
use crate::support::{ADMIN, PASSWORD, TestServer};

#[tokio::test]
async fn settings_toggle_subscribes_this_device_and_a_push_arrives() {
    if skip() {
        return;
    }
    let fake = FakePushService::start().await;
    let t = TestServer::start().await;
    let ch = t
        .channel(json!({"kind":"sms","name":"SMS","members":[t.admin_id]}))
        .await;
    let mut keys = BrowserKeys::new();
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
    b.before_page_scripts(&format!(
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
    ))
    .await;
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
    assert!(
        script.as_str().unwrap_or("").ends_with("/sw-push.js"),
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
