//! Pages on a phone: Lighthouse (npm `lighthouse@12.2.3`, `tools/lighthouse`) in its default
//! mobile emulation (Moto G Power viewport, 4× CPU slowdown, slow 4G) against the RELEASE binary,
//! next to BASELINE: a bare HTML page (a heading, from a plain axum server in this process; it
//! has no favicon, hence its best-practices 96), measured by the same Lighthouse in the same run,
//! so a busy machine shows in both.
//!
//! ```text
//! cargo build --release && cargo bench --profile dev --bench lighthouse
//! ```
//! Knobs: `BENCH_BIN` (server binary, default `$CARGO_TARGET_DIR/release/switchboard`),
//! `LIGHTHOUSE_RUNS` (runs per page, 3; the median by performance score is reported),
//! `CHROME_PATH` (default `/usr/bin/chromium`), `LIGHTHOUSE_SAVE` (a directory for every run's
//! full JSON report, to read the audits behind a score). With `BENCH_SMOKE=1` (the CI smoke loop of
//! `./scripts/test`) it does nothing.
//!
//! Pages: login, the inbox, a conversation with 200 messages, an internal 1:1 chat with 40
//! messages, the admin page of a WhatsApp channel. The server's data is seeded through the
//! library before it starts; the signed-in pages carry a login cookie, as a browser would.
//! Reported per page: the performance, accessibility and best-practices scores, largest
//! contentful paint, total blocking time, and the JavaScript + CSS the page loads (bytes over
//! the wire, i.e. compressed, headers included), with every weighted accessibility and
//! best-practices audit below a full score and every performance audit Lighthouse flags
//! (score below 0.9) named.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::{Server, env_usize, open_store, put_user_in, whatsapp_channel_in};
use serde_json::{Value, json};
use switchboard::domain::auth;
use switchboard::domain::messages::{self, Ingested, NewInbound, NewOutbound, Status};
use switchboard::domain::users::Role;
use switchboard::ids::{SessionId, UserId};

struct Seeded {
    admin: UserId,
    colleague: UserId,
    channel: u64,
    session: u64,
}

fn seed(dir: &Path) -> Seeded {
    let store = open_store(dir, 8);
    store
        .write_blocking(|ctx| {
            let admin = put_user_in(ctx, "admin", Role::Admin, "x")?;
            let anna = put_user_in(ctx, "anna", Role::Agent, "x")?;
            let ch = whatsapp_channel_in(
                ctx,
                admin.id,
                "WhatsApp",
                "PN1",
                "http://127.0.0.1:9",
                vec![admin.id],
                false,
            )?;
            let start = ctx.now - 200 * 60_000;
            let mut sid = 0;
            for j in 0..200_i64 {
                ctx.now = start + j * 60_000;
                let text = format!(
                    "Message {j}: when can I come in for the appointment about the crown, and is parking free?"
                );
                if j % 2 == 0 || sid == 0 {
                    let r = messages::ingest_in(
                        ctx,
                        &ch,
                        &NewInbound {
                            provider_id: Some(format!("wamid.lh{j}")),
                            from: "4915112345678".into(),
                            contact_name: Some("Jonas Weber".into()),
                            text,
                            files: vec![],
                            at: Some(ctx.now),
                        },
                    )?;
                    let Ingested::Stored { session_id, .. } = r else {
                        panic!("seed message not stored: {r:?}");
                    };
                    sid = session_id.get();
                } else {
                    let out = NewOutbound {
                        text: text.clone(),
                        ..Default::default()
                    };
                    let mut m = messages::outbox::enqueue_in(
                        ctx,
                        &ch,
                        SessionId(sid),
                        &admin,
                        &out,
                        vec![],
                        text,
                    )?;
                    messages::outbox::unschedule_in(ctx, m.id)?;
                    messages::receipts::set_status_in(ctx, &mut m, Status::Delivered, None)?;
                }
            }
            Ok(Seeded {
                admin: admin.id,
                colleague: anna.id,
                channel: ch.id.get(),
                session: sid,
            })
        })
        .unwrap()
}

fn cookie(dir: &Path, uid: UserId) -> String {
    let store = open_store(dir, 8);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (token, _) = rt.block_on(auth::login(&store, uid)).unwrap();
    format!("{}={token}", switchboard::http::auth::COOKIE)
}

/// A 1:1 chat with the colleague and 40 messages, through the API as the page would.
async fn chat(base: &str, cookie: &str, colleague: UserId) -> u64 {
    let c = reqwest::Client::new();
    let post = |path: String, body: Value| {
        c.post(format!("{base}{path}"))
            .header("cookie", cookie)
            .header("origin", base)
            .json(&body)
            .send()
    };
    let r: Value = post("/api/v1/chats".into(), json!({"user_id": colleague}))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = r["chat"]["id"]
        .as_u64()
        .unwrap_or_else(|| panic!("no chat: {r}"));
    for i in 0..40 {
        let r = post(
            format!("/api/v1/chats/{id}/messages"),
            json!({"text": format!("Note {i}: Mrs Weber called about her crown, can you ring her back?")}),
        )
        .await
        .unwrap();
        assert!(r.status().is_success(), "{}", r.status());
    }
    id
}

struct Result_ {
    perf: f64,
    a11y: f64,
    bp: f64,
    lcp_ms: f64,
    tbt_ms: f64,
    js_css_kb: f64,
    below: Vec<String>,
}

fn lighthouse(tool: &Path, url: &str, cookie: Option<&str>, save: Option<&Path>) -> Result_ {
    let chrome = std::env::var("CHROME_PATH").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let mut cmd = Command::new("node");
    cmd.arg(tool.join("node_modules/lighthouse/cli/index.js"))
        .arg(url)
        .args([
            "--output=json",
            "--output-path=stdout",
            "--quiet",
            "--only-categories=performance,accessibility,best-practices",
            "--chrome-flags=--headless=new --no-sandbox --disable-gpu",
        ])
        .env("CHROME_PATH", chrome);
    if let Some(c) = cookie {
        cmd.arg(format!("--extra-headers={}", json!({ "Cookie": c })));
    }
    let out = cmd.output().expect("node runs lighthouse");
    assert!(
        out.status.success(),
        "lighthouse failed on {url}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    if let Some(p) = save {
        std::fs::write(p, &out.stdout).unwrap();
    }
    let r: Value = serde_json::from_slice(&out.stdout).expect("lighthouse JSON");
    let score = |c: &str| r["categories"][c]["score"].as_f64().unwrap_or(0.0) * 100.0;
    let num = |a: &str| r["audits"][a]["numericValue"].as_f64().unwrap_or(f64::NAN);
    let js_css: f64 = r["audits"]["resource-summary"]["details"]["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter(|i| {
                    matches!(
                        i["resourceType"].as_str(),
                        Some("script") | Some("stylesheet")
                    )
                })
                .filter_map(|i| i["transferSize"].as_f64())
                .sum()
        })
        .unwrap_or(0.0);
    let mut below = Vec::new();
    for cat in ["performance", "accessibility", "best-practices"] {
        for a in r["categories"][cat]["auditRefs"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let id = a["id"].as_str().unwrap_or_default();
            let w = a["weight"].as_f64().unwrap_or(0.0);
            let s = r["audits"][id]["score"].as_f64();
            // Performance: the weighted metrics, and the unweighted diagnostics/opportunities
            // Lighthouse flags (score below 0.9), with their display value.
            let flagged = if cat == "performance" {
                s.is_some_and(|s| s < 0.9)
            } else {
                w > 0.0 && s.is_some_and(|s| s < 1.0)
            };
            if flagged {
                match r["audits"][id]["displayValue"].as_str() {
                    Some(v) if !v.is_empty() => below.push(format!("{cat}/{id} ({v})")),
                    _ => below.push(format!("{cat}/{id}")),
                }
            }
        }
    }
    Result_ {
        perf: score("performance"),
        a11y: score("accessibility"),
        bp: score("best-practices"),
        lcp_ms: num("largest-contentful-paint"),
        tbt_ms: num("total-blocking-time"),
        js_css_kb: js_css / 1024.0,
        below,
    }
}

/// `save`: a directory for each run's full JSON report (`LIGHTHOUSE_SAVE`), `<slug>-<run>.json`.
fn median(
    tool: &Path,
    url: &str,
    cookie: Option<&str>,
    runs: usize,
    save: Option<(&Path, &str)>,
) -> Result_ {
    let mut all: Vec<Result_> = (0..runs.max(1))
        .map(|i| {
            let path = save.map(|(dir, slug)| dir.join(format!("{slug}-{i}.json")));
            lighthouse(tool, url, cookie, path.as_deref())
        })
        .collect();
    all.sort_by(|a, b| a.perf.total_cmp(&b.perf));
    all.swap_remove(all.len() / 2)
}

/// BASELINE: the smallest valid page (Lighthouse refuses a `text/plain` one) from a plain axum
/// server in this process.
async fn bare_page() -> String {
    const PAGE: &str = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
        <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
        <meta name=\"description\" content=\"Baseline\"><title>Baseline</title></head>\
        <body><main><h1>hello</h1></main></body></html>";
    let app = axum::Router::new().route(
        "/",
        axum::routing::get(|| async { axum::response::Html(PAGE) }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}/")
}

fn main() {
    if common::smoke() {
        // The CI smoke loop runs every bench; Lighthouse takes minutes per page and needs npm.
        println!("lighthouse: skipped with BENCH_SMOKE=1 (run it without, see the file's header)");
        return;
    }
    switchboard::tls::install_crypto_provider();
    let bin = common::require_binary();
    let tool = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tools/lighthouse");
    let st = Command::new(tool.join("install")).status().unwrap();
    assert!(st.success(), "tools/lighthouse/install failed");
    let runs = env_usize("LIGHTHOUSE_RUNS", 3);
    let save = std::env::var_os("LIGHTHOUSE_SAVE").map(PathBuf::from);
    if let Some(d) = &save {
        std::fs::create_dir_all(d).unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let s = seed(dir.path());
    let admin = cookie(dir.path(), s.admin);
    let mut server = Server::spawn(&bin, dir.path(), &[]);
    server.wait_ready(Duration::from_secs(10));
    let rt = tokio::runtime::Runtime::new().unwrap();
    let chat_id = rt.block_on(chat(&server.base, &admin, s.colleague));
    let baseline = rt.block_on(bare_page());

    println!(
        "Lighthouse 12.2.3, mobile emulation, median of {runs} by performance; load {}",
        common::loadavg()
    );
    println!(
        "{:<34} {:>5} {:>5} {:>5} {:>8} {:>7} {:>9}",
        "page", "perf", "a11y", "bp", "LCP ms", "TBT ms", "JS+CSS KB"
    );
    let pages: Vec<(&str, String, Option<&str>)> = vec![
        ("BASELINE bare page", baseline.clone(), None),
        ("login", format!("{}/login", server.base), None),
        (
            "inbox",
            format!("{}/chat/external", server.base),
            Some(&admin),
        ),
        (
            "conversation, 200 messages",
            format!("{}/chat/external/{}", server.base, s.session),
            Some(&admin),
        ),
        (
            "internal chat, 40 messages",
            format!("{}/chat/internal/{chat_id}", server.base),
            Some(&admin),
        ),
        (
            "admin: a channel",
            format!("{}/admin/channels/{}", server.base, s.channel),
            Some(&admin),
        ),
    ];
    let mut base_lcp = f64::NAN;
    for (name, url, c) in &pages {
        let slug: String = name
            .chars()
            .take_while(|&ch| ch != ',')
            .map(|ch| if ch.is_ascii_alphanumeric() { ch } else { '-' })
            .collect();
        let r = median(
            &tool,
            url,
            *c,
            runs,
            save.as_deref().map(|d| (d, slug.as_str())),
        );
        if name.starts_with("BASELINE") {
            base_lcp = r.lcp_ms;
        }
        println!(
            "{:<34} {:>5.0} {:>5.0} {:>5.0} {:>8.0} {:>7.0} {:>9.1}   LCP {:.2}× baseline",
            name,
            r.perf,
            r.a11y,
            r.bp,
            r.lcp_ms,
            r.tbt_ms,
            r.js_css_kb,
            r.lcp_ms / base_lcp
        );
        if !r.below.is_empty() {
            println!("    below full score: {}", r.below.join(", "));
        }
    }
    assert!(!server.exited(), "the server died: {}", server.log_tail());
    server.stop();
}
