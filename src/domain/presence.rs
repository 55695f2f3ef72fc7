//! Who is online, for assign-on-arrival. In memory only (a restart forgets it; browsers
//! reconnect within seconds): an agent is online while they hold an open event stream, or
//! made an authenticated request in the last `ONLINE_WINDOW_MS`.
//!
//! The HTTP layer feeds it (`http::events` opens/closes streams, `http::auth` touches on every
//! cookie-authenticated request); the domain only ever sees the snapshot, an [`AssignPolicy`].

use crate::ids::UserId;
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use crate::pbx::link::CallState;

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
    /// The phone as the PBX event link reports it (`domain::pbx_link`); empty without one.
    phones: Mutex<Phones>,
}

/// What the PBX says about an agent's extension.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Phone {
    pub call: Option<CallState>,
    /// DND, away, lunch, off work…
    pub away: bool,
}

impl Phone {
    /// The word the pages show: `dnd`, `on_call`, `ringing`, `idle`, `offline` (None: unknown).
    pub fn label(&self) -> Option<&'static str> {
        if self.away {
            return Some("dnd");
        }
        self.call.map(|c| match c {
            CallState::Idle => "idle",
            CallState::Ringing => "ringing",
            CallState::OnCall => "on_call",
            CallState::Offline => "offline",
        })
    }
    /// On a call or DND: assign-on-arrival passes them by.
    pub fn busy(&self) -> bool {
        self.away || self.call == Some(CallState::OnCall)
    }
}

#[derive(Default)]
struct Phones {
    by_user: HashMap<UserId, Phone>,
    /// Agents whose phone never keeps them from new sessions (their own choice).
    opted_out: HashSet<UserId>,
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

    /// The snapshot the intake path passes to the domain: online, and not on the phone or DND
    /// (unless they opted out of phone-driven routing).
    pub fn policy(&self, now: i64) -> AssignPolicy {
        let mut online = self.online(now);
        if let Ok(p) = self.phones.lock() {
            online.retain(|id| {
                p.opted_out.contains(id) || !p.by_user.get(id).is_some_and(Phone::busy)
            });
        }
        AssignPolicy {
            online: Some(online),
        }
    }

    /// Changes `user_id`'s phone; the new phone when it changed.
    pub fn update_phone(&self, user_id: UserId, f: impl FnOnce(&mut Phone)) -> Option<Phone> {
        let mut p = self.phones.lock().ok()?;
        let e = p.by_user.entry(user_id).or_default();
        let before = *e;
        f(e);
        (*e != before).then_some(*e)
    }

    /// The link went down: nothing is known about any phone any more.
    pub fn forget_phones(&self) -> Vec<UserId> {
        let Ok(mut p) = self.phones.lock() else {
            return Vec::new();
        };
        p.by_user.drain().map(|(id, _)| id).collect()
    }

    pub fn phone(&self, user_id: UserId) -> Phone {
        self.phones
            .lock()
            .ok()
            .and_then(|p| p.by_user.get(&user_id).copied())
            .unwrap_or_default()
    }

    /// Every known phone's label, by user.
    pub fn phone_labels(&self) -> HashMap<UserId, &'static str> {
        self.phones
            .lock()
            .map(|p| {
                p.by_user
                    .iter()
                    .filter_map(|(id, ph)| ph.label().map(|l| (*id, l)))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Whether `user_id`'s phone state is left out of assign-on-arrival.
    pub fn set_phone_opt_out(&self, user_id: UserId, out: bool) {
        if let Ok(mut p) = self.phones.lock() {
            if out {
                p.opted_out.insert(user_id);
            } else {
                p.opted_out.remove(&user_id);
            }
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

    #[test]
    fn agents_on_the_phone_or_dnd_are_passed_by_unless_they_opted_out() {
        let p = Presence::default();
        p.stream_opened(UserId(1), 0);
        p.stream_opened(UserId(2), 0);
        p.update_phone(UserId(1), |ph| ph.call = Some(CallState::OnCall));
        p.update_phone(UserId(2), |ph| ph.away = true);
        assert!(p.policy(0).online.unwrap().is_empty());
        p.set_phone_opt_out(UserId(2), true);
        assert!(p.policy(0).is_online(UserId(2)));
        p.update_phone(UserId(1), |ph| ph.call = Some(CallState::Idle));
        assert!(p.policy(0).is_online(UserId(1)));
        assert_eq!(p.phone_labels().get(&UserId(2)), Some(&"dnd"));
        assert_eq!(p.forget_phones().len(), 2);
    }
}
