//! Provider protocol layer: verify and parse inbound webhooks, send outbound messages.
//!
//! Everything here is pure protocol code: no database, no clock (timestamps come from the
//! payload or are passed in), and every provider base URL is a parameter so tests can point
//! a channel at a fake provider on loopback. The wire formats are documented in
//! `PROVIDERS.md`; the normalized types below are what the rest of the application sees.

use std::fmt;

use serde::{Deserialize, Serialize};
use std::time::Duration;

mod http;
mod json;
pub mod messenger;
pub mod probe;
pub mod profile;
pub mod signature;
pub mod twilio;
pub mod whatsapp;

#[cfg(test)]
mod fuzz_tests;

pub use http::{MediaDownload, http_client};

/// Upper bound on the number of items (entries, changes, messages, statuses, messaging items)
/// one webhook payload may carry. Real batches are far smaller; this only stops a hostile body
/// from making us build an unbounded event list.
pub const MAX_ITEMS_PER_PAYLOAD: usize = 100_000;

/// One normalized thing a provider told us in a webhook.
// Events live briefly in one webhook's list; boxing the common message variant would cost an
// allocation each for nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InboundEvent {
    Message(InboundMessage),
    Status(StatusUpdate),
    /// The customer's provider-side identity changed (WhatsApp `user_id_update`: a new
    /// business-scoped user id after a number change). Applied to the contact found under
    /// `previous`; for an unknown contact nothing happens.
    IdentityUpdate(IdentityUpdate),
    /// The customer edited the text of a message they sent (Messenger `message_edit`).
    /// Applied to the stored message with that provider id; for an unknown one nothing happens.
    Edit(MessageEdit),
}

/// Messenger `message_edit`: the message `message_id` from `from` now reads `text`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageEdit {
    pub from: String,
    pub message_id: String,
    pub text: String,
    /// How many times the message was edited so far (Meta's `num_edit`).
    pub num_edit: u32,
}

/// WhatsApp `user_id_update`: the contact known as `previous` is now `current`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityUpdate {
    pub previous: String,
    pub current: String,
    /// The phone number (wa_id) when Meta sent one with the update.
    pub phone: Option<String>,
}

/// What a provider says about who the customer is beyond the address in `from`
/// (WhatsApp 2026: business-scoped user id, username, phone number).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Identity {
    /// WhatsApp business-scoped user id (`US.13491208655302741918`), validated.
    pub user_id: Option<String>,
    /// WhatsApp username (shown instead of the number when the user hid it).
    pub username: Option<String>,
    /// The phone number (wa_id) when the provider sent one.
    pub phone: Option<String>,
}

/// A customer's message, normalized across providers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundMessage {
    /// The provider's message id (`wamid.…`, `SM…`/`MM…`, Messenger `mid`): the dedup key.
    pub provider_id: String,
    /// Contact address: E.164 phone (Twilio), `wa_id` (WhatsApp; the business-scoped user id
    /// when Meta withheld the number), PSID (Messenger).
    pub from: String,
    /// Business address: our number (Twilio), `phone_number_id` (WhatsApp), page id (Messenger).
    pub to: String,
    /// Human-readable form of `to` where the provider gives one
    /// (WhatsApp `metadata.display_phone_number`).
    pub to_display: Option<String>,
    /// The contact's profile name if the provider sent one.
    pub contact_name: Option<String>,
    /// When the provider says the message was sent (ms since the Unix epoch). For providers
    /// that send no timestamp (Twilio) this is the receive time passed in by the caller.
    pub timestamp_ms: i64,
    /// What to show and index: the body, the media caption, or a readable placeholder such as
    /// `[location]` or `[unsupported message (poll_creation)]`. May be empty for media-only
    /// messages without caption.
    pub text: String,
    pub media: Vec<MediaRef>,
    /// The provider id of the message this one replies to, if any.
    pub reply_to: Option<String>,
    /// WhatsApp BSUID, username and phone where sent (empty for other providers).
    pub identity: Identity,
    /// SMS: the message is an opt-out, opt-in or help keyword (Twilio `OptOutType`, or the
    /// whole body is one of Twilio's default keywords).
    pub keyword: Option<Keyword>,
    /// WhatsApp: this is a reaction to another message, not a message of its own.
    pub reaction: Option<Reaction>,
    /// WhatsApp: the id of the reply button or list row the customer chose
    /// (`interactive.button_reply.id` / `interactive.list_reply.id`).
    pub choice: Option<String>,
}

/// A customer's reaction (WhatsApp `type = "reaction"`): `emoji` on the message `message_id`;
/// no emoji means the reaction was removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reaction {
    pub message_id: String,
    pub emoji: Option<String>,
}

/// Twilio's opt-out handling keywords.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keyword {
    /// STOP and its synonyms: nothing may be sent until the customer opts in again.
    OptOut,
    /// START and its synonyms: sending is allowed again.
    OptIn,
    /// HELP / INFO: Twilio answers with the help text; nothing changes.
    Help,
}

/// A reference to an inbound file, to be downloaded (with bounded memory) by the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaRef {
    pub source: MediaSource,
    pub mime: Option<String>,
    pub filename: Option<String>,
    pub caption: Option<String>,
    /// The provider's SHA-256 of the file where given (WhatsApp; encoding as sent by Meta).
    pub sha256: Option<String>,
    pub kind: MediaKind,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum MediaSource {
    /// A WhatsApp media id: resolve with [`whatsapp::fetch_media`].
    WhatsAppMediaId(String),
    /// A URL: Twilio media (needs Basic auth, see [`twilio::fetch_media`]) or a public
    /// Messenger attachment URL (see [`messenger::fetch_attachment`]).
    Url(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MediaKind {
    Image,
    Audio,
    Video,
    Document,
    Sticker,
    File,
}

impl MediaKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MediaKind::Image => "image",
            MediaKind::Audio => "audio",
            MediaKind::Video => "video",
            MediaKind::Document => "document",
            MediaKind::Sticker => "sticker",
            MediaKind::File => "file",
        }
    }

    /// Guess the kind from a MIME type (`image/png` → image, unknown → file).
    pub fn from_mime(mime: &str) -> MediaKind {
        let top = mime.split('/').next().unwrap_or_default().trim();
        match top.to_ascii_lowercase().as_str() {
            "image" => MediaKind::Image,
            "audio" => MediaKind::Audio,
            "video" => MediaKind::Video,
            _ => MediaKind::File,
        }
    }
}

impl fmt::Display for MediaKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A delivery report for something we sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusUpdate {
    pub target: StatusTarget,
    pub status: DeliveryStatus,
    pub error: Option<ProviderError>,
    /// When the provider says the status changed (ms); receive time for Twilio.
    pub timestamp_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatusTarget {
    /// One outbound message, by the id the provider gave us when we sent it.
    ProviderId(String),
    /// Every outbound message to `contact` sent at or before `up_to_ms` (Messenger watermarks).
    Watermark { contact: String, up_to_ms: i64 },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DeliveryStatus {
    Sent,
    Delivered,
    Read,
    Failed,
}

/// An error reported by the provider (code as the provider spells it, e.g. `131047`, `30003`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderError {
    pub code: String,
    pub message: String,
}

/// Why a webhook body could not be understood, as a stable, machine-readable code
/// ([`ParseCode::as_str`] is what the webhook's error body says).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParseCode {
    BadUtf8,
    BadJson,
    WrongObject,
    MissingField,
    InvalidField,
    TooManyItems,
}

impl ParseCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ParseCode::BadUtf8 => "bad_utf8",
            ParseCode::BadJson => "bad_json",
            ParseCode::WrongObject => "wrong_object",
            ParseCode::MissingField => "missing_field",
            ParseCode::InvalidField => "invalid_field",
            ParseCode::TooManyItems => "too_many_items",
        }
    }
}

/// Compares with the wire spelling (`e.code == "bad_json"`).
impl PartialEq<&str> for ParseCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl fmt::Display for ParseCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a webhook body could not be understood: the code, and a `message` for logs that says
/// which field was wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub code: ParseCode,
    pub message: String,
}

impl ParseError {
    pub fn new(code: ParseCode, message: impl Into<String>) -> Self {
        ParseError {
            code,
            message: message.into(),
        }
    }
    pub(crate) fn missing(path: &str) -> Self {
        ParseError::new(ParseCode::MissingField, format!("missing field {path}"))
    }
    pub(crate) fn invalid(path: &str, expected: &str) -> Self {
        ParseError::new(
            ParseCode::InvalidField,
            format!("field {path} is invalid: expected {expected}"),
        )
    }
    pub(crate) fn too_many(limit: usize) -> Self {
        ParseError::new(
            ParseCode::TooManyItems,
            format!("payload carries more than {limit} items"),
        )
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for ParseError {}

/// Something to send to a contact. Which fields a provider accepts differs:
/// WhatsApp sends the template if present, else the media (text becomes its caption), else the
/// text; Twilio sends text and/or media URL; Messenger sends exactly one of text or media.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutboundMessage {
    /// Contact address (wa_id, E.164 number, PSID).
    pub to: String,
    pub text: Option<String>,
    pub media: Option<OutboundMedia>,
    pub template: Option<TemplateSend>,
    /// Messenger only: send outside the 24 h window with `MESSAGE_TAG` / `HUMAN_AGENT`.
    pub human_agent_tag: bool,
}

/// Choices sent with a message: WhatsApp sends them as an interactive message (reply buttons
/// for up to [`MAX_BUTTONS`], a list for up to [`MAX_ROWS`]); the website chat shows buttons;
/// other channels send the text alone (which then asks for the answer in words or digits).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Interactive {
    /// The label of the button that opens a list (WhatsApp, at most 20 characters).
    pub button: String,
    pub options: Vec<Choice>,
}

/// One choice: `id` comes back with the customer's answer, `title` is what they see.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Choice {
    pub id: String,
    pub title: String,
}

/// WhatsApp reply buttons per message.
pub const MAX_BUTTONS: usize = 3;
/// WhatsApp list rows per message.
pub const MAX_ROWS: usize = 10;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundMedia {
    /// A WhatsApp media id from [`whatsapp::upload_media`], or a publicly fetchable URL
    /// (Twilio, Messenger; WhatsApp sends it as `link`).
    pub source: MediaSource,
    pub kind: MediaKind,
    pub caption: Option<String>,
    pub filename: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateSend {
    pub name: String,
    /// Language code, e.g. `en_US`.
    pub language: String,
    /// Body parameters `{{1}}`, `{{2}}`, … in order.
    pub params: Vec<String>,
}

/// The provider accepted the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendOk {
    /// The id status updates will refer to (`wamid.…`, `SM…`, Messenger `message_id`).
    pub provider_id: String,
}

/// Why a send did not (certainly) succeed, classified for the retry logic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendError {
    /// Nothing was accepted; retrying later is safe (connect failure, 5xx, 429, rate limit).
    Transient {
        reason: String,
        retry_after: Option<Duration>,
    },
    /// The provider refused; retrying the same request will fail again.
    Permanent { code: String, message: String },
    /// The request may have reached the provider (connection dropped or timed out after the
    /// request was written, or a 2xx we could not read): do NOT retry blindly.
    Ambiguous { reason: String },
}

impl SendError {
    pub(crate) fn permanent(code: impl Into<String>, message: impl Into<String>) -> Self {
        SendError::Permanent {
            code: code.into(),
            message: message.into(),
        }
    }
    pub(crate) fn transient(reason: impl Into<String>) -> Self {
        SendError::Transient {
            reason: reason.into(),
            retry_after: None,
        }
    }
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SendError::Transient {
                reason,
                retry_after,
            } => match retry_after {
                Some(d) => write!(f, "temporary failure ({reason}); retry after {d:?}"),
                None => write!(f, "temporary failure ({reason})"),
            },
            SendError::Permanent { code, message } => {
                write!(f, "provider refused ({code}): {message}")
            }
            SendError::Ambiguous { reason } => {
                write!(
                    f,
                    "outcome unknown ({reason}); the message may have been sent"
                )
            }
        }
    }
}

impl std::error::Error for SendError {}

/// Why fetching an inbound file failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaError {
    /// The file is (or turned out while streaming to be) larger than the allowed maximum.
    TooLarge { limit: u64 },
    /// Worth retrying later (network, 5xx, 429).
    Transient { reason: String },
    /// Will not work on retry (404, auth, bad URL, media id expired).
    Permanent { code: String, message: String },
}

impl fmt::Display for MediaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MediaError::TooLarge { limit } => write!(f, "file larger than {limit} bytes"),
            MediaError::Transient { reason } => write!(f, "temporary failure: {reason}"),
            MediaError::Permanent { code, message } => write!(f, "failed ({code}): {message}"),
        }
    }
}

impl std::error::Error for MediaError {}
