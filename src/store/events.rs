//! The persisted, sequence-numbered event log behind the real-time stream.
//!
//! Domain code emits events inside its write (`WriteCtx::emit`); the writer stores them in the
//! same transaction and, only after the commit is durable, publishes them on a broadcast
//! channel. An SSE client that reconnects with `Last-Event-ID` reads the gap from the table.

use crate::ids::ChannelId;
use crate::ids::UserId;
use redb::{ReadTransaction, ReadableTable};
use serde::{Deserialize, Serialize};

use super::WriteCtx;
use super::codec::{self, k1};
use super::tables::EVENTS;
use crate::error::Result;

/// Who may receive an event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Audience {
    /// Admins and the members of a channel (customer sessions).
    Channel { channel_id: ChannelId },
    /// Exactly these users (internal chats, personal state).
    Users { user_ids: Vec<UserId> },
    /// Admins only.
    Admins,
    /// One live-chat visitor (by visitor id), plus the channel's members.
    Visitor {
        channel_id: ChannelId,
        visitor_id: u64,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub seq: u64,
    /// Unix milliseconds.
    pub at: i64,
    /// e.g. `message.created`, `message.status`, `session.updated`.
    pub kind: String,
    pub audience: Audience,
    pub data: serde_json::Value,
}

/// Events after `after_seq`, oldest first, at most `limit`.
pub fn since(rtx: &ReadTransaction, after_seq: u64, limit: usize) -> Result<Vec<Event>> {
    let t = rtx.open_table(EVENTS)?;
    let start = k1(after_seq.saturating_add(1));
    let mut out = Vec::new();
    for item in t.range::<&[u8]>(start.as_slice()..)? {
        if out.len() >= limit {
            break;
        }
        let (_, v) = item?;
        out.push(codec::decode(v.value())?);
    }
    Ok(out)
}

/// The newest sequence number stored (0 when empty).
pub fn last_seq(rtx: &ReadTransaction) -> Result<u64> {
    let t = rtx.open_table(EVENTS)?;
    match t.last()? {
        Some((k, _)) => codec::u64_at(k.value(), 0),
        None => Ok(0),
    }
}

/// The oldest sequence number still stored (None when empty).
pub fn first_seq(rtx: &ReadTransaction) -> Result<Option<u64>> {
    let t = rtx.open_table(EVENTS)?;
    match t.first()? {
        Some((k, _)) => codec::u64_at(k.value(), 0).map(Some),
        None => Ok(None),
    }
}

/// Delete up to `limit` events older than `cutoff` (Unix ms), oldest first; returns how many.
/// (Clients further behind than the log reaches reload instead of resuming.)
pub fn prune_in(ctx: &mut WriteCtx<'_>, cutoff: i64, limit: usize) -> Result<usize> {
    let mut t = ctx.txn.open_table(EVENTS)?;
    let mut old = Vec::new();
    for item in t.iter()? {
        let (k, v) = item?;
        let ev: Event = codec::decode(v.value())?;
        if ev.at >= cutoff || old.len() >= limit {
            break;
        }
        old.push(k.value().to_vec());
    }
    for k in &old {
        t.remove(k.as_slice())?;
    }
    Ok(old.len())
}
