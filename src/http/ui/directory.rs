//! `/contacts` (directory: search, rename, merge) and `/reports` (server-rendered SVG charts).

use crate::ids::ChannelId;
use crate::ids::ContactId;
use crate::ids::SessionId;
use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::{Chrome, render};
use crate::domain::directory::{self, DirectoryEntry};
use crate::domain::reports::{self, Report, ReportQuery, Timing};
use crate::domain::sessions::SessionStatus;
use crate::domain::{access, blocks, channels};
use crate::error::Error;
use crate::http::HttpState;
use crate::http::auth::{Authed, UiAuth};
use crate::http::error::UiError;

pub fn router() -> Router<HttpState> {
    Router::new()
        .route("/contacts", get(contacts_page))
        .route("/contacts/{id}/name", post(rename))
        .route("/contacts/{id}/merge", post(merge))
        .route("/contacts/{id}/block", post(block))
        .route("/reports", get(reports_page))
}

#[derive(Template)]
#[template(path = "wf_contacts.html")]
struct ContactsPage {
    chrome: Chrome,
    wf_css: String,
    q: String,
    cards: Vec<ContactCard>,
    error: String,
}

/// One address of a person, on a channel shown by its name.
struct AddressView {
    address: String,
    channel: String,
}

/// One conversation of a person: channel name, state, last activity (formatted in the
/// browser's zone by `contacts.js`; UTC in the markup).
struct SessionLine {
    id: SessionId,
    channel: String,
    open: bool,
    ts: i64,
    utc: String,
    preview: String,
}

/// A contact (a person, with the contacts merged into it) as the page shows it.
struct ContactCard {
    id: ContactId,
    label: String,
    name: String,
    email: String,
    blocked: bool,
    addresses: Vec<AddressView>,
    sessions: Vec<SessionLine>,
    /// The other contacts this one can be merged into: (id, "Name · number · channel").
    merge_options: Vec<(ContactId, String)>,
}

#[derive(Deserialize, Default)]
struct SearchForm {
    #[serde(default)]
    q: String,
}

fn utc(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|d| d.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default()
}

async fn contacts_render(
    state: &HttpState,
    who: &Authed,
    q: String,
    error: String,
) -> Result<Response, UiError> {
    let user = who.user.clone();
    let text = q.clone();
    let (entries, everyone, names) = state
        .store
        .read(move |rtx| {
            let vis = access::visible_channels(rtx, &user)?;
            let entries = directory::search(rtx, &vis, &text, 100)?;
            // The merge picker offers the people the user sees (newest first).
            let everyone = directory::search(rtx, &vis, "", 200)?;
            let names: HashMap<ChannelId, String> = channels::list(rtx)?
                .into_iter()
                .map(|c| (c.id, c.name))
                .collect();
            Ok((entries, everyone, names))
        })
        .await?;
    let channel = |id: ChannelId| names.get(&id).cloned().unwrap_or_default();
    let option = |e: &DirectoryEntry| {
        let c = &e.contact;
        let mut label = c.label().to_string();
        if !c.name.is_empty() {
            label.push_str(" · ");
            label.push_str(&c.address);
        }
        let ch = channel(c.channel_id);
        if !ch.is_empty() {
            label.push_str(" · ");
            label.push_str(&ch);
        }
        (c.id, label)
    };
    let cards = entries
        .iter()
        .map(|e| {
            let c = &e.contact;
            ContactCard {
                id: c.id,
                label: c.label().to_string(),
                name: c.name.clone(),
                email: std::iter::once(c)
                    .chain(&e.aliases)
                    .map(|a| a.email.clone())
                    .find(|m| !m.is_empty())
                    .unwrap_or_default(),
                blocked: c.blocked.is_some(),
                addresses: std::iter::once(c)
                    .chain(&e.aliases)
                    .map(|a| AddressView {
                        address: a.address.clone(),
                        channel: channel(a.channel_id),
                    })
                    .collect(),
                sessions: e
                    .sessions
                    .iter()
                    .map(|s| SessionLine {
                        id: s.id,
                        channel: channel(s.channel_id),
                        open: s.status == SessionStatus::Open,
                        ts: s.last_activity,
                        utc: utc(s.last_activity),
                        preview: s.last_preview.clone(),
                    })
                    .collect(),
                merge_options: everyone
                    .iter()
                    .filter(|o| o.contact.id != c.id)
                    .map(option)
                    .collect(),
            }
        })
        .collect();
    let t = who.t();
    let mut chrome = Chrome::new(
        state,
        Some(who),
        who.lang,
        t.s("contacts.title"),
        "contacts",
    );
    chrome.page_script(state, "contacts.js");
    let mut r = render(&ContactsPage {
        chrome,
        wf_css: state.assets.url("workflow.css"),
        q,
        cards,
        error: error.clone(),
    })?;
    if !error.is_empty() {
        *r.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(r)
}

async fn contacts_page(
    State(state): State<HttpState>,
    UiAuth(who): UiAuth,
    Query(f): Query<SearchForm>,
) -> Result<Response, UiError> {
    contacts_render(&state, &who, f.q, String::new()).await
}

fn form_error(t: crate::http::i18n::I18n, e: Error) -> Result<String, UiError> {
    match e {
        Error::Invalid { .. } | Error::Conflict(_) | Error::NotFound(_) => Ok(t.error(&e)),
        other => Err(other.into()),
    }
}

/// Back to the contacts page, showing the contact that was changed.
fn back_to(q: &str) -> Response {
    let q: String = url::form_urlencoded::byte_serialize(q.as_bytes()).collect();
    Redirect::to(&format!("/contacts?q={q}")).into_response()
}

#[derive(Deserialize)]
struct NameForm {
    name: String,
    #[serde(default)]
    q: String,
}

async fn rename(
    State(state): State<HttpState>,
    UiAuth(who): UiAuth,
    Path(id): Path<ContactId>,
    Form(f): Form<NameForm>,
) -> Result<Response, UiError> {
    match directory::rename(&state.store, &who.user, id, f.name).await {
        Ok(_) => Ok(back_to(&f.q)),
        Err(e) => contacts_render(&state, &who, f.q, form_error(who.t(), e)?).await,
    }
}

#[derive(Deserialize)]
struct MergeForm {
    #[serde(default)]
    into: String,
    #[serde(default)]
    q: String,
}

async fn merge(
    State(state): State<HttpState>,
    UiAuth(who): UiAuth,
    Path(id): Path<ContactId>,
    Form(f): Form<MergeForm>,
) -> Result<Response, UiError> {
    let result = async {
        let into: ContactId = f
            .into
            .trim()
            .parse()
            .map_err(|_| Error::invalid("into", "choose the contact to merge into"))?;
        directory::merge(&state.store, &who.user, id, into).await
    }
    .await;
    match result {
        Ok(_) => Ok(back_to(&f.q)),
        Err(e) => contacts_render(&state, &who, f.q, form_error(who.t(), e)?).await,
    }
}

#[derive(Deserialize)]
struct BlockForm {
    #[serde(default)]
    reason: String,
    #[serde(default)]
    q: String,
}

async fn block(
    State(state): State<HttpState>,
    UiAuth(who): UiAuth,
    Path(id): Path<ContactId>,
    Form(f): Form<BlockForm>,
) -> Result<Response, UiError> {
    match blocks::block(&state.store, &who.user, id, f.reason).await {
        Ok(_) => Ok(back_to(&f.q)),
        Err(e) => contacts_render(&state, &who, f.q, form_error(who.t(), e)?).await,
    }
}

// --- reports -------------------------------------------------------------------------------

/// One bar of a server-rendered SVG chart.
pub struct Bar {
    pub x: u32,
    pub y: u32,
    pub w: u32,
    pub h: u32,
    pub label: String,
    pub value: String,
    pub title: String,
}

pub struct Chart {
    pub width: u32,
    pub height: u32,
    pub bars: Vec<Bar>,
}

const CHART_H: u32 = 160;
const LABEL_H: u32 = 36;

fn chart(items: &[(String, f64, String)]) -> Chart {
    let max = items.iter().map(|i| i.1).fold(0.0_f64, f64::max).max(1.0);
    let slot = if items.len() > 31 { 16 } else { 40 };
    let w = slot - 8;
    let bars = items
        .iter()
        .enumerate()
        .map(|(i, (label, v, shown))| {
            let h = ((v / max) * f64::from(CHART_H - 20)).round() as u32;
            Bar {
                x: i as u32 * slot + 4,
                y: CHART_H - h,
                w,
                h,
                label: label.clone(),
                value: shown.clone(),
                title: format!("{label}: {shown}"),
            }
        })
        .collect();
    Chart {
        width: (items.len() as u32 * slot).max(slot),
        height: CHART_H + LABEL_H,
        bars,
    }
}

/// One row of a horizontal bar chart: the label on the left (right-aligned, never over its
/// neighbours), the bar, the value after it.
pub struct HBar {
    pub text_y: u32,
    pub bar_y: u32,
    pub w: u32,
    pub value_x: u32,
    pub label: String,
    pub value: String,
    pub title: String,
}

pub struct HChart {
    pub width: u32,
    pub height: u32,
    pub label_x: u32,
    pub bar_x: u32,
    pub bars: Vec<HBar>,
}

const ROW_H: u32 = 24;
const HLABEL_W: u32 = 170;
const HBAR_MAX: u32 = 320;
const HLABEL_CHARS: usize = 26;

fn hchart(items: &[(String, f64, String)]) -> HChart {
    let max = items.iter().map(|i| i.1).fold(0.0_f64, f64::max).max(1.0);
    let bars = items
        .iter()
        .enumerate()
        .map(|(i, (label, v, shown))| {
            let w = ((v / max) * f64::from(HBAR_MAX)).round() as u32;
            let y = i as u32 * ROW_H;
            let short = if label.chars().count() > HLABEL_CHARS {
                let mut s: String = label.chars().take(HLABEL_CHARS - 1).collect();
                s.push('…');
                s
            } else {
                label.clone()
            };
            HBar {
                text_y: y + 16,
                bar_y: y + 5,
                w,
                value_x: HLABEL_W + w + 6,
                label: short,
                value: shown.clone(),
                title: format!("{label}: {shown}"),
            }
        })
        .collect();
    HChart {
        width: HLABEL_W + HBAR_MAX + 90,
        height: (items.len().max(1) as u32) * ROW_H,
        label_x: HLABEL_W - 8,
        bar_x: HLABEL_W,
        bars,
    }
}

pub fn duration(s: Option<i64>) -> String {
    match s {
        None => "–".into(),
        Some(s) if s < 60 => format!("{s} s"),
        Some(s) if s < 3600 => format!("{} min {} s", s / 60, s % 60),
        Some(s) => format!("{} h {} min", s / 3600, (s % 3600) / 60),
    }
}

#[derive(Template)]
#[template(path = "wf_reports.html")]
struct ReportsPage {
    chrome: Chrome,
    wf_css: String,
    r: Report,
    per_day: Chart,
    frt_agents: HChart,
    results: HChart,
    tags: HChart,
    csv_url: String,
    error: String,
}

impl ReportsPage {
    fn dur(&self, t: &Timing, p90: bool) -> String {
        duration(if p90 { t.p90_s } else { t.median_s })
    }
}

async fn reports_page(
    State(state): State<HttpState>,
    UiAuth(who): UiAuth,
    Query(q): Query<ReportQuery>,
) -> Result<Response, UiError> {
    let now = state.now();
    let (r, error) = match reports::for_user(&state.store, &who.user, q, now).await {
        Ok(r) => (r, String::new()),
        Err(e @ Error::Invalid { .. }) => (
            reports::for_user(&state.store, &who.user, ReportQuery::default(), now).await?,
            who.t().error(&e),
        ),
        Err(e) => return Err(e.into()),
    };
    let per_day = chart(
        &r.days
            .iter()
            .zip(&r.per_day_total)
            .map(|(d, n)| {
                (
                    d.get(5..).unwrap_or(d).to_string(),
                    *n as f64,
                    n.to_string(),
                )
            })
            .collect::<Vec<_>>(),
    );
    let counted = |v: &[reports::Count]| {
        hchart(
            &v.iter()
                .map(|c| (c.name.clone(), c.sessions as f64, c.sessions.to_string()))
                .collect::<Vec<_>>(),
        )
    };
    let results = counted(&r.results);
    let tags = counted(&r.tags);
    let frt_agents = hchart(
        &r.agents
            .iter()
            .filter(|a| a.first_response.median_s.is_some())
            .map(|a| {
                let v = a.first_response.median_s.unwrap_or(0);
                (
                    a.name.clone(),
                    v as f64,
                    duration(a.first_response.median_s),
                )
            })
            .collect::<Vec<_>>(),
    );
    let csv_url = format!("/api/v1/reports.csv?from={}&to={}", r.from, r.to);
    let title = who.t().s("reports.title");
    render(&ReportsPage {
        chrome: Chrome::new(&state, Some(&who), who.lang, title, "reports"),
        wf_css: state.assets.url("workflow.css"),
        r,
        per_day,
        frt_agents,
        results,
        tags,
        csv_url,
        error,
    })
}
