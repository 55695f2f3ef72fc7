//! Domain: the rules and state changes, independent of HTTP.

pub mod access;
pub mod attachments;
pub mod audit;
pub mod auth;
pub mod blocks;
pub mod calls;
pub mod channels;
pub mod chats;
pub mod contacts;
pub mod delivery;
pub mod directory;
pub mod lists;
pub mod livechat;
pub mod messages;
pub mod passwords;
pub mod pbx;
pub mod presence;
pub mod queue;
pub mod reports;
pub mod sessions;
pub mod settings;
pub mod templates;
pub mod tokens;
pub mod users;
