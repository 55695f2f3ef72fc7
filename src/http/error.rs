//! One domain error, two renderings: `{"error":{"code","message"}}` for the API, a readable page
//! (or a redirect to the login page) for the UI. Internal causes are logged, never shown.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Serialize;

use crate::error::Error;

/// API error: JSON body.
#[derive(Debug)]
pub struct ApiError(pub Error);

/// UI error: HTML page.
#[derive(Debug)]
pub struct UiError(pub Error);

impl<E: Into<Error>> From<E> for ApiError {
    fn from(e: E) -> Self {
        ApiError(e.into())
    }
}
impl<E: Into<Error>> From<E> for UiError {
    fn from(e: E) -> Self {
        UiError(e.into())
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code, e.g. `not_found`, `invalid`, `rule`.
    pub code: String,
    pub message: String,
}

fn log(e: &Error) {
    match e {
        Error::Internal(cause) => tracing::error!(%cause, "internal error"),
        Error::Storage(cause) => tracing::error!(%cause, "storage error"),
        // The store logs why it refuses (a full disk: once a minute with a count); a line per
        // refused request would fill the journal as fast as providers retry.
        Error::Unavailable(cause) => tracing::debug!(%cause, "unavailable"),
        _ => tracing::debug!(error = %e, "request refused"),
    }
}

fn status(e: &Error) -> StatusCode {
    StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

fn retry_after(e: &Error, resp: &mut Response) {
    let secs = match e {
        Error::RateLimited { retry_after_secs } => Some(*retry_after_secs),
        Error::Unavailable(_) => Some(5),
        _ => None,
    };
    if let Some(s) = secs
        && let Ok(v) = HeaderValue::from_str(&s.to_string())
    {
        resp.headers_mut().insert(header::RETRY_AFTER, v);
    }
}

/// The error behind an error response, kept on the response so `localize` can say it again in
/// the reader's language (it knows the request; these renderings do not).
#[derive(Clone, Debug)]
pub struct Localize {
    pub error: Error,
    pub html: bool,
}

pub fn json_error(e: &Error) -> Response {
    let mut resp = json_error_in(e, &e.public_message());
    resp.extensions_mut().insert(Localize {
        error: e.clone(),
        html: false,
    });
    resp
}

/// The JSON error body with `message` (already in the reader's language).
pub fn json_error_in(e: &Error, message: &str) -> Response {
    log(e);
    let body = ErrorBody {
        error: ErrorDetail {
            code: e.code().into(),
            message: message.to_string(),
        },
    };
    let mut resp = (status(e), Json(body)).into_response();
    retry_after(e, &mut resp);
    resp
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        json_error(&self.0)
    }
}

impl IntoResponse for UiError {
    fn into_response(self) -> Response {
        let e = self.0;
        if matches!(e, Error::Unauthorized(_)) {
            return Redirect::to("/login").into_response();
        }
        log(&e);
        let mut resp = error_page_in(&e, super::i18n::I18n(crate::domain::users::Lang::EN));
        resp.extensions_mut().insert(Localize {
            error: e,
            html: true,
        });
        resp
    }
}

/// The error page for `e` in the language of `t`.
pub fn error_page_in(e: &Error, t: super::i18n::I18n) -> Response {
    {
        let title = t.s(match e.status() {
            404 => "err.not_found",
            403 => "err.forbidden",
            429 => "err.slow_down",
            500 => "err.internal",
            503 => "err.unavailable",
            _ => "err.cannot",
        });
        let page = super::ui::error_page(t, title, &t.error(e), e.status());
        let mut resp = (status(e), Html(page)).into_response();
        // A static page with escaped text and its own small <style>: no script at all.
        resp.headers_mut().insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"),
        );
        retry_after(e, &mut resp);
        resp
    }
}
