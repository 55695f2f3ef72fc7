//! Password hashing with argon2id behind a small semaphore, so parallel logins cannot exhaust
//! memory on a small box (each hash holds `M_COST_KIB` of RAM while it runs).

use std::sync::Arc;

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

#[derive(Clone)]
pub struct Passwords {
    permits: Arc<Semaphore>,
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
        }
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
        if password.len() > MAX_LEN * 4 {
            return Ok(false);
        }
        let _permit = self.permits.acquire().await.map_err(Error::internal)?;
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
