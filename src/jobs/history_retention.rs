//! `history-retention`: deletes customer-session messages older than
//! `retention.history_days`, oldest first, at most `BATCH` per write, keeping `MESSAGES`,
//! `MESSAGE_SESSION`, `PROVIDER_IDS` and the outbox consistent. Message ids grow with time, so
//! walking `MESSAGE_SESSION` in id order visits the oldest first and stops at the first message
//! inside the retention. Records of the deleted messages' expired files go with them.

use redb::ReadableTable;

use super::{JobCtx, Report};
use crate::domain::attachments;
use crate::domain::messages::{self, Message};
use crate::error::Result;
use crate::store::WriteCtx;
use crate::store::codec::{self, k1, k2, kcat};
use crate::store::tables::{MESSAGE_SESSION, MESSAGES, PROVIDER_IDS};

pub const BATCH: usize = 500;

/// Deletes up to `BATCH` messages created before `cutoff`; returns how many.
fn delete_batch_in(w: &mut WriteCtx<'_>, cutoff: i64) -> Result<usize> {
    let mut old: Vec<Message> = Vec::new();
    {
        let idx = w.txn.open_table(MESSAGE_SESSION)?;
        let msgs = w.txn.open_table(MESSAGES)?;
        for item in idx.iter()? {
            if old.len() >= BATCH {
                break;
            }
            let (k, v) = item?;
            let (id, sid) = (codec::u64_at(k.value(), 0)?, codec::u64_at(v.value(), 0)?);
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
        messages::unschedule_in(w, m.id)?;
        crate::search::remove_message(
            w.txn,
            crate::search::Scope::Channel(m.channel_id),
            m.id,
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
        id: 0,
        session_id: 0,
        channel_id: 0,
        direction: messages::Direction::Note,
        author: None,
        text: String::new(),
        files: Vec::new(),
        template: None,
        provider_id: None,
        status: messages::Status::Received,
        error: None,
        created: 0,
        provider_at: None,
        human_agent_tag: false,
    }
}

pub async fn run(ctx: JobCtx) -> Result<Report> {
    let keep_ms = ctx.config.retention.history_days as i64 * 86_400_000;
    let mut deleted = 0;
    loop {
        let n = ctx
            .store
            .write(move |w| {
                let cutoff = w.now - keep_ms;
                delete_batch_in(w, cutoff)
            })
            .await?;
        deleted += n;
        if n < BATCH {
            break;
        }
    }
    // Internal chat history follows the same retention, in the same bounded batches.
    let mut internal = 0;
    loop {
        let n = ctx
            .store
            .write(move |w| {
                let cutoff = w.now - keep_ms;
                crate::domain::chats::purge_older_than(w, cutoff, BATCH)
            })
            .await?;
        internal += n;
        if n < BATCH {
            break;
        }
    }
    Ok(Report::new(
        format!(
            "deleted {deleted} customer and {internal} internal messages older than {} days",
            ctx.config.retention.history_days
        ),
        deleted + internal == 0,
    ))
}
