//! Intake of customer messages: deduplicated by the provider's message id, blocked senders
//! dropped before storage, a new session opened (and assigned on arrival) when the contact has
//! none open. A webhook batch is applied in one transaction (`apply_batch`).

use crate::ids::MessageId;
use crate::ids::SessionId;
use std::sync::Arc;

use redb::ReadableTable;

use super::{Direction, Message, MessageFile, Status, preview, put_in};
use crate::channels::{DeliveryStatus, InboundEvent, StatusTarget};
use crate::domain::automation::survey;
use crate::domain::channels::Channel;
use crate::domain::contacts;
use crate::domain::delivery::media_fetch;
use crate::domain::presence::AssignPolicy;
use crate::domain::sessions;
use crate::error::{Error, Result};
use crate::store::codec::{self, k1, kcat};
use crate::store::tables::PROVIDER_IDS;
use crate::store::{Store, WriteCtx};

/// One inbound message as the intake path hands it over (already verified and parsed).
#[derive(Debug, Clone)]
pub struct NewInbound {
    pub provider_id: Option<String>,
    pub from: String,
    pub contact_name: Option<String>,
    pub text: String,
    pub files: Vec<MessageFile>,
    /// The provider's timestamp (ms).
    pub at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Ingested {
    Stored {
        session_id: SessionId,
        message_id: MessageId,
        new_session: bool,
    },
    Duplicate {
        message_id: MessageId,
    },
    Blocked,
}

/// Intake of one customer message inside the caller's (group-committed) transaction, without
/// presence information: on an assign-on-arrival channel a new session stays in the queue.
/// Webhook handlers should call [`ingest_with_in`] with `state.presence.policy(now)`.
pub fn ingest_in(ctx: &mut WriteCtx<'_>, ch: &Channel, m: &NewInbound) -> Result<Ingested> {
    ingest_with_in(ctx, ch, m, &AssignPolicy::unknown())
}

/// Intake of one customer message; a new session on an assign-on-arrival channel goes
/// round-robin to an online member under their cap (`policy` is the presence snapshot).
pub fn ingest_with_in(
    ctx: &mut WriteCtx<'_>,
    ch: &Channel,
    m: &NewInbound,
    policy: &AssignPolicy,
) -> Result<Ingested> {
    ingest_choice_in(ctx, ch, m, policy, None)
}

/// [`ingest_with_in`] with the id of the interactive choice the customer picked (WhatsApp).
/// A message answering the satisfaction survey of a conversation that ended is stored on that
/// conversation and does not open a new one (docs/automation.md).
pub fn ingest_choice_in(
    ctx: &mut WriteCtx<'_>,
    ch: &Channel,
    m: &NewInbound,
    policy: &AssignPolicy,
    choice: Option<&str>,
) -> Result<Ingested> {
    if let Some(pid) = &m.provider_id {
        if pid.is_empty() || pid.len() > 256 {
            return Err(Error::invalid(
                "id",
                "provider message id is empty or too long",
            ));
        }
        if let Some(v) = ctx
            .txn
            .open_table(PROVIDER_IDS)?
            .get(kcat(&k1(ch.id), pid.as_bytes()).as_slice())?
        {
            return Ok(Ingested::Duplicate {
                message_id: codec::id_at(v.value(), 0)?,
            });
        }
    }
    if let Some(c) = contacts::find_in(ctx, ch.id, m.from.trim())?
        && contacts::blocked_in(ctx, &c)?
    {
        return Ok(Ingested::Blocked);
    }
    let (contact, _) = contacts::upsert_in(ctx, ch.id, &m.from, m.contact_name.as_deref())?;
    // The answer to a satisfaction survey stays with the conversation that asked (which stays
    // ended); anything else is a normal message (docs/automation.md).
    let open = sessions::open_of_contact_in(ctx, contact.id)?;
    let take = match open {
        Some(_) => None,
        None => survey::take_in(ctx, contact.id, &m.text, choice)?,
    };
    let (session, new_session) = match take {
        Some(t) => (sessions::get_in(ctx, t.session_id())?, false),
        None => sessions::open_or_new_in(ctx, ch.id, ch.kind, &contact, open)?,
    };
    let id = MessageId(ctx.next_id("message")?);
    let text: String = m.text.chars().take(64 * 1024).collect();
    let msg = Message {
        id,
        session_id: session.id,
        channel_id: ch.id,
        direction: Direction::In,
        author: None,
        text,
        files: m.files.clone(),
        template: None,
        provider_id: m.provider_id.clone(),
        status: Status::Received,
        error: None,
        created: ctx.now,
        provider_at: m.at,
        human_agent_tag: false,
        retry: None,
        quote: None,
        reaction: None,
        edited: None,
        interactive: None,
    };
    if let Some(pid) = &m.provider_id {
        ctx.txn.open_table(PROVIDER_IDS)?.insert(
            kcat(&k1(ch.id), pid.as_bytes()).as_slice(),
            k1(id).as_slice(),
        )?;
    }
    put_in(ctx, &msg, true)?;
    let mut s = session.clone();
    s.last_activity = ctx.now;
    s.last_preview = preview(&msg.text, &msg.files);
    s.last_message_id = id;
    s.message_count += 1;
    if let Some(t) = take {
        // On the ended conversation: no reopen, no automatic replies, no reply window.
        sessions::save_in(ctx, Some(&session), &s)?;
        survey::apply_in(ctx, ch, t)?;
        return Ok(Ingested::Stored {
            session_id: s.id,
            message_id: id,
            new_session: false,
        });
    }
    s.last_inbound = Some(ctx.now);
    s.archived = false;
    // The customer wrote: a snoozed conversation comes back (in this same save).
    let woke = s.snoozed_until.take().is_some();
    sessions::save_in(ctx, Some(&session), &s)?;
    if woke {
        sessions::timeline_in(ctx, s.id, None, sessions::TimelineKind::Woke, "")?;
    }
    if new_session {
        crate::domain::queue::assign_on_arrival_in(ctx, ch, s.id, policy)?;
    }
    // Automatic replies when due.
    crate::domain::automation::on_inbound_in(ctx, ch, &session, new_session)?;
    Ok(Ingested::Stored {
        session_id: s.id,
        message_id: id,
        new_session,
    })
}

/// What one webhook changed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Applied {
    pub stored: usize,
    pub duplicates: usize,
    pub blocked: usize,
    pub statuses: usize,
    pub with_media: usize,
}

fn status_of(s: DeliveryStatus) -> Status {
    match s {
        DeliveryStatus::Sent => Status::Sent,
        DeliveryStatus::Delivered => Status::Delivered,
        DeliveryStatus::Read => Status::Read,
        DeliveryStatus::Failed => Status::Failed,
    }
}

/// Apply a whole parsed batch inside one transaction.
pub fn apply_batch_in(
    ctx: &mut WriteCtx<'_>,
    ch: &Channel,
    events: &[InboundEvent],
    policy: &AssignPolicy,
) -> Result<Applied> {
    let mut a = Applied::default();
    crate::domain::channels::health::inbound_in(ctx, ch.id)?;
    for ev in events {
        match ev {
            InboundEvent::Message(m) if m.reaction.is_some() => {
                // A reaction annotates the message it reacts to; to an unknown message (or
                // from a blocked sender) it is acknowledged and dropped.
                if let Some(r) = &m.reaction
                    && !sender_blocked_in(ctx, ch, &m.from)?
                    && react_in(ctx, ch, r)?
                {
                    a.statuses += 1;
                }
            }
            InboundEvent::Message(m) => {
                let files: Vec<_> = m.media.iter().map(media_fetch::file_entry).collect();
                let has_files = !files.is_empty();
                // A WhatsApp contact first known by user id keeps its address (and its
                // history, block and merge) when the number arrives later.
                let has_identity = m.identity != Default::default();
                let from = match has_identity {
                    true => contacts::find_with_identity_in(ctx, ch.id, &m.from, &m.identity)?
                        .map(|c| c.address)
                        .unwrap_or_else(|| m.from.clone()),
                    false => m.from.clone(),
                };
                let n = NewInbound {
                    provider_id: Some(m.provider_id.clone()),
                    from: from.clone(),
                    contact_name: m.contact_name.clone(),
                    text: m.text.clone(),
                    files,
                    at: Some(m.timestamp_ms),
                };
                match ingest_choice_in(ctx, ch, &n, policy, m.choice.as_deref())? {
                    Ingested::Stored { message_id, .. } => {
                        a.stored += 1;
                        if let Some(pid) = &m.reply_to {
                            quote_in(ctx, ch, message_id, pid)?;
                        }
                        if (has_identity || m.keyword.is_some())
                            && let Some(mut c) = contacts::find_in(ctx, ch.id, &from)?
                        {
                            if has_identity {
                                contacts::note_identity_in(ctx, &mut c, &m.identity)?;
                            }
                            if let Some(k) = m.keyword {
                                contacts::note_keyword_in(ctx, &mut c, k, &m.text)?;
                            }
                        }
                        if has_files {
                            a.with_media += 1;
                            media_fetch::enqueue_in(ctx, message_id)?;
                        }
                    }
                    Ingested::Duplicate { .. } => a.duplicates += 1,
                    Ingested::Blocked => a.blocked += 1,
                }
            }
            InboundEvent::Status(s) => {
                a.statuses += 1;
                let status = status_of(s.status);
                match &s.target {
                    StatusTarget::ProviderId(pid) => {
                        let error = s
                            .error
                            .as_ref()
                            .map(|e| format!("{} (provider code {})", e.message, e.code));
                        // A delivery failure reported later (e.g. Twilio 30034, unregistered
                        // 10DLC traffic) is the channel's trouble too: its health line says so.
                        if let Some(e) = &error {
                            crate::domain::channels::health::send_error_in(ctx, ch.id, e)?;
                        }
                        super::receipts::apply_status_in(ctx, ch.id, pid, status, error)?;
                    }
                    StatusTarget::Watermark { contact, up_to_ms } => {
                        super::receipts::apply_watermark_in(
                            ctx, ch.id, contact, *up_to_ms, status,
                        )?;
                    }
                }
            }
            InboundEvent::Edit(e) => {
                // An edit of an unknown message (or from someone else): acknowledged, nothing
                // changed.
                if edit_in(ctx, ch, e)? {
                    a.statuses += 1;
                }
            }
            InboundEvent::IdentityUpdate(u) => {
                // Unknown user, or the new id taken: acknowledged, nothing changed.
                if !contacts::move_user_id_in(
                    ctx,
                    ch.id,
                    &u.previous,
                    &u.current,
                    u.phone.as_deref(),
                )? {
                    tracing::info!(channel = %ch.id, "user_id_update for an unknown WhatsApp user ignored");
                }
            }
        }
    }
    Ok(a)
}

fn by_provider_id_in(ctx: &WriteCtx<'_>, ch: &Channel, pid: &str) -> Result<Option<Message>> {
    let id = ctx
        .txn
        .open_table(PROVIDER_IDS)?
        .get(kcat(&k1(ch.id), pid.as_bytes()).as_slice())?
        .map(|v| codec::id_at(v.value(), 0))
        .transpose()?;
    match id {
        Some(id) => super::get_in(ctx, id).map(Some),
        None => Ok(None),
    }
}

fn sender_blocked_in(ctx: &WriteCtx<'_>, ch: &Channel, from: &str) -> Result<bool> {
    match contacts::find_in(ctx, ch.id, from.trim())? {
        Some(c) => contacts::blocked_in(ctx, &c),
        None => Ok(false),
    }
}

/// Put (or take off, without emoji) the customer's reaction on the message it names.
fn react_in(ctx: &mut WriteCtx<'_>, ch: &Channel, r: &crate::channels::Reaction) -> Result<bool> {
    let Some(mut target) = by_provider_id_in(ctx, ch, &r.message_id)? else {
        tracing::info!(channel = %ch.id, "reaction to an unknown message ignored");
        return Ok(false);
    };
    let emoji = r
        .emoji
        .as_deref()
        .map(|e| {
            e.chars()
                .filter(|c| !c.is_control())
                .take(16)
                .collect::<String>()
        })
        .filter(|e| !e.is_empty());
    if target.reaction == emoji {
        return Ok(false);
    }
    target.reaction = emoji;
    put_in(ctx, &target, false)?;
    Ok(true)
}

/// Replace an inbound message's text with the customer's edit, keeping the first text.
fn edit_in(ctx: &mut WriteCtx<'_>, ch: &Channel, e: &crate::channels::MessageEdit) -> Result<bool> {
    let Some(mut target) = by_provider_id_in(ctx, ch, &e.message_id)? else {
        tracing::info!(channel = %ch.id, "edit of an unknown message ignored");
        return Ok(false);
    };
    let session = crate::domain::sessions::get_in(ctx, target.session_id)?;
    let from_sender =
        contacts::find_in(ctx, ch.id, e.from.trim())?.is_some_and(|c| c.id == session.contact_id);
    if target.direction != super::Direction::In || !from_sender {
        tracing::info!(channel = %ch.id, "edit of a message the sender did not write ignored");
        return Ok(false);
    }
    let count = e.num_edit.max(1);
    if target.text == e.text || target.edited.as_ref().is_some_and(|m| m.count >= count) {
        return Ok(false);
    }
    let original = match target.edited.take() {
        Some(m) => m.original,
        None => std::mem::take(&mut target.text),
    };
    target.text = e.text.chars().take(4096).collect();
    target.edited = Some(super::Edited { original, count });
    put_in(ctx, &target, false)?;
    // The newest message edited: the inbox row's preview follows.
    if session.last_message_id == target.id {
        let mut s = session.clone();
        s.last_preview = preview(&target.text, &target.files);
        crate::domain::sessions::save_in(ctx, Some(&session), &s)?;
    }
    Ok(true)
}

/// The stored message `id` answers the message with provider id `pid`: keep a quote of it.
fn quote_in(ctx: &mut WriteCtx<'_>, ch: &Channel, id: MessageId, pid: &str) -> Result<()> {
    let Some(quoted) = by_provider_id_in(ctx, ch, pid)? else {
        return Ok(());
    };
    let text = if quoted.text.is_empty() {
        quoted
            .files
            .first()
            .map(|f| f.name.clone())
            .unwrap_or_default()
    } else {
        quoted.text.chars().take(140).collect()
    };
    let mut m = super::get_in(ctx, id)?;
    m.quote = Some(super::Quote {
        id: quoted.id,
        text,
    });
    put_in(ctx, &m, false)
}

/// Store a verified, parsed webhook batch (messages and receipts) in ONE group-committed
/// transaction: all of it or nothing. `Ok` only once it is durable; `policy` is the presence
/// snapshot for assign-on-arrival.
pub async fn apply_batch(
    store: &Store,
    ch: Arc<Channel>,
    events: Vec<InboundEvent>,
    policy: AssignPolicy,
) -> Result<Applied> {
    let events = Arc::new(events);
    store
        .write(move |ctx| apply_batch_in(ctx, &ch, &events, &policy))
        .await
}
