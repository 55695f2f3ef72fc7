//! Internal chat: chats, messages, read state, pin/mute, typing, group administration, the
//! colleague directory and message search. A chat the caller is not a member of is 404.

use crate::ids::ChatId;
use crate::ids::MessageId;
use crate::ids::UserId;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::domain::chats::{
    self, ChatFileEntry, ChatListItem, ChatMessage, ChatView, Colleague, NewChat, NewChatMessage,
    SearchPage,
};
use crate::error::Error;
use crate::http::HttpState;
use crate::http::auth::ApiAuth;
use crate::http::body::JsonBody;
use crate::http::error::{ApiResult, ErrorBody};

pub fn router() -> OpenApiRouter<HttpState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(detail, rename))
        .routes(routes!(messages_page, send))
        .routes(routes!(files))
        .routes(routes!(mark_read))
        .routes(routes!(set_state))
        .routes(routes!(typing))
        .routes(routes!(add_members))
        .routes(routes!(remove_member))
        .routes(routes!(grant_admin))
        .routes(routes!(revoke_admin))
        .routes(routes!(leave))
        .routes(routes!(directory))
        .routes(routes!(search))
}

async fn view(state: &HttpState, uid: UserId, id: ChatId) -> Result<ChatView, Error> {
    state.store.read(move |rtx| chats::view(rtx, uid, id)).await
}

#[utoipa::path(get, path = "/api/v1/chats", tag = "chats", responses((status = 200, body = Vec<ChatListItem>)))]
/// The caller's chats: pinned first, then newest activity; with unread counts and mute flags.
pub async fn list(
    State(state): State<HttpState>,
    ApiAuth(who): ApiAuth,
) -> ApiResult<Json<Vec<ChatListItem>>> {
    let uid = who.id();
    Ok(Json(
        state
            .store
            .read(move |rtx| chats::list_for_user(rtx, uid))
            .await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/chats", tag = "chats", request_body = NewChat,
    responses((status = 201, body = ChatView, description = "created"), (status = 200, body = ChatView, description = "the existing 1:1 chat"), (status = 422, body = ErrorBody)))]
/// Start a 1:1 chat (`{user_id}`; returns the existing one if there is one) or create a group
/// (`{name, member_ids}`) with the caller as its admin.
pub async fn create(
    State(state): State<HttpState>,
    ApiAuth(who): ApiAuth,
    JsonBody(b): JsonBody<NewChat>,
) -> ApiResult<(StatusCode, Json<ChatView>)> {
    let (id, created) = chats::start(&state.store, &who.user, b).await?;
    let v = view(&state, who.id(), id).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(v)))
}

#[utoipa::path(get, path = "/api/v1/chats/{id}", tag = "chats", params(("id" = u64, Path)),
    responses((status = 200, body = ChatView), (status = 404, body = ErrorBody)))]
/// One chat with its members, their admin flag and read state.
pub async fn detail(
    State(state): State<HttpState>,
    ApiAuth(who): ApiAuth,
    Path(id): Path<ChatId>,
) -> ApiResult<Json<ChatView>> {
    Ok(Json(view(&state, who.id(), id).await?))
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct Rename {
    pub name: String,
}

#[utoipa::path(patch, path = "/api/v1/chats/{id}", tag = "chats", params(("id" = u64, Path)), request_body = Rename,
    responses((status = 200, body = ChatView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
/// Rename a group (group admins).
pub async fn rename(
    State(state): State<HttpState>,
    ApiAuth(who): ApiAuth,
    Path(id): Path<ChatId>,
    JsonBody(b): JsonBody<Rename>,
) -> ApiResult<Json<ChatView>> {
    let uid = who.id();
    chats::rename(&state.store, uid, id, b.name).await?;
    Ok(Json(view(&state, uid, id).await?))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct PageQuery {
    /// Older than this message id.
    pub before: Option<MessageId>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<usize>,
}

#[utoipa::path(get, path = "/api/v1/chats/{id}/messages", tag = "chats", params(("id" = u64, Path), PageQuery),
    responses((status = 200, body = Vec<ChatMessage>), (status = 404, body = ErrorBody)))]
/// A page of messages, oldest first (the newest `limit` before `before`).
pub async fn messages_page(
    State(state): State<HttpState>,
    ApiAuth(who): ApiAuth,
    Path(id): Path<ChatId>,
    Query(q): Query<PageQuery>,
) -> ApiResult<Json<Vec<ChatMessage>>> {
    let uid = who.id();
    let limit = q.limit.unwrap_or(50).clamp(1, 200);
    Ok(Json(
        state
            .store
            .read(move |rtx| {
                chats::get_for_member(rtx, uid, id)?;
                chats::page(rtx, id, q.before, limit)
            })
            .await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/chats/{id}/messages", tag = "chats", params(("id" = u64, Path)), request_body = NewChatMessage,
    responses((status = 201, body = ChatMessage), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
/// Send a message. `@username` words naming members mention them (a mention of a colleague
/// outside the chat is refused); empty or oversize text is refused.
pub async fn send(
    State(state): State<HttpState>,
    ApiAuth(who): ApiAuth,
    Path(id): Path<ChatId>,
    JsonBody(b): JsonBody<NewChatMessage>,
) -> ApiResult<(StatusCode, Json<ChatMessage>)> {
    let max = state.config.limits.max_message_chars;
    let m = chats::send(&state.store, &who.user, id, b, max).await?;
    Ok((StatusCode::CREATED, Json(m)))
}

#[utoipa::path(get, path = "/api/v1/chats/{id}/files", tag = "chats", params(("id" = u64, Path), PageQuery),
    responses((status = 200, body = Vec<ChatFileEntry>), (status = 404, body = ErrorBody)))]
/// Files posted in the chat, newest first.
pub async fn files(
    State(state): State<HttpState>,
    ApiAuth(who): ApiAuth,
    Path(id): Path<ChatId>,
    Query(q): Query<PageQuery>,
) -> ApiResult<Json<Vec<ChatFileEntry>>> {
    let uid = who.id();
    let limit = q.limit.unwrap_or(50).clamp(1, 200);
    Ok(Json(
        state
            .store
            .read(move |rtx| {
                chats::get_for_member(rtx, uid, id)?;
                chats::files(rtx, id, q.before, limit)
            })
            .await?,
    ))
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct MarkRead {
    /// Read up to this message (default: the newest).
    pub message_id: Option<MessageId>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReadAck {
    pub last_read: MessageId,
}

#[utoipa::path(post, path = "/api/v1/chats/{id}/read", tag = "chats", params(("id" = u64, Path)), request_body = MarkRead,
    responses((status = 200, body = ReadAck), (status = 404, body = ErrorBody)))]
/// Mark the chat read; the other members see it as "read by", the caller's other browsers update.
pub async fn mark_read(
    State(state): State<HttpState>,
    ApiAuth(who): ApiAuth,
    Path(id): Path<ChatId>,
    JsonBody(b): JsonBody<MarkRead>,
) -> ApiResult<Json<ReadAck>> {
    let last_read = chats::mark_read(&state.store, who.id(), id, b.message_id).await?;
    Ok(Json(ReadAck { last_read }))
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct StatePatch {
    pub pinned: Option<bool>,
    pub muted: Option<bool>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ChatState {
    pub pinned: bool,
    pub muted: bool,
}

#[utoipa::path(patch, path = "/api/v1/chats/{id}/state", tag = "chats", params(("id" = u64, Path)), request_body = StatePatch,
    responses((status = 200, body = ChatState), (status = 404, body = ErrorBody)))]
/// Pin / unpin, mute / unmute the chat for the caller (every browser of the caller follows).
pub async fn set_state(
    State(state): State<HttpState>,
    ApiAuth(who): ApiAuth,
    Path(id): Path<ChatId>,
    JsonBody(b): JsonBody<StatePatch>,
) -> ApiResult<Json<ChatState>> {
    let st = chats::set_state(&state.store, who.id(), id, b.pinned, b.muted).await?;
    Ok(Json(ChatState {
        pinned: st.pinned,
        muted: st.muted,
    }))
}

#[utoipa::path(post, path = "/api/v1/chats/{id}/typing", tag = "chats", params(("id" = u64, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
/// "I am typing": an ephemeral `chat.typing` event to the other members (not stored, not
/// replayed). Clients send it at most every few seconds while typing.
pub async fn typing(
    State(state): State<HttpState>,
    ApiAuth(who): ApiAuth,
    Path(id): Path<ChatId>,
) -> ApiResult<StatusCode> {
    chats::typing(&state.store, &who.user, id, state.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct AddMembers {
    pub user_ids: Vec<UserId>,
}

#[utoipa::path(post, path = "/api/v1/chats/{id}/members", tag = "chats", params(("id" = u64, Path)), request_body = AddMembers,
    responses((status = 200, body = ChatView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
/// Add colleagues to a group (group admins; at most 200 members, 100 groups per user).
pub async fn add_members(
    State(state): State<HttpState>,
    ApiAuth(who): ApiAuth,
    Path(id): Path<ChatId>,
    JsonBody(b): JsonBody<AddMembers>,
) -> ApiResult<Json<ChatView>> {
    let uid = who.id();
    chats::add_members(&state.store, uid, id, b.user_ids).await?;
    Ok(Json(view(&state, uid, id).await?))
}

#[utoipa::path(delete, path = "/api/v1/chats/{id}/members/{user_id}", tag = "chats", params(("id" = u64, Path), ("user_id" = u64, Path)),
    responses((status = 200, body = ChatView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
/// Remove a member from a group (group admins); the last admin cannot be removed.
pub async fn remove_member(
    State(state): State<HttpState>,
    ApiAuth(who): ApiAuth,
    Path((id, user_id)): Path<(ChatId, UserId)>,
) -> ApiResult<Json<ChatView>> {
    let uid = who.id();
    chats::remove_member(&state.store, uid, id, user_id).await?;
    Ok(Json(view(&state, uid, id).await?))
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct GrantAdmin {
    pub user_id: UserId,
    /// Hand over: the caller stops being an admin (default true).
    #[serde(default = "yes")]
    pub step_down: bool,
}

fn yes() -> bool {
    true
}

#[utoipa::path(post, path = "/api/v1/chats/{id}/admins", tag = "chats", params(("id" = u64, Path)), request_body = GrantAdmin,
    responses((status = 200, body = ChatView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
/// Hand over admin to a member (or, with `step_down: false`, add an admin).
pub async fn grant_admin(
    State(state): State<HttpState>,
    ApiAuth(who): ApiAuth,
    Path(id): Path<ChatId>,
    JsonBody(b): JsonBody<GrantAdmin>,
) -> ApiResult<Json<ChatView>> {
    let uid = who.id();
    chats::grant_admin(&state.store, uid, id, b.user_id, b.step_down).await?;
    Ok(Json(view(&state, uid, id).await?))
}

#[utoipa::path(delete, path = "/api/v1/chats/{id}/admins/{user_id}", tag = "chats", params(("id" = u64, Path), ("user_id" = u64, Path)),
    responses((status = 200, body = ChatView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
/// Take admin rights from a member (group admins); refused for the last admin.
pub async fn revoke_admin(
    State(state): State<HttpState>,
    ApiAuth(who): ApiAuth,
    Path((id, user_id)): Path<(ChatId, UserId)>,
) -> ApiResult<Json<ChatView>> {
    let uid = who.id();
    chats::revoke_admin(&state.store, uid, id, user_id).await?;
    Ok(Json(view(&state, uid, id).await?))
}

#[utoipa::path(post, path = "/api/v1/chats/{id}/leave", tag = "chats", params(("id" = u64, Path)),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
/// Leave a group (the last admin hands over admin first).
pub async fn leave(
    State(state): State<HttpState>,
    ApiAuth(who): ApiAuth,
    Path(id): Path<ChatId>,
) -> ApiResult<StatusCode> {
    chats::leave(&state.store, who.id(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct DirectoryQuery {
    /// Part of a name, username, extension or email.
    pub q: Option<String>,
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<usize>,
}

#[utoipa::path(get, path = "/api/v1/directory", tag = "chats", params(DirectoryQuery),
    responses((status = 200, body = Vec<Colleague>)))]
/// Colleagues (enabled users other than the caller) by name, extension or email.
pub async fn directory(
    State(state): State<HttpState>,
    ApiAuth(who): ApiAuth,
    Query(q): Query<DirectoryQuery>,
) -> ApiResult<Json<Vec<Colleague>>> {
    let uid = who.id();
    let limit = q.limit.unwrap_or(50).clamp(1, 500);
    let text = q.q.unwrap_or_default();
    Ok(Json(
        state
            .store
            .read(move |rtx| chats::directory(rtx, uid, &text, limit))
            .await?,
    ))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct SearchQuery {
    /// Words to find (all must match; the last one also as a prefix).
    pub q: String,
    /// Older than this message id (`next_before` of the previous page).
    pub before: Option<MessageId>,
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<usize>,
}

#[utoipa::path(get, path = "/api/v1/search", tag = "chats", params(SearchQuery),
    responses((status = 200, body = SearchPage), (status = 422, body = ErrorBody)))]
/// Search the caller's internal chats and the customer sessions of the channels they see,
/// newest first, with context and a link to the message.
pub async fn search(
    State(state): State<HttpState>,
    ApiAuth(who): ApiAuth,
    Query(q): Query<SearchQuery>,
) -> ApiResult<Json<SearchPage>> {
    if q.q.chars().count() > 200 {
        return Err(Error::invalid("q", "must be at most 200 characters").into());
    }
    let user = who.user.clone();
    let limit = q.limit.unwrap_or(20).clamp(1, 100);
    Ok(Json(
        state
            .store
            .read(move |rtx| chats::search_messages(rtx, &user, &q.q, q.before, limit))
            .await?,
    ))
}
