//! What every integration test stands on, one of each:
//!
//! | module | what |
//! |---|---|
//! | [`server`] | [`TestServer`]: the real server in-process on 127.0.0.1:0, temp data dir, test clock, setup done, admin logged in; options by [`TestServer::builder`] |
//! | [`client`] | [`Client`] (cookie + CSRF like a browser, Bearer like a script, or anonymous) and [`Resp`] |
//! | [`customer`] | "a customer writes": signed WhatsApp / Messenger webhooks, signed Twilio form, live-chat visitor, or the domain intake; each returns the stored message's place |
//! | [`visitor`] | [`Visitor`]: a website visitor calling the live-chat API from an origin |
//! | [`events`] | [`EventStream`]: the SSE reader (Last-Event-ID, `next_of_kind`, wall-clock timeouts) |
//! | [`setup`] | channels wired to the provider fakes (`crate::fakes`), the live-chat channel |
//! | [`read`] | reading back (API or store) and [`read::wait_for`] by the wall clock |
//! | `selftest` | the customer helpers store what they claim, through every provider path |
//!
//! Browsers are in `crate::browser`; the journey harness in `crate::journeys`.

#![allow(dead_code)] // not every test uses every helper

pub mod client;
pub mod customer;
pub mod events;
pub mod read;
mod selftest;
pub mod server;
pub mod setup;
pub mod visitor;

pub use client::{Client, Resp, client_builder};
pub use events::{Event, EventStream};
pub use read::PATIENCE;
pub use server::{ADMIN, PASSWORD, TestServer, test_config};
pub use visitor::Visitor;
