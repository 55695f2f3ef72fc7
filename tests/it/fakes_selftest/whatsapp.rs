use std::time::Duration;

use futures_util::StreamExt;
use serde_json::json;
use switchboard::channels::whatsapp::{self as wa, WhatsAppConfig};
use switchboard::channels::{
    MediaError, MediaKind, MediaSource, OutboundMedia, OutboundMessage, SendError, TemplateSend,
};

use super::{client, dead_base, with_retries};
use crate::fakes::Fault;
use crate::fakes::whatsapp::{FakeWhatsApp, PHONE_NUMBER_ID, TOKEN};

fn text(to: &str, body: &str) -> OutboundMessage {
    OutboundMessage {
        to: to.into(),
        text: Some(body.into()),
        ..Default::default()
    }
}

#[tokio::test]
async fn send_text_exact_request_and_answer() {
    let fake = FakeWhatsApp::start().await;
    let ok = wa::send(&client(), &fake.config(), &text("16505551234", "Hello"))
        .await
        .unwrap();
    assert!(ok.provider_id.starts_with("wamid."), "{ok:?}");
    let reqs = fake.requests();
    assert_eq!(reqs.len(), 1);
    let r = &reqs[0];
    assert_eq!(r.method, "POST");
    assert_eq!(
        r.path_and_query,
        format!("/v21.0/{PHONE_NUMBER_ID}/messages")
    );
    assert_eq!(
        r.header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    assert_eq!(
        r.json(),
        json!({"messaging_product":"whatsapp","recipient_type":"individual","to":"16505551234",
               "type":"text","text":{"preview_url":false,"body":"Hello"}})
    );
    assert_eq!(fake.accepted().len(), 1);
}

#[tokio::test]
async fn upload_then_send_image_template_and_mark_read() {
    let fake = FakeWhatsApp::start().await;
    let c = client();
    let cfg = fake.config();
    let png = b"\x89PNG\r\n\x1a\nfake image".to_vec();
    let id = wa::upload_media(
        &c,
        &cfg,
        png.clone().into(),
        Some(png.len() as u64),
        "a.png",
        "image/png",
    )
    .await
    .unwrap();
    let stored = fake.uploaded(&id).unwrap();
    assert_eq!(stored.bytes, png);
    assert_eq!(stored.mime, "image/png");
    assert_eq!(stored.filename.as_deref(), Some("a.png"));

    let img = OutboundMessage {
        to: "1".into(),
        text: Some("look".into()),
        media: Some(OutboundMedia {
            source: MediaSource::WhatsAppMediaId(id.clone()),
            kind: MediaKind::Image,
            caption: None,
            filename: None,
        }),
        ..Default::default()
    };
    wa::send(&c, &cfg, &img).await.unwrap();
    let tpl = OutboundMessage {
        to: "1".into(),
        template: Some(TemplateSend {
            name: "order_update".into(),
            language: "de".into(),
            params: vec!["Ann".into()],
        }),
        ..Default::default()
    };
    wa::send(&c, &cfg, &tpl).await.unwrap();
    wa::mark_read(&c, &cfg, "wamid.IN1").await.unwrap();
    let acc = fake.accepted();
    assert_eq!(acc[0]["image"], json!({"id": id, "caption": "look"}));
    assert_eq!(
        acc[1]["template"]["components"][0]["parameters"][0]["text"],
        "Ann"
    );
    assert_eq!(
        acc[2],
        json!({"messaging_product":"whatsapp","status":"read","message_id":"wamid.IN1"})
    );
    // An unknown media id is refused by the fake like Meta would.
    let mut bad = img.clone();
    bad.media = Some(OutboundMedia {
        source: MediaSource::WhatsAppMediaId("nope".into()),
        kind: MediaKind::Image,
        caption: None,
        filename: None,
    });
    assert!(
        matches!(wa::send(&c, &cfg, &bad).await, Err(SendError::Permanent { code, .. }) if code == "100")
    );
}

#[tokio::test]
async fn provider_errors_are_classified() {
    let fake = FakeWhatsApp::start().await;
    let c = client();
    fake.close_window("4917");
    match wa::send(&c, &fake.config(), &text("4917", "late reply")).await {
        Err(SendError::Permanent { code, message }) => {
            assert_eq!(code, "131047");
            assert!(message.contains("24-hour"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    let wrong = WhatsAppConfig {
        access_token: "bad".into(),
        ..fake.config()
    };
    assert!(matches!(wa::send(&c, &wrong, &text("1", "x")).await,
        Err(SendError::Permanent { code, .. }) if code == "190"));

    fake.fail_next(1, Fault::ServerError);
    assert!(matches!(
        wa::send(&c, &fake.config(), &text("1", "x")).await,
        Err(SendError::Transient { .. })
    ));
    fake.fail_next(
        1,
        Fault::RateLimited {
            retry_after_secs: 7,
        },
    );
    assert!(
        matches!(wa::send(&c, &fake.config(), &text("1", "x")).await,
        Err(SendError::Transient { retry_after: Some(d), .. }) if d == Duration::from_secs(7))
    );
    for fault in [Fault::Hang, Fault::Drop, Fault::Garbage] {
        fake.fail_next(1, fault.clone());
        let r = wa::send(&c, &fake.config(), &text("1", "x")).await;
        assert!(
            matches!(r, Err(SendError::Ambiguous { .. })),
            "{fault:?}: {r:?}"
        );
    }
    fake.fail_next(
        1,
        Fault::Reject {
            status: 400,
            body: crate::fakes::whatsapp::window_closed_body(),
        },
    );
    assert!(
        matches!(wa::send(&c, &fake.config(), &text("1", "x")).await,
        Err(SendError::Permanent { code, .. }) if code == "131047")
    );

    let dead = WhatsAppConfig {
        base_url: dead_base().await,
        ..fake.config()
    };
    assert!(matches!(
        wa::send(&c, &dead, &text("1", "x")).await,
        Err(SendError::Transient { .. })
    ));
}

#[tokio::test]
async fn transient_failures_are_retried_until_success() {
    let fake = FakeWhatsApp::start().await;
    let c = client();
    let cfg = fake.config();
    fake.fail_next(1, Fault::ServerError);
    fake.fail_next(
        1,
        Fault::RateLimited {
            retry_after_secs: 0,
        },
    );
    let msg = text("1", "persistent");
    let (r, attempts) = with_retries(5, || wa::send(&c, &cfg, &msg)).await;
    assert!(r.is_ok(), "{r:?}");
    assert_eq!(attempts, 3);
    assert_eq!(fake.requests().len(), 3);
    assert_eq!(fake.accepted().len(), 1);
}

#[tokio::test]
async fn media_download_round_trip_and_limits() {
    let fake = FakeWhatsApp::start().await;
    let c = client();
    let cfg = fake.config();
    let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    let id = fake.add_media(&data, "audio/ogg");
    let dl = wa::fetch_media(&c, &cfg, &id, 1_000_000).await.unwrap();
    assert_eq!(dl.mime.as_deref(), Some("audio/ogg"));
    assert_eq!(dl.declared_size, Some(100_000));
    assert_eq!(dl.bytes().await.unwrap(), data);
    let reqs = fake.requests();
    assert_eq!(reqs[0].path(), format!("/v21.0/{id}"));
    assert_eq!(reqs[1].path(), format!("/cdn/{id}"));
    assert!(
        reqs.iter()
            .all(|r| r.header("authorization") == Some(format!("Bearer {TOKEN}").as_str()))
    );

    // Metadata says too large: refused before downloading.
    assert_eq!(
        wa::fetch_media(&c, &cfg, &id, 1000).await.unwrap_err(),
        MediaError::TooLarge { limit: 1000 }
    );
    // file_size as a number, and a lie: the stream itself enforces the limit.
    let liar = fake.add_media_with(&data, "video/mp4", Some(json!(10)));
    let mut s = wa::fetch_media(&c, &cfg, &liar, 50_000).await.unwrap();
    let mut got = 0usize;
    let mut err = None;
    while let Some(chunk) = s.next().await {
        match chunk {
            Ok(b) => got += b.len(),
            Err(e) => err = Some(e),
        }
    }
    assert_eq!(err, Some(MediaError::TooLarge { limit: 50_000 }));
    assert!(got <= 50_000);
    let info = wa::fetch_media_info(
        &c,
        &cfg,
        &fake.add_media_with(b"x", "image/png", Some(json!(1))),
    )
    .await
    .unwrap();
    assert_eq!(info.file_size, Some(1));

    assert!(
        matches!(wa::fetch_media(&c, &cfg, "missing", 10).await, Err(MediaError::Permanent { code, .. }) if code == "100")
    );
    fake.fail_next(1, Fault::ServerError);
    assert!(matches!(
        wa::fetch_media(&c, &cfg, &id, 1_000_000).await,
        Err(MediaError::Transient { .. })
    ));
}
