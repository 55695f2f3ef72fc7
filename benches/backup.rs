//! Online backup of a large database while webhooks arrive (issue 23, item 4): does the backup
//! slow the webhooks down, does anything get refused?
//!
//! ```text
//! cargo build --release && cargo bench --profile dev --bench backup
//! BENCH_SMOKE=1 cargo bench --profile dev --bench backup      # 20 MiB, a few seconds (CI)
//! ```
//! Knobs: `BENCH_BIN` (server binary, default `$CARGO_TARGET_DIR/release/switchboard`),
//! `BACKUP_BENCH_MIB` (live data to seed, 1024), `BACKUP_BENCH_RATE` (webhooks per second
//! offered during the timing, 200), `BACKUP_BENCH_SECS` (length of each phase without a backup,
//! 20), `BACKUP_BENCH_DIR` (a seeded data directory to reuse).
//!
//! Seeding goes through the server itself: signed WhatsApp text webhooks from 20,000 customers
//! (64 connections, as fast as it takes them) until `switchboard check` counts that much live
//! data (the file is larger: it grows in steps and keeps free pages), so the database holds what real traffic writes (messages, sessions, contacts, events, search postings).
//! It is kept under `$CARGO_TARGET_DIR/bench-data/` for the next run.
//!
//! The timing runs the server with its jobs off and offers webhooks at a fixed rate (open loop:
//! each one is sent at its scheduled time whatever the others do, and its latency counts from
//! that time, so a stall shows in full). Three phases, back to back in one run:
//! `before` (no backup), `backup` (`switchboard backup FILE` through the control socket, load
//! until it returns) and `after`. It prints p50/p99/max per phase, the ratio of the backup
//! phase's p99 to the `before` phase's (the target is ≤ 2×), every refused or failed webhook,
//! the backup's duration and size, and the server's peak RSS during the backup.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{Lat, Server, env_usize, mib, ms};
use switchboard::domain::users::Role;

const PHONE_NUMBER_ID: &str = "100200300";
const CUSTOMERS: u64 = 20_000;
const SEED_VERSION: u32 = 1;
const WORDS: &[&str] = &[
    "appointment",
    "tomorrow",
    "invoice",
    "delivery",
    "cleaning",
    "whitening",
    "insurance",
    "parking",
    "thanks",
    "please",
    "morning",
    "afternoon",
    "cancel",
    "reschedule",
    "price",
    "Termin",
    "Rechnung",
    "Zahnarzt",
    "danke",
    "bitte",
];

/// Jobs off during the timing: a schedule firing in one phase only would skew the comparison.
const JOBS_OFF: [(&str, &str); 6] = [
    ("SWITCHBOARD_JOBS__ATTACHMENT_CLEANUP", ""),
    ("SWITCHBOARD_JOBS__SESSION_CLOSURE", ""),
    ("SWITCHBOARD_JOBS__HISTORY_RETENTION", ""),
    ("SWITCHBOARD_JOBS__LOGIN_SESSION_SWEEP", ""),
    ("SWITCHBOARD_JOBS__BACKUP", ""),
    ("SWITCHBOARD_JOBS__AUTOMATION", ""),
];

/// A customer's text of 8–40 words, different for every `seq`.
fn text(seq: u64) -> String {
    let mut x = seq
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let n = 8 + (x % 33) as usize;
    let mut out = String::new();
    for _ in 0..n {
        x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(WORDS[(x >> 33) as usize % WORDS.len()]);
    }
    out.push_str(&format!(" #{seq}"));
    out
}

/// The next webhook: a unique wamid, a customer out of `CUSTOMERS`.
fn webhook(seq: u64) -> (String, String) {
    common::whatsapp_webhook(
        PHONE_NUMBER_ID,
        &format!("4917{:08}", seq % CUSTOMERS),
        &format!("Customer {}", seq % CUSTOMERS),
        &format!("wamid.backup{seq:012}"),
        &text(seq),
    )
}

async fn post(client: &reqwest::Client, url: &str, seq: u64) -> Result<(), String> {
    let (body, sig) = webhook(seq);
    match client
        .post(url)
        .header("content-type", "application/json")
        .header("x-hub-signature-256", sig)
        .body(body)
        .send()
        .await
    {
        Ok(r) if r.status().is_success() => Ok(()),
        Ok(r) => Err(format!("HTTP {}", r.status().as_u16())),
        Err(e) => Err(format!("request failed: {e}")),
    }
}

/// Bytes of live data as `switchboard check` counts them (through the running server's control
/// socket): the file itself grows in large steps and holds free pages, a backup copies only this.
fn live_bytes(bin: &Path, dir: &Path) -> u64 {
    let out = std::process::Command::new(bin)
        .env_clear()
        .env("SWITCHBOARD_DATA_DIR", dir)
        .env("NO_COLOR", "1")
        .arg("check")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    text.split(" bytes of live data")
        .next()
        .and_then(|head| head.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no live-data figure in `switchboard check`: {text}"))
}

fn db_bytes(dir: &Path) -> u64 {
    std::fs::metadata(dir.join("switchboard.redb"))
        .map(|m| m.len())
        .unwrap_or(0)
}

/// A fresh data directory with an admin and one WhatsApp channel, filled through the server's
/// webhook endpoint until it holds `target` bytes of live data. Returns the channel's id, the
/// next unused `seq` and how many messages it sent.
fn seed(bin: &Path, dir: &Path, target: u64) -> (u64, u64, u64) {
    let t0 = Instant::now();
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).unwrap();
    let channel = {
        let store = common::open_store(dir, 64);
        store
            .write_blocking(|ctx| {
                let admin = common::put_user_in(ctx, "admin", Role::Admin, "-")?;
                let ch = common::whatsapp_channel_in(
                    ctx,
                    admin.id,
                    "Bench WhatsApp",
                    PHONE_NUMBER_ID,
                    common::DEAD_API,
                    vec![admin.id],
                    false,
                )?;
                Ok(ch.id.0)
            })
            .unwrap()
    };
    let mut srv = Server::spawn(bin, dir, &[]);
    srv.wait_ready(Duration::from_secs(60));
    let url = format!("{}/hooks/whatsapp/{channel}", srv.base);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let next = Arc::new(AtomicU64::new(0));
    let round = if common::smoke() { 5_000 } else { 50_000 };
    let mut sent = 0;
    loop {
        sent += round;
        let goal = next.load(Ordering::Relaxed) + round;
        let errors = rt.block_on(async {
            let client = reqwest::Client::new();
            let mut tasks = Vec::new();
            for _ in 0..64 {
                let (client, url, next) = (client.clone(), url.clone(), next.clone());
                tasks.push(tokio::spawn(async move {
                    let mut errors = Vec::new();
                    loop {
                        let seq = next.fetch_add(1, Ordering::Relaxed);
                        if seq >= goal {
                            return errors;
                        }
                        if let Err(e) = post(&client, &url, seq).await {
                            errors.push(e);
                        }
                    }
                }));
            }
            let mut errors = Vec::new();
            for t in tasks {
                errors.extend(t.await.unwrap());
            }
            errors
        });
        assert!(
            errors.is_empty(),
            "{} seeding webhooks failed, first: {:?}; server log: {}",
            errors.len(),
            errors.first(),
            srv.log_tail()
        );
        let live = live_bytes(bin, dir);
        println!(
            "  seeded {sent} messages: {:.0} MiB of live data in a {:.0} MiB file ({:.0} s)",
            live as f64 / (1 << 20) as f64,
            db_bytes(dir) as f64 / (1 << 20) as f64,
            t0.elapsed().as_secs_f64()
        );
        if live >= target {
            break;
        }
    }
    srv.stop();
    // Each connection drew one number past the last goal: the next run starts there.
    let seq = next.load(Ordering::Relaxed);
    std::fs::write(
        dir.join("seed.json"),
        serde_json::json!({"version": SEED_VERSION, "channel": channel, "messages": sent, "next": seq, "secs": t0.elapsed().as_secs_f64()})
            .to_string(),
    )
    .unwrap();
    (channel, seq, sent)
}

/// What one phase of paced webhooks saw.
#[derive(Default)]
struct Phase {
    lat: Lat,
    failed: Vec<String>,
    sent: u64,
    /// Ticks not sent because 256 were already in flight (counted as failures: the offered
    /// load was not carried).
    behind: u64,
}

/// Offers `rate` webhooks per second until `stop` is set (or `secs` pass, when given).
async fn paced(
    client: &reqwest::Client,
    url: &str,
    rate: usize,
    next: &Arc<AtomicU64>,
    stop: &Arc<AtomicBool>,
    secs: Option<u64>,
) -> Phase {
    let every = Duration::from_secs_f64(1.0 / rate.max(1) as f64);
    let out = Arc::new(Mutex::new(Phase::default()));
    let inflight = Arc::new(tokio::sync::Semaphore::new(256));
    let start = tokio::time::Instant::now();
    let end = secs.map(|s| start + Duration::from_secs(s));
    let mut tasks = Vec::new();
    let mut k: u32 = 0;
    loop {
        let due = start + every * k;
        k += 1;
        if stop.load(Ordering::Relaxed) || end.is_some_and(|e| due >= e) {
            break;
        }
        tokio::time::sleep_until(due).await;
        let Ok(permit) = inflight.clone().try_acquire_owned() else {
            out.lock().unwrap().behind += 1;
            continue;
        };
        let (client, url, out) = (client.clone(), url.to_string(), out.clone());
        let seq = next.fetch_add(1, Ordering::Relaxed);
        tasks.push(tokio::spawn(async move {
            let r = post(&client, &url, seq).await;
            let took = due.elapsed();
            drop(permit);
            let mut o = out.lock().unwrap();
            o.sent += 1;
            match r {
                Ok(()) => o.lat.push(took),
                Err(e) => o.failed.push(e),
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    Arc::try_unwrap(out)
        .ok()
        .map(|m| m.into_inner().unwrap())
        .unwrap()
}

fn report(name: &str, p: &Phase, secs: f64) {
    println!(
        "  {name:<7} {:>6} webhooks in {secs:5.1} s: p50 {:6.2} ms  p99 {:6.2} ms  max {:7.2} ms  failed {}  not sent (256 in flight) {}",
        p.sent,
        ms(p.lat.p(0.50)),
        ms(p.lat.p(0.99)),
        ms(p.lat.max()),
        p.failed.len(),
        p.behind
    );
    for e in p.failed.iter().take(5) {
        println!("      {e}");
    }
}

fn data_dir(target_mib: u64) -> (PathBuf, Option<tempfile::TempDir>) {
    if let Ok(d) = std::env::var("BACKUP_BENCH_DIR") {
        return (PathBuf::from(d), None);
    }
    if common::smoke() {
        let t = tempfile::tempdir().unwrap();
        return (t.path().join("data"), Some(t));
    }
    (
        common::bench_data_dir().join(format!("backup-{target_mib}-v{SEED_VERSION}")),
        None,
    )
}

fn main() {
    switchboard::tls::install_crypto_provider();
    let smoke = common::smoke();
    let target_mib = env_usize("BACKUP_BENCH_MIB", if smoke { 20 } else { 1024 }) as u64;
    let rate = env_usize("BACKUP_BENCH_RATE", 200);
    let secs = env_usize("BACKUP_BENCH_SECS", if smoke { 3 } else { 20 }) as u64;
    let bin = common::require_binary();
    let (dir, _tmp) = data_dir(target_mib);
    println!(
        "backup bench: {target_mib} MiB database, {rate} webhooks/s offered, {secs} s before and after; load {}",
        common::loadavg()
    );
    let seeded = std::fs::read_to_string(dir.join("seed.json"))
        .ok()
        .and_then(|s| serde_json::from_str::<serde_json::Value>(&s).ok())
        .filter(|v| v["version"] == SEED_VERSION)
        .and_then(|v| {
            Some((
                v["channel"].as_u64()?,
                v["next"].as_u64()?,
                v["messages"].as_u64()?,
            ))
        });
    let (channel, first, messages) = match seeded {
        Some(n) => {
            println!(
                "reusing the database in {} (delete the directory to rebuild)",
                dir.display()
            );
            n
        }
        None => {
            println!("seeding {} through the webhook endpoint …", dir.display());
            seed(&bin, &dir, target_mib << 20)
        }
    };

    let backups = dir.join("bench-backups");
    let _ = std::fs::remove_dir_all(&backups);
    std::fs::create_dir_all(&backups).unwrap();
    let mut srv = Server::spawn(&bin, &dir, &JOBS_OFF);
    let ready = srv.wait_ready(Duration::from_secs(120));
    println!(
        "database: {:.0} MiB of live data in a {:.0} MiB file, {messages} messages seeded",
        live_bytes(&bin, &dir) as f64 / (1 << 20) as f64,
        db_bytes(&dir) as f64 / (1 << 20) as f64
    );
    println!(
        "server ready after {:.0} ms, RSS {:.1} MiB; load {}",
        ms(ready),
        mib(srv.rss_kb()),
        common::loadavg()
    );
    let url = format!("{}/hooks/whatsapp/{channel}", srv.base);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let client = reqwest::Client::new();
    let next = Arc::new(AtomicU64::new(first + 1_000_000_000));
    let never = Arc::new(AtomicBool::new(false));

    // Warm-up: connections open, caches hot, the same for all three phases.
    rt.block_on(paced(&client, &url, rate, &next, &never, Some(2)));

    let t = Instant::now();
    let before = rt.block_on(paced(&client, &url, rate, &next, &never, Some(secs)));
    let before_secs = t.elapsed().as_secs_f64();

    let done = Arc::new(AtomicBool::new(false));
    let file = backups.join("bench.redb");
    let rss_before = srv.rss_kb();
    let hwm = Arc::new(AtomicU64::new(rss_before));
    let backup = {
        let (bin, dir, file, done) = (bin.clone(), dir.clone(), file.clone(), done.clone());
        std::thread::spawn(move || {
            let t = Instant::now();
            let out = std::process::Command::new(&bin)
                .env_clear()
                .env("SWITCHBOARD_DATA_DIR", &dir)
                .env("NO_COLOR", "1")
                .arg("backup")
                .arg(&file)
                .output()
                .unwrap();
            let took = t.elapsed();
            done.store(true, Ordering::Relaxed);
            (out, took)
        })
    };
    let sampler = {
        let (pid, done, hwm) = (srv.pid, done.clone(), hwm.clone());
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                hwm.fetch_max(common::status_kb(pid, "VmRSS:"), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(100));
            }
        })
    };
    let t = Instant::now();
    let during = rt.block_on(paced(&client, &url, rate, &next, &done, None));
    let during_secs = t.elapsed().as_secs_f64();
    let (out, took) = backup.join().unwrap();
    sampler.join().unwrap();

    let t = Instant::now();
    let after = rt.block_on(paced(&client, &url, rate, &next, &never, Some(secs)));
    let after_secs = t.elapsed().as_secs_f64();

    let backup_size = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
    println!(
        "backup: exit {:?} after {:.1} s, {:.0} MiB written ({:.0} MiB/s); {}{}",
        out.status.code(),
        took.as_secs_f64(),
        backup_size as f64 / (1 << 20) as f64,
        backup_size as f64 / (1 << 20) as f64 / took.as_secs_f64().max(0.001),
        String::from_utf8_lossy(&out.stdout).trim(),
        String::from_utf8_lossy(&out.stderr).trim()
    );
    println!(
        "server RSS: {:.1} MiB before the backup, peak {:.1} MiB during it (sampled every 100 ms)",
        mib(rss_before),
        mib(hwm.load(Ordering::Relaxed))
    );
    println!(
        "webhooks (latency from each one's scheduled time; load {}):",
        common::loadavg()
    );
    report("before", &before, before_secs);
    report("backup", &during, during_secs);
    report("after", &after, after_secs);
    let ratio = ms(during.lat.p(0.99)) / ms(before.lat.p(0.99)).max(0.001);
    let refused = before.failed.len() + during.failed.len() + after.failed.len();
    let behind = before.behind + during.behind + after.behind;
    println!(
        "p99 during the backup ÷ p99 before: {ratio:.2}× (target ≤ 2×); refused or failed: {refused}; not sent: {behind}"
    );
    srv.stop();
    let _ = std::fs::remove_dir_all(&backups);
    assert!(out.status.success(), "the backup failed");
    assert_eq!(refused, 0, "webhooks were refused");
}
