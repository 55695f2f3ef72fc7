//! Pages and lists over a large database, and start-up to ready, against the RELEASE binary.
//!
//! ```text
//! cargo build --release && cargo bench --profile dev --bench pages   # 100,000 sessions, 1 M messages
//! BENCH_SMOKE=1 cargo bench --profile dev --bench pages              # 2,000 sessions, 20,000 messages (CI)
//! ```
//! Knobs: `BENCH_BIN` (server binary, default `$CARGO_TARGET_DIR/release/switchboard`),
//! `PAGES_BENCH_SESSIONS`, `PAGES_BENCH_MESSAGES`, `PAGES_BENCH_BIG` (messages in the one large
//! session), `BENCH_REQUESTS` (timed requests per endpoint, 500), `PAGES_BENCH_STARTS` (timed
//! start-ups, 5), `PAGES_BENCH_DIR` (where the database is built), `PAGES_BENCH_SEED_ONLY=1`
//! (build the database, measure nothing), `PAGES_BENCH_COLD=1` (drop the page cache before the
//! first start; needs root).
//!
//! Seeding writes the database through the library, not over HTTP: 10 WhatsApp channels,
//! sessions spread over 200 days, each a run of customer messages (`messages::ingest_in`),
//! agent replies (`messages::outbox::enqueue_in`, then taken out of the outbox and marked delivered)
//! and internal notes (`messages::add_note_in`), many sessions per write transaction. Sessions
//! whose customer went quiet more than 24 h ago are closed (as the closure job would), read
//! by the admin and the agents who see them; events older than 7 days are dropped (as the sweep
//! job would). The newest session holds `PAGES_BENCH_BIG` messages. A full-size database is kept
//! in `$CARGO_TARGET_DIR/bench-data/` and reused by the next run (delete it to rebuild).
//!
//! Users: `admin` (sees all channels), `agent` (member of 2 of the 10 channels, ~20 % of the
//! sessions) and `rare` (member of 1 channel that holds 0.5 % of the sessions, so its list has
//! to skip the most). The channels give a session to the first agent who replies, so `agent`
//! owns most sessions of its channels, `admin` those of the channels without members. Fresh login sessions are written before each run; requests carry the
//! cookie, as a browser does.
//!
//! Measured, one request at a time on one keep-alive connection (the server is otherwise idle;
//! background jobs are disabled so they do not run during the timing): `/healthz` 200 after
//! process spawn, then p50/p95/p99 of each page and API call next to BASELINE A (a bare axum
//! "hello" on this process, same client, same run).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use switchboard::ids::SessionId;
use switchboard::ids::UserId;

use common::{Lat, Server, env_usize, ms};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use switchboard::clock::{Clock, DAY_MS, HOUR_MS, SystemClock};
use switchboard::domain::channels::Channel;
use switchboard::domain::messages::{self, Ingested, NewInbound, NewOutbound, Status};
use switchboard::domain::passwords::Passwords;
use switchboard::domain::sessions::{self, ReadState};
use switchboard::domain::users::{self, NewUser, Role, User};
use switchboard::domain::{auth, channels};
use switchboard::store::codec::k1;
use switchboard::store::tables::EVENTS;

const CHANNELS: usize = 10;
const SEED_VERSION: u32 = 2;
/// Sessions per write transaction while seeding.
const CHUNK: usize = 500;
const SPAN_DAYS: i64 = 200;
const GAP_MS: i64 = 45_000;

#[derive(Serialize, Deserialize)]
struct Seeded {
    version: u32,
    sessions: usize,
    messages: usize,
    big: usize,
    admin: UserId,
    agent: u64,
    rare: u64,
    big_session: u64,
    /// A message id in the middle of the big session (for a `before=` page).
    big_middle: u64,
    seed_secs: f64,
}

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
}

const WORDS: &[&str] = &[
    "hello",
    "order",
    "delivery",
    "invoice",
    "thanks",
    "please",
    "tomorrow",
    "today",
    "when",
    "where",
    "package",
    "number",
    "address",
    "change",
    "cancel",
    "refund",
    "price",
    "available",
    "size",
    "colour",
    "store",
    "opening",
    "hours",
    "call",
    "back",
    "question",
    "problem",
    "broken",
    "replacement",
    "warranty",
    "payment",
    "card",
    "account",
    "password",
    "login",
    "appointment",
    "monday",
    "friday",
    "morning",
    "afternoon",
    "great",
    "perfect",
    "sorry",
    "late",
    "still",
    "waiting",
    "tracking",
    "parcel",
    "courier",
    "confirm",
];

fn text(rng: &mut Rng) -> String {
    let n = 4 + rng.below(16) as usize;
    let mut s = String::with_capacity(n * 8);
    for i in 0..n {
        if i > 0 {
            s.push(' ');
        }
        s.push_str(WORDS[rng.below(WORDS.len() as u64) as usize]);
    }
    s
}

#[derive(Clone, Copy)]
enum Kind {
    In,
    Out,
    Note,
}

fn kinds(rng: &mut Rng, n: usize) -> Vec<Kind> {
    (0..n)
        .map(|j| match (j, rng.below(100)) {
            (0, _) => Kind::In,
            (_, 0..60) => Kind::In,
            (_, 60..95) => Kind::Out,
            _ => Kind::Note,
        })
        .collect()
}

/// One session to write: who, where, when, what.
struct Plan {
    index: usize,
    channel: usize,
    address: String,
    name: String,
    start: i64,
    msgs: Vec<(Kind, String)>,
}

/// Writes one session's messages (and closes it when the customer went quiet > 24 h before
/// `now`); returns (session id, message ids in order).
fn write_session(
    ctx: &mut switchboard::store::WriteCtx<'_>,
    p: &Plan,
    chans: &[Channel],
    staff: &(User, User, User),
    now: i64,
    (mut sid, may_close): (u64, bool),
) -> switchboard::error::Result<(u64, Vec<switchboard::ids::MessageId>)> {
    let ch = &chans[p.channel];
    let (admin, agent, rare) = staff;
    let author = if p.channel == CHANNELS - 1 {
        rare
    } else if p.channel < 2 {
        agent
    } else {
        admin
    };
    let mut ids = Vec::with_capacity(p.msgs.len());
    let mut last_in = p.start;
    for (j, (kind, text)) in p.msgs.iter().enumerate() {
        ctx.now = p.start + j as i64 * GAP_MS;
        match kind {
            Kind::In => {
                let r = messages::ingest_in(
                    ctx,
                    ch,
                    &NewInbound {
                        provider_id: Some(format!("wamid.seed{}x{j}", p.index)),
                        from: p.address.clone(),
                        contact_name: Some(p.name.clone()),
                        text: text.clone(),
                        files: vec![],
                        at: Some(ctx.now),
                    },
                )?;
                let Ingested::Stored {
                    session_id,
                    message_id,
                    ..
                } = r
                else {
                    panic!("seed message not stored: {r:?}");
                };
                sid = session_id.get();
                last_in = ctx.now;
                ids.push(message_id);
            }
            Kind::Out => {
                let out = NewOutbound {
                    text: text.clone(),
                    ..Default::default()
                };
                let mut m = messages::outbox::enqueue_in(
                    ctx,
                    ch,
                    SessionId(sid),
                    author,
                    &out,
                    vec![],
                    text.clone(),
                )?;
                messages::outbox::unschedule_in(ctx, m.id)?;
                messages::receipts::set_status_in(ctx, &mut m, Status::Delivered, None)?;
                ids.push(m.id);
            }
            Kind::Note => {
                ids.push(messages::add_note_in(ctx, SessionId(sid), author, text)?.id);
            }
        }
    }
    if may_close && now - last_in > DAY_MS {
        ctx.now = last_in + DAY_MS;
        sessions::close_in(ctx, SessionId(sid), None, None, String::new())?;
        // Old conversations have been read by everyone who sees them.
        let last = sessions::get_in(ctx, SessionId(sid))?.last_message_id;
        let st = ReadState {
            last_read: last,
            muted: false,
        };
        sessions::set_read_state_in(ctx, admin.id, SessionId(sid), &st)?;
        if p.channel < 2 {
            sessions::set_read_state_in(ctx, agent.id, SessionId(sid), &st)?;
        }
        if p.channel == CHANNELS - 1 {
            sessions::set_read_state_in(ctx, rare.id, SessionId(sid), &st)?;
        }
    }
    Ok((sid, ids))
}

/// Drops the events this transaction wrote (after `before_seq`) if they are older than the
/// 7 days the sweep job keeps.
fn prune_events(
    ctx: &mut switchboard::store::WriteCtx<'_>,
    before_seq: u64,
) -> switchboard::error::Result<()> {
    let mut t = ctx.txn.open_table(EVENTS)?;
    let start = k1(before_seq + 1);
    t.retain_in::<&[u8], _>(start.as_slice().., |_, _| false)?;
    Ok(())
}

fn last_event_seq(ctx: &switchboard::store::WriteCtx<'_>) -> switchboard::error::Result<u64> {
    use redb::ReadableTable;
    let t = ctx.txn.open_table(EVENTS)?;
    Ok(match t.last()? {
        Some((k, _)) => switchboard::store::codec::u64_at(k.value(), 0)?,
        None => 0,
    })
}

fn seed(dir: &Path, n_sessions: usize, n_messages: usize, big: usize) -> Seeded {
    let t0 = Instant::now();
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).unwrap();
    let store = common::open_store(dir, 512);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let admin = rt
        .block_on(users::create(
            &store,
            &Passwords::default(),
            None,
            NewUser {
                username: "admin".into(),
                password: "bench-password-123".into(),
                display_name: "Bench Admin".into(),
                email: String::new(),
                extension: String::new(),
                role: Role::Admin,
                language: None,
            },
            true,
        ))
        .unwrap();
    let hash = admin.password_hash.clone();
    let admin_id = admin.id;
    let (agent, rare, chans) = store
        .write_blocking(move |ctx| {
            let agent = common::put_user_in(ctx, "agent", Role::Agent, &hash)?;
            let rare = common::put_user_in(ctx, "rare", Role::Agent, &hash)?;
            let mut chans = Vec::new();
            for c in 0..CHANNELS {
                let members = match c {
                    0 | 1 => vec![agent.id],
                    c if c == CHANNELS - 1 => vec![rare.id],
                    _ => vec![],
                };
                chans.push(common::whatsapp_channel_in(
                    ctx,
                    admin_id,
                    &format!("WhatsApp {c}"),
                    &format!("9000{c}"),
                    common::DEAD_API,
                    members,
                    true,
                )?);
            }
            Ok((agent, rare, chans))
        })
        .unwrap();
    let staff = (admin.clone(), agent.clone(), rare.clone());

    let now = SystemClock.now_ms();
    let keep_events_from = now - 7 * DAY_MS;
    let regular = n_sessions.saturating_sub(1).max(1);
    let spread = n_messages.saturating_sub(big).max(regular);
    let avg = spread / regular;
    let rem = spread % regular;
    let contacts = (n_sessions * 4 / 5).max(1);
    let big_len_ms = big as i64 * GAP_MS;
    let first = now - SPAN_DAYS * DAY_MS;
    let last_regular = now - big_len_ms - 2 * HOUR_MS;
    let mut rng = Rng(7);
    let mut pair_delta = 0usize;
    let mut written = 0usize;
    let mut next_report = 0usize;
    let mut i = 0;
    while i < regular {
        let end = (i + CHUNK).min(regular);
        let plans: Vec<Plan> = (i..end)
            .map(|k| {
                // Sizes vary in pairs around the mean (avg+d, avg-d) so the total is exact.
                let mut n = avg + usize::from(k < rem);
                if k % 2 == 0 && k + 1 < regular {
                    pair_delta = rng.below(avg.max(1) as u64) as usize;
                    n += pair_delta;
                } else if k % 2 == 1 {
                    n -= pair_delta;
                }
                // A contact writes on one channel; every fifth writes again months later
                // (a second session in its history).
                let c = k % contacts;
                let channel = if c % 200 == 199 {
                    CHANNELS - 1
                } else {
                    c % (CHANNELS - 1)
                };
                let start =
                    first + ((last_regular - first) as f64 * k as f64 / regular as f64) as i64;
                let kinds = kinds(&mut rng, n.max(1));
                Plan {
                    index: k,
                    channel,
                    address: format!("49{:010}", c),
                    name: format!("Customer {c}"),
                    start,
                    msgs: kinds.into_iter().map(|kd| (kd, text(&mut rng))).collect(),
                }
            })
            .collect();
        let n_msgs: usize = plans.iter().map(|p| p.msgs.len()).sum();
        let old = plans
            .last()
            .is_some_and(|p| p.start + (p.msgs.len() as i64 + 1) * GAP_MS < keep_events_from);
        let (chans2, staff2) = (chans.clone(), staff.clone());
        store
            .write_blocking(move |ctx| {
                let before = last_event_seq(ctx)?;
                for p in &plans {
                    write_session(ctx, p, &chans2, &staff2, now, (0, true))?;
                }
                if old {
                    prune_events(ctx, before)?;
                }
                Ok(())
            })
            .unwrap();
        written += n_msgs;
        i = end;
        if i >= next_report {
            println!(
                "  seeded {i} sessions, {written} messages ({:.0} s, {:.0} msg/s)",
                t0.elapsed().as_secs_f64(),
                written as f64 / t0.elapsed().as_secs_f64()
            );
            next_report += regular / 10 + 1;
        }
    }
    // The big session: the newest, open, on channel 0 (the agent sees it), written in pieces.
    let big_start = now - big_len_ms - HOUR_MS;
    let kinds = kinds(&mut rng, big.max(1));
    let mut all: Vec<(Kind, String)> = kinds.into_iter().map(|k| (k, text(&mut rng))).collect();
    let mut big_ids: Vec<switchboard::ids::MessageId> = Vec::with_capacity(big);
    let mut big_sid = 0;
    let mut offset = 0usize;
    while !all.is_empty() {
        let take = all.len().min(2000);
        let piece: Vec<(Kind, String)> = all.drain(..take).collect();
        let plan = Plan {
            // Provider ids must stay unique across the pieces.
            index: n_sessions + 1 + offset,
            channel: 0,
            address: "4900000000000".into(),
            name: "Big Customer".into(),
            start: big_start + offset as i64 * GAP_MS,
            msgs: piece,
        };
        offset += take;
        let (chans2, staff2) = (chans.clone(), staff.clone());
        let prev = big_sid;
        let (sid, ids) = store
            .write_blocking(move |ctx| {
                write_session(ctx, &plan, &chans2, &staff2, now, (prev, false))
            })
            .unwrap();
        big_sid = sid;
        big_ids.extend(ids);
    }
    written += big_ids.len();
    drop(store);
    let s = Seeded {
        version: SEED_VERSION,
        sessions: n_sessions,
        messages: written,
        big: big_ids.len(),
        admin: admin.id,
        agent: agent.id.get(),
        rare: rare.id.get(),
        big_session: big_sid,
        big_middle: big_ids.get(big_ids.len() / 2).map_or(0, |m| m.get()),
        seed_secs: t0.elapsed().as_secs_f64(),
    };
    std::fs::write(
        dir.join("seed.json"),
        serde_json::to_string_pretty(&s).unwrap(),
    )
    .unwrap();
    s
}

/// Fresh login sessions (the cached database may be older than the idle timeout).
fn logins(dir: &Path, s: &Seeded) -> (String, String, String) {
    let store = common::open_store(dir, 8);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let cookie = |uid| {
        let (token, _) = rt.block_on(auth::login(&store, uid)).unwrap();
        format!("{}={token}", switchboard::http::auth::COOKIE)
    };
    let out = (
        cookie(s.admin),
        cookie(UserId(s.agent)),
        cookie(UserId(s.rare)),
    );
    // Sanity: the agents' visibility is what the report says.
    let vis = store
        .read_blocking(|rtx| {
            Ok(CHANNELS
                - channels::list(rtx)?
                    .iter()
                    .filter(|c| c.members.is_empty())
                    .count())
        })
        .unwrap();
    assert_eq!(
        vis, 3,
        "expected channels 0, 1 and the rare one to have members"
    );
    drop(store);
    out
}

struct Endpoint {
    name: &'static str,
    url: String,
    cookie: String,
}

async fn time_endpoint(client: &reqwest::Client, e: &Endpoint, n: usize) -> (Lat, usize) {
    let mut lat = Lat::default();
    let mut bytes = 0;
    let warm = (n / 10).clamp(3, 30);
    for i in 0..warm + n {
        let t = Instant::now();
        let mut req = client.get(&e.url);
        if !e.cookie.is_empty() {
            req = req.header("cookie", &e.cookie);
        }
        let r = req.send().await.unwrap();
        let status = r.status();
        let body = r.bytes().await.unwrap();
        let d = t.elapsed();
        assert!(
            status.is_success(),
            "{} -> {status}: {}",
            e.url,
            String::from_utf8_lossy(&body[..body.len().min(300)])
        );
        if i >= warm {
            lat.push(d);
            bytes = body.len();
        }
    }
    (lat, bytes)
}

async fn get_json(client: &reqwest::Client, url: &str, cookie: &str) -> Value {
    client
        .get(url)
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

fn data_dir(
    n_sessions: usize,
    n_messages: usize,
    big: usize,
) -> (PathBuf, Option<tempfile::TempDir>) {
    if let Ok(d) = std::env::var("PAGES_BENCH_DIR") {
        return (PathBuf::from(d), None);
    }
    if common::smoke() {
        let t = tempfile::tempdir().unwrap();
        return (t.path().to_path_buf(), Some(t));
    }
    (
        common::bench_data_dir().join(format!(
            "pages-{n_sessions}-{n_messages}-{big}-v{SEED_VERSION}"
        )),
        None,
    )
}

fn main() {
    switchboard::tls::install_crypto_provider();
    let smoke = common::smoke();
    let n_sessions = env_usize("PAGES_BENCH_SESSIONS", if smoke { 2_000 } else { 100_000 });
    let n_messages = env_usize(
        "PAGES_BENCH_MESSAGES",
        if smoke { 20_000 } else { 1_000_000 },
    );
    let big = env_usize("PAGES_BENCH_BIG", if smoke { 1_000 } else { 10_000 });
    let requests = env_usize("BENCH_REQUESTS", if smoke { 20 } else { 500 });
    let starts = env_usize("PAGES_BENCH_STARTS", if smoke { 2 } else { 5 }).max(1);
    let bin = common::require_binary();
    let (dir, _tmp) = data_dir(n_sessions, n_messages, big);
    println!(
        "pages bench: {n_sessions} sessions, {n_messages} messages (one session of {big}), {requests} requests per endpoint; load {}",
        common::loadavg()
    );
    let seeded: Seeded = match std::fs::read_to_string(dir.join("seed.json"))
        .ok()
        .and_then(|s| serde_json::from_str::<Seeded>(&s).ok())
        .filter(|s| s.version == SEED_VERSION)
    {
        Some(s) => {
            println!(
                "reusing the database in {} (seeded in {:.0} s; delete the directory to rebuild)",
                dir.display(),
                s.seed_secs
            );
            s
        }
        None => {
            println!("seeding {} …", dir.display());
            seed(&dir, n_sessions, n_messages, big)
        }
    };
    let db_mib = std::fs::metadata(dir.join("switchboard.redb"))
        .map(|m| m.len())
        .unwrap_or(0) as f64
        / (1 << 20) as f64;
    println!(
        "database: {db_mib:.0} MiB, {} sessions, {} messages, big session {} ({} messages), seeded in {:.0} s",
        seeded.sessions, seeded.messages, seeded.big_session, seeded.big, seeded.seed_secs
    );
    if std::env::var("PAGES_BENCH_SEED_ONLY").as_deref() == Ok("1") {
        return;
    }
    let (admin, agent, rare) = logins(&dir, &seeded);

    // Background jobs off: their schedules would otherwise fire during the timing.
    let env = [
        ("SWITCHBOARD_JOBS__ATTACHMENT_CLEANUP", ""),
        ("SWITCHBOARD_JOBS__SESSION_CLOSURE", ""),
        ("SWITCHBOARD_JOBS__HISTORY_RETENTION", ""),
        ("SWITCHBOARD_JOBS__LOGIN_SESSION_SWEEP", ""),
    ];
    let mut ready = Lat::default();
    let mut srv = None;
    if std::env::var("PAGES_BENCH_COLD").as_deref() == Ok("1") {
        // The first start reads the database from disk, not from the page cache (needs root;
        // it empties the cache of the whole machine).
        let dropped = std::process::Command::new("sh")
            .args(["-c", "sync && echo 3 > /proc/sys/vm/drop_caches"])
            .status()
            .is_ok_and(|s| s.success());
        println!("  page cache dropped before the first start: {dropped}");
    }
    for k in 0..starts {
        let mut s = Server::spawn(&bin, &dir, &env);
        let d = s.wait_ready(Duration::from_secs(120));
        println!(
            "  start {}: ready after {:.1} ms (RSS {:.1} MiB)",
            k + 1,
            ms(d),
            common::mib(s.rss_kb())
        );
        ready.push(d);
        if k + 1 < starts {
            s.stop();
        } else {
            srv = Some(s);
        }
    }
    let srv = srv.unwrap();
    let load_start = common::loadavg();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(1)
        .timeout(Duration::from_secs(60))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let base = srv.base.clone();
    let results = rt.block_on(async {
        let hello = common::hello_server().await;
        // Walk 20 pages of the admin's list for a deep cursor.
        let mut cursor = String::new();
        for _ in 0..20 {
            let url = match cursor.as_str() {
                "" => format!("{base}/api/v1/sessions?limit=50"),
                c => format!("{base}/api/v1/sessions?limit=50&cursor={c}"),
            };
            let v = get_json(&client, &url, &admin).await;
            match v["next_cursor"].as_str() {
                Some(c) => cursor = c.to_string(),
                None => break,
            }
        }
        // Correctness, not speed: the lists show what each user may see.
        let first = get_json(&client, &format!("{base}/api/v1/sessions?limit=50"), &admin).await;
        let rows = first["sessions"].as_array().map_or(0, Vec::len);
        assert_eq!(rows, 50.min(seeded.sessions), "admin list rows");
        assert_eq!(
            first["sessions"][0]["id"].as_u64(),
            Some(seeded.big_session)
        );
        let ag = get_json(&client, &format!("{base}/api/v1/sessions?limit=50"), &agent).await;
        assert!(
            ag["sessions"]
                .as_array()
                .unwrap()
                .iter()
                .all(|s| s["channel_id"].as_u64().unwrap() <= 2),
            "agent sees only channels 1 and 2"
        );
        let big = seeded.big_session;
        let mid = seeded.big_middle;
        let eps = vec![
            Endpoint {
                name: "BASELINE A: bare axum hello",
                url: hello,
                cookie: String::new(),
            },
            Endpoint {
                name: "inbox page /chat/external (admin)",
                url: format!("{base}/chat/external"),
                cookie: admin.clone(),
            },
            Endpoint {
                name: "inbox page (agent, 2 of 10 channels)",
                url: format!("{base}/chat/external"),
                cookie: agent.clone(),
            },
            Endpoint {
                name: "inbox page (agent, 1 channel, 0.5 %)",
                url: format!("{base}/chat/external"),
                cookie: rare.clone(),
            },
            Endpoint {
                name: "  tab Unassigned (admin)",
                url: format!("{base}/chat/external?scope=unassigned"),
                cookie: admin.clone(),
            },
            Endpoint {
                name: "  tab Mine (agent)",
                url: format!("{base}/chat/external?scope=mine"),
                cookie: agent.clone(),
            },
            Endpoint {
                name: "GET /api/v1/sessions?limit=50 (admin)",
                url: format!("{base}/api/v1/sessions?limit=50"),
                cookie: admin.clone(),
            },
            Endpoint {
                name: "  same, agent (2 of 10 channels)",
                url: format!("{base}/api/v1/sessions?limit=50"),
                cookie: agent.clone(),
            },
            Endpoint {
                name: "  same, agent (1 channel, 0.5 %)",
                url: format!("{base}/api/v1/sessions?limit=50"),
                cookie: rare.clone(),
            },
            Endpoint {
                name: "  same, page 21 by cursor (admin)",
                url: format!("{base}/api/v1/sessions?limit=50&cursor={cursor}"),
                cookie: admin.clone(),
            },
            Endpoint {
                name: "  scope=open (agent)",
                url: format!("{base}/api/v1/sessions?limit=50&scope=open"),
                cookie: agent.clone(),
            },
            Endpoint {
                name: "session page /chat/external/{big} (admin)",
                url: format!("{base}/chat/external/{big}"),
                cookie: admin.clone(),
            },
            Endpoint {
                name: "  same, agent",
                url: format!("{base}/chat/external/{big}"),
                cookie: agent.clone(),
            },
            Endpoint {
                name: "GET /api/v1/sessions/{big}/messages?limit=50",
                url: format!("{base}/api/v1/sessions/{big}/messages?limit=50"),
                cookie: admin.clone(),
            },
            Endpoint {
                name: "  same, &before=<middle>",
                url: format!("{base}/api/v1/sessions/{big}/messages?limit=50&before={mid}"),
                cookie: admin.clone(),
            },
            Endpoint {
                name: "GET /api/v1/sessions/{big} (detail)",
                url: format!("{base}/api/v1/sessions/{big}"),
                cookie: admin.clone(),
            },
        ];
        let mut out = Vec::new();
        for e in &eps {
            let (lat, bytes) = time_endpoint(&client, e, requests).await;
            out.push((e.name, lat, bytes));
        }
        out
    });
    let load_end = common::loadavg();
    let rss = srv.rss_kb();
    let hwm = srv.hwm_kb();
    srv.stop();

    println!();
    println!(
        "start-up to ready (spawn -> /healthz 200), {starts} starts: min {:.1} ms, median {:.1} ms, max {:.1} ms   (target <= 300 ms)",
        ms(ready.p(0.0)),
        ms(ready.p(0.5)),
        ms(ready.max())
    );
    let base_p50 = results.first().map(|r| r.1.p(0.5)).unwrap_or_default();
    println!(
        "{:<46} {:>8} {:>8} {:>8} {:>8} {:>9} {:>8}",
        "endpoint", "p50 ms", "p95 ms", "p99 ms", "max ms", "bytes", "p50/A"
    );
    let mut missed = Vec::new();
    for (i, (name, lat, bytes)) in results.iter().enumerate() {
        let p95 = lat.p(0.95);
        println!(
            "{name:<46} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {:>9} {:>7.1}x",
            ms(lat.p(0.5)),
            ms(p95),
            ms(lat.p(0.99)),
            ms(lat.max()),
            bytes,
            lat.p(0.5).as_secs_f64() / base_p50.as_secs_f64().max(1e-9)
        );
        if i > 0 && p95 > Duration::from_millis(10) {
            missed.push(*name);
        }
    }
    println!(
        "server after the run: RSS {:.1} MiB, peak {:.1} MiB; load average {load_start} at the start of the timing, {load_end} at the end",
        common::mib(rss),
        common::mib(hwm)
    );
    if !missed.is_empty() {
        println!("p95 above the 10 ms target: {}", missed.join(", "));
    }
}
