//! The login page and form, and logout from a page (the JSON twins are `api::session`).

use askama::Template;
use axum::Router;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{AppendHeaders, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::{Chrome, render};
use crate::domain::{auth, users};
use crate::error::Error;
use crate::http::HttpState;
use crate::http::auth::{
    ClientIp, UiAuth, Via, clear_cookie, cookie_value, device_cookie, request_lang, same_origin,
    session_cookie,
};
use crate::http::error::UiError;

pub fn router() -> Router<HttpState> {
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

#[derive(Deserialize)]
struct LoginForm {
    username: String,
    password: String,
}

async fn login_page(
    State(state): State<HttpState>,
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
    lang.s("login.title")
}

async fn login_form(
    State(state): State<HttpState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Result<Response, UiError> {
    if headers.contains_key(header::ORIGIN) && !same_origin(&headers, state.secure_cookies) {
        return Err(Error::Forbidden("cross-site login refused".into()).into());
    }
    let lang = request_lang(&headers);
    let device = cookie_value(&headers, auth::DEVICE_COOKIE);
    let attempt = auth::password_login(
        &state.store,
        &state.passwords,
        &state.throttle,
        ip,
        device.as_deref(),
        &form.username,
        &form.password,
        state.now(),
    );
    match attempt.await {
        Ok(login) => Ok((
            AppendHeaders([
                (header::SET_COOKIE, session_cookie(&state, &login.token)),
                (header::SET_COOKIE, device_cookie(&state, &login.device)),
            ]),
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

async fn logout(State(state): State<HttpState>, UiAuth(who): UiAuth) -> Result<Response, UiError> {
    if let Via::Cookie { token, .. } = &who.via {
        auth::logout(&state.store, token).await?;
    }
    Ok((
        [(header::SET_COOKIE, clear_cookie(&state))],
        Redirect::to("/login"),
    )
        .into_response())
}
