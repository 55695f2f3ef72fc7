//! Escalate to a call: the PBX link (admins) and originating calls from the agent's extension
//! to a customer (`/sessions/{id}/call`) or a colleague (`/calls`). Without a PBX link the
//! answer is 409 and the UI offers a `tel:` link instead.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::domain::channels::ChannelKind;
use crate::domain::pbx;
use crate::domain::{contacts, sessions, users};
use crate::error::Error;
use crate::http::HttpState;
use crate::http::auth::{ApiAdmin, ApiAuth};
use crate::http::body::JsonBody;
use crate::http::error::{ApiResult, ErrorBody, ErrorDetail};
use crate::pbx::{self as client, CallOutcome, PbxConfig, PbxError, Timeouts};

pub fn router() -> OpenApiRouter<HttpState> {
    OpenApiRouter::new()
        .routes(routes!(get_pbx, put_pbx))
        .routes(routes!(pbx_status))
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
    let uid = who.id();
    let c = state
        .store
        .write(move |ctx| pbx::set_in(ctx, uid, &b))
        .await?;
    Ok(Json(c.masked()))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct PbxStatus {
    pub configured: bool,
    /// none, ami or yeastar.
    pub kind: String,
    /// The caller's own extension (empty = calls are not possible for them).
    pub extension: String,
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

fn tel(number: &str) -> String {
    format!("tel:{number}")
}

fn own_extension(ext: &str) -> Result<String, Error> {
    let ext = ext.trim();
    if ext.is_empty() {
        return Err(Error::Rule(
            "you have no phone extension; ask an administrator to set one in your user settings"
                .into(),
        ));
    }
    if !client::valid_extension(ext) {
        return Err(Error::Rule(format!(
            "your extension {ext:?} is not dialable"
        )));
    }
    Ok(ext.to_string())
}

fn no_link(number: &str) -> Error {
    Error::Conflict(format!("no PBX link configured; use {}", tel(number)))
}

#[utoipa::path(post, path = "/api/v1/sessions/{id}/call", tag = "calls", params(("id" = u64, Path)),
    responses((status = 200, body = CallResult), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "no PBX link: use the tel: link in the message"),
        (status = 422, body = ErrorBody), (status = 502, body = ErrorBody), (status = 504, body = ErrorBody)))]
/// Call the customer of an SMS or WhatsApp session: the PBX rings the agent's extension, then dials the customer. The outcome is recorded in the timeline.
pub async fn call_customer(
    State(state): State<HttpState>,
    ApiAuth(who): ApiAuth,
    Path(id): Path<u64>,
) -> ApiResult<Response> {
    let user = who.user.clone();
    let (session, contact, cfg) = state
        .store
        .read(move |rtx| {
            let s = sessions::get_visible(rtx, &user, id)?;
            let c = contacts::get(rtx, s.contact_id)?.ok_or(Error::NotFound("contact"))?;
            Ok((s, c, pbx::get(rtx)?))
        })
        .await?;
    if !matches!(
        session.channel_kind,
        ChannelKind::Sms | ChannelKind::Whatsapp
    ) {
        return Err(Error::Rule(format!(
            "{} contacts have no phone number; calls are for SMS and WhatsApp sessions",
            session.channel_kind.as_str()
        ))
        .into());
    }
    let raw = if session.channel_kind == ChannelKind::Whatsapp && !contact.address.starts_with('+')
    {
        format!("+{}", contact.address)
    } else {
        contact.address.clone()
    };
    let number = client::dialable(&raw)
        .ok_or_else(|| Error::Rule(format!("{:?} is not a dialable number", contact.address)))?;
    if !cfg.is_configured() {
        return Err(no_link(&number).into());
    }
    let ext = own_extension(&who.user.extension)?;
    let result = client::call(
        &cfg,
        &ext,
        &number,
        &state.pbx_tokens,
        state.now(),
        Timeouts::default(),
    )
    .await;
    let detail = match &result {
        Ok(o) => format!("{number} from extension {ext}: {}", o.message),
        Err(e) => format!("{number} from extension {ext} failed: {e}"),
    };
    let uid = who.id();
    state
        .store
        .write(move |ctx| sessions::timeline_in(ctx, id, Some(uid), "call", &detail))
        .await?;
    Ok(match result {
        Ok(outcome) => Json(CallResult {
            outcome,
            number,
            extension: ext,
        })
        .into_response(),
        Err(e) => pbx_error(&e),
    })
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct ColleagueCall {
    pub to_user_id: u64,
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
    let (target, cfg) = state
        .store
        .read(move |rtx| Ok((users::get(rtx, to)?, pbx::get(rtx)?)))
        .await?;
    let target = match target {
        Some(u) if !u.disabled => u,
        Some(u) => {
            return Err(Error::invalid("to_user_id", format!("{} is disabled", u.username)).into());
        }
        None => {
            return Err(Error::invalid("to_user_id", format!("user {to} does not exist")).into());
        }
    };
    let number = target.extension.trim().to_string();
    if !client::valid_extension(&number) {
        return Err(Error::Rule(format!(
            "{} has no phone extension",
            target.display_name_or_username()
        ))
        .into());
    }
    if target.id == who.id() {
        return Err(Error::invalid("to_user_id", "you cannot call yourself").into());
    }
    if !cfg.is_configured() {
        return Err(no_link(&number).into());
    }
    let ext = own_extension(&who.user.extension)?;
    match client::call(
        &cfg,
        &ext,
        &number,
        &state.pbx_tokens,
        state.now(),
        Timeouts::default(),
    )
    .await
    {
        Ok(outcome) => Ok(Json(CallResult {
            outcome,
            number,
            extension: ext,
        })
        .into_response()),
        Err(e) => Ok(pbx_error(&e)),
    }
}
