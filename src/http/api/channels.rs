//! Channels: admins create, read, change and delete them (secrets always masked); agents may
//! read the channels they are members of, without credentials or webhook details.

use crate::ids::ChannelId;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::domain::access;
use crate::domain::channels::health::{self, ChannelHealth};
use crate::domain::channels::{self, Channel, ChannelInput, ChannelView, Credentials};
use crate::domain::users::User;
use crate::error::Error;
use crate::http::HttpState;
use crate::http::auth::{ApiAdmin, ApiAuth};
use crate::http::body::JsonBody;
use crate::http::error::{ApiResult, ErrorBody};

pub fn router() -> OpenApiRouter<HttpState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get_one, patch, delete))
}

/// A channel as the API shows it: the masked view plus its health line.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ChannelInfo {
    #[serde(flatten)]
    pub channel: ChannelView,
    pub health: ChannelHealth,
}

fn info(ch: &Channel, health: ChannelHealth, public_url: &str, admin: bool) -> ChannelInfo {
    let mut channel = ch.view(public_url);
    if !admin {
        channel.credentials = Credentials::default();
        channel.webhook_urls.clear();
        channel.api_base.clear();
    }
    ChannelInfo {
        channel,
        health: if admin {
            health
        } else {
            ChannelHealth::default()
        },
    }
}

async fn load(state: &HttpState, user: &User, id: ChannelId) -> Result<ChannelInfo, Error> {
    let user = user.clone();
    let public_url = state.public_url.clone();
    state
        .store
        .read(move |rtx| {
            let vis = access::visible_channels(rtx, &user)?;
            let ch = channels::get(rtx, id)?
                .filter(|c| vis.channel(c.id))
                .ok_or(Error::NotFound("channel"))?;
            let h = health::get(rtx, id)?;
            Ok(info(&ch, h, &public_url, user.is_admin()))
        })
        .await
}

#[utoipa::path(get, path = "/api/v1/channels", tag = "channels",
    responses((status = 200, body = Vec<ChannelInfo>), (status = 401, body = ErrorBody)))]
/// Every channel (admins) or the caller's channels (agents, without credentials).
pub async fn list(
    State(state): State<HttpState>,
    ApiAuth(who): ApiAuth,
) -> ApiResult<Json<Vec<ChannelInfo>>> {
    let user = who.user.clone();
    let public_url = state.public_url.clone();
    let out = state
        .store
        .read(move |rtx| {
            let vis = access::visible_channels(rtx, &user)?;
            let mut out = Vec::new();
            for ch in channels::list(rtx)? {
                if vis.channel(ch.id) {
                    let h = health::get(rtx, ch.id)?;
                    out.push(info(&ch, h, &public_url, user.is_admin()));
                }
            }
            Ok(out)
        })
        .await?;
    Ok(Json(out))
}

#[utoipa::path(post, path = "/api/v1/channels", tag = "channels", request_body = ChannelInput,
    responses((status = 201, body = ChannelInfo), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
/// Create a channel (admins). `kind` and `name` are required.
pub async fn create(
    State(state): State<HttpState>,
    ApiAdmin(who): ApiAdmin,
    JsonBody(input): JsonBody<ChannelInput>,
) -> ApiResult<(StatusCode, Json<ChannelInfo>)> {
    let ch = channels::create(&state.store, who.id(), input).await?;
    let out = info(&ch, ChannelHealth::default(), &state.public_url, true);
    Ok((StatusCode::CREATED, Json(out)))
}

#[utoipa::path(get, path = "/api/v1/channels/{id}", tag = "channels", params(("id" = u64, Path)),
    responses((status = 200, body = ChannelInfo), (status = 404, body = ErrorBody)))]
/// One channel (admins; agents for their own channels, without credentials).
pub async fn get_one(
    State(state): State<HttpState>,
    ApiAuth(who): ApiAuth,
    Path(id): Path<ChannelId>,
) -> ApiResult<Json<ChannelInfo>> {
    Ok(Json(load(&state, &who.user, id).await?))
}

#[utoipa::path(patch, path = "/api/v1/channels/{id}", tag = "channels", params(("id" = u64, Path)), request_body = ChannelInput,
    responses((status = 200, body = ChannelInfo), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
/// Change a channel (admins). Omitted fields stay; empty or masked secrets keep the stored ones.
pub async fn patch(
    State(state): State<HttpState>,
    ApiAdmin(who): ApiAdmin,
    Path(id): Path<ChannelId>,
    JsonBody(input): JsonBody<ChannelInput>,
) -> ApiResult<Json<ChannelInfo>> {
    channels::update(&state.store, who.id(), id, input).await?;
    Ok(Json(load(&state, &who.user, id).await?))
}

#[utoipa::path(delete, path = "/api/v1/channels/{id}", tag = "channels", params(("id" = u64, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
/// Delete a channel (admins). Its sessions stay readable; queued messages fail.
pub async fn delete(
    State(state): State<HttpState>,
    ApiAdmin(who): ApiAdmin,
    Path(id): Path<ChannelId>,
) -> ApiResult<StatusCode> {
    channels::delete(&state.store, who.id(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}
