//! First start: the one-time setup link (printed in the log) creates the first admin.

use askama::Template;
use axum::Router;
use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;

use super::{Chrome, render};
use crate::domain::auth;
use crate::domain::tokens::ct_eq;
use crate::domain::users::{self, NewUser, Role};
use crate::error::Error;
use crate::http::HttpState;
use crate::http::auth::{request_lang, same_origin, session_cookie};
use crate::http::error::UiError;

pub fn router() -> Router<HttpState> {
    Router::new().route("/setup", get(page).post(submit))
}

#[derive(Template)]
#[template(path = "setup.html")]
struct SetupPage {
    chrome: Chrome,
    token: String,
    valid: bool,
    /// The administrator exists: the link has done its job.
    complete: bool,
    error: String,
    fingerprint: String,
    /// The box has a local CA to offer (`tls = "self-signed"`).
    ca: bool,
}

#[derive(Deserialize)]
struct TokenQuery {
    #[serde(default)]
    token: String,
}

#[derive(Deserialize)]
struct SetupForm {
    token: String,
    username: String,
    #[serde(default)]
    display_name: String,
    password: String,
}

/// The link is valid while no administrator exists: one made on the command line (through the
/// control socket) ends setup as surely as one made here.
async fn token_ok(state: &HttpState, token: &str) -> bool {
    let matches = state
        .setup_token
        .lock()
        .ok()
        .and_then(|g| g.as_ref().map(|t| ct_eq(t.as_bytes(), token.as_bytes())))
        .unwrap_or(false);
    if !matches {
        return false;
    }
    match state.store.read(users::admin_exists).await {
        Ok(false) => true,
        Ok(true) => {
            if let Ok(mut t) = state.setup_token.lock() {
                *t = None;
            }
            false
        }
        Err(_) => false,
    }
}

async fn page(
    State(state): State<HttpState>,
    headers: HeaderMap,
    Query(q): Query<TokenQuery>,
) -> Result<Response, UiError> {
    let lang = request_lang(&headers);
    let chrome = Chrome::new(
        &state,
        None,
        lang,
        crate::http::i18n::I18n(lang).s("setup.title"),
        "setup",
    );
    let valid = token_ok(&state, &q.token).await;
    let complete = state
        .setup_token
        .lock()
        .map(|g| g.is_none())
        .unwrap_or(false);
    let mut resp = render(&SetupPage {
        chrome,
        token: q.token,
        valid,
        complete,
        error: String::new(),
        fingerprint: state.tls_fingerprint.clone().unwrap_or_default(),
        ca: state.tls_ca.is_some(),
    })?;
    if !valid {
        *resp.status_mut() = axum::http::StatusCode::NOT_FOUND;
    }
    Ok(resp)
}

async fn submit(
    State(state): State<HttpState>,
    headers: HeaderMap,
    Form(f): Form<SetupForm>,
) -> Result<Response, UiError> {
    if headers.contains_key(header::ORIGIN) && !same_origin(&headers, state.secure_cookies) {
        return Err(Error::Forbidden("cross-site request refused".into()).into());
    }
    if !token_ok(&state, &f.token).await {
        return Err(Error::NotFound("setup link").into());
    }
    let input = NewUser {
        username: f.username,
        password: f.password,
        display_name: f.display_name,
        email: String::new(),
        extension: String::new(),
        role: Role::Admin,
        language: None,
    };
    match users::create(&state.store, &state.passwords, None, input, true).await {
        Ok(user) => {
            if let Ok(mut t) = state.setup_token.lock() {
                *t = None;
            }
            tracing::info!(user = %user.username, "setup complete: first administrator created");
            let (token, _) = auth::login(&state.store, user.id).await?;
            Ok((
                [(header::SET_COOKIE, session_cookie(&state, &token))],
                Redirect::to("/admin/start"),
            )
                .into_response())
        }
        Err(e @ (Error::Invalid { .. } | Error::Conflict(_))) => {
            let lang = request_lang(&headers);
            let chrome = Chrome::new(
                &state,
                None,
                lang,
                crate::http::i18n::I18n(lang).s("setup.title"),
                "setup",
            );
            let mut resp = render(&SetupPage {
                chrome,
                token: f.token,
                valid: true,
                complete: false,
                error: crate::http::i18n::I18n(lang).error(&e),
                fingerprint: state.tls_fingerprint.clone().unwrap_or_default(),
                ca: state.tls_ca.is_some(),
            })?;
            *resp.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
            Ok(resp)
        }
        Err(e) => Err(e.into()),
    }
}
