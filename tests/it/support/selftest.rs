//! The customer helpers store what they claim, through each provider's own path.

use serde_json::json;

use super::customer::{self, Arrived};
use super::read::{message, session};
use super::setup::{self, SITE};
use super::{EventStream, TestServer, Visitor};
use crate::fakes::{messenger::FakeMessenger, twilio::FakeTwilio, whatsapp::FakeWhatsApp};

/// The message is stored inbound with `text` in session `a.session_id` of channel `ch`, and the
/// session's contact has the address `from`.
async fn check(t: &TestServer, a: Arrived, ch: u64, from: &str, text: &str) {
    let m = message(t, a.message_id).await;
    assert_eq!(m["direction"], "in");
    assert_eq!(m["text"], text);
    assert_eq!(m["session_id"], a.session_id);
    assert_eq!(m["channel_id"], ch);
    let d = t
        .admin
        .get(&format!("/api/v1/sessions/{}", a.session_id))
        .await
        .json();
    assert!(
        d["contact"].to_string().contains(from),
        "{from} in {}",
        d["contact"]
    );
}

#[tokio::test]
async fn customer_helpers_store_through_every_provider_path() {
    let t = TestServer::start().await;
    let mut events = EventStream::open(&t.admin).await;
    let (wa, fb, tw) = (
        FakeWhatsApp::start().await,
        FakeMessenger::start().await,
        FakeTwilio::start().await,
    );
    let wa_ch = setup::whatsapp_channel(&t, &wa).await;
    let fb_ch = setup::messenger_channel(&t, &fb).await;
    let sms_ch = setup::twilio_channel(&t, &tw).await;
    let lc_ch = setup::livechat_channel(&t, &[SITE], false).await;

    let a = customer::whatsapp(&t, wa_ch, "4915112345678", "Jonas", "via WhatsApp").await;
    check(&t, a, wa_ch, "4915112345678", "via WhatsApp").await;
    let again = customer::whatsapp(&t, wa_ch, "4915112345678", "Jonas", "second").await;
    assert_eq!(again.session_id, a.session_id, "the same conversation");
    assert_ne!(again.message_id, a.message_id);

    let a = customer::messenger(&t, fb_ch, "psid-4711", "via Messenger").await;
    check(&t, a, fb_ch, "psid-4711", "via Messenger").await;

    let a = customer::sms(&t, sms_ch, "+4917612345678", "via SMS").await;
    check(&t, a, sms_ch, "+4917612345678", "via SMS").await;

    let mut v = Visitor::new(&t, lc_ch, Some(SITE));
    v.start("Vera", "").await;
    let a = customer::livechat(&v, "via the website").await;
    let m = message(&t, a.message_id).await;
    assert_eq!(m["text"], "via the website");
    assert_eq!(session(&t.admin, a.session_id).await["channel_id"], lc_ch);

    let a = customer::writes(&t, sms_ch, "+4930123", Some("Dora"), "via the intake").await;
    check(&t, a, sms_ch, "+4930123", "via the intake").await;

    // Each arrived live on the admin's stream, in order.
    for text in [
        "via WhatsApp",
        "second",
        "via Messenger",
        "via SMS",
        "via the website",
        "via the intake",
    ] {
        let e = events.next_of_kind("message.created").await;
        assert_eq!(e.data()["text"], json!(text));
    }
    t.stop().await;
}
