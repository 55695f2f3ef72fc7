//! Robustness: the webhook parsers must never panic, whatever the bytes, and must cope with
//! large batches.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use proptest::prelude::*;
use serde_json::{Value, json};

use super::{InboundEvent, MAX_ITEMS_PER_PAYLOAD, messenger, twilio, whatsapp};

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| json!(f)),
        ".{0,12}".prop_map(Value::String),
        prop::sample::select(vec![
            "text",
            "image",
            "document",
            "messages",
            "page",
            "1700000000",
            "sent",
            "failed",
            "subscribe",
            "id",
            "from",
            "timestamp",
            "-1",
            "99999999999999999999",
        ])
        .prop_map(|s| Value::String(s.to_owned())),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec(
                (
                    prop::sample::select(vec![
                        "object",
                        "entry",
                        "changes",
                        "field",
                        "value",
                        "metadata",
                        "phone_number_id",
                        "messages",
                        "statuses",
                        "contacts",
                        "id",
                        "from",
                        "timestamp",
                        "type",
                        "text",
                        "body",
                        "image",
                        "context",
                        "errors",
                        "code",
                        "messaging",
                        "sender",
                        "recipient",
                        "message",
                        "mid",
                        "attachments",
                        "payload",
                        "url",
                        "delivery",
                        "read",
                        "watermark",
                        "is_echo",
                        "reply_to",
                        "postback",
                        "x",
                    ]),
                    inner
                ),
                0..6
            )
            .prop_map(|kv| Value::Object(kv.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())),
        ]
    })
}

fn wa_valid() -> Value {
    json!({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{
        "field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "1555", "phone_number_id": "PN"},
            "contacts": [{"profile": {"name": "A"}, "wa_id": "1"}],
            "messages": [{"from": "1", "id": "wamid.1", "timestamp": "1700000000",
                "type": "image", "image": {"id": "M", "mime_type": "image/png", "sha256": "x"},
                "context": {"id": "wamid.0"}}],
            "statuses": [{"id": "wamid.2", "status": "failed", "timestamp": "1",
                "errors": [{"code": 131047, "title": "t"}]}]}}]}]})
}

fn ms_valid() -> Value {
    json!({"object": "page", "entry": [{"id": "P", "time": 1, "messaging": [
        {"sender": {"id": "U"}, "recipient": {"id": "P"}, "timestamp": 1700000000000_i64,
         "message": {"mid": "m", "text": "hi", "attachments": [{"type": "image", "payload": {"url": "u"}}]}},
        {"sender": {"id": "U"}, "recipient": {"id": "P"}, "timestamp": 1, "read": {"watermark": 1}}]}]})
}

const TW_VALID: &str = "MessageSid=SM1&From=%2B1&To=%2B2&Body=hi&NumMedia=1&MediaUrl0=https%3A%2F%2Fx&MediaContentType0=image%2Fjpeg&MessageStatus=received";

/// Replace the node at a pseudo-random position (chosen by `pick`) with `replacement`.
fn graft(v: &mut Value, pick: &mut u32, replacement: &Value) -> bool {
    if *pick == 0 {
        *v = replacement.clone();
        return true;
    }
    *pick -= 1;
    let children: Vec<&mut Value> = match v {
        Value::Array(a) => a.iter_mut().collect(),
        Value::Object(o) => o.values_mut().collect(),
        _ => return false,
    };
    for c in children {
        if graft(c, pick, replacement) {
            return true;
        }
    }
    false
}

fn mutate_bytes(mut bytes: Vec<u8>, edits: &[(usize, u8, u8)]) -> Vec<u8> {
    for &(pos, op, byte) in edits {
        if bytes.is_empty() {
            bytes.push(byte);
            continue;
        }
        let i = pos % bytes.len();
        match op % 3 {
            0 => bytes[i] = byte,
            1 => bytes.insert(i, byte),
            _ => {
                bytes.remove(i);
            }
        }
    }
    bytes
}

fn all_parsers(bytes: &[u8]) {
    let _ = whatsapp::parse_webhook(bytes);
    let _ = messenger::parse_webhook(bytes);
    let _ = twilio::parse_webhook(bytes, 0);
}

proptest! {
    #![proptest_config(crate::proptest_config(512))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        all_parsers(&bytes);
    }

    #[test]
    fn arbitrary_json_never_panics(v in arb_json()) {
        all_parsers(v.to_string().as_bytes());
    }

    #[test]
    fn grafted_valid_payloads_never_panic(pick in 0u32..40, sub in arb_json()) {
        for mut base in [wa_valid(), ms_valid()] {
            let mut p = pick;
            graft(&mut base, &mut p, &sub);
            all_parsers(base.to_string().as_bytes());
        }
    }

    #[test]
    fn byte_mutated_valid_payloads_never_panic(
        edits in prop::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 1..8)
    ) {
        for base in [wa_valid().to_string().into_bytes(), ms_valid().to_string().into_bytes(),
                     TW_VALID.as_bytes().to_vec()] {
            all_parsers(&mutate_bytes(base, &edits));
        }
    }

    #[test]
    fn twilio_arbitrary_forms_never_panic(
        pairs in prop::collection::vec(
            (prop::sample::select(vec!["MessageSid", "From", "To", "Body", "NumMedia",
                "MediaUrl0", "MediaUrl9", "MediaContentType0", "MessageStatus", "ErrorCode",
                "ErrorMessage", "ProfileName", "x"]), ".{0,8}"), 0..16)
    ) {
        let body = serde_urlencoded::to_string(&pairs).unwrap_or_default();
        let _ = twilio::parse_webhook(body.as_bytes(), 0);
    }
}

#[test]
fn valid_samples_parse() {
    assert_eq!(
        whatsapp::parse_webhook(wa_valid().to_string().as_bytes())
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        messenger::parse_webhook(ms_valid().to_string().as_bytes())
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        twilio::parse_webhook(TW_VALID.as_bytes(), 0).unwrap().len(),
        1
    );
}

fn wa_batch(n: usize) -> Vec<u8> {
    let entries: Vec<Value> = (0..n)
        .map(|i| {
            json!({"id": "W", "changes": [{"field": "messages", "value": {
                "messaging_product": "whatsapp",
                "metadata": {"display_phone_number": "1", "phone_number_id": "PN"},
                "messages": [{"from": "1", "id": format!("wamid.{i}"), "timestamp": "1",
                              "type": "text", "text": {"body": "x"}}]}}]})
        })
        .collect();
    json!({"object": "whatsapp_business_account", "entry": entries})
        .to_string()
        .into_bytes()
}

#[test]
fn ten_thousand_entry_batches_parse() {
    let events = whatsapp::parse_webhook(&wa_batch(10_000)).unwrap();
    assert_eq!(events.len(), 10_000);
    assert!(matches!(&events[9_999], InboundEvent::Message(m) if m.provider_id == "wamid.9999"));
    let items: Vec<Value> = (0..10_000)
        .map(|i| {
            json!({"sender": {"id": "U"}, "recipient": {"id": "P"}, "timestamp": i,
                   "message": {"mid": format!("m_{i}"), "text": "x"}})
        })
        .collect();
    let entries: Vec<Value> = items
        .chunks(1)
        .map(|c| json!({"id": "P", "messaging": c}))
        .collect();
    let body = json!({"object": "page", "entry": entries}).to_string();
    assert_eq!(
        messenger::parse_webhook(body.as_bytes()).unwrap().len(),
        10_000
    );
}

#[test]
fn oversized_batches_are_refused() {
    let entries = vec![json!({}); MAX_ITEMS_PER_PAYLOAD + 1];
    let body = json!({"object": "page", "entry": entries}).to_string();
    assert_eq!(
        messenger::parse_webhook(body.as_bytes()).unwrap_err().code,
        "too_many_items"
    );
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    all_parsers(deep.as_bytes());
    assert_eq!(
        whatsapp::parse_webhook(deep.as_bytes()).unwrap_err().code,
        "bad_json"
    );
}
