use std::time::Duration;

use base64::Engine as _;
use switchboard::channels::twilio::{self as tw, TwilioConfig, TwilioSender};
use switchboard::channels::{
    MediaError, MediaKind, MediaSource, OutboundMedia, OutboundMessage, SendError,
};

use super::{client, dead_base, with_retries};
use crate::fakes::Fault;
use crate::fakes::twilio::{ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, FakeTwilio};

fn sms(to: &str, body: &str) -> OutboundMessage {
    OutboundMessage {
        to: to.into(),
        text: Some(body.into()),
        ..Default::default()
    }
}

fn owned(p: &[(&str, &str)]) -> Vec<(String, String)> {
    p.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect()
}

#[tokio::test]
async fn send_sms_and_mms_exact_request() {
    let fake = FakeTwilio::start().await;
    let c = client();
    let cfg = fake.config(Some("https://box.example/hooks/twilio/status"));
    let ok = tw::send(&c, &cfg, &sms("+14158675309", "Hi there ✓"))
        .await
        .unwrap();
    assert!(ok.provider_id.starts_with("SM"), "{ok:?}");
    let r = &fake.requests()[0];
    assert_eq!(r.method, "POST");
    assert_eq!(
        r.path_and_query,
        format!("/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json")
    );
    let basic =
        base64::engine::general_purpose::STANDARD.encode(format!("{ACCOUNT_SID}:{AUTH_TOKEN}"));
    assert_eq!(
        r.header("authorization"),
        Some(format!("Basic {basic}").as_str())
    );
    assert_eq!(
        r.form(),
        owned(&[
            ("To", "+14158675309"),
            ("From", FROM_NUMBER),
            ("Body", "Hi there ✓"),
            ("StatusCallback", "https://box.example/hooks/twilio/status"),
        ])
    );

    let mms = OutboundMessage {
        media: Some(OutboundMedia {
            source: MediaSource::Url("https://box.example/f/abc?exp=1&sig=2".into()),
            kind: MediaKind::Image,
            caption: None,
            filename: None,
        }),
        ..sms("+14158675309", "")
    };
    let svc = TwilioConfig {
        sender: TwilioSender::MessagingService("MG1".into()),
        ..fake.config(None)
    };
    let ok = tw::send(&c, &svc, &mms).await.unwrap();
    assert!(ok.provider_id.starts_with("MM"));
    assert_eq!(
        fake.accepted()[1],
        owned(&[
            ("To", "+14158675309"),
            ("MessagingServiceSid", "MG1"),
            ("MediaUrl", "https://box.example/f/abc?exp=1&sig=2")
        ])
    );
}

#[tokio::test]
async fn errors_are_classified() {
    let fake = FakeTwilio::start().await;
    let c = client();
    let cfg = fake.config(None);
    // Validated locally: nothing is sent.
    let long = sms("+1415", &"x".repeat(1601));
    assert!(
        matches!(tw::send(&c, &cfg, &long).await, Err(SendError::Permanent { code, .. }) if code == "body_too_long")
    );
    assert!(fake.requests().is_empty());
    // Refused by the fake like Twilio would.
    match tw::send(&c, &cfg, &sms("0800-CALL-ME", "hi")).await {
        Err(SendError::Permanent { code, message }) => {
            assert_eq!(code, "21211");
            assert!(message.contains("not a valid phone number"));
        }
        other => panic!("{other:?}"),
    }
    let wrong = TwilioConfig {
        auth_token: "nope".into(),
        ..fake.config(None)
    };
    assert!(
        matches!(tw::send(&c, &wrong, &sms("+14158675309", "x")).await,
        Err(SendError::Permanent { code, .. }) if code == "20003")
    );
    fake.fail_next(
        1,
        Fault::RateLimited {
            retry_after_secs: 3,
        },
    );
    assert!(
        matches!(tw::send(&c, &cfg, &sms("+14158675309", "x")).await,
        Err(SendError::Transient { retry_after: Some(d), .. }) if d == Duration::from_secs(3))
    );
    for fault in [Fault::Hang, Fault::Drop, Fault::Garbage] {
        fake.fail_next(1, fault.clone());
        let r = tw::send(&c, &cfg, &sms("+14158675309", "x")).await;
        assert!(
            matches!(r, Err(SendError::Ambiguous { .. })),
            "{fault:?}: {r:?}"
        );
    }
    let dead = TwilioConfig {
        base_url: dead_base().await,
        ..fake.config(None)
    };
    assert!(matches!(
        tw::send(&c, &dead, &sms("+14158675309", "x")).await,
        Err(SendError::Transient { .. })
    ));

    fake.fail_next(2, Fault::ServerError);
    let msg = sms("+14158675309", "retry me");
    let (r, attempts) = with_retries(5, || tw::send(&c, &cfg, &msg)).await;
    assert!(r.is_ok() && attempts == 3, "{r:?} after {attempts}");
}

#[tokio::test]
async fn media_fetch_follows_redirect_with_basic_auth() {
    let fake = FakeTwilio::start().await;
    let c = client();
    let cfg = fake.config(None);
    let jpeg = vec![0xffu8, 0xd8, 0xff, 0xe0, 1, 2, 3];
    let url = fake.add_media(&jpeg, "image/jpeg");
    let dl = tw::fetch_media(&c, &cfg, &url, 1024).await.unwrap();
    assert_eq!(dl.mime.as_deref(), Some("image/jpeg"));
    assert_eq!(dl.bytes().await.unwrap(), jpeg);
    let reqs = fake.requests();
    assert_eq!(reqs.len(), 2);
    assert!(
        reqs[0]
            .header("authorization")
            .is_some_and(|a| a.starts_with("Basic "))
    );
    assert!(reqs[1].path().starts_with("/cdn/ME"));

    assert_eq!(
        tw::fetch_media(&c, &cfg, &url, 3).await.unwrap_err(),
        MediaError::TooLarge { limit: 3 }
    );
    // Credentials never go to another origin.
    let foreign = tw::fetch_media(&c, &cfg, "https://evil.example/media/1", 1024).await;
    assert!(matches!(foreign, Err(MediaError::Permanent { code, .. }) if code == "bad_media_url"));
    let wrong = TwilioConfig {
        auth_token: "nope".into(),
        ..fake.config(None)
    };
    assert!(matches!(
        tw::fetch_media(&c, &wrong, &url, 1024).await,
        Err(MediaError::Permanent { .. })
    ));
}
