//! The inbox list: sessions by last activity, filtered by scope, channel, state, tag and a
//! search (the contact's name or number, or words of a message), paged by a cursor, each
//! with what the list shows for one user.

use crate::ids::ChannelId;
use crate::ids::MessageId;
use crate::ids::SessionId;
use crate::ids::UserId;
use std::collections::HashSet;

use redb::ReadTransaction;
use serde::{Deserialize, Serialize};

use super::{FLAG_ARCHIVED, FLAG_CLOSED, Session, SessionStatus, SessionView, get, read_state};
use crate::domain::access::Visible;
use crate::domain::lists::{self, ListKind};
use crate::domain::users::User;
use crate::domain::{channels, contacts, messages};
use crate::error::{Error, Result};
use crate::search;
use crate::store::codec::{self, k2};
use crate::store::tables::{OPEN_SESSIONS_BY_ACTIVITY, SESSIONS_BY_ACTIVITY};

/// Which sessions a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Not archived (open and closed).
    #[default]
    All,
    Mine,
    Unassigned,
    Archived,
    /// Open only.
    Open,
    /// Closed only.
    Closed,
    /// Snoozed only (every other list leaves snoozed conversations out).
    Snoozed,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct ListQuery {
    pub channel_id: Option<ChannelId>,
    #[param(inline)]
    pub scope: Option<Scope>,
    pub assignee: Option<UserId>,
    /// Only sessions carrying this tag (one of the admin's tags).
    pub tag: Option<String>,
    /// Only open or only closed sessions (within the scope).
    #[param(inline)]
    pub status: Option<SessionStatus>,
    /// The contact's name or number, or words of a message.
    pub q: Option<String>,
    /// Opaque cursor from the previous page (`next_cursor`).
    pub cursor: Option<String>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<usize>,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SessionPage {
    pub sessions: Vec<SessionView>,
    pub next_cursor: Option<String>,
}

fn parse_cursor(c: &str) -> Result<(u64, u64)> {
    let (a, b) = c
        .split_once('-')
        .ok_or_else(|| Error::invalid("cursor", "malformed"))?;
    Ok((
        a.parse()
            .map_err(|_| Error::invalid("cursor", "malformed"))?,
        b.parse()
            .map_err(|_| Error::invalid("cursor", "malformed"))?,
    ))
}

/// Sessions by last activity, newest first, filtered by what `user` may see.
pub fn list(
    rtx: &ReadTransaction,
    user: &User,
    vis: &Visible,
    q: &ListQuery,
) -> Result<SessionPage> {
    let limit = q.limit.unwrap_or(50).clamp(1, 200);
    let scope = q.scope.unwrap_or_default();
    // Open sessions are a small share of all (closed ones pile up over the years): lists of
    // open sessions walk their own index instead of skipping every closed one.
    let idx = match scope {
        Scope::Open | Scope::Unassigned | Scope::Snoozed => {
            rtx.open_table(OPEN_SESSIONS_BY_ACTIVITY)?
        }
        _ => rtx.open_table(SESSIONS_BY_ACTIVITY)?,
    };
    let end = match &q.cursor {
        Some(c) => {
            let (a, b) = parse_cursor(c)?;
            k2(a, b).to_vec()
        }
        None => vec![0xff; 17],
    };
    let tag = q.tag.as_deref().map(str::trim).filter(|t| !t.is_empty());
    if let Some(tag) = tag
        && !lists::get(rtx, ListKind::Tags)?.iter().any(|t| t == tag)
    {
        return Err(Error::invalid(
            "tag",
            format!("{tag:?} is not on the tag list; an admin defines the tags"),
        ));
    }
    let needle = q.q.as_deref().map(str::trim).filter(|n| !n.is_empty());
    if needle.is_some_and(|n| n.chars().count() > 200) {
        return Err(Error::invalid("q", "at most 200 characters"));
    }
    let text_hits = match needle {
        Some(n) => sessions_with_text(rtx, vis, n)?,
        None => HashSet::new(),
    };
    let snoozed = super::snooze::snoozed(rtx)?;
    let mut hits: Vec<(u64, SessionId, ChannelId)> = Vec::with_capacity(limit + 1);
    for item in idx.range::<&[u8]>(..end.as_slice())?.rev() {
        let (k, v) = item?;
        let v = v.value();
        let (channel, assignee, flags) = (
            codec::id_at(v, 0)?,
            codec::id_at(v, 8)?,
            v.get(16).copied().unwrap_or(0),
        );
        let assignee = (assignee != 0).then_some(assignee);
        if !(vis.channel(channel) || assignee == Some(user.id)) {
            continue;
        }
        if q.channel_id.is_some_and(|c| c != channel)
            || q.assignee.is_some_and(|a| Some(a) != assignee)
        {
            continue;
        }
        let archived = flags & FLAG_ARCHIVED != 0;
        let closed = flags & FLAG_CLOSED != 0;
        let keep = match scope {
            Scope::All => !archived,
            Scope::Archived => archived,
            Scope::Mine => !archived && assignee == Some(user.id),
            Scope::Unassigned => !archived && !closed && assignee.is_none(),
            Scope::Open => !archived && !closed,
            Scope::Closed => !archived && closed,
            Scope::Snoozed => !closed,
        };
        if !keep
            || q.status
                .is_some_and(|st| (st == SessionStatus::Closed) != closed)
        {
            continue;
        }
        let key = k.value();
        let sid: SessionId = codec::id_at(key, 8)?;
        // Snoozed conversations are only in the Snoozed list until they wake.
        let is_snoozed = snoozed.contains(&sid) && !closed;
        if (scope == Scope::Snoozed) != is_snoozed {
            continue;
        }
        if let Some(n) = needle
            && !text_hits.contains(&sid)
            && !contact_matches(rtx, sid, n)?
        {
            continue;
        }
        if let Some(tag) = tag {
            // Tags live in the record, not the index: decode only the sessions that pass
            // every cheaper filter first.
            let tagged = get(rtx, sid)?.is_some_and(|s| s.tags.iter().any(|t| t == tag));
            if !tagged {
                continue;
            }
        }
        hits.push((codec::u64_at(key, 0)?, sid, channel));
        if hits.len() > limit {
            break;
        }
    }
    let next_cursor = if hits.len() > limit {
        hits.truncate(limit);
        hits.last().map(|(a, b, _)| format!("{a}-{b}"))
    } else {
        None
    };
    let mut sessions = Vec::with_capacity(hits.len());
    for (_, id, _) in hits {
        if let Some(s) = get(rtx, id)? {
            sessions.push(view(rtx, user.id, s)?);
        }
    }
    Ok(SessionPage {
        sessions,
        next_cursor,
    })
}

/// The sessions (of channels in `vis`) with a message containing the words of `needle`.
fn sessions_with_text(
    rtx: &ReadTransaction,
    vis: &Visible,
    needle: &str,
) -> Result<HashSet<SessionId>> {
    let scopes: Vec<search::Scope> = channels::list(rtx)?
        .into_iter()
        .filter(|c| vis.channel(c.id))
        .map(|c| search::Scope::Channel(c.id))
        .collect();
    let mut out = HashSet::new();
    for h in search::search(rtx, &scopes, needle, 500, None)? {
        if let Some(m) = messages::get(rtx, MessageId(h.msg_id))? {
            out.insert(m.session_id);
        }
    }
    Ok(out)
}

/// Whether the contact of session `sid` has `needle` in its name, or its digits in the number.
fn contact_matches(rtx: &ReadTransaction, sid: SessionId, needle: &str) -> Result<bool> {
    let Some(c) = get(rtx, sid)?.and_then(|s| contacts::get(rtx, s.contact_id).transpose()) else {
        return Ok(false);
    };
    let c = c?;
    let lower = needle.to_lowercase();
    if c.label().to_lowercase().contains(&lower) {
        return Ok(true);
    }
    let digits: String = needle.chars().filter(char::is_ascii_digit).collect();
    Ok(digits.len() >= 3
        && c.address
            .chars()
            .filter(char::is_ascii_digit)
            .collect::<String>()
            .contains(&digits))
}

/// Decorate a session for one user: contact, unread count (capped at 99), muted.
pub fn view(rtx: &ReadTransaction, user_id: UserId, s: Session) -> Result<SessionView> {
    let c = contacts::get(rtx, s.contact_id)?;
    let rs = read_state(rtx, user_id, s.id)?;
    let unread = if s.last_message_id > rs.last_read {
        crate::domain::messages::count_inbound_after(rtx, s.id, rs.last_read, 99)?
    } else {
        0
    };
    Ok(SessionView {
        contact_name: c
            .as_ref()
            .map(|c| c.label().to_string())
            .unwrap_or_default(),
        contact_address: c.as_ref().map(|c| c.address.clone()).unwrap_or_default(),
        blocked: c.as_ref().is_some_and(|c| c.blocked.is_some()),
        unread,
        muted: rs.muted,
        session: s,
    })
}
