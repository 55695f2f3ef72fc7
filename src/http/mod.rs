//! HTTP: the router, shared state and cross-cutting layers (security headers, body caps,
//! metrics, panic guard). Handlers are thin: they parse, call `domain`, render.

pub mod api;
pub mod assets;
pub mod auth;
pub mod error;
pub mod events;
pub mod hooks;
pub mod i18n;
pub mod ops;
pub mod ui;

use std::collections::HashMap;
use std::ops::Deref;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use metrics_exporter_prometheus::PrometheusHandle;
use tokio_util::sync::CancellationToken;

use crate::clock::Clock;
use crate::config::Config;
use crate::domain::auth::{Lifetimes, Throttle};
use crate::domain::passwords::Passwords;
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
    pub assets: assets::Assets,
    pub http: reqwest::Client,
    pub metrics: Option<PrometheusHandle>,
    pub shutdown: CancellationToken,
    /// When each login session's `last_seen` was last written (sha256 -> ms).
    pub touched: Mutex<HashMap<[u8; 32], i64>>,
    /// Wakes the outbound delivery worker.
    pub delivery: Arc<tokio::sync::Notify>,
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
}

/// The whole application as a router (tests drive it without a socket too).
pub fn app(state: AppState) -> Router {
    let body_cap = state
        .config
        .limits
        .max_body_kb
        .saturating_mul(1024)
        .max(1024);
    let (api_router, openapi) = api::router().split_for_parts();
    let openapi = Arc::new(openapi);
    Router::new()
        .merge(ui::router())
        .merge(ops::router())
        .merge(hooks::router())
        .merge(api_router)
        .route(
            "/api/v1/openapi.json",
            axum::routing::get(move || {
                let doc = openapi.clone();
                async move { axum::Json(doc.as_ref().clone()) }
            }),
        )
        .route("/static/{*path}", axum::routing::get(assets::serve))
        .fallback(ops::not_found)
        .layer(DefaultBodyLimit::max(body_cap))
        .layer(middleware::from_fn(security_headers))
        .layer(middleware::from_fn_with_state(state.clone(), track))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(
            ops::panic_response,
        ))
        .with_state(state)
}

const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; \
media-src 'self' blob:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; \
form-action 'self'; frame-ancestors 'none'";

async fn security_headers(req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.entry(header::CONTENT_SECURITY_POLICY)
        .or_insert(HeaderValue::from_static(CSP));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.entry(header::X_FRAME_OPTIONS)
        .or_insert(HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    resp
}

async fn track(State(_state): State<AppState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let method = req.method().to_string();
    let resp = next.run(req).await;
    let status = resp.status().as_u16().to_string();
    metrics::counter!("http_requests_total", "route" => route.clone(), "method" => method, "status" => status)
        .increment(1);
    metrics::histogram!("http_request_seconds", "route" => route)
        .record(started.elapsed().as_secs_f64());
    resp
}
