//! Queues: who owns a session. Manual pick-up (unassigned until a member picks it up),
//! auto-on-reply (the first member who replies owns it, in `messages::outbox::enqueue_in`) and
//! assign-on-arrival (round-robin among online members under their concurrency cap), plus
//! pick-up and transfer. Every change goes through the single writer, so two agents racing
//! for one session are serialized: exactly one wins.

use crate::domain::events::{AssignedBy, Event};
use crate::domain::sessions::TimelineKind;
use crate::ids::SessionId;
use crate::ids::UserId;
use crate::locale::Phrase;
use std::collections::HashSet;

use redb::ReadableTable;

use super::channels::{self, Channel, QueueMode};
use super::presence::AssignPolicy;
use super::sessions::{self, Session, SessionStatus};
use super::users;
use crate::error::{Error, Result};
use crate::store::codec::{self, k1};
use crate::store::tables::QUEUE_CURSOR;
use crate::store::{Audience, Store, WriteCtx};

/// The member who gets the next session, or None (everyone offline or at the cap).
pub fn next_assignee_in(
    ctx: &WriteCtx<'_>,
    ch: &Channel,
    policy: &AssignPolicy,
) -> Result<Option<UserId>> {
    let mut members: Vec<UserId> = ch
        .members
        .iter()
        .copied()
        .filter(|m| policy.is_online(*m))
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    members.sort_unstable();
    if members.is_empty() {
        return Ok(None);
    }
    let last = ctx
        .txn
        .open_table(QUEUE_CURSOR)?
        .get(k1(ch.id).as_slice())?
        .map(|v| codec::id_at::<UserId>(v.value(), 0))
        .transpose()?
        .unwrap_or_default();
    // Round-robin: the first member after the last one served, wrapping around.
    let start = members.iter().position(|m| *m > last).unwrap_or(0);
    let cap = u64::from(ch.max_sessions_per_agent);
    for i in 0..members.len() {
        let uid = members[(start + i) % members.len()];
        match users::get_in(ctx, uid) {
            Ok(u) if !u.disabled => {}
            _ => continue,
        }
        if cap > 0 && sessions::open_count_in(ctx, uid, ch.id, cap)? >= cap {
            continue;
        }
        return Ok(Some(uid));
    }
    Ok(None)
}

/// Applied by intake when a message opened a new session on an assign-on-arrival channel.
pub fn assign_on_arrival_in(
    ctx: &mut WriteCtx<'_>,
    ch: &Channel,
    session_id: SessionId,
    policy: &AssignPolicy,
) -> Result<Option<UserId>> {
    if ch.queue_mode != QueueMode::AssignOnArrival {
        return Ok(None);
    }
    let before = sessions::get_in(ctx, session_id)?;
    if before.assignee.is_some() || before.status != SessionStatus::Open {
        return Ok(before.assignee);
    }
    let Some(uid) = next_assignee_in(ctx, ch, policy)? else {
        return Ok(None);
    };
    ctx.txn
        .open_table(QUEUE_CURSOR)?
        .insert(k1(ch.id).as_slice(), k1(uid).as_slice())?;
    let mut s = before.clone();
    s.assignee = Some(uid);
    sessions::save_in(ctx, Some(&before), &s)?;
    sessions::timeline_in(
        ctx,
        session_id,
        None,
        TimelineKind::Assigned,
        &format!("user:{uid}"),
    )?;
    ctx.emit(
        Audience::Users {
            user_ids: vec![uid],
        },
        &Event::SessionAssigned {
            session_id,
            assignee: uid,
            by: AssignedBy::Arrival,
        },
    )?;
    Ok(Some(uid))
}

/// `user` picks up an unassigned session they see. Of two agents picking at once exactly one
/// wins; the other gets a conflict.
pub async fn pickup(store: &Store, user: &users::User, session_id: SessionId) -> Result<Session> {
    sessions::actions::workable(store, user, session_id).await?;
    let uid = user.id;
    store
        .write(move |ctx| pickup_in(ctx, session_id, uid))
        .await
}

/// `user` transfers a session they see to a colleague (`to`) or back to the queue (`None`),
/// with a note for the timeline and the receiver.
pub async fn transfer(
    store: &Store,
    user: &users::User,
    session_id: SessionId,
    to: Option<UserId>,
    note: String,
) -> Result<Session> {
    sessions::actions::visible(store, user, session_id).await?;
    let actor = user.clone();
    store
        .write(move |ctx| transfer_in(ctx, session_id, &actor, to, &note))
        .await
}

/// Pick up an unassigned session. Already mine: no change. Someone else's: 409.
pub fn pickup_in(ctx: &mut WriteCtx<'_>, session_id: SessionId, uid: UserId) -> Result<Session> {
    let before = sessions::get_in(ctx, session_id)?;
    match before.assignee {
        Some(a) if a == uid => return Ok(before),
        Some(_) => {
            return Err(Error::Conflict(
                "a colleague has already picked up this session".into(),
            ));
        }
        None => {}
    }
    if before.status == SessionStatus::Closed {
        return Err(Error::Conflict("the session is closed".into()));
    }
    let mut s = before.clone();
    s.assignee = Some(uid);
    sessions::save_in(ctx, Some(&before), &s)?;
    sessions::timeline_in(ctx, session_id, Some(uid), TimelineKind::PickedUp, "")?;
    Ok(s)
}

/// Transfer `session_id` to a colleague (`to = Some`) or back to the queue (`None`).
/// The receiver must exist, be enabled and be a member of the channel or an admin.
pub fn transfer_in(
    ctx: &mut WriteCtx<'_>,
    session_id: SessionId,
    actor: &users::User,
    to: Option<UserId>,
    note: &str,
) -> Result<Session> {
    let before = sessions::get_in(ctx, session_id)?;
    if before.status == SessionStatus::Closed {
        return Err(Error::Conflict(
            "the session is closed; closed sessions cannot be transferred".into(),
        ));
    }
    if !sessions::may_manage(actor, &before) {
        return Err(Error::Conflict(
            "this session belongs to a colleague; only they or an admin can transfer it".into(),
        ));
    }
    let note = note.trim();
    if note.chars().count() > 2000 {
        return Err(Error::invalid("note", "must be at most 2000 characters"));
    }
    let receiver = match to {
        Some(uid) => {
            let u = users::get_in(ctx, uid)
                .map_err(|_| Error::invalid("to_user_id", format!("user {uid} does not exist")))?;
            if u.disabled {
                return Err(Error::invalid(
                    "to_user_id",
                    format!("{} is disabled and cannot receive sessions", u.username),
                ));
            }
            let member = channels::is_member_in(ctx, before.channel_id, uid)?;
            if !member && !u.is_admin() {
                return Err(Error::invalid(
                    "to_user_id",
                    format!(
                        "{} is not a member of this session's channel; add them to the channel first",
                        u.username
                    ),
                ));
            }
            if before.assignee == Some(uid) {
                return Err(Error::Conflict(format!(
                    "the session is already assigned to {}",
                    u.username
                )));
            }
            Some(u)
        }
        None => {
            if before.assignee.is_none() {
                return Err(Error::Conflict(
                    "the session is already in the queue".into(),
                ));
            }
            None
        }
    };
    let mut s = before.clone();
    s.assignee = to;
    sessions::save_in(ctx, Some(&before), &s)?;
    let target = match &receiver {
        Some(u) => Phrase::new("tl.d.to_user").arg("name", u.display_name_or_username()),
        None => Phrase::new("tl.d.to_queue"),
    };
    sessions::timeline_phrased_in(
        ctx,
        session_id,
        Some(actor.id),
        TimelineKind::Transferred,
        Some(target),
        note,
    )?;
    if let Some(u) = &receiver {
        ctx.emit(
            Audience::Users {
                user_ids: vec![u.id],
            },
            &Event::SessionTransferred {
                session_id,
                channel_id: s.channel_id,
                from_user_id: actor.id,
                from: actor.display_name_or_username(),
                to_user_id: u.id,
                note,
            },
        )?;
    }
    Ok(s)
}
