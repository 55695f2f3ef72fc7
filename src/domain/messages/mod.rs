//! Messages of customer sessions: inbound intake (deduplicated by provider id, blocked senders
//! dropped before storage), outbound replies through the durable outbox, delivery receipts, and
//! the reply-window rules the server enforces (not only the UI).

use redb::{ReadTransaction, ReadableTable};
use serde::{Deserialize, Serialize};

use super::channels::{Channel, ChannelKind};
use super::contacts;
use super::presence::AssignPolicy;
use super::sessions::{self, Session, SessionStatus};
use super::users::User;
use crate::clock::{DAY_MS, HOUR_MS};
use crate::error::{Error, Result};
use crate::store::codec::{self, k1, k2, kcat};
use crate::store::tables::{MESSAGE_SESSION, MESSAGES, OUTBOX, OUTBOX_DUE, PROVIDER_IDS};
use crate::store::{Audience, WriteCtx};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// From the customer.
    In,
    /// From an agent to the customer.
    Out,
    /// Internal note: colleagues only, never sent.
    Note,
}

/// Delivery status of an outbound message. Order matters: a receipt never moves a message back.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Inbound messages and notes.
    Received,
    Queued,
    /// A send attempt started but its outcome is unknown (crash mid-send); never resent blindly.
    Unknown,
    Sent,
    Delivered,
    Read,
    Failed,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MessageFile {
    /// Attachment id once the bytes are stored (None while an inbound download is pending).
    pub attachment_id: Option<u64>,
    pub name: String,
    pub mime: String,
    pub size: u64,
    /// Where to fetch inbound media from (provider media id or URL), until fetched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Set when the download failed for good.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TemplateRef {
    pub name: String,
    pub language: String,
    #[serde(default)]
    pub params: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Message {
    pub id: u64,
    pub session_id: u64,
    pub channel_id: u64,
    pub direction: Direction,
    /// The agent who wrote it (outbound and notes).
    pub author: Option<u64>,
    pub text: String,
    #[serde(default)]
    pub files: Vec<MessageFile>,
    #[serde(default)]
    pub template: Option<TemplateRef>,
    /// The provider's message id (inbound, and outbound once sent).
    #[serde(default)]
    pub provider_id: Option<String>,
    pub status: Status,
    /// Provider error code and text when failed.
    #[serde(default)]
    pub error: Option<String>,
    pub created: i64,
    /// When the provider says it was sent (inbound: the customer's timestamp).
    #[serde(default)]
    pub provider_at: Option<i64>,
    /// Send through Messenger's HUMAN_AGENT tag (24 h – 7 d after the customer's last message).
    #[serde(default)]
    pub human_agent_tag: bool,
}

pub fn get_in(ctx: &WriteCtx<'_>, id: u64) -> Result<Message> {
    let sid = ctx
        .txn
        .open_table(MESSAGE_SESSION)?
        .get(k1(id).as_slice())?
        .map(|v| codec::u64_at(v.value(), 0))
        .transpose()?
        .ok_or(Error::NotFound("message"))?;
    codec::get(&ctx.txn.open_table(MESSAGES)?, &k2(sid, id))?.ok_or(Error::NotFound("message"))
}

pub fn get(rtx: &ReadTransaction, id: u64) -> Result<Option<Message>> {
    let Some(sid) = rtx
        .open_table(MESSAGE_SESSION)?
        .get(k1(id).as_slice())?
        .map(|v| codec::u64_at(v.value(), 0))
        .transpose()?
    else {
        return Ok(None);
    };
    codec::get(&rtx.open_table(MESSAGES)?, &k2(sid, id))
}

/// Store a new or changed message and publish it.
pub fn put_in(ctx: &mut WriteCtx<'_>, m: &Message, created: bool) -> Result<()> {
    codec::put(
        &mut ctx.txn.open_table(MESSAGES)?,
        &k2(m.session_id, m.id),
        m,
    )?;
    if created {
        ctx.txn
            .open_table(MESSAGE_SESSION)?
            .insert(k1(m.id).as_slice(), k1(m.session_id).as_slice())?;
        // Every new customer message, reply and note (ingest_in, enqueue_in, add_note_in) is
        // searchable by the members of its channel.
        ctx.index_later(crate::search::Scope::Channel(m.channel_id), m.id, &m.text);
    }
    let kind = if created {
        "message.created"
    } else {
        "message.updated"
    };
    ctx.emit(
        Audience::Channel {
            channel_id: m.channel_id,
        },
        kind,
        serde_json::to_value(m).unwrap_or_default(),
    )
}

/// Messages of a session, oldest first, the newest `limit` before `before` (exclusive).
pub fn page(
    rtx: &ReadTransaction,
    session_id: u64,
    before: Option<u64>,
    limit: usize,
) -> Result<Vec<Message>> {
    let t = rtx.open_table(MESSAGES)?;
    let start = k2(session_id, 0);
    let end = k2(session_id, before.unwrap_or(u64::MAX));
    let mut out = Vec::with_capacity(limit.min(256));
    for item in t.range::<&[u8]>(start.as_slice()..end.as_slice())?.rev() {
        if out.len() >= limit {
            break;
        }
        out.push(codec::decode::<Message>(item?.1.value())?);
    }
    out.reverse();
    Ok(out)
}

/// How many inbound messages after `after` (stops counting at `cap`).
pub fn count_inbound_after(
    rtx: &ReadTransaction,
    session_id: u64,
    after: u64,
    cap: u64,
) -> Result<u64> {
    let t = rtx.open_table(MESSAGES)?;
    let start = k2(session_id, after.saturating_add(1));
    let end = k2(session_id, u64::MAX);
    let mut n = 0;
    for item in t.range::<&[u8]>(start.as_slice()..end.as_slice())? {
        let m: Message = codec::decode(item?.1.value())?;
        if m.direction == Direction::In {
            n += 1;
            if n >= cap {
                break;
            }
        }
    }
    Ok(n)
}

fn preview(text: &str, files: &[MessageFile]) -> String {
    let base = if text.trim().is_empty() {
        files
            .first()
            .map(|f| format!("📎 {}", f.name))
            .unwrap_or_default()
    } else {
        text.to_string()
    };
    let one_line: String = base.split_whitespace().collect::<Vec<_>>().join(" ");
    one_line.chars().take(120).collect()
}

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
        session_id: u64,
        message_id: u64,
        new_session: bool,
    },
    Duplicate {
        message_id: u64,
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
                message_id: codec::u64_at(v.value(), 0)?,
            });
        }
    }
    if let Some(c) = contacts::find_in(ctx, ch.id, m.from.trim())?
        && contacts::blocked_in(ctx, &c)?
    {
        return Ok(Ingested::Blocked);
    }
    let (contact, _) = contacts::upsert_in(ctx, ch.id, &m.from, m.contact_name.as_deref())?;
    let (session, new_session) = sessions::open_for_contact_in(ctx, ch.id, ch.kind, &contact)?;
    let id = ctx.next_id("message")?;
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
    s.last_inbound = Some(ctx.now);
    s.last_preview = preview(&msg.text, &msg.files);
    s.last_message_id = id;
    s.message_count += 1;
    s.archived = false;
    sessions::save_in(ctx, Some(&session), &s)?;
    if new_session {
        super::queue::assign_on_arrival_in(ctx, ch, s.id, policy)?;
    }
    Ok(Ingested::Stored {
        session_id: s.id,
        message_id: id,
        new_session,
    })
}

/// What the composer may send now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Window {
    /// Free text and files.
    Open,
    /// Messenger 24 h – 7 d: free text goes out with the HUMAN_AGENT tag.
    HumanAgent,
    /// WhatsApp after 24 h (or before the customer wrote): approved templates only.
    TemplateOnly,
    /// Nothing can be sent (Messenger after 7 days, closed session, live chat visitor gone…).
    Closed,
}

pub fn reply_window(kind: ChannelKind, s: &Session, now: i64) -> Window {
    if s.status == SessionStatus::Closed {
        return Window::Closed;
    }
    let since = s.last_inbound.map(|t| now - t);
    match kind {
        ChannelKind::Sms | ChannelKind::Livechat => Window::Open,
        ChannelKind::Whatsapp => match since {
            Some(d) if d < DAY_MS => Window::Open,
            _ => Window::TemplateOnly,
        },
        ChannelKind::Messenger => match since {
            Some(d) if d < DAY_MS => Window::Open,
            Some(d) if d < 7 * DAY_MS => Window::HumanAgent,
            _ => Window::Closed,
        },
    }
}

pub fn window_message(w: Window, kind: ChannelKind) -> &'static str {
    match (w, kind) {
        (Window::TemplateOnly, _) => {
            "The 24-hour WhatsApp window is closed: the customer has not written in the last 24 hours. Send an approved template message instead."
        }
        (Window::Closed, ChannelKind::Messenger) => {
            "Messenger allows replies only within 7 days of the customer's last message; wait for the customer to write again."
        }
        (Window::Closed, _) => "This conversation is closed; it cannot receive replies.",
        _ => "",
    }
}

/// What an agent sends.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct NewOutbound {
    #[serde(default)]
    pub text: String,
    /// Attachment ids uploaded before (`POST /api/v1/attachments`).
    #[serde(default)]
    pub attachment_ids: Vec<u64>,
    #[serde(default)]
    pub template: Option<TemplateRef>,
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
    session_id: u64,
    author: &User,
    out: &NewOutbound,
    files: Vec<MessageFile>,
    text: String,
) -> Result<Message> {
    let before = sessions::get_in(ctx, session_id)?;
    let window = reply_window(ch.kind, &before, ctx.now);
    if before.status == SessionStatus::Closed {
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
            let (rendered, t) = super::templates::check_send_in(ctx, ch.id, t)?;
            (rendered, Some(t))
        }
        None => (text, None),
    };
    let id = ctx.next_id("message")?;
    let msg = Message {
        id,
        session_id,
        channel_id: ch.id,
        direction: Direction::Out,
        author: Some(author.id),
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
    s.first_response_at = s.first_response_at.or(Some(ctx.now));
    if s.assignee.is_none() && ch.queue_mode == super::channels::QueueMode::AutoOnReply {
        s.assignee = Some(author.id);
        sessions::timeline_in(ctx, session_id, Some(author.id), "picked_up", "by replying")?;
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
        ChannelKind::Messenger | ChannelKind::Livechat => {
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
        sessions::timeline_in(ctx, s.id, Some(author.id), "started", &to)?;
    }
    enqueue_in(ctx, ch, session.id, author, out, files, text)
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
    pub message_id: u64,
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
pub fn schedule_in(ctx: &WriteCtx<'_>, message_id: u64, at: i64, attempts: u32) -> Result<()> {
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
pub fn unschedule_in(ctx: &WriteCtx<'_>, message_id: u64) -> Result<Option<OutboxItem>> {
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

/// Outbox entries due at `now`, oldest first.
pub fn due(rtx: &ReadTransaction, now: i64, limit: usize) -> Result<Vec<OutboxItem>> {
    let due = rtx.open_table(OUTBOX_DUE)?;
    let ob = rtx.open_table(OUTBOX)?;
    let end = k2(now as u64, u64::MAX);
    let mut out = Vec::new();
    for item in due.range::<&[u8]>(..end.as_slice())? {
        if out.len() >= limit {
            break;
        }
        let id = codec::u64_at(item?.0.value(), 8)?;
        if let Some(o) = codec::get::<OutboxItem>(&ob, &k1(id))? {
            out.push(o);
        }
    }
    Ok(out)
}

/// Apply a delivery receipt by provider id. Receipts never move a message backwards, except
/// `failed`, which wins over `sent` (e.g. WhatsApp 131047 reported after acceptance).
pub fn apply_status_in(
    ctx: &mut WriteCtx<'_>,
    channel_id: u64,
    provider_id: &str,
    status: Status,
    error: Option<String>,
) -> Result<bool> {
    let Some(id) = ctx
        .txn
        .open_table(PROVIDER_IDS)?
        .get(kcat(&k1(channel_id), provider_id.as_bytes()).as_slice())?
        .map(|v| codec::u64_at(v.value(), 0))
        .transpose()?
    else {
        return Ok(false);
    };
    let mut m = get_in(ctx, id)?;
    if m.direction != Direction::Out {
        return Ok(false);
    }
    set_status_in(ctx, &mut m, status, error)
}

pub fn set_status_in(
    ctx: &mut WriteCtx<'_>,
    m: &mut Message,
    status: Status,
    error: Option<String>,
) -> Result<bool> {
    let advance = match (m.status, status) {
        (Status::Failed, _) => false,
        (_, Status::Failed) => m.status != Status::Read && m.status != Status::Delivered,
        (cur, new) => new > cur,
    };
    if !advance {
        return Ok(false);
    }
    m.status = status;
    if status == Status::Failed {
        m.error = error.or_else(|| Some("failed".into()));
    }
    put_in(ctx, m, false)?;
    Ok(true)
}

/// Messenger watermarks: every outbound message of this contact's sessions created up to
/// `up_to_ms` moves to `status`.
pub fn apply_watermark_in(
    ctx: &mut WriteCtx<'_>,
    channel_id: u64,
    contact_address: &str,
    up_to_ms: i64,
    status: Status,
) -> Result<usize> {
    let Some(contact) = contacts::find_in(ctx, channel_id, contact_address)? else {
        return Ok(0);
    };
    let open = ctx
        .txn
        .open_table(crate::store::tables::OPEN_SESSIONS)?
        .get(k1(contact.id).as_slice())?
        .map(|v| codec::u64_at(v.value(), 0))
        .transpose()?;
    let Some(sid) = open else { return Ok(0) };
    let msgs: Vec<Message> = {
        let t = ctx.txn.open_table(MESSAGES)?;
        let mut v = Vec::new();
        for item in t
            .range::<&[u8]>(k2(sid, 0).as_slice()..k2(sid, u64::MAX).as_slice())?
            .rev()
            .take(500)
        {
            let m: Message = codec::decode(item?.1.value())?;
            if m.direction == Direction::Out
                && m.provider_at.unwrap_or(m.created) <= up_to_ms
                && m.status < status
                && m.status >= Status::Sent
                && m.status != Status::Failed
            {
                v.push(m);
            }
        }
        v
    };
    let mut n = 0;
    for mut m in msgs {
        if set_status_in(ctx, &mut m, status, None)? {
            n += 1;
        }
    }
    Ok(n)
}

/// An internal note on a session: stored like a message, never sent.
pub fn add_note_in(
    ctx: &mut WriteCtx<'_>,
    session_id: u64,
    author: &User,
    text: &str,
) -> Result<Message> {
    let s = sessions::get_in(ctx, session_id)?;
    let text = text.trim().to_string();
    if text.is_empty() {
        return Err(Error::invalid("text", "the note is empty"));
    }
    let id = ctx.next_id("message")?;
    let m = Message {
        id,
        session_id,
        channel_id: s.channel_id,
        direction: Direction::Note,
        author: Some(author.id),
        text,
        files: Vec::new(),
        template: None,
        provider_id: None,
        status: Status::Received,
        error: None,
        created: ctx.now,
        provider_at: None,
        human_agent_tag: false,
    };
    put_in(ctx, &m, true)?;
    sessions::timeline_in(ctx, session_id, Some(author.id), "note", "")?;
    Ok(m)
}

/// Mark everything up to the session's newest message read for `user`.
pub fn mark_read_in(ctx: &mut WriteCtx<'_>, user_id: u64, session_id: u64) -> Result<()> {
    let s = sessions::get_in(ctx, session_id)?;
    let mut st = sessions::read_state_in(ctx, user_id, session_id)?;
    if st.last_read >= s.last_message_id {
        return Ok(());
    }
    st.last_read = s.last_message_id;
    sessions::set_read_state_in(ctx, user_id, session_id, &st)?;
    ctx.emit(
        Audience::Users {
            user_ids: vec![user_id],
        },
        "session.read",
        serde_json::json!({ "session_id": session_id, "last_read": st.last_read }),
    )
}

pub const HOURS_24: i64 = 24 * HOUR_MS;

#[cfg(test)]
mod tests {
    use super::*;

    fn session(kind: ChannelKind, last_inbound: Option<i64>) -> Session {
        Session {
            id: 1,
            channel_id: 1,
            channel_kind: kind,
            contact_id: 1,
            status: SessionStatus::Open,
            assignee: None,
            created: 0,
            last_activity: 0,
            last_inbound,
            last_preview: String::new(),
            last_message_id: 0,
            archived: false,
            closed_at: None,
            result: None,
            close_note: String::new(),
            tags: vec![],
            first_response_at: None,
            message_count: 0,
        }
    }

    #[test]
    fn reply_windows_follow_the_channel_rules() {
        let now = 100 * DAY_MS;
        let wa = |h: i64| {
            reply_window(
                ChannelKind::Whatsapp,
                &session(ChannelKind::Whatsapp, Some(now - h * HOUR_MS)),
                now,
            )
        };
        assert_eq!(wa(23), Window::Open);
        assert_eq!(wa(25), Window::TemplateOnly);
        assert_eq!(
            reply_window(
                ChannelKind::Whatsapp,
                &session(ChannelKind::Whatsapp, None),
                now
            ),
            Window::TemplateOnly
        );
        let fb = |h: i64| {
            reply_window(
                ChannelKind::Messenger,
                &session(ChannelKind::Messenger, Some(now - h * HOUR_MS)),
                now,
            )
        };
        assert_eq!(fb(1), Window::Open);
        assert_eq!(fb(48), Window::HumanAgent);
        assert_eq!(fb(24 * 8), Window::Closed);
        assert_eq!(
            reply_window(ChannelKind::Sms, &session(ChannelKind::Sms, None), now),
            Window::Open
        );
    }

    #[test]
    fn sms_text_is_capped_at_1600() {
        assert!(check_text(ChannelKind::Sms, &"a".repeat(1600), 4096).is_ok());
        assert!(check_text(ChannelKind::Sms, &"a".repeat(1601), 4096).is_err());
        assert!(check_text(ChannelKind::Whatsapp, &"a".repeat(4096), 4096).is_ok());
    }
}
