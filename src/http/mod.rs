//! HTTP: the router, shared state and cross-cutting layers (security headers, body caps,
//! metrics, panic guard). Handlers are thin: they parse, call `domain`, render.

pub(crate) mod api;
pub(crate) mod assets;
pub mod auth;
pub(crate) mod body;
pub(crate) mod compress;
pub(crate) mod error;
pub(crate) mod events;
pub(crate) mod files;
pub(crate) mod hooks;
pub(crate) mod i18n;
#[cfg(test)]
mod i18n_check;
pub(crate) mod livechat;
pub(crate) mod ops;
pub(crate) mod strict;
pub(crate) mod ui;

use std::collections::HashMap;
use std::ops::Deref;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::Response;

use crate::app::AppState;

/// The router's state: the application plus what only the web layer keeps. It derefs to
/// [`HttpInner`] and on to [`AppState`], so a handler writes `state.store` or `state.assets`
/// alike.
#[derive(Clone)]
pub struct HttpState(Arc<HttpInner>);

pub struct HttpInner {
    pub app: AppState,
    pub assets: assets::Assets,
    /// Serialized SSE event bodies shared by all streams (see `events::BodyCache`).
    pub sse_bodies: events::BodyCache,
    /// Live-chat visitor rate limits and signal throttles.
    pub livechat: livechat::limits::Limits,
    /// When each login session's `last_seen` was last written (sha256 -> ms).
    pub touched: Mutex<HashMap<[u8; 32], i64>>,
}

impl HttpState {
    pub fn new(app: AppState) -> Self {
        Self(Arc::new(HttpInner {
            app,
            assets: assets::Assets::load(),
            sse_bodies: Default::default(),
            livechat: Default::default(),
            touched: Mutex::new(HashMap::new()),
        }))
    }
}

impl Deref for HttpState {
    type Target = HttpInner;
    fn deref(&self) -> &HttpInner {
        &self.0
    }
}

impl Deref for HttpInner {
    type Target = AppState;
    fn deref(&self) -> &AppState {
        &self.app
    }
}

/// The whole application as a router (tests drive it without a socket too).
pub fn app(app: AppState) -> Router {
    let state = HttpState::new(app);
    let body_cap = state
        .config
        .limits
        .max_body_kb
        .saturating_mul(1024)
        .max(1024);
    let (api_router, mut openapi) = api::router().split_for_parts();
    utoipa::Modify::modify(&api::CommonResponses, &mut openapi);
    let rules = Arc::new(strict::Rules::from_doc(
        &serde_json::to_value(&openapi).unwrap_or_default(),
    ));
    let openapi = Arc::new(openapi);
    Router::new()
        .merge(ui::router())
        .merge(ops::router())
        .merge(hooks::router())
        .merge(api_router)
        .merge(livechat::router(state.clone()))
        .route(
            "/api/v1/openapi.json",
            axum::routing::get(move || {
                let doc = openapi.clone();
                async move { axum::Json(doc.as_ref().clone()) }
            }),
        )
        .route("/static/{*path}", axum::routing::get(assets::serve))
        .fallback(ops::not_found)
        .layer(middleware::from_fn_with_state(rules, strict::guard))
        .layer(DefaultBodyLimit::max(body_cap))
        .layer(middleware::from_fn(json_rejections))
        .layer(middleware::from_fn_with_state(state.clone(), localize))
        .layer(middleware::from_fn(compress::gzip))
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

async fn security_headers(mut req: Request, next: Next) -> Response {
    // HTTP/2 carries the host in `:authority`; give same-origin checks one place to look.
    if !req.headers().contains_key(header::HOST)
        && let Some(v) = req
            .uri()
            .authority()
            .and_then(|a| HeaderValue::from_str(a.as_str()).ok())
    {
        req.headers_mut().insert(header::HOST, v);
    }
    // Scripts and stylesheets under /static/ are never documents or workers (the service
    // workers are served at /sw.js and /sw-push.js), so CSP and frame options mean nothing on
    // them; left off, a page's ~30 module requests carry ~10 KB fewer header bytes on a phone.
    let path = req.uri().path();
    let subresource =
        path.starts_with("/static/") && (path.ends_with(".js") || path.ends_with(".css"));
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    if !subresource {
        h.entry(header::CONTENT_SECURITY_POLICY)
            .or_insert(HeaderValue::from_static(CSP));
        h.entry(header::X_FRAME_OPTIONS)
            .or_insert(HeaderValue::from_static("DENY"));
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    resp
}

/// Paths whose callers are programs (API, provider webhooks and media fetches, the live-chat
/// widget): every error in the JSON shape.
pub fn is_machine_path(path: &str) -> bool {
    ["/api/", "/hooks/", "/livechat/", "/media/"]
        .iter()
        .any(|p| path.starts_with(p))
}

/// axum's own extractor rejections (bad path ids, bad query strings) are plain text; machine
/// endpoints answer every error in the one JSON shape instead.
async fn json_rejections(req: Request, next: Next) -> Response {
    let path = req.uri().path();
    let machine = is_machine_path(path);
    let resp = next.run(req).await;
    let status = resp.status();
    let plain = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|v| v.starts_with("text/plain"));
    if !machine || !status.is_client_error() || !plain {
        return resp;
    }
    let (parts, body) = resp.into_parts();
    let text = match axum::body::to_bytes(body, 64 * 1024).await {
        Ok(b) => String::from_utf8_lossy(&b).into_owned(),
        Err(_) => String::new(),
    };
    let err = match status.as_u16() {
        404 => crate::error::Error::NotFound("route"),
        405 => crate::error::Error::BadRequest("method not allowed on this route".into()),
        413 => crate::error::Error::TooLarge(if text.is_empty() {
            "request body too large".into()
        } else {
            text
        }),
        415 => crate::error::Error::Unsupported(text),
        _ => crate::error::Error::BadRequest(if text.is_empty() {
            "bad request".into()
        } else {
            text
        }),
    };
    let mut out = error::json_error(&err);
    *out.status_mut() = parts.status;
    for (k, v) in parts.headers.iter() {
        if k != header::CONTENT_TYPE && k != header::CONTENT_LENGTH {
            out.headers_mut().insert(k.clone(), v.clone());
        }
    }
    out
}

/// Error responses in the reader's language: the signed-in user's language, else the request's
/// `Accept-Language` (the pages' scripts send the page's language with every API call).
async fn localize(State(state): State<HttpState>, req: Request, next: Next) -> Response {
    // Only what the language depends on is kept (shared bytes, no copy; nothing for a webhook).
    let uri = req.uri().clone();
    let mut headers = header::HeaderMap::new();
    for name in [
        header::COOKIE,
        header::AUTHORIZATION,
        header::ACCEPT_LANGUAGE,
    ] {
        for v in req.headers().get_all(&name) {
            headers.append(name.clone(), v.clone());
        }
    }
    let resp = next.run(req).await;
    let Some(loc) = resp.extensions().get::<error::Localize>().cloned() else {
        return resp;
    };
    let mut lang = auth::request_lang(&headers);
    if auth::cookie_value(&headers, auth::COOKIE).is_some()
        && !matches!(loc.error, crate::error::Error::Unauthorized(_))
    {
        let (mut parts, ()) = Request::builder()
            .uri(uri)
            .body(())
            .unwrap_or_default()
            .into_parts();
        parts.headers = headers;
        if let Ok(who) = auth::authenticate(&parts, &state).await {
            lang = who.lang;
        }
    }
    if lang.is_english() {
        return resp;
    }
    let t = i18n::I18n(lang);
    let mut out = if loc.html {
        error::error_page_in(&loc.error, t)
    } else {
        error::json_error_in(&loc.error, &t.error(&loc.error))
    };
    *out.status_mut() = resp.status();
    for (k, v) in resp.headers() {
        if k != header::CONTENT_TYPE && k != header::CONTENT_LENGTH {
            out.headers_mut().insert(k.clone(), v.clone());
        }
    }
    out
}

async fn track(State(_state): State<HttpState>, req: Request, next: Next) -> Response {
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
