//! Switchboard: customer-messaging inbox in one binary.
//!
//! Module map: `config` → `server` (lifecycle) → `http` (router, pages, API, SSE) → `domain`
//! (rules and state changes) → `store` (redb, group-commit writer). `channels` speaks the
//! providers' wire formats; `jobs` run on cron schedules; `control` lets the CLI reach a running
//! server. See docs/architecture.md.

pub mod channels;
pub mod clock;
pub mod config;
pub mod conn;
pub mod control;
pub mod domain;
pub mod error;
pub mod http;
pub mod jobs;
pub mod pbx;
pub mod ratelog;
pub mod search;
pub mod server;
pub mod store;
pub mod tls;

pub use http::{AppState, app};

/// Shared by the property tests: `PROPTEST_CASES` (when set) overrides each property's own
/// default case count, so CI stays bounded and a longer hunt is one variable away.
#[cfg(test)]
pub(crate) fn proptest_config(default_cases: u32) -> proptest::prelude::ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default_cases);
    proptest::prelude::ProptestConfig::with_cases(cases)
}
