//! What a user does to a session they see, each one write: close it (end chat), archive or
//! unarchive it, mute it for themselves. The HTML pages and the JSON API call these.

use crate::ids::SessionId;
use serde::Deserialize;

use super::{Session, SessionStatus, get_in, get_visible, save_in, timeline_in};
use crate::domain::sessions::TimelineKind;
use crate::domain::users::User;
use crate::domain::{channels, lists};
use crate::error::{Error, Result};
use crate::store::Store;

/// `user` ends the chat with an optional result (one of the admin's session results, when a
/// list is defined) and note. Closed sessions are read-only.
pub async fn close(
    store: &Store,
    user: &User,
    id: SessionId,
    result: Option<String>,
    note: String,
) -> Result<Session> {
    let s = workable(store, user, id).await?;
    if !super::may_manage(user, &s) {
        return Err(Error::Conflict(
            "this conversation belongs to a colleague; only they or an admin can end it".into(),
        ));
    }
    if note.chars().count() > 2000 || result.as_ref().is_some_and(|r| r.chars().count() > 100) {
        return Err(Error::invalid(
            "note",
            "result ≤ 100 and note ≤ 2000 characters",
        ));
    }
    let uid = user.id;
    store
        .write(move |ctx| {
            let result = lists::check_result_in(ctx, result.as_deref())?;
            super::close_in(ctx, id, Some(uid), result, note.clone())
        })
        .await
}

/// `user` archives a session (it leaves the main list; a new customer message brings it
/// back) or unarchives it. Unchanged when it already is.
pub async fn set_archived(
    store: &Store,
    user: &User,
    id: SessionId,
    archived: bool,
) -> Result<Session> {
    workable(store, user, id).await?;
    let uid = user.id;
    store
        .write(move |ctx| {
            let before = get_in(ctx, id)?;
            if before.archived == archived {
                return Ok(before);
            }
            let mut s = before.clone();
            s.archived = archived;
            save_in(ctx, Some(&before), &s)?;
            let kind = if archived {
                TimelineKind::Archived
            } else {
                TimelineKind::Unarchived
            };
            timeline_in(ctx, id, Some(uid), kind, "")?;
            Ok(s)
        })
        .await
}

/// `user` reopens a closed or archived session to continue it; they become its owner.
pub async fn reopen(store: &Store, user: &User, id: SessionId) -> Result<Session> {
    workable(store, user, id).await?;
    let uid = user.id;
    store.write(move |ctx| super::reopen_in(ctx, id, uid)).await
}

/// What a bulk action does to each selected session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum BulkAction {
    Archive,
    Close,
}

/// At most this many sessions in one bulk action.
pub const BULK_MAX: usize = 200;

/// `user` archives or ends many sessions at once (a spam burst), all or nothing: refused with
/// nothing changed when any of them is not the user's to act on (unseen, or a colleague's;
/// admins act on every session they see). Returns how many sessions changed.
pub async fn bulk(
    store: &Store,
    user: &User,
    ids: Vec<SessionId>,
    action: BulkAction,
) -> Result<usize> {
    let mut ids = ids;
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() || ids.len() > BULK_MAX {
        return Err(Error::invalid(
            "ids",
            format!("choose 1 to {BULK_MAX} conversations"),
        ));
    }
    let u = user.clone();
    let visible: Vec<bool> = {
        let ids = ids.clone();
        store
            .read(move |rtx| {
                Ok(ids
                    .iter()
                    .map(|id| get_visible(rtx, &u, *id).is_ok())
                    .collect())
            })
            .await?
    };
    let (uid, admin) = (user.id, user.is_admin());
    store
        .write(move |ctx| {
            let mut foreign = Vec::new();
            let mut sessions = Vec::with_capacity(ids.len());
            for (id, seen) in ids.iter().zip(&visible) {
                if !seen {
                    foreign.push(*id);
                    continue;
                }
                let s = get_in(ctx, *id)?;
                if !admin && s.assignee.is_some_and(|a| a != uid) {
                    foreign.push(*id);
                    continue;
                }
                sessions.push(s);
            }
            if !foreign.is_empty() {
                let list: Vec<String> = foreign.iter().map(|id| format!("#{id}")).collect();
                return Err(Error::Conflict(format!(
                    "{} of the selected conversations are not yours to change ({}); nothing was changed",
                    foreign.len(),
                    list.join(", ")
                )));
            }
            let mut changed = 0;
            for before in sessions {
                match action {
                    BulkAction::Archive if !before.archived => {
                        let mut s = before.clone();
                        s.archived = true;
                        save_in(ctx, Some(&before), &s)?;
                        timeline_in(ctx, s.id, Some(uid), TimelineKind::Archived, "")?;
                        changed += 1;
                    }
                    BulkAction::Close if before.status == SessionStatus::Open => {
                        super::close_in(ctx, before.id, Some(uid), None, String::new())?;
                        changed += 1;
                    }
                    _ => {}
                }
            }
            Ok(changed)
        })
        .await
}

/// `user` mutes or unmutes a session for themselves (a red dot instead of the count).
pub async fn set_muted(store: &Store, user: &User, id: SessionId, muted: bool) -> Result<()> {
    workable(store, user, id).await?;
    let uid = user.id;
    store
        .write(move |ctx| super::set_muted_in(ctx, uid, id, muted))
        .await
}

/// The session if `user` may see it (else `NotFound`).
pub async fn visible(store: &Store, user: &User, id: SessionId) -> Result<Session> {
    let user = user.clone();
    store.read(move |rtx| get_visible(rtx, &user, id)).await
}

/// The session if `user` may see it and its channel still exists (else `NotFound`, or a
/// conflict when the channel was deleted): what working on a session needs.
pub async fn workable(store: &Store, user: &User, id: SessionId) -> Result<Session> {
    let user = user.clone();
    store
        .read(move |rtx| {
            let s = get_visible(rtx, &user, id)?;
            channels::get(rtx, s.channel_id)?.ok_or(Error::Conflict(
                "the channel of this session was deleted".into(),
            ))?;
            Ok(s)
        })
        .await
}
