//! Browser tests of the foundation pages: login form, wrong password, settings, admin pages.

use fantoccini::Locator;

use crate::browser::{Browser, skip};
use crate::support::{PASSWORD, TestServer};

#[tokio::test]
async fn login_page_signs_in_and_shows_the_navigation() {
    if skip() {
        return;
    }
    let t = TestServer::start().await;
    let b = Browser::start().await;
    // Wrong password: an error on the page, still on /login.
    b.goto(&format!("{}/login", t.base())).await;
    b.el("input[name=username]")
        .await
        .send_keys("admin")
        .await
        .unwrap();
    b.el("input[name=password]")
        .await
        .send_keys("not-the-password")
        .await
        .unwrap();
    b.el("button[type=submit]").await.click().await.unwrap();
    b.wait_text(".error", "Wrong username or password").await;
    b.login(&t.base(), "admin", PASSWORD).await;
    b.goto(&format!("{}/settings", t.base())).await;
    let nav = b.el("nav.mainnav").await.text().await.unwrap();
    assert!(nav.contains("External") && nav.contains("Admin"), "{nav}");
    // Settings save round trip.
    let name = b.el("input[name=display_name]").await;
    name.clear().await.unwrap();
    name.send_keys("Ada Lovelace").await.unwrap();
    b.client
        .find(Locator::Css("#settings-form button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.wait_text(".ok", "Saved").await;
    assert_eq!(
        t.admin.get("/api/v1/me").await.json()["display_name"],
        "Ada Lovelace"
    );
    b.screenshot("settings").await;
    // The language select lists every catalogue in locales/; choosing Deutsch switches the UI.
    b.select("select[name=language]", "Deutsch").await;
    b.click("#settings-form button[type=submit]").await;
    b.wait_text("nav.mainnav", "Einstellungen").await;
    assert_eq!(t.admin.get("/api/v1/me").await.json()["language"], "de");
    b.close().await;
    t.stop().await;
}
