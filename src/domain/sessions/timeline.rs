//! A session's timeline: who picked it up, assigned, transferred, noted, tagged, called,
//! closed, archived or blocked it, and when.

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
    pub actor: Option<u64>,
    /// opened, picked_up, assigned, transferred, note, closed, closed_inactive, archived, unarchived, blocked, call, …
    pub kind: String,
    pub detail: String,
}

pub fn timeline_in(
    ctx: &mut WriteCtx<'_>,
    session_id: u64,
    actor: Option<u64>,
    kind: &str,
    detail: &str,
) -> Result<()> {
    let id = ctx.next_id("timeline")?;
    let e = TimelineEntry {
        id,
        at: ctx.now,
        actor,
        kind: kind.into(),
        detail: detail.into(),
    };
    codec::put(&mut ctx.txn.open_table(TIMELINE)?, &k2(session_id, id), &e)?;
    Ok(())
}

pub fn timeline(rtx: &ReadTransaction, session_id: u64) -> Result<Vec<TimelineEntry>> {
    Ok(
        codec::scan_prefix(&rtx.open_table(TIMELINE)?, &k1(session_id), 10_000)?
            .into_iter()
            .map(|(_, v)| v)
            .collect(),
    )
}
