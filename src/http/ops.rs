//! Operational endpoints: health, metrics, fallbacks.

use std::any::Any;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::HttpState;
use super::auth::{ClientIp, UiAuth};
use super::error::{ApiError, UiError, json_error};
use crate::error::Error;

pub fn router() -> Router<HttpState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
}

/// 200 when the store answers a read: "ok", or "degraded: …" (disk full: writes refused; or
/// damage met by a read) with what to do; 503 when it does not answer.
pub async fn healthz(State(state): State<HttpState>) -> Response {
    match state.store.read(crate::store::events::last_seq).await {
        Ok(_) => (StatusCode::OK, state.store.health().state().text()).into_response(),
        Err(e) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("store: {}", e.public_message()),
        )
            .into_response(),
    }
}

/// Prometheus text format, for `metrics.access`: this machine or an administrator (`local`, the
/// default), administrators only (`admin`: a login or an API token), or anyone (`open`).
pub async fn metrics(
    State(state): State<HttpState>,
    ClientIp(ip): ClientIp,
    who: Option<UiAuth>,
) -> Response {
    let admin = who.is_some_and(|w| w.0.user.is_admin());
    let allowed = match state.config.metrics.access.as_str() {
        "open" => true,
        "admin" => admin,
        _ => admin || ip.to_canonical().is_loopback(),
    };
    if !allowed {
        return ApiError(Error::Forbidden(
            "metrics are for administrators (an API token) or, by default, this machine; see metrics.access".into(),
        ))
        .into_response();
    }
    let s = state.store.stats();
    use std::sync::atomic::Ordering::Relaxed;
    metrics::gauge!("store_write_queue_depth").set(s.queued.load(Relaxed) as f64);
    metrics::gauge!("store_commits").set(s.commits.load(Relaxed) as f64);
    metrics::gauge!("store_ops").set(s.ops.load(Relaxed) as f64);
    let body = state
        .metrics
        .as_ref()
        .map(|h| h.render())
        .unwrap_or_default();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response()
}

pub async fn not_found(uri: Uri) -> Response {
    let e = Error::NotFound("page");
    // The machine prefixes (as in `json_rejections`): the live-chat widget gets JSON too.
    let p = uri.path();
    if super::is_machine_path(p) {
        ApiError(Error::NotFound("route")).into_response()
    } else {
        UiError(e).into_response()
    }
}

pub fn panic_response(err: Box<dyn Any + Send + 'static>) -> Response {
    let detail = err
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| err.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default();
    json_error(&Error::Internal(format!("handler panicked: {detail}")))
}
