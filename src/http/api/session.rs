//! `POST /api/v1/session` (log in with username and password; sets the session cookie) and
//! `DELETE /api/v1/session` (log out). The login form of `/login` calls the same domain
//! function (`auth::password_login`).

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{AppendHeaders, IntoResponse, Response};
use serde::{Deserialize, Serialize};

use crate::domain::{auth, users};
use crate::error::Error;
use crate::http::HttpState;
use crate::http::auth::{
    ApiAuth, COOKIE, ClientIp, Via, clear_cookie, cookie_value, device_cookie, same_origin,
    session_cookie,
};
use crate::http::body::JsonBody;
use crate::http::error::{ApiError, ErrorBody};

#[derive(Deserialize, utoipa::ToSchema)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct LoginResponse {
    pub user: users::UserView,
    /// Send as `X-CSRF-Token` on state-changing requests made with the cookie.
    pub csrf_token: String,
}

#[utoipa::path(post, path = "/api/v1/session", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = LoginResponse), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)))]
/// Log in with username and password; sets the session cookie and the known-device cookie
/// (`swb_device`, which keeps this client exempt from the account and address limits of the
/// login throttle). 429 when a limit is reached or too many logins are being checked.
pub async fn login_json(
    State(state): State<HttpState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    body: JsonBody<LoginRequest>,
) -> Result<Response, ApiError> {
    if headers.contains_key(header::ORIGIN) && !same_origin(&headers, state.secure_cookies) {
        return Err(Error::Forbidden("cross-site login refused".into()).into());
    }
    let req = body.0;
    let device = cookie_value(&headers, auth::DEVICE_COOKIE);
    let login = auth::password_login(
        &state.store,
        &state.passwords,
        &state.throttle,
        ip,
        device.as_deref(),
        &req.username,
        &req.password,
        state.now(),
    )
    .await?;
    let body = LoginResponse {
        user: users::UserView::from(&login.user),
        csrf_token: login.session.csrf,
    };
    Ok((
        AppendHeaders([
            (header::SET_COOKIE, session_cookie(&state, &login.token)),
            (header::SET_COOKIE, device_cookie(&state, &login.device)),
        ]),
        Json(body),
    )
        .into_response())
}

#[utoipa::path(delete, path = "/api/v1/session", tag = "auth", responses((status = 204)))]
/// Log out: the session is deleted on the server.
pub async fn logout_json(
    State(state): State<HttpState>,
    headers: HeaderMap,
    ApiAuth(who): ApiAuth,
) -> Result<Response, ApiError> {
    if let Via::Cookie { token, .. } = &who.via {
        auth::logout(&state.store, token).await?;
    } else if let Some(token) = cookie_value(&headers, COOKIE) {
        auth::logout(&state.store, &token).await?;
    }
    Ok((
        [(header::SET_COOKIE, clear_cookie(&state))],
        StatusCode::NO_CONTENT,
    )
        .into_response())
}
