//! Browser tests of the internal chat page in headless Chromium: two colleagues chatting in real
//! time (typing, read state, Enter / Shift+Enter, emoji), group creation, an @mention, pin and
//! mute shared by every browser of the user, and search that never shows other people's chats.

use fantoccini::Locator;
use serde_json::json;

use crate::browser::keys::{ENTER, NULL, SHIFT};
use crate::browser::{Browser, skip};
use crate::support::{PASSWORD, TestServer};

async fn open_chat_page(t: &TestServer, user: &str) -> Browser {
    let b = Browser::start().await;
    b.login(&t.base(), user, PASSWORD).await;
    b.goto(&format!("{}/chat/internal", t.base())).await;
    b.el("#ic-app[data-ready='1'][data-live='1']").await;
    b
}

/// Counts every `EventSource` the page creates, by URL, in `window.__eventSources` (installed
/// before the page's scripts run, by the test; nothing of it ships).
const COUNT_EVENT_SOURCES: &str = "(() => {
  const Native = window.EventSource;
  window.__eventSources = [];
  window.EventSource = class extends Native {
    constructor(url, init) { super(url, init); window.__eventSources.push(String(url)); }
  };
})();";

/// The internal chat page shares the page's one live event stream (core/events.js) instead of
/// opening its own: exactly one EventSource to /api/v1/events, and it still carries chat events.
#[tokio::test]
async fn internal_chat_page_opens_exactly_one_event_stream() {
    if skip() {
        return;
    }
    let t = TestServer::start().await;
    let (alice, _) = t.user("alice", "agent").await;
    let (_, bob) = t.user("bob", "agent").await;
    let b = Browser::start().await;
    b.before_page_scripts(COUNT_EVENT_SOURCES).await;
    b.login(&t.base(), "alice", PASSWORD).await;
    b.goto(&format!("{}/chat/internal", t.base())).await;
    b.el("#ic-app[data-ready='1'][data-live='1']").await;
    // A colleague writes: the one stream delivers it to the chat list.
    let r = bob.post("/api/v1/chats", json!({ "user_id": alice })).await;
    let id = r.json()["chat"]["id"].as_u64().unwrap();
    bob.post(
        &format!("/api/v1/chats/{id}/messages"),
        json!({ "text": "one stream is enough" }),
    )
    .await;
    b.wait_text("#ic-list", "one stream is enough").await;
    let streams = b
        .client
        .execute(
            "return window.__eventSources.filter((u) => u.includes('/api/v1/events'))",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        streams.as_array().map(|a| a.len()),
        Some(1),
        "event streams opened by the page: {streams}"
    );
    b.close().await;
    t.stop().await;
}

#[tokio::test]
async fn colleagues_chat_in_real_time_with_groups_mentions_pin_and_mute() {
    if skip() {
        return;
    }
    let t = TestServer::start().await;
    let (_alice, _) = t.user("alice", "agent").await;
    let (bob, _) = t.user("bob", "agent").await;
    let (carol, _) = t.user("carol", "agent").await;
    let a = open_chat_page(&t, "alice").await;
    let b = open_chat_page(&t, "bob").await;

    // Alice finds Bob in the colleague search and starts a 1:1.
    a.type_in("#ic-find", "bob").await;
    a.click(&format!(".ic-person[data-user-id='{bob}']")).await;
    a.wait_text("#ic-title", "bob").await;
    // Emoji from the picker, Shift+Enter for a new line, Enter sends.
    a.type_in("#ic-input", "hello bob ").await;
    a.click("#ic-emoji").await;
    a.click(".ic-emo").await;
    a.type_in(
        "#ic-input",
        &format!("{SHIFT}{ENTER}{NULL}second line{ENTER}"),
    )
    .await;
    let sent = a.wait_text("#ic-messages", "second line").await;
    assert!(sent.contains("hello bob 😀"), "{sent}");
    let text = a.el(".ic-msg.ic-mine .ic-text").await.text().await.unwrap();
    assert!(
        text.contains('\n'),
        "Shift+Enter keeps a new line: {text:?}"
    );
    assert_eq!(
        a.el("#ic-input")
            .await
            .prop("value")
            .await
            .unwrap()
            .unwrap_or_default(),
        ""
    );
    // Closed pop-ups and the (short) history's "older" button are really hidden.
    for css in ["#ic-emoji-panel", "#ic-older", "#ic-mentions", "#ic-panel"] {
        assert!(
            !a.el(css).await.is_displayed().await.unwrap(),
            "{css} is shown"
        );
    }

    // Bob's list updates live with an unread count; opening the chat shows the message and
    // Alice sees it read.
    b.wait_text(".ic-item .ic-count", "1").await;
    b.click(".ic-item").await;
    b.wait_text("#ic-messages", "second line").await;
    a.wait_text(".ic-readby", "Seen").await;
    b.wait_gone(".ic-item .ic-count").await;
    // Bob types: Alice sees the typing indicator, then the message.
    b.type_in("#ic-input", "hi alice").await;
    a.wait_text("#ic-typing", "bob is typing").await;
    b.type_in("#ic-input", ENTER).await;
    a.wait_text("#ic-messages", "hi alice").await;
    b.screenshot("chat-direct").await;

    // Alice creates a group with Bob and Carol through the "+" dialog.
    a.click("#ic-new-group").await;
    a.type_in("#ic-group-name", "Project X").await;
    a.click(&format!("#ic-group-people input[value='{bob}']"))
        .await;
    a.click(&format!("#ic-group-people input[value='{carol}']"))
        .await;
    a.click("#ic-group-create").await;
    a.wait_text("#ic-title", "Project X").await;
    a.wait_text("#ic-sub", "3").await;
    b.wait_text("#ic-list", "Project X").await;
    let groups = t.admin.get("/api/v1/chats").await; // the admin is in none of these
    assert_eq!(groups.json().as_array().unwrap().len(), 0);

    // Bob (still in the 1:1) mutes and pins the group from his other browser's state too:
    // a second browser of Bob follows live.
    let b2 = open_chat_page(&t, "bob").await;
    let gid: u64 = b
        .el(".ic-item[data-chat-id]:first-child")
        .await
        .attr("data-chat-id")
        .await
        .unwrap()
        .unwrap()
        .parse()
        .unwrap();
    b.goto(&format!("{}/chat/internal/{gid}", t.base())).await;
    b.el("#ic-app[data-ready='1'][data-live='1']").await;
    b.wait_text("#ic-title", "Project X").await;
    b.click("#ic-mute").await;
    b.click("#ic-pin").await;
    b2.el(&format!(
        ".ic-item[data-chat-id='{gid}'][data-muted='true'][data-pinned='true']"
    ))
    .await;
    // Pinned first in both of Bob's browsers.
    b2.el(&format!(".ic-item:first-child[data-chat-id='{gid}']"))
        .await;
    // Bob goes back to the 1:1; Alice writes in the muted group: a red dot, not a count.
    b.click(".ic-item:nth-child(2)").await;
    b.wait_text("#ic-title", "alice").await;
    a.type_in("#ic-input", "status update, nothing urgent")
        .await;
    a.type_in("#ic-input", ENTER).await;
    a.wait_text("#ic-messages", "nothing urgent").await;
    b.el(&format!(".ic-item[data-chat-id='{gid}'] .ic-dot"))
        .await;
    b2.el(&format!(".ic-item[data-chat-id='{gid}'] .ic-dot"))
        .await;

    // A mention with autocomplete notifies Bob even though the group is muted.
    a.type_in("#ic-input", "@bo").await;
    a.wait_text("#ic-mentions", "@bob").await;
    a.type_in("#ic-input", "\u{e004}").await; // Tab picks the colleague
    a.type_in("#ic-input", "please review the plan").await;
    a.type_in("#ic-input", ENTER).await;
    a.wait_text("#ic-messages", "@bob please review the plan")
        .await;
    a.wait_text(".ic-msg:last-child .ic-mention", "@bob").await;
    b.wait_text(
        &format!(".ic-item[data-chat-id='{gid}'] .ic-count.ic-at"),
        "@",
    )
    .await;
    b.wait_text(".ic-toast", "mentioned you").await;
    b.screenshot("chat-mention").await;

    b2.close().await;
    a.close().await;
    b.close().await;
    t.stop().await;
}

#[tokio::test]
async fn search_finds_own_messages_and_nothing_from_other_chats() {
    if skip() {
        return;
    }
    let t = TestServer::start().await;
    let (_alice, a_api) = t.user("alice", "agent").await;
    let (bob, _) = t.user("bob", "agent").await;
    let (carol, c_api) = t.user("carol", "agent").await;
    let (_dave, _) = t.user("dave", "agent").await;
    // Alice and Bob share a group; Carol and Dave have a chat Alice is not in.
    let g = a_api
        .post("/api/v1/chats", json!({"name": "ops", "member_ids": [bob]}))
        .await
        .json()["chat"]["id"]
        .as_u64()
        .unwrap();
    for i in 0..60 {
        a_api
            .post(
                &format!("/api/v1/chats/{g}/messages"),
                json!({"text": format!("filler message {i}")}),
            )
            .await;
    }
    let target = a_api
        .post(
            &format!("/api/v1/chats/{g}/messages"),
            json!({"text": "the tangerine invoice is paid"}),
        )
        .await
        .json()["id"]
        .as_u64()
        .unwrap();
    for i in 0..60 {
        a_api
            .post(
                &format!("/api/v1/chats/{g}/messages"),
                json!({"text": format!("later message {i}")}),
            )
            .await;
    }
    let dm = c_api
        .post("/api/v1/chats", json!({"user_id": _dave}))
        .await
        .json()["chat"]["id"]
        .as_u64()
        .unwrap();
    c_api
        .post(
            &format!("/api/v1/chats/{dm}/messages"),
            json!({"text": "secret tangerine surprise for alice"}),
        )
        .await;
    let _ = carol;

    let a = open_chat_page(&t, "alice").await;
    a.type_in("#ic-find", "tangerine").await;
    let hits = a.wait_text(".ic-hits", "tangerine invoice").await;
    assert!(!hits.contains("surprise"), "{hits}");
    assert_eq!(
        a.client
            .find_all(Locator::Css(".ic-hits .ic-hit"))
            .await
            .unwrap()
            .len(),
        1
    );
    // Jump to the message: it is older than the first page, so the page loads back to it.
    a.click(".ic-hits .ic-hit").await;
    a.wait_text("#ic-title", "ops").await;
    a.el(&format!("#m{target}")).await;
    a.wait_for(
        |u| u.contains(&format!("/chat/internal/{g}")),
        "land on the chat",
    )
    .await;
    // Nothing at all for a word only in the other chat.
    a.el("#ic-find").await.clear().await.unwrap();
    a.type_in("#ic-find", "surprise").await;
    a.wait_text(".ic-hits", "Nothing found").await;
    // Opening the other chat's page directly is a 404.
    a.goto(&format!("{}/chat/internal/{dm}", t.base())).await;
    let body = a.el("body").await.text().await.unwrap();
    assert!(!body.contains("tangerine"), "{body}");
    a.screenshot("chat-search").await;
    a.close().await;
    t.stop().await;
}
