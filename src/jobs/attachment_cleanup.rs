//! `attachment-cleanup`: deletes the bytes of attachments older than
//! `retention.attachments_hours` (the record stays, `Expired`, so messages show "file expired")
//! and reclaims uploads abandoned for over an hour. Every write touches at most `BATCH` chunks,
//! so webhooks never wait long behind it.

use super::{JobCtx, Report};
use crate::domain::attachments::{self, STALE_UPLOAD_MS};
use crate::error::Result;

pub const BATCH: usize = 500;

pub async fn run(ctx: JobCtx) -> Result<Report> {
    let now = ctx.clock.now_ms();
    let cutoff = now - ctx.config.retention.attachments_hours as i64 * 3_600_000;
    let (mut files, mut chunks) = (0usize, 0usize);
    loop {
        let ids = ctx
            .store
            .read(move |rtx| attachments::ready_before(rtx, cutoff, BATCH))
            .await?;
        for id in &ids {
            let id = *id;
            loop {
                let (n, done) = ctx
                    .store
                    .write(move |w| attachments::expire_in(w, id, BATCH))
                    .await?;
                chunks += n;
                if done {
                    files += 1;
                    break;
                }
            }
        }
        if ids.len() < BATCH {
            break;
        }
    }
    let (uploads, upload_chunks) =
        attachments::reclaim_uploads(&ctx.store, Some(now - STALE_UPLOAD_MS)).await?;
    Ok(Report::new(
        format!(
            "expired {files} files ({chunks} chunks); reclaimed {uploads} abandoned uploads ({upload_chunks} chunks)"
        ),
        files + uploads == 0,
    ))
}
