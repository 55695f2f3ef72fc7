//! `outbound-retry`: one delivery pass over the outbox (due retries and anything queued).
//! The server's delivery worker does the same continuously; claims go through the single
//! writer, so this job and the worker never send one item twice.

use super::{JobCtx, Report};
use crate::domain::attachments::media::MediaStore;
use crate::domain::delivery::{Deliverer, Outcome};
use crate::error::Result;

pub async fn run(ctx: JobCtx) -> Result<Report> {
    let media = MediaStore::new(&ctx.store, &ctx.public_url, &ctx.config, &ctx.media_secret);
    let d = Deliverer::new(
        ctx.store.clone(),
        ctx.clock.clone(),
        ctx.public_url.clone(),
        media,
        ctx.shutdown.clone(),
        None,
    )?;
    let pass = d.pass().await?;
    let (mut sent, mut retrying, mut failed, mut unknown) = (0, 0, 0, 0);
    for h in pass.sends {
        match h.await {
            Ok(Outcome::Sent) => sent += 1,
            Ok(Outcome::Retrying) => retrying += 1,
            Ok(Outcome::Failed) => failed += 1,
            Ok(Outcome::Unknown | Outcome::Abandoned) | Err(_) => unknown += 1,
        }
    }
    Ok(Report::new(
        format!("sent {sent}, will retry {retrying}, failed {failed}, outcome unknown {unknown}"),
        sent + retrying + failed + unknown == 0,
    ))
}
