//! Web Push: the VAPID public key and the caller's push subscriptions (one per device).

use axum::Json;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::domain::push::{self, NewSubscription, SubscriptionView};
use crate::error::Error;
use crate::http::HttpState;
use crate::http::auth::ApiAuth;
use crate::http::body::JsonBody;
use crate::http::error::{ApiResult, ErrorBody};

/// A subscription is an endpoint URL (at most 2048 characters) and two short keys.
const BODY_CAP: usize = 8 * 1024;

pub fn router() -> OpenApiRouter<HttpState> {
    OpenApiRouter::new()
        .routes(routes!(public_key))
        .routes(routes!(list_subscriptions, subscribe, unsubscribe))
        .layer(DefaultBodyLimit::max(BODY_CAP))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct PushKey {
    /// The VAPID public key (uncompressed P-256 point, base64url): `applicationServerKey`.
    pub key: String,
}

#[utoipa::path(get, path = "/api/v1/push/key", tag = "push", responses((status = 200, body = PushKey), (status = 401, body = ErrorBody)))]
/// The server's VAPID public key, for `pushManager.subscribe`.
pub async fn public_key(
    State(state): State<HttpState>,
    ApiAuth(_who): ApiAuth,
) -> ApiResult<Json<PushKey>> {
    let v = push::vapid(&state.store).await?;
    Ok(Json(PushKey {
        key: v.public_key_b64(),
    }))
}

#[utoipa::path(get, path = "/api/v1/push/subscriptions", tag = "push", responses((status = 200, body = Vec<SubscriptionView>), (status = 401, body = ErrorBody)))]
/// The caller's devices that receive pushes.
pub async fn list_subscriptions(
    State(state): State<HttpState>,
    ApiAuth(who): ApiAuth,
) -> ApiResult<Json<Vec<SubscriptionView>>> {
    Ok(Json(push::list_mine(&state.store, &who.user).await?))
}

#[utoipa::path(post, path = "/api/v1/push/subscriptions", tag = "push", request_body = NewSubscription,
    responses((status = 201, body = SubscriptionView), (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)))]
/// Turn pushes on for this device (the browser's `PushSubscription.toJSON()` plus `device` and
/// `hide_content`); posting the same endpoint again changes its options. The endpoint must be
/// `https://` (or `http://` on a loopback address).
pub async fn subscribe(
    State(state): State<HttpState>,
    ApiAuth(who): ApiAuth,
    JsonBody(input): JsonBody<NewSubscription>,
) -> ApiResult<(StatusCode, Json<SubscriptionView>)> {
    let v = push::subscribe(&state.store, &who.user, input, state.now()).await?;
    Ok((StatusCode::CREATED, Json(v)))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Unsubscribe {
    pub endpoint: String,
}

#[utoipa::path(delete, path = "/api/v1/push/subscriptions", tag = "push", request_body = Unsubscribe,
    responses((status = 204), (status = 404, body = ErrorBody)))]
/// Turn pushes off for one of the caller's devices.
pub async fn unsubscribe(
    State(state): State<HttpState>,
    ApiAuth(who): ApiAuth,
    JsonBody(b): JsonBody<Unsubscribe>,
) -> ApiResult<StatusCode> {
    if push::unsubscribe(&state.store, &who.user, &b.endpoint).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(Error::NotFound("push subscription").into())
    }
}
