//! Meta's webhooks: `/hooks/whatsapp/{id}`, `/hooks/messenger/{id}` and `/hooks/instagram/{id}`
//! share the subscription handshake, `X-Hub-Signature-256` with the app secret and the
//! `EVENT_RECEIVED` answer; each kind brings its parser (Messenger and Instagram: the Messenger
//! adapter for its platform). Messenger also asks the User Profile API about the senders of a
//! durable batch, in the background (`profiles`): intake never waits for it.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get};

use super::{HookError, commit, load_channel, parse_refusal, read_body, signature_refused};
use crate::channels::signature::{self, SignatureError};
use crate::channels::whatsapp;
use crate::channels::{InboundEvent, ParseError};
use crate::domain::channels::{Channel, ChannelKind};
use crate::error::Error;
use crate::http::HttpState;

/// A kind's webhook parser.
pub(super) type Parse = fn(&[u8]) -> Result<Vec<InboundEvent>, ParseError>;

/// Called once a batch is durable, with the senders of its messages (off the request's path).
pub(super) type OnSenders = fn(HttpState, Arc<Channel>, Vec<String>);

/// The GET handshake and POST batches of one Meta channel kind.
pub(super) fn routes(
    kind: ChannelKind,
    parse: Parse,
    on_senders: Option<OnSenders>,
) -> MethodRouter<HttpState> {
    get(
        move |State(state): State<HttpState>,
              Path(id): Path<String>,
              RawQuery(query): RawQuery| async move {
            let ch = load_channel(&state, &id, kind).await?;
            Ok::<_, HookError>(handshake(&ch, query.as_deref()))
        },
    )
    .post(
        move |State(state): State<HttpState>,
              Path(id): Path<String>,
              headers: HeaderMap,
              body: Body| async move {
            receive_meta(&state, &id, kind, headers, body, parse, on_senders).await
        },
    )
}

/// GET: answer the challenge (exactly, as plain text) when the verify token matches; else 403.
pub(super) fn handshake(ch: &Channel, query: Option<&str>) -> Response {
    match whatsapp::verify_handshake_query(query.unwrap_or_default(), &ch.credentials.verify_token)
    {
        Ok(challenge) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            challenge,
        )
            .into_response(),
        Err(_) => HookError(Error::Forbidden(
            "verification refused: hub.mode must be subscribe and hub.verify_token must match the channel's verify token".into(),
        ))
        .into_response(),
    }
}

/// Verify `X-Hub-Signature-256` (or the legacy SHA-1 header) over the raw body.
pub(super) async fn check_meta_signature(
    state: &HttpState,
    ch: &Channel,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(), Error> {
    if ch.credentials.app_secret.is_empty() {
        return Err(Error::Forbidden(
            "this channel has no app secret configured, so its webhooks cannot be verified; nothing was stored".into(),
        ));
    }
    let h = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let sig256 = h(signature::META_SIGNATURE_256_HEADER);
    let sig1 = h(signature::META_SIGNATURE_SHA1_HEADER);
    let result = match (sig256, sig1) {
        (None, None) if headers.contains_key(signature::META_SIGNATURE_256_HEADER) => {
            Err(SignatureError::Malformed)
        }
        _ => signature::verify_meta(&ch.credentials.app_secret, body, sig256, sig1),
    };
    match result {
        Ok(()) => Ok(()),
        Err(e) => Err(signature_refused(state, ch, e).await),
    }
}

pub(super) fn event_received() -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "EVENT_RECEIVED",
    )
        .into_response()
}

/// A signed Meta batch: channel, capped body, signature, parse with `parse`, one
/// group-committed write, then `EVENT_RECEIVED` (and `on_senders`).
async fn receive_meta(
    state: &HttpState,
    id: &str,
    kind: ChannelKind,
    headers: HeaderMap,
    body: Body,
    parse: Parse,
    on_senders: Option<OnSenders>,
) -> Result<Response, HookError> {
    let ch = load_channel(state, id, kind).await?;
    let bytes = read_body(&headers, body).await?;
    check_meta_signature(state, &ch, &headers, &bytes).await?;
    let events = match parse(&bytes) {
        Ok(ev) => ev,
        Err(e) => return Ok(parse_refusal(&e)),
    };
    let senders: Vec<String> = match on_senders {
        Some(_) => events
            .iter()
            .filter_map(|ev| match ev {
                InboundEvent::Message(m) if m.reaction.is_none() => Some(m.from.clone()),
                _ => None,
            })
            .collect(),
        None => Vec::new(),
    };
    commit(state, ch.clone(), events).await?;
    if let Some(f) = on_senders
        && !senders.is_empty()
    {
        f(state.clone(), ch, senders);
    }
    Ok(event_received())
}
