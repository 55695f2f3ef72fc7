//! Helpers for the inbox tests: customer messages through the domain intake (the same write
//! path the webhooks use), delivery receipts, and an SSE reader.

#![allow(dead_code)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use switchboard::domain::messages::{self, Ingested, NewInbound, Status};

use crate::support::{Client, TestServer};

static PID: AtomicU64 = AtomicU64::new(1);

/// A customer message arrives on channel `cid`; returns (session id, message id).
pub async fn ingest(
    t: &TestServer,
    cid: u64,
    from: &str,
    name: Option<&str>,
    text: &str,
) -> (u64, u64) {
    let m = NewInbound {
        provider_id: Some(format!("test-{}", PID.fetch_add(1, Ordering::SeqCst))),
        from: from.to_string(),
        contact_name: name.map(str::to_string),
        text: text.to_string(),
        files: vec![],
        at: None,
    };
    let r = t
        .state()
        .store
        .write(move |ctx| {
            let ch = switchboard::domain::channels::get_in(ctx, cid)?;
            messages::ingest_in(ctx, &ch, &m)
        })
        .await
        .unwrap();
    match r {
        Ingested::Stored {
            session_id,
            message_id,
            ..
        } => (session_id, message_id),
        other => panic!("not stored: {other:?}"),
    }
}

/// Applies a delivery status to an outbound message, as a provider receipt would.
pub async fn set_status(t: &TestServer, mid: u64, status: Status, error: Option<&str>) {
    let error = error.map(str::to_string);
    t.state()
        .store
        .write(move |ctx| {
            let mut m = messages::get_in(ctx, mid)?;
            messages::receipts::set_status_in(ctx, &mut m, status, error.clone())
        })
        .await
        .unwrap();
}

/// Collects the raw text of an open `/api/v1/events` stream in the background.
pub struct SseReader {
    pub buf: Arc<Mutex<String>>,
    task: tokio::task::JoinHandle<()>,
}

impl SseReader {
    /// Connects (returns once the server answered, so later events are on this stream).
    pub async fn open(c: &Client) -> SseReader {
        let resp = c
            .http
            .get(c.url("/api/v1/events"))
            .headers(c.headers(false))
            .timeout(Duration::from_secs(120))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 200);
        let buf = Arc::new(Mutex::new(String::new()));
        let b = buf.clone();
        let task = tokio::spawn(async move {
            let mut s = resp.bytes_stream();
            while let Some(Ok(chunk)) = s.next().await {
                b.lock().unwrap().push_str(&String::from_utf8_lossy(&chunk));
            }
        });
        SseReader { buf, task }
    }

    pub fn text(&self) -> String {
        self.buf.lock().unwrap().clone()
    }

    /// Waits until the stream contains `needle` (up to `secs`); false on timeout.
    pub async fn wait_for(&self, needle: &str, secs: u64) -> bool {
        for _ in 0..secs * 20 {
            if self.text().contains(needle) {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        false
    }
}

impl Drop for SseReader {
    fn drop(&mut self) {
        self.task.abort();
    }
}
