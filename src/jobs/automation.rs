//! `automation`: the "all agents busy" replies that are due, and snoozed conversations whose
//! time has come (both by the injected clock; see `domain::automation`).

use super::{JobCtx, Report};
use crate::domain::automation;
use crate::error::Result;

pub async fn run(ctx: JobCtx) -> Result<Report> {
    let s = automation::sweep(&ctx.store).await?;
    Ok(Report::new(
        format!(
            "busy replies {}, woken {}, response targets missed {}",
            s.busy, s.woken, s.breached
        ),
        s.busy + s.woken + s.breached == 0,
    ))
}
