//! A session's timeline: who picked it up, assigned, transferred, noted, tagged, called,
//! closed, archived or blocked it, and when.

use crate::ids::SessionId;
use crate::ids::UserId;
use crate::locale::Phrase;
use redb::ReadTransaction;
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::store::WriteCtx;
use crate::store::codec::{self, k1, k2};
use crate::store::tables::TIMELINE;

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TimelineEntry {
    pub id: u64,
    pub at: i64,
    pub actor: Option<UserId>,
    pub kind: TimelineKind,
    /// Free text a person wrote (a note, a reason), or data (an address).
    pub detail: String,
    /// What happened, in words each reader sees in their own language ("to Ben"), shown
    /// before `detail`; absent in older entries, whose `detail` holds it in English.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phrase: Option<Phrase>,
}

/// What happened to a session. Stored by name (`picked_up`, …), which is also the key of its
/// label (`tl.picked_up`); a name this version does not know reads as `other`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TimelineKind {
    /// The customer wrote first.
    Opened,
    /// An agent started the conversation (detail: the address).
    Started,
    PickedUp,
    /// Auto-assign gave it to an agent.
    Assigned,
    /// Handed to a colleague or the queue (detail: the receiver and the note).
    Transferred,
    Note,
    Tagged,
    Call,
    /// A call the PBX reported (detail: `calls_log::CallEntry` as JSON).
    PhoneCall,
    Blocked,
    Unblocked,
    /// Its contact was merged into another (detail: which).
    Merged,
    /// A live-chat visitor left a message while no agent was online.
    OfflineMessage,
    /// Ended by an agent (detail: result and note).
    Closed,
    /// Ended by the inactivity job.
    ClosedInactive,
    /// An agent reopened a closed or archived conversation.
    Reopened,
    Archived,
    Unarchived,
    /// An automatic reply went out (detail: welcome, out_of_hours or busy).
    AutoReply,
    /// An automatic reply was due but the reply window did not allow it (detail: which).
    AutoReplySkipped,
    /// An agent snoozed it (detail: until, Unix ms).
    Snoozed,
    /// Back from snooze (the time came, the customer wrote, or an agent woke it).
    Woke,
    /// The first-response target passed without an answer.
    SlaBreached,
    /// The satisfaction survey went out (detail: the question).
    SurveySent,
    /// The survey was due but not sent (reply window closed, opted out).
    SurveySkipped,
    /// The customer answered the survey (phrase: the score, 1–5).
    Rated,
    /// The customer's answer was not 1–5 (detail: `reasked` or `gave_up`).
    SurveyInvalid,
    /// Written by a later version.
    #[serde(other)]
    Other,
}

impl TimelineKind {
    pub const ALL: &[TimelineKind] = &[
        Self::Opened,
        Self::Started,
        Self::PickedUp,
        Self::Assigned,
        Self::Transferred,
        Self::Note,
        Self::Tagged,
        Self::Call,
        Self::PhoneCall,
        Self::Blocked,
        Self::Unblocked,
        Self::Merged,
        Self::OfflineMessage,
        Self::Closed,
        Self::ClosedInactive,
        Self::Reopened,
        Self::Archived,
        Self::Unarchived,
        Self::AutoReply,
        Self::AutoReplySkipped,
        Self::Snoozed,
        Self::Woke,
        Self::SlaBreached,
        Self::SurveySent,
        Self::SurveySkipped,
        Self::Rated,
        Self::SurveyInvalid,
        Self::Other,
    ];

    /// The stored name, e.g. `picked_up`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Opened => "opened",
            Self::Started => "started",
            Self::PickedUp => "picked_up",
            Self::Assigned => "assigned",
            Self::Transferred => "transferred",
            Self::Note => "note",
            Self::Tagged => "tagged",
            Self::Call => "call",
            Self::PhoneCall => "phone_call",
            Self::Blocked => "blocked",
            Self::Unblocked => "unblocked",
            Self::Merged => "merged",
            Self::OfflineMessage => "offline_message",
            Self::Closed => "closed",
            Self::ClosedInactive => "closed_inactive",
            Self::Reopened => "reopened",
            Self::Archived => "archived",
            Self::Unarchived => "unarchived",
            Self::AutoReply => "auto_reply",
            Self::AutoReplySkipped => "auto_reply_skipped",
            Self::Snoozed => "snoozed",
            Self::Woke => "woke",
            Self::SlaBreached => "sla_breached",
            Self::SurveySent => "survey_sent",
            Self::SurveySkipped => "survey_skipped",
            Self::Rated => "rated",
            Self::SurveyInvalid => "survey_invalid",
            Self::Other => "other",
        }
    }
}

pub fn timeline_in(
    ctx: &mut WriteCtx<'_>,
    session_id: SessionId,
    actor: Option<UserId>,
    kind: TimelineKind,
    detail: &str,
) -> Result<()> {
    timeline_phrased_in(ctx, session_id, actor, kind, None, detail)
}

/// Like [`timeline_in`], with words each reader sees in their own language before `detail`.
pub fn timeline_phrased_in(
    ctx: &mut WriteCtx<'_>,
    session_id: SessionId,
    actor: Option<UserId>,
    kind: TimelineKind,
    phrase: Option<Phrase>,
    detail: &str,
) -> Result<()> {
    let id = ctx.next_id("timeline")?;
    let e = TimelineEntry {
        id,
        at: ctx.now,
        actor,
        kind,
        detail: detail.into(),
        phrase,
    };
    codec::put(&mut ctx.txn.open_table(TIMELINE)?, &k2(session_id, id), &e)?;
    Ok(())
}

/// A session's timeline inside a write.
pub fn timeline_of_in(ctx: &WriteCtx<'_>, session_id: SessionId) -> Result<Vec<TimelineEntry>> {
    Ok(
        codec::scan_prefix(&ctx.txn.open_table(TIMELINE)?, &k1(session_id), 10_000)?
            .into_iter()
            .map(|(_, v)| v)
            .collect(),
    )
}

pub fn timeline(rtx: &ReadTransaction, session_id: SessionId) -> Result<Vec<TimelineEntry>> {
    Ok(
        codec::scan_prefix(&rtx.open_table(TIMELINE)?, &k1(session_id), 10_000)?
            .into_iter()
            .map(|(_, v)| v)
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_stored_by_their_names_and_unknown_ones_read_as_other() {
        for k in TimelineKind::ALL {
            let json = serde_json::to_string(k).unwrap();
            assert_eq!(json, format!("\"{}\"", k.as_str()));
            assert_eq!(serde_json::from_str::<TimelineKind>(&json).unwrap(), *k);
        }
        let later: TimelineKind = serde_json::from_str("\"survey_answered\"").unwrap();
        assert_eq!(later, TimelineKind::Other);
    }
}
