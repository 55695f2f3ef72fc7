//! What a member does in internal chat, each one write (the JSON API calls these): start a
//! chat, send, read, pin or mute, signal typing, and the group administration.

use crate::ids::MessageId;
use serde::Deserialize;

use super::{
    ChatMessage, MemberState, NewChatMessage, add_members_in, check_text, clean_name,
    create_group_in, get_for_member, grant_admin_in, leave_in, mark_read_in, open_direct_in,
    remove_member_in, rename_in, revoke_admin_in, send_in, set_state_in,
};
use crate::domain::users::User;
use crate::error::{Error, Result};
use crate::ids::{ChatId, UserId};
use crate::store::{Audience, Store};

/// Start a chat: `{user_id}` for the 1:1 chat with a colleague, or `{name, member_ids}` for a
/// group with the caller as its admin.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct NewChat {
    /// Start (or reopen) the 1:1 chat with this colleague.
    pub user_id: Option<UserId>,
    /// Group name (optional; defaults to the members' names).
    pub name: Option<String>,
    /// Group members besides the caller (at most 199).
    pub member_ids: Option<Vec<UserId>>,
}

/// `me` starts a chat; returns its id and whether it is new (an existing 1:1 chat is reused).
pub async fn start(store: &Store, me: &User, req: NewChat) -> Result<(ChatId, bool)> {
    let me = me.clone();
    match (req.user_id, req.member_ids) {
        (Some(other), None) => {
            store
                .write(move |ctx| open_direct_in(ctx, &me, other).map(|(c, new)| (c.id, new)))
                .await
        }
        (None, Some(ids)) => {
            let name = clean_name(req.name.as_deref().unwrap_or(""))?;
            store
                .write(move |ctx| create_group_in(ctx, &me, &name, &ids).map(|c| (c.id, true)))
                .await
        }
        _ => Err(Error::invalid(
            "user_id",
            "give either user_id (1:1 chat) or member_ids (group)",
        )),
    }
}

/// A member sends a message (mentions, files); empty or oversize text is refused.
pub async fn send(
    store: &Store,
    author: &User,
    chat_id: ChatId,
    input: NewChatMessage,
    max_chars: usize,
) -> Result<ChatMessage> {
    let text = check_text(&input.text, max_chars)?;
    let author = author.clone();
    store
        .write(move |ctx| send_in(ctx, &author, chat_id, &text, &input))
        .await
}

/// A member has read the chat up to `up_to` (default: the newest); returns the new mark.
pub async fn mark_read(
    store: &Store,
    uid: UserId,
    chat_id: ChatId,
    up_to: Option<MessageId>,
) -> Result<MessageId> {
    store
        .write(move |ctx| mark_read_in(ctx, uid, chat_id, up_to))
        .await
}

/// A member pins or mutes the chat for themselves.
pub async fn set_state(
    store: &Store,
    uid: UserId,
    chat_id: ChatId,
    pinned: Option<bool>,
    muted: Option<bool>,
) -> Result<MemberState> {
    store
        .write(move |ctx| set_state_in(ctx, uid, chat_id, pinned, muted))
        .await
}

/// "I am typing": an ephemeral `chat.typing` event to the other members (not stored).
pub async fn typing(store: &Store, me: &User, chat_id: ChatId, now: i64) -> Result<()> {
    let uid = me.id;
    let chat = store
        .read(move |rtx| get_for_member(rtx, uid, chat_id))
        .await?;
    let others: Vec<UserId> = chat.members.into_iter().filter(|&m| m != uid).collect();
    store.publish_ephemeral(
        Audience::Users { user_ids: others },
        "chat.typing",
        now,
        serde_json::json!({ "chat_id": chat_id, "user_id": uid, "name": me.display_name }),
    );
    Ok(())
}

/// A group admin renames the group.
pub async fn rename(store: &Store, actor: UserId, chat_id: ChatId, name: String) -> Result<()> {
    store
        .write(move |ctx| rename_in(ctx, actor, chat_id, &name).map(|_| ()))
        .await
}

/// A group admin adds colleagues.
pub async fn add_members(
    store: &Store,
    actor: UserId,
    chat_id: ChatId,
    ids: Vec<UserId>,
) -> Result<()> {
    store
        .write(move |ctx| add_members_in(ctx, actor, chat_id, &ids).map(|_| ()))
        .await
}

/// A group admin removes a member (never the last admin).
pub async fn remove_member(
    store: &Store,
    actor: UserId,
    chat_id: ChatId,
    uid: UserId,
) -> Result<()> {
    store
        .write(move |ctx| remove_member_in(ctx, actor, chat_id, uid).map(|_| ()))
        .await
}

/// A group admin hands admin over to a member (`step_down`) or adds an admin.
pub async fn grant_admin(
    store: &Store,
    actor: UserId,
    chat_id: ChatId,
    uid: UserId,
    step_down: bool,
) -> Result<()> {
    store
        .write(move |ctx| grant_admin_in(ctx, actor, chat_id, uid, step_down).map(|_| ()))
        .await
}

/// A group admin takes admin rights from a member (never from the last admin).
pub async fn revoke_admin(
    store: &Store,
    actor: UserId,
    chat_id: ChatId,
    uid: UserId,
) -> Result<()> {
    store
        .write(move |ctx| revoke_admin_in(ctx, actor, chat_id, uid).map(|_| ()))
        .await
}

/// A member leaves a group.
pub async fn leave(store: &Store, uid: UserId, chat_id: ChatId) -> Result<()> {
    store.write(move |ctx| leave_in(ctx, uid, chat_id)).await
}
