//! Switchboard: customer-messaging inbox in one binary.
//!
//! Layers, top first (each uses only its own layer and the ones below; `tests/layers.rs`
//! checks it): `server` (lifecycle) → `http` (router, pages, API, SSE) and `control` (CLI
//! socket) → `app` (the shared application state) → `jobs` (cron) → `domain` (rules and state
//! changes) → `store` (redb, group-commit writer), `search`, `channels` (provider wire
//! formats), `pbx`, `config`, `schedule`, `tls` → `clock`, `error`. See docs/architecture.md.

pub(crate) mod app;
pub mod channels;
pub mod clock;
pub mod config;
pub mod conn;
pub mod control;
pub mod domain;
pub mod error;
pub mod http;
pub mod ids;
pub mod jobs;
pub mod locale;
pub(crate) mod pbx;
pub(crate) mod ratelog;
pub(crate) mod schedule;
pub mod search;
pub mod server;
pub mod store;
pub mod tls;

pub use app::AppState;
pub use http::app;

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
