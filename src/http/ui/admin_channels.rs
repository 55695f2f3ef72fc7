//! Admin: channels. A list (name, kind, health at a glance), one page per channel, one form
//! per kind with only that provider's fields (each with a line on where to find it), Test
//! connection, and deletion behind a confirmation that counts what the channel holds.
//! Forms post to this origin (CSRF is checked by Origin); the members checklist repeats the
//! `members` field, so bodies are decoded as pairs rather than through `Form<T>`.

use crate::ids::ChannelId;
use crate::ids::UserId;
use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};

use super::{Chrome, render};
use crate::domain::channels::health::{self, ChannelHealth};
use crate::domain::channels::{
    self, Channel, ChannelInput, ChannelKind, Credentials, LivechatSettings, QueueMode, Usage,
};
use crate::domain::users;
use crate::error::Error;
use crate::http::HttpState;
use crate::http::auth::{Authed, UiAdmin};
use crate::http::error::UiError;
use crate::http::i18n::I18n;

pub fn router() -> Router<HttpState> {
    Router::new()
        .route("/admin/channels", get(list).post(create))
        .route("/admin/channels/new/{kind}", get(new_form))
        .route("/admin/channels/{id}", get(show).post(edit))
        .route("/admin/channels/{id}/test", post(test))
        .route(
            "/admin/channels/{id}/delete",
            get(confirm_delete).post(remove),
        )
}

pub struct MemberBox {
    pub id: UserId,
    pub name: String,
    pub checked: bool,
}

/// One provider field of the form.
pub struct Field {
    pub name: &'static str,
    pub label: &'static str,
    pub hint: &'static str,
    /// Write-only: never rendered back, "leave empty to keep".
    pub secret: bool,
    /// Shown in clear with a copy button (the verify token the admin chose).
    pub copy: bool,
    pub required: bool,
    pub value: String,
    /// A secret is stored (for the "saved" placeholder).
    pub stored: bool,
}

/// The provider fields of `kind`, filled from `c` (secrets never).
fn fields(t: I18n, kind: ChannelKind, c: &Credentials) -> Vec<Field> {
    let required = channels::required_fields(kind);
    let f = |name: &'static str, secret: bool, copy: bool, value: &str| Field {
        name,
        label: t.s(LABELS
            .iter()
            .find(|(n, _, _)| *n == name)
            .map_or(name, |x| x.1)),
        hint: t.s(LABELS
            .iter()
            .find(|(n, _, _)| *n == name)
            .map_or("", |x| match (kind, x.2) {
                (ChannelKind::Messenger, "adm.hint.app_secret") => "adm.hint.app_secret",
                (ChannelKind::Messenger, "adm.hint.verify_token") => "adm.hint.verify_token_fb",
                (ChannelKind::Instagram, "adm.hint.access_token") => "adm.hint.access_token_ig",
                (ChannelKind::Instagram, "adm.hint.app_secret") => "adm.hint.app_secret_ig",
                (ChannelKind::Instagram, "adm.hint.verify_token") => "adm.hint.verify_token_ig",
                (_, h) => h,
            })),
        secret,
        copy,
        required: required.iter().any(|(n, _)| *n == name),
        stored: !value.is_empty(),
        value: if secret {
            String::new()
        } else {
            value.to_string()
        },
    };
    match kind {
        ChannelKind::Sms => vec![
            f("account_sid", false, false, &c.account_sid),
            f("auth_token", true, false, &c.auth_token),
            f("from_number", false, false, &c.from_number),
        ],
        ChannelKind::Whatsapp => vec![
            f("phone_number_id", false, false, &c.phone_number_id),
            f("access_token", true, false, &c.access_token),
            f("app_secret", true, false, &c.app_secret),
            f("verify_token", false, true, &c.verify_token),
        ],
        ChannelKind::Messenger => vec![
            f("page_id", false, false, &c.page_id),
            f("page_token", true, false, &c.page_token),
            f("app_secret", true, false, &c.app_secret),
            f("verify_token", false, true, &c.verify_token),
        ],
        ChannelKind::Instagram => vec![
            f("ig_user_id", false, false, &c.ig_user_id),
            f("access_token", true, false, &c.access_token),
            f("app_secret", true, false, &c.app_secret),
            f("verify_token", false, true, &c.verify_token),
        ],
        ChannelKind::Livechat => Vec::new(),
    }
}

/// (field, label key, hint key)
const LABELS: &[(&str, &str, &str)] = &[
    ("account_sid", "adm.f.account_sid", "adm.hint.account_sid"),
    ("auth_token", "adm.f.auth_token", "adm.hint.auth_token"),
    ("from_number", "adm.f.from_number", "adm.hint.from_number"),
    (
        "phone_number_id",
        "adm.f.phone_number_id",
        "adm.hint.phone_number_id",
    ),
    (
        "access_token",
        "adm.f.access_token",
        "adm.hint.access_token",
    ),
    ("page_id", "adm.f.page_id", "adm.hint.page_id"),
    ("page_token", "adm.f.page_token", "adm.hint.page_token"),
    ("ig_user_id", "adm.f.ig_user_id", "adm.hint.ig_user_id"),
    ("app_secret", "adm.f.app_secret", "adm.hint.app_secret"),
    (
        "verify_token",
        "adm.f.verify_token",
        "adm.hint.verify_token",
    ),
];

fn kind_label(t: I18n, k: ChannelKind) -> &'static str {
    t.s(match k {
        ChannelKind::Sms => "adm.kind.sms",
        ChannelKind::Whatsapp => "adm.kind.whatsapp",
        ChannelKind::Messenger => "adm.kind.messenger",
        ChannelKind::Instagram => "adm.kind.instagram",
        ChannelKind::Livechat => "adm.kind.livechat",
    })
}

fn queue_mode_str(q: QueueMode) -> &'static str {
    match q {
        QueueMode::Manual => "manual",
        QueueMode::AutoOnReply => "auto_on_reply",
        QueueMode::AssignOnArrival => "assign_on_arrival",
    }
}

/// A health line's pieces; the template renders the times as local `<time>`.
pub struct HealthView {
    pub last_inbound: Option<i64>,
    pub last_send_ok: Option<i64>,
    pub sig_failure: Option<(i64, String)>,
    pub send_error: Option<(i64, String)>,
}

impl HealthView {
    fn from(h: ChannelHealth) -> Self {
        Self {
            last_inbound: h.last_inbound,
            last_send_ok: h.last_send_ok,
            sig_failure: h.last_signature_failure.map(|i| (i.at, i.reason)),
            send_error: h.last_send_error.map(|i| (i.at, i.reason)),
        }
    }
    /// "ok", "warn" (never heard from) or "bad" (the last thing that happened was a failure).
    pub fn state(&self) -> &'static str {
        let last_ok = self.last_inbound.max(self.last_send_ok);
        let last_bad = self
            .sig_failure
            .as_ref()
            .map(|x| x.0)
            .max(self.send_error.as_ref().map(|x| x.0));
        match (last_ok, last_bad) {
            (_, Some(b)) if last_ok.is_none_or(|o| b > o) => "bad",
            (None, None) => "warn",
            _ => "ok",
        }
    }
}

/// UTC text for a `<time data-ms>` element (the page script replaces it with local time).
/// (askama hands template variables over by double reference.)
pub fn utc(ms: &&i64) -> String {
    chrono::DateTime::from_timestamp_millis(**ms)
        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default()
}

pub struct ListRow {
    pub id: ChannelId,
    pub name: String,
    pub kind: &'static str,
    pub health: HealthView,
    pub members: usize,
}

#[derive(Template)]
#[template(path = "admin_channels.html")]
struct ListPage {
    chrome: Chrome,
    rows: Vec<ListRow>,
    kinds: Vec<(&'static str, &'static str)>,
}

async fn list(State(state): State<HttpState>, UiAdmin(who): UiAdmin) -> Result<Response, UiError> {
    let t = I18n(who.lang);
    let rows = state
        .store
        .read(move |rtx| {
            let mut rows = Vec::new();
            for ch in channels::list(rtx)? {
                rows.push(ListRow {
                    id: ch.id,
                    kind: kind_label(t, ch.kind),
                    health: HealthView::from(health::get(rtx, ch.id)?),
                    members: ch.members.len(),
                    name: ch.name,
                });
            }
            Ok(rows)
        })
        .await?;
    let kinds = ChannelKind::ALL
        .into_iter()
        .map(|k| (k.as_str(), kind_label(t, k)))
        .collect();
    let chrome = Chrome::new(&state, Some(&who), who.lang, t.s("adm.channels"), "admin");
    render(&ListPage {
        chrome,
        rows,
        kinds,
    })
}

/// The form page: a new channel of one kind, or an existing channel.
#[derive(Template)]
#[template(path = "admin_channel.html")]
struct ChannelPage {
    chrome: Chrome,
    /// None while creating.
    id: Option<ChannelId>,
    kind: &'static str,
    kind_label: &'static str,
    name: String,
    business_address: String,
    fields: Vec<Field>,
    webhook_urls: Vec<String>,
    https_warning: Option<String>,
    api_base: String,
    default_api_base: &'static str,
    members: Vec<MemberBox>,
    queue_mode: &'static str,
    cap: u32,
    read_receipts: bool,
    typing_indicator: bool,
    auto_close_hours: u32,
    max_file_mb: String,
    allowed_types: String,
    health: Option<HealthView>,
    error: String,
    notice: String,
    test_ok: Option<String>,
    test_error: Option<String>,
    /// Website chat: the widget settings, origins one per line, and the embed line.
    lc: LivechatSettings,
    /// The widget's language for the select (English when none was chosen).
    lc_language: Option<crate::locale::Lang>,
    lc_origins: String,
    /// A refused origin, said beside the origins field.
    origins_error: String,
    snippet: String,
}

impl ChannelPage {
    pub fn is(&self, kind: &str) -> bool {
        self.kind == kind
    }
    pub fn queue(&self, mode: &str) -> bool {
        self.queue_mode == mode
    }
}

/// What the page shows besides the channel itself.
#[derive(Default)]
struct Extra {
    error: String,
    notice: String,
    test: Option<Result<String, String>>,
    /// The widget settings as the admin typed them, shown again when saving failed.
    typed_livechat: Option<LivechatSettings>,
}

async fn channel_page(
    state: &HttpState,
    who: &Authed,
    kind: ChannelKind,
    id: Option<ChannelId>,
    extra: Extra,
) -> Result<Response, UiError> {
    let t = I18n(who.lang);
    let public_url = state.public_url.clone();
    let (ch, users, health) = state
        .store
        .read(move |rtx| {
            let ch = match id {
                Some(id) => Some(channels::get(rtx, id)?.ok_or(Error::NotFound("channel"))?),
                None => None,
            };
            let health = match id {
                Some(id) => Some(HealthView::from(health::get(rtx, id)?)),
                None => None,
            };
            let mut users: Vec<(UserId, String)> = users::list(rtx)?
                .into_iter()
                .filter(|u| !u.disabled)
                .map(|u| (u.id, format!("{} ({})", u.display_name, u.username)))
                .collect();
            users.sort_by(|a, b| a.1.cmp(&b.1));
            Ok((ch, users, health))
        })
        .await?;
    let kind = ch.as_ref().map_or(kind, |c| c.kind);
    let mut ch = ch.unwrap_or_else(|| Channel::blank(ChannelId(0), kind, 0));
    if let Some(lc) = extra.typed_livechat {
        ch.livechat = lc;
    }
    let origins_error = if extra.error.contains("livechat.allowed_origins") {
        extra.error.clone()
    } else {
        String::new()
    };
    let view = ch.view(&public_url);
    let https_warning =
        (id.is_some() && !view.webhook_urls.is_empty() && !public_url.starts_with("https://"))
            .then(|| public_url.clone());
    let failed = !extra.error.is_empty();
    let (test_ok, test_error) = match extra.test {
        Some(Ok(v)) => (Some(v), None),
        Some(Err(e)) => (None, Some(e)),
        None => (None, None),
    };
    let title = if id.is_some() {
        ch.name.clone()
    } else {
        format!("{} · {}", t.s("adm.new_channel"), kind_label(t, kind))
    };
    let mut chrome = Chrome::new(state, Some(who), who.lang, &title, "admin");
    if kind == ChannelKind::Livechat {
        chrome.page_script(state, "livechat-admin.js");
    }
    let page = ChannelPage {
        chrome,
        id,
        kind: kind.as_str(),
        kind_label: kind_label(t, kind),
        fields: fields(t, kind, &ch.credentials),
        webhook_urls: if id.is_some() {
            view.webhook_urls
        } else {
            Vec::new()
        },
        https_warning,
        api_base: ch.api_base.clone(),
        default_api_base: kind.default_api_base(),
        members: users
            .into_iter()
            .map(|(uid, name)| MemberBox {
                id: uid,
                name,
                checked: ch.members.contains(&uid),
            })
            .collect(),
        queue_mode: queue_mode_str(ch.queue_mode),
        cap: ch.max_sessions_per_agent,
        read_receipts: !ch.read_receipts_off,
        typing_indicator: !ch.typing_off,
        auto_close_hours: ch.closes_after_hours().unwrap_or(0),
        max_file_mb: ch.max_file_mb.map(|m| m.to_string()).unwrap_or_default(),
        allowed_types: ch.allowed_types.clone().unwrap_or_default().join(", "),
        lc_origins: ch.livechat.allowed_origins.join("\n"),
        origins_error,
        snippet: id
            .map(|id| crate::http::livechat::pages::snippet(&public_url, id))
            .unwrap_or_default(),
        lc_language: Some(
            crate::locale::Lang::from_code(&ch.livechat.language).unwrap_or_default(),
        ),
        lc: ch.livechat,
        name: ch.name,
        business_address: ch.business_address,
        health,
        error: extra.error,
        notice: extra.notice,
        test_ok,
        test_error,
    };
    let mut r = render(&page)?;
    if failed {
        *r.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(r)
}

async fn new_form(
    State(state): State<HttpState>,
    UiAdmin(who): UiAdmin,
    Path(kind): Path<String>,
) -> Result<Response, UiError> {
    let kind = ChannelKind::parse(&kind).ok_or(Error::NotFound("channel kind"))?;
    channel_page(&state, &who, kind, None, Extra::default()).await
}

#[derive(serde::Deserialize)]
struct ShowQuery {
    #[serde(default)]
    saved: Option<String>,
}

async fn show(
    State(state): State<HttpState>,
    UiAdmin(who): UiAdmin,
    Path(id): Path<ChannelId>,
    Query(q): Query<ShowQuery>,
) -> Result<Response, UiError> {
    let notice = if q.saved.is_some() {
        I18n(who.lang).s("adm.saved").to_string()
    } else {
        String::new()
    };
    let extra = Extra {
        notice,
        ..Default::default()
    };
    channel_page(&state, &who, ChannelKind::Livechat, Some(id), extra).await
}

fn form_error(t: crate::http::i18n::I18n, e: Error) -> Result<String, UiError> {
    match e {
        Error::Invalid { .. } | Error::Conflict(_) | Error::BadRequest(_) => Ok(t.error(&e)),
        other => Err(other.into()),
    }
}

/// Decode the channel form. Fields left out of the form are left unchanged.
fn input_from(body: &[u8], creating: bool) -> Result<ChannelInput, Error> {
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(body).into_owned().collect();
    let one = |k: &str| {
        pairs
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.trim().to_string())
    };
    let mut input = ChannelInput {
        name: one("name"),
        business_address: one("business_address"),
        api_base: one("api_base"),
        ..Default::default()
    };
    if creating {
        input.kind = match one("kind").as_deref().and_then(ChannelKind::parse) {
            Some(k) => Some(k),
            None => {
                return Err(Error::invalid(
                    "kind",
                    "choose sms, whatsapp, messenger, instagram or livechat",
                ));
            }
        };
    }
    let cred = |k: &str| one(k).unwrap_or_default();
    input.credentials = Some(Credentials {
        account_sid: cred("account_sid"),
        auth_token: cred("auth_token"),
        from_number: cred("from_number"),
        phone_number_id: cred("phone_number_id"),
        access_token: cred("access_token"),
        page_id: cred("page_id"),
        page_token: cred("page_token"),
        ig_user_id: cred("ig_user_id"),
        app_secret: cred("app_secret"),
        verify_token: cred("verify_token"),
    });
    if pairs.iter().any(|(k, _)| k == "members_present") {
        let mut ids = Vec::new();
        for (_, v) in pairs.iter().filter(|(k, _)| k == "members") {
            ids.push(
                v.parse::<UserId>()
                    .map_err(|_| Error::invalid("members", "unknown user"))?,
            );
        }
        input.members = Some(ids);
    }
    input.queue_mode = match one("queue_mode").as_deref() {
        None | Some("") => None,
        Some("manual") => Some(QueueMode::Manual),
        Some("auto_on_reply") => Some(QueueMode::AutoOnReply),
        Some("assign_on_arrival") => Some(QueueMode::AssignOnArrival),
        Some(_) => return Err(Error::invalid("queue_mode", "unknown queue mode")),
    };
    if let Some(h) = one("auto_close_hours").filter(|h| !h.is_empty()) {
        input.auto_close_hours = Some(
            h.parse()
                .map_err(|_| Error::invalid("auto_close_hours", "must be a whole number"))?,
        );
    }
    if pairs.iter().any(|(k, _)| k == "wa_signals_present") {
        input.read_receipts = Some(pairs.iter().any(|(k, _)| k == "read_receipts"));
        input.typing_indicator = Some(pairs.iter().any(|(k, _)| k == "typing_indicator"));
    }
    if let Some(cap) = one("max_sessions_per_agent") {
        input.max_sessions_per_agent = Some(if cap.is_empty() {
            0
        } else {
            cap.parse()
                .map_err(|_| Error::invalid("max_sessions_per_agent", "must be a whole number"))?
        });
    }
    if let Some(mb) = one("max_file_mb") {
        input.max_file_mb = Some(if mb.is_empty() {
            None
        } else {
            Some(
                mb.parse()
                    .map_err(|_| Error::invalid("max_file_mb", "must be a whole number"))?,
            )
        });
    }
    if let Some(t) = one("allowed_types") {
        input.allowed_types = Some(if t.is_empty() {
            None
        } else {
            Some(t.split([',', ' ']).map(str::to_string).collect())
        });
    }
    if pairs.iter().any(|(k, _)| k == "livechat_present") {
        let has = |k: &str| pairs.iter().any(|(n, _)| n == k);
        input.livechat = Some(LivechatSettings {
            title: one("lc_title").unwrap_or_default(),
            greeting: one("lc_greeting").unwrap_or_default(),
            accent: one("lc_accent").unwrap_or_default(),
            allowed_origins: one("lc_origins")
                .unwrap_or_default()
                .split(['\n', '\r', ',', ' '])
                .map(str::trim)
                .filter(|o| !o.is_empty())
                .map(str::to_string)
                .collect(),
            prechat_form: has("lc_prechat"),
            offline_message: one("lc_offline").unwrap_or_default(),
            uploads: has("lc_uploads"),
            language: one("lc_language").unwrap_or_default(),
        });
    }
    Ok(input)
}

async fn create(
    State(state): State<HttpState>,
    UiAdmin(who): UiAdmin,
    body: Bytes,
) -> Result<Response, UiError> {
    let input = match input_from(&body, true) {
        Ok(i) => i,
        Err(e) => {
            let kind = kind_from(&body).unwrap_or(ChannelKind::Whatsapp);
            let extra = Extra {
                error: form_error(who.t(), e)?,
                ..Default::default()
            };
            return channel_page(&state, &who, kind, None, extra).await;
        }
    };
    let kind = input.kind.unwrap_or(ChannelKind::Whatsapp);
    match channels::create(&state.store, who.id(), input).await {
        Ok(ch) => Ok(Redirect::to(&format!("/admin/channels/{}?saved=1", ch.id)).into_response()),
        Err(e) => {
            let extra = Extra {
                error: form_error(who.t(), e)?,
                ..Default::default()
            };
            channel_page(&state, &who, kind, None, extra).await
        }
    }
}

fn kind_from(body: &[u8]) -> Option<ChannelKind> {
    url::form_urlencoded::parse(body)
        .find(|(k, _)| k == "kind")
        .and_then(|(_, v)| ChannelKind::parse(&v))
}

async fn edit(
    State(state): State<HttpState>,
    UiAdmin(who): UiAdmin,
    Path(id): Path<ChannelId>,
    body: Bytes,
) -> Result<Response, UiError> {
    let mut typed_livechat = None;
    let result = match input_from(&body, false) {
        Ok(input) => {
            typed_livechat = input.livechat.clone();
            channels::update(&state.store, who.id(), id, input)
                .await
                .map(|_| ())
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/admin/channels/{id}?saved=1")).into_response()),
        Err(e) => {
            let extra = Extra {
                error: form_error(who.t(), e)?,
                typed_livechat,
                ..Default::default()
            };
            channel_page(&state, &who, ChannelKind::Livechat, Some(id), extra).await
        }
    }
}

/// Test connection: ask the provider with the stored credentials, show what it said.
async fn test(
    State(state): State<HttpState>,
    UiAdmin(who): UiAdmin,
    Path(id): Path<ChannelId>,
) -> Result<Response, UiError> {
    let probe = channels::test_connection(&state.store, id).await?;
    let extra = Extra {
        test: Some(probe),
        ..Default::default()
    };
    channel_page(&state, &who, ChannelKind::Livechat, Some(id), extra).await
}

#[derive(Template)]
#[template(path = "admin_channel_delete.html")]
struct DeletePage {
    chrome: Chrome,
    id: ChannelId,
    name: String,
    usage: Usage,
}

async fn confirm_delete(
    State(state): State<HttpState>,
    UiAdmin(who): UiAdmin,
    Path(id): Path<ChannelId>,
) -> Result<Response, UiError> {
    let (ch, usage) = state
        .store
        .read(move |rtx| {
            let ch = channels::get(rtx, id)?.ok_or(Error::NotFound("channel"))?;
            Ok((ch, channels::usage(rtx, id)?))
        })
        .await?;
    let t = I18n(who.lang);
    render(&DeletePage {
        chrome: Chrome::new(
            &state,
            Some(&who),
            who.lang,
            t.s("adm.delete_title"),
            "admin",
        ),
        id,
        name: ch.name,
        usage,
    })
}

async fn remove(
    State(state): State<HttpState>,
    UiAdmin(who): UiAdmin,
    Path(id): Path<ChannelId>,
) -> Result<Response, UiError> {
    channels::delete(&state.store, who.id(), id).await?;
    Ok(Redirect::to("/admin/channels").into_response())
}
