//! Every event the real-time stream carries, as one enum with a typed payload per kind.
//!
//! Domain code records an event inside its write with `ctx.emit(audience, &Event::…)`; the
//! store persists it with its kind (the SSE `event:` name, e.g. `message.created`) and its
//! payload as JSON, and publishes it after the commit. Nothing else can make an event: the
//! store's `emit` takes an [`EventBody`], which only this enum implements, so a kind cannot be
//! misspelt and a payload cannot miss a field the pages read.

use crate::ids::ChannelId;
use crate::ids::ChatId;
use crate::ids::MessageId;
use crate::ids::SessionId;
use crate::ids::UserId;
use serde::Serialize;

use super::audit::AuditEntry;
use super::chats::ChatMessage;
use super::contacts::Contact;
use super::messages::Message;
use super::sessions::Session;
use super::users::UserView;
use crate::store::EventBody;

/// The kind of both sides' typing signals in a live chat.
pub const TYPING: &str = "livechat.typing";

/// One real-time event. The JSON payload is the variant's fields (or the record it carries).
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum Event<'a> {
    /// A new customer session.
    SessionCreated(&'a Session),
    /// Any change to a session (status, assignee, tags, …).
    SessionUpdated(&'a Session),
    /// A session was given to the agent on arrival (auto-assign).
    SessionAssigned {
        session_id: SessionId,
        assignee: UserId,
        by: AssignedBy,
    },
    /// A colleague handed a session to the receiver.
    SessionTransferred {
        session_id: SessionId,
        channel_id: ChannelId,
        from_user_id: UserId,
        from: &'a str,
        to_user_id: UserId,
        note: &'a str,
    },
    /// The user muted or unmuted a session (all their browsers follow).
    SessionMuted {
        session_id: SessionId,
        muted: bool,
    },
    /// The user read a session up to `last_read`.
    SessionRead {
        session_id: SessionId,
        last_read: MessageId,
    },
    MessageCreated(&'a Message),
    /// A status, error or file change of a message.
    MessageUpdated(&'a Message),
    /// A contact's name, block status or merge changed.
    ContactUpdated(&'a Contact),
    ChannelUpdated {
        id: ChannelId,
    },
    /// Who is a member of a channel changed.
    ChannelMembers {
        id: ChannelId,
    },
    ChatUpdated {
        chat_id: ChatId,
    },
    /// The receiver left or was removed from a chat.
    ChatRemoved {
        chat_id: ChatId,
    },
    ChatMessage {
        chat_id: ChatId,
        message: &'a ChatMessage,
    },
    ChatRead {
        chat_id: ChatId,
        user_id: UserId,
        last_read: MessageId,
    },
    ChatState {
        chat_id: ChatId,
        pinned: bool,
        muted: bool,
    },
    UserUpdated(UserView),
    AuditCreated(&'a AuditEntry),
    /// A conversation missed its channel's first-response target (once; the channel's agents).
    SessionSlaBreached {
        session_id: SessionId,
        channel_id: ChannelId,
        due_at: i64,
    },
    Typing(Typing<'a>),
}

/// How a session got its assignee in [`Event::SessionAssigned`].
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AssignedBy {
    /// Auto-assign picked the agent when the customer wrote.
    Arrival,
}

/// Who is typing in a live chat.
#[derive(Debug, Serialize)]
#[serde(tag = "from", rename_all = "lowercase")]
pub enum Typing<'a> {
    Visitor {
        session_id: SessionId,
        visitor_id: u64,
    },
    Agent {
        session_id: SessionId,
        user_id: UserId,
        name: &'a str,
    },
}

impl EventBody for Event<'_> {
    fn kind(&self) -> &'static str {
        match self {
            Self::SessionCreated(_) => "session.created",
            Self::SessionUpdated(_) => "session.updated",
            Self::SessionAssigned { .. } => "session.assigned",
            Self::SessionTransferred { .. } => "session.transferred",
            Self::SessionMuted { .. } => "session.muted",
            Self::SessionRead { .. } => "session.read",
            Self::MessageCreated(_) => "message.created",
            Self::MessageUpdated(_) => "message.updated",
            Self::ContactUpdated(_) => "contact.updated",
            Self::ChannelUpdated { .. } => "channel.updated",
            Self::ChannelMembers { .. } => "channel.members",
            Self::ChatUpdated { .. } => "chat.updated",
            Self::ChatRemoved { .. } => "chat.removed",
            Self::ChatMessage { .. } => "chat.message",
            Self::ChatRead { .. } => "chat.read",
            Self::ChatState { .. } => "chat.state",
            Self::UserUpdated(_) => "user.updated",
            Self::AuditCreated(_) => "audit.created",
            Self::SessionSlaBreached { .. } => "session.sla_breached",
            Self::Typing(_) => TYPING,
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn payloads_keep_the_shape_the_pages_read() {
        let t = Event::SessionTransferred {
            session_id: SessionId(7),
            channel_id: ChannelId(2),
            from_user_id: UserId(1),
            from: "Anna",
            to_user_id: UserId(3),
            note: "VIP",
        };
        assert_eq!(t.kind(), "session.transferred");
        assert_eq!(
            serde_json::to_value(&t).unwrap(),
            json!({"session_id": 7, "channel_id": 2, "from_user_id": 1, "from": "Anna", "to_user_id": 3, "note": "VIP"})
        );
        let a = Event::SessionAssigned {
            session_id: SessionId(7),
            assignee: UserId(3),
            by: AssignedBy::Arrival,
        };
        assert_eq!(
            serde_json::to_value(&a).unwrap(),
            json!({"session_id": 7, "assignee": 3, "by": "arrival"})
        );
        let v = Event::Typing(Typing::Visitor {
            session_id: SessionId(7),
            visitor_id: 9,
        });
        assert_eq!(v.kind(), TYPING);
        assert_eq!(
            serde_json::to_value(&v).unwrap(),
            json!({"from": "visitor", "session_id": 7, "visitor_id": 9})
        );
        let g = Event::Typing(Typing::Agent {
            session_id: SessionId(7),
            user_id: UserId(1),
            name: "Anna",
        });
        assert_eq!(
            serde_json::to_value(&g).unwrap(),
            json!({"from": "agent", "session_id": 7, "user_id": 1, "name": "Anna"})
        );
    }
}
