//! Sessions (conversations): one run of messages between a contact and the office on one
//! channel. At most one open session per contact; a closed session is read-only and the next
//! customer message opens a new one. The inbox order lives in `SESSIONS_BY_ACTIVITY`, whose
//! values carry channel, assignee and flags so lists filter without decoding sessions.

use redb::{ReadTransaction, ReadableTable};
use serde::{Deserialize, Serialize};

use super::access::Visible;
use super::channels::ChannelKind;
use super::contacts::{self, Contact};
use super::users::User;
use crate::error::{Error, Result};
use crate::store::codec::{self, k1, k2};
use crate::store::tables::{
    OPEN_ASSIGNED, OPEN_SESSIONS, OPEN_SESSIONS_BY_ACTIVITY, SESSION_READS, SESSIONS,
    SESSIONS_BY_ACTIVITY, SESSIONS_BY_CONTACT, TIMELINE,
};
use crate::store::{Audience, WriteCtx};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SessionStatus {
    Open,
    Closed,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Session {
    pub id: u64,
    pub channel_id: u64,
    pub channel_kind: ChannelKind,
    pub contact_id: u64,
    pub status: SessionStatus,
    pub assignee: Option<u64>,
    pub created: i64,
    pub last_activity: i64,
    /// When the customer last wrote (drives the WhatsApp / Messenger reply window).
    pub last_inbound: Option<i64>,
    pub last_preview: String,
    pub last_message_id: u64,
    pub archived: bool,
    pub closed_at: Option<i64>,
    pub result: Option<String>,
    #[serde(default)]
    pub close_note: String,
    #[serde(default)]
    pub tags: Vec<String>,
    /// First agent reply (for reports).
    #[serde(default)]
    pub first_response_at: Option<i64>,
    #[serde(default)]
    pub message_count: u64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ReadState {
    pub last_read: u64,
    pub muted: bool,
}

/// What the inbox shows for one session, for one user.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SessionView {
    #[serde(flatten)]
    pub session: Session,
    pub contact_name: String,
    pub contact_address: String,
    pub blocked: bool,
    pub unread: u64,
    pub muted: bool,
}

const FLAG_ARCHIVED: u8 = 1;
/// Flag bit of a closed session in the activity index values (also read by a migration).
pub(crate) const FLAG_CLOSED: u8 = 2;

fn index_value(s: &Session) -> [u8; 17] {
    let mut v = [0u8; 17];
    v[..8].copy_from_slice(&s.channel_id.to_be_bytes());
    v[8..16].copy_from_slice(&s.assignee.unwrap_or(0).to_be_bytes());
    v[16] = (if s.archived { FLAG_ARCHIVED } else { 0 })
        | (if s.status == SessionStatus::Closed {
            FLAG_CLOSED
        } else {
            0
        });
    v
}

pub fn get(rtx: &ReadTransaction, id: u64) -> Result<Option<Session>> {
    codec::get(&rtx.open_table(SESSIONS)?, &k1(id))
}

pub fn get_in(ctx: &WriteCtx<'_>, id: u64) -> Result<Session> {
    codec::get(&ctx.txn.open_table(SESSIONS)?, &k1(id))?.ok_or(Error::NotFound("session"))
}

/// The session if `user` may see it (else NotFound, so existence does not leak).
pub fn get_visible(rtx: &ReadTransaction, user: &User, id: u64) -> Result<Session> {
    let s = get(rtx, id)?.ok_or(Error::NotFound("session"))?;
    let vis = super::access::visible_channels(rtx, user)?;
    if vis.channel(s.channel_id) || s.assignee == Some(user.id) {
        Ok(s)
    } else {
        Err(Error::NotFound("session"))
    }
}

/// Store a changed session, keep the activity index in step, publish `session.updated`.
pub fn save_in(ctx: &mut WriteCtx<'_>, before: Option<&Session>, s: &Session) -> Result<()> {
    {
        let value = index_value(s);
        let mut idx = ctx.txn.open_table(SESSIONS_BY_ACTIVITY)?;
        if let Some(b) = before {
            idx.remove(k2(b.last_activity as u64, b.id).as_slice())?;
        }
        idx.insert(
            k2(s.last_activity as u64, s.id).as_slice(),
            value.as_slice(),
        )?;
        // The open sessions alone, for the Open and Unassigned lists.
        let mut open = ctx.txn.open_table(OPEN_SESSIONS_BY_ACTIVITY)?;
        if let Some(b) = before
            && b.status == SessionStatus::Open
        {
            open.remove(k2(b.last_activity as u64, b.id).as_slice())?;
        }
        if s.status == SessionStatus::Open {
            open.insert(
                k2(s.last_activity as u64, s.id).as_slice(),
                value.as_slice(),
            )?;
        }
    }
    {
        // Open sessions per agent, for the assign-on-arrival concurrency cap.
        let mut oa = ctx.txn.open_table(OPEN_ASSIGNED)?;
        if let Some(b) = before
            && let Some(a) = b.assignee
        {
            oa.remove(k2(a, b.id).as_slice())?;
        }
        if let Some(a) = s.assignee
            && s.status == SessionStatus::Open
        {
            oa.insert(k2(a, s.id).as_slice(), k1(s.channel_id).as_slice())?;
        }
    }
    codec::put(&mut ctx.txn.open_table(SESSIONS)?, &k1(s.id), s)?;
    let kind = if before.is_some() {
        "session.updated"
    } else {
        "session.created"
    };
    ctx.emit(
        Audience::Channel {
            channel_id: s.channel_id,
        },
        kind,
        serde_json::to_value(s).unwrap_or_default(),
    )
}

/// The open session of a contact, or a new one.
pub fn open_for_contact_in(
    ctx: &mut WriteCtx<'_>,
    channel_id: u64,
    kind: ChannelKind,
    contact: &Contact,
) -> Result<(Session, bool)> {
    let open = ctx
        .txn
        .open_table(OPEN_SESSIONS)?
        .get(k1(contact.id).as_slice())?
        .map(|v| codec::u64_at(v.value(), 0))
        .transpose()?;
    if let Some(id) = open {
        let s = get_in(ctx, id)?;
        if s.status == SessionStatus::Open {
            return Ok((s, false));
        }
    }
    let id = ctx.next_id("session")?;
    let s = Session {
        id,
        channel_id,
        channel_kind: kind,
        contact_id: contact.id,
        status: SessionStatus::Open,
        assignee: None,
        created: ctx.now,
        last_activity: ctx.now,
        last_inbound: None,
        last_preview: String::new(),
        last_message_id: 0,
        archived: false,
        closed_at: None,
        result: None,
        close_note: String::new(),
        tags: Vec::new(),
        first_response_at: None,
        message_count: 0,
    };
    ctx.txn
        .open_table(OPEN_SESSIONS)?
        .insert(k1(contact.id).as_slice(), k1(id).as_slice())?;
    // A contact merged into another joins that person's history.
    let history_owner = contact.merged_into.unwrap_or(contact.id);
    ctx.txn
        .open_table(SESSIONS_BY_CONTACT)?
        .insert(k2(history_owner, id).as_slice(), [].as_slice())?;
    save_in(ctx, None, &s)?;
    timeline_in(ctx, id, None, "opened", "")?;
    Ok((s, true))
}

/// Close a session (end chat or the closure job). `actor` None = the system.
pub fn close_in(
    ctx: &mut WriteCtx<'_>,
    id: u64,
    actor: Option<u64>,
    result: Option<String>,
    note: String,
) -> Result<Session> {
    let before = get_in(ctx, id)?;
    if before.status == SessionStatus::Closed {
        return Err(Error::Conflict("the session is already closed".into()));
    }
    let mut s = before.clone();
    s.status = SessionStatus::Closed;
    s.closed_at = Some(ctx.now);
    s.result = result.clone();
    s.close_note = note.clone();
    ctx.txn
        .open_table(OPEN_SESSIONS)?
        .remove(k1(s.contact_id).as_slice())?;
    save_in(ctx, Some(&before), &s)?;
    let detail = match (&result, note.is_empty()) {
        (Some(r), true) => r.clone(),
        (Some(r), false) => format!("{r}: {note}"),
        (None, _) => note,
    };
    timeline_in(
        ctx,
        id,
        actor,
        if actor.is_some() {
            "closed"
        } else {
            "closed_inactive"
        },
        &detail,
    )?;
    Ok(s)
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TimelineEntry {
    pub id: u64,
    pub at: i64,
    pub actor: Option<u64>,
    /// opened, picked_up, assigned, transferred, note, closed, closed_inactive, archived, unarchived, blocked, call, …
    pub kind: String,
    pub detail: String,
}

pub fn timeline_in(
    ctx: &mut WriteCtx<'_>,
    session_id: u64,
    actor: Option<u64>,
    kind: &str,
    detail: &str,
) -> Result<()> {
    let id = ctx.next_id("timeline")?;
    let e = TimelineEntry {
        id,
        at: ctx.now,
        actor,
        kind: kind.into(),
        detail: detail.into(),
    };
    codec::put(&mut ctx.txn.open_table(TIMELINE)?, &k2(session_id, id), &e)?;
    Ok(())
}

pub fn timeline(rtx: &ReadTransaction, session_id: u64) -> Result<Vec<TimelineEntry>> {
    Ok(
        codec::scan_prefix(&rtx.open_table(TIMELINE)?, &k1(session_id), 10_000)?
            .into_iter()
            .map(|(_, v)| v)
            .collect(),
    )
}

pub fn read_state(rtx: &ReadTransaction, user_id: u64, session_id: u64) -> Result<ReadState> {
    Ok(codec::get(&rtx.open_table(SESSION_READS)?, &k2(user_id, session_id))?.unwrap_or_default())
}

/// The same, inside a write.
pub fn read_state_in(ctx: &WriteCtx<'_>, user_id: u64, session_id: u64) -> Result<ReadState> {
    Ok(codec::get(
        &ctx.txn.open_table(SESSION_READS)?,
        &k2(user_id, session_id),
    )?
    .unwrap_or_default())
}

/// Mute or unmute a session for one user; all their browsers follow the event.
pub fn set_muted_in(
    ctx: &mut WriteCtx<'_>,
    user_id: u64,
    session_id: u64,
    muted: bool,
) -> Result<()> {
    let mut st = read_state_in(ctx, user_id, session_id)?;
    st.muted = muted;
    set_read_state_in(ctx, user_id, session_id, &st)?;
    ctx.emit(
        Audience::Users {
            user_ids: vec![user_id],
        },
        "session.muted",
        serde_json::json!({ "session_id": session_id, "muted": muted }),
    )
}

pub fn set_read_state_in(
    ctx: &WriteCtx<'_>,
    user_id: u64,
    session_id: u64,
    st: &ReadState,
) -> Result<()> {
    codec::put(
        &mut ctx.txn.open_table(SESSION_READS)?,
        &k2(user_id, session_id),
        st,
    )
}

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
        super::messages::count_inbound_after(rtx, s.id, rs.last_read, 99)?
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

/// A contact's sessions, newest first.
pub fn for_contact(rtx: &ReadTransaction, contact_id: u64) -> Result<Vec<Session>> {
    let t = rtx.open_table(SESSIONS_BY_CONTACT)?;
    let mut out = Vec::new();
    let (start, end) = (k1(contact_id), k1(contact_id.saturating_add(1)));
    for item in t.range::<&[u8]>(start.as_slice()..end.as_slice())?.rev() {
        let id = codec::u64_at(item?.0.value(), 8)?;
        if let Some(s) = get(rtx, id)? {
            out.push(s);
        }
    }
    Ok(out)
}
