//! `GET /api/v1/events`: Server-Sent Events with resume.
//!
//! The stream subscribes to the live broadcast first, then replays the persisted log after the
//! client's `Last-Event-ID` (or `?last_event_id=`), then forwards live events, skipping any it
//! already sent and re-reading the log whenever it falls behind (a lagged broadcast receiver or a
//! gap in sequence numbers). So a browser that reconnects gets everything it missed, once, in order.

use crate::ids::UserId;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use futures_util::Stream;
use serde::Deserialize;
use tokio::sync::{broadcast, mpsc};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::HttpState;
use super::auth::ApiAuth;
use super::error::ApiResult;
use crate::domain::access::{self, Visible};
use crate::domain::users::User;
use crate::store::{Event, events};

pub fn router() -> OpenApiRouter<HttpState> {
    OpenApiRouter::new().routes(routes!(stream))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct StreamParams {
    /// Resume after this sequence number (the `Last-Event-ID` header wins when both are given).
    pub last_event_id: Option<u64>,
}

const PAGE: usize = 500;

#[utoipa::path(get, path = "/api/v1/events", tag = "events", params(StreamParams),
    responses((status = 200, description = "text/event-stream; each event's data is `{seq, at, kind, data}`")))]
/// Real-time events the caller may see: new messages, status changes, assignments, typing.
pub async fn stream(
    State(state): State<HttpState>,
    ApiAuth(who): ApiAuth,
    headers: HeaderMap,
    Query(p): Query<StreamParams>,
) -> ApiResult<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>> {
    let header_id = last_event_id(&headers);
    let live = state.store.subscribe();
    let user = who.user.clone();
    let uid = user.id;
    let (vis, newest) = state
        .store
        .read(move |rtx| {
            Ok((
                access::visible_channels(rtx, &user)?,
                events::last_seq(rtx)?,
            ))
        })
        .await?;
    let after = header_id.or(p.last_event_id).unwrap_or(newest);
    let (tx, rx) = mpsc::channel::<Result<SseEvent, Infallible>>(64);
    let st = state.clone();
    let user = who.user.clone();
    // Online while the stream is open (assign-on-arrival); the guard lives as long as the pump,
    // which ends when the browser goes away.
    let online = PresenceGuard::open(state.clone(), uid);
    tokio::spawn(async move {
        let _online = online;
        if let Err(e) = pump(st, user, vis, after, live, tx).await {
            tracing::debug!(user = %uid, error = %e, "event stream ended");
        }
    });
    metrics::gauge!("sse_streams").increment(1.0);
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        match rx.recv().await {
            Some(item) => Some((item, rx)),
            None => {
                metrics::gauge!("sse_streams").decrement(1.0);
                None
            }
        }
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

/// Marks a user online from stream open until drop.
struct PresenceGuard {
    state: HttpState,
    user_id: UserId,
}

impl PresenceGuard {
    fn open(state: HttpState, user_id: UserId) -> Self {
        state.presence.stream_opened(user_id, state.now());
        Self { state, user_id }
    }
}

impl Drop for PresenceGuard {
    fn drop(&mut self) {
        self.state
            .presence
            .stream_closed(self.user_id, self.state.now());
    }
}

/// Encoded event bodies shared by every stream of one server, so an event fanned out to N
/// streams is serialized once, not N times (a ring indexed by sequence number).
pub struct BodyCache {
    slots: std::sync::Mutex<Vec<Slot>>,
}

/// (sequence number, encoded body)
type Slot = Option<(u64, Arc<str>)>;

const CACHE_SLOTS: usize = 1024;

impl Default for BodyCache {
    fn default() -> Self {
        Self {
            slots: std::sync::Mutex::new(vec![None; CACHE_SLOTS]),
        }
    }
}

impl BodyCache {
    fn body(&self, ev: &Event) -> Arc<str> {
        let slot = (ev.seq % CACHE_SLOTS as u64) as usize;
        if let Ok(s) = self.slots.lock()
            && let Some(Some((seq, body))) = s.get(slot)
            && *seq == ev.seq
        {
            return body.clone();
        }
        #[derive(serde::Serialize)]
        struct Body<'a> {
            seq: u64,
            at: i64,
            kind: &'a str,
            data: &'a serde_json::Value,
        }
        let body: Arc<str> = serde_json::to_string(&Body {
            seq: ev.seq,
            at: ev.at,
            kind: &ev.kind,
            data: &ev.data,
        })
        .unwrap_or_default()
        .into();
        if let Ok(mut s) = self.slots.lock()
            && let Some(x) = s.get_mut(slot)
        {
            *x = Some((ev.seq, body.clone()));
        }
        body
    }
}

fn to_sse(st: &HttpState, ev: &Event) -> SseEvent {
    if ev.seq == 0 {
        // Ephemeral events (typing) carry no id, so the browser's Last-Event-ID stays put,
        // and they bypass the body cache, which is keyed by sequence number.
        let body = serde_json::json!({ "seq": 0, "at": ev.at, "kind": ev.kind, "data": ev.data });
        return SseEvent::default().data(body.to_string());
    }
    SseEvent::default()
        .id(ev.seq.to_string())
        .data(&*st.sse_bodies.body(ev))
}

struct Cursor {
    user: User,
    vis: Visible,
    last: u64,
}

impl Cursor {
    /// Sends `ev` if visible; returns false when the client is gone or must stop.
    async fn deliver(
        &mut self,
        st: &HttpState,
        ev: &Event,
        tx: &mpsc::Sender<Result<SseEvent, Infallible>>,
    ) -> bool {
        if ev.seq <= self.last {
            return true;
        }
        self.last = ev.seq;
        // Membership or account changes take effect at once.
        if ev.kind == "channel.members"
            || (ev.kind == "user.updated"
                && ev.data.get("id").and_then(|v| v.as_u64()) == Some(self.user.id.get()))
        {
            let uid = self.user.id;
            match st
                .store
                .read(move |rtx| crate::domain::users::get(rtx, uid))
                .await
            {
                Ok(Some(u)) if !u.disabled => {
                    self.user = u.clone();
                    if let Ok(v) = st
                        .store
                        .read(move |rtx| access::visible_channels(rtx, &u))
                        .await
                    {
                        self.vis = v;
                    }
                }
                _ => return false,
            }
        }
        if !access::can_receive(&self.user, &self.vis, &ev.audience) {
            return true;
        }
        tx.send(Ok(to_sse(st, ev))).await.is_ok()
    }

    /// Replays the persisted log after `self.last`.
    async fn catch_up(
        &mut self,
        st: &HttpState,
        tx: &mpsc::Sender<Result<SseEvent, Infallible>>,
    ) -> crate::error::Result<bool> {
        loop {
            let after = self.last;
            let (batch, first) = st
                .store
                .read(move |rtx| Ok((events::since(rtx, after, PAGE)?, events::first_seq(rtx)?)))
                .await?;
            if let Some(first) = first
                && first > after + 1
                && after > 0
            {
                // The log was pruned past this client: it must reload its view.
                let reset = SseEvent::default()
                    .event("reset")
                    .data("{\"kind\":\"reset\"}");
                let _ = tx.send(Ok(reset)).await;
                return Ok(false);
            }
            let n = batch.len();
            for ev in &batch {
                if !self.deliver(st, ev, tx).await {
                    return Ok(false);
                }
            }
            if n < PAGE {
                return Ok(true);
            }
        }
    }
}

async fn pump(
    st: HttpState,
    user: User,
    vis: Visible,
    after: u64,
    mut live: broadcast::Receiver<Arc<Event>>,
    tx: mpsc::Sender<Result<SseEvent, Infallible>>,
) -> crate::error::Result<()> {
    let mut cur = Cursor {
        user,
        vis,
        last: after,
    };
    if !cur.catch_up(&st, &tx).await? {
        return Ok(());
    }
    loop {
        tokio::select! {
            _ = st.shutdown.cancelled() => return Ok(()),
            _ = tx.closed() => return Ok(()),
            msg = live.recv() => match msg {
                Ok(ev) if ev.seq == 0 => {
                    // Ephemeral (typing): not in the log, no id, never replayed.
                    if access::can_receive(&cur.user, &cur.vis, &ev.audience)
                        && tx.send(Ok(to_sse(&st, &ev))).await.is_err()
                    {
                        return Ok(());
                    }
                }
                Ok(ev) => {
                    if ev.seq > cur.last + 1 && !cur.catch_up(&st, &tx).await? {
                        return Ok(());
                    }
                    if !cur.deliver(&st, &ev, &tx).await {
                        return Ok(());
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    if !cur.catch_up(&st, &tx).await? {
                        return Ok(());
                    }
                }
                Err(broadcast::error::RecvError::Closed) => return Ok(()),
            }
        }
    }
}

/// The `Last-Event-ID` header a reconnecting EventSource sends (ignored when not a number).
pub(crate) fn last_event_id(headers: &HeaderMap) -> Option<u64> {
    headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
}
