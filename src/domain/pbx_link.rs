//! The live PBX event link, kept by one background task (`start`): it connects to the
//! configured PBX (`crate::pbx::link`), reconnects with backoff (1 s doubling to 60 s, reset
//! after a minute up or when the admin saves the PBX page), and turns what it hears into
//!
//! * each agent's phone in [`Presence`] (matched by their extension) — assign-on-arrival
//!   passes by agents on a call or DND — and an ephemeral `phone.state` event so every page
//!   moves the dot beside their name;
//! * a `phone.ringing` screen pop to the agent whose extension rings for a known contact;
//! * call records in the contact's timeline (`calls_log`) and missed-call follow-ups;
//! * the steps of an agent's click-to-call (`live_calls`: `call.state` to their pages).
//!
//! Everything runs on its own task with its own bounded waits: a PBX that is down, slow or
//! talks nonsense changes the link state on the PBX page and `/metrics`, never chat. Garbled
//! frames and unknown event types are counted, shown, and logged once per kind.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use tokio::sync::{Notify, mpsc};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::presence::{Phone, Presence};
use super::{pbx, users};
use crate::clock::Clock;
use crate::ids::UserId;
use crate::pbx::link::{self, LinkMsg, LinkTimeouts, PbxEvent};
use crate::pbx::{PbxConfig, PbxError};
use crate::store::{Audience, Store};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum LinkState {
    /// No PBX configured.
    #[default]
    Off,
    Connecting,
    Up,
    /// Waiting to reconnect after a failure.
    Down,
}

impl LinkState {
    pub fn as_str(self) -> &'static str {
        match self {
            LinkState::Off => "off",
            LinkState::Connecting => "connecting",
            LinkState::Up => "up",
            LinkState::Down => "down",
        }
    }
}

/// What the PBX page shows about the link.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LinkStatus {
    pub state: LinkState,
    /// Since when (ms).
    pub since: i64,
    /// The PBX's greeting when up, why it failed when down.
    pub detail: String,
    pub reconnects: u64,
    pub events: u64,
    pub garbled: u64,
    pub unknown: u64,
    /// The last garbled frame or unknown event, for the admin.
    pub last_problem: String,
}

/// Shared between the link task and the pages.
#[derive(Default)]
pub struct PbxLink {
    status: Mutex<LinkStatus>,
    reload: Notify,
}

impl PbxLink {
    pub fn status(&self) -> LinkStatus {
        self.status.lock().map(|s| s.clone()).unwrap_or_default()
    }
    /// The configuration changed: reconnect now.
    pub fn reload(&self) {
        self.reload.notify_one();
    }
    fn with(&self, f: impl FnOnce(&mut LinkStatus)) {
        if let Ok(mut s) = self.status.lock() {
            f(&mut s);
        }
    }
    fn set_state(&self, state: LinkState, now: i64, detail: String) {
        self.with(|s| {
            if s.state != state {
                s.since = now;
            }
            s.state = state;
            s.detail = detail;
        });
        metrics::gauge!("pbx_link_up").set(if state == LinkState::Up { 1.0 } else { 0.0 });
    }
}

/// What the link task works with.
#[derive(Clone)]
pub struct Ctx {
    pub store: Store,
    pub clock: Arc<dyn Clock>,
    pub presence: Arc<Presence>,
    pub link: Arc<PbxLink>,
    /// Click-to-call calls the link's events move on.
    pub live_calls: Arc<super::live_calls::LiveCalls>,
    pub timeouts: LinkTimeouts,
    /// Wakes the delivery worker for a missed-call follow-up.
    pub kick: super::delivery::Kick,
}

const BACKOFF_MIN: Duration = Duration::from_secs(1);
const BACKOFF_MAX: Duration = Duration::from_secs(60);

pub fn start(cx: Ctx, shutdown: CancellationToken) {
    tokio::spawn(async move {
        // Opt-outs are known before the first event.
        if let Ok(all) = cx.store.read(users::list).await {
            for u in all {
                cx.presence.set_phone_opt_out(u.id, u.phone_routing_off);
            }
        }
        let mut backoff = BACKOFF_MIN;
        let mut logged: HashSet<String> = HashSet::new();
        loop {
            let cfg = cx.store.read(pbx::get).await.unwrap_or_default();
            if !cfg.is_configured() {
                cx.link
                    .set_state(LinkState::Off, cx.clock.now_ms(), String::new());
                tokio::select! {
                    _ = cx.link.reload.notified() => continue,
                    _ = shutdown.cancelled() => return,
                }
            }
            cx.link.set_state(
                LinkState::Connecting,
                cx.clock.now_ms(),
                cfg.kind().to_string(),
            );
            let started = Instant::now();
            let outcome = tokio::select! {
                r = session(&cx, &cfg, &mut logged) => Some(r),
                _ = cx.link.reload.notified() => None,
                _ = shutdown.cancelled() => return,
            };
            forget_phones(&cx).await;
            if started.elapsed() > Duration::from_secs(60) {
                backoff = BACKOFF_MIN;
            }
            let why = match outcome {
                None => {
                    backoff = BACKOFF_MIN;
                    continue;
                }
                Some(Err(e)) => e.to_string(),
                Some(Ok(())) => "the link ended".to_string(),
            };
            tracing::warn!(error = %why, retry_in_s = backoff.as_secs(), "PBX event link down");
            cx.link.with(|s| s.reconnects += 1);
            metrics::counter!("pbx_link_reconnects_total").increment(1);
            cx.link.set_state(LinkState::Down, cx.clock.now_ms(), why);
            tokio::select! {
                _ = tokio::time::sleep(backoff) => backoff = (backoff * 2).min(BACKOFF_MAX),
                _ = cx.link.reload.notified() => backoff = BACKOFF_MIN,
                _ = shutdown.cancelled() => return,
            }
        }
    });
}

/// One connection: runs the client and applies what it reports until it ends.
async fn session(cx: &Ctx, cfg: &PbxConfig, logged: &mut HashSet<String>) -> Result<(), PbxError> {
    let (tx, mut rx) = mpsc::channel::<LinkMsg>(256);
    let client = link::run(cfg, &tx, cx.timeouts);
    tokio::pin!(client);
    loop {
        tokio::select! {
            r = &mut client => {
                // Apply what was read before the end.
                while let Ok(m) = rx.try_recv() {
                    apply(cx, m, logged).await;
                }
                return r;
            }
            Some(m) = rx.recv() => apply(cx, m, logged).await,
        }
    }
}

async fn apply(cx: &Ctx, m: LinkMsg, logged: &mut HashSet<String>) {
    let now = cx.clock.now_ms();
    match m {
        LinkMsg::Up(greeting) => {
            tracing::info!(pbx = %greeting, "PBX event link up");
            cx.link.set_state(LinkState::Up, now, greeting);
        }
        LinkMsg::Garbled(what) => {
            metrics::counter!("pbx_frames_garbled_total").increment(1);
            cx.link.with(|s| {
                s.garbled += 1;
                s.last_problem = what.clone();
            });
            // Once per kind of fault (the text before its sample).
            let kind: String = what.split(':').next().unwrap_or("").to_string();
            if logged.len() < 1000 && logged.insert(format!("garbled {kind}")) {
                tracing::warn!(frame = %what, "PBX sent a frame that could not be read (logged once)");
            }
        }
        LinkMsg::Unknown(name) => {
            metrics::counter!("pbx_events_unknown_total").increment(1);
            cx.link.with(|s| {
                s.unknown += 1;
                s.last_problem = format!("unknown event {name}");
            });
            if logged.len() < 1000 && logged.insert(format!("unknown {name}")) {
                tracing::info!(event = %name, "PBX event type not used (logged once)");
            }
        }
        LinkMsg::Event(e) => {
            metrics::counter!("pbx_events_total").increment(1);
            cx.link.with(|s| s.events += 1);
            if let Err(err) = event(cx, e, now).await {
                tracing::warn!(error = %err, "PBX event not applied");
            }
        }
    }
}

/// The users whose extension is `ext`.
async fn users_at(store: &Store, ext: &str) -> crate::error::Result<Vec<users::User>> {
    let ext = ext.to_string();
    store
        .read(move |rtx| {
            Ok(users::list(rtx)?
                .into_iter()
                .filter(|u| !u.disabled && u.extension.trim() == ext)
                .collect())
        })
        .await
}

async fn event(cx: &Ctx, e: PbxEvent, now: i64) -> crate::error::Result<()> {
    match e {
        PbxEvent::Call { ext, state } => {
            for u in users_at(&cx.store, &ext).await? {
                if let Some(p) = cx.presence.update_phone(u.id, |p| p.call = Some(state)) {
                    broadcast(cx, u.id, p, now).await;
                }
            }
        }
        PbxEvent::Presence { ext, away, .. } => {
            for u in users_at(&cx.store, &ext).await? {
                if let Some(p) = cx.presence.update_phone(u.id, |p| p.away = away) {
                    broadcast(cx, u.id, p, now).await;
                }
            }
        }
        PbxEvent::Ringing { ext, caller } => {
            for u in users_at(&cx.store, &ext).await? {
                super::calls_log::screen_pop(&cx.store, &u, &caller, now).await?;
            }
        }
        PbxEvent::Leg {
            ext,
            number,
            call_id,
            phase,
        } => {
            cx.live_calls
                .on_leg(
                    &cx.store,
                    &ext,
                    number.as_deref(),
                    call_id.as_deref(),
                    phase,
                    now,
                )
                .await?;
        }
        PbxEvent::Cdr(c) => {
            let called = c.to.clone();
            let Some((entry, logged)) = super::calls_log::record(&cx.store, c, now).await? else {
                return Ok(());
            };
            for l in &logged {
                tracing::debug!(contact = ?l.contact.id, session = ?l.session.as_ref().map(|s| s.id),
                    call = %l.entry.call_id, "call logged");
            }
            match super::followup::on_missed_call(&cx.store, &cx.kick, &entry, &called, &logged)
                .await
            {
                Ok(super::followup::Outcome::Skipped(why)) => {
                    tracing::warn!(number = %entry.number, %why, "no missed-call follow-up");
                }
                Ok(super::followup::Outcome::Sent(sid)) => {
                    // The new conversation shows the call it follows up.
                    super::calls_log::note_in_session(&cx.store, sid, &entry).await?;
                }
                Ok(o) => tracing::debug!(outcome = ?o, "missed-call follow-up"),
                Err(e) => {
                    tracing::warn!(error = %e, number = %entry.number, "missed-call follow-up failed");
                    cx.link
                        .with(|s| s.last_problem = format!("follow-up to {}: {e}", entry.number));
                }
            }
        }
    }
    Ok(())
}

/// Everyone's pages learn the new dot (not stored: the state is worthless a moment later).
async fn broadcast(cx: &Ctx, user_id: UserId, p: Phone, now: i64) {
    let Ok(ids) = cx
        .store
        .read(|rtx| {
            Ok(users::list(rtx)?
                .into_iter()
                .filter(|u| !u.disabled)
                .map(|u| u.id)
                .collect::<Vec<_>>())
        })
        .await
    else {
        return;
    };
    cx.store.publish_ephemeral(
        Audience::Users { user_ids: ids },
        "phone.state",
        now,
        serde_json::json!({ "user_id": user_id, "state": p.label() }),
    );
}

async fn forget_phones(cx: &Ctx) {
    let now = cx.clock.now_ms();
    for id in cx.presence.forget_phones() {
        broadcast(cx, id, Phone::default(), now).await;
    }
}
