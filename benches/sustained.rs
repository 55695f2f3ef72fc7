//! Sustained mixed load against the RELEASE binary: does memory stay flat, does anything fail?
//!
//! ```text
//! cargo build --release && cargo bench --profile dev --bench sustained    # 10 minutes
//! BENCH_SMOKE=1 cargo bench --profile dev --bench sustained               # 10 seconds (CI)
//! ```
//! Knobs: `BENCH_BIN` (server binary), `BENCH_SECS` (600), `BENCH_SAMPLE_SECS` (RSS sample
//! interval, 10), and the offered rates per second: `SUSTAINED_WEBHOOKS` (40),
//! `SUSTAINED_REPLIES` (8), `SUSTAINED_PAGES` (10), `SUSTAINED_UPLOADS` (1),
//! `SUSTAINED_DOWNLOADS` (3), `SUSTAINED_STREAMS` (open event streams, 10).
//!
//! The server runs on a fresh data directory with its default jobs. One WhatsApp channel points
//! at a fake Graph API in this process (127.0.0.1) that accepts sends and media uploads and
//! hands out `wamid`s. Load, each kind paced on its own (a slow kind does not slow the others):
//! - `webhook`: signed customer text messages from 500 customers;
//! - `receipt`: signed `delivered` status webhooks for wamids the fake provider handed out;
//! - `reply`: agent replies through `POST /api/v1/sessions/{id}/messages` (bearer token) to
//!   open sessions, every fifth with a file uploaded before; the outbox then delivers them to
//!   the fake provider (counted as `provider sends` / `provider media`);
//! - `page`: inbox page, session page (login cookie), session list, message page and session
//!   detail (API), in turn;
//! - `upload`: 64–512 KiB PDF-like files (`POST /api/v1/attachments`);
//! - `download`: one of the recent uploads, in full;
//! - plus `SUSTAINED_STREAMS` event streams open throughout.
//!
//! Every `BENCH_SAMPLE_SECS` it prints the server's VmRSS, its peak, the database size and the
//! counts so far; at the end, throughput and latency per kind, every error, and the RSS of the
//! first minute against the last minute.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::VecDeque;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use switchboard::ids::ChannelId;

use axum::extract::{Path, State};
use common::{Lat, Server, env_usize, mib, ms};
use futures_util::StreamExt;
use serde_json::{Value, json};
use switchboard::domain::auth;
use switchboard::domain::users::Role;

const PHONE_NUMBER_ID: &str = "100200300";
const CUSTOMERS: usize = 500;

/// What one kind of request did.
#[derive(Default)]
struct Kind {
    lat: Mutex<Lat>,
    ok: AtomicU64,
    errors: AtomicU64,
    /// Offered ticks skipped because the kind's in-flight limit was reached.
    behind: AtomicU64,
    first_errors: Mutex<Vec<String>>,
}

impl Kind {
    /// `Ok(false)`: there was nothing to do (not counted).
    fn record(&self, d: Duration, r: Result<bool, String>) {
        match r {
            Ok(false) => {}
            Ok(true) => {
                self.ok.fetch_add(1, Ordering::Relaxed);
                self.lat.lock().unwrap().push(d);
            }
            Err(e) => {
                self.errors.fetch_add(1, Ordering::Relaxed);
                let mut f = self.first_errors.lock().unwrap();
                if f.len() < 5 {
                    f.push(e);
                }
            }
        }
    }
}

/// The fake WhatsApp Graph API.
#[derive(Default)]
struct Fake {
    sends: AtomicU64,
    media: AtomicU64,
    other: AtomicU64,
    counter: AtomicU64,
    /// (wamid, recipient) of accepted sends, for receipts.
    issued: Mutex<VecDeque<(String, String)>>,
}

async fn fake_send(
    State(f): State<Arc<Fake>>,
    Path(_pnid): Path<String>,
    body: axum::body::Bytes,
) -> axum::Json<Value> {
    let v: Value = serde_json::from_slice(&body).unwrap_or_default();
    if v["status"] == "read" {
        f.other.fetch_add(1, Ordering::Relaxed);
        return axum::Json(json!({"success": true}));
    }
    f.sends.fetch_add(1, Ordering::Relaxed);
    let n = f.counter.fetch_add(1, Ordering::Relaxed);
    let id = format!("wamid.FAKE{n:010}");
    let to = v["to"].as_str().unwrap_or_default().to_string();
    {
        let mut q = f.issued.lock().unwrap();
        if q.len() > 10_000 {
            q.pop_front();
        }
        q.push_back((id.clone(), to.clone()));
    }
    axum::Json(json!({"messaging_product": "whatsapp",
        "contacts": [{"input": to, "wa_id": to}], "messages": [{"id": id}]}))
}

async fn fake_media(
    State(f): State<Arc<Fake>>,
    Path(_pnid): Path<String>,
    _body: axum::body::Bytes,
) -> axum::Json<Value> {
    let n = f.media.fetch_add(1, Ordering::Relaxed);
    axum::Json(json!({"id": format!("{}", 900_000_000 + n)}))
}

async fn fake_other(State(f): State<Arc<Fake>>) -> (axum::http::StatusCode, &'static str) {
    f.other.fetch_add(1, Ordering::Relaxed);
    (axum::http::StatusCode::NOT_FOUND, "{}")
}

async fn start_fake(f: Arc<Fake>) -> String {
    let app = axum::Router::new()
        .route("/v21.0/{pnid}/messages", axum::routing::post(fake_send))
        .route("/v21.0/{pnid}/media", axum::routing::post(fake_media))
        .fallback(fake_other)
        .layer(axum::extract::DefaultBodyLimit::max(64 << 20))
        .with_state(f);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}/v21.0")
}

/// Runs `f(i)` about `rate` times a second until `until`, at most `max_in_flight` at once.
fn paced<F, Fut>(
    rate: f64,
    max_in_flight: usize,
    until: Instant,
    kind: Arc<Kind>,
    f: F,
) -> tokio::task::JoinHandle<()>
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<bool, String>> + Send + 'static,
{
    tokio::spawn(async move {
        if rate <= 0.0 {
            return;
        }
        let f = Arc::new(f);
        let sem = Arc::new(tokio::sync::Semaphore::new(max_in_flight));
        let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut i = 0u64;
        let mut tasks = tokio::task::JoinSet::new();
        while Instant::now() < until {
            tick.tick().await;
            let Ok(permit) = sem.clone().try_acquire_owned() else {
                kind.behind.fetch_add(1, Ordering::Relaxed);
                continue;
            };
            let (f, kind) = (f.clone(), kind.clone());
            tasks.spawn(async move {
                let t = Instant::now();
                let r = f(i).await;
                kind.record(t.elapsed(), r);
                drop(permit);
            });
            i += 1;
            while tasks.try_join_next().is_some() {}
        }
        while tasks.join_next().await.is_some() {}
    })
}

async fn check(r: Result<reqwest::Response, reqwest::Error>, what: &str) -> Result<Value, String> {
    match r {
        Ok(r) if r.status().is_success() => {
            let b = r.bytes().await.map_err(|e| format!("{what}: body: {e}"))?;
            Ok(serde_json::from_slice(&b).unwrap_or(Value::Null))
        }
        Ok(r) => {
            let s = r.status();
            let t = r.text().await.unwrap_or_default();
            Err(format!("{what}: HTTP {s}: {}", &t[..t.len().min(200)]))
        }
        Err(e) => Err(format!("{what}: {e}")),
    }
}

fn status_webhook(wamid: &str, to: &str) -> (String, String) {
    let ts = switchboard::clock::Clock::now_ms(&switchboard::clock::SystemClock) / 1000;
    let body = json!({"object": "whatsapp_business_account", "entry": [{"id": "WABA", "changes": [{
        "field": "messages", "value": {"messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550001111", "phone_number_id": PHONE_NUMBER_ID},
        "statuses": [{"id": wamid, "status": "delivered", "timestamp": ts.to_string(),
            "recipient_id": to}]}}]}]})
    .to_string();
    let sig =
        switchboard::channels::signature::meta_signature_256(common::APP_SECRET, body.as_bytes());
    (body, sig)
}

fn pdf_like(i: u64) -> Vec<u8> {
    let len = 64 * 1024 + (i.wrapping_mul(2_654_435_761) % (448 * 1024));
    let mut v = Vec::with_capacity(len as usize);
    v.extend_from_slice(b"%PDF-1.4\n%bench\n");
    let mut x = i ^ 0x9E37_79B9_7F4A_7C15;
    while v.len() < len as usize {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        v.extend_from_slice(&x.to_le_bytes());
    }
    v.truncate(len as usize);
    v
}

struct Shared {
    base: String,
    client: reqwest::Client,
    cookie: String,
    tokens: Vec<String>,
    channel: ChannelId,
    open: Mutex<Vec<u64>>,
    uploads: Mutex<VecDeque<u64>>,
    for_replies: Mutex<VecDeque<u64>>,
    fake: Arc<Fake>,
    replies_with_file: AtomicU64,
}

impl Shared {
    fn token(&self, i: u64) -> &str {
        &self.tokens[i as usize % self.tokens.len()]
    }
    fn pick_session(&self, i: u64) -> Option<u64> {
        let o = self.open.lock().unwrap();
        (!o.is_empty()).then(|| o[(i.wrapping_mul(7919) as usize) % o.len()])
    }
}

async fn webhook(s: Arc<Shared>, i: u64) -> Result<bool, String> {
    let c = (i as usize * 7) % CUSTOMERS;
    let (body, sig) = common::whatsapp_webhook(
        PHONE_NUMBER_ID,
        &format!("4917{c:08}"),
        &format!("Customer {c}"),
        &format!("wamid.SUST{i:012}"),
        &format!("Message {i}: where is my order, it was due on monday"),
    );
    let r = s
        .client
        .post(format!("{}/hooks/whatsapp/{}", s.base, s.channel))
        .header("content-type", "application/json")
        .header("x-hub-signature-256", sig)
        .body(body)
        .send()
        .await;
    check(r, "webhook").await.map(|_| true)
}

async fn receipt(s: Arc<Shared>, _i: u64) -> Result<bool, String> {
    let Some((wamid, to)) = s.fake.issued.lock().unwrap().pop_front() else {
        return Ok(false);
    };
    let (body, sig) = status_webhook(&wamid, &to);
    let r = s
        .client
        .post(format!("{}/hooks/whatsapp/{}", s.base, s.channel))
        .header("content-type", "application/json")
        .header("x-hub-signature-256", sig)
        .body(body)
        .send()
        .await;
    check(r, "receipt").await.map(|_| true)
}

async fn reply(s: Arc<Shared>, i: u64) -> Result<bool, String> {
    let Some(sid) = s.pick_session(i) else {
        return Ok(false);
    };
    let files: Vec<u64> = if i.is_multiple_of(5) {
        s.for_replies
            .lock()
            .unwrap()
            .pop_front()
            .into_iter()
            .collect()
    } else {
        vec![]
    };
    if !files.is_empty() {
        s.replies_with_file.fetch_add(1, Ordering::Relaxed);
    }
    let r = s
        .client
        .post(format!("{}/api/v1/sessions/{sid}/messages", s.base))
        .bearer_auth(s.token(i))
        .json(&json!({"text": format!("Reply {i}: your parcel is on its way"), "attachment_ids": files}))
        .send()
        .await;
    check(r, "reply").await.map(|_| true)
}

async fn page(s: Arc<Shared>, i: u64) -> Result<bool, String> {
    let sid = s.pick_session(i).unwrap_or(1);
    let (url, cookie) = match i % 5 {
        0 => (format!("{}/chat/external", s.base), true),
        1 => (format!("{}/chat/external/{sid}", s.base), true),
        2 => (format!("{}/api/v1/sessions?limit=50", s.base), false),
        3 => (
            format!("{}/api/v1/sessions/{sid}/messages?limit=50", s.base),
            false,
        ),
        _ => (format!("{}/api/v1/sessions/{sid}", s.base), false),
    };
    let req = s.client.get(&url);
    let req = if cookie {
        req.header("cookie", &s.cookie)
    } else {
        req.bearer_auth(s.token(i))
    };
    let r = req.send().await;
    match r {
        Ok(r) if r.status().is_success() => r
            .bytes()
            .await
            .map(|_| true)
            .map_err(|e| format!("page {url}: {e}")),
        Ok(r) => Err(format!("page {url}: HTTP {}", r.status())),
        Err(e) => Err(format!("page {url}: {e}")),
    }
}

async fn upload(s: Arc<Shared>, i: u64) -> Result<bool, String> {
    let r = s
        .client
        .post(format!(
            "{}/api/v1/attachments?channel_id={}&name=report-{i}.pdf",
            s.base, s.channel
        ))
        .bearer_auth(s.token(i))
        .header("content-type", "application/octet-stream")
        .body(pdf_like(i))
        .send()
        .await;
    let v = check(r, "upload").await?;
    let id = v["id"].as_u64().ok_or("upload: no id")?;
    let mut u = s.uploads.lock().unwrap();
    if u.len() >= 50 {
        u.pop_front();
    }
    u.push_back(id);
    s.for_replies.lock().unwrap().push_back(id);
    Ok(true)
}

async fn download(s: Arc<Shared>, i: u64) -> Result<bool, String> {
    let id = {
        let u = s.uploads.lock().unwrap();
        if u.is_empty() {
            return Ok(false);
        }
        u[(i as usize) % u.len()]
    };
    let r = s
        .client
        .get(format!("{}/api/v1/attachments/{id}", s.base))
        .bearer_auth(s.token(i))
        .send()
        .await;
    match r {
        Ok(r) if r.status().is_success() => {
            let mut body = r.bytes_stream();
            let mut n = 0usize;
            while let Some(c) = body.next().await {
                n += c.map_err(|e| format!("download: {e}"))?.len();
            }
            if n < 64 * 1024 {
                return Err(format!("download: only {n} bytes"));
            }
            Ok(true)
        }
        Ok(r) => Err(format!("download {id}: HTTP {}", r.status())),
        Err(e) => Err(format!("download {id}: {e}")),
    }
}

/// Keeps `Shared::open` filled with the open sessions (what an agent's list shows).
async fn refresh_open(s: Arc<Shared>, until: Instant, kind: Arc<Kind>) {
    while Instant::now() < until {
        let t = Instant::now();
        let r = s
            .client
            .get(format!("{}/api/v1/sessions?scope=open&limit=200", s.base))
            .bearer_auth(s.token(0))
            .send()
            .await;
        let r = check(r, "open sessions").await.map(|v| {
            let ids: Vec<u64> = v["sessions"]
                .as_array()
                .map(|a| a.iter().filter_map(|x| x["id"].as_u64()).collect())
                .unwrap_or_default();
            *s.open.lock().unwrap() = ids;
            true
        });
        kind.record(t.elapsed(), r);
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}

/// Outbound messages by status, read back through the API (every session, every page).
async fn outbound_statuses(s: &Shared) -> Result<std::collections::BTreeMap<String, u64>, String> {
    let mut out = std::collections::BTreeMap::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut url = format!("{}/api/v1/sessions?limit=200", s.base);
        if let Some(c) = &cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let r = s.client.get(&url).bearer_auth(s.token(0)).send().await;
        let page = check(r, "census list").await?;
        for sess in page["sessions"].as_array().cloned().unwrap_or_default() {
            let sid = sess["id"].as_u64().unwrap_or(0);
            let mut before: Option<u64> = None;
            loop {
                let mut url = format!("{}/api/v1/sessions/{sid}/messages?limit=200", s.base);
                if let Some(b) = before {
                    url.push_str(&format!("&before={b}"));
                }
                let r = s.client.get(&url).bearer_auth(s.token(0)).send().await;
                let msgs = check(r, "census messages").await?;
                let msgs = msgs.as_array().cloned().unwrap_or_default();
                for m in &msgs {
                    if m["direction"] == "out" {
                        let st = m["status"].as_str().unwrap_or("?").to_string();
                        *out.entry(st).or_insert(0) += 1;
                    }
                }
                if msgs.len() < 200 {
                    break;
                }
                before = msgs.first().and_then(|m| m["id"].as_u64());
            }
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    Ok(out)
}

fn main() {
    switchboard::tls::install_crypto_provider();
    let smoke = common::smoke();
    let secs = env_usize("BENCH_SECS", if smoke { 10 } else { 600 });
    let sample = env_usize("BENCH_SAMPLE_SECS", if smoke { 2 } else { 10 }).max(1);
    let rate = |name: &str, default: usize| env_usize(name, default) as f64;
    let (r_hook, r_reply, r_page, r_up, r_down) = (
        rate("SUSTAINED_WEBHOOKS", 40),
        rate("SUSTAINED_REPLIES", 8),
        rate("SUSTAINED_PAGES", 10),
        rate("SUSTAINED_UPLOADS", 1),
        rate("SUSTAINED_DOWNLOADS", 3),
    );
    let n_streams = env_usize("SUSTAINED_STREAMS", 10);
    let bin = common::require_binary();
    println!(
        "sustained bench: {secs} s; offered per second: {r_hook} webhooks, {r_reply} replies (and their receipts), {r_page} page views, {r_up} uploads, {r_down} downloads; {n_streams} event streams; load {}",
        common::loadavg()
    );

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let fake = Arc::new(Fake::default());
    let api_base = rt.block_on(start_fake(fake.clone()));

    let dir = tempfile::tempdir().unwrap();
    let (channel, tokens, cookie) = {
        let store = common::open_store(dir.path(), 8);
        let (channel, tokens, admin) = store
            .write_blocking(move |ctx| {
                let admin = common::put_user_in(ctx, "admin", Role::Admin, "x")?;
                let mut ids = Vec::new();
                let mut tokens = Vec::new();
                for i in 0..4 {
                    let u = common::put_user_in(ctx, &format!("agent{i}"), Role::Agent, "x")?;
                    tokens.push(common::api_token_in(ctx, u.id)?);
                    ids.push(u.id);
                }
                let ch = common::whatsapp_channel_in(
                    ctx,
                    admin.id,
                    "Bench WA",
                    PHONE_NUMBER_ID,
                    &api_base,
                    ids,
                    false,
                )?;
                Ok((ch.id, tokens, admin.id))
            })
            .unwrap();
        let (token, _) = rt.block_on(auth::login(&store, admin)).unwrap();
        drop(store);
        (
            channel,
            tokens,
            format!("{}={token}", switchboard::http::auth::COOKIE),
        )
    };

    let mut srv = Server::spawn(&bin, dir.path(), &[]);
    srv.wait_ready(Duration::from_secs(30));
    let pid = srv.pid;
    let db_path = dir.path().join("switchboard.redb");
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .pool_max_idle_per_host(64)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let s = Arc::new(Shared {
        base: srv.base.clone(),
        client,
        cookie,
        tokens,
        channel,
        open: Mutex::new(Vec::new()),
        uploads: Mutex::new(VecDeque::new()),
        for_replies: Mutex::new(VecDeque::new()),
        fake: fake.clone(),
        replies_with_file: AtomicU64::new(0),
    });
    let names = [
        "webhook", "receipt", "reply", "page", "upload", "download", "list",
    ];
    let kinds: Vec<Arc<Kind>> = names.iter().map(|_| Arc::new(Kind::default())).collect();
    let stream_events = Arc::new(AtomicUsize::new(0));
    let streams_ended = Arc::new(AtomicUsize::new(0));
    let stop_streams = Arc::new(AtomicBool::new(false));

    let started = Instant::now();
    let until = started + Duration::from_secs(secs as u64);
    let mut samples: Vec<(f64, u64)> = Vec::new();
    let census = rt.block_on(async {
        // Event streams, open for the whole run.
        let mut stream_tasks = Vec::new();
        for k in 0..n_streams {
            let (s, ev, ended, stop) = (
                s.clone(),
                stream_events.clone(),
                streams_ended.clone(),
                stop_streams.clone(),
            );
            stream_tasks.push(tokio::spawn(async move {
                let r = s
                    .client
                    .get(format!("{}/api/v1/events", s.base))
                    .bearer_auth(s.token(k as u64))
                    .timeout(Duration::from_secs(24 * 3600))
                    .send()
                    .await;
                if let Ok(r) = r
                    && r.status().is_success()
                {
                    let mut body = r.bytes_stream();
                    while let Some(Ok(chunk)) = body.next().await {
                        ev.fetch_add(
                            chunk.windows(4).filter(|w| w == b"id: ").count(),
                            Ordering::Relaxed,
                        );
                    }
                }
                if !stop.load(Ordering::SeqCst) {
                    ended.fetch_add(1, Ordering::SeqCst);
                }
            }));
        }
        let mut jobs = Vec::new();
        jobs.push(tokio::spawn(refresh_open(
            s.clone(),
            until,
            kinds[6].clone(),
        )));
        let s2 = s.clone();
        jobs.push(paced(r_hook, 64, until, kinds[0].clone(), move |i| {
            webhook(s2.clone(), i)
        }));
        let s2 = s.clone();
        jobs.push(paced(r_reply, 16, until, kinds[1].clone(), move |i| {
            receipt(s2.clone(), i)
        }));
        let s2 = s.clone();
        jobs.push(paced(r_reply, 16, until, kinds[2].clone(), move |i| {
            reply(s2.clone(), i)
        }));
        let s2 = s.clone();
        jobs.push(paced(r_page, 16, until, kinds[3].clone(), move |i| {
            page(s2.clone(), i)
        }));
        let s2 = s.clone();
        jobs.push(paced(r_up, 4, until, kinds[4].clone(), move |i| {
            upload(s2.clone(), i)
        }));
        let s2 = s.clone();
        jobs.push(paced(r_down, 8, until, kinds[5].clone(), move |i| {
            download(s2.clone(), i)
        }));

        println!(
            "{:>6} {:>9} {:>9} {:>8}  ok so far (webhook receipt reply page upload download) / errors",
            "t s", "RSS MiB", "peak MiB", "db MiB"
        );
        let mut next = started;
        loop {
            next += Duration::from_secs(sample as u64);
            tokio::time::sleep_until(next.into()).await;
            let t = started.elapsed().as_secs_f64();
            let rss = common::status_kb(pid, "VmRSS:");
            let hwm = common::status_kb(pid, "VmHWM:");
            let db = std::fs::metadata(&db_path).map(|m| m.len()).unwrap_or(0);
            samples.push((t, rss));
            let oks: Vec<String> = kinds[..6]
                .iter()
                .map(|k| k.ok.load(Ordering::Relaxed).to_string())
                .collect();
            let errs: u64 = kinds.iter().map(|k| k.errors.load(Ordering::Relaxed)).sum();
            println!(
                "{t:>6.0} {:>9.1} {:>9.1} {:>8.0}  {} / {errs}",
                mib(rss),
                mib(hwm),
                db as f64 / (1 << 20) as f64,
                oks.join(" ")
            );
            if Instant::now() >= until {
                break;
            }
        }
        for j in jobs {
            let _ = j.await;
        }
        // Let the outbox deliver what was queued last (and the retry job pick up stragglers).
        tokio::time::sleep(Duration::from_secs(8)).await;
        stop_streams.store(true, Ordering::SeqCst);
        for t in stream_tasks {
            t.abort();
        }
        outbound_statuses(&s).await
    });
    let elapsed = secs as f64;
    let rss_end = srv.rss_kb();
    let hwm = srv.hwm_kb();
    let load = common::loadavg();
    srv.stop();

    println!();
    println!(
        "{:<10} {:>9} {:>7} {:>8} {:>9} {:>9} {:>9}",
        "kind", "ok", "errors", "per s", "p50 ms", "p99 ms", "behind"
    );
    let mut errors = 0;
    for (name, k) in names.iter().zip(&kinds) {
        let lat = k.lat.lock().unwrap().clone();
        let ok = k.ok.load(Ordering::Relaxed);
        let e = k.errors.load(Ordering::Relaxed);
        errors += e;
        println!(
            "{name:<10} {ok:>9} {e:>7} {:>8.1} {:>9.2} {:>9.2} {:>9}",
            ok as f64 / elapsed,
            ms(lat.p(0.5)),
            ms(lat.p(0.99)),
            k.behind.load(Ordering::Relaxed)
        );
        for msg in k.first_errors.lock().unwrap().iter() {
            println!("    error: {msg}");
        }
    }
    let census = census.unwrap_or_else(|e| {
        eprintln!("could not read the outbound messages back: {e}");
        Default::default()
    });
    let stored: u64 = census.values().sum();
    let undelivered: u64 = census
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "sent" | "delivered" | "read"))
        .map(|(_, v)| v)
        .sum();
    println!(
        "outbound messages read back: {stored} ({census:?}); provider: {} sends, {} media uploads ({} replies carried a file), {} other calls",
        fake.sends.load(Ordering::Relaxed),
        fake.media.load(Ordering::Relaxed),
        s.replies_with_file.load(Ordering::Relaxed),
        fake.other.load(Ordering::Relaxed)
    );
    let replies = kinds[2].ok.load(Ordering::Relaxed);
    let undelivered = undelivered + replies.saturating_sub(stored);
    let ended = streams_ended.load(Ordering::SeqCst);
    println!(
        "event streams: {n_streams} open, {} events received in total, {ended} ended early",
        stream_events.load(Ordering::Relaxed)
    );
    let window = if secs >= 180 { 60.0 } else { secs as f64 / 3.0 };
    let avg = |f: &dyn Fn(f64) -> bool| {
        let v: Vec<u64> = samples.iter().filter(|(t, _)| f(*t)).map(|s| s.1).collect();
        v.iter().sum::<u64>() as f64 / v.len().max(1) as f64
    };
    let first = avg(&|t| t <= window + 0.5);
    let last = avg(&|t| t >= elapsed - window - 0.5);
    println!(
        "RSS: first {window:.0} s average {:.1} MiB, last {window:.0} s average {:.1} MiB ({:+.1} MiB); at the end {:.1} MiB, peak {:.1} MiB; load average {load}",
        first / 1024.0,
        last / 1024.0,
        (last - first) / 1024.0,
        mib(rss_end),
        mib(hwm)
    );
    if errors > 0 || undelivered > 0 || ended > 0 {
        eprintln!(
            "FAILED: {errors} request errors, {undelivered} replies not sent 8 s after the load (or missing), {ended} streams ended early"
        );
        std::process::exit(1);
    }
}
