//! Customer sessions: list, read, reply, start, notes, read state, pick up, close, archive, mute.
//! Agents see the sessions of their channels; anything else is 404.

use crate::ids::ChannelId;
use crate::ids::MessageId;
use crate::ids::SessionId;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::domain::channels::{self, ChannelKind};
use crate::domain::contacts::{self, Contact};
use crate::domain::messages::{self, Message, NewOutbound, StartSession, Window, outbox};
use crate::domain::sessions::{self, ListQuery, SessionPage, SessionView, TimelineEntry};
use crate::domain::{access, queue};
use crate::http::HttpState;
use crate::http::auth::ApiAuth;
use crate::http::body::JsonBody;
use crate::http::error::{ApiResult, ErrorBody};

pub fn router() -> OpenApiRouter<HttpState> {
    OpenApiRouter::new()
        .routes(routes!(list, start))
        .routes(routes!(detail))
        .routes(routes!(messages_page, reply))
        .routes(routes!(note))
        .routes(routes!(mark_read))
        .routes(routes!(pickup))
        .routes(routes!(close))
        .routes(routes!(archive))
        .routes(routes!(unarchive))
        .routes(routes!(reopen))
        .routes(routes!(bulk))
        .routes(routes!(mute))
        .routes(routes!(retry))
}

#[utoipa::path(get, path = "/api/v1/sessions", tag = "sessions", params(ListQuery), responses((status = 200, body = SessionPage)))]
/// Sessions by last activity, newest first, filtered by channel, scope (all, mine, unassigned, archived, open, closed) and tag.
pub async fn list(
    State(state): State<HttpState>,
    ApiAuth(who): ApiAuth,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<SessionPage>> {
    let user = who.user.clone();
    Ok(Json(
        state
            .store
            .read(move |rtx| {
                let vis = access::visible_channels(rtx, &user)?;
                sessions::list(rtx, &user, &vis, &q)
            })
            .await?,
    ))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ChannelSummary {
    pub id: ChannelId,
    pub kind: ChannelKind,
    pub name: String,
    pub business_address: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SessionDetail {
    pub session: SessionView,
    pub contact: Option<Contact>,
    pub channel: Option<ChannelSummary>,
    /// What the composer may send now.
    pub window: Window,
    /// Why the window is limited, in words for the agent.
    pub window_message: String,
    pub timeline: Vec<TimelineEntry>,
    /// Which actions the caller may take on it (the inbox shows only these).
    pub allowed: sessions::Allowed,
    /// The contact's other sessions, newest first.
    pub history: Vec<sessions::Session>,
}

#[utoipa::path(get, path = "/api/v1/sessions/{id}", tag = "sessions", params(("id" = u64, Path)), responses((status = 200, body = SessionDetail), (status = 404, body = ErrorBody)))]
/// One session with its contact, channel, reply window and timeline.
pub async fn detail(
    State(state): State<HttpState>,
    ApiAuth(who): ApiAuth,
    Path(id): Path<SessionId>,
) -> ApiResult<Json<SessionDetail>> {
    let user = who.user.clone();
    let now = state.now();
    let t = who.t();
    Ok(Json(
        state
            .store
            .read(move |rtx| {
                let s = sessions::get_visible(rtx, &user, id)?;
                let ch = channels::get(rtx, s.channel_id)?;
                let kind = s.channel_kind;
                let contact = contacts::get(rtx, s.contact_id)?;
                let (window, why) = messages::window::for_contact(kind, &s, now, contact.as_ref());
                // The person's history, across contacts merged into one.
                let person = contacts::root_id(rtx, s.contact_id)?;
                let history = sessions::for_contact(rtx, person)?
                    .into_iter()
                    .filter(|h| h.id != id)
                    .collect();
                Ok(SessionDetail {
                    allowed: sessions::allowed(&user, &s),
                    timeline: sessions::timeline(rtx, id)?,
                    window,
                    window_message: t.message(why),
                    channel: ch.map(|c| ChannelSummary {
                        id: c.id,
                        kind: c.kind,
                        name: c.name,
                        business_address: c.business_address,
                    }),
                    contact,
                    history,
                    session: sessions::view(rtx, user.id, s)?,
                })
            })
            .await?,
    ))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct MessagesQuery {
    /// Messages older than this id.
    pub before: Option<MessageId>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<usize>,
}

#[utoipa::path(get, path = "/api/v1/sessions/{id}/messages", tag = "sessions", params(("id" = u64, Path), MessagesQuery), responses((status = 200, body = Vec<Message>), (status = 404, body = ErrorBody)))]
/// A page of messages, oldest first (the newest `limit` before `before`).
pub async fn messages_page(
    State(state): State<HttpState>,
    ApiAuth(who): ApiAuth,
    Path(id): Path<SessionId>,
    Query(q): Query<MessagesQuery>,
) -> ApiResult<Json<Vec<Message>>> {
    let user = who.user.clone();
    let limit = q.limit.unwrap_or(50).clamp(1, 200);
    Ok(Json(
        state
            .store
            .read(move |rtx| {
                sessions::get_visible(rtx, &user, id)?;
                messages::page(rtx, id, q.before, limit)
            })
            .await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/sessions/{id}/messages", tag = "sessions", params(("id" = u64, Path)), request_body = NewOutbound,
    responses((status = 201, body = Message), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
/// Reply to the customer. Stored as `queued` and delivered by the outbox; refused (422) when the channel's reply window does not allow it.
pub async fn reply(
    State(state): State<HttpState>,
    ApiAuth(who): ApiAuth,
    Path(id): Path<SessionId>,
    JsonBody(out): JsonBody<NewOutbound>,
) -> ApiResult<(StatusCode, Json<Message>)> {
    let m = outbox::reply(
        &state.store,
        &state.delivery,
        &who.user,
        id,
        out,
        state.config.limits.max_message_chars,
    )
    .await?;
    // Meta clears the typing indicator with the reply.
    crate::domain::delivery::signals::replied(&state.store, id);
    Ok((StatusCode::CREATED, Json(m)))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Started {
    pub session_id: SessionId,
    pub message: Message,
}

#[utoipa::path(post, path = "/api/v1/sessions", tag = "sessions", request_body = StartSession,
    responses((status = 201, body = Started), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
/// Start a session with a customer: SMS with free text; WhatsApp only with a template (the contact's open session is reused).
pub async fn start(
    State(state): State<HttpState>,
    ApiAuth(who): ApiAuth,
    JsonBody(req): JsonBody<StartSession>,
) -> ApiResult<(StatusCode, Json<Started>)> {
    let m = outbox::start(
        &state.store,
        &state.delivery,
        &who.user,
        req,
        state.config.limits.max_message_chars,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(Started {
            session_id: m.session_id,
            message: m,
        }),
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct NoteBody {
    pub text: String,
}

#[utoipa::path(post, path = "/api/v1/sessions/{id}/notes", tag = "sessions", params(("id" = u64, Path)), request_body = NoteBody,
    responses((status = 201, body = Message), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
/// An internal note: visible to colleagues, never sent to the customer.
pub async fn note(
    State(state): State<HttpState>,
    ApiAuth(who): ApiAuth,
    Path(id): Path<SessionId>,
    JsonBody(b): JsonBody<NoteBody>,
) -> ApiResult<(StatusCode, Json<Message>)> {
    let max = state.config.limits.max_message_chars;
    let m = messages::add_note(&state.store, &who.user, id, b.text, max).await?;
    Ok((StatusCode::CREATED, Json(m)))
}

#[utoipa::path(post, path = "/api/v1/sessions/{id}/read", tag = "sessions", params(("id" = u64, Path)), responses((status = 204), (status = 404, body = ErrorBody)))]
/// Mark the session read for the caller (all their browsers update).
pub async fn mark_read(
    State(state): State<HttpState>,
    ApiAuth(who): ApiAuth,
    Path(id): Path<SessionId>,
) -> ApiResult<StatusCode> {
    messages::mark_read(&state.store, &who.user, id).await?;
    // WhatsApp: blue ticks for the customer, without holding up the answer.
    let (store, http, user) = (state.store.clone(), state.http.clone(), who.user.clone());
    tokio::spawn(async move {
        if let Err(e) = crate::domain::delivery::signals::opened(&store, &http, &user, id).await {
            tracing::warn!(session = %id, error = %e, "read receipt not sent");
        }
    });
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/sessions/{id}/pickup", tag = "sessions", params(("id" = u64, Path)),
    responses((status = 200, body = sessions::Session), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
/// Pick up an unassigned session. Of two agents picking at once exactly one wins; the other gets 409.
pub async fn pickup(
    State(state): State<HttpState>,
    ApiAuth(who): ApiAuth,
    Path(id): Path<SessionId>,
) -> ApiResult<Json<sessions::Session>> {
    Ok(Json(queue::pickup(&state.store, &who.user, id).await?))
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
pub struct CloseBody {
    pub result: Option<String>,
    #[serde(default)]
    pub note: String,
}

#[utoipa::path(post, path = "/api/v1/sessions/{id}/close", tag = "sessions", params(("id" = u64, Path)), request_body = CloseBody,
    responses((status = 200, body = sessions::Session), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
/// End the chat with an optional result and note. Closed sessions are read-only.
pub async fn close(
    State(state): State<HttpState>,
    ApiAuth(who): ApiAuth,
    Path(id): Path<SessionId>,
    JsonBody(b): JsonBody<CloseBody>,
) -> ApiResult<Json<sessions::Session>> {
    Ok(Json(
        sessions::close(&state.store, &who.user, id, b.result, b.note).await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/sessions/{id}/archive", tag = "sessions", params(("id" = u64, Path)), responses((status = 200, body = sessions::Session), (status = 404, body = ErrorBody)))]
/// Archive a session (it leaves the main list; a new customer message brings it back).
pub async fn archive(
    State(state): State<HttpState>,
    ApiAuth(who): ApiAuth,
    Path(id): Path<SessionId>,
) -> ApiResult<Json<sessions::Session>> {
    Ok(Json(
        sessions::set_archived(&state.store, &who.user, id, true).await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/sessions/{id}/unarchive", tag = "sessions", params(("id" = u64, Path)), responses((status = 200, body = sessions::Session), (status = 404, body = ErrorBody)))]
pub async fn unarchive(
    State(state): State<HttpState>,
    ApiAuth(who): ApiAuth,
    Path(id): Path<SessionId>,
) -> ApiResult<Json<sessions::Session>> {
    Ok(Json(
        sessions::set_archived(&state.store, &who.user, id, false).await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/sessions/{id}/reopen", tag = "sessions", params(("id" = u64, Path)),
    responses((status = 200, body = sessions::Session), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
/// Reopen a closed or archived session to continue it; the caller becomes its owner (409 when the customer has another open session).
pub async fn reopen(
    State(state): State<HttpState>,
    ApiAuth(who): ApiAuth,
    Path(id): Path<SessionId>,
) -> ApiResult<Json<sessions::Session>> {
    Ok(Json(sessions::reopen(&state.store, &who.user, id).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct BulkBody {
    /// The selected sessions (at most 200).
    pub ids: Vec<SessionId>,
    pub action: sessions::BulkAction,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct BulkDone {
    /// How many sessions changed (already archived or closed ones are left as they are).
    pub changed: usize,
}

#[utoipa::path(post, path = "/api/v1/sessions/bulk", tag = "sessions", request_body = BulkBody,
    responses((status = 200, body = BulkDone), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
/// Archive or end many sessions at once, all or nothing: 409 with nothing changed when any is not the caller's to act on (a colleague's, or unseen).
pub async fn bulk(
    State(state): State<HttpState>,
    ApiAuth(who): ApiAuth,
    JsonBody(b): JsonBody<BulkBody>,
) -> ApiResult<Json<BulkDone>> {
    let changed = sessions::bulk(&state.store, &who.user, b.ids, b.action).await?;
    Ok(Json(BulkDone { changed }))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct MuteBody {
    pub muted: bool,
}

#[utoipa::path(post, path = "/api/v1/sessions/{id}/mute", tag = "sessions", params(("id" = u64, Path)), request_body = MuteBody, responses((status = 204), (status = 404, body = ErrorBody)))]
/// Mute or unmute a session for the caller (a red dot instead of the count).
pub async fn mute(
    State(state): State<HttpState>,
    ApiAuth(who): ApiAuth,
    Path(id): Path<SessionId>,
    JsonBody(b): JsonBody<MuteBody>,
) -> ApiResult<StatusCode> {
    sessions::set_muted(&state.store, &who.user, id, b.muted).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/messages/{id}/retry", tag = "sessions", params(("id" = u64, Path)),
    responses((status = 200, body = Message), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
/// Send a failed message again (a new attempt through the outbox).
pub async fn retry(
    State(state): State<HttpState>,
    ApiAuth(who): ApiAuth,
    Path(id): Path<MessageId>,
) -> ApiResult<Json<Message>> {
    Ok(Json(
        outbox::retry(&state.store, &state.delivery, &who.user, id).await?,
    ))
}
