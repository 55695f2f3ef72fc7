//! Chat messages (text, mentions, files), read state, pin/mute, and the retention purge.

use crate::domain::events::Event;
use crate::ids::AttachmentId;
use crate::ids::MessageId;
use redb::ReadableTable;
use serde::Deserialize;

use super::groups::{put_state_in, save_in, state_in};
use super::{ChatFile, ChatMessage, get_member_in};
use crate::domain::users::{self, User};
use crate::error::{Error, Result};
use crate::ids::{ChatId, UserId};
use crate::search::{self, Scope};
use crate::store::codec::{self, k1, k2};
use crate::store::tables::{CHAT_MESSAGES, CHAT_MESSAGES_BY_TIME};
use crate::store::{Audience, WriteCtx};

/// At most this many files per message.
pub const MAX_FILES: usize = 10;

/// What a member sends.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct NewChatMessage {
    #[serde(default)]
    pub text: String,
    /// Users to mention besides the `@username` words found in the text (members only).
    #[serde(default)]
    pub mentions: Vec<UserId>,
    /// Attachments uploaded before (`POST /api/v1/attachments?scope=internal`).
    #[serde(default)]
    pub attachment_ids: Vec<AttachmentId>,
}

/// Validates a message text: surrounding blank lines trimmed, `\r` dropped, at most `max_chars`,
/// no control characters other than newline and tab.
pub fn check_text(text: &str, max_chars: usize) -> Result<String> {
    let t: String = text.replace('\r', "");
    let t = t.trim_matches(|c: char| c.is_whitespace()).to_string();
    let n = t.chars().count();
    if n > max_chars {
        return Err(Error::invalid(
            "text",
            format!("is {n} characters; at most {max_chars} are allowed"),
        ));
    }
    if t.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(Error::invalid(
            "text",
            "must not contain control characters",
        ));
    }
    Ok(t)
}

/// The `@username` words of a text (lowercased, without the `@`), in order, deduplicated.
/// A mention starts at the beginning or after a space or opening bracket; a trailing `.`, `,`,
/// `:` or `!` is punctuation, not part of the name.
pub fn mention_words(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut prev: Option<char> = None;
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let starts = c == '@' && prev.is_none_or(|p| p.is_whitespace() || "([{\"'".contains(p));
        if starts {
            let mut j = i + 1;
            while j < chars.len()
                && (chars[j].is_ascii_alphanumeric() || matches!(chars[j], '.' | '_' | '-' | '@'))
            {
                j += 1;
            }
            let mut word: String = chars[i + 1..j].iter().collect();
            while word.ends_with(['.', '-', '@']) {
                word.pop();
            }
            let word = word.to_ascii_lowercase();
            if !word.is_empty() && !out.contains(&word) {
                out.push(word);
            }
            prev = chars.get(j.saturating_sub(1)).copied();
            i = j.max(i + 1);
            continue;
        }
        prev = Some(c);
        i += 1;
    }
    out
}

/// Turns attachment ids into the message's files, inside the sending write.
///
/// INTEGRATION POINT (lead, at the merge of `files`): for each id, `attachments::get_in`, check
/// `owner == Some(author.id)` and `scope == Scope::Internal` (or already `Chat{chat_id}`), size
/// ≤ 100 MB, then `attachments::set_scope_in(ctx, id, Scope::Chat { chat_id })` and return
/// `ChatFile { attachment_id, name, mime: content_type, size }`. Until then non-empty
/// `attachment_ids` are refused with a clear 422.
pub fn resolve_attachments_in(
    ctx: &mut WriteCtx<'_>,
    author: &User,
    chat_id: ChatId,
    ids: &[AttachmentId],
) -> Result<Vec<ChatFile>> {
    use crate::domain::attachments::{self, Scope, State};
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    if ids.len() > MAX_FILES {
        return Err(Error::invalid(
            "attachment_ids",
            format!("at most {MAX_FILES} files per message"),
        ));
    }
    let mut out = Vec::with_capacity(ids.len());
    for &id in ids {
        if out.iter().any(|f: &ChatFile| f.attachment_id == id) {
            return Err(Error::invalid(
                "attachment_ids",
                "the same file is listed twice",
            ));
        }
        // Internal uploads (`?scope=internal`) belong to their uploader until posted; posting
        // moves them into the chat, whose members may then see them.
        let a = attachments::get_in(ctx, id).map_err(|_| Error::NotFound("attachment"))?;
        let mine = a.owner == Some(author.id);
        let postable = match a.scope {
            Scope::Internal => mine,
            Scope::Chat { chat_id: c } => c == chat_id,
            _ => false,
        };
        if !postable {
            return Err(Error::NotFound("attachment"));
        }
        if a.state != State::Ready {
            return Err(Error::Gone(format!("file {id} has expired")));
        }
        let a = attachments::set_scope_in(ctx, id, Scope::Chat { chat_id })?;
        out.push(ChatFile {
            attachment_id: id,
            name: a.name,
            mime: a.content_type,
            size: a.size,
        });
    }
    Ok(out)
}

fn preview(text: &str, files: &[ChatFile]) -> String {
    let base = if text.is_empty() {
        files
            .first()
            .map(|f| format!("📎 {}", f.name))
            .unwrap_or_default()
    } else {
        text.to_string()
    };
    base.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(120)
        .collect()
}

/// Store and publish a message; `text` must have passed [`check_text`].
pub fn send_in(
    ctx: &mut WriteCtx<'_>,
    author: &User,
    chat_id: ChatId,
    text: &str,
    input: &NewChatMessage,
) -> Result<ChatMessage> {
    let mut chat = get_member_in(ctx, author.id, chat_id)?;
    // Mentions: explicit ids must be members; @words naming a member mention them, @words
    // naming a colleague outside the chat are refused, other @words are plain text.
    let mut mentions: Vec<UserId> = Vec::new();
    for &id in &input.mentions {
        if !chat.is_member(id) {
            return Err(Error::invalid(
                "mentions",
                format!("user {id} is not a member of this chat"),
            ));
        }
        if id != author.id && !mentions.contains(&id) {
            mentions.push(id);
        }
    }
    for word in mention_words(text) {
        let Some(id) = users::id_by_name_in(ctx, &word)? else {
            continue;
        };
        if !chat.is_member(id) {
            return Err(Error::invalid(
                "text",
                format!("@{word} is not a member of this chat; add them first"),
            ));
        }
        if id != author.id && !mentions.contains(&id) {
            mentions.push(id);
        }
    }
    let files = resolve_attachments_in(ctx, author, chat_id, &input.attachment_ids)?;
    if text.is_empty() && files.is_empty() {
        return Err(Error::invalid("text", "the message is empty"));
    }
    let id = MessageId(ctx.next_id("message")?);
    let msg = ChatMessage {
        id,
        chat_id,
        author: author.id,
        text: text.to_string(),
        mentions: mentions.clone(),
        files,
        created: ctx.now,
    };
    codec::put(
        &mut ctx.txn.open_table(CHAT_MESSAGES)?,
        &k2(chat_id, id),
        &msg,
    )?;
    ctx.txn.open_table(CHAT_MESSAGES_BY_TIME)?.insert(
        k2(ctx.now.max(0) as u64, id).as_slice(),
        k1(chat_id).as_slice(),
    )?;
    ctx.index_later(Scope::Chat(chat_id), id, &msg.index_text());
    chat.last_message_id = id;
    chat.last_activity = ctx.now;
    chat.last_author = Some(author.id);
    chat.last_preview = preview(&msg.text, &msg.files);
    save_in(ctx, &chat)?;
    // The author has read their own message; mentioned members get their marker.
    if let Some(mut st) = state_in(ctx, author.id, chat_id)? {
        st.last_read = id;
        put_state_in(ctx, author.id, chat_id, &st)?;
    }
    for &m in &mentions {
        if let Some(mut st) = state_in(ctx, m, chat_id)? {
            st.mention = id;
            put_state_in(ctx, m, chat_id, &st)?;
        }
    }
    ctx.emit(
        Audience::Users {
            user_ids: chat.members.clone(),
        },
        &Event::ChatMessage {
            chat_id,
            message: &msg,
        },
    )?;
    Ok(msg)
}

/// Mark the chat read up to `up_to` (default: its newest message). Never moves backwards.
pub fn mark_read_in(
    ctx: &mut WriteCtx<'_>,
    user_id: UserId,
    chat_id: ChatId,
    up_to: Option<MessageId>,
) -> Result<MessageId> {
    let chat = get_member_in(ctx, user_id, chat_id)?;
    let mut st = state_in(ctx, user_id, chat_id)?.ok_or(Error::NotFound("chat"))?;
    let target = up_to
        .unwrap_or(chat.last_message_id)
        .min(chat.last_message_id);
    if target <= st.last_read {
        return Ok(st.last_read);
    }
    st.last_read = target;
    put_state_in(ctx, user_id, chat_id, &st)?;
    ctx.emit(
        Audience::Users {
            user_ids: chat.members.clone(),
        },
        &Event::ChatRead {
            chat_id,
            user_id,
            last_read: target,
        },
    )?;
    Ok(target)
}

/// Pin or mute a chat for one user; every browser of that user hears about it.
pub fn set_state_in(
    ctx: &mut WriteCtx<'_>,
    user_id: UserId,
    chat_id: ChatId,
    pinned: Option<bool>,
    muted: Option<bool>,
) -> Result<super::MemberState> {
    get_member_in(ctx, user_id, chat_id)?;
    let mut st = state_in(ctx, user_id, chat_id)?.ok_or(Error::NotFound("chat"))?;
    if let Some(p) = pinned {
        st.pinned = p;
    }
    if let Some(m) = muted {
        st.muted = m;
    }
    put_state_in(ctx, user_id, chat_id, &st)?;
    ctx.emit(
        Audience::Users {
            user_ids: vec![user_id],
        },
        &Event::ChatState {
            chat_id,
            pinned: st.pinned,
            muted: st.muted,
        },
    )?;
    Ok(st)
}

/// History retention: deletes up to `batch` chat messages created before `cutoff` (ms), oldest
/// first, and removes them from the search index. Returns how many were deleted; call again
/// until it returns less than `batch`.
///
/// INTEGRATION POINT: the `history-retention` job (src/jobs/, branch `files`) calls this with
/// `cutoff = now - 365 days` in its write loop. Chats keep their `last_preview`.
pub fn purge_older_than(ctx: &mut WriteCtx<'_>, cutoff: i64, batch: usize) -> Result<usize> {
    let victims: Vec<(u64, MessageId, ChatId)> = {
        let t = ctx.txn.open_table(CHAT_MESSAGES_BY_TIME)?;
        let end = k2(cutoff.max(0) as u64, 0);
        let mut v = Vec::new();
        for item in t.range::<&[u8]>(..end.as_slice())?.take(batch) {
            let (k, val) = item?;
            v.push((
                codec::id_at(k.value(), 0)?,
                codec::id_at(k.value(), 8)?,
                codec::id_at(val.value(), 0)?,
            ));
        }
        v
    };
    let mut by_time = ctx.txn.open_table(CHAT_MESSAGES_BY_TIME)?;
    let mut msgs = ctx.txn.open_table(CHAT_MESSAGES)?;
    ctx.flush_index()?;
    let mut index = search::Indexer::new(ctx.txn)?;
    for &(at, id, chat_id) in &victims {
        by_time.remove(k2(at, id).as_slice())?;
        let old = msgs.remove(k2(chat_id, id).as_slice())?;
        if let Some(old) = old {
            let m: ChatMessage = codec::decode(old.value())?;
            index.remove(Scope::Chat(chat_id), id.get(), &m.index_text())?;
        }
    }
    Ok(victims.len())
}
