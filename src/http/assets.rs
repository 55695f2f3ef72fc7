//! `static/` embedded in the binary, served at content-hashed URLs with a one-year cache.

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rust_embed::RustEmbed;

use super::HttpState;

#[derive(RustEmbed)]
#[folder = "static/"]
struct Static;

/// Maps `app.css` to `/static/app.3f9a1c2b7d.css` and back.
#[derive(Default)]
pub struct Assets {
    by_name: HashMap<String, String>,
    by_hashed: HashMap<String, String>,
}

impl Assets {
    pub fn load() -> Self {
        let mut a = Assets::default();
        for name in Static::iter() {
            let Some(file) = Static::get(&name) else {
                continue;
            };
            let hash = hex::encode(&file.metadata.sha256_hash()[..5]);
            let hashed = match name.rsplit_once('.') {
                Some((stem, ext)) => format!("{stem}.{hash}.{ext}"),
                None => format!("{name}.{hash}"),
            };
            a.by_name
                .insert(name.to_string(), format!("/static/{hashed}"));
            a.by_hashed.insert(hashed, name.to_string());
        }
        a
    }

    /// The cache-busting URL of a static file (the plain path if unknown).
    pub fn url(&self, name: &str) -> String {
        self.by_name
            .get(name)
            .cloned()
            .unwrap_or_else(|| format!("/static/{name}"))
    }
}

pub fn content_type(name: &str) -> &'static str {
    match name.rsplit('.').next().unwrap_or("") {
        "css" => "text/css; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "mp3" => "audio/mpeg",
        "wav" => "audio/wav",
        "json" => "application/json",
        _ => "application/octet-stream",
    }
}

pub async fn serve(State(state): State<HttpState>, Path(path): Path<String>) -> Response {
    let Some(name) = state.assets.by_hashed.get(&path) else {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    };
    raw(name, "public, max-age=31536000, immutable")
}

/// Serves an embedded file under a fixed name (e.g. `/widget.js`) with a short cache.
pub fn raw(name: &str, cache: &'static str) -> Response {
    match Static::get(name) {
        Some(file) => {
            let mut resp = file.data.into_owned().into_response();
            let h = resp.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(content_type(name)),
            );
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
            resp
        }
        None => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}
