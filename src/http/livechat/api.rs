//! Handlers of the visitor API (`/livechat/{channel_id}/…`). Each one: rate limits, then
//! validation, then one write through the domain — so a refusal stores nothing.

use crate::ids::ChannelId;
use crate::ids::MessageId;
use crate::ids::SessionId;
use axum::Json;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::limits::{Key, PER_IP, PER_TOKEN, SIGNAL};
use super::{LiveChannel, VisitorAuth, files};
use crate::domain::channels::Channel;
use crate::domain::livechat::{self, History, Visitor, VisitorMessage};
use crate::domain::messages::Message;
use crate::domain::users;
use crate::error::Error;
use crate::http::HttpState;
use crate::http::auth::ClientIp;
use crate::http::body::JsonBody;
use crate::http::error::ApiResult;

/// What the widget needs before the visitor writes anything.
#[derive(Serialize)]
pub struct ConfigView {
    pub channel_id: ChannelId,
    pub title: String,
    pub greeting: String,
    pub accent: String,
    pub prechat_form: bool,
    pub uploads: bool,
    pub offline_message: String,
    /// Is a member agent online (else the widget shows the offline form)?
    pub online: bool,
    pub max_text: usize,
    pub max_image_bytes: u64,
    /// The widget's language: the visitor's browser's first one we have, else the channel's.
    pub lang: &'static str,
    /// The widget's texts in `lang` (the catalogue's `widget.*` keys, without the prefix).
    pub strings: std::collections::BTreeMap<&'static str, &'static str>,
    /// Business hours (None: off): open now, else when it opens next (the widget says "we
    /// reply tomorrow from 8:00").
    pub hours: Option<crate::domain::automation::HoursState>,
}

/// Online: a member of the channel is online; a channel without members is answered by the
/// admins (who see every channel), so then any online admin counts.
async fn anyone_online(state: &HttpState, ch: &Channel) -> Result<bool, Error> {
    let now = state.now();
    if !ch.members.is_empty() {
        return Ok(state.presence.any_online(ch.members.iter().copied(), now));
    }
    let online = state.presence.online(now);
    if online.is_empty() {
        return Ok(false);
    }
    state
        .store
        .read(move |rtx| {
            for id in online {
                if users::get(rtx, id)?.is_some_and(|u| u.is_admin() && !u.disabled) {
                    return Ok(true);
                }
            }
            Ok(false)
        })
        .await
}

pub async fn config(
    State(state): State<HttpState>,
    LiveChannel(ch): LiveChannel,
    headers: axum::http::HeaderMap,
) -> ApiResult<Response> {
    let l = &ch.livechat;
    let visitor = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok());
    let lang = crate::locale::pick(visitor)
        .or_else(|| crate::locale::Lang::from_code(&l.language))
        .unwrap_or_default();
    let now = state.now();
    let cid = ch.id;
    let hours = state
        .store
        .read(move |rtx| {
            Ok(crate::domain::automation::state_at(
                &crate::domain::automation::get(rtx, cid)?,
                now,
            ))
        })
        .await?;
    let view = ConfigView {
        lang: lang.code(),
        strings: crate::http::i18n::I18n(lang)
            .with_prefix("widget.")
            .into_iter()
            .filter_map(|(k, v)| Some((k.strip_prefix("widget.")?, v)))
            .collect(),
        channel_id: ch.id,
        title: l.title.clone(),
        greeting: l.greeting.clone(),
        accent: l.accent.clone(),
        prechat_form: l.prechat_form,
        uploads: l.uploads,
        offline_message: l.offline_message.clone(),
        online: anyone_online(&state, &ch).await?,
        max_text: livechat::MAX_TEXT,
        max_image_bytes: livechat::MAX_IMAGE_BYTES,
        hours,
    };
    Ok(([(header::CACHE_CONTROL, "no-store")], Json(view)).into_response())
}

#[derive(Deserialize, Default)]
pub struct NewVisitor {
    pub name: Option<String>,
    pub email: Option<String>,
    /// The browser's language (`navigator.language`), kept on the contact when shipped.
    pub language: Option<String>,
}

#[derive(Serialize)]
pub struct Created {
    /// Keep this secret (localStorage); send it as `Authorization: Bearer …`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub visitor_token: Option<String>,
    pub visitor_id: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<VisitorMessage>,
}

fn ip_limit(state: &HttpState, ip: std::net::IpAddr) -> Result<(), Error> {
    state.livechat.take(Key::Ip(ip), PER_IP, state.now())
}

fn token_limit(state: &HttpState, hash: [u8; 32]) -> Result<(), Error> {
    state
        .livechat
        .take(Key::Token(hash), PER_TOKEN, state.now())
}

/// `POST visitors` {name?, email?} → 201 {visitor_token, visitor_id}. With the pre-chat form on,
/// both fields are required.
pub async fn create_visitor(
    State(state): State<HttpState>,
    LiveChannel(ch): LiveChannel,
    ClientIp(ip): ClientIp,
    JsonBody(b): JsonBody<NewVisitor>,
) -> ApiResult<(StatusCode, Json<Created>)> {
    ip_limit(&state, ip)?;
    let (token, v) =
        livechat::create_visitor(&state.store, ch, b.name, b.email, b.language).await?;
    Ok((
        StatusCode::CREATED,
        Json(Created {
            visitor_token: Some(token),
            visitor_id: v.id,
            message: None,
        }),
    ))
}

#[derive(Deserialize)]
pub struct HistoryQuery {
    /// One of the visitor's sessions (default: the recent ones).
    pub session_id: Option<SessionId>,
}

/// `GET history[?session_id=N]`: the visitor's recent conversation (oldest first) and where to
/// resume events. Another visitor's session id is 404.
pub async fn history(
    State(state): State<HttpState>,
    va: VisitorAuth,
    Query(q): Query<HistoryQuery>,
) -> ApiResult<Response> {
    let st = state.clone();
    let h: History = state
        .store
        .read(move |rtx| {
            livechat::history(rtx, &va.visitor, q.session_id, &|f| files::file_url(&st, f))
        })
        .await?;
    Ok(([(header::CACHE_CONTROL, "no-store")], Json(h)).into_response())
}

#[derive(Deserialize)]
pub struct SendBody {
    #[serde(default)]
    pub text: String,
    pub client_id: Option<String>,
    /// The browser's language (`navigator.language`), kept on the contact if none is known.
    pub language: Option<String>,
}

fn own_view(state: &HttpState, v: &Visitor, m: &Message) -> Result<VisitorMessage, Error> {
    livechat::view(v, m, None, &|f| files::file_url(state, f))
        .ok_or_else(|| Error::Internal("own message not visible".into()))
}

/// `POST messages` {text, client_id} → 201 {message}. A retried `client_id` is stored once.
pub async fn send(
    State(state): State<HttpState>,
    va: VisitorAuth,
    ClientIp(ip): ClientIp,
    JsonBody(b): JsonBody<SendBody>,
) -> ApiResult<(StatusCode, Json<Created>)> {
    token_limit(&state, va.token_hash)?;
    ip_limit(&state, ip)?;
    let policy = state.presence.policy(state.now());
    let (ch, v) = (va.channel.clone(), va.visitor.clone());
    let m = livechat::send(
        &state.store,
        ch,
        v,
        &b.text,
        b.client_id.as_deref(),
        b.language,
        policy,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(Created {
            visitor_token: None,
            visitor_id: va.visitor.id,
            message: Some(own_view(&state, &va.visitor, &m)?),
        }),
    ))
}

#[derive(Deserialize)]
pub struct OfflineBody {
    pub name: Option<String>,
    pub email: Option<String>,
    #[serde(default)]
    pub text: String,
    /// The browser's language (`navigator.language`).
    pub language: Option<String>,
}

/// `POST offline` {name, email, text}: when no agent is online. Lands in the inbox as a session;
/// without a visitor token a visitor is created (its token is returned).
pub async fn offline(
    State(state): State<HttpState>,
    LiveChannel(ch): LiveChannel,
    va: Option<VisitorAuth>,
    ClientIp(ip): ClientIp,
    JsonBody(b): JsonBody<OfflineBody>,
) -> ApiResult<(StatusCode, Json<Created>)> {
    if let Some(va) = &va {
        token_limit(&state, va.token_hash)?;
    }
    ip_limit(&state, ip)?;
    let known = va.map(|va| (va.visitor, va.token_hash));
    let note = livechat::OfflineNote {
        name: b.name,
        email: b.email,
        text: b.text,
        language: b.language,
    };
    let (token, v, m) = livechat::offline(&state.store, ch, known, note).await?;
    Ok((
        StatusCode::CREATED,
        Json(Created {
            visitor_token: token,
            visitor_id: v.id,
            message: Some(own_view(&state, &v, &m)?),
        }),
    ))
}

/// `POST typing`: the visitor is typing (stored at most every 2 s; the rest are dropped).
pub async fn typing(State(state): State<HttpState>, va: VisitorAuth) -> ApiResult<StatusCode> {
    if state
        .livechat
        .allow(Key::Signal(va.token_hash, "typing"), SIGNAL, state.now())
    {
        livechat::typing(&state.store, va.visitor.clone()).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
pub struct ReadBody {
    /// The newest message id the visitor has seen.
    pub up_to: MessageId,
}

/// `POST read` {up_to}: the agents' replies up to `up_to` were read (agents see `read`).
pub async fn read(
    State(state): State<HttpState>,
    va: VisitorAuth,
    JsonBody(b): JsonBody<ReadBody>,
) -> ApiResult<StatusCode> {
    state
        .livechat
        .take(Key::Signal(va.token_hash, "read"), PER_TOKEN, state.now())?;
    livechat::mark_read(&state.store, va.visitor.clone(), b.up_to).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
pub struct SurveyBody {
    /// 1 (poor) to 5 (excellent).
    pub score: u8,
}

/// `POST survey` {score}: the visitor's answer to the satisfaction survey (once).
pub async fn survey(
    State(state): State<HttpState>,
    va: VisitorAuth,
    JsonBody(b): JsonBody<SurveyBody>,
) -> ApiResult<StatusCode> {
    state
        .livechat
        .take(Key::Signal(va.token_hash, "survey"), PER_TOKEN, state.now())?;
    livechat::rate(&state.store, va.visitor.clone(), b.score).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST uploads` (raw image body, name in `X-Filename`): an image message, ≤ 10 MB.
pub async fn upload(
    State(state): State<HttpState>,
    va: VisitorAuth,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<(StatusCode, Json<Created>)> {
    livechat::check_uploads(&va.channel)?;
    token_limit(&state, va.token_hash)?;
    ip_limit(&state, ip)?;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > livechat::MAX_IMAGE_BYTES) {
        return Err(Error::TooLarge("images may be at most 10 MB".into()).into());
    }
    let ctype = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !ctype.is_empty() && !ctype.starts_with("image/") && ctype != "application/octet-stream" {
        return Err(Error::Unsupported("only images can be sent".into()).into());
    }
    let name: String = headers
        .get("x-filename")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("image")
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '/' | '\\'))
        .take(200)
        .collect();
    let (ch, v) = (va.channel.clone(), va.visitor.clone());
    let policy = state.presence.policy(state.now());
    let stream = body.into_data_stream();
    let m = livechat::send_image(&state.store, &state.config, ch, v, &name, stream, policy).await?;
    Ok((
        StatusCode::CREATED,
        Json(Created {
            visitor_token: None,
            visitor_id: va.visitor.id,
            message: Some(own_view(&state, &va.visitor, &m)?),
        }),
    ))
}
