//! Domain: the rules and state changes, independent of HTTP.

pub mod access;
pub mod audit;
pub mod auth;
pub mod channels;
pub mod passwords;
pub mod tokens;
pub mod users;
