//! `/widget.js`, the admin's snippet page and the demo page.

use crate::ids::ChannelId;
use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::Response;
use axum::routing::get;

use crate::domain::channels::{self, Channel, ChannelKind};
use crate::error::Error;
use crate::http::HttpState;
use crate::http::auth::{UiAdmin, UiAuth};
use crate::http::error::UiError;
use crate::http::ui::{Chrome, render};

pub fn router() -> Router<HttpState> {
    Router::new()
        .route("/widget.js", get(widget_js))
        .route("/admin/livechat/{channel_id}", get(admin_page))
        .route("/livechat/demo/{channel_id}", get(demo_page))
}

/// The embeddable script: short cache so fixes reach websites within minutes.
async fn widget_js(State(state): State<HttpState>, headers: axum::http::HeaderMap) -> Response {
    let mut r =
        crate::http::assets::raw(&state.assets, "widget.js", &headers, "public, max-age=300");
    r.headers_mut().insert(
        "cross-origin-resource-policy",
        HeaderValue::from_static("cross-origin"),
    );
    r
}

/// The one line an admin pastes into the website.
pub fn snippet(public_url: &str, channel_id: ChannelId) -> String {
    format!(r#"<script src="{public_url}/widget.js" data-channel="{channel_id}" async></script>"#)
}

async fn livechat_channel(state: &HttpState, id: ChannelId) -> Result<Channel, UiError> {
    let ch = state
        .store
        .read(move |rtx| channels::get(rtx, id))
        .await?
        .filter(|c| c.kind == ChannelKind::Livechat)
        .ok_or(Error::NotFound("live-chat channel"))?;
    Ok(ch)
}

#[derive(Template)]
#[template(path = "livechat_admin.html")]
struct AdminPage {
    chrome: Chrome,
    channel: Channel,
    snippet: String,
}

async fn admin_page(
    State(state): State<HttpState>,
    UiAdmin(who): UiAdmin,
    Path(id): Path<ChannelId>,
) -> Result<Response, UiError> {
    let channel = livechat_channel(&state, id).await?;
    let chrome = Chrome::new(
        &state,
        Some(&who),
        who.lang,
        crate::http::i18n::I18n(who.lang).s("lca.title"),
        "admin",
    );
    render(&AdminPage {
        chrome,
        snippet: snippet(&state.public_url, id),
        channel,
    })
}

#[derive(Template)]
#[template(path = "livechat_demo.html")]
struct DemoPage {
    t: crate::http::i18n::I18n,
    channel: Channel,
    css: String,
}

/// A stand-in "office website" with the widget on it, open to admins and the channel's
/// members: play the customer here and the agent in the inbox in another tab.
async fn demo_page(
    State(state): State<HttpState>,
    UiAuth(who): UiAuth,
    Path(id): Path<ChannelId>,
) -> Result<Response, UiError> {
    let channel = livechat_channel(&state, id).await?;
    if !who.user.is_admin() && !channel.members.contains(&who.id()) {
        return Err(Error::NotFound("live-chat channel").into());
    }
    let mut r = render(&DemoPage {
        t: crate::http::i18n::I18n(who.lang),
        channel,
        css: state.assets.url("livechat-demo.css"),
    })?;
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(r)
}
