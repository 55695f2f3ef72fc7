//! Fan-out benchmark: how long from a customer message's intake to its `message.created` event
//! on every open SSE stream of the agents who may see it.
//!
//! ```text
//! cargo bench --bench fanout                   # 50 streams, 1,000 messages at ~500/s
//! BENCH_SMOKE=1 cargo bench --bench fanout     # 5 streams, 50 messages (CI)
//! ```
//! Knobs: `BENCH_STREAMS`, `BENCH_MESSAGES`, `BENCH_RATE` (messages per second).
//!
//! The server runs in-process on 127.0.0.1:0 with a temporary data directory (real fsyncs).
//! Messages go through the same write path as the webhooks (`messages::ingest_in` inside a
//! group-committed `Store::write`), each started on its own task at the given rate; latency is
//! measured from the start of the write to the arrival of the event on each stream, so it
//! includes the durable commit, the event log, the broadcast, per-user filtering and HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use switchboard::clock::SystemClock;
use switchboard::config::Config;
use switchboard::domain::channels::{self, ChannelInput, ChannelKind};
use switchboard::domain::messages::{self, NewInbound};
use switchboard::domain::users::{self, NewUser, Role};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

type Arrivals = Arc<Mutex<HashMap<usize, Instant>>>;

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(run());
}

async fn run() {
    let smoke = std::env::var("BENCH_SMOKE").as_deref() == Ok("1");
    let streams = env_usize("BENCH_STREAMS", if smoke { 5 } else { 50 });
    let total = env_usize("BENCH_MESSAGES", if smoke { 50 } else { 1000 });
    let rate = env_usize("BENCH_RATE", 500).max(1);

    switchboard::tls::install_crypto_provider();
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config {
        data_dir: dir.path().to_path_buf(),
        listen: "127.0.0.1:0".into(),
        log: switchboard::config::LogConfig {
            level: "error".into(),
            format: switchboard::config::LogFormat::Text,
        },
        ..Default::default()
    };
    for j in [
        &mut config.jobs.attachment_cleanup,
        &mut config.jobs.session_closure,
        &mut config.jobs.history_retention,
        &mut config.jobs.login_session_sweep,
    ] {
        j.clear();
    }
    let running = switchboard::server::start(config, Arc::new(SystemClock))
        .await
        .unwrap();
    let base = format!("http://{}", running.addr);
    let state = running.state.clone();
    println!("fanout: {streams} SSE streams, {total} messages at ~{rate}/s, server {base}");

    // Agents (created in the domain), one WhatsApp channel they are all members of.
    let t0 = Instant::now();
    let mut ids = Vec::new();
    for i in 0..streams {
        let u = users::create(
            &state.store,
            &state.passwords,
            None,
            NewUser {
                username: format!("agent{i}"),
                password: "bench-password-123".into(),
                display_name: format!("Agent {i}"),
                email: String::new(),
                extension: String::new(),
                role: Role::Agent,
                language: None,
            },
            false,
        )
        .await
        .unwrap();
        ids.push(u.id);
    }
    let input = ChannelInput {
        kind: Some(ChannelKind::Whatsapp),
        name: Some("Bench WA".into()),
        members: Some(ids.clone()),
        ..Default::default()
    };
    let ch = state
        .store
        .write(move |ctx| channels::create_in(ctx, switchboard::ids::UserId(0), &input))
        .await
        .unwrap();

    // Log in and open one stream per agent.
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut arrivals: Vec<Arrivals> = Vec::new();
    for i in 0..streams {
        let r = http
            .post(format!("{base}/api/v1/session"))
            .json(&serde_json::json!({"username": format!("agent{i}"), "password": "bench-password-123"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200, "login agent{i}");
        let cookie = r
            .headers()
            .get("set-cookie")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .unwrap()
            .to_string();
        let resp = http
            .get(format!("{base}/api/v1/events"))
            .header("cookie", cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 200);
        let seen: Arrivals = Arc::new(Mutex::new(HashMap::with_capacity(total)));
        arrivals.push(seen.clone());
        tokio::spawn(async move {
            let mut body = resp.bytes_stream();
            let mut buf = String::new();
            while let Some(Ok(chunk)) = body.next().await {
                let now = Instant::now();
                buf.push_str(&String::from_utf8_lossy(&chunk));
                while let Some(end) = buf.find("\n\n") {
                    let event: String = buf.drain(..end + 2).collect();
                    // Cheap matching (no JSON parse): the client must not be the bottleneck.
                    if !event.contains("\"kind\":\"message.created\"") {
                        continue;
                    }
                    const NEEDLE: &str = "\"text\":\"bench-";
                    if let Some(i) = event.find(NEEDLE) {
                        let digits: String = event[i + NEEDLE.len()..]
                            .chars()
                            .take_while(char::is_ascii_digit)
                            .collect();
                        if let Ok(n) = digits.parse::<usize>() {
                            seen.lock().unwrap().entry(n).or_insert(now);
                        }
                    }
                }
            }
        });
    }
    println!("setup: {:.1} s", t0.elapsed().as_secs_f64());
    tokio::time::sleep(Duration::from_millis(300)).await;

    // Ingest at the given rate, each message on its own task (the writer batches them).
    let sent: Arc<Mutex<Vec<Option<Instant>>>> = Arc::new(Mutex::new(vec![None; total]));
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / rate as f64));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(total);
    for n in 0..total {
        tick.tick().await;
        let store = state.store.clone();
        let sent = sent.clone();
        let cid = ch.id;
        tasks.push(tokio::spawn(async move {
            let m = NewInbound {
                provider_id: Some(format!("wamid.bench.{n}")),
                from: format!("49151{:07}", n % 100),
                contact_name: None,
                text: format!("bench-{n}"),
                files: vec![],
                at: None,
            };
            sent.lock().unwrap()[n] = Some(Instant::now());
            store
                .write(move |ctx| {
                    let ch = channels::get_in(ctx, cid)?;
                    messages::ingest_in(ctx, &ch, &m)
                })
                .await
                .unwrap();
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let ingest_secs = started.elapsed().as_secs_f64();

    // Wait for every stream to have every message (or give up after 30 s).
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let done = arrivals.iter().all(|a| a.lock().unwrap().len() >= total);
        if done || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let sent = sent.lock().unwrap().clone();
    let mut lat = Vec::with_capacity(streams * total);
    let mut missing = 0usize;
    for a in &arrivals {
        let a = a.lock().unwrap();
        for (n, s) in sent.iter().enumerate() {
            match (s, a.get(&n)) {
                (Some(s), Some(r)) => lat.push(r.saturating_duration_since(*s)),
                _ => missing += 1,
            }
        }
    }
    lat.sort();
    let stats = state.store.stats();
    use std::sync::atomic::Ordering::Relaxed;
    println!(
        "ingested {total} messages in {ingest_secs:.2} s ({:.0}/s); {} commits for {} writes",
        total as f64 / ingest_secs,
        stats.commits.load(Relaxed),
        stats.ops.load(Relaxed)
    );
    println!(
        "intake -> event on {streams} streams ({} deliveries, {missing} missing): p50 {}  p90 {}  p99 {}  max {}",
        lat.len(),
        ms(percentile(&lat, 0.50)),
        ms(percentile(&lat, 0.90)),
        ms(percentile(&lat, 0.99)),
        ms(lat.last().copied().unwrap_or_default()),
    );
    running.stop().await;
    if missing > 0 {
        eprintln!("FAILED: {missing} deliveries missing");
        std::process::exit(1);
    }
}
