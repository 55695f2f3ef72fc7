//! History retention: customer-session messages older than `retention.history_days` are
//! deleted, oldest first, keeping `MESSAGES`, `MESSAGE_SESSION`, `PROVIDER_IDS`, the outbox and
//! the search index consistent. Message ids grow with time, so walking `MESSAGE_SESSION` in id
//! order visits the oldest first and stops at the first message inside the retention. Records
//! of the deleted messages' expired files go with them.

use crate::ids::ChannelId;
use crate::ids::MessageId;
use crate::ids::SessionId;
use redb::ReadableTable;

use super::{Direction, Message, Status};
use crate::domain::attachments;
use crate::error::Result;
use crate::store::WriteCtx;
use crate::store::codec::{self, k1, k2, kcat};
use crate::store::tables::{MESSAGE_SESSION, MESSAGES, PROVIDER_IDS};

/// Delete up to `limit` messages created before `cutoff`; returns how many.
pub fn delete_older_in(w: &mut WriteCtx<'_>, cutoff: i64, limit: usize) -> Result<usize> {
    let mut old: Vec<Message> = Vec::new();
    {
        let idx = w.txn.open_table(MESSAGE_SESSION)?;
        let msgs = w.txn.open_table(MESSAGES)?;
        for item in idx.iter()? {
            if old.len() >= limit {
                break;
            }
            let (k, v) = item?;
            let (id, sid) = (codec::id_at(k.value(), 0)?, codec::id_at(v.value(), 0)?);
            match codec::get::<Message>(&msgs, &k2(sid, id))? {
                Some(m) if m.created < cutoff => old.push(m),
                Some(_) => break,
                // A dangling index entry: remove it with the batch.
                None => old.push(Message {
                    id,
                    session_id: sid,
                    ..placeholder()
                }),
            }
        }
    }
    w.flush_index()?;
    for m in &old {
        w.txn
            .open_table(MESSAGES)?
            .remove(k2(m.session_id, m.id).as_slice())?;
        w.txn
            .open_table(MESSAGE_SESSION)?
            .remove(k1(m.id).as_slice())?;
        if let Some(pid) = &m.provider_id {
            w.txn
                .open_table(PROVIDER_IDS)?
                .remove(kcat(&k1(m.channel_id), pid.as_bytes()).as_slice())?;
        }
        super::outbox::unschedule_in(w, m.id)?;
        crate::search::remove_message(
            w.txn,
            crate::search::Scope::Channel(m.channel_id),
            m.id.get(),
            &m.text,
        )?;
        for f in &m.files {
            if let Some(aid) = f.attachment_id {
                attachments::delete_expired_record_in(w, aid)?;
            }
        }
    }
    Ok(old.len())
}

fn placeholder() -> Message {
    Message {
        id: MessageId(0),
        session_id: SessionId(0),
        channel_id: ChannelId(0),
        direction: Direction::Note,
        author: None,
        text: String::new(),
        files: Vec::new(),
        template: None,
        provider_id: None,
        status: Status::Received,
        error: None,
        created: 0,
        provider_at: None,
        human_agent_tag: false,
        retry: None,
        quote: None,
        reaction: None,
        edited: None,
        interactive: None,
    }
}
