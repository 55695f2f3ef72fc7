#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::json;

use super::*;
use crate::channels::{OutboundMedia, OutboundMessage, SendError, TemplateSend};

fn envelope(value: serde_json::Value) -> Vec<u8> {
    json!({
        "object": "whatsapp_business_account",
        "entry": [{"id": "WABA1", "changes": [{"field": "messages", "value": value}]}]
    })
    .to_string()
    .into_bytes()
}

fn value_with(messages: serde_json::Value) -> serde_json::Value {
    json!({
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550001111", "phone_number_id": "PNID1"},
        "contacts": [{"profile": {"name": "Kerry"}, "wa_id": "16505551234"}],
        "messages": messages
    })
}

fn one_message(m: serde_json::Value) -> InboundMessage {
    match parse_webhook(&envelope(value_with(json!([m])))) {
        Ok(mut v) if v.len() == 1 => match v.remove(0) {
            InboundEvent::Message(m) => m,
            other => panic!("not a message: {other:?}"),
        },
        other => panic!("unexpected: {other:?}"),
    }
}

#[test]
fn text_message() {
    let m = one_message(json!({
        "from": "16505551234", "id": "wamid.A", "timestamp": "1700000000",
        "type": "text", "text": {"body": "Hello ü 👋"}
    }));
    assert_eq!(
        m,
        InboundMessage {
            provider_id: "wamid.A".into(),
            from: "16505551234".into(),
            to: "PNID1".into(),
            to_display: Some("15550001111".into()),
            contact_name: Some("Kerry".into()),
            timestamp_ms: 1_700_000_000_000,
            text: "Hello ü 👋".into(),
            media: vec![],
            reply_to: None,
            identity: crate::channels::Identity {
                phone: Some("16505551234".into()),
                ..Default::default()
            },
            keyword: None,
            reaction: None,
            choice: None,
        }
    );
}

fn events_of(value: serde_json::Value, field: &str) -> Vec<InboundEvent> {
    let body = json!({
        "object": "whatsapp_business_account",
        "entry": [{"id": "WABA1", "changes": [{"field": field, "value": value}]}]
    });
    parse_webhook(body.to_string().as_bytes()).unwrap()
}

#[test]
fn bsuid_only_user_is_keyed_by_user_id_with_username() {
    let ev = events_of(
        json!({
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550001111", "phone_number_id": "PNID1"},
            "contacts": [{"profile": {"name": "Sheena", "username": "sheena.n"},
                          "user_id": "US.13491208655302741918"}],
            "messages": [{"from_user_id": "US.13491208655302741918", "id": "wamid.U",
                          "timestamp": "1700000000", "type": "text", "text": {"body": "hi"}}]
        }),
        "messages",
    );
    let [InboundEvent::Message(m)] = ev.as_slice() else {
        panic!("{ev:?}")
    };
    assert_eq!(m.from, "US.13491208655302741918");
    assert_eq!(m.contact_name.as_deref(), Some("Sheena"));
    assert_eq!(
        m.identity,
        crate::channels::Identity {
            user_id: Some("US.13491208655302741918".into()),
            username: Some("sheena.n".into()),
            phone: None,
        }
    );
}

#[test]
fn phone_stays_the_key_when_sent_with_a_user_id() {
    let ev = events_of(
        json!({
            "messaging_product": "whatsapp",
            "metadata": {"phone_number_id": "PNID1"},
            "contacts": [{"profile": {"name": "Sheena"}, "wa_id": "16505551234",
                          "user_id": "US.ENT.11815799212886844830"}],
            "messages": [{"from": "16505551234", "from_user_id": "US.ENT.11815799212886844830",
                          "id": "wamid.P", "timestamp": "1", "type": "text", "text": {"body": "x"}}]
        }),
        "messages",
    );
    let [InboundEvent::Message(m)] = ev.as_slice() else {
        panic!("{ev:?}")
    };
    assert_eq!(m.from, "16505551234");
    assert_eq!(
        m.identity.user_id.as_deref(),
        Some("US.ENT.11815799212886844830")
    );
    assert_eq!(m.identity.phone.as_deref(), Some("16505551234"));
}

#[test]
fn malformed_user_ids_are_ignored_and_unkeyable_messages_skipped() {
    for bad in ["us.123", "USA.1", "US.", "US.12-3", "US.ENT.", "x"] {
        assert!(!is_bsuid(bad), "{bad}");
        let ev = events_of(
            json!({
                "metadata": {"phone_number_id": "PNID1"},
                "contacts": [{"profile": {"name": "X"}, "user_id": bad}],
                "messages": [{"from_user_id": bad, "id": "wamid.B", "timestamp": "1",
                              "type": "text", "text": {"body": "x"}}]
            }),
            "messages",
        );
        assert!(ev.is_empty(), "{bad}: {ev:?}");
    }
    assert!(is_bsuid(&format!("DE.{}", "a".repeat(128))));
    assert!(!is_bsuid(&format!("DE.{}", "a".repeat(129))));
}

#[test]
fn user_id_update_is_parsed_and_malformed_ones_skipped() {
    let ev = events_of(
        json!({
            "messaging_product": "whatsapp",
            "metadata": {"phone_number_id": "PNID1"},
            "user_id_update": [
                {"user_id": {"previous": "US.111", "current": "US.222"}, "timestamp": "1"},
                {"user_id": {"previous": "bogus", "current": "US.333"}, "timestamp": "1"},
                {"wa_id": "16505551234", "user_id": {"previous": "US.444", "current": "US.555"}},
                {"detail": "no ids at all"}
            ]
        }),
        "user_id_update",
    );
    assert_eq!(
        ev,
        vec![
            InboundEvent::IdentityUpdate(crate::channels::IdentityUpdate {
                previous: "US.111".into(),
                current: "US.222".into(),
                phone: None,
            }),
            InboundEvent::IdentityUpdate(crate::channels::IdentityUpdate {
                previous: "US.444".into(),
                current: "US.555".into(),
                phone: Some("16505551234".into()),
            }),
        ]
    );
}

#[test]
fn send_to_a_user_id_uses_recipient() {
    let body = send_body(&OutboundMessage {
        to: "US.13491208655302741918".into(),
        text: Some("hello".into()),
        ..Default::default()
    })
    .unwrap();
    assert_eq!(body["recipient"], "US.13491208655302741918");
    assert_eq!(body["recipient_type"], "individual");
    assert!(body.get("to").is_none(), "{body}");
    let body = send_body(&OutboundMessage {
        to: "16505551234".into(),
        text: Some("hello".into()),
        ..Default::default()
    })
    .unwrap();
    assert_eq!(body["to"], "16505551234");
    assert!(body.get("recipient").is_none(), "{body}");
}

#[test]
fn media_messages_and_reply() {
    let m = one_message(json!({
        "from": "16505551234", "id": "wamid.B", "timestamp": 1700000001,
        "type": "document", "context": {"from": "15550001111", "id": "wamid.ORIG"},
        "document": {"id": "MEDIA1", "mime_type": "application/pdf", "sha256": "abc=",
                     "caption": "the invoice", "filename": "inv.pdf"}
    }));
    assert_eq!(m.reply_to.as_deref(), Some("wamid.ORIG"));
    assert_eq!(m.text, "the invoice");
    assert_eq!(
        m.media,
        vec![MediaRef {
            source: MediaSource::WhatsAppMediaId("MEDIA1".into()),
            mime: Some("application/pdf".into()),
            filename: Some("inv.pdf".into()),
            caption: Some("the invoice".into()),
            sha256: Some("abc=".into()),
            kind: MediaKind::Document,
        }]
    );
    for (t, k) in [
        ("image", MediaKind::Image),
        ("audio", MediaKind::Audio),
        ("video", MediaKind::Video),
        ("sticker", MediaKind::Sticker),
    ] {
        let m = one_message(json!({
            "from": "1", "id": "wamid.M", "timestamp": "1", "type": t,
            t: {"id": "MID", "mime_type": "x/y", "sha256": "s"}
        }));
        assert_eq!(m.media.len(), 1);
        assert_eq!(m.media[0].kind, k);
        assert_eq!(m.text, "");
    }
}

#[test]
fn other_types_become_placeholders() {
    let cases = [
        (
            json!({"type": "location", "location": {"latitude": 1.5, "longitude": 2, "name": "HQ"}}),
            "[location] HQ https://www.openstreetmap.org/?mlat=1.5&mlon=2#map=17/1.5/2",
        ),
        (
            json!({"type": "reaction", "reaction": {"message_id": "wamid.X", "emoji": "👍"}}),
            "[reaction 👍]",
        ),
        (
            json!({"type": "contacts", "contacts": [{"name": {"formatted_name": "Ann"}}]}),
            "[contact card] Ann",
        ),
        (
            json!({"type": "button", "button": {"text": "Yes", "payload": "y"}}),
            "[button] Yes",
        ),
        (
            json!({"type": "interactive", "interactive": {"type": "list_reply", "list_reply": {"id": "1", "title": "Opt"}}}),
            "[selected] Opt",
        ),
        (json!({"type": "order", "order": {}}), "[order]"),
        (
            json!({"type": "system", "system": {"body": "changed number"}}),
            "[system] changed number",
        ),
        (
            json!({"type": "unknown", "errors": [{"code": 131051}]}),
            "[unsupported message (unknown)]",
        ),
        (
            json!({"type": "unsupported", "unsupported": {"type": "poll_creation"},
                   "errors": [{"code": 131051, "title": "Message type unknown"}]}),
            "[unsupported message (poll_creation)]",
        ),
        (
            json!({"type": "ephemeral"}),
            "[unsupported message (ephemeral)]",
        ),
        (json!({}), "[unsupported message (unknown)]"),
    ];
    for (extra, want) in cases {
        let mut m = json!({"from": "1", "id": "wamid.P", "timestamp": "5"});
        if let (Some(o), Some(e)) = (m.as_object_mut(), extra.as_object()) {
            o.extend(e.clone());
        }
        assert_eq!(one_message(m).text, want);
    }
    let r = one_message(
        json!({"from": "1", "id": "w", "timestamp": "5", "type": "reaction",
        "reaction": {"message_id": "wamid.X", "emoji": "👍"}}),
    );
    assert_eq!(r.reply_to.as_deref(), Some("wamid.X"));
}

#[test]
fn statuses_including_window_closed_failure() {
    let value = json!({
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "1555", "phone_number_id": "PNID1"},
        "statuses": [
            {"id": "wamid.S1", "status": "delivered", "timestamp": "1700000002",
             "recipient_id": "16505551234", "conversation": {"id": "c"}, "pricing": {}},
            {"id": "wamid.S2", "status": "failed", "timestamp": "1700000003",
             "recipient_id": "16505551234",
             "errors": [{"code": 131047, "title": "Re-engagement message",
                         "message": "Re-engagement message"}]},
            {"id": "wamid.S3", "status": "deleted", "timestamp": "1"}
        ]
    });
    let events = parse_webhook(&envelope(value)).unwrap();
    assert_eq!(events.len(), 2);
    assert_eq!(
        events[0],
        InboundEvent::Status(StatusUpdate {
            target: StatusTarget::ProviderId("wamid.S1".into()),
            status: DeliveryStatus::Delivered,
            error: None,
            timestamp_ms: 1_700_000_002_000,
        })
    );
    let InboundEvent::Status(s) = &events[1] else {
        panic!("not a status")
    };
    assert_eq!(s.status, DeliveryStatus::Failed);
    let e = s.error.as_ref().unwrap();
    assert_eq!(e.code, "131047");
    assert!(e.message.contains("24-hour"), "{}", e.message);
}

#[test]
fn every_entry_and_change_is_visited() {
    let msg = |id: &str| json!({"from": "1", "id": id, "timestamp": "1", "type": "text", "text": {"body": id}});
    let body = json!({
        "object": "whatsapp_business_account",
        "entry": [
            {"changes": [
                {"field": "messages", "value": value_with(json!([msg("a"), msg("b")]))},
                {"field": "account_update", "value": {"whatever": 1}},
                {"field": "messages", "value": value_with(json!([msg("c")]))}
            ]},
            {"changes": [{"field": "messages", "value": value_with(json!([msg("d")]))}]}
        ]
    });
    let ids: Vec<String> = parse_webhook(body.to_string().as_bytes())
        .unwrap()
        .into_iter()
        .map(|e| match e {
            InboundEvent::Message(m) => m.provider_id,
            InboundEvent::Status(_) | InboundEvent::IdentityUpdate(_) | InboundEvent::Edit(_) => {
                String::new()
            }
        })
        .collect();
    assert_eq!(ids, ["a", "b", "c", "d"]);
}

#[test]
fn clear_errors() {
    let err = |b: &[u8]| parse_webhook(b).unwrap_err();
    assert_eq!(err(b"\xff\xfe").code, "bad_utf8");
    assert_eq!(err(b"{").code, "bad_json");
    assert_eq!(err(b"[]").code, "invalid_field");
    let e = err(br#"{"object":"page","entry":[]}"#);
    assert_eq!(e.code.as_str(), "wrong_object");
    assert!(e.message.contains("\"page\""), "{}", e.message);
    assert_eq!(err(br#"{"entry":[]}"#).message, "missing field object");
    assert_eq!(
        err(br#"{"object":"whatsapp_business_account"}"#).message,
        "missing field entry"
    );
    // Since 2026 `from` may be absent (number hidden): with neither it nor a user id the
    // message cannot be answered and is skipped, not refused.
    let no_from = envelope(json!({"metadata": {"phone_number_id": "PNID1"},
        "messages": [{"id": "w", "timestamp": "1", "type": "text"}]}));
    assert_eq!(parse_webhook(&no_from).unwrap(), vec![]);
    let bad_ts = envelope(value_with(
        json!([{"id": "w", "from": "1", "timestamp": "soon"}]),
    ));
    assert_eq!(err(&bad_ts).code, "invalid_field");
    let huge_ts = envelope(value_with(
        json!([{"id": "w", "from": "1", "timestamp": i64::MAX}]),
    ));
    assert_eq!(err(&huge_ts).code, "invalid_field");
    assert!(
        parse_webhook(br#"{"object":"whatsapp_business_account","entry":[]}"#)
            .unwrap()
            .is_empty()
    );
}

#[test]
fn handshake() {
    let ok = verify_handshake(Some("subscribe"), Some("tok"), Some("123"), "tok");
    assert_eq!(ok, Ok("123".to_owned()));
    assert_eq!(
        verify_handshake(Some("subscribe"), Some("bad"), Some("1"), "tok"),
        Err(HandshakeError::WrongToken)
    );
    assert_eq!(
        verify_handshake(Some("subscribe"), Some(""), Some("1"), ""),
        Err(HandshakeError::WrongToken)
    );
    assert_eq!(
        verify_handshake(Some("unsubscribe"), Some("tok"), Some("1"), "tok"),
        Err(HandshakeError::BadRequest)
    );
    assert_eq!(
        verify_handshake(Some("subscribe"), Some("tok"), None, "tok"),
        Err(HandshakeError::BadRequest)
    );
    assert_eq!(
        verify_handshake_query(
            "hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=my%20tok",
            "my tok"
        ),
        Ok("1158201444".to_owned())
    );
}

#[test]
fn send_bodies_are_exact() {
    let text = OutboundMessage {
        to: "16505551234".into(),
        text: Some("Hi".into()),
        ..Default::default()
    };
    assert_eq!(
        send_body(&text).unwrap(),
        json!({"messaging_product":"whatsapp","recipient_type":"individual","to":"16505551234",
               "type":"text","text":{"preview_url":false,"body":"Hi"}})
    );
    let doc = OutboundMessage {
        to: "1".into(),
        text: Some("see attached".into()),
        media: Some(OutboundMedia {
            source: MediaSource::WhatsAppMediaId("MID".into()),
            kind: MediaKind::Document,
            caption: None,
            filename: Some("a.pdf".into()),
        }),
        ..Default::default()
    };
    assert_eq!(
        send_body(&doc).unwrap(),
        json!({"messaging_product":"whatsapp","recipient_type":"individual","to":"1",
               "type":"document","document":{"id":"MID","caption":"see attached","filename":"a.pdf"}})
    );
    let tpl = OutboundMessage {
        to: "1".into(),
        template: Some(TemplateSend {
            name: "hello".into(),
            language: "en_US".into(),
            params: vec!["Ann".into(), "42".into()],
        }),
        ..Default::default()
    };
    assert_eq!(
        send_body(&tpl).unwrap(),
        json!({"messaging_product":"whatsapp","recipient_type":"individual","to":"1",
               "type":"template","template":{"name":"hello","language":{"code":"en_US"},
               "components":[{"type":"body","parameters":[{"type":"text","text":"Ann"},{"type":"text","text":"42"}]}]}})
    );
    let audio_with_text = OutboundMessage {
        to: "1".into(),
        text: Some("x".into()),
        media: Some(OutboundMedia {
            source: MediaSource::WhatsAppMediaId("A".into()),
            kind: MediaKind::Audio,
            caption: None,
            filename: None,
        }),
        ..Default::default()
    };
    assert!(matches!(
        send_body(&audio_with_text),
        Err(SendError::Permanent { .. })
    ));
    assert!(
        send_body(&OutboundMessage {
            to: "1".into(),
            ..Default::default()
        })
        .is_err()
    );
}

fn choices(n: usize) -> crate::channels::Interactive {
    crate::channels::Interactive {
        button: "Choose".into(),
        options: (1..=n)
            .map(|i| crate::channels::Choice {
                id: format!("csat:{i}"),
                title: i.to_string(),
            })
            .collect(),
    }
}

#[test]
fn interactive_is_buttons_up_to_three_and_a_list_up_to_ten() {
    let b = interactive_body("16505551234", "Pick one", &choices(3)).unwrap();
    assert_eq!(
        b,
        json!({"messaging_product": "whatsapp", "recipient_type": "individual",
            "to": "16505551234", "type": "interactive",
            "interactive": {"type": "button", "body": {"text": "Pick one"}, "action": {"buttons": [
                {"type": "reply", "reply": {"id": "csat:1", "title": "1"}},
                {"type": "reply", "reply": {"id": "csat:2", "title": "2"}},
                {"type": "reply", "reply": {"id": "csat:3", "title": "3"}}]}}})
    );
    let l = interactive_body("16505551234", "How satisfied?", &choices(5)).unwrap();
    assert_eq!(l["interactive"]["type"], "list");
    assert_eq!(l["interactive"]["action"]["button"], "Choose");
    let rows = &l["interactive"]["action"]["sections"][0]["rows"];
    assert_eq!(rows.as_array().map(Vec::len), Some(5));
    assert_eq!(rows[4], json!({"id": "csat:5", "title": "5"}));
    // Too many, none, or an empty body: refused before any request.
    assert!(interactive_body("1", "x", &choices(11)).is_err());
    assert!(interactive_body("1", "x", &choices(0)).is_err());
    assert!(interactive_body("1", " ", &choices(2)).is_err());
}

#[test]
fn the_chosen_reply_id_comes_back_as_choice() {
    let m = one_message(
        json!({"from": "16505551234", "id": "wamid.L", "timestamp": "5",
        "type": "interactive", "interactive": {"type": "list_reply",
        "list_reply": {"id": "csat:4", "title": "4"}}}),
    );
    assert_eq!(m.choice.as_deref(), Some("csat:4"));
    assert_eq!(m.text, "[selected] 4");
    let m = one_message(
        json!({"from": "16505551234", "id": "wamid.B", "timestamp": "5",
        "type": "interactive", "interactive": {"type": "button_reply",
        "button_reply": {"id": "yes", "title": "Yes"}}}),
    );
    assert_eq!(m.choice.as_deref(), Some("yes"));
    let m = one_message(
        json!({"from": "16505551234", "id": "wamid.T", "timestamp": "5",
        "type": "text", "text": {"body": "4"}}),
    );
    assert_eq!(m.choice, None);
}
