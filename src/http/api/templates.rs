//! WhatsApp templates (admins register, everyone lists) and canned replies (shared + personal).

use crate::ids::ChannelId;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::domain::templates::{self, Canned, CannedInput, Template, TemplateInput};
use crate::http::HttpState;
use crate::http::auth::{ApiAdmin, ApiAuth};
use crate::http::body::JsonBody;
use crate::http::error::{ApiResult, ErrorBody};

pub fn router() -> OpenApiRouter<HttpState> {
    OpenApiRouter::new()
        .routes(routes!(list_templates, create_template))
        .routes(routes!(update_template, delete_template))
        .routes(routes!(list_canned, create_canned))
        .routes(routes!(update_canned, delete_canned))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct TemplateQuery {
    /// Only templates usable on this channel.
    pub channel_id: Option<ChannelId>,
}

#[utoipa::path(get, path = "/api/v1/templates", tag = "templates", params(TemplateQuery), responses((status = 200, body = Vec<Template>)))]
/// Registered WhatsApp templates (name, language, body with `{{1}}`… parameters), for the composer's template picker.
pub async fn list_templates(
    State(state): State<HttpState>,
    ApiAuth(_who): ApiAuth,
    Query(q): Query<TemplateQuery>,
) -> ApiResult<Json<Vec<Template>>> {
    Ok(Json(
        state
            .store
            .read(move |rtx| match q.channel_id {
                Some(c) => templates::for_channel(rtx, c),
                None => templates::list(rtx),
            })
            .await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/templates", tag = "templates", request_body = TemplateInput,
    responses((status = 201, body = Template), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
/// Register a template exactly as WhatsApp approved it (admins).
pub async fn create_template(
    State(state): State<HttpState>,
    ApiAdmin(who): ApiAdmin,
    JsonBody(b): JsonBody<TemplateInput>,
) -> ApiResult<(StatusCode, Json<Template>)> {
    let t = templates::save(&state.store, who.id(), None, b).await?;
    Ok((StatusCode::CREATED, Json(t)))
}

#[utoipa::path(put, path = "/api/v1/templates/{id}", tag = "templates", params(("id" = u64, Path)), request_body = TemplateInput,
    responses((status = 200, body = Template), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
/// Change a registered template (admins).
pub async fn update_template(
    State(state): State<HttpState>,
    ApiAdmin(who): ApiAdmin,
    Path(id): Path<u64>,
    JsonBody(b): JsonBody<TemplateInput>,
) -> ApiResult<Json<Template>> {
    Ok(Json(
        templates::save(&state.store, who.id(), Some(id), b).await?,
    ))
}

#[utoipa::path(delete, path = "/api/v1/templates/{id}", tag = "templates", params(("id" = u64, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
/// Remove a template (admins). Messages already sent keep their text.
pub async fn delete_template(
    State(state): State<HttpState>,
    ApiAdmin(who): ApiAdmin,
    Path(id): Path<u64>,
) -> ApiResult<StatusCode> {
    templates::delete(&state.store, who.id(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct CannedQuery {
    /// What follows `/` in the composer: matches shortcuts by prefix and texts by substring.
    pub q: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/canned", tag = "templates", params(CannedQuery), responses((status = 200, body = Vec<Canned>)))]
/// The caller's personal and the shared canned replies matching `q` (at most 50; prefix matches first).
pub async fn list_canned(
    State(state): State<HttpState>,
    ApiAuth(who): ApiAuth,
    Query(q): Query<CannedQuery>,
) -> ApiResult<Json<Vec<Canned>>> {
    let uid = who.id();
    let q = q.q.unwrap_or_default();
    Ok(Json(
        state
            .store
            .read(move |rtx| templates::search_canned(rtx, uid, &q))
            .await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/canned", tag = "templates", request_body = CannedInput,
    responses((status = 201, body = Canned), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
/// Create a personal canned reply, or a shared one (`shared: true`, admins).
pub async fn create_canned(
    State(state): State<HttpState>,
    ApiAuth(who): ApiAuth,
    JsonBody(b): JsonBody<CannedInput>,
) -> ApiResult<(StatusCode, Json<Canned>)> {
    let c = templates::save_canned(&state.store, &who.user, None, b).await?;
    Ok((StatusCode::CREATED, Json(c)))
}

#[utoipa::path(put, path = "/api/v1/canned/{id}", tag = "templates", params(("id" = u64, Path)), request_body = CannedInput,
    responses((status = 200, body = Canned), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
/// Change a canned reply (own personal ones; shared ones for admins).
pub async fn update_canned(
    State(state): State<HttpState>,
    ApiAuth(who): ApiAuth,
    Path(id): Path<u64>,
    JsonBody(b): JsonBody<CannedInput>,
) -> ApiResult<Json<Canned>> {
    Ok(Json(
        templates::save_canned(&state.store, &who.user, Some(id), b).await?,
    ))
}

#[utoipa::path(delete, path = "/api/v1/canned/{id}", tag = "templates", params(("id" = u64, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
/// Delete a canned reply (own personal ones; shared ones for admins).
pub async fn delete_canned(
    State(state): State<HttpState>,
    ApiAuth(who): ApiAuth,
    Path(id): Path<u64>,
) -> ApiResult<StatusCode> {
    templates::delete_canned(&state.store, &who.user, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
