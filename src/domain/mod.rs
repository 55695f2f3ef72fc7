//! Domain: the rules and state changes, independent of HTTP.

pub mod access;
pub mod attachments_link;
pub mod audit;
pub mod auth;
pub mod channels;
pub mod chats;
pub mod contacts;
pub mod delivery_kick;
pub mod messages;
pub mod passwords;
pub mod sessions;
pub mod tokens;
pub mod users;
