//! "Trust this box": with `tls = "self-signed"` the server certificate comes from a local CA
//! (src/tls.rs). `/ca` shows a QR code of the CA's download link and short steps per platform;
//! `/ca.crt` is the CA in DER (`application/x-x509-ca-cert`, what Android and iOS install),
//! `/ca.pem` the same in PEM, `/ca-qr.svg` the QR code. Public: a phone scans the code before
//! anyone signs in on it. With `tls = off` or an admin's own certificate all four are 404.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::{Chrome, render};
use crate::http::HttpState;
use crate::http::auth::request_lang;
use crate::http::error::UiError;

pub fn router() -> Router<HttpState> {
    Router::new()
        .route("/ca", get(page))
        .route("/ca.crt", get(der))
        .route("/ca.pem", get(pem))
        .route("/ca-qr.svg", get(qr))
}

/// The platforms the page gives steps for, with their string keys' stem and step count.
const PLATFORMS: &[(&str, &str, usize)] = &[
    ("Android", "ca.android", 3),
    ("iPhone / iPad (iOS)", "ca.ios", 3),
    ("Windows", "ca.windows", 3),
    ("macOS", "ca.macos", 3),
];

struct Platform {
    name: &'static str,
    steps: Vec<&'static str>,
}

#[derive(Template)]
#[template(path = "ca.html")]
struct CaPage {
    chrome: Chrome,
    url: String,
    fingerprint: String,
    platforms: Vec<Platform>,
}

/// Where a device reaches the download: the address this page was opened at (what the
/// person's browser used, so usually reachable from a phone on the same network), else the
/// configured public URL.
fn download_url(state: &HttpState, headers: &HeaderMap) -> String {
    let scheme = if state.public_url.starts_with("https://") {
        "https"
    } else {
        "http"
    };
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.len() <= 255
                && h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
        });
    match host {
        Some(h) => format!("{scheme}://{h}/ca.crt"),
        None => format!("{}/ca.crt", state.public_url),
    }
}

async fn page(State(state): State<HttpState>, headers: HeaderMap) -> Result<Response, UiError> {
    let Some(ca) = &state.tls_ca else {
        return Ok(not_found());
    };
    let lang = request_lang(&headers);
    let t = crate::http::i18n::I18n(lang);
    let chrome = Chrome::new(&state, None, lang, t.s("ca.title"), "ca");
    let platforms = PLATFORMS
        .iter()
        .map(|(name, stem, n)| Platform {
            name,
            steps: (1..=*n).map(|i| t.s(ca_key(stem, i))).collect(),
        })
        .collect();
    render(&CaPage {
        chrome,
        url: download_url(&state, &headers),
        fingerprint: ca.fingerprint.clone(),
        platforms,
    })
}

/// The string key of step `i` (1-based) of a platform.
fn ca_key(stem: &str, i: usize) -> &'static str {
    const KEYS: &[&str] = &[
        "ca.android_1",
        "ca.android_2",
        "ca.android_3",
        "ca.ios_1",
        "ca.ios_2",
        "ca.ios_3",
        "ca.windows_1",
        "ca.windows_2",
        "ca.windows_3",
        "ca.macos_1",
        "ca.macos_2",
        "ca.macos_3",
    ];
    KEYS.iter()
        .find(|k| k.strip_prefix(stem).and_then(|r| r.strip_prefix('_')) == Some(&i.to_string()))
        .copied()
        .unwrap_or("ca.title")
}

fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        "no local certificate authority (tls is not \"self-signed\")",
    )
        .into_response()
}

fn download(body: Vec<u8>, content_type: &'static str, filename: &'static str) -> Response {
    let mut r = body.into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static(filename),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    r
}

async fn der(State(state): State<HttpState>) -> Response {
    match &state.tls_ca {
        Some(ca) => download(
            ca.der.clone(),
            "application/x-x509-ca-cert",
            "attachment; filename=\"switchboard-ca.crt\"",
        ),
        None => not_found(),
    }
}

async fn pem(State(state): State<HttpState>) -> Response {
    match &state.tls_ca {
        Some(ca) => download(
            ca.pem.clone().into_bytes(),
            "application/x-pem-file",
            "attachment; filename=\"switchboard-ca.pem\"",
        ),
        None => not_found(),
    }
}

async fn qr(State(state): State<HttpState>, headers: HeaderMap) -> Response {
    if state.tls_ca.is_none() {
        return not_found();
    }
    let url = download_url(&state, &headers);
    match qrcode::QrCode::new(url.as_bytes()) {
        Ok(code) => {
            let svg = code
                .render::<qrcode::render::svg::Color<'_>>()
                .min_dimensions(240, 240)
                .quiet_zone(true)
                .build();
            let mut r = svg.into_response();
            let h = r.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("image/svg+xml"),
            );
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
            r
        }
        Err(_) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "address too long for a QR code",
        )
            .into_response(),
    }
}
