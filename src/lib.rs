//! Switchboard: customer-messaging inbox in one binary.
