//! Streamed uploads under hostile input: arbitrary content, cut into arbitrary chunks (1-byte
//! and empty ones, cuts right at the sniff window, the flush size and the limit), streams that
//! fail midway, hostile names, hostile multipart framing.
//!
//! The expected outcome comes from [`oracle`], which states the upload's rules in byte order
//! using the production sniffer and policy: the type is decided once, on the first
//! [`CHUNK`] bytes (or the whole file if shorter), the size limit at byte `limit + 1`; whichever
//! comes first in the stream decides the refusal. So the outcome depends only on the bytes, never
//! on how they were chunked.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use switchboard::ids::ChannelId;
use switchboard::ids::UserId;

use axum::body::Body;
use axum::http::Request;
use bytes::Bytes;
use futures_util::StreamExt;
use proptest::prelude::*;
use sha2::{Digest, Sha256};
use switchboard::clock::TestClock;
use switchboard::domain::attachments::policy::{self, DEFAULT_TYPES, Policy, Sniffed};
use switchboard::domain::attachments::{self, Attachment, CHUNK, FLUSH, NewAttachment, Scope};
use switchboard::error::Error;
use switchboard::store::Store;
use switchboard::store::codec::k2;
use switchboard::store::tables;

use super::{
    ATTACHMENT_TABLES, Tally, all_but_counters, call, changed, check_safe_name, runner, snapshot,
    take_panics,
};
use crate::support::TestServer;

// ---- content --------------------------------------------------------------------------------

/// What the bytes look like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// UTF-8 text with multi-byte characters (the length may cut one in half).
    Text,
    Html,
    /// Magic numbers followed by noise.
    Png,
    Jpeg,
    Gif,
    Webp,
    Pdf,
    Zip,
    Elf,
    /// A real, decodable PNG (the length is ignored).
    RealPng,
    /// A real PNG whose header claims 60000 × 60000 pixels (decompression bomb).
    BombPng,
    Noise,
    Zeros,
}

fn kind() -> impl Strategy<Value = Kind> {
    use Kind::*;
    prop::sample::select(vec![
        Text, Text, Text, Html, Png, Jpeg, Gif, Webp, Pdf, Zip, Zip, Elf, RealPng, BombPng, Noise,
        Noise, Zeros,
    ])
}

struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for b in data {
        crc ^= u32::from(*b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn real_png(seed: u64) -> Vec<u8> {
    let (w, h) = ((seed % 61 + 1) as u32, (seed / 61 % 47 + 1) as u32);
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([(x * 7) as u8, (y * 11) as u8, seed as u8])
    });
    let mut out = Vec::new();
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut io::Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    out
}

/// `len` bytes of the given kind, deterministic in `seed`.
pub fn content(kind: Kind, len: usize, seed: u64) -> Vec<u8> {
    let mut rng = XorShift(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let prefix: &[u8] = match kind {
        Kind::Png => b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR",
        Kind::Jpeg => &[0xFF, 0xD8, 0xFF, 0xE0],
        Kind::Gif => b"GIF89a",
        Kind::Webp => b"RIFF\x10\0\0\0WEBPVP8 ",
        Kind::Pdf => b"%PDF-1.7\n",
        Kind::Zip => b"PK\x03\x04",
        Kind::Elf => &[0x7f, b'E', b'L', b'F', 2, 1, 1, 0],
        Kind::Html => b"<!DOCTYPE html><html>",
        Kind::Text | Kind::Noise | Kind::Zeros | Kind::RealPng | Kind::BombPng => b"",
    };
    match kind {
        Kind::RealPng => return real_png(seed),
        Kind::BombPng => {
            let mut png = real_png(seed);
            // IHDR data is bytes 16..29, its CRC 29..33.
            png[16..20].copy_from_slice(&60_000u32.to_be_bytes());
            png[20..24].copy_from_slice(&60_000u32.to_be_bytes());
            let crc = crc32(&png[12..29]);
            png[29..33].copy_from_slice(&crc.to_be_bytes());
            return png;
        }
        Kind::Zeros => return vec![0; len],
        _ => {}
    }
    let mut out = Vec::with_capacity(len + 8);
    out.extend_from_slice(prefix);
    if matches!(kind, Kind::Text | Kind::Html) {
        const ALPHABET: &[&str] = &["a", "b", " ", "\n", ",", "é", "日", "😀", "\r\n", "Z"];
        while out.len() < len {
            out.extend_from_slice(
                ALPHABET[(rng.next() % ALPHABET.len() as u64) as usize].as_bytes(),
            );
        }
    } else {
        while out.len() < len {
            out.extend_from_slice(&rng.next().to_le_bytes());
        }
    }
    out.truncate(len);
    out
}

/// Interesting byte positions.
#[derive(Debug, Clone, Copy)]
pub enum Point {
    Start,
    Chunk,
    TwoChunks,
    Flush,
    FlushChunk,
    Limit,
}

fn point() -> impl Strategy<Value = Point> {
    use Point::*;
    prop::sample::select(vec![
        Start, Chunk, TwoChunks, Flush, FlushChunk, Limit, Limit,
    ])
}

fn resolve(p: Point, limit: u64) -> usize {
    match p {
        Point::Start => 0,
        Point::Chunk => CHUNK,
        Point::TwoChunks => 2 * CHUNK,
        Point::Flush => FLUSH,
        Point::FlushChunk => FLUSH + CHUNK,
        // Huge limits are not worth the bytes: use the flush size instead.
        Point::Limit if limit > 2 << 20 => FLUSH,
        Point::Limit => limit as usize,
    }
}

/// How long the content is.
#[derive(Debug, Clone, Copy)]
pub enum Len {
    Abs(usize),
    Near(Point, i8),
}

fn len_spec() -> impl Strategy<Value = Len> {
    prop_oneof![
        3 => (0usize..64).prop_map(Len::Abs),
        3 => (0usize..6000).prop_map(Len::Abs),
        4 => (point(), -3i8..=3).prop_map(|(p, d)| Len::Near(p, d)),
        1 => (0usize..(FLUSH + 2 * CHUNK)).prop_map(Len::Abs),
    ]
}

fn resolve_len(l: Len, limit: u64) -> usize {
    match l {
        Len::Abs(n) => n,
        Len::Near(p, d) => (resolve(p, limit) as i64 + i64::from(d)).max(0) as usize,
    }
}

// ---- chunking -------------------------------------------------------------------------------

/// Where the stream is cut.
#[derive(Debug, Clone, Copy)]
pub enum Cut {
    /// At `n / 2^16` of the content.
    Frac(u16),
    Near(Point, i8),
}

#[derive(Debug, Clone)]
pub struct Chunking {
    pub cuts: Vec<Cut>,
    /// Split the first 64 bytes (magic numbers, a UTF-8 sequence) into single bytes.
    pub bytewise_head: bool,
    /// Empty chunks inserted before these piece indexes (modulo the count).
    pub empties: Vec<u8>,
    /// The stream fails (the client vanished) before this piece index (modulo the count).
    pub fail_at: Option<u8>,
}

pub fn chunking() -> impl Strategy<Value = Chunking> {
    let cut = prop_oneof![
        any::<u16>().prop_map(Cut::Frac),
        (point(), -2i8..=2).prop_map(|(p, d)| Cut::Near(p, d)),
    ];
    (
        prop::collection::vec(cut, 0..24),
        any::<bool>(),
        prop::collection::vec(any::<u8>(), 0..4),
        prop::option::weighted(0.15, any::<u8>()),
    )
        .prop_map(|(cuts, bytewise_head, empties, fail_at)| Chunking {
            cuts,
            bytewise_head,
            empties,
            fail_at,
        })
}

/// The stream items, and how many bytes precede the failure (None: no failure).
pub fn split(
    content: &[u8],
    ch: &Chunking,
    limit: u64,
) -> (Vec<Result<Bytes, io::Error>>, Option<usize>) {
    let len = content.len();
    let mut pos: Vec<usize> = ch
        .cuts
        .iter()
        .map(|c| match *c {
            Cut::Frac(f) => (len * usize::from(f)) >> 16,
            Cut::Near(p, d) => (resolve(p, limit) as i64 + i64::from(d)).max(0) as usize,
        })
        .filter(|p| *p > 0 && *p < len)
        .collect();
    if ch.bytewise_head {
        pos.extend(1..len.min(64));
    }
    pos.push(0);
    pos.push(len);
    pos.sort_unstable();
    pos.dedup();
    let all = Bytes::copy_from_slice(content);
    let mut pieces: Vec<Bytes> = pos.windows(2).map(|w| all.slice(w[0]..w[1])).collect();
    for e in &ch.empties {
        let at = usize::from(*e) % (pieces.len() + 1);
        pieces.insert(at, Bytes::new());
    }
    let mut items: Vec<Result<Bytes, io::Error>> = pieces.into_iter().map(Ok).collect();
    let mut delivered = None;
    if let Some(f) = ch.fail_at {
        let at = usize::from(f) % (items.len() + 1);
        items.truncate(at);
        delivered = Some(items.iter().flatten().map(Bytes::len).sum());
        items.push(Err(io::Error::new(
            io::ErrorKind::ConnectionReset,
            "client went away",
        )));
    }
    (items, delivered)
}

// ---- names ----------------------------------------------------------------------------------

pub fn hostile_name() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(vec![
            "report.pdf", "photo.PNG", "data.csv", "notes.txt", "../../etc/passwd",
            "..\\..\\boot.ini", "a\0b.png", "\u{202E}gpj.exe", "", ".", "..", "  .hidden ",
            "CON", "a/b/c.png", "C:\\x\\y.txt", "\r\nX-Injected: 1", "bell\u{7}.txt",
            "what?<x>|*.txt", "\u{FEFF}bom.csv", "\u{2066}iso\u{2069}.png", "%2e%2e%2fx",
            "名前.jpg", "x.CSV", "trailing.", "a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.tar.gz",
        ]).prop_map(str::to_string),
        2 => "[a-zA-Z0-9 ._/\\\\-]{0,40}",
        2 => prop::collection::vec(any::<char>(), 0..60).prop_map(String::from_iter),
        1 => (1usize..5000, prop::sample::select(vec!["", ".pdf", ".png", ".verylongextension123"]))
            .prop_map(|(n, ext)| format!("{}{ext}", "é".repeat(n))),
        1 => (prop::collection::vec(prop::sample::select(vec!["../", "..\\", "./", "/", "\0", "\u{202E}"]), 1..8), "[a-z]{0,8}(\\.[a-z]{1,4})?")
            .prop_map(|(segs, tail)| format!("{}{tail}", segs.concat())),
    ]
}

// ---- policy and the oracle --------------------------------------------------------------------

fn allowed() -> impl Strategy<Value = Vec<String>> {
    let lists: Vec<Vec<&'static str>> = vec![
        DEFAULT_TYPES.to_vec(),
        DEFAULT_TYPES.to_vec(),
        vec!["*"],
        vec!["gif", "heic", "jpeg", "jpg", "png", "webp"],
        vec!["pdf"],
        vec![],
        vec!["TXT", "Csv"],
        vec!["jpeg"],
    ];
    prop::sample::select(lists).prop_map(|l| l.into_iter().map(str::to_string).collect())
}

fn limit() -> impl Strategy<Value = u64> {
    let c = CHUNK as u64;
    prop_oneof![
        3 => 0u64..7000,
        2 => prop::sample::select(vec![c - 1, c, c + 1, 2 * c, FLUSH as u64, 1 << 20, 100 << 20]),
        1 => 0u64..(2 << 20),
    ]
}

/// The outcome the rules call for: `Ok(type)` or the refusal's status.
pub fn oracle(
    content: &[u8],
    delivered: Option<usize>,
    p: &Policy,
    name: &str,
) -> Result<Sniffed, u16> {
    let n = delivered.unwrap_or(content.len()) as u64;
    let chunk = CHUNK as u64;
    // The limit is crossed before the sniff window is full.
    if n > p.max_bytes && p.max_bytes < chunk {
        return Err(413);
    }
    let decide = |head: &[u8], complete: bool| -> Result<Sniffed, u16> {
        let s = policy::sniff(head, complete, name);
        p.check(s.as_ref()).map_err(|e| e.status())?;
        s.ok_or(415)
    };
    let early = if n >= chunk {
        let s = decide(&content[..CHUNK], false)?;
        let cap = p.cap_for(&s.mime);
        if n > cap {
            return Err(413);
        }
        Some(s)
    } else {
        None
    };
    if delivered.is_some() {
        return Err(400);
    }
    if n == 0 {
        return Err(422);
    }
    let s = match early {
        Some(s) => s,
        None => decide(content, true)?,
    };
    if n > p.cap_for(&s.mime) {
        return Err(413);
    }
    Ok(s)
}

// ---- checks ---------------------------------------------------------------------------------

fn sha_hex(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

/// A stored file is the input: record, chunk layout, bytes read back, hash, name.
async fn check_stored(
    store: &Store,
    a: &Attachment,
    content: &[u8],
    raw_name: Option<&str>,
    expect: &Sniffed,
) -> Result<(), String> {
    if a.size != content.len() as u64 || a.sha256 != sha_hex(content) {
        return Err(format!("size/sha256 mismatch: {} {}", a.size, a.sha256));
    }
    if a.content_type != expect.mime || a.state != attachments::State::Ready {
        return Err(format!(
            "type/state: {} {:?}, expected {}",
            a.content_type, a.state, expect.mime
        ));
    }
    check_safe_name(&a.name)?;
    if let Some(raw) = raw_name {
        let want = policy::name_for(raw, expect);
        if a.name != want {
            return Err(format!("name {:?} for {raw:?}, expected {want:?}", a.name));
        }
    }
    let id = a.id;
    let sizes: Vec<usize> = store
        .read(move |rtx| {
            let t = rtx.open_table(tables::ATTACHMENT_CHUNKS)?;
            let (s, e) = (k2(id, 0), k2(id, u64::MAX));
            let mut out = Vec::new();
            for item in t.range::<&[u8]>(s.as_slice()..=e.as_slice())? {
                out.push(item?.1.value().len());
            }
            Ok(out)
        })
        .await
        .unwrap();
    let n = sizes.len();
    if n as u64 != a.chunks() || sizes.iter().take(n.saturating_sub(1)).any(|s| *s != CHUNK) {
        return Err(format!("chunk layout {sizes:?} for {} bytes", a.size));
    }
    let mut back = Vec::with_capacity(content.len());
    let mut s = std::pin::pin!(attachments::read::stream(store.clone(), a, 0..a.size));
    while let Some(piece) = s.next().await {
        back.extend_from_slice(&piece.map_err(|e| e.to_string())?);
    }
    if back != content {
        return Err("the bytes read back differ from the input".into());
    }
    Ok(())
}

// ---- property 1: the domain's streaming writer ----------------------------------------------

#[derive(Debug, Clone)]
struct DomainCase {
    kind: Kind,
    len: Len,
    seed: u64,
    limit: u64,
    allowed: Vec<String>,
    whatsapp_caps: bool,
    name: String,
    chunking: Chunking,
}

fn domain_case() -> impl Strategy<Value = DomainCase> {
    (
        kind(),
        len_spec(),
        any::<u64>(),
        limit(),
        allowed(),
        prop::bool::weighted(0.2),
        hostile_name(),
        chunking(),
    )
        .prop_map(
            |(kind, len, seed, limit, allowed, whatsapp_caps, name, chunking)| DomainCase {
                kind,
                len,
                seed,
                limit,
                allowed,
                whatsapp_caps,
                name,
                chunking,
            },
        )
}

async fn save(
    store: &Store,
    name: &str,
    policy: &Policy,
    items: Vec<Result<Bytes, io::Error>>,
) -> Result<Attachment, Error> {
    let new = NewAttachment {
        name: name.to_string(),
        scope: Scope::Internal,
        owner: Some(UserId(1)),
        policy: policy.clone(),
        retention_ms: 3_600_000,
    };
    attachments::save_stream(store, new, futures_util::stream::iter(items), |e| {
        Error::BadRequest(format!("upload interrupted: {e}"))
    })
    .await
}

/// Without comparable fields (id and times differ between two saves).
fn comparable(r: &Result<Attachment, Error>) -> String {
    match r {
        Ok(a) => format!(
            "{} {} {} {} {}",
            a.name, a.size, a.content_type, a.sha256, a.thumbnail
        ),
        Err(e) => format!("{} {}", e.status(), e.public_message()),
    }
}

async fn domain_one(store: &Store, c: &DomainCase, tally: &Tally) -> Result<(), String> {
    let policy = Policy {
        max_bytes: c.limit,
        allowed: c.allowed.clone(),
        whatsapp_caps: c.whatsapp_caps,
        mms: false,
    };
    let data = content(c.kind, resolve_len(c.len, c.limit), c.seed);
    let (items, delivered) = split(&data, &c.chunking, c.limit);
    let expect = oracle(&data, delivered, &policy, &c.name);
    let before = snapshot(store, ATTACHMENT_TABLES.to_vec()).await;
    let got = save(store, &c.name, &policy, items).await;
    tally.add(match &got {
        Ok(_) => "201".to_string(),
        Err(e) => e.status().to_string(),
    });
    let panics = take_panics();
    if !panics.is_empty() {
        return Err(format!("panicked: {panics:?}"));
    }
    let after = snapshot(store, ATTACHMENT_TABLES.to_vec()).await;
    match (&got, &expect) {
        (Ok(a), Ok(s)) => {
            check_stored(store, a, &data, Some(&c.name), s).await?;
            if matches!(c.kind, Kind::RealPng) && !a.thumbnail {
                return Err("a decodable PNG got no thumbnail".into());
            }
            let uploads = |s: &[(String, u64, String)]| s[3].clone();
            if uploads(&before) != uploads(&after) {
                return Err("a finished upload is still marked as in progress".into());
            }
        }
        (Err(e), Err(status)) if e.status() == *status => {
            let diff = changed(&before, &after);
            if !diff.is_empty() {
                return Err(format!("refused ({e}) but the store changed: {diff:?}"));
            }
        }
        _ => {
            return Err(format!(
                "{} bytes, delivered {delivered:?}: got {}, the rules say {}",
                data.len(),
                comparable(&got),
                match &expect {
                    Ok(s) => format!("Ok({})", s.mime),
                    Err(s) => s.to_string(),
                }
            ));
        }
    }
    // Chunking is irrelevant: the same bytes in one piece give the same result.
    if data.len() <= 64 * 1024 && delivered.is_none() {
        let whole = save(store, &c.name, &policy, vec![Ok(Bytes::from(data.clone()))]).await;
        if comparable(&whole) != comparable(&got) {
            return Err(format!(
                "chunked: {}; in one piece: {}",
                comparable(&got),
                comparable(&whole)
            ));
        }
    }
    Ok(())
}

/// The domain writer (`save_stream`, as inbound media and the live-chat upload use it) on
/// arbitrary content, chunking, limits and allowlists: the oracle's outcome, the stored bytes
/// equal the input, a refusal leaves every attachment table as it was, no panic anywhere.
#[test]
fn upload_stream_follows_the_rules_whatever_the_chunking() {
    let rt = super::runtime();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(
        &dir.path().join("fuzz.redb"),
        16,
        64,
        Arc::new(TestClock::new()),
    )
    .unwrap();
    let mut runner = runner("tests/proptest-regressions/upload_stream.txt", 256);
    let tally = Tally::default();
    let result = runner.run(&domain_case(), |c| {
        rt.block_on(domain_one(&store, &c, &tally))
            .map_err(TestCaseError::fail)
    });
    tally.print("upload_stream");
    drop(store);
    if let Err(e) = result {
        panic!("{e}");
    }
}

// ---- the HTTP fixture ---------------------------------------------------------------------------

pub struct Http {
    pub t: TestServer,
    pub app: axum::Router,
    pub token: String,
    /// An SMS channel whose admin limit is 1 MB.
    pub small: u64,
}

impl Http {
    pub async fn start() -> Http {
        let t = TestServer::start().await;
        let token = t.api_token(t.admin_id).await;
        let small = t
            .channel(serde_json::json!({"kind": "whatsapp", "name": "Small", "max_file_mb": 1}))
            .await;
        let app = switchboard::app(t.state().clone());
        Http {
            t,
            app,
            token,
            small,
        }
    }

    pub fn store(&self) -> &Store {
        &self.t.state().store
    }

    pub async fn policy(&self, target: Target) -> Policy {
        match target {
            Target::Internal => Policy::internal(),
            Target::Small => {
                let id = self.small;
                let ch = self
                    .store()
                    .read(move |rtx| switchboard::domain::channels::get(rtx, ChannelId(id)))
                    .await
                    .unwrap()
                    .unwrap();
                Policy::for_channel(&ch)
            }
        }
    }

    pub fn query(&self, target: Target) -> String {
        match target {
            Target::Internal => "scope=internal".into(),
            Target::Small => format!("channel_id={}", self.small),
        }
    }

    /// Download a file through the API.
    pub async fn download(&self, id: u64) -> Vec<u8> {
        let req = Request::get(format!("/api/v1/attachments/{id}"))
            .header("authorization", format!("Bearer {}", self.token))
            .body(Body::empty())
            .unwrap();
        let r = call(&self.app, req, peer()).await;
        assert_eq!(r.status, 200, "download {id}");
        r.body
    }
}

pub fn peer() -> SocketAddr {
    SocketAddr::from(([192, 0, 2, 1], 40000))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// `?scope=internal`: 100 MB, the default types.
    Internal,
    /// `?channel_id=` of a channel limited to 1 MB.
    Small,
}

fn target() -> impl Strategy<Value = Target> {
    prop::sample::select(vec![Target::Internal, Target::Small])
}

/// Every byte but `[A-Za-z0-9._-]` percent-encoded.
pub fn pct(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"._-".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Check a reply against the expected outcome; on success the stored file is the input.
async fn check_reply(
    h: &Http,
    r: &super::Reply,
    before: &[(String, u64, String)],
    expect: Result<Sniffed, u16>,
    data: Option<&[u8]>,
    name: Option<&str>,
) -> Result<(), String> {
    if r.status >= 500 {
        return Err(format!(
            "{}: {}",
            r.status,
            String::from_utf8_lossy(&r.body)
        ));
    }
    let panics = take_panics();
    if !panics.is_empty() {
        return Err(format!("panicked: {panics:?}"));
    }
    let after = snapshot(h.store(), all_but_counters()).await;
    if r.status >= 400 {
        r.check_error_shape()?;
        let diff = changed(before, &after);
        if !diff.is_empty() {
            return Err(format!("{} but the store changed: {diff:?}", r.status));
        }
    }
    match (r.status, &expect) {
        (201, Ok(s)) => {
            let a: Attachment = serde_json::from_slice(&r.body).map_err(|e| e.to_string())?;
            let stored = h.download(a.id.get()).await;
            let data = data.unwrap_or(&stored);
            check_stored(h.store(), &a, data, name, s).await?;
            if stored != data {
                return Err("the download differs from the upload".into());
            }
            Ok(())
        }
        (st, Err(want)) if st == *want => Ok(()),
        (st, _) => Err(format!(
            "got {st} ({}), the rules say {}",
            String::from_utf8_lossy(&r.body),
            match &expect {
                Ok(s) => format!("201 {}", s.mime),
                Err(s) => s.to_string(),
            }
        )),
    }
}

// ---- property 2: raw uploads over HTTP ----------------------------------------------------------

#[derive(Debug, Clone)]
struct RawCase {
    target: Target,
    kind: Kind,
    len: Len,
    seed: u64,
    name: String,
    /// Name in `X-Filename` (else `?name=`).
    name_in_header: bool,
    content_type: Option<&'static str>,
    chunking: Chunking,
}

fn raw_case() -> impl Strategy<Value = RawCase> {
    (
        target(),
        kind(),
        len_spec(),
        any::<u64>(),
        hostile_name(),
        any::<bool>(),
        prop::option::of(prop::sample::select(vec![
            "application/octet-stream",
            "image/png",
            "text/plain; charset=utf-8",
            "multipart/mixed; boundary=x",
            "application/x-www-form-urlencoded",
            "",
        ])),
        chunking(),
    )
        .prop_map(
            |(target, kind, len, seed, name, name_in_header, content_type, chunking)| RawCase {
                target,
                kind,
                len,
                seed,
                name,
                name_in_header,
                content_type,
                chunking,
            },
        )
}

async fn raw_one(h: &Http, c: &RawCase, tally: &Tally) -> Result<(), String> {
    let policy = h.policy(c.target).await;
    let data = content(c.kind, resolve_len(c.len, policy.max_bytes), c.seed);
    let (items, delivered) = split(&data, &c.chunking, policy.max_bytes);
    let expect = oracle(&data, delivered, &policy, &c.name);
    let mut uri = format!("/api/v1/attachments?{}", h.query(c.target));
    let mut req = Request::post("/").header("authorization", format!("Bearer {}", h.token));
    if c.name_in_header {
        req = req.header("x-filename", pct(&c.name));
    } else {
        uri.push_str(&format!("&name={}", pct(&c.name)));
    }
    if let Some(ct) = c.content_type {
        req = req.header("content-type", ct);
    }
    let req = req
        .uri(uri)
        .body(Body::from_stream(futures_util::stream::iter(items)))
        .unwrap();
    let before = snapshot(h.store(), all_but_counters()).await;
    let r = call(&h.app, req, peer()).await;
    tally.add(r.status.to_string());
    check_reply(h, &r, &before, expect, Some(&data), Some(&c.name)).await
}

/// `POST /api/v1/attachments` with a raw body, through the whole router: the oracle's status
/// (201 / 400 / 413 / 415 / 422, never 5xx), the JSON error shape, nothing stored on refusal,
/// the file downloads as uploaded. Covers the 1 MB channel limit exactly (limit accepted,
/// limit + 1 refused) via `Len::Near(Limit, ±3)`.
#[test]
fn raw_upload_over_http_follows_the_rules() {
    let rt = super::runtime();
    let h = rt.block_on(Http::start());
    let mut runner = runner("tests/proptest-regressions/upload_raw_http.txt", 64);
    let tally = Tally::default();
    let result = runner.run(&raw_case(), |c| {
        rt.block_on(raw_one(&h, &c, &tally))
            .map_err(TestCaseError::fail)
    });
    tally.print("upload_raw_http");
    rt.block_on(h.t.stop());
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// The exact limit, both ways, for every chunking: a 1 MB channel takes 1 MB and refuses one
/// byte more with 413 (as zip, text and PNG).
#[test]
fn the_limit_is_exact() {
    let rt = super::runtime();
    let h = rt.block_on(Http::start());
    let limit = 1usize << 20;
    let strategy = (
        prop::sample::select(vec![Kind::Zip, Kind::Text, Kind::Png]),
        chunking().prop_map(|mut c| {
            c.fail_at = None;
            c
        }),
        any::<u64>(),
    );
    let mut runner = runner("tests/proptest-regressions/upload_limit.txt", 3);
    let tally = Tally::default();
    let result = runner.run(&strategy, |(kind, chunking, seed)| {
        rt.block_on(async {
            for d in [-1i64, 0, 1] {
                tally.add(format!("limit{d:+}"));
                let data = content(kind, (limit as i64 + d) as usize, seed);
                let (items, _) = split(&data, &chunking, limit as u64);
                let req = Request::post(format!("/api/v1/attachments?channel_id={}", h.small))
                    .header("authorization", format!("Bearer {}", h.token))
                    .header("x-filename", "f.bin")
                    .body(Body::from_stream(futures_util::stream::iter(items)))
                    .unwrap();
                let before = snapshot(h.store(), all_but_counters()).await;
                let r = call(&h.app, req, peer()).await;
                let want = if d > 0 { 413 } else { 201 };
                if r.status != want {
                    return Err(format!("{} bytes: {} (want {want})", data.len(), r.status));
                }
                let policy = h.policy(Target::Small).await;
                let expect = oracle(&data, None, &policy, "f.bin");
                check_reply(&h, &r, &before, expect, Some(&data), None).await?;
            }
            Ok(())
        })
        .map_err(TestCaseError::fail)
    });
    tally.print("upload_limit");
    rt.block_on(h.t.stop());
    if let Err(e) = result {
        panic!("{e}");
    }
}

// ---- property 3: multipart framing ------------------------------------------------------------

/// One part of a form.
#[derive(Debug, Clone)]
pub struct Part {
    /// `name` of the Content-Disposition (None: no such header at all).
    pub field: Option<String>,
    pub filename: Option<String>,
    /// A raw Content-Disposition value instead of the generated one.
    pub raw_disposition: Option<String>,
    pub content_type: Option<String>,
    /// An extra header of this many bytes.
    pub big_header: Option<usize>,
    pub kind: Kind,
    pub len: usize,
    pub seed: u64,
}

/// A change to the rendered bytes.
#[derive(Debug, Clone, Copy)]
pub enum Mutation {
    /// Cut the body at `n / 2^16` of its length.
    Truncate(u16),
    /// Drop the final `--` (and what follows).
    NoCloseDelimiter,
    /// Insert a stray boundary line at `n / 2^16`.
    StrayBoundary(u16),
    /// Overwrite one byte.
    Flip(u16, u8),
    /// Remove the CRLF CRLF after the first part's headers (they never end).
    HeadersNeverEnd,
}

#[derive(Debug, Clone)]
pub struct Form {
    pub boundary: String,
    /// How the Content-Type header names the boundary.
    pub header: HeaderStyle,
    pub preamble: Vec<u8>,
    pub parts: Vec<Part>,
    pub mutations: Vec<Mutation>,
    pub chunking: Chunking,
}

/// What a rendered form must give.
#[derive(Debug, Clone)]
pub enum Expected {
    /// Well-formed: the first `file` part's content and filename are the upload.
    File(Vec<u8>, String),
    /// Well-formed without a `file` part: 422.
    NoFileField,
    /// Broken: any 4xx, or a consistent stored file.
    Unknown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderStyle {
    Plain,
    Quoted,
    Upper,
    NoBoundary,
    EmptyBoundary,
    OtherBoundary,
}

fn part() -> impl Strategy<Value = Part> {
    (
        prop::option::weighted(
            0.95,
            prop::sample::select(vec![
                "file", "file", "file", "file", "file", "other", "", "FILE", "file\"x",
            ]),
        ),
        prop::option::weighted(
            0.85,
            prop_oneof![
                "[a-zA-Z0-9 ._-]{0,30}",
                prop::sample::select(vec![
                    "../../etc/passwd",
                    "a/b/c.png",
                    "%2e%2e%2fx",
                    "\u{202E}gpj.exe",
                    "名前.jpg",
                    "  .hidden ",
                    "x.CSV",
                    "C:/x/y.txt",
                ])
                .prop_map(str::to_string),
                hostile_name(),
            ],
        ),
        prop::option::weighted(
            0.05,
            prop::sample::select(vec![
                "form-data",
                "form-data; name=",
                "form-data; name=\"file",
                "form-data; name=file; filename=../../x.png",
                "attachment; name=\"file\"",
                "form-data; name=\"file\"; filename*=UTF-8''%E2%80%AEgpj.exe",
                "form-data; name=\"file\"; name=\"other\"",
                "\u{0}",
            ]),
        ),
        prop::option::weighted(
            0.5,
            prop::sample::select(vec![
                "application/octet-stream",
                "image/png",
                "text/html",
                "x",
            ]),
        ),
        prop::option::weighted(0.05, 1usize..200_000),
        kind(),
        prop_oneof![4 => 0usize..3000, 1 => 0usize..(CHUNK + 4000)],
        any::<u64>(),
    )
        .prop_map(|(field, filename, raw, ct, big, kind, len, seed)| Part {
            field: field.map(str::to_string),
            filename,
            raw_disposition: raw.map(str::to_string),
            content_type: ct.map(str::to_string),
            big_header: big,
            kind,
            len,
            seed,
        })
}

fn form() -> impl Strategy<Value = Form> {
    let mutation = prop_oneof![
        any::<u16>().prop_map(Mutation::Truncate),
        Just(Mutation::NoCloseDelimiter),
        any::<u16>().prop_map(Mutation::StrayBoundary),
        (any::<u16>(), any::<u8>()).prop_map(|(p, b)| Mutation::Flip(p, b)),
        Just(Mutation::HeadersNeverEnd),
    ];
    (
        prop_oneof![
            8 => "[A-Za-z0-9]{8,40}",
            2 => "[A-Za-z0-9'()+_,./:=? -]{1,69}[A-Za-z0-9]",
            1 => "[A-Z]{200,2000}",
        ],
        prop::sample::select(vec![
            HeaderStyle::Plain,
            HeaderStyle::Plain,
            HeaderStyle::Plain,
            HeaderStyle::Plain,
            HeaderStyle::Plain,
            HeaderStyle::Plain,
            HeaderStyle::Plain,
            HeaderStyle::Quoted,
            HeaderStyle::Quoted,
            HeaderStyle::Upper,
            HeaderStyle::NoBoundary,
            HeaderStyle::EmptyBoundary,
            HeaderStyle::OtherBoundary,
        ]),
        prop::option::weighted(0.1, prop::collection::vec(any::<u8>(), 0..200)),
        prop::collection::vec(part(), 0..4),
        prop::option::weighted(0.3, prop::collection::vec(mutation, 1..3)),
        chunking(),
    )
        .prop_map(
            |(boundary, header, preamble, parts, mutations, chunking)| Form {
                boundary,
                header,
                preamble: preamble.unwrap_or_default(),
                parts,
                mutations: mutations.unwrap_or_default(),
                chunking,
            },
        )
}

/// A header value multer will take as one well-formed `filename="…"`.
fn plain_filename(s: &str) -> bool {
    !s.chars().any(|c| c.is_control() || matches!(c, '"' | '\\'))
}

impl Form {
    pub fn content_type(&self) -> String {
        let b = &self.boundary;
        match self.header {
            HeaderStyle::Plain => format!("multipart/form-data; boundary={b}"),
            HeaderStyle::Quoted => format!("multipart/form-data; boundary=\"{b}\""),
            HeaderStyle::Upper => format!("MULTIPART/FORM-DATA; BOUNDARY={b}"),
            HeaderStyle::NoBoundary => "multipart/form-data".into(),
            HeaderStyle::EmptyBoundary => "multipart/form-data; boundary=".into(),
            HeaderStyle::OtherBoundary => format!("multipart/form-data; boundary={b}x"),
        }
    }

    fn disposition(p: &Part) -> Option<String> {
        if let Some(raw) = &p.raw_disposition {
            return Some(raw.clone());
        }
        let field = p.field.as_ref()?;
        Some(match &p.filename {
            Some(f) => format!("form-data; name=\"{field}\"; filename=\"{f}\""),
            None => format!("form-data; name=\"{field}\""),
        })
    }

    /// The body, and what the server must make of it.
    pub fn render(&self) -> (Vec<u8>, Expected) {
        let b = self.boundary.as_bytes();
        let mut out = self.preamble.clone();
        let mut well_formed = self.mutations.is_empty()
            && matches!(self.header, HeaderStyle::Plain | HeaderStyle::Quoted | HeaderStyle::Upper)
            && !self.preamble.windows(b.len() + 2).any(|w| w[..2] == *b"--" && &w[2..] == b)
            && self.boundary.len() <= 70
            // Unquoted, only a token is a boundary.
            && (self.header == HeaderStyle::Quoted
                || self.boundary.chars().all(|c| c.is_ascii_alphanumeric()));
        let mut file = None;
        let mut headers_end = None;
        for p in &self.parts {
            out.extend_from_slice(b"--");
            out.extend_from_slice(b);
            out.extend_from_slice(b"\r\n");
            if let Some(d) = Self::disposition(p) {
                out.extend_from_slice(b"Content-Disposition: ");
                out.extend_from_slice(d.as_bytes());
                out.extend_from_slice(b"\r\n");
            }
            if let Some(ct) = &p.content_type {
                out.extend_from_slice(format!("Content-Type: {ct}\r\n").as_bytes());
            }
            if let Some(n) = p.big_header {
                out.extend_from_slice(b"X-Padding: ");
                out.extend(std::iter::repeat_n(b'p', n));
                out.extend_from_slice(b"\r\n");
            }
            headers_end.get_or_insert(out.len());
            out.extend_from_slice(b"\r\n");
            let body = content(p.kind, p.len, p.seed);
            if body.windows(b.len()).any(|w| w == b) {
                well_formed = false;
            }
            out.extend_from_slice(&body);
            out.extend_from_slice(b"\r\n");
            let simple = p.raw_disposition.is_none()
                && p.field.as_deref().is_some_and(plain_filename)
                && p.filename.as_deref().is_none_or(plain_filename)
                && p.big_header.is_none_or(|n| n < 4000);
            if !simple {
                // The server may read this part any which way: no expectation past here.
                if file.is_none() {
                    well_formed = false;
                }
            } else if file.is_none() && p.field.as_deref() == Some("file") {
                file = Some((body, p.filename.clone().unwrap_or_default()));
            }
        }
        out.extend_from_slice(b"--");
        out.extend_from_slice(b);
        out.extend_from_slice(b"--\r\n");
        for m in &self.mutations {
            let at = |f: u16, len: usize| (len * usize::from(f)) >> 16;
            match *m {
                Mutation::Truncate(f) => out.truncate(at(f, out.len())),
                Mutation::NoCloseDelimiter => {
                    let cut = out.len().saturating_sub(b.len() + 6);
                    out.truncate(cut);
                }
                Mutation::StrayBoundary(f) => {
                    let pos = at(f, out.len());
                    let line = [b"\r\n--".as_slice(), b, b"\r\n"].concat();
                    out.splice(pos..pos, line);
                }
                Mutation::Flip(f, v) => {
                    let pos = at(f, out.len());
                    if let Some(x) = out.get_mut(pos) {
                        *x = v;
                    }
                }
                Mutation::HeadersNeverEnd => {
                    if let Some(end) = headers_end.filter(|e| *e + 2 <= out.len()) {
                        out.drain(end..end + 2);
                    }
                }
            }
        }
        let expected = match file {
            _ if !well_formed => Expected::Unknown,
            Some((data, name)) => Expected::File(data, name),
            None => Expected::NoFileField,
        };
        (out, expected)
    }
}

async fn multipart_one(h: &Http, target: Target, f: &Form, tally: &Tally) -> Result<(), String> {
    let policy = h.policy(target).await;
    let (body, expected) = f.render();
    let (items, delivered) = split(&body, &f.chunking, policy.max_bytes);
    let req = Request::post(format!("/api/v1/attachments?{}", h.query(target)))
        .header("authorization", format!("Bearer {}", h.token))
        .header("content-type", f.content_type())
        .body(Body::from_stream(futures_util::stream::iter(items)))
        .unwrap();
    let before = snapshot(h.store(), all_but_counters()).await;
    let r = call(&h.app, req, peer()).await;
    tally.add(format!(
        "{} {}",
        match (&expected, delivered) {
            (Expected::File(..), None) => "well-formed",
            (Expected::NoFileField, None) => "no-file-field",
            _ => "broken",
        },
        r.status
    ));
    match (&expected, delivered) {
        // Well-formed and delivered whole: the first `file` part is the upload.
        (Expected::NoFileField, None) => check_reply(h, &r, &before, Err(422), None, None).await,
        (Expected::File(data, name), None) => {
            let expect = oracle(data, None, &policy, name);
            check_reply(h, &r, &before, expect, Some(data), Some(name)).await
        }
        // Anything else: not a 5xx, the error shape, nothing stored on refusal, and a stored
        // file is consistent (its own hash and size; a safe name).
        _ => {
            if r.status == 201 {
                let a: Attachment = serde_json::from_slice(&r.body).map_err(|e| e.to_string())?;
                let stored = h.download(a.id.get()).await;
                let s = Sniffed {
                    mime: a.content_type.clone(),
                    ext: "",
                };
                check_stored(h.store(), &a, &stored, None, &s).await?;
                Ok(())
            } else {
                check_reply(h, &r, &before, Err(r.status), None, None).await
            }
        }
    }
}

/// `POST /api/v1/attachments` with multipart bodies: well-formed forms with hostile names,
/// headers and part orders give the oracle's outcome for their first `file` part; broken
/// framing (no/duplicate/stray boundaries, truncation, flipped bytes, headers that never end,
/// a bad Content-Type) gives a 4xx in the JSON shape and stores nothing — never a 5xx.
#[test]
fn multipart_upload_survives_hostile_framing() {
    let rt = super::runtime();
    let h = rt.block_on(Http::start());
    let mut runner = runner("tests/proptest-regressions/upload_multipart.txt", 128);
    let tally = Tally::default();
    let result = runner.run(&(target(), form()), |(target, f)| {
        rt.block_on(multipart_one(&h, target, &f, &tally))
            .map_err(TestCaseError::fail)
    });
    tally.print("upload_multipart");
    rt.block_on(h.t.stop());
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// Part headers that never end must not be buffered without bound: the server gives up with
/// a 4xx long before it has read 64 MB of them.
#[test]
fn endless_multipart_headers_are_refused_early() {
    let rt = super::runtime();
    let h = rt.block_on(Http::start());
    rt.block_on(async {
        for preamble_only in [false, true] {
            let pulled = Arc::new(AtomicU64::new(0));
            let p = pulled.clone();
            let head: &[u8] = if preamble_only {
                b""
            } else {
                b"--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\nX-Pad: "
            };
            let head = Bytes::from_static(head);
            let total = 64u64 << 20;
            let stream = futures_util::stream::iter(0..(total / 65536)).map(move |i| {
                let chunk = if i == 0 && !head.is_empty() {
                    head.clone()
                } else {
                    Bytes::from(vec![b'a'; 65536])
                };
                p.fetch_add(chunk.len() as u64, Ordering::SeqCst);
                Ok::<_, io::Error>(chunk)
            });
            let req = Request::post("/api/v1/attachments?scope=internal")
                .header("authorization", format!("Bearer {}", h.token))
                .header("content-type", "multipart/form-data; boundary=B")
                .body(Body::from_stream(stream))
                .unwrap();
            let before = snapshot(h.store(), all_but_counters()).await;
            let r = call(&h.app, req, peer()).await;
            assert!(
                (400..500).contains(&r.status),
                "{}: {}",
                r.status,
                String::from_utf8_lossy(&r.body)
            );
            r.check_error_shape().unwrap();
            let read = pulled.load(Ordering::SeqCst);
            assert!(
                read < 16 << 20,
                "read {read} bytes of endless headers before refusing"
            );
            let after = snapshot(h.store(), all_but_counters()).await;
            assert!(changed(&before, &after).is_empty());
        }
    });
    rt.block_on(h.t.stop());
}

// ---- regressions found on the way ---------------------------------------------------------------

/// With every type allowed (inbound media keeps what customers send), content whose start is
/// not recognised used to be sniffed again on later buffers — bytes from the middle of the
/// file: a binary file with a text tail was stored as `text/plain` when it arrived in one piece
/// and refused when it arrived in 64 KiB pieces. The type is decided on the start only.
#[test]
fn unrecognised_start_is_refused_whatever_the_tail() {
    let rt = super::runtime();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(
        &dir.path().join("r.redb"),
        16,
        64,
        Arc::new(TestClock::new()),
    )
    .unwrap();
    let mut data = content(Kind::Noise, FLUSH, 7);
    assert!(policy::sniff(&data[..CHUNK], false, "x").is_none());
    data.extend_from_slice(b"a text tail, valid UTF-8");
    let every_type = Policy {
        max_bytes: 100 << 20,
        allowed: vec!["*".into()],
        whatsapp_caps: false,
        mms: false,
    };
    for piece in [data.len(), 65536, 1] {
        let items: Vec<Result<Bytes, io::Error>> = data
            .chunks(piece)
            .map(|c| Ok(Bytes::copy_from_slice(c)))
            .collect();
        let before = rt.block_on(snapshot(&store, ATTACHMENT_TABLES.to_vec()));
        let got = rt.block_on(save(&store, "x.bin", &every_type, items));
        let e = got.expect_err("unrecognised content must be refused");
        assert_eq!(e.status(), 415, "{piece}-byte pieces: {e}");
        let after = rt.block_on(snapshot(&store, ATTACHMENT_TABLES.to_vec()));
        assert!(changed(&before, &after).is_empty());
    }
}

/// `attachments::discard` (a visitor's image whose message was refused) leaves no trace.
#[test]
fn a_discarded_file_leaves_nothing() {
    let rt = super::runtime();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(
        &dir.path().join("d.redb"),
        16,
        64,
        Arc::new(TestClock::new()),
    )
    .unwrap();
    rt.block_on(async {
        let before = snapshot(&store, ATTACHMENT_TABLES.to_vec()).await;
        let mut big = real_png(5);
        big.extend(std::iter::repeat_n(0u8, 3 * CHUNK));
        for data in [real_png(3), big] {
            let a = save(
                &store,
                "p.png",
                &Policy::internal(),
                vec![Ok(Bytes::from(data))],
            )
            .await
            .unwrap();
            assert!(a.thumbnail || a.size > CHUNK as u64);
            attachments::discard(&store, a.id).await.unwrap();
        }
        let after = snapshot(&store, ATTACHMENT_TABLES.to_vec()).await;
        assert!(
            changed(&before, &after).is_empty(),
            "{:?}",
            changed(&before, &after)
        );
    });
}
