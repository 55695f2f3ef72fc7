//! `session-closure`: closes open sessions inactive longer than their channel allows
//! (`Channel::closes_after_hours`): WhatsApp 24 h after the customer's last message, others
//! after the channel's setting since the last activity. Each close writes the timeline entry
//! and the event (`sessions::close_in`); at most `BATCH` sessions per write.

use crate::ids::SessionId;
use std::collections::HashMap;

use super::{JobCtx, Report};
use crate::clock::HOUR_MS;
use crate::domain::channels::{self, ChannelKind};
use crate::domain::sessions::{self, Session, SessionStatus};
use crate::error::Result;

pub const BATCH: usize = 500;

/// When `s` became inactive, by its channel's rule.
fn idle_since(kind: ChannelKind, s: &Session) -> i64 {
    match kind {
        ChannelKind::Whatsapp => s.last_inbound.unwrap_or(s.created),
        _ => s.last_activity,
    }
}

/// Is `s` due for closing at `now` (hours = the channel's setting; None = never)?
pub fn due(kind: ChannelKind, hours: Option<u32>, s: &Session, now: i64) -> bool {
    s.status == SessionStatus::Open
        && hours.is_some_and(|h| now - idle_since(kind, s) >= i64::from(h) * HOUR_MS)
}

pub async fn run(ctx: JobCtx) -> Result<Report> {
    let now = ctx.clock.now_ms();
    let candidates: Vec<SessionId> = ctx
        .store
        .read(move |rtx| {
            let mut rules = HashMap::new();
            for ch in channels::list(rtx)? {
                rules.insert(ch.id, (ch.kind, ch.closes_after_hours()));
            }
            let mut out = Vec::new();
            for sid in sessions::open_ids(rtx)? {
                let Some(s) = sessions::get(rtx, sid)? else {
                    continue;
                };
                if let Some((kind, hours)) = rules.get(&s.channel_id)
                    && due(*kind, *hours, &s, now)
                {
                    out.push(sid);
                }
            }
            Ok(out)
        })
        .await?;
    let mut closed = 0;
    for batch in candidates.chunks(BATCH) {
        let ids = batch.to_vec();
        closed += ctx
            .store
            .write(move |w| {
                let mut n = 0;
                for id in &ids {
                    // Re-check inside the transaction: a message may have arrived meanwhile.
                    let s = sessions::get_in(w, *id)?;
                    let ch = channels::get_in(w, s.channel_id)?;
                    if due(ch.kind, ch.closes_after_hours(), &s, w.now) {
                        sessions::close_in(w, *id, None, None, String::new())?;
                        n += 1;
                    }
                }
                Ok(n)
            })
            .await?;
    }
    Ok(Report::new(
        format!("closed {closed} inactive sessions"),
        closed == 0,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(created: i64, last_activity: i64, last_inbound: Option<i64>) -> Session {
        serde_json::from_value(serde_json::json!({
            "id": 1, "channel_id": 1, "channel_kind": "sms", "contact_id": 1, "status": "open",
            "assignee": null, "created": created, "last_activity": last_activity,
            "last_inbound": last_inbound, "last_preview": "", "last_message_id": 0,
            "archived": false, "closed_at": null, "result": null
        }))
        .unwrap()
    }

    #[test]
    fn whatsapp_counts_from_the_customer_others_from_activity() {
        let h = HOUR_MS;
        // Customer wrote 25 h ago, agent replied 1 h ago: WhatsApp closes, SMS does not.
        let x = s(0, 100 * h - h, Some(100 * h - 25 * h));
        assert!(due(ChannelKind::Whatsapp, Some(24), &x, 100 * h));
        assert!(!due(ChannelKind::Sms, Some(24), &x, 100 * h));
        assert!(due(ChannelKind::Sms, Some(1), &x, 100 * h));
        assert!(!due(ChannelKind::Sms, None, &x, 100 * h));
        // Agent-started WhatsApp session without an answer: from its creation.
        assert!(due(
            ChannelKind::Whatsapp,
            Some(24),
            &s(0, 30 * h, None),
            24 * h
        ));
    }
}
