//! Creating chats and changing group membership. Every check runs inside the write, so a
//! refused change leaves nothing behind.

use crate::domain::events::Event;
use crate::ids::MessageId;
use std::collections::HashSet;

use redb::ReadableTable;

use super::{Chat, ChatKind, MAX_GROUP_MEMBERS, MAX_GROUPS_PER_USER, MemberState, get_member_in};
use crate::domain::users::{self, User};
use crate::error::{Error, Result};
use crate::ids::{ChatId, UserId};
use crate::store::codec::{self, k1, k2};
use crate::store::tables::{CHAT_DIRECT, CHAT_MEMBERS, CHATS};
use crate::store::{Audience, WriteCtx};

/// A group name: trimmed, 1–100 characters, no control characters.
pub fn clean_name(name: &str) -> Result<String> {
    let n = name.trim();
    if n.chars().count() > 100 {
        return Err(Error::invalid("name", "must be at most 100 characters"));
    }
    if n.chars().any(char::is_control) {
        return Err(Error::invalid(
            "name",
            "must not contain control characters",
        ));
    }
    Ok(n.to_string())
}

pub(crate) fn save_in(ctx: &mut WriteCtx<'_>, chat: &Chat) -> Result<()> {
    codec::put(&mut ctx.txn.open_table(CHATS)?, &k1(chat.id), chat)
}

pub(crate) fn state_in(
    ctx: &WriteCtx<'_>,
    user_id: UserId,
    chat_id: ChatId,
) -> Result<Option<MemberState>> {
    codec::get(&ctx.txn.open_table(CHAT_MEMBERS)?, &k2(user_id, chat_id))
}

pub(crate) fn put_state_in(
    ctx: &WriteCtx<'_>,
    user_id: UserId,
    chat_id: ChatId,
    st: &MemberState,
) -> Result<()> {
    codec::put(
        &mut ctx.txn.open_table(CHAT_MEMBERS)?,
        &k2(user_id, chat_id),
        st,
    )
}

/// How many group chats `user_id` belongs to.
pub(crate) fn group_count_in(ctx: &WriteCtx<'_>, user_id: UserId) -> Result<usize> {
    let t = ctx.txn.open_table(CHAT_MEMBERS)?;
    let mut n = 0;
    for item in t.range::<&[u8]>(k2(user_id, 0).as_slice()..=k2(user_id, u64::MAX).as_slice())? {
        let st: MemberState = codec::decode(item?.1.value())?;
        if st.group {
            n += 1;
        }
    }
    Ok(n)
}

/// A user who may be added to a chat: exists and is enabled.
fn addable_in(ctx: &WriteCtx<'_>, id: UserId) -> Result<User> {
    match users::get_in(ctx, id) {
        Ok(u) if u.disabled => Err(Error::invalid(
            "member_ids",
            format!("{} is disabled and cannot be added", u.display_name),
        )),
        Ok(u) => Ok(u),
        Err(Error::NotFound(_)) => Err(Error::invalid(
            "member_ids",
            format!("user {id} does not exist"),
        )),
        Err(e) => Err(e),
    }
}

fn check_group_quota_in(ctx: &WriteCtx<'_>, u: &User) -> Result<()> {
    if group_count_in(ctx, u.id)? >= MAX_GROUPS_PER_USER {
        return Err(Error::Rule(format!(
            "{} is already in {MAX_GROUPS_PER_USER} group chats, the most a user may join",
            u.display_name
        )));
    }
    Ok(())
}

/// Rejects duplicates in a list of user ids.
fn no_duplicates(ids: &[UserId]) -> Result<()> {
    let mut seen = HashSet::new();
    for id in ids {
        if !seen.insert(*id) {
            return Err(Error::invalid(
                "member_ids",
                format!("user {id} is listed twice"),
            ));
        }
    }
    Ok(())
}

fn emit_updated(ctx: &mut WriteCtx<'_>, chat: &Chat) -> Result<()> {
    ctx.emit(
        Audience::Users {
            user_ids: chat.members.clone(),
        },
        &Event::ChatUpdated { chat_id: chat.id },
    )
}

/// The 1:1 chat of `me` and `other`, created on first use. Returns (chat, created).
pub fn open_direct_in(ctx: &mut WriteCtx<'_>, me: &User, other: UserId) -> Result<(Chat, bool)> {
    if other == me.id {
        return Err(Error::invalid(
            "user_id",
            "you cannot start a chat with yourself",
        ));
    }
    let key = k2(me.id.min(other), me.id.max(other));
    let existing = ctx
        .txn
        .open_table(CHAT_DIRECT)?
        .get(key.as_slice())?
        .map(|v| codec::id_at(v.value(), 0).map(ChatId))
        .transpose()?;
    if let Some(id) = existing {
        return Ok((super::get_in(ctx, id)?, false));
    }
    let peer = match addable_in(ctx, other) {
        Err(Error::Invalid { message, .. }) => return Err(Error::invalid("user_id", message)),
        r => r?,
    };
    let id = ChatId(ctx.next_id("chat")?);
    let chat = Chat {
        id,
        kind: ChatKind::Direct,
        name: String::new(),
        created: ctx.now,
        creator: me.id,
        members: vec![me.id, peer.id],
        admins: Vec::new(),
        last_message_id: MessageId(0),
        last_activity: ctx.now,
        last_preview: String::new(),
        last_author: None,
    };
    save_in(ctx, &chat)?;
    ctx.txn
        .open_table(CHAT_DIRECT)?
        .insert(key.as_slice(), k1(id).as_slice())?;
    for m in [me.id, peer.id] {
        put_state_in(
            ctx,
            m,
            id,
            &MemberState {
                joined: ctx.now,
                ..Default::default()
            },
        )?;
    }
    emit_updated(ctx, &chat)?;
    Ok((chat, true))
}

/// Create a group: the creator is its admin. `name` may be empty (the members' names are used).
pub fn create_group_in(
    ctx: &mut WriteCtx<'_>,
    creator: &User,
    name: &str,
    member_ids: &[UserId],
) -> Result<Chat> {
    no_duplicates(member_ids)?;
    let others: Vec<UserId> = member_ids
        .iter()
        .copied()
        .filter(|&m| m != creator.id)
        .collect();
    if others.is_empty() {
        return Err(Error::invalid(
            "member_ids",
            "choose at least one colleague for the group",
        ));
    }
    if others.len() + 1 > MAX_GROUP_MEMBERS {
        return Err(Error::Rule(format!(
            "a group has at most {MAX_GROUP_MEMBERS} members ({} requested)",
            others.len() + 1
        )));
    }
    let mut users = Vec::with_capacity(others.len());
    for &m in &others {
        users.push(addable_in(ctx, m)?);
    }
    check_group_quota_in(ctx, creator)?;
    for u in &users {
        check_group_quota_in(ctx, u)?;
    }
    let mut name = clean_name(name)?;
    if name.is_empty() {
        let mut names: Vec<&str> = std::iter::once(creator.display_name.as_str())
            .chain(users.iter().map(|u| u.display_name.as_str()))
            .take(4)
            .collect();
        if users.len() + 1 > 4 {
            names.push("…");
        }
        name = names.join(", ").chars().take(100).collect();
    }
    let id = ChatId(ctx.next_id("chat")?);
    let mut members = vec![creator.id];
    members.extend(others.iter().copied());
    let chat = Chat {
        id,
        kind: ChatKind::Group,
        name,
        created: ctx.now,
        creator: creator.id,
        members: members.clone(),
        admins: vec![creator.id],
        last_message_id: MessageId(0),
        last_activity: ctx.now,
        last_preview: String::new(),
        last_author: None,
    };
    save_in(ctx, &chat)?;
    for m in members {
        put_state_in(
            ctx,
            m,
            id,
            &MemberState {
                group: true,
                joined: ctx.now,
                ..Default::default()
            },
        )?;
    }
    emit_updated(ctx, &chat)?;
    Ok(chat)
}

/// A group the actor may administer: member (else not found), group (else 422), admin (else 403).
fn admin_group_in(ctx: &WriteCtx<'_>, actor: UserId, chat_id: ChatId) -> Result<Chat> {
    let chat = get_member_in(ctx, actor, chat_id)?;
    if chat.kind != ChatKind::Group {
        return Err(Error::Rule("1:1 chats have no members to manage".into()));
    }
    if !chat.is_admin(actor) {
        return Err(Error::Forbidden(
            "only a group admin may change members, name or admins".into(),
        ));
    }
    Ok(chat)
}

pub fn add_members_in(
    ctx: &mut WriteCtx<'_>,
    actor: UserId,
    chat_id: ChatId,
    ids: &[UserId],
) -> Result<Chat> {
    let mut chat = admin_group_in(ctx, actor, chat_id)?;
    if ids.is_empty() {
        return Err(Error::invalid("user_ids", "choose at least one colleague"));
    }
    no_duplicates(ids).map_err(|e| match e {
        Error::Invalid { message, .. } => Error::invalid("user_ids", message),
        e => e,
    })?;
    if chat.members.len() + ids.len() > MAX_GROUP_MEMBERS {
        return Err(Error::Rule(format!(
            "a group has at most {MAX_GROUP_MEMBERS} members; this one has {} and {} would be added",
            chat.members.len(),
            ids.len()
        )));
    }
    for &id in ids {
        let u = addable_in(ctx, id).map_err(|e| match e {
            Error::Invalid { message, .. } => Error::invalid("user_ids", message),
            e => e,
        })?;
        if chat.is_member(id) {
            return Err(Error::invalid(
                "user_ids",
                format!("{} is already a member", u.display_name),
            ));
        }
        check_group_quota_in(ctx, &u)?;
        put_state_in(
            ctx,
            id,
            chat_id,
            &MemberState {
                group: true,
                joined: ctx.now,
                // History before joining counts as read.
                last_read: chat.last_message_id,
                ..Default::default()
            },
        )?;
        chat.members.push(id);
    }
    save_in(ctx, &chat)?;
    emit_updated(ctx, &chat)?;
    Ok(chat)
}

fn drop_member_in(ctx: &mut WriteCtx<'_>, chat: &mut Chat, uid: UserId) -> Result<()> {
    chat.members.retain(|&m| m != uid);
    chat.admins.retain(|&m| m != uid);
    ctx.txn
        .open_table(CHAT_MEMBERS)?
        .remove(k2(uid, chat.id).as_slice())?;
    save_in(ctx, chat)?;
    ctx.emit(
        Audience::Users {
            user_ids: vec![uid],
        },
        &Event::ChatRemoved { chat_id: chat.id },
    )?;
    emit_updated(ctx, chat)
}

fn refuse_last_admin(chat: &Chat, uid: UserId) -> Result<()> {
    if chat.is_admin(uid) && chat.admins.len() == 1 && chat.members.len() > 1 {
        return Err(Error::Conflict(
            "the last admin of a group cannot be removed; hand over admin to another member first"
                .into(),
        ));
    }
    Ok(())
}

/// An admin removes a member (removing oneself is leaving).
pub fn remove_member_in(
    ctx: &mut WriteCtx<'_>,
    actor: UserId,
    chat_id: ChatId,
    uid: UserId,
) -> Result<Chat> {
    let mut chat = admin_group_in(ctx, actor, chat_id)?;
    if !chat.is_member(uid) {
        return Err(Error::invalid("user_id", "is not a member of this group"));
    }
    refuse_last_admin(&chat, uid)?;
    drop_member_in(ctx, &mut chat, uid)?;
    Ok(chat)
}

/// A member leaves a group. The last admin must hand over admin first.
pub fn leave_in(ctx: &mut WriteCtx<'_>, uid: UserId, chat_id: ChatId) -> Result<()> {
    let mut chat = get_member_in(ctx, uid, chat_id)?;
    if chat.kind != ChatKind::Group {
        return Err(Error::Rule("a 1:1 chat cannot be left".into()));
    }
    refuse_last_admin(&chat, uid)?;
    drop_member_in(ctx, &mut chat, uid)
}

pub fn rename_in(
    ctx: &mut WriteCtx<'_>,
    actor: UserId,
    chat_id: ChatId,
    name: &str,
) -> Result<Chat> {
    let mut chat = admin_group_in(ctx, actor, chat_id)?;
    let name = clean_name(name)?;
    if name.is_empty() {
        return Err(Error::invalid("name", "must not be empty"));
    }
    chat.name = name;
    save_in(ctx, &chat)?;
    emit_updated(ctx, &chat)?;
    Ok(chat)
}

/// Make `uid` an admin; with `step_down` the actor stops being one (hand over).
pub fn grant_admin_in(
    ctx: &mut WriteCtx<'_>,
    actor: UserId,
    chat_id: ChatId,
    uid: UserId,
    step_down: bool,
) -> Result<Chat> {
    let mut chat = admin_group_in(ctx, actor, chat_id)?;
    if !chat.is_member(uid) {
        return Err(Error::invalid("user_id", "is not a member of this group"));
    }
    if uid == actor {
        return Err(Error::invalid("user_id", "you are already an admin"));
    }
    if !chat.is_admin(uid) {
        chat.admins.push(uid);
    }
    if step_down {
        chat.admins.retain(|&a| a != actor);
    }
    save_in(ctx, &chat)?;
    emit_updated(ctx, &chat)?;
    Ok(chat)
}

/// Take admin rights away from `uid` (oneself included); never from the last admin.
pub fn revoke_admin_in(
    ctx: &mut WriteCtx<'_>,
    actor: UserId,
    chat_id: ChatId,
    uid: UserId,
) -> Result<Chat> {
    let mut chat = admin_group_in(ctx, actor, chat_id)?;
    if !chat.is_admin(uid) {
        return Err(Error::invalid("user_id", "is not an admin of this group"));
    }
    if chat.admins.len() == 1 {
        return Err(Error::Conflict(
            "a group needs an admin: make another member admin first".into(),
        ));
    }
    chat.admins.retain(|&a| a != uid);
    save_in(ctx, &chat)?;
    emit_updated(ctx, &chat)?;
    Ok(chat)
}
