//! Live-chat visitors: the people who write in through the website widget.
//!
//! A visitor is created by the widget (`POST /livechat/{channel}/visitors`) and identified from
//! then on by a random bearer token (`lcv_…`, 192 bits) that only its browser knows; the store
//! keeps `sha256(token)`. Each visitor is one contact on the channel (address `visitor-{id}`),
//! so their messages go through the ordinary intake (`messages::ingest_in`): sessions, events,
//! the inbox and search treat live chat like any other channel.
//!
//! What a visitor may see is computed here too ([`view`]): their own messages and the agents'
//! replies — never internal notes, never another visitor's sessions.

use crate::domain::events::{Event, Typing};
use crate::domain::sessions::TimelineKind;
use crate::ids::ChannelId;
use crate::ids::ContactId;
use crate::ids::MessageId;
use crate::ids::SessionId;
use crate::ids::UserId;
use redb::ReadTransaction;
use serde::{Deserialize, Serialize};

use super::channels::Channel;
use super::contacts::{self, Contact};
use super::messages::{self, Direction, Ingested, Message, MessageFile, NewInbound, Status};
use super::sessions::{self, SessionStatus};
use crate::error::{Error, Result};
use crate::store::codec;
use crate::store::tables::LIVECHAT_VISITORS;
use crate::store::{Audience, WriteCtx};

mod actions;
mod view;

pub use actions::*;
pub use view::{History, VisitorFile, VisitorMessage, agent_name, history, view};

/// Longest visitor message (characters).
pub const MAX_TEXT: usize = 4000;
/// Longest visitor name (characters).
pub const MAX_NAME: usize = 100;
/// Messages a returning visitor is shown.
pub const HISTORY: usize = 50;
/// Contact address of a visitor: `visitor-{id}`.
pub const ADDRESS_PREFIX: &str = "visitor-";
/// Prefix of a visitor's bearer token.
pub const TOKEN_PREFIX: &str = "lcv_";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Visitor {
    pub id: u64,
    pub channel_id: ChannelId,
    pub contact_id: ContactId,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub email: String,
    pub created: i64,
}

impl Visitor {
    pub fn address(&self) -> String {
        address(self.id)
    }
    /// The idempotency key of a client-generated message id (dedupes retries of one visitor).
    pub fn provider_id(&self, client_id: &str) -> String {
        format!("lc:{}:{client_id}", self.id)
    }
}

pub fn address(visitor_id: u64) -> String {
    format!("{ADDRESS_PREFIX}{visitor_id}")
}

/// The visitor id behind a live-chat contact.
pub fn visitor_id_of(c: &Contact) -> Option<u64> {
    c.address.strip_prefix(ADDRESS_PREFIX)?.parse().ok()
}

/// A visitor's name: control characters removed, trimmed, at most 100 characters.
pub fn clean_name(raw: Option<&str>, required: bool) -> Result<String> {
    let name: String = raw
        .unwrap_or("")
        .chars()
        .filter(|c| !c.is_control())
        .collect::<String>()
        .trim()
        .to_string();
    if name.chars().count() > MAX_NAME {
        return Err(Error::invalid("name", "must be at most 100 characters"));
    }
    if required && name.is_empty() {
        return Err(Error::invalid("name", "is required"));
    }
    Ok(name)
}

/// A plausible e-mail address (`local@domain.tld`, no spaces, ≤ 254 characters), lowercased domain.
pub fn clean_email(raw: Option<&str>, required: bool) -> Result<String> {
    let e = raw.unwrap_or("").trim();
    if e.is_empty() {
        return if required {
            Err(Error::invalid("email", "is required"))
        } else {
            Ok(String::new())
        };
    }
    let bad = || Error::invalid("email", "is not an e-mail address like name@example.com");
    if e.len() > 254 || e.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad());
    }
    let (local, domain) = e.rsplit_once('@').ok_or_else(bad)?;
    let labels: Vec<&str> = domain.split('.').collect();
    if local.is_empty()
        || local.len() > 64
        || local.contains('@')
        || labels.len() < 2
        || labels
            .iter()
            .any(|l| l.is_empty() || !l.chars().all(|c| c.is_alphanumeric() || c == '-'))
        || e.contains(['<', '>', '"', ',', ';'])
    {
        return Err(bad());
    }
    Ok(format!("{local}@{}", domain.to_lowercase()))
}

/// A visitor's message text: not empty, at most [`MAX_TEXT`] characters.
pub fn clean_text(raw: &str) -> Result<String> {
    let t = raw.trim();
    if t.is_empty() {
        return Err(Error::invalid("text", "the message is empty"));
    }
    let n = t.chars().count();
    if n > MAX_TEXT {
        return Err(Error::invalid(
            "text",
            format!("is {n} characters; at most {MAX_TEXT} are allowed"),
        ));
    }
    Ok(t.to_string())
}

/// The widget's own id of a message (1–64 of `A-Z a-z 0-9 - _`), used to dedupe retries.
pub fn clean_client_id(raw: Option<&str>) -> Result<Option<String>> {
    match raw.map(str::trim) {
        None | Some("") => Ok(None),
        Some(c)
            if c.len() <= 64
                && c.chars()
                    .all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_') =>
        {
            Ok(Some(c.to_string()))
        }
        Some(_) => Err(Error::invalid(
            "client_id",
            "must be 1 to 64 letters, digits, - or _",
        )),
    }
}

/// The visitor holding `token_hash` (sha256 of the bearer token), if any.
pub fn lookup(rtx: &ReadTransaction, token_hash: &[u8; 32]) -> Result<Option<Visitor>> {
    codec::get(&rtx.open_table(LIVECHAT_VISITORS)?, token_hash)
}

/// A new visitor with its contact (name and e-mail already validated).
pub fn create_in(
    ctx: &mut WriteCtx<'_>,
    ch: &Channel,
    token_hash: &[u8; 32],
    name: &str,
    email: &str,
) -> Result<Visitor> {
    let id = ctx.next_id("visitor")?;
    let profile = (!name.is_empty()).then_some(name);
    let (mut contact, _) = contacts::upsert_in(ctx, ch.id, &address(id), profile)?;
    if !email.is_empty() {
        contact.email = email.to_string();
        contacts::put_in(ctx, &contact)?;
    }
    let v = Visitor {
        id,
        channel_id: ch.id,
        contact_id: contact.id,
        name: name.to_string(),
        email: email.to_string(),
        created: ctx.now,
    };
    codec::put(&mut ctx.txn.open_table(LIVECHAT_VISITORS)?, token_hash, &v)?;
    Ok(v)
}

/// Update the name / e-mail a visitor gave later (the offline form).
pub fn update_contact_in(
    ctx: &mut WriteCtx<'_>,
    token_hash: &[u8; 32],
    v: &Visitor,
    name: &str,
    email: &str,
) -> Result<Visitor> {
    let mut contact = contacts::get_in(ctx, v.contact_id)?;
    let mut nv = v.clone();
    if !name.is_empty() && !contact.name_edited {
        contact.name = name.to_string();
        nv.name = name.to_string();
    }
    if !email.is_empty() {
        contact.email = email.to_string();
        nv.email = email.to_string();
    }
    contacts::put_in(ctx, &contact)?;
    codec::put(&mut ctx.txn.open_table(LIVECHAT_VISITORS)?, token_hash, &nv)?;
    Ok(nv)
}

/// One visitor message through the ordinary intake. A retried `client_id` is stored once.
pub fn send_in(
    ctx: &mut WriteCtx<'_>,
    ch: &Channel,
    v: &Visitor,
    text: &str,
    client_id: Option<&str>,
    files: Vec<MessageFile>,
    policy: &super::presence::AssignPolicy,
) -> Result<Message> {
    let inbound = NewInbound {
        provider_id: client_id.map(|c| v.provider_id(c)),
        from: v.address(),
        contact_name: None,
        text: text.to_string(),
        files,
        at: None,
    };
    // A visitor's message is the website channel's inbound traffic (its health line).
    crate::domain::channels::health::inbound_in(ctx, ch.id)?;
    let id = match messages::ingest_with_in(ctx, ch, &inbound, policy)? {
        Ingested::Stored { message_id, .. } | Ingested::Duplicate { message_id } => message_id,
        Ingested::Blocked => {
            return Err(Error::Rule(
                "this conversation does not accept messages".into(),
            ));
        }
    };
    messages::get_in(ctx, id)
}

/// The offline form: the message lands in the inbox like any other, marked in the timeline.
pub fn offline_in(
    ctx: &mut WriteCtx<'_>,
    ch: &Channel,
    v: &Visitor,
    text: &str,
) -> Result<Message> {
    // Offline means nobody is online: the session waits in the queue.
    let m = send_in(
        ctx,
        ch,
        v,
        text,
        None,
        Vec::new(),
        &super::presence::AssignPolicy::unknown(),
    )?;
    let detail = if v.email.is_empty() {
        "left while no agent was online".to_string()
    } else {
        format!("left while no agent was online; reply to {}", v.email)
    };
    sessions::timeline_in(
        ctx,
        m.session_id,
        None,
        TimelineKind::OfflineMessage,
        &detail,
    )?;
    Ok(m)
}

/// The visitor's open session, if any.
pub fn open_session_in(ctx: &WriteCtx<'_>, v: &Visitor) -> Result<Option<SessionId>> {
    sessions::open_of_contact_in(ctx, v.contact_id)
}

/// The visitor read the agents' replies up to `up_to` (a message id): they move to `read`,
/// which agents see as a status change like any provider's read receipt.
pub fn mark_read_in(ctx: &mut WriteCtx<'_>, v: &Visitor, up_to: MessageId) -> Result<usize> {
    let Some(sid) = open_session_in(ctx, v)? else {
        return Ok(0);
    };
    let s = sessions::get_in(ctx, sid)?;
    if s.status != SessionStatus::Open || s.contact_id != v.contact_id {
        return Ok(0);
    }
    let pending: Vec<Message> = messages::newest_in(ctx, sid, up_to, 200)?
        .into_iter()
        .filter(|m| m.direction == Direction::Out && m.status == Status::Sent)
        .collect();
    let mut n = 0;
    for mut m in pending {
        if messages::receipts::set_status_in(ctx, &mut m, Status::Read, None)? {
            n += 1;
        }
    }
    Ok(n)
}

/// A typing signal from the visitor, for the channel's agents.
pub fn typing_in(ctx: &mut WriteCtx<'_>, v: &Visitor) -> Result<()> {
    let Some(sid) = open_session_in(ctx, v)? else {
        return Ok(());
    };
    ctx.emit(
        Audience::Visitor {
            channel_id: v.channel_id,
            visitor_id: v.id,
        },
        &Event::Typing(Typing::Visitor {
            session_id: sid,
            visitor_id: v.id,
        }),
    )
}

/// A typing signal from an agent, for the visitor of a live-chat session.
pub fn agent_typing_in(
    ctx: &mut WriteCtx<'_>,
    channel_id: ChannelId,
    visitor_id: u64,
    session_id: SessionId,
    user_id: UserId,
    name: &str,
) -> Result<()> {
    ctx.emit(
        Audience::Visitor {
            channel_id,
            visitor_id,
        },
        &Event::Typing(Typing::Agent {
            session_id,
            user_id,
            name,
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_emails_texts_and_client_ids_are_validated() {
        assert_eq!(clean_name(Some("  Ann\u{0}  "), true).unwrap(), "Ann");
        assert!(clean_name(Some(" "), true).is_err());
        assert!(clean_name(None, false).unwrap().is_empty());
        assert!(clean_name(Some(&"x".repeat(101)), false).is_err());
        assert_eq!(
            clean_email(Some("Ann@Example.COM"), true).unwrap(),
            "Ann@example.com"
        );
        for bad in [
            "ann", "ann@", "@x.de", "a b@x.de", "a@x", "a@x..de", "<a>@x.de",
        ] {
            assert!(clean_email(Some(bad), false).is_err(), "{bad}");
        }
        assert!(clean_email(None, true).is_err());
        assert!(clean_text("  ").is_err());
        assert!(clean_text(&"é".repeat(MAX_TEXT)).is_ok());
        assert!(clean_text(&"é".repeat(MAX_TEXT + 1)).is_err());
        assert_eq!(
            clean_client_id(Some("c-1_x")).unwrap().as_deref(),
            Some("c-1_x")
        );
        assert!(clean_client_id(Some("a b")).is_err());
        assert!(clean_client_id(Some(&"a".repeat(65))).is_err());
    }

    #[test]
    fn notes_and_foreign_client_ids_stay_hidden() {
        let v = Visitor {
            id: 7,
            channel_id: ChannelId(1),
            contact_id: ContactId(3),
            name: String::new(),
            email: String::new(),
            created: 0,
        };
        let mut m = Message {
            id: MessageId(1),
            session_id: SessionId(2),
            channel_id: ChannelId(1),
            direction: Direction::Note,
            author: Some(UserId(1)),
            text: "internal".into(),
            files: vec![],
            template: None,
            provider_id: None,
            status: Status::Received,
            error: None,
            created: 0,
            provider_at: None,
            human_agent_tag: false,
            retry: None,
            quote: None,
            reaction: None,
            edited: None,
            interactive: None,
        };
        let no_url = |_: &MessageFile| None;
        assert!(view(&v, &m, None, &no_url).is_none());
        m.direction = Direction::In;
        m.provider_id = Some("lc:7:abc".into());
        assert_eq!(
            view(&v, &m, None, &no_url).unwrap().client_id.as_deref(),
            Some("abc")
        );
        m.provider_id = Some("lc:77:abc".into());
        assert_eq!(view(&v, &m, None, &no_url).unwrap().client_id, None);
        m.channel_id = ChannelId(2);
        assert!(view(&v, &m, None, &no_url).is_none());
        assert_eq!(
            visitor_id_of(&Contact {
                id: ContactId(1),
                channel_id: ChannelId(1),
                address: "visitor-42".into(),
                name: String::new(),
                name_edited: false,
                email: String::new(),
                created: 0,
                blocked: None,
                merged_into: None,
                user_id: None,
                username: None,
                phone: None,
                opted_out: None,
                picture: None,
                language: None,
            }),
            Some(42)
        );
    }
}
