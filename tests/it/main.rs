//! The integration-test binary. `support` is what every test stands on (server fixture,
//! clients, customer helpers, event stream); fake providers live in `fakes`, and
//! `fakes_selftest` checks them against the production provider clients in
//! `switchboard::channels`; `browser` drives headless Chromium and `journeys` is the harness for
//! browser tests that click through a person's journey; `docs` keeps the docs true to the code.
//! docs/testing.md describes the layout and the helpers.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod authz;
mod automation;
mod binary;
mod browser;
mod channels;
mod chats;
mod chats_browser;
mod cli;
mod crash;
mod damage;
mod docs;
mod edges;
mod fakes;
mod fakes_selftest;
mod files;
mod foundation;
mod fuzz;
mod hostile;
mod inbox_access;
mod inbox_browser;
mod journeys;
mod livechat;
mod livechat_browser;
mod login_flood;
mod push;
mod push_browser;
mod pwa_browser;
mod reliability;
mod sse;
mod support;
mod tls_ca;
mod tokens;
mod ui_basics;
mod workflow;
mod xss_browser;
