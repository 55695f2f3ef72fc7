//! Calls the PBX reports, in the contact's conversation: call records (CDRs) matched to SMS and
//! WhatsApp contacts by normalised number land in the timeline of the contact's newest
//! conversation (shown between the messages), and a ringing extension gets a screen pop with
//! the caller's open conversations.
//!
//! Numbers are compared by their digits without leading zeros (the `00` international or `0`
//! trunk prefix): equal, or the shorter (national, at least 7 digits) is the end of the longer
//! (international). `+49 176 1234567`, `004917612345678`, `017612345678` and WhatsApp's
//! `4917612345678` are one number.

use std::collections::HashSet;

use serde::Serialize;

use super::channels::{self, ChannelKind};
use super::contacts::{self, Contact};
use super::events::Event;
use super::sessions::{self, Session, SessionStatus, TimelineKind};
use super::users::{self, User};
use crate::error::Result;
use crate::pbx::link::{Cdr, Direction, Disposition};
use crate::store::{Audience, Store};

/// Digits without leading zeros; None when too short to be a phone number.
pub fn normalise(n: &str) -> Option<String> {
    let d: String = n.chars().filter(char::is_ascii_digit).collect();
    let d = d.trim_start_matches('0');
    (d.len() >= 6 && d.len() <= 20).then(|| d.to_string())
}

/// Same number, national or international (both normalised).
pub fn same_number(a: &str, b: &str) -> bool {
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    short == long || (short.len() >= 7 && long.ends_with(short))
}

/// Phone contacts (SMS, WhatsApp; not merged away) whose number is `number`, newest first.
fn phone_contacts(rtx: &redb::ReadTransaction, number: &str) -> Result<Vec<Contact>> {
    let Some(n) = normalise(number) else {
        return Ok(Vec::new());
    };
    let phone_channels: HashSet<_> = channels::list(rtx)?
        .into_iter()
        .filter(|c| matches!(c.kind, ChannelKind::Sms | ChannelKind::Whatsapp))
        .map(|c| c.id)
        .collect();
    let mut out = Vec::new();
    contacts::each_newest_first(rtx, |c| {
        if c.merged_into.is_none()
            && phone_channels.contains(&c.channel_id)
            && normalise(&c.address).is_some_and(|a| same_number(&a, &n))
        {
            out.push(c);
        }
        Ok(out.len() < 20)
    })?;
    Ok(out)
}

/// What a call entry in a timeline says (its `detail`, as JSON: the pages word it).
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
pub struct CallEntry {
    pub direction: Direction,
    pub number: String,
    #[serde(default)]
    pub extension: String,
    pub disposition: Disposition,
    pub duration_s: u64,
    pub talk_s: u64,
    /// The PBX's call id (for de-duplication).
    pub call_id: String,
}

/// A finished call for a contact: which contact, which conversation got the entry.
#[derive(Debug, Clone)]
pub struct Logged {
    pub contact: Contact,
    pub session: Option<Session>,
    pub entry: CallEntry,
}

/// The customer's side of a CDR: (direction, their number, our extension); None for calls
/// between extensions.
fn customer_side(cdr: &Cdr, exts: &HashSet<String>) -> Option<(Direction, String, String)> {
    let is_ext = |n: &str| exts.contains(n.trim());
    let outbound = match cdr.direction {
        Some(Direction::Internal) => return None,
        Some(Direction::Outbound) => true,
        Some(Direction::Inbound) => false,
        None => cdr.from_ext.as_deref().is_some_and(is_ext) || is_ext(&cdr.from),
    };
    let (number, ext) = if outbound {
        let ext = cdr
            .from_ext
            .clone()
            .filter(|e| is_ext(e))
            .unwrap_or_else(|| cdr.from.clone());
        (cdr.to.clone(), ext)
    } else {
        let ext = cdr
            .to_ext
            .clone()
            .filter(|e| is_ext(e))
            .or_else(|| is_ext(&cdr.to).then(|| cdr.to.clone()))
            .unwrap_or_default();
        (cdr.from.clone(), ext)
    };
    if is_ext(&number) || normalise(&number).is_none() {
        return None;
    }
    let dir = if outbound {
        Direction::Outbound
    } else {
        Direction::Inbound
    };
    Some((dir, number, ext))
}

/// A finished call: an entry in the timeline of each matching contact's newest conversation
/// (at most once per call id). Returns the call as logged and where, for the missed-call
/// follow-up (None: a call between extensions or without a usable number).
pub async fn record(
    store: &Store,
    cdr: Cdr,
    _now: i64,
) -> Result<Option<(CallEntry, Vec<Logged>)>> {
    let exts: HashSet<String> = store
        .read(|rtx| {
            Ok(users::list(rtx)?
                .into_iter()
                .map(|u| u.extension.trim().to_string())
                .filter(|e| !e.is_empty())
                .collect())
        })
        .await?;
    let Some((direction, number, extension)) = customer_side(&cdr, &exts) else {
        return Ok(None);
    };
    let entry = CallEntry {
        direction,
        number: number.clone(),
        extension,
        disposition: cdr.disposition,
        duration_s: cdr.duration_s,
        talk_s: cdr.talk_s,
        call_id: cdr.id.clone(),
    };
    let found = store
        .read(move |rtx| {
            let mut out = Vec::new();
            for c in phone_contacts(rtx, &number)? {
                let s = sessions::for_contact(rtx, c.id)?.into_iter().next();
                out.push((c, s));
            }
            Ok(out)
        })
        .await?;
    let mut logged = Vec::new();
    for (contact, session) in found {
        if let Some(s) = &session {
            note_in_session(store, s.id, &entry).await?;
        }
        logged.push(Logged {
            contact,
            session,
            entry: entry.clone(),
        });
    }
    Ok(Some((entry, logged)))
}

/// Puts the call `entry` in conversation `sid` (once per call id) and tells its pages.
pub async fn note_in_session(
    store: &Store,
    sid: crate::ids::SessionId,
    entry: &CallEntry,
) -> Result<()> {
    let detail = serde_json::to_string(entry).map_err(crate::error::Error::internal)?;
    let call_id = entry.call_id.clone();
    store
        .write(move |ctx| {
            let s = sessions::get_in(ctx, sid)?;
            // A PBX may report a call more than once (one CDR per leg).
            let seen = sessions::timeline_of_in(ctx, sid)?.iter().any(|e| {
                e.kind == TimelineKind::PhoneCall
                    && serde_json::from_str::<CallEntry>(&e.detail)
                        .is_ok_and(|c| c.call_id == call_id)
            });
            if seen {
                return Ok(());
            }
            sessions::timeline_in(ctx, sid, None, TimelineKind::PhoneCall, &detail)?;
            ctx.emit(
                Audience::Channel {
                    channel_id: s.channel_id,
                },
                &Event::SessionUpdated(&s),
            )
        })
        .await
}

/// A call from `caller` rings `agent`'s extension: if the number is a known contact, the
/// agent's browsers pop a toast with the contact's open conversations.
pub async fn screen_pop(store: &Store, agent: &User, caller: &str, now: i64) -> Result<()> {
    let number = caller.to_string();
    let found = store
        .read(move |rtx| {
            let mut out = Vec::new();
            for c in phone_contacts(rtx, &number)? {
                let open: Vec<Session> = sessions::for_contact(rtx, c.id)?
                    .into_iter()
                    .filter(|s| s.status == SessionStatus::Open && !s.archived)
                    .collect();
                out.push((c, open));
            }
            Ok(out)
        })
        .await?;
    let Some((first, _)) = found.first() else {
        return Ok(());
    };
    let name = first.label().to_string();
    let convs: Vec<serde_json::Value> = found
        .iter()
        .flat_map(|(_, open)| open.iter())
        .take(5)
        .map(|s| {
            serde_json::json!({
                "id": s.id,
                "channel_kind": s.channel_kind.as_str(),
                "preview": s.last_preview.chars().take(80).collect::<String>(),
            })
        })
        .collect();
    store.publish_ephemeral(
        Audience::Users {
            user_ids: vec![agent.id],
        },
        "phone.ringing",
        now,
        serde_json::json!({
            "number": caller,
            "contact_id": first.id,
            "name": name,
            "extension": agent.extension,
            "sessions": convs,
        }),
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_match_national_and_international() {
        let n = |s: &str| normalise(s).unwrap();
        assert!(same_number(&n("+49 176 12345678"), &n("004917612345678")));
        assert!(same_number(&n("017612345678"), &n("4917612345678")));
        assert!(!same_number(&n("017612345678"), &n("4917612345679")));
        assert!(normalise("201").is_none());
        assert!(normalise("anonymous").is_none());
    }

    #[test]
    fn the_customer_side_of_a_cdr() {
        let exts: HashSet<String> = ["201".to_string()].into();
        let mut c = Cdr {
            id: "1".into(),
            from: "+4917612345678".into(),
            to: "201".into(),
            from_ext: None,
            to_ext: Some("201".into()),
            direction: None,
            disposition: Disposition::Missed,
            duration_s: 20,
            talk_s: 0,
        };
        let (d, num, ext) = customer_side(&c, &exts).unwrap();
        assert_eq!(
            (d, num.as_str(), ext.as_str()),
            (Direction::Inbound, "+4917612345678", "201")
        );
        c.from = "201".into();
        c.to = "017612345678".into();
        let (d, num, _) = customer_side(&c, &exts).unwrap();
        assert_eq!((d, num.as_str()), (Direction::Outbound, "017612345678"));
        c.to = "202".into();
        assert!(customer_side(&c, &exts).is_none(), "extension to extension");
    }
}
