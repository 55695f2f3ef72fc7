//! `/hooks/instagram/{channel_id}`: Instagram direct messages (Instagram API with Instagram
//! Login). Meta's handshake and `X-Hub-Signature-256` with the app secret, `object=instagram`
//! batches parsed by the Messenger adapter for the Instagram platform.

use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;

use super::whatsapp::{handshake, receive_meta};
use super::{HookError, load_channel};
use crate::channels::messenger::{self, Platform};
use crate::channels::{InboundEvent, ParseError};
use crate::domain::channels::ChannelKind;
use crate::http::HttpState;

fn parse(body: &[u8]) -> Result<Vec<InboundEvent>, ParseError> {
    messenger::parse_webhook_for(Platform::Instagram, body)
}

pub(super) async fn verify(
    State(state): State<HttpState>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, HookError> {
    let ch = load_channel(&state, &id, ChannelKind::Instagram).await?;
    Ok(handshake(&ch, query.as_deref()))
}

pub(super) async fn receive(
    State(state): State<HttpState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, HookError> {
    receive_meta(&state, &id, ChannelKind::Instagram, headers, body, parse).await
}
