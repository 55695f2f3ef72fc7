//! The push worker: reads committed events from the store's broadcast (never from the write
//! path: a slow or failing push service delays nobody), works out who should hear about each,
//! and posts one encrypted push per subscribed device.
//!
//! | event | who gets a push |
//! |---|---|
//! | `session.created` | the assignee, or else every member of the channel (the queue) |
//! | `message.created` from the customer | the session's assignee, unless they muted it |
//! | `session.transferred` | the agent it was handed to, unless they muted it |
//! | `chat.message` | 1:1 chats: the other member unless muted; groups: mentioned members (even when muted) |
//!
//! Disabled users get nothing, nor does the person who caused the event. The payload is JSON
//! `{title, body, url, tag}`; devices with "hide content" get a body without the message text.
//! A push answered 5xx or 429 (or not answered) is tried again with backoff (Retry-After
//! honoured); 404 / 410 remove the subscription; other answers are logged and dropped.

use crate::ids::ChatId;
use crate::ids::SessionId;
use crate::ids::UserId;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use tokio::sync::{Semaphore, broadcast};
use tokio_util::sync::CancellationToken;

use super::{Subscription, Vapid, crypto};
use crate::clock::Clock;
use crate::domain::chats::{self, ChatKind, ChatMessage};
use crate::domain::messages::{Direction, Message};
use crate::domain::sessions::{self, Session};
use crate::domain::users::{self, Lang, User};
use crate::domain::{channels, contacts};
use crate::error::Result;
use crate::store::{Event, Store};

/// Tries per push (the first and up to four more).
const ATTEMPTS: u32 = 5;
/// Pushes in flight at once.
const PARALLEL: usize = 16;
/// How long the push service keeps a push for an offline device.
const TTL_SECS: u32 = 24 * 3600;

/// What the service worker shows.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Payload {
    pub title: String,
    pub body: String,
    pub url: String,
    /// One notification per conversation: a newer push replaces the older one.
    pub tag: String,
}

/// One notice for one user, before it is fitted to each of their devices.
#[derive(Debug, Clone)]
struct Notice {
    user_id: UserId,
    title: String,
    body: String,
    /// The body for devices that hide content.
    hidden_body: String,
    url: String,
    tag: String,
}

/// The worker's settings.
#[derive(Clone)]
pub struct Sender {
    pub store: Store,
    pub clock: Arc<dyn Clock>,
    pub http: reqwest::Client,
    /// The VAPID `sub` claim: the box's https address or a mailto.
    pub contact: String,
    /// The first retry waits this long, each further one twice as long.
    pub backoff: Duration,
}

/// Start the worker; it stops with `shutdown`.
pub async fn start(sender: Sender, shutdown: CancellationToken) -> Result<()> {
    let vapid = Arc::new(super::vapid(&sender.store).await?);
    let mut rx = sender.store.subscribe();
    let gate = Arc::new(Semaphore::new(PARALLEL));
    tokio::spawn(async move {
        loop {
            let ev = tokio::select! {
                _ = shutdown.cancelled() => return,
                r = rx.recv() => r,
            };
            let ev = match ev {
                Ok(ev) => ev,
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    tracing::warn!(
                        missed = n,
                        "push worker fell behind the event stream; some pushes were skipped"
                    );
                    continue;
                }
                Err(broadcast::error::RecvError::Closed) => return,
            };
            if !matters(&ev.kind) {
                continue;
            }
            let notices = match sender.store.read(move |rtx| notices(rtx, &ev)).await {
                Ok(n) => n,
                Err(e) => {
                    tracing::warn!(error = %e, "push worker could not read an event's context");
                    continue;
                }
            };
            for n in notices {
                let uid = n.user_id;
                let subs = match sender.store.read(move |rtx| super::list(rtx, uid)).await {
                    Ok(s) => s,
                    Err(e) => {
                        tracing::warn!(error = %e, "push worker could not read subscriptions");
                        continue;
                    }
                };
                for sub in subs {
                    let payload = Payload {
                        title: n.title.clone(),
                        body: if sub.hide_content {
                            n.hidden_body.clone()
                        } else {
                            n.body.clone()
                        },
                        url: n.url.clone(),
                        tag: n.tag.clone(),
                    };
                    let Ok(permit) = gate.clone().acquire_owned().await else {
                        return;
                    };
                    let (s, v) = (sender.clone(), vapid.clone());
                    tokio::spawn(async move {
                        deliver(&s, &v, &sub, &payload).await;
                        drop(permit);
                    });
                }
            }
        }
    });
    Ok(())
}

fn matters(kind: &str) -> bool {
    matches!(
        kind,
        "session.created" | "message.created" | "session.transferred" | "chat.message"
    )
}

fn lang(u: &User) -> Lang {
    u.language.unwrap_or_default()
}

/// Cut a preview to about 120 characters.
fn preview(text: &str) -> String {
    let t = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if t.chars().count() > 120 {
        let mut s: String = t.chars().take(119).collect();
        s.push('…');
        s
    } else {
        t
    }
}

fn hidden(lang: Lang) -> String {
    lang.s("push.hidden").to_string()
}

/// The user, if they may get pushes.
fn recipient(rtx: &redb::ReadTransaction, user_id: UserId) -> Result<Option<User>> {
    Ok(users::get(rtx, user_id)?.filter(|u| !u.disabled))
}

fn contact_name(rtx: &redb::ReadTransaction, s: &Session) -> Result<String> {
    Ok(contacts::get(rtx, s.contact_id)?
        .map(|c| {
            if c.name.trim().is_empty() {
                c.address
            } else {
                c.name
            }
        })
        .unwrap_or_default())
}

fn session_notice(u: &User, s: &Session, title: String, body: String) -> Notice {
    let lang = lang(u);
    Notice {
        user_id: u.id,
        title,
        body,
        hidden_body: hidden(lang),
        url: format!("/chat/external/{}", s.id),
        tag: format!("session-{}", s.id),
    }
}

fn notices(rtx: &redb::ReadTransaction, ev: &Event) -> Result<Vec<Notice>> {
    let mut out = Vec::new();
    match ev.kind.as_str() {
        "session.created" => {
            let Ok(s) = serde_json::from_value::<Session>(ev.data.clone()) else {
                return Ok(out);
            };
            // The event is emitted as the session is made, before its first message is added;
            // the committed record has the preview.
            let s = sessions::get(rtx, s.id)?.unwrap_or(s);
            let who: Vec<UserId> = match s.assignee {
                Some(a) => vec![a],
                None => channels::get(rtx, s.channel_id)?
                    .map(|c| c.members)
                    .unwrap_or_default(),
            };
            let name = contact_name(rtx, &s)?;
            for uid in who {
                let Some(u) = recipient(rtx, uid)? else {
                    continue;
                };
                let title = lang(&u).fill("push.new_conversation", &[("name", &name)]);
                out.push(session_notice(&u, &s, title, preview(&s.last_preview)));
            }
        }
        "message.created" => {
            let Ok(m) = serde_json::from_value::<Message>(ev.data.clone()) else {
                return Ok(out);
            };
            if m.direction != Direction::In {
                return Ok(out);
            }
            let Some(s) = sessions::get(rtx, m.session_id)? else {
                return Ok(out);
            };
            let Some(a) = s.assignee else { return Ok(out) };
            if sessions::read_state(rtx, a, s.id)?.muted {
                return Ok(out);
            }
            let Some(u) = recipient(rtx, a)? else {
                return Ok(out);
            };
            let name = contact_name(rtx, &s)?;
            let title = lang(&u).fill("push.message_from", &[("name", &name)]);
            let body = if m.text.trim().is_empty() && !m.files.is_empty() {
                lang(&u).s("push.sent_file").to_string()
            } else {
                preview(&m.text)
            };
            out.push(session_notice(&u, &s, title, body));
        }
        "session.transferred" => {
            let d = &ev.data;
            let (Some(sid), Some(to)) = (
                d["session_id"].as_u64().map(SessionId),
                d["to_user_id"].as_u64().map(UserId),
            ) else {
                return Ok(out);
            };
            let from = d["from"].as_str().unwrap_or_default();
            let note = d["note"].as_str().unwrap_or_default();
            let Some(s) = sessions::get(rtx, sid)? else {
                return Ok(out);
            };
            if sessions::read_state(rtx, to, sid)?.muted {
                return Ok(out);
            }
            let Some(u) = recipient(rtx, to)? else {
                return Ok(out);
            };
            let name = contact_name(rtx, &s)?;
            let title = lang(&u).fill("push.handed", &[("from", from), ("name", &name)]);
            let body = if note.trim().is_empty() {
                preview(&s.last_preview)
            } else {
                preview(note)
            };
            out.push(session_notice(&u, &s, title, body));
        }
        "chat.message" => {
            let (Some(chat_id), Ok(m)) = (
                ev.data["chat_id"].as_u64().map(ChatId),
                serde_json::from_value::<ChatMessage>(ev.data["message"].clone()),
            ) else {
                return Ok(out);
            };
            let Some(chat) = chats::get(rtx, chat_id)? else {
                return Ok(out);
            };
            let author = users::get(rtx, m.author)?
                .map(|a| a.display_name_or_username().to_string())
                .unwrap_or_default();
            for &uid in &chat.members {
                if uid == m.author {
                    continue;
                }
                let mentioned = m.mentions.contains(&uid);
                let direct = chat.kind == ChatKind::Direct;
                if !direct && !mentioned {
                    continue;
                }
                if !mentioned && chats::member_state(rtx, uid, chat_id)?.muted {
                    continue;
                }
                let Some(u) = recipient(rtx, uid)? else {
                    continue;
                };
                let l = lang(&u);
                let title = if direct {
                    author.clone()
                } else {
                    l.fill(
                        "push.mentioned",
                        &[("author", &author), ("chat", &chat.name)],
                    )
                };
                let body = if m.text.trim().is_empty() && !m.files.is_empty() {
                    l.s("push.sent_file").to_string()
                } else {
                    preview(&m.text)
                };
                out.push(Notice {
                    user_id: uid,
                    title,
                    body,
                    hidden_body: hidden(l),
                    url: format!("/chat/internal/{chat_id}"),
                    tag: format!("chat-{chat_id}"),
                });
            }
        }
        _ => {}
    }
    Ok(out)
}

enum Outcome {
    Done,
    Gone,
    Again(Option<Duration>),
    Refused(u16),
}

async fn post_once(s: &Sender, vapid: &Vapid, sub: &Subscription, body: &[u8]) -> Outcome {
    let exp = s.clock.now_ms() / 1000 + 12 * 3600;
    let auth = match vapid.authorization(&sub.endpoint, exp, &s.contact) {
        Ok(a) => a,
        Err(e) => {
            tracing::warn!(error = %e, "push: cannot sign");
            return Outcome::Refused(0);
        }
    };
    let res = s
        .http
        .post(&sub.endpoint)
        .timeout(Duration::from_secs(30))
        .header("TTL", TTL_SECS.to_string())
        .header("Urgency", "high")
        .header("Content-Encoding", "aes128gcm")
        .header("Content-Type", "application/octet-stream")
        .header("Authorization", auth)
        .body(body.to_vec())
        .send()
        .await;
    let r = match res {
        Ok(r) => r,
        Err(e) => {
            tracing::info!(error = %e, "push service not reached; will retry");
            return Outcome::Again(None);
        }
    };
    let status = r.status().as_u16();
    let retry_after = r
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(|secs| Duration::from_secs(secs.min(300)));
    match status {
        200..=299 => Outcome::Done,
        404 | 410 => Outcome::Gone,
        429 | 500..=599 => Outcome::Again(retry_after),
        other => Outcome::Refused(other),
    }
}

/// Encrypt and post one push, retrying with backoff.
async fn deliver(s: &Sender, vapid: &Vapid, sub: &Subscription, payload: &Payload) {
    let Ok(json) = serde_json::to_vec(payload) else {
        return;
    };
    let keys = crypto::check_keys(&sub.p256dh, &sub.auth);
    let Some((p256dh, auth)) = keys else {
        tracing::warn!(
            user = %sub.user_id,
            "push subscription has bad keys; removing it"
        );
        let _ = super::remove_endpoint(&s.store, &sub.endpoint).await;
        return;
    };
    let body = match crypto::encrypt(&p256dh, &auth, &json) {
        Ok(b) => b,
        Err(e) => {
            tracing::warn!(error = %e, "push: cannot encrypt");
            return;
        }
    };
    let mut wait = s.backoff;
    for attempt in 1..=ATTEMPTS {
        match post_once(s, vapid, sub, &body).await {
            Outcome::Done => {
                metrics::counter!("push_sent_total").increment(1);
                return;
            }
            Outcome::Gone => {
                tracing::info!(user = %sub.user_id, "push subscription expired; removed");
                if let Err(e) = super::remove_endpoint(&s.store, &sub.endpoint).await {
                    tracing::warn!(error = %e, "could not remove an expired push subscription");
                }
                return;
            }
            Outcome::Refused(status) => {
                metrics::counter!("push_failed_total").increment(1);
                tracing::warn!(user = %sub.user_id, status, "push service refused a push");
                return;
            }
            Outcome::Again(after) => {
                if attempt == ATTEMPTS {
                    break;
                }
                tokio::time::sleep(after.unwrap_or(wait)).await;
                wait = (wait * 2).min(Duration::from_secs(300));
            }
        }
    }
    metrics::counter!("push_failed_total").increment(1);
    tracing::warn!(
        user = %sub.user_id,
        "push not delivered after {ATTEMPTS} tries"
    );
}
