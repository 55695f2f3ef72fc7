//! Inbound media (every type becomes a file entry; the queue fetches through the attachment
//! bridge) and outbound files (WhatsApp upload then send by id; Twilio signed link).

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use futures_util::future::BoxFuture;
use serde_json::json;
use switchboard::channels::{MediaDownload, MediaError};
use switchboard::domain::attachments::media::{
    AttachmentBridge, InboundFile, OutboundFile, StoredFile,
};
use switchboard::domain::delivery::{media_fetch, plan as outbound};
use switchboard::domain::{channels as dch, messages};

use super::*;
use crate::fakes::{Fault, messenger, twilio, whatsapp};

/// An in-memory stand-in for the attachment store.
#[derive(Default)]
pub struct MemBridge {
    pub files: Mutex<HashMap<u64, (InboundFile, Vec<u8>)>>,
    next: AtomicU64,
}

impl MemBridge {
    pub fn put(&self, name: &str, mime: &str, bytes: &[u8]) -> u64 {
        let id = self.next.fetch_add(1, Ordering::SeqCst) + 1;
        let f = InboundFile {
            channel_id: 0,
            message_id: 0,
            name: name.into(),
            mime: mime.into(),
        };
        self.files.lock().unwrap().insert(id, (f, bytes.to_vec()));
        id
    }
}

impl AttachmentBridge for MemBridge {
    fn store_inbound(
        &self,
        file: InboundFile,
        body: MediaDownload,
    ) -> BoxFuture<'_, Result<StoredFile, MediaError>> {
        Box::pin(async move {
            let bytes = body.bytes().await?;
            let id = self.next.fetch_add(1, Ordering::SeqCst) + 1;
            let mime = file.mime.clone();
            self.files
                .lock()
                .unwrap()
                .insert(id, (file, bytes.to_vec()));
            Ok(StoredFile {
                attachment_id: id,
                size: bytes.len() as u64,
                mime,
            })
        })
    }
    fn open(&self, id: u64) -> BoxFuture<'_, Result<OutboundFile, switchboard::error::Error>> {
        Box::pin(async move {
            let (f, bytes) = self.files.lock().unwrap().get(&id).cloned().unwrap();
            Ok(OutboundFile {
                name: f.name,
                mime: f.mime,
                size: bytes.len() as u64,
                body: bytes.into(),
            })
        })
    }
    fn signed_link(&self, id: u64, expires: i64) -> Result<String, switchboard::error::Error> {
        Ok(format!(
            "https://box.example/files/{id}?expires={expires}&sig=abc"
        ))
    }
}

async fn all_files(t: &TestServer) -> Vec<Value> {
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

async fn fetch_now(t: &TestServer, bridge: &MemBridge) -> usize {
    let client = switchboard::channels::http_client(std::time::Duration::from_secs(10)).unwrap();
    media_fetch::run_due(&t.state().store, &t.clock, &client, bridge)
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

    // With an attachment store wired in, the queue drains into it.
    let bridge = MemBridge::default();
    assert_eq!(fetch_now(&t, &bridge).await, 9);
    for f in all_files(&t).await {
        assert!(f["attachment_id"].as_u64().is_some(), "{f}");
        assert!(f["source"].is_null());
        assert!(f["size"].as_u64().unwrap() > 0);
    }
    let stored: Vec<Vec<u8>> = bridge
        .files
        .lock()
        .unwrap()
        .values()
        .map(|(_, b)| b.clone())
        .collect();
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
    let bridge = MemBridge::default();
    fetch_now(&t, &bridge).await;
    let files = all_files(&t).await;
    let big_f = files.iter().find(|f| f["mime"] == "video/mp4").unwrap();
    assert!(
        big_f["error"].as_str().unwrap().contains("larger"),
        "{big_f}"
    );
    let pending = t.state().store.read(media_fetch::pending).await.unwrap();
    let small_f = files.iter().find(|f| f["mime"] == "image/png").unwrap();
    if small_f["attachment_id"].is_null() {
        // The 500 hit the small file: it stays queued with a backoff.
        assert_eq!(pending.len(), 1);
        assert_eq!(pending[0].attempts, 1);
        t.clock.advance_ms(60_000);
        fetch_now(&t, &bridge).await;
    }
    let files = all_files(&t).await;
    let small_f = files.iter().find(|f| f["mime"] == "image/png").unwrap();
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
        id: 1,
        session_id: 1,
        channel_id: 1,
        direction: messages::Direction::Out,
        author: Some(1),
        text: text.into(),
        files,
        template: None,
        provider_id: None,
        status: messages::Status::Queued,
        error: None,
        created: 0,
        provider_at: None,
        human_agent_tag: false,
    }
}

#[tokio::test]
async fn outbound_files_upload_to_whatsapp_and_go_as_signed_links_to_twilio() {
    let t = TestServer::start().await;
    let wa = whatsapp::FakeWhatsApp::start().await;
    let tw = twilio::FakeTwilio::start().await;
    let wa_ch = whatsapp_channel(&t, &wa).await;
    let tw_ch = twilio_channel(&t, &tw).await;
    let bridge = MemBridge::default();
    let aid = bridge.put("photo.png", "image/png", b"\x89PNG fake");
    let file = messages::MessageFile {
        attachment_id: Some(aid),
        name: "photo.png".into(),
        mime: "image/png".into(),
        size: 9,
        source: None,
        error: None,
    };
    let m = out_message(vec![file], "see attached");
    let client = switchboard::channels::http_client(std::time::Duration::from_secs(10)).unwrap();
    let base = t.base();
    let cx = outbound::SendCtx {
        client: &client,
        public_url: &base,
        bridge: Some(&bridge),
        now_ms: 0,
    };
    let load = |id: u64| {
        let store = t.state().store.clone();
        async move {
            store
                .read(move |rtx| dch::get(rtx, id))
                .await
                .unwrap()
                .unwrap()
        }
    };
    let wa_channel = load(wa_ch).await;
    let parts = outbound::plan(wa_channel.kind, &m);
    assert_eq!(parts.len(), 1, "the text rides as the caption");
    outbound::send_part(&cx, &wa_channel, CUSTOMER, &m, &parts[0])
        .await
        .unwrap();
    let sent = &wa.accepted()[0];
    assert_eq!(sent["type"], "image");
    assert_eq!(sent["image"]["caption"], "see attached");
    let media_id = sent["image"]["id"].as_str().unwrap();
    assert_eq!(&wa.uploaded(media_id).unwrap().bytes[..], b"\x89PNG fake");

    let tw_channel = load(tw_ch).await;
    let parts = outbound::plan(tw_channel.kind, &m);
    outbound::send_part(&cx, &tw_channel, "+14155550100", &m, &parts[0])
        .await
        .unwrap();
    let form = &tw.accepted()[0];
    let media_url = form
        .iter()
        .find(|(k, _)| k == "MediaUrl")
        .map(|(_, v)| v.as_str());
    assert_eq!(
        media_url,
        Some(format!("https://box.example/files/{aid}?expires=86400000&sig=abc").as_str())
    );

    // Without an attachment store a file message fails permanently instead of going without it.
    let cx = outbound::SendCtx {
        client: &client,
        public_url: &base,
        bridge: None,
        now_ms: 0,
    };
    let e = outbound::send_part(&cx, &tw_channel, "+14155550100", &m, &parts[0])
        .await
        .unwrap_err();
    assert!(!e.is_retryable(), "{e}");
    t.stop().await;
}
