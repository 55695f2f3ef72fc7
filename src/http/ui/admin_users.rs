//! Admin: users (create, edit, disable, reset password) and the audit log.

use askama::Template;
use axum::Router;
use axum::extract::{Form, Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::{Chrome, render};
use crate::domain::audit::{self, AuditEntry};
use crate::domain::users::{self, Lang, NewUser, Role, UserPatch, UserView};
use crate::error::Error;
use crate::http::HttpState;
use crate::http::auth::{Authed, UiAdmin};
use crate::http::error::UiError;

pub fn router() -> Router<HttpState> {
    Router::new()
        .route("/admin", get(|| async { Redirect::to("/admin/users") }))
        .route("/admin/users", get(list).post(create))
        .route("/admin/users/{id}", post(edit))
        .route("/admin/users/{id}/password", post(reset_password))
        .route("/admin/audit", get(audit_page))
}

#[derive(Template)]
#[template(path = "admin_users.html")]
struct UsersPage {
    chrome: Chrome,
    users: Vec<UserView>,
    error: String,
}

#[derive(Template)]
#[template(path = "admin_audit.html")]
struct AuditPage {
    chrome: Chrome,
    entries: Vec<AuditEntry>,
}

#[derive(Deserialize)]
struct CreateForm {
    username: String,
    password: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    extension: String,
    role: Role,
}

#[derive(Deserialize)]
struct EditForm {
    display_name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    extension: String,
    role: Role,
    #[serde(default)]
    disabled: Option<String>,
}

#[derive(Deserialize)]
struct PasswordForm {
    password: String,
}

async fn page(state: &HttpState, who: &Authed, error: String) -> Result<Response, UiError> {
    let mut users: Vec<UserView> = state
        .store
        .read(users::list)
        .await?
        .iter()
        .map(UserView::from)
        .collect();
    users.sort_by(|a, b| a.username.cmp(&b.username));
    let title = who.t().s("users.title").to_string();
    let chrome = Chrome::new(state, Some(who), who.lang, &title, "admin");
    let status = if error.is_empty() { 200 } else { 422 };
    let mut r = render(&UsersPage {
        chrome,
        users,
        error,
    })?;
    if status != 200 {
        *r.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(r)
}

async fn list(State(state): State<HttpState>, UiAdmin(who): UiAdmin) -> Result<Response, UiError> {
    page(&state, &who, String::new()).await
}

fn form_error(e: Error) -> Result<String, UiError> {
    match e {
        Error::Invalid { .. } | Error::Conflict(_) => Ok(e.public_message()),
        other => Err(other.into()),
    }
}

async fn create(
    State(state): State<HttpState>,
    UiAdmin(who): UiAdmin,
    Form(f): Form<CreateForm>,
) -> Result<Response, UiError> {
    let input = NewUser {
        username: f.username,
        password: f.password,
        display_name: f.display_name,
        email: f.email,
        extension: f.extension,
        role: f.role,
        language: None::<Lang>,
    };
    match users::create(&state.store, &state.passwords, Some(who.id()), input, false).await {
        Ok(_) => Ok(Redirect::to("/admin/users").into_response()),
        Err(e) => page(&state, &who, form_error(e)?).await,
    }
}

async fn edit(
    State(state): State<HttpState>,
    UiAdmin(who): UiAdmin,
    Path(id): Path<u64>,
    Form(f): Form<EditForm>,
) -> Result<Response, UiError> {
    let patch = UserPatch {
        display_name: Some(f.display_name),
        email: Some(f.email),
        extension: Some(f.extension),
        role: Some(f.role),
        disabled: Some(f.disabled.is_some()),
        ..Default::default()
    };
    match users::update(&state.store, who.id(), id, patch, true).await {
        Ok(_) => Ok(Redirect::to("/admin/users").into_response()),
        Err(e) => page(&state, &who, form_error(e)?).await,
    }
}

async fn reset_password(
    State(state): State<HttpState>,
    UiAdmin(who): UiAdmin,
    Path(id): Path<u64>,
    Form(f): Form<PasswordForm>,
) -> Result<Response, UiError> {
    match users::set_password(
        &state.store,
        &state.passwords,
        Some(who.id()),
        id,
        &f.password,
        false,
    )
    .await
    {
        Ok(_) => Ok(Redirect::to("/admin/users").into_response()),
        Err(e) => page(&state, &who, form_error(e)?).await,
    }
}

async fn audit_page(
    State(state): State<HttpState>,
    UiAdmin(who): UiAdmin,
) -> Result<Response, UiError> {
    let entries = state.store.read(|rtx| audit::list(rtx, None, 500)).await?;
    let chrome = Chrome::new(&state, Some(&who), who.lang, "Audit", "admin");
    render(&AuditPage { chrome, entries })
}
