//! Reliability: a full disk answers 503 to writes (so providers retry) while reads go on, loses
//! nothing acknowledged, logs a line a minute rather than one per refusal, and recovers by
//! itself when space is freed.

use std::io::Write;
use std::process::Command;
use std::time::Duration;

use serde_json::json;

use crate::binary::Bin;
use crate::support::{Client, PASSWORD, TestServer, client_builder};

struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(size: &str) -> Tmpfs {
        let dir = tempfile::tempdir().unwrap();
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        assert!(ok, "mounting a small tmpfs needs root (CI runs as root)");
        Tmpfs { dir }
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

fn fill(path: &std::path::Path) -> std::fs::File {
    let mut f = std::fs::File::create(path).unwrap();
    let chunk = vec![7u8; 64 * 1024];
    loop {
        if f.write_all(&chunk).and_then(|_| f.sync_all()).is_err() {
            break;
        }
    }
    // Squeeze out the last bytes too.
    while f.write_all(&[7u8; 512]).and_then(|_| f.sync_all()).is_ok() {}
    f
}

/// Without the free-space reserve (`store.min_free_mb = 0`) the disk fills up under redb: the
/// commit fails, redb latches, and the writer's fallback reopens the file.
#[tokio::test]
async fn full_disk_without_a_reserve_answers_503_keeps_data_and_recovers_by_itself() {
    if std::env::var("SWITCHBOARD_SKIP_MOUNT").as_deref() == Ok("1") {
        return;
    }
    let fs = Tmpfs::mount("6m");
    let data = fs.dir.path().join("data");
    let t = TestServer::builder()
        .config(move |c| {
            c.data_dir = data;
            c.store.cache_size_mb = 4;
            c.store.min_free_mb = 0;
        })
        .start()
        .await;
    let (_, _) = t.user("before", "agent").await;
    let junk = fs.dir.path().join("junk");
    let f = fill(&junk);
    // Writes now fail cleanly with 503 and Retry-After; none is half-stored.
    let mut saw_503 = false;
    for i in 0..40 {
        let r = t
            .admin
            .post(
                "/api/v1/users",
                json!({"username": format!("during{i}"), "password": PASSWORD, "role": "agent"}),
            )
            .await;
        assert_ne!(r.status, 500, "{}", r.text());
        if r.status == 503 {
            assert!(r.header("retry-after").is_some());
            saw_503 = true;
            break;
        }
    }
    assert!(saw_503, "a full disk must surface as 503");
    // Free the space: the server recovers without a restart.
    drop(f);
    std::fs::remove_file(&junk).unwrap();
    let mut recovered = false;
    for _ in 0..100 {
        let r = t
            .admin
            .post(
                "/api/v1/users",
                json!({"username": "after", "password": PASSWORD, "role": "agent"}),
            )
            .await;
        if r.status == 201 {
            recovered = true;
            break;
        }
        // The admin's session may need a fresh login after the reopen; both are fine.
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(recovered, "writes must work again once space is free");
    let users = t.admin.get("/api/v1/users").await.json();
    let names: Vec<String> = users
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap().to_string())
        .collect();
    assert!(
        names.contains(&"before".to_string()) && names.contains(&"after".to_string()),
        "{names:?}"
    );
    Client::login(&t.base(), "before", PASSWORD).await;
    t.stop().await;
}

/// With the reserve (here 1 MiB of an 8 MiB file system), writes are refused before redb ever
/// meets a full disk: reads, the health check and the pages go on answering from the same open
/// file, the log gets one line instead of one per refused write, and writes come back by
/// themselves once space is freed. Against the real binary, whose log this test reads.
#[tokio::test]
async fn full_disk_refuses_writes_serves_reads_and_logs_once() {
    if std::env::var("SWITCHBOARD_SKIP_MOUNT").as_deref() == Ok("1") {
        return;
    }
    let fs = Tmpfs::mount("8m");
    let logs = tempfile::tempdir().unwrap();
    let data = fs.dir.path().join("data");
    let bin = Bin::new(
        &data,
        &[
            ("SWITCHBOARD_STORE__CACHE_SIZE_MB", "4"),
            ("SWITCHBOARD_STORE__MIN_FREE_MB", "1"),
            ("SWITCHBOARD_STORE__VERIFY_ON_START", "false"),
        ],
    )
    .logs_in(logs.path());
    let token = bin.admin_token("ada", PASSWORD);
    let mut srv = bin.serve().await.unwrap();
    let http = client_builder().build().unwrap();
    let base = srv.base.clone();
    let canned = |i: usize| {
        http.post(format!("{base}/api/v1/canned"))
            .bearer_auth(&token)
            .json(&json!({"shortcut": format!("c{i}"), "text": "Thanks, we are on it."}))
            .send()
    };
    assert_eq!(canned(0).await.unwrap().status(), 201);

    let junk = fs.dir.path().join("junk");
    let f = fill(&junk);
    let log_before = srv.log().lines().count();
    // Free space is probed when a write comes: the first one after the disk filled up finds
    // it (health says so from then on).
    assert_eq!(canned(0).await.unwrap().status(), 503);
    // Writes (a provider retrying at ~30/s) and reads side by side for 3 s.
    let writes = {
        let canned = &canned;
        async move {
            let mut refused = 0;
            for i in 1..=90 {
                let r = canned(i).await.unwrap();
                assert_eq!(r.status(), 503, "a write on a full disk");
                assert!(r.headers().get("retry-after").is_some());
                let body: serde_json::Value = r.json().await.unwrap();
                assert!(
                    body["error"]["message"]
                        .as_str()
                        .unwrap()
                        .contains("disk is full"),
                    "{body}"
                );
                refused += 1;
                tokio::time::sleep(Duration::from_millis(33)).await;
            }
            refused
        }
    };
    let reads = async {
        let mut served = 0;
        for _ in 0..30 {
            for (path, auth) in [
                ("/healthz", false),
                ("/api/v1/sessions", true),
                ("/api/v1/canned", true),
                ("/api/v1/users", true),
                ("/login", false),
            ] {
                let mut rb = http.get(format!("{base}{path}"));
                if auth {
                    rb = rb.bearer_auth(&token);
                }
                let r = rb.send().await.unwrap();
                assert_eq!(r.status(), 200, "{path} while the disk is full");
                let text = r.text().await.unwrap();
                if path == "/healthz" {
                    assert!(text.starts_with("degraded: disk full"), "{text}");
                }
                served += 1;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        served
    };
    let (refused, served) = tokio::join!(writes, reads);
    assert_eq!((refused, served), (90, 150));
    let during: Vec<String> = srv
        .log()
        .lines()
        .skip(log_before)
        .map(str::to_string)
        .collect();
    assert!(
        during.len() <= 3,
        "{refused} refused writes must not log a line each: {during:#?}"
    );
    assert!(
        during.iter().any(|l| l.contains("disk full")),
        "{during:#?}"
    );

    // Space freed: writes come back without a restart.
    drop(f);
    std::fs::remove_file(&junk).unwrap();
    let mut recovered = false;
    for i in 100..150 {
        if canned(i).await.unwrap().status() == 201 {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(recovered, "writes must work again once space is free");
    let h = http.get(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(h.text().await.unwrap(), "ok");
    let list: serde_json::Value = http
        .get(format!("{base}/api/v1/canned"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        list.as_array().unwrap().len(),
        2,
        "the one before and the one after: {list}"
    );
    assert!(srv.alive());
    srv.stop();
}
