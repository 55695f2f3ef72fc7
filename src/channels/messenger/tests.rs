#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::json;

use super::*;
use crate::channels::OutboundMedia;

fn page(items: serde_json::Value) -> Vec<u8> {
    json!({"object": "page", "entry": [{"id": "PAGE1", "time": 1, "messaging": items}]})
        .to_string()
        .into_bytes()
}

#[test]
fn text_attachments_reply_and_echo() {
    let body = page(json!([
        {"sender": {"id": "PSID1"}, "recipient": {"id": "PAGE1"}, "timestamp": 1700000000123_i64,
         "message": {"mid": "m_1", "text": "hi", "reply_to": {"mid": "m_0"}}},
        {"sender": {"id": "PAGE1"}, "recipient": {"id": "PSID1"}, "timestamp": 1700000000200_i64,
         "message": {"mid": "m_echo", "is_echo": true, "text": "our reply"}},
        {"sender": {"id": "PSID1"}, "recipient": {"id": "PAGE1"}, "timestamp": 1700000000300_i64,
         "message": {"mid": "m_2", "attachments": [
            {"type": "image", "payload": {"url": "https://cdn.example/i.jpg"}},
            {"type": "file", "payload": {"url": "https://cdn.example/f.pdf"}},
            {"type": "fallback", "title": "a link", "payload": null},
            {"type": "location", "payload": {"coordinates": {"lat": 1, "long": 2}}}
         ]}}
    ]));
    let events = parse_webhook(&body).unwrap();
    assert_eq!(events.len(), 2);
    assert_eq!(
        events[0],
        InboundEvent::Message(InboundMessage {
            provider_id: "m_1".into(),
            from: "PSID1".into(),
            to: "PAGE1".into(),
            to_display: None,
            contact_name: None,
            timestamp_ms: 1_700_000_000_123,
            text: "hi".into(),
            media: vec![],
            reply_to: Some("m_0".into()),
            identity: Default::default(),
            keyword: None,
            reaction: None,
            choice: None,
        })
    );
    let InboundEvent::Message(m) = &events[1] else {
        panic!("not a message")
    };
    assert_eq!(m.text, "[fallback: a link] [location]");
    assert_eq!(m.media.len(), 2);
    assert_eq!(
        m.media[0].source,
        MediaSource::Url("https://cdn.example/i.jpg".into())
    );
    assert_eq!(m.media[1].kind, MediaKind::File);
}

#[test]
fn watermarks_and_multiple_entries() {
    let body = json!({"object": "page", "entry": [
        {"id": "P", "messaging": [{"sender": {"id": "U1"}, "recipient": {"id": "P"},
            "timestamp": 1700000000500_i64, "delivery": {"mids": ["m_a"], "watermark": 1700000000400_i64}}]},
        {"id": "P", "messaging": [{"sender": {"id": "U1"}, "recipient": {"id": "P"},
            "timestamp": 1700000000900_i64, "read": {"watermark": 1700000000800_i64}},
            {"sender": {"id": "U1"}, "recipient": {"id": "P"}, "timestamp": 1, "reaction": {"mid": "m", "action": "react"}}]}
    ]});
    let events = parse_webhook(body.to_string().as_bytes()).unwrap();
    assert_eq!(
        events,
        vec![
            InboundEvent::Status(StatusUpdate {
                target: StatusTarget::Watermark {
                    contact: "U1".into(),
                    up_to_ms: 1_700_000_000_400
                },
                status: DeliveryStatus::Delivered,
                error: None,
                timestamp_ms: 1_700_000_000_500,
            }),
            InboundEvent::Status(StatusUpdate {
                target: StatusTarget::Watermark {
                    contact: "U1".into(),
                    up_to_ms: 1_700_000_000_800
                },
                status: DeliveryStatus::Read,
                error: None,
                timestamp_ms: 1_700_000_000_900,
            }),
        ]
    );
}

#[test]
fn clear_errors() {
    let err = |b: &[u8]| parse_webhook(b).unwrap_err();
    assert_eq!(
        err(br#"{"object":"whatsapp_business_account","entry":[]}"#).code,
        "wrong_object"
    );
    let no_mid = page(
        json!([{"sender": {"id": "U"}, "recipient": {"id": "P"}, "timestamp": 1,
        "message": {"text": "x"}}]),
    );
    assert_eq!(
        err(&no_mid).message,
        "missing field entry[0].messaging[0].message.mid"
    );
    let no_sender = page(json!([{"recipient": {"id": "P"}, "timestamp": 1,
        "message": {"mid": "m", "text": "x"}}]));
    assert_eq!(
        err(&no_sender).message,
        "missing field entry[0].messaging[0].sender.id"
    );
    let entry_not_obj = br#"{"object":"page","entry":[1]}"#;
    assert_eq!(
        err(entry_not_obj).message,
        "field entry[0] is invalid: expected an object"
    );
}

#[test]
fn send_bodies() {
    let text = OutboundMessage {
        to: "PSID".into(),
        text: Some("hello".into()),
        ..Default::default()
    };
    assert_eq!(
        send_body(&text).unwrap(),
        json!({"recipient":{"id":"PSID"},"messaging_type":"RESPONSE","message":{"text":"hello"}})
    );
    let tagged = OutboundMessage {
        human_agent_tag: true,
        ..text.clone()
    };
    assert_eq!(
        send_body(&tagged).unwrap(),
        json!({"recipient":{"id":"PSID"},"messaging_type":"MESSAGE_TAG","tag":"HUMAN_AGENT",
               "message":{"text":"hello"}})
    );
    let file = OutboundMessage {
        to: "PSID".into(),
        media: Some(OutboundMedia {
            source: MediaSource::Url("https://box.example/f/1".into()),
            kind: MediaKind::Document,
            caption: None,
            filename: None,
        }),
        ..Default::default()
    };
    assert_eq!(
        send_body(&file).unwrap(),
        json!({"recipient":{"id":"PSID"},"messaging_type":"RESPONSE",
               "message":{"attachment":{"type":"file","payload":{"url":"https://box.example/f/1","is_reusable":true}}}})
    );
    let both = OutboundMessage {
        text: Some("x".into()),
        ..file
    };
    assert!(send_body(&both).is_err());
}
