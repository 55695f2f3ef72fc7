//! Serving stored files: single byte ranges (206/416), ETag / If-None-Match (304), HEAD,
//! a safe Content-Disposition (RFC 6266 `filename*=`), `nosniff`. Shared by the API download
//! and the signed public `/media/…` links.

use std::ops::Range;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::Response;

use crate::domain::attachments::{self, Attachment, State};
use crate::error::{Error, Result};
use crate::store::Store;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RangeReq {
    Full,
    Partial(Range<u64>),
    Unsatisfiable,
}

/// Parses a `Range` header for a file of `size` bytes. Only one range is served; several
/// ranges, other units and malformed headers are ignored (200 with the whole file), as
/// RFC 9110 allows.
pub fn parse_range(value: Option<&str>, size: u64) -> RangeReq {
    let Some(spec) = value.and_then(|v| v.trim().strip_prefix("bytes=")) else {
        return RangeReq::Full;
    };
    if spec.contains(',') {
        return RangeReq::Full;
    }
    let Some((a, b)) = spec.trim().split_once('-') else {
        return RangeReq::Full;
    };
    let (a, b) = (a.trim(), b.trim());
    let num = |s: &str| s.parse::<u64>().ok();
    match (a.is_empty(), b.is_empty()) {
        // bytes=-N: the last N bytes.
        (true, false) => match num(b) {
            Some(0) => RangeReq::Unsatisfiable,
            Some(_) if size == 0 => RangeReq::Unsatisfiable,
            Some(n) => RangeReq::Partial(size - n.min(size)..size),
            None => RangeReq::Full,
        },
        (false, _) => {
            let Some(start) = num(a) else {
                return RangeReq::Full;
            };
            let end = if b.is_empty() {
                Some(size)
            } else {
                num(b).map(|e| e.saturating_add(1).min(size))
            };
            match end {
                None => RangeReq::Full,
                Some(_) if !b.is_empty() && num(b).is_some_and(|e| e < start) => RangeReq::Full,
                Some(_) if start >= size => RangeReq::Unsatisfiable,
                Some(end) => RangeReq::Partial(start..end),
            }
        }
        (true, true) => RangeReq::Full,
    }
}

/// Shown in the browser (images, audio, video, PDF, plain text) or downloaded (everything else).
pub fn is_inline(mime: &str) -> bool {
    mime.starts_with("image/")
        || mime.starts_with("audio/")
        || mime.starts_with("video/")
        || mime.starts_with("text/")
        || mime == "application/pdf"
}

/// `inline|attachment; filename="ascii fallback"; filename*=UTF-8''percent-encoded`.
pub fn content_disposition(name: &str, mime: &str) -> String {
    let kind = if is_inline(mime) {
        "inline"
    } else {
        "attachment"
    };
    let fallback: String = name
        .chars()
        .map(|c| {
            if (c.is_ascii_graphic() || c == ' ') && !matches!(c, '"' | '\\' | '%' | ';') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut encoded = String::with_capacity(name.len() * 3);
    for b in name.bytes() {
        if b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'!' | b'#' | b'$' | b'&' | b'+' | b'-' | b'.' | b'^' | b'_' | b'`' | b'|' | b'~'
            )
        {
            encoded.push(b as char);
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("{kind}; filename=\"{fallback}\"; filename*=UTF-8''{encoded}")
}

fn etag_matches(value: Option<&str>, etag: &str) -> bool {
    value.is_some_and(|v| {
        v.split(',')
            .map(|t| t.trim().trim_start_matches("W/"))
            .any(|t| t == "*" || t == etag)
    })
}

fn hv(s: &str) -> HeaderValue {
    HeaderValue::from_str(s).unwrap_or_else(|_| HeaderValue::from_static("invalid"))
}

/// The response for a download of `att` (already authorised).
pub fn serve(
    store: Store,
    att: &Attachment,
    method: &Method,
    headers: &HeaderMap,
) -> Result<Response> {
    if att.state == State::Expired {
        return Err(Error::Gone("file expired".into()));
    }
    let etag = format!("\"{}\"", att.sha256);
    let mut b = Response::builder()
        .header(header::ETAG, hv(&etag))
        .header(header::CACHE_CONTROL, "private, max-age=3600")
        .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
        .header(header::ACCEPT_RANGES, "bytes");
    let get = |h: header::HeaderName| headers.get(h).and_then(|v| v.to_str().ok());
    if etag_matches(get(header::IF_NONE_MATCH), &etag) {
        return b
            .status(StatusCode::NOT_MODIFIED)
            .body(Body::empty())
            .map_err(Error::internal);
    }
    let range_header = match get(header::IF_RANGE) {
        Some(v) if v.trim() != etag => None,
        _ => get(header::RANGE),
    };
    let content_type = if att.content_type.starts_with("text/") {
        format!("{}; charset=utf-8", att.content_type)
    } else {
        att.content_type.clone()
    };
    b = b
        .header(header::CONTENT_TYPE, hv(&content_type))
        .header(
            header::CONTENT_DISPOSITION,
            hv(&content_disposition(&att.name, &att.content_type)),
        )
        // Files never run script in our origin, whatever they contain.
        .header(
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; img-src 'self'; media-src 'self'; style-src 'unsafe-inline'",
        );
    let (status, range) = match parse_range(range_header, att.size) {
        RangeReq::Full => (StatusCode::OK, 0..att.size),
        RangeReq::Partial(r) => {
            b = b.header(
                header::CONTENT_RANGE,
                hv(&format!("bytes {}-{}/{}", r.start, r.end - 1, att.size)),
            );
            (StatusCode::PARTIAL_CONTENT, r)
        }
        RangeReq::Unsatisfiable => {
            return b
                .status(StatusCode::RANGE_NOT_SATISFIABLE)
                .header(header::CONTENT_RANGE, hv(&format!("bytes */{}", att.size)))
                .header(header::CONTENT_LENGTH, "0")
                .body(Body::empty())
                .map_err(Error::internal);
        }
    };
    b = b
        .status(status)
        .header(header::CONTENT_LENGTH, range.end - range.start);
    let body = if method == Method::HEAD {
        Body::empty()
    } else {
        Body::from_stream(attachments::read::stream(store, att, range))
    };
    b.body(body).map_err(Error::internal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        use RangeReq::*;
        assert_eq!(parse_range(None, 100), Full);
        assert_eq!(parse_range(Some("bytes=0-9"), 100), Partial(0..10));
        assert_eq!(parse_range(Some("bytes=90-"), 100), Partial(90..100));
        assert_eq!(parse_range(Some("bytes=-10"), 100), Partial(90..100));
        assert_eq!(parse_range(Some("bytes=-1000"), 100), Partial(0..100));
        assert_eq!(parse_range(Some("bytes=50-1000"), 100), Partial(50..100));
        assert_eq!(parse_range(Some("bytes=100-"), 100), Unsatisfiable);
        assert_eq!(parse_range(Some("bytes=100-200"), 100), Unsatisfiable);
        assert_eq!(parse_range(Some("bytes=-0"), 100), Unsatisfiable);
        assert_eq!(parse_range(Some("bytes=5-1"), 100), Full);
        assert_eq!(parse_range(Some("bytes=0-1,5-6"), 100), Full);
        assert_eq!(parse_range(Some("items=0-1"), 100), Full);
        assert_eq!(parse_range(Some("bytes=x-"), 100), Full);
    }

    #[test]
    fn disposition_is_encoded_and_never_trusts_the_name() {
        assert_eq!(
            content_disposition("a b.pdf", "application/pdf"),
            "inline; filename=\"a b.pdf\"; filename*=UTF-8''a%20b.pdf"
        );
        let d = content_disposition("Über \"x\";.zip", "application/zip");
        assert!(
            d.starts_with("attachment; filename=\"_ber _x__.zip\""),
            "{d}"
        );
        assert!(
            d.ends_with("filename*=UTF-8''%C3%9Cber%20%22x%22%3B.zip"),
            "{d}"
        );
        assert!(content_disposition("x", "image/png").starts_with("inline"));
        assert!(content_disposition("x", "application/octet-stream").starts_with("attachment"));
    }

    #[test]
    fn etags() {
        assert!(etag_matches(Some("\"a\", \"b\""), "\"b\""));
        assert!(etag_matches(Some("W/\"b\""), "\"b\""));
        assert!(etag_matches(Some("*"), "\"b\""));
        assert!(!etag_matches(Some("\"c\""), "\"b\""));
        assert!(!etag_matches(None, "\"b\""));
    }
}
