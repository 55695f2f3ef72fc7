//! Attachments over real HTTP (upload, download, ranges, limits, types, expiry) and the jobs
//! (attachment cleanup, session closure, history retention), against the server booted
//! in-process on port 0 with a test clock.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use switchboard::ids::AttachmentId;
use switchboard::ids::ChannelId;
use switchboard::ids::MessageId;
use switchboard::ids::SessionId;
use switchboard::ids::UserId;

use bytes::Bytes;
use futures_util::StreamExt;
use redb::ReadableTable;
use reqwest::StatusCode;
use serde_json::Value;
use sha2::{Digest, Sha256};
use switchboard::domain::attachments::{self, CHUNK};
use switchboard::domain::channels::{ChannelInput, ChannelKind};
use switchboard::domain::messages::{self, MessageFile, NewInbound};
use switchboard::domain::sessions::{self, SessionStatus};
use switchboard::jobs;
use switchboard::store::tables;

use crate::support::TestServer;
use crate::support::customer::{inbound as customer_inbound, intake, stored};

/// The server with API tokens for the admin and an agent: the tests here play scripts. No
/// scheduled job runs; the tests run them with [`Env::job`].
struct Env {
    t: TestServer,
    http: reqwest::Client,
    admin: String,
    admin_id: u64,
    agent: String,
    agent_id: u64,
}

async fn boot() -> Env {
    let t = TestServer::builder().without_jobs().start().await;
    let (agent_id, _) = t.user("agent", "agent").await;
    Env {
        http: reqwest::Client::new(),
        admin: t.api_token(t.admin_id).await,
        admin_id: t.admin_id,
        agent: t.api_token(agent_id).await,
        agent_id,
        t,
    }
}

impl Env {
    async fn channel(&self, kind: ChannelKind, members: Vec<u64>, tweak: ChannelInput) -> u64 {
        self.t
            .channel_with(ChannelInput {
                kind: Some(kind),
                name: Some(format!("{kind:?}")),
                members: Some(members.into_iter().map(UserId).collect()),
                ..tweak
            })
            .await
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.t.base())
    }

    async fn upload(
        &self,
        token: &str,
        query: &str,
        name: &str,
        body: impl Into<reqwest::Body>,
    ) -> (StatusCode, Value) {
        let resp = self
            .http
            .post(self.url(&format!("/api/v1/attachments?{query}")))
            .bearer_auth(token)
            .header("x-filename", name)
            .body(body)
            .send()
            .await
            .unwrap();
        let status = resp.status();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    async fn get(&self, token: &str, path: &str, headers: &[(&str, &str)]) -> reqwest::Response {
        let mut req = self.http.get(self.url(path)).bearer_auth(token);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        req.send().await.unwrap()
    }

    /// No upload in progress, no chunk and no invisible record left.
    async fn assert_nothing_left(&self) {
        for _ in 0..50 {
            if self.t.count(tables::ATTACHMENT_UPLOADS).await == 0
                && self.t.count(tables::ATTACHMENT_CHUNKS).await == 0
                && self.t.count(tables::ATTACHMENTS).await == 0
            {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!(
            "left behind: {} uploads, {} chunks, {} records",
            self.t.count(tables::ATTACHMENT_UPLOADS).await,
            self.t.count(tables::ATTACHMENT_CHUNKS).await,
            self.t.count(tables::ATTACHMENTS).await
        );
    }

    async fn job(&self, name: &str) -> String {
        jobs::run_now(self.t.state().job_ctx(), name).await.unwrap()
    }
}

/// Deterministic pseudo-random block `i` of a "zip" file (the first block starts with the zip
/// magic so the content sniffs as zip).
fn block(i: u64, len: usize) -> Bytes {
    let mut x = i.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03;
    let mut out = Vec::with_capacity(len);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len);
    if i == 0 {
        out[..4].copy_from_slice(b"PK\x03\x04");
    }
    Bytes::from(out)
}

const BLOCK: usize = 64 * 1024;

fn blocks(total: u64) -> impl Iterator<Item = Bytes> {
    let n = total.div_ceil(BLOCK as u64);
    (0..n).map(move |i| {
        let len = (total - i * BLOCK as u64).min(BLOCK as u64) as usize;
        block(i, len)
    })
}

/// A streamed body of `total` bytes that counts what was actually sent.
fn body(total: u64, sent: Arc<AtomicU64>) -> reqwest::Body {
    reqwest::Body::wrap_stream(futures_util::stream::iter(blocks(total).map(move |b| {
        sent.fetch_add(b.len() as u64, Ordering::SeqCst);
        Ok::<_, std::io::Error>(b)
    })))
}

fn sha_of(total: u64) -> String {
    let mut h = Sha256::new();
    for b in blocks(total) {
        h.update(&b);
    }
    hex::encode(h.finalize())
}

#[tokio::test]
async fn a_100_mb_file_streams_in_and_out_unchanged() {
    let env = boot().await;
    let ch = env
        .channel(ChannelKind::Whatsapp, vec![], ChannelInput::default())
        .await;
    let total: u64 = 100 * 1000 * 1000;
    let sent = Arc::new(AtomicU64::new(0));
    let (status, att) = env
        .upload(
            &env.admin,
            &format!("channel_id={ch}"),
            "big.zip",
            body(total, sent),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{att}");
    let expected = sha_of(total);
    assert_eq!(att["size"], total);
    assert_eq!(att["sha256"], expected.as_str());
    assert_eq!(att["content_type"], "application/zip");
    assert_eq!(att["state"], "ready");
    let id = att["id"].as_u64().unwrap();
    assert_eq!(
        env.t.count(tables::ATTACHMENT_CHUNKS).await,
        total.div_ceil(CHUNK as u64)
    );

    let resp = env
        .get(&env.admin, &format!("/api/v1/attachments/{id}"), &[])
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.content_length(), Some(total));
    let mut h = Sha256::new();
    let mut n = 0u64;
    let mut s = resp.bytes_stream();
    while let Some(chunk) = s.next().await {
        let chunk = chunk.unwrap();
        n += chunk.len() as u64;
        h.update(&chunk);
    }
    assert_eq!(n, total);
    assert_eq!(hex::encode(h.finalize()), expected);
}

#[tokio::test]
async fn ranges_etags_and_headers() {
    let env = boot().await;
    let ch = env
        .channel(ChannelKind::Whatsapp, vec![], ChannelInput::default())
        .await;
    // Three chunks of text, so ranges cross chunk boundaries.
    let text: Vec<u8> = (0..(2 * CHUNK + 1000))
        .map(|i| b'a' + (i % 26) as u8)
        .collect();
    let (status, att) = env
        .upload(
            &env.admin,
            &format!("channel_id={ch}"),
            "notes.txt",
            text.clone(),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{att}");
    let path = format!("/api/v1/attachments/{}", att["id"]);
    let etag = format!("\"{}\"", att["sha256"].as_str().unwrap());

    let full = env.get(&env.admin, &path, &[]).await;
    let h = full.headers().clone();
    assert_eq!(h["content-type"], "text/plain; charset=utf-8");
    assert_eq!(h["etag"], etag.as_str());
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["accept-ranges"], "bytes");
    assert_eq!(
        h["content-disposition"],
        "inline; filename=\"notes.txt\"; filename*=UTF-8''notes.txt"
    );
    assert_eq!(full.bytes().await.unwrap().as_ref(), text.as_slice());

    let first = env.get(&env.admin, &path, &[("range", "bytes=0-9")]).await;
    assert_eq!(first.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        first.headers()["content-range"],
        format!("bytes 0-9/{}", text.len()).as_str()
    );
    assert_eq!(first.bytes().await.unwrap().as_ref(), &text[..10]);

    let (a, b) = (CHUNK - 5, CHUNK + 5);
    let mid = env
        .get(&env.admin, &path, &[("range", &format!("bytes={a}-{b}"))])
        .await;
    assert_eq!(mid.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(mid.content_length(), Some(11));
    assert_eq!(mid.bytes().await.unwrap().as_ref(), &text[a..=b]);

    let suffix = env.get(&env.admin, &path, &[("range", "bytes=-10")]).await;
    assert_eq!(suffix.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        suffix.bytes().await.unwrap().as_ref(),
        &text[text.len() - 10..]
    );

    let open = env
        .get(
            &env.admin,
            &path,
            &[("range", &format!("bytes={}-", 2 * CHUNK))],
        )
        .await;
    assert_eq!(open.bytes().await.unwrap().as_ref(), &text[2 * CHUNK..]);

    let bad = env
        .get(
            &env.admin,
            &path,
            &[("range", &format!("bytes={}-", text.len()))],
        )
        .await;
    assert_eq!(bad.status(), StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(
        bad.headers()["content-range"],
        format!("bytes */{}", text.len()).as_str()
    );

    let cached = env
        .get(&env.admin, &path, &[("if-none-match", &etag)])
        .await;
    assert_eq!(cached.status(), StatusCode::NOT_MODIFIED);
    // If-Range with a stale validator: the whole file, not the range.
    let stale = env
        .get(
            &env.admin,
            &path,
            &[("range", "bytes=0-9"), ("if-range", "\"old\"")],
        )
        .await;
    assert_eq!(stale.status(), StatusCode::OK);

    let head = env
        .http
        .head(env.url(&path))
        .bearer_auth(&env.admin)
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), StatusCode::OK);
    assert_eq!(
        head.headers()["content-length"],
        text.len().to_string().as_str()
    );
    assert!(head.bytes().await.unwrap().is_empty());
}

#[tokio::test]
async fn over_the_limit_is_refused_mid_stream_and_leaves_nothing() {
    let env = boot().await;
    // Live chat: 10 MB.
    let ch = env
        .channel(ChannelKind::Livechat, vec![], ChannelInput::default())
        .await;
    let sent = Arc::new(AtomicU64::new(0));
    let total = 40 << 20;
    let (status, err) = env
        .upload(
            &env.admin,
            &format!("channel_id={ch}"),
            "big.zip",
            body(total, sent.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{err}");
    assert_eq!(err["error"]["code"], "too_large");
    assert!(
        err["error"]["message"].as_str().unwrap().contains("10 MB"),
        "{err}"
    );
    assert!(
        sent.load(Ordering::SeqCst) < total,
        "the server read the whole body before refusing"
    );
    env.assert_nothing_left().await;

    // The admin's lower limit applies too.
    let small = env
        .channel(
            ChannelKind::Whatsapp,
            vec![],
            ChannelInput {
                max_file_mb: Some(Some(1)),
                ..Default::default()
            },
        )
        .await;
    let (status, _) = env
        .upload(
            &env.admin,
            &format!("channel_id={small}"),
            "x.zip",
            body(2 << 20, Arc::default()),
        )
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);

    // WhatsApp: 5 MB for JPEG images even though the channel takes 100 MB.
    let wa = env
        .channel(ChannelKind::Whatsapp, vec![], ChannelInput::default())
        .await;
    let mut jpeg = vec![0u8; 6 << 20];
    jpeg[..4].copy_from_slice(&[0xFF, 0xD8, 0xFF, 0xE0]);
    let (status, err) = env
        .upload(&env.admin, &format!("channel_id={wa}"), "photo.jpg", jpeg)
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{err}");
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("image/jpeg"),
        "{err}"
    );
    env.assert_nothing_left().await;
}

fn png_bytes(w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, y| image::Rgb([x as u8, y as u8, 99]));
    let mut out = Vec::new();
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    out
}

#[tokio::test]
async fn the_type_comes_from_the_content_not_the_name() {
    let env = boot().await;
    let ch = env
        .channel(ChannelKind::Whatsapp, vec![], ChannelInput::default())
        .await;
    let q = format!("channel_id={ch}");

    let (status, att) = env
        .upload(&env.admin, &q, "invoice.pdf", png_bytes(640, 480))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{att}");
    assert_eq!(att["content_type"], "image/png");
    assert_eq!(att["name"], "invoice.pdf.png");
    assert_eq!(att["thumbnail"], true);
    let thumb = env
        .get(
            &env.admin,
            &format!("/api/v1/attachments/{}/thumbnail", att["id"]),
            &[],
        )
        .await;
    assert_eq!(thumb.status(), StatusCode::OK);
    assert_eq!(thumb.headers()["content-type"], "image/jpeg");
    let t = image::load_from_memory(&thumb.bytes().await.unwrap()).unwrap();
    assert_eq!((t.width(), t.height()), (320, 240));

    let mut elf = b"\x7fELF\x02\x01\x01\0".to_vec();
    elf.resize(4096, 0);
    let (status, err) = env.upload(&env.admin, &q, "cat.png", elf).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{err}");
    let msg = err["error"]["message"].as_str().unwrap();
    assert!(
        msg.contains("elf") && msg.contains("allowed types: gif, heic, jpeg, jpg, png"),
        "{msg}"
    );

    // A lying Content-Type is ignored; the content decides.
    let resp = env
        .http
        .post(env.url(&format!("/api/v1/attachments?{q}&name=readme.txt")))
        .bearer_auth(&env.admin)
        .header("content-type", "application/pdf")
        .body("plain words")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    let att: Value = resp.json().await.unwrap();
    assert_eq!(att["content_type"], "text/plain");
    assert_eq!(att["thumbnail"], false);
    let none = env
        .get(
            &env.admin,
            &format!("/api/v1/attachments/{}/thumbnail", att["id"]),
            &[],
        )
        .await;
    assert_eq!(none.status(), StatusCode::NOT_FOUND);

    // HTML is not on the list, whatever it is called.
    let (status, _) = env
        .upload(
            &env.admin,
            &q,
            "page.txt",
            "<!DOCTYPE html><html><script>x</script>",
        )
        .await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);

    // A channel that allows only PDFs refuses the PNG named .pdf.
    let pdf_only = env
        .channel(
            ChannelKind::Whatsapp,
            vec![],
            ChannelInput {
                allowed_types: Some(Some(vec!["pdf".into()])),
                ..Default::default()
            },
        )
        .await;
    let (status, err) = env
        .upload(
            &env.admin,
            &format!("channel_id={pdf_only}"),
            "x.pdf",
            png_bytes(8, 8),
        )
        .await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{err}");
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .ends_with("allowed types: pdf")
    );
}

#[tokio::test]
async fn bad_names_empty_files_and_multipart() {
    let env = boot().await;
    let ch = env
        .channel(ChannelKind::Whatsapp, vec![], ChannelInput::default())
        .await;
    let q = format!("channel_id={ch}");

    let (_, a) = env
        .upload(&env.admin, &q, "../../etc/passwd", "root:x:0:0")
        .await;
    assert_eq!(a["name"], "passwd.txt");
    let (_, a) = env
        .upload(&env.admin, &q, "a%0D%0Ab%00c%E2%80%AEtxt.exe.txt", "x")
        .await;
    assert_eq!(a["name"], "abctxt.exe.txt");
    let long = format!("{}.txt", "n".repeat(1000));
    let (status, a) = env.upload(&env.admin, &q, &long, "x").await;
    assert_eq!(status, StatusCode::CREATED);
    let name = a["name"].as_str().unwrap();
    assert_eq!(name.chars().count(), 150);
    assert!(name.ends_with(".txt"));
    let resp = env
        .get(&env.admin, &format!("/api/v1/attachments/{}", a["id"]), &[])
        .await;
    assert!(
        resp.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .len()
            < 400
    );

    // Empty files are refused, consistently, and leave nothing behind.
    let before = env.t.count(tables::ATTACHMENTS).await;
    let (status, err) = env.upload(&env.admin, &q, "empty.txt", "").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
    assert_eq!(err["error"]["message"], "file: is empty");
    assert_eq!(env.t.count(tables::ATTACHMENTS).await, before);
    assert_eq!(env.t.count(tables::ATTACHMENT_UPLOADS).await, 0);

    // Multipart: the `file` field, its filename, other fields ignored.
    let form = reqwest::multipart::Form::new()
        .text("note", "ignored")
        .part(
            "file",
            reqwest::multipart::Part::bytes(png_bytes(4, 4))
                .file_name("../dot.png")
                .mime_str("application/octet-stream")
                .unwrap(),
        );
    let resp = env
        .http
        .post(env.url(&format!("/api/v1/attachments?{q}")))
        .bearer_auth(&env.admin)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    let a: Value = resp.json().await.unwrap();
    assert_eq!(
        (a["name"].as_str(), a["content_type"].as_str()),
        (Some("dot.png"), Some("image/png"))
    );

    // Multipart is not capped by the global 1 MB body limit, only by the channel's.
    let big = vec![b'z'; 3 << 20];
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(big).file_name("big.txt"),
    );
    let resp = env
        .http
        .post(env.url(&format!("/api/v1/attachments?{q}")))
        .bearer_auth(&env.admin)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);

    let (status, _) = env.upload(&env.admin, "", "x.txt", "x").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn parallel_uploads_of_the_same_file() {
    let env = boot().await;
    let ch = env
        .channel(ChannelKind::Whatsapp, vec![], ChannelInput::default())
        .await;
    let total = 3 * CHUNK as u64 + 17;
    let q = format!("channel_id={ch}");
    let uploads =
        (0..8).map(|_| env.upload(&env.admin, &q, "same.zip", body(total, Arc::default())));
    let results = futures_util::future::join_all(uploads).await;
    let mut ids = std::collections::HashSet::new();
    for (status, a) in &results {
        assert_eq!(*status, StatusCode::CREATED, "{a}");
        assert_eq!(a["sha256"], sha_of(total).as_str());
        ids.insert(a["id"].as_u64().unwrap());
    }
    assert_eq!(ids.len(), 8);
    for id in ids {
        let r = env
            .get(&env.admin, &format!("/api/v1/attachments/{id}"), &[])
            .await;
        assert_eq!(r.bytes().await.unwrap().len() as u64, total);
    }
    assert_eq!(env.t.count(tables::ATTACHMENT_UPLOADS).await, 0);
}

#[tokio::test]
async fn unknown_or_foreign_ids_are_not_found() {
    let env = boot().await;
    let mine = env
        .channel(
            ChannelKind::Whatsapp,
            vec![env.agent_id],
            ChannelInput::default(),
        )
        .await;
    let other = env
        .channel(ChannelKind::Whatsapp, vec![], ChannelInput::default())
        .await;
    let (_, a_other) = env
        .upload(&env.admin, &format!("channel_id={other}"), "o.txt", "o")
        .await;
    let (_, a_mine) = env
        .upload(&env.admin, &format!("channel_id={mine}"), "m.txt", "m")
        .await;
    let (_, a_internal) = env.upload(&env.admin, "scope=internal", "i.txt", "i").await;
    assert_eq!(a_internal["scope"]["kind"], "internal");

    let get = |id: &Value| format!("/api/v1/attachments/{id}");
    assert_eq!(
        env.get(&env.agent, &get(&a_mine["id"]), &[]).await.status(),
        StatusCode::OK
    );
    for a in [&a_other, &a_internal] {
        let r = env.get(&env.agent, &get(&a["id"]), &[]).await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
        let r = env
            .get(&env.agent, &format!("{}/info", get(&a["id"])), &[])
            .await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
    }
    for path in ["/api/v1/attachments/999999", "/api/v1/attachments/nope"] {
        let r = env.get(&env.admin, path, &[]).await;
        assert!(
            matches!(r.status(), StatusCode::NOT_FOUND | StatusCode::BAD_REQUEST),
            "{path}"
        );
    }
    // An agent cannot upload into a channel they are not a member of.
    let (status, _) = env
        .upload(&env.agent, &format!("channel_id={other}"), "x.txt", "x")
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Without credentials: 401.
    let r = env
        .http
        .get(env.url(&get(&a_mine["id"])))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn after_72_hours_the_bytes_go_and_the_message_keeps_its_file() {
    let env = boot().await;
    let ch_id = env
        .channel(ChannelKind::Whatsapp, vec![], ChannelInput::default())
        .await;
    let (_, a) = env
        .upload(
            &env.admin,
            &format!("channel_id={ch_id}"),
            "scan.png",
            png_bytes(64, 64),
        )
        .await;
    let id = a["id"].as_u64().unwrap();
    let store = env.t.state().store.clone();
    let file = MessageFile {
        attachment_id: Some(AttachmentId(id)),
        name: "scan.png".into(),
        mime: "image/png".into(),
        size: a["size"].as_u64().unwrap(),
        source: None,
        error: None,
    };
    let inbound = NewInbound {
        files: vec![file.clone()],
        ..customer_inbound("+4930123456", None, "")
    };
    let message_id = stored(&intake(&env.t, ch_id, inbound).await).message_id;

    // 71 h: nothing happens.
    env.t.clock.advance_hours(71);
    env.job("attachment-cleanup").await;
    let path = format!("/api/v1/attachments/{id}");
    assert_eq!(
        env.get(&env.admin, &path, &[]).await.status(),
        StatusCode::OK
    );

    env.t.clock.advance_hours(2);
    let summary = env.job("attachment-cleanup").await;
    assert!(summary.starts_with("expired 1 files"), "{summary}");
    let r = env.get(&env.admin, &path, &[]).await;
    assert_eq!(r.status(), StatusCode::GONE);
    let err: Value = r.json().await.unwrap();
    assert_eq!(err["error"]["message"], "file expired");
    let info: Value = env
        .get(&env.admin, &format!("{path}/info"), &[])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(info["state"], "expired");
    assert_eq!(info["name"], "scan.png");
    assert_eq!(env.t.count(tables::ATTACHMENT_CHUNKS).await, 0);
    assert_eq!(env.t.count(tables::ATTACHMENT_THUMBS).await, 0);
    let thumb = env.get(&env.admin, &format!("{path}/thumbnail"), &[]).await;
    assert_eq!(thumb.status(), StatusCode::NOT_FOUND);
    let m = store
        .read(move |rtx| Ok(messages::get(rtx, MessageId(message_id))?.unwrap()))
        .await
        .unwrap();
    assert_eq!(m.files, vec![file]);
    // A second run finds nothing more to do.
    assert!(
        env.job("attachment-cleanup")
            .await
            .starts_with("expired 0 files")
    );
}

/// Lose an upload handle as a crash would: dropped where no runtime can run its reclaim.
fn crash(up: attachments::AttachmentUpload) {
    std::thread::spawn(move || drop(up)).join().unwrap();
}

#[tokio::test]
async fn cut_off_uploads_are_reclaimed() {
    let env = boot().await;
    let ch = env
        .channel(ChannelKind::Whatsapp, vec![], ChannelInput::default())
        .await;

    // The client goes away mid-body.
    let stream = futures_util::stream::iter(blocks(3 << 20).map(Ok::<_, std::io::Error>)).chain(
        futures_util::stream::once(async { Err(std::io::Error::other("client crashed")) }),
    );
    let r = env
        .http
        .post(env.url(&format!("/api/v1/attachments?channel_id={ch}")))
        .bearer_auth(&env.admin)
        .body(reqwest::Body::wrap_stream(stream))
        .send()
        .await;
    assert!(r.is_err() || r.unwrap().status().is_client_error());
    env.assert_nothing_left().await;

    // The domain API: abort, drop, and a "crash" (the handle never runs its drop).
    let store = env.t.state().store.clone();
    let new = || attachments::NewAttachment {
        name: "x.zip".into(),
        scope: attachments::Scope::Channel {
            channel_id: ChannelId(ch),
        },
        owner: None,
        policy: attachments::Policy::internal(),
        retention_ms: 72 * 3_600_000,
    };
    let mut up = attachments::AttachmentUpload::begin(&store, new())
        .await
        .unwrap();
    for b in blocks(2 << 20) {
        up.push(b).await.unwrap();
    }
    assert!(env.t.count(tables::ATTACHMENT_CHUNKS).await > 0);
    let id = up.id();
    // Invisible while uploading.
    let r = env
        .get(&env.admin, &format!("/api/v1/attachments/{id}"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    up.abort().await;
    env.assert_nothing_left().await;

    let mut up = attachments::AttachmentUpload::begin(&store, new())
        .await
        .unwrap();
    for b in blocks(2 << 20) {
        up.push(b).await.unwrap();
    }
    drop(up);
    env.assert_nothing_left().await;

    let mut up = attachments::AttachmentUpload::begin(&store, new())
        .await
        .unwrap();
    for b in blocks(2 << 20) {
        up.push(b).await.unwrap();
    }
    crash(up);
    // Stale uploads go with the cleanup job after an hour…
    env.job("attachment-cleanup").await;
    assert!(env.t.count(tables::ATTACHMENT_CHUNKS).await > 0);
    // …and all unfinished ones at the next start.
    let Env { mut t, http, .. } = env;
    drop((store, http));
    t.restart().await;
    assert_eq!(t.count(tables::ATTACHMENT_UPLOADS).await, 0);
    assert_eq!(t.count(tables::ATTACHMENT_CHUNKS).await, 0);
    assert_eq!(t.count(tables::ATTACHMENTS).await, 0);
    t.stop().await;
}

#[tokio::test]
async fn stale_uploads_are_reclaimed_by_the_cleanup_job() {
    let env = boot().await;
    let store = env.t.state().store.clone();
    let mut up = attachments::AttachmentUpload::begin(
        &store,
        attachments::NewAttachment {
            name: "x.zip".into(),
            scope: attachments::Scope::Internal,
            owner: Some(UserId(env.admin_id)),
            policy: attachments::Policy::internal(),
            retention_ms: 1,
        },
    )
    .await
    .unwrap();
    for b in blocks(5 << 20) {
        up.push(b).await.unwrap();
    }
    crash(up);
    env.t.clock.advance_hours(2);
    let summary = env.job("attachment-cleanup").await;
    assert!(
        summary.contains("reclaimed 1 abandoned uploads"),
        "{summary}"
    );
    env.assert_nothing_left().await;
}

#[tokio::test]
async fn signed_media_links_for_providers() {
    let env = boot().await;
    let ch = env
        .channel(ChannelKind::Whatsapp, vec![], ChannelInput::default())
        .await;
    let (_, a) = env
        .upload(
            &env.admin,
            &format!("channel_id={ch}"),
            "pic.png",
            png_bytes(10, 10),
        )
        .await;
    let id = a["id"].as_u64().unwrap();
    let secret = attachments::media_secret(&env.t.state().store)
        .await
        .unwrap();
    assert_eq!(
        secret,
        attachments::media_secret(&env.t.state().store)
            .await
            .unwrap()
    );
    let expires = env.t.state().now() / 1000 + 3600;
    let url = attachments::signed_url(&env.t.base(), &secret, AttachmentId(id), expires);
    let r = env.http.get(&url).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "image/png");
    assert_eq!(
        r.bytes().await.unwrap().len() as u64,
        a["size"].as_u64().unwrap()
    );

    let forged = attachments::signed_url(&env.t.base(), b"guess", AttachmentId(id), expires);
    assert_eq!(
        env.http.get(&forged).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    let other_id = url.replace(&format!("/media/{id}/"), &format!("/media/{}/", id + 1));
    assert_eq!(
        env.http.get(&other_id).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    env.t.clock.advance_hours(2);
    assert_eq!(
        env.http.get(&url).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn the_api_document_lists_the_attachment_routes() {
    let env = boot().await;
    let doc: Value = env
        .http
        .get(env.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for p in [
        "/api/v1/attachments",
        "/api/v1/attachments/{id}",
        "/api/v1/attachments/{id}/info",
        "/api/v1/attachments/{id}/thumbnail",
    ] {
        assert!(doc["paths"].get(p).is_some(), "{p} missing");
    }
}

/// A customer message with provider id `pid` through the domain intake.
async fn inbound(env: &Env, ch_id: u64, from: &str, pid: &str) -> (u64, u64) {
    let m = NewInbound {
        provider_id: Some(pid.into()),
        ..customer_inbound(from, None, &format!("hello {pid}"))
    };
    let a = stored(&intake(&env.t, ch_id, m).await);
    (a.session_id, a.message_id)
}

async fn status(env: &Env, sid: u64) -> SessionStatus {
    env.t
        .state()
        .store
        .read(move |rtx| Ok(sessions::get(rtx, SessionId(sid))?.unwrap().status))
        .await
        .unwrap()
}

#[tokio::test]
async fn inactive_sessions_close_by_their_channel_rules() {
    let env = boot().await;
    let wa = env
        .channel(ChannelKind::Whatsapp, vec![], ChannelInput::default())
        .await;
    let sms = env
        .channel(
            ChannelKind::Sms,
            vec![],
            ChannelInput {
                auto_close_hours: Some(2),
                ..Default::default()
            },
        )
        .await;
    let never = env
        .channel(
            ChannelKind::Messenger,
            vec![],
            ChannelInput {
                auto_close_hours: Some(0),
                ..Default::default()
            },
        )
        .await;
    let (s_wa, _) = inbound(&env, wa, "4915112345678", "wamid.1").await;
    let (s_sms, _) = inbound(&env, sms, "+4930111111", "SM1").await;
    let (s_fb, _) = inbound(&env, never, "psid-1", "mid.1").await;

    env.t.clock.advance_hours(1);
    assert_eq!(
        env.job("session-closure").await,
        "closed 0 inactive sessions"
    );
    env.t.clock.advance_hours(2);
    assert_eq!(
        env.job("session-closure").await,
        "closed 1 inactive sessions"
    );
    assert_eq!(status(&env, s_sms).await, SessionStatus::Closed);
    assert_eq!(status(&env, s_wa).await, SessionStatus::Open);

    // Agent activity at 23 h does not extend WhatsApp's window: it counts from the customer.
    env.t.clock.advance_hours(20);
    let store = env.t.state().store.clone();
    store
        .write(move |ctx| {
            let before = sessions::get_in(ctx, SessionId(s_wa))?;
            let mut s = before.clone();
            s.last_activity = ctx.now;
            sessions::save_in(ctx, Some(&before), &s)
        })
        .await
        .unwrap();
    env.t.clock.advance_hours(1);
    assert_eq!(status(&env, s_wa).await, SessionStatus::Open);
    assert_eq!(
        env.job("session-closure").await,
        "closed 1 inactive sessions"
    );
    assert_eq!(status(&env, s_wa).await, SessionStatus::Closed);
    let tl = store
        .read(move |rtx| sessions::timeline(rtx, SessionId(s_wa)))
        .await
        .unwrap();
    assert_eq!(tl.last().unwrap().kind.as_str(), "closed_inactive");
    assert_eq!(status(&env, s_fb).await, SessionStatus::Open);

    // The next customer message opens a new session.
    let (again, _) = inbound(&env, wa, "4915112345678", "wamid.2").await;
    assert_ne!(again, s_wa);
}

#[tokio::test]
async fn history_retention_deletes_old_messages_only() {
    let env = boot().await;
    let ch = env
        .channel(ChannelKind::Whatsapp, vec![], ChannelInput::default())
        .await;
    let mut old = Vec::new();
    for i in 0..3 {
        old.push(inbound(&env, ch, "+4930222222", &format!("old{i}")).await.1);
    }
    env.t.clock.advance_hours(366 * 24);
    let (_, fresh) = inbound(&env, ch, "+4930222222", "new").await;
    let summary = env.job("history-retention").await;
    assert_eq!(
        summary,
        "deleted 3 customer and 0 internal messages older than 365 days"
    );
    let store = env.t.state().store.clone();
    let (gone, kept, pids) = store
        .read(move |rtx| {
            let mut gone = true;
            for id in &old {
                gone &= messages::get(rtx, MessageId(*id))?.is_none();
            }
            let pids: Vec<Vec<u8>> = rtx
                .open_table(tables::PROVIDER_IDS)?
                .iter()?
                .map(|i| i.map(|(k, _)| k.value()[8..].to_vec()))
                .collect::<Result<_, _>>()?;
            Ok((gone, messages::get(rtx, MessageId(fresh))?.is_some(), pids))
        })
        .await
        .unwrap();
    assert!(gone && kept);
    assert_eq!(pids, vec![b"new".to_vec()]);
    assert_eq!(env.t.count(tables::MESSAGES).await, 1);
    assert_eq!(env.t.count(tables::MESSAGE_SESSION).await, 1);
}
