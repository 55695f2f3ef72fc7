//! Internal-chat search end to end, and the server's memory with a large database open.
//!
//! ```text
//! cargo bench --bench chat_search                 # 1,000,000 chat messages
//! BENCH_SMOKE=1 cargo bench --bench chat_search   # 20,000 messages (CI smoke run)
//! ```
//! Knobs: `CHAT_BENCH_MESSAGES` (overrides the count), `CHAT_BENCH_DIR` (where the database is
//! built; reused when it is complete, so a second run only measures).
//!
//! Build: 200 colleagues, 280 group chats (5–40 members, Zipf-sized traffic), the measuring user
//! in 60 of them; messages of 10–20 words from a 50,000-word Zipf(1.0) vocabulary, stored through
//! `chats::send_in` exactly like the API does (record, time index, search index, chat and member
//! state, persisted `chat.message` event), 1000 messages per group commit.
//!
//! Measure, in a fresh child process (so its memory is the server's, not the builder's): start
//! the real server (`server::start`, default config: redb cache 32 MiB) on the database, log in,
//! read VmRSS, then time one-word queries through `GET /api/v1/search` (HTTP, auth, scopes, index,
//! loading each hit's message and names, JSON) and through `chats::search_messages` in-process.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use switchboard::ids::ChatId;
use switchboard::ids::UserId;

use switchboard::clock::SystemClock;
use switchboard::config::Config;
use switchboard::domain::chats::{self, NewChatMessage};
use switchboard::domain::users::{self, NewUser, NotifySettings, Role, User};
use switchboard::store::Store;
use switchboard::store::codec::k1;
use switchboard::store::tables::USERS_BY_NAME;

const VOCAB: usize = 50_000;
const USERS: usize = 200;
const GROUPS: usize = 280;
const MY_GROUPS: usize = 60;
const BATCH: usize = 1000;
const PASSWORD: &str = "bench-password-123";

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn zipf_cdf(n: usize, s: f64) -> Vec<f64> {
    let mut acc = 0.0;
    let mut cdf: Vec<f64> = (1..=n)
        .map(|r| {
            acc += 1.0 / (r as f64).powf(s);
            acc
        })
        .collect();
    for x in &mut cdf {
        *x /= acc;
    }
    cdf
}

fn pick(cdf: &[f64], rng: &mut Rng) -> usize {
    let u = rng.unit();
    cdf.partition_point(|&c| c < u).min(cdf.len() - 1)
}

/// Word of vocabulary rank `r` (0-based): letters only, so it is one token.
fn word(r: usize) -> String {
    const SYL: [&str; 16] = [
        "ka", "lo", "mi", "ne", "ru", "sa", "te", "vo", "bi", "da", "fe", "go", "hu", "ji", "po",
        "zu",
    ];
    let mut n = r + 1;
    let mut s = String::new();
    while n > 0 {
        s.push_str(SYL[n % 16]);
        n /= 16;
    }
    s
}

fn messages_wanted() -> usize {
    if let Ok(v) = std::env::var("CHAT_BENCH_MESSAGES") {
        return v.parse().unwrap();
    }
    if std::env::var("BENCH_SMOKE").as_deref() == Ok("1") {
        20_000
    } else {
        1_000_000
    }
}

fn config(dir: &Path) -> Config {
    let mut c = Config {
        data_dir: dir.to_path_buf(),
        listen: "127.0.0.1:0".into(),
        ..Default::default()
    };
    c.log.level = "warn".into();
    for j in [
        &mut c.jobs.attachment_cleanup,
        &mut c.jobs.session_closure,
        &mut c.jobs.history_retention,
        &mut c.jobs.outbound_retry,
        &mut c.jobs.login_session_sweep,
    ] {
        j.clear();
    }
    c
}

fn status_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn build(dir: &Path, n: usize) {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).unwrap();
    let cfg = config(dir);
    let store = Store::open(
        &cfg.db_path(),
        cfg.store.cache_size_mb,
        cfg.store.max_batch,
        Arc::new(SystemClock),
    )
    .unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let pw = switchboard::domain::passwords::Passwords::default();
    // The measuring user can log in; the other colleagues are written directly.
    let me = rt
        .block_on(users::create(
            &store,
            &pw,
            None,
            NewUser {
                username: "bench".into(),
                password: PASSWORD.into(),
                display_name: "Bench".into(),
                email: String::new(),
                extension: String::new(),
                role: Role::Agent,
                language: None,
            },
            true,
        ))
        .unwrap();
    let others: Vec<User> = store
        .write_blocking(|ctx| {
            let mut v = Vec::new();
            for i in 0..USERS {
                let id = ctx.next_id("user")?;
                let name = format!("user{i}");
                let u = User {
                    id: UserId(id),
                    username: name.clone(),
                    display_name: format!("User {i}"),
                    email: String::new(),
                    extension: format!("{}", 100 + i),
                    role: Role::Agent,
                    disabled: false,
                    language: None,
                    password_hash: "x".into(),
                    created: ctx.now,
                    notify: NotifySettings::default(),
                    phone_routing_off: false,
                };
                ctx.txn
                    .open_table(USERS_BY_NAME)?
                    .insert(name.as_bytes(), k1(id).as_slice())?;
                users::put_in(ctx, &u)?;
                v.push(u);
            }
            Ok(v)
        })
        .unwrap();
    let mut rng = Rng(42);
    // Groups: creator is one of the colleagues; the bench user is in the first MY_GROUPS.
    let mut groups: Vec<(u64, Vec<usize>)> = Vec::new();
    for g in 0..GROUPS {
        let size = 5 + rng.below(36) as usize;
        let mut members: Vec<usize> = Vec::new();
        while members.len() < size {
            let m = rng.below(USERS as u64) as usize;
            if !members.contains(&m) {
                members.push(m);
            }
        }
        let creator = others[members[0]].clone();
        let mut ids: Vec<UserId> = members[1..].iter().map(|&m| others[m].id).collect();
        if g < MY_GROUPS {
            ids.push(UserId(me.id.get()));
        }
        let id = store
            .write_blocking(move |ctx| {
                chats::create_group_in(ctx, &creator, &format!("group {g}"), &ids)
            })
            .unwrap()
            .id;
        groups.push((id.get(), members));
    }
    let vocab = zipf_cdf(VOCAB, 1.0);
    let traffic = zipf_cdf(GROUPS, 0.8);
    let started = Instant::now();
    let mut done = 0;
    while done < n {
        let k = BATCH.min(n - done);
        let mut batch: Vec<(u64, User, String)> = Vec::with_capacity(k);
        for _ in 0..k {
            let (gid, members) = &groups[pick(&traffic, &mut rng)];
            let author = others[members[rng.below(members.len() as u64) as usize]].clone();
            let words = 10 + rng.below(11) as usize;
            let text: Vec<String> = (0..words).map(|_| word(pick(&vocab, &mut rng))).collect();
            batch.push((*gid, author, text.join(" ")));
        }
        store
            .write_blocking(move |ctx| {
                for (gid, author, text) in &batch {
                    chats::send_in(ctx, author, ChatId(*gid), text, &NewChatMessage::default())?;
                }
                Ok(())
            })
            .unwrap();
        done += k;
        if done % 100_000 == 0 {
            eprintln!(
                "  built {done} messages in {:.1} s",
                started.elapsed().as_secs_f64()
            );
        }
    }
    let secs = started.elapsed().as_secs_f64();
    // Live bytes of the search index tables (keys + values).
    let (entries, bytes) = store
        .read_blocking(|rtx| {
            let (mut n, mut b) = (0u64, 0u64);
            for def in [switchboard::search::POSTINGS, switchboard::search::EPOCHS] {
                use redb::ReadableTable;
                for item in rtx.open_table(def)?.iter()? {
                    let (k, v) = item?;
                    n += 1;
                    b += (k.value().len() + v.value().len()) as u64;
                }
            }
            Ok((n, b))
        })
        .unwrap();
    drop(store);
    std::fs::write(
        dir.join("complete"),
        format!(
            "{n} messages built in {secs:.1} s ({:.0} msg/s, {BATCH} per commit); search index {entries} entries, {:.1} MiB live ({:.0} B/message)\n",
            n as f64 / secs,
            bytes as f64 / 1048576.0,
            bytes as f64 / n as f64
        ),
    )
    .unwrap();
}

fn pct(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

/// The child: the real server on the built database.
fn serve_and_measure(dir: &Path) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        switchboard::tls::install_crypto_provider();
        let rss_before = status_kb("VmRSS:");
        let t0 = Instant::now();
        let running = switchboard::server::start(config(dir), Arc::new(SystemClock))
            .await
            .unwrap();
        let open_ms = t0.elapsed().as_secs_f64() * 1e3;
        let rss_open = status_kb("VmRSS:");
        let base = format!("http://{}", running.addr);
        let http = reqwest::Client::new();
        let r = http
            .post(format!("{base}/api/v1/session"))
            .json(&serde_json::json!({"username": "bench", "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
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
        let smoke = std::env::var("BENCH_SMOKE").as_deref() == Ok("1");
        let runs = if smoke { 20 } else { 200 };
        let user = running
            .state
            .store
            .read(|rtx| users::get_by_name(rtx, "bench"))
            .await
            .unwrap()
            .unwrap();
        println!(
            "{:<32} {:>9} {:>9} {:>9} {:>7} | {:>9} {:>9}",
            "one-word query (limit 20)", "http p50", "http p95", "http p99", "hits", "fn p50", "fn p95"
        );
        let mut worst = 0f64;
        for (label, lo) in [
            ("common (rank 1-10)", 0usize),
            ("medium (rank 501-510)", 500),
            ("rare (rank 20001-20010)", 20_000),
            ("absent word", usize::MAX),
        ] {
            let mut http_ms = Vec::new();
            let mut fn_ms = Vec::new();
            let mut hits = 0usize;
            for i in 0..runs {
                let q = if lo == usize::MAX {
                    "zzqqxx".to_string()
                } else {
                    word(lo + i % 10)
                };
                let t = Instant::now();
                let body: serde_json::Value = http
                    .get(format!("{base}/api/v1/search?q={q}"))
                    .header("cookie", &cookie)
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                http_ms.push(t.elapsed().as_secs_f64() * 1e3);
                hits += body["results"].as_array().map(Vec::len).unwrap_or(0);
                let u = user.clone();
                let t = Instant::now();
                running
                    .state
                    .store
                    .read(move |rtx| chats::search_messages(rtx, &u, &q, None, 20))
                    .await
                    .unwrap();
                fn_ms.push(t.elapsed().as_secs_f64() * 1e3);
            }
            let p95 = pct(&mut http_ms, 0.95);
            worst = worst.max(p95);
            println!(
                "{:<32} {:>9.3} {:>9.3} {:>9.3} {:>7.1} | {:>9.3} {:>9.3}",
                label,
                pct(&mut http_ms, 0.50),
                p95,
                pct(&mut http_ms, 0.99),
                hits as f64 / runs as f64,
                pct(&mut fn_ms, 0.50),
                pct(&mut fn_ms, 0.95),
            );
        }
        println!("worst one-word p95 over HTTP: {worst:.3} ms (target <= 50 ms)");
        println!(
            "server memory: RSS before start {} kB, with the database open {} kB (open took {open_ms:.0} ms), after the queries {} kB, peak {} kB",
            rss_before,
            rss_open,
            status_kb("VmRSS:"),
            status_kb("VmHWM:")
        );
        running.stop().await;
    });
    std::thread::sleep(Duration::from_millis(50));
}

fn main() {
    if let Ok(dir) = std::env::var("CHAT_BENCH_SERVE") {
        serve_and_measure(Path::new(&dir));
        return;
    }
    let n = messages_wanted();
    let dir: PathBuf = std::env::var("CHAT_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| std::env::temp_dir().join(format!("switchboard-chat-bench-{n}")));
    let marker = dir.join("complete");
    if !marker.exists() {
        eprintln!("building {n} chat messages in {}", dir.display());
        build(&dir, n);
    }
    let db = dir.join("switchboard.redb");
    println!(
        "chat search bench: {n} chat messages, {USERS} colleagues, {GROUPS} groups (the user in {MY_GROUPS}), 10-20 words/msg"
    );
    println!(
        "build: {}",
        std::fs::read_to_string(&marker).unwrap().trim()
    );
    println!(
        "database file: {:.1} MiB ({:.0} B/message incl. records, index, event log)",
        std::fs::metadata(&db).unwrap().len() as f64 / 1048576.0,
        std::fs::metadata(&db).unwrap().len() as f64 / n as f64
    );
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .env("CHAT_BENCH_SERVE", &dir)
        .status()
        .unwrap();
    assert!(status.success());
}
