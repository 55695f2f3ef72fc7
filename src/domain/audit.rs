//! The append-only audit log: who did what, when.

use crate::ids::UserId;
use redb::ReadTransaction;
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::store::codec::{self, k1};
use crate::store::tables::AUDIT;
use crate::store::{Audience, WriteCtx};

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AuditEntry {
    pub id: u64,
    pub at: i64,
    /// User id of who did it; None for the system (jobs, setup).
    pub actor: Option<UserId>,
    pub action: String,
    pub target: String,
    pub detail: String,
}

pub fn record(
    ctx: &mut WriteCtx<'_>,
    actor: Option<UserId>,
    action: &str,
    target: impl Into<String>,
    detail: impl Into<String>,
) -> Result<()> {
    let id = ctx.next_id("audit")?;
    let entry = AuditEntry {
        id,
        at: ctx.now,
        actor,
        action: action.to_string(),
        target: target.into(),
        detail: detail.into(),
    };
    let mut t = ctx.txn.open_table(AUDIT)?;
    codec::put(&mut t, &k1(id), &entry)?;
    drop(t);
    ctx.emit(
        Audience::Admins,
        &super::events::Event::AuditCreated(&entry),
    )
}

/// Newest first, before `before` (exclusive), at most `limit`.
pub fn list(rtx: &ReadTransaction, before: Option<u64>, limit: usize) -> Result<Vec<AuditEntry>> {
    let t = rtx.open_table(AUDIT)?;
    let end = k1(before.unwrap_or(u64::MAX));
    let mut out = Vec::new();
    for item in t.range::<&[u8]>(..end.as_slice())?.rev() {
        if out.len() >= limit {
            break;
        }
        out.push(codec::decode(item?.1.value())?);
    }
    Ok(out)
}
