//! Domain: the rules and state changes, independent of HTTP.

pub(crate) mod access;
pub mod attachments;
pub mod audit;
pub mod auth;
pub mod blocks;
pub(crate) mod calls;
pub mod channels;
pub mod chats;
pub mod contacts;
pub mod delivery;
pub(crate) mod directory;
pub mod events;
pub(crate) mod lists;
pub mod livechat;
pub mod messages;
pub mod passwords;
pub(crate) mod pbx;
pub mod presence;
pub mod push;
pub(crate) mod queue;
pub(crate) mod reports;
pub mod sessions;
pub(crate) mod settings;
pub(crate) mod templates;
pub mod tokens;
pub mod users;
