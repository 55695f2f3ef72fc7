//! The integration-test binary. Fake providers live in `fakes`; `fakes_selftest` checks them
//! against the production provider clients in `switchboard::channels`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod authz;
mod binary;
mod browser;
mod channels;
mod chats;
mod chats_browser;
mod cli;
mod crash;
mod damage;
mod edges;
mod fakes;
mod fakes_selftest;
mod files;
mod foundation;
mod fuzz;
mod hostile;
mod inbox_access;
mod inbox_browser;
mod inbox_support;
mod livechat;
mod livechat_browser;
mod reliability;
mod sse;
mod support;
mod ui_basics;
mod workflow;
mod xss_browser;
