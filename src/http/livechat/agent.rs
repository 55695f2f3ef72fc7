//! The agents' side of live chat that the sessions API does not cover: the typing signal the
//! visitor sees ("Ada is typing…"). Replies, notes, read state and closing use the ordinary
//! sessions API.

use crate::ids::SessionId;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::limits::{Key, SIGNAL};
use crate::domain::livechat;
use crate::http::HttpState;
use crate::http::auth::ApiAuth;
use crate::http::error::{ApiResult, ErrorBody};

pub fn router() -> OpenApiRouter<HttpState> {
    OpenApiRouter::new().routes(routes!(typing))
}

#[utoipa::path(post, path = "/api/v1/sessions/{id}/typing", tag = "sessions", params(("id" = u64, Path)),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
/// The agent is typing a reply (live chat: the visitor sees it; WhatsApp: Meta's typing indicator, at most every 20 s). Signals closer than 2 s apart are dropped.
pub async fn typing(
    State(state): State<HttpState>,
    ApiAuth(who): ApiAuth,
    Path(id): Path<SessionId>,
) -> ApiResult<StatusCode> {
    // WhatsApp: Meta's typing indicator (throttled and switched per channel in the domain).
    let wa = crate::domain::delivery::signals::typing(
        &state.store,
        &state.http,
        &who.user,
        id,
        state.now(),
    )
    .await?;
    if wa {
        return Ok(StatusCode::NO_CONTENT);
    }
    let (limits, now, uid) = (&state.livechat, state.now(), who.id());
    let allow = || limits.allow(Key::Agent(uid, id), SIGNAL, now);
    livechat::agent_typing(&state.store, &who.user, id, allow).await?;
    Ok(StatusCode::NO_CONTENT)
}
