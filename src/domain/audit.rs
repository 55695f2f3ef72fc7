//! The append-only audit log: who did what, when.

use crate::ids::UserId;
use crate::locale::{Lang, Phrase};
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
    /// In English; when `phrases` are set, their English words (for API readers).
    pub detail: String,
    /// The detail as words each reader sees in their own language (empty in older entries).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub phrases: Vec<Phrase>,
}

pub fn record(
    ctx: &mut WriteCtx<'_>,
    actor: Option<UserId>,
    action: &str,
    target: impl Into<String>,
    detail: impl Into<String>,
) -> Result<()> {
    put_entry(ctx, actor, action, target.into(), detail.into(), Vec::new())
}

/// Like [`record`], with a detail of words each reader sees in their own language.
pub fn record_phrased(
    ctx: &mut WriteCtx<'_>,
    actor: Option<UserId>,
    action: &str,
    target: impl Into<String>,
    phrases: Vec<Phrase>,
) -> Result<()> {
    let detail = phrases
        .iter()
        .map(|p| p.render(Lang::EN))
        .collect::<Vec<_>>()
        .join(", ");
    put_entry(ctx, actor, action, target.into(), detail, phrases)
}

fn put_entry(
    ctx: &mut WriteCtx<'_>,
    actor: Option<UserId>,
    action: &str,
    target: String,
    detail: String,
    phrases: Vec<Phrase>,
) -> Result<()> {
    let id = ctx.next_id("audit")?;
    let entry = AuditEntry {
        id,
        at: ctx.now,
        actor,
        action: action.to_string(),
        target,
        detail,
        phrases,
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
