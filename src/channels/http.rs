//! Shared HTTP plumbing for provider clients: building the client, classifying failures into
//! [`SendError`] / [`MediaError`], and size-limited streaming downloads.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures_util::{Stream, StreamExt};
use reqwest::header::{CONTENT_LENGTH, CONTENT_TYPE, HeaderMap, RETRY_AFTER};
use reqwest::{Response, StatusCode};
use serde_json::Value;

use super::{MediaError, SendError};

/// Cap on provider answers we read into memory (JSON success and error bodies).
pub(crate) const MAX_API_BODY: usize = 256 * 1024;

/// A `reqwest::Client` for provider calls: rustls with the ring provider, the given overall
/// request timeout, a connect timeout, and at most 10 redirects.
pub fn http_client(timeout: Duration) -> Result<reqwest::Client, reqwest::Error> {
    // reqwest is built without a default crypto provider; install ring once per process.
    // An Err only means some provider is already installed, which is fine.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(10)))
        .redirect(reqwest::redirect::Policy::limited(10))
        .user_agent(concat!("switchboard/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// The error with its whole source chain (reqwest's own message omits the cause).
pub(crate) fn describe(err: &reqwest::Error) -> String {
    let mut out = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

/// Classify a transport error from `RequestBuilder::send`.
pub(crate) fn transport_error(e: &reqwest::Error) -> SendError {
    let err = describe(e);
    if e.is_builder() {
        return SendError::permanent("bad_request", format!("could not build request: {err}"));
    }
    if e.is_connect() {
        // Nothing was written: the TCP/TLS connection never came up (includes connect timeout).
        return SendError::transient(format!("connect failed: {err}"));
    }
    if e.is_timeout() {
        return SendError::Ambiguous {
            reason: format!("timed out after the request was sent: {err}"),
        };
    }
    SendError::Ambiguous {
        reason: format!("connection failed during the exchange: {err}"),
    }
}

/// `Retry-After` in seconds (the HTTP-date form is ignored: we take no clock here).
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let v = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    v.parse::<u64>().ok().map(Duration::from_secs)
}

/// Read a whole response body, refusing more than `max` bytes.
pub(crate) async fn read_limited(resp: Response, max: usize) -> Result<Bytes, String> {
    if let Some(len) = resp.content_length()
        && len > max as u64
    {
        return Err(format!("answer of {len} bytes exceeds {max}"));
    }
    let mut stream = resp.bytes_stream();
    let mut buf = BytesMut::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| format!("reading answer failed: {}", describe(&e)))?;
        if buf.len().saturating_add(chunk.len()) > max {
            return Err(format!("answer exceeds {max} bytes"));
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf.freeze())
}

/// A provider error found in an error answer: `code` as the provider spells it.
pub(crate) struct ApiError {
    pub code: String,
    pub message: String,
    /// The provider says retrying may succeed (Graph `is_transient`, rate-limit codes).
    pub transient: bool,
}

/// Turn a non-2xx answer into a [`SendError`]: 429, 408 and 5xx are transient (honouring
/// `Retry-After`), everything else is permanent with the provider's code and message, unless
/// `api_error` found a provider error marked as transient.
pub(crate) async fn failure(
    resp: Response,
    api_error: fn(&Value) -> Option<ApiError>,
) -> SendError {
    let status = resp.status();
    let wait = retry_after(resp.headers());
    let body = read_limited(resp, MAX_API_BODY).await.unwrap_or_default();
    let parsed = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| api_error(&v));
    let retryable_status = status == StatusCode::TOO_MANY_REQUESTS
        || status == StatusCode::REQUEST_TIMEOUT
        || status.is_server_error();
    match parsed {
        Some(e) if e.transient || retryable_status => SendError::Transient {
            reason: format!("HTTP {} ({}): {}", status.as_u16(), e.code, e.message),
            retry_after: wait,
        },
        Some(e) => SendError::Permanent {
            code: e.code,
            message: e.message,
        },
        None if retryable_status => SendError::Transient {
            reason: format!("HTTP {}", status.as_u16()),
            retry_after: wait,
        },
        None => SendError::Permanent {
            code: format!("http_{}", status.as_u16()),
            message: format!(
                "HTTP {} {}",
                status.as_u16(),
                String::from_utf8_lossy(body.get(..body.len().min(200)).unwrap_or_default())
            ),
        },
    }
}

/// Handle a send's outcome: transport errors and non-2xx are classified; a 2xx is parsed with
/// `id_of`, and a 2xx we cannot read or that carries no id is ambiguous (it was probably sent).
pub(crate) async fn send_outcome(
    result: Result<Response, reqwest::Error>,
    api_error: fn(&Value) -> Option<ApiError>,
    id_of: fn(&Value) -> Option<String>,
) -> Result<Value, SendError> {
    let resp = result.map_err(|e| transport_error(&e))?;
    if !resp.status().is_success() {
        return Err(failure(resp, api_error).await);
    }
    let status = resp.status().as_u16();
    let body = read_limited(resp, MAX_API_BODY)
        .await
        .map_err(|reason| SendError::Ambiguous { reason })?;
    let value = serde_json::from_slice::<Value>(&body).map_err(|e| SendError::Ambiguous {
        reason: format!("HTTP {status} with an unreadable answer: {e}"),
    })?;
    match id_of(&value) {
        Some(_) => Ok(value),
        None => Err(SendError::Ambiguous {
            reason: format!("HTTP {status} without the expected id in the answer"),
        }),
    }
}

/// Classify a failed media request.
pub(crate) fn media_transport_error(err: &reqwest::Error) -> MediaError {
    if err.is_builder() {
        MediaError::Permanent {
            code: "bad_request".into(),
            message: describe(err),
        }
    } else {
        MediaError::Transient {
            reason: describe(err),
        }
    }
}

pub(crate) fn media_status_error(status: StatusCode) -> MediaError {
    if status == StatusCode::TOO_MANY_REQUESTS
        || status == StatusCode::REQUEST_TIMEOUT
        || status.is_server_error()
    {
        MediaError::Transient {
            reason: format!("HTTP {}", status.as_u16()),
        }
    } else {
        MediaError::Permanent {
            code: format!("http_{}", status.as_u16()),
            message: format!("media request answered HTTP {}", status.as_u16()),
        }
    }
}

type ByteStream = Pin<Box<dyn Stream<Item = reqwest::Result<Bytes>> + Send>>;

/// A file being downloaded: metadata plus a byte stream that fails with
/// [`MediaError::TooLarge`] as soon as more than the allowed maximum has arrived.
pub struct MediaDownload {
    pub mime: Option<String>,
    /// The size announced by the provider (Content-Length or media metadata), if any.
    pub declared_size: Option<u64>,
    stream: ByteStream,
    seen: u64,
    max: u64,
    done: bool,
}

impl std::fmt::Debug for MediaDownload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MediaDownload")
            .field("mime", &self.mime)
            .field("declared_size", &self.declared_size)
            .field("max", &self.max)
            .finish_non_exhaustive()
    }
}

impl MediaDownload {
    /// Start streaming a successful response, refusing it early when it announces more than
    /// `max` bytes. `mime` overrides the response's Content-Type when given.
    pub(crate) fn from_response(
        resp: Response,
        max: u64,
        mime: Option<String>,
        declared: Option<u64>,
    ) -> Result<Self, MediaError> {
        let status = resp.status();
        if !status.is_success() {
            return Err(media_status_error(status));
        }
        let length = resp
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        let declared_size = length.or(declared);
        if declared_size.is_some_and(|n| n > max) {
            return Err(MediaError::TooLarge { limit: max });
        }
        let mime = mime.or_else(|| {
            resp.headers()
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        });
        Ok(MediaDownload {
            mime,
            declared_size,
            stream: Box::pin(resp.bytes_stream()),
            seen: 0,
            max,
            done: false,
        })
    }

    /// Collect the whole file into memory (for small files and tests).
    pub async fn bytes(mut self) -> Result<Bytes, MediaError> {
        let mut buf = BytesMut::new();
        while let Some(chunk) = self.next().await {
            buf.extend_from_slice(&chunk?);
        }
        Ok(buf.freeze())
    }
}

impl Stream for MediaDownload {
    type Item = Result<Bytes, MediaError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.done {
            return Poll::Ready(None);
        }
        match self.stream.as_mut().poll_next(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(None) => {
                self.done = true;
                Poll::Ready(None)
            }
            Poll::Ready(Some(Err(e))) => {
                self.done = true;
                Poll::Ready(Some(Err(MediaError::Transient {
                    reason: format!("download interrupted: {}", describe(&e)),
                })))
            }
            Poll::Ready(Some(Ok(chunk))) => {
                let seen = self.seen.saturating_add(chunk.len() as u64);
                self.seen = seen;
                if seen > self.max {
                    self.done = true;
                    let limit = self.max;
                    Poll::Ready(Some(Err(MediaError::TooLarge { limit })))
                } else {
                    Poll::Ready(Some(Ok(chunk)))
                }
            }
        }
    }
}

/// Join path segments onto a configured base URL, percent-encoding each segment.
pub(crate) fn endpoint(base: &str, segments: &[&str]) -> Result<url::Url, String> {
    let mut url = url::Url::parse(base.trim_end_matches('/'))
        .map_err(|e| format!("invalid base URL {base:?}: {e}"))?;
    {
        let mut path = url
            .path_segments_mut()
            .map_err(|_| format!("base URL {base:?} cannot take a path"))?;
        path.pop_if_empty();
        for s in segments {
            path.push(s);
        }
    }
    Ok(url)
}

/// Graph API (WhatsApp, Messenger) error answer: `{"error":{"message","code","error_subcode",
/// "is_transient","error_data":{"details"}}}`. Rate limits and temporary outages are transient.
pub(crate) fn graph_error(v: &Value) -> Option<ApiError> {
    let e = v.get("error")?.as_object()?;
    let code = match e.get("code")? {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        _ => return None,
    };
    let mut message = e
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or("no message given")
        .to_owned();
    if let Some(details) = e
        .get("error_data")
        .and_then(|d| d.get("details"))
        .and_then(Value::as_str)
        .filter(|d| !d.is_empty() && !message.contains(*d))
    {
        message = format!("{message}: {details}");
    }
    // 1/2 unknown/temporary, 4/17/32/613 API rate limits, 80007/130429/131048/131056
    // WhatsApp rate limits, 131000/131016 WhatsApp "something went wrong"/"service unavailable".
    const TRANSIENT: [&str; 12] = [
        "1", "2", "4", "17", "32", "613", "80007", "130429", "131000", "131016", "131048", "131056",
    ];
    let transient = e.get("is_transient").and_then(Value::as_bool) == Some(true)
        || TRANSIENT.contains(&code.as_str());
    Some(ApiError {
        code,
        message,
        transient,
    })
}
