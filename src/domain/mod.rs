//! Domain: the rules and state changes, independent of HTTP.

pub mod access;
pub mod attachments;
pub mod attachments_link;
pub mod audit;
pub mod auth;
pub mod blocks;
pub mod channels;
pub mod contacts;
pub mod delivery_kick;
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
pub mod templates;
pub mod tokens;
pub mod users;
