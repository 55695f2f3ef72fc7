//! Login sessions, API tokens and login throttling.
//!
//! Tokens are 256-bit random values; only their sha256 is stored. A login session has an idle
//! timeout and an absolute lifetime; `last_seen` is written at most once a minute to keep reads
//! cheap. Disabling a user or changing their password deletes all their sessions.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use redb::{ReadTransaction, ReadableTable};
use serde::{Deserialize, Serialize};

use super::tokens::{random_token, sha256};
use super::users::{self, User};
use crate::error::{Error, Result};
use crate::store::codec::{self, k1, kcat};
use crate::store::tables::{API_TOKENS, LOGIN_SESSIONS, LOGIN_SESSIONS_BY_USER};
use crate::store::{Store, WriteCtx};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LoginSession {
    pub user_id: u64,
    pub created: i64,
    pub last_seen: i64,
    /// Per-session CSRF token for forms and the JS client.
    pub csrf: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ApiToken {
    pub id: u64,
    pub user_id: u64,
    pub name: String,
    pub created: i64,
}

#[derive(Debug, Clone, Copy)]
pub struct Lifetimes {
    pub idle_ms: i64,
    pub max_ms: i64,
}

/// Creates a session and returns the cookie token (the only time it exists in clear).
pub async fn login(store: &Store, user_id: u64) -> Result<(String, LoginSession)> {
    let token = random_token("", 32)?;
    let csrf = random_token("", 24)?;
    let hash = sha256(token.as_bytes());
    let s = store
        .write(move |ctx| {
            let s = LoginSession {
                user_id,
                created: ctx.now,
                last_seen: ctx.now,
                csrf: csrf.clone(),
            };
            codec::put(&mut ctx.txn.open_table(LOGIN_SESSIONS)?, &hash, &s)?;
            ctx.txn
                .open_table(LOGIN_SESSIONS_BY_USER)?
                .insert(kcat(&k1(user_id), &hash).as_slice(), [].as_slice())?;
            Ok(s)
        })
        .await?;
    Ok((token, s))
}

/// Resolves a cookie token to its live session and enabled user.
pub fn lookup_session(
    rtx: &ReadTransaction,
    token: &str,
    now: i64,
    life: Lifetimes,
) -> Result<Option<(LoginSession, User)>> {
    let hash = sha256(token.as_bytes());
    let Some(s) = codec::get::<LoginSession>(&rtx.open_table(LOGIN_SESSIONS)?, &hash)? else {
        return Ok(None);
    };
    if now - s.last_seen > life.idle_ms || now - s.created > life.max_ms {
        return Ok(None);
    }
    match users::get(rtx, s.user_id)? {
        Some(u) if !u.disabled => Ok(Some((s, u))),
        _ => Ok(None),
    }
}

/// Refresh `last_seen` (callers do this at most once a minute per session).
pub async fn touch(store: &Store, token: &str) -> Result<()> {
    let hash = sha256(token.as_bytes());
    store
        .write(move |ctx| {
            let mut t = ctx.txn.open_table(LOGIN_SESSIONS)?;
            if let Some(mut s) = codec::get::<LoginSession>(&t, &hash)? {
                s.last_seen = ctx.now;
                codec::put(&mut t, &hash, &s)?;
            }
            Ok(())
        })
        .await
}

pub async fn logout(store: &Store, token: &str) -> Result<()> {
    let hash = sha256(token.as_bytes());
    store.write(move |ctx| remove_session_in(ctx, &hash)).await
}

fn remove_session_in(ctx: &mut WriteCtx<'_>, hash: &[u8; 32]) -> Result<()> {
    let mut t = ctx.txn.open_table(LOGIN_SESSIONS)?;
    let user = codec::get::<LoginSession>(&t, hash)?.map(|s| s.user_id);
    t.remove(hash.as_slice())?;
    if let Some(uid) = user {
        ctx.txn
            .open_table(LOGIN_SESSIONS_BY_USER)?
            .remove(kcat(&k1(uid), hash).as_slice())?;
    }
    Ok(())
}

pub fn end_all_sessions_in(ctx: &mut WriteCtx<'_>, user_id: u64) -> Result<usize> {
    let keys: Vec<Vec<u8>> = {
        let idx = ctx.txn.open_table(LOGIN_SESSIONS_BY_USER)?;
        let mut out = Vec::new();
        let (start, end) = (k1(user_id), k1(user_id + 1));
        for item in idx.range::<&[u8]>(start.as_slice()..end.as_slice())? {
            out.push(item?.0.value().to_vec());
        }
        out
    };
    let mut sessions = ctx.txn.open_table(LOGIN_SESSIONS)?;
    let mut idx = ctx.txn.open_table(LOGIN_SESSIONS_BY_USER)?;
    for k in &keys {
        sessions.remove(&k[8..])?;
        idx.remove(k.as_slice())?;
    }
    Ok(keys.len())
}

/// Delete expired login sessions. Returns how many.
pub async fn sweep(store: &Store, life: Lifetimes, batch: usize) -> Result<usize> {
    store
        .write(move |ctx| {
            let now = ctx.now;
            let expired: Vec<(Vec<u8>, u64)> = {
                let t = ctx.txn.open_table(LOGIN_SESSIONS)?;
                let mut out = Vec::new();
                for item in t.iter()? {
                    let (k, v) = item?;
                    let s: LoginSession = codec::decode(v.value())?;
                    if now - s.last_seen > life.idle_ms || now - s.created > life.max_ms {
                        out.push((k.value().to_vec(), s.user_id));
                        if out.len() >= batch {
                            break;
                        }
                    }
                }
                out
            };
            let mut t = ctx.txn.open_table(LOGIN_SESSIONS)?;
            let mut idx = ctx.txn.open_table(LOGIN_SESSIONS_BY_USER)?;
            for (k, uid) in &expired {
                t.remove(k.as_slice())?;
                idx.remove(kcat(&k1(*uid), k).as_slice())?;
            }
            Ok(expired.len())
        })
        .await
}

/// Creates an API token for scripts; returns the token in clear (shown once).
pub async fn create_api_token(
    store: &Store,
    user_id: u64,
    name: &str,
    actor: Option<u64>,
) -> Result<(String, ApiToken)> {
    let name = name.trim().to_string();
    if name.is_empty() || name.len() > 100 {
        return Err(Error::invalid("name", "must be 1 to 100 characters"));
    }
    let token = random_token("swb_", 32)?;
    let hash = sha256(token.as_bytes());
    let t = store
        .write(move |ctx| {
            let u = users::get_in(ctx, user_id)?;
            if u.disabled {
                return Err(Error::Conflict("the user is disabled".into()));
            }
            let id = ctx.next_id("api_token")?;
            let t = ApiToken {
                id,
                user_id,
                name: name.clone(),
                created: ctx.now,
            };
            codec::put(&mut ctx.txn.open_table(API_TOKENS)?, &hash, &t)?;
            super::audit::record(
                ctx,
                actor,
                "token.create",
                format!("user:{user_id}"),
                name.clone(),
            )?;
            Ok(t)
        })
        .await?;
    Ok((token, t))
}

pub fn lookup_api_token(rtx: &ReadTransaction, token: &str) -> Result<Option<(ApiToken, User)>> {
    if !token.starts_with("swb_") || token.len() > 200 {
        return Ok(None);
    }
    let hash = sha256(token.as_bytes());
    let Some(t) = codec::get::<ApiToken>(&rtx.open_table(API_TOKENS)?, &hash)? else {
        return Ok(None);
    };
    match users::get(rtx, t.user_id)? {
        Some(u) if !u.disabled => Ok(Some((t, u))),
        _ => Ok(None),
    }
}

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
