//! The customer-satisfaction survey (docs/automation.md): when a conversation ends, one
//! question "1–5" goes out through the outbox as an automatic message, once per conversation.
//! The answer arrives as the customer's next message (a digit) or, in the website chat, from
//! the widget's buttons. A valid answer lands on the session record (`rating`) exactly once;
//! anything else gets one polite re-ask (the question again), then the survey gives up.
//!
//! While an answer is awaited the contact has an entry `v` + contact in `AUTOMATION`
//! (which session asked, when, whether it re-asked), so the intake finds it with one lookup.

use serde::{Deserialize, Serialize};

use super::{get_in, put_state_in, state_in};
use crate::clock::DAY_MS;
use crate::domain::channels::{self, Channel};
use crate::domain::messages::{NewOutbound, Window, outbox, window};
use crate::domain::sessions::{self, Session, SessionStatus, TimelineKind};
use crate::error::{Error, Result};
use crate::ids::{ContactId, SessionId};
use crate::locale::Phrase;
use crate::store::WriteCtx;
use crate::store::codec::{self, k1, kcat};
use crate::store::tables::AUTOMATION;

/// How long after the question an answer still counts (then the next message is a normal one).
pub const ANSWER_WITHIN_MS: i64 = DAY_MS;

/// The refusal when a score is not 1–5.
pub const BAD_SCORE: &str = "give a whole number from 1 to 5";

/// A survey waiting for the customer's answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Pending {
    session_id: SessionId,
    asked_at: i64,
    #[serde(default)]
    reasked: bool,
}

fn pending_key(id: ContactId) -> Vec<u8> {
    kcat(b"v", &k1(id))
}

fn pending_in(ctx: &WriteCtx<'_>, contact: ContactId) -> Result<Option<Pending>> {
    codec::get(&ctx.txn.open_table(AUTOMATION)?, &pending_key(contact))
}

/// The survey waiting for `contact`'s answer; one that can no longer be answered (expired,
/// the conversation reopened or already rated) is forgotten.
fn live_pending_in(ctx: &WriteCtx<'_>, contact: ContactId) -> Result<Option<Pending>> {
    let Some(p) = pending_in(ctx, contact)? else {
        return Ok(None);
    };
    let live = sessions::get_in(ctx, p.session_id).is_ok_and(|s| {
        s.status == SessionStatus::Closed
            && s.rating.is_none()
            && ctx.now - p.asked_at <= ANSWER_WITHIN_MS
    });
    if !live {
        clear_in(ctx, contact)?;
        return Ok(None);
    }
    Ok(Some(p))
}

fn clear_in(ctx: &WriteCtx<'_>, contact: ContactId) -> Result<()> {
    ctx.txn
        .open_table(AUTOMATION)?
        .remove(pending_key(contact).as_slice())?;
    Ok(())
}

/// Prefix of the survey's choice ids (`csat:1` … `csat:5`).
pub const CHOICE_PREFIX: &str = "csat:";

/// The survey's five choices (WhatsApp list / reply, the widget's buttons).
pub fn choices() -> crate::channels::Interactive {
    crate::channels::Interactive {
        button: "1–5".into(),
        options: (1..=5)
            .map(|n| crate::channels::Choice {
                id: format!("{CHOICE_PREFIX}{n}"),
                title: n.to_string(),
            })
            .collect(),
    }
}

/// A score from a choice id (`csat:4`) or the customer's text: exactly one digit 1–5 (spaces
/// and a trailing full stop allowed).
pub fn parse_score(text: &str, choice: Option<&str>) -> Option<u8> {
    let t = match choice {
        Some(c) => c.strip_prefix(CHOICE_PREFIX)?,
        None => text.trim().trim_end_matches(['.', '!']).trim(),
    };
    match t {
        "1" | "2" | "3" | "4" | "5" => t.parse().ok(),
        _ => None,
    }
}

/// Conversation `s` (still open) is about to end: ask the channel's question when the survey
/// is on, the customer wrote in it, and it was not asked before.
pub fn on_close_in(ctx: &mut WriteCtx<'_>, s: &Session) -> Result<()> {
    let a = get_in(ctx, s.channel_id)?;
    if a.survey.is_empty() || s.last_inbound.is_none() {
        return Ok(());
    }
    let mut st = state_in(ctx, s.id)?;
    if st.survey {
        return Ok(());
    }
    st.survey = true;
    put_state_in(ctx, s.id, &st)?;
    let Ok(ch) = channels::get_in(ctx, s.channel_id) else {
        return Ok(());
    };
    let w = window::reply_window(ch.kind, s, ctx.now);
    if w != Window::Open {
        // WhatsApp after 24 h: the template the admin chose for the survey, if any (the
        // customer answers with a digit); else, and on Messenger after a day, no survey.
        let detail = match super::send_template_in(ctx, &ch, s.id, &a, super::TextKind::Survey, w)?
        {
            super::TemplateSend::Sent => {
                return asked_in(ctx, s);
            }
            super::TemplateSend::Gone => "template_gone",
            super::TemplateSend::NoneChosen | super::TemplateSend::Refused => "",
        };
        return sessions::timeline_in(ctx, s.id, None, TimelineKind::SurveySkipped, detail);
    }
    let question = question_in(ctx, &a, s)?;
    if !send_in(ctx, &ch, s.id, &question, false)? {
        return sessions::timeline_in(ctx, s.id, None, TimelineKind::SurveySkipped, "");
    }
    asked_in(ctx, s)
}

/// The survey question in the customer's language, where known.
fn question_in(ctx: &WriteCtx<'_>, a: &super::Automation, s: &Session) -> Result<String> {
    let lang = super::contact_lang_in(ctx, s)?;
    Ok(a.text_for(super::TextKind::Survey, lang.as_deref())
        .to_string())
}

/// The question went out: the customer's next answer is awaited, and the timeline says so.
fn asked_in(ctx: &mut WriteCtx<'_>, s: &Session) -> Result<()> {
    codec::put(
        &mut ctx.txn.open_table(AUTOMATION)?,
        &pending_key(s.contact_id),
        &Pending {
            session_id: s.id,
            asked_at: ctx.now,
            reasked: false,
        },
    )?;
    sessions::timeline_in(ctx, s.id, None, TimelineKind::SurveySent, "")
}

/// Queue the question; false when the outbox refuses it (opted out, …).
fn send_in(
    ctx: &mut WriteCtx<'_>,
    ch: &Channel,
    session_id: SessionId,
    text: &str,
    closed: bool,
) -> Result<bool> {
    let text = outbox::check_text(ch.kind, text, super::MAX_TEXT)?;
    let out = NewOutbound {
        text: text.clone(),
        interactive: Some(choices()),
        ..Default::default()
    };
    match outbox::enqueue_with_in(ctx, ch, session_id, None, &out, Vec::new(), text, closed) {
        Ok(_) => Ok(true),
        Err(Error::Rule(_) | Error::Conflict(_)) => Ok(false),
        Err(e) => Err(e),
    }
}

/// What the intake does with a customer message while a survey waits for its answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Take {
    /// Store the message on the ended conversation `session_id` and record `score`.
    Score { session_id: SessionId, score: u8 },
    /// Store it on the ended conversation and ask once more.
    Reask { session_id: SessionId },
}

impl Take {
    pub fn session_id(self) -> SessionId {
        match self {
            Take::Score { session_id, .. } | Take::Reask { session_id } => session_id,
        }
    }
}

/// A customer message from `contact` arrived: is it the survey's answer? None: a normal
/// message (no survey waits, it expired, the conversation was reopened, or the re-ask was
/// answered wrongly too — then the survey gives up, with a timeline note).
pub fn take_in(
    ctx: &mut WriteCtx<'_>,
    contact: ContactId,
    text: &str,
    choice: Option<&str>,
) -> Result<Option<Take>> {
    let Some(p) = live_pending_in(ctx, contact)? else {
        return Ok(None);
    };
    if let Some(score) = parse_score(text, choice) {
        clear_in(ctx, contact)?;
        return Ok(Some(Take::Score {
            session_id: p.session_id,
            score,
        }));
    }
    if p.reasked {
        clear_in(ctx, contact)?;
        sessions::timeline_in(
            ctx,
            p.session_id,
            None,
            TimelineKind::SurveyInvalid,
            "gave_up",
        )?;
        return Ok(None);
    }
    codec::put(
        &mut ctx.txn.open_table(AUTOMATION)?,
        &pending_key(contact),
        &Pending {
            reasked: true,
            ..p.clone()
        },
    )?;
    Ok(Some(Take::Reask {
        session_id: p.session_id,
    }))
}

/// After the intake stored the message on the ended conversation: record the score, or
/// re-ask.
pub fn apply_in(ctx: &mut WriteCtx<'_>, ch: &Channel, take: Take) -> Result<()> {
    match take {
        Take::Score { session_id, score } => record_in(ctx, session_id, score),
        Take::Reask { session_id } => {
            let a = get_in(ctx, ch.id)?;
            let sent = !a.survey.is_empty() && {
                let question = question_in(ctx, &a, &sessions::get_in(ctx, session_id)?)?;
                send_in(ctx, ch, session_id, &question, true)?
            };
            sessions::timeline_in(
                ctx,
                session_id,
                None,
                TimelineKind::SurveyInvalid,
                if sent { "reasked" } else { "gave_up" },
            )
        }
    }
}

/// Store `score` on the session once (a second answer is refused).
fn record_in(ctx: &mut WriteCtx<'_>, session_id: SessionId, score: u8) -> Result<()> {
    if !(1..=5).contains(&score) {
        return Err(Error::invalid("score", BAD_SCORE));
    }
    let before = sessions::get_in(ctx, session_id)?;
    if before.rating.is_some() {
        return Err(Error::Conflict(
            "this conversation has already been rated".into(),
        ));
    }
    let mut s = before.clone();
    s.rating = Some(score);
    sessions::save_in(ctx, Some(&before), &s)?;
    sessions::timeline_phrased_in(
        ctx,
        session_id,
        None,
        TimelineKind::Rated,
        Some(Phrase::new("tl.d.rated").arg("score", score)),
        "",
    )
}

/// The website chat's buttons: the visitor of `contact` rates the conversation that asked.
/// Refused (nothing stored) for a score outside 1–5 or when no survey waits.
pub fn rate_in(ctx: &mut WriteCtx<'_>, contact: ContactId, score: u8) -> Result<SessionId> {
    if !(1..=5).contains(&score) {
        return Err(Error::invalid("score", BAD_SCORE));
    }
    let Some(p) = live_pending_in(ctx, contact)? else {
        return Err(Error::Conflict("there is no survey to answer".into()));
    };
    clear_in(ctx, contact)?;
    record_in(ctx, p.session_id, score)?;
    Ok(p.session_id)
}

#[cfg(test)]
mod tests {
    use super::parse_score;

    #[test]
    fn scores() {
        assert_eq!(parse_score(" 4 ", None), Some(4));
        assert_eq!(parse_score("5.", None), Some(5));
        assert_eq!(parse_score("1", None), Some(1));
        assert_eq!(parse_score("7", None), None);
        assert_eq!(parse_score("0", None), None);
        assert_eq!(parse_score("45", None), None);
        assert_eq!(parse_score("good", None), None);
        assert_eq!(parse_score("", None), None);
        assert_eq!(parse_score("Excellent", Some("csat:5")), Some(5));
        assert_eq!(parse_score("", Some("csat:9")), None);
        assert_eq!(parse_score("4", Some("other:4")), None);
    }
}
