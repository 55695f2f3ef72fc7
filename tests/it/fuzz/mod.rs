//! Hostile-input property tests for the parsers we own that take raw bytes from the network
//! beyond the provider webhooks (those are in `src/channels/fuzz_tests.rs`): the streamed
//! upload (raw and multipart, `upload`) and the live-chat visitor API (`livechat`), plus the
//! replay of the hand-picked corpus in `tests/corpus/` (`corpus`).
//!
//! Bounded time: every property runs `PROPTEST_CASES` cases when that is set, otherwise its own
//! small default (a few seconds each on the 2-core CI box). Failures are persisted as seeds in
//! `tests/proptest-regressions/<property>.txt` and replayed first on every run; the input of a
//! failure worth keeping goes into `tests/corpus/` as a file (see `corpus.rs` for the format).
//!
//! ```text
//! cargo test --test it fuzz::                        # CI size
//! PROPTEST_CASES=2000 cargo test --test it fuzz::    # a longer hunt
//! ```

pub mod corpus;
pub mod livechat;
pub mod upload;

use std::net::SocketAddr;
use std::sync::{Mutex, Once};
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, Response};
use http_body_util::BodyExt;
use proptest::test_runner::{Config, FileFailurePersistence, TestRunner};
use redb::ReadableTable;
use serde_json::Value;
use sha2::{Digest, Sha256};
use switchboard::store::Store;
use switchboard::store::tables::{self, Def};
use tower::ServiceExt;

/// Cases for one property: `PROPTEST_CASES` if set, else `default`.
pub fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

/// A runner whose failures are persisted to (and replayed from) `regressions`, a path relative
/// to the package root such as `tests/proptest-regressions/upload_stream.txt`.
pub fn runner(regressions: &'static str, default_cases: u32) -> TestRunner {
    let path: &'static str =
        Box::leak(format!("{}/{regressions}", env!("CARGO_MANIFEST_DIR")).into_boxed_str());
    TestRunner::new(Config {
        cases: cases(default_cases),
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(path))),
        // Shrinking replays whole HTTP exchanges: keep it bounded.
        max_shrink_time: 120_000,
        ..Config::default()
    })
}

/// A runtime for one property. Its threads are named `fuzz-…` so a panic on any of them (a
/// spawned task, a blocking read such as the thumbnailer) is noticed by [`take_panics`] even
/// where the code under test turns the panic into an error or just logs it.
pub fn runtime() -> tokio::runtime::Runtime {
    watch_panics();
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("fuzz-rt")
        .enable_all()
        .build()
        .unwrap()
}

static PANICS: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn watch_panics() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let prev = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let name = std::thread::current().name().unwrap_or("").to_string();
            if (name.starts_with("fuzz-") || name == "store-writer")
                && let Ok(mut p) = PANICS.lock()
            {
                p.push(format!("{name}: {info}"));
            }
            prev(info);
        }));
    });
}

/// Panics seen on the runtime's threads since the last call.
pub fn take_panics() -> Vec<String> {
    PANICS
        .lock()
        .map(|mut p| std::mem::take(&mut *p))
        .unwrap_or_default()
}

/// A response read back from the in-process router.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub content_type: String,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// [`check_error_shape`](Self::check_error_shape), except that an answer to HEAD may have
    /// no body (the server drops it on the wire anyway) as long as it is typed JSON.
    pub fn check_error(&self, method: &axum::http::Method) -> Result<(), String> {
        if *method == axum::http::Method::HEAD && self.body.is_empty() {
            if self.content_type.starts_with("application/json") {
                return Ok(());
            }
            return Err(format!("HEAD {}: {}", self.status, self.content_type));
        }
        self.check_error_shape()
    }

    /// The one JSON error shape: `{"error":{"code":"…","message":"…"}}` with a non-empty code.
    pub fn check_error_shape(&self) -> Result<(), String> {
        let ok = self.content_type.starts_with("application/json")
            && self.json().is_some_and(|j| {
                j["error"]["code"].as_str().is_some_and(|c| !c.is_empty())
                    && j["error"]["message"].is_string()
            });
        if ok {
            Ok(())
        } else {
            Err(format!(
                "{} without the JSON error shape ({}): {}",
                self.status,
                self.content_type,
                String::from_utf8_lossy(&self.body)
            ))
        }
    }
}

/// Send one request through the whole application router (every layer the server has), as if
/// from `peer`. Event streams (which never end) are not read.
pub async fn call(app: &axum::Router, mut req: Request<Body>, peer: SocketAddr) -> Reply {
    req.extensions_mut().insert(ConnectInfo(peer));
    let resp: Response<Body> = app.clone().oneshot(req).await.unwrap();
    let status = resp.status().as_u16();
    let content_type = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let body = if content_type.starts_with("text/event-stream") {
        Vec::new()
    } else {
        tokio::time::timeout(Duration::from_secs(30), resp.into_body().collect())
            .await
            .expect("response body within 30 s")
            .map(|b| b.to_bytes().to_vec())
            .unwrap_or_default()
    };
    Reply {
        status,
        content_type,
        body,
    }
}

/// The attachment tables.
pub const ATTACHMENT_TABLES: &[Def] = &[
    tables::ATTACHMENTS,
    tables::ATTACHMENT_CHUNKS,
    tables::ATTACHMENTS_BY_CREATED,
    tables::ATTACHMENT_UPLOADS,
    tables::ATTACHMENT_THUMBS,
];

/// Every table but `counters`: a refused request may burn an id (an upload reserves its id
/// before the first byte), which is harmless; any other change is not.
/// Every table but the id counters and the API tokens: a token's last use is bookkeeping,
/// written (at most once a minute) by any request it authenticates, refused ones included.
pub fn all_but_counters() -> Vec<Def> {
    let skip = [
        redb::TableHandle::name(&tables::COUNTERS),
        redb::TableHandle::name(&tables::API_TOKENS),
    ];
    tables::ALL
        .iter()
        .copied()
        .filter(|d| !skip.contains(&redb::TableHandle::name(d)))
        .collect()
}

/// A fingerprint of `defs`: per table its length and a hash of every key and value (values
/// over 4 KiB, i.e. file chunks, by length only — they are never rewritten in place).
pub async fn snapshot(store: &Store, defs: Vec<Def>) -> Vec<(String, u64, String)> {
    store
        .read(move |rtx| {
            let mut out = Vec::new();
            for def in &defs {
                let t = rtx.open_table(*def)?;
                let mut h = Sha256::new();
                let mut n = 0u64;
                for item in t.iter()? {
                    let (k, v) = item?;
                    let (k, v) = (k.value(), v.value());
                    h.update((k.len() as u64).to_be_bytes());
                    h.update(k);
                    h.update((v.len() as u64).to_be_bytes());
                    if v.len() <= 4096 {
                        h.update(v);
                    }
                    n += 1;
                }
                out.push((
                    redb::TableHandle::name(def).to_string(),
                    n,
                    hex::encode(h.finalize()),
                ));
            }
            Ok(out)
        })
        .await
        .unwrap()
}

/// The tables whose fingerprint differs.
pub fn changed(before: &[(String, u64, String)], after: &[(String, u64, String)]) -> Vec<String> {
    before
        .iter()
        .zip(after)
        .filter(|(b, a)| b != a)
        .map(|(b, a)| format!("{} ({} -> {} rows)", b.0, b.1, a.1))
        .collect()
}

/// A name that is safe to show and to save: no path separator, no control or bidi character.
pub fn check_safe_name(name: &str) -> Result<(), String> {
    let bad = name.chars().find(|c| {
        matches!(c, '/' | '\\' | '\0')
            || c.is_control()
            || matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
    });
    if let Some(c) = bad {
        return Err(format!("unsafe character {c:?} in stored name {name:?}"));
    }
    if name.is_empty() || name.starts_with('.') || name.chars().count() > 150 {
        return Err(format!("bad stored name {name:?}"));
    }
    Ok(())
}

/// Outcome counts of one property, printed at its end (`--nocapture`) so a run shows what it
/// exercised: the cases run and how they ended.
#[derive(Default)]
pub struct Tally(Mutex<std::collections::BTreeMap<String, u32>>);

impl Tally {
    pub fn add(&self, what: impl Into<String>) {
        if let Ok(mut m) = self.0.lock() {
            *m.entry(what.into()).or_default() += 1;
        }
    }

    pub fn print(&self, property: &str) {
        if let Ok(m) = self.0.lock() {
            let total: u32 = m.values().sum();
            let parts: Vec<String> = m.iter().map(|(k, v)| format!("{k}: {v}")).collect();
            eprintln!("{property}: {total} cases ({})", parts.join(", "));
        }
    }
}
