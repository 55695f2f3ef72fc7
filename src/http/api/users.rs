//! Users, the caller's own profile, API tokens, audit log.

use crate::ids::UserId;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::domain::audit::{self, AuditEntry};
use crate::domain::auth;
use crate::domain::users::{self, NewUser, UserPatch, UserView};
use crate::http::HttpState;
use crate::http::auth::{ApiAdmin, ApiAuth};
use crate::http::body::JsonBody;
use crate::http::error::{ApiResult, ErrorBody};

pub fn router() -> OpenApiRouter<HttpState> {
    OpenApiRouter::new()
        .routes(routes!(list_users, create_user))
        .routes(routes!(get_user, patch_user))
        .routes(routes!(reset_password))
        .routes(routes!(me, patch_me))
        .routes(routes!(change_my_password))
        .routes(routes!(create_token, list_my_tokens))
        .routes(routes!(revoke_my_token))
        .routes(routes!(list_user_tokens))
        .routes(routes!(revoke_user_token))
        .routes(routes!(list_audit))
}

#[utoipa::path(get, path = "/api/v1/users", tag = "users", responses((status = 200, body = Vec<UserView>), (status = 403, body = ErrorBody)))]
/// All users (admins), or the colleague directory (agents: enabled users only).
pub async fn list_users(
    State(state): State<HttpState>,
    ApiAuth(who): ApiAuth,
) -> ApiResult<Json<Vec<UserView>>> {
    let all = users::list_for(&state.store, &who.user).await?;
    Ok(Json(all.iter().map(UserView::from).collect()))
}

#[utoipa::path(post, path = "/api/v1/users", tag = "users", request_body = NewUser,
    responses((status = 201, body = UserView), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
/// Create a user (admins).
pub async fn create_user(
    State(state): State<HttpState>,
    ApiAdmin(who): ApiAdmin,
    JsonBody(input): JsonBody<NewUser>,
) -> ApiResult<(StatusCode, Json<UserView>)> {
    let u = users::create(&state.store, &state.passwords, Some(who.id()), input, false).await?;
    Ok((StatusCode::CREATED, Json(UserView::from(&u))))
}

#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "users", params(("id" = u64, Path)), responses((status = 200, body = UserView), (status = 404, body = ErrorBody)))]
pub async fn get_user(
    State(state): State<HttpState>,
    ApiAuth(who): ApiAuth,
    Path(id): Path<UserId>,
) -> ApiResult<Json<UserView>> {
    let u = users::get_for(&state.store, &who.user, id).await?;
    Ok(Json(UserView::from(&u)))
}

#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "users", params(("id" = u64, Path)), request_body = UserPatch,
    responses((status = 200, body = UserView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
/// Edit a user; disabling ends all their sessions at once (admins).
pub async fn patch_user(
    State(state): State<HttpState>,
    ApiAdmin(who): ApiAdmin,
    Path(id): Path<UserId>,
    JsonBody(patch): JsonBody<UserPatch>,
) -> ApiResult<Json<UserView>> {
    let u = users::update(&state.store, who.id(), id, patch, true).await?;
    Ok(Json(UserView::from(&u)))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct PasswordReset {
    pub password: String,
    /// Keep the user's API tokens (by default a reset revokes them).
    #[serde(default)]
    pub keep_api_tokens: bool,
}

#[utoipa::path(post, path = "/api/v1/users/{id}/password", tag = "users", params(("id" = u64, Path)), request_body = PasswordReset,
    responses((status = 204), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
/// Reset a user's password (admins); ends their sessions and revokes their API tokens unless
/// `keep_api_tokens`.
pub async fn reset_password(
    State(state): State<HttpState>,
    ApiAdmin(who): ApiAdmin,
    Path(id): Path<UserId>,
    JsonBody(b): JsonBody<PasswordReset>,
) -> ApiResult<StatusCode> {
    users::set_password(
        &state.store,
        &state.passwords,
        Some(who.id()),
        id,
        &b.password,
        b.keep_api_tokens,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/me", tag = "users", responses((status = 200, body = UserView), (status = 401, body = ErrorBody)))]
/// The calling user.
pub async fn me(ApiAuth(who): ApiAuth) -> Json<UserView> {
    Json(UserView::from(&who.user))
}

#[utoipa::path(patch, path = "/api/v1/me", tag = "users", request_body = UserPatch, responses((status = 200, body = UserView), (status = 403, body = ErrorBody)))]
/// Change one's own profile, language and notification settings.
pub async fn patch_me(
    State(state): State<HttpState>,
    ApiAuth(who): ApiAuth,
    JsonBody(patch): JsonBody<UserPatch>,
) -> ApiResult<Json<UserView>> {
    let u = users::update(&state.store, who.id(), who.id(), patch, false).await?;
    Ok(Json(UserView::from(&u)))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct PasswordChange {
    pub current: String,
    pub new_password: String,
    /// Keep one's API tokens (by default a password change revokes them).
    #[serde(default)]
    pub keep_api_tokens: bool,
}

#[utoipa::path(post, path = "/api/v1/me/password", tag = "users", request_body = PasswordChange,
    responses((status = 204), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
/// Change one's own password; all sessions end, and the API tokens unless `keep_api_tokens`.
pub async fn change_my_password(
    State(state): State<HttpState>,
    ApiAuth(who): ApiAuth,
    JsonBody(b): JsonBody<PasswordChange>,
) -> ApiResult<StatusCode> {
    users::change_own_password(
        &state.store,
        &state.passwords,
        &who.user,
        &b.current,
        &b.new_password,
        b.keep_api_tokens,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct NewToken {
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    /// Days until the token is refused; absent = until revoked.
    #[schema(minimum = 1, maximum = 3650)]
    pub expires_in_days: Option<u32>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CreatedToken {
    pub id: u64,
    pub name: String,
    /// Shown once; send as `Authorization: Bearer <token>`.
    pub token: String,
    /// Unix ms after which it is refused, if it expires.
    pub expires: Option<i64>,
}

#[utoipa::path(post, path = "/api/v1/me/tokens", tag = "users", request_body = NewToken,
    responses((status = 201, body = CreatedToken), (status = 422, body = ErrorBody)))]
/// Create an API token for scripts acting as the caller, optionally expiring.
pub async fn create_token(
    State(state): State<HttpState>,
    ApiAuth(who): ApiAuth,
    JsonBody(b): JsonBody<NewToken>,
) -> ApiResult<(StatusCode, Json<CreatedToken>)> {
    let (token, t) = auth::create_api_token(
        &state.store,
        who.id(),
        &b.name,
        b.expires_in_days,
        Some(who.id()),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedToken {
            id: t.id,
            name: t.name,
            token,
            expires: t.expires,
        }),
    ))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct TokenList {
    /// Oldest first; the token values themselves are never shown again.
    pub tokens: Vec<auth::ApiToken>,
}

#[utoipa::path(get, path = "/api/v1/me/tokens", tag = "users", responses((status = 200, body = TokenList)))]
/// The caller's API tokens: name, creation, last use and expiry.
pub async fn list_my_tokens(
    State(state): State<HttpState>,
    ApiAuth(who): ApiAuth,
) -> ApiResult<Json<TokenList>> {
    let tokens = auth::list_api_tokens(&state.store, who.id()).await?;
    Ok(Json(TokenList { tokens }))
}

#[utoipa::path(delete, path = "/api/v1/me/tokens/{id}", tag = "users", params(("id" = u64, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
/// Revoke one of the caller's API tokens; it is refused from now on.
pub async fn revoke_my_token(
    State(state): State<HttpState>,
    ApiAuth(who): ApiAuth,
    Path(id): Path<u64>,
) -> ApiResult<StatusCode> {
    auth::revoke_api_token(&state.store, Some(&who.user), who.id(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/users/{id}/tokens", tag = "users", params(("id" = u64, Path)),
    responses((status = 200, body = TokenList), (status = 403, body = ErrorBody)))]
/// A user's API tokens (admins).
pub async fn list_user_tokens(
    State(state): State<HttpState>,
    ApiAdmin(_who): ApiAdmin,
    Path(id): Path<UserId>,
) -> ApiResult<Json<TokenList>> {
    let tokens = auth::list_api_tokens(&state.store, id).await?;
    Ok(Json(TokenList { tokens }))
}

#[utoipa::path(delete, path = "/api/v1/users/{id}/tokens/{token_id}", tag = "users",
    params(("id" = u64, Path), ("token_id" = u64, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
/// Revoke one of a user's API tokens (admins).
pub async fn revoke_user_token(
    State(state): State<HttpState>,
    ApiAdmin(who): ApiAdmin,
    Path((id, token_id)): Path<(UserId, u64)>,
) -> ApiResult<StatusCode> {
    auth::revoke_api_token(&state.store, Some(&who.user), id, token_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct Page {
    /// Return entries older than this id.
    pub before: Option<u64>,
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<usize>,
}

#[utoipa::path(get, path = "/api/v1/audit", tag = "admin", params(Page), responses((status = 200, body = Vec<AuditEntry>), (status = 403, body = ErrorBody)))]
/// The append-only audit log, newest first (admins).
pub async fn list_audit(
    State(state): State<HttpState>,
    ApiAdmin(_who): ApiAdmin,
    Query(p): Query<Page>,
) -> ApiResult<Json<Vec<AuditEntry>>> {
    let limit = p.limit.unwrap_or(100).clamp(1, 500);
    Ok(Json(
        state
            .store
            .read(move |rtx| audit::list(rtx, p.before, limit))
            .await?,
    ))
}
