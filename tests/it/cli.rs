//! The `switchboard` command itself: config errors, backup and check while the server runs,
//! user management through the control socket, TLS with HTTP/2.

use std::process::Command;

use serde_json::json;

use crate::support::{Client, PASSWORD, TestServer};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_switchboard"))
}

fn write_config(dir: &std::path::Path, extra: &str) -> std::path::PathBuf {
    let p = dir.join("switchboard.toml");
    std::fs::write(
        &p,
        format!(
            "data_dir = {:?}\nlisten = \"127.0.0.1:0\"\n{extra}",
            dir.display().to_string()
        ),
    )
    .unwrap();
    p
}

#[test]
fn config_check_names_unknown_keys_and_bad_values() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), "colour = \"blue\"\n");
    let out = bin()
        .args(["--config", cfg.to_str().unwrap(), "config", "check"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("colour"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    let cfg = write_config(dir.path(), "[jobs]\nsession_closure = \"every day\"\n");
    let out = bin()
        .args(["--config", cfg.to_str().unwrap(), "config", "check"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("session_closure"));
    let cfg = write_config(dir.path(), "");
    let out = bin()
        .args(["--config", cfg.to_str().unwrap(), "config", "check"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = bin()
        .args([
            "--config",
            "/nonexistent/switchboard.toml",
            "config",
            "check",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/switchboard.toml"));
}

#[test]
fn port_in_use_is_one_clear_line() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("c.toml");
    std::fs::write(
        &cfg,
        format!(
            "data_dir = {:?}\nlisten = \"127.0.0.1:{port}\"\n",
            dir.path().display().to_string()
        ),
    )
    .unwrap();
    let out = bin()
        .args(["--config", cfg.to_str().unwrap(), "serve"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("127.0.0.1:{port}")) && !err.contains("panicked"),
        "{err}"
    );
}

#[tokio::test]
async fn backup_check_and_users_work_while_the_server_runs() {
    let t = TestServer::start().await;
    let cfg = write_config(t.dir.path(), "");
    let cfg = cfg.to_str().unwrap().to_string();
    let dest = t.dir.path().join("online-backup.redb");
    let (c2, d2) = (cfg.clone(), dest.clone());
    let out = tokio::task::spawn_blocking(move || {
        bin()
            .args(["--config", &c2, "backup", d2.to_str().unwrap()])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(dest.exists());
    let report = switchboard::store::check_offline(&dest).unwrap();
    assert!(report.ok);
    let c2 = cfg.clone();
    let out = tokio::task::spawn_blocking(move || {
        bin().args(["--config", &c2, "check"]).output().unwrap()
    })
    .await
    .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("OK"));
    // A user added from the command line can log in at once.
    let c2 = cfg.clone();
    let out = tokio::task::spawn_blocking(move || {
        bin()
            .args([
                "--config",
                &c2,
                "user",
                "add",
                "carl",
                "--role",
                "agent",
                "--password",
                "carl-password-1",
            ])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Client::login(&t.base(), "carl", "carl-password-1").await;
    let c2 = cfg.clone();
    let out = tokio::task::spawn_blocking(move || {
        bin()
            .args(["--config", &c2, "token", "create", "--user", "carl"])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let token = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(token.starts_with("swb_"), "{token}");
    assert_eq!(
        Client::with_bearer(&t.base(), &token)
            .get("/api/v1/me")
            .await
            .json()["username"],
        "carl"
    );
    t.stop().await;
}

#[tokio::test]
async fn self_signed_tls_serves_http2_and_secure_cookies() {
    switchboard::tls::install_crypto_provider();
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = crate::support::test_config(dir.path());
    cfg.tls = switchboard::config::Tls::SelfSigned;
    let running =
        switchboard::server::start(cfg, std::sync::Arc::new(switchboard::clock::SystemClock))
            .await
            .unwrap();
    assert!(
        running
            .setup_url
            .as_deref()
            .unwrap()
            .starts_with("https://")
    );
    let fp = running.state.tls_fingerprint.clone().unwrap();
    assert_eq!(fp.len(), 32 * 3 - 1, "{fp}");
    let http = reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = http
        .get(format!("https://127.0.0.1:{}/healthz", running.addr.port()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.version(),
        reqwest::Version::HTTP_2,
        "HTTP/2 over TLS (ALPN)"
    );
    // The setup page shows the fingerprint so the admin can check it.
    let setup = running.setup_url.clone().unwrap().replace(
        &running.state.public_url.to_string(),
        &format!("https://127.0.0.1:{}", running.addr.port()),
    );
    let page = http.get(&setup).send().await.unwrap().text().await.unwrap();
    assert!(page.contains(&fp));
    // Cookies get Secure under TLS.
    let token = setup.split("token=").nth(1).unwrap();
    let r = http
        .post(format!("https://127.0.0.1:{}/setup", running.addr.port()))
        .header(
            "origin",
            format!("https://127.0.0.1:{}", running.addr.port()),
        )
        .form(&[
            ("token", token),
            ("username", "admin"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    let _ = json!({});
    let status = r.status();
    let cookie = r
        .headers()
        .get("set-cookie")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_else(|| panic!("no cookie; status {status}"));
    assert!(cookie.contains("Secure"), "{cookie}");
    running.stop().await;
}
