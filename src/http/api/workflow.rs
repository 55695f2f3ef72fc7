//! Session workflow: transfer, tags, timeline; the admin's tag and result lists.

use crate::ids::SessionId;
use crate::ids::UserId;
use axum::Json;
use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::domain::lists::{self, ListKind};
use crate::domain::sessions::{self, Session, TimelineEntry};
use crate::domain::{queue, users};
use crate::http::HttpState;
use crate::http::auth::{ApiAdmin, ApiAuth, Authed};
use crate::http::body::JsonBody;
use crate::http::error::{ApiResult, ErrorBody};

pub fn router() -> OpenApiRouter<HttpState> {
    OpenApiRouter::new()
        .routes(routes!(transfer))
        .routes(routes!(set_tags))
        .routes(routes!(timeline))
        .routes(routes!(get_tags, put_tags))
        .routes(routes!(get_results, put_results))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct TransferBody {
    /// The colleague who takes over; absent or null = back to the queue (unassigned).
    #[serde(default)]
    pub to_user_id: Option<UserId>,
    /// Shown in the timeline and to the receiver.
    #[serde(default)]
    pub note: String,
}

#[utoipa::path(post, path = "/api/v1/sessions/{id}/transfer", tag = "workflow", params(("id" = u64, Path)), request_body = TransferBody,
    responses((status = 200, body = Session), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
/// Transfer a session to a colleague (a member of its channel, or an admin; enabled) or back to the queue, with an optional note. The receiver gets a `session.transferred` event.
pub async fn transfer(
    State(state): State<HttpState>,
    ApiAuth(who): ApiAuth,
    Path(id): Path<SessionId>,
    JsonBody(b): JsonBody<TransferBody>,
) -> ApiResult<Json<Session>> {
    Ok(Json(
        queue::transfer(&state.store, &who.user, id, b.to_user_id, b.note).await?,
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct TagsBody {
    pub tags: Vec<String>,
}

#[utoipa::path(put, path = "/api/v1/sessions/{id}/tags", tag = "workflow", params(("id" = u64, Path)), request_body = TagsBody,
    responses((status = 200, body = Session), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
/// Replace a session's tags (each must be on the admin's tag list).
pub async fn set_tags(
    State(state): State<HttpState>,
    ApiAuth(who): ApiAuth,
    Path(id): Path<SessionId>,
    JsonBody(b): JsonBody<TagsBody>,
) -> ApiResult<Json<Session>> {
    Ok(Json(
        lists::set_session_tags(&state.store, &who.user, id, b.tags).await?,
    ))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct TimelineItem {
    #[serde(flatten)]
    pub entry: TimelineEntry,
    /// Display name of the actor (None = the system).
    pub actor_name: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/sessions/{id}/timeline", tag = "workflow", params(("id" = u64, Path)),
    responses((status = 200, body = Vec<TimelineItem>), (status = 404, body = ErrorBody)))]
/// Who picked up, assigned, transferred, noted, tagged, called, closed, archived, blocked — and when; oldest first.
pub async fn timeline(
    State(state): State<HttpState>,
    ApiAuth(who): ApiAuth,
    Path(id): Path<SessionId>,
) -> ApiResult<Json<Vec<TimelineItem>>> {
    let user = who.user.clone();
    Ok(Json(
        state
            .store
            .read(move |rtx| {
                sessions::get_visible(rtx, &user, id)?;
                timeline_items(rtx, id)
            })
            .await?,
    ))
}

pub fn timeline_items(
    rtx: &redb::ReadTransaction,
    id: SessionId,
) -> crate::error::Result<Vec<TimelineItem>> {
    let mut names = std::collections::HashMap::new();
    let mut out = Vec::new();
    for e in sessions::timeline(rtx, id)? {
        let actor_name = match e.actor {
            Some(a) => {
                if let std::collections::hash_map::Entry::Vacant(v) = names.entry(a) {
                    v.insert(
                        users::get(rtx, a)?
                            .map(|u| u.display_name_or_username().to_string())
                            .unwrap_or_else(|| format!("user {a}")),
                    );
                }
                names.get(&a).cloned()
            }
            None => None,
        };
        out.push(TimelineItem {
            entry: e,
            actor_name,
        });
    }
    Ok(out)
}

#[derive(Deserialize, Serialize, utoipa::ToSchema)]
pub struct ListBody {
    pub items: Vec<String>,
}

async fn get_list(state: &HttpState, kind: ListKind) -> ApiResult<Json<ListBody>> {
    let items = state.store.read(move |rtx| lists::get(rtx, kind)).await?;
    Ok(Json(ListBody { items }))
}

async fn put_list(
    state: &HttpState,
    who: &Authed,
    kind: ListKind,
    b: ListBody,
) -> ApiResult<Json<ListBody>> {
    let items = lists::set(&state.store, who.id(), kind, b.items).await?;
    Ok(Json(ListBody { items }))
}

#[utoipa::path(get, path = "/api/v1/tags", tag = "workflow", responses((status = 200, body = ListBody)))]
/// The tags agents may put on sessions.
pub async fn get_tags(
    State(state): State<HttpState>,
    ApiAuth(_who): ApiAuth,
) -> ApiResult<Json<ListBody>> {
    get_list(&state, ListKind::Tags).await
}

#[utoipa::path(put, path = "/api/v1/tags", tag = "workflow", request_body = ListBody, responses((status = 200, body = ListBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
/// Replace the tag list (admins).
pub async fn put_tags(
    State(state): State<HttpState>,
    ApiAdmin(who): ApiAdmin,
    JsonBody(b): JsonBody<ListBody>,
) -> ApiResult<Json<ListBody>> {
    put_list(&state, &who, ListKind::Tags, b).await
}

#[utoipa::path(get, path = "/api/v1/results", tag = "workflow", responses((status = 200, body = ListBody)))]
/// The session results offered when ending a chat.
pub async fn get_results(
    State(state): State<HttpState>,
    ApiAuth(_who): ApiAuth,
) -> ApiResult<Json<ListBody>> {
    get_list(&state, ListKind::Results).await
}

#[utoipa::path(put, path = "/api/v1/results", tag = "workflow", request_body = ListBody, responses((status = 200, body = ListBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
/// Replace the session result list (admins). An empty list allows any result text.
pub async fn put_results(
    State(state): State<HttpState>,
    ApiAdmin(who): ApiAdmin,
    JsonBody(b): JsonBody<ListBody>,
) -> ApiResult<Json<ListBody>> {
    put_list(&state, &who, ListKind::Results, b).await
}
