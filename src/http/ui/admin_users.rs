//! Admin: users (create, edit, disable, reset password) and the audit log.

use crate::ids::UserId;
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
use crate::http::i18n::I18n;

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
    entries: Vec<AuditRow>,
}

/// One audit entry as people read it: who by name, what it touched by name, local time.
struct AuditRow {
    at: i64,
    utc: String,
    who: String,
    action: String,
    target: String,
    detail: String,
}

/// "user:3" → the user's display name, "channel:4" → the channel's name, "contact:9" → the
/// contact's name or number; anything else stays as recorded.
fn audit_rows(
    rtx: &redb::ReadTransaction,
    entries: Vec<AuditEntry>,
    system: &str,
    deleted: &str,
    lang: crate::locale::Lang,
) -> crate::error::Result<Vec<AuditRow>> {
    let people = crate::domain::users::list(rtx)?;
    let chans = crate::domain::channels::list(rtx)?;
    let templates = crate::domain::templates::list(rtx)?;
    let user_name = |id: UserId| {
        people
            .iter()
            .find(|u| u.id == id)
            .map_or_else(|| deleted.to_string(), |u| u.display_name.clone())
    };
    let mut rows = Vec::with_capacity(entries.len());
    for e in entries {
        let target = match e.target.split_once(':') {
            Some(("user", id)) => id.parse().map_or_else(|_| e.target.clone(), user_name),
            Some(("channel", id)) => match id.parse::<u64>() {
                Ok(id) => chans
                    .iter()
                    .find(|c| c.id == id)
                    .map_or_else(|| deleted.to_string(), |c| c.name.clone()),
                Err(_) => e.target.clone(),
            },
            Some(("contact", id)) => match id.parse::<crate::ids::ContactId>() {
                Ok(id) => crate::domain::contacts::get(rtx, id)?
                    .map_or_else(|| deleted.to_string(), |c| c.label().to_string()),
                Err(_) => e.target.clone(),
            },
            Some(("template", id)) => match id.parse::<u64>() {
                Ok(id) => templates.iter().find(|t| t.id == id).map_or_else(
                    || deleted.to_string(),
                    |t| format!("{} ({})", t.name, t.language),
                ),
                Err(_) => e.target.clone(),
            },
            _ => e.target.clone(),
        };
        let detail = if e.phrases.is_empty() {
            e.detail
        } else {
            e.phrases
                .iter()
                .map(|p| p.render(lang))
                .collect::<Vec<_>>()
                .join(", ")
        };
        rows.push(AuditRow {
            at: e.at,
            utc: super::admin_channels::utc(&&e.at),
            who: e.actor.map_or_else(|| system.to_string(), user_name),
            action: e.action,
            target,
            detail,
        });
    }
    Ok(rows)
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

fn form_error(t: crate::http::i18n::I18n, e: Error) -> Result<String, UiError> {
    match e {
        Error::Invalid { .. } | Error::Conflict(_) => Ok(t.error(&e)),
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
        Err(e) => page(&state, &who, form_error(who.t(), e)?).await,
    }
}

async fn edit(
    State(state): State<HttpState>,
    UiAdmin(who): UiAdmin,
    Path(id): Path<UserId>,
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
        Err(e) => page(&state, &who, form_error(who.t(), e)?).await,
    }
}

async fn reset_password(
    State(state): State<HttpState>,
    UiAdmin(who): UiAdmin,
    Path(id): Path<UserId>,
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
        Err(e) => page(&state, &who, form_error(who.t(), e)?).await,
    }
}

async fn audit_page(
    State(state): State<HttpState>,
    UiAdmin(who): UiAdmin,
) -> Result<Response, UiError> {
    let t = I18n(who.lang);
    let (system, deleted) = (t.s("aud.system"), t.s("aud.deleted"));
    let mut entries = state
        .store
        .read(move |rtx| audit_rows(rtx, audit::list(rtx, None, 500)?, system, deleted, who.lang))
        .await?;
    for e in &mut entries {
        e.action = t.dynamic("aud.act.", &e.action).to_string();
    }
    let chrome = Chrome::new(&state, Some(&who), who.lang, t.s("aud.title"), "admin");
    render(&AuditPage { chrome, entries })
}
