//! The contacts directory: search across channels, edit names, merge two contacts that are the
//! same person. A merged contact keeps its own address and channel (so replies still go where
//! the customer wrote from) but its sessions join the surviving contact's history, and it is
//! listed as one of that person's addresses.

use crate::domain::sessions::TimelineKind;
use crate::ids::ContactId;
use crate::ids::UserId;
use redb::{ReadTransaction, ReadableTable};
use serde::Serialize;

use super::access::{self, Visible};
use super::audit;
use super::contacts::{self, Contact};
use super::sessions::{self, Session};
use super::users::User;
use crate::error::{Error, Result};
use crate::store::codec::{self, k1, k2};
use crate::store::tables::CONTACT_ALIASES;
use crate::store::{Store, WriteCtx};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DirectoryEntry {
    pub contact: Contact,
    /// Contacts merged into this one (other numbers / channels of the same person).
    pub aliases: Vec<Contact>,
    /// Every session of the person the caller may see, newest first.
    pub sessions: Vec<Session>,
}

fn aliases(rtx: &ReadTransaction, root: ContactId) -> Result<Vec<Contact>> {
    let t = rtx.open_table(CONTACT_ALIASES)?;
    let (start, end) = (k1(root), k1(root.next()));
    let mut out = Vec::new();
    for item in t.range::<&[u8]>(start.as_slice()..end.as_slice())? {
        let id = codec::id_at(item?.0.value(), 8)?;
        if let Some(c) = contacts::get(rtx, id)? {
            out.push(c);
        }
    }
    Ok(out)
}

fn digits(s: &str) -> String {
    s.chars().filter(|c| c.is_ascii_digit()).collect()
}

fn matches(c: &Contact, q: &str, qd: &str) -> bool {
    q.is_empty()
        || c.name.to_lowercase().contains(q)
        || c.address.to_lowercase().contains(q)
        || c.email.to_lowercase().contains(q)
        || (!qd.is_empty() && digits(&c.address).contains(qd))
}

/// One person with their addresses and visible sessions (None if the caller sees none of them).
pub fn entry(
    rtx: &ReadTransaction,
    vis: &Visible,
    id: ContactId,
) -> Result<Option<DirectoryEntry>> {
    let root_id = contacts::root_id(rtx, id)?;
    let Some(root) = contacts::get(rtx, root_id)? else {
        return Ok(None);
    };
    let aliases = aliases(rtx, root_id)?;
    if !vis.channel(root.channel_id) && !aliases.iter().any(|a| vis.channel(a.channel_id)) {
        return Ok(None);
    }
    let sessions = sessions::for_contact(rtx, root_id)?
        .into_iter()
        .filter(|s| vis.channel(s.channel_id))
        .take(50)
        .collect();
    Ok(Some(DirectoryEntry {
        contact: root,
        aliases,
        sessions,
    }))
}

/// Contacts matching `q` (name, number, email; numbers match ignoring `+`, spaces and dashes),
/// newest first, at most `limit`.
pub fn search(
    rtx: &ReadTransaction,
    vis: &Visible,
    q: &str,
    limit: usize,
) -> Result<Vec<DirectoryEntry>> {
    let q = q.trim().to_lowercase();
    let qd = if q.chars().any(|c| c.is_ascii_digit())
        && q.chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '+' | ' ' | '-' | '(' | ')'))
    {
        digits(&q)
    } else {
        String::new()
    };
    let mut out = Vec::new();
    contacts::each_newest_first(rtx, |c| {
        if out.len() >= limit {
            return Ok(false);
        }
        if c.merged_into.is_some() {
            return Ok(true); // listed under the contact it was merged into
        }
        let hit = matches(&c, &q, &qd) || aliases(rtx, c.id)?.iter().any(|a| matches(a, &q, &qd));
        if hit && let Some(e) = entry(rtx, vis, c.id)? {
            out.push(e);
        }
        Ok(true)
    })?;
    Ok(out)
}

/// The contact, if `user` sees its channel (or the channel of the person it belongs to); else
/// `NotFound`, so its existence does not leak.
pub fn visible_contact(rtx: &ReadTransaction, user: &User, id: ContactId) -> Result<Contact> {
    let vis = access::visible_channels(rtx, user)?;
    let c = contacts::get(rtx, id)?.ok_or(Error::NotFound("contact"))?;
    if vis.channel(c.channel_id) || entry(rtx, &vis, id)?.is_some() {
        Ok(c)
    } else {
        Err(Error::NotFound("contact"))
    }
}

/// `user` renames a contact they see (the directory page and `PATCH /api/v1/contacts/{id}`).
pub async fn rename(store: &Store, user: &User, id: ContactId, name: String) -> Result<Contact> {
    let u = user.clone();
    store.read(move |rtx| visible_contact(rtx, &u, id)).await?;
    let actor = user.id;
    store
        .write(move |ctx| rename_in(ctx, actor, id, &name))
        .await
}

/// `user` sets the language of a contact they see (`None`: unknown). Only shipped languages.
pub async fn set_language(
    store: &Store,
    user: &User,
    id: ContactId,
    language: Option<String>,
) -> Result<Contact> {
    let language = match language.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(code) => Some(
            crate::locale::Lang::shipped("language", code)?
                .code()
                .to_string(),
        ),
    };
    let u = user.clone();
    store.read(move |rtx| visible_contact(rtx, &u, id)).await?;
    let actor = user.id;
    store
        .write(move |ctx| {
            let mut c = contacts::get_in(ctx, id)?;
            let old = std::mem::replace(&mut c.language, language.clone());
            contacts::put_in(ctx, &c)?;
            audit::record(
                ctx,
                Some(actor),
                "contact.language",
                format!("contact:{id}"),
                format!("{old:?} -> {:?}", c.language),
            )?;
            contacts::announce_in(ctx, &c)?;
            Ok(c)
        })
        .await
}

/// `user` merges contact `source` into `into`; both must be visible to them.
pub async fn merge(
    store: &Store,
    user: &User,
    source: ContactId,
    into: ContactId,
) -> Result<Contact> {
    if source == into {
        return Err(Error::invalid(
            "into",
            "a contact cannot be merged with itself",
        ));
    }
    let u = user.clone();
    store
        .read(move |rtx| {
            visible_contact(rtx, &u, source)?;
            visible_contact(rtx, &u, into)
        })
        .await?;
    let actor = user.id;
    store
        .write(move |ctx| merge_in(ctx, actor, source, into))
        .await
}

/// An agent edits the name: provider profile names no longer overwrite it.
pub fn rename_in(
    ctx: &mut WriteCtx<'_>,
    actor: UserId,
    id: ContactId,
    name: &str,
) -> Result<Contact> {
    let name: String = name.trim().chars().filter(|c| !c.is_control()).collect();
    if name.chars().count() > 100 {
        return Err(Error::invalid("name", "must be at most 100 characters"));
    }
    let mut c = contacts::get_in(ctx, id)?;
    let old = std::mem::replace(&mut c.name, name);
    c.name_edited = true;
    contacts::put_in(ctx, &c)?;
    audit::record(
        ctx,
        Some(actor),
        "contact.rename",
        format!("contact:{id}"),
        format!("{old:?} -> {:?}", c.name),
    )?;
    contacts::announce_in(ctx, &c)?;
    Ok(c)
}

/// Merge contact `source` into `into` (the same person): source's sessions join the target's
/// history, and source (with anything merged into it before) becomes one of its addresses.
pub fn merge_in(
    ctx: &mut WriteCtx<'_>,
    actor: UserId,
    source: ContactId,
    into: ContactId,
) -> Result<Contact> {
    if source == into {
        return Err(Error::invalid(
            "into",
            "a contact cannot be merged with itself",
        ));
    }
    let mut src = contacts::get_in(ctx, source)?;
    let target = contacts::root_in(ctx, &contacts::get_in(ctx, into)?)?;
    if let Some(r) = src.merged_into {
        return Err(Error::Conflict(format!(
            "contact {source} was already merged into contact {r}"
        )));
    }
    if target.id == source {
        return Err(Error::invalid(
            "into",
            "these contacts are already the same person",
        ));
    }
    let moved = sessions::move_history_in(ctx, source, target.id)?;
    // Earlier aliases of the source now belong to the target (chains stay one level deep).
    let old_aliases: Vec<ContactId> = {
        let t = ctx.txn.open_table(CONTACT_ALIASES)?;
        let (start, end) = (k1(source), k1(source.next()));
        let mut v = Vec::new();
        for item in t.range::<&[u8]>(start.as_slice()..end.as_slice())? {
            v.push(codec::id_at(item?.0.value(), 8)?);
        }
        v
    };
    {
        let mut t = ctx.txn.open_table(CONTACT_ALIASES)?;
        for a in &old_aliases {
            t.remove(k2(source, *a).as_slice())?;
            t.insert(k2(target.id, *a).as_slice(), [].as_slice())?;
        }
        t.insert(k2(target.id, source).as_slice(), [].as_slice())?;
    }
    for a in &old_aliases {
        let mut c = contacts::get_in(ctx, *a)?;
        c.merged_into = Some(target.id);
        contacts::put_in(ctx, &c)?;
    }
    src.merged_into = Some(target.id);
    contacts::put_in(ctx, &src)?;
    let phrase = crate::locale::Phrase::new("tl.d.merged")
        .arg("from", format!("{} ({})", src.label(), src.address))
        .arg("into", format!("{} ({})", target.label(), target.address))
        .arg("n", moved.len());
    audit::record_phrased(
        ctx,
        Some(actor),
        "contact.merge",
        format!("contact:{source}"),
        vec![phrase.clone()],
    )?;
    for sid in &moved {
        sessions::timeline_phrased_in(
            ctx,
            *sid,
            Some(actor),
            TimelineKind::Merged,
            Some(phrase.clone()),
            "",
        )?;
    }
    for c in [&src, &target] {
        contacts::announce_in(ctx, c)?;
    }
    Ok(target)
}
