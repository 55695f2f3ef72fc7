//! `/hooks/messenger/{channel_id}`: the same handshake and signature as WhatsApp, `object=page`
//! batches (echoes of our own messages are dropped by the parser; delivery/read watermarks).

use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;

use super::whatsapp::{handshake, receive_meta};
use super::{HookError, load_channel};
use crate::channels::messenger;
use crate::domain::channels::ChannelKind;
use crate::http::HttpState;

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
    receive_meta(
        &state,
        &id,
        ChannelKind::Messenger,
        headers,
        body,
        messenger::parse_webhook,
    )
    .await
}
