//! Automation: a channel's business hours and automatic replies (admins), and snoozing a
//! conversation (anyone who may work on it).

use axum::Json;
use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::domain::automation::{self, AutomationInput, HoursState};
use crate::domain::channels;
use crate::domain::sessions::{self, Session};
use crate::error::Error;
use crate::http::HttpState;
use crate::http::auth::{ApiAdmin, ApiAuth};
use crate::http::body::JsonBody;
use crate::http::error::{ApiResult, ErrorBody};
use crate::ids::{ChannelId, SessionId};

pub fn router() -> OpenApiRouter<HttpState> {
    OpenApiRouter::new()
        .routes(routes!(get_settings, put_settings))
        .routes(routes!(snooze))
}

/// A channel's automation as the form shows it, and whether it is open now.
#[derive(Serialize, utoipa::ToSchema)]
pub struct AutomationView {
    pub settings: AutomationInput,
    /// None while business hours are off (always open).
    pub hours_now: Option<HoursState>,
}

async fn view(state: &HttpState, id: ChannelId) -> Result<AutomationView, Error> {
    let now = state.now();
    state
        .store
        .read(move |rtx| {
            channels::get(rtx, id)?.ok_or(Error::NotFound("channel"))?;
            let a = automation::get(rtx, id)?;
            Ok(AutomationView {
                settings: AutomationInput::from_settings(&a),
                hours_now: automation::state_at(&a, now),
            })
        })
        .await
}

#[utoipa::path(get, path = "/api/v1/channels/{id}/automation", tag = "channels", params(("id" = u64, Path)),
    responses((status = 200, body = AutomationView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
/// A channel's business hours and automatic replies (admins).
pub async fn get_settings(
    State(state): State<HttpState>,
    ApiAdmin(_who): ApiAdmin,
    Path(id): Path<ChannelId>,
) -> ApiResult<Json<AutomationView>> {
    Ok(Json(view(&state, id).await?))
}

#[utoipa::path(put, path = "/api/v1/channels/{id}/automation", tag = "channels", params(("id" = u64, Path)), request_body = AutomationInput,
    responses((status = 200, body = AutomationView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
/// Replace a channel's business hours and automatic replies (admins). Days are text
/// (`08:00-12:00, 13:00-17:00`, empty = closed, Monday first), holidays `YYYY-MM-DD` one a
/// line. Refused as a whole (422, the field named) when anything is wrong.
pub async fn put_settings(
    State(state): State<HttpState>,
    ApiAdmin(who): ApiAdmin,
    Path(id): Path<ChannelId>,
    JsonBody(input): JsonBody<AutomationInput>,
) -> ApiResult<Json<AutomationView>> {
    automation::save(&state.store, &who.user, id, input).await?;
    Ok(Json(view(&state, id).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct SnoozeBody {
    /// Until when (Unix ms); null wakes it now.
    pub until: Option<i64>,
}

#[utoipa::path(post, path = "/api/v1/sessions/{id}/snooze", tag = "sessions", params(("id" = u64, Path)), request_body = SnoozeBody,
    responses((status = 200, body = Session), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
/// Snooze an open conversation until a time (it leaves the lists but "Snoozed" and comes back
/// then, or when the customer writes), or wake it now with `until: null`.
pub async fn snooze(
    State(state): State<HttpState>,
    ApiAuth(who): ApiAuth,
    Path(id): Path<SessionId>,
    JsonBody(b): JsonBody<SnoozeBody>,
) -> ApiResult<Json<Session>> {
    Ok(Json(
        sessions::snooze(&state.store, &who.user, id, b.until).await?,
    ))
}
