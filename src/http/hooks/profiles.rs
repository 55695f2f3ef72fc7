//! Messenger customers' names and pictures from the User Profile API, fetched once per
//! sender (per process) in a background task after the webhook was answered. A failure keeps
//! the PSID as the name and is logged once per sender.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, OnceLock};

use crate::channels::profile;
use crate::domain::channels::Channel;
use crate::domain::contacts;
use crate::http::HttpState;
use crate::ids::ChannelId;

/// Senders already asked about (or being asked about) in this process.
fn asked() -> &'static Mutex<HashSet<(ChannelId, String)>> {
    static ASKED: OnceLock<Mutex<HashSet<(ChannelId, String)>>> = OnceLock::new();
    ASKED.get_or_init(|| Mutex::new(HashSet::new()))
}

/// True the first time `(channel, psid)` is seen (bounded: forgets everything past 50 000).
fn first_time(channel: ChannelId, psid: &str) -> bool {
    let Ok(mut set) = asked().lock() else {
        return false;
    };
    if set.len() > 50_000 {
        set.clear();
    }
    set.insert((channel, psid.to_owned()))
}

/// Ask about the senders of a durable batch that still go by their PSID (`meta::OnSenders`).
pub(super) fn look_up_later(state: HttpState, ch: Arc<Channel>, senders: Vec<String>) {
    let mut todo: Vec<String> = Vec::new();
    for s in senders {
        if !todo.contains(&s) {
            todo.push(s);
        }
    }
    tokio::spawn(async move {
        for psid in todo {
            look_up(&state, &ch, &psid).await;
        }
    });
}

async fn look_up(state: &HttpState, ch: &Channel, psid: &str) {
    let (id, addr) = (ch.id, psid.to_owned());
    let known = state
        .store
        .read(move |rtx| contacts::find(rtx, id, &addr))
        .await;
    // Only contacts that still go by their id (no name) and have no picture are asked about.
    match known {
        Ok(Some(c)) if c.name.trim().is_empty() && c.picture.is_none() => {}
        _ => return,
    }
    if !first_time(ch.id, psid) {
        return;
    }
    let token = ch.credentials.page_token.clone();
    match profile::fetch(&state.http, ch.api_base(), &token, psid).await {
        Ok(p) => {
            let saved =
                contacts::note_profile(&state.store, id, psid.to_owned(), p.name, p.picture).await;
            if let Err(e) = saved {
                tracing::warn!(channel = %id, error = %e, "Messenger profile not saved");
            }
        }
        Err(reason) => {
            tracing::warn!(channel = %id, %reason, "Messenger profile lookup failed; the customer keeps their id as name");
        }
    }
}
