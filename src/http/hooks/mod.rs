//! Provider webhooks: `/hooks/whatsapp/{id}`, `/hooks/messenger/{id}`, `/hooks/instagram/{id}`
//! (GET handshake + POST),
//! `/hooks/twilio/{id}` and `/hooks/twilio/{id}/status`.
//!
//! Every POST: read the raw body with a cap (413 beyond), verify the signature over it BEFORE
//! parsing (401 missing / 403 wrong, nothing stored, the failure noted on the channel's health
//! line), parse, then apply every item of the batch in ONE group-committed write — the whole
//! batch is stored or nothing is — and only then answer 2xx. Redeliveries are recognised by the
//! provider's message id and answered 2xx. Storage trouble answers 503 so the provider retries.

mod meta;
mod profiles;
mod twilio;

use crate::ids::ChannelId;
use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;

use super::HttpState;
use super::error::json_error;
use crate::channels::messenger::{self, Platform};
use crate::channels::signature::SignatureError;
use crate::channels::{InboundEvent, ParseError, whatsapp};
use crate::domain::channels::health;
use crate::domain::channels::{Channel, ChannelKind};
use crate::domain::messages::intake;
use crate::error::Error;

/// Largest webhook body accepted (real ones are a few KiB).
pub const MAX_BODY: usize = 1 << 20;

pub fn router() -> Router<HttpState> {
    Router::new()
        .route(
            "/hooks/whatsapp/{channel_id}",
            meta::routes(ChannelKind::Whatsapp, whatsapp::parse_webhook, None),
        )
        .route(
            "/hooks/messenger/{channel_id}",
            meta::routes(
                ChannelKind::Messenger,
                messenger::parse_webhook,
                Some(profiles::look_up_later),
            ),
        )
        .route(
            "/hooks/instagram/{channel_id}",
            meta::routes(
                ChannelKind::Instagram,
                |body| messenger::parse_webhook_for(Platform::Instagram, body),
                None,
            ),
        )
        .route("/hooks/twilio/{channel_id}", post(twilio::receive))
        .route("/hooks/twilio/{channel_id}/status", post(twilio::receive))
}

/// A refusal: the domain error as the API's JSON error body.
pub(super) struct HookError(pub Error);

impl From<Error> for HookError {
    fn from(e: Error) -> Self {
        HookError(e)
    }
}

impl IntoResponse for HookError {
    fn into_response(self) -> Response {
        json_error(&self.0)
    }
}

/// A body that could not be understood: 400 with the parser's own code (`bad_json`, …).
pub(super) fn parse_refusal(e: &ParseError) -> Response {
    let status = if e.code == crate::channels::ParseCode::TooManyItems {
        StatusCode::PAYLOAD_TOO_LARGE
    } else {
        StatusCode::BAD_REQUEST
    };
    let body = serde_json::json!({"error": {"code": e.code.as_str(), "message": e.message}});
    (status, axum::Json(body)).into_response()
}

/// The channel named in the path, if it exists and is of `kind`.
pub(super) async fn load_channel(
    state: &HttpState,
    raw_id: &str,
    kind: ChannelKind,
) -> Result<Arc<Channel>, Error> {
    let id: ChannelId = raw_id.parse().map_err(|_| Error::NotFound("channel"))?;
    let ch = state
        .channels
        .get(&state.store, id)
        .await?
        .ok_or(Error::NotFound("channel"))?;
    if ch.kind != kind {
        return Err(Error::BadRequest(format!(
            "channel {id} is a {} channel, not {}; use the webhook URL shown on its admin page",
            ch.kind.as_str(),
            kind.as_str()
        )));
    }
    Ok(ch)
}

/// The raw body, refusing more than [`MAX_BODY`] bytes (early when Content-Length says so).
pub(super) async fn read_body(headers: &HeaderMap, body: Body) -> Result<Bytes, Error> {
    let too_large = || Error::TooLarge(format!("webhook bodies are limited to {MAX_BODY} bytes"));
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY as u64) {
        return Err(too_large());
    }
    axum::body::to_bytes(body, MAX_BODY).await.map_err(|e| {
        let mut src: Option<&(dyn std::error::Error + 'static)> = Some(&e);
        while let Some(s) = src {
            if s.is::<http_body_util::LengthLimitError>() {
                return too_large();
            }
            src = s.source();
        }
        Error::BadRequest(format!("could not read the body: {e}"))
    })
}

/// Refuse a bad signature: note it on the channel's health line (at most once a minute per
/// channel, so a flood of forged requests cannot turn into a flood of disk writes).
pub(super) async fn signature_refused(state: &HttpState, ch: &Channel, e: SignatureError) -> Error {
    let id = ch.id;
    let reason = e.to_string();
    tracing::warn!(channel = %id, kind = ch.kind.as_str(), %reason, "webhook signature refused");
    let _ = health::note_signature_failure(&state.store, id, &reason, state.now()).await;
    match e {
        SignatureError::Missing => Error::Unauthorized(format!("{reason}; nothing was stored")),
        _ => Error::Forbidden(format!("{reason}; nothing was stored")),
    }
}

/// Commit the batch; `Ok` only once it is durable.
pub(super) async fn commit(
    state: &HttpState,
    ch: Arc<Channel>,
    events: Vec<InboundEvent>,
) -> Result<intake::Applied, Error> {
    // Who is online decides assign-on-arrival for sessions this batch opens.
    let policy = state.presence.policy(state.now());
    let applied = intake::apply_batch(&state.store, ch, events, policy)
        .await
        .map_err(|e| match e {
            // Bad items are the sender's problem; storage trouble is retryable.
            Error::Invalid { field, message } => {
                Error::BadRequest(format!("{field}: {message}; nothing was stored"))
            }
            other => other,
        })?;
    if applied.stored > 0 {
        metrics::counter!("webhook_messages_total").increment(applied.stored as u64);
    }
    Ok(applied)
}
