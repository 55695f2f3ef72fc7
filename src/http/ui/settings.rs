//! The user's own settings: profile, language, notifications, password, API tokens.

use crate::ids::UserId;
use askama::Template;
use axum::Router;
use axum::extract::{Form, Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;

use super::{Chrome, render};
use crate::domain::auth;
use crate::domain::users::{self, NotifySettings, UserPatch};
use crate::error::Error;
use crate::http::HttpState;
use crate::http::auth::UiAuth;
use crate::http::error::UiError;

pub fn router() -> Router<HttpState> {
    Router::new()
        .route("/settings", get(page).post(save))
        .route("/settings/password", axum::routing::post(change_password))
        .route("/sw-push.js", get(push_worker))
        .route(
            "/settings/tokens/{id}/revoke",
            axum::routing::post(revoke_token),
        )
}

/// One API token as the settings page lists it (times also as text for the first paint; the
/// script shows them in the browser's zone).
struct TokenRow {
    id: u64,
    name: String,
    created: i64,
    created_text: String,
    last_used: Option<i64>,
    last_used_text: String,
    expires: Option<i64>,
    expires_text: String,
    expired: bool,
}

fn stamp(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|d| d.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default()
}

async fn token_rows(state: &HttpState, user_id: UserId) -> Result<Vec<TokenRow>, UiError> {
    let now = state.now();
    Ok(auth::list_api_tokens(&state.store, user_id)
        .await?
        .into_iter()
        .map(|t| TokenRow {
            id: t.id,
            created_text: stamp(t.created),
            last_used_text: t.last_used.map(stamp).unwrap_or_default(),
            expires_text: t.expires.map(stamp).unwrap_or_default(),
            expired: t.expired(now),
            name: t.name,
            created: t.created,
            last_used: t.last_used,
            expires: t.expires,
        })
        .collect())
}

#[derive(Template)]
#[template(path = "settings.html")]
struct SettingsPage {
    chrome: Chrome,
    u: users::UserView,
    message: String,
    error: String,
    tokens: Vec<TokenRow>,
    /// The push section's strings for `static/settings.js`.
    push_strings: String,
    /// The box has a local CA to offer (`tls = "self-signed"`).
    ca: bool,
}

/// The push part of the service worker, at the root so it may control every page (the app's
/// `/sw.js` imports it).
async fn push_worker(State(state): State<HttpState>, headers: axum::http::HeaderMap) -> Response {
    crate::http::assets::raw(&state.assets, "sw-push.js", &headers, "no-cache")
}

#[derive(Deserialize)]
struct SettingsForm {
    display_name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    extension: String,
    #[serde(default)]
    language: String,
    #[serde(default)]
    sound: Option<String>,
    #[serde(default)]
    popups: Option<String>,
    #[serde(default)]
    desktop: Option<String>,
    #[serde(default)]
    phone_routing_off: Option<String>,
}

#[derive(Deserialize)]
struct PasswordForm {
    current: String,
    new_password: String,
    #[serde(default)]
    keep_api_tokens: Option<String>,
}

async fn page_for(
    state: &HttpState,
    who: &crate::http::auth::Authed,
    u: &users::User,
    message: &str,
    error: &str,
) -> Result<Response, UiError> {
    let tokens = token_rows(state, u.id).await?;
    let title = who.t().s("settings.title").to_string();
    let lang = u.language.unwrap_or(who.lang);
    let mut chrome = Chrome::new(state, Some(who), lang, &title, "settings");
    chrome.page_script(state, "settings.js");
    render(&SettingsPage {
        push_strings: crate::http::i18n::I18n(lang).bundle(&["push."]),
        ca: state.tls_ca.is_some(),
        chrome,
        u: users::UserView::from(u),
        message: message.into(),
        error: error.into(),
        tokens,
    })
}

async fn page(State(state): State<HttpState>, UiAuth(who): UiAuth) -> Result<Response, UiError> {
    let u = who.user.clone();
    page_for(&state, &who, &u, "", "").await
}

async fn save(
    State(state): State<HttpState>,
    UiAuth(who): UiAuth,
    Form(f): Form<SettingsForm>,
) -> Result<Response, UiError> {
    let language = crate::http::i18n::lang_from_code(&f.language);
    let patch = UserPatch {
        display_name: Some(f.display_name),
        email: Some(f.email),
        extension: Some(f.extension),
        language: Some(language),
        notify: Some(NotifySettings {
            sound: f.sound.is_some(),
            popups: f.popups.is_some(),
            desktop: f.desktop.is_some(),
        }),
        phone_routing_off: Some(f.phone_routing_off.is_some()),
        role: None,
        disabled: None,
    };
    match users::update(&state.store, who.id(), who.id(), patch, false).await {
        Ok(u) => {
            state.presence.set_phone_opt_out(u.id, u.phone_routing_off);
            let msg = crate::http::i18n::I18n(u.language.unwrap_or(who.lang))
                .s("settings.saved")
                .to_string();
            page_for(&state, &who, &u, &msg, "").await
        }
        Err(e @ Error::Invalid { .. }) => {
            let u = who.user.clone();
            let mut r = page_for(&state, &who, &u, "", &who.t().error(&e)).await?;
            *r.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
            Ok(r)
        }
        Err(e) => Err(e.into()),
    }
}

async fn change_password(
    State(state): State<HttpState>,
    UiAuth(who): UiAuth,
    Form(f): Form<PasswordForm>,
) -> Result<Response, UiError> {
    let changed = users::change_own_password(
        &state.store,
        &state.passwords,
        &who.user,
        &f.current,
        &f.new_password,
        f.keep_api_tokens.is_some(),
    );
    let error = match changed.await {
        Ok(()) => return Ok(Redirect::to("/login").into_response()),
        Err(Error::Invalid { field, .. }) if field == "current" => {
            who.t().s("settings.current_wrong").to_string()
        }
        Err(e @ Error::Invalid { .. }) => who.t().error(&e),
        Err(e) => return Err(e.into()),
    };
    let u = who.user.clone();
    let mut r = page_for(&state, &who, &u, "", &error).await?;
    *r.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    Ok(r)
}

/// Revoke one of the user's own API tokens, then show the page again with a confirmation.
async fn revoke_token(
    State(state): State<HttpState>,
    UiAuth(who): UiAuth,
    Path(id): Path<u64>,
) -> Result<Response, UiError> {
    auth::revoke_api_token(&state.store, Some(&who.user), who.id(), id).await?;
    let u = who.user.clone();
    let msg = who.t().s("settings.token_revoked").to_string();
    page_for(&state, &who, &u, &msg, "").await
}
