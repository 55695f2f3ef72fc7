//! Contacts directory (search, edit name, merge) and the block list.

use axum::Json;
use axum::extract::{Path, Query, State};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::JsonBody;
use crate::domain::access;
use crate::domain::blocks::{self, BlockedContact};
use crate::domain::contacts::{self, Contact};
use crate::domain::directory::{self, DirectoryEntry};
use crate::error::Error;
use crate::http::AppState;
use crate::http::auth::{ApiAuth, Authed};
use crate::http::error::{ApiResult, ErrorBody};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(search))
        .routes(routes!(detail, rename))
        .routes(routes!(merge))
        .routes(routes!(block, unblock))
        .routes(routes!(list_blocks))
}

/// The contact, if the caller sees its channel (or the channel of the person it belongs to).
pub async fn visible_contact(state: &AppState, who: &Authed, id: u64) -> Result<Contact, Error> {
    let user = who.user.clone();
    state
        .store
        .read(move |rtx| {
            let vis = access::visible_channels(rtx, &user)?;
            let c = contacts::get(rtx, id)?.ok_or(Error::NotFound("contact"))?;
            if vis.channel(c.channel_id) || directory::entry(rtx, &vis, id)?.is_some() {
                Ok(c)
            } else {
                Err(Error::NotFound("contact"))
            }
        })
        .await
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct SearchQuery {
    /// Name, number (ignoring `+`, spaces, dashes) or email; empty = newest contacts.
    pub q: Option<String>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<usize>,
}

#[utoipa::path(get, path = "/api/v1/contacts", tag = "contacts", params(SearchQuery), responses((status = 200, body = Vec<DirectoryEntry>)))]
/// Search contacts across channels, each with its merged addresses and sessions.
pub async fn search(
    State(state): State<AppState>,
    ApiAuth(who): ApiAuth,
    Query(q): Query<SearchQuery>,
) -> ApiResult<Json<Vec<DirectoryEntry>>> {
    let user = who.user.clone();
    let limit = q.limit.unwrap_or(50).clamp(1, 200);
    let text = q.q.unwrap_or_default();
    Ok(Json(
        state
            .store
            .read(move |rtx| {
                let vis = access::visible_channels(rtx, &user)?;
                directory::search(rtx, &vis, &text, limit)
            })
            .await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/contacts/{id}", tag = "contacts", params(("id" = u64, Path)),
    responses((status = 200, body = DirectoryEntry), (status = 404, body = ErrorBody)))]
/// One person: the contact (or the one it was merged into), its addresses and sessions.
pub async fn detail(
    State(state): State<AppState>,
    ApiAuth(who): ApiAuth,
    Path(id): Path<u64>,
) -> ApiResult<Json<DirectoryEntry>> {
    let user = who.user.clone();
    Ok(Json(
        state
            .store
            .read(move |rtx| {
                let vis = access::visible_channels(rtx, &user)?;
                directory::entry(rtx, &vis, id)?.ok_or(Error::NotFound("contact"))
            })
            .await?,
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct RenameBody {
    pub name: String,
}

#[utoipa::path(patch, path = "/api/v1/contacts/{id}", tag = "contacts", params(("id" = u64, Path)), request_body = RenameBody,
    responses((status = 200, body = Contact), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
/// Edit the contact's name; provider profile names no longer overwrite it.
pub async fn rename(
    State(state): State<AppState>,
    ApiAuth(who): ApiAuth,
    Path(id): Path<u64>,
    JsonBody(b): JsonBody<RenameBody>,
) -> ApiResult<Json<Contact>> {
    visible_contact(&state, &who, id).await?;
    let uid = who.id();
    Ok(Json(
        state
            .store
            .write(move |ctx| directory::rename_in(ctx, uid, id, &b.name))
            .await?,
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct MergeBody {
    /// The contact that remains; this one's sessions join its history.
    pub into: u64,
}

#[utoipa::path(post, path = "/api/v1/contacts/{id}/merge", tag = "contacts", params(("id" = u64, Path)), request_body = MergeBody,
    responses((status = 200, body = Contact), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
/// Merge this contact into another one that is the same person; returns the surviving contact.
pub async fn merge(
    State(state): State<AppState>,
    ApiAuth(who): ApiAuth,
    Path(id): Path<u64>,
    JsonBody(b): JsonBody<MergeBody>,
) -> ApiResult<Json<Contact>> {
    if b.into == id {
        return Err(Error::invalid("into", "a contact cannot be merged with itself").into());
    }
    visible_contact(&state, &who, id).await?;
    visible_contact(&state, &who, b.into).await?;
    let uid = who.id();
    Ok(Json(
        state
            .store
            .write(move |ctx| directory::merge_in(ctx, uid, id, b.into))
            .await?,
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct BlockBody {
    pub reason: String,
}

#[utoipa::path(post, path = "/api/v1/contacts/{id}/block", tag = "contacts", params(("id" = u64, Path)), request_body = BlockBody,
    responses((status = 200, body = Contact), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
/// Block a contact: their later messages are acknowledged and dropped before storage. Audited.
pub async fn block(
    State(state): State<AppState>,
    ApiAuth(who): ApiAuth,
    Path(id): Path<u64>,
    JsonBody(b): JsonBody<BlockBody>,
) -> ApiResult<Json<Contact>> {
    visible_contact(&state, &who, id).await?;
    let uid = who.id();
    Ok(Json(
        state
            .store
            .write(move |ctx| blocks::block_in(ctx, uid, id, &b.reason))
            .await?,
    ))
}

#[utoipa::path(delete, path = "/api/v1/contacts/{id}/block", tag = "contacts", params(("id" = u64, Path)),
    responses((status = 200, body = Contact), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
/// Lift a block (admins). Audited.
pub async fn unblock(
    State(state): State<AppState>,
    ApiAuth(who): ApiAuth,
    Path(id): Path<u64>,
) -> ApiResult<Json<Contact>> {
    who.require_admin()?;
    let uid = who.id();
    Ok(Json(
        state
            .store
            .write(move |ctx| blocks::unblock_in(ctx, uid, id))
            .await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/blocks", tag = "contacts", responses((status = 200, body = Vec<BlockedContact>), (status = 403, body = ErrorBody)))]
/// Every blocked contact with who blocked it, when and why, newest first (admins).
pub async fn list_blocks(
    State(state): State<AppState>,
    ApiAuth(who): ApiAuth,
) -> ApiResult<Json<Vec<BlockedContact>>> {
    who.require_admin()?;
    Ok(Json(state.store.read(blocks::list).await?))
}
