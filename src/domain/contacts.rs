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
    /// WhatsApp business-scoped user id (`US.…`), also a lookup key of this contact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// WhatsApp username, shown where the number is hidden.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// The phone number when the provider sent one and the address is not it (a WhatsApp
    /// contact first known by user id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// SMS: the customer replied STOP (or a synonym); nothing may be sent until START.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opted_out: Option<OptOut>,
    /// Messenger: the profile picture URL from the User Profile API.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub picture: Option<String>,
    /// The customer's language (a shipped language's code, `"de"`), when known: the website
    /// widget sends the browser's, an agent can set it. Automatic replies use it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
}

/// When and with which word a customer opted out of SMS.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OptOut {
    pub keyword: String,
    pub at: i64,
}

impl Contact {
    /// The name, else the WhatsApp username, else the address.
    pub fn label(&self) -> &str {
        if !self.name.is_empty() {
            &self.name
        } else if let Some(u) = self.username.as_deref().filter(|u| !u.is_empty()) {
            u
        } else {
            &self.address
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
        user_id: None,
        username: None,
        phone: None,
        opted_out: None,
        picture: None,
        language: None,
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

fn clean(v: &str, max: usize) -> String {
    v.chars().filter(|c| !c.is_control()).take(max).collect()
}

/// The contact a WhatsApp customer writes as: found by `address` (the number, or the
/// business-scoped user id when Meta withheld it), else by the user id (a contact first known
/// by user id whose number now arrives). Records user id, username and phone on it and makes
/// the user id a lookup key. Returns `None` when nothing is known yet (the caller upserts).
pub fn find_with_identity_in(
    ctx: &WriteCtx<'_>,
    channel_id: ChannelId,
    address: &str,
    identity: &crate::channels::Identity,
) -> Result<Option<Contact>> {
    let found = match find_in(ctx, channel_id, address.trim())? {
        Some(c) => Some(c),
        None => match &identity.user_id {
            Some(u) => find_in(ctx, channel_id, u)?,
            None => None,
        },
    };
    Ok(found)
}

/// Note what the provider said about the customer: user id (also indexed), username, and the
/// phone number when it differs from the address. Announces a change.
pub fn note_identity_in(
    ctx: &mut WriteCtx<'_>,
    c: &mut Contact,
    identity: &crate::channels::Identity,
) -> Result<()> {
    let mut changed = false;
    if let Some(u) = &identity.user_id
        && c.user_id.as_deref() != Some(u.as_str())
    {
        let key = addr_key(c.channel_id, u);
        let mut t = ctx.txn.open_table(CONTACTS_BY_ADDR)?;
        // Never take a key another contact holds.
        if t.get(key.as_slice())?.is_none() {
            t.insert(key.as_slice(), k1(c.id).as_slice())?;
        }
        drop(t);
        c.user_id = Some(u.clone());
        changed = true;
    }
    if let Some(n) = identity.username.as_deref().map(|n| clean(n, 100))
        && !n.is_empty()
        && c.username.as_deref() != Some(n.as_str())
    {
        c.username = Some(n);
        changed = true;
    }
    if let Some(p) = identity.phone.as_deref().map(|p| clean(p, 40))
        && !p.is_empty()
        && p != c.address
        && c.phone.as_deref() != Some(p.as_str())
    {
        c.phone = Some(p);
        changed = true;
    }
    if changed {
        put_in(ctx, c)?;
        announce_in(ctx, c)?;
    }
    Ok(())
}

/// WhatsApp `user_id_update`: the contact known by user id `previous` is now `current`. Its
/// lookup key moves, and so does its address when that was the old user id (replies go to the
/// new one). Unknown `previous`, or `current` already taken by another contact: nothing
/// changes (`Ok(false)`).
pub fn move_user_id_in(
    ctx: &mut WriteCtx<'_>,
    channel_id: ChannelId,
    previous: &str,
    current: &str,
    phone: Option<&str>,
) -> Result<bool> {
    let Some(mut c) = find_in(ctx, channel_id, previous)? else {
        return Ok(false);
    };
    if c.user_id.as_deref() != Some(previous) && c.address != previous {
        // `previous` is this contact's phone number, not a user id: not ours to move.
        return Ok(false);
    }
    let new_key = addr_key(channel_id, current);
    {
        let mut t = ctx.txn.open_table(CONTACTS_BY_ADDR)?;
        if let Some(v) = t.get(new_key.as_slice())? {
            let holder: ContactId = codec::id_at(v.value(), 0)?;
            if holder != c.id {
                return Ok(false);
            }
        }
        t.remove(addr_key(channel_id, previous).as_slice())?;
        t.insert(new_key.as_slice(), k1(c.id).as_slice())?;
    }
    if c.address == previous {
        c.address = current.to_string();
    }
    c.user_id = Some(current.to_string());
    if let Some(p) = phone.map(|p| clean(p, 40)).filter(|p| !p.is_empty())
        && p != c.address
    {
        c.phone = Some(p);
    }
    put_in(ctx, &c)?;
    announce_in(ctx, &c)?;
    Ok(true)
}

/// An SMS opt-out or opt-in keyword arrived from this contact (Twilio has already stopped or
/// resumed delivery on its side): record it so composer and API refuse sends until START.
pub fn note_keyword_in(
    ctx: &mut WriteCtx<'_>,
    c: &mut Contact,
    keyword: crate::channels::Keyword,
    word: &str,
) -> Result<()> {
    use crate::channels::Keyword;
    let next = match keyword {
        Keyword::OptOut => Some(OptOut {
            keyword: clean(word.trim(), 20).to_uppercase(),
            at: ctx.now,
        }),
        Keyword::OptIn => None,
        Keyword::Help => return Ok(()),
    };
    if next.is_none() && c.opted_out.is_none() {
        return Ok(());
    }
    c.opted_out = next;
    put_in(ctx, c)?;
    announce_in(ctx, c)
}

/// The provider's profile of a contact arrived: [`note_profile_in`] in its own write.
pub async fn note_profile(
    store: &crate::store::Store,
    channel_id: ChannelId,
    address: String,
    name: String,
    picture: Option<String>,
) -> Result<bool> {
    store
        .write(move |ctx| note_profile_in(ctx, channel_id, &address, &name, picture.as_deref()))
        .await
}

/// The provider's profile of a contact arrived (Messenger User Profile API): the name unless
/// an agent set one or one is known already, and the picture. `false` when nothing changed.
pub fn note_profile_in(
    ctx: &mut WriteCtx<'_>,
    channel_id: ChannelId,
    address: &str,
    name: &str,
    picture: Option<&str>,
) -> Result<bool> {
    let Some(mut c) = find_in(ctx, channel_id, address)? else {
        return Ok(false);
    };
    let name = clean(name.trim(), 100);
    let mut changed = false;
    if !name.is_empty() && !c.name_edited && c.name.trim().is_empty() {
        c.name = name;
        changed = true;
    }
    if let Some(p) = picture
        && c.picture.as_deref() != Some(p)
    {
        c.picture = Some(clean(p, 2000));
        changed = true;
    }
    if changed {
        put_in(ctx, &c)?;
        announce_in(ctx, &c)?;
    }
    Ok(changed)
}

/// A language as a browser or a person gives it (`"de-DE"`, `"de"`): its primary subtag when
/// Switchboard ships that language, else `None`.
pub fn shipped_language(tag: &str) -> Option<String> {
    let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
    crate::locale::Lang::from_code(&primary).map(|l| l.code().to_string())
}

/// The widget told the visitor's browser language: kept on the contact when none is known yet
/// (an agent's choice or an earlier one is never overwritten). Unshipped languages are ignored.
pub fn note_language_in(ctx: &mut WriteCtx<'_>, id: ContactId, tag: Option<&str>) -> Result<()> {
    let Some(lang) = tag.and_then(shipped_language) else {
        return Ok(());
    };
    let mut c = get_in(ctx, id)?;
    if c.language.is_some() {
        return Ok(());
    }
    c.language = Some(lang);
    put_in(ctx, &c)?;
    announce_in(ctx, &c)
}

#[cfg(test)]
mod tests {
    use super::shipped_language;

    #[test]
    fn a_browser_language_is_kept_as_its_shipped_primary_subtag() {
        assert_eq!(shipped_language("de-DE").as_deref(), Some("de"));
        assert_eq!(shipped_language(" DE ").as_deref(), Some("de"));
        assert_eq!(shipped_language("en_GB").as_deref(), Some("en"));
        assert_eq!(shipped_language("fr-FR"), None);
        assert_eq!(shipped_language(""), None);
    }
}
