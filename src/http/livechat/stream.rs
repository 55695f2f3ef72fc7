//! `GET /livechat/{channel_id}/events`: the visitor's Server-Sent Events, with resume.
//!
//! Reads the same persisted event log as the agents' stream (`http::events`) and keeps only
//! what belongs to this visitor, translated to the visitor's view:
//! - `message` — `message.created` / `message.updated` of the visitor's own sessions, except
//!   internal notes (the session set is known from the visitor's contact and grows with
//!   `session.created` events of that contact);
//! - `session` — status of those sessions (`open` / `closed`);
//! - `read` — an agent read the session (`session.read`);
//! - `typing` — an agent is typing (`livechat.typing` addressed to this visitor).
//!
//! Subscribe first, then replay the log after `Last-Event-ID` (header, or `?last_event_id=`),
//! then forward live events, re-reading the log on any gap — so a reconnecting widget gets what
//! it missed, once, in order. Typing signals older than 10 s are not replayed.

use crate::ids::SessionId;
use crate::ids::UserId;
use std::collections::{HashMap, HashSet};
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use futures_util::Stream;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::{broadcast, mpsc};

use super::{VisitorAuth, files};
use crate::domain::events::TYPING;
use crate::domain::livechat::{self, Visitor};
use crate::domain::messages::Message;
use crate::domain::sessions;
use crate::http::HttpState;
use crate::http::error::ApiResult;
use crate::store::{Audience, Event, events};

const PAGE: usize = 500;
const TYPING_REPLAY_MS: i64 = 10_000;

#[derive(Deserialize)]
pub struct StreamParams {
    pub last_event_id: Option<u64>,
}

type Tx = mpsc::Sender<Result<SseEvent, Infallible>>;

pub async fn events(
    State(state): State<HttpState>,
    va: VisitorAuth,
    headers: HeaderMap,
    Query(p): Query<StreamParams>,
) -> ApiResult<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>> {
    let header_id = crate::http::events::last_event_id(&headers);
    let live = state.store.subscribe();
    let contact = va.visitor.contact_id;
    let (sessions, newest) = state
        .store
        .read(move |rtx| {
            let ids: HashSet<SessionId> = sessions::for_contact(rtx, contact)?
                .into_iter()
                .map(|s| s.id)
                .collect();
            Ok((ids, events::last_seq(rtx)?))
        })
        .await?;
    let after = header_id.or(p.last_event_id).unwrap_or(newest).min(newest);
    let (tx, rx) = mpsc::channel(64);
    let mut cur = Cursor {
        st: state.clone(),
        visitor: va.visitor,
        sessions,
        names: HashMap::new(),
        last: after,
    };
    tokio::spawn(async move {
        if let Err(e) = cur.pump(live, &tx).await {
            tracing::debug!(error = %e, "visitor event stream ended");
        }
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

struct Cursor {
    st: HttpState,
    visitor: Visitor,
    sessions: HashSet<SessionId>,
    names: HashMap<UserId, String>,
    last: u64,
}

fn session_of(ev: &Event) -> Option<SessionId> {
    ev.data
        .get("session_id")
        .and_then(Value::as_u64)
        .map(SessionId)
}

impl Cursor {
    /// The visitor's view of `ev`, or None when it is not theirs to see.
    async fn translate(&mut self, ev: &Event) -> Option<Value> {
        let v = &self.visitor;
        match (&ev.audience, ev.kind.as_str()) {
            (
                Audience::Visitor {
                    channel_id,
                    visitor_id,
                },
                TYPING,
            ) if *channel_id == v.channel_id && *visitor_id == v.id => {
                let from_agent = ev.data.get("from").and_then(Value::as_str) == Some("agent");
                let fresh = self.st.now() - ev.at < TYPING_REPLAY_MS;
                (from_agent && fresh).then(|| {
                    json!({ "kind": "typing", "data": {
                        "session_id": session_of(ev),
                        "name": ev.data.get("name").cloned().unwrap_or(Value::Null),
                    }})
                })
            }
            (Audience::Channel { channel_id }, "session.created" | "session.updated")
                if *channel_id == v.channel_id =>
            {
                let sid = SessionId(ev.data.get("id").and_then(Value::as_u64)?);
                if ev.data.get("contact_id").and_then(Value::as_u64) == Some(v.contact_id.get()) {
                    self.sessions.insert(sid);
                }
                if !self.sessions.contains(&sid) {
                    return None;
                }
                Some(json!({ "kind": "session", "data": {
                    "id": sid, "status": ev.data.get("status").cloned().unwrap_or(Value::Null),
                }}))
            }
            (Audience::Channel { channel_id }, "message.created" | "message.updated")
                if *channel_id == v.channel_id =>
            {
                if !self.sessions.contains(&session_of(ev)?) {
                    return None;
                }
                let m: Message = serde_json::from_value(ev.data.clone()).ok()?;
                let agent = self.agent_name(m.author).await;
                let st = self.st.clone();
                let vm = livechat::view(&self.visitor, &m, agent, &|f| files::file_url(&st, f))?;
                Some(json!({ "kind": "message", "data": vm }))
            }
            (_, "session.read") => {
                let sid = session_of(ev)?;
                self.sessions.contains(&sid).then(|| {
                    json!({ "kind": "read", "data": {
                        "session_id": sid,
                        "last_read": ev.data.get("last_read").cloned().unwrap_or(Value::Null),
                    }})
                })
            }
            _ => None,
        }
    }

    async fn agent_name(&mut self, author: Option<UserId>) -> Option<String> {
        let uid = author?;
        if let Some(n) = self.names.get(&uid) {
            return Some(n.clone());
        }
        let mut names = std::mem::take(&mut self.names);
        let r = self
            .st
            .store
            .read(move |rtx| {
                let n = livechat::agent_name(rtx, &mut names, Some(uid))?;
                Ok((n, names))
            })
            .await;
        match r {
            Ok((n, names)) => {
                self.names = names;
                n
            }
            Err(_) => None,
        }
    }

    /// Sends `ev` if it is the visitor's; false when the client is gone.
    async fn deliver(&mut self, ev: &Event, tx: &Tx) -> bool {
        if ev.seq <= self.last {
            return true;
        }
        self.last = ev.seq;
        match self.translate(ev).await {
            Some(body) => tx
                .send(Ok(SseEvent::default()
                    .id(ev.seq.to_string())
                    .data(body.to_string())))
                .await
                .is_ok(),
            None => true,
        }
    }

    /// Replays the log after `self.last`; false when the stream must end.
    async fn catch_up(&mut self, tx: &Tx) -> crate::error::Result<bool> {
        loop {
            let after = self.last;
            let (batch, first) = self
                .st
                .store
                .read(move |rtx| Ok((events::since(rtx, after, PAGE)?, events::first_seq(rtx)?)))
                .await?;
            if let Some(first) = first
                && first > after + 1
                && after > 0
            {
                // The log was pruned past this client: it reloads its history.
                let _ = tx
                    .send(Ok(SseEvent::default().data("{\"kind\":\"reset\"}")))
                    .await;
                return Ok(false);
            }
            let n = batch.len();
            for ev in &batch {
                if !self.deliver(ev, tx).await {
                    return Ok(false);
                }
            }
            if n < PAGE {
                return Ok(true);
            }
        }
    }

    async fn pump(
        &mut self,
        mut live: broadcast::Receiver<Arc<Event>>,
        tx: &Tx,
    ) -> crate::error::Result<()> {
        if !self.catch_up(tx).await? {
            return Ok(());
        }
        let shutdown = self.st.shutdown.clone();
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return Ok(()),
                _ = tx.closed() => return Ok(()),
                msg = live.recv() => match msg {
                    Ok(ev) => {
                        if ev.seq > self.last + 1 && !self.catch_up(tx).await? {
                            return Ok(());
                        }
                        if !self.deliver(&ev, tx).await {
                            return Ok(());
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        if !self.catch_up(tx).await? {
                            return Ok(());
                        }
                    }
                    Err(broadcast::error::RecvError::Closed) => return Ok(()),
                }
            }
        }
    }
}
