//! Reading what the server holds, the way tests check it: through the API as a given user, or
//! straight from the store; and waiting, by the wall clock, until something becomes true.

use std::future::Future;
use std::time::{Duration, Instant};
use switchboard::ids::MessageId;

use serde_json::Value;

use super::client::Client;
use super::server::TestServer;

/// How long a test waits for something the server does in the background (delivery, media
/// fetch, an event), by the wall clock: a shared CI machine under load may be slow.
pub const PATIENCE: Duration = Duration::from_secs(30);

/// Polls `f` until it yields `Some` ([`PATIENCE`] at most).
pub async fn wait_for<T, F, Fut>(what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + PATIENCE;
    loop {
        if let Some(v) = f().await {
            return v;
        }
        if Instant::now() > deadline {
            panic!("timed out waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The session as `c` sees it (`GET /api/v1/sessions/{id}` → `session`).
pub async fn session(c: &Client, id: u64) -> Value {
    let r = c.get(&format!("/api/v1/sessions/{id}")).await;
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()["session"].clone()
}

/// The kinds of a session's timeline entries, oldest first.
pub async fn timeline_kinds(c: &Client, id: u64) -> Vec<String> {
    let r = c.get(&format!("/api/v1/sessions/{id}/timeline")).await;
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_string())
        .collect()
}

/// Every session the admin sees (200 at most).
pub async fn sessions(t: &TestServer) -> Vec<Value> {
    let r = t.admin.get("/api/v1/sessions?limit=200").await;
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()["sessions"].as_array().cloned().unwrap_or_default()
}

/// The messages of a session as the admin sees them (200 at most).
pub async fn messages(t: &TestServer, session_id: u64) -> Vec<Value> {
    let r = t
        .admin
        .get(&format!("/api/v1/sessions/{session_id}/messages?limit=200"))
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    r.json().as_array().cloned().unwrap_or_default()
}

/// The JSON of a stored message, read from the store (any direction).
pub async fn message(t: &TestServer, id: u64) -> Value {
    let m = t
        .state()
        .store
        .read(move |rtx| switchboard::domain::messages::get(rtx, MessageId(id)))
        .await
        .unwrap()
        .unwrap();
    serde_json::to_value(m).unwrap()
}

/// Waits until message `id` has `status`; returns it.
pub async fn wait_status(t: &TestServer, id: u64, status: &str) -> Value {
    let what = format!("message {id} to become {status}");
    wait_for(&what, || async {
        let m = message(t, id).await;
        (m["status"] == status).then_some(m)
    })
    .await
}

/// The actions of the audit log, newest first (1000 at most).
pub async fn audit_actions(t: &TestServer) -> Vec<String> {
    t.state()
        .store
        .read(|rtx| switchboard::domain::audit::list(rtx, None, 1000))
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect()
}

/// The admin's view of the newest session of channel `ch`.
pub async fn newest_session(t: &TestServer, ch: u64) -> Value {
    let list = t
        .admin
        .get(&format!("/api/v1/sessions?channel_id={ch}"))
        .await
        .json();
    list["sessions"][0].clone()
}
