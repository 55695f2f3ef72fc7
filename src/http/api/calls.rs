//! Escalate to a call: the PBX link (admins) and originating calls from the agent's extension
//! to a customer (`/sessions/{id}/call`) or a colleague (`/calls`). Without a PBX link the
//! answer is 409 and the UI offers a `tel:` link instead.

use crate::ids::SessionId;
use crate::ids::UserId;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::domain::{calls, pbx};
use crate::http::HttpState;
use crate::http::auth::{ApiAdmin, ApiAuth};
use crate::http::body::JsonBody;
use crate::http::error::{ApiResult, ErrorBody, ErrorDetail};
use crate::pbx::{CallOutcome, PbxConfig, PbxError};

pub fn router() -> OpenApiRouter<HttpState> {
    OpenApiRouter::new()
        .routes(routes!(get_pbx, put_pbx))
        .routes(routes!(pbx_status))
        .routes(routes!(phones))
        .routes(routes!(call_customer))
        .routes(routes!(call_colleague))
}

#[utoipa::path(get, path = "/api/v1/pbx", tag = "calls", responses((status = 200, body = PbxConfig), (status = 403, body = ErrorBody)))]
/// The PBX link, secrets masked (admins).
pub async fn get_pbx(
    State(state): State<HttpState>,
    ApiAdmin(_who): ApiAdmin,
) -> ApiResult<Json<PbxConfig>> {
    Ok(Json(state.store.read(pbx::get).await?.masked()))
}

#[utoipa::path(put, path = "/api/v1/pbx", tag = "calls", request_body = PbxConfig,
    responses((status = 200, body = PbxConfig), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
/// Set the PBX link: `{"kind":"ami",host,port,username,secret,context,caller_id}`, `{"kind":"yeastar",base_url,client_id,client_secret}` or `{"kind":"none"}`. A masked secret sent back keeps the stored one.
pub async fn put_pbx(
    State(state): State<HttpState>,
    ApiAdmin(who): ApiAdmin,
    JsonBody(b): JsonBody<PbxConfig>,
) -> ApiResult<Json<PbxConfig>> {
    let saved = pbx::set(&state.store, who.id(), b).await?;
    state.pbx_link.reload();
    Ok(Json(saved.masked()))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct PbxStatus {
    pub configured: bool,
    /// none, ami or yeastar.
    pub kind: String,
    /// The caller's own extension (empty = calls are not possible for them).
    pub extension: String,
}

#[utoipa::path(get, path = "/api/v1/pbx/phones", tag = "calls", responses((status = 200, body = std::collections::HashMap<String, String>)))]
/// Each colleague's phone as the PBX event link last reported it, by user id: `idle`,
/// `ringing`, `on_call`, `dnd` or `offline` (unknown phones are left out). `phone.state`
/// events carry the changes.
pub async fn phones(
    State(state): State<HttpState>,
    ApiAuth(_who): ApiAuth,
) -> ApiResult<Json<std::collections::HashMap<String, &'static str>>> {
    Ok(Json(
        state
            .presence
            .phone_labels()
            .into_iter()
            .map(|(id, l)| (id.to_string(), l))
            .collect(),
    ))
}

#[utoipa::path(get, path = "/api/v1/pbx/status", tag = "calls", responses((status = 200, body = PbxStatus)))]
/// Whether the call button dials through the PBX (else it is a `tel:` link).
pub async fn pbx_status(
    State(state): State<HttpState>,
    ApiAuth(who): ApiAuth,
) -> ApiResult<Json<PbxStatus>> {
    let c = state.store.read(pbx::get).await?;
    Ok(Json(PbxStatus {
        configured: c.is_configured(),
        kind: c.kind().into(),
        extension: who.user.extension.clone(),
    }))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CallResult {
    #[serde(flatten)]
    pub outcome: CallOutcome,
    /// Who was called.
    pub number: String,
    /// The agent's extension that rings first.
    pub extension: String,
}

/// PBX failures: 504 when it did not answer in time, 502 otherwise; `{"error":{code,message}}`.
fn pbx_error(e: &PbxError) -> Response {
    let (status, code) = if e.is_timeout() {
        (StatusCode::GATEWAY_TIMEOUT, "pbx_timeout")
    } else {
        (StatusCode::BAD_GATEWAY, "pbx_error")
    };
    (
        status,
        Json(ErrorBody {
            error: ErrorDetail {
                code: code.into(),
                message: e.to_string(),
            },
        }),
    )
        .into_response()
}

/// The call as the API answers it: 200 with the outcome, or the PBX's failure.
fn answer(call: calls::Call) -> Response {
    match call.outcome {
        Ok(outcome) => Json(CallResult {
            outcome,
            number: call.number,
            extension: call.extension,
        })
        .into_response(),
        Err(e) => pbx_error(&e),
    }
}

#[utoipa::path(post, path = "/api/v1/sessions/{id}/call", tag = "calls", params(("id" = u64, Path)),
    responses((status = 200, body = CallResult), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "no PBX link: use the tel: link in the message"),
        (status = 422, body = ErrorBody), (status = 502, body = ErrorBody), (status = 504, body = ErrorBody)))]
/// Call the customer of an SMS or WhatsApp session: the PBX rings the agent's extension, then dials the customer. The request is recorded in the timeline; the call's steps follow as `call.state` events (`calling`, `ringing`, `connected`, `ended`, `busy`, `no_answer`, `failed`, `unknown`) and its outcome as one `phone_call` timeline entry.
pub async fn call_customer(
    State(state): State<HttpState>,
    ApiAuth(who): ApiAuth,
    Path(id): Path<SessionId>,
) -> ApiResult<Response> {
    let call = calls::call_customer(&state.store, &state.pbx_tokens, &who.user, id, state.now());
    let call = call.await?;
    // Accepted by the PBX: follow it live (`call.state` events) until its outcome.
    if let Ok(o) = &call.outcome {
        state.live_calls.start(
            &state.store,
            state.clock.clone(),
            id,
            who.user.id,
            &call.extension,
            &call.number,
            o.call_id.clone(),
        );
    }
    Ok(answer(call))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct ColleagueCall {
    pub to_user_id: UserId,
}

#[utoipa::path(post, path = "/api/v1/calls", tag = "calls", request_body = ColleagueCall,
    responses((status = 200, body = CallResult), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody), (status = 502, body = ErrorBody), (status = 504, body = ErrorBody)))]
/// Call a colleague's extension from one's own (internal chat).
pub async fn call_colleague(
    State(state): State<HttpState>,
    ApiAuth(who): ApiAuth,
    JsonBody(b): JsonBody<ColleagueCall>,
) -> ApiResult<Response> {
    let to = b.to_user_id;
    let call = calls::call_colleague(&state.store, &state.pbx_tokens, &who.user, to, state.now());
    Ok(answer(call.await?))
}
