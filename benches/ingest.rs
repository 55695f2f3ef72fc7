//! Inbound webhook benchmark against the RELEASE binary.
//!
//! Starts `target/release/switchboard` as a child process (temp data dir, config through
//! `SWITCHBOARD_*`), creates the admin through the setup link from its log and a WhatsApp
//! channel through the API, then fires pre-signed, unique WhatsApp text webhooks with 64
//! concurrent connections on loopback and prints messages/s and p50/p99 latency. In the same
//! run it measures BASELINE B (a bare redb loop: one `Durability::Immediate` commit per
//! message — what "commit before 2xx" would cost without group commit) and BASELINE A (a bare
//! axum hello server under the same load: the HTTP ceiling of this machine).
//!
//! ```text
//! cargo build --release && cargo bench --bench ingest            # 50,000 webhooks
//! INGEST_BENCH_MESSAGES=5000 cargo bench --bench ingest          # CI smoke run
//! ```
//! Other knobs: `INGEST_BENCH_CONCURRENCY` (64), `INGEST_BENCH_BASELINE` (commits in baseline
//! B, default 3000), `INGEST_BENCH_BIN` (path of the binary), `INGEST_BENCH_PERF` (a file:
//! `perf record` the server's load phase into it). Besides the server's CPU per message it
//! prints this process's (the load generator's) CPU share during the load phase, so a run
//! whose generator starved the server shows as such.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use redb::{Database, Durability, TableDefinition};
use serde_json::{Value, json};
use switchboard::channels::signature::meta_signature_256;

const APP_SECRET: &str = "bench-app-secret";
const PHONE_NUMBER_ID: &str = "100200300";
const SENDERS: usize = 100;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn binary() -> PathBuf {
    if let Ok(p) = std::env::var("INGEST_BENCH_BIN") {
        return PathBuf::from(p);
    }
    let target = std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".into());
    PathBuf::from(target).join("release").join("switchboard")
}

struct Stats {
    count: usize,
    errors: usize,
    secs: f64,
    p50: Duration,
    p99: Duration,
}

impl Stats {
    fn from(mut lat: Vec<Duration>, errors: usize, secs: f64) -> Stats {
        lat.sort_unstable();
        let pick = |q: f64| {
            lat.get(((lat.len() as f64 * q) as usize).min(lat.len().saturating_sub(1)))
                .copied()
                .unwrap_or_default()
        };
        Stats {
            count: lat.len(),
            errors,
            secs,
            p50: pick(0.50),
            p99: pick(0.99),
        }
    }
    fn print(&self, what: &str) {
        println!(
            "{what:<44} {:>8} ok {:>4} err {:>9.0} /s   p50 {:>7.2} ms   p99 {:>7.2} ms",
            self.count,
            self.errors,
            self.count as f64 / self.secs,
            self.p50.as_secs_f64() * 1e3,
            self.p99.as_secs_f64() * 1e3
        );
    }
}

/// Fire `bodies` at `url` from `concurrency` workers; returns latencies of 2xx answers.
async fn fire(
    client: &reqwest::Client,
    url: &str,
    bodies: Arc<Vec<(String, String)>>,
    concurrency: usize,
) -> Stats {
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (client, url, bodies, next) = (
            client.clone(),
            url.to_string(),
            bodies.clone(),
            next.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut errors = 0;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some((body, sig)) = bodies.get(i) else {
                    break;
                };
                let t0 = Instant::now();
                let r = client
                    .post(&url)
                    .header("content-type", "application/json")
                    .header("x-hub-signature-256", sig)
                    .body(body.clone())
                    .send()
                    .await;
                match r {
                    Ok(r) if r.status().is_success() => {
                        let _ = r.bytes().await;
                        lat.push(t0.elapsed());
                    }
                    Ok(r) => {
                        if errors == 0 {
                            eprintln!(
                                "HTTP {}: {}",
                                r.status(),
                                r.text().await.unwrap_or_default()
                            );
                        }
                        errors += 1;
                    }
                    Err(e) => {
                        if errors == 0 {
                            eprintln!("request failed: {e}");
                        }
                        errors += 1;
                    }
                }
            }
            (lat, errors)
        }));
    }
    let mut all = Vec::new();
    let mut errors = 0;
    for t in tasks {
        let (l, e) = t.await.unwrap();
        all.extend(l);
        errors += e;
    }
    Stats::from(all, errors, started.elapsed().as_secs_f64())
}

fn webhook(i: usize, ts: i64) -> String {
    let from = format!("4915{:08}", i % SENDERS);
    json!({"object": "whatsapp_business_account", "entry": [{"id": "WABA", "changes": [{
        "field": "messages", "value": {"messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550001111", "phone_number_id": PHONE_NUMBER_ID},
        "contacts": [{"profile": {"name": format!("Customer {}", i % SENDERS)}, "wa_id": from}],
        "messages": [{"from": from, "id": format!("wamid.BENCH{i:012}"), "timestamp": ts.to_string(),
            "type": "text", "text": {"body": format!("Hello, this is message number {i} asking about my order")}}]}}]}]})
    .to_string()
}

struct Server {
    child: Child,
    base: String,
    setup_token: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_server(bin: &PathBuf, dir: &std::path::Path) -> Server {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(bin)
        .env_clear()
        // Settings to try (e.g. SWITCHBOARD_STORE__CACHE_SIZE_MB) pass through to the server.
        .envs(std::env::vars().filter(|(k, _)| k.starts_with("SWITCHBOARD_")))
        .env("SWITCHBOARD_DATA_DIR", dir)
        .env("SWITCHBOARD_LISTEN", format!("127.0.0.1:{port}"))
        .env("SWITCHBOARD_PUBLIC_URL", format!("http://127.0.0.1:{port}"))
        .env("SWITCHBOARD_LOG__LEVEL", "warn")
        .env("SWITCHBOARD_LOG__FORMAT", "text")
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    for stream in [
        child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
        child
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
    ]
    .into_iter()
    .flatten()
    {
        let tx = tx.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    let token = loop {
        let line = rx
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("no setup link in the server log within 30 s");
        if let Some(rest) = line.split("setup?token=").nth(1) {
            break rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                .collect::<String>();
        }
    };
    // Keep draining the log so the child never blocks on a full pipe.
    std::thread::spawn(move || while rx.recv().is_ok() {});
    Server {
        child,
        base: format!("http://127.0.0.1:{port}"),
        setup_token: token,
    }
}

fn vm_hwm_kb(pid: u32) -> Option<u64> {
    status_kb(pid, "VmHWM:")
}

fn status_kb(pid: u32, field: &str) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    s.lines()
        .find(|l| l.starts_with(field))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// utime + stime (clock ticks) of a `/proc/.../stat` line.
fn stat_ticks(stat: &str) -> u64 {
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let get = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    get(11) + get(12)
}

/// CPU time (user + system, clock ticks) of this bench process: the load generator.
fn self_ticks() -> u64 {
    std::fs::read_to_string("/proc/self/stat").map_or(0, |s| stat_ticks(&s))
}

/// CPU time (user + system, in clock ticks) of the whole process and of its `store-writer`
/// thread: a per-message cost that stays meaningful when the shared machine is noisy.
fn cpu_ticks(pid: u32) -> (u64, u64) {
    let total = std::fs::read_to_string(format!("/proc/{pid}/stat")).map_or(0, |s| stat_ticks(&s));
    let mut writer = 0;
    if let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) {
        for t in tasks.flatten() {
            let comm = std::fs::read_to_string(t.path().join("comm")).unwrap_or_default();
            if comm.trim() == "store-writer" {
                writer =
                    std::fs::read_to_string(t.path().join("stat")).map_or(0, |s| stat_ticks(&s));
            }
        }
    }
    (total, writer)
}

/// `INGEST_BENCH_PERF=<file>`: `perf record` the server during the load phase only (call
/// graphs from DWARF unwinding; build with `--profile profiling` so it has symbols).
fn perf_start(pid: u32) -> Option<Child> {
    let out = std::env::var("INGEST_BENCH_PERF").ok()?;
    let child = Command::new("perf")
        .args([
            "record",
            "-F",
            "999",
            "-g",
            "--call-graph",
            "dwarf,16384",
            "-o",
            &out,
        ])
        .args(["-p", &pid.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| eprintln!("perf record: {e}"))
        .ok()?;
    // perf needs a moment to attach to every thread.
    std::thread::sleep(Duration::from_millis(500));
    Some(child)
}

fn perf_stop(perf: Option<Child>) {
    if let Some(mut p) = perf {
        let _ = Command::new("kill")
            .args(["-INT", &p.id().to_string()])
            .status();
        let _ = p.wait();
    }
}

/// Admin through the setup link, login, a WhatsApp channel through the API.
async fn prepare(client: &reqwest::Client, srv: &Server) -> u64 {
    let r = client
        .post(format!("{}/setup", srv.base))
        .form(&[
            ("token", srv.setup_token.as_str()),
            ("username", "admin"),
            ("display_name", "Bench Admin"),
            ("password", "bench-password-123"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status().as_u16(),
        303,
        "setup: {}",
        r.text().await.unwrap()
    );
    let r = client
        .post(format!("{}/api/v1/session", srv.base))
        .json(&json!({"username": "admin", "password": "bench-password-123"}))
        .send()
        .await
        .unwrap();
    let cookie = r
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let csrf = r.json::<Value>().await.unwrap()["csrf_token"]
        .as_str()
        .unwrap()
        .to_string();
    let r = client
        .post(format!("{}/api/v1/channels", srv.base))
        .header("cookie", &cookie)
        .header("x-csrf-token", &csrf)
        .json(&json!({"kind": "whatsapp", "name": "Bench WA",
            "api_base": "http://127.0.0.1:9/v21.0",
            "credentials": {"phone_number_id": PHONE_NUMBER_ID, "access_token": "t",
                "app_secret": APP_SECRET, "verify_token": "v"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    r.json::<Value>().await.unwrap()["id"].as_u64().unwrap()
}

/// BASELINE B: one durable redb commit per message, no batching.
fn baseline_redb(n: usize) -> Stats {
    const T: TableDefinition<&[u8], &[u8]> = TableDefinition::new("bench");
    let dir = tempfile::tempdir().unwrap();
    let db = Database::builder()
        .set_cache_size(32 << 20)
        .create(dir.path().join("baseline.redb"))
        .unwrap();
    let value = vec![b'x'; 400];
    let mut lat = Vec::with_capacity(n);
    let started = Instant::now();
    for i in 0..n as u64 {
        let t0 = Instant::now();
        let mut w = db.begin_write().unwrap();
        w.set_durability(Durability::Immediate).unwrap();
        w.open_table(T)
            .unwrap()
            .insert(i.to_be_bytes().as_slice(), value.as_slice())
            .unwrap();
        w.commit().unwrap();
        lat.push(t0.elapsed());
    }
    Stats::from(lat, 0, started.elapsed().as_secs_f64())
}

/// BASELINE A: a bare axum server answering POSTs, same load shape.
async fn baseline_axum(
    client: &reqwest::Client,
    bodies: Arc<Vec<(String, String)>>,
    c: usize,
) -> Stats {
    let app = axum::Router::new().route(
        "/",
        axum::routing::post(|_b: axum::body::Bytes| async { "ok" }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    fire(client, &format!("http://{addr}/"), bodies, c).await
}

fn main() {
    switchboard::tls::install_crypto_provider();
    let n = env_usize("INGEST_BENCH_MESSAGES", 50_000);
    let concurrency = env_usize("INGEST_BENCH_CONCURRENCY", 64);
    let baseline_n = env_usize("INGEST_BENCH_BASELINE", 3_000);
    let bin = binary();
    if !bin.exists() {
        eprintln!(
            "{} not found: run `cargo build --release` first (or set INGEST_BENCH_BIN)",
            bin.display()
        );
        std::process::exit(2);
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .timeout(Duration::from_secs(60))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    println!(
        "ingest bench: {n} signed WhatsApp webhooks, {concurrency} connections, binary {}",
        bin.display()
    );
    let ts = 1_700_000_000;
    let bodies: Arc<Vec<(String, String)>> = Arc::new(
        (0..n)
            .map(|i| {
                let b = webhook(i, ts);
                let s = meta_signature_256(APP_SECRET, b.as_bytes());
                (b, s)
            })
            .collect(),
    );

    let loadavg = std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default();
    let dir = tempfile::tempdir().unwrap();
    let srv = start_server(&bin, dir.path());
    let pid = srv.child.id();
    let (stats, total, cpu, generator, before_load, load_peak) = rt.block_on(async {
        let ch = prepare(&client, &srv).await;
        let url = format!("{}/hooks/whatsapp/{ch}", srv.base);
        // Setup and login ran argon2id (19 MiB each); the figure we want is the peak while
        // webhooks arrive: writing 5 to clear_refs resets VmHWM to the current RSS.
        let before_load = status_kb(pid, "VmRSS:");
        let _ = std::fs::write(format!("/proc/{pid}/clear_refs"), "5");
        let perf = perf_start(pid);
        let before = cpu_ticks(pid);
        let gen_before = self_ticks();
        let stats = fire(&client, &url, bodies.clone(), concurrency).await;
        let generator = self_ticks() - gen_before;
        let after = cpu_ticks(pid);
        perf_stop(perf);
        let load_peak = vm_hwm_kb(pid);
        let cpu = (after.0 - before.0, after.1 - before.1);
        // Check: every message stored exactly once, through the API.
        let r = client
            .post(format!("{}/api/v1/session", srv.base))
            .json(&json!({"username": "admin", "password": "bench-password-123"}))
            .send()
            .await
            .unwrap();
        let cookie = r
            .headers()
            .get("set-cookie")
            .unwrap()
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_string();
        let list: Value = client
            .get(format!("{}/api/v1/sessions?limit=200", srv.base))
            .header("cookie", cookie)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let total: u64 = list["sessions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["message_count"].as_u64().unwrap_or(0))
            .sum();
        (stats, total, cpu, generator, before_load, load_peak)
    });
    let mib = |k: Option<u64>| k.map_or("?".into(), |k| format!("{:.1}", k as f64 / 1024.0));
    let db_bytes = std::fs::metadata(dir.path().join("switchboard.redb"))
        .map(|m| m.len())
        .unwrap_or(0);
    drop(srv);
    stats.print("switchboard (release) signed webhooks");
    println!(
        "  stored {total} of {n} messages; server RSS {} MiB before the load (after setup and \
         login), peak {} MiB during it; database {} MiB",
        mib(before_load),
        mib(load_peak),
        db_bytes / (1 << 20)
    );
    // /proc counts in USER_HZ (100 on Linux): 1 tick = 10 ms.
    let per_msg = |ticks: u64| ticks as f64 * 10_000.0 / stats.count.max(1) as f64;
    println!(
        "  server CPU {:.0} us/message, of which the store-writer thread {:.0} us/message",
        per_msg(cpu.0),
        per_msg(cpu.1)
    );
    // The generator's share of the machine while it fired: CPU time / (wall time × cores).
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "  load generator (this process) CPU {:.0} us/message, {:.0} % of {cores} cores \
         (server {:.0} %); uptime load before the run: {}",
        per_msg(generator),
        generator as f64 / 100.0 / (stats.secs * cores as f64) * 100.0,
        cpu.0 as f64 / 100.0 / (stats.secs * cores as f64) * 100.0,
        loadavg
    );
    let b = baseline_redb(baseline_n);
    b.print("BASELINE B: redb, 1 Immediate commit / msg");
    let a_bodies = Arc::new(
        bodies
            .iter()
            .take(n.min(20_000))
            .cloned()
            .collect::<Vec<_>>(),
    );
    let a = rt.block_on(baseline_axum(&client, a_bodies, concurrency));
    a.print("BASELINE A: bare axum hello (same client)");
    println!(
        "webhooks/s vs one-durable-commit-per-message: {:.1}x",
        (stats.count as f64 / stats.secs) / (b.count as f64 / b.secs)
    );
    if total != n as u64 || stats.errors > 0 {
        eprintln!("MISMATCH: {total} stored, {} errors", stats.errors);
        std::process::exit(1);
    }
}
