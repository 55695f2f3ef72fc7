//! Bad webhook input: clear 4xx, nothing stored, never a 500 or half a batch.

use serde_json::json;

use super::*;
use crate::fakes::{messenger, twilio, whatsapp};

#[tokio::test]
async fn malformed_webhooks_get_clear_4xx_and_change_nothing() {
    let t = TestServer::start().await;
    let wa = whatsapp::FakeWhatsApp::start().await;
    let tw = twilio::FakeTwilio::start().await;
    let fb = messenger::FakeMessenger::start().await;
    let ch = whatsapp_channel(&t, &wa).await;
    let tw_ch = twilio_channel(&t, &tw).await;
    let fb_ch = messenger_channel(&t, &fb).await;
    let good = whatsapp::text_webhook(
        whatsapp::PHONE_NUMBER_ID,
        CUSTOMER,
        "G",
        "wamid.OK",
        "hi",
        1,
    );
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("truncated JSON", good.as_bytes()[..good.len() / 2].to_vec(), "bad_json"),
        ("wrong object", br#"{"object":"page","entry":[]}"#.to_vec(), "wrong_object"),
        ("missing entry", br#"{"object":"whatsapp_business_account"}"#.to_vec(), "missing_field"),
        (
            "missing metadata",
            br#"{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{"messages":[]}}]}]}"#.to_vec(),
            "missing_field",
        ),
        (
            "message without id",
            br#"{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{"metadata":{"phone_number_id":"1"},"messages":[{"from":"1","type":"text","timestamp":"1","text":{"body":"x"}}]}}]}]}"#.to_vec(),
            "missing_field",
        ),
        ("bad UTF-8", b"{\"object\":\"whatsapp_business_account\",\"entry\":[\xff\xfe]}".to_vec(), "bad_utf8"),
        ("not JSON at all", b"hello".to_vec(), "bad_json"),
        ("empty", Vec::new(), "bad_json"),
    ];
    for (what, body, code) in cases {
        let sig = whatsapp::sign(whatsapp::APP_SECRET, &body);
        let r = post_meta(&t, &format!("/hooks/whatsapp/{ch}"), &body, Some(&sig)).await;
        assert!(
            (400..500).contains(&r.status),
            "{what}: {} {}",
            r.status,
            r.text()
        );
        assert_eq!(r.code(), code, "{what}: {}", r.text());
    }
    // Messenger with a WhatsApp payload, Twilio with bad UTF-8 and without MessageSid.
    let r = post_fb(&t, fb_ch, &good).await;
    assert_eq!((r.status, r.code().as_str()), (400, "wrong_object"));
    let path = format!("/hooks/twilio/{tw_ch}");
    let c = Client::anonymous(&t.base());
    let r = c
        .send(
            c.http
                .post(c.url(&path))
                .header("x-twilio-signature", "x")
                .body(b"Body=\xff".to_vec()),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text());
    let mut p = twilio::inbound_params("SMx", "+14155550100", twilio::FROM_NUMBER, "hi");
    p.retain(|(k, _)| !k.ends_with("Sid") || k == "AccountSid");
    let r = post_twilio(&t, &path, &p, twilio::AUTH_TOKEN).await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (400, "missing_field"),
        "{}",
        r.text()
    );
    // Unknown channel, non-numeric id, wrong kind.
    let sig = whatsapp::sign(whatsapp::APP_SECRET, good.as_bytes());
    assert_eq!(
        post_meta(&t, "/hooks/whatsapp/424242", good.as_bytes(), Some(&sig))
            .await
            .status,
        404
    );
    assert_eq!(
        post_meta(&t, "/hooks/whatsapp/abc", good.as_bytes(), Some(&sig))
            .await
            .status,
        404
    );
    let r = post_meta(
        &t,
        &format!("/hooks/whatsapp/{tw_ch}"),
        good.as_bytes(),
        Some(&sig),
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(r.text().contains("sms"));
    assert_eq!(count_messages(&t).await, 0);
    assert!(sessions(&t).await.is_empty());
    t.stop().await;
}

#[tokio::test]
async fn absurd_sizes_are_refused_with_413() {
    let t = TestServer::start().await;
    let wa = whatsapp::FakeWhatsApp::start().await;
    let ch = whatsapp_channel(&t, &wa).await;
    let body = format!(
        r#"{{"object":"whatsapp_business_account","entry":[],"pad":"{}"}}"#,
        "x".repeat(2 << 20)
    );
    let r = post_wa(&t, ch, &body).await;
    assert_eq!(r.status, 413, "{}", r.text());
    assert_eq!(r.code(), "too_large");
    // Without Content-Length (chunked) the cap holds as well.
    let sig = whatsapp::sign(whatsapp::APP_SECRET, body.as_bytes());
    let c = Client::anonymous(&t.base());
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = body
        .as_bytes()
        .chunks(64 * 1024)
        .map(|c| Ok(c.to_vec()))
        .collect();
    let r = c
        .send(
            c.http
                .post(c.url(&format!("/hooks/whatsapp/{ch}")))
                .header("x-hub-signature-256", sig)
                .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
                    chunks,
                ))),
        )
        .await;
    assert_eq!(r.status, 413, "{}", r.text());
    assert_eq!(count_messages(&t).await, 0);
    t.stop().await;
}

#[tokio::test]
async fn ten_thousand_items_in_one_batch_are_stored_whole_or_refused_whole() {
    let t = TestServer::start().await;
    let wa = whatsapp::FakeWhatsApp::start().await;
    let ch = whatsapp_channel(&t, &wa).await;
    // 10,000 messages in one change (fits the 1 MiB cap): accepted and fully stored.
    let msgs: Vec<Value> = (0..10_000)
        .map(|i| {
            json!({"from": format!("49{}", 1000 + i % 50), "id": format!("wamid.T{i}"),
            "timestamp": "1", "type": "text", "text": {"body": "x"}})
        })
        .collect();
    let body = whatsapp::webhook(whatsapp::PHONE_NUMBER_ID, &[], msgs, vec![]);
    assert!(body.len() < 1 << 20, "{}", body.len());
    let r = post_wa(&t, ch, &body).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(count_messages(&t).await, 10_000);
    assert_eq!(sessions(&t).await.len(), 50);
    // 10,000 entries that do not fit the cap: refused as a whole.
    let entries: Vec<Value> = (0..10_000)
        .map(|i| {
            json!({"id": "W", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "1", "phone_number_id": whatsapp::PHONE_NUMBER_ID},
            "messages": [{"from": "4930111", "id": format!("wamid.E{i}"), "timestamp": "1",
                "type": "text", "text": {"body": "y"}}]}}]})
        })
        .collect();
    let big = json!({"object": "whatsapp_business_account", "entry": entries}).to_string();
    let r = post_wa(&t, ch, &big).await;
    assert_eq!(r.status, 413, "{}", r.text());
    assert_eq!(
        count_messages(&t).await,
        10_000,
        "nothing of the refused batch"
    );
    // A batch with one bad item is refused whole (nothing half-stored).
    let mixed = whatsapp::webhook(
        whatsapp::PHONE_NUMBER_ID,
        &[],
        vec![
            whatsapp::text_message("4930222", "wamid.GOOD1", "fine", 1),
            whatsapp::text_message(
                "4930222",
                &format!("wamid.{}", "L".repeat(300)),
                "too long id",
                1,
            ),
        ],
        vec![],
    );
    let r = post_wa(&t, ch, &mixed).await;
    assert!((400..500).contains(&r.status), "{} {}", r.status, r.text());
    assert_eq!(count_messages(&t).await, 10_000);
    t.stop().await;
}
