//! `/hooks/messenger/{channel_id}`: the same handshake and signature as WhatsApp, `object=page`
//! batches (echoes of our own messages are dropped by the parser; delivery/read watermarks).
//! After a batch is durable, the names and pictures of senders we know only by PSID are asked
//! from the User Profile API in the background (`profiles`): intake never waits for it.

use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;

use super::whatsapp::{handshake, receive_meta};
use super::{HookError, load_channel, read_body};
use crate::channels::{InboundEvent, messenger};
use crate::domain::channels::ChannelKind;
use crate::http::HttpState;

mod profiles;

pub(super) async fn verify(
    State(state): State<HttpState>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, HookError> {
    let ch = load_channel(&state, &id, ChannelKind::Messenger).await?;
    Ok(handshake(&ch, query.as_deref()))
}

pub(super) async fn receive(
    State(state): State<HttpState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, HookError> {
    let bytes = read_body(&headers, body).await?;
    let resp = receive_meta(
        &state,
        &id,
        ChannelKind::Messenger,
        headers,
        Body::from(bytes.clone()),
        messenger::parse_webhook,
    )
    .await?;
    // Stored (signature checked, batch durable): look up senders without a name, off the
    // request's path.
    if resp.status().is_success() {
        let senders: Vec<String> = messenger::parse_webhook(&bytes)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|ev| match ev {
                InboundEvent::Message(m) if m.reaction.is_none() => Some(m.from),
                _ => None,
            })
            .collect();
        if !senders.is_empty()
            && let Ok(ch) = load_channel(&state, &id, ChannelKind::Messenger).await
        {
            profiles::look_up_later(state.clone(), ch, senders);
        }
    }
    Ok(resp)
}
