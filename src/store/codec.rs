//! Key builders and the record encoding.
//!
//! Keys: big-endian integers concatenated, so byte order equals numeric order.
//! Values: one version byte followed by JSON. JSON keeps records readable in a dump and lets a
//! new optional field arrive without a migration; the version byte lets a migration rewrite
//! records whose shape really changed.

use redb::{ReadableTable, Table};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{Error, Result};
use crate::ids::{AttachmentId, ChannelId, ChatId, ContactId, MessageId, SessionId, UserId};

/// The record encoding version written by this binary.
pub const RECORD_VERSION: u8 = 1;

pub fn encode<V: Serialize>(v: &V) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(128);
    out.push(RECORD_VERSION);
    serde_json::to_writer(&mut out, v).map_err(Error::internal)?;
    Ok(out)
}

pub fn decode<V: DeserializeOwned>(bytes: &[u8]) -> Result<V> {
    match bytes.split_first() {
        Some((&RECORD_VERSION, rest)) => serde_json::from_slice(rest)
            .map_err(|e| Error::Internal(format!("undecodable record: {e}"))),
        Some((v, _)) => Err(Error::Internal(format!(
            "record version {v} is not supported"
        ))),
        None => Err(Error::Internal("empty record".into())),
    }
}

/// What a key is built of: a number (a time, a sequence) or a typed id (`crate::ids`).
pub trait KeyPart {
    fn part(self) -> u64;
}

impl KeyPart for u64 {
    fn part(self) -> u64 {
        self
    }
}

macro_rules! id_key_parts {
    ($($t:ty),*) => {$(
        impl KeyPart for $t {
            fn part(self) -> u64 {
                self.get()
            }
        }
    )*};
}
id_key_parts!(
    UserId,
    SessionId,
    ChannelId,
    MessageId,
    ChatId,
    ContactId,
    AttachmentId
);

/// The key of one number or id.
pub fn k1(a: impl KeyPart) -> [u8; 8] {
    a.part().to_be_bytes()
}

/// The key of two numbers or ids, in this order.
pub fn k2(a: impl KeyPart, b: impl KeyPart) -> [u8; 16] {
    let mut k = [0u8; 16];
    k[..8].copy_from_slice(&a.part().to_be_bytes());
    k[8..].copy_from_slice(&b.part().to_be_bytes());
    k
}

/// `prefix ++ rest`.
pub fn kcat(prefix: &[u8], rest: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(prefix.len() + rest.len());
    k.extend_from_slice(prefix);
    k.extend_from_slice(rest);
    k
}

/// Reads the u64 at byte offset `at` of a key.
pub fn u64_at(key: &[u8], at: usize) -> Result<u64> {
    key.get(at..at + 8)
        .and_then(|s| <[u8; 8]>::try_from(s).ok())
        .map(u64::from_be_bytes)
        .ok_or_else(|| Error::Internal("short key".into()))
}

/// The number or typed id at byte offset `at` of a key (or a value holding ids).
pub fn id_at<T: From<u64>>(key: &[u8], at: usize) -> Result<T> {
    u64_at(key, at).map(T::from)
}

/// The smallest key greater than every key starting with `prefix` (None if there is none).
pub fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

pub fn get<V: DeserializeOwned>(
    t: &impl ReadableTable<&'static [u8], &'static [u8]>,
    key: &[u8],
) -> Result<Option<V>> {
    match t.get(key)? {
        Some(v) => decode(v.value()).map(Some),
        None => Ok(None),
    }
}

pub fn put<V: Serialize>(
    t: &mut Table<&'static [u8], &'static [u8]>,
    key: &[u8],
    v: &V,
) -> Result<()> {
    let bytes = encode(v)?;
    t.insert(key, bytes.as_slice())?;
    Ok(())
}

/// Every decoded record whose key starts with `prefix`, in key order, at most `limit`.
pub fn scan_prefix<V: DeserializeOwned>(
    t: &impl ReadableTable<&'static [u8], &'static [u8]>,
    prefix: &[u8],
    limit: usize,
) -> Result<Vec<(Vec<u8>, V)>> {
    let mut out = Vec::new();
    let iter = match prefix_end(prefix) {
        Some(end) => t.range::<&[u8]>(prefix..end.as_slice())?,
        None => t.range::<&[u8]>(prefix..)?,
    };
    for item in iter {
        if out.len() >= limit {
            break;
        }
        let (k, v) = item?;
        out.push((k.value().to_vec(), decode(v.value())?));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_sort_numerically() {
        assert!(k1(2) < k1(256));
        assert!(k2(1, u64::MAX) < k2(2, 0));
        assert_eq!(u64_at(&k2(7, 9), 8).unwrap(), 9);
        assert_eq!(prefix_end(&[1, 0xff]), Some(vec![2]));
        assert_eq!(prefix_end(&[0xff]), None);
    }

    #[test]
    fn records_round_trip_and_reject_foreign_versions() {
        let bytes = encode(&vec![1u32, 2]).unwrap();
        assert_eq!(decode::<Vec<u32>>(&bytes).unwrap(), vec![1, 2]);
        let mut bad = bytes.clone();
        bad[0] = 9;
        assert!(decode::<Vec<u32>>(&bad).is_err());
        assert!(decode::<Vec<u32>>(&[]).is_err());
    }
}
