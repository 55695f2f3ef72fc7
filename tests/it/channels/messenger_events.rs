//! Messenger reactions (`message_reactions`) and edits (`message_edits`) as Meta sends them:
//! a reaction marks the message it names, an edit replaces its text and keeps the first
//! version; either for an unknown `mid` is acknowledged and changes nothing.

use serde_json::{Value, json};
use switchboard::clock::Clock;

use super::*;
use crate::fakes::messenger;

fn item(psid: &str, ts: i64, key: &str, body: Value) -> String {
    json!({"object": "page", "entry": [{"id": messenger::PAGE_ID, "time": ts, "messaging": [
        {"sender": {"id": psid}, "recipient": {"id": messenger::PAGE_ID}, "timestamp": ts,
         key: body}]}]})
    .to_string()
}

/// A Messenger conversation with one customer message `m_1` ("Can I come at 10?").
async fn conversation(t: &TestServer) -> (u64, u64) {
    let fb = messenger::FakeMessenger::start().await;
    let ch = messenger_channel(t, &fb).await;
    let body = messenger::text_webhook(
        messenger::PAGE_ID,
        "PSID7",
        "m_1",
        "Can I come at 10?",
        t.clock.now_ms(),
    );
    assert_eq!(post_fb(t, ch, &body).await.status, 200);
    let sid = sessions(t).await[0]["id"].as_u64().unwrap();
    let id = messages(t, sid).await[0]["id"].as_u64().unwrap();
    (ch, id)
}

#[tokio::test]
async fn a_reaction_marks_the_message_and_unreact_takes_it_off() {
    let t = TestServer::start().await;
    let (ch, id) = conversation(&t).await;
    let now = t.clock.now_ms();
    let react = item(
        "PSID7",
        now,
        "reaction",
        json!({"mid": "m_1", "action": "react", "reaction": "love", "emoji": "\u{2764}\u{fe0f}"}),
    );
    assert_eq!(post_fb(&t, ch, &react).await.status, 200);
    assert_eq!(message(&t, id).await["reaction"], "\u{2764}\u{fe0f}");
    // An older Graph version names the reaction without an emoji.
    let named = item(
        "PSID7",
        now + 1,
        "reaction",
        json!({"mid": "m_1", "action": "react", "reaction": "like"}),
    );
    assert_eq!(post_fb(&t, ch, &named).await.status, 200);
    assert_eq!(message(&t, id).await["reaction"], "\u{1f44d}");
    let unreact = item(
        "PSID7",
        now + 2,
        "reaction",
        json!({"mid": "m_1", "action": "unreact"}),
    );
    assert_eq!(post_fb(&t, ch, &unreact).await.status, 200);
    assert!(message(&t, id).await.get("reaction").is_none());
    // A reaction to a message we never saw: acknowledged, nothing stored or changed.
    let before = count_messages(&t).await;
    let unknown = item(
        "PSID7",
        now + 3,
        "reaction",
        json!({"mid": "m_unknown", "action": "react", "reaction": "wow", "emoji": "\u{1f62e}"}),
    );
    assert_eq!(post_fb(&t, ch, &unknown).await.status, 200);
    assert_eq!(count_messages(&t).await, before);
    assert!(message(&t, id).await.get("reaction").is_none());
    t.stop().await;
}

#[tokio::test]
async fn an_edit_replaces_the_text_and_keeps_the_first_version() {
    let t = TestServer::start().await;
    let (ch, id) = conversation(&t).await;
    let now = t.clock.now_ms();
    let edit = |text: &str, n: i64| {
        item(
            "PSID7",
            now,
            "message_edit",
            json!({"mid": "m_1", "text": text, "num_edit": n}),
        )
    };
    assert_eq!(
        post_fb(&t, ch, &edit("Can I come at 11?", 1)).await.status,
        200
    );
    let m = message(&t, id).await;
    assert_eq!(m["text"], "Can I come at 11?");
    assert_eq!(m["edited"]["original"], "Can I come at 10?");
    assert_eq!(m["edited"]["count"], 1);
    assert_eq!(
        post_fb(&t, ch, &edit("Can I come at 12?", 2)).await.status,
        200
    );
    let m = message(&t, id).await;
    assert_eq!(m["text"], "Can I come at 12?");
    assert_eq!(
        m["edited"]["original"], "Can I come at 10?",
        "the first version stays"
    );
    assert_eq!(m["edited"]["count"], 2);
    // A redelivered older edit does not move the text back.
    assert_eq!(
        post_fb(&t, ch, &edit("Can I come at 11?", 1)).await.status,
        200
    );
    assert_eq!(message(&t, id).await["text"], "Can I come at 12?");
    // Someone else cannot edit the customer's message; an unknown mid changes nothing.
    let other = item(
        "PSID8",
        now,
        "message_edit",
        json!({"mid": "m_1", "text": "hijacked", "num_edit": 3}),
    );
    assert_eq!(post_fb(&t, ch, &other).await.status, 200);
    let unknown = item(
        "PSID7",
        now,
        "message_edit",
        json!({"mid": "m_nope", "text": "x", "num_edit": 1}),
    );
    let before = count_messages(&t).await;
    assert_eq!(post_fb(&t, ch, &unknown).await.status, 200);
    assert_eq!(count_messages(&t).await, before);
    assert_eq!(message(&t, id).await["text"], "Can I come at 12?");
    t.stop().await;
}

#[tokio::test]
async fn an_edit_without_mid_is_refused_and_changes_nothing() {
    let t = TestServer::start().await;
    let (ch, id) = conversation(&t).await;
    let bad = item(
        "PSID7",
        t.clock.now_ms(),
        "message_edit",
        json!({"text": "no id", "num_edit": 1}),
    );
    let r = post_fb(&t, ch, &bad).await;
    assert_eq!(r.status, 400, "{}", r.text());
    assert_eq!(message(&t, id).await["text"], "Can I come at 10?");
    t.stop().await;
}

#[tokio::test]
async fn the_profile_name_and_picture_replace_the_psid_once_known() {
    let t = TestServer::start().await;
    let fb = messenger::FakeMessenger::start().await;
    fb.set_profile(
        "PSID21",
        "Peter",
        "Chang",
        "https://platform-lookaside.fbsbx.com/p21",
    );
    let ch = messenger_channel(&t, &fb).await;
    let body = messenger::text_webhook(
        messenger::PAGE_ID,
        "PSID21",
        "m_21",
        "hello",
        t.clock.now_ms(),
    );
    assert_eq!(post_fb(&t, ch, &body).await.status, 200);
    // The message is stored before (and without) the profile: the lookup runs afterwards.
    assert_eq!(sessions(&t).await.len(), 1);
    wait_for("the profile name", || async {
        (sessions(&t).await[0]["contact_name"] == "Peter Chang").then_some(())
    })
    .await;
    let contact = t
        .state()
        .store
        .read(move |rtx| {
            switchboard::domain::contacts::find(rtx, switchboard::ids::ChannelId(ch), "PSID21")
        })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        contact.picture.as_deref(),
        Some("https://platform-lookaside.fbsbx.com/p21")
    );
    let asked: Vec<_> = fb
        .requests()
        .into_iter()
        .filter(|r| r.method == "GET" && r.path() == "/v21.0/PSID21")
        .collect();
    assert_eq!(asked.len(), 1);
    let q = asked[0].query_pairs();
    assert!(q.contains(&("fields".into(), "first_name,last_name,profile_pic".into())));
    // A second message does not ask again.
    let again = messenger::text_webhook(
        messenger::PAGE_ID,
        "PSID21",
        "m_22",
        "still me",
        t.clock.now_ms(),
    );
    assert_eq!(post_fb(&t, ch, &again).await.status, 200);
    // A customer whose profile is withheld keeps the id as name; the message is stored anyway.
    let hidden =
        messenger::text_webhook(messenger::PAGE_ID, "PSID22", "m_23", "hi", t.clock.now_ms());
    assert_eq!(post_fb(&t, ch, &hidden).await.status, 200);
    wait_for("the failed lookup", || async {
        fb.requests()
            .iter()
            .any(|r| r.path() == "/v21.0/PSID22")
            .then_some(())
    })
    .await;
    let n = fb
        .requests()
        .iter()
        .filter(|r| r.path() == "/v21.0/PSID21")
        .count();
    assert_eq!(n, 1, "the profile is fetched once");
    assert_eq!(count_messages(&t).await, 3);
    t.stop().await;
}
