//! The installable app: the web app manifest, the service worker and its offline page.
//!
//! `/sw.js` is `static/sw.js` with the list of every hashed static URL and the offline page
//! written into it (and a cache name derived from that list), so a new release installs a new
//! worker that drops the old cache. It is served from the root for the scope `/`, with
//! `no-cache` so the browser checks for a new one on every visit.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sha2::{Digest, Sha256};

use super::{Chrome, render};
use crate::http::HttpState;
use crate::http::auth::request_lang;
use crate::http::error::UiError;

/// The page a navigation gets when the server cannot be reached.
pub const OFFLINE_PATH: &str = "/offline";
/// The app's colours (the top bar, the page background).
const THEME: &str = "#14332f";
const BACKGROUND: &str = "#eef1f5";

pub fn router() -> Router<HttpState> {
    Router::new()
        .route("/manifest.webmanifest", get(manifest))
        .route("/sw.js", get(worker))
        .route(OFFLINE_PATH, get(offline))
}

async fn manifest(State(state): State<HttpState>) -> Response {
    let icon = |name: &str, size: &str, purpose: &str| {
        serde_json::json!({
            "src": state.assets.url(name),
            "sizes": size,
            "type": "image/png",
            "purpose": purpose,
        })
    };
    let doc = serde_json::json!({
        "id": "/chat/external",
        "name": "Switchboard",
        "short_name": "Switchboard",
        "start_url": "/chat/external",
        "scope": "/",
        "display": "standalone",
        "theme_color": THEME,
        "background_color": BACKGROUND,
        "icons": [
            icon("icons/app-192.png", "192x192", "any"),
            icon("icons/app-512.png", "512x512", "any"),
            icon("icons/app-maskable-192.png", "192x192", "maskable"),
            icon("icons/app-maskable-512.png", "512x512", "maskable"),
        ],
    });
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/manifest+json"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        doc.to_string(),
    )
        .into_response()
}

/// `static/sw.js` with its precache list filled in.
pub fn worker_source(template: &str, shell: &[String]) -> String {
    let list = serde_json::to_string(shell).unwrap_or_else(|_| "[]".into());
    let version = hex::encode(&Sha256::digest(list.as_bytes())[..6]);
    template
        .replace("[\"__SHELL__\"]", &list)
        .replace("__VERSION__", &version)
}

async fn worker(State(state): State<HttpState>) -> Response {
    let Some(template) = crate::http::assets::raw_text("sw.js") else {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    };
    let mut shell: Vec<String> = state
        .assets
        .urls()
        .into_iter()
        .filter(|(name, _)| name != "sw.js")
        .map(|(_, url)| url)
        .collect();
    shell.push(OFFLINE_PATH.to_string());
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/javascript; charset=utf-8"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        worker_source(&template, &shell),
    )
        .into_response()
}

#[derive(Template)]
#[template(path = "offline.html")]
struct OfflinePage {
    chrome: Chrome,
}

/// "Offline — reconnecting": what the worker shows for a page it cannot load. It has no user
/// data (it is cached), checks `/healthz` every few seconds and reloads once it answers.
async fn offline(State(state): State<HttpState>, headers: HeaderMap) -> Result<Response, UiError> {
    let lang = request_lang(&headers);
    let t = crate::http::i18n::I18n(lang);
    let mut chrome = Chrome::new(&state, None, lang, t.s("pwa.offline_title"), "offline");
    chrome.page_script(&state, "offline.js");
    render(&OfflinePage { chrome })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_worker_gets_its_list_and_a_version_that_follows_it() {
        let tpl = "const SHELL = [\"__SHELL__\"];\nconst CACHE = \"sb-__VERSION__\";\n";
        let a = worker_source(tpl, &["/static/app.1.css".into(), "/offline".into()]);
        let b = worker_source(tpl, &["/static/app.2.css".into(), "/offline".into()]);
        assert!(
            a.contains("const SHELL = [\"/static/app.1.css\",\"/offline\"];"),
            "{a}"
        );
        assert!(!a.contains("__VERSION__") && !a.contains("__SHELL__"));
        assert_ne!(
            a,
            b.replace("app.2", "app.1"),
            "the cache name changes with the list"
        );
    }
}
