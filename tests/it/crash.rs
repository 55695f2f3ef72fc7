//! Crash test: signed webhook load and agent replies against the real binary, killed with
//! SIGKILL at random moments. After every restart: each webhook that got 2xx is stored exactly
//! once, no reply reaches the provider twice, queued replies are delivered, `switchboard check`
//! passes. `CRASH_CYCLES=50` for the full run (default 5, CI-sized).

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::Mutex;

use crate::fakes::whatsapp::{self as wa, FakeWhatsApp};
use crate::support::Client;

struct Proc {
    child: Child,
    dir: std::path::PathBuf,
}

fn env_for(dir: &std::path::Path, port: u16) -> Vec<(String, String)> {
    vec![
        (
            "SWITCHBOARD_DATA_DIR".into(),
            dir.join("data").display().to_string(),
        ),
        ("SWITCHBOARD_LISTEN".into(), format!("127.0.0.1:{port}")),
        (
            "SWITCHBOARD_PUBLIC_URL".into(),
            format!("http://127.0.0.1:{port}"),
        ),
        ("SWITCHBOARD_LOG__LEVEL".into(), "warn".into()),
        (
            "SWITCHBOARD_JOBS__OUTBOUND_RETRY".into(),
            "*/1 * * * * *".into(),
        ),
    ]
}

fn cli(dir: &std::path::Path, port: u16, args: &[&str]) -> String {
    let cfg = dir.join("empty.toml");
    std::fs::write(&cfg, "").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .arg("--config")
        .arg(&cfg)
        .args(args)
        .envs(env_for(dir, port))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

impl Proc {
    async fn start(dir: &std::path::Path, port: u16) -> Proc {
        let cfg = dir.join("empty.toml");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join("server.log"))
            .unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_switchboard"))
            .arg("--config")
            .arg(&cfg)
            .arg("serve")
            .envs(env_for(dir, port))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        let p = Proc {
            child,
            dir: dir.to_path_buf(),
        };
        let http = reqwest::Client::new();
        for _ in 0..200 {
            if let Ok(r) = http
                .get(format!("http://127.0.0.1:{port}/healthz"))
                .send()
                .await
                && r.status() == 200
            {
                return p;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "server did not come up: {}",
            std::fs::read_to_string(p.dir.join("server.log")).unwrap_or_default()
        );
    }

    fn kill9(mut self) {
        let _ = Command::new("kill")
            .args(["-9", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }

    fn term(mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

fn cycles() -> usize {
    std::env::var("CRASH_CYCLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5)
}

async fn all_messages(c: &Client) -> Vec<Value> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(cur) => format!("/api/v1/sessions?scope=all&limit=200&cursor={cur}"),
            None => "/api/v1/sessions?scope=all&limit=200".to_string(),
        };
        let page = c.get(&path).await.json();
        for s in page["sessions"].as_array().unwrap() {
            let sid = s["id"].as_u64().unwrap();
            let mut before: Option<u64> = None;
            loop {
                let p = match before {
                    Some(b) => format!("/api/v1/sessions/{sid}/messages?limit=200&before={b}"),
                    None => format!("/api/v1/sessions/{sid}/messages?limit=200"),
                };
                let msgs = c.get(&p).await.json();
                let msgs = msgs.as_array().unwrap().clone();
                if msgs.is_empty() {
                    break;
                }
                before = msgs.first().and_then(|m| m["id"].as_u64());
                let n = msgs.len();
                out.extend(msgs);
                if n < 200 {
                    break;
                }
            }
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    out
}

#[tokio::test]
async fn sigkill_at_random_moments_loses_and_duplicates_nothing() {
    switchboard::tls::install_crypto_provider();
    let fake = FakeWhatsApp::start().await;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_path_buf();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    cli(
        &dir,
        port,
        &[
            "user",
            "add",
            "crash-admin",
            "--role",
            "admin",
            "--password",
            "crash-password-1",
        ],
    );
    let token = cli(&dir, port, &["token", "create", "--user", "crash-admin"]);
    let base = format!("http://127.0.0.1:{port}");
    let mut proc = Proc::start(&dir, port).await;
    let api = Client::with_bearer(&base, &token);
    let r = api
        .post(
            "/api/v1/channels",
            json!({"kind": "whatsapp", "name": "WA", "api_base": fake.base_url(),
                   "credentials": {"phone_number_id": wa::PHONE_NUMBER_ID, "access_token": wa::TOKEN, "app_secret": wa::APP_SECRET, "verify_token": wa::VERIFY_TOKEN}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let cid = r.json()["id"].as_u64().unwrap();

    let acked_in: Arc<Mutex<Vec<String>>> = Arc::default();
    let acked_out: Arc<Mutex<Vec<String>>> = Arc::default();
    let counter = Arc::new(AtomicU64::new(0));
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    for cycle in 0..cycles() {
        let stop = Arc::new(tokio::sync::Notify::new());
        let mut tasks = Vec::new();
        for worker in 0..8u64 {
            let (http, base, acked_in, acked_out, counter, api) = (
                http.clone(),
                base.clone(),
                acked_in.clone(),
                acked_out.clone(),
                counter.clone(),
                api.clone(),
            );
            tasks.push(tokio::spawn(async move {
                loop {
                    let n = counter.fetch_add(1, Ordering::Relaxed);
                    let wamid = format!("wamid.crash{n}");
                    let from = format!("49170{:07}", worker);
                    let body = wa::text_webhook(
                        wa::PHONE_NUMBER_ID,
                        &from,
                        "Crash",
                        &wamid,
                        &format!("in {n}"),
                        1_700_000_000,
                    );
                    let sig = wa::sign(wa::APP_SECRET, body.as_bytes());
                    match http
                        .post(format!("{base}/hooks/whatsapp/{cid}"))
                        .header("x-hub-signature-256", sig)
                        .header("content-type", "application/json")
                        .body(body)
                        .send()
                        .await
                    {
                        Ok(r) if r.status().is_success() => acked_in.lock().await.push(wamid),
                        Ok(_) | Err(_) => return,
                    }
                    if n % 3 == 0 {
                        // Reply in the newest session of this sender (the server may die mid-request).
                        let Ok(page) = api
                            .http
                            .get(api.url("/api/v1/sessions?scope=open&limit=20"))
                            .headers(api.headers(false))
                            .send()
                            .await
                        else {
                            return;
                        };
                        let Ok(sessions) = page.json::<Value>().await else {
                            return;
                        };
                        let sid = sessions["sessions"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .find(|s| s["contact_address"] == from.as_str())
                            .and_then(|s| s["id"].as_u64());
                        if let Some(sid) = sid {
                            let text = format!("reply {n}");
                            let sent = api
                                .http
                                .post(api.url(&format!("/api/v1/sessions/{sid}/messages")))
                                .headers(api.headers(true))
                                .json(&json!({"text": text}))
                                .send()
                                .await;
                            match sent {
                                Ok(r) if r.status().as_u16() == 201 => {
                                    acked_out.lock().await.push(text)
                                }
                                Ok(_) => {}
                                Err(_) => return,
                            }
                        }
                    }
                }
            }));
        }
        let wait = 150 + (cycle as u64 * 7919) % 500;
        tokio::time::sleep(Duration::from_millis(wait)).await;
        proc.kill9();
        drop(stop);
        for t in tasks {
            let _ = t.await;
        }
        proc = Proc::start(&dir, port).await;
    }
    // Let the outbox drain after the last restart.
    let mut msgs = Vec::new();
    for _ in 0..100 {
        msgs = all_messages(&api).await;
        if !msgs
            .iter()
            .any(|m| m["direction"] == "out" && m["status"] == "queued")
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let acked_in = acked_in.lock().await.clone();
    let acked_out = acked_out.lock().await.clone();
    // Inbound: every acknowledged webhook stored exactly once.
    let mut by_pid: HashMap<String, usize> = HashMap::new();
    for m in msgs.iter().filter(|m| m["direction"] == "in") {
        *by_pid
            .entry(m["provider_id"].as_str().unwrap_or_default().to_string())
            .or_default() += 1;
    }
    let lost: Vec<&String> = acked_in
        .iter()
        .filter(|w| !by_pid.contains_key(*w))
        .collect();
    assert!(lost.is_empty(), "acknowledged webhooks lost: {lost:?}");
    assert!(
        by_pid.values().all(|n| *n == 1),
        "a webhook was stored twice"
    );
    // Outbound: never sent twice; acknowledged replies are no longer queued.
    let mut sent: HashMap<String, usize> = HashMap::new();
    for b in fake.accepted() {
        if let Some(t) = b["text"]["body"].as_str() {
            *sent.entry(t.to_string()).or_default() += 1;
        }
    }
    let dup: Vec<_> = sent.iter().filter(|(_, n)| **n > 1).collect();
    assert!(dup.is_empty(), "replies sent twice: {dup:?}");
    let mut unknown = 0;
    for text in &acked_out {
        let m = msgs
            .iter()
            .find(|m| m["direction"] == "out" && m["text"] == text.as_str())
            .unwrap_or_else(|| panic!("acknowledged reply {text} lost"));
        match m["status"].as_str().unwrap() {
            "sent" | "delivered" | "read" => assert_eq!(
                sent.get(text),
                Some(&1),
                "{text} marked sent but the provider has {:?}",
                sent.get(text)
            ),
            "unknown" => unknown += 1,
            other => panic!("reply {text} ended {other}"),
        }
    }
    eprintln!(
        "crash test: {} cycles, {} webhooks acknowledged (lost 0, duplicated 0), {} replies acknowledged, {} delivered once, {} unknown (in flight at a kill; not resent), duplicates 0",
        cycles(),
        acked_in.len(),
        acked_out.len(),
        acked_out.len() - unknown,
        unknown
    );
    proc.term();
    let report = cli(&dir, port, &["check"]);
    assert!(report.contains("OK"), "{report}");
}
