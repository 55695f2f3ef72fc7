//! Replays the kept corpus, `tests/corpus/{upload,livechat}/*.req`, on every run: hand-picked
//! hostile requests and every input that once found a bug.
//!
//! A corpus file is one HTTP request: a request line, header lines, an empty line (`\n\n`), then
//! the body bytes verbatim (CRLFs included). Placeholders in the request line and header values
//! are replaced with the fixture's ids and tokens: `{a}`, `{b}` (live-chat channels, see
//! [`Lc`]), `{sms}`, `{small}` (a WhatsApp channel limited to 1 MB; SMS channels take only MMS types), `{tok_a}`, `{tok_b}`,
//! `{tok_blocked}` (visitor tokens), `{token}` (an admin API token), `{own}` (the server's own
//! origin). Pseudo-headers, not sent:
//! - `x-corpus-expect: 201 | 2xx | 4xx | 413 …` — the status (class) the request must get;
//! - `x-corpus-chunk: N` — send the body in N-byte chunks (default: one piece);
//! - `x-corpus-fail-after: N` — the client vanishes after N bytes;
//! - `x-corpus-pad-to: N HH` — the body is padded with the byte 0xHH to N bytes (keeps the
//!   megabyte-sized entries small in the repository).
//!
//! Besides its expectation every request must get no 5xx, a 4xx in the JSON error shape with
//! nothing changed in the store, and a stored file with a safe name.

use std::io;
use std::net::SocketAddr;
use std::path::Path;
use switchboard::ids::UserId;

use axum::body::Body;
use axum::http::{HeaderName, HeaderValue, Method, Request};
use bytes::Bytes;

use super::livechat::Lc;
use super::{all_but_counters, call, changed, check_safe_name, snapshot, take_panics};

struct Fixture {
    lc: Lc,
    token: String,
    small: u64,
}

fn substitute(s: &str, f: &Fixture) -> String {
    s.replace("{a}", &f.lc.a.to_string())
        .replace("{b}", &f.lc.b.to_string())
        .replace("{sms}", &f.lc.sms.to_string())
        .replace("{small}", &f.small.to_string())
        .replace("{tok_a}", &f.lc.tok_a)
        .replace("{tok_b}", &f.lc.tok_b)
        .replace("{tok_blocked}", &f.lc.tok_blocked)
        .replace("{token}", &f.token)
        .replace("{own}", &f.lc.t.base())
}

struct Entry {
    req: Request<Body>,
    method: Method,
    expect: String,
}

fn parse(raw: &[u8], f: &Fixture) -> Result<Entry, String> {
    let split = raw
        .windows(2)
        .position(|w| w == b"\n\n")
        .ok_or("no empty line after the headers")?;
    let head = std::str::from_utf8(&raw[..split]).map_err(|e| e.to_string())?;
    let mut body = raw[split + 2..].to_vec();
    let mut lines = head.lines().filter(|l| !l.starts_with('#'));
    let first = lines.next().ok_or("no request line")?;
    let (method, uri) = first.split_once(' ').ok_or("bad request line")?;
    let mut builder = Request::builder()
        .method(Method::from_bytes(method.as_bytes()).map_err(|e| e.to_string())?)
        .uri(substitute(uri.trim(), f));
    let (mut expect, mut chunk, mut fail_after) = (String::from("any"), None, None);
    for line in lines {
        let (k, v) = line.split_once(':').ok_or(format!("bad header {line:?}"))?;
        let (k, v) = (k.trim().to_ascii_lowercase(), v.trim());
        match k.as_str() {
            "x-corpus-expect" => expect = v.to_string(),
            "x-corpus-chunk" => chunk = Some(v.parse::<usize>().map_err(|e| e.to_string())?),
            "x-corpus-fail-after" => {
                fail_after = Some(v.parse::<usize>().map_err(|e| e.to_string())?)
            }
            "x-corpus-pad-to" => {
                let (n, byte) = v.split_once(' ').ok_or("x-corpus-pad-to: N HH")?;
                let n = n.parse::<usize>().map_err(|e| e.to_string())?;
                let byte = u8::from_str_radix(byte, 16).map_err(|e| e.to_string())?;
                body.resize(n.max(body.len()), byte);
            }
            _ => {
                let name = HeaderName::from_bytes(k.as_bytes()).map_err(|e| e.to_string())?;
                let value = HeaderValue::from_bytes(substitute(v, f).as_bytes())
                    .map_err(|e| e.to_string())?;
                builder = builder.header(name, value);
            }
        }
    }
    let body = Bytes::from(body);
    let mut items: Vec<Result<Bytes, io::Error>> = Vec::new();
    let end = fail_after.unwrap_or(body.len()).min(body.len());
    let step = chunk.unwrap_or(end.max(1)).max(1);
    let mut pos = 0;
    while pos < end {
        let to = (pos + step).min(end);
        items.push(Ok(body.slice(pos..to)));
        pos = to;
    }
    if fail_after.is_some() {
        items.push(Err(io::Error::new(io::ErrorKind::ConnectionReset, "gone")));
    }
    let req = builder
        .body(Body::from_stream(futures_util::stream::iter(items)))
        .map_err(|e| e.to_string())?;
    let method = req.method().clone();
    Ok(Entry {
        req,
        method,
        expect,
    })
}

async fn replay(f: &Fixture, path: &Path) -> Result<(), String> {
    let raw = std::fs::read(path).map_err(|e| e.to_string())?;
    let e = parse(&raw, f)?;
    // Rate limits refill between entries.
    f.lc.t.clock.advance_ms(11_000);
    let store = &f.lc.t.state().store;
    let before = snapshot(store, all_but_counters()).await;
    let r = call(
        &f.lc.app,
        e.req,
        SocketAddr::from(([198, 51, 100, 7], 5000)),
    )
    .await;
    let panics = take_panics();
    if !panics.is_empty() {
        return Err(format!("panicked: {panics:?}"));
    }
    let text = String::from_utf8_lossy(&r.body).into_owned();
    let status = r.status.to_string();
    let ok = match e.expect.as_str() {
        "any" => r.status < 500,
        "2xx" => (200..300).contains(&r.status),
        "4xx" => (400..500).contains(&r.status),
        want => want == status,
    };
    if !ok || r.status >= 500 {
        return Err(format!("got {status} ({text}), expected {}", e.expect));
    }
    if r.status >= 400 {
        r.check_error(&e.method)?;
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        let diff = changed(&before, &snapshot(store, all_but_counters()).await);
        if !diff.is_empty() {
            return Err(format!("{status} ({text}) but the store changed: {diff:?}"));
        }
    }
    if let Some(j) = r.json() {
        for name in [&j["name"], &j["message"]["files"][0]["name"]] {
            if let Some(n) = name.as_str() {
                check_safe_name(n)?;
            }
        }
    }
    Ok(())
}

fn corpus_files() -> Vec<std::path::PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let mut out = Vec::new();
    for dir in ["upload", "livechat"] {
        let Ok(rd) = std::fs::read_dir(root.join(dir)) else {
            continue;
        };
        for e in rd.flatten() {
            if e.path().extension().is_some_and(|x| x == "req") {
                out.push(e.path());
            }
        }
    }
    out.sort();
    out
}

#[test]
fn kept_corpus_replays_clean() {
    let files = corpus_files();
    assert!(files.len() >= 20, "the corpus is missing: {files:?}");
    let rt = super::runtime();
    let failures = rt.block_on(async {
        let lc = Lc::start().await;
        let (token, _) = switchboard::domain::auth::create_api_token(
            &lc.t.state().store,
            UserId(lc.t.admin_id),
            "corpus",
            None,
            None,
        )
        .await
        .unwrap();
        let small = lc
            .t
            .channel(serde_json::json!({"kind": "whatsapp", "name": "Small", "max_file_mb": 1}))
            .await;
        let f = Fixture { lc, token, small };
        let mut failures = Vec::new();
        for path in &files {
            if let Err(e) = replay(&f, path).await {
                failures.push(format!("{}: {e}", path.display()));
            }
        }
        f.lc.t.stop().await;
        failures
    });
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
