//! Missed call → message follow-up: when the PBX reports an inbound call that was not answered
//! (missed, busy or voicemail), optionally only for calls to configured numbers or queues,
//! Switchboard opens a conversation with the caller on the channel an admin chose — free text
//! over SMS, or a chosen WhatsApp template — tags it "missed call" and leaves it in the queue.
//! Never to a blocked contact (the only opt-out Switchboard knows), at most once per caller
//! (normalised number) per cooldown.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::calls_log::{self, CallEntry, Logged};
use super::channels::{self, ChannelKind};
use super::messages::TemplateRef;
use super::messages::outbox::{self, NewOutbound};
use super::sessions::{self, TimelineKind};
use super::{audit, contacts, settings};
use crate::error::{Error, Result};
use crate::ids::{ChannelId, SessionId, UserId};
use crate::pbx::link::{Direction, Disposition};
use crate::store::{Store, WriteCtx};

const KEY: &[u8] = b"pbx_followup";
const SENT_KEY: &[u8] = b"pbx_followup_sent";
/// The tag the follow-up's conversation carries.
pub const TAG: &str = "missed call";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FollowUp {
    pub enabled: bool,
    /// An SMS or WhatsApp channel.
    pub channel_id: Option<ChannelId>,
    /// The SMS text.
    #[serde(default)]
    pub text: String,
    /// The WhatsApp template (name and language; no parameters).
    #[serde(default)]
    pub template: String,
    #[serde(default = "default_language")]
    pub language: String,
    /// At most one follow-up per caller in this many hours.
    #[serde(default = "default_cooldown")]
    pub cooldown_hours: u32,
    /// Only calls to these numbers or queue extensions (comma-separated); empty: every call.
    #[serde(default)]
    pub numbers: String,
}

fn default_language() -> String {
    "en_US".into()
}
fn default_cooldown() -> u32 {
    24
}

impl Default for FollowUp {
    fn default() -> Self {
        Self {
            enabled: false,
            channel_id: None,
            text: String::new(),
            template: String::new(),
            language: default_language(),
            cooldown_hours: default_cooldown(),
            numbers: String::new(),
        }
    }
}

pub fn get(rtx: &redb::ReadTransaction) -> Result<FollowUp> {
    Ok(settings::get(rtx, KEY)?.unwrap_or_default())
}

/// An administrator sets the follow-up (callers check the role).
pub async fn set(store: &Store, actor: UserId, input: FollowUp) -> Result<FollowUp> {
    store
        .write(move |ctx| {
            let mut f = input.clone();
            f.text = f.text.trim().to_string();
            f.template = f.template.trim().to_string();
            f.language = f.language.trim().to_string();
            f.numbers = f.numbers.trim().to_string();
            if f.cooldown_hours == 0 || f.cooldown_hours > 24 * 365 {
                return Err(Error::invalid("cooldown_hours", "must be 1 to 8760"));
            }
            if f.enabled {
                let Some(cid) = f.channel_id else {
                    return Err(Error::invalid(
                        "channel_id",
                        "choose an SMS or WhatsApp channel",
                    ));
                };
                let ch = channels::get_in(ctx, cid)
                    .map_err(|_| Error::invalid("channel_id", "no such channel"))?;
                match ch.kind {
                    ChannelKind::Sms if f.text.is_empty() => {
                        return Err(Error::invalid("text", "is required for an SMS follow-up"));
                    }
                    ChannelKind::Sms => {
                        outbox::check_text(ChannelKind::Sms, &f.text, outbox::SMS_MAX_CHARS)?;
                    }
                    ChannelKind::Whatsapp if f.template.is_empty() => {
                        return Err(Error::invalid(
                            "template",
                            "WhatsApp follow-ups need an approved template",
                        ));
                    }
                    ChannelKind::Whatsapp => {}
                    _ => {
                        return Err(Error::invalid(
                            "channel_id",
                            "follow-ups go out by SMS or WhatsApp",
                        ));
                    }
                }
            }
            settings::put_in(ctx, KEY, &f)?;
            audit::record(
                ctx,
                Some(actor),
                "pbx.followup",
                "pbx",
                format!(
                    "{} via channel {:?}",
                    if f.enabled { "on" } else { "off" },
                    f.channel_id
                ),
            )?;
            Ok(f)
        })
        .await
}

/// Whether the call `e` asks for a follow-up under `f`.
fn wanted(f: &FollowUp, e: &CallEntry, called: &str) -> bool {
    f.enabled
        && e.direction == Direction::Inbound
        && matches!(
            e.disposition,
            Disposition::Missed | Disposition::Busy | Disposition::Voicemail
        )
        && (f.numbers.is_empty()
            || f.numbers
                .split([',', ' ', ';'])
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .any(|n| n == called.trim() || n == e.extension))
}

/// The number to write to in international form: a known contact's, else the caller's own
/// when it is international (`+…` or `00…`); None for a national number nobody knows.
fn international(caller: &str, logged: &[Logged]) -> Option<String> {
    if let Some(l) = logged.first() {
        let a = l.contact.address.trim_start_matches('+');
        return Some(format!("+{a}"));
    }
    let c = caller.trim();
    let digits: String = c.chars().filter(char::is_ascii_digit).collect();
    if c.starts_with('+') {
        Some(format!("+{digits}"))
    } else {
        digits.strip_prefix("00").map(|d| format!("+{d}"))
    }
}

/// What happened to one missed call.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    NotWanted,
    Sent(SessionId),
    /// Already followed up within the cooldown.
    Cooldown,
    Blocked,
    /// Could not be sent (why).
    Skipped(String),
}

/// Follows up a missed call (`called`: the number or queue the caller dialled).
pub async fn on_missed_call(
    store: &Store,
    kick: &super::delivery::Kick,
    entry: &CallEntry,
    called: &str,
    logged: &[Logged],
) -> Result<Outcome> {
    let f = store.read(get).await?;
    if !wanted(&f, entry, called) {
        return Ok(Outcome::NotWanted);
    }
    let Some(to) = international(&entry.number, logged) else {
        return Ok(Outcome::Skipped(format!(
            "{} is not in international format and no contact has it",
            entry.number
        )));
    };
    let Some(key) = calls_log::normalise(&to) else {
        return Ok(Outcome::Skipped(format!("{to} is not a phone number")));
    };
    let out = store.write(move |ctx| send_in(ctx, &f, &to, &key)).await?;
    if matches!(out, Outcome::Sent(_)) {
        kick.kick();
    }
    Ok(out)
}

fn send_in(ctx: &mut WriteCtx<'_>, f: &FollowUp, to: &str, key: &str) -> Result<Outcome> {
    let Some(cid) = f.channel_id else {
        return Ok(Outcome::NotWanted);
    };
    let Ok(ch) = channels::get_in(ctx, cid) else {
        return Ok(Outcome::Skipped("the follow-up channel was deleted".into()));
    };
    let mut sent: HashMap<String, i64> = settings::get_in(ctx, SENT_KEY)?.unwrap_or_default();
    let cooldown_ms = i64::from(f.cooldown_hours) * 3_600_000;
    let now = ctx.now;
    sent.retain(|_, at| now - *at < cooldown_ms);
    // National and international spellings of one caller share the cooldown.
    if sent.keys().any(|k| calls_log::same_number(k, key)) {
        return Ok(Outcome::Cooldown);
    }
    let address = outbox::normalize_address(ch.kind, to)?;
    let (contact, _) = contacts::upsert_in(ctx, ch.id, &address, None)?;
    if contacts::blocked_in(ctx, &contact)? {
        return Ok(Outcome::Blocked);
    }
    let (session, new_session) = sessions::open_for_contact_in(ctx, ch.id, ch.kind, &contact)?;
    let msg = match ch.kind {
        ChannelKind::Whatsapp => NewOutbound {
            text: String::new(),
            attachment_ids: Vec::new(),
            template: Some(TemplateRef {
                name: f.template.clone(),
                language: f.language.clone(),
                params: Vec::new(),
            }),
            ..Default::default()
        },
        _ => NewOutbound {
            text: f.text.clone(),
            attachment_ids: Vec::new(),
            template: None,
            ..Default::default()
        },
    };
    if new_session {
        sessions::timeline_in(ctx, session.id, None, TimelineKind::Started, &address)?;
    }
    let text = msg.text.clone();
    outbox::enqueue_by_in(ctx, &ch, session.id, None, &msg, Vec::new(), text)?;
    let before = sessions::get_in(ctx, session.id)?;
    if !before.tags.iter().any(|t| t == TAG) {
        let mut s = before.clone();
        s.tags.push(TAG.to_string());
        sessions::save_in(ctx, Some(&before), &s)?;
        sessions::timeline_in(ctx, s.id, None, TimelineKind::Tagged, TAG)?;
    }
    sent.insert(key.to_string(), now);
    settings::put_in(ctx, SENT_KEY, &sent)?;
    Ok(Outcome::Sent(session.id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_unanswered_inbound_calls_to_the_chosen_numbers() {
        let mut f = FollowUp {
            enabled: true,
            ..Default::default()
        };
        let mut e = CallEntry {
            direction: Direction::Inbound,
            number: "+4917612345678".into(),
            extension: "201".into(),
            disposition: Disposition::Missed,
            duration_s: 20,
            talk_s: 0,
            call_id: "1".into(),
        };
        assert!(wanted(&f, &e, "600"));
        f.numbers = "600, 601".into();
        assert!(wanted(&f, &e, "600"));
        assert!(!wanted(&f, &e, "700"));
        e.disposition = Disposition::Answered;
        assert!(!wanted(&f, &e, "600"));
        e.disposition = Disposition::Voicemail;
        e.direction = Direction::Outbound;
        assert!(!wanted(&f, &e, "600"));
        assert_eq!(
            international("004930123456", &[]),
            Some("+4930123456".into())
        );
        assert_eq!(international("030123456", &[]), None);
    }
}
