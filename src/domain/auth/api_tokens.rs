//! API tokens for scripts: named, with creation and last-use time and an optional expiry;
//! listed and revoked by their owner (Settings, `/api/v1/me/tokens`) or an administrator (the
//! CLI). Only the sha256 of a token is stored. A token dies with a password change or reset
//! (unless kept explicitly) and when its user is disabled, so re-enabling a user does not
//! revive old tokens.

use crate::ids::UserId;
use redb::{ReadTransaction, ReadableTable};
use serde::{Deserialize, Serialize};

use crate::domain::tokens::{random_token, sha256};
use crate::domain::users::{self, User};
use crate::error::{Error, Result};
use crate::store::codec::{self, k1, k2};
use crate::store::tables::{API_TOKENS, API_TOKENS_BY_USER};
use crate::store::{Store, WriteCtx};

/// The longest expiry a token may be given, in days.
pub const MAX_EXPIRY_DAYS: u32 = 3650;
/// `last_used` is written at most this often per token.
const TOUCH_EVERY_MS: i64 = 60_000;
const DAY_MS: i64 = 24 * 3600 * 1000;

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ApiToken {
    pub id: u64,
    pub user_id: UserId,
    pub name: String,
    /// Unix ms.
    pub created: i64,
    /// Unix ms of the last request made with it (updated at most once a minute).
    #[serde(default)]
    pub last_used: Option<i64>,
    /// Unix ms after which it is refused; none = until revoked.
    #[serde(default)]
    pub expires: Option<i64>,
}

impl ApiToken {
    pub fn expired(&self, now: i64) -> bool {
        self.expires.is_some_and(|e| now >= e)
    }
}

/// Creates an API token for scripts, valid for `expires_in_days` (None: until revoked);
/// returns the token in clear (shown once).
pub async fn create_api_token(
    store: &Store,
    user_id: UserId,
    name: &str,
    expires_in_days: Option<u32>,
    actor: Option<UserId>,
) -> Result<(String, ApiToken)> {
    let name = name.trim().to_string();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(Error::invalid("name", "must be 1 to 100 characters"));
    }
    if let Some(d) = expires_in_days
        && !(1..=MAX_EXPIRY_DAYS).contains(&d)
    {
        return Err(Error::invalid(
            "expires_in_days",
            format!("must be 1 to {MAX_EXPIRY_DAYS} days"),
        ));
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
                last_used: None,
                expires: expires_in_days.map(|d| ctx.now + i64::from(d) * DAY_MS),
            };
            codec::put(&mut ctx.txn.open_table(API_TOKENS)?, &hash, &t)?;
            ctx.txn
                .open_table(API_TOKENS_BY_USER)?
                .insert(k2(user_id, id).as_slice(), hash.as_slice())?;
            crate::domain::audit::record(
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

/// The live token and its enabled user (expired, revoked and disabled: none).
pub fn lookup_api_token(
    rtx: &ReadTransaction,
    token: &str,
    now: i64,
) -> Result<Option<(ApiToken, User)>> {
    if !token.starts_with("swb_") || token.len() > 200 {
        return Ok(None);
    }
    let hash = sha256(token.as_bytes());
    let Some(t) = codec::get::<ApiToken>(&rtx.open_table(API_TOKENS)?, &hash)? else {
        return Ok(None);
    };
    if t.expired(now) {
        return Ok(None);
    }
    match users::get(rtx, t.user_id)? {
        Some(u) if !u.disabled => Ok(Some((t, u))),
        _ => Ok(None),
    }
}

/// Record a use of `token` (callers skip it when `last_used` is under a minute old).
pub async fn touch_api_token(store: &Store, token: &str) -> Result<()> {
    let hash = sha256(token.as_bytes());
    store
        .write(move |ctx| {
            let mut t = ctx.txn.open_table(API_TOKENS)?;
            if let Some(mut a) = codec::get::<ApiToken>(&t, &hash)?
                && a.last_used.is_none_or(|l| ctx.now - l >= TOUCH_EVERY_MS)
            {
                a.last_used = Some(ctx.now);
                codec::put(&mut t, &hash, &a)?;
            }
            Ok(())
        })
        .await
}

/// Whether a use at `now` should be recorded.
pub fn needs_touch(t: &ApiToken, now: i64) -> bool {
    t.last_used.is_none_or(|l| now - l >= TOUCH_EVERY_MS)
}

fn hashes_of(
    rtx_table: &impl ReadableTable<&'static [u8], &'static [u8]>,
    user_id: UserId,
) -> Result<Vec<(u64, Vec<u8>)>> {
    let (start, end) = (k2(user_id, 0), k1(user_id.get().saturating_add(1)));
    let mut out = Vec::new();
    for item in rtx_table.range::<&[u8]>(start.as_slice()..end.as_slice())? {
        let (k, v) = item?;
        out.push((codec::id_at(k.value(), 8)?, v.value().to_vec()));
    }
    Ok(out)
}

/// The tokens of `user_id`, oldest first (expired ones too, marked by `expires`).
pub async fn list_api_tokens(store: &Store, user_id: UserId) -> Result<Vec<ApiToken>> {
    store
        .read(move |rtx| {
            let idx = rtx.open_table(API_TOKENS_BY_USER)?;
            let tokens = rtx.open_table(API_TOKENS)?;
            let mut out = Vec::new();
            for (_, hash) in hashes_of(&idx, user_id)? {
                if let Some(t) = codec::get::<ApiToken>(&tokens, &hash)? {
                    out.push(t);
                }
            }
            Ok(out)
        })
        .await
}

/// `actor` revokes token `id` of `user_id` (their own, or anyone's for an administrator;
/// `None` is the command line). Unknown or foreign tokens: 404.
pub async fn revoke_api_token(
    store: &Store,
    actor: Option<&User>,
    user_id: UserId,
    id: u64,
) -> Result<ApiToken> {
    if let Some(a) = actor
        && a.id != user_id
        && !a.is_admin()
    {
        return Err(Error::NotFound("token"));
    }
    let actor_id = actor.map(|a| a.id);
    store
        .write(move |ctx| {
            let key = k2(user_id, id);
            let hash = ctx
                .txn
                .open_table(API_TOKENS_BY_USER)?
                .remove(key.as_slice())?
                .map(|v| v.value().to_vec())
                .ok_or(Error::NotFound("token"))?;
            let old = ctx
                .txn
                .open_table(API_TOKENS)?
                .remove(hash.as_slice())?
                .map(|v| codec::decode::<ApiToken>(v.value()))
                .transpose()?
                .ok_or(Error::NotFound("token"))?;
            crate::domain::audit::record(
                ctx,
                actor_id,
                "token.revoke",
                format!("user:{user_id}"),
                old.name.clone(),
            )?;
            Ok(old)
        })
        .await
}

/// Revoke every token of `user_id` (password change or reset, user disabled). Returns how many.
pub fn revoke_all_api_tokens_in(ctx: &mut WriteCtx<'_>, user_id: UserId) -> Result<usize> {
    let all = hashes_of(&ctx.txn.open_table(API_TOKENS_BY_USER)?, user_id)?;
    let mut idx = ctx.txn.open_table(API_TOKENS_BY_USER)?;
    let mut tokens = ctx.txn.open_table(API_TOKENS)?;
    for (id, hash) in &all {
        idx.remove(k2(user_id, *id).as_slice())?;
        tokens.remove(hash.as_slice())?;
    }
    Ok(all.len())
}
