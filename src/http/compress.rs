//! gzip for pages and JSON answers (static files are compressed once at start-up in
//! [`super::assets`]). A phone on a slow link loads a conversation's 100 messages as ~5 KB
//! instead of ~33 KB, and an HTML page as a fifth of its size.
//!
//! Only whole bodies whose size is known up front (rendered templates, JSON values) between
//! [`MIN`] and [`MAX`] bytes are compressed, at gzip's fastest level (a few hundred µs for the
//! largest page, on the request's task). Streams — the event stream, file downloads, ranges — pass
//! untouched, as does anything already encoded or asked for by a client that does not take gzip.

use std::io::Write as _;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use http_body::Body as _;

/// Below this the gzip header and the lost `Content-Length` cost more than they save.
pub const MIN: u64 = 1024;
/// Above this the answer is not buffered a second time (none of ours comes close).
pub const MAX: u64 = 8 * 1024 * 1024;

/// Is this a content type worth compressing (HTML, JSON)?
fn compressible(ct: &str) -> bool {
    let essence = ct.split(';').next().unwrap_or("").trim();
    essence.eq_ignore_ascii_case("text/html")
        || essence.eq_ignore_ascii_case("application/json")
        || essence.eq_ignore_ascii_case("application/problem+json")
}

pub async fn gzip(req: Request, next: Next) -> Response {
    let wants = req.method() != Method::HEAD && super::assets::accepts_gzip(req.headers());
    let resp = next.run(req).await;
    if !wants
        || matches!(
            resp.status(),
            StatusCode::PARTIAL_CONTENT | StatusCode::NO_CONTENT | StatusCode::NOT_MODIFIED
        )
        || resp.headers().contains_key(header::CONTENT_ENCODING)
        || !resp
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(compressible)
    {
        return resp;
    }
    let Some(len) = resp.body().size_hint().exact() else {
        return resp;
    };
    if !(MIN..=MAX).contains(&len) {
        return resp;
    }
    let (mut parts, body) = resp.into_parts();
    // The size is known and capped, so this only gathers what is already in memory.
    let bytes = match axum::body::to_bytes(body, MAX as usize).await {
        Ok(b) => b,
        Err(_) => {
            return Response::from_parts(parts, Body::empty());
        }
    };
    let mut enc = flate2::write::GzEncoder::new(
        Vec::with_capacity(bytes.len() / 3),
        flate2::Compression::fast(),
    );
    let packed = enc.write_all(&bytes).and_then(|()| enc.finish());
    let h = &mut parts.headers;
    h.append(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    match packed {
        Ok(gz) if gz.len() < bytes.len() => {
            h.remove(header::CONTENT_LENGTH);
            h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            Response::from_parts(parts, Body::from(gz))
        }
        _ => Response::from_parts(parts, Body::from(bytes)),
    }
}

#[cfg(test)]
mod tests {
    use super::compressible;

    #[test]
    fn compresses_pages_and_json_only() {
        assert!(compressible("text/html; charset=utf-8"));
        assert!(compressible("application/json"));
        assert!(!compressible("text/event-stream"));
        assert!(!compressible("image/png"));
        assert!(!compressible("application/octet-stream"));
    }
}
