//! Search benchmark: builds an index of synthetic messages and measures query latency next to
//! a naive-scan baseline measured in the same run.
//!
//! ```text
//! cargo bench --bench search                                  # 1,000,000 messages
//! SEARCH_BENCH_MESSAGES=20000 cargo bench --bench search      # CI smoke run
//! ```
//! Other knobs: `SEARCH_BENCH_CACHE_MB` (redb cache per database, default 64),
//! `SEARCH_BENCH_BATCH` (messages per write transaction, default 1000).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashSet;
use std::time::{Duration, Instant};
use switchboard::ids::{ChannelId, ChatId};

use redb::{Database, ReadableDatabase, TableDefinition};
use switchboard::search::{self, Scope};

/// Baseline table: key = !msg_id (BE, newest first), value = scope (9 bytes) + text.
const TEXTS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("bench_texts");

const VOCAB: usize = 50_000;
const CHANNELS: u64 = 20;
const CHATS: u64 = 280;
const LIMIT: usize = 20;
const INDEX_RUNS: usize = 200;
const BASELINE_RUNS: usize = 20;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        // splitmix64
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

/// Cumulative distribution of a Zipf law with exponent `s` over `n` ranks.
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

fn sample(cdf: &[f64], rng: &mut Rng) -> usize {
    let u = rng.unit();
    cdf.partition_point(|&c| c < u).min(cdf.len() - 1)
}

/// Word of a frequency rank: consonant-vowel syllables (no vowel pairs, so no digraph folding),
/// 2–3 syllables, rank scrambled so frequent words are not systematically short.
fn word(rank: usize) -> String {
    const C: &[u8] = b"bcdfghjklmnprstvwxyz";
    const V: &[u8] = b"aeiou";
    let mut n = (rank * 7919 + 13) % 990_000 + 10_000;
    let mut w = String::new();
    while n > 0 {
        let syl = n % 100;
        n /= 100;
        w.push(C[syl / 5] as char);
        w.push(V[syl % 5] as char);
    }
    w
}

fn scope_for(rng: &mut Rng, chat_cdf: &[f64]) -> Scope {
    if rng.unit() < 0.7 {
        Scope::Channel(ChannelId(1 + rng.below(CHANNELS)))
    } else {
        Scope::Chat(ChatId(1 + sample(chat_cdf, rng) as u64))
    }
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn file_size(path: &std::path::Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

fn proc_status(field: &str) -> String {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(field))
        .map(|l| l[field.len()..].trim().to_string())
        .unwrap_or_else(|| "n/a".into())
}

/// Bytes this process passed to write()/pwrite() so far (`wchar` in /proc/self/io).
fn written_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/io")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("wchar:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

fn open(path: &std::path::Path, cache_mb: usize) -> Database {
    Database::builder()
        .set_cache_size(cache_mb << 20)
        .create(path)
        .unwrap()
}

fn pct(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

struct Stats {
    p50: Duration,
    p95: Duration,
    p99: Duration,
    hits: f64,
}

fn measure(queries: &[String], runs: usize, mut f: impl FnMut(&str) -> usize) -> Stats {
    let mut times = Vec::with_capacity(runs);
    let mut hits = 0usize;
    for i in 0..runs {
        let q = &queries[i % queries.len()];
        let t = Instant::now();
        hits += f(q);
        times.push(t.elapsed());
    }
    times.sort();
    Stats {
        p50: pct(&times, 0.50),
        p95: pct(&times, 0.95),
        p99: pct(&times, 0.99),
        hits: hits as f64 / runs as f64,
    }
}

/// The naive baseline: newest-first scan of all texts, scope filter, lowercase substring AND.
fn naive(db: &Database, visible: &HashSet<Scope>, query: &str) -> usize {
    let words: Vec<String> = query.split_whitespace().map(str::to_lowercase).collect();
    let txn = db.begin_read().unwrap();
    let table = txn.open_table(TEXTS).unwrap();
    let mut n = 0;
    for entry in table.range::<&[u8]>(..).unwrap() {
        let (_, v) = entry.unwrap();
        let v = v.value();
        let Some(scope) = Scope::decode(&v[..9]) else {
            continue;
        };
        if !visible.contains(&scope) {
            continue;
        }
        let text = std::str::from_utf8(&v[9..]).unwrap().to_lowercase();
        if words.iter().all(|w| text.contains(w.as_str())) {
            n += 1;
            if n == LIMIT {
                break;
            }
        }
    }
    n
}

fn main() {
    let n = env_usize("SEARCH_BENCH_MESSAGES", 1_000_000);
    let cache_mb = env_usize("SEARCH_BENCH_CACHE_MB", 64);
    let batch = env_usize("SEARCH_BENCH_BATCH", 1000).max(1);
    let dir = tempfile::tempdir().unwrap();
    let index_path = dir.path().join("index.redb");
    let texts_path = dir.path().join("texts.redb");

    let word_cdf = zipf_cdf(VOCAB, 1.0);
    let chat_cdf = zipf_cdf(CHATS as usize, 1.0);
    let vocab: Vec<String> = (0..VOCAB).map(word).collect();

    // ---- build ------------------------------------------------------------------------------
    let index_db = open(&index_path, cache_mb);
    let size_before = file_size(&index_path);
    let texts_db = open(&texts_path, cache_mb);
    let mut rng = Rng(42);
    let (mut t_index, mut t_commit, mut t_texts) = (Duration::ZERO, Duration::ZERO, Duration::ZERO);
    let mut words_total = 0usize;
    let mut index_written = 0u64;
    let mut text_bytes = 0usize;
    let mut batch_msgs: Vec<(Scope, u64, String)> = Vec::with_capacity(batch);
    let build_start = Instant::now();
    let mut id = 0u64;
    while (id as usize) < n {
        batch_msgs.clear();
        while batch_msgs.len() < batch && (id as usize) < n {
            id += 1;
            let scope = scope_for(&mut rng, &chat_cdf);
            let len = 10 + rng.below(11) as usize;
            let mut text = String::with_capacity(len * 8);
            for i in 0..len {
                if i > 0 {
                    text.push(' ');
                }
                text.push_str(&vocab[sample(&word_cdf, &mut rng)]);
            }
            text.push('.');
            words_total += len;
            text_bytes += text.len();
            batch_msgs.push((scope, id, text));
        }
        let t = Instant::now();
        let txn = index_db.begin_write().unwrap();
        {
            let mut indexer = search::Indexer::new(&txn).unwrap();
            for (scope, id, text) in &batch_msgs {
                indexer.index(*scope, *id, text).unwrap();
            }
        }
        let t1 = Instant::now();
        let w0 = written_bytes();
        txn.commit().unwrap();
        index_written += written_bytes() - w0;
        t_index += t1 - t;
        t_commit += t1.elapsed();

        let t = Instant::now();
        let txn = texts_db.begin_write().unwrap();
        {
            let mut table = txn.open_table(TEXTS).unwrap();
            for (scope, id, text) in &batch_msgs {
                let mut v = Vec::with_capacity(9 + text.len());
                v.extend_from_slice(&scope.encode());
                v.extend_from_slice(text.as_bytes());
                table
                    .insert((!*id).to_be_bytes().as_slice(), v.as_slice())
                    .unwrap();
            }
        }
        txn.commit().unwrap();
        t_texts += t.elapsed();
    }
    let build_wall = build_start.elapsed();
    let stats = {
        let txn = index_db.begin_write().unwrap();
        let s = txn.stats().unwrap();
        let r = (s.stored_bytes(), s.metadata_bytes(), s.fragmented_bytes());
        txn.abort().unwrap();
        r
    };
    drop(index_db);
    drop(texts_db);
    let size_after = file_size(&index_path);
    let t = Instant::now();
    let mut index_db = open(&index_path, cache_mb);
    while index_db.compact().unwrap() {}
    drop(index_db);
    let compact_time = t.elapsed();
    let size_compacted = file_size(&index_path);
    let texts_size = file_size(&texts_path);
    let rss_after_build = proc_status("VmHWM:");

    // Reopen: empty redb caches (the OS page cache stays warm).
    let index_db = open(&index_path, cache_mb);
    let texts_db = open(&texts_path, cache_mb);
    let rss_open = proc_status("VmRSS:");

    // ---- queries ----------------------------------------------------------------------------
    let all: Vec<Scope> = (1..=CHANNELS)
        .map(|i| Scope::Channel(ChannelId(i)))
        .chain((1..=CHATS).map(|i| Scope::Chat(ChatId(i))))
        .collect();
    // A small user: one channel and four chats of various sizes.
    let few = vec![
        Scope::Channel(ChannelId(3)),
        Scope::Chat(ChatId(2)),
        Scope::Chat(ChatId(17)),
        Scope::Chat(ChatId(60)),
        Scope::Chat(ChatId(200)),
    ];
    let words_at = |ranks: std::ops::Range<usize>| -> Vec<String> {
        ranks.map(|r| vocab[r].clone()).collect()
    };
    let common = words_at(0..10);
    let medium = words_at(500..510);
    let rare = words_at(20_000..20_010);
    let prefix3: Vec<String> = words_at(500..510)
        .into_iter()
        .map(|w| w[..3].to_string())
        .collect();
    let two_cm: Vec<String> = (0..10)
        .map(|i| format!("{} {}", common[i], medium[i]))
        .collect();
    let two_mm: Vec<String> = (0..10)
        .map(|i| format!("{} {}", medium[i], vocab[600 + i]))
        .collect();
    let classes: Vec<(&str, &Vec<String>)> = vec![
        ("1 word, common (rank 1-10)", &common),
        ("1 word, medium (rank 501-510)", &medium),
        ("1 word, rare (rank 20001-20010)", &rare),
        ("prefix, 3 chars", &prefix3),
        ("2 words, common+medium", &two_cm),
        ("2 words, medium+medium", &two_mm),
    ];

    // Warm-up: touch the index once per query.
    for (_, qs) in &classes {
        for q in qs.iter() {
            let txn = index_db.begin_read().unwrap();
            search::search(&txn, &all, q, LIMIT, None).unwrap();
        }
    }

    println!();
    println!(
        "search bench: {n} messages, {} scopes, {:.1} words/msg, limit {LIMIT}, redb cache {cache_mb} MiB per db",
        all.len(),
        words_total as f64 / n as f64
    );
    println!(
        "{:<34} {:<8} {:>8} {:>8} {:>8} {:>6} | {:>10} {:>10} {:>6} | {:>9}",
        "query",
        "user",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "hits",
        "naive p50",
        "naive p95",
        "hits",
        "p95 ratio"
    );
    let few_set: HashSet<Scope> = few.iter().copied().collect();
    let all_set: HashSet<Scope> = all.iter().copied().collect();
    let mut worst_p95 = Duration::ZERO;
    for (name, qs) in &classes {
        for (user, scopes, set) in [("all 300", &all, &all_set), ("5 scopes", &few, &few_set)] {
            let idx = measure(qs, INDEX_RUNS, |q| {
                let txn = index_db.begin_read().unwrap();
                search::search(&txn, scopes, q, LIMIT, None).unwrap().len()
            });
            let base = measure(qs, BASELINE_RUNS, |q| naive(&texts_db, set, q));
            worst_p95 = worst_p95.max(idx.p95);
            println!(
                "{:<34} {:<8} {:>8.3} {:>8.3} {:>8.3} {:>6.1} | {:>10.2} {:>10.2} {:>6.1} | {:>8.1}x",
                name,
                user,
                ms(idx.p50),
                ms(idx.p95),
                ms(idx.p99),
                idx.hits,
                ms(base.p50),
                ms(base.p95),
                base.hits,
                base.p95.as_secs_f64() / idx.p95.as_secs_f64().max(1e-9),
            );
        }
    }
    println!();
    println!("worst index p95: {:.3} ms (target <= 50 ms)", ms(worst_p95));
    println!(
        "build: {:.1} s wall for index + baseline texts; index_message {:.2} us/msg ({:.0} msg/s), \
         index commits {:.2} s ({} msgs/txn), index total {:.0} msg/s; texts table {:.1} s",
        build_wall.as_secs_f64(),
        t_index.as_secs_f64() * 1e6 / n as f64,
        n as f64 / t_index.as_secs_f64(),
        t_commit.as_secs_f64(),
        batch,
        n as f64 / (t_index + t_commit).as_secs_f64(),
        t_texts.as_secs_f64(),
    );
    println!(
        "index file: {} B before, {} B after = {:.1} MiB, {:.1} B/msg ({:.2} B/word); \
         redb stored {:.1} MiB + metadata {:.1} MiB + fragmented {:.1} MiB",
        size_before,
        size_after,
        size_after as f64 / 1048576.0,
        (size_after - size_before) as f64 / n as f64,
        (size_after - size_before) as f64 / words_total as f64,
        stats.0 as f64 / 1048576.0,
        stats.1 as f64 / 1048576.0,
        stats.2 as f64 / 1048576.0,
    );
    println!(
        "after compaction ({:.1} s): {:.1} MiB = {:.1} B/msg ({:.2} B/word)",
        compact_time.as_secs_f64(),
        size_compacted as f64 / 1048576.0,
        size_compacted as f64 / n as f64,
        size_compacted as f64 / words_total as f64,
    );
    println!(
        "index commits wrote {:.1} MiB in total = {:.1} KiB per message (write amplification)",
        index_written as f64 / 1048576.0,
        index_written as f64 / 1024.0 / n as f64
    );
    println!(
        "baseline texts file: {:.1} MiB ({:.1} B/msg of which text {:.1} B/msg)",
        texts_size as f64 / 1048576.0,
        texts_size as f64 / n as f64,
        text_bytes as f64 / n as f64
    );
    println!(
        "memory: peak RSS (VmHWM) after build {rss_after_build}, RSS with both dbs reopened {rss_open}, \
         peak RSS at end {}",
        proc_status("VmHWM:")
    );
}
