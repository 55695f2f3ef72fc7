//! Server-rendered pages (askama), progressively enhanced by `static/app.js`.

mod admin_channels;
mod admin_users;
mod automation;
mod chat;
mod directory;
mod inbox;
mod login;
mod onboarding;
mod pwa;
mod settings;
mod setup;
mod trust;
mod workflow_admin;

use askama::Template;
use axum::Router;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;

use super::HttpState;
use super::auth::{Authed, UiAuth};
use super::error::UiError;
use super::i18n::I18n;
use crate::domain::users::{Lang, UserView};

pub fn router() -> Router<HttpState> {
    Router::new()
        .route("/", get(home))
        .merge(login::router())
        .merge(setup::router())
        .merge(trust::router())
        .merge(settings::router())
        .merge(admin_users::router())
        .merge(workflow_admin::router())
        .merge(directory::router())
        .merge(inbox::router())
        .merge(admin_channels::router())
        .merge(automation::router())
        .merge(onboarding::router())
        .merge(chat::router())
        .merge(pwa::router())
}

/// What every page's frame needs.
pub struct Chrome {
    pub t: I18n,
    pub title: String,
    pub user: Option<UserView>,
    pub csrf: String,
    pub css: String,
    pub js: String,
    /// The app icon (favicon, apple-touch-icon; the manifest lists the others).
    pub icon: String,
    /// Which navigation entry is active.
    pub nav: &'static str,
    /// The event-log position the page was rendered at (`data-seq`): the page's script resumes
    /// the event stream from here, so nothing between render and connect is missed.
    pub seq: Option<u64>,
    /// UI strings for the scripts (JSON, in a data attribute).
    pub strings: String,
    /// A page-specific script after `app.js` (set with [`Chrome::page_script`]).
    pub page_js: Option<String>,
    /// Every module the page's scripts import statically: `<link rel="modulepreload">`.
    pub preload: Vec<String>,
}

impl Chrome {
    pub fn new(
        state: &HttpState,
        who: Option<&Authed>,
        lang: Lang,
        title: &str,
        nav: &'static str,
    ) -> Self {
        Self {
            t: I18n(lang),
            title: title.to_string(),
            user: who.map(|a| UserView::from(&a.user)),
            csrf: who.map(|a| a.csrf().to_string()).unwrap_or_default(),
            css: state.assets.url("app.css"),
            js: state.assets.url("app.js"),
            icon: state.assets.url("icons/app-192.png"),
            nav,
            seq: None,
            strings: if who.is_some() {
                I18n(lang).bundle(&[
                    "inbox.",
                    "tl.",
                    "ch.",
                    "common.",
                    "pbx.phone.",
                    "pbx.call.",
                    "pbx.disp.",
                    "call.state.",
                    "pbx.pop.",
                    "lang.of_",
                ])
            } else {
                String::new()
            },
            page_js: None,
            preload: state.assets.module_graph("app.js", &[]),
        }
    }

    /// Loads the page's own script `name` (`inbox.js`) after `app.js`, preloading its modules.
    pub fn page_script(&mut self, state: &HttpState, name: &str) {
        let mut skip = self.preload.clone();
        skip.push(self.js.clone());
        let more = state.assets.module_graph(name, &skip);
        self.preload.extend(more);
        self.page_js = Some(state.assets.url(name));
    }
    pub fn is_admin(&self) -> bool {
        self.user
            .as_ref()
            .is_some_and(|u| u.role == crate::domain::users::Role::Admin)
    }
}

pub fn render(t: &impl Template) -> Result<Response, UiError> {
    let html = t
        .render()
        .map_err(|e| crate::error::Error::Internal(format!("template: {e}")))?;
    Ok(Html(html).into_response())
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    t: I18n,
    title: &'a str,
    message: &'a str,
    status: u16,
}

/// A self-contained error page (no state needed, so it works from any failure path).
pub fn error_page(t: I18n, title: &str, message: &str, status: u16) -> String {
    ErrorPage {
        t,
        title,
        message,
        status,
    }
    .render()
    .unwrap_or_else(|_| format!("<!doctype html><title>{status}</title><p>{status}</p>"))
}

async fn home(who: Option<UiAuth>) -> Response {
    match who {
        Some(_) => Redirect::to("/chat/external").into_response(),
        None => Redirect::to("/login").into_response(),
    }
}
