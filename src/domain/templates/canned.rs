//! Canned replies for the composer's `/shortcut` insertion: shared ones (admins keep them) and
//! each user's personal ones.

use crate::ids::UserId;
use redb::{ReadTransaction, ReadableTable};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::store::codec::{self, k1};
use crate::store::tables::CANNED;
use crate::store::{Store, WriteCtx};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Canned {
    pub id: u64,
    /// None = shared with everyone (admins manage these); Some(user) = personal.
    pub owner: Option<UserId>,
    /// Typed after `/` in the composer, e.g. `hours`.
    pub shortcut: String,
    pub text: String,
    pub created: i64,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct CannedInput {
    pub shortcut: String,
    pub text: String,
    /// Shared with everyone (admins only); default personal.
    #[serde(default)]
    pub shared: bool,
}

fn all_canned(t: &impl ReadableTable<&'static [u8], &'static [u8]>) -> Result<Vec<Canned>> {
    let mut out = Vec::new();
    for item in t.iter()? {
        out.push(codec::decode::<Canned>(item?.1.value())?);
    }
    Ok(out)
}

/// The caller's personal and the shared canned replies whose shortcut starts with `q` (or
/// whose text contains it), shortcut order; personal ones first on equal shortcuts.
pub fn search_canned(rtx: &ReadTransaction, user_id: UserId, q: &str) -> Result<Vec<Canned>> {
    let q = q.trim().trim_start_matches('/').to_lowercase();
    let mut out: Vec<Canned> = all_canned(&rtx.open_table(CANNED)?)?
        .into_iter()
        .filter(|c| c.owner.is_none_or(|o| o == user_id))
        .filter(|c| {
            q.is_empty() || c.shortcut.starts_with(&q) || c.text.to_lowercase().contains(&q)
        })
        .collect();
    out.sort_by(|a, b| {
        let pa = !a.shortcut.starts_with(&q);
        let pb = !b.shortcut.starts_with(&q);
        (pa, &a.shortcut, a.owner.is_none()).cmp(&(pb, &b.shortcut, b.owner.is_none()))
    });
    out.truncate(50);
    Ok(out)
}

fn validate_canned(input: &CannedInput) -> Result<(String, String)> {
    let s = input.shortcut.trim().trim_start_matches('/').to_lowercase();
    if s.is_empty()
        || s.len() > 32
        || !s
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Err(Error::invalid(
            "shortcut",
            "must be 1 to 32 letters, digits, _ or -",
        ));
    }
    let text = input.text.trim();
    if text.is_empty() || text.chars().count() > 4096 {
        return Err(Error::invalid("text", "must be 1 to 4096 characters"));
    }
    Ok((s, text.to_string()))
}

/// `actor` creates (`id` None) or changes a canned reply: their own personal ones, shared ones
/// only as an administrator.
pub async fn save_canned(
    store: &Store,
    actor: &crate::domain::users::User,
    id: Option<u64>,
    input: CannedInput,
) -> Result<Canned> {
    let actor = actor.clone();
    store
        .write(move |ctx| save_canned_in(ctx, &actor, id, &input))
        .await
}

/// `actor` deletes a canned reply (the same rights as changing it); returns what was deleted.
pub async fn delete_canned(
    store: &Store,
    actor: &crate::domain::users::User,
    id: u64,
) -> Result<Canned> {
    let actor = actor.clone();
    store
        .write(move |ctx| delete_canned_in(ctx, &actor, id))
        .await
}

/// Create (id None) or change a canned reply. Shared ones need an admin; personal ones their owner.
pub fn save_canned_in(
    ctx: &mut WriteCtx<'_>,
    actor: &crate::domain::users::User,
    id: Option<u64>,
    input: &CannedInput,
) -> Result<Canned> {
    let (shortcut, text) = validate_canned(input)?;
    let owner = if input.shared {
        if !actor.is_admin() {
            return Err(Error::Forbidden(
                "only administrators manage shared canned replies".into(),
            ));
        }
        None
    } else {
        Some(actor.id)
    };
    let mut tbl = ctx.txn.open_table(CANNED)?;
    let existing = all_canned(&tbl)?;
    let created = match id {
        Some(id) => {
            let old = existing
                .iter()
                .find(|c| c.id == id)
                .ok_or(Error::NotFound("canned reply"))?;
            may_edit(actor, old)?;
            old.created
        }
        None => ctx.now,
    };
    if existing
        .iter()
        .any(|c| Some(c.id) != id && c.owner == owner && c.shortcut == shortcut)
    {
        return Err(Error::Conflict(format!("/{shortcut} already exists")));
    }
    let cid = match id {
        Some(id) => id,
        None => ctx.next_id("canned")?,
    };
    let c = Canned {
        id: cid,
        owner,
        shortcut,
        text,
        created,
    };
    codec::put(&mut tbl, &k1(cid), &c)?;
    drop(tbl);
    if owner.is_none() {
        crate::domain::audit::record(
            ctx,
            Some(actor.id),
            if id.is_some() {
                "canned.update"
            } else {
                "canned.create"
            },
            format!("canned:{cid}"),
            format!("/{}", c.shortcut),
        )?;
    }
    Ok(c)
}

fn may_edit(actor: &crate::domain::users::User, c: &Canned) -> Result<()> {
    match c.owner {
        None if actor.is_admin() => Ok(()),
        None => Err(Error::Forbidden(
            "only administrators manage shared canned replies".into(),
        )),
        Some(o) if o == actor.id => Ok(()),
        Some(_) => Err(Error::NotFound("canned reply")),
    }
}

/// Delete a canned reply; returns what was deleted.
pub fn delete_canned_in(
    ctx: &mut WriteCtx<'_>,
    actor: &crate::domain::users::User,
    id: u64,
) -> Result<Canned> {
    let old: Canned = {
        let mut tbl = ctx.txn.open_table(CANNED)?;
        let old: Canned = codec::get(&tbl, &k1(id))?.ok_or(Error::NotFound("canned reply"))?;
        may_edit(actor, &old)?;
        tbl.remove(k1(id).as_slice())?;
        old
    };
    if old.owner.is_none() {
        crate::domain::audit::record(
            ctx,
            Some(actor.id),
            "canned.delete",
            format!("canned:{id}"),
            format!("/{}", old.shortcut),
        )?;
    }
    Ok(old)
}
