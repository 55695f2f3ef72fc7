//! Server memory with many open event streams, against the RELEASE binary.
//!
//! ```text
//! cargo build --release && cargo bench --profile dev --bench sse_memory   # 1,000 streams
//! BENCH_SMOKE=1 cargo bench --profile dev --bench sse_memory              # 50 streams (CI)
//! ```
//! Knobs: `BENCH_BIN` (server binary), `BENCH_STREAMS` (1,000), `BENCH_MESSAGES` (customer
//! messages sent while the streams are open, 100).
//!
//! Setup (written into a fresh database before the server opens it): `BENCH_STREAMS` agents,
//! each with an API token, all members of one WhatsApp channel, so every customer message is an
//! event for every stream. Then, reading VmRSS of the server from `/proc/PID/status`:
//! 1. after start (idle), and after a warm-up (a few webhooks, one stream opened and closed), so
//!    one-off allocations (page cache of the database, thread pools) do not count as per-stream;
//! 2. with all streams open (each `GET /api/v1/events` answered 200 with its headers);
//! 3. after `BENCH_MESSAGES` signed webhooks, once every stream has received every
//!    `message.created` event (each message also produces `session.updated`);
//! 4. after all streams are closed again.
//!
//! The target is at most +30 MB for 1,000 streams (the delta between 1 and 3).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::{Server, env_usize, mib};
use futures_util::StreamExt;
use switchboard::domain::users::Role;

const PHONE_NUMBER_ID: &str = "100200300";

fn main() {
    switchboard::tls::install_crypto_provider();
    let smoke = common::smoke();
    let streams = env_usize("BENCH_STREAMS", if smoke { 50 } else { 1000 });
    let messages = env_usize("BENCH_MESSAGES", if smoke { 20 } else { 100 });
    let bin = common::require_binary();
    println!(
        "sse_memory bench: {streams} event streams, {messages} customer messages; load {}",
        common::loadavg()
    );
    let dir = tempfile::tempdir().unwrap();
    let (channel_id, tokens) = {
        let store = common::open_store(dir.path(), 8);
        let r = store
            .write_blocking(move |ctx| {
                let admin = common::put_user_in(ctx, "admin", Role::Admin, "x")?;
                let mut ids = Vec::new();
                let mut tokens = Vec::new();
                for i in 0..streams {
                    let u = common::put_user_in(ctx, &format!("agent{i}"), Role::Agent, "x")?;
                    tokens.push(common::api_token_in(ctx, u.id)?);
                    ids.push(u.id);
                }
                let ch = common::whatsapp_channel_in(
                    ctx,
                    admin.id,
                    "Bench WA",
                    PHONE_NUMBER_ID,
                    common::DEAD_API,
                    ids,
                    false,
                )?;
                Ok((ch.id, tokens))
            })
            .unwrap();
        drop(store);
        r
    };

    // Every stream comes from 127.0.0.1: lift the per-address cap (128 by default) above them.
    let mut srv = Server::spawn(
        &bin,
        dir.path(),
        &[
            ("SWITCHBOARD_LIMITS__MAX_CONNECTIONS", "4096"),
            ("SWITCHBOARD_LIMITS__MAX_CONNECTIONS_PER_ADDRESS", "4096"),
        ],
    );
    let ready = srv.wait_ready(Duration::from_secs(30));
    std::thread::sleep(Duration::from_secs(2));
    let rss_idle = srv.rss_kb();
    println!(
        "ready after {:.0} ms; RSS after start {:.1} MiB, {} threads",
        ready.as_secs_f64() * 1e3,
        mib(rss_idle),
        srv.threads()
    );

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(600))
        .pool_max_idle_per_host(streams + 16)
        .build()
        .unwrap();
    let base = srv.base.clone();
    let hook = format!("{base}/hooks/whatsapp/{channel_id}");
    let send = |client: reqwest::Client, hook: String, n: usize, tag: &'static str| async move {
        let mut errors = 0;
        for i in 0..n {
            let (body, sig) = common::whatsapp_webhook(
                PHONE_NUMBER_ID,
                &format!("4915{:08}", i % 20),
                &format!("Customer {}", i % 20),
                &format!("wamid.{tag}{i:08}"),
                &format!("{tag} message {i} about my order"),
            );
            let r = client
                .post(&hook)
                .header("content-type", "application/json")
                .header("x-hub-signature-256", sig)
                .body(body)
                .send()
                .await;
            match r {
                Ok(r) if r.status().is_success() => {}
                Ok(r) => {
                    errors += 1;
                    eprintln!("webhook: HTTP {}", r.status());
                }
                Err(e) => {
                    errors += 1;
                    eprintln!("webhook: {e}");
                }
            }
        }
        errors
    };

    // Warm-up: a few messages, one stream opened, fed and closed.
    let warm_errors = rt.block_on(async {
        let r = client
            .get(format!("{base}/api/v1/events"))
            .bearer_auth(&tokens[0])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
        let e = send(client.clone(), hook.clone(), 10, "warm").await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        drop(r);
        tokio::time::sleep(Duration::from_millis(500)).await;
        e
    });
    let rss_warm = srv.rss_kb();

    // Open every stream; count the message.created events each one receives.
    let counts: Arc<Vec<AtomicUsize>> =
        Arc::new((0..streams).map(|_| AtomicUsize::new(0)).collect());
    let opened = Arc::new(AtomicUsize::new(0));
    let t_open = Instant::now();
    let open_errors = rt.block_on(async {
        let mut handles = Vec::new();
        let sem = Arc::new(tokio::sync::Semaphore::new(64));
        for (i, token) in tokens.iter().enumerate() {
            let (client, url, token, counts, opened, sem) = (
                client.clone(),
                format!("{base}/api/v1/events"),
                token.clone(),
                counts.clone(),
                opened.clone(),
                sem.clone(),
            );
            handles.push(tokio::spawn(async move {
                let permit = sem.acquire_owned().await.unwrap();
                let r = match client.get(&url).bearer_auth(&token).send().await {
                    Ok(r) if r.status().is_success() => r,
                    Ok(r) => {
                        eprintln!("stream {i}: HTTP {}", r.status());
                        return 1;
                    }
                    Err(e) => {
                        eprintln!("stream {i}: {e}");
                        return 1;
                    }
                };
                opened.fetch_add(1, Ordering::SeqCst);
                drop(permit);
                let mut body = r.bytes_stream();
                let mut buf = String::new();
                while let Some(Ok(chunk)) = body.next().await {
                    buf.push_str(&String::from_utf8_lossy(&chunk));
                    while let Some(end) = buf.find("\n\n") {
                        let ev: String = buf.drain(..end + 2).collect();
                        if ev.contains("\"kind\":\"message.created\"") {
                            counts[i].fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
                0
            }));
        }
        while opened.load(Ordering::SeqCst) < streams {
            if handles.iter().any(|h| h.is_finished()) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let failed = handles.iter().filter(|h| h.is_finished()).count();
        (handles, failed)
    });
    let (handles, failed_streams) = open_errors;
    let open_secs = t_open.elapsed().as_secs_f64();
    std::thread::sleep(Duration::from_secs(1));
    let rss_open = srv.rss_kb();
    let threads_open = srv.threads();

    // Events through every stream.
    let t_send = Instant::now();
    let send_errors = rt.block_on(send(client.clone(), hook.clone(), messages, "bench"));
    let deadline = Instant::now() + Duration::from_secs(120);
    while Instant::now() < deadline && counts.iter().any(|c| c.load(Ordering::Relaxed) < messages) {
        std::thread::sleep(Duration::from_millis(20));
    }
    let delivered: usize = counts.iter().map(|c| c.load(Ordering::Relaxed)).sum();
    let deliver_secs = t_send.elapsed().as_secs_f64();
    std::thread::sleep(Duration::from_millis(500));
    let rss_events = srv.rss_kb();
    let hwm = srv.hwm_kb();

    // Close every stream.
    for h in &handles {
        h.abort();
    }
    drop(handles);
    rt.block_on(async { tokio::time::sleep(Duration::from_secs(2)).await });
    let rss_closed = srv.rss_kb();
    let load = common::loadavg();
    srv.stop();

    let delta_open = rss_open as f64 - rss_idle as f64;
    let delta_events = rss_events as f64 - rss_idle as f64;
    let row = |label: String, kb: u64, extra: String| {
        println!("{label:<28} {:>7.1} MiB  {extra}", mib(kb));
    };
    row("RSS after start".into(), rss_idle, String::new());
    row("RSS after warm-up".into(), rss_warm, String::new());
    row(
        format!("RSS, {streams} streams open"),
        rss_open,
        format!(
            "(+{:.1} MiB over start, {:.1} KiB per stream; {threads_open} threads; opened in {open_secs:.1} s)",
            delta_open / 1024.0,
            delta_open / streams as f64
        ),
    );
    row(
        format!("RSS after {messages} messages"),
        rss_events,
        format!(
            "(+{:.1} MiB over start; peak {:.1} MiB; {delivered} of {} message events delivered in {deliver_secs:.1} s)",
            delta_events / 1024.0,
            mib(hwm),
            streams * messages
        ),
    );
    row("RSS, streams closed".into(), rss_closed, String::new());
    println!(
        "delta with {streams} streams after events: {:+.1} MiB (target <= +30 MB); load average {load}",
        delta_events / 1024.0
    );
    let errors = warm_errors + send_errors + failed_streams;
    if errors > 0 || delivered < streams * messages {
        eprintln!(
            "FAILED: {failed_streams} streams failed, {} webhook errors, {} events missing",
            warm_errors + send_errors,
            streams * messages - delivered.min(streams * messages)
        );
        std::process::exit(1);
    }
}
