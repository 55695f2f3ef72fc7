//! The fakes' independent signers against the published vectors, and cross-checked against
//! the production verifiers and parsers.

use switchboard::channels::signature::{SignatureError, verify_meta, verify_twilio};
use switchboard::channels::{
    DeliveryStatus, InboundEvent, MediaSource, StatusTarget, messenger as ms, twilio as tw,
    whatsapp as wa,
};

use crate::fakes::{self, messenger, twilio, whatsapp};

const TW_URL: &str = "https://mycompany.com/myapp.php?foo=1&bar=2";
const TW_PARAMS: [(&str, &str); 5] = [
    ("CallSid", "CA1234567890ABCDE"),
    ("Digits", "1234"),
    ("From", "+14158675309"),
    ("To", "+18005551212"),
    ("Caller", "+14158675309"),
];

#[test]
fn fake_signers_match_published_vectors() {
    assert_eq!(
        whatsapp::sign(
            "appsecret",
            br#"{"object":"whatsapp_business_account","entry":[]}"#
        ),
        "sha256=09eceea024af6e6343b760cc9bd3ae7c056938dd636e24e92109eb8219500384"
    );
    // Computed with `openssl dgst -sha1 -hmac appsecret`.
    assert_eq!(
        messenger::sign_sha1("appsecret", br#"{"object":"page","entry":[]}"#),
        "sha1=15f6049a7f47c239a8364b9bacf7b4e0f8484bb6"
    );
    assert_eq!(
        twilio::sign("12345", TW_URL, &TW_PARAMS),
        "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    );
    assert_eq!(
        twilio::sign(
            "12345",
            "https://mycompany.com:443/myapp.php?foo=1&bar=2",
            &TW_PARAMS
        ),
        "kvajT1Ptam85bY51eRf/AJRuM3w="
    );
    let multi = [
        ("Sid", "CA123"),
        ("SidAccount", "AC123"),
        ("Digits", "5678"),
        ("Digits", "1234"),
    ];
    assert_eq!(
        twilio::sign("12345", TW_URL, &multi),
        "IK+Dwps556ElfBT0I3Rgjkr1wJU="
    );
}

#[test]
fn fake_signatures_verify_in_production_and_tampering_fails() {
    let body = whatsapp::text_webhook(whatsapp::PHONE_NUMBER_ID, "4917", "Ann", "wamid.Z", "hi", 1);
    let sig = whatsapp::sign(whatsapp::APP_SECRET, body.as_bytes());
    assert_eq!(
        verify_meta(whatsapp::APP_SECRET, body.as_bytes(), Some(&sig), None),
        Ok(())
    );
    let tampered = body.replace("hi", "ho");
    assert_eq!(
        verify_meta(whatsapp::APP_SECRET, tampered.as_bytes(), Some(&sig), None),
        Err(SignatureError::Mismatch)
    );
    let sha1 = messenger::sign_sha1(messenger::APP_SECRET, body.as_bytes());
    assert_eq!(
        verify_meta(messenger::APP_SECRET, body.as_bytes(), None, Some(&sha1)),
        Ok(())
    );

    let url = "https://box.example.com/hooks/twilio/sms?channel=3";
    let params = twilio::inbound_params("SM1", "+14158675309", "+15005550006", "Hi & bye");
    let (form, sig) = twilio::signed_webhook(twilio::AUTH_TOKEN, url, &params);
    let parsed = tw::parse_form(form.as_bytes()).unwrap();
    assert_eq!(parsed, params);
    assert_eq!(
        verify_twilio(twilio::AUTH_TOKEN, url, &parsed, Some(&sig)),
        Ok(())
    );
    assert_eq!(
        verify_twilio("other", url, &parsed, Some(&sig)),
        Err(SignatureError::Mismatch)
    );
}

#[test]
fn webhook_builders_parse_in_production() {
    let body = whatsapp::text_webhook(whatsapp::PHONE_NUMBER_ID, "4917", "Ann", "wamid.Z", "hi", 7);
    let InboundEvent::Message(m) = &wa::parse_webhook(body.as_bytes()).unwrap()[0] else {
        panic!("message expected")
    };
    assert_eq!(
        (m.from.as_str(), m.to.as_str(), m.contact_name.as_deref()),
        ("4917", whatsapp::PHONE_NUMBER_ID, Some("Ann"))
    );
    assert_eq!((m.text.as_str(), m.timestamp_ms), ("hi", 7000));

    let media = whatsapp::webhook(
        whatsapp::PHONE_NUMBER_ID,
        &[("4917", "Ann")],
        vec![whatsapp::media_message(
            "4917",
            "wamid.M",
            "image",
            "555",
            "image/jpeg",
            Some("pic"),
            8,
        )],
        vec![whatsapp::status(
            "wamid.OUT",
            "failed",
            "4917",
            9,
            Some((131047, "Re-engagement message")),
        )],
    );
    let ev = wa::parse_webhook(media.as_bytes()).unwrap();
    assert!(matches!(&ev[0], InboundEvent::Message(m)
        if m.media[0].source == MediaSource::WhatsAppMediaId("555".into()) && m.text == "pic"));
    assert!(matches!(&ev[1], InboundEvent::Status(s)
        if s.status == DeliveryStatus::Failed && s.error.as_ref().is_some_and(|e| e.code == "131047")));

    let page = messenger::PAGE_ID;
    assert_eq!(
        ms::parse_webhook(messenger::echo_webhook(page, "U", "m", "x", 1).as_bytes()).unwrap(),
        vec![]
    );
    let read = ms::parse_webhook(messenger::read_webhook(page, "U", 1234).as_bytes()).unwrap();
    assert!(
        matches!(&read[0], InboundEvent::Status(s) if s.status == DeliveryStatus::Read
        && s.target == StatusTarget::Watermark { contact: "U".into(), up_to_ms: 1234 })
    );
    let att = messenger::attachment_webhook(page, "U", "m_1", &[("image", "http://x/i.png")], 5);
    assert!(matches!(&ms::parse_webhook(att.as_bytes()).unwrap()[0],
        InboundEvent::Message(m) if m.media.len() == 1 && m.from == "U" && m.to == page));

    let st = twilio::status_params("SM1", "undelivered", Some(("30003", "Unreachable")));
    let s = tw::parse_status(&st, 0).unwrap().unwrap();
    assert_eq!(s.status, DeliveryStatus::Failed);
    assert_eq!(s.error.unwrap().code, "30003");
}

#[test]
fn handshake_query_round_trip() {
    let q = whatsapp::handshake_query(whatsapp::VERIFY_TOKEN, "8811");
    assert_eq!(
        wa::verify_handshake_query(&q, whatsapp::VERIFY_TOKEN),
        Ok("8811".to_owned())
    );
    assert!(ms::verify_handshake_query(&q, "other").is_err());
    let q = messenger::handshake_query(messenger::VERIFY_TOKEN, "42");
    assert_eq!(
        ms::verify_handshake_query(&q, messenger::VERIFY_TOKEN),
        Ok("42".to_owned())
    );
    assert_eq!(
        fakes::handshake_query("t", "c"),
        "hub.mode=subscribe&hub.verify_token=t&hub.challenge=c"
    );
}
