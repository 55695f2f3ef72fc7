//! The agents' side of live chat that the sessions API does not cover: the typing signal the
//! visitor sees ("Ada is typing…"). Replies, notes, read state and closing use the ordinary
//! sessions API.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::limits::{Key, SIGNAL};
use crate::domain::channels::ChannelKind;
use crate::domain::{contacts, livechat, sessions};
use crate::error::Error;
use crate::http::HttpState;
use crate::http::auth::ApiAuth;
use crate::http::error::{ApiResult, ErrorBody};

pub fn router() -> OpenApiRouter<HttpState> {
    OpenApiRouter::new().routes(routes!(typing))
}

#[utoipa::path(post, path = "/api/v1/sessions/{id}/typing", tag = "sessions", params(("id" = u64, Path)),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
/// The agent is typing a reply (live chat: the visitor sees it). Signals closer than 2 s apart are dropped.
pub async fn typing(
    State(state): State<HttpState>,
    ApiAuth(who): ApiAuth,
    Path(id): Path<u64>,
) -> ApiResult<StatusCode> {
    let user = who.user.clone();
    let (s, visitor_id) = state
        .store
        .read(move |rtx| {
            let s = sessions::get_visible(rtx, &user, id)?;
            let visitor = contacts::get(rtx, s.contact_id)?
                .as_ref()
                .and_then(livechat::visitor_id_of);
            Ok((s, visitor))
        })
        .await?;
    let (ChannelKind::Livechat, Some(visitor_id)) = (s.channel_kind, visitor_id) else {
        return Err(Error::Rule("typing signals are for live-chat sessions".into()).into());
    };
    if s.status != sessions::SessionStatus::Open {
        return Ok(StatusCode::NO_CONTENT);
    }
    if state
        .livechat
        .allow(Key::Agent(who.id(), id), SIGNAL, state.now())
    {
        let uid = who.id();
        let name = who
            .user
            .display_name
            .split_whitespace()
            .next()
            .unwrap_or(&who.user.username)
            .to_string();
        let cid = s.channel_id;
        state
            .store
            .write(move |ctx| livechat::agent_typing_in(ctx, cid, visitor_id, id, uid, &name))
            .await?;
    }
    Ok(StatusCode::NO_CONTENT)
}
