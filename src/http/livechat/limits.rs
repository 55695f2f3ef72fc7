//! Flood protection for the public visitor API: token buckets in memory, per visitor token and
//! per client address, driven by the server clock (so tests can move time).
//!
//! - per visitor token: 10 messages or uploads per 10 s ([`PER_TOKEN`]);
//! - per client address: 60 state-changing requests per minute ([`PER_IP`]) — new visitors,
//!   messages, offline messages, uploads — so a script cannot mint tokens to get around the first;
//! - typing and read signals: at most one stored every 2 s per token and session; the rest are
//!   acknowledged and dropped ([`SIGNAL`]).
//!
//! Refusals are `429` with `Retry-After`. The maps are bounded: when one grows past
//! [`MAX_KEYS`], buckets that have refilled completely (idle callers) are forgotten.

use crate::ids::SessionId;
use crate::ids::UserId;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy)]
pub struct Rate {
    /// Burst size.
    pub capacity: i64,
    /// Milliseconds to earn one request back.
    pub interval_ms: i64,
}

pub const PER_TOKEN: Rate = Rate {
    capacity: 10,
    interval_ms: 1_000,
};
pub const PER_IP: Rate = Rate {
    capacity: 60,
    interval_ms: 1_000,
};
pub const SIGNAL: Rate = Rate {
    capacity: 1,
    interval_ms: 2_000,
};

pub const MAX_KEYS: usize = 20_000;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Key {
    Ip(IpAddr),
    Token([u8; 32]),
    /// A typing or read signal: (who, kind).
    Signal([u8; 32], &'static str),
    /// An agent's typing signal: (user id, session id).
    Agent(UserId, SessionId),
}

/// Generic cell rate algorithm: one "theoretical arrival time" per key, integer arithmetic.
#[derive(Default, Clone)]
pub struct Limits {
    map: Arc<Mutex<HashMap<Key, i64>>>,
}

impl Limits {
    /// Take one request for `key`; `Err(RateLimited)` with the seconds until one is back.
    pub fn take(&self, key: Key, rate: Rate, now: i64) -> Result<()> {
        let Ok(mut m) = self.map.lock() else {
            return Ok(());
        };
        if m.len() >= MAX_KEYS && !m.contains_key(&key) {
            // Keys whose bucket is full again carry no information.
            m.retain(|_, tat| *tat > now);
        }
        let tat = m.get(&key).copied().unwrap_or(now).max(now);
        let tolerance = (rate.capacity - 1).max(0) * rate.interval_ms;
        if tat - now > tolerance {
            let wait_ms = tat - now - tolerance;
            return Err(Error::RateLimited {
                retry_after_secs: ((wait_ms + 999) / 1000).max(1) as u64,
            });
        }
        m.insert(key, tat + rate.interval_ms);
        Ok(())
    }

    /// Like [`take`](Self::take) but only says whether the signal should be stored.
    pub fn allow(&self, key: Key, rate: Rate, now: i64) -> bool {
        self.take(key, rate, now).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_refuse_bursts_and_refill_with_time() {
        let l = Limits::default();
        let k = Key::Token([1; 32]);
        for _ in 0..10 {
            l.take(k.clone(), PER_TOKEN, 0).unwrap();
        }
        assert_eq!(
            l.take(k.clone(), PER_TOKEN, 0),
            Err(Error::RateLimited {
                retry_after_secs: 1
            })
        );
        // Another key is not affected.
        l.take(Key::Token([2; 32]), PER_TOKEN, 0).unwrap();
        l.take(k.clone(), PER_TOKEN, 1_000).unwrap();
        assert!(l.take(k.clone(), PER_TOKEN, 1_000).is_err());
        assert!(l.allow(Key::Signal([1; 32], "typing"), SIGNAL, 0));
        assert!(!l.allow(Key::Signal([1; 32], "typing"), SIGNAL, 1_999));
        assert!(l.allow(Key::Signal([1; 32], "typing"), SIGNAL, 2_000));
    }
}
