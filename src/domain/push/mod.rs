//! Web Push (RFC 8030 / 8291 / 8292): the install's VAPID key, each user's push subscriptions
//! (one per browser or phone), and the worker that turns events into pushes (`worker.rs`).
//!
//! The VAPID key pair is made on first use and kept in the settings table under `push.vapid`.
//! Subscriptions live in `PUSH_SUBSCRIPTIONS` under two key spaces: `u` ++ user id ++
//! sha256(endpoint)[..16] → [`Subscription`], and `e` ++ sha256(endpoint)[..16] → user id, so
//! one browser's endpoint belongs to one user at a time (the last who turned push on there).

pub mod crypto;
pub mod worker;

use crate::ids::UserId;
use redb::ReadTransaction;
use serde::{Deserialize, Serialize};
use sha2::Digest;

use crate::error::{Error, Result};
use crate::store::codec::{self, k1};
use crate::store::tables::PUSH_SUBSCRIPTIONS;
use crate::store::{Store, WriteCtx};

use super::settings;
use super::users::User;

pub use crypto::Vapid;

/// The most devices one user may have subscribed.
pub const MAX_PER_USER: usize = 20;
/// The longest endpoint URL taken (the big push services use about 200–300 characters).
pub const MAX_ENDPOINT: usize = 2048;

const VAPID_KEY: &[u8] = b"push.vapid";

#[derive(Serialize, Deserialize)]
struct VapidRecord {
    /// PKCS#8 DER of the P-256 key, base64.
    pkcs8: String,
}

/// The install's VAPID key pair, made (and stored) on first use.
pub async fn vapid(store: &Store) -> Result<Vapid> {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let found: Option<VapidRecord> = store.read(|rtx| settings::get(rtx, VAPID_KEY)).await?;
    let rec = match found {
        Some(r) => r,
        None => {
            let fresh = VapidRecord {
                pkcs8: b64.encode(crypto::generate_vapid_pkcs8()?),
            };
            store
                .write(move |ctx| {
                    if let Some(r) = settings::get_in::<VapidRecord>(ctx, VAPID_KEY)? {
                        return Ok(r);
                    }
                    settings::put_in(ctx, VAPID_KEY, &fresh)?;
                    Ok(VapidRecord {
                        pkcs8: fresh.pkcs8.clone(),
                    })
                })
                .await?
        }
    };
    let der = b64
        .decode(rec.pkcs8)
        .map_err(|_| Error::internal("the stored VAPID key is not base64"))?;
    Vapid::from_pkcs8(&der)
}

/// One browser's push subscription.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct Subscription {
    pub user_id: UserId,
    pub endpoint: String,
    /// The browser's P-256 key (base64url).
    pub p256dh: String,
    /// The browser's auth secret (base64url).
    pub auth: String,
    /// A name for the device, from the browser (e.g. "Android · Chrome").
    #[serde(default)]
    pub device: String,
    /// Pushes to this device say only that something arrived, not what.
    #[serde(default)]
    pub hide_content: bool,
    pub created: i64,
}

/// The browser's `PushSubscription.toJSON()` keys.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionKeys {
    pub p256dh: String,
    pub auth: String,
}

/// What the Settings page sends to turn push on for this device (or change its options).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSubscription {
    pub endpoint: String,
    pub keys: SubscriptionKeys,
    /// Part of `PushSubscription.toJSON()`; not used.
    #[serde(default, rename = "expirationTime")]
    pub expiration_time: Option<f64>,
    #[serde(default)]
    pub device: String,
    #[serde(default)]
    pub hide_content: bool,
}

/// What the user sees of one of their subscriptions (never the keys).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SubscriptionView {
    pub endpoint: String,
    pub device: String,
    pub hide_content: bool,
    pub created: i64,
}

impl From<&Subscription> for SubscriptionView {
    fn from(s: &Subscription) -> Self {
        Self {
            endpoint: s.endpoint.clone(),
            device: s.device.clone(),
            hide_content: s.hide_content,
            created: s.created,
        }
    }
}

fn endpoint_hash(endpoint: &str) -> [u8; 16] {
    let d = sha2::Sha256::digest(endpoint.as_bytes());
    let mut out = [0u8; 16];
    out.copy_from_slice(&d[..16]);
    out
}

fn user_key(user_id: UserId, h: &[u8; 16]) -> Vec<u8> {
    let mut k = Vec::with_capacity(25);
    k.push(b'u');
    k.extend_from_slice(&k1(user_id));
    k.extend_from_slice(h);
    k
}

fn user_prefix(user_id: UserId) -> Vec<u8> {
    let mut k = vec![b'u'];
    k.extend_from_slice(&k1(user_id));
    k
}

fn endpoint_key(h: &[u8; 16]) -> Vec<u8> {
    let mut k = vec![b'e'];
    k.extend_from_slice(h);
    k
}

/// An endpoint the server may post to: `https://` with a host, or `http://` on a loopback
/// address (a push service on the same machine: the tests' fake).
pub fn check_endpoint(endpoint: &str) -> Result<String> {
    let bad = |m: &str| Error::invalid("endpoint", m);
    let e = endpoint.trim();
    if e.is_empty() || e.len() > MAX_ENDPOINT {
        return Err(bad("must be a URL of at most 2048 characters"));
    }
    let url = url::Url::parse(e).map_err(|_| bad("is not a URL"))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad("must not carry a user name or password"));
    }
    let loopback = match url.host() {
        Some(url::Host::Ipv4(a)) => a.is_loopback(),
        Some(url::Host::Ipv6(a)) => a.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => return Err(bad("has no host")),
    };
    match url.scheme() {
        "https" => Ok(e.to_string()),
        "http" if loopback => Ok(e.to_string()),
        _ => Err(bad("must be https://")),
    }
}

/// Turn push on for a device of `actor` (or change its options when it is already on).
pub async fn subscribe(
    store: &Store,
    actor: &User,
    input: NewSubscription,
    now: i64,
) -> Result<SubscriptionView> {
    let endpoint = check_endpoint(&input.endpoint)?;
    if crypto::check_keys(&input.keys.p256dh, &input.keys.auth).is_none() {
        return Err(Error::invalid(
            "keys",
            "p256dh must be a P-256 public key and auth 16 bytes, both base64url",
        ));
    }
    let device: String = input.device.trim().chars().take(100).collect();
    let sub = Subscription {
        user_id: actor.id,
        endpoint,
        p256dh: input.keys.p256dh.trim_end_matches('=').to_string(),
        auth: input.keys.auth.trim_end_matches('=').to_string(),
        device,
        hide_content: input.hide_content,
        created: now,
    };
    store
        .write(move |ctx| subscribe_in(ctx, &sub))
        .await
        .map(|s| SubscriptionView::from(&s))
}

fn subscribe_in(ctx: &mut WriteCtx<'_>, sub: &Subscription) -> Result<Subscription> {
    let h = endpoint_hash(&sub.endpoint);
    let mut t = ctx.txn.open_table(PUSH_SUBSCRIPTIONS)?;
    // The endpoint is one browser: another user who had it there loses it.
    if let Some(prev) = codec::get::<UserId>(&t, &endpoint_key(&h))?
        && prev != sub.user_id
    {
        t.remove(user_key(prev, &h).as_slice())?;
    }
    let key = user_key(sub.user_id, &h);
    let mut rec = sub.clone();
    if let Some(old) = codec::get::<Subscription>(&t, &key)? {
        rec.created = old.created;
    } else if codec::scan_prefix::<Subscription>(&t, &user_prefix(sub.user_id), MAX_PER_USER)?.len()
        >= MAX_PER_USER
    {
        return Err(Error::Rule(format!(
            "at most {MAX_PER_USER} devices can receive pushes; turn one off first"
        )));
    }
    codec::put(&mut t, &key, &rec)?;
    codec::put(&mut t, &endpoint_key(&h), &sub.user_id)?;
    Ok(rec)
}

/// Turn push off for one of `actor`'s devices; false when it was not on.
pub async fn unsubscribe(store: &Store, actor: &User, endpoint: &str) -> Result<bool> {
    let h = endpoint_hash(endpoint.trim());
    let uid = actor.id;
    store
        .write(move |ctx| {
            let mut t = ctx.txn.open_table(PUSH_SUBSCRIPTIONS)?;
            let had = t.remove(user_key(uid, &h).as_slice())?.is_some();
            if had {
                t.remove(endpoint_key(&h).as_slice())?;
            }
            Ok(had)
        })
        .await
}

/// Forget an endpoint the push service says is gone (404 / 410), whoever had it.
pub async fn remove_endpoint(store: &Store, endpoint: &str) -> Result<()> {
    let h = endpoint_hash(endpoint);
    store
        .write(move |ctx| {
            let mut t = ctx.txn.open_table(PUSH_SUBSCRIPTIONS)?;
            if let Some(uid) = codec::get::<UserId>(&t, &endpoint_key(&h))? {
                t.remove(user_key(uid, &h).as_slice())?;
                t.remove(endpoint_key(&h).as_slice())?;
            }
            Ok(())
        })
        .await
}

/// A user's subscriptions.
pub fn list(rtx: &ReadTransaction, user_id: UserId) -> Result<Vec<Subscription>> {
    let t = rtx.open_table(PUSH_SUBSCRIPTIONS)?;
    Ok(codec::scan_prefix(&t, &user_prefix(user_id), MAX_PER_USER)?
        .into_iter()
        .map(|(_, s)| s)
        .collect())
}

/// The caller's subscriptions, as the Settings page lists them.
pub async fn list_mine(store: &Store, actor: &User) -> Result<Vec<SubscriptionView>> {
    let uid = actor.id;
    let subs = store.read(move |rtx| list(rtx, uid)).await?;
    Ok(subs.iter().map(SubscriptionView::from).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_must_be_https_or_loopback() {
        assert!(check_endpoint("https://fcm.googleapis.com/fcm/send/abc").is_ok());
        assert!(check_endpoint("http://127.0.0.1:4000/push/1").is_ok());
        assert!(check_endpoint("http://[::1]:4000/push/1").is_ok());
        assert!(check_endpoint("http://localhost/push").is_ok());
        assert!(check_endpoint("http://192.168.1.5/push").is_err());
        assert!(check_endpoint("ftp://example.com/x").is_err());
        assert!(check_endpoint("https://u:p@example.com/x").is_err());
        assert!(check_endpoint("not a url").is_err());
        assert!(check_endpoint(&format!("https://e.com/{}", "a".repeat(3000))).is_err());
    }
}
