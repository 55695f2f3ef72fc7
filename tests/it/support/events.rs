//! The one event-stream reader: a client of `GET /api/v1/events` (or a visitor's
//! `/livechat/{channel}/events`) that reads Server-Sent Events frame by frame, resumes with
//! `Last-Event-ID`, and waits by the wall clock.
//!
//! The stream is read only while a method is awaited; what arrives meanwhile waits in the
//! socket. Holding an open stream keeps its user online (presence).
//!
//! ```ignore
//! let mut ev = EventStream::open(&agent).await;          // live from now
//! let e = ev.next_of_kind("session.assigned").await;     // panics after PATIENCE
//! assert_eq!(e.data()["session_id"], sid);
//! let mut again = EventStream::resume(&agent, e.id).await; // what came after e
//! ```

use std::time::Duration;

use serde::Serialize;
use serde_json::Value;
use tokio::time::Instant;

use super::client::{Client, client_builder};
use super::read::PATIENCE;
use super::server::TestServer;
use super::visitor::Visitor;

/// One event: its id (0 when the frame had none) and its JSON (`{"kind", "data", …}`).
#[derive(Debug, Clone, Serialize)]
pub struct Event {
    pub id: u64,
    pub json: Value,
}

impl Event {
    pub fn kind(&self) -> &str {
        self.json["kind"].as_str().unwrap_or_default()
    }
    pub fn data(&self) -> &Value {
        &self.json["data"]
    }
}

pub struct EventStream {
    resp: reqwest::Response,
    /// Bytes received but not yet split into frames.
    pending: String,
    /// Everything received, verbatim.
    raw: String,
    ended: bool,
}

impl EventStream {
    /// The agent event stream of `c`, live from now.
    pub async fn open(c: &Client) -> Self {
        Self::connect(c, "/api/v1/events", None).await
    }

    /// The agent event stream of `c`, replaying every event after `last_event_id`.
    pub async fn resume(c: &Client, last_event_id: u64) -> Self {
        Self::connect(c, "/api/v1/events", Some(last_event_id)).await
    }

    /// Any event stream of the server as `c` (a `path` with a query, say), with an optional
    /// `Last-Event-ID` header.
    pub async fn connect(c: &Client, path: &str, last_event_id: Option<u64>) -> Self {
        let mut rb = c.http.get(c.url(path)).headers(c.headers(false));
        if let Some(l) = last_event_id {
            rb = rb.header("last-event-id", l.to_string());
        }
        Self::from_request(rb, path).await
    }

    /// A live-chat visitor's stream (origin and visitor token as the widget sends them).
    pub async fn visitor(t: &TestServer, v: &Visitor, last_event_id: Option<u64>) -> Self {
        let url = format!("{}/livechat/{}/events", t.base(), v.ch);
        let mut rb = client_builder().build().unwrap().get(&url);
        for (k, val) in v.headers() {
            rb = rb.header(k, val);
        }
        if let Some(l) = last_event_id {
            rb = rb.header("last-event-id", l.to_string());
        }
        Self::from_request(rb, &url).await
    }

    /// Sends the request; returns once the server answered 200, so every event committed
    /// after this returns is on the stream.
    async fn from_request(rb: reqwest::RequestBuilder, what: &str) -> Self {
        // Longer than the client's 60 s default: a stream may stay open for a whole test.
        let resp = rb.timeout(Duration::from_secs(600)).send().await.unwrap();
        assert_eq!(resp.status().as_u16(), 200, "event stream {what}");
        EventStream {
            resp,
            pending: String::new(),
            raw: String::new(),
            ended: false,
        }
    }

    /// Reads one more chunk before `deadline`; false when none came (timeout or end).
    async fn read_chunk(&mut self, deadline: Instant) -> bool {
        if self.ended {
            return false;
        }
        match tokio::time::timeout_at(deadline, self.resp.chunk()).await {
            Ok(Ok(Some(bytes))) => {
                let s = String::from_utf8_lossy(&bytes);
                self.pending.push_str(&s);
                self.raw.push_str(&s);
                true
            }
            Ok(_) => {
                self.ended = true;
                false
            }
            Err(_) => false,
        }
    }

    /// The next event with data (comments and keep-alives are skipped), or `None` when `wait`
    /// passes without one or the stream ends.
    pub async fn next(&mut self, wait: Duration) -> Option<Event> {
        let deadline = Instant::now() + wait;
        loop {
            while let Some(i) = self.pending.find("\n\n") {
                let frame: String = self.pending.drain(..i + 2).collect();
                let mut id = 0;
                let mut data = String::new();
                for line in frame.lines() {
                    if let Some(v) = line.strip_prefix("id:") {
                        id = v.trim().parse().unwrap_or(0);
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push_str(v.trim_start());
                    }
                }
                if !data.is_empty() {
                    let json = serde_json::from_str(&data)
                        .unwrap_or_else(|e| panic!("event data is not JSON ({e}): {data}"));
                    return Some(Event { id, json });
                }
            }
            if !self.read_chunk(deadline).await {
                return None;
            }
        }
    }

    /// Events until one satisfies `stop` (included); panics after [`PATIENCE`] without it.
    pub async fn until(&mut self, stop: impl Fn(&Event) -> bool) -> Vec<Event> {
        let deadline = Instant::now() + PATIENCE;
        let mut got = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.next(left).await {
                Some(ev) => {
                    let done = stop(&ev);
                    got.push(ev);
                    if done {
                        return got;
                    }
                }
                None => panic!("stream ended or stalled; got {got:#?}"),
            }
        }
    }

    /// The next event of `kind` (others are passed over); panics after [`PATIENCE`].
    pub async fn next_of_kind(&mut self, kind: &str) -> Event {
        let mut got = self.until(|e| e.kind() == kind).await;
        got.pop().unwrap()
    }

    /// Up to `max` events, as many as arrive within `wait`.
    pub async fn collect(&mut self, max: usize, wait: Duration) -> Vec<Event> {
        let deadline = Instant::now() + wait;
        let mut out = Vec::new();
        while out.len() < max {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.next(left).await {
                Some(ev) => out.push(ev),
                None => break,
            }
        }
        out
    }

    /// Reads everything that arrives for `d` (into [`EventStream::raw`]).
    pub async fn read_for(&mut self, d: Duration) {
        let deadline = Instant::now() + d;
        while self.read_chunk(deadline).await {}
    }

    /// Reads until the raw stream contains `needle`; false after `wait` without it.
    pub async fn wait_for_text(&mut self, needle: &str, wait: Duration) -> bool {
        let deadline = Instant::now() + wait;
        while !self.raw.contains(needle) {
            if !self.read_chunk(deadline).await {
                return self.raw.contains(needle);
            }
        }
        true
    }

    /// Everything received so far, verbatim (frames, comments, partial frames).
    pub fn raw(&self) -> &str {
        &self.raw
    }
}
