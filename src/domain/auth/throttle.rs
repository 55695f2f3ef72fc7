//! Login throttling: per client address and per account, with the real user's known addresses
//! exempt from the account limit.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use crate::error::{Error, Result};

/// Login throttling that slows attackers without locking the real user out.
///
/// Per client address: after 10 failures within 15 minutes, that address must wait (doubling
/// up to 15 minutes) before trying again. Per account: after 5 failures, attempts from
/// addresses that have not logged in to the account successfully before must wait (doubling up
/// to 5 minutes); an address the real user logged in from keeps working.
#[derive(Clone, Default)]
pub struct Throttle {
    inner: Arc<Mutex<ThrottleState>>,
}

#[derive(Default)]
struct ThrottleState {
    by_ip: HashMap<IpAddr, Failures>,
    by_account: HashMap<String, Failures>,
    known_good: HashMap<String, Vec<IpAddr>>,
}

#[derive(Default, Clone, Copy)]
struct Failures {
    count: u32,
    last: i64,
}

const WINDOW_MS: i64 = 15 * 60_000;

fn wait_ms(f: Failures, free: u32, cap_ms: i64) -> i64 {
    if f.count < free {
        return 0;
    }
    let exp = (f.count - free).min(16);
    (1000i64 << exp).min(cap_ms)
}

impl Throttle {
    /// `Err(RateLimited)` if this attempt must wait.
    pub fn check(&self, account: &str, ip: IpAddr, now: i64) -> Result<()> {
        let account = account.trim().to_ascii_lowercase();
        let st = self
            .inner
            .lock()
            .map_err(|_| Error::Internal("throttle lock".into()))?;
        let mut wait = 0i64;
        if let Some(f) = st.by_ip.get(&ip).copied()
            && now - f.last < WINDOW_MS
        {
            wait = wait.max(f.last + wait_ms(f, 10, 15 * 60_000) - now);
        }
        let trusted = st
            .known_good
            .get(&account)
            .is_some_and(|ips| ips.contains(&ip));
        if !trusted
            && let Some(f) = st.by_account.get(&account).copied()
            && now - f.last < WINDOW_MS
        {
            wait = wait.max(f.last + wait_ms(f, 5, 5 * 60_000) - now);
        }
        if wait > 0 {
            return Err(Error::RateLimited {
                retry_after_secs: ((wait + 999) / 1000) as u64,
            });
        }
        Ok(())
    }

    pub fn failed(&self, account: &str, ip: IpAddr, now: i64) {
        let account = account.trim().to_ascii_lowercase();
        if let Ok(mut st) = self.inner.lock() {
            bump(st.by_ip.entry(ip).or_default(), now);
            bump(st.by_account.entry(account).or_default(), now);
            if st.by_ip.len() > 10_000 {
                st.by_ip.retain(|_, f| now - f.last < WINDOW_MS);
            }
            if st.by_account.len() > 10_000 {
                st.by_account.retain(|_, f| now - f.last < WINDOW_MS);
            }
        }
    }

    pub fn succeeded(&self, account: &str, ip: IpAddr) {
        let account = account.trim().to_ascii_lowercase();
        if let Ok(mut st) = self.inner.lock() {
            st.by_ip.remove(&ip);
            let ips = st.known_good.entry(account).or_default();
            if !ips.contains(&ip) {
                ips.push(ip);
                if ips.len() > 16 {
                    ips.remove(0);
                }
            }
        }
    }
}

fn bump(f: &mut Failures, now: i64) {
    if now - f.last >= WINDOW_MS {
        f.count = 0;
    }
    f.count += 1;
    f.last = now;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttle_slows_attackers_but_not_the_known_user() {
        let t = Throttle::default();
        let attacker: IpAddr = "10.0.0.9".parse().unwrap();
        let user_ip: IpAddr = "10.0.0.2".parse().unwrap();
        t.succeeded("alice", user_ip);
        let mut now = 1_000_000;
        for _ in 0..5 {
            t.check("alice", attacker, now).unwrap();
            t.failed("alice", attacker, now);
            now += 10;
        }
        assert!(matches!(
            t.check("alice", attacker, now),
            Err(Error::RateLimited { .. })
        ));
        // The real user, from the address they used before, is not locked out.
        t.check("alice", user_ip, now).unwrap();
        // Time heals.
        assert!(t.check("alice", attacker, now + 60_000).is_ok());
    }
}
