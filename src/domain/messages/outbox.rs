//! Agents' replies through the durable outbox: a reply is stored `queued` together with its
//! outbox row in one transaction; the delivery worker (`domain::delivery`) claims due rows and
//! records the outcome through the functions here.

use crate::domain::sessions::TimelineKind;
use crate::ids::AttachmentId;
use crate::ids::ChannelId;
use crate::ids::MessageId;
use crate::ids::SessionId;
use redb::{ReadTransaction, ReadableTable};
use serde::{Deserialize, Serialize};

use super::window::{Window, reply_window, window_message};
use super::{Direction, Message, MessageFile, Status, TemplateRef, preview, put_in};
use crate::domain::access;
use crate::domain::attachments::link;
use crate::domain::channels::{self, Channel, ChannelKind};
use crate::domain::contacts;
use crate::domain::delivery::Kick;
use crate::domain::sessions::{self, SessionStatus};
use crate::domain::users::User;
use crate::error::{Error, Result};
use crate::store::codec::{self, k1, k2};
use crate::store::tables::{MESSAGE_SESSION, OUTBOX, OUTBOX_DUE};
use crate::store::{Store, WriteCtx};

/// What an agent sends.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct NewOutbound {
    #[serde(default)]
    pub text: String,
    /// Attachment ids uploaded before (`POST /api/v1/attachments`).
    #[serde(default)]
    pub attachment_ids: Vec<AttachmentId>,
    #[serde(default)]
    pub template: Option<TemplateRef>,
    /// Choices (Switchboard's own survey for now; not taken from the API).
    #[serde(skip)]
    pub interactive: Option<crate::channels::Interactive>,
}

pub const SMS_MAX_CHARS: usize = 1600;

/// Validates text length for the channel; returns the trimmed text.
pub fn check_text(kind: ChannelKind, text: &str, max_chars: usize) -> Result<String> {
    let t = text.trim_end().to_string();
    let n = t.chars().count();
    let cap = if kind == ChannelKind::Sms {
        max_chars.min(SMS_MAX_CHARS)
    } else {
        max_chars
    };
    if n > cap {
        return Err(Error::invalid(
            "text",
            format!("is {n} characters; at most {cap} fit this channel"),
        ));
    }
    Ok(t)
}

/// Queue an agent's message: stored as `queued` with an outbox entry, in one transaction.
pub fn enqueue_in(
    ctx: &mut WriteCtx<'_>,
    ch: &Channel,
    session_id: SessionId,
    author: &User,
    out: &NewOutbound,
    files: Vec<MessageFile>,
    text: String,
) -> Result<Message> {
    enqueue_by_in(ctx, ch, session_id, Some(author), out, files, text)
}

/// [`enqueue_in`] for an agent or, with `author` None, for Switchboard itself (the
/// missed-call follow-up): then nobody becomes the owner and the session stays in the queue.
pub fn enqueue_by_in(
    ctx: &mut WriteCtx<'_>,
    ch: &Channel,
    session_id: SessionId,
    author: Option<&User>,
    out: &NewOutbound,
    files: Vec<MessageFile>,
    text: String,
) -> Result<Message> {
    enqueue_with_in(ctx, ch, session_id, author, out, files, text, false)
}

/// [`enqueue_by_in`]; with `after_close`, Switchboard's own message to a conversation that just
/// ended (the survey's re-ask): the window counts as for an open conversation.
#[allow(clippy::too_many_arguments)]
pub fn enqueue_with_in(
    ctx: &mut WriteCtx<'_>,
    ch: &Channel,
    session_id: SessionId,
    author: Option<&User>,
    out: &NewOutbound,
    files: Vec<MessageFile>,
    text: String,
    after_close: bool,
) -> Result<Message> {
    let before = sessions::get_in(ctx, session_id)?;
    let after_close = after_close && author.is_none();
    let window = if after_close {
        super::window::provider_window(ch.kind, before.last_inbound, ctx.now)
    } else {
        reply_window(ch.kind, &before, ctx.now)
    };
    if before.status == SessionStatus::Closed && !after_close {
        return Err(Error::Conflict(match ch.kind {
            ChannelKind::Sms | ChannelKind::Whatsapp => {
                "this session is closed; start a new session with the customer".into()
            }
            _ => "this conversation is closed; the next customer message opens a new one".into(),
        }));
    }
    if text.is_empty() && files.is_empty() && out.template.is_none() {
        return Err(Error::invalid("text", "the message is empty"));
    }
    if ch.kind == ChannelKind::Sms {
        let c = crate::domain::contacts::get_in(ctx, before.contact_id)?;
        if c.opted_out.is_some() {
            return Err(Error::Rule(super::window::OPTED_OUT.into()));
        }
    }
    let human_agent_tag = match (window, out.template.is_some()) {
        (Window::Open, _) => false,
        (Window::TemplateOnly, true) => false,
        (Window::HumanAgent, false) => true,
        (w, _) => return Err(Error::Rule(window_message(w, ch.kind).into())),
    };
    if out.template.is_some() && ch.kind != ChannelKind::Whatsapp {
        return Err(Error::invalid(
            "template",
            "templates are for WhatsApp channels",
        ));
    }
    // A template must be registered and get every parameter; its rendered body is the
    // message text the history shows (the provider receives name, language and params).
    let (text, template) = match &out.template {
        Some(t) => {
            let (rendered, t) = crate::domain::templates::check_send_in(ctx, ch.id, t)?;
            (rendered, Some(t))
        }
        None => (text, None),
    };
    let id = MessageId(ctx.next_id("message")?);
    let msg = Message {
        id,
        session_id,
        channel_id: ch.id,
        direction: Direction::Out,
        author: author.map(|a| a.id),
        text,
        files,
        template,
        provider_id: None,
        status: if ch.kind == ChannelKind::Livechat {
            Status::Sent
        } else {
            Status::Queued
        },
        error: None,
        created: ctx.now,
        provider_at: None,
        human_agent_tag,
        retry: None,
        quote: None,
        reaction: None,
        edited: None,
        interactive: out.interactive.clone(),
    };
    put_in(ctx, &msg, true)?;
    if ch.kind != ChannelKind::Livechat {
        schedule_in(ctx, id, ctx.now, 0)?;
    }
    let mut s = before.clone();
    s.last_activity = ctx.now;
    s.last_preview = preview(&msg.text, &msg.files);
    s.last_message_id = id;
    s.message_count += 1;
    // Only a person's reply is a response (an automatic reply or follow-up is not).
    if author.is_some() {
        s.first_response_at = s.first_response_at.or(Some(ctx.now));
    }
    // Whoever answers an unassigned conversation owns it, in every queue mode (as in
    // Chatwoot): the queue shows who is on it and the Pick-up button goes.
    if let Some(author) = author
        && s.assignee.is_none()
    {
        s.assignee = Some(author.id);
        sessions::timeline_in(
            ctx,
            session_id,
            Some(author.id),
            TimelineKind::PickedUp,
            "by replying",
        )?;
    }
    sessions::save_in(ctx, Some(&before), &s)?;
    Ok(msg)
}

/// Start (or continue) a session with a customer: SMS with free text, WhatsApp only with a
/// template (reusing the contact's open session). Messenger and Live Chat cannot be started.
// The prepared text and files travel with the request they belong to; bundling them would
// only move the same fields into a struct callers build right here.
#[allow(clippy::too_many_arguments)]
pub fn start_in(
    ctx: &mut WriteCtx<'_>,
    ch: &Channel,
    to: &str,
    name: Option<&str>,
    author: &User,
    out: &NewOutbound,
    files: Vec<MessageFile>,
    text: String,
) -> Result<Message> {
    match ch.kind {
        ChannelKind::Sms => {}
        ChannelKind::Whatsapp if out.template.is_some() => {}
        ChannelKind::Whatsapp => {
            return Err(Error::Rule(
                "WhatsApp conversations can only be started with an approved template message"
                    .into(),
            ));
        }
        ChannelKind::Messenger | ChannelKind::Instagram | ChannelKind::Livechat => {
            return Err(Error::Rule(format!(
                "{} conversations can only be started by the customer",
                ch.kind.as_str()
            )));
        }
    }
    let to = normalize_address(ch.kind, to)?;
    let (contact, _) = contacts::upsert_in(ctx, ch.id, &to, name)?;
    if contacts::blocked_in(ctx, &contact)? {
        return Err(Error::Conflict("this contact is blocked".into()));
    }
    let (session, new_session) = sessions::open_for_contact_in(ctx, ch.id, ch.kind, &contact)?;
    if new_session {
        let mut s = session.clone();
        s.assignee = Some(author.id);
        sessions::save_in(ctx, Some(&session), &s)?;
        sessions::timeline_in(ctx, s.id, Some(author.id), TimelineKind::Started, &to)?;
    }
    enqueue_in(ctx, ch, session.id, author, out, files, text)
}

/// Start a session with a customer (`POST /api/v1/sessions`).
#[derive(Deserialize, utoipa::ToSchema)]
pub struct StartSession {
    pub channel_id: ChannelId,
    /// Phone number in international format.
    pub to: String,
    pub name: Option<String>,
    #[serde(flatten)]
    pub message: NewOutbound,
}

/// `author` replies in a session they see: the text checked for the channel, the files they
/// uploaded for it resolved, the message queued with its outbox row, the worker woken. Refused
/// (422) when the channel's reply window does not allow it.
pub async fn reply(
    store: &Store,
    kick: &Kick,
    author: &User,
    session_id: SessionId,
    out: NewOutbound,
    max_chars: usize,
) -> Result<Message> {
    let user = author.clone();
    let ch = store
        .read(move |rtx| {
            let s = sessions::get_visible(rtx, &user, session_id)?;
            channels::get(rtx, s.channel_id)?.ok_or(Error::Conflict(
                "the channel of this session was deleted".into(),
            ))
        })
        .await?;
    let text = check_text(ch.kind, &out.text, max_chars)?;
    let files = link::resolve(store, author, ch.id, &out.attachment_ids).await?;
    let author = author.clone();
    let m = store
        .write(move |ctx| {
            enqueue_in(
                ctx,
                &ch,
                session_id,
                &author,
                &out,
                files.clone(),
                text.clone(),
            )
        })
        .await?;
    kick.kick();
    Ok(m)
}

/// `author` starts (or continues) a session with a customer on a channel they see: SMS with
/// free text, WhatsApp only with a template.
pub async fn start(
    store: &Store,
    kick: &Kick,
    author: &User,
    req: StartSession,
    max_chars: usize,
) -> Result<Message> {
    let user = author.clone();
    let cid = req.channel_id;
    let ch = store
        .read(move |rtx| {
            let vis = access::visible_channels(rtx, &user)?;
            match channels::get(rtx, cid)? {
                Some(c) if vis.channel(c.id) => Ok(c),
                _ => Err(Error::NotFound("channel")),
            }
        })
        .await?;
    let text = check_text(ch.kind, &req.message.text, max_chars)?;
    let files = link::resolve(store, author, ch.id, &req.message.attachment_ids).await?;
    let author = author.clone();
    let m = store
        .write(move |ctx| {
            start_in(
                ctx,
                &ch,
                &req.to,
                req.name.as_deref(),
                &author,
                &req.message,
                files.clone(),
                text.clone(),
            )
        })
        .await?;
    kick.kick();
    Ok(m)
}

/// `user` sends a failed (or unknown) message of a session they see again: a new attempt
/// through the outbox.
pub async fn retry(
    store: &Store,
    kick: &Kick,
    user: &User,
    message_id: MessageId,
) -> Result<Message> {
    let u = user.clone();
    store
        .read(move |rtx| {
            let m = super::get(rtx, message_id)?.ok_or(Error::NotFound("message"))?;
            sessions::get_visible(rtx, &u, m.session_id)?;
            Ok(())
        })
        .await?;
    let m = store
        .write(move |ctx| {
            let mut m = super::get_in(ctx, message_id)?;
            if m.direction != Direction::Out
                || !matches!(m.status, Status::Failed | Status::Unknown)
            {
                return Err(Error::Conflict(
                    "only failed messages can be retried".into(),
                ));
            }
            m.status = Status::Queued;
            m.error = None;
            put_in(ctx, &m, false)?;
            schedule_in(ctx, message_id, ctx.now, 0)?;
            Ok(m)
        })
        .await?;
    kick.kick();
    Ok(m)
}

/// Phone numbers for SMS / WhatsApp: E.164 for SMS (`+` and digits), digits for WhatsApp ids.
pub fn normalize_address(kind: ChannelKind, to: &str) -> Result<String> {
    let cleaned: String = to
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '(' | ')' | '.'))
        .collect();
    let digits = cleaned.trim_start_matches('+');
    if digits.len() < 5 || digits.len() > 15 || !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err(Error::invalid(
            "to",
            "must be a phone number in international format, e.g. +4930123456",
        ));
    }
    Ok(match kind {
        ChannelKind::Whatsapp => digits.to_string(),
        _ => format!("+{digits}"),
    })
}

/// The outbox entry of a queued message.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OutboxItem {
    pub message_id: MessageId,
    pub attempts: u32,
    pub next_at: i64,
    /// Set while an attempt is under way; found set after a crash = outcome unknown.
    pub in_flight_since: Option<i64>,
    #[serde(default)]
    pub last_error: Option<String>,
    /// How many parts of a multi-part send (e.g. text, then a file) the provider accepted.
    #[serde(default)]
    pub parts_done: u32,
}

/// (Re)schedule a message for delivery at `at`.
pub fn schedule_in(
    ctx: &WriteCtx<'_>,
    message_id: MessageId,
    at: i64,
    attempts: u32,
) -> Result<()> {
    let mut ob = ctx.txn.open_table(OUTBOX)?;
    if let Some(old) = codec::get::<OutboxItem>(&ob, &k1(message_id))? {
        ctx.txn
            .open_table(OUTBOX_DUE)?
            .remove(k2(old.next_at as u64, message_id).as_slice())?;
    }
    let item = OutboxItem {
        message_id,
        attempts,
        next_at: at,
        in_flight_since: None,
        last_error: None,
        parts_done: 0,
    };
    codec::put(&mut ob, &k1(message_id), &item)?;
    ctx.txn
        .open_table(OUTBOX_DUE)?
        .insert(k2(at as u64, message_id).as_slice(), [].as_slice())?;
    Ok(())
}

/// Remove a message from the outbox (sent, failed for good, or unknown).
pub fn unschedule_in(ctx: &WriteCtx<'_>, message_id: MessageId) -> Result<Option<OutboxItem>> {
    let mut ob = ctx.txn.open_table(OUTBOX)?;
    let old = codec::get::<OutboxItem>(&ob, &k1(message_id))?;
    if let Some(o) = &old {
        ctx.txn
            .open_table(OUTBOX_DUE)?
            .remove(k2(o.next_at as u64, message_id).as_slice())?;
        ob.remove(k1(message_id).as_slice())?;
    }
    Ok(old)
}

/// The outbox entry of a message.
pub fn item_in(ctx: &WriteCtx<'_>, message_id: MessageId) -> Result<Option<OutboxItem>> {
    codec::get(&ctx.txn.open_table(OUTBOX)?, &k1(message_id))
}

/// Claim an entry for a send (the delivery worker, before it calls the provider): out of the
/// due index, in flight since now, one attempt more.
pub fn claim_in(ctx: &WriteCtx<'_>, mut item: OutboxItem) -> Result<OutboxItem> {
    ctx.txn
        .open_table(OUTBOX_DUE)?
        .remove(k2(item.next_at as u64, item.message_id).as_slice())?;
    item.in_flight_since = Some(ctx.now);
    item.attempts = item.attempts.saturating_add(1);
    codec::put(
        &mut ctx.txn.open_table(OUTBOX)?,
        &k1(item.message_id),
        &item,
    )?;
    Ok(item)
}

/// `parts_done` parts of a multi-part send were accepted (a resumed send skips them).
pub fn set_parts_done_in(ctx: &WriteCtx<'_>, message_id: MessageId, parts_done: u32) -> Result<()> {
    let mut ob = ctx.txn.open_table(OUTBOX)?;
    if let Some(mut item) = codec::get::<OutboxItem>(&ob, &k1(message_id))? {
        item.parts_done = parts_done;
        codec::put(&mut ob, &k1(message_id), &item)?;
    }
    Ok(())
}

/// A transient failure: the entry is due again at `next_at` (nothing happens when it is gone).
pub fn retry_at_in(
    ctx: &WriteCtx<'_>,
    message_id: MessageId,
    next_at: i64,
    reason: &str,
) -> Result<()> {
    let mut ob = ctx.txn.open_table(OUTBOX)?;
    let Some(mut item) = codec::get::<OutboxItem>(&ob, &k1(message_id))? else {
        return Ok(());
    };
    item.in_flight_since = None;
    item.next_at = next_at;
    item.last_error = Some(reason.to_string());
    codec::put(&mut ob, &k1(message_id), &item)?;
    ctx.txn
        .open_table(OUTBOX_DUE)?
        .insert(k2(next_at as u64, message_id).as_slice(), [].as_slice())?;
    Ok(())
}

/// Messages whose send was under way when the server stopped.
pub fn in_flight_in(ctx: &WriteCtx<'_>) -> Result<Vec<MessageId>> {
    let ob = ctx.txn.open_table(OUTBOX)?;
    let mut v = Vec::new();
    for item in ob.iter()? {
        let it: OutboxItem = codec::decode(item?.1.value())?;
        if it.in_flight_since.is_some() {
            v.push(it.message_id);
        }
    }
    Ok(v)
}

/// What the delivery worker may send now, one conversation at a time.
pub struct Ready {
    /// Due entries that head their conversation's queue, oldest due first, at most `limit`.
    pub items: Vec<OutboxItem>,
    /// When the earliest head that is not in flight is due (None: nothing waits).
    pub next_due: Option<i64>,
}

/// The heads of the per-conversation queues: a conversation's messages leave in the order they
/// were written (message ids grow with time), so only its oldest outbox entry may be sent, and
/// only when it is due and not already in flight. A later reply therefore waits while an
/// earlier one is in backoff after a 500; different conversations are independent. Reads the
/// whole outbox (queued replies only, small in normal operation) and one `MESSAGE_SESSION`
/// entry per row; blocked rows are not counted against `limit`, so one stuck conversation
/// cannot starve the others.
pub fn ready(rtx: &ReadTransaction, now: i64, limit: usize) -> Result<Ready> {
    let ob = rtx.open_table(OUTBOX)?;
    let by_msg = rtx.open_table(MESSAGE_SESSION)?;
    let mut heads: std::collections::HashMap<u64, OutboxItem> = std::collections::HashMap::new();
    for row in ob.iter()? {
        let it: OutboxItem = codec::decode(row?.1.value())?;
        // A row whose message is gone is its own queue (the worker unschedules it).
        let session = by_msg
            .get(k1(it.message_id).as_slice())?
            .map(|v| codec::u64_at(v.value(), 0))
            .transpose()?
            .map_or(u64::MAX - it.message_id.get(), |s| s);
        // Rows iterate in message-id order: the first of each session is its head.
        heads.entry(session).or_insert(it);
    }
    let mut waiting: Vec<OutboxItem> = heads
        .into_values()
        .filter(|h| h.in_flight_since.is_none())
        .collect();
    waiting.sort_by_key(|h| (h.next_at, h.message_id));
    let next_due = waiting.first().map(|h| h.next_at);
    let items = waiting
        .into_iter()
        .take_while(|h| h.next_at <= now)
        .take(limit)
        .collect();
    Ok(Ready { items, next_due })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sms_text_is_capped_at_1600() {
        assert!(check_text(ChannelKind::Sms, &"a".repeat(1600), 4096).is_ok());
        assert!(check_text(ChannelKind::Sms, &"a".repeat(1601), 4096).is_err());
        assert!(check_text(ChannelKind::Whatsapp, &"a".repeat(4096), 4096).is_ok());
    }
}
