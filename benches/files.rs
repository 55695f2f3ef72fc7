//! Memory, speed and space of attachments, measured on the real server over loopback.
//!
//! `cargo bench --bench files` (release profile). Boots the server in this process on a temp
//! dir with a test clock, then:
//! 1. uploads a 100 MiB file over HTTP (streamed) and downloads it again, printing VmRSS and the
//!    peak (VmHWM, reset before each phase through /proc/self/clear_refs) before, during and
//!    after, and the rates;
//! 2. prints the database file size after the upload, after the cleanup job (clock moved past
//!    the retention) and after a second 100 MiB upload (freed pages reused: the file does not
//!    grow);
//! 3. stores 10,000 small files, expires them all with the cleanup job, and meanwhile measures
//!    the latency of small writes (what a webhook waits for).
//!
//! `BENCH_CACHE_MB` sets `store.cache_size_mb` (default: the config default).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::StreamExt;
use sha2::{Digest, Sha256};
use switchboard::clock::TestClock;
use switchboard::config::Config;
use switchboard::domain::attachments::{self, NewAttachment, Policy, Scope};
use switchboard::domain::users::{self, NewUser, Role};
use switchboard::domain::{auth, passwords::Passwords};
use switchboard::jobs;

const MIB: u64 = 1 << 20;
/// 100 MiB (8 MiB with `BENCH_SMOKE=1`, the CI run that only keeps the tool working).
fn total() -> u64 {
    if smoke() { 8 * MIB } else { 100 * MIB }
}

fn smoke() -> bool {
    std::env::var("BENCH_SMOKE").as_deref() == Ok("1")
}
const BLOCK: usize = 64 * 1024;

fn status_kb(field: &str) -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn rss_mb() -> f64 {
    status_kb("VmRSS:") as f64 / 1024.0
}

fn hwm_mb() -> f64 {
    status_kb("VmHWM:") as f64 / 1024.0
}

/// Reset the peak-RSS counter (Linux ≥ 4.0).
fn reset_hwm() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

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

fn body(total: u64) -> reqwest::Body {
    let n = total.div_ceil(BLOCK as u64);
    reqwest::Body::wrap_stream(futures_util::stream::iter((0..n).map(move |i| {
        let len = (total - i * BLOCK as u64).min(BLOCK as u64) as usize;
        Ok::<_, std::io::Error>(block(i, len))
    })))
}

fn file_mb(path: &std::path::Path) -> f64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0) as f64 / MIB as f64
}

/// Samples VmRSS every 20 ms while `running`; returns the highest seen.
fn sampler(running: Arc<AtomicBool>) -> std::thread::JoinHandle<f64> {
    std::thread::spawn(move || {
        let mut max = 0f64;
        while running.load(Ordering::SeqCst) {
            max = max.max(rss_mb());
            std::thread::sleep(Duration::from_millis(20));
        }
        max
    })
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(run());
}

async fn run() {
    let dir = tempfile::tempdir().unwrap();
    let clock = TestClock::new();
    let mut cfg = Config {
        data_dir: dir.path().to_path_buf(),
        listen: "127.0.0.1:0".into(),
        ..Default::default()
    };
    cfg.jobs.attachment_cleanup = String::new();
    cfg.jobs.session_closure = String::new();
    if let Some(mb) = std::env::var("BENCH_CACHE_MB")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        cfg.store.cache_size_mb = mb;
    }
    println!(
        "store.cache_size_mb = {}; chunk = {} bytes; temp dir {}",
        cfg.store.cache_size_mb,
        attachments::CHUNK,
        dir.path().display()
    );
    let db = cfg.db_path();
    let run = switchboard::server::start(cfg, Arc::new(clock.clone()))
        .await
        .unwrap();
    let store = run.state.store.clone();
    let u = users::create(
        &store,
        &Passwords::default(),
        None,
        NewUser {
            username: "bench".into(),
            password: "correct horse battery staple".into(),
            display_name: String::new(),
            email: String::new(),
            extension: String::new(),
            role: Role::Admin,
            language: None,
        },
        false,
    )
    .await
    .unwrap();
    let (token, _) = auth::create_api_token(&store, u.id, "bench", None, None)
        .await
        .unwrap();
    let http = reqwest::Client::new();
    let base = format!("http://{}", run.addr);

    let upload = |http: reqwest::Client| {
        let (base, token) = (base.clone(), token.clone());
        async move {
            let resp = http
                .post(format!("{base}/api/v1/attachments?scope=internal"))
                .bearer_auth(&token)
                .header("x-filename", "big.zip")
                .body(body(total()))
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 201);
            resp.json::<serde_json::Value>().await.unwrap()
        }
    };

    // Settle, then measure: a cold round (redb's page cache, `store.cache_size_mb`, fills up
    // during it) and a warm round (the cache is full: what a running box sees).
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut att = serde_json::Value::Null;
    for round in ["cold", "warm"] {
        println!("\n== 100 MiB upload / download over loopback ({round}) ==");
        println!(
            "before:          VmRSS {:7.1} MB  VmHWM {:7.1} MB",
            rss_mb(),
            hwm_mb()
        );

        reset_hwm();
        let base_rss = rss_mb();
        let running = Arc::new(AtomicBool::new(true));
        let s = sampler(running.clone());
        let t = Instant::now();
        att = upload(http.clone()).await;
        let up_secs = t.elapsed().as_secs_f64();
        running.store(false, Ordering::SeqCst);
        let up_max = s.join().unwrap();
        println!(
            "upload:          {:.2} s = {:6.1} MB/s; during: max VmRSS {:7.1} MB, VmHWM {:7.1} MB (rise {:+.1} MB)",
            up_secs,
            total() as f64 / MIB as f64 / up_secs,
            up_max,
            hwm_mb(),
            hwm_mb() - base_rss
        );
        println!("after upload:    VmRSS {:7.1} MB", rss_mb());

        reset_hwm();
        let base_rss = rss_mb();
        let running = Arc::new(AtomicBool::new(true));
        let s = sampler(running.clone());
        let t = Instant::now();
        let resp = http
            .get(format!("{base}/api/v1/attachments/{}", att["id"]))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        let mut h = Sha256::new();
        let mut n = 0u64;
        let mut st = resp.bytes_stream();
        while let Some(c) = st.next().await {
            let c = c.unwrap();
            n += c.len() as u64;
            h.update(&c);
        }
        let down_secs = t.elapsed().as_secs_f64();
        running.store(false, Ordering::SeqCst);
        let down_max = s.join().unwrap();
        assert_eq!(n, total());
        assert_eq!(hex::encode(h.finalize()), att["sha256"].as_str().unwrap());
        println!(
            "download:        {:.2} s = {:6.1} MB/s; during: max VmRSS {:7.1} MB, VmHWM {:7.1} MB (rise {:+.1} MB); sha256 equal",
            down_secs,
            total() as f64 / MIB as f64 / down_secs,
            down_max,
            hwm_mb(),
            hwm_mb() - base_rss
        );
        println!("after download:  VmRSS {:7.1} MB", rss_mb());
    }
    let _ = &att;

    println!("\n== space reuse ==");
    println!("db after upload:             {:7.1} MB", file_mb(&db));
    clock.advance_hours(73);
    let ctx = run.state.job_ctx();
    let summary = jobs::run_now(ctx.clone(), "attachment-cleanup")
        .await
        .unwrap();
    println!(
        "db after cleanup:            {:7.1} MB  ({summary})",
        file_mb(&db)
    );
    upload(http.clone()).await;
    println!("db after re-upload:          {:7.1} MB", file_mb(&db));
    let check = store.check().unwrap();
    println!(
        "check: live data {:.1} MB in a {:.1} MB file",
        check.live_bytes as f64 / MIB as f64,
        check.file_bytes as f64 / MIB as f64
    );

    println!("\n== write latency while cleanup expires 10,000 files ==");
    clock.advance_hours(73);
    jobs::run_now(ctx.clone(), "attachment-cleanup")
        .await
        .unwrap();
    let t = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..(if smoke() { 500u64 } else { 10_000u64 }) {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            attachments::save_stream(
                &store,
                NewAttachment {
                    name: format!("f{i}.txt"),
                    scope: Scope::Internal,
                    owner: None,
                    policy: Policy::internal(),
                    retention_ms: 0,
                },
                futures_util::stream::iter([Ok::<_, std::io::Error>(Bytes::from(vec![
                    b'x';
                    2048
                ]))]),
                switchboard::error::Error::internal,
            )
            .await
            .unwrap()
        }));
        if tasks.len() >= 64 {
            for t in tasks.drain(..) {
                t.await.unwrap();
            }
        }
    }
    for t in tasks {
        t.await.unwrap();
    }
    println!("stored 10,000 files in {:.1} s", t.elapsed().as_secs_f64());
    clock.advance_hours(73);
    let done = Arc::new(AtomicBool::new(false));
    let worst = Arc::new(AtomicU64::new(0));
    let probe = {
        let (store, done, worst) = (store.clone(), done.clone(), worst.clone());
        tokio::spawn(async move {
            let mut lat = Vec::new();
            while !done.load(Ordering::SeqCst) {
                let t = Instant::now();
                store.write(|ctx| ctx.next_id("bench-probe")).await.unwrap();
                let us = t.elapsed().as_micros() as u64;
                worst.fetch_max(us, Ordering::SeqCst);
                lat.push(us);
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            lat
        })
    };
    let t = Instant::now();
    let summary = jobs::run_now(ctx, "attachment-cleanup").await.unwrap();
    let secs = t.elapsed().as_secs_f64();
    done.store(true, Ordering::SeqCst);
    let mut lat = probe.await.unwrap();
    lat.sort_unstable();
    let pct = |p: f64| lat[((lat.len() - 1) as f64 * p) as usize] as f64 / 1000.0;
    println!("cleanup: {summary} in {secs:.1} s");
    println!(
        "probe writes during cleanup: n={} p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        lat.len(),
        pct(0.5),
        pct(0.99),
        worst.load(Ordering::SeqCst) as f64 / 1000.0
    );
    run.stop().await;
}
