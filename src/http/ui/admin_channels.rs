//! Admin: channels (create, edit, delete), their webhook URLs and health line.
//! Forms post to this origin (CSRF is checked by Origin); the members checklist repeats the
//! `members` field, so bodies are decoded as pairs rather than through `Form<T>`.

use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};

use super::{Chrome, render};
use crate::domain::channels::health;
use crate::domain::channels::{
    self, ChannelInput, ChannelKind, ChannelView, Credentials, QueueMode,
};
use crate::domain::users;
use crate::error::Error;
use crate::http::HttpState;
use crate::http::auth::{Authed, UiAdmin};
use crate::http::error::UiError;

pub fn router() -> Router<HttpState> {
    Router::new()
        .route("/admin/channels", get(list).post(create))
        .route("/admin/channels/{id}", post(edit))
        .route("/admin/channels/{id}/delete", post(remove))
}

pub struct MemberBox {
    pub id: u64,
    pub name: String,
    pub checked: bool,
}

pub struct Row {
    pub ch: ChannelView,
    pub health: String,
    pub members: Vec<MemberBox>,
    pub allowed_types: String,
    pub max_file_mb: String,
}

impl Row {
    pub fn is(&self, kind: &str) -> bool {
        self.ch.kind.as_str() == kind
    }
    pub fn queue(&self, mode: &str) -> bool {
        queue_mode_str(self.ch.queue_mode) == mode
    }
}

fn queue_mode_str(q: QueueMode) -> &'static str {
    match q {
        QueueMode::Manual => "manual",
        QueueMode::AutoOnReply => "auto_on_reply",
        QueueMode::AssignOnArrival => "assign_on_arrival",
    }
}

#[derive(Template)]
#[template(path = "admin_channels.html")]
struct ChannelsPage {
    chrome: Chrome,
    rows: Vec<Row>,
    users: Vec<MemberBox>,
    error: String,
}

async fn page(state: &HttpState, who: &Authed, error: String) -> Result<Response, UiError> {
    let public_url = state.public_url.clone();
    let (rows, users) = state
        .store
        .read(move |rtx| {
            let mut all_users: Vec<(u64, String)> = users::list(rtx)?
                .into_iter()
                .filter(|u| !u.disabled)
                .map(|u| (u.id, format!("{} ({})", u.display_name, u.username)))
                .collect();
            all_users.sort_by(|a, b| a.1.cmp(&b.1));
            let mut rows = Vec::new();
            for ch in channels::list(rtx)? {
                let health = health::get(rtx, ch.id)?.line();
                let members = all_users
                    .iter()
                    .map(|(id, name)| MemberBox {
                        id: *id,
                        name: name.clone(),
                        checked: ch.members.contains(id),
                    })
                    .collect();
                let view = ch.view(&public_url);
                rows.push(Row {
                    allowed_types: view.allowed_types.clone().unwrap_or_default().join(", "),
                    max_file_mb: view.max_file_mb.map(|m| m.to_string()).unwrap_or_default(),
                    ch: view,
                    health,
                    members,
                });
            }
            let users = all_users
                .into_iter()
                .map(|(id, name)| MemberBox {
                    id,
                    name,
                    checked: false,
                })
                .collect();
            Ok((rows, users))
        })
        .await?;
    let chrome = Chrome::new(state, Some(who), who.lang, "Channels", "admin");
    let failed = !error.is_empty();
    let mut r = render(&ChannelsPage {
        chrome,
        rows,
        users,
        error,
    })?;
    if failed {
        *r.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(r)
}

async fn list(State(state): State<HttpState>, UiAdmin(who): UiAdmin) -> Result<Response, UiError> {
    page(&state, &who, String::new()).await
}

fn form_error(e: Error) -> Result<String, UiError> {
    match e {
        Error::Invalid { .. } | Error::Conflict(_) | Error::BadRequest(_) => Ok(e.public_message()),
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
        input.kind = match one("kind").as_deref() {
            Some("sms") => Some(ChannelKind::Sms),
            Some("whatsapp") => Some(ChannelKind::Whatsapp),
            Some("messenger") => Some(ChannelKind::Messenger),
            Some("livechat") => Some(ChannelKind::Livechat),
            _ => {
                return Err(Error::invalid(
                    "kind",
                    "choose sms, whatsapp, messenger or livechat",
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
        app_secret: cred("app_secret"),
        verify_token: cred("verify_token"),
    });
    if pairs.iter().any(|(k, _)| k == "members_present") {
        let mut ids = Vec::new();
        for (_, v) in pairs.iter().filter(|(k, _)| k == "members") {
            ids.push(
                v.parse::<u64>()
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
    Ok(input)
}

async fn create(
    State(state): State<HttpState>,
    UiAdmin(who): UiAdmin,
    body: Bytes,
) -> Result<Response, UiError> {
    let input = match input_from(&body, true) {
        Ok(i) => i,
        Err(e) => return page(&state, &who, form_error(e)?).await,
    };
    match channels::create(&state.store, who.id(), input).await {
        Ok(_) => Ok(Redirect::to("/admin/channels").into_response()),
        Err(e) => page(&state, &who, form_error(e)?).await,
    }
}

async fn edit(
    State(state): State<HttpState>,
    UiAdmin(who): UiAdmin,
    Path(id): Path<u64>,
    body: Bytes,
) -> Result<Response, UiError> {
    let input = match input_from(&body, false) {
        Ok(i) => i,
        Err(e) => return page(&state, &who, form_error(e)?).await,
    };
    match channels::update(&state.store, who.id(), id, input).await {
        Ok(_) => Ok(Redirect::to("/admin/channels").into_response()),
        Err(e) => page(&state, &who, form_error(e)?).await,
    }
}

async fn remove(
    State(state): State<HttpState>,
    UiAdmin(who): UiAdmin,
    Path(id): Path<u64>,
) -> Result<Response, UiError> {
    channels::delete(&state.store, who.id(), id).await?;
    Ok(Redirect::to("/admin/channels").into_response())
}
