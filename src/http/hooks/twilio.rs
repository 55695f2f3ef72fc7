//! `/hooks/twilio/{channel_id}` (inbound SMS/MMS) and `/hooks/twilio/{channel_id}/status`
//! (status callbacks). The signature covers the URL Twilio called, which is our configured
//! `public_url` plus the path and query — never the Host header (the box sits behind NAT).

use axum::body::Body;
use axum::extract::{OriginalUri, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::{HookError, commit, load_channel, parse_refusal, read_body, signature_refused};
use crate::channels::signature;
use crate::channels::twilio;
use crate::domain::channels::ChannelKind;
use crate::error::Error;
use crate::http::HttpState;

fn twiml() -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, twilio::TWIML_CONTENT_TYPE)],
        twilio::TWIML_EMPTY_RESPONSE,
    )
        .into_response()
}

pub(super) async fn receive(
    State(state): State<HttpState>,
    Path(id): Path<String>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, HookError> {
    let ch = load_channel(&state, &id, ChannelKind::Sms).await?;
    let bytes = read_body(&headers, body).await?;
    if ch.credentials.auth_token.is_empty() {
        return Err(Error::Forbidden(
            "this channel has no auth token configured, so its webhooks cannot be verified; nothing was stored".into(),
        )
        .into());
    }
    // Decoding the form is needed to check the signature (it covers the sorted parameters).
    let params = match twilio::parse_form(&bytes) {
        Ok(p) => p,
        Err(e) => return Ok(parse_refusal(&e)),
    };
    let path = uri
        .path_and_query()
        .map_or_else(|| uri.path().to_string(), |p| p.as_str().to_string());
    let url = format!("{}{}", state.public_url, path);
    let given = headers
        .get(signature::TWILIO_SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok());
    if let Err(e) = signature::verify_twilio(&ch.credentials.auth_token, &url, &params, given) {
        return Err(signature_refused(&state, &ch, e).await.into());
    }
    let events = match twilio::parse_webhook(&bytes, state.now()) {
        Ok(ev) => ev,
        Err(e) => return Ok(parse_refusal(&e)),
    };
    commit(&state, ch, events).await?;
    Ok(twiml())
}
