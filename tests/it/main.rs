//! The integration-test binary. Fake providers live in `fakes`; `fakes_selftest` checks them
//! against the production provider clients in `switchboard::channels`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod browser;
mod chats;
mod chats_browser;
mod fakes;
mod fakes_selftest;
mod foundation;
mod support;
mod ui_basics;
