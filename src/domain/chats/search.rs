//! Message search for one user over their internal chats (member) and the customer sessions of
//! the channels they see (admins: all). Scopes are computed from the caller's current access,
//! so a chat the caller is not in is never searched and its hits never leave the server.

use crate::ids::MessageId;
use crate::ids::SessionId;
use serde::Serialize;

use super::{get, memberships, message};
use crate::domain::access::{self, Visible};
use crate::domain::messages::{self, Direction};
use crate::domain::users::{self, User};
use crate::domain::{channels, contacts, sessions};
use crate::error::Result;
use crate::ids::{ChatId, UserId};
use crate::search::{self, Scope};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum HitKind {
    /// An internal chat message.
    Chat,
    /// A message or note of a customer session.
    Session,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SearchResult {
    pub kind: HitKind,
    pub message_id: MessageId,
    pub chat_id: Option<ChatId>,
    pub session_id: Option<SessionId>,
    /// The chat's name, or the customer's name / number for a session.
    pub title: String,
    pub author_id: Option<UserId>,
    /// Colleague's name, or the customer's for an inbound message.
    pub author_name: String,
    pub at: i64,
    /// Up to ~160 characters of the text around the first match.
    pub snippet: String,
    /// Where the UI jumps to (the message is `#m<id>` on that page).
    pub link: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SearchPage {
    pub results: Vec<SearchResult>,
    /// Pass as `before` for the next (older) page; None when this was the last.
    pub next_before: Option<u64>,
}

/// Every scope `user` may search.
pub fn scopes_for(rtx: &redb::ReadTransaction, user: &User) -> Result<Vec<Scope>> {
    let mut scopes: Vec<Scope> = memberships(rtx, user.id)?
        .into_iter()
        .map(|(id, _)| Scope::Chat(id))
        .collect();
    match access::visible_channels(rtx, user)? {
        Visible::All => scopes.extend(channels::list(rtx)?.iter().map(|c| Scope::Channel(c.id))),
        Visible::Channels(set) => scopes.extend(set.into_iter().map(Scope::Channel)),
    }
    Ok(scopes)
}

/// ~160 characters around the first query word found in `text` (case-insensitive), else its start.
pub fn snippet(text: &str, query: &str) -> String {
    let flat: Vec<char> = text
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .collect();
    let lower: Vec<char> = flat.iter().flat_map(|c| c.to_lowercase()).collect();
    // Lowercasing may change lengths for a few characters; fall back to the start then.
    let aligned = lower.len() == flat.len();
    let mut at = 0;
    if aligned {
        for w in search::tokenize(query) {
            let w: Vec<char> = w.chars().collect();
            if let Some(p) = lower
                .windows(w.len().max(1))
                .position(|win| win == w.as_slice())
            {
                at = p;
                break;
            }
        }
    }
    let start = at.saturating_sub(60);
    let end = (start + 160).min(flat.len());
    let mut s: String = flat[start..end].iter().collect();
    if start > 0 {
        s.insert(0, '…');
    }
    if end < flat.len() {
        s.push('…');
    }
    s
}

/// Search `query` for `user`, newest first, `limit` results older than message id `before`.
pub fn search_messages(
    rtx: &redb::ReadTransaction,
    user: &User,
    query: &str,
    before: Option<MessageId>,
    limit: usize,
) -> Result<SearchPage> {
    let scopes = scopes_for(rtx, user)?;
    let hits = search::search(rtx, &scopes, query, limit, before.map(MessageId::get))?;
    let full = hits.len() >= limit;
    let mut results = Vec::with_capacity(hits.len());
    for h in &hits {
        match h.scope {
            Scope::Chat(chat_id) => {
                let (Some(chat), Some(m)) = (
                    get(rtx, chat_id)?,
                    message(rtx, chat_id, MessageId(h.msg_id))?,
                ) else {
                    continue;
                };
                if !chat.is_member(user.id) {
                    continue;
                }
                let title = match chat.kind {
                    super::ChatKind::Group => chat.name.clone(),
                    super::ChatKind::Direct => {
                        let other = chat.members.iter().find(|&&m| m != user.id).copied();
                        match other {
                            Some(o) => users::get(rtx, o)?
                                .map(|u| u.display_name)
                                .unwrap_or_default(),
                            None => String::new(),
                        }
                    }
                };
                results.push(SearchResult {
                    kind: HitKind::Chat,
                    message_id: m.id,
                    chat_id: Some(chat_id),
                    session_id: None,
                    title,
                    author_id: Some(m.author),
                    author_name: users::get(rtx, m.author)?
                        .map(|u| u.display_name)
                        .unwrap_or_default(),
                    at: m.created,
                    snippet: snippet(&m.index_text(), query),
                    link: format!("/chat/internal/{chat_id}#m{}", m.id),
                });
            }
            Scope::Channel(_) => {
                let Some(m) = messages::get(rtx, MessageId(h.msg_id))? else {
                    continue;
                };
                let contact = sessions::get(rtx, m.session_id)?
                    .map(|s| contacts::get(rtx, s.contact_id))
                    .transpose()?
                    .flatten();
                let title = contact
                    .as_ref()
                    .map(|c| c.label().to_string())
                    .unwrap_or_default();
                let author_name = match (m.direction, m.author) {
                    (Direction::In, _) => title.clone(),
                    (_, Some(a)) => users::get(rtx, a)?
                        .map(|u| u.display_name)
                        .unwrap_or_default(),
                    _ => String::new(),
                };
                results.push(SearchResult {
                    kind: HitKind::Session,
                    message_id: m.id,
                    chat_id: None,
                    session_id: Some(m.session_id),
                    title,
                    author_id: m.author,
                    author_name,
                    at: m.created,
                    snippet: snippet(&m.text, query),
                    link: format!("/chat/external/{}#m{}", m.session_id, m.id),
                });
            }
        }
    }
    Ok(SearchPage {
        next_before: if full {
            hits.last().map(|h| h.msg_id)
        } else {
            None
        },
        results,
    })
}
