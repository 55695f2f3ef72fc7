//! The internal chat page (`/chat/internal`, `/chat/internal/{id}`): a server-rendered shell;
//! `static/chat.js` fills it from the JSON API and keeps it live through `/api/v1/events`.

use crate::ids::ChatId;
use crate::ids::UserId;
use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;

use super::{Chrome, render};
use crate::domain::chats;
use crate::http::HttpState;
use crate::http::auth::{Authed, UiAuth};
use crate::http::error::UiError;

pub fn router() -> Router<HttpState> {
    Router::new()
        .route("/chat/internal", get(index))
        .route("/chat/internal/{id}", get(open))
}

#[derive(Template)]
#[template(path = "chat_internal.html")]
struct ChatPage {
    chrome: Chrome,
    chat_css: String,
    /// The chat to open (0 = none).
    chat_id: ChatId,
    me: UserId,
    /// The page's UI strings as JSON (read by chat.js from a data attribute).
    strings: String,
    max_chars: usize,
}

fn page(state: &HttpState, who: &Authed, chat_id: ChatId) -> Result<Response, UiError> {
    let t = who.t();
    let strings: serde_json::Map<String, serde_json::Value> = t
        .with_prefix("chat.")
        .into_iter()
        .map(|(k, v)| (k.to_string(), serde_json::Value::String(v.to_string())))
        .collect();
    let mut chrome = Chrome::new(state, Some(who), who.lang, t.s("chat.title"), "internal");
    chrome.page_script(state, "chat.js");
    render(&ChatPage {
        chrome,
        chat_css: state.assets.url("chat.css"),
        chat_id,
        me: who.id(),
        strings: serde_json::Value::Object(strings).to_string(),
        max_chars: state.config.limits.max_message_chars,
    })
}

async fn index(State(state): State<HttpState>, UiAuth(who): UiAuth) -> Result<Response, UiError> {
    page(&state, &who, ChatId(0))
}

async fn open(
    State(state): State<HttpState>,
    UiAuth(who): UiAuth,
    Path(id): Path<ChatId>,
) -> Result<Response, UiError> {
    let uid = who.id();
    state
        .store
        .read(move |rtx| chats::get_for_member(rtx, uid, id))
        .await?;
    page(&state, &who, id)
}
