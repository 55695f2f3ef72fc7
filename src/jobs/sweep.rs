//! `login-session-sweep`: deletes expired login sessions and prunes the event log.

use super::{JobCtx, Report};
use crate::domain::auth::{self, Lifetimes};
use crate::error::Result;

const BATCH: usize = 1000;

pub async fn run(ctx: JobCtx) -> Result<Report> {
    let life = Lifetimes {
        idle_ms: ctx.config.auth.session_idle_minutes as i64 * 60_000,
        max_ms: ctx.config.auth.session_max_hours as i64 * 3_600_000,
    };
    let mut sessions = 0;
    loop {
        let n = auth::sweep(&ctx.store, life, BATCH).await?;
        sessions += n;
        if n < BATCH {
            break;
        }
    }
    let keep_ms = ctx.config.retention.events_days as i64 * 86_400_000;
    let mut events = 0;
    loop {
        let n = ctx
            .store
            .write(move |w| {
                let cutoff = w.now - keep_ms;
                crate::store::events::prune_in(w, cutoff, BATCH)
            })
            .await?;
        events += n;
        if n < BATCH {
            break;
        }
    }
    Ok(Report::new(
        format!("removed {sessions} expired login sessions and {events} old events"),
        sessions + events == 0,
    ))
}
