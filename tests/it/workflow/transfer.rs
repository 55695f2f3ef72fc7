//! Transfer to a colleague or back to the queue, with a note, and its clear refusals.

use serde_json::json;

use crate::support::customer::writes;
use crate::support::{EventStream, TestServer};

#[tokio::test]
async fn transfer_to_colleague_or_queue_with_note_and_clear_errors() {
    let t = TestServer::start().await;
    let (a, ca) = t.user("alice", "agent").await;
    let (b, cb) = t.user("bruno", "agent").await;
    let (outsider, _) = t.user("olga", "agent").await;
    let (gone, _) = t.user("gus", "agent").await;
    let cid = t
        .channel(json!({"kind":"sms","name":"SMS","members":[a,b,gone]}))
        .await;
    let sid = writes(&t, cid, "+4930555", Some("Carl"), "need help")
        .await
        .session_id;
    ca.post(&format!("/api/v1/sessions/{sid}/pickup"), json!({}))
        .await;
    ca.post(
        &format!("/api/v1/sessions/{sid}/messages"),
        json!({"text":"hi Carl"}),
    )
    .await;
    // gus is disabled
    let r = t
        .admin
        .patch(&format!("/api/v1/users/{gone}"), json!({"disabled": true}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text());

    let url = format!("/api/v1/sessions/{sid}/transfer");
    let r = ca.post(&url, json!({"to_user_id": gone})).await;
    assert_eq!(r.status, 422, "{}", r.text());
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("disabled")
    );
    let r = ca.post(&url, json!({"to_user_id": outsider})).await;
    assert_eq!(r.status, 422, "{}", r.text());
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not a member")
    );
    let r = ca.post(&url, json!({"to_user_id": 9999})).await;
    assert_eq!(r.status, 422);
    // bruno is not the owner: he cannot take it away from alice.
    let r = cb.post(&url, json!({"to_user_id": b})).await;
    assert_eq!(r.status, 409);

    let mut stream = EventStream::open(&cb).await;
    let r = ca
        .post(
            &url,
            json!({"to_user_id": b, "note": "VIP, wants a callback"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["assignee"], b);
    let ev = stream.next_of_kind("session.transferred").await;
    assert_eq!(ev.data()["session_id"], sid);
    assert_eq!(ev.data()["note"], "VIP, wants a callback");
    assert_eq!(ev.data()["from_user_id"], a);
    // The receiver sees the whole history and the note in the timeline.
    let msgs = cb
        .get(&format!("/api/v1/sessions/{sid}/messages"))
        .await
        .json();
    assert_eq!(msgs.as_array().unwrap().len(), 2);
    let tl = cb
        .get(&format!("/api/v1/sessions/{sid}/timeline"))
        .await
        .json();
    let tr = tl
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "transferred")
        .unwrap()
        .clone();
    assert!(
        tr["detail"]
            .as_str()
            .unwrap()
            .contains("VIP, wants a callback")
    );
    assert_eq!(tr["actor"], a);
    assert_eq!(tr["actor_name"], "alice");
    // Whom it went to is kept as words each reader sees in their own language.
    assert_eq!(tr["phrase"]["key"], "tl.d.to_user");
    assert!(tr["phrase"]["args"]["name"].is_string(), "{tr}");

    // Back to the queue.
    let r = cb
        .post(&url, json!({"to_user_id": null, "note": "off shift"}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.json()["assignee"].is_null());
    let r = cb.post(&url, json!({})).await;
    assert_eq!(r.status, 409, "already in the queue");
    t.stop().await;
}
