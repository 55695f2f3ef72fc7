//! `history-retention`: deletes customer-session messages (`messages::retention`) and internal
//! chat messages older than `retention.history_days`, oldest first, at most `BATCH` per write.

use super::{JobCtx, Report};
use crate::domain::messages;
use crate::error::Result;

pub const BATCH: usize = 500;

pub async fn run(ctx: JobCtx) -> Result<Report> {
    let keep_ms = ctx.config.retention.history_days as i64 * 86_400_000;
    let mut deleted = 0;
    loop {
        let n = ctx
            .store
            .write(move |w| {
                let cutoff = w.now - keep_ms;
                messages::retention::delete_older_in(w, cutoff, BATCH)
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
