//! Sessions (conversations): one run of messages between a contact and the office on one
//! channel. At most one open session per contact; a closed session is read-only and the next
//! customer message opens a new one. The inbox order lives in `SESSIONS_BY_ACTIVITY`, whose
//! values carry channel, assignee and flags so lists filter without decoding sessions.

use crate::domain::events::Event;
use crate::ids::ChannelId;
use crate::ids::ContactId;
use crate::ids::MessageId;
use crate::ids::SessionId;
use crate::ids::UserId;
use redb::{ReadTransaction, ReadableTable};
use serde::{Deserialize, Serialize};

use super::channels::ChannelKind;
use super::contacts::Contact;
use super::users::User;
use crate::error::{Error, Result};
use crate::store::codec::{self, k1, k2};
use crate::store::tables::{
    OPEN_ASSIGNED, OPEN_SESSIONS, OPEN_SESSIONS_BY_ACTIVITY, SESSIONS, SESSIONS_BY_ACTIVITY,
    SESSIONS_BY_CONTACT, SNOOZED,
};
use crate::store::{Audience, WriteCtx};

pub(crate) mod actions;
mod list;
mod reads;
pub mod snooze;
mod timeline;

pub use actions::{BULK_MAX, BulkAction, bulk, close, reopen, set_archived, set_muted};
pub use list::{ListQuery, Scope, SessionPage, list, view};
pub use reads::{read_state, read_state_in, set_muted_in, set_read_state_in};
pub use snooze::{snooze, wake_due, wake_in};
pub use timeline::{
    TimelineEntry, TimelineKind, timeline, timeline_in, timeline_of_in, timeline_phrased_in,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SessionStatus {
    Open,
    Closed,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Session {
    pub id: SessionId,
    pub channel_id: ChannelId,
    pub channel_kind: ChannelKind,
    pub contact_id: ContactId,
    pub status: SessionStatus,
    pub assignee: Option<UserId>,
    pub created: i64,
    pub last_activity: i64,
    /// When the customer last wrote (drives the WhatsApp / Messenger reply window).
    pub last_inbound: Option<i64>,
    pub last_preview: String,
    pub last_message_id: MessageId,
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
    /// Snoozed by an agent until then (Unix ms): out of the lists until it wakes.
    #[serde(default)]
    pub snoozed_until: Option<i64>,
    /// The channel's first-response target for this conversation (docs/automation.md).
    #[serde(default)]
    pub sla: Option<Sla>,
    /// The customer's answer to the satisfaction survey, 1–5 (docs/automation.md).
    #[serde(default)]
    pub rating: Option<u8>,
}

/// When a customer-opened conversation should have its first answer: amber from `warn_at`,
/// red from `due_at`; `breached` once the channel's agents were told it was missed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Sla {
    pub warn_at: i64,
    pub due_at: i64,
    #[serde(default)]
    pub breached: bool,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ReadState {
    pub last_read: MessageId,
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
/// Flag bit of a closed session in the activity index values (schema migration 2 keeps its
/// own frozen copy).
const FLAG_CLOSED: u8 = 2;

fn index_value(s: &Session) -> [u8; 17] {
    let mut v = [0u8; 17];
    v[..8].copy_from_slice(&s.channel_id.key());
    v[8..16].copy_from_slice(&s.assignee.unwrap_or_default().key());
    v[16] = (if s.archived { FLAG_ARCHIVED } else { 0 })
        | (if s.status == SessionStatus::Closed {
            FLAG_CLOSED
        } else {
            0
        });
    v
}

/// Whether `user` may transfer or end session `s`: its owner, anyone while it is unassigned,
/// and admins always. Colleagues of the owner may read and reply (after a warning in the
/// inbox), but handing over or finishing is the owner's call (docs/inbox.md).
pub fn may_manage(user: &User, s: &Session) -> bool {
    user.is_admin() || s.assignee.is_none_or(|a| a == user.id)
}

/// What the inbox offers `user` on session `s` (the API refuses the rest).
#[derive(Debug, Clone, Copy, Serialize, utoipa::ToSchema)]
pub struct Allowed {
    /// Pick up: open and unassigned.
    pub pickup: bool,
    /// Transfer to a colleague or back to the queue: open, and [`may_manage`].
    pub transfer: bool,
    /// End chat: open, and [`may_manage`].
    pub end: bool,
    /// A colleague owns it: a reply from `user` is sent only after a confirmation.
    pub owned_by_other: bool,
}

pub fn allowed(user: &User, s: &Session) -> Allowed {
    let open = s.status == SessionStatus::Open;
    Allowed {
        pickup: open && s.assignee.is_none(),
        transfer: open && may_manage(user, s),
        end: open && may_manage(user, s),
        owned_by_other: s.assignee.is_some_and(|a| a != user.id),
    }
}

pub fn get(rtx: &ReadTransaction, id: SessionId) -> Result<Option<Session>> {
    codec::get(&rtx.open_table(SESSIONS)?, &k1(id))
}

pub fn get_in(ctx: &WriteCtx<'_>, id: SessionId) -> Result<Session> {
    codec::get(&ctx.txn.open_table(SESSIONS)?, &k1(id))?.ok_or(Error::NotFound("session"))
}

/// The session if `user` may see it (else NotFound, so existence does not leak).
pub fn get_visible(rtx: &ReadTransaction, user: &User, id: SessionId) -> Result<Session> {
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
    // Snoozed open sessions, for the Snoozed list and the wake-up job (no table work for the
    // sessions that never were).
    let was_snoozed = before.is_some_and(|b| b.snoozed_until.is_some());
    if was_snoozed || s.snoozed_until.is_some() {
        let mut t = ctx.txn.open_table(SNOOZED)?;
        if was_snoozed {
            t.remove(k1(s.id).as_slice())?;
        }
        if let Some(until) = s.snoozed_until
            && s.status == SessionStatus::Open
        {
            t.insert(k1(s.id).as_slice(), until.to_be_bytes().as_slice())?;
        }
    }
    codec::put(&mut ctx.txn.open_table(SESSIONS)?, &k1(s.id), s)?;
    let event = if before.is_some() {
        Event::SessionUpdated(s)
    } else {
        Event::SessionCreated(s)
    };
    ctx.emit(
        Audience::Channel {
            channel_id: s.channel_id,
        },
        &event,
    )
}

/// Open sessions assigned to `user_id` on `channel_id` (stops counting at `cap`).
pub fn open_count_in(
    ctx: &WriteCtx<'_>,
    user_id: UserId,
    channel_id: ChannelId,
    cap: u64,
) -> Result<u64> {
    let t = ctx.txn.open_table(OPEN_ASSIGNED)?;
    let (start, end) = (k1(user_id), k1(user_id.next()));
    let mut n = 0;
    for item in t.range::<&[u8]>(start.as_slice()..end.as_slice())? {
        if codec::id_at::<ChannelId>(item?.1.value(), 0)? == channel_id {
            n += 1;
            if n >= cap {
                break;
            }
        }
    }
    Ok(n)
}

/// The newest session in a contact's history.
pub fn latest_of_contact_in(
    ctx: &WriteCtx<'_>,
    contact_id: ContactId,
) -> Result<Option<SessionId>> {
    let t = ctx.txn.open_table(SESSIONS_BY_CONTACT)?;
    let (start, end) = (k1(contact_id), k1(contact_id.next()));
    let last = t
        .range::<&[u8]>(start.as_slice()..end.as_slice())?
        .next_back()
        .transpose()?;
    last.map(|(k, _)| codec::id_at(k.value(), 8)).transpose()
}

/// Move a contact's session history to another contact (a merge); returns the sessions moved.
pub fn move_history_in(
    ctx: &WriteCtx<'_>,
    from: ContactId,
    to: ContactId,
) -> Result<Vec<SessionId>> {
    let mut t = ctx.txn.open_table(SESSIONS_BY_CONTACT)?;
    let (start, end) = (k1(from), k1(from.next()));
    let mut ids = Vec::new();
    for item in t.range::<&[u8]>(start.as_slice()..end.as_slice())? {
        ids.push(codec::id_at(item?.0.value(), 8)?);
    }
    for sid in &ids {
        t.remove(k2(from, *sid).as_slice())?;
        t.insert(k2(to, *sid).as_slice(), [].as_slice())?;
    }
    Ok(ids)
}

/// Visit the sessions active at or after `since` (Unix ms) on the channels `wanted` accepts,
/// in order of last activity (reports).
pub fn each_active_since(
    rtx: &ReadTransaction,
    since: i64,
    wanted: impl Fn(ChannelId) -> bool,
    mut f: impl FnMut(Session) -> Result<()>,
) -> Result<()> {
    let idx = rtx.open_table(SESSIONS_BY_ACTIVITY)?;
    let all = rtx.open_table(SESSIONS)?;
    let start = k2(since.max(0) as u64, 0);
    for item in idx.range::<&[u8]>(start.as_slice()..)? {
        let (k, v) = item?;
        if !wanted(codec::id_at(v.value(), 0)?) {
            continue;
        }
        let sid: SessionId = codec::id_at(k.value(), 8)?;
        if let Some(s) = codec::get::<Session>(&all, &k1(sid))? {
            f(s)?;
        }
    }
    Ok(())
}

/// The open session of a contact, if any.
pub fn open_of_contact_in(ctx: &WriteCtx<'_>, contact_id: ContactId) -> Result<Option<SessionId>> {
    ctx.txn
        .open_table(OPEN_SESSIONS)?
        .get(k1(contact_id).as_slice())?
        .map(|v| codec::id_at(v.value(), 0))
        .transpose()
}

/// Every open session (the closure job walks them).
pub fn open_ids(rtx: &ReadTransaction) -> Result<Vec<SessionId>> {
    let mut out = Vec::new();
    for item in rtx.open_table(OPEN_SESSIONS)?.iter()? {
        out.push(codec::id_at(item?.1.value(), 0)?);
    }
    Ok(out)
}

/// The open session of a contact, or a new one.
pub fn open_for_contact_in(
    ctx: &mut WriteCtx<'_>,
    channel_id: ChannelId,
    kind: ChannelKind,
    contact: &Contact,
) -> Result<(Session, bool)> {
    let open = open_of_contact_in(ctx, contact.id)?;
    open_or_new_in(ctx, channel_id, kind, contact, open)
}

/// [`open_for_contact_in`] when the caller already looked up the contact's open session.
pub fn open_or_new_in(
    ctx: &mut WriteCtx<'_>,
    channel_id: ChannelId,
    kind: ChannelKind,
    contact: &Contact,
    open: Option<SessionId>,
) -> Result<(Session, bool)> {
    if let Some(id) = open {
        let s = get_in(ctx, id)?;
        if s.status == SessionStatus::Open {
            return Ok((s, false));
        }
    }
    let id = SessionId(ctx.next_id("session")?);
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
        last_message_id: MessageId(0),
        archived: false,
        closed_at: None,
        result: None,
        close_note: String::new(),
        tags: Vec::new(),
        first_response_at: None,
        message_count: 0,
        snoozed_until: None,
        sla: None,
        rating: None,
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
    timeline_in(ctx, id, None, TimelineKind::Opened, "")?;
    Ok((s, true))
}

/// Opens a closed (or archived) session again for `actor`, who becomes its owner. Refused
/// when the customer already has another open conversation (continue that one instead).
pub fn reopen_in(ctx: &mut WriteCtx<'_>, id: SessionId, actor: UserId) -> Result<Session> {
    let before = get_in(ctx, id)?;
    if before.status == SessionStatus::Open && !before.archived {
        return Ok(before);
    }
    let mut s = before.clone();
    if before.status == SessionStatus::Closed {
        if let Some(other) = open_of_contact_in(ctx, before.contact_id)?
            && other != id
            && get_in(ctx, other)?.status == SessionStatus::Open
        {
            return Err(Error::Conflict(format!(
                "this customer already has an open conversation (#{other}); continue that one"
            )));
        }
        s.status = SessionStatus::Open;
        s.closed_at = None;
        s.assignee = Some(actor);
        ctx.txn
            .open_table(OPEN_SESSIONS)?
            .insert(k1(s.contact_id).as_slice(), k1(id).as_slice())?;
    }
    s.archived = false;
    save_in(ctx, Some(&before), &s)?;
    timeline_in(ctx, id, Some(actor), TimelineKind::Reopened, "")?;
    Ok(s)
}

/// Close a session (end chat or the closure job). `actor` None = the system.
pub fn close_in(
    ctx: &mut WriteCtx<'_>,
    id: SessionId,
    actor: Option<UserId>,
    result: Option<String>,
    note: String,
) -> Result<Session> {
    let before = get_in(ctx, id)?;
    if before.status == SessionStatus::Closed {
        return Err(Error::Conflict("the session is already closed".into()));
    }
    // The satisfaction survey goes out while the conversation is still open (window rules).
    crate::domain::automation::survey::on_close_in(ctx, &before)?;
    let before = get_in(ctx, id)?;
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
            TimelineKind::Closed
        } else {
            TimelineKind::ClosedInactive
        },
        &detail,
    )?;
    Ok(s)
}

/// A contact's sessions, newest first.
pub fn for_contact(rtx: &ReadTransaction, contact_id: ContactId) -> Result<Vec<Session>> {
    let t = rtx.open_table(SESSIONS_BY_CONTACT)?;
    let mut out = Vec::new();
    let (start, end) = (k1(contact_id), k1(contact_id.next()));
    for item in t.range::<&[u8]>(start.as_slice()..end.as_slice())?.rev() {
        let id = codec::id_at(item?.0.value(), 8)?;
        if let Some(s) = get(rtx, id)? {
            out.push(s);
        }
    }
    Ok(out)
}

/// The ids of every session of `channel_id` (a scan of all sessions: admin pages only).
pub fn of_channel(rtx: &ReadTransaction, channel_id: ChannelId) -> Result<Vec<SessionId>> {
    let t = rtx.open_table(crate::store::tables::SESSIONS)?;
    let mut out = Vec::new();
    for item in t.iter()? {
        let s: Session = crate::store::codec::decode(item?.1.value())?;
        if s.channel_id == channel_id {
            out.push(s.id);
        }
    }
    Ok(out)
}
