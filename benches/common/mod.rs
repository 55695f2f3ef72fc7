//! Helpers shared by the benchmarks that drive the external release binary (`pages`,
//! `sse_memory`, `sustained`): starting and stopping the server on a data directory, waiting
//! for `/healthz`, reading its memory from `/proc`, latency percentiles, the bare-axum baseline,
//! and writing users, tokens and channels straight into a database before the server opens it.
//!
//! Not a benchmark itself (Cargo only builds `benches/*.rs` as benchmarks).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use switchboard::ids::UserId;

use serde_json::json;
use switchboard::clock::SystemClock;
use switchboard::domain::auth::ApiToken;
use switchboard::domain::channels::{
    self, Channel, ChannelInput, ChannelKind, Credentials, QueueMode,
};
use switchboard::domain::tokens::{random_token, sha256};
use switchboard::domain::users::{self, NotifySettings, Role, User};
use switchboard::store::codec::{self, k1, k2};
use switchboard::store::tables::{API_TOKENS, API_TOKENS_BY_USER, USERS_BY_NAME};
use switchboard::store::{Store, WriteCtx};

pub const APP_SECRET: &str = "bench-app-secret";
/// Where WhatsApp replies go when a bench does not run a fake provider (nothing listens there).
pub const DEAD_API: &str = "http://127.0.0.1:9/v21.0";

pub fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

pub fn smoke() -> bool {
    std::env::var("BENCH_SMOKE").as_deref() == Ok("1")
}

/// The server binary: `BENCH_BIN`, else `$CARGO_TARGET_DIR/release/switchboard`.
pub fn binary() -> PathBuf {
    if let Ok(p) = std::env::var("BENCH_BIN") {
        return PathBuf::from(p);
    }
    let target = std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".into());
    PathBuf::from(target).join("release").join("switchboard")
}

/// The binary, or exit 2 with a hint; prints which one and how old it is.
pub fn require_binary() -> PathBuf {
    let bin = binary();
    let Ok(meta) = std::fs::metadata(&bin) else {
        eprintln!(
            "{} not found: run `cargo build --release` first (or set BENCH_BIN)",
            bin.display()
        );
        std::process::exit(2);
    };
    let age = meta
        .modified()
        .ok()
        .and_then(|m| m.elapsed().ok())
        .map(|d| format!("built {} min ago", d.as_secs() / 60))
        .unwrap_or_default();
    println!("server binary: {} ({age})", bin.display());
    bin
}

/// Where benchmark databases are kept between runs (`$CARGO_TARGET_DIR/bench-data`).
pub fn bench_data_dir() -> PathBuf {
    let target = std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".into());
    PathBuf::from(target).join("bench-data")
}

/// The load average right now (the box is shared: every report prints it).
pub fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn status_kb(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

pub fn mib(kb: u64) -> f64 {
    kb as f64 / 1024.0
}

/// The server as a child process on 127.0.0.1 with its own data directory.
pub struct Server {
    child: Option<Child>,
    pub base: String,
    pub pid: u32,
    pub spawned: Instant,
    log: Arc<Mutex<VecDeque<String>>>,
    lines: Arc<std::sync::atomic::AtomicU64>,
}

impl Server {
    /// Start `bin` on `dir` with a clean environment; `env` adds or overrides `SWITCHBOARD_*`
    /// settings (then `BENCH_SERVER_ENV`). Background jobs keep their defaults unless cleared.
    pub fn spawn(bin: &Path, dir: &Path, env: &[(&str, &str)]) -> Server {
        let port = free_port();
        let mut cmd = Command::new(bin);
        cmd.env_clear()
            .env("SWITCHBOARD_DATA_DIR", dir)
            .env("SWITCHBOARD_LISTEN", format!("127.0.0.1:{port}"))
            .env("SWITCHBOARD_PUBLIC_URL", format!("http://127.0.0.1:{port}"))
            .env("SWITCHBOARD_LOG__LEVEL", "warn")
            .env("SWITCHBOARD_LOG__FORMAT", "text")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        // Extra server environment for experiments, e.g.
        // BENCH_SERVER_ENV="MALLOC_ARENA_MAX=2,SWITCHBOARD_STORE__CACHE_SIZE_MB=8".
        if let Ok(extra) = std::env::var("BENCH_SERVER_ENV") {
            for kv in extra.split(',').filter(|kv| !kv.trim().is_empty()) {
                if let Some((k, v)) = kv.split_once('=') {
                    cmd.env(k.trim(), v.trim());
                }
            }
        }
        let spawned = Instant::now();
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
        let log = Arc::new(Mutex::new(VecDeque::new()));
        let lines = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let streams: [Option<Box<dyn Read + Send>>; 2] = [
            child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
            child
                .stderr
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
        ];
        for s in streams.into_iter().flatten() {
            let log = log.clone();
            let lines = lines.clone();
            // Keep draining so the child never blocks on a full pipe; keep the tail for errors.
            std::thread::spawn(move || {
                for line in BufReader::new(s).lines().map_while(Result::ok) {
                    lines.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let mut l = log.lock().unwrap();
                    if l.len() >= 50 {
                        l.pop_front();
                    }
                    l.push_back(line);
                }
            });
        }
        Server {
            pid: child.id(),
            child: Some(child),
            base: format!("http://127.0.0.1:{port}"),
            spawned,
            log,
            lines,
        }
    }

    /// Lines the server has written to stdout and stderr so far.
    pub fn log_lines(&self) -> u64 {
        self.lines.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Polls `/healthz` every millisecond until it answers 200; returns the time since spawn.
    pub fn wait_ready(&mut self, timeout: Duration) -> Duration {
        let addr = self.base.trim_start_matches("http://").to_string();
        loop {
            if healthz_ok(&addr) {
                return self.spawned.elapsed();
            }
            if let Some(c) = self.child.as_mut()
                && let Ok(Some(status)) = c.try_wait()
            {
                panic!("server exited with {status}:\n{}", self.log_tail());
            }
            if self.spawned.elapsed() > timeout {
                panic!("server not ready after {timeout:?}:\n{}", self.log_tail());
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// Whether the process has ended (crashed, or refused to start).
    pub fn exited(&mut self) -> bool {
        self.child
            .as_mut()
            .is_none_or(|c| !matches!(c.try_wait(), Ok(None)))
    }

    pub fn rss_kb(&self) -> u64 {
        status_kb(self.pid, "VmRSS:")
    }

    pub fn hwm_kb(&self) -> u64 {
        status_kb(self.pid, "VmHWM:")
    }

    /// Threads of the server process right now.
    pub fn threads(&self) -> u64 {
        status_kb(self.pid, "Threads:")
    }

    pub fn log_tail(&self) -> String {
        self.log
            .lock()
            .map(|l| l.iter().cloned().collect::<Vec<_>>().join("\n"))
            .unwrap_or_default()
    }

    /// SIGTERM and wait (so the database is closed cleanly and the next start needs no repair);
    /// SIGKILL after 20 s.
    pub fn stop(mut self) {
        self.stop_inner();
    }

    fn stop_inner(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = child.try_wait() {
                if !status.success() {
                    eprintln!(
                        "server exited with {status} after SIGTERM: not a clean shutdown (the next start repairs the database)"
                    );
                }
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        eprintln!("server did not stop within 20 s after SIGTERM; killing it");
        let _ = child.kill();
        let _ = child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop_inner();
    }
}

/// One raw `GET path` with an optional Bearer token on a new connection: the status and body
/// (None when nothing came back, e.g. the server went away).
pub fn raw_get(base: &str, path: &str, token: Option<&str>) -> Option<(u16, String)> {
    let addr = base.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(addr).ok()?;
    let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let req = format!("GET {path} HTTP/1.1\r\nHost: bench\r\n{auth}Connection: close\r\n\r\n");
    s.write_all(req.as_bytes()).ok()?;
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    let text = String::from_utf8_lossy(&buf).into_owned();
    let status = text.get(9..12)?.parse().ok()?;
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Some((status, body))
}

/// One raw `GET /healthz` (no client library: start-up timing should not include one).
fn healthz_ok(addr: &str) -> bool {
    let Ok(mut s) = std::net::TcpStream::connect(addr) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    if s.write_all(b"GET /healthz HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    buf.starts_with(b"HTTP/1.1 200")
}

/// Latency samples and their percentiles.
#[derive(Default, Clone)]
pub struct Lat(pub Vec<Duration>);

impl Lat {
    pub fn push(&mut self, d: Duration) {
        self.0.push(d);
    }
    pub fn sorted(&self) -> Vec<Duration> {
        let mut v = self.0.clone();
        v.sort_unstable();
        v
    }
    /// Nearest-rank percentile (`q` in 0..=1).
    pub fn p(&self, q: f64) -> Duration {
        let v = self.sorted();
        if v.is_empty() {
            return Duration::ZERO;
        }
        let i = ((v.len() as f64 * q).ceil() as usize).clamp(1, v.len()) - 1;
        v[i]
    }
    pub fn max(&self) -> Duration {
        self.0.iter().copied().max().unwrap_or_default()
    }
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// BASELINE A: a bare axum server answering `GET /` with "hello" (and POST with "ok"), on
/// this process's runtime. Returns its base URL.
pub async fn hello_server() -> String {
    let app = axum::Router::new().route(
        "/",
        axum::routing::get(|| async { "hello" }).post(|_b: axum::body::Bytes| async { "ok" }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

/// Open the database of `dir` for seeding (the server must not be running on it).
pub fn open_store(dir: &Path, cache_mb: u64) -> Store {
    Store::open(
        &dir.join("switchboard.redb"),
        cache_mb,
        1024,
        Arc::new(SystemClock),
    )
    .unwrap()
}

/// A user written directly (no password hashing: `password_hash` is copied from a user created
/// through `users::create`, or a placeholder for users who only use API tokens).
pub fn put_user_in(
    ctx: &mut WriteCtx<'_>,
    username: &str,
    role: Role,
    password_hash: &str,
) -> switchboard::error::Result<User> {
    let id = switchboard::ids::UserId(ctx.next_id("user")?);
    let u = User {
        id,
        username: username.into(),
        display_name: format!("Bench {username}"),
        email: String::new(),
        extension: String::new(),
        role,
        disabled: false,
        language: None,
        password_hash: password_hash.into(),
        created: ctx.now,
        notify: NotifySettings::default(),
        phone_routing_off: false,
    };
    ctx.txn
        .open_table(USERS_BY_NAME)?
        .insert(username.to_ascii_lowercase().as_bytes(), k1(id).as_slice())?;
    users::put_in(ctx, &u)?;
    Ok(u)
}

/// An API token for `user_id`, written directly; returns it in clear (`Authorization: Bearer`).
pub fn api_token_in(ctx: &mut WriteCtx<'_>, user_id: UserId) -> switchboard::error::Result<String> {
    let token = random_token("swb_", 32)?;
    let id = ctx.next_id("api_token")?;
    let t = ApiToken {
        id,
        user_id,
        name: "bench".into(),
        created: ctx.now,
        last_used: None,
        expires: None,
    };
    let hash = sha256(token.as_bytes());
    codec::put(&mut ctx.txn.open_table(API_TOKENS)?, &hash, &t)?;
    ctx.txn
        .open_table(API_TOKENS_BY_USER)?
        .insert(k2(user_id, id).as_slice(), hash.as_slice())?;
    Ok(token)
}

/// A WhatsApp channel with the bench's app secret; replies go to `api_base`. With
/// `owner_on_reply` the first agent who replies owns the session (`QueueMode::AutoOnReply`).
pub fn whatsapp_channel_in(
    ctx: &mut WriteCtx<'_>,
    actor: UserId,
    name: &str,
    phone_number_id: &str,
    api_base: &str,
    members: Vec<UserId>,
    owner_on_reply: bool,
) -> switchboard::error::Result<Channel> {
    channels::create_in(
        ctx,
        actor,
        &ChannelInput {
            kind: Some(ChannelKind::Whatsapp),
            name: Some(name.into()),
            credentials: Some(Credentials {
                phone_number_id: phone_number_id.into(),
                access_token: "bench-token".into(),
                app_secret: APP_SECRET.into(),
                verify_token: "bench-verify".into(),
                ..Default::default()
            }),
            api_base: Some(api_base.into()),
            members: Some(members),
            queue_mode: Some(if owner_on_reply {
                QueueMode::AutoOnReply
            } else {
                QueueMode::Manual
            }),
            ..Default::default()
        },
    )
}

/// A WhatsApp Cloud API text webhook (one message) and its `X-Hub-Signature-256`.
pub fn whatsapp_webhook(
    phone_number_id: &str,
    from: &str,
    name: &str,
    wamid: &str,
    text: &str,
) -> (String, String) {
    let ts = switchboard::clock::Clock::now_ms(&switchboard::clock::SystemClock) / 1000;
    let body = json!({"object": "whatsapp_business_account", "entry": [{"id": "WABA", "changes": [{
        "field": "messages", "value": {"messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550001111", "phone_number_id": phone_number_id},
        "contacts": [{"profile": {"name": name}, "wa_id": from}],
        "messages": [{"from": from, "id": wamid, "timestamp": ts.to_string(),
            "type": "text", "text": {"body": text}}]}}]}]})
    .to_string();
    let sig = switchboard::channels::signature::meta_signature_256(APP_SECRET, body.as_bytes());
    (body, sig)
}
