//! Who is online, in memory: an agent is online while they hold an open event stream
//! (`/api/v1/events`) or made a browser (cookie) request in the last [`RECENT_MS`].
//! API-token scripts do not count as a person being there.
//!
//! Used by the live-chat widget (show the chat or the offline form). Kept in one place so
//! assign-on-arrival can use the same map.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::clock::Clock;

/// A request within this window counts as "online".
pub const RECENT_MS: i64 = 3 * 60_000;

#[derive(Default, Clone, Copy)]
struct Seen {
    last: i64,
    streams: u32,
}

#[derive(Default, Clone)]
pub struct Presence {
    map: Arc<Mutex<HashMap<u64, Seen>>>,
}

/// Holds a user online while an event stream is open; dropping it ends that.
pub struct StreamGuard {
    presence: Presence,
    user_id: u64,
    clock: Arc<dyn Clock>,
}

impl Drop for StreamGuard {
    fn drop(&mut self) {
        if let Ok(mut m) = self.presence.map.lock()
            && let Some(s) = m.get_mut(&self.user_id)
        {
            s.streams = s.streams.saturating_sub(1);
            // Leaving counts as the last sign of life, so a reload does not flap to "offline".
            s.last = s.last.max(self.clock.now_ms());
        }
    }
}

impl Presence {
    /// A request by `user_id` at `now`.
    pub fn touch(&self, user_id: u64, now: i64) {
        if let Ok(mut m) = self.map.lock() {
            let s = m.entry(user_id).or_default();
            s.last = s.last.max(now);
        }
    }

    /// An event stream of `user_id` opened; online until the guard drops.
    pub fn stream(&self, user_id: u64, clock: Arc<dyn Clock>) -> StreamGuard {
        let now = clock.now_ms();
        if let Ok(mut m) = self.map.lock() {
            let s = m.entry(user_id).or_default();
            s.streams += 1;
            s.last = s.last.max(now);
        }
        StreamGuard {
            presence: self.clone(),
            user_id,
            clock,
        }
    }

    pub fn is_online(&self, user_id: u64, now: i64) -> bool {
        self.map.lock().is_ok_and(|m| {
            m.get(&user_id)
                .is_some_and(|s| s.streams > 0 || now - s.last < RECENT_MS)
        })
    }

    /// Is any of `user_ids` online?
    pub fn any_online(&self, user_ids: impl IntoIterator<Item = u64>, now: i64) -> bool {
        user_ids.into_iter().any(|id| self.is_online(id, now))
    }

    /// Everyone online now (ids, unordered).
    pub fn online(&self, now: i64) -> Vec<u64> {
        self.map
            .lock()
            .map(|m| {
                m.iter()
                    .filter(|(_, s)| s.streams > 0 || now - s.last < RECENT_MS)
                    .map(|(id, _)| *id)
                    .collect()
            })
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_count_for_a_while_and_streams_while_open() {
        let p = Presence::default();
        assert!(!p.is_online(1, 0));
        p.touch(1, 1_000);
        assert!(p.is_online(1, 1_000 + RECENT_MS - 1));
        assert!(!p.is_online(1, 1_000 + RECENT_MS));
        let clock = crate::clock::TestClock::new();
        let g = p.stream(2, Arc::new(clock.clone()));
        let later = clock.now_ms() + 10 * RECENT_MS;
        assert!(p.is_online(2, later));
        assert!(p.any_online([3, 2], later));
        drop(g);
        assert!(!p.is_online(2, later));
        // Just after leaving it still counts (a reload does not flap).
        assert!(p.is_online(2, clock.now_ms() + 1));
        assert!(p.online(1_000).contains(&1));
    }
}
