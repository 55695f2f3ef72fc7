//! WhatsApp read receipts and typing indicator (Meta, "Mark messages as read" and "Typing
//! indicators"): when an agent opens a conversation its newest customer message is marked read
//! at Meta (which marks the earlier ones too); while an agent types, Meta shows the customer a
//! typing indicator (it goes away on our reply or after 25 s). Both are per-channel switches
//! (`Channel::read_receipts_off`, `typing_off`); the typing call also marks read, so it is sent
//! only when read receipts are on.
//!
//! Nothing is stored: a failed call is logged and dropped (the customer merely misses the
//! ticks). Repeats are damped in memory: the same message is marked read once, and typing is
//! sent at most every [`TYPING_EVERY_MS`] per conversation.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use crate::channels::whatsapp;
use crate::domain::channels::{self, ChannelKind};
use crate::domain::messages::Direction;
use crate::domain::sessions::{self, SessionStatus};
use crate::domain::users::User;
use crate::error::Result;
use crate::ids::SessionId;
use crate::store::Store;

/// Meta clears the indicator after 25 s; refreshing a little earlier keeps it up while the
/// agent keeps typing.
pub const TYPING_EVERY_MS: i64 = 20_000;

/// A session of one store (the path tells stores apart: tests run several in one process).
type Key = (std::path::PathBuf, SessionId);

#[derive(Default)]
struct Last {
    read: HashMap<Key, String>,
    typing: HashMap<Key, i64>,
}

fn last() -> std::sync::MutexGuard<'static, Last> {
    static L: OnceLock<Mutex<Last>> = OnceLock::new();
    L.get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Signal {
    Read,
    Typing,
}

/// The WhatsApp settings and newest customer message id of a session the user sees, when the
/// signal is switched on for its channel.
async fn target(
    store: &Store,
    user: &User,
    id: SessionId,
    signal: Signal,
) -> Result<Option<(whatsapp::WhatsAppConfig, String)>> {
    let u = user.clone();
    store
        .read(move |rtx| {
            let s = sessions::get_visible(rtx, &u, id)?;
            if s.channel_kind != ChannelKind::Whatsapp || s.status != SessionStatus::Open {
                return Ok(None);
            }
            let Some(ch) = channels::get(rtx, s.channel_id)? else {
                return Ok(None);
            };
            if ch.read_receipts_off || (signal == Signal::Typing && ch.typing_off) {
                return Ok(None);
            }
            let newest = crate::domain::messages::page(rtx, id, None, 200)?;
            let wamid = newest.into_iter().rev().find_map(|m| {
                (m.direction == Direction::In)
                    .then_some(m.provider_id)
                    .flatten()
                    .filter(|p| p.starts_with("wamid."))
            });
            if let Some(pid) = wamid {
                return Ok(Some((super::plan::whatsapp_cfg(&ch), pid)));
            }
            Ok(None)
        })
        .await
}

/// An agent opened session `id`: mark its newest customer message read at Meta, once.
/// Returns whether a call was made.
pub async fn opened(
    store: &Store,
    http: &reqwest::Client,
    user: &User,
    id: SessionId,
) -> Result<bool> {
    let Some((cfg, wamid)) = target(store, user, id, Signal::Read).await? else {
        return Ok(false);
    };
    let key = (store.path().to_path_buf(), id);
    {
        let mut l = last();
        if l.read.get(&key) == Some(&wamid) {
            return Ok(false);
        }
        l.read.insert(key.clone(), wamid.clone());
    }
    if let Err(e) = whatsapp::mark_read(http, &cfg, &wamid).await {
        last().read.remove(&key);
        tracing::warn!(session = %id, error = %e, "WhatsApp mark-read failed");
    }
    Ok(true)
}

/// An agent is typing in session `id`: show the customer the typing indicator (at most every
/// [`TYPING_EVERY_MS`]). `Ok(false)` when the session is not a WhatsApp one.
pub async fn typing(
    store: &Store,
    http: &reqwest::Client,
    user: &User,
    id: SessionId,
    now: i64,
) -> Result<bool> {
    let kind = {
        let u = user.clone();
        store
            .read(move |rtx| Ok(sessions::get_visible(rtx, &u, id)?.channel_kind))
            .await?
    };
    if kind != ChannelKind::Whatsapp {
        return Ok(false);
    }
    let Some((cfg, wamid)) = target(store, user, id, Signal::Typing).await? else {
        return Ok(true);
    };
    let key = (store.path().to_path_buf(), id);
    {
        let mut l = last();
        if l.typing
            .get(&key)
            .is_some_and(|t| now - t < TYPING_EVERY_MS)
        {
            return Ok(true);
        }
        l.typing.insert(key.clone(), now);
        l.read.insert(key, wamid.clone());
    }
    if let Err(e) = whatsapp::typing(http, &cfg, &wamid).await {
        tracing::warn!(session = %id, error = %e, "WhatsApp typing indicator failed");
    }
    Ok(true)
}

/// A reply went out: Meta has cleared the indicator, so the next keystroke may show it again.
pub fn replied(store: &Store, id: SessionId) {
    last().typing.remove(&(store.path().to_path_buf(), id));
}
