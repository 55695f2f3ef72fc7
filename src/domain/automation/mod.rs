//! Automation per channel: business hours ([`hours`]) and automatic replies — a welcome on a
//! new conversation, an out-of-hours reply, an "all agents busy" reply after N minutes without
//! an answer. Each goes out at most once per conversation and period, through the normal outbox
//! (reply-window rules, blocks and delivery status apply), as an outbound message without an
//! author, and leaves a timeline entry. Settings and per-conversation state live in the
//! `AUTOMATION` table (`c` + channel, `s` + session), which only this module opens.

pub mod hours;
pub mod survey;

use std::collections::BTreeMap;

use redb::ReadTransaction;
use serde::{Deserialize, Serialize};

use crate::domain::channels::{self, Channel};
use crate::domain::events::Event;
use crate::domain::messages::{self, Direction, NewOutbound, Window, outbox};
use crate::domain::sessions::{self, Session, SessionStatus, Sla, TimelineKind};
use crate::domain::users::User;
use crate::error::{Error, Result};
use crate::ids::{ChannelId, MessageId, SessionId};
use crate::locale::Lang;
use crate::store::codec::{self, k1, kcat};
use crate::store::tables::AUTOMATION;
use crate::store::{Audience, Store, WriteCtx};

pub use hours::{Hours, Next};

/// Longest automatic reply text.
pub const MAX_TEXT: usize = 1000;
/// Longest wait before the busy reply, in minutes (one day).
pub const MAX_BUSY_MINUTES: u32 = 1440;
/// Longest first-response target, in minutes (a week).
pub const MAX_RESPONSE_MINUTES: u32 = 10_080;

/// What an admin set for one channel.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct Automation {
    pub hours: Hours,
    /// Sent on a new conversation within business hours (empty: off).
    pub welcome: String,
    /// Sent when a customer writes outside business hours, once per closed period (empty: off).
    pub out_of_hours: String,
    /// Sent when a conversation waited `busy_minutes` without an answer (empty: off).
    pub busy: String,
    pub busy_minutes: u32,
    /// First-response target in minutes of business hours (0: none).
    pub response_minutes: u32,
    /// The satisfaction question sent when a conversation ends (empty: no survey).
    pub survey: String,
    /// The texts in other languages, by language code (`"de"`): a contact whose language is
    /// known gets its variant of a text, else the default above. Only shipped languages
    /// (`locales/*.txt`), only those with at least one text.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub variants: BTreeMap<String, Texts>,
    /// WhatsApp: the registered template (id) sent instead of a reply when the 24-hour window
    /// is closed (none: skipped with a timeline note).
    #[serde(skip_serializing_if = "WaTemplates::is_none")]
    pub wa_templates: WaTemplates,
}

/// Per automatic reply, the WhatsApp template sent outside the 24-hour window.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct WaTemplates {
    pub out_of_hours: Option<u64>,
    pub busy: Option<u64>,
    pub survey: Option<u64>,
}

impl WaTemplates {
    fn is_none(&self) -> bool {
        self == &WaTemplates::default()
    }
    pub fn for_kind(&self, kind: TextKind) -> Option<u64> {
        match kind {
            TextKind::Welcome => None,
            TextKind::OutOfHours => self.out_of_hours,
            TextKind::Busy => self.busy,
            TextKind::Survey => self.survey,
        }
    }
}

/// Sending a reply's chosen template outside the window.
pub(crate) enum TemplateSend {
    /// None chosen (or not WhatsApp, or the window allows nothing at all).
    NoneChosen,
    /// The chosen template was deleted.
    Gone,
    /// Queued through the outbox.
    Sent,
    /// The outbox refused it (a rule or conflict).
    Refused,
}

/// Outside the reply window: send the template chosen for `kind` through the normal outbox.
pub(crate) fn send_template_in(
    ctx: &mut WriteCtx<'_>,
    ch: &Channel,
    session_id: SessionId,
    a: &Automation,
    kind: TextKind,
    window: Window,
) -> Result<TemplateSend> {
    if window != Window::TemplateOnly || ch.kind != channels::ChannelKind::Whatsapp {
        return Ok(TemplateSend::NoneChosen);
    }
    let Some(id) = a.wa_templates.for_kind(kind) else {
        return Ok(TemplateSend::NoneChosen);
    };
    let Some(t) = crate::domain::templates::get_in(ctx, id)?
        .filter(|t| t.channel_id.is_none_or(|c| c == ch.id))
    else {
        return Ok(TemplateSend::Gone);
    };
    let out = NewOutbound {
        template: Some(crate::domain::messages::TemplateRef {
            name: t.name,
            language: t.language,
            params: Vec::new(),
        }),
        ..Default::default()
    };
    match outbox::enqueue_by_in(ctx, ch, session_id, None, &out, Vec::new(), String::new()) {
        Ok(_) => Ok(TemplateSend::Sent),
        Err(Error::Rule(_) | Error::Conflict(_) | Error::Invalid { .. }) => {
            Ok(TemplateSend::Refused)
        }
        Err(e) => Err(e),
    }
}

/// The chosen templates must be registered for this WhatsApp channel and take no parameters
/// (an automatic reply has nothing to fill them with).
fn check_templates_in(ctx: &WriteCtx<'_>, ch: &Channel, w: &WaTemplates) -> Result<()> {
    for kind in TextKind::ALL {
        let Some(id) = w.for_kind(kind) else {
            continue;
        };
        let field = format!("wa_templates.{}", kind.as_str());
        if ch.kind != channels::ChannelKind::Whatsapp {
            return Err(Error::invalid(field, "templates are for WhatsApp channels"));
        }
        let Some(t) = crate::domain::templates::get_in(ctx, id)?
            .filter(|t| t.channel_id.is_none_or(|c| c == ch.id))
        else {
            return Err(Error::invalid(
                field,
                format!("there is no template {id} for this channel"),
            ));
        };
        if t.params > 0 {
            return Err(Error::invalid(field, TEMPLATE_PARAMS));
        }
    }
    Ok(())
}

pub const TEMPLATE_PARAMS: &str =
    "Choose a template without parameters; an automatic reply has nothing to fill them with";

/// One language's variant of the automatic texts (each empty: the default text is used).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct Texts {
    pub welcome: String,
    pub out_of_hours: String,
    pub busy: String,
    pub survey: String,
}

impl Texts {
    fn is_empty(&self) -> bool {
        self == &Texts::default()
    }
    fn get(&self, kind: TextKind) -> &str {
        match kind {
            TextKind::Welcome => &self.welcome,
            TextKind::OutOfHours => &self.out_of_hours,
            TextKind::Busy => &self.busy,
            TextKind::Survey => &self.survey,
        }
    }
}

/// Which automatic text (its name is the timeline detail and the settings field).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextKind {
    Welcome,
    OutOfHours,
    Busy,
    Survey,
}

impl TextKind {
    pub const ALL: [TextKind; 4] = [
        TextKind::Welcome,
        TextKind::OutOfHours,
        TextKind::Busy,
        TextKind::Survey,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            TextKind::Welcome => "welcome",
            TextKind::OutOfHours => "out_of_hours",
            TextKind::Busy => "busy",
            TextKind::Survey => "survey",
        }
    }
}

impl Automation {
    /// The default (no language) text of `kind`.
    fn default_text(&self, kind: TextKind) -> &str {
        match kind {
            TextKind::Welcome => &self.welcome,
            TextKind::OutOfHours => &self.out_of_hours,
            TextKind::Busy => &self.busy,
            TextKind::Survey => &self.survey,
        }
    }
    /// The text of `kind` for a contact whose language is `lang` (if known): that language's
    /// variant when it has one, else the default.
    pub fn text_for(&self, kind: TextKind, lang: Option<&str>) -> &str {
        lang.and_then(|l| self.variants.get(l))
            .map(|v| v.get(kind))
            .filter(|t| !t.is_empty())
            .unwrap_or_else(|| self.default_text(kind))
    }
}

/// The language an automatic reply to this conversation's customer is written in: the
/// contact's (or, merged, the surviving contact's) language, if known.
pub(crate) fn contact_lang_in(ctx: &WriteCtx<'_>, s: &Session) -> Result<Option<String>> {
    let Ok(c) = crate::domain::contacts::get_in(ctx, s.contact_id) else {
        return Ok(None);
    };
    if c.language.is_some() {
        return Ok(c.language);
    }
    Ok(crate::domain::contacts::root_in(ctx, &c)
        .ok()
        .and_then(|r| r.language))
}

/// The settings as the form and the API take them: each weekday as text
/// (`08:00-12:00, 13:00-17:00`, empty = closed), holidays one a line.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(default)]
pub struct AutomationInput {
    pub hours_enabled: bool,
    /// Monday … Sunday: exactly seven.
    #[schema(min_items = 7, max_items = 7)]
    pub days: [String; 7],
    pub holidays: String,
    pub welcome: String,
    pub out_of_hours: String,
    pub busy: String,
    pub busy_minutes: u32,
    /// First-response target in minutes of business hours (0: none).
    pub response_minutes: u32,
    /// The satisfaction question sent when a conversation ends (empty: no survey).
    pub survey: String,
    /// The texts in other languages by language code (`"de"`); only the languages Switchboard
    /// ships. Read back with every shipped language listed.
    pub variants: BTreeMap<String, Texts>,
    /// WhatsApp: template ids sent outside the 24-hour window (null: skipped).
    pub wa_templates: WaTemplates,
}

impl AutomationInput {
    pub fn from_settings(a: &Automation) -> Self {
        Self {
            hours_enabled: a.hours.enabled,
            days: std::array::from_fn(|i| hours::day_text(&a.hours.week[i])),
            holidays: a.hours.holidays.join("\n"),
            welcome: a.welcome.clone(),
            out_of_hours: a.out_of_hours.clone(),
            busy: a.busy.clone(),
            busy_minutes: a.busy_minutes,
            response_minutes: a.response_minutes,
            survey: a.survey.clone(),
            variants: Lang::all()
                .map(|l| {
                    let code = l.code().to_string();
                    let t = a.variants.get(&code).cloned().unwrap_or_default();
                    (code, t)
                })
                .collect(),
            wa_templates: a.wa_templates,
        }
    }

    /// Checked settings, or the first problem with the field it belongs to.
    pub fn parse(&self) -> Result<Automation> {
        let mut week: [Vec<hours::Span>; 7] = Default::default();
        for (i, day) in hours::DAYS.iter().enumerate() {
            week[i] = hours::parse_day(&format!("hours_{day}"), &self.days[i])?;
        }
        let h = Hours {
            enabled: self.hours_enabled,
            week,
            holidays: hours::parse_holidays(&self.holidays)?,
        };
        h.check()?;
        let text = |field: &str, t: &str| -> Result<String> {
            let t = t.trim().to_string();
            if t.chars().count() > MAX_TEXT {
                return Err(Error::invalid(field, TEXT_TOO_LONG));
            }
            Ok(t)
        };
        let busy = text("busy", &self.busy)?;
        if !busy.is_empty() && !(1..=MAX_BUSY_MINUTES).contains(&self.busy_minutes) {
            return Err(Error::invalid("busy_minutes", BAD_MINUTES));
        }
        if self.response_minutes > MAX_RESPONSE_MINUTES {
            return Err(Error::invalid("response_minutes", BAD_TARGET));
        }
        let mut a = Automation {
            response_minutes: self.response_minutes,
            hours: h,
            welcome: text("welcome", &self.welcome)?,
            out_of_hours: text("out_of_hours", &self.out_of_hours)?,
            busy,
            busy_minutes: self.busy_minutes,
            survey: text("survey", &self.survey)?,
            variants: BTreeMap::new(),
            wa_templates: self.wa_templates,
        };
        for (code, v) in &self.variants {
            Lang::shipped("variants", code)?;
            let field = |name: &str| format!("variants.{code}.{name}");
            let t = Texts {
                welcome: text(&field("welcome"), &v.welcome)?,
                out_of_hours: text(&field("out_of_hours"), &v.out_of_hours)?,
                busy: text(&field("busy"), &v.busy)?,
                survey: text(&field("survey"), &v.survey)?,
            };
            // A variant replaces a text that is on; it does not switch a reply on by itself.
            for kind in TextKind::ALL {
                if !t.get(kind).is_empty() && a.default_text(kind).is_empty() {
                    return Err(Error::invalid(field(kind.as_str()), NO_DEFAULT));
                }
            }
            if !t.is_empty() {
                a.variants.insert(code.clone(), t);
            }
        }
        Ok(a)
    }
}

pub const NO_DEFAULT: &str =
    "Write the default text first; a language's text replaces it for customers of that language";
pub const TEXT_TOO_LONG: &str = "An automatic reply may have at most 1000 characters";
pub const BAD_TARGET: &str = "Give the response target in minutes, 0 (none) to 10080";
pub const BAD_MINUTES: &str = "Give the minutes before the busy reply, 1 to 1440";

/// What a conversation has had from automation.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
struct SessionAuto {
    welcome: bool,
    /// The out-of-hours reply went out for the closed period ending at this opening.
    ooh_until: Option<i64>,
    /// Since when the customer waits for an answer (None: answered).
    waiting_since: Option<i64>,
    busy_sent: bool,
    /// The satisfaction survey was asked (or skipped) for this conversation: never again.
    survey: bool,
}

fn channel_key(id: ChannelId) -> Vec<u8> {
    kcat(b"c", &k1(id))
}
fn session_key(id: SessionId) -> Vec<u8> {
    kcat(b"s", &k1(id))
}

/// The channel's settings (defaults: everything off).
pub fn get(rtx: &ReadTransaction, channel_id: ChannelId) -> Result<Automation> {
    Ok(codec::get(&rtx.open_table(AUTOMATION)?, &channel_key(channel_id))?.unwrap_or_default())
}

pub(crate) fn get_in(ctx: &WriteCtx<'_>, channel_id: ChannelId) -> Result<Automation> {
    Ok(codec::get(&ctx.txn.open_table(AUTOMATION)?, &channel_key(channel_id))?.unwrap_or_default())
}

fn state_in(ctx: &WriteCtx<'_>, id: SessionId) -> Result<SessionAuto> {
    Ok(codec::get(&ctx.txn.open_table(AUTOMATION)?, &session_key(id))?.unwrap_or_default())
}

fn put_state_in(ctx: &WriteCtx<'_>, id: SessionId, st: &SessionAuto) -> Result<()> {
    codec::put(&mut ctx.txn.open_table(AUTOMATION)?, &session_key(id), st)
}

/// An admin saves a channel's automation (checked first; nothing stored when refused).
pub async fn save(
    store: &Store,
    actor: &User,
    channel_id: ChannelId,
    input: AutomationInput,
) -> Result<Automation> {
    if !actor.is_admin() {
        return Err(Error::Forbidden(
            "only administrators change channels".into(),
        ));
    }
    let a = input.parse()?;
    let actor_id = actor.id;
    store
        .write(move |ctx| {
            let ch = channels::get_in(ctx, channel_id)?;
            check_templates_in(ctx, &ch, &a.wa_templates)?;
            let mut t = ctx.txn.open_table(AUTOMATION)?;
            // Nothing switched on is no entry: every customer message looks for one.
            if a == Automation::default() {
                t.remove(channel_key(channel_id).as_slice())?;
            } else {
                codec::put(&mut t, &channel_key(channel_id), &a)?;
            }
            drop(t);
            crate::domain::audit::record(
                ctx,
                Some(actor_id),
                "channel.automation",
                format!("channel:{channel_id}"),
                ch.name.clone(),
            )?;
            Ok(a.clone())
        })
        .await
}

/// For the widget and the inbox: is the channel open now, and when does it open next.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct HoursState {
    pub open: bool,
    pub next: Option<Next>,
}

pub fn state_at(a: &Automation, now: i64) -> Option<HoursState> {
    if !a.hours.enabled {
        return None;
    }
    let open = a.hours.is_open(now);
    Some(HoursState {
        open,
        next: if open { None } else { a.hours.next_open(now) },
    })
}

/// Whether the last message before this one was an agent's answer.
fn answered_in(ctx: &WriteCtx<'_>, s: &Session) -> Result<bool> {
    if s.last_message_id == MessageId(0) {
        return Ok(false);
    }
    Ok(messages::get_in(ctx, s.last_message_id)
        .map(|m| m.direction == Direction::Out && m.author.is_some())
        .unwrap_or(false))
}

/// A customer message was stored (`before` is the session as it was before it): the welcome
/// or the out-of-hours reply when due, and the waiting clock for the busy reply.
pub fn on_inbound_in(
    ctx: &mut WriteCtx<'_>,
    ch: &Channel,
    before: &Session,
    new_session: bool,
) -> Result<()> {
    // On every customer message: a channel without automation costs one lookup.
    let Some(a) = codec::get::<Automation>(&ctx.txn.open_table(AUTOMATION)?, &channel_key(ch.id))?
    else {
        return Ok(());
    };
    if a == Automation::default() {
        return Ok(());
    }
    let id = before.id;
    let mut st = state_in(ctx, id)?;
    if new_session || st.waiting_since.is_none() || answered_in(ctx, before)? {
        st.waiting_since = Some(ctx.now);
        st.busy_sent = false;
    }
    let open = a.hours.is_open(ctx.now);
    if !open && !a.out_of_hours.is_empty() {
        let until = a.hours.next_open(ctx.now).map_or(i64::MAX, |n| n.at);
        if st.ooh_until != Some(until) {
            st.ooh_until = Some(until);
            send_in(ctx, ch, id, TextKind::OutOfHours, &a)?;
        }
    } else if open && new_session && !st.welcome && !a.welcome.is_empty() {
        st.welcome = true;
        send_in(ctx, ch, id, TextKind::Welcome, &a)?;
    }
    if new_session {
        st.welcome = true;
        if a.response_minutes > 0 {
            let before = sessions::get_in(ctx, id)?;
            let due_at = a.hours.add_open(ctx.now, a.response_minutes);
            let warn_at = due_at - (due_at - ctx.now) / 4;
            let mut s = before.clone();
            s.sla = Some(Sla {
                warn_at,
                due_at,
                breached: false,
            });
            sessions::save_in(ctx, Some(&before), &s)?;
        }
    }
    put_state_in(ctx, id, &st)
}

/// Of `waiting` (open, with a target not yet met or missed: found by the sweep's read), mark
/// those whose target has now passed (once each) and tell the channel's agents. The writer is
/// held for these few, not for a walk over every open conversation.
async fn breaches(store: &Store, waiting: Vec<SessionId>) -> Result<usize> {
    if waiting.is_empty() {
        return Ok(0);
    }
    store
        .write(move |ctx| {
            let mut n = 0;
            for &sid in &waiting {
                let before = sessions::get_in(ctx, sid)?;
                if before.status != SessionStatus::Open {
                    continue;
                }
                let Some(sla) = before.sla else { continue };
                if sla.breached || before.first_response_at.is_some() || ctx.now < sla.due_at {
                    continue;
                }
                let mut s = before.clone();
                s.sla = Some(Sla {
                    breached: true,
                    ..sla
                });
                sessions::save_in(ctx, Some(&before), &s)?;
                sessions::timeline_in(ctx, sid, None, TimelineKind::SlaBreached, "")?;
                ctx.emit(
                    Audience::Channel {
                        channel_id: s.channel_id,
                    },
                    &Event::SessionSlaBreached {
                        session_id: sid,
                        channel_id: s.channel_id,
                        due_at: sla.due_at,
                    },
                )?;
                n += 1;
            }
            Ok(n)
        })
        .await
}

/// Queue one automatic reply through the outbox (in the customer's language when known), or
/// skip it with a timeline note when the reply window does not allow free text now.
fn send_in(
    ctx: &mut WriteCtx<'_>,
    ch: &Channel,
    session_id: SessionId,
    kind: TextKind,
    a: &Automation,
) -> Result<()> {
    let note = |ctx: &mut WriteCtx<'_>, tl: TimelineKind, detail: &str| {
        sessions::timeline_in(ctx, session_id, None, tl, detail)
    };
    let before = sessions::get_in(ctx, session_id)?;
    if before.status == SessionStatus::Closed {
        return note(ctx, TimelineKind::AutoReplySkipped, kind.as_str());
    }
    let window = messages::window::reply_window(ch.kind, &before, ctx.now);
    if window != Window::Open {
        // WhatsApp after 24 h: the template chosen for this reply, if any.
        return match send_template_in(ctx, ch, session_id, a, kind, window)? {
            TemplateSend::Sent => note(ctx, TimelineKind::AutoReply, kind.as_str()),
            TemplateSend::Gone => note(
                ctx,
                TimelineKind::AutoReplySkipped,
                &format!("{}.template_gone", kind.as_str()),
            ),
            TemplateSend::NoneChosen | TemplateSend::Refused => {
                note(ctx, TimelineKind::AutoReplySkipped, kind.as_str())
            }
        };
    }
    let lang = contact_lang_in(ctx, &before)?;
    let text = outbox::check_text(ch.kind, a.text_for(kind, lang.as_deref()), MAX_TEXT)?;
    let out = NewOutbound {
        text: text.clone(),
        ..Default::default()
    };
    // Sent by Switchboard itself (no author): nobody becomes the owner. What the outbox
    // refuses for a person (an SMS customer who opted out) is skipped here, not an error
    // that would undo the customer's message that triggered it.
    let done = match outbox::enqueue_by_in(ctx, ch, session_id, None, &out, Vec::new(), text) {
        Ok(_) => TimelineKind::AutoReply,
        Err(Error::Rule(_) | Error::Conflict(_)) => TimelineKind::AutoReplySkipped,
        Err(e) => return Err(e),
    };
    note(ctx, done, kind.as_str())
}

/// What one sweep did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Swept {
    pub busy: usize,
    pub woken: usize,
    pub breached: usize,
}

/// The busy replies that are due, and snoozed conversations whose time has come.
pub async fn sweep(store: &Store) -> Result<Swept> {
    let woken = sessions::wake_due(store).await?;
    let (due, waiting): (Vec<(ChannelId, SessionId)>, Vec<SessionId>) = store
        .read(|rtx| {
            let mut out = Vec::new();
            let mut waiting = Vec::new();
            let mut cfgs = std::collections::HashMap::new();
            for sid in sessions::open_ids(rtx)? {
                let Some(s) = sessions::get(rtx, sid)? else {
                    continue;
                };
                if s.sla.is_some_and(|t| !t.breached) && s.first_response_at.is_none() {
                    waiting.push(sid);
                }
                let a = match cfgs.get(&s.channel_id) {
                    Some(a) => a,
                    None => cfgs.entry(s.channel_id).or_insert(get(rtx, s.channel_id)?),
                };
                if a.busy.is_empty() {
                    continue;
                }
                let st: SessionAuto = codec::get(&rtx.open_table(AUTOMATION)?, &session_key(sid))?
                    .unwrap_or_default();
                if st.waiting_since.is_some() && !st.busy_sent {
                    out.push((s.channel_id, sid));
                }
            }
            Ok((out, waiting))
        })
        .await?;
    let mut busy = 0;
    for (cid, sid) in due {
        let sent = store
            .write(move |ctx| {
                let Ok(ch) = channels::get_in(ctx, cid) else {
                    return Ok(false);
                };
                let a = get_in(ctx, cid)?;
                let mut st = state_in(ctx, sid)?;
                let s = sessions::get_in(ctx, sid)?;
                let Some(since) = st.waiting_since else {
                    return Ok(false);
                };
                if a.busy.is_empty() || st.busy_sent || s.status != SessionStatus::Open {
                    return Ok(false);
                }
                if answered_in(ctx, &s)? {
                    st.waiting_since = None;
                    put_state_in(ctx, sid, &st)?;
                    return Ok(false);
                }
                let due = since + i64::from(a.busy_minutes) * 60_000;
                if ctx.now < due || !a.hours.is_open(ctx.now) {
                    return Ok(false);
                }
                st.busy_sent = true;
                put_state_in(ctx, sid, &st)?;
                send_in(ctx, &ch, sid, TextKind::Busy, &a)?;
                Ok(true)
            })
            .await?;
        busy += usize::from(sent);
    }
    let breached = breaches(store, waiting).await?;
    Ok(Swept {
        busy,
        woken,
        breached,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_known_language_gets_its_variant_else_the_default() {
        let mut a = Automation {
            welcome: "Welcome".into(),
            busy: "Busy".into(),
            ..Default::default()
        };
        a.variants.insert(
            "de".into(),
            Texts {
                welcome: "Willkommen".into(),
                ..Default::default()
            },
        );
        assert_eq!(a.text_for(TextKind::Welcome, Some("de")), "Willkommen");
        assert_eq!(a.text_for(TextKind::Welcome, Some("en")), "Welcome");
        assert_eq!(a.text_for(TextKind::Welcome, None), "Welcome");
        // German has no busy text: the default.
        assert_eq!(a.text_for(TextKind::Busy, Some("de")), "Busy");
        assert_eq!(a.text_for(TextKind::Survey, Some("de")), "");
    }

    #[test]
    fn variants_of_unshipped_languages_or_without_a_default_are_refused() {
        let mut input = AutomationInput {
            welcome: "Welcome".into(),
            ..Default::default()
        };
        input.variants.insert(
            "de".into(),
            Texts {
                welcome: " Willkommen ".into(),
                ..Default::default()
            },
        );
        // An empty group is not stored.
        input.variants.insert("en".into(), Texts::default());
        let a = input.parse().map_err(|e| e.to_string());
        assert_eq!(
            a.as_ref()
                .map(|a| a.variants.keys().cloned().collect::<Vec<_>>()),
            Ok(vec!["de".to_string()])
        );
        assert_eq!(
            a.map(|a| a.variants["de"].welcome.clone()),
            Ok("Willkommen".to_string())
        );
        let mut bad = input.clone();
        bad.variants.insert(
            "xx".into(),
            Texts {
                welcome: "?".into(),
                ..Default::default()
            },
        );
        assert!(matches!(bad.parse(), Err(Error::Invalid { field, .. }) if field == "variants"));
        let mut bad = input.clone();
        bad.variants.insert(
            "de".into(),
            Texts {
                busy: "Beschäftigt".into(),
                ..Default::default()
            },
        );
        assert!(
            matches!(bad.parse(), Err(Error::Invalid { field, .. }) if field == "variants.de.busy")
        );
    }
}
