//! What a visitor sees: their messages and the agents' replies (never notes), agents by first
//! name, files through the links the caller makes.

use crate::ids::MessageId;
use crate::ids::SessionId;
use crate::ids::UserId;
use redb::ReadTransaction;
use serde::{Deserialize, Serialize};

use super::{HISTORY, Visitor};
use crate::domain::messages::{self, Direction, Message, MessageFile, Status};
use crate::domain::sessions::{self, SessionStatus};
use crate::error::{Error, Result};

/// A file as the visitor sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VisitorFile {
    pub name: String,
    pub mime: String,
    pub size: u64,
    /// Where the widget may load it from (None until the attachment store provides links).
    pub url: Option<String>,
}

/// A message as the visitor sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VisitorMessage {
    pub id: MessageId,
    pub session_id: SessionId,
    /// `visitor` or `agent`.
    pub from: String,
    pub text: String,
    pub files: Vec<VisitorFile>,
    /// `received` (the visitor's own), `sent` or `read` (the agents' replies).
    pub status: Status,
    pub created: i64,
    /// The widget's id for the visitor's own messages.
    pub client_id: Option<String>,
    /// The replying agent's display name.
    pub agent: Option<String>,
    /// The satisfaction survey: the widget shows buttons 1–5 (`POST survey`).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub survey: bool,
}

/// What the visitor may see of `m`: None for internal notes and other visitors' messages.
pub fn view(
    v: &Visitor,
    m: &Message,
    agent: Option<String>,
    file_url: &dyn Fn(&MessageFile) -> Option<String>,
) -> Option<VisitorMessage> {
    if m.channel_id != v.channel_id {
        return None;
    }
    let from = match m.direction {
        Direction::In => "visitor",
        Direction::Out => "agent",
        Direction::Note => return None,
    };
    let prefix = format!("lc:{}:", v.id);
    Some(VisitorMessage {
        id: m.id,
        session_id: m.session_id,
        from: from.into(),
        text: m.text.clone(),
        files: m
            .files
            .iter()
            .map(|f| VisitorFile {
                name: f.name.clone(),
                mime: f.mime.clone(),
                size: f.size,
                url: file_url(f),
            })
            .collect(),
        status: m.status,
        created: m.created,
        client_id: m
            .provider_id
            .as_deref()
            .and_then(|p| p.strip_prefix(&prefix))
            .map(str::to_string),
        agent: if m.direction == Direction::Out {
            agent
        } else {
            None
        },
        survey: m.direction == Direction::Out && m.interactive.is_some(),
    })
}

/// What a returning visitor is shown.
#[derive(Debug, Clone, Serialize)]
pub struct History {
    pub visitor_id: u64,
    pub name: String,
    /// The newest session: its id and status (`open` / `closed`).
    pub session_id: Option<SessionId>,
    pub session_status: Option<SessionStatus>,
    /// Oldest first, at most [`HISTORY`], across the visitor's recent sessions.
    pub messages: Vec<VisitorMessage>,
    /// Resume the event stream after this sequence number (consistent with `messages`).
    pub last_event_id: u64,
}

/// The visitor's recent conversation, from one read snapshot; with `only`, just that one of
/// the visitor's sessions (another visitor's session is "not found").
pub fn history(
    rtx: &ReadTransaction,
    v: &Visitor,
    only: Option<SessionId>,
    file_url: &dyn Fn(&MessageFile) -> Option<String>,
) -> Result<History> {
    let mut sessions = sessions::for_contact(rtx, v.contact_id)?;
    if let Some(id) = only {
        sessions.retain(|s| s.id == id);
        if sessions.is_empty() {
            return Err(Error::NotFound("session"));
        }
    }
    let mut msgs: Vec<VisitorMessage> = Vec::new();
    let mut names = std::collections::HashMap::new();
    for s in &sessions {
        if s.channel_id != v.channel_id {
            continue;
        }
        let page = messages::page(rtx, s.id, None, HISTORY * 2)?;
        for m in page.iter().rev() {
            if msgs.len() >= HISTORY {
                break;
            }
            let agent = agent_name(rtx, &mut names, m.author)?;
            if let Some(vm) = view(v, m, agent, file_url) {
                msgs.push(vm);
            }
        }
        if msgs.len() >= HISTORY {
            break;
        }
    }
    msgs.reverse();
    let newest = sessions.first();
    Ok(History {
        visitor_id: v.id,
        name: v.name.clone(),
        session_id: newest.map(|s| s.id),
        session_status: newest.map(|s| s.status),
        messages: msgs,
        last_event_id: crate::store::events::last_seq(rtx)?,
    })
}

/// The display name of an agent (cached in `names`).
pub fn agent_name(
    rtx: &ReadTransaction,
    names: &mut std::collections::HashMap<UserId, String>,
    author: Option<UserId>,
) -> Result<Option<String>> {
    let Some(uid) = author else { return Ok(None) };
    if let Some(n) = names.get(&uid) {
        return Ok(Some(n.clone()));
    }
    let name = crate::domain::users::get(rtx, uid)?
        .map(|u| first_name(&u.display_name, &u.username))
        .unwrap_or_default();
    names.insert(uid, name.clone());
    Ok(Some(name))
}

/// Visitors see an agent's first name only.
fn first_name(display: &str, username: &str) -> String {
    display
        .split_whitespace()
        .next()
        .unwrap_or(username)
        .chars()
        .take(40)
        .collect()
}
