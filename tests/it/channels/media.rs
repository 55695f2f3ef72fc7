//! Inbound media (every type becomes a file entry; the queue fetches into the attachment
//! store) and outbound files (WhatsApp upload then send by id; Twilio signed link).

use futures_util::StreamExt;
use serde_json::json;
use switchboard::domain::attachments::{self, media::MediaStore};
use switchboard::domain::delivery::{media_fetch, plan};
use switchboard::domain::{channels as dch, messages};
use switchboard::ids::AttachmentId;
use switchboard::ids::ChannelId;
use switchboard::ids::MessageId;
use switchboard::ids::SessionId;
use switchboard::ids::UserId;

use super::*;
use crate::fakes::{Fault, messenger, twilio, whatsapp};

/// The server's own attachment store for provider media.
pub(super) fn media_store(t: &TestServer) -> MediaStore {
    let s = t.state();
    MediaStore::new(&s.store, &s.public_url, &s.config, &s.media_secret)
}

/// The bytes of a stored attachment.
pub(super) async fn stored_bytes(t: &TestServer, id: u64) -> Vec<u8> {
    let store = t.state().store.clone();
    let a = store
        .read(move |rtx| attachments::get(rtx, AttachmentId(id)))
        .await
        .unwrap()
        .unwrap();
    let mut body = std::pin::pin!(attachments::read::stream(store, &a, 0..a.size));
    let mut out = Vec::new();
    while let Some(chunk) = body.next().await {
        out.extend_from_slice(&chunk.unwrap());
    }
    out
}

/// A file in the attachment store, as an agent's upload for `channel_id` would be.
async fn put_file(t: &TestServer, channel_id: u64, name: &str, bytes: &[u8]) -> u64 {
    let new = attachments::NewAttachment {
        name: name.into(),
        scope: attachments::Scope::Channel {
            channel_id: ChannelId(channel_id),
        },
        owner: None,
        policy: attachments::Policy {
            max_bytes: u64::MAX,
            allowed: vec!["*".into()],
            whatsapp_caps: false,
            mms: false,
        },
        retention_ms: 3_600_000,
    };
    let mut up = attachments::AttachmentUpload::begin(&t.state().store, new)
        .await
        .unwrap();
    up.push(bytes::Bytes::copy_from_slice(bytes)).await.unwrap();
    (up.finish().await.unwrap().id).get()
}

pub(super) async fn all_files(t: &TestServer) -> Vec<Value> {
    let mut out = Vec::new();
    for s in sessions(t).await {
        for m in messages(t, s["id"].as_u64().unwrap()).await {
            for f in m["files"].as_array().unwrap() {
                out.push(f.clone());
            }
        }
    }
    out
}

pub(super) async fn fetch_now(t: &TestServer, media: &MediaStore) -> usize {
    let client = switchboard::channels::http_client(std::time::Duration::from_secs(10)).unwrap();
    media_fetch::run_due(&t.state().store, &t.clock, &client, media)
        .await
        .unwrap()
}

#[tokio::test]
async fn every_media_type_becomes_a_file_entry_and_is_fetched_into_the_store() {
    let t = TestServer::start().await;
    let wa = whatsapp::FakeWhatsApp::start().await;
    let tw = twilio::FakeTwilio::start().await;
    let fb = messenger::FakeMessenger::start().await;
    let wa_ch = whatsapp_channel(&t, &wa).await;
    let tw_ch = twilio_channel(&t, &tw).await;
    let fb_ch = messenger_channel(&t, &fb).await;
    let kinds = [
        ("image", "image/jpeg"),
        ("document", "application/pdf"),
        ("audio", "audio/ogg"),
        ("video", "video/mp4"),
        ("sticker", "image/webp"),
    ];
    let mut msgs = Vec::new();
    for (i, (kind, mime)) in kinds.iter().enumerate() {
        let media_id = wa.add_media(format!("{kind} bytes").as_bytes(), mime);
        let caption = (*kind == "image").then_some("look");
        msgs.push(whatsapp::media_message(
            CUSTOMER,
            &format!("wamid.M{i}"),
            kind,
            &media_id,
            mime,
            caption,
            1,
        ));
    }
    let body = whatsapp::webhook(whatsapp::PHONE_NUMBER_ID, &[(CUSTOMER, "G")], msgs, vec![]);
    assert_eq!(post_wa(&t, wa_ch, &body).await.status, 200);
    let u1 = tw.add_media(b"mms one", "image/png");
    let u2 = tw.add_media(b"mms two", "image/gif");
    let p = twilio::inbound_mms_params(
        "MM1",
        "+14155550100",
        twilio::FROM_NUMBER,
        "",
        &[(&u1, "image/png"), (&u2, "image/gif")],
    );
    assert_eq!(
        post_twilio(
            &t,
            &format!("/hooks/twilio/{tw_ch}"),
            &p,
            twilio::AUTH_TOKEN
        )
        .await
        .status,
        200
    );
    let a1 = fb.add_attachment(b"fb image", "image/png");
    let a2 = fb.add_attachment(b"fb file", "application/pdf");
    let fbw = messenger::attachment_webhook(
        messenger::PAGE_ID,
        "PSID1",
        "m_att",
        &[("image", &a1), ("file", &a2)],
        1,
    );
    assert_eq!(post_fb(&t, fb_ch, &fbw).await.status, 200);

    let files = all_files(&t).await;
    assert_eq!(files.len(), 9, "{files:?}");
    for f in &files {
        assert!(f["attachment_id"].is_null());
        assert!(f["source"].as_str().is_some(), "{f}");
    }
    let names: Vec<&str> = files.iter().map(|f| f["name"].as_str().unwrap()).collect();
    assert!(
        names.contains(&"image.jpg") && names.contains(&"file.pdf"),
        "{names:?}"
    );
    let pending = t.state().store.read(media_fetch::pending).await.unwrap();
    assert_eq!(pending.len(), 5 + 1 + 1);

    // The queue drains into the attachment store.
    let media = media_store(&t);
    assert_eq!(fetch_now(&t, &media).await, 9);
    let mut stored = Vec::new();
    for f in all_files(&t).await {
        let id = f["attachment_id"].as_u64().unwrap_or_else(|| panic!("{f}"));
        assert!(f["source"].is_null());
        assert!(f["size"].as_u64().unwrap() > 0);
        stored.push(stored_bytes(&t, id).await);
    }
    assert!(
        stored.contains(&b"mms one".to_vec()),
        "Twilio media fetched with Basic auth"
    );
    assert!(stored.contains(&b"sticker bytes".to_vec()));
    assert!(stored.contains(&b"fb file".to_vec()));
    assert!(
        t.state()
            .store
            .read(media_fetch::pending)
            .await
            .unwrap()
            .is_empty()
    );
    t.stop().await;
}

#[tokio::test]
async fn media_fetch_retries_transient_failures_and_refuses_oversized_files() {
    let t = TestServer::start().await;
    let wa = whatsapp::FakeWhatsApp::start().await;
    let ch = whatsapp_channel(&t, &wa).await;
    let r = t
        .admin
        .patch(&format!("/api/v1/channels/{ch}"), json!({"max_file_mb": 1}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let big = wa.add_media(&vec![7u8; 2 << 20], "video/mp4");
    let small = wa.add_media(b"small", "image/png");
    let msgs = vec![
        whatsapp::media_message(CUSTOMER, "wamid.BIG", "video", &big, "video/mp4", None, 1),
        whatsapp::media_message(
            CUSTOMER,
            "wamid.SMALL",
            "image",
            &small,
            "image/png",
            None,
            1,
        ),
    ];
    let body = whatsapp::webhook(whatsapp::PHONE_NUMBER_ID, &[], msgs, vec![]);
    assert_eq!(post_wa(&t, ch, &body).await.status, 200);
    wa.fail_next_on("/cdn/", 1, Fault::ServerError);
    let media = media_store(&t);
    fetch_now(&t, &media).await;
    let files = all_files(&t).await;
    let big_f = files.iter().find(|f| f["mime"] == "video/mp4").unwrap();
    assert!(
        big_f["error"].as_str().unwrap().contains("larger"),
        "{big_f}"
    );
    let pending = t.state().store.read(media_fetch::pending).await.unwrap();
    // Found by name: once stored, the entry's type is what the store made of the bytes.
    let small_f = files.iter().find(|f| f["name"] == "image.png").unwrap();
    if small_f["attachment_id"].is_null() {
        // The 500 hit the small file: it stays queued with a backoff.
        assert_eq!(pending.len(), 1);
        assert_eq!(pending[0].attempts, 1);
        t.clock.advance_ms(60_000);
        fetch_now(&t, &media).await;
    }
    let files = all_files(&t).await;
    let small_f = files.iter().find(|f| f["name"] == "image.png").unwrap();
    assert!(small_f["attachment_id"].as_u64().is_some(), "{small_f}");
    assert!(
        t.state()
            .store
            .read(media_fetch::pending)
            .await
            .unwrap()
            .is_empty()
    );
    t.stop().await;
}

fn out_message(files: Vec<messages::MessageFile>, text: &str) -> messages::Message {
    messages::Message {
        id: MessageId(1),
        session_id: SessionId(1),
        channel_id: ChannelId(1),
        direction: messages::Direction::Out,
        author: Some(UserId(1)),
        text: text.into(),
        files,
        template: None,
        provider_id: None,
        status: messages::Status::Queued,
        error: None,
        created: 0,
        provider_at: None,
        human_agent_tag: false,
        retry: None,
        quote: None,
        reaction: None,
        edited: None,
        interactive: None,
    }
}

#[tokio::test]
async fn outbound_files_upload_to_whatsapp_and_go_as_signed_links_to_twilio() {
    let t = TestServer::start().await;
    let wa = whatsapp::FakeWhatsApp::start().await;
    let tw = twilio::FakeTwilio::start().await;
    let wa_ch = whatsapp_channel(&t, &wa).await;
    let tw_ch = twilio_channel(&t, &tw).await;
    let media = media_store(&t);
    let aid = put_file(&t, wa_ch, "photo.png", b"\x89PNG fake").await;
    let file = messages::MessageFile {
        attachment_id: Some(AttachmentId(aid)),
        name: "photo.png".into(),
        mime: "image/png".into(),
        size: 9,
        source: None,
        error: None,
    };
    let m = out_message(vec![file], "see attached");
    let client = switchboard::channels::http_client(std::time::Duration::from_secs(10)).unwrap();
    let base = t.base();
    let cx = plan::SendCtx {
        client: &client,
        public_url: &base,
        media: &media,
        now_ms: 0,
    };
    let load = |id: u64| {
        let store = t.state().store.clone();
        async move {
            store
                .read(move |rtx| dch::get(rtx, ChannelId(id)))
                .await
                .unwrap()
                .unwrap()
        }
    };
    let wa_channel = load(wa_ch).await;
    let parts = plan::plan(wa_channel.kind, &m);
    assert_eq!(parts.len(), 1, "the text rides as the caption");
    plan::send_part(&cx, &wa_channel, CUSTOMER, &m, &parts[0])
        .await
        .unwrap();
    let sent = &wa.accepted()[0];
    assert_eq!(sent["type"], "image");
    assert_eq!(sent["image"]["caption"], "see attached");
    let media_id = sent["image"]["id"].as_str().unwrap();
    assert_eq!(&wa.uploaded(media_id).unwrap().bytes[..], b"\x89PNG fake");

    let tw_channel = load(tw_ch).await;
    let parts = plan::plan(tw_channel.kind, &m);
    plan::send_part(&cx, &tw_channel, "+14155550100", &m, &parts[0])
        .await
        .unwrap();
    let form = &tw.accepted()[0];
    let media_url = form
        .iter()
        .find(|(k, _)| k == "MediaUrl")
        .map(|(_, v)| v.as_str());
    let signed = attachments::signed_url(
        &t.state().public_url,
        &t.state().media_secret,
        AttachmentId(aid),
        86_400,
    );
    assert_eq!(media_url, Some(signed.as_str()));

    t.stop().await;
}
