use serde_json::json;
use switchboard::channels::messenger::{self as ms, MessengerConfig};
use switchboard::channels::{
    MediaError, MediaKind, MediaSource, OutboundMedia, OutboundMessage, SendError,
};

use super::{client, with_retries};
use crate::fakes::Fault;
use crate::fakes::messenger::{FakeMessenger, PAGE_TOKEN};

fn text(to: &str, body: &str) -> OutboundMessage {
    OutboundMessage {
        to: to.into(),
        text: Some(body.into()),
        ..Default::default()
    }
}

#[tokio::test]
async fn send_text_tag_and_attachment_exact() {
    let fake = FakeMessenger::start().await;
    let c = client();
    let cfg = fake.config();
    let ok = ms::send(&c, &cfg, &text("PSID1", "Hello")).await.unwrap();
    assert!(ok.provider_id.starts_with("m_"));
    let r = &fake.requests()[0];
    assert_eq!(r.method, "POST");
    assert_eq!(r.path(), "/v21.0/me/messages");
    assert_eq!(
        r.query_pairs(),
        vec![("access_token".to_owned(), PAGE_TOKEN.to_owned())]
    );
    assert_eq!(
        r.json(),
        json!({"recipient":{"id":"PSID1"},"messaging_type":"RESPONSE","message":{"text":"Hello"}})
    );

    fake.close_window("PSID1");
    match ms::send(&c, &cfg, &text("PSID1", "late")).await {
        Err(SendError::Permanent { code, .. }) => assert_eq!(code, "10"),
        other => panic!("{other:?}"),
    }
    let tagged = OutboundMessage {
        human_agent_tag: true,
        ..text("PSID1", "late")
    };
    ms::send(&c, &cfg, &tagged).await.unwrap();
    assert_eq!(fake.accepted()[1]["tag"], "HUMAN_AGENT");

    let file = OutboundMessage {
        to: "PSID2".into(),
        media: Some(OutboundMedia {
            source: MediaSource::Url("https://box.example/f/1".into()),
            kind: MediaKind::Image,
            caption: None,
            filename: None,
        }),
        ..Default::default()
    };
    ms::send(&c, &cfg, &file).await.unwrap();
    assert_eq!(
        fake.accepted()[2]["message"],
        json!({"attachment":{"type":"image","payload":{"url":"https://box.example/f/1","is_reusable":true}}})
    );
}

#[tokio::test]
async fn errors_and_retries() {
    let fake = FakeMessenger::start().await;
    let c = client();
    let wrong = MessengerConfig {
        access_token: "bad".into(),
        ..fake.config()
    };
    assert!(matches!(ms::send(&c, &wrong, &text("P", "x")).await,
        Err(SendError::Permanent { code, .. }) if code == "190"));
    // Graph rate limit (code 613) is transient even though it is not a 5xx.
    fake.fail_next(
        1,
        Fault::Reject {
            status: 400,
            body: crate::fakes::messenger::error_body(613, None, "rate limit"),
        },
    );
    assert!(matches!(
        ms::send(&c, &fake.config(), &text("P", "x")).await,
        Err(SendError::Transient { .. })
    ));
    for fault in [Fault::Hang, Fault::Drop, Fault::Garbage] {
        fake.fail_next(1, fault.clone());
        let r = ms::send(&c, &fake.config(), &text("P", "x")).await;
        assert!(
            matches!(r, Err(SendError::Ambiguous { .. })),
            "{fault:?}: {r:?}"
        );
    }
    fake.fail_next(1, Fault::ServerError);
    fake.fail_next(
        1,
        Fault::RateLimited {
            retry_after_secs: 1,
        },
    );
    let cfg = fake.config();
    let msg = text("P", "again");
    let (r, attempts) = with_retries(5, || ms::send(&c, &cfg, &msg)).await;
    assert!(r.is_ok() && attempts == 3, "{r:?} after {attempts}");
}

#[tokio::test]
async fn attachment_download() {
    let fake = FakeMessenger::start().await;
    let c = client();
    let url = fake.add_attachment(b"%PDF-1.4 fake", "application/pdf");
    let dl = ms::fetch_attachment(&c, &url, 100).await.unwrap();
    assert_eq!(dl.mime.as_deref(), Some("application/pdf"));
    assert_eq!(dl.bytes().await.unwrap().as_ref(), b"%PDF-1.4 fake");
    assert_eq!(
        ms::fetch_attachment(&c, &url, 4).await.unwrap_err(),
        MediaError::TooLarge { limit: 4 }
    );
    let gone = format!("{}/cdn/none", fake.server.origin());
    assert!(matches!(
        ms::fetch_attachment(&c, &gone, 100).await,
        Err(MediaError::Permanent { .. })
    ));
}
