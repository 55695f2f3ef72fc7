//! Click-to-call with live state: a call the agent started from a conversation is followed
//! through the PBX event link (`PbxEvent::Leg`, matched by the agent's extension, the dialled
//! number when the event names it, and the PBX's call id once known) and each step is pushed
//! to the agent's pages as an ephemeral `call.state` event: calling → ringing → connected →
//! ended (with the talk time), or busy / no answer / failed. The outcome lands once in the
//! conversation's timeline as a `phone_call` entry with the PBX's call id, so the CDR of the
//! same call (same id) adds nothing.
//!
//! When the link says nothing (down, or a PBX that does not report calls), the call stays
//! "calling" and becomes "unknown" after [`LiveCalls::give_up`]; a connected call is closed
//! as ended after [`LiveCalls::max_talk`] if no hang-up was ever heard.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::calls_log::{self, CallEntry};
use crate::ids::{SessionId, UserId};
use crate::pbx::link::{Direction, Disposition};
use crate::store::{Audience, Store};

/// A call's state: the PBX's steps, or `Unknown` when it said nothing in time.
pub use crate::pbx::link::LegPhase as Phase;

#[derive(Debug, Clone)]
struct Live {
    /// Ours, for the timer.
    serial: u64,
    session_id: SessionId,
    user_id: UserId,
    ext: String,
    number: String,
    call_id: Option<String>,
    phase: Phase,
    started_ms: i64,
    connected_ms: Option<i64>,
}

/// The calls under way, one per agent extension.
pub struct LiveCalls {
    calls: Mutex<HashMap<String, Live>>,
    serial: AtomicU64,
    /// How long a call may stay "calling"/"ringing" without news.
    pub give_up: Duration,
    /// How long a connected call may go without a hang-up being heard.
    pub max_talk: Duration,
}

impl Default for LiveCalls {
    fn default() -> Self {
        Self {
            calls: Mutex::new(HashMap::new()),
            serial: AtomicU64::new(1),
            give_up: Duration::from_secs(90),
            max_talk: Duration::from_secs(4 * 3600),
        }
    }
}

fn publish(store: &Store, l: &Live, now: i64) {
    let talk_s = match (l.phase, l.connected_ms) {
        (Phase::Connected | Phase::Ended, Some(c)) => Some(((now - c).max(0) / 1000) as u64),
        _ => None,
    };
    store.publish_ephemeral(
        Audience::Users {
            user_ids: vec![l.user_id],
        },
        "call.state",
        now,
        serde_json::json!({
            "session_id": l.session_id,
            "number": l.number,
            "extension": l.ext,
            "state": l.phase,
            "talk_s": talk_s,
            "call_id": l.call_id,
        }),
    );
}

impl LiveCalls {
    /// The agent at `ext` asked the PBX to call `number` for conversation `session_id`.
    #[allow(clippy::too_many_arguments)]
    pub fn start(
        self: &std::sync::Arc<Self>,
        store: &Store,
        clock: std::sync::Arc<dyn crate::clock::Clock>,
        session_id: SessionId,
        user_id: UserId,
        ext: &str,
        number: &str,
        call_id: Option<String>,
    ) {
        let now = clock.now_ms();
        let serial = self.serial.fetch_add(1, Ordering::Relaxed);
        let l = Live {
            serial,
            session_id,
            user_id,
            ext: ext.to_string(),
            number: number.to_string(),
            call_id,
            phase: Phase::Calling,
            started_ms: now,
            connected_ms: None,
        };
        publish(store, &l, now);
        if let Ok(mut m) = self.calls.lock() {
            m.insert(ext.to_string(), l);
        }
        // Never hang: a call nobody reports on ends as "unknown".
        let me = self.clone();
        let store = store.clone();
        let ext = ext.to_string();
        tokio::spawn(async move {
            tokio::time::sleep(me.give_up).await;
            if me.phase_of(&ext, serial) == Some(Phase::Connected) {
                tokio::time::sleep(me.max_talk.saturating_sub(me.give_up)).await;
            }
            if let Some(l) = me.take_if(&ext, serial) {
                let phase = if l.phase == Phase::Connected {
                    Phase::Ended
                } else {
                    Phase::Unknown
                };
                let _ = finish(&store, l, phase, clock.now_ms()).await;
            }
        });
    }

    fn phase_of(&self, ext: &str, serial: u64) -> Option<Phase> {
        let m = self.calls.lock().ok()?;
        m.get(ext).filter(|l| l.serial == serial).map(|l| l.phase)
    }

    fn take_if(&self, ext: &str, serial: u64) -> Option<Live> {
        let mut m = self.calls.lock().ok()?;
        if m.get(ext).is_some_and(|l| l.serial == serial) {
            m.remove(ext)
        } else {
            None
        }
    }

    /// A step reported by the PBX: moves the matching call forward (never back).
    pub async fn on_leg(
        &self,
        store: &Store,
        ext: &str,
        number: Option<&str>,
        call_id: Option<&str>,
        phase: Phase,
        now: i64,
    ) -> crate::error::Result<()> {
        let next = phase;
        let done = {
            let Ok(mut m) = self.calls.lock() else {
                return Ok(());
            };
            let Some(l) = m.get_mut(ext) else {
                return Ok(());
            };
            // Another call of the same phone (its id known and different) is not ours.
            if let (Some(known), Some(id)) = (&l.call_id, call_id)
                && known != id
                && number.is_none()
            {
                return Ok(());
            }
            if let Some(n) = number {
                let same = match (calls_log::normalise(n), calls_log::normalise(&l.number)) {
                    (Some(a), Some(b)) => calls_log::same_number(&a, &b),
                    _ => false,
                };
                if !same {
                    return Ok(());
                }
            }
            if l.call_id.is_none() {
                l.call_id = call_id.map(str::to_string);
            }
            if next.rank() < l.phase.rank() || next == l.phase {
                return Ok(());
            }
            if !next.is_final() {
                l.phase = next;
                if next == Phase::Connected {
                    l.connected_ms = Some(now);
                }
                publish(store, l, now);
                return Ok(());
            }
            m.remove(ext)
        };
        match done {
            Some(l) => {
                // Hung up before anyone answered: the customer did not answer.
                let phase = if next == Phase::Ended && l.phase == Phase::Ringing {
                    Phase::NoAnswer
                } else if next == Phase::Ended && l.phase == Phase::Calling {
                    Phase::Failed
                } else {
                    next
                };
                finish(store, l, phase, now).await
            }
            None => Ok(()),
        }
    }
}

/// The call's outcome: to the agent's pages, and once into the conversation's timeline.
async fn finish(store: &Store, mut l: Live, phase: Phase, now: i64) -> crate::error::Result<()> {
    l.phase = phase;
    publish(store, &l, now);
    let talk_s = l
        .connected_ms
        .map(|c| ((now - c).max(0) / 1000) as u64)
        .unwrap_or(0);
    let disposition = match phase {
        Phase::Ended if l.connected_ms.is_some() => Disposition::Answered,
        Phase::Busy => Disposition::Busy,
        Phase::NoAnswer => Disposition::Missed,
        _ => Disposition::Failed,
    };
    let entry = CallEntry {
        direction: Direction::Outbound,
        number: l.number.clone(),
        extension: l.ext.clone(),
        disposition,
        duration_s: ((now - l.started_ms).max(0) / 1000) as u64,
        talk_s,
        // Without the PBX's id the CDR cannot be matched; ours keeps the entry unique.
        call_id: l
            .call_id
            .clone()
            .unwrap_or_else(|| format!("swb-{}-{}", l.started_ms, l.serial)),
    };
    calls_log::note_in_session(store, l.session_id, &entry).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phases_only_move_forward() {
        assert!(Phase::Ringing.rank() > Phase::Calling.rank());
        assert!(Phase::Connected.rank() > Phase::Ringing.rank());
        assert!(Phase::Busy.is_final() && !Phase::Connected.is_final());
    }
}
