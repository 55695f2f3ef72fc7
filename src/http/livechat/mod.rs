//! The public visitor API of the live-chat widget, under `/livechat/{channel_id}/…`, plus the
//! widget script, the admin snippet page and the demo page (see docs/livechat.md).
//!
//! No cookies: a visitor proves who they are with `Authorization: Bearer lcv_…`.
//!
//! Origins (checked by [`guard`] before any handler runs, so a refusal stores nothing):
//! - a request with an `Origin` header is served only if that origin is one of the channel's
//!   `allowed_origins` or Switchboard's own (the demo page); the exact origin is echoed in
//!   `Access-Control-Allow-Origin` with `Vary: Origin`. Any other origin gets 403 (the refusal
//!   itself carries the CORS header so the widget can read and show the reason), and its
//!   preflight fails, so the browser never even sends the real request;
//! - a request without `Origin` is a non-browser client (or a same-origin GET): it may read
//!   `GET config` (public anyway; handy for monitoring), and same-origin requests
//!   (`Sec-Fetch-Site: same-origin`) pass; everything else gets 403. This is hygiene, not a
//!   security boundary — a script can send any Origin it likes; the rate limits
//!   ([`limits`]) are what stop floods.

pub(crate) mod agent;
pub(crate) mod api;
pub(crate) mod files;
pub(crate) mod limits;
pub(crate) mod pages;
pub(crate) mod stream;

use crate::ids::ChannelId;
use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRequestParts, OptionalFromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use super::HttpState;
use super::auth::{bearer, same_origin};
use super::error::{ApiError, json_error};
use crate::domain::channels::{Channel, ChannelKind};
use crate::domain::livechat::{self, TOKEN_PREFIX, Visitor};
use crate::domain::tokens::sha256;
use crate::error::Error;

pub fn router(state: HttpState) -> Router<HttpState> {
    let visitor_api = Router::new()
        .route("/livechat/{channel_id}/config", get(api::config))
        .route("/livechat/{channel_id}/visitors", post(api::create_visitor))
        .route("/livechat/{channel_id}/history", get(api::history))
        .route("/livechat/{channel_id}/messages", post(api::send))
        .route("/livechat/{channel_id}/offline", post(api::offline))
        .route("/livechat/{channel_id}/typing", post(api::typing))
        .route("/livechat/{channel_id}/read", post(api::read))
        .route("/livechat/{channel_id}/survey", post(api::survey))
        .route("/livechat/{channel_id}/events", get(stream::events))
        .route(
            "/livechat/{channel_id}/uploads",
            // The file's own limit (10 MB) is enforced while streaming.
            post(api::upload).layer(DefaultBodyLimit::disable()),
        )
        .layer(middleware::from_fn_with_state(state, guard));
    Router::new().merge(visitor_api).merge(pages::router())
}

/// The live-chat channel of the request (put there by [`guard`]).
#[derive(Clone)]
pub struct LiveChannel(pub Arc<Channel>);

impl<S: Send + Sync> FromRequestParts<S> for LiveChannel {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        parts
            .extensions
            .get::<LiveChannel>()
            .cloned()
            .ok_or_else(|| ApiError(Error::Internal("livechat guard missing".into())))
    }
}

/// An authenticated visitor of the request's channel (401 otherwise).
pub struct VisitorAuth {
    pub visitor: Visitor,
    pub token_hash: [u8; 32],
    pub channel: Arc<Channel>,
}

async fn visitor_of(parts: &Parts, state: &HttpState) -> Result<Option<VisitorAuth>, Error> {
    let Some(token) = bearer(&parts.headers) else {
        return Ok(None);
    };
    let LiveChannel(channel) = parts
        .extensions
        .get::<LiveChannel>()
        .cloned()
        .ok_or_else(|| Error::Internal("livechat guard missing".into()))?;
    let unknown = || Error::Unauthorized("unknown visitor token; start a new chat".into());
    if !token.starts_with(TOKEN_PREFIX) || token.len() > 100 {
        return Err(unknown());
    }
    let hash = sha256(token.as_bytes());
    let found = state
        .store
        .read(move |rtx| livechat::lookup(rtx, &hash))
        .await?;
    match found {
        // A token of another channel is as unknown here as a forged one.
        Some(visitor) if visitor.channel_id == channel.id => Ok(Some(VisitorAuth {
            visitor,
            token_hash: hash,
            channel,
        })),
        _ => Err(unknown()),
    }
}

impl FromRequestParts<HttpState> for VisitorAuth {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &HttpState) -> Result<Self, ApiError> {
        visitor_of(parts, state).await?.ok_or_else(|| {
            ApiError(Error::Unauthorized(
                "missing visitor token (Authorization: Bearer lcv_…)".into(),
            ))
        })
    }
}

/// No `Authorization` header: None; a bad token is still 401.
impl OptionalFromRequestParts<HttpState> for VisitorAuth {
    type Rejection = ApiError;
    async fn from_request_parts(
        parts: &mut Parts,
        state: &HttpState,
    ) -> Result<Option<Self>, ApiError> {
        Ok(visitor_of(parts, state).await?)
    }
}

fn origin_of(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// Is `origin` Switchboard's own (the demo page)?
fn own_origin(state: &HttpState, headers: &HeaderMap, origin: &str) -> bool {
    let public = url::Url::parse(&state.public_url)
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_default();
    public.eq_ignore_ascii_case(origin) || same_origin(headers, state.secure_cookies)
}

/// The origin rule of the module docs.
pub fn check_origin(
    state: &HttpState,
    ch: &Channel,
    headers: &HeaderMap,
    method: &Method,
    path: &str,
) -> Result<(), Error> {
    match origin_of(headers) {
        Some(o) => {
            if ch
                .livechat
                .allowed_origins
                .iter()
                .any(|a| a.eq_ignore_ascii_case(&o))
                || own_origin(state, headers, &o)
            {
                Ok(())
            } else {
                Err(Error::Forbidden(
                    "the chat is not available on this website".into(),
                ))
            }
        }
        None => {
            let same_site =
                headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) == Some("same-origin");
            if same_site || (*method == Method::GET && path.ends_with("/config")) {
                Ok(())
            } else {
                Err(Error::Forbidden(
                    "visitor requests must come from a web page (no Origin header)".into(),
                ))
            }
        }
    }
}

fn add_cors(resp: &mut Response, origin: Option<&str>) {
    let h = resp.headers_mut();
    h.append(header::VARY, HeaderValue::from_static("Origin"));
    if let Some(o) = origin.and_then(|o| HeaderValue::from_str(o).ok()) {
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, o);
        h.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static("Retry-After"),
        );
    }
}

/// Channel lookup, origin check, CORS headers and preflight for every visitor route.
async fn guard(State(state): State<HttpState>, mut req: Request, next: Next) -> Response {
    let origin = origin_of(req.headers());
    let path = req.uri().path().to_string();
    let cid = path
        .strip_prefix("/livechat/")
        .and_then(|r| r.split('/').next())
        .and_then(|s| s.parse::<ChannelId>().ok());
    let found = match cid {
        Some(cid) => state.channels.get(&state.store, cid).await,
        None => Ok(None),
    };
    let ch = match found {
        Ok(Some(c)) if c.kind == ChannelKind::Livechat => c,
        Ok(_) => {
            let mut r = json_error(&Error::NotFound("chat"));
            add_cors(&mut r, origin.as_deref());
            return r;
        }
        Err(e) => return json_error(&e),
    };
    if let Err(e) = check_origin(&state, &ch, req.headers(), req.method(), &path) {
        let mut r = json_error(&e);
        add_cors(&mut r, origin.as_deref());
        return r;
    }
    if req.method() == Method::OPTIONS {
        let mut r = StatusCode::NO_CONTENT.into_response();
        let h = r.headers_mut();
        h.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("GET, POST"),
        );
        h.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("authorization, content-type, last-event-id, x-filename"),
        );
        h.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static("600"),
        );
        add_cors(&mut r, origin.as_deref());
        return r;
    }
    req.extensions_mut().insert(LiveChannel(ch));
    let mut resp = next.run(req).await;
    add_cors(&mut resp, origin.as_deref());
    resp
}
