//! Internal chat between colleagues: 1:1 chats (one per pair) and group chats (at most
//! [`MAX_GROUP_MEMBERS`] members; a user belongs to at most [`MAX_GROUPS_PER_USER`] groups).
//!
//! Storage (see `store::tables`): the `Chat` record holds members and admins inline; per user,
//! `CHAT_MEMBERS[user ++ chat]` is both the membership index ("my chats" is one prefix scan) and
//! the user's own state (pinned, muted, last read, last mention). Messages live under
//! `CHAT_MESSAGES[chat ++ message]` with ids from the shared `message` counter.
//!
//! Access: a chat, its messages, files, events and search hits exist only for its members;
//! everyone else gets "not found". Events go to `Audience::Users` = the members at the time of
//! the write (so the SSE stream never shows a chat's traffic to anyone else):
//!
//! | kind            | audience          | data                                              |
//! |-----------------|-------------------|---------------------------------------------------|
//! | `chat.message`  | members           | `{chat_id, message}` (author's last_read = id)    |
//! | `chat.updated`  | members           | `{chat_id}` (name, members or admins changed)     |
//! | `chat.removed`  | the removed user  | `{chat_id}`                                       |
//! | `chat.read`     | members           | `{chat_id, user_id, last_read}`                   |
//! | `chat.state`    | the user only     | `{chat_id, pinned, muted}`                        |
//! | `chat.typing`   | members but typer | `{chat_id, user_id, name}` — ephemeral, not logged |

mod actions;
mod groups;
mod search;
mod send;

pub use actions::*;
pub use groups::*;
pub use search::*;
pub use send::*;

use crate::ids::AttachmentId;
use crate::ids::MessageId;
use redb::ReadTransaction;
use serde::{Deserialize, Serialize};

use super::users::{self, User};
use crate::error::{Error, Result};
use crate::ids::{ChatId, UserId};
use crate::store::WriteCtx;
use crate::store::codec::{self, k1, k2};
use crate::store::tables::{CHAT_MEMBERS, CHAT_MESSAGES, CHATS};

pub const MAX_GROUP_MEMBERS: usize = 200;
pub const MAX_GROUPS_PER_USER: usize = 100;
/// Unread counts stop counting here (the UI shows "99+").
pub const UNREAD_CAP: u32 = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ChatKind {
    Direct,
    Group,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Chat {
    pub id: ChatId,
    pub kind: ChatKind,
    /// Group name; empty for 1:1 chats (they show the colleague's name).
    pub name: String,
    pub created: i64,
    pub creator: UserId,
    pub members: Vec<UserId>,
    pub admins: Vec<UserId>,
    #[serde(default)]
    pub last_message_id: MessageId,
    pub last_activity: i64,
    #[serde(default)]
    pub last_preview: String,
    #[serde(default)]
    pub last_author: Option<UserId>,
}

impl Chat {
    pub fn is_member(&self, uid: UserId) -> bool {
        self.members.contains(&uid)
    }
    pub fn is_admin(&self, uid: UserId) -> bool {
        self.admins.contains(&uid)
    }
}

/// One member's own view of a chat; the key's existence is the membership.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MemberState {
    pub group: bool,
    #[serde(default)]
    pub pinned: bool,
    #[serde(default)]
    pub muted: bool,
    /// Newest message id this member has read.
    #[serde(default)]
    pub last_read: MessageId,
    /// Newest message id that mentioned this member (unread while > last_read).
    #[serde(default)]
    pub mention: MessageId,
    pub joined: i64,
}

/// A file of a chat message; the same shape as a customer message's file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ChatFile {
    pub attachment_id: AttachmentId,
    pub name: String,
    pub mime: String,
    pub size: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ChatMessage {
    pub id: MessageId,
    pub chat_id: ChatId,
    pub author: UserId,
    pub text: String,
    /// Users mentioned (always members of the chat when sent).
    #[serde(default)]
    pub mentions: Vec<UserId>,
    #[serde(default)]
    pub files: Vec<ChatFile>,
    pub created: i64,
}

impl ChatMessage {
    /// What the search index holds for this message: its text and file names.
    pub fn index_text(&self) -> String {
        let mut s = self.text.clone();
        for f in &self.files {
            s.push(' ');
            s.push_str(&f.name);
        }
        s
    }
}

/// A colleague as other users see them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Colleague {
    pub id: UserId,
    pub username: String,
    pub display_name: String,
    pub extension: String,
    pub email: String,
    pub disabled: bool,
}

impl From<&User> for Colleague {
    fn from(u: &User) -> Self {
        Self {
            id: u.id,
            username: u.username.clone(),
            display_name: u.display_name.clone(),
            extension: u.extension.clone(),
            email: u.email.clone(),
            disabled: u.disabled,
        }
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LastMessage {
    pub id: MessageId,
    pub author_id: Option<UserId>,
    pub author_name: String,
    pub preview: String,
    pub at: i64,
}

/// A chat in the caller's list.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ChatListItem {
    pub id: ChatId,
    pub kind: ChatKind,
    /// The group's name, or the colleague's display name for a 1:1 chat.
    pub name: String,
    /// The colleague of a 1:1 chat.
    pub other: Option<Colleague>,
    pub member_count: usize,
    pub is_admin: bool,
    pub pinned: bool,
    pub muted: bool,
    /// Messages from others after the caller's last read one (capped at 100).
    pub unread: u32,
    /// An unread message mentions the caller (notifies even when muted).
    pub mentioned: bool,
    pub last_read: MessageId,
    pub last_message: Option<LastMessage>,
    pub last_activity: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MemberView {
    pub user: Colleague,
    pub admin: bool,
    /// Newest message id this member has read ("read by").
    pub last_read: MessageId,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ChatView {
    pub chat: ChatListItem,
    pub members: Vec<MemberView>,
}

pub fn get(rtx: &ReadTransaction, id: ChatId) -> Result<Option<Chat>> {
    codec::get(&rtx.open_table(CHATS)?, &k1(id))
}

/// The chat if `user_id` is a member; "not found" otherwise.
pub fn get_for_member(rtx: &ReadTransaction, user_id: UserId, id: ChatId) -> Result<Chat> {
    match get(rtx, id)? {
        Some(c) if c.is_member(user_id) => Ok(c),
        _ => Err(Error::NotFound("chat")),
    }
}

/// Is `user_id` a member of `chat_id`? (For the attachment store's access check.)
pub fn is_member(rtx: &ReadTransaction, chat_id: ChatId, user_id: UserId) -> Result<bool> {
    Ok(rtx
        .open_table(CHAT_MEMBERS)?
        .get(k2(user_id, chat_id).as_slice())?
        .is_some())
}

pub fn member_state(
    rtx: &ReadTransaction,
    user_id: UserId,
    chat_id: ChatId,
) -> Result<MemberState> {
    codec::get(&rtx.open_table(CHAT_MEMBERS)?, &k2(user_id, chat_id))?
        .ok_or(Error::NotFound("chat"))
}

/// The ids of the chats `user_id` belongs to with their state.
pub fn memberships(rtx: &ReadTransaction, user_id: UserId) -> Result<Vec<(ChatId, MemberState)>> {
    let t = rtx.open_table(CHAT_MEMBERS)?;
    let mut out = Vec::new();
    for item in t.range::<&[u8]>(k2(user_id, 0).as_slice()..=k2(user_id, u64::MAX).as_slice())? {
        let (k, v) = item?;
        out.push((
            ChatId(codec::id_at(k.value(), 8)?),
            codec::decode(v.value())?,
        ));
    }
    Ok(out)
}

pub(crate) fn get_in(ctx: &WriteCtx<'_>, id: ChatId) -> Result<Chat> {
    codec::get(&ctx.txn.open_table(CHATS)?, &k1(id))?.ok_or(Error::NotFound("chat"))
}

pub(crate) fn get_member_in(ctx: &WriteCtx<'_>, user_id: UserId, id: ChatId) -> Result<Chat> {
    match get_in(ctx, id) {
        Ok(c) if c.is_member(user_id) => Ok(c),
        Ok(_) | Err(Error::NotFound(_)) => Err(Error::NotFound("chat")),
        Err(e) => Err(e),
    }
}

/// Messages of a chat, oldest first: the newest `limit` before `before` (exclusive).
pub fn page(
    rtx: &ReadTransaction,
    chat_id: ChatId,
    before: Option<MessageId>,
    limit: usize,
) -> Result<Vec<ChatMessage>> {
    let t = rtx.open_table(CHAT_MESSAGES)?;
    let start = k2(chat_id, 0);
    let end = k2(chat_id, before.unwrap_or(MessageId(u64::MAX)));
    let mut out = Vec::with_capacity(limit.min(256));
    for item in t.range::<&[u8]>(start.as_slice()..end.as_slice())?.rev() {
        if out.len() >= limit {
            break;
        }
        out.push(codec::decode::<ChatMessage>(item?.1.value())?);
    }
    out.reverse();
    Ok(out)
}

pub fn message(
    rtx: &ReadTransaction,
    chat_id: ChatId,
    id: MessageId,
) -> Result<Option<ChatMessage>> {
    codec::get(&rtx.open_table(CHAT_MESSAGES)?, &k2(chat_id, id))
}

/// A file posted in a chat, for the chat's file list.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ChatFileEntry {
    pub message_id: MessageId,
    pub author: UserId,
    pub at: i64,
    pub file: ChatFile,
}

/// Files posted in a chat, newest first (scans at most 5000 messages back from `before`).
pub fn files(
    rtx: &ReadTransaction,
    chat_id: ChatId,
    before: Option<MessageId>,
    limit: usize,
) -> Result<Vec<ChatFileEntry>> {
    let t = rtx.open_table(CHAT_MESSAGES)?;
    let start = k2(chat_id, 0);
    let end = k2(chat_id, before.unwrap_or(MessageId(u64::MAX)));
    let mut out = Vec::new();
    for item in t
        .range::<&[u8]>(start.as_slice()..end.as_slice())?
        .rev()
        .take(5000)
    {
        let m: ChatMessage = codec::decode(item?.1.value())?;
        for f in m.files {
            if out.len() >= limit {
                return Ok(out);
            }
            out.push(ChatFileEntry {
                message_id: m.id,
                author: m.author,
                at: m.created,
                file: f,
            });
        }
    }
    Ok(out)
}

/// Messages from others after `after` (stops at [`UNREAD_CAP`]).
fn count_unread(
    rtx: &ReadTransaction,
    chat_id: ChatId,
    user_id: UserId,
    after: MessageId,
) -> Result<u32> {
    let t = rtx.open_table(CHAT_MESSAGES)?;
    let start = k2(chat_id, after.next());
    let end = k2(chat_id, u64::MAX);
    let mut n = 0;
    for item in t.range::<&[u8]>(start.as_slice()..end.as_slice())? {
        let m: ChatMessage = codec::decode(item?.1.value())?;
        if m.author != user_id {
            n += 1;
            if n >= UNREAD_CAP {
                break;
            }
        }
    }
    Ok(n)
}

fn name_of(rtx: &ReadTransaction, id: UserId) -> Result<String> {
    Ok(users::get(rtx, id)?
        .map(|u| u.display_name)
        .unwrap_or_else(|| format!("#{id}")))
}

/// The caller's list item for one chat.
pub fn list_item(
    rtx: &ReadTransaction,
    user_id: UserId,
    chat: &Chat,
    st: &MemberState,
) -> Result<ChatListItem> {
    let other = match chat.kind {
        ChatKind::Direct => chat
            .members
            .iter()
            .find(|&&m| m != user_id)
            .map(|&m| users::get(rtx, m))
            .transpose()?
            .flatten()
            .map(|u| Colleague::from(&u)),
        ChatKind::Group => None,
    };
    let name = match (&other, chat.kind) {
        (Some(o), ChatKind::Direct) => o.display_name.clone(),
        _ => chat.name.clone(),
    };
    let last_message = if chat.last_message_id.get() > 0 {
        Some(LastMessage {
            id: chat.last_message_id,
            author_id: chat.last_author,
            author_name: match chat.last_author {
                Some(a) => name_of(rtx, a)?,
                None => String::new(),
            },
            preview: chat.last_preview.clone(),
            at: chat.last_activity,
        })
    } else {
        None
    };
    Ok(ChatListItem {
        id: chat.id,
        kind: chat.kind,
        name,
        other,
        member_count: chat.members.len(),
        is_admin: chat.is_admin(user_id),
        pinned: st.pinned,
        muted: st.muted,
        unread: count_unread(rtx, chat.id, user_id, st.last_read)?,
        mentioned: st.mention > st.last_read,
        last_read: st.last_read,
        last_message,
        last_activity: chat.last_activity,
    })
}

/// The caller's chats: pinned first, then by last activity, newest first.
pub fn list_for_user(rtx: &ReadTransaction, user_id: UserId) -> Result<Vec<ChatListItem>> {
    let mut out = Vec::new();
    for (chat_id, st) in memberships(rtx, user_id)? {
        if let Some(chat) = get(rtx, chat_id)? {
            out.push(list_item(rtx, user_id, &chat, &st)?);
        }
    }
    out.sort_by(|a, b| {
        b.pinned
            .cmp(&a.pinned)
            .then(b.last_activity.cmp(&a.last_activity))
            .then(b.id.cmp(&a.id))
    });
    Ok(out)
}

/// One chat with its members and their read state, for a member.
pub fn view(rtx: &ReadTransaction, user_id: UserId, chat_id: ChatId) -> Result<ChatView> {
    let chat = get_for_member(rtx, user_id, chat_id)?;
    let st = member_state(rtx, user_id, chat_id)?;
    let t = rtx.open_table(CHAT_MEMBERS)?;
    let mut members = Vec::with_capacity(chat.members.len());
    for &m in &chat.members {
        let Some(u) = users::get(rtx, m)? else {
            continue;
        };
        let ms: MemberState = codec::get(&t, &k2(m, chat_id))?.unwrap_or_default();
        members.push(MemberView {
            user: Colleague::from(&u),
            admin: chat.is_admin(m),
            last_read: ms.last_read,
        });
    }
    members.sort_by(|a, b| {
        b.admin.cmp(&a.admin).then(
            a.user
                .display_name
                .to_lowercase()
                .cmp(&b.user.display_name.to_lowercase()),
        )
    });
    Ok(ChatView {
        chat: list_item(rtx, user_id, &chat, &st)?,
        members,
    })
}

/// Colleagues matching `q` by name, username, extension or email (enabled users, not the caller).
pub fn directory(
    rtx: &ReadTransaction,
    me: UserId,
    q: &str,
    limit: usize,
) -> Result<Vec<Colleague>> {
    let q = q.trim().to_lowercase();
    let mut out: Vec<Colleague> = users::list(rtx)?
        .iter()
        .filter(|u| !u.disabled && u.id != me)
        .filter(|u| {
            q.is_empty()
                || u.display_name.to_lowercase().contains(&q)
                || u.username.to_lowercase().contains(&q)
                || u.email.to_lowercase().contains(&q)
                || (!u.extension.is_empty() && u.extension.contains(&q))
        })
        .map(Colleague::from)
        .collect();
    out.sort_by_key(|c| c.display_name.to_lowercase());
    out.truncate(limit);
    Ok(out)
}

#[cfg(test)]
mod tests;
