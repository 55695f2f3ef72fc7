//! The installable app (docs/frontend.md, "Installable app"): the manifest and its icons, the
//! service worker that takes over the page and precaches the shell, the unread count on the
//! app icon, and "Offline — reconnecting" instead of the browser's error page once the server
//! cannot be reached.

use serde_json::json;

use crate::browser::{Browser, BrowserOptions, skip};
use crate::fakes::whatsapp::FakeWhatsApp;
use crate::support::{PASSWORD, TestServer, customer, setup};

/// Width and height from a PNG's header.
fn png_size(b: &[u8]) -> (u32, u32) {
    assert_eq!(&b[..8], b"\x89PNG\r\n\x1a\n", "a PNG");
    let w = u32::from_be_bytes([b[16], b[17], b[18], b[19]]);
    let h = u32::from_be_bytes([b[20], b[21], b[22], b[23]]);
    (w, h)
}

#[tokio::test]
async fn manifest_icons_and_worker_are_served() {
    let t = TestServer::start().await;
    let r = t.admin.get("/manifest.webmanifest").await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("application/manifest+json")
    );
    let m = r.json();
    assert_eq!(m["name"], "Switchboard");
    assert_eq!(m["start_url"], "/chat/external");
    assert_eq!(m["display"], "standalone");
    assert_eq!(m["theme_color"], "#14332f");
    let icons = m["icons"].as_array().unwrap();
    let mut seen = Vec::new();
    for i in icons {
        let r = t.admin.get(i["src"].as_str().unwrap()).await;
        assert_eq!(r.status, 200, "{i}");
        assert_eq!(r.header("content-type").as_deref(), Some("image/png"));
        let (w, h) = png_size(&r.body);
        assert_eq!(format!("{w}x{h}"), i["sizes"].as_str().unwrap(), "{i}");
        seen.push((w, i["purpose"].as_str().unwrap().to_string()));
    }
    for want in [
        (192, "any"),
        (512, "any"),
        (192, "maskable"),
        (512, "maskable"),
    ] {
        assert!(
            seen.contains(&(want.0, want.1.to_string())),
            "{want:?} in {seen:?}"
        );
    }

    // The worker: from the root (scope /), checked for updates on every visit, with the
    // hashed shell filled in; no login needed (the browser fetches it without cookies).
    let anon = reqwest::get(format!("{}/sw.js", t.base())).await.unwrap();
    assert_eq!(anon.status(), 200);
    assert_eq!(
        anon.headers()["content-type"],
        "text/javascript; charset=utf-8"
    );
    assert_eq!(anon.headers()["cache-control"], "no-cache");
    let js = anon.text().await.unwrap();
    assert!(!js.contains("__SHELL__") && !js.contains("__VERSION__"));
    assert!(
        js.contains("\"/offline\"") && js.contains("/static/app."),
        "{js}"
    );
    let off = reqwest::get(format!("{}/offline", t.base())).await.unwrap();
    assert_eq!(off.status(), 200);
    assert!(off.text().await.unwrap().contains("Offline — reconnecting"));
    t.stop().await;
}

#[tokio::test]
async fn the_worker_takes_over_and_shows_the_offline_page_when_the_server_is_gone() {
    if skip() {
        return;
    }
    let t = TestServer::start().await;
    let wa = FakeWhatsApp::start().await;
    let ch = setup::whatsapp_channel(&t, &wa).await;
    let b = Browser::start_with(BrowserOptions {
        width: 390,
        height: 844,
        lang: None,
    })
    .await;
    // The Badging API is not in headless Chromium: a stand-in records what the page sets.
    b.before_page_scripts(
        "window.__badges = []; \
         navigator.setAppBadge = (n) => { window.__badges.push(n); return Promise.resolve(); }; \
         navigator.clearAppBadge = () => { window.__badges.push(0); return Promise.resolve(); };",
    )
    .await;
    b.login(&t.base(), "admin", PASSWORD).await;
    b.goto(&format!("{}/chat/external", t.base())).await;
    b.wait_js(
        "navigator.serviceWorker.controller !== null",
        "the service worker to control the page",
    )
    .await;
    b.js("caches.match('/offline').then((r) => { window.__offline = !!r; }); return 0")
        .await;
    b.wait_js("window.__offline === true", "the offline page in the cache")
        .await;
    assert_eq!(
        b.js("return navigator.serviceWorker.controller.scriptURL")
            .await,
        json!(format!("{}/sw.js", t.base()))
    );

    // A customer writes: the app icon shows 1.
    b.wait_js(
        "SB.live.es && SB.live.es.readyState === 1",
        "the event stream",
    )
    .await;
    customer::whatsapp(&t, ch, "4915112345678", "Jonas Weber", "Hello?").await;
    b.wait_js(
        "window.__badges[window.__badges.length - 1] === 1",
        "the app badge to say 1",
    )
    .await;

    // The server goes away: a page load shows the offline page, styled from the cache.
    let base = t.base();
    t.stop().await;
    b.goto(&format!("{base}/chat/external")).await;
    b.wait_text("#offline", "Offline — reconnecting").await;
    let styled = b
        .js("return getComputedStyle(document.getElementById('offline')).borderRadius")
        .await;
    assert_eq!(styled, json!("12px"), "app.css came from the cache");
    assert!(
        b.url().await.ends_with("/chat/external"),
        "the address stays, for the reload"
    );
    b.screenshot("journeys/pwa-offline-phone").await;
    b.close().await;
}

/// The offline page asks the server every few seconds and, once it answers, loads the page
/// again (opened at `/offline` itself: the start page).
#[tokio::test]
async fn the_offline_page_leaves_once_the_server_answers() {
    if skip() {
        return;
    }
    let t = TestServer::start().await;
    let b = Browser::start().await;
    b.goto(&format!("{}/offline", t.base())).await;
    b.wait_text("#offline", "Offline — reconnecting").await;
    b.wait_for(|u| !u.ends_with("/offline"), "the page to load again")
        .await;
    b.close().await;
    t.stop().await;
}
