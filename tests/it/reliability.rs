//! Reliability: a full disk answers 503 (so providers retry), loses nothing acknowledged and
//! recovers by itself when space is freed.

use std::io::Write;
use std::process::Command;
use std::time::Duration;

use serde_json::json;

use crate::support::{Client, PASSWORD, TestServer};

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

#[tokio::test]
async fn full_disk_answers_503_keeps_data_and_recovers_by_itself() {
    if std::env::var("SWITCHBOARD_SKIP_MOUNT").as_deref() == Ok("1") {
        return;
    }
    let fs = Tmpfs::mount("6m");
    let data = fs.dir.path().join("data");
    let t = TestServer::builder()
        .config(move |c| {
            c.data_dir = data;
            c.store.cache_size_mb = 4;
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
