//! Instagram direct messages end to end against the Instagram flavour of the Messenger fake:
//! handshake, signatures, text / media / story reply / story mention in, duplicates, replies
//! within 24 h, with HUMAN_AGENT up to 7 days, refused after.

use serde_json::json;

use super::media::{all_files, fetch_now, media_store, stored_bytes};
use super::*;
use crate::fakes::{handshake_query, instagram};
use crate::support::customer::post_ig;
use crate::support::setup::instagram_channel;

/// A realistic Instagram timestamp (ms) for the test clock's "now".
fn now_ms(t: &TestServer) -> i64 {
    use switchboard::clock::Clock;
    t.clock.now_ms()
}

#[tokio::test]
async fn instagram_handshake_and_signatures_guard_the_webhook() {
    let t = TestServer::start().await;
    let ig = instagram::start().await;
    let ch = instagram_channel(&t, &ig).await;
    let anon = Client::anonymous(&t.base());
    let path = format!("/hooks/instagram/{ch}");
    let r = anon
        .get(&format!(
            "{path}?{}",
            handshake_query(instagram::VERIFY_TOKEN, "7301")
        ))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.text(), "7301");
    let r = anon
        .get(&format!("{path}?{}", handshake_query("wrong", "7301")))
        .await;
    assert_eq!(r.status, 403);

    let body = instagram::text_webhook("IGSID1", "aWdfZAG1", "hallo", now_ms(&t));
    assert_eq!(
        post_meta(&t, &path, body.as_bytes(), None).await.status,
        401
    );
    let forged = instagram::sign("not-the-secret", body.as_bytes());
    assert_eq!(
        post_meta(&t, &path, body.as_bytes(), Some(&forged))
            .await
            .status,
        403
    );
    // A Messenger body (object=page) on the Instagram hook is not understood.
    let page = crate::fakes::messenger::text_webhook("P", "PSID", "m_1", "hi", 1);
    let r = post_ig(&t, ch, &page).await;
    assert_eq!(r.status, 400, "{}", r.text());
    assert_eq!(r.json()["error"]["code"], "wrong_object");
    // The Messenger hook refuses an Instagram channel.
    let r = post_meta(
        &t,
        &format!("/hooks/messenger/{ch}"),
        body.as_bytes(),
        Some(&instagram::sign(instagram::APP_SECRET, body.as_bytes())),
    )
    .await;
    assert_eq!(r.status, 400);
    assert_eq!(count_messages(&t).await, 0);
    let h = t.admin.get(&format!("/api/v1/channels/{ch}")).await.json();
    assert!(
        h["health"]["last_signature_failure"]["at"]
            .as_i64()
            .unwrap()
            > 0,
        "{h}"
    );
    assert_eq!(
        h["webhook_urls"][0],
        format!("{}/hooks/instagram/{ch}", t.base())
    );
    // Signed correctly it is stored, and only once however often Meta redelivers it.
    assert_eq!(post_ig(&t, ch, &body).await.status, 200);
    assert_eq!(post_ig(&t, ch, &body).await.status, 200);
    assert_eq!(count_messages(&t).await, 1);
    let s = sessions(&t).await;
    assert_eq!(s.len(), 1);
    assert_eq!(s[0]["channel_kind"], "instagram");
    t.stop().await;
}

#[tokio::test]
async fn instagram_media_story_replies_and_mentions_are_shown_as_such() {
    let t = TestServer::start().await;
    let ig = instagram::start().await;
    let ch = instagram_channel(&t, &ig).await;
    let at = now_ms(&t);
    let img = ig.add_attachment(b"ig photo", "image/jpeg");
    let b = instagram::attachment_webhook("IGSID2", "aWdfM1", &[("image", &img)], at);
    assert_eq!(post_ig(&t, ch, &b).await.status, 200);
    let story = "https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=1789&signature=x";
    let b = instagram::story_reply_webhook("IGSID2", "aWdfM2", "love it", story, "1789", at + 1);
    assert_eq!(post_ig(&t, ch, &b).await.status, 200);
    let b = instagram::story_mention_webhook("IGSID2", "aWdfM3", story, at + 2);
    assert_eq!(post_ig(&t, ch, &b).await.status, 200);

    let sid = sessions(&t).await[0]["id"].as_u64().unwrap();
    let msgs = messages(&t, sid).await;
    let texts: Vec<&str> = msgs.iter().map(|m| m["text"].as_str().unwrap()).collect();
    assert!(
        texts.contains(&format!("[story reply] {story} — love it").as_str()),
        "{texts:?}"
    );
    assert!(
        texts.contains(&format!("[story mention] {story}").as_str()),
        "{texts:?}"
    );
    // The story itself is a link, never downloaded; the photo is fetched into the store.
    let files = all_files(&t).await;
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(fetch_now(&t, &media_store(&t)).await, 1);
    let f = &all_files(&t).await[0];
    let id = f["attachment_id"].as_u64().unwrap();
    assert_eq!(stored_bytes(&t, id).await, b"ig photo");
    assert!(
        ig.requests()
            .iter()
            .all(|r| !r.path().contains("ig_messaging_cdn")),
        "the story is not fetched"
    );
    t.stop().await;
}

#[tokio::test]
async fn instagram_replies_use_human_agent_after_24h_and_stop_after_7_days() {
    let mut t = TestServer::start().await;
    let ig = instagram::start().await;
    let ch = instagram_channel(&t, &ig).await;
    let b = instagram::text_webhook("IGSID3", "aWdfIN", "are you open?", now_ms(&t));
    assert_eq!(post_ig(&t, ch, &b).await.status, 200);
    let sid = sessions(&t).await[0]["id"].as_u64().unwrap();

    let id = reply(&t, sid, json!({"text": "yes, until 6"})).await.json()["id"]
        .as_u64()
        .unwrap();
    wait_status(&t, id, "sent").await;
    let sent = ig.accepted();
    assert_eq!(sent[0]["recipient"]["id"], "IGSID3");
    assert_eq!(sent[0]["message"]["text"], "yes, until 6");
    assert_eq!(sent[0]["messaging_type"], "RESPONSE");
    let rec = ig
        .requests()
        .into_iter()
        .find(|r| r.method == "POST")
        .unwrap();
    assert_eq!(
        rec.path(),
        format!("/v21.0/{}/messages", instagram::IG_USER_ID)
    );
    assert_eq!(
        rec.header("authorization"),
        Some(format!("Bearer {}", instagram::TOKEN).as_str())
    );

    t.clock.advance_hours(30);
    t.relogin().await;
    let d = t.admin.get(&format!("/api/v1/sessions/{sid}")).await.json();
    assert_eq!(d["window"], "human_agent", "{d}");
    let id = reply(&t, sid, json!({"text": "sorry for the wait"}))
        .await
        .json()["id"]
        .as_u64()
        .unwrap();
    wait_status(&t, id, "sent").await;
    let sent = ig.accepted();
    assert_eq!(sent[1]["messaging_type"], "MESSAGE_TAG");
    assert_eq!(sent[1]["tag"], "HUMAN_AGENT");

    t.clock.advance_hours(24 * 7);
    t.relogin().await;
    let r = reply(&t, sid, json!({"text": "too late"})).await;
    assert_eq!(r.status, 422, "{}", r.text());
    assert!(
        r.text()
            .contains("Instagram allows replies only within 7 days")
    );
    assert_eq!(ig.accepted().len(), 2, "nothing reached Instagram");
    // Instagram conversations cannot be started by an agent.
    let r = t
        .admin
        .post(
            "/api/v1/sessions",
            json!({"channel_id": ch, "to": "+4930123456", "text": "hi"}),
        )
        .await;
    assert_eq!(r.status, 422);
    t.stop().await;
}
