//! The external-chat inbox: `/chat/external` (session list) and `/chat/external/{id}` (list plus
//! one session). Both are rendered on the server from the same domain functions the JSON API
//! uses (`sessions::list`, `sessions::get_visible`, `messages::page`), so a deep link shows the
//! conversation at once; `static/inbox.js` then takes over (live updates, switching sessions
//! with `history.pushState`, composing). Sessions the caller may not see are 404, as in the API.

use crate::ids::ChannelId;
use crate::ids::MessageId;
use crate::ids::SessionId;
use crate::ids::UserId;
use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;

use super::{Chrome, render};
use crate::domain::channels::{self, ChannelKind};
use crate::domain::messages::{self, Direction, Message, Status, Window};
use crate::domain::sessions::{self, ListQuery, Scope, SessionStatus, SessionView};
use crate::domain::{access, contacts, users};
use crate::error::Error;
use crate::http::HttpState;
use crate::http::auth::UiAuth;
use crate::http::error::UiError;
use crate::http::i18n::I18n;

pub fn router() -> Router<HttpState> {
    Router::new()
        .route("/chat/external", get(list_page))
        .route("/chat/external/{id}", get(session_page))
}

#[derive(Debug, Default, Deserialize)]
pub struct InboxQuery {
    #[serde(default)]
    pub scope: Option<String>,
    #[serde(default)]
    pub channel_id: Option<ChannelId>,
}

pub struct ChannelOpt {
    pub id: ChannelId,
    pub name: String,
    pub selected: bool,
}

pub struct Row {
    pub id: SessionId,
    pub kind: &'static str,
    pub icon: String,
    pub name: String,
    pub preview: String,
    pub ts: i64,
    pub time: String,
    pub unread: u64,
    pub muted: bool,
    pub active: bool,
    pub closed: bool,
}

pub struct FileRow {
    pub name: String,
    pub size: String,
}

pub struct MsgRow {
    pub id: MessageId,
    pub dir: &'static str,
    pub sender: String,
    pub text: String,
    pub ts: i64,
    pub time: String,
    /// Day separator to show before this message.
    pub day: Option<String>,
    pub status: &'static str,
    pub tick: &'static str,
    pub error: String,
    pub files: Vec<FileRow>,
}

pub struct Pane {
    pub id: SessionId,
    pub kind: &'static str,
    pub icon: String,
    pub name: String,
    pub address: String,
    pub channel: String,
    pub owner: String,
    pub closed: bool,
    pub window: &'static str,
    pub window_message: String,
    pub messages: Vec<MsgRow>,
}

#[derive(Template)]
#[template(path = "inbox.html")]
struct InboxPage {
    chrome: Chrome,
    scope: &'static str,
    channels: Vec<ChannelOpt>,
    rows: Vec<Row>,
    next_cursor: String,
    pane: Option<Pane>,
    icons: String,
    me: UserId,
}

fn kind_str(k: ChannelKind) -> &'static str {
    k.as_str()
}

fn scope_of(s: Option<&str>) -> (Scope, &'static str) {
    match s {
        Some("mine") => (Scope::Mine, "mine"),
        Some("unassigned") => (Scope::Unassigned, "unassigned"),
        Some("archived") => (Scope::Archived, "archived"),
        Some("snoozed") => (Scope::Snoozed, "snoozed"),
        _ => (Scope::All, "all"),
    }
}

/// `HH:MM` (UTC) for the first paint; the script re-renders times in the browser's zone.
fn hhmm(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let day_secs = secs.rem_euclid(86_400);
    format!("{:02}:{:02}", day_secs / 3600, (day_secs % 3600) / 60)
}

fn ymd(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

pub fn human_size(n: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KB", "MB", "GB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

fn tick(s: Status) -> (&'static str, &'static str) {
    match s {
        Status::Received => ("received", ""),
        Status::Queued => ("queued", "◷"),
        Status::Unknown => ("unknown", "?"),
        Status::Sent => ("sent", "✓"),
        Status::Delivered => ("delivered", "✓✓"),
        Status::Read => ("read", "✓✓"),
        Status::Failed => ("failed", "⚠"),
    }
}

fn window_str(w: Window) -> &'static str {
    match w {
        Window::Open => "open",
        Window::HumanAgent => "human_agent",
        Window::TemplateOnly => "template_only",
        Window::Closed => "closed",
    }
}

fn icon_urls(state: &HttpState) -> HashMap<&'static str, String> {
    ChannelKind::ALL
        .into_iter()
        .map(|k| {
            (
                k.as_str(),
                state.assets.url(&format!("icons/{}.svg", k.as_str())),
            )
        })
        .collect()
}

fn row(v: &SessionView, icons: &HashMap<&'static str, String>, active: Option<SessionId>) -> Row {
    let kind = kind_str(v.session.channel_kind);
    Row {
        id: v.session.id,
        kind,
        icon: icons.get(kind).cloned().unwrap_or_default(),
        name: v.contact_name.clone(),
        preview: v.session.last_preview.clone(),
        ts: v.session.last_activity,
        time: hhmm(v.session.last_activity),
        unread: v.unread,
        muted: v.muted,
        active: active == Some(v.session.id),
        closed: v.session.status == SessionStatus::Closed,
    }
}

fn msg_rows(
    msgs: &[Message],
    names: &HashMap<UserId, String>,
    contact: &str,
    t: I18n,
) -> Vec<MsgRow> {
    let mut out = Vec::with_capacity(msgs.len());
    let mut last_day = String::new();
    for m in msgs {
        let day = ymd(m.created);
        let sep = (day != last_day).then(|| day.clone());
        last_day = day;
        let (status, tk) = tick(m.status);
        let sender = match m.direction {
            Direction::In => contact.to_string(),
            _ => m
                .author
                .and_then(|a| names.get(&a).cloned())
                .unwrap_or_default(),
        };
        out.push(MsgRow {
            id: m.id,
            dir: match m.direction {
                Direction::In => "in",
                Direction::Out => "out",
                Direction::Note => "note",
            },
            sender: if m.direction == Direction::Note {
                format!("{} · {}", t.s("inbox.internal_note"), sender)
            } else {
                sender
            },
            text: m.text.clone(),
            ts: m.created,
            time: hhmm(m.created),
            day: sep,
            status,
            tick: if m.direction == Direction::Out {
                tk
            } else {
                ""
            },
            error: m.error.clone().unwrap_or_default(),
            files: m
                .files
                .iter()
                .map(|f| FileRow {
                    name: f.name.clone(),
                    size: human_size(f.size),
                })
                .collect(),
        });
    }
    out
}

async fn list_page(
    State(state): State<HttpState>,
    who: UiAuth,
    Query(q): Query<InboxQuery>,
) -> Result<Response, UiError> {
    page(state, who, q, None).await
}

async fn session_page(
    State(state): State<HttpState>,
    who: UiAuth,
    Path(id): Path<String>,
    Query(q): Query<InboxQuery>,
) -> Result<Response, UiError> {
    let id: SessionId = id.parse().map_err(|_| Error::NotFound("session"))?;
    page(state, who, q, Some(id)).await
}

async fn page(
    state: HttpState,
    UiAuth(who): UiAuth,
    q: InboxQuery,
    open: Option<SessionId>,
) -> Result<Response, UiError> {
    let (scope, scope_name) = scope_of(q.scope.as_deref());
    let user = who.user.clone();
    let now = state.now();
    let channel_filter = q.channel_id;
    let t = who.t();
    let (seq, page, chans, names, pane_data) = state
        .store
        .read(move |rtx| {
            let seq = crate::store::events::last_seq(rtx)?;
            let vis = access::visible_channels(rtx, &user)?;
            let pane = match open {
                Some(id) => {
                    let s = sessions::get_visible(rtx, &user, id)?;
                    let ch = channels::get(rtx, s.channel_id)?;
                    let contact = contacts::get(rtx, s.contact_id)?;
                    let msgs = messages::page(rtx, id, None, 50)?;
                    let window = messages::window::reply_window(s.channel_kind, &s, now);
                    Some((s, ch, contact, msgs, window))
                }
                None => None,
            };
            let page = sessions::list(
                rtx,
                &user,
                &vis,
                &ListQuery {
                    channel_id: channel_filter,
                    scope: Some(scope),
                    limit: Some(50),
                    ..Default::default()
                },
            )?;
            let chans: Vec<(ChannelId, String)> = channels::list(rtx)?
                .into_iter()
                .filter(|c| vis.channel(c.id))
                .map(|c| (c.id, c.name))
                .collect();
            let names: HashMap<UserId, String> = users::list(rtx)?
                .into_iter()
                .map(|u| (u.id, u.display_name))
                .collect();
            Ok((seq, page, chans, names, pane))
        })
        .await?;
    let icons = icon_urls(&state);
    let pane = pane_data.map(|(s, ch, contact, msgs, window)| {
        let kind = kind_str(s.channel_kind);
        let label = contact
            .as_ref()
            .map(|c| c.label().to_string())
            .unwrap_or_default();
        Pane {
            id: s.id,
            kind,
            icon: icons.get(kind).cloned().unwrap_or_default(),
            messages: msg_rows(&msgs, &names, &label, t),
            name: label,
            address: contact.map(|c| c.address).unwrap_or_default(),
            channel: ch.map(|c| c.name).unwrap_or_default(),
            owner: s
                .assignee
                .and_then(|a| names.get(&a).cloned())
                .unwrap_or_else(|| t.s("inbox.nobody").to_string()),
            closed: s.status == SessionStatus::Closed,
            window: window_str(window),
            window_message: t.message(messages::window::window_message(window, s.channel_kind)),
        }
    });
    let title = match &pane {
        Some(p) => p.name.clone(),
        None => t.s("inbox.title").to_string(),
    };
    let mut chrome = Chrome::new(&state, Some(&who), who.lang, &title, "external");
    chrome.seq = Some(seq);
    chrome.page_script(&state, "inbox.js");
    let rows = page.sessions.iter().map(|v| row(v, &icons, open)).collect();
    let icons_json = serde_json::to_string(&icons).unwrap_or_default();
    render(&InboxPage {
        chrome,
        scope: scope_name,
        channels: chans
            .into_iter()
            .map(|(id, name)| ChannelOpt {
                id,
                name,
                selected: channel_filter == Some(id),
            })
            .collect(),
        rows,
        next_cursor: page.next_cursor.unwrap_or_default(),
        pane,
        icons: icons_json,
        me: who.id(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_times_read_well() {
        assert_eq!(human_size(512), "512 B");
        assert_eq!(human_size(1536), "1.5 KB");
        assert_eq!(human_size(5 * 1024 * 1024), "5.0 MB");
        assert_eq!(hhmm(3_600_000 + 5 * 60_000), "01:05");
        assert_eq!(ymd(0), "1970-01-01");
    }
}
