//! Login and logout.

use askama::Template;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::{Chrome, render};
use crate::domain::{auth, users};
use crate::error::Error;
use crate::http::AppState;
use crate::http::auth::{
    ApiAuth, COOKIE, ClientIp, UiAuth, Via, clear_cookie, cookie_value, request_lang, same_origin,
    session_cookie,
};
use crate::http::error::{ApiError, UiError};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/login", get(login_page).post(login_form))
        .route("/logout", post(logout))
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    chrome: Chrome,
    error: String,
    username: String,
    setup_pending: bool,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct LoginResponse {
    pub user: users::UserView,
    /// Send as `X-CSRF-Token` on state-changing requests made with the cookie.
    pub csrf_token: String,
}

async fn login_page(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, UiError> {
    let lang = request_lang(&headers);
    let setup_pending = state
        .setup_token
        .lock()
        .map(|t| t.is_some())
        .unwrap_or(false);
    let chrome = Chrome::new(&state, None, lang, chrome_title(lang), "login");
    render(&LoginPage {
        chrome,
        error: String::new(),
        username: String::new(),
        setup_pending,
    })
}

fn chrome_title(lang: users::Lang) -> &'static str {
    match lang {
        users::Lang::De => "Anmelden",
        users::Lang::En => "Sign in",
    }
}

/// Checks credentials with throttling; returns the session token and user.
async fn attempt(
    state: &AppState,
    ip: std::net::IpAddr,
    username: &str,
    password: &str,
) -> Result<(String, auth::LoginSession, users::User), Error> {
    let now = state.now();
    state.throttle.check(username, ip, now)?;
    let name = username.to_string();
    let user = state
        .store
        .read(move |rtx| users::get_by_name(rtx, &name))
        .await?;
    let ok = state
        .passwords
        .verify(password, user.as_ref().map(|u| u.password_hash.as_str()))
        .await?;
    match user {
        Some(u) if ok && !u.disabled => {
            state.throttle.succeeded(username, ip);
            let (token, session) = auth::login(&state.store, u.id).await?;
            tracing::info!(user = %u.username, %ip, "login");
            Ok((token, session, u))
        }
        _ => {
            state.throttle.failed(username, ip, now);
            tracing::info!(username = %username, %ip, "login failed");
            Err(Error::Unauthorized("wrong username or password".into()))
        }
    }
}

async fn login_form(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Form(form): Form<LoginRequest>,
) -> Result<Response, UiError> {
    if headers.contains_key(header::ORIGIN) && !same_origin(&headers, state.secure_cookies) {
        return Err(Error::Forbidden("cross-site login refused".into()).into());
    }
    let lang = request_lang(&headers);
    match attempt(&state, ip, &form.username, &form.password).await {
        Ok((token, _, _)) => Ok((
            [(header::SET_COOKIE, session_cookie(&state, &token))],
            Redirect::to("/chat/external"),
        )
            .into_response()),
        Err(Error::Unauthorized(_)) => {
            let chrome = Chrome::new(&state, None, lang, chrome_title(lang), "login");
            let t = chrome.t;
            let mut resp = render(&LoginPage {
                chrome,
                error: t.s("login.failed").to_string(),
                username: form.username,
                setup_pending: false,
            })?;
            *resp.status_mut() = StatusCode::UNAUTHORIZED;
            Ok(resp)
        }
        Err(e) => Err(e.into()),
    }
}

#[utoipa::path(post, path = "/api/v1/session", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = LoginResponse), (status = 401, body = crate::http::error::ErrorBody), (status = 429, body = crate::http::error::ErrorBody)))]
/// Log in with username and password; sets the session cookie.
pub async fn login_json(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    body: crate::http::api::JsonBody<LoginRequest>,
) -> Result<Response, ApiError> {
    if headers.contains_key(header::ORIGIN) && !same_origin(&headers, state.secure_cookies) {
        return Err(Error::Forbidden("cross-site login refused".into()).into());
    }
    let req = body.0;
    let (token, session, user) = attempt(&state, ip, &req.username, &req.password).await?;
    let body = LoginResponse {
        user: users::UserView::from(&user),
        csrf_token: session.csrf,
    };
    Ok((
        [(header::SET_COOKIE, session_cookie(&state, &token))],
        Json(body),
    )
        .into_response())
}

async fn logout(State(state): State<AppState>, UiAuth(who): UiAuth) -> Result<Response, UiError> {
    if let Via::Cookie { token, .. } = &who.via {
        auth::logout(&state.store, token).await?;
    }
    Ok((
        [(header::SET_COOKIE, clear_cookie(&state))],
        Redirect::to("/login"),
    )
        .into_response())
}

#[utoipa::path(delete, path = "/api/v1/session", tag = "auth", responses((status = 204)))]
/// Log out: the session is deleted on the server.
pub async fn logout_json(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiAuth(who): ApiAuth,
) -> Result<Response, ApiError> {
    if let Via::Cookie { token, .. } = &who.via {
        auth::logout(&state.store, token).await?;
    } else if let Some(token) = cookie_value(&headers, COOKIE) {
        auth::logout(&state.store, &token).await?;
    }
    Ok((
        [(header::SET_COOKIE, clear_cookie(&state))],
        StatusCode::NO_CONTENT,
    )
        .into_response())
}
