//! Password hashing with argon2id behind a small semaphore, so parallel logins cannot exhaust
//! memory on a small box (each hash holds `M_COST_KIB` of RAM while it runs). Login checks
//! wait in a bounded queue in front of that semaphore: when [`LOGIN_QUEUE`] are already
//! waiting or running, a further one is refused at once (429) instead of adding to the delay of
//! everyone behind it. A known device's login is never shed and hashes in a slot of its own.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::Semaphore;

use crate::error::{Error, Result};

/// OWASP's argon2id minimum: 19 MiB, 2 iterations, 1 lane.
pub const M_COST_KIB: u32 = 19 * 1024;
pub const T_COST: u32 = 2;
pub const P_COST: u32 = 1;
pub const MIN_LEN: usize = 8;
pub const MAX_LEN: usize = 128;
/// Login checks waiting or running before further ones are shed with 429.
pub const LOGIN_QUEUE: usize = 16;

#[derive(Clone)]
pub struct Passwords {
    permits: Arc<Semaphore>,
    /// One more argon2 slot, only for known devices' logins, so a flood that fills the queue
    /// does not make the real user wait behind it.
    priority: Arc<Semaphore>,
    /// Login checks waiting for or holding a permit.
    queued: Arc<AtomicUsize>,
    /// Login checks performed (argon2 verifications), for the metrics and the flood bench.
    checked: Arc<AtomicU64>,
}

/// Who is in the login queue; leaving (done, failed or cancelled) frees the place.
struct Place(Arc<AtomicUsize>);

impl Drop for Place {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Default for Passwords {
    fn default() -> Self {
        Self::new(2)
    }
}

fn argon() -> Result<Argon2<'static>> {
    let params = Params::new(M_COST_KIB, T_COST, P_COST, None).map_err(Error::internal)?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

pub fn validate(password: &str) -> Result<()> {
    let n = password.chars().count();
    if n < MIN_LEN {
        return Err(Error::invalid(
            "password",
            format!("must be at least {MIN_LEN} characters"),
        ));
    }
    if n > MAX_LEN {
        return Err(Error::invalid(
            "password",
            format!("must be at most {MAX_LEN} characters"),
        ));
    }
    Ok(())
}

impl Passwords {
    pub fn new(parallel: usize) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(parallel.max(1))),
            priority: Arc::new(Semaphore::new(1)),
            queued: Arc::new(AtomicUsize::new(0)),
            checked: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Passwords checked since start (verifications that ran argon2).
    pub fn checked(&self) -> u64 {
        self.checked.load(Ordering::SeqCst)
    }

    /// A login's check: like [`Passwords::verify`], but refused with 429 before any hashing
    /// when [`LOGIN_QUEUE`] checks are already waiting or running. `priority` (a known
    /// device) is never shed and uses its own slot, so it does not wait behind a flood.
    pub async fn verify_login(
        &self,
        password: &str,
        phc: Option<&str>,
        priority: bool,
    ) -> Result<bool> {
        let now = self.queued.fetch_add(1, Ordering::SeqCst);
        let place = Place(self.queued.clone());
        if now >= LOGIN_QUEUE && !priority {
            drop(place);
            return Err(Error::RateLimited {
                retry_after_secs: 1,
            });
        }
        let ok = if priority {
            self.verify_on(&self.priority, password, phc).await
        } else {
            self.verify(password, phc).await
        };
        drop(place);
        ok
    }

    pub async fn hash(&self, password: &str) -> Result<String> {
        validate(password)?;
        let _permit = self.permits.acquire().await.map_err(Error::internal)?;
        let pw = password.to_string();
        tokio::task::spawn_blocking(move || hash_now(&pw))
            .await
            .map_err(Error::internal)?
    }

    /// Constant work whether or not the user exists: pass `None` to burn a dummy verification.
    pub async fn verify(&self, password: &str, phc: Option<&str>) -> Result<bool> {
        self.verify_on(&self.permits, password, phc).await
    }

    async fn verify_on(
        &self,
        slots: &Semaphore,
        password: &str,
        phc: Option<&str>,
    ) -> Result<bool> {
        if password.len() > MAX_LEN * 4 {
            return Ok(false);
        }
        let _permit = slots.acquire().await.map_err(Error::internal)?;
        self.checked.fetch_add(1, Ordering::SeqCst);
        let pw = password.to_string();
        let phc = phc.map(str::to_string);
        tokio::task::spawn_blocking(move || {
            let target = match &phc {
                Some(p) => p.clone(),
                None => DUMMY.with(|d| d.clone()),
            };
            let parsed = PasswordHash::new(&target).map_err(Error::internal)?;
            let ok = argon()?.verify_password(pw.as_bytes(), &parsed).is_ok();
            Ok(ok && phc.is_some())
        })
        .await
        .map_err(Error::internal)?
    }
}

pub fn hash_now(password: &str) -> Result<String> {
    let mut salt_bytes = [0u8; 16];
    getrandom::fill(&mut salt_bytes).map_err(Error::internal)?;
    let salt = SaltString::encode_b64(&salt_bytes).map_err(Error::internal)?;
    Ok(argon()?
        .hash_password(password.as_bytes(), &salt)
        .map_err(Error::internal)?
        .to_string())
}

thread_local! {
    static DUMMY: String = hash_now("dummy-password-for-timing").unwrap_or_default();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_are_argon2id_with_required_cost() {
        let p = Passwords::default();
        let h = p.hash("correct horse").await.unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(p.verify("correct horse", Some(&h)).await.unwrap());
        assert!(!p.verify("wrong horse!", Some(&h)).await.unwrap());
        assert!(!p.verify("correct horse", None).await.unwrap());
        assert!(p.hash("short").await.is_err());
        assert!(p.hash(&"x".repeat(129)).await.is_err());
    }
}
