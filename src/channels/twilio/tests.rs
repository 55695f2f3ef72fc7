#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
use crate::channels::OutboundMedia;

fn form(pairs: &[(&str, &str)]) -> Vec<u8> {
    serde_urlencoded::to_string(pairs).unwrap().into_bytes()
}

const NOW: i64 = 1_700_000_000_123;

#[test]
fn inbound_sms_with_unknown_fields() {
    let body = form(&[
        ("ToCountry", "US"),
        ("SmsMessageSid", "SM1"),
        ("NumMedia", "0"),
        ("MessageSid", "SM1"),
        ("AccountSid", "AC1"),
        ("From", "+14158675309"),
        ("To", "+18005551212"),
        ("Body", "Hello & good day = ok?"),
        ("ProfileName", "Kim"),
        ("FromCity", "SAN FRANCISCO"),
        ("SmsStatus", "received"),
    ]);
    let events = parse_webhook(&body, NOW).unwrap();
    assert_eq!(
        events,
        vec![InboundEvent::Message(InboundMessage {
            provider_id: "SM1".into(),
            from: "+14158675309".into(),
            to: "+18005551212".into(),
            to_display: None,
            contact_name: Some("Kim".into()),
            timestamp_ms: NOW,
            text: "Hello & good day = ok?".into(),
            media: vec![],
            reply_to: None,
            identity: Default::default(),
            keyword: None,
            reaction: None,
            choice: None,
        })]
    );
}

#[test]
fn inbound_mms() {
    let body = form(&[
        ("MessageSid", "MM1"),
        ("From", "+1"),
        ("To", "+2"),
        ("Body", ""),
        ("NumMedia", "2"),
        ("MediaUrl0", "https://api.twilio.com/a/Media/ME0"),
        ("MediaContentType0", "image/jpeg"),
        ("MediaUrl1", "https://api.twilio.com/a/Media/ME1"),
        ("MediaContentType1", "application/pdf"),
    ]);
    let params = parse_form(&body).unwrap();
    let m = parse_inbound(&params, NOW).unwrap();
    assert_eq!(m.text, "");
    assert_eq!(m.media.len(), 2);
    assert_eq!(
        m.media[0].source,
        MediaSource::Url("https://api.twilio.com/a/Media/ME0".into())
    );
    assert_eq!(m.media[0].kind, MediaKind::Image);
    assert_eq!(m.media[1].kind, MediaKind::File);
    assert_eq!(m.media[1].mime.as_deref(), Some("application/pdf"));
}

#[test]
fn inbound_errors() {
    let e = |pairs: &[(&str, &str)]| {
        let p = parse_form(&form(pairs)).unwrap();
        parse_inbound(&p, NOW).unwrap_err()
    };
    assert_eq!(
        e(&[("From", "+1"), ("To", "+2")]).message,
        "missing field MessageSid"
    );
    assert_eq!(
        e(&[("MessageSid", "S"), ("To", "+2")]).message,
        "missing field From"
    );
    let base = [("MessageSid", "S"), ("From", "+1"), ("To", "+2")];
    let mut p = base.to_vec();
    p.push(("NumMedia", "11"));
    assert_eq!(e(&p).code, "too_many_items");
    let mut p = base.to_vec();
    p.push(("NumMedia", "-1"));
    assert_eq!(e(&p).code, "invalid_field");
    let mut p = base.to_vec();
    p.push(("NumMedia", "1"));
    assert_eq!(e(&p).message, "missing field MediaUrl0");
    assert_eq!(parse_form(b"a=\xff").unwrap_err().code, "bad_utf8");
}

#[test]
fn status_callbacks() {
    let p = |pairs: &[(&str, &str)]| {
        let v = parse_form(&form(pairs)).unwrap();
        parse_status(&v, NOW).unwrap()
    };
    for s in [
        "queued",
        "accepted",
        "sending",
        "scheduled",
        "something-new",
    ] {
        assert_eq!(
            p(&[("MessageSid", "SM1"), ("MessageStatus", s)]),
            None,
            "{s}"
        );
    }
    assert_eq!(
        p(&[("MessageSid", "SM1"), ("MessageStatus", "delivered")]),
        Some(StatusUpdate {
            target: StatusTarget::ProviderId("SM1".into()),
            status: DeliveryStatus::Delivered,
            error: None,
            timestamp_ms: NOW,
        })
    );
    let failed = p(&[
        ("MessageSid", "SM1"),
        ("MessageStatus", "undelivered"),
        ("ErrorCode", "30003"),
    ])
    .unwrap();
    assert_eq!(failed.status, DeliveryStatus::Failed);
    assert_eq!(
        failed.error,
        Some(ProviderError {
            code: "30003".into(),
            message: "unreachable destination handset".into()
        })
    );
    let with_msg = p(&[
        ("MessageSid", "SM1"),
        ("MessageStatus", "failed"),
        ("ErrorCode", "30007"),
        ("ErrorMessage", "Carrier violation"),
    ])
    .unwrap();
    assert_eq!(with_msg.error.unwrap().message, "Carrier violation");
    // Detected through parse_webhook too.
    let body = form(&[("MessageSid", "SM9"), ("MessageStatus", "read")]);
    assert!(matches!(
        parse_webhook(&body, NOW).unwrap().as_slice(),
        [InboundEvent::Status(StatusUpdate {
            status: DeliveryStatus::Read,
            ..
        })]
    ));
    let queued = form(&[("MessageSid", "SM9"), ("MessageStatus", "queued")]);
    assert!(parse_webhook(&queued, NOW).unwrap().is_empty());
}

fn cfg() -> TwilioConfig {
    TwilioConfig {
        base_url: DEFAULT_BASE_URL.into(),
        account_sid: "AC1".into(),
        auth_token: "tok".into(),
        sender: TwilioSender::From("+15550001111".into()),
        status_callback: Some("https://box.example/hooks/twilio/status".into()),
    }
}

#[test]
fn send_form_fields() {
    let msg = OutboundMessage {
        to: "+14158675309".into(),
        text: Some("Hi".into()),
        media: Some(OutboundMedia {
            source: MediaSource::Url("https://box.example/f/1?sig=x".into()),
            kind: MediaKind::Image,
            caption: None,
            filename: None,
        }),
        ..Default::default()
    };
    assert_eq!(
        send_form(&cfg(), &msg).unwrap(),
        vec![
            ("To", "+14158675309".to_owned()),
            ("From", "+15550001111".to_owned()),
            ("Body", "Hi".to_owned()),
            ("MediaUrl", "https://box.example/f/1?sig=x".to_owned()),
            (
                "StatusCallback",
                "https://box.example/hooks/twilio/status".to_owned()
            ),
        ]
    );
    let ok_len = OutboundMessage {
        to: "+1".into(),
        text: Some("ü".repeat(MAX_BODY_CHARS)),
        ..Default::default()
    };
    assert!(send_form(&cfg(), &ok_len).is_ok());
    let too_long = OutboundMessage {
        to: "+1".into(),
        text: Some("x".repeat(MAX_BODY_CHARS + 1)),
        ..Default::default()
    };
    assert!(matches!(
        send_form(&cfg(), &too_long),
        Err(SendError::Permanent { code, .. }) if code == "body_too_long"
    ));
    let empty = OutboundMessage {
        to: "+1".into(),
        ..Default::default()
    };
    assert!(send_form(&cfg(), &empty).is_err());
}

#[test]
fn twiml_constant() {
    assert_eq!(
        TWIML_EMPTY_RESPONSE,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response></Response>"
    );
}

fn keyword_of(pairs: &[(&str, &str)]) -> Option<Keyword> {
    let mut all = vec![("MessageSid", "SM9"), ("From", "+1415"), ("To", "+1800")];
    all.extend_from_slice(pairs);
    match parse_webhook(&form(&all), NOW).unwrap().remove(0) {
        InboundEvent::Message(m) => m.keyword,
        other => panic!("{other:?}"),
    }
}

#[test]
fn opt_out_keywords_are_recognised() {
    for w in [
        "STOP",
        " stop ",
        "Unsubscribe",
        "cancel",
        "END",
        "quit",
        "STOPALL",
        "REVOKE",
        "OPTOUT",
    ] {
        assert_eq!(keyword_of(&[("Body", w)]), Some(Keyword::OptOut), "{w}");
    }
    for w in ["START", "yes", "Unstop"] {
        assert_eq!(keyword_of(&[("Body", w)]), Some(Keyword::OptIn), "{w}");
    }
    for w in ["HELP", "info"] {
        assert_eq!(keyword_of(&[("Body", w)]), Some(Keyword::Help), "{w}");
    }
    // Only the whole message counts.
    for w in ["please stop", "STOP!", "stopp", ""] {
        assert_eq!(keyword_of(&[("Body", w)]), None, "{w}");
    }
    // Advanced Opt-Out names the kind, also for custom (here German) keywords.
    assert_eq!(
        keyword_of(&[("Body", "ABMELDEN"), ("OptOutType", "STOP")]),
        Some(Keyword::OptOut)
    );
    assert_eq!(
        keyword_of(&[("Body", "ANMELDEN"), ("OptOutType", "START")]),
        Some(Keyword::OptIn)
    );
}

#[test]
fn known_error_codes_get_plain_words() {
    let body = form(&[
        ("MessageSid", "SM5"),
        ("MessageStatus", "undelivered"),
        ("ErrorCode", "30034"),
    ]);
    let ev = parse_webhook(&body, NOW).unwrap();
    let InboundEvent::Status(s) = &ev[0] else {
        panic!("{ev:?}")
    };
    let e = s.error.as_ref().unwrap();
    assert_eq!(e.code, "30034");
    assert!(
        e.message.contains("not registered for US A2P 10DLC"),
        "{}",
        e.message
    );
    // Unknown codes keep Twilio's own message when it sends one.
    let body = form(&[
        ("MessageSid", "SM6"),
        ("MessageStatus", "failed"),
        ("ErrorCode", "39999"),
        ("ErrorMessage", "Something odd"),
    ]);
    let ev = parse_webhook(&body, NOW).unwrap();
    let InboundEvent::Status(s) = &ev[0] else {
        panic!("{ev:?}")
    };
    assert_eq!(s.error.as_ref().unwrap().message, "Something odd");
}
