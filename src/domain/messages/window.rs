//! The reply windows the server enforces (not only the UI): WhatsApp 24 h then templates only,
//! Messenger and Instagram 24 h then 7 days with the HUMAN_AGENT tag, SMS and live chat always open.

use serde::{Deserialize, Serialize};

use crate::clock::DAY_MS;
use crate::domain::channels::ChannelKind;
use crate::domain::sessions::{Session, SessionStatus};

/// What the composer may send now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Window {
    /// Free text and files.
    Open,
    /// Messenger 24 h – 7 d: free text goes out with the HUMAN_AGENT tag.
    HumanAgent,
    /// WhatsApp after 24 h (or before the customer wrote): approved templates only.
    TemplateOnly,
    /// Nothing can be sent (Messenger after 7 days, closed session, live chat visitor gone…).
    Closed,
}

pub fn reply_window(kind: ChannelKind, s: &Session, now: i64) -> Window {
    if s.status == SessionStatus::Closed {
        return Window::Closed;
    }
    provider_window(kind, s.last_inbound, now)
}

/// The provider's rule alone, from the customer's last message (Switchboard's own message to a
/// conversation that just ended, such as the survey's re-ask, is not refused for the ending).
pub fn provider_window(kind: ChannelKind, last_inbound: Option<i64>, now: i64) -> Window {
    let since = last_inbound.map(|t| now - t);
    match kind {
        ChannelKind::Sms | ChannelKind::Livechat => Window::Open,
        ChannelKind::Whatsapp => match since {
            Some(d) if d < DAY_MS => Window::Open,
            _ => Window::TemplateOnly,
        },
        ChannelKind::Messenger | ChannelKind::Instagram => match since {
            Some(d) if d < DAY_MS => Window::Open,
            Some(d) if d < 7 * DAY_MS => Window::HumanAgent,
            _ => Window::Closed,
        },
    }
}

/// Why nothing can be sent to an SMS customer who replied STOP (one fixed sentence, translated
/// in `err.msg.`).
pub const OPTED_OUT: &str = "The customer replied STOP and opted out of SMS from this number; nothing can be sent until they reply START.";

/// The window for this session given its contact: an SMS contact who opted out is closed.
pub fn for_contact(
    kind: ChannelKind,
    s: &Session,
    now: i64,
    contact: Option<&crate::domain::contacts::Contact>,
) -> (Window, &'static str) {
    if kind == ChannelKind::Sms
        && s.status != SessionStatus::Closed
        && contact.is_some_and(|c| c.opted_out.is_some())
    {
        return (Window::Closed, OPTED_OUT);
    }
    let w = reply_window(kind, s, now);
    (w, window_message(w, kind))
}

pub fn window_message(w: Window, kind: ChannelKind) -> &'static str {
    match (w, kind) {
        (Window::TemplateOnly, _) => {
            "The 24-hour WhatsApp window is closed: the customer has not written in the last 24 hours. Send an approved template message instead."
        }
        (Window::Closed, ChannelKind::Messenger) => {
            "Messenger allows replies only within 7 days of the customer's last message; wait for the customer to write again."
        }
        (Window::Closed, ChannelKind::Instagram) => {
            "Instagram allows replies only within 7 days of the customer's last message; wait for the customer to write again."
        }
        (Window::Closed, _) => "This conversation is closed; it cannot receive replies.",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::HOUR_MS;
    use crate::domain::sessions::SessionStatus;
    use crate::ids::ChannelId;
    use crate::ids::ContactId;
    use crate::ids::MessageId;
    use crate::ids::SessionId;

    fn session(kind: ChannelKind, last_inbound: Option<i64>) -> Session {
        Session {
            id: SessionId(1),
            channel_id: ChannelId(1),
            channel_kind: kind,
            contact_id: ContactId(1),
            status: SessionStatus::Open,
            assignee: None,
            created: 0,
            last_activity: 0,
            last_inbound,
            last_preview: String::new(),
            last_message_id: MessageId(0),
            archived: false,
            closed_at: None,
            result: None,
            close_note: String::new(),
            tags: vec![],
            first_response_at: None,
            message_count: 0,
            snoozed_until: None,
            sla: None,
            rating: None,
        }
    }

    #[test]
    fn reply_windows_follow_the_channel_rules() {
        let now = 100 * DAY_MS;
        let wa = |h: i64| {
            reply_window(
                ChannelKind::Whatsapp,
                &session(ChannelKind::Whatsapp, Some(now - h * HOUR_MS)),
                now,
            )
        };
        assert_eq!(wa(23), Window::Open);
        assert_eq!(wa(25), Window::TemplateOnly);
        assert_eq!(
            reply_window(
                ChannelKind::Whatsapp,
                &session(ChannelKind::Whatsapp, None),
                now
            ),
            Window::TemplateOnly
        );
        let fb = |h: i64| {
            reply_window(
                ChannelKind::Messenger,
                &session(ChannelKind::Messenger, Some(now - h * HOUR_MS)),
                now,
            )
        };
        assert_eq!(fb(1), Window::Open);
        assert_eq!(fb(48), Window::HumanAgent);
        assert_eq!(fb(24 * 8), Window::Closed);
        assert_eq!(
            reply_window(ChannelKind::Sms, &session(ChannelKind::Sms, None), now),
            Window::Open
        );
    }
}
