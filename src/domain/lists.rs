//! Admin-defined lists: session tags and session results (used when ending a chat).

use crate::domain::sessions::TimelineKind;
use crate::ids::SessionId;
use crate::ids::UserId;
use redb::ReadTransaction;
use serde::{Deserialize, Serialize};

use super::audit;
use super::sessions::{self, Session};
use super::settings;
use crate::error::{Error, Result};
use crate::store::{Store, WriteCtx};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ListKind {
    Tags,
    Results,
}

impl ListKind {
    fn key(self) -> &'static [u8] {
        match self {
            ListKind::Tags => b"tags",
            ListKind::Results => b"results",
        }
    }
    fn name(self) -> &'static str {
        match self {
            ListKind::Tags => "tags",
            ListKind::Results => "results",
        }
    }
}

pub fn get(rtx: &ReadTransaction, kind: ListKind) -> Result<Vec<String>> {
    Ok(settings::get(rtx, kind.key())?.unwrap_or_default())
}

pub fn get_in(ctx: &WriteCtx<'_>, kind: ListKind) -> Result<Vec<String>> {
    Ok(settings::get_in(ctx, kind.key())?.unwrap_or_default())
}

/// Trims, drops empties and duplicates (keeping order), checks sizes.
pub fn normalize(items: &[String]) -> Result<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for i in items {
        let v = i.trim();
        if v.is_empty() {
            continue;
        }
        if v.chars().count() > 50 {
            return Err(Error::invalid(
                "items",
                format!("{v:?} is longer than 50 characters"),
            ));
        }
        if !out.iter().any(|o| o == v) {
            out.push(v.to_string());
        }
    }
    if out.len() > 200 {
        return Err(Error::invalid("items", "at most 200 entries"));
    }
    Ok(out)
}

/// An administrator replaces one list (callers check the role); returns it as stored.
pub async fn set(
    store: &Store,
    actor: UserId,
    kind: ListKind,
    items: Vec<String>,
) -> Result<Vec<String>> {
    store
        .write(move |ctx| set_in(ctx, actor, kind, &items))
        .await
}

/// An administrator replaces both lists at once (the workflow settings page).
pub async fn set_both(
    store: &Store,
    actor: UserId,
    tags: Vec<String>,
    results: Vec<String>,
) -> Result<()> {
    store
        .write(move |ctx| {
            set_in(ctx, actor, ListKind::Tags, &tags)?;
            set_in(ctx, actor, ListKind::Results, &results)?;
            Ok(())
        })
        .await
}

/// `user` replaces the tags of a session they see (each must be on the tag list).
pub async fn set_session_tags(
    store: &Store,
    user: &super::users::User,
    session_id: SessionId,
    tags: Vec<String>,
) -> Result<Session> {
    sessions::actions::visible(store, user, session_id).await?;
    let uid = user.id;
    store
        .write(move |ctx| set_session_tags_in(ctx, uid, session_id, &tags))
        .await
}

pub fn set_in(
    ctx: &mut WriteCtx<'_>,
    actor: UserId,
    kind: ListKind,
    items: &[String],
) -> Result<Vec<String>> {
    let items = normalize(items)?;
    settings::put_in(ctx, kind.key(), &items)?;
    audit::record(
        ctx,
        Some(actor),
        &format!("{}.update", kind.name()),
        kind.name(),
        items.join(", "),
    )?;
    Ok(items)
}

/// Replace a session's tags; every tag must be on the admin's list.
pub fn set_session_tags_in(
    ctx: &mut WriteCtx<'_>,
    actor: UserId,
    session_id: SessionId,
    tags: &[String],
) -> Result<Session> {
    let allowed = get_in(ctx, ListKind::Tags)?;
    let wanted = normalize(tags)?;
    if let Some(bad) = wanted.iter().find(|t| !allowed.contains(t)) {
        return Err(Error::invalid(
            "tags",
            format!("{bad:?} is not on the tag list; an admin defines the tags"),
        ));
    }
    let before = sessions::get_in(ctx, session_id)?;
    if before.tags == wanted {
        return Ok(before);
    }
    let mut s = before.clone();
    s.tags = wanted;
    sessions::save_in(ctx, Some(&before), &s)?;
    sessions::timeline_in(
        ctx,
        session_id,
        Some(actor),
        TimelineKind::Tagged,
        &s.tags.join(", "),
    )?;
    Ok(s)
}

/// A close result must be on the admin's result list (when one is defined).
pub fn check_result_in(ctx: &WriteCtx<'_>, result: Option<&str>) -> Result<Option<String>> {
    let Some(r) = result.map(str::trim).filter(|r| !r.is_empty()) else {
        return Ok(None);
    };
    let allowed = get_in(ctx, ListKind::Results)?;
    if !allowed.is_empty() && !allowed.iter().any(|a| a == r) {
        return Err(Error::invalid(
            "result",
            format!(
                "{r:?} is not one of the session results: {}",
                allowed.join(", ")
            ),
        ));
    }
    Ok(Some(r.to_string()))
}
