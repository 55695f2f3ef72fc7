//! The block list: agents block a contact with a reason; later inbound messages from it are
//! acknowledged to the provider and dropped before storage (`messages::ingest_in`, and the
//! webhook path checks `contacts::is_blocked` before any media download). Admins see and lift
//! blocks. Both are audited and appear on the contact's latest session timeline.

use crate::domain::sessions::TimelineKind;
use crate::ids::ChannelId;
use crate::ids::ContactId;
use crate::ids::UserId;
use redb::{ReadTransaction, ReadableTable};
use serde::Serialize;

use super::audit;
use super::contacts::{self, Block, Contact};
use super::directory::visible_contact;
use super::sessions;
use super::users::User;
use crate::error::{Error, Result};
use crate::store::codec::{self, k1};
use crate::store::tables::BLOCKED_CONTACTS;
use crate::store::{Store, WriteCtx};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BlockedContact {
    pub contact: Contact,
    pub block: Block,
}

fn history_owner(c: &Contact) -> ContactId {
    c.merged_into.unwrap_or(c.id)
}

/// `user` blocks a contact they see, with a reason.
pub async fn block(
    store: &Store,
    user: &User,
    contact_id: ContactId,
    reason: String,
) -> Result<Contact> {
    let u = user.clone();
    store
        .read(move |rtx| visible_contact(rtx, &u, contact_id))
        .await?;
    let actor = user.id;
    store
        .write(move |ctx| block_in(ctx, actor, contact_id, &reason))
        .await
}

/// An administrator blocks a number (or other address) on a channel from the block list, whether
/// or not it has written yet: the contact is created when unknown (callers check the role).
pub async fn block_address(
    store: &Store,
    actor: UserId,
    channel_id: ChannelId,
    address: String,
    reason: String,
) -> Result<Contact> {
    let address = address.trim().to_string();
    if address.is_empty() || address.chars().count() > 200 {
        return Err(Error::invalid("address", "must be 1 to 200 characters"));
    }
    let r = reason.trim();
    if r.is_empty() || r.chars().count() > 500 {
        // Checked before the contact is created, so a refused block leaves nothing behind.
        return Err(Error::invalid("reason", "must be 1 to 500 characters"));
    }
    store
        .write(move |ctx| {
            super::channels::get_in(ctx, channel_id)?;
            let (c, _) = contacts::upsert_in(ctx, channel_id, &address, None)?;
            block_in(ctx, actor, c.id, &reason)
        })
        .await
}

/// An administrator lifts a block (callers check the role).
pub async fn unblock(store: &Store, actor: UserId, contact_id: ContactId) -> Result<Contact> {
    store
        .write(move |ctx| unblock_in(ctx, actor, contact_id))
        .await
}

pub fn block_in(
    ctx: &mut WriteCtx<'_>,
    actor: UserId,
    contact_id: ContactId,
    reason: &str,
) -> Result<Contact> {
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > 500 {
        return Err(Error::invalid("reason", "must be 1 to 500 characters"));
    }
    let mut c = contacts::get_in(ctx, contact_id)?;
    if c.blocked.is_some() {
        return Err(Error::Conflict("this contact is already blocked".into()));
    }
    c.blocked = Some(Block {
        reason: reason.to_string(),
        by: actor,
        at: ctx.now,
    });
    contacts::put_in(ctx, &c)?;
    ctx.txn
        .open_table(BLOCKED_CONTACTS)?
        .insert(k1(c.id).as_slice(), [].as_slice())?;
    audit::record(
        ctx,
        Some(actor),
        "contact.block",
        format!("contact:{}", c.id),
        format!("{}: {reason}", c.address),
    )?;
    if let Some(sid) = sessions::latest_of_contact_in(ctx, history_owner(&c))? {
        sessions::timeline_in(ctx, sid, Some(actor), TimelineKind::Blocked, reason)?;
    }
    contacts::announce_in(ctx, &c)?;
    Ok(c)
}

pub fn unblock_in(ctx: &mut WriteCtx<'_>, actor: UserId, contact_id: ContactId) -> Result<Contact> {
    let mut c = contacts::get_in(ctx, contact_id)?;
    let Some(old) = c.blocked.take() else {
        return Err(Error::Conflict("this contact is not blocked".into()));
    };
    contacts::put_in(ctx, &c)?;
    ctx.txn
        .open_table(BLOCKED_CONTACTS)?
        .remove(k1(c.id).as_slice())?;
    audit::record_phrased(
        ctx,
        Some(actor),
        "contact.unblock",
        format!("contact:{}", c.id),
        vec![
            crate::locale::Phrase::new("aud.d.unblocked")
                .arg("address", &c.address)
                .arg("reason", &old.reason),
        ],
    )?;
    if let Some(sid) = sessions::latest_of_contact_in(ctx, history_owner(&c))? {
        sessions::timeline_in(ctx, sid, Some(actor), TimelineKind::Unblocked, "")?;
    }
    contacts::announce_in(ctx, &c)?;
    Ok(c)
}

pub fn list(rtx: &ReadTransaction) -> Result<Vec<BlockedContact>> {
    let t = rtx.open_table(BLOCKED_CONTACTS)?;
    let mut out = Vec::new();
    for item in t.iter()? {
        let id = codec::id_at(item?.0.value(), 0)?;
        if let Some(c) = contacts::get(rtx, id)?
            && let Some(b) = c.blocked.clone()
        {
            out.push(BlockedContact {
                contact: c,
                block: b,
            });
        }
    }
    out.sort_by_key(|b| std::cmp::Reverse(b.block.at));
    Ok(out)
}
