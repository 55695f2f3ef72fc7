//! Per-channel health line for admins: when the provider last reached us, the last webhook we
//! refused for a bad signature, and the last send error. Kept in one small table; the intake
//! path updates `last_inbound` inside its own (group-committed) transaction.

use crate::ids::ChannelId;
use redb::ReadTransaction;
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::store::codec::{self, k1};
use crate::store::tables::CHANNEL_HEALTH;
use crate::store::{Store, WriteCtx};

/// Something that went wrong, and when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Incident {
    /// Unix milliseconds.
    pub at: i64,
    pub reason: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ChannelHealth {
    /// Last accepted (signed) webhook, Unix ms.
    #[serde(default)]
    pub last_inbound: Option<i64>,
    /// Last webhook refused because of a missing or wrong signature.
    #[serde(default)]
    pub last_signature_failure: Option<Incident>,
    /// Last send the provider refused or that failed temporarily.
    #[serde(default)]
    pub last_send_error: Option<Incident>,
    /// Last message the provider accepted, Unix ms.
    #[serde(default)]
    pub last_send_ok: Option<i64>,
}

pub fn get(rtx: &ReadTransaction, channel_id: ChannelId) -> Result<ChannelHealth> {
    Ok(codec::get(&rtx.open_table(CHANNEL_HEALTH)?, &k1(channel_id))?.unwrap_or_default())
}

fn update_in(
    ctx: &WriteCtx<'_>,
    channel_id: ChannelId,
    f: impl FnOnce(&mut ChannelHealth),
) -> Result<()> {
    let mut t = ctx.txn.open_table(CHANNEL_HEALTH)?;
    let before: ChannelHealth = codec::get(&t, &k1(channel_id))?.unwrap_or_default();
    let mut h = before.clone();
    f(&mut h);
    // Every webhook of one group-committed batch shares `ctx.now`: the first one writes the
    // record, the rest find it unchanged and skip the rewrite.
    if h == before {
        return Ok(());
    }
    codec::put(&mut t, &k1(channel_id), &h)
}

pub fn inbound_in(ctx: &WriteCtx<'_>, channel_id: ChannelId) -> Result<()> {
    let now = ctx.now;
    update_in(ctx, channel_id, |h| h.last_inbound = Some(now))
}

pub fn signature_failure_in(ctx: &WriteCtx<'_>, channel_id: ChannelId, reason: &str) -> Result<()> {
    let inc = Incident {
        at: ctx.now,
        reason: reason.chars().take(300).collect(),
    };
    update_in(ctx, channel_id, |h| h.last_signature_failure = Some(inc))
}

/// Note a refused webhook signature, at most once a minute per channel and reason, so a flood
/// of forged requests cannot turn into a flood of disk writes.
pub async fn note_signature_failure(
    store: &Store,
    channel_id: ChannelId,
    reason: &str,
    now: i64,
) -> Result<()> {
    let same = reason.to_string();
    let recent = store
        .read(move |rtx| get(rtx, channel_id))
        .await
        .ok()
        .and_then(|h| h.last_signature_failure)
        .is_some_and(|f| now - f.at < 60_000 && f.reason == same);
    if recent {
        return Ok(());
    }
    let reason = reason.to_string();
    store
        .write(move |ctx| signature_failure_in(ctx, channel_id, &reason))
        .await
}

pub fn send_error_in(ctx: &WriteCtx<'_>, channel_id: ChannelId, reason: &str) -> Result<()> {
    let inc = Incident {
        at: ctx.now,
        reason: reason.chars().take(300).collect(),
    };
    update_in(ctx, channel_id, |h| h.last_send_error = Some(inc))
}

pub fn send_ok_in(ctx: &WriteCtx<'_>, channel_id: ChannelId) -> Result<()> {
    let now = ctx.now;
    update_in(ctx, channel_id, |h| h.last_send_ok = Some(now))
}

/// Forget a deleted channel's health.
pub fn remove_in(ctx: &WriteCtx<'_>, channel_id: ChannelId) -> Result<()> {
    ctx.txn
        .open_table(CHANNEL_HEALTH)?
        .remove(k1(channel_id).as_slice())?;
    Ok(())
}
