//! The inbox list: sessions by last activity, filtered by scope, channel and tag, paged by a
//! cursor, each with what the list shows for one user.

use redb::ReadTransaction;
use serde::{Deserialize, Serialize};

use super::{FLAG_ARCHIVED, FLAG_CLOSED, Session, SessionView, get, read_state};
use crate::domain::access::Visible;
use crate::domain::contacts;
use crate::domain::users::User;
use crate::error::{Error, Result};
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
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct ListQuery {
    pub channel_id: Option<u64>,
    #[param(inline)]
    pub scope: Option<Scope>,
    pub assignee: Option<u64>,
    /// Only sessions carrying this tag.
    pub tag: Option<String>,
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
        Scope::Open | Scope::Unassigned => rtx.open_table(OPEN_SESSIONS_BY_ACTIVITY)?,
        _ => rtx.open_table(SESSIONS_BY_ACTIVITY)?,
    };
    let end = match &q.cursor {
        Some(c) => {
            let (a, b) = parse_cursor(c)?;
            k2(a, b).to_vec()
        }
        None => vec![0xff; 17],
    };
    let mut hits: Vec<(u64, u64, u64)> = Vec::with_capacity(limit + 1);
    for item in idx.range::<&[u8]>(..end.as_slice())?.rev() {
        let (k, v) = item?;
        let v = v.value();
        let (channel, assignee, flags) = (
            codec::u64_at(v, 0)?,
            codec::u64_at(v, 8)?,
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
        };
        if !keep {
            continue;
        }
        let key = k.value();
        let sid = codec::u64_at(key, 8)?;
        if let Some(tag) = q.tag.as_deref().filter(|t| !t.is_empty()) {
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

/// Decorate a session for one user: contact, unread count (capped at 99), muted.
pub fn view(rtx: &ReadTransaction, user_id: u64, s: Session) -> Result<SessionView> {
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
