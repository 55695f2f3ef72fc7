//! Domain: the rules and state changes, independent of HTTP.

pub mod access;
pub mod attachments_link;
pub mod audit;
pub mod auth;
pub mod channel_health;
pub mod channels;
pub mod contacts;
pub mod delivery;
pub mod delivery_kick;
pub mod media_bridge;
pub mod media_fetch;
pub mod messages;
pub mod outbound;
pub mod passwords;
pub mod sessions;
pub mod tokens;
pub mod users;
