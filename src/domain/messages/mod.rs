//! Messages of customer sessions: the record (this file: read, page, store and publish, notes,
//! read marks) and its flows, one file each: [`intake`] (customer messages in), [`outbox`]
//! (agents' replies out through the durable outbox), [`receipts`] (delivery status back) and
//! [`window`] (the reply-window rules the server enforces).

pub(crate) mod intake;
pub mod outbox;
pub mod receipts;
pub(crate) mod retention;
pub(crate) mod window;

pub use intake::{Ingested, NewInbound, ingest_in, ingest_with_in};
pub use outbox::{NewOutbound, OutboxItem, StartSession};
pub use window::Window;

use crate::domain::events::Event;
use crate::domain::sessions::TimelineKind;
use crate::ids::AttachmentId;
use crate::ids::ChannelId;
use crate::ids::MessageId;
use crate::ids::SessionId;
use crate::ids::UserId;
use redb::{ReadTransaction, ReadableTable};
use serde::{Deserialize, Serialize};

use super::sessions;
use super::users::User;
use crate::error::{Error, Result};
use crate::store::codec::{self, k1, k2};
use crate::store::tables::{MESSAGE_SESSION, MESSAGES};
use crate::store::{Audience, Store, WriteCtx};

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
    pub attachment_id: Option<AttachmentId>,
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
    pub id: MessageId,
    pub session_id: SessionId,
    pub channel_id: ChannelId,
    pub direction: Direction,
    /// The agent who wrote it (outbound and notes).
    pub author: Option<UserId>,
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
    /// While a queued reply waits for another attempt after the provider refused it for a
    /// passing reason (`error` says why): which attempt failed and when the next one is due.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry: Option<Retrying>,
    /// The message this one answers (WhatsApp reply context), as it was when quoted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quote: Option<Quote>,
    /// The customer's reaction to this message (WhatsApp), e.g. "👍".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reaction: Option<String>,
    /// Choices offered with it (the satisfaction survey): WhatsApp sends an interactive
    /// message, the website chat shows buttons.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interactive: Option<crate::channels::Interactive>,
    /// The customer edited this message (Messenger `message_edit`): `text` is the new text,
    /// the mark keeps the text as first received and how often it changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edited: Option<Edited>,
}

/// An edited customer message: the original text (kept for the history) and Meta's count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Edited {
    pub original: String,
    pub count: u32,
}

/// A quoted message: its id and the start of its text (or file name).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Quote {
    pub id: MessageId,
    pub text: String,
}

/// A reply between attempts (see [`Message::retry`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Retrying {
    /// How many attempts failed so far.
    pub attempt: u32,
    /// When the next attempt is due (Unix ms).
    pub next_at: i64,
}

pub fn get_in(ctx: &WriteCtx<'_>, id: MessageId) -> Result<Message> {
    let sid = ctx
        .txn
        .open_table(MESSAGE_SESSION)?
        .get(k1(id).as_slice())?
        .map(|v| codec::id_at::<SessionId>(v.value(), 0))
        .transpose()?
        .ok_or(Error::NotFound("message"))?;
    codec::get(&ctx.txn.open_table(MESSAGES)?, &k2(sid, id))?.ok_or(Error::NotFound("message"))
}

pub fn get(rtx: &ReadTransaction, id: MessageId) -> Result<Option<Message>> {
    let Some(sid) = rtx
        .open_table(MESSAGE_SESSION)?
        .get(k1(id).as_slice())?
        .map(|v| codec::id_at::<SessionId>(v.value(), 0))
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
    let event = if created {
        Event::MessageCreated(m)
    } else {
        Event::MessageUpdated(m)
    };
    ctx.emit(
        Audience::Channel {
            channel_id: m.channel_id,
        },
        &event,
    )
}

/// Messages of a session, oldest first, the newest `limit` before `before` (exclusive).
pub fn page(
    rtx: &ReadTransaction,
    session_id: SessionId,
    before: Option<MessageId>,
    limit: usize,
) -> Result<Vec<Message>> {
    let t = rtx.open_table(MESSAGES)?;
    let start = k2(session_id, 0);
    let end = k2(session_id, before.unwrap_or(MessageId(u64::MAX)));
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

/// The first message of a session (who opened it).
pub fn first(rtx: &ReadTransaction, session_id: SessionId) -> Result<Option<Message>> {
    let t = rtx.open_table(MESSAGES)?;
    let first = t
        .range::<&[u8]>(k2(session_id, 0).as_slice()..k2(session_id, u64::MAX).as_slice())?
        .next()
        .transpose()?;
    first.map(|(_, v)| codec::decode(v.value())).transpose()
}

/// The first reply (outbound message) of a session, if any: who really answered first.
pub fn first_reply(rtx: &ReadTransaction, session_id: SessionId) -> Result<Option<Message>> {
    let t = rtx.open_table(MESSAGES)?;
    for item in
        t.range::<&[u8]>(k2(session_id, 0).as_slice()..k2(session_id, u64::MAX).as_slice())?
    {
        let m: Message = codec::decode(item?.1.value())?;
        // Automatic replies (no author) are not anyone's first response.
        if m.direction == Direction::Out && m.author.is_some() {
            return Ok(Some(m));
        }
    }
    Ok(None)
}

/// The newest `limit` messages of a session with ids up to `up_to` (inclusive), newest first.
pub fn newest_in(
    ctx: &WriteCtx<'_>,
    session_id: SessionId,
    up_to: MessageId,
    limit: usize,
) -> Result<Vec<Message>> {
    let t = ctx.txn.open_table(MESSAGES)?;
    let end = k2(session_id, up_to.next());
    let mut out = Vec::new();
    for item in t
        .range::<&[u8]>(k2(session_id, 0).as_slice()..end.as_slice())?
        .rev()
        .take(limit)
    {
        out.push(codec::decode(item?.1.value())?);
    }
    Ok(out)
}

/// How many inbound messages after `after` (stops counting at `cap`).
pub fn count_inbound_after(
    rtx: &ReadTransaction,
    session_id: SessionId,
    after: MessageId,
    cap: u64,
) -> Result<u64> {
    let t = rtx.open_table(MESSAGES)?;
    let start = k2(session_id, after.next());
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

pub(super) fn preview(text: &str, files: &[MessageFile]) -> String {
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

/// `author` writes an internal note on a session they see.
pub async fn add_note(
    store: &Store,
    author: &User,
    session_id: SessionId,
    text: String,
    max_chars: usize,
) -> Result<Message> {
    sessions::actions::workable(store, author, session_id).await?;
    if text.chars().count() > max_chars {
        return Err(Error::invalid("text", "is too long"));
    }
    let author = author.clone();
    store
        .write(move |ctx| add_note_in(ctx, session_id, &author, &text))
        .await
}

/// `user` has read a session they see, up to its newest message (all their browsers follow).
pub async fn mark_read(store: &Store, user: &User, session_id: SessionId) -> Result<()> {
    sessions::actions::workable(store, user, session_id).await?;
    let uid = user.id;
    store
        .write(move |ctx| mark_read_in(ctx, uid, session_id))
        .await
}

/// An internal note on a session: stored like a message, never sent.
pub fn add_note_in(
    ctx: &mut WriteCtx<'_>,
    session_id: SessionId,
    author: &User,
    text: &str,
) -> Result<Message> {
    let s = sessions::get_in(ctx, session_id)?;
    let text = text.trim().to_string();
    if text.is_empty() {
        return Err(Error::invalid("text", "the note is empty"));
    }
    let id = MessageId(ctx.next_id("message")?);
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
        retry: None,
        quote: None,
        reaction: None,
        interactive: None,
        edited: None,
    };
    put_in(ctx, &m, true)?;
    sessions::timeline_in(ctx, session_id, Some(author.id), TimelineKind::Note, "")?;
    Ok(m)
}

/// Mark everything up to the session's newest message read for `user`.
pub fn mark_read_in(ctx: &mut WriteCtx<'_>, user_id: UserId, session_id: SessionId) -> Result<()> {
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
        &Event::SessionRead {
            session_id,
            last_read: st.last_read,
        },
    )
}

/// How many messages a session holds, and how many files they carry.
pub fn count_in_session(rtx: &ReadTransaction, session_id: SessionId) -> Result<(u64, u64)> {
    let t = rtx.open_table(crate::store::tables::MESSAGES)?;
    let (start, end) = (
        crate::store::codec::k1(session_id),
        crate::store::codec::k1(session_id.next()),
    );
    let (mut messages, mut files) = (0u64, 0u64);
    for item in t.range::<&[u8]>(start.as_slice()..end.as_slice())? {
        let m: Message = crate::store::codec::decode(item?.1.value())?;
        messages += 1;
        files += m.files.len() as u64;
    }
    Ok((messages, files))
}
