//! Admin → Channels → a channel → "Business hours and automatic replies": the weekly
//! schedule, holidays and automatic replies of one channel (`domain::automation`). A refused
//! form comes back as typed, with the message at the field that is wrong; nothing is stored.

use askama::Template;
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;

use super::{Chrome, render};
use std::collections::BTreeMap;

use crate::domain::automation::{self, AutomationInput, Texts, hours};
use crate::domain::channels;
use crate::error::Error;
use crate::http::HttpState;
use crate::http::auth::{Authed, UiAdmin};
use crate::http::error::UiError;
use crate::http::i18n::I18n;
use crate::ids::ChannelId;

pub fn router() -> Router<HttpState> {
    Router::new().route("/admin/channels/{id}/automation", get(page).post(save))
}

/// One weekday row of the form.
pub struct DayRow {
    pub field: String,
    pub label: &'static str,
    pub value: String,
    pub error: String,
}

#[derive(Template)]
#[template(path = "admin_automation.html")]
struct AutomationPage {
    chrome: Chrome,
    id: ChannelId,
    name: String,
    input: AutomationInput,
    days: Vec<DayRow>,
    /// The refused field and what is wrong with it.
    error_field: String,
    error: String,
    notice: String,
    /// "Open now" / "Closed, opens …" under the schedule (box time).
    now_line: String,
    /// The texts per shipped language, under the defaults.
    variants: Vec<VariantGroup>,
    /// WhatsApp channels: a template per reply for outside the 24-hour window.
    wa: Vec<TemplateChoice>,
}

/// One reply's template select (WhatsApp).
pub struct TemplateChoice {
    /// `wa_busy` (form field) / `wa_templates.busy` (refused field).
    pub field: &'static str,
    pub label: &'static str,
    /// (id, "name (language)", selected)
    pub options: Vec<(u64, String, bool)>,
    /// The chosen template was deleted.
    pub gone: bool,
    pub error: String,
}

/// One language's group of texts on the form.
pub struct VariantGroup {
    pub code: &'static str,
    /// "German (Deutsch)" in the admin's language.
    pub label: String,
    /// Open when anything is filled in or refused.
    pub open: bool,
    pub fields: Vec<VariantField>,
}

pub struct VariantField {
    /// `variants.de.welcome`: the form field and the refused field's name.
    pub name: String,
    /// An id without dots (`variant-de-welcome`).
    pub id: String,
    pub label: &'static str,
    pub value: String,
    pub error: String,
}

fn variant_groups(
    t: I18n,
    input: &AutomationInput,
    error_field: &str,
    error: &str,
) -> Vec<VariantGroup> {
    crate::locale::Lang::all()
        .map(|l| {
            let code = l.code();
            let texts = input.variants.get(code).cloned().unwrap_or_default();
            let own = l.s("lang.name");
            let named = t.dynamic("lang.of_", code);
            let label = if named == own || named == code {
                own.to_string()
            } else {
                format!("{named} ({own})")
            };
            let fields: Vec<VariantField> = [
                ("welcome", "adm.auto.welcome", texts.welcome),
                ("out_of_hours", "adm.auto.out_of_hours", texts.out_of_hours),
                ("busy", "adm.auto.busy", texts.busy),
                ("survey", "adm.auto.survey_text", texts.survey),
            ]
            .into_iter()
            .map(|(kind, key, value)| {
                let name = format!("variants.{code}.{kind}");
                VariantField {
                    error: if error_field == name {
                        error.to_string()
                    } else {
                        String::new()
                    },
                    id: format!("variant-{code}-{kind}"),
                    name,
                    label: t.s(key),
                    value,
                }
            })
            .collect();
            VariantGroup {
                code,
                label,
                open: fields
                    .iter()
                    .any(|f| !f.value.is_empty() || !f.error.is_empty()),
                fields,
            }
        })
        .collect()
}

impl AutomationPage {
    /// The message for `field`, if it is the one refused.
    pub fn err(&self, field: &str) -> &str {
        if self.error_field == field {
            &self.error
        } else {
            ""
        }
    }
}

/// The weekdays' names, Monday first (as `hours::DAYS`).
const DAY_LABELS: [&str; 7] = [
    "adm.auto.mon",
    "adm.auto.tue",
    "adm.auto.wed",
    "adm.auto.thu",
    "adm.auto.fri",
    "adm.auto.sat",
    "adm.auto.sun",
];

/// A domain message in the user's language; "… : the bad entry" keeps the entry as typed.
fn localized(t: I18n, message: &str) -> String {
    match message.split_once(": ") {
        Some((head, tail)) => format!("{}: {tail}", t.message(head)),
        None => t.message(message),
    }
}

fn now_line(t: I18n, a: &automation::Automation, now: i64) -> String {
    match automation::state_at(a, now) {
        None => t.s("adm.auto.always_open").to_string(),
        Some(s) if s.open => t.s("adm.auto.open_now").to_string(),
        Some(s) => match s.next {
            Some(n) => {
                let day = hours::DAYS
                    .iter()
                    .position(|d| *d == n.weekday)
                    .map_or(n.weekday, |i| t.s(DAY_LABELS[i]));
                t.s("adm.auto.closed_until")
                    .replace("{day}", &format!("{day} {}", n.date))
                    .replace("{time}", &n.time)
            }
            None => t.s("adm.auto.closed").to_string(),
        },
    }
}

async fn show(
    state: &HttpState,
    who: &Authed,
    id: ChannelId,
    typed: Option<AutomationInput>,
    error: Option<Error>,
    notice: String,
) -> Result<Response, UiError> {
    let t = I18n(who.lang);
    let now = state.now();
    let (ch, a, templates) = state
        .store
        .read(move |rtx| {
            let ch = channels::get(rtx, id)?.ok_or(Error::NotFound("channel"))?;
            let templates = crate::domain::templates::for_channel(rtx, id)?;
            Ok((ch, automation::get(rtx, id)?, templates))
        })
        .await?;
    let (error_field, error_text) = match &error {
        Some(Error::Invalid { field, message }) => (field.clone(), localized(t, message)),
        Some(e) => (String::new(), t.error(e)),
        None => (String::new(), String::new()),
    };
    let input = typed.unwrap_or_else(|| AutomationInput::from_settings(&a));
    let days = hours::DAYS
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let field = format!("hours_{d}");
            DayRow {
                error: if error_field == field {
                    error_text.clone()
                } else {
                    String::new()
                },
                field,
                label: t.s(DAY_LABELS[i]),
                value: input.days[i].clone(),
            }
        })
        .collect();
    let failed = error.is_some();
    let variants = variant_groups(t, &input, &error_field, &error_text);
    let wa = if ch.kind == channels::ChannelKind::Whatsapp {
        [
            (
                "wa_out_of_hours",
                "out_of_hours",
                "adm.auto.out_of_hours",
                input.wa_templates.out_of_hours,
            ),
            ("wa_busy", "busy", "adm.auto.busy", input.wa_templates.busy),
            (
                "wa_survey",
                "survey",
                "adm.auto.survey_text",
                input.wa_templates.survey,
            ),
        ]
        .into_iter()
        .map(|(field, name, label, chosen)| {
            let options: Vec<(u64, String, bool)> = templates
                .iter()
                .filter(|x| x.params == 0)
                .map(|x| {
                    (
                        x.id,
                        format!("{} ({})", x.name, x.language),
                        chosen == Some(x.id),
                    )
                })
                .collect();
            let refused = format!("wa_templates.{name}");
            TemplateChoice {
                field,
                label: t.s(label),
                gone: chosen.is_some() && !options.iter().any(|o| o.2) && error_field != refused,
                error: if error_field == refused {
                    error_text.clone()
                } else {
                    String::new()
                },
                options,
            }
        })
        .collect()
    } else {
        Vec::new()
    };
    let page = AutomationPage {
        chrome: Chrome::new(
            state,
            Some(who),
            who.lang,
            &format!("{} · {}", ch.name, t.s("adm.auto.title")),
            "admin",
        ),
        id,
        name: ch.name,
        input,
        days,
        error_field,
        error: error_text,
        notice,
        now_line: now_line(t, &a, now),
        variants,
        wa,
    };
    let mut r = render(&page)?;
    if failed {
        *r.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(r)
}

#[derive(Deserialize)]
struct SavedQuery {
    #[serde(default)]
    saved: Option<String>,
}

async fn page(
    State(state): State<HttpState>,
    UiAdmin(who): UiAdmin,
    Path(id): Path<ChannelId>,
    Query(q): Query<SavedQuery>,
) -> Result<Response, UiError> {
    let notice = if q.saved.is_some() {
        who.t().s("adm.saved").to_string()
    } else {
        String::new()
    };
    show(&state, &who, id, None, None, notice).await
}

#[derive(Deserialize)]
struct AutoForm {
    #[serde(default)]
    hours_enabled: Option<String>,
    #[serde(default)]
    hours_mon: String,
    #[serde(default)]
    hours_tue: String,
    #[serde(default)]
    hours_wed: String,
    #[serde(default)]
    hours_thu: String,
    #[serde(default)]
    hours_fri: String,
    #[serde(default)]
    hours_sat: String,
    #[serde(default)]
    hours_sun: String,
    #[serde(default)]
    holidays: String,
    #[serde(default)]
    welcome: String,
    #[serde(default)]
    out_of_hours: String,
    #[serde(default)]
    busy: String,
    #[serde(default)]
    busy_minutes: String,
    #[serde(default)]
    response_minutes: String,
    #[serde(default)]
    survey: String,
    /// The language variants: `variants.{code}.{kind}` fields.
    #[serde(flatten)]
    rest: std::collections::HashMap<String, String>,
}

/// A chosen template's id (empty: none). Not a number: an id no template has, so it is
/// refused at its field like an unknown one.
fn template_id(rest: &std::collections::HashMap<String, String>, field: &str) -> Option<u64> {
    let v = rest.get(field).map(|v| v.trim()).unwrap_or("");
    if v.is_empty() {
        None
    } else {
        Some(v.parse().unwrap_or(0))
    }
}

/// The language variants typed in the form (`variants.de.welcome` …). A field for a language
/// that is not shipped is passed on, so it is refused at its field like in the API.
fn variants_of(rest: std::collections::HashMap<String, String>) -> BTreeMap<String, Texts> {
    let mut out: BTreeMap<String, Texts> = BTreeMap::new();
    for (k, v) in rest {
        let Some((code, kind)) = k.strip_prefix("variants.").and_then(|r| r.split_once('.')) else {
            continue;
        };
        let t = out.entry(code.to_string()).or_default();
        match kind {
            "welcome" => t.welcome = v,
            "out_of_hours" => t.out_of_hours = v,
            "busy" => t.busy = v,
            "survey" => t.survey = v,
            _ => {}
        }
    }
    out
}

async fn save(
    State(state): State<HttpState>,
    UiAdmin(who): UiAdmin,
    Path(id): Path<ChannelId>,
    Form(f): Form<AutoForm>,
) -> Result<Response, UiError> {
    let minutes = f.busy_minutes.trim();
    let busy_minutes = if minutes.is_empty() {
        Ok(0)
    } else {
        minutes
            .parse::<u32>()
            .map_err(|_| Error::invalid("busy_minutes", automation::BAD_MINUTES))
    };
    let target = f.response_minutes.trim();
    let response_minutes = if target.is_empty() {
        Ok(0)
    } else {
        target
            .parse::<u32>()
            .map_err(|_| Error::invalid("response_minutes", automation::BAD_TARGET))
    };
    let input = AutomationInput {
        hours_enabled: f.hours_enabled.is_some(),
        days: [
            f.hours_mon,
            f.hours_tue,
            f.hours_wed,
            f.hours_thu,
            f.hours_fri,
            f.hours_sat,
            f.hours_sun,
        ],
        holidays: f.holidays,
        welcome: f.welcome,
        out_of_hours: f.out_of_hours,
        busy: f.busy,
        busy_minutes: *busy_minutes.as_ref().unwrap_or(&0),
        response_minutes: *response_minutes.as_ref().unwrap_or(&0),
        survey: f.survey,
        wa_templates: automation::WaTemplates {
            out_of_hours: template_id(&f.rest, "wa_out_of_hours"),
            busy: template_id(&f.rest, "wa_busy"),
            survey: template_id(&f.rest, "wa_survey"),
        },
        variants: variants_of(f.rest),
    };
    let result = match busy_minutes.and(response_minutes) {
        Ok(_) => automation::save(&state.store, &who.user, id, input.clone())
            .await
            .map(|_| ()),
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => {
            Ok(Redirect::to(&format!("/admin/channels/{id}/automation?saved=1")).into_response())
        }
        Err(e @ (Error::Invalid { .. } | Error::Conflict(_) | Error::Rule(_))) => {
            show(&state, &who, id, Some(input), Some(e), String::new()).await
        }
        Err(e) => Err(e.into()),
    }
}
