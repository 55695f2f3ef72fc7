//! API tokens (issue 24 item 3) against the running server: named, with creation, last-use
//! and expiry times; listed and revoked through the API, the Settings page (clicked in a
//! browser) and the command line; revoked by a password change or reset unless kept; not
//! revived by re-enabling a user; expired ones refused; tokens of an older database migrated.

use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};

use crate::browser::skip;
use crate::journeys::Journey;
use crate::support::read::wait_for;
use crate::support::{Client, PASSWORD, TestServer};

async fn new_token(c: &Client, body: Value) -> (u64, String) {
    let r = c.post("/api/v1/me/tokens", body).await;
    assert_eq!(r.status, 201, "{}", r.text());
    let j = r.json();
    (
        j["id"].as_u64().unwrap(),
        j["token"].as_str().unwrap().to_string(),
    )
}

async fn works(t: &TestServer, token: &str) -> bool {
    let r = Client::with_bearer(&t.base(), token)
        .get("/api/v1/me")
        .await;
    assert!(r.status == 200 || r.status == 401, "{}", r.text());
    r.status == 200
}

async fn listed(c: &Client) -> Vec<Value> {
    let r = c.get("/api/v1/me/tokens").await;
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()["tokens"].as_array().cloned().unwrap()
}

#[tokio::test]
async fn tokens_are_listed_with_last_use_revoked_and_expire() {
    let t = TestServer::start().await;
    let (_, anna) = t.user("anna", "agent").await;
    let (id, token) = new_token(&anna, json!({"name": "backup script"})).await;
    let (_, short) = new_token(&anna, json!({"name": "one day", "expires_in_days": 1})).await;
    let r = anna
        .post(
            "/api/v1/me/tokens",
            json!({"name": "x", "expires_in_days": 0}),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.text());
    let list = listed(&anna).await;
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["name"], "backup script");
    assert!(list[0]["created"].as_i64().unwrap() > 0);
    assert!(list[0]["last_used"].is_null() && list[0]["expires"].is_null());
    assert!(list[1]["expires"].as_i64().unwrap() > list[1]["created"].as_i64().unwrap());
    assert!(
        !list.iter().any(|x| x.to_string().contains("swb_")),
        "never shown again"
    );
    // A use is recorded.
    assert!(works(&t, &token).await);
    wait_for("last_used", || async {
        let l = listed(&anna).await;
        l[0]["last_used"].as_i64().map(|_| ())
    })
    .await;
    // Someone else cannot revoke it (404), its owner can; then it is refused.
    let (_, ben) = t.user("ben", "agent").await;
    assert_eq!(
        ben.delete(&format!("/api/v1/me/tokens/{id}")).await.status,
        404
    );
    assert!(works(&t, &token).await);
    assert_eq!(
        anna.delete(&format!("/api/v1/me/tokens/{id}")).await.status,
        204
    );
    assert!(!works(&t, &token).await);
    assert_eq!(listed(&anna).await.len(), 1);
    // Expiry: refused after a day (on the test clock).
    assert!(works(&t, &short).await);
    t.clock.advance_ms(24 * 3600 * 1000 + 1000);
    assert!(!works(&t, &short).await);
    t.stop().await;
}

#[tokio::test]
async fn password_change_and_reset_revoke_tokens_unless_kept() {
    let t = TestServer::start().await;
    let (uid, anna) = t.user("anna", "agent").await;
    let (_, a) = new_token(&anna, json!({"name": "a"})).await;
    // Kept explicitly.
    let r = anna
        .post(
            "/api/v1/me/password",
            json!({"current": PASSWORD, "new_password": "second-password-2", "keep_api_tokens": true}),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text());
    assert!(works(&t, &a).await);
    // By default a change revokes them.
    let anna = Client::login(&t.base(), "anna", "second-password-2").await;
    let r = anna
        .post(
            "/api/v1/me/password",
            json!({"current": "second-password-2", "new_password": "third-password-3"}),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text());
    assert!(!works(&t, &a).await);
    // An admin reset revokes them too, unless kept.
    let b = t.api_token(uid).await;
    let r = t
        .admin
        .post(
            &format!("/api/v1/users/{uid}/password"),
            json!({"password": "fourth-password-4", "keep_api_tokens": true}),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text());
    assert!(works(&t, &b).await);
    let r = t
        .admin
        .post(
            &format!("/api/v1/users/{uid}/password"),
            json!({"password": "fifth-password-5"}),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text());
    assert!(!works(&t, &b).await);
    t.stop().await;
}

#[tokio::test]
async fn reenabling_a_user_does_not_revive_old_tokens() {
    let t = TestServer::start().await;
    let (uid, _) = t.user("anna", "agent").await;
    let token = t.api_token(uid).await;
    assert!(works(&t, &token).await);
    let path = format!("/api/v1/users/{uid}");
    assert_eq!(
        t.admin.patch(&path, json!({"disabled": true})).await.status,
        200
    );
    assert!(!works(&t, &token).await);
    assert_eq!(
        t.admin
            .patch(&path, json!({"disabled": false}))
            .await
            .status,
        200
    );
    assert!(!works(&t, &token).await, "the old token stays dead");
    let r = t.admin.get(&format!("/api/v1/users/{uid}/tokens")).await;
    assert_eq!(r.json()["tokens"].as_array().unwrap().len(), 0);
    t.stop().await;
}

#[tokio::test]
async fn an_older_database_gets_its_tokens_indexed_and_dead_ones_dropped() {
    use redb::ReadableTable;
    use switchboard::store::tables;
    let mut t = TestServer::start().await;
    let (anna, _) = t.user("anna", "agent").await;
    let (ben, _) = t.user("ben", "agent").await;
    let keep = t.api_token(anna).await;
    let dead = t.api_token(ben).await;
    // As a schema-2 database had it: no per-user index, and a disabled user's token still
    // stored (it came back when the user was enabled again).
    t.state()
        .store
        .write(move |ctx| {
            ctx.txn
                .open_table(tables::API_TOKENS_BY_USER)?
                .retain(|_, _| false)?;
            let mut users = ctx.txn.open_table(tables::USERS)?;
            let key = ben.to_be_bytes();
            let raw = users.get(key.as_slice())?.unwrap().value().to_vec();
            let mut u: Value = serde_json::from_slice(&raw[1..]).unwrap();
            u["disabled"] = json!(true);
            let mut rec = vec![1u8];
            rec.extend(serde_json::to_vec(&u).unwrap());
            users.insert(key.as_slice(), rec.as_slice())?;
            ctx.txn
                .open_table(tables::META)?
                .insert(b"schema_version".as_slice(), 2u64.to_be_bytes().as_slice())?;
            Ok(())
        })
        .await
        .unwrap();
    t.restart().await;
    assert_eq!(t.count(tables::API_TOKENS_BY_USER).await, 1);
    assert_eq!(t.count(tables::API_TOKENS).await, 1);
    assert!(works(&t, &keep).await);
    let r = t.admin.get(&format!("/api/v1/users/{anna}/tokens")).await;
    assert_eq!(r.json()["tokens"][0]["name"], "test");
    let path = format!("/api/v1/users/{ben}");
    assert_eq!(
        t.admin
            .patch(&path, json!({"disabled": false}))
            .await
            .status,
        200
    );
    assert!(!works(&t, &dead).await);
    t.stop().await;
}

fn bin(cfg: &str, args: &[&str]) -> std::process::Output {
    let out = Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .args(["--config", cfg])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

#[tokio::test]
async fn the_command_line_lists_and_revokes_tokens() {
    let t = TestServer::start().await;
    let (uid, _) = t.user("carl", "agent").await;
    let token = t.api_token(uid).await;
    let cfg = t.dir.path().join("switchboard.toml");
    std::fs::write(
        &cfg,
        format!(
            "data_dir = {:?}\nlisten = \"127.0.0.1:0\"\n",
            t.dir.path().display().to_string()
        ),
    )
    .unwrap();
    let cfg = cfg.to_str().unwrap().to_string();
    let c = cfg.clone();
    let out = tokio::task::spawn_blocking(move || bin(&c, &["token", "list", "--user", "carl"]))
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let line = text.lines().find(|l| l.contains("carl")).expect(&text);
    assert!(line.contains("test") && line.contains("never"), "{text}");
    let id = line.split('\t').next().unwrap().to_string();
    let c = cfg.clone();
    let out = tokio::task::spawn_blocking(move || bin(&c, &["token", "revoke", &id]))
        .await
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("revoked"));
    assert!(!works(&t, &token).await);
    t.stop().await;
}

/// Anna opens Settings, sees her two tokens with their times, and revokes one by clicking; it
/// is gone from the page and refused by the server, the other still works.
#[tokio::test]
async fn settings_lists_api_tokens_and_revokes_one_by_clicking() {
    if skip() {
        return;
    }
    let j = Journey::start("settings_api_tokens").await;
    let (_, api) = j.t.user("anna", "agent").await;
    let (_, old) = new_token(&api, json!({"name": "old laptop script"})).await;
    let (_, keep) = new_token(
        &api,
        json!({"name": "report export", "expires_in_days": 30}),
    )
    .await;
    let anna = j.browser().phone().login("anna").await;
    anna.open("/settings").await;
    anna.see("API tokens").await;
    anna.see("old laptop script").await;
    anna.see("report export").await;
    anna.click("button[aria-label='Revoke: old laptop script']")
        .await;
    anna.see("Token revoked.").await;
    anna.assert_absent("button[aria-label='Revoke: old laptop script']")
        .await;
    anna.see("report export").await;
    assert!(!works(&j.t, &old).await);
    assert!(works(&j.t, &keep).await);
    anna.js("document.getElementById('api-tokens').scrollIntoView()")
        .await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    anna.screenshot().await;
    j.finish([anna]).await;
}
