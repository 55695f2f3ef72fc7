//! Login sessions, API tokens and login throttling.
//!
//! Tokens are 256-bit random values; only their sha256 is stored. A login session has an idle
//! timeout and an absolute lifetime; `last_seen` is written at most once a minute to keep reads
//! cheap. Disabling a user or changing their password deletes all their sessions, and their
//! API tokens (a password change or reset may keep the tokens when asked to explicitly).

use crate::ids::UserId;
use std::net::IpAddr;

use redb::{ReadTransaction, ReadableTable};
use serde::{Deserialize, Serialize};

mod api_tokens;
mod throttle;

pub use api_tokens::{
    ApiToken, MAX_EXPIRY_DAYS, create_api_token, list_api_tokens, lookup_api_token,
    needs_touch as api_token_needs_touch, revoke_all_api_tokens_in, revoke_api_token,
    touch_api_token,
};
pub use throttle::{DEVICE_COOKIE, DEVICE_MAX_AGE_SECS, Throttle};

use super::passwords::Passwords;
use super::tokens::{random_token, sha256};
use super::users::{self, User};
use crate::error::{Error, Result};
use crate::store::codec::{self, k1, kcat};
use crate::store::tables::{LOGIN_SESSIONS, LOGIN_SESSIONS_BY_USER};
use crate::store::{Store, WriteCtx};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LoginSession {
    pub user_id: UserId,
    pub created: i64,
    pub last_seen: i64,
    /// Per-session CSRF token for forms and the JS client.
    pub csrf: String,
}

#[derive(Debug, Clone, Copy)]
pub struct Lifetimes {
    pub idle_ms: i64,
    pub max_ms: i64,
}

/// Creates a session and returns the cookie token (the only time it exists in clear).
pub async fn login(store: &Store, user_id: UserId) -> Result<(String, LoginSession)> {
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

/// A login with username and password (the login form and `POST /api/v1/session`): the
/// attempt is counted by the throttle before the password is checked (per account, address
/// and known device), then waits in the bounded queue of password checks; a wrong password, an
/// unknown name and a disabled user all fail alike. `device` is the known-device cookie the
/// browser sent. Returns the new session's cookie token, the session, the user and a fresh
/// known-device cookie to set.
#[allow(clippy::too_many_arguments)] // one login's inputs, each from a different place
pub async fn password_login(
    store: &Store,
    passwords: &Passwords,
    throttle: &Throttle,
    ip: IpAddr,
    device: Option<&str>,
    username: &str,
    password: &str,
    now: i64,
) -> Result<Login> {
    let attempt = throttle.begin(username, ip, device, now)?;
    let name = username.to_string();
    let user = store
        .read(move |rtx| users::get_by_name(rtx, &name))
        .await?;
    let ok = passwords
        .verify_login(
            password,
            user.as_ref().map(|u| u.password_hash.as_str()),
            attempt.known_device,
        )
        .await?;
    match user {
        Some(u) if ok && !u.disabled => {
            attempt.succeeded();
            let (token, session) = login(store, u.id).await?;
            let device = throttle.device_cookie(&u.username)?;
            tracing::info!(user = %u.username, %ip, "login");
            Ok(Login {
                token,
                session,
                user: u,
                device,
            })
        }
        _ => {
            drop(attempt);
            tracing::info!(username = %username, %ip, "login failed");
            Err(Error::Unauthorized("wrong username or password".into()))
        }
    }
}

/// A successful password login.
pub struct Login {
    /// The session cookie's token (the only time it exists in clear).
    pub token: String,
    pub session: LoginSession,
    pub user: User,
    /// The known-device cookie's new value.
    pub device: String,
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

pub fn end_all_sessions_in(ctx: &mut WriteCtx<'_>, user_id: UserId) -> Result<usize> {
    let keys: Vec<Vec<u8>> = {
        let idx = ctx.txn.open_table(LOGIN_SESSIONS_BY_USER)?;
        let mut out = Vec::new();
        let (start, end) = (k1(user_id), k1(user_id.get() + 1));
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
            let expired: Vec<(Vec<u8>, UserId)> = {
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
