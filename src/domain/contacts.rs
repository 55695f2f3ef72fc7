//! Contacts: a customer identity on one channel (phone number, WhatsApp id, PSID, visitor).

use crate::ids::ChannelId;
use crate::ids::ContactId;
use crate::ids::UserId;
use redb::{ReadTransaction, ReadableTable};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::store::WriteCtx;
use crate::store::codec::{self, k1, kcat};
use crate::store::tables::{CONTACTS, CONTACTS_BY_ADDR};

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Block {
    pub reason: String,
    pub by: UserId,
    pub at: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Contact {
    pub id: ContactId,
    pub channel_id: ChannelId,
    /// Phone number (E.164), WhatsApp id, Messenger PSID or live-chat visitor id.
    pub address: String,
    /// Display name (from the provider profile or edited by an agent).
    #[serde(default)]
    pub name: String,
    /// True once an agent edited the name: provider profile names no longer overwrite it.
    #[serde(default)]
    pub name_edited: bool,
    #[serde(default)]
    pub email: String,
    pub created: i64,
    #[serde(default)]
    pub blocked: Option<Block>,
    /// Set when merged into another contact.
    #[serde(default)]
    pub merged_into: Option<ContactId>,
}

impl Contact {
    pub fn label(&self) -> &str {
        if self.name.is_empty() {
            &self.address
        } else {
            &self.name
        }
    }
}

fn addr_key(channel_id: ChannelId, address: &str) -> Vec<u8> {
    kcat(&k1(channel_id), address.as_bytes())
}

pub fn get(rtx: &ReadTransaction, id: ContactId) -> Result<Option<Contact>> {
    codec::get(&rtx.open_table(CONTACTS)?, &k1(id))
}

/// Visit contacts newest first until `f` answers `false` (the directory search).
pub fn each_newest_first(
    rtx: &ReadTransaction,
    mut f: impl FnMut(Contact) -> Result<bool>,
) -> Result<()> {
    let t = rtx.open_table(CONTACTS)?;
    for item in t.iter()?.rev() {
        if !f(codec::decode(item?.1.value())?)? {
            break;
        }
    }
    Ok(())
}

pub fn get_in(ctx: &WriteCtx<'_>, id: ContactId) -> Result<Contact> {
    codec::get(&ctx.txn.open_table(CONTACTS)?, &k1(id))?.ok_or(Error::NotFound("contact"))
}

pub fn put_in(ctx: &WriteCtx<'_>, c: &Contact) -> Result<()> {
    codec::put(&mut ctx.txn.open_table(CONTACTS)?, &k1(c.id), c)
}

/// Tell the inboxes of the contact's channel that it changed (name, block status, merge).
pub fn announce_in(ctx: &mut WriteCtx<'_>, c: &Contact) -> Result<()> {
    ctx.emit(
        crate::store::Audience::Channel {
            channel_id: c.channel_id,
        },
        &super::events::Event::ContactUpdated(c),
    )
}

/// The contact of one address on one channel. A contact merged into another stays the identity
/// of its own address (replies must go to the number the customer wrote from); only its
/// history and block status belong to the surviving contact (see `root_in`).
pub fn find_in(
    ctx: &WriteCtx<'_>,
    channel_id: ChannelId,
    address: &str,
) -> Result<Option<Contact>> {
    let id = match ctx
        .txn
        .open_table(CONTACTS_BY_ADDR)?
        .get(addr_key(channel_id, address).as_slice())?
    {
        Some(v) => codec::id_at(v.value(), 0)?,
        None => return Ok(None),
    };
    get_in(ctx, id).map(Some)
}

/// The surviving contact of a merged one (itself when not merged).
pub fn root_in(ctx: &WriteCtx<'_>, c: &Contact) -> Result<Contact> {
    match c.merged_into {
        Some(target) => get_in(ctx, target),
        None => Ok(c.clone()),
    }
}

/// The id of the person a contact belongs to (itself when not merged).
pub fn root_id(rtx: &ReadTransaction, id: ContactId) -> Result<ContactId> {
    Ok(get(rtx, id)?.and_then(|c| c.merged_into).unwrap_or(id))
}

/// Blocked itself or through the contact it was merged into.
pub fn blocked_in(ctx: &WriteCtx<'_>, c: &Contact) -> Result<bool> {
    Ok(c.blocked.is_some() || root_in(ctx, c)?.blocked.is_some())
}

pub fn find(
    rtx: &ReadTransaction,
    channel_id: ChannelId,
    address: &str,
) -> Result<Option<Contact>> {
    let id = match rtx
        .open_table(CONTACTS_BY_ADDR)?
        .get(addr_key(channel_id, address).as_slice())?
    {
        Some(v) => codec::id_at(v.value(), 0)?,
        None => return Ok(None),
    };
    get(rtx, id)
}

/// Finds or creates the contact; a provider profile name fills in unless an agent edited it.
pub fn upsert_in(
    ctx: &mut WriteCtx<'_>,
    channel_id: ChannelId,
    address: &str,
    profile_name: Option<&str>,
) -> Result<(Contact, bool)> {
    let address = address.trim();
    if address.is_empty() || address.len() > 200 {
        return Err(Error::invalid(
            "from",
            "the sender address is empty or too long",
        ));
    }
    let clean_name = profile_name.map(|n| {
        n.chars()
            .filter(|c| !c.is_control())
            .take(100)
            .collect::<String>()
    });
    if let Some(mut c) = find_in(ctx, channel_id, address)? {
        if let Some(n) = clean_name
            && !n.is_empty()
            && !c.name_edited
            && c.name != n
        {
            c.name = n;
            put_in(ctx, &c)?;
            // The customer changed their profile name: open inboxes show it at once, as
            // they do for a rename by an agent.
            announce_in(ctx, &c)?;
        }
        return Ok((c, false));
    }
    let id = ContactId(ctx.next_id("contact")?);
    let c = Contact {
        id,
        channel_id,
        address: address.to_string(),
        name: clean_name.unwrap_or_default(),
        name_edited: false,
        email: String::new(),
        created: ctx.now,
        blocked: None,
        merged_into: None,
    };
    ctx.txn
        .open_table(CONTACTS_BY_ADDR)?
        .insert(addr_key(channel_id, address).as_slice(), k1(id).as_slice())?;
    put_in(ctx, &c)?;
    Ok((c, true))
}

/// Is this sender blocked? Checked at intake before anything is stored or downloaded.
pub fn is_blocked(rtx: &ReadTransaction, channel_id: ChannelId, address: &str) -> Result<bool> {
    let Some(c) = find(rtx, channel_id, address)? else {
        return Ok(false);
    };
    if c.blocked.is_some() {
        return Ok(true);
    }
    Ok(match c.merged_into {
        Some(t) => get(rtx, t)?.is_some_and(|r| r.blocked.is_some()),
        None => false,
    })
}
