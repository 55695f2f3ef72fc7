//! Snooze: an agent puts an open conversation away until a time. It leaves the lists (but
//! the "Snoozed" one) and comes back when the time comes (the `automation` job wakes it) or
//! earlier when the customer writes. `Session::snoozed_until` is the truth; `SNOOZED` maps
//! session → until for the open ones (kept by `save_in` like the other session indexes), so
//! the lists and the job read a small table instead of every session.

use std::collections::HashSet;

use redb::{ReadTransaction, ReadableTable};

use super::actions::workable;
use super::{Session, SessionStatus, TimelineKind, get_in, save_in, timeline_in};
use crate::domain::users::User;
use crate::error::{Error, Result};
use crate::ids::SessionId;
use crate::store::codec;
use crate::store::tables::SNOOZED;
use crate::store::{Store, WriteCtx};

/// Furthest a conversation can be snoozed: 90 days.
pub const MAX_SNOOZE_MS: i64 = 90 * crate::clock::DAY_MS;

pub const SNOOZE_PAST: &str = "Choose a time in the future";
pub const SNOOZE_FAR: &str = "A conversation can be snoozed for at most 90 days";
pub const SNOOZE_CLOSED: &str = "Only open conversations can be snoozed";

/// The snoozed sessions (for the lists).
pub fn snoozed(rtx: &ReadTransaction) -> Result<HashSet<SessionId>> {
    let mut out = HashSet::new();
    for item in rtx.open_table(SNOOZED)?.iter()? {
        out.insert(codec::id_at(item?.0.value(), 0)?);
    }
    Ok(out)
}

/// `user` snoozes session `id` until `until` (Unix ms), or wakes it now with `None`.
pub async fn snooze(
    store: &Store,
    user: &User,
    id: SessionId,
    until: Option<i64>,
) -> Result<Session> {
    workable(store, user, id).await?;
    let uid = user.id;
    store
        .write(move |ctx| {
            let before = get_in(ctx, id)?;
            let Some(until) = until else {
                return wake_in(ctx, id, Some(uid)).map(|s| s.unwrap_or(before.clone()));
            };
            if before.status != SessionStatus::Open {
                return Err(Error::Conflict(SNOOZE_CLOSED.into()));
            }
            if until <= ctx.now {
                return Err(Error::invalid("until", SNOOZE_PAST));
            }
            if until > ctx.now + MAX_SNOOZE_MS {
                return Err(Error::invalid("until", SNOOZE_FAR));
            }
            let mut s = before.clone();
            s.snoozed_until = Some(until);
            save_in(ctx, Some(&before), &s)?;
            timeline_in(
                ctx,
                id,
                Some(uid),
                TimelineKind::Snoozed,
                &until.to_string(),
            )?;
            Ok(s)
        })
        .await
}

/// Wake a snoozed session (the time came, the customer wrote, an agent woke it); None when it
/// was not snoozed.
pub fn wake_in(
    ctx: &mut WriteCtx<'_>,
    id: SessionId,
    actor: Option<crate::ids::UserId>,
) -> Result<Option<Session>> {
    let before = get_in(ctx, id)?;
    if before.snoozed_until.is_none() {
        return Ok(None);
    }
    let mut s = before.clone();
    s.snoozed_until = None;
    save_in(ctx, Some(&before), &s)?;
    timeline_in(ctx, id, actor, TimelineKind::Woke, "")?;
    Ok(Some(s))
}

/// Wake every session whose snooze time has come; how many.
pub async fn wake_due(store: &Store) -> Result<usize> {
    store
        .write(|ctx| {
            let due: Vec<SessionId> = {
                let t = ctx.txn.open_table(SNOOZED)?;
                let mut due = Vec::new();
                for item in t.iter()? {
                    let (k, v) = item?;
                    let until = codec::u64_at(v.value(), 0)? as i64;
                    if until <= ctx.now {
                        due.push(codec::id_at(k.value(), 0)?);
                    }
                }
                due
            };
            for id in &due {
                wake_in(ctx, *id, None)?;
            }
            Ok(due.len())
        })
        .await
}
