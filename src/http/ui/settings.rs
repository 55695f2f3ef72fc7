//! The user's own settings: profile, language, notifications, password.

use askama::Template;
use axum::Router;
use axum::extract::{Form, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;

use super::{Chrome, render};
use crate::domain::users::{self, Lang, NotifySettings, UserPatch};
use crate::error::Error;
use crate::http::HttpState;
use crate::http::auth::UiAuth;
use crate::http::error::UiError;

pub fn router() -> Router<HttpState> {
    Router::new()
        .route("/settings", get(page).post(save))
        .route("/settings/password", axum::routing::post(change_password))
}

#[derive(Template)]
#[template(path = "settings.html")]
struct SettingsPage {
    chrome: Chrome,
    u: users::UserView,
    message: String,
    error: String,
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
}

#[derive(Deserialize)]
struct PasswordForm {
    current: String,
    new_password: String,
}

fn page_for(
    state: &HttpState,
    who: &crate::http::auth::Authed,
    u: &users::User,
    message: &str,
    error: &str,
) -> Result<Response, UiError> {
    let title = who.t().s("settings.title").to_string();
    let chrome = Chrome::new(
        state,
        Some(who),
        u.language.unwrap_or(who.lang),
        &title,
        "settings",
    );
    render(&SettingsPage {
        chrome,
        u: users::UserView::from(u),
        message: message.into(),
        error: error.into(),
    })
}

async fn page(State(state): State<HttpState>, UiAuth(who): UiAuth) -> Result<Response, UiError> {
    let u = who.user.clone();
    page_for(&state, &who, &u, "", "")
}

async fn save(
    State(state): State<HttpState>,
    UiAuth(who): UiAuth,
    Form(f): Form<SettingsForm>,
) -> Result<Response, UiError> {
    let language = match f.language.as_str() {
        "en" => Some(Lang::En),
        "de" => Some(Lang::De),
        _ => None,
    };
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
        role: None,
        disabled: None,
    };
    match users::update(&state.store, who.id(), who.id(), patch, false).await {
        Ok(u) => {
            let msg = crate::http::i18n::I18n(u.language.unwrap_or(who.lang))
                .s("settings.saved")
                .to_string();
            page_for(&state, &who, &u, &msg, "")
        }
        Err(e @ Error::Invalid { .. }) => {
            let u = who.user.clone();
            let mut r = page_for(&state, &who, &u, "", &e.public_message())?;
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
    );
    let error = match changed.await {
        Ok(()) => return Ok(Redirect::to("/login").into_response()),
        Err(Error::Invalid { field, .. }) if field == "current" => {
            "current password is wrong".to_string()
        }
        Err(e @ Error::Invalid { .. }) => e.public_message(),
        Err(e) => return Err(e.into()),
    };
    let u = who.user.clone();
    let mut r = page_for(&state, &who, &u, "", &error)?;
    *r.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    Ok(r)
}
