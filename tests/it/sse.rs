//! Real-time stream: resume with Last-Event-ID under load, 100 times, nothing missing, nothing
//! duplicated, in order.

use std::collections::HashSet;
use std::time::Duration;

use serde_json::json;

use crate::support::customer::{inbound, intake_on, stored};
use crate::support::{Client, Event, EventStream, TestServer};

/// Reads events after `last` until `max` events or `wait` passes, then drops the connection
/// mid-stream: that is the point.
async fn read_some(c: &Client, last: u64, max: usize, wait: Duration) -> Vec<Event> {
    EventStream::resume(c, last).await.collect(max, wait).await
}

#[tokio::test]
async fn drop_and_resume_100_times_under_load_loses_and_repeats_nothing() {
    let t = TestServer::start().await;
    let cid = t
        .channel(json!({"kind": "sms", "name": "SMS", "members": []}))
        .await;
    let state = t.state().clone();
    let total = 600u64;
    let writer = tokio::spawn(async move {
        for i in 0..total {
            let m = inbound(
                &format!("+4930{:06}", i % 37),
                None,
                &format!("message {i}"),
            );
            stored(&intake_on(&state, cid, m).await);
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
        for Event { id, json: data } in batch {
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
        for Event { id, json: data } in batch {
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
