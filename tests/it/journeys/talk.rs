//! C1 Talk: a 1:1 chat, a group, an @mention with autocomplete, pin and mute from the chat's
//! menu (a real right-click; the menu is placed by CSS custom properties, inside the window),
//! an image shown inline, and the colleague search.

use std::time::Duration;

use fantoccini::actions::{InputSource, MOUSE_BUTTON_RIGHT, MouseActions, PointerAction};

use crate::browser::keys::ENTER;
use crate::browser::skip;
use crate::journeys::{Journey, Person, Viewport};

/// A right-click on `css`, as a mouse does it.
async fn right_click(p: &Person, css: &str) {
    let element = p.el(css).await;
    let mouse = MouseActions::new("mouse".into())
        .then(PointerAction::MoveToElement {
            element,
            duration: Some(Duration::from_millis(50)),
            x: 0.0,
            y: 0.0,
        })
        .then(PointerAction::Down {
            button: MOUSE_BUTTON_RIGHT,
        })
        .then(PointerAction::Up {
            button: MOUSE_BUTTON_RIGHT,
        });
    p.client.perform_actions(mouse).await.unwrap();
}

/// On a phone the page shows the list or a chat: back to the list ("‹") if a chat is open.
async fn to_list(p: &Person) {
    if p.viewport == Viewport::Phone && p.count(".ic-app.ic-has-chat").await > 0 {
        p.click("#ic-back").await;
        p.el(".ic-item").await;
    }
}

fn tiny_png() -> Vec<u8> {
    base64::Engine::decode(
        &base64::engine::general_purpose::STANDARD,
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=",
    )
    .unwrap()
}

#[tokio::test]
async fn journey_c1_talk() {
    c1_talk(Viewport::Desktop).await;
}

/// The same on a phone (390 × 844): nothing sideways at any screenshot.
#[tokio::test]
async fn journey_c1_talk_phone() {
    c1_talk(Viewport::Phone).await;
}

async fn c1_talk(vp: Viewport) {
    if skip() {
        return;
    }
    let j = Journey::start("c1_talk").await;
    let (_anna, _) = j.t.user("anna", "agent").await;
    let (ben, _) = j.t.user("ben", "agent").await;
    let (carol, _) = j.t.user("carol", "agent").await;
    let anna = j.browser().viewport(vp).login("anna").await;
    let bp = j.browser().viewport(vp).login("ben").await;

    // 1:1: Anna finds Ben and writes.
    anna.click_text("Internal").await;
    anna.type_in("#ic-find", "ben").await;
    anna.click(&format!(".ic-person[data-user-id='{ben}']"))
        .await;
    anna.wait_text("#ic-title", "ben").await;
    anna.type_in("#ic-input", &format!("Lunch at noon?{ENTER}"))
        .await;
    anna.wait_text("#ic-messages", "Lunch at noon?").await;

    // A picture, shown inline (not as a link).
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("menu.png");
    std::fs::write(&path, tiny_png()).unwrap();
    anna.js("document.getElementById('ic-file').hidden = false; return 0")
        .await;
    anna.el("#ic-file")
        .await
        .send_keys(path.to_str().unwrap())
        .await
        .unwrap();
    anna.wait_js(
        "(() => { const p = document.getElementById('ic-pending'); return p && p.textContent.includes('menu.png'); })()",
        "the upload is ready",
    )
    .await;
    anna.type_in("#ic-input", &format!("today's menu{ENTER}"))
        .await;
    anna.el(".ic-msg .ic-thumb img[alt='menu.png']").await;
    bp.click_text("Internal").await;
    bp.click(".ic-item").await;
    bp.el(".ic-msg .ic-thumb img[alt='menu.png']").await;

    // A group with Ben and Carol; an @mention picked from the autocomplete.
    to_list(&anna).await;
    anna.click_text("New group").await;
    anna.type_in("#ic-group-name", "Front desk").await;
    anna.click(&format!("#ic-group-people input[value='{ben}']"))
        .await;
    anna.click(&format!("#ic-group-people input[value='{carol}']"))
        .await;
    anna.click("#ic-group-create").await;
    anna.wait_text("#ic-title", "Front desk").await;
    anna.type_in("#ic-input", "@be").await;
    anna.wait_text("#ic-mentions", "@ben").await;
    anna.type_in("#ic-input", "\u{e004}").await; // Tab picks the colleague
    anna.type_in("#ic-input", &format!("can you cover at 2?{ENTER}"))
        .await;
    anna.wait_text(".ic-msg:last-child .ic-mention", "@ben")
        .await;
    to_list(&bp).await;
    bp.wait_text(".ic-count.ic-at", "@").await;

    // Pin and mute from the chat's menu: a right-click opens it where the mouse is.
    let gid = anna
        .js("return document.querySelector('.ic-item.ic-active').dataset.chatId")
        .await;
    let gid = gid.as_str().unwrap().to_string();
    let item = format!(".ic-item[data-chat-id='{gid}']");
    to_list(&anna).await;
    right_click(&anna, &item).await;
    let script = format!(
        "const m = document.querySelector('.ic-menu').getBoundingClientRect();
         const i = document.querySelector(\"{item}\").getBoundingClientRect();
         return [m.left >= 0 && m.top >= 0 && m.right <= innerWidth && m.bottom <= innerHeight,
                 m.top >= i.top - 1 && m.top <= i.bottom + 1 && m.left >= i.left && m.left <= i.right];"
    );
    let menu = anna.js(&script).await;
    assert_eq!(
        menu,
        serde_json::json!([true, true]),
        "the menu opens at the chat, on screen"
    );
    anna.wait_text(".ic-menu li:nth-child(1)", "Pin").await;
    anna.screenshot_step("menu").await;
    anna.click(".ic-menu li:nth-child(1)").await;
    anna.el(&format!("{item}[data-pinned='true']")).await;
    anna.el(&format!(".ic-item:first-child[data-chat-id='{gid}']"))
        .await;
    right_click(&anna, &item).await;
    anna.wait_text(".ic-menu li:nth-child(2)", "Mute").await;
    anna.click(".ic-menu li:nth-child(2)").await;
    anna.el(&format!("{item}[data-muted='true']")).await;
    anna.assert_absent(".ic-menu").await;

    // Search finds the message.
    anna.type_in("#ic-find", "noon").await;
    anna.wait_text(".ic-hits", "Lunch at noon?").await;
    anna.screenshot().await;
    j.finish([anna, bp]).await;
}
