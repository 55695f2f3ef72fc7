//! Contacts directory (search, edit name, merge) and the block list.

use crate::ids::ContactId;
use axum::Json;
use axum::extract::{Path, Query, State};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::domain::access;
use crate::domain::blocks::{self, BlockedContact};
use crate::domain::contacts::Contact;
use crate::domain::directory::{self, DirectoryEntry};
use crate::error::Error;
use crate::http::HttpState;
use crate::http::auth::{ApiAdmin, ApiAuth};
use crate::http::body::JsonBody;
use crate::http::error::{ApiResult, ErrorBody};

pub fn router() -> OpenApiRouter<HttpState> {
    OpenApiRouter::new()
        .routes(routes!(search))
        .routes(routes!(detail, rename))
        .routes(routes!(merge))
        .routes(routes!(set_language))
        .routes(routes!(block, unblock))
        .routes(routes!(list_blocks))
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
    State(state): State<HttpState>,
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
    State(state): State<HttpState>,
    ApiAuth(who): ApiAuth,
    Path(id): Path<ContactId>,
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
    State(state): State<HttpState>,
    ApiAuth(who): ApiAuth,
    Path(id): Path<ContactId>,
    JsonBody(b): JsonBody<RenameBody>,
) -> ApiResult<Json<Contact>> {
    Ok(Json(
        directory::rename(&state.store, &who.user, id, b.name).await?,
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct LanguageBody {
    /// A shipped language's code (`"de"`); null or empty: unknown.
    pub language: Option<String>,
}

#[utoipa::path(put, path = "/api/v1/contacts/{id}/language", tag = "contacts", params(("id" = u64, Path)), request_body = LanguageBody,
    responses((status = 200, body = Contact), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
/// Set the customer's language (automatic replies use its texts), or unknown with null.
pub async fn set_language(
    State(state): State<HttpState>,
    ApiAuth(who): ApiAuth,
    Path(id): Path<ContactId>,
    JsonBody(b): JsonBody<LanguageBody>,
) -> ApiResult<Json<Contact>> {
    Ok(Json(
        directory::set_language(&state.store, &who.user, id, b.language).await?,
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct MergeBody {
    /// The contact that remains; this one's sessions join its history.
    pub into: ContactId,
}

#[utoipa::path(post, path = "/api/v1/contacts/{id}/merge", tag = "contacts", params(("id" = u64, Path)), request_body = MergeBody,
    responses((status = 200, body = Contact), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
/// Merge this contact into another one that is the same person; returns the surviving contact.
pub async fn merge(
    State(state): State<HttpState>,
    ApiAuth(who): ApiAuth,
    Path(id): Path<ContactId>,
    JsonBody(b): JsonBody<MergeBody>,
) -> ApiResult<Json<Contact>> {
    Ok(Json(
        directory::merge(&state.store, &who.user, id, b.into).await?,
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
    State(state): State<HttpState>,
    ApiAuth(who): ApiAuth,
    Path(id): Path<ContactId>,
    JsonBody(b): JsonBody<BlockBody>,
) -> ApiResult<Json<Contact>> {
    Ok(Json(
        blocks::block(&state.store, &who.user, id, b.reason).await?,
    ))
}

#[utoipa::path(delete, path = "/api/v1/contacts/{id}/block", tag = "contacts", params(("id" = u64, Path)),
    responses((status = 200, body = Contact), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
/// Lift a block (admins). Audited.
pub async fn unblock(
    State(state): State<HttpState>,
    ApiAdmin(who): ApiAdmin,
    Path(id): Path<ContactId>,
) -> ApiResult<Json<Contact>> {
    Ok(Json(blocks::unblock(&state.store, who.id(), id).await?))
}

#[utoipa::path(get, path = "/api/v1/blocks", tag = "contacts", responses((status = 200, body = Vec<BlockedContact>), (status = 403, body = ErrorBody)))]
/// Every blocked contact with who blocked it, when and why, newest first (admins).
pub async fn list_blocks(
    State(state): State<HttpState>,
    ApiAdmin(_who): ApiAdmin,
) -> ApiResult<Json<Vec<BlockedContact>>> {
    Ok(Json(state.store.read(blocks::list).await?))
}
