//! Admin: the "getting started" checklist the first administrator lands on after setup. Each
//! item ticks itself from what exists: agents, a channel, the PBX link, a website-chat visit.

use crate::ids::ChannelId;
use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;

use super::{Chrome, render};
use crate::domain::channels::{self, ChannelKind, health};
use crate::domain::{pbx, users};
use crate::http::HttpState;
use crate::http::auth::UiAdmin;
use crate::http::error::UiError;
use crate::http::i18n::I18n;
use crate::pbx::PbxConfig;

pub fn router() -> Router<HttpState> {
    Router::new().route("/admin/start", get(page))
}

pub struct Step {
    pub done: bool,
    pub title: &'static str,
    pub text: &'static str,
    pub href: String,
    pub link: &'static str,
}

#[derive(Template)]
#[template(path = "admin_start.html")]
struct StartPage {
    chrome: Chrome,
    steps: Vec<Step>,
    done: usize,
}

async fn page(State(state): State<HttpState>, UiAdmin(who): UiAdmin) -> Result<Response, UiError> {
    let t = I18n(who.lang);
    let (agents, provider_channel, pbx_linked, livechat) = state
        .store
        .read(|rtx| {
            let agents = users::list(rtx)?.iter().filter(|u| !u.disabled).count() > 1;
            let all = channels::list(rtx)?;
            let provider = all.iter().any(|c| c.kind != ChannelKind::Livechat);
            let pbx_linked = !matches!(pbx::get(rtx)?, PbxConfig::None);
            // The website chat was tried when a visitor message reached a live-chat channel.
            let mut livechat: Option<(ChannelId, bool)> = None;
            for c in all.iter().filter(|c| c.kind == ChannelKind::Livechat) {
                let tried = health::get(rtx, c.id)?.last_inbound.is_some();
                if livechat.is_none_or(|(_, t)| !t) {
                    livechat = Some((c.id, tried));
                }
            }
            Ok((agents, provider, pbx_linked, livechat))
        })
        .await?;
    let steps = vec![
        Step {
            done: agents,
            title: t.s("start.agents"),
            text: t.s("start.agents_text"),
            href: "/admin/users".into(),
            link: t.s("start.agents_link"),
        },
        Step {
            done: provider_channel,
            title: t.s("start.channel"),
            text: t.s("start.channel_text"),
            href: "/admin/channels".into(),
            link: t.s("start.channel_link"),
        },
        Step {
            done: pbx_linked,
            title: t.s("start.pbx"),
            text: t.s("start.pbx_text"),
            href: "/admin/pbx".into(),
            link: t.s("start.pbx_link"),
        },
        Step {
            done: livechat.is_some_and(|(_, tried)| tried),
            title: t.s("start.livechat"),
            text: t.s("start.livechat_text"),
            href: match livechat {
                Some((id, _)) => format!("/livechat/demo/{id}"),
                None => "/admin/channels/new/livechat".into(),
            },
            link: t.s(if livechat.is_some() {
                "start.livechat_link"
            } else {
                "start.livechat_create"
            }),
        },
    ];
    let done = steps.iter().filter(|s| s.done).count();
    render(&StartPage {
        chrome: Chrome::new(&state, Some(&who), who.lang, t.s("start.title"), "admin"),
        steps,
        done,
    })
}
