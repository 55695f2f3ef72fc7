//! Memory over time against the RELEASE binary: does it level off, idle and under light load,
//! with every background job running at a fast cadence?
//!
//! ```text
//! cargo build --release && cargo bench --profile dev --bench soak     # 2 × 4 minutes
//! BENCH_SMOKE=1 cargo bench --profile dev --bench soak                # 2 × 8 s (CI)
//! ```
//! Knobs: `BENCH_BIN`, `SOAK_SECS` (per phase, 240), `SOAK_SAMPLE_SECS` (5), `SOAK_RATE`
//! (webhooks per second under load, 5), `SOAK_NO_BACKUP=1` (binaries without the backup job),
//! `SOAK_ONLY=idle|load` (one phase).
//!
//! Jobs: session-closure and login-session-sweep every 2 s, outbound-retry every second,
//! attachment-cleanup every 3 s, history-retention every 5 s, backup every 20 s (keeping 2).
//! 1. **idle**: nothing else happens.
//! 2. **light load**: signed WhatsApp webhooks at `SOAK_RATE`/s from 200 customers, an agent's
//!    event stream open throughout, the inbox list every 2 s, a password login every 5 s (new
//!    login sessions, presence), an anonymous `/healthz` every second.
//!
//! The server logs at info level; the report counts its lines (jobs that found nothing to do
//! should not write any). Every sample reads `RssAnon` and `VmRSS` of the server from `/proc/PID/status`. The report
//! gives the mean of the first and the last third and the slope (least squares) of each third:
//! memory that levels off has a last-third slope near zero and well under the first's. It prints
//! figures and asserts nothing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use switchboard::ids::ChannelId;

use common::{Server, env_usize, status_kb};
use switchboard::domain::passwords::Passwords;
use switchboard::domain::users::{self, NewUser, Role};

const PNID: &str = "100200300";
const PASSWORD: &str = "soak-password-1";

fn main() {
    switchboard::tls::install_crypto_provider();
    let smoke = common::smoke();
    let secs = env_usize("SOAK_SECS", if smoke { 8 } else { 240 }) as u64;
    let sample = env_usize("SOAK_SAMPLE_SECS", if smoke { 1 } else { 5 }).max(1) as u64;
    let rate = env_usize("SOAK_RATE", 5).max(1);
    let bin = common::require_binary();
    println!(
        "soak bench: 2 phases of {secs} s, a sample every {sample} s, {rate} webhooks/s under load; load {}",
        common::loadavg()
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let jobs = [
        ("SWITCHBOARD_LOG__LEVEL", "info"),
        ("SWITCHBOARD_JOBS__SESSION_CLOSURE", "*/2 * * * * *"),
        ("SWITCHBOARD_JOBS__LOGIN_SESSION_SWEEP", "*/2 * * * * *"),
        ("SWITCHBOARD_JOBS__OUTBOUND_RETRY", "* * * * * *"),
        ("SWITCHBOARD_JOBS__ATTACHMENT_CLEANUP", "*/3 * * * * *"),
        ("SWITCHBOARD_JOBS__HISTORY_RETENTION", "*/5 * * * * *"),
        ("SWITCHBOARD_JOBS__BACKUP", "*/20 * * * * *"),
        ("SWITCHBOARD_RETENTION__BACKUPS", "2"),
    ];
    // SOAK_NO_BACKUP=1: for binaries older than the backup job (they refuse unknown keys).
    let jobs: Vec<(&str, &str)> = jobs
        .into_iter()
        .filter(|(k, _)| std::env::var("SOAK_NO_BACKUP").is_err() || !k.contains("BACKUP"))
        .collect();
    // SOAK_ONLY=idle or SOAK_ONLY=load: one phase only (for bisecting).
    let only = std::env::var("SOAK_ONLY").unwrap_or_default();
    for (phase, load) in [("idle", false), ("light load", true)] {
        if (only == "idle" && load) || (only == "load" && !load) {
            continue;
        }
        let dir = tempfile::tempdir().unwrap();
        let (token, channel) = rt.block_on(seed(dir.path()));
        let mut srv = Server::spawn(&bin, dir.path(), &jobs);
        srv.wait_ready(Duration::from_secs(30));
        if srv.exited() {
            println!("  {phase}: the server did not start:\n{}", srv.log_tail());
            return;
        }
        let stop = Arc::new(AtomicBool::new(false));
        let sent = Arc::new(AtomicU64::new(0));
        let failed = Arc::new(AtomicU64::new(0));
        let load_task = load.then(|| {
            rt.spawn(light_load(
                srv.base.clone(),
                channel,
                token.clone(),
                rate,
                stop.clone(),
                sent.clone(),
                failed.clone(),
            ))
        });
        let t0 = Instant::now();
        let mut samples: Vec<(f64, u64, u64)> = Vec::new();
        while t0.elapsed() < Duration::from_secs(secs) {
            samples.push((
                t0.elapsed().as_secs_f64(),
                status_kb(srv.pid, "RssAnon:"),
                srv.rss_kb(),
            ));
            std::thread::sleep(Duration::from_secs(sample));
        }
        stop.store(true, Ordering::Relaxed);
        if let Some(t) = load_task {
            let _ = rt.block_on(t);
        }
        let alive = !srv.exited();
        report(phase, &samples);
        if load {
            println!(
                "  load: {} requests answered, {} failed",
                sent.load(Ordering::Relaxed),
                failed.load(Ordering::Relaxed)
            );
        }
        let lines = srv.log_lines();
        println!(
            "  server {} at the end; {lines} log lines at info level ({:.1} a minute)",
            if alive { "alive" } else { "DEAD" },
            lines as f64 * 60.0 / secs as f64
        );
        srv.stop();
    }
}

/// A WhatsApp channel whose members include `agent` (a password login), and an API token.
async fn seed(dir: &std::path::Path) -> (String, switchboard::ids::ChannelId) {
    let store = common::open_store(dir, 8);
    let passwords = Passwords::default();
    let agent = users::create(
        &store,
        &passwords,
        None,
        NewUser {
            username: "agent".into(),
            password: PASSWORD.into(),
            display_name: "Agent".into(),
            email: String::new(),
            extension: String::new(),
            role: Role::Agent,
            language: None,
        },
        false,
    )
    .await
    .unwrap();
    let id = agent.id;
    let seeded = store
        .write(move |ctx| {
            let admin = common::put_user_in(ctx, "admin", Role::Admin, "x")?;
            let ch = common::whatsapp_channel_in(
                ctx,
                admin.id,
                "Soak",
                PNID,
                common::DEAD_API,
                vec![id],
                false,
            )?;
            Ok((common::api_token_in(ctx, id)?, ch.id))
        })
        .await
        .unwrap();
    drop(store);
    seeded
}

async fn light_load(
    base: String,
    channel: ChannelId,
    token: String,
    rate: usize,
    stop: Arc<AtomicBool>,
    sent: Arc<AtomicU64>,
    failed: Arc<AtomicU64>,
) {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let count = |ok: bool| {
        if ok {
            sent.fetch_add(1, Ordering::Relaxed);
        } else {
            failed.fetch_add(1, Ordering::Relaxed);
        }
    };
    // The agent's event stream, reopened if it drops.
    let (h2, b2, t2, s2) = (http.clone(), base.clone(), token.clone(), stop.clone());
    let stream = tokio::spawn(async move {
        use futures_util::StreamExt;
        while !s2.load(Ordering::Relaxed) {
            let Ok(r) = h2
                .get(format!("{b2}/api/v1/events"))
                .bearer_auth(&t2)
                .timeout(Duration::from_secs(3600))
                .send()
                .await
            else {
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            };
            let mut body = r.bytes_stream();
            while !s2.load(Ordering::Relaxed) {
                match tokio::time::timeout(Duration::from_millis(500), body.next()).await {
                    Ok(Some(Ok(_))) | Err(_) => {}
                    Ok(_) => break,
                }
            }
        }
    });
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / rate as f64));
    let mut i = 0u64;
    while !stop.load(Ordering::Relaxed) {
        tick.tick().await;
        i += 1;
        let from = format!("4915{:08}", i % 200);
        let (body, sig) = common::whatsapp_webhook(
            PNID,
            &from,
            "Soak customer",
            &format!("wamid.SOAK{i}"),
            "Hello, is my order on its way?",
        );
        let r = http
            .post(format!("{base}/hooks/whatsapp/{channel}"))
            .header("content-type", "application/json")
            .header("x-hub-signature-256", sig)
            .body(body)
            .send()
            .await;
        count(r.is_ok_and(|r| r.status().is_success()));
        let per_sec = rate as u64;
        if i.is_multiple_of(2 * per_sec) {
            let r = http
                .get(format!("{base}/api/v1/sessions?limit=50"))
                .bearer_auth(&token)
                .send()
                .await;
            count(r.is_ok_and(|r| r.status().is_success()));
        }
        if i.is_multiple_of(per_sec) {
            let r = http.get(format!("{base}/healthz")).send().await;
            count(r.is_ok_and(|r| r.status().is_success()));
        }
        if i.is_multiple_of(5 * per_sec) {
            let r = http
                .post(format!("{base}/api/v1/session"))
                .json(&serde_json::json!({"username": "agent", "password": PASSWORD}))
                .send()
                .await;
            count(r.is_ok_and(|r| r.status().is_success()));
        }
    }
    let _ = stream.await;
}

/// Least-squares slope of (t seconds, kib) in KiB per minute.
fn slope(points: &[(f64, u64)]) -> f64 {
    let n = points.len() as f64;
    if n < 2.0 {
        return 0.0;
    }
    let mt = points.iter().map(|p| p.0).sum::<f64>() / n;
    let mk = points.iter().map(|p| p.1 as f64).sum::<f64>() / n;
    let cov: f64 = points.iter().map(|p| (p.0 - mt) * (p.1 as f64 - mk)).sum();
    let var: f64 = points.iter().map(|p| (p.0 - mt).powi(2)).sum();
    if var == 0.0 { 0.0 } else { cov / var * 60.0 }
}

fn report(phase: &str, samples: &[(f64, u64, u64)]) {
    let third = (samples.len() / 3).max(1);
    println!("\n{phase}: {} samples", samples.len());
    for (name, pick) in [("RssAnon", 1usize), ("VmRSS", 2)] {
        let pts: Vec<(f64, u64)> = samples
            .iter()
            .map(|s| (s.0, if pick == 1 { s.1 } else { s.2 }))
            .collect();
        let first = &pts[..third.min(pts.len())];
        let last = &pts[pts.len().saturating_sub(third)..];
        let mean = |p: &[(f64, u64)]| {
            p.iter().map(|x| x.1 as f64).sum::<f64>() / p.len().max(1) as f64 / 1024.0
        };
        let (s1, s3) = (slope(first), slope(last));
        let verdict = if s3 < 64.0 || s3 < s1.abs() / 4.0 {
            "levels off"
        } else {
            "STILL GROWING"
        };
        println!(
            "  {name}: start {:.1} MiB, first third {:.1} MiB (slope {:+.0} KiB/min), last third {:.1} MiB (slope {:+.0} KiB/min), end {:.1} MiB, peak {:.1} MiB: {verdict}",
            pts.first().map(|p| p.1).unwrap_or(0) as f64 / 1024.0,
            mean(first),
            s1,
            mean(last),
            s3,
            pts.last().map(|p| p.1).unwrap_or(0) as f64 / 1024.0,
            pts.iter().map(|p| p.1).max().unwrap_or(0) as f64 / 1024.0,
        );
    }
}
