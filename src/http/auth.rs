//! Who is calling: a login cookie (browser) or a Bearer API token (scripts).
//!
//! CSRF: a state-changing request authenticated by cookie must either come from our own origin
//! (the `Origin` header's host equals the `Host` the browser addressed, and `Sec-Fetch-Site` is
//! not cross-site) or carry the session's token in `X-CSRF-Token`. Bearer requests carry no
//! ambient credentials and need neither.

use crate::ids::UserId;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};

use super::HttpState;
use super::error::{ApiError, UiError};
use super::i18n::{self, I18n};
use crate::domain::auth;
use crate::domain::tokens::sha256;
use crate::domain::users::{Lang, User};
use crate::error::{Error, Result};

pub const COOKIE: &str = "swb_session";

#[derive(Debug, Clone)]
pub enum Via {
    Cookie { token: String, csrf: String },
    Token,
}

#[derive(Debug, Clone)]
pub struct Authed {
    pub user: User,
    pub via: Via,
    pub lang: Lang,
}

impl Authed {
    pub fn t(&self) -> I18n {
        I18n(self.lang)
    }
    pub fn csrf(&self) -> &str {
        match &self.via {
            Via::Cookie { csrf, .. } => csrf,
            Via::Token => "",
        }
    }
    pub fn id(&self) -> UserId {
        self.user.id
    }
}

/// Authenticated caller of a JSON endpoint (401 JSON otherwise).
pub struct ApiAuth(pub Authed);
/// Authenticated caller of a page (redirect to /login otherwise).
pub struct UiAuth(pub Authed);
/// An authenticated administrator of a JSON endpoint: 401 JSON when not logged in, 403 JSON for
/// anyone else. Admin handlers take it before any body extractor, so an agent gets 403 whatever
/// the body, never a 400 that tells them how to shape it.
pub struct ApiAdmin(pub Authed);
/// An authenticated administrator of a page: the login redirect, else the 403 page.
pub struct UiAdmin(pub Authed);

fn admin(who: Authed) -> Result<Authed> {
    if who.user.is_admin() {
        Ok(who)
    } else {
        Err(Error::Forbidden("administrators only".into()))
    }
}

pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    for h in headers.get_all(header::COOKIE) {
        let Ok(s) = h.to_str() else { continue };
        for pair in s.split(';') {
            if let Some((k, v)) = pair.trim().split_once('=')
                && k == name
            {
                return Some(v.to_string());
            }
        }
    }
    None
}

pub fn bearer(headers: &HeaderMap) -> Option<String> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_string())
}

pub fn request_lang(headers: &HeaderMap) -> Lang {
    i18n::from_accept_language(
        headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
    )
}

fn is_unsafe(m: &Method) -> bool {
    !matches!(*m, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// True when the request visibly comes from a page of this very site: the `Origin` has the
/// scheme the browser uses for us (`secure`: HTTPS, directly or through a TLS proxy), the host
/// it addressed and the same port, a missing port counting as its scheme's default on both
/// sides (`https://box` is `box:443`, not `box:8443`); and `Sec-Fetch-Site` is not cross-site.
pub fn same_origin(headers: &HeaderMap, secure: bool) -> bool {
    if headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) == Some("cross-site") {
        return false;
    }
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let Some(host) = headers.get(header::HOST).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let scheme = if secure { "https" } else { "http" };
    let (Ok(o), Ok(h)) = (
        url::Url::parse(origin),
        url::Url::parse(&format!("{scheme}://{host}")),
    ) else {
        return false;
    };
    o.scheme() == scheme
        && o.host_str().is_some()
        && o.host_str()
            .zip(h.host_str())
            .is_some_and(|(a, b)| a.eq_ignore_ascii_case(b))
        && o.port_or_known_default() == h.port_or_known_default()
        && h.path() == "/"
}

/// CSRF rule for cookie-authenticated, state-changing requests.
pub fn check_csrf(
    method: &Method,
    headers: &HeaderMap,
    session_csrf: &str,
    secure: bool,
) -> Result<()> {
    if !is_unsafe(method) {
        return Ok(());
    }
    if let Some(sent) = headers.get("x-csrf-token").and_then(|v| v.to_str().ok()) {
        if crate::domain::tokens::ct_eq(sent.as_bytes(), session_csrf.as_bytes()) {
            return Ok(());
        }
        return Err(Error::Forbidden(
            "CSRF token mismatch; reload the page".into(),
        ));
    }
    if same_origin(headers, secure) {
        return Ok(());
    }
    Err(Error::Forbidden(
        "cross-site request refused (CSRF); reload the page".into(),
    ))
}

pub async fn authenticate(parts: &Parts, state: &HttpState) -> Result<Authed> {
    let headers = &parts.headers;
    if let Some(token) = bearer(headers) {
        let now = state.now();
        let t = token.clone();
        let found = state
            .store
            .read(move |rtx| auth::lookup_api_token(rtx, &t, now))
            .await?;
        let Some((api, user)) = found else {
            return Err(Error::Unauthorized(
                "invalid, expired or revoked API token".into(),
            ));
        };
        if auth::api_token_needs_touch(&api, now) {
            let store = state.store.clone();
            tokio::spawn(async move {
                if let Err(e) = auth::touch_api_token(&store, &token).await {
                    tracing::debug!(error = %e, "token touch failed");
                }
            });
        }
        let lang = user.language.unwrap_or_else(|| request_lang(headers));
        return Ok(Authed {
            user,
            via: Via::Token,
            lang,
        });
    }
    let Some(token) = cookie_value(headers, COOKIE) else {
        return Err(Error::Unauthorized("not logged in".into()));
    };
    let now = state.now();
    let life = state.lifetimes();
    let t = token.clone();
    let found = state
        .store
        .read(move |rtx| auth::lookup_session(rtx, &t, now, life))
        .await?;
    let Some((session, user)) = found else {
        return Err(Error::Unauthorized("session expired; log in again".into()));
    };
    check_csrf(&parts.method, headers, &session.csrf, state.secure_cookies)?;
    maybe_touch(state, &token, session.last_seen, now);
    // A browser request: the agent is at their desk (assign-on-arrival presence).
    state.presence.touch(user.id, now);
    let lang = user.language.unwrap_or_else(|| request_lang(headers));
    Ok(Authed {
        user,
        via: Via::Cookie {
            token,
            csrf: session.csrf,
        },
        lang,
    })
}

/// Writes `last_seen` at most once a minute per session, in the background.
fn maybe_touch(state: &HttpState, token: &str, last_seen: i64, now: i64) {
    if now - last_seen < 60_000 {
        return;
    }
    let key = sha256(token.as_bytes());
    if let Ok(mut m) = state.touched.lock() {
        if m.get(&key).is_some_and(|t| now - t < 60_000) {
            return;
        }
        if m.len() > 10_000 {
            m.clear();
        }
        m.insert(key, now);
    }
    let store = state.store.clone();
    let token = token.to_string();
    tokio::spawn(async move {
        if let Err(e) = auth::touch(&store, &token).await {
            tracing::debug!(error = %e, "session touch failed");
        }
    });
}

impl FromRequestParts<HttpState> for ApiAuth {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &HttpState) -> Result<Self, ApiError> {
        authenticate(parts, state)
            .await
            .map(ApiAuth)
            .map_err(ApiError)
    }
}

impl FromRequestParts<HttpState> for UiAuth {
    type Rejection = UiError;
    async fn from_request_parts(parts: &mut Parts, state: &HttpState) -> Result<Self, UiError> {
        authenticate(parts, state)
            .await
            .map(UiAuth)
            .map_err(UiError)
    }
}

impl FromRequestParts<HttpState> for ApiAdmin {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &HttpState) -> Result<Self, ApiError> {
        let who = authenticate(parts, state).await.map_err(ApiError)?;
        admin(who).map(ApiAdmin).map_err(ApiError)
    }
}

impl FromRequestParts<HttpState> for UiAdmin {
    type Rejection = UiError;
    async fn from_request_parts(parts: &mut Parts, state: &HttpState) -> Result<Self, UiError> {
        let who = authenticate(parts, state).await.map_err(UiError)?;
        admin(who).map(UiAdmin).map_err(UiError)
    }
}

/// The `Set-Cookie` value for a new login session.
pub fn session_cookie(state: &HttpState, token: &str) -> String {
    let max_age = state.config.auth.session_max_hours * 3600;
    let secure = if state.secure_cookies { "; Secure" } else { "" };
    format!("{COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}")
}

/// The known-device cookie (`auth::DEVICE_COOKIE`): kept across logouts and restarts, so the
/// login throttle recognises this browser as one its user logged in from.
pub fn device_cookie(state: &HttpState, value: &str) -> String {
    let secure = if state.secure_cookies { "; Secure" } else { "" };
    let max_age = crate::domain::auth::DEVICE_MAX_AGE_SECS;
    format!(
        "{}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}",
        crate::domain::auth::DEVICE_COOKIE
    )
}

pub fn clear_cookie(state: &HttpState) -> String {
    let secure = if state.secure_cookies { "; Secure" } else { "" };
    format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{secure}")
}

impl axum::extract::OptionalFromRequestParts<HttpState> for UiAuth {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(
        parts: &mut Parts,
        state: &HttpState,
    ) -> Result<Option<Self>, Self::Rejection> {
        Ok(authenticate(parts, state).await.ok().map(UiAuth))
    }
}

/// The peer address (loopback when unknown, e.g. in router-only tests).
pub struct ClientIp(pub std::net::IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let ip = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0.ip())
            .unwrap_or(std::net::IpAddr::from([127, 0, 0, 1]));
        Ok(ClientIp(ip))
    }
}
