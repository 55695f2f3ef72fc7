//! The application state: what the HTTP layer, the background workers, the jobs and the control
//! socket share, one per running server (`server::start` builds it). It sits above `domain`
//! and below `http`: handlers reach it through `http::HttpState` (which adds what only the web
//! layer keeps), workers and jobs get narrow slices of it (`JobCtx`, the worker arguments), and
//! domain functions never see it — they take what they use (`&Store`, the acting user, a clock).

use std::ops::Deref;
use std::sync::{Arc, Mutex};

use metrics_exporter_prometheus::PrometheusHandle;
use tokio_util::sync::CancellationToken;

use crate::clock::Clock;
use crate::config::Config;
use crate::domain::auth::{Lifetimes, Throttle};
use crate::domain::delivery::Kick;
use crate::domain::passwords::Passwords;
use crate::jobs::JobCtx;
use crate::store::Store;

#[derive(Clone)]
pub struct AppState(Arc<AppInner>);

pub struct AppInner {
    pub store: Store,
    pub config: Arc<Config>,
    pub clock: Arc<dyn Clock>,
    pub passwords: Passwords,
    pub throttle: Throttle,
    /// The one-time setup token while no user exists.
    pub setup_token: Mutex<Option<String>>,
    /// `public_url` without trailing slash.
    pub public_url: String,
    /// Cookies get `Secure` when the box is reached over HTTPS.
    pub secure_cookies: bool,
    /// SHA-256 fingerprint of the TLS certificate, shown on the setup page.
    pub tls_fingerprint: Option<String>,
    /// The local CA of `tls = "self-signed"`, offered at `/ca.crt`.
    pub tls_ca: Option<crate::tls::CaCert>,
    /// The running TLS configuration, read per connection; `tls-renewal` reloads it.
    pub tls_config: Option<axum_server::tls_rustls::RustlsConfig>,
    pub http: reqwest::Client,
    pub metrics: Option<PrometheusHandle>,
    pub shutdown: CancellationToken,
    /// Wakes the outbound delivery worker.
    pub delivery: Kick,
    /// Which agents are online (open event stream or a recent browser request): live-chat
    /// availability and assign-on-arrival.
    pub presence: Arc<crate::domain::presence::Presence>,
    /// The live PBX event link's state (its task: `domain::pbx_link`).
    pub pbx_link: Arc<crate::domain::pbx_link::PbxLink>,
    /// Click-to-call calls under way, followed through the PBX event link.
    pub live_calls: Arc<crate::domain::live_calls::LiveCalls>,
    /// Per-install key for signed, expiring media links (`/media/{id}/{expires}/{sig}`).
    pub media_secret: Vec<u8>,
    /// Yeastar API access tokens, reused until they expire.
    pub pbx_tokens: crate::pbx::TokenCache,
    /// Channel records for the webhook and live-chat intake paths.
    pub channels: crate::domain::channels::Cache,
}

impl Deref for AppState {
    type Target = AppInner;
    fn deref(&self) -> &AppInner {
        &self.0
    }
}

impl AppState {
    pub fn new(inner: AppInner) -> Self {
        Self(Arc::new(inner))
    }
    pub fn now(&self) -> i64 {
        self.clock.now_ms()
    }
    pub fn lifetimes(&self) -> Lifetimes {
        Lifetimes {
            idle_ms: self.config.auth.session_idle_minutes as i64 * 60_000,
            max_ms: self.config.auth.session_max_hours as i64 * 3_600_000,
        }
    }
    /// What a job (or a CLI command run through the control socket) may use.
    pub fn job_ctx(&self) -> JobCtx {
        JobCtx {
            store: self.store.clone(),
            config: self.config.clone(),
            clock: self.clock.clone(),
            http: self.http.clone(),
            public_url: self.public_url.clone(),
            shutdown: self.shutdown.clone(),
            media_secret: self.media_secret.clone(),
            tls: self.tls_config.clone(),
        }
    }
}
