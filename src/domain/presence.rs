//! Who is online, for assign-on-arrival. In memory only (a restart forgets it; browsers
//! reconnect within seconds): an agent is online while they hold an open event stream, or
//! made an authenticated request in the last `ONLINE_WINDOW_MS`.
//!
//! The HTTP layer feeds it (`http::events` opens/closes streams, `http::auth` touches on every
//! cookie-authenticated request); the domain only ever sees the snapshot, an [`AssignPolicy`].

use crate::ids::UserId;
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

/// Activity this recent counts as online without an open stream.
pub const ONLINE_WINDOW_MS: i64 = 5 * 60_000;

#[derive(Debug, Default, Clone, Copy)]
struct Entry {
    streams: u32,
    last_seen: i64,
}

#[derive(Default)]
pub struct Presence {
    map: Mutex<HashMap<UserId, Entry>>,
}

impl Presence {
    fn with(&self, f: impl FnOnce(&mut HashMap<UserId, Entry>)) {
        if let Ok(mut m) = self.map.lock() {
            f(&mut m);
        }
    }

    /// An authenticated request by `user_id` at `now`.
    pub fn touch(&self, user_id: UserId, now: i64) {
        self.with(|m| {
            let e = m.entry(user_id).or_default();
            e.last_seen = e.last_seen.max(now);
        });
    }

    pub fn stream_opened(&self, user_id: UserId, now: i64) {
        self.with(|m| {
            let e = m.entry(user_id).or_default();
            e.streams += 1;
            e.last_seen = e.last_seen.max(now);
        });
    }

    pub fn stream_closed(&self, user_id: UserId, now: i64) {
        self.with(|m| {
            let e = m.entry(user_id).or_default();
            e.streams = e.streams.saturating_sub(1);
            e.last_seen = e.last_seen.max(now);
        });
    }

    /// Forget a user (logout, disabled): they are offline at once.
    pub fn forget(&self, user_id: UserId) {
        self.with(|m| {
            m.remove(&user_id);
        });
    }

    pub fn is_online(&self, user_id: UserId, now: i64) -> bool {
        self.map
            .lock()
            .ok()
            .and_then(|m| m.get(&user_id).copied())
            .is_some_and(|e| e.streams > 0 || now - e.last_seen <= ONLINE_WINDOW_MS)
    }

    /// Is any of these users online?
    pub fn any_online(&self, user_ids: impl IntoIterator<Item = UserId>, now: i64) -> bool {
        user_ids.into_iter().any(|id| self.is_online(id, now))
    }

    pub fn online(&self, now: i64) -> HashSet<UserId> {
        let Ok(mut m) = self.map.lock() else {
            return HashSet::new();
        };
        // Drop long-gone entries so the map stays as small as the team.
        m.retain(|_, e| e.streams > 0 || now - e.last_seen <= 24 * 3_600_000);
        m.iter()
            .filter(|(_, e)| e.streams > 0 || now - e.last_seen <= ONLINE_WINDOW_MS)
            .map(|(id, _)| *id)
            .collect()
    }

    /// The snapshot the intake path passes to the domain.
    pub fn policy(&self, now: i64) -> AssignPolicy {
        AssignPolicy {
            online: Some(self.online(now)),
        }
    }
}

/// What intake knows about who can take a new session. `online: None` = unknown (e.g. a CLI
/// import): assign-on-arrival channels then leave the session in the queue.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AssignPolicy {
    pub online: Option<HashSet<UserId>>,
}

impl AssignPolicy {
    pub fn unknown() -> Self {
        Self { online: None }
    }
    pub fn online(ids: impl IntoIterator<Item = UserId>) -> Self {
        Self {
            online: Some(ids.into_iter().collect()),
        }
    }
    pub fn is_online(&self, id: UserId) -> bool {
        self.online.as_ref().is_some_and(|s| s.contains(&id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_keep_users_online_and_activity_expires() {
        let p = Presence::default();
        p.touch(UserId(1), 1_000);
        p.stream_opened(UserId(2), 1_000);
        let later = 1_000 + ONLINE_WINDOW_MS + 1;
        assert!(p.is_online(UserId(1), 1_000));
        assert!(!p.is_online(UserId(1), later));
        assert!(p.is_online(UserId(2), later));
        p.stream_closed(UserId(2), 2_000);
        assert!(!p.is_online(UserId(2), later + 2_000));
        assert_eq!(
            p.online(1_500),
            [UserId(1), UserId(2)].into_iter().collect()
        );
        p.forget(UserId(1));
        assert!(!p.is_online(UserId(1), 1_000));
    }
}
