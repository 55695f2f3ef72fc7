//! Every table of the database. All tables map byte keys to byte values: keys are built from
//! big-endian integers and raw bytes so their order is meaningful (`store::codec`), values are
//! version-tagged serde records. One key/value type everywhere lets backup and check walk every
//! table without knowing what is in it.

use redb::TableDefinition;

pub type Def = TableDefinition<'static, &'static [u8], &'static [u8]>;

/// `schema_version` and other single values.
pub const META: Def = TableDefinition::new("meta");
/// Named id counters: counter name -> last id (u64 BE).
pub const COUNTERS: Def = TableDefinition::new("counters");

/// user id -> `User`.
pub const USERS: Def = TableDefinition::new("users");
/// lowercase username -> user id.
pub const USERS_BY_NAME: Def = TableDefinition::new("users_by_name");
/// sha256(login token) -> `LoginSession`.
pub const LOGIN_SESSIONS: Def = TableDefinition::new("login_sessions");
/// user id ++ sha256(token) -> () : to end every session of a user.
pub const LOGIN_SESSIONS_BY_USER: Def = TableDefinition::new("login_sessions_by_user");
/// sha256(api token) -> `ApiToken`.
pub const API_TOKENS: Def = TableDefinition::new("api_tokens");
/// (user id, token id) -> sha256(api token): a user's tokens, for listing and revoking.
pub const API_TOKENS_BY_USER: Def = TableDefinition::new("api_tokens_by_user");

/// seq -> `Event` (the persisted real-time log that SSE clients resume from).
pub const EVENTS: Def = TableDefinition::new("events");
/// seq -> `AuditEntry` (append-only).
pub const AUDIT: Def = TableDefinition::new("audit");

/// channel id -> `Channel`.
pub const CHANNELS: Def = TableDefinition::new("channels");
/// channel id ++ user id -> () : the agents who receive a channel's sessions.
pub const CHANNEL_MEMBERS: Def = TableDefinition::new("channel_members");
/// user id ++ channel id -> () : the same, looked up by user.
pub const MEMBER_CHANNELS: Def = TableDefinition::new("member_channels");

/// contact id -> `Contact`.
pub const CONTACTS: Def = TableDefinition::new("contacts");
/// channel id ++ address bytes -> contact id.
pub const CONTACTS_BY_ADDR: Def = TableDefinition::new("contacts_by_addr");
/// session id -> `Session`.
pub const SESSIONS: Def = TableDefinition::new("sessions");
/// last activity ms ++ session id -> channel id ++ assignee (0 = none) ++ flags byte: the inbox order.
pub const SESSIONS_BY_ACTIVITY: Def = TableDefinition::new("sessions_by_activity");
/// The same for open sessions only (closed ones leave it): the Open and Unassigned lists, which
/// would otherwise skip every closed session in `SESSIONS_BY_ACTIVITY`.
pub const OPEN_SESSIONS_BY_ACTIVITY: Def = TableDefinition::new("open_sessions_by_activity");
/// contact id ++ session id -> () : a contact's history.
pub const SESSIONS_BY_CONTACT: Def = TableDefinition::new("sessions_by_contact");
/// contact id -> open session id (at most one open session per contact).
pub const OPEN_SESSIONS: Def = TableDefinition::new("open_sessions");
/// session id ++ message id -> `Message`.
pub const MESSAGES: Def = TableDefinition::new("messages");
/// message id -> session id.
pub const MESSAGE_SESSION: Def = TableDefinition::new("message_session");
/// channel id ++ provider message id -> message id (dedupe redeliveries, route receipts).
pub const PROVIDER_IDS: Def = TableDefinition::new("provider_ids");
/// message id -> `OutboxItem` (outbound messages not yet accepted by the provider).
pub const OUTBOX: Def = TableDefinition::new("outbox");
/// next attempt ms ++ message id -> () : what the delivery worker does next.
pub const OUTBOX_DUE: Def = TableDefinition::new("outbox_due");
/// user id ++ session id -> `ReadState` (last read message, muted).
pub const SESSION_READS: Def = TableDefinition::new("session_reads");
/// session id ++ entry id -> `TimelineEntry`.
pub const TIMELINE: Def = TableDefinition::new("timeline");

/// attachment id -> `Attachment` (metadata; `Uploading` records are invisible to readers).
pub const ATTACHMENTS: Def = TableDefinition::new("attachments");
/// attachment id ++ chunk no -> raw bytes (fixed-size chunks, the last one shorter).
pub const ATTACHMENT_CHUNKS: Def = TableDefinition::new("attachment_chunks");
/// created ms ++ attachment id -> () : `Ready` attachments, oldest first (for the cleanup job).
pub const ATTACHMENTS_BY_CREATED: Def = TableDefinition::new("attachments_by_created");
/// attachment id -> last write ms (u64 BE) : uploads in progress (reclaimed when stale).
pub const ATTACHMENT_UPLOADS: Def = TableDefinition::new("attachment_uploads");
/// attachment id -> raw JPEG thumbnail bytes.
pub const ATTACHMENT_THUMBS: Def = TableDefinition::new("attachment_thumbs");
/// sha256(live-chat visitor token) -> `Visitor` (id, channel, contact, name, e-mail).
pub const LIVECHAT_VISITORS: Def = TableDefinition::new("livechat_visitors");
/// user id ++ session id -> channel id : open sessions assigned to an agent (concurrency caps).
pub const OPEN_ASSIGNED: Def = TableDefinition::new("open_assigned");
/// channel id -> user id last given a session on arrival (round-robin cursor).
pub const QUEUE_CURSOR: Def = TableDefinition::new("queue_cursor");
/// template id -> `Template` (WhatsApp templates registered by admins).
pub const TEMPLATES: Def = TableDefinition::new("templates");
/// canned reply id -> `Canned` (shared and personal).
pub const CANNED: Def = TableDefinition::new("canned");
/// setting name -> record: tag list, result list, PBX link.
pub const WORKFLOW_SETTINGS: Def = TableDefinition::new("workflow_settings");
/// contact id -> () : blocked contacts (the admin's block list).
pub const BLOCKED_CONTACTS: Def = TableDefinition::new("blocked_contacts");
/// surviving contact id ++ merged contact id -> () : the addresses of one person.
pub const CONTACT_ALIASES: Def = TableDefinition::new("contact_aliases");
/// channel id -> `ChannelHealth` (last inbound, last signature failure, last send error).
pub const CHANNEL_HEALTH: Def = TableDefinition::new("channel_health");
/// message id -> `MediaJob`: inbound files still to be fetched from the provider.
pub const MEDIA_QUEUE: Def = TableDefinition::new("media_queue");
/// chat id -> `Chat` (internal 1:1 or group chat, members and admins inline: at most 200).
pub const CHATS: Def = TableDefinition::new("chats");
/// user id ++ chat id -> `MemberState` (membership plus the user's pin/mute/read state).
pub const CHAT_MEMBERS: Def = TableDefinition::new("chat_members");
/// lower user id ++ higher user id -> chat id : one 1:1 chat per pair.
pub const CHAT_DIRECT: Def = TableDefinition::new("chat_direct");
/// chat id ++ message id -> `ChatMessage`. Message ids share the `message` counter with
/// customer messages, so ids grow with time across both (the search index relies on it).
pub const CHAT_MESSAGES: Def = TableDefinition::new("chat_messages");
/// created ms ++ message id -> chat id : for the history-retention purge.
pub const CHAT_MESSAGES_BY_TIME: Def = TableDefinition::new("chat_messages_by_time");

/// `u` ++ user id ++ sha256(endpoint)[..16] -> `push::Subscription`; `e` ++ sha256(endpoint)[..16]
/// -> user id (one browser's endpoint belongs to one user).
pub const PUSH_SUBSCRIPTIONS: Def = TableDefinition::new("push_subscriptions");

/// All tables the current schema knows, for migrations, backup and check.
/// Automation per channel (`c` + channel) and per conversation (`s` + session).
pub const AUTOMATION: Def = TableDefinition::new("automation");
/// Snoozed sessions: session → until (Unix ms, big-endian).
pub const SNOOZED: Def = TableDefinition::new("snoozed");

pub const ALL: &[Def] = &[
    META,
    COUNTERS,
    USERS,
    USERS_BY_NAME,
    LOGIN_SESSIONS,
    LOGIN_SESSIONS_BY_USER,
    API_TOKENS,
    API_TOKENS_BY_USER,
    EVENTS,
    AUDIT,
    CHANNELS,
    CHANNEL_MEMBERS,
    MEMBER_CHANNELS,
    CONTACTS,
    CONTACTS_BY_ADDR,
    SESSIONS,
    SESSIONS_BY_ACTIVITY,
    OPEN_SESSIONS_BY_ACTIVITY,
    SESSIONS_BY_CONTACT,
    OPEN_SESSIONS,
    MESSAGES,
    MESSAGE_SESSION,
    PROVIDER_IDS,
    OUTBOX,
    OUTBOX_DUE,
    SESSION_READS,
    TIMELINE,
    ATTACHMENTS,
    ATTACHMENT_CHUNKS,
    ATTACHMENTS_BY_CREATED,
    ATTACHMENT_UPLOADS,
    ATTACHMENT_THUMBS,
    LIVECHAT_VISITORS,
    OPEN_ASSIGNED,
    QUEUE_CURSOR,
    TEMPLATES,
    CANNED,
    WORKFLOW_SETTINGS,
    BLOCKED_CONTACTS,
    CONTACT_ALIASES,
    CHANNEL_HEALTH,
    MEDIA_QUEUE,
    CHATS,
    CHAT_MEMBERS,
    CHAT_DIRECT,
    CHAT_MESSAGES,
    CHAT_MESSAGES_BY_TIME,
    PUSH_SUBSCRIPTIONS,
    AUTOMATION,
    SNOOZED,
];

/// A table of the common shape by name (for generic walks such as backup and check).
pub fn by_name(name: &str) -> TableDefinition<'_, &'static [u8], &'static [u8]> {
    TableDefinition::new(name)
}
