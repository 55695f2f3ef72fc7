//! WhatsApp read receipts, typing indicator (Meta's documented bodies reach the fake) and
//! unsupported message types (stored as a readable placeholder, never dropped).

use serde_json::{Value, json};

use super::*;
use crate::fakes::whatsapp;

fn reads(fake: &whatsapp::FakeWhatsApp) -> Vec<Value> {
    fake.accepted()
        .into_iter()
        .filter(|b| b["status"] == "read")
        .collect()
}

async fn settle() {
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
}

async fn customer_says(t: &TestServer, ch: u64, wamid: &str, text: &str) {
    let body = whatsapp::text_webhook(
        whatsapp::PHONE_NUMBER_ID,
        CUSTOMER,
        "Grace Customer",
        wamid,
        text,
        now_secs(t),
    );
    assert_eq!(post_wa(t, ch, &body).await.status, 200);
}

#[tokio::test]
async fn opening_marks_read_once_and_typing_shows_the_indicator() {
    let t = TestServer::start().await;
    let fake = whatsapp::FakeWhatsApp::start().await;
    let (ch, sid) = whatsapp_conversation(&t, &fake).await;
    let (read_path, typing_path) = (
        format!("/api/v1/sessions/{sid}/read"),
        format!("/api/v1/sessions/{sid}/typing"),
    );
    let open = || t.admin.post(&read_path, json!({}));
    let typing = || t.admin.post(&typing_path, json!({}));

    assert_eq!(open().await.status, 204);
    let first = wait_for("mark-read at the fake", || {
        let r = reads(&fake);
        async move { r.into_iter().next() }
    })
    .await;
    assert_eq!(
        first,
        json!({"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.IN1"})
    );
    // Opened again with nothing new: no second call.
    assert_eq!(open().await.status, 204);
    settle().await;
    assert_eq!(reads(&fake).len(), 1);

    // A new message, opened: one call for the newest (Meta marks the earlier ones with it).
    customer_says(&t, ch, "wamid.IN2", "one more").await;
    assert_eq!(open().await.status, 204);
    wait_for("second mark-read", || {
        let n = reads(&fake).len();
        async move { (n == 2).then_some(()) }
    })
    .await;
    assert_eq!(reads(&fake)[1]["message_id"], "wamid.IN2");

    // Typing: the documented body, at most every 20 s; a reply lets it show again.
    assert_eq!(typing().await.status, 204);
    assert_eq!(typing().await.status, 204);
    let with_typing: Vec<Value> = reads(&fake)
        .into_iter()
        .filter(|b| b.get("typing_indicator").is_some())
        .collect();
    assert_eq!(
        with_typing,
        vec![json!({"messaging_product": "whatsapp", "status": "read",
            "message_id": "wamid.IN2", "typing_indicator": {"type": "text"}})]
    );
    let r = t
        .admin
        .post(
            &format!("/api/v1/sessions/{sid}/messages"),
            json!({"text": "hi"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(typing().await.status, 204);
    let n = reads(&fake)
        .iter()
        .filter(|b| b.get("typing_indicator").is_some())
        .count();
    assert_eq!(n, 2, "shown again after the reply");
}

#[tokio::test]
async fn both_can_be_switched_off_per_channel() {
    let t = TestServer::start().await;
    let fake = whatsapp::FakeWhatsApp::start().await;
    let (ch, sid) = whatsapp_conversation(&t, &fake).await;
    let r = t
        .admin
        .patch(
            &format!("/api/v1/channels/{ch}"),
            json!({"read_receipts": false, "typing_indicator": false}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["read_receipts"], false, "{}", r.text());
    assert_eq!(
        t.admin
            .post(&format!("/api/v1/sessions/{sid}/read"), json!({}))
            .await
            .status,
        204
    );
    assert_eq!(
        t.admin
            .post(&format!("/api/v1/sessions/{sid}/typing"), json!({}))
            .await
            .status,
        204
    );
    settle().await;
    assert!(reads(&fake).is_empty(), "{:?}", reads(&fake));
    // Typing alone off: read receipts still go out, typing does not.
    let r = t
        .admin
        .patch(
            &format!("/api/v1/channels/{ch}"),
            json!({"read_receipts": true}),
        )
        .await;
    assert_eq!(r.status, 200);
    t.admin
        .post(&format!("/api/v1/sessions/{sid}/typing"), json!({}))
        .await;
    t.admin
        .post(&format!("/api/v1/sessions/{sid}/read"), json!({}))
        .await;
    wait_for("mark-read", || {
        let n = reads(&fake).len();
        async move { (n == 1).then_some(()) }
    })
    .await;
    settle().await;
    assert!(reads(&fake)[0].get("typing_indicator").is_none());
    assert_eq!(reads(&fake).len(), 1);
}

#[tokio::test]
async fn unsupported_types_are_stored_as_placeholders() {
    let t = TestServer::start().await;
    let fake = whatsapp::FakeWhatsApp::start().await;
    let ch = whatsapp_channel(&t, &fake).await;
    let m = json!({"from": CUSTOMER, "id": "wamid.U1", "timestamp": now_secs(&t).to_string(),
        "type": "unsupported", "unsupported": {"type": "poll_creation"},
        "errors": [{"code": 131051, "title": "Message type unknown",
                    "message": "Message type unknown",
                    "error_data": {"details": "Message type is currently not supported."}}]});
    let body = whatsapp::webhook(
        whatsapp::PHONE_NUMBER_ID,
        &[(CUSTOMER, "Grace")],
        vec![m],
        vec![],
    );
    assert_eq!(post_wa(&t, ch, &body).await.status, 200);
    let sid = sessions(&t).await[0]["id"].as_u64().unwrap();
    let msgs = messages(&t, sid).await;
    assert_eq!(msgs[0]["text"], "[unsupported message (poll_creation)]");
}
