//! Admin pages of the workflow: templates, shared canned replies, tag and result lists, the
//! PBX link and the block list; plus every user's own canned replies (`/canned`). Plain forms,
//! no JavaScript needed.

use crate::ids::ChannelId;
use crate::ids::ContactId;
use askama::Template;
use axum::Router;
use axum::extract::{Form, Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::{Chrome, render};
use crate::domain::blocks::{self, BlockedContact};
use crate::domain::channels::{self, ChannelKind};
use crate::domain::lists::{self, ListKind};
use crate::domain::pbx;
use crate::domain::templates::{self, Canned, CannedInput, Template as WaTemplate, TemplateInput};
use crate::error::Error;
use crate::http::HttpState;
use crate::http::auth::{Authed, UiAdmin, UiAuth};
use crate::http::error::UiError;
use crate::http::i18n::I18n;
use crate::pbx::{AmiConfig, PbxConfig, YeastarConfig};

pub fn router() -> Router<HttpState> {
    Router::new()
        .route(
            "/admin/templates",
            get(templates_page).post(template_create),
        )
        .route("/admin/templates/{id}/delete", post(template_delete))
        .route(
            "/admin/canned",
            get(shared_canned_page).post(shared_canned_create),
        )
        .route("/canned", get(own_canned_page).post(own_canned_create))
        .route("/canned/{id}/delete", post(canned_delete))
        .route("/admin/workflow", get(lists_page).post(lists_save))
        .route("/admin/pbx", get(pbx_page).post(pbx_save))
        .route("/admin/pbx/followup", post(followup_save))
        .route("/admin/blocks", get(blocks_page).post(block_add))
        .route("/admin/blocks/{id}/lift", post(block_lift))
}

/// Shown on the page instead of an error page: the user fixes the form.
fn form_error(t: crate::http::i18n::I18n, e: Error) -> Result<String, UiError> {
    match e {
        Error::Invalid { .. } | Error::Conflict(_) | Error::Rule(_) => Ok(t.error(&e)),
        other => Err(other.into()),
    }
}

fn unprocessable(mut r: Response, error: &str) -> Response {
    if !error.is_empty() {
        *r.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    r
}

fn chrome(state: &HttpState, who: &Authed, title: &str, nav: &'static str) -> Chrome {
    Chrome::new(state, Some(who), who.lang, title, nav)
}

// --- templates -----------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "wf_admin_templates.html")]
struct TemplatesPage {
    chrome: Chrome,
    wf_css: String,
    templates: Vec<WaTemplate>,
    channels: Vec<(ChannelId, String)>,
    error: String,
}

async fn templates_render(
    state: &HttpState,
    who: &Authed,
    error: String,
) -> Result<Response, UiError> {
    let (templates, channels) = state
        .store
        .read(|rtx| {
            let chans = channels::list(rtx)?
                .into_iter()
                .filter(|c| c.kind == ChannelKind::Whatsapp)
                .map(|c| (c.id, c.name))
                .collect();
            Ok((templates::list(rtx)?, chans))
        })
        .await?;
    let r = render(&TemplatesPage {
        chrome: chrome(state, who, I18n(who.lang).s("tpl.title"), "admin"),
        wf_css: state.assets.url("workflow.css"),
        templates,
        channels,
        error: error.clone(),
    })?;
    Ok(unprocessable(r, &error))
}

async fn templates_page(
    State(state): State<HttpState>,
    UiAdmin(who): UiAdmin,
) -> Result<Response, UiError> {
    templates_render(&state, &who, String::new()).await
}

#[derive(Deserialize)]
struct TemplateForm {
    name: String,
    language: String,
    body: String,
    #[serde(default)]
    channel_id: String,
}

async fn template_create(
    State(state): State<HttpState>,
    UiAdmin(who): UiAdmin,
    Form(f): Form<TemplateForm>,
) -> Result<Response, UiError> {
    let input = TemplateInput {
        name: f.name,
        language: f.language,
        body: f.body,
        channel_id: f.channel_id.trim().parse().ok(),
    };
    match templates::save(&state.store, who.id(), None, input).await {
        Ok(_) => Ok(Redirect::to("/admin/templates").into_response()),
        Err(e) => templates_render(&state, &who, form_error(who.t(), e)?).await,
    }
}

async fn template_delete(
    State(state): State<HttpState>,
    UiAdmin(who): UiAdmin,
    Path(id): Path<u64>,
) -> Result<Response, UiError> {
    templates::delete(&state.store, who.id(), id).await?;
    Ok(Redirect::to("/admin/templates").into_response())
}

// --- canned replies ------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "wf_canned.html")]
struct CannedPage {
    chrome: Chrome,
    wf_css: String,
    /// The admin page for shared replies (else the user's own page).
    shared: bool,
    replies: Vec<Canned>,
    error: String,
}

async fn canned_render(
    state: &HttpState,
    who: &Authed,
    shared: bool,
    error: String,
) -> Result<Response, UiError> {
    let uid = who.id();
    let replies = state
        .store
        .read(move |rtx| templates::search_canned(rtx, uid, ""))
        .await?
        .into_iter()
        .filter(|c| c.owner.is_none() == shared)
        .collect();
    let (title, nav) = if shared {
        (I18n(who.lang).s("canned.shared_title"), "admin")
    } else {
        (I18n(who.lang).s("nav.canned"), "canned")
    };
    let r = render(&CannedPage {
        chrome: chrome(state, who, title, nav),
        wf_css: state.assets.url("workflow.css"),
        shared,
        replies,
        error: error.clone(),
    })?;
    Ok(unprocessable(r, &error))
}

#[derive(Deserialize)]
struct CannedForm {
    shortcut: String,
    text: String,
}

async fn canned_create(
    state: HttpState,
    who: Authed,
    shared: bool,
    f: CannedForm,
) -> Result<Response, UiError> {
    let input = CannedInput {
        shortcut: f.shortcut,
        text: f.text,
        shared,
    };
    match templates::save_canned(&state.store, &who.user, None, input).await {
        Ok(_) => Ok(Redirect::to(if shared { "/admin/canned" } else { "/canned" }).into_response()),
        Err(e) => canned_render(&state, &who, shared, form_error(who.t(), e)?).await,
    }
}

async fn shared_canned_page(
    State(state): State<HttpState>,
    UiAdmin(who): UiAdmin,
) -> Result<Response, UiError> {
    canned_render(&state, &who, true, String::new()).await
}

async fn own_canned_page(
    State(state): State<HttpState>,
    UiAuth(who): UiAuth,
) -> Result<Response, UiError> {
    canned_render(&state, &who, false, String::new()).await
}

async fn shared_canned_create(
    State(state): State<HttpState>,
    UiAdmin(who): UiAdmin,
    Form(f): Form<CannedForm>,
) -> Result<Response, UiError> {
    canned_create(state, who, true, f).await
}

async fn own_canned_create(
    State(state): State<HttpState>,
    UiAuth(who): UiAuth,
    Form(f): Form<CannedForm>,
) -> Result<Response, UiError> {
    canned_create(state, who, false, f).await
}

async fn canned_delete(
    State(state): State<HttpState>,
    UiAuth(who): UiAuth,
    Path(id): Path<u64>,
) -> Result<Response, UiError> {
    let deleted = templates::delete_canned(&state.store, &who.user, id).await?;
    let shared = deleted.owner.is_none();
    Ok(Redirect::to(if shared { "/admin/canned" } else { "/canned" }).into_response())
}

// --- tag and result lists ------------------------------------------------------------------

#[derive(Template)]
#[template(path = "wf_admin_lists.html")]
struct ListsPage {
    chrome: Chrome,
    wf_css: String,
    tags: String,
    results: String,
    error: String,
}

async fn lists_render(state: &HttpState, who: &Authed, error: String) -> Result<Response, UiError> {
    let (tags, results) = state
        .store
        .read(|rtx| {
            Ok((
                lists::get(rtx, ListKind::Tags)?,
                lists::get(rtx, ListKind::Results)?,
            ))
        })
        .await?;
    let r = render(&ListsPage {
        chrome: chrome(state, who, I18n(who.lang).s("lists.title"), "admin"),
        wf_css: state.assets.url("workflow.css"),
        tags: tags.join("\n"),
        results: results.join("\n"),
        error: error.clone(),
    })?;
    Ok(unprocessable(r, &error))
}

async fn lists_page(
    State(state): State<HttpState>,
    UiAdmin(who): UiAdmin,
) -> Result<Response, UiError> {
    lists_render(&state, &who, String::new()).await
}

#[derive(Deserialize)]
struct ListsForm {
    #[serde(default)]
    tags: String,
    #[serde(default)]
    results: String,
}

async fn lists_save(
    State(state): State<HttpState>,
    UiAdmin(who): UiAdmin,
    Form(f): Form<ListsForm>,
) -> Result<Response, UiError> {
    let split = |s: &str| s.lines().map(str::to_string).collect::<Vec<_>>();
    let (tags, results) = (split(&f.tags), split(&f.results));
    match lists::set_both(&state.store, who.id(), tags, results).await {
        Ok(()) => Ok(Redirect::to("/admin/workflow").into_response()),
        Err(e) => lists_render(&state, &who, form_error(who.t(), e)?).await,
    }
}

// --- PBX link ------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "wf_admin_pbx.html")]
struct PbxPage {
    chrome: Chrome,
    wf_css: String,
    kind: String,
    ami: AmiConfig,
    yeastar: YeastarConfig,
    error: String,
    /// The last **Test** on this page: worked?, the PBX's answer.
    test: Option<(bool, String)>,
    last: Option<pbx::PbxTest>,
    last_utc: String,
    /// The live event link.
    link: crate::domain::pbx_link::LinkStatus,
    link_since_utc: String,
    /// The missed-call follow-up and the channels it may use: (id, name, kind).
    followup: crate::domain::followup::FollowUp,
    /// (id, name, kind, chosen).
    phone_channels: Vec<(crate::ids::ChannelId, String, &'static str, bool)>,
}

async fn pbx_render(state: &HttpState, who: &Authed, error: String) -> Result<Response, UiError> {
    pbx_render_with(state, who, error, None).await
}

async fn pbx_render_with(
    state: &HttpState,
    who: &Authed,
    error: String,
    test: Option<(bool, String)>,
) -> Result<Response, UiError> {
    let (cfg, last, followup, phone_channels) = state
        .store
        .read(|rtx| {
            let chans = crate::domain::channels::list(rtx)?
                .into_iter()
                .filter(|c| {
                    matches!(
                        c.kind,
                        crate::domain::channels::ChannelKind::Sms
                            | crate::domain::channels::ChannelKind::Whatsapp
                    )
                })
                .collect::<Vec<_>>();
            let fu = crate::domain::followup::get(rtx)?;
            let chans = chans
                .into_iter()
                .map(|c| {
                    (
                        c.id,
                        c.name.clone(),
                        c.kind.as_str(),
                        fu.channel_id == Some(c.id),
                    )
                })
                .collect::<Vec<_>>();
            Ok((pbx::get(rtx)?, pbx::last_test(rtx)?, fu, chans))
        })
        .await?;
    let cfg = cfg.masked();
    let link = state.pbx_link.status();
    let last_utc = last
        .as_ref()
        .map(|l| super::admin_channels::utc(&&l.at))
        .unwrap_or_default();
    let mut ami = AmiConfig {
        host: String::new(),
        port: 5038,
        username: String::new(),
        secret: String::new(),
        context: "from-internal".into(),
        caller_id: String::new(),
    };
    let mut yeastar = YeastarConfig {
        base_url: String::new(),
        client_id: String::new(),
        client_secret: String::new(),
        accept_invalid_certs: false,
    };
    match &cfg {
        PbxConfig::Ami(a) => ami = a.clone(),
        PbxConfig::Yeastar(y) => yeastar = y.clone(),
        PbxConfig::None => {}
    }
    let r = render(&PbxPage {
        chrome: chrome(state, who, I18n(who.lang).s("pbx.title"), "admin"),
        wf_css: state.assets.url("workflow.css"),
        kind: cfg.kind().into(),
        ami,
        yeastar,
        error: error.clone(),
        test,
        last,
        last_utc,
        link_since_utc: super::admin_channels::utc(&&link.since),
        link,
        followup,
        phone_channels,
    })?;
    Ok(unprocessable(r, &error))
}

async fn pbx_page(
    State(state): State<HttpState>,
    UiAdmin(who): UiAdmin,
) -> Result<Response, UiError> {
    pbx_render(&state, &who, String::new()).await
}

#[derive(Deserialize)]
struct FollowUpForm {
    #[serde(default)]
    enabled: Option<String>,
    #[serde(default)]
    channel_id: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    template: String,
    #[serde(default)]
    language: String,
    #[serde(default)]
    cooldown_hours: String,
    #[serde(default)]
    numbers: String,
}

/// The missed-call follow-up card of the PBX page.
async fn followup_save(
    State(state): State<HttpState>,
    UiAdmin(who): UiAdmin,
    Form(f): Form<FollowUpForm>,
) -> Result<Response, UiError> {
    let cooldown = match f.cooldown_hours.trim().parse::<u32>() {
        Ok(h) => h,
        Err(_) => {
            let e = Error::invalid("cooldown_hours", "must be a whole number of hours");
            return pbx_render(&state, &who, form_error(who.t(), e)?).await;
        }
    };
    let channel_id = f
        .channel_id
        .trim()
        .parse::<u64>()
        .ok()
        .map(crate::ids::ChannelId);
    let input = crate::domain::followup::FollowUp {
        enabled: f.enabled.is_some(),
        channel_id,
        text: f.text,
        template: f.template,
        language: if f.language.trim().is_empty() {
            "en_US".into()
        } else {
            f.language
        },
        cooldown_hours: cooldown,
        numbers: f.numbers,
    };
    match crate::domain::followup::set(&state.store, who.id(), input).await {
        Ok(_) => Ok(Redirect::to("/admin/pbx#followup").into_response()),
        Err(e) => pbx_render(&state, &who, form_error(who.t(), e)?).await,
    }
}

#[derive(Deserialize)]
struct PbxForm {
    kind: String,
    /// `test` from the **Test** button: try the login, save nothing.
    #[serde(default)]
    action: String,
    #[serde(default)]
    host: String,
    #[serde(default)]
    port: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    secret: String,
    #[serde(default)]
    context: String,
    #[serde(default)]
    caller_id: String,
    #[serde(default)]
    base_url: String,
    #[serde(default)]
    client_id: String,
    #[serde(default)]
    client_secret: String,
    #[serde(default)]
    accept_invalid_certs: Option<String>,
}

fn pbx_cfg(f: PbxForm) -> Result<PbxConfig, Error> {
    match f.kind.as_str() {
        "ami" => match f.port.trim().parse::<u16>() {
            Ok(port) => Ok(PbxConfig::Ami(AmiConfig {
                host: f.host.trim().into(),
                port,
                username: f.username.trim().into(),
                secret: f.secret,
                context: f.context,
                caller_id: f.caller_id,
            })),
            Err(_) => Err(Error::invalid("port", "must be 1 to 65535")),
        },
        "yeastar" => Ok(PbxConfig::Yeastar(YeastarConfig {
            base_url: f.base_url,
            client_id: f.client_id.trim().into(),
            client_secret: f.client_secret,
            accept_invalid_certs: f.accept_invalid_certs.is_some(),
        })),
        _ => Ok(PbxConfig::None),
    }
}

async fn pbx_save(
    State(state): State<HttpState>,
    UiAdmin(who): UiAdmin,
    Form(f): Form<PbxForm>,
) -> Result<Response, UiError> {
    if f.action == "test" {
        return pbx_test(&state, &who, f).await;
    }
    let result = match pbx_cfg(f) {
        Ok(cfg) => pbx::set(&state.store, who.id(), cfg).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => {
            state.pbx_link.reload();
            Ok(Redirect::to("/admin/pbx").into_response())
        }
        Err(e) => pbx_render(&state, &who, form_error(who.t(), e)?).await,
    }
}

/// **Test**: logs in with the entered credentials (an untouched secret field means the stored
/// one) and shows the PBX's own answer; nothing is saved.
async fn pbx_test(state: &HttpState, who: &Authed, f: PbxForm) -> Result<Response, UiError> {
    let cfg = match pbx_cfg(f) {
        Ok(c) => c,
        Err(e) => return pbx_render(state, who, form_error(who.t(), e)?).await,
    };
    let cfg = state
        .store
        .read(move |rtx| pbx::with_stored_secrets(rtx, cfg))
        .await?;
    let t = crate::http::i18n::I18n(who.lang);
    let (ok, answer) = match crate::pbx::probe(&cfg, crate::pbx::Timeouts::default()).await {
        Ok(msg) => (true, msg),
        Err(e) => (false, e.to_string()),
    };
    pbx::record_test(&state.store, ok, cfg.kind().to_string(), answer.clone()).await?;
    let label = if ok {
        t.s("pbx.test_ok")
    } else {
        t.s("pbx.test_failed")
    };
    pbx_render_with(
        state,
        who,
        String::new(),
        Some((ok, format!("{label} {answer}"))),
    )
    .await
}

// --- block list ----------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "wf_admin_blocks.html")]
struct BlocksPage {
    chrome: Chrome,
    wf_css: String,
    blocks: Vec<BlockRow>,
    channels: Vec<(ChannelId, String)>,
    error: String,
}

/// One blocked contact as people read it: names, not ids.
struct BlockRow {
    id: ContactId,
    label: String,
    address: String,
    channel: String,
    reason: String,
    by: String,
    at: i64,
    utc: String,
}

#[derive(Deserialize)]
struct BlockForm {
    channel_id: ChannelId,
    address: String,
    reason: String,
}

async fn blocks_render(
    state: &HttpState,
    who: &Authed,
    error: String,
) -> Result<Response, UiError> {
    let (blocked, chans, people) = state
        .store
        .read(|rtx| {
            Ok((
                blocks::list(rtx)?,
                channels::list(rtx)?,
                crate::domain::users::list(rtx)?,
            ))
        })
        .await?;
    let channel_name = |id: ChannelId| {
        chans
            .iter()
            .find(|c| c.id == id)
            .map_or_else(|| format!("#{id}"), |c| c.name.clone())
    };
    let blocks = blocked
        .into_iter()
        .map(|b: BlockedContact| BlockRow {
            id: b.contact.id,
            label: b.contact.label().to_string(),
            address: b.contact.address.clone(),
            channel: channel_name(b.contact.channel_id),
            reason: b.block.reason,
            by: people
                .iter()
                .find(|u| u.id == b.block.by)
                .map_or_else(String::new, |u| u.display_name.clone()),
            at: b.block.at,
            utc: super::admin_channels::utc(&&b.block.at),
        })
        .collect();
    let title = crate::http::i18n::I18n(who.lang).s("blk.title");
    let r = render(&BlocksPage {
        chrome: chrome(state, who, title, "admin"),
        wf_css: state.assets.url("workflow.css"),
        blocks,
        channels: chans.into_iter().map(|c| (c.id, c.name)).collect(),
        error: error.clone(),
    })?;
    Ok(unprocessable(r, &error))
}

async fn blocks_page(
    State(state): State<HttpState>,
    UiAdmin(who): UiAdmin,
) -> Result<Response, UiError> {
    blocks_render(&state, &who, String::new()).await
}

async fn block_add(
    State(state): State<HttpState>,
    UiAdmin(who): UiAdmin,
    Form(f): Form<BlockForm>,
) -> Result<Response, UiError> {
    match blocks::block_address(&state.store, who.id(), f.channel_id, f.address, f.reason).await {
        Ok(_) => Ok(Redirect::to("/admin/blocks").into_response()),
        Err(Error::NotFound(_)) => {
            blocks_render(
                &state,
                &who,
                who.t()
                    .error(&Error::invalid("channel_id", "no such channel")),
            )
            .await
        }
        Err(e) => blocks_render(&state, &who, form_error(who.t(), e)?).await,
    }
}

async fn block_lift(
    State(state): State<HttpState>,
    UiAdmin(who): UiAdmin,
    Path(id): Path<ContactId>,
) -> Result<Response, UiError> {
    blocks::unblock(&state.store, who.id(), id).await?;
    Ok(Redirect::to("/admin/blocks").into_response())
}
