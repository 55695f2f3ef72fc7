//! Switchboard: customer-messaging inbox in one binary.
pub mod search;
