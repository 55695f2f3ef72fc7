//! Login throttling: an attempt is counted *before* its password is checked, per account, per
//! client address and per known device, in one locked step, so parallel guesses cannot slip
//! past the limit while earlier ones are still hashing.
//!
//! - **Account**: at most [`ACCOUNT_LIMIT`] failed (or still running) attempts from unknown
//!   devices per [`WINDOW_MS`]. The window is fixed from its first failure and refused attempts
//!   do not extend it, so one guess per expiry cannot keep an account locked.
//! - **Address**: at most [`ADDRESS_LIMIT`] per window from one client address (any account,
//!   including names that do not exist), high enough that a few typos or random-name probes
//!   from a shared office address do not lock out everyone behind it.
//! - **Known device**: a browser the user logged in from successfully carries a signed cookie
//!   (see [`Throttle::device_cookie`]); it survives restarts (the key is the install's persisted
//!   secret) and is bound to the account. A known device is never held back by the account or
//!   address limits, only by its own budget of [`DEVICE_LIMIT`] failures per window, so a
//!   stolen cookie is no brute-force pass.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::error::{Error, Result};

/// Failures (and attempts still being checked) per account from unknown devices per window.
pub const ACCOUNT_LIMIT: u32 = 5;
/// Per client address and window, over all accounts.
pub const ADDRESS_LIMIT: u32 = 20;
/// Per known device and window.
pub const DEVICE_LIMIT: u32 = 10;
/// The counting window, fixed from its first failure.
pub const WINDOW_MS: i64 = 15 * 60_000;
/// The name of the known-device cookie.
pub const DEVICE_COOKIE: &str = "swb_device";
/// How long a known-device cookie lasts (it is renewed at every login).
pub const DEVICE_MAX_AGE_SECS: i64 = 365 * 24 * 3600;
/// Entries kept per map before expired ones are swept.
const SWEEP_AT: usize = 10_000;

#[derive(Clone)]
pub struct Throttle {
    inner: Arc<Mutex<State>>,
    key: Arc<[u8]>,
}

impl Default for Throttle {
    /// A throttle with a random device key (device cookies do not outlive the process).
    fn default() -> Self {
        let mut key = [0u8; 32];
        let _ = getrandom::fill(&mut key);
        Throttle::new(key.to_vec())
    }
}

#[derive(Default)]
struct State {
    by_ip: HashMap<IpAddr, Bucket>,
    by_account: HashMap<String, Bucket>,
    by_device: HashMap<String, Bucket>,
}

/// Failures counted in the window that started at `since`.
#[derive(Default, Clone, Copy)]
struct Bucket {
    count: u32,
    since: i64,
}

impl Bucket {
    /// The current count (0 once the window is over).
    fn live(&self, now: i64) -> u32 {
        if now - self.since >= WINDOW_MS {
            0
        } else {
            self.count
        }
    }
    /// Milliseconds until the window ends.
    fn wait(&self, now: i64) -> i64 {
        (self.since + WINDOW_MS - now).max(1)
    }
    fn add(&mut self, now: i64) {
        if now - self.since >= WINDOW_MS {
            self.count = 0;
            self.since = now;
        }
        self.count = self.count.saturating_add(1);
    }
    fn undo(&mut self) {
        self.count = self.count.saturating_sub(1);
    }
}

/// Which limits an attempt was counted against.
enum Counted {
    Device(String),
    Unknown(String, IpAddr),
}

/// One counted login attempt. Dropping it leaves it counted as a failure; [`Attempt::succeeded`]
/// takes it back.
pub struct Attempt {
    throttle: Throttle,
    counted: Option<Counted>,
    /// Whether the attempt came from a device the user logged in from before.
    pub known_device: bool,
}

impl Attempt {
    /// The password was right: this attempt is not a failure.
    pub fn succeeded(mut self) {
        let Some(c) = self.counted.take() else { return };
        let Ok(mut st) = self.throttle.lock() else {
            return;
        };
        match c {
            Counted::Device(d) => {
                if let Some(b) = st.by_device.get_mut(&d) {
                    b.undo();
                }
            }
            Counted::Unknown(account, ip) => {
                if let Some(b) = st.by_account.get_mut(&account) {
                    b.undo();
                }
                if let Some(b) = st.by_ip.get_mut(&ip) {
                    b.undo();
                }
            }
        }
    }
}

fn normal(account: &str) -> String {
    account.trim().to_ascii_lowercase()
}

fn limited(wait_ms: i64) -> Error {
    Error::RateLimited {
        retry_after_secs: ((wait_ms + 999) / 1000).max(1) as u64,
    }
}

impl Throttle {
    /// `device_key` signs the known-device cookies; pass the install's persisted secret so
    /// they survive a restart.
    pub fn new(device_key: Vec<u8>) -> Self {
        Throttle {
            inner: Arc::new(Mutex::new(State::default())),
            key: device_key.into(),
        }
    }

    fn lock(&self) -> Result<MutexGuard<'_, State>> {
        self.inner
            .lock()
            .map_err(|_| Error::Internal("throttle lock".into()))
    }

    fn mac(&self, account: &str, nonce: &str) -> Result<Hmac<Sha256>> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).map_err(Error::internal)?;
        mac.update(b"login-device:v1:");
        mac.update(normal(account).as_bytes());
        mac.update(b":");
        mac.update(nonce.as_bytes());
        Ok(mac)
    }

    /// A new known-device cookie value for `account` (`v1.<nonce>.<hmac>`), set after a
    /// successful login.
    pub fn device_cookie(&self, account: &str) -> Result<String> {
        let mut raw = [0u8; 16];
        getrandom::fill(&mut raw).map_err(Error::internal)?;
        let nonce = hex::encode(raw);
        let sig = hex::encode(self.mac(account, &nonce)?.finalize().into_bytes());
        Ok(format!("v1.{nonce}.{sig}"))
    }

    /// The device id (its nonce) when `cookie` is a valid known-device cookie for `account`.
    fn known(&self, account: &str, cookie: Option<&str>) -> Option<String> {
        let mut parts = cookie?.split('.');
        let (Some("v1"), Some(nonce), Some(sig), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return None;
        };
        if nonce.len() != 32 {
            return None;
        }
        let sig = hex::decode(sig).ok()?;
        self.mac(account, nonce)
            .ok()?
            .verify_slice(&sig)
            .ok()
            .map(|()| nonce.to_string())
    }

    /// Count a login attempt before its password is checked, or refuse it (429) when a limit
    /// is reached. Atomic: of many parallel attempts at most the limit get through.
    pub fn begin(
        &self,
        account: &str,
        ip: IpAddr,
        device_cookie: Option<&str>,
        now: i64,
    ) -> Result<Attempt> {
        let account = normal(account);
        let device = self.known(&account, device_cookie);
        let mut st = self.lock()?;
        let counted = match device {
            Some(d) => {
                let b = st.by_device.entry(d.clone()).or_default();
                if b.live(now) >= DEVICE_LIMIT {
                    return Err(limited(b.wait(now)));
                }
                b.add(now);
                Counted::Device(d)
            }
            None => {
                let ipb = st.by_ip.get(&ip).copied().unwrap_or_default();
                let acb = st.by_account.get(&account).copied().unwrap_or_default();
                let mut wait = 0;
                if ipb.live(now) >= ADDRESS_LIMIT {
                    wait = ipb.wait(now);
                }
                if acb.live(now) >= ACCOUNT_LIMIT {
                    wait = wait.max(acb.wait(now));
                }
                if wait > 0 {
                    return Err(limited(wait));
                }
                st.by_ip.entry(ip).or_default().add(now);
                st.by_account.entry(account.clone()).or_default().add(now);
                Counted::Unknown(account, ip)
            }
        };
        sweep(&mut st, now);
        Ok(Attempt {
            throttle: self.clone(),
            known_device: matches!(counted, Counted::Device(_)),
            counted: Some(counted),
        })
    }
}

fn sweep(st: &mut State, now: i64) {
    if st.by_ip.len() > SWEEP_AT {
        st.by_ip.retain(|_, b| b.live(now) > 0);
    }
    if st.by_account.len() > SWEEP_AT {
        st.by_account.retain(|_, b| b.live(now) > 0);
    }
    if st.by_device.len() > SWEEP_AT {
        st.by_device.retain(|_, b| b.live(now) > 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_windows_and_known_devices() {
        let t = Throttle::new(b"k".to_vec());
        let attacker: IpAddr = "10.0.0.9".parse().unwrap();
        let user_ip: IpAddr = "10.0.0.2".parse().unwrap();
        let cookie = t.device_cookie("Alice").unwrap();
        let mut now = 1_000_000;
        for _ in 0..ACCOUNT_LIMIT {
            drop(t.begin("alice", attacker, None, now).unwrap());
            now += 10;
        }
        assert!(t.begin("alice", attacker, None, now).is_err());
        assert!(t.begin("alice", user_ip, None, now).is_err());
        // The known device is not held back; the cookie is bound to the account.
        t.begin("alice", user_ip, Some(&cookie), now)
            .unwrap()
            .succeeded();
        assert!(t.begin("bob", attacker, Some(&cookie), now).is_ok());
        // The window is fixed: it ends 15 min after its first failure, and then one guess
        // does not lock the account again.
        now = 1_000_000 + WINDOW_MS;
        drop(t.begin("alice", attacker, None, now).unwrap());
        t.begin("alice", user_ip, None, now + 1)
            .unwrap()
            .succeeded();
        // A tampered cookie is an unknown device.
        let last = if cookie.ends_with('0') { "1" } else { "0" };
        let bad = format!("{}{last}", &cookie[..cookie.len() - 1]);
        assert!(
            !t.begin("alice", user_ip, Some(&bad), now)
                .unwrap()
                .known_device
        );
    }
}
