//! Real-time stream: resume with Last-Event-ID under load, 100 times, nothing missing, nothing
//! duplicated, in order.

use std::collections::HashSet;
use std::time::Duration;

use futures_util::StreamExt;
use serde_json::json;
use switchboard::domain::{channels, messages};

use crate::support::{Client, TestServer};

/// Reads events from `/api/v1/events` after `last` until `max` events or `wait` passes.
async fn read_some(
    c: &Client,
    last: u64,
    max: usize,
    wait: Duration,
) -> Vec<(u64, serde_json::Value)> {
    let mut h = c.headers(false);
    h.insert("last-event-id", last.to_string().parse().unwrap());
    let resp = c
        .http
        .get(c.url("/api/v1/events"))
        .headers(h)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let mut stream = resp.bytes_stream();
    let mut buf = String::new();
    let mut out = Vec::new();
    let deadline = tokio::time::Instant::now() + wait;
    while out.len() < max {
        let chunk = match tokio::time::timeout_at(deadline, stream.next()).await {
            Ok(Some(Ok(c))) => c,
            _ => break,
        };
        buf.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(pos) = buf.find("\n\n") {
            let frame: String = buf.drain(..pos + 2).collect();
            let mut id = None;
            let mut data = None;
            for line in frame.lines() {
                if let Some(v) = line.strip_prefix("id:") {
                    id = v.trim().parse::<u64>().ok();
                } else if let Some(v) = line.strip_prefix("data:") {
                    data = serde_json::from_str::<serde_json::Value>(v.trim()).ok();
                }
            }
            if let (Some(id), Some(data)) = (id, data) {
                out.push((id, data));
            }
        }
    }
    out
    // Dropping the response here closes the connection mid-stream: that is the point.
}

#[tokio::test]
async fn drop_and_resume_100_times_under_load_loses_and_repeats_nothing() {
    let t = TestServer::start().await;
    let cid = t
        .channel(json!({"kind": "sms", "name": "SMS", "members": []}))
        .await;
    let store = t.state().store.clone();
    let total = 600u64;
    let writer = tokio::spawn(async move {
        for i in 0..total {
            let s = store.clone();
            s.write(move |ctx| {
                let ch = channels::get_in(ctx, cid)?;
                messages::ingest_in(
                    ctx,
                    &ch,
                    &messages::NewInbound {
                        provider_id: Some(format!("SM{i}")),
                        from: format!("+4930{:06}", i % 37),
                        contact_name: None,
                        text: format!("message {i}"),
                        files: vec![],
                        at: None,
                    },
                )
            })
            .await
            .unwrap();
            if i % 10 == 0 {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
    });
    let mut last = 0u64;
    let mut seen_seq = HashSet::new();
    let mut texts = Vec::new();
    for round in 0..100 {
        let batch = read_some(&t.admin, last, 3 + round % 7, Duration::from_millis(300)).await;
        for (id, data) in batch {
            assert!(
                id > last,
                "events arrive in order after Last-Event-ID {last}: got {id}"
            );
            assert!(seen_seq.insert(id), "event {id} delivered twice");
            last = id;
            if data["kind"] == "message.created" {
                texts.push(data["data"]["text"].as_str().unwrap().to_string());
            }
        }
    }
    writer.await.unwrap();
    // Drain the rest after the load stopped.
    loop {
        let batch = read_some(&t.admin, last, 1000, Duration::from_millis(500)).await;
        if batch.is_empty() {
            break;
        }
        for (id, data) in batch {
            assert!(id > last && seen_seq.insert(id));
            last = id;
            if data["kind"] == "message.created" {
                texts.push(data["data"]["text"].as_str().unwrap().to_string());
            }
        }
    }
    let expected: Vec<String> = (0..total).map(|i| format!("message {i}")).collect();
    assert_eq!(texts, expected, "every message exactly once, in order");
    t.stop().await;
}
