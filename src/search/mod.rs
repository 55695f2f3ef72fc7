//! Full-text search over message texts, stored in the application's redb file.
//!
//! # Layout
//!
//! [`POSTINGS`] holds *blocks* of posting lists. A block lists the ids of the messages of one
//! scope that contain one term, for a contiguous id range, inside one *epoch* (a range of
//! about 16k message ids, listed in [`EPOCHS`]; see `epochs.rs` for why):
//!
//! ```text
//! key   = epoch (u32 BE) · term (UTF-8, never contains 0x00/0x01) · 0x00
//!         · scope tag (0 channel, 1 chat) · ord(scope id) · !ord(min_id)
//!         where ord(x) = significant-byte count + those bytes big-endian (order-preserving,
//!         1–9 bytes) and !ord complements every byte so newer blocks sort first
//! value = varint(max_id - min_id) · varint(id[1] - id[0]) · varint(id[2] - id[1]) · …
//!         (ids ascending, id[0] = min_id from the key; LEB128 varints; ≤ BLOCK_MAX_BYTES)
//! ```
//!
//! Within an epoch keys sort by (term, scope, newest block first), so the postings of one term
//! in one visible scope are a newest-first range scan, and "the block that could hold id X" is one seek to
//! `term·0·scope·!X`. Messages arrive with increasing ids, so indexing is normally an append
//! to the newest block of each (term, scope): one seek, a copy of at most `BLOCK_MAX_BYTES`
//! and one insert per distinct term. Out-of-order and removed ids are handled by rewriting the
//! block that covers the id (splitting it when it grows past the limit).
//!
//! Queries: every word must match (AND); the last word also matches as a prefix when the query
//! does not end with a separator. For each visible scope a leapfrog intersection of per-word
//! cursors yields ids newest-first; the scopes are k-way merged and the merge stops at `limit`.
//! Epochs are disjoint id ranges, so they are searched newest first until `limit` is reached.

mod epochs;
mod keys;
mod postings;
mod query;
mod tokenize;

#[cfg(test)]
mod tests;

pub use query::{MAX_PREFIX_TERMS, search};
pub use tokenize::{MAX_TOKEN_BYTES, tokenize};

use crate::ids::{ChannelId, ChatId};
use redb::{Table, TableDefinition, WriteTransaction};

/// Posting-list blocks, see the module documentation for the layout.
pub const POSTINGS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("search_postings");
/// Epochs (id ranges) that partition [`POSTINGS`], see `epochs.rs`.
pub const EPOCHS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("search_epochs");

/// Where a message lives. Orders like its encoding: all channels, then all chats, by id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    /// An external channel (customer conversations).
    Channel(ChannelId),
    /// An internal 1:1 or group chat.
    Chat(ChatId),
}

impl Scope {
    /// Encoded length: tag byte + u64 BE.
    pub const ENCODED_LEN: usize = 9;

    /// Order-preserving encoding: tag byte (0 = channel, 1 = chat) + id big-endian.
    pub fn encode(self) -> [u8; Self::ENCODED_LEN] {
        let (tag, id) = match self {
            Scope::Channel(id) => (0u8, id.get()),
            Scope::Chat(id) => (1u8, id.get()),
        };
        let mut out = [0u8; Self::ENCODED_LEN];
        out[0] = tag;
        out[1..].copy_from_slice(&id.to_be_bytes());
        out
    }

    /// Inverse of [`Scope::encode`]; `None` for a malformed encoding.
    pub fn decode(bytes: &[u8]) -> Option<Scope> {
        let (&tag, rest) = bytes.split_first()?;
        let id = u64::from_be_bytes(rest.try_into().ok()?);
        match tag {
            0 => Some(Scope::Channel(ChannelId(id))),
            1 => Some(Scope::Chat(ChatId(id))),
            _ => None,
        }
    }
}

/// One search result.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hit {
    pub scope: Scope,
    pub msg_id: u64,
}

#[cfg(test)]
/// Adds `text` of message `msg_id` in `scope` to the index. Idempotent.
///
/// Opens the index tables for this one message; to index a batch in one transaction,
/// [`Indexer`] opens them once.
pub fn index_message(
    txn: &WriteTransaction,
    scope: Scope,
    msg_id: u64,
    text: &str,
) -> Result<(), redb::Error> {
    Indexer::new(txn)?.index(scope, msg_id, text)
}

/// Removes message `msg_id` (whose text was `text`) from the index; used by the retention job.
/// Removing a message that is not indexed is a no-op.
pub fn remove_message(
    txn: &WriteTransaction,
    scope: Scope,
    msg_id: u64,
    text: &str,
) -> Result<(), redb::Error> {
    Indexer::new(txn)?.remove(scope, msg_id, text)
}

/// The index tables opened once in a write transaction, for indexing or removing a batch.
pub struct Indexer<'txn> {
    epochs: Table<'txn, &'static [u8], &'static [u8]>,
    postings: Table<'txn, &'static [u8], &'static [u8]>,
    prefix: Vec<u8>,
}

impl<'txn> Indexer<'txn> {
    pub fn new(txn: &'txn WriteTransaction) -> Result<Self, redb::Error> {
        Ok(Self {
            epochs: txn.open_table(EPOCHS)?,
            postings: txn.open_table(POSTINGS)?,
            prefix: Vec::with_capacity(PREFIX_CAPACITY),
        })
    }

    /// Index one message (the tests' `index_message` does the same in its own transaction).
    pub fn index(&mut self, scope: Scope, msg_id: u64, text: &str) -> Result<(), redb::Error> {
        let terms = distinct_terms(text);
        if terms.is_empty() {
            return Ok(());
        }
        let epoch = epochs::for_insert(&mut self.epochs, msg_id)?;
        for term in &terms {
            keys::pair_prefix_into(&mut self.prefix, epoch, term.as_bytes(), scope);
            postings::add(&mut self.postings, &self.prefix, msg_id)?;
        }
        Ok(())
    }

    /// Same as [`remove_message`].
    pub fn remove(&mut self, scope: Scope, msg_id: u64, text: &str) -> Result<(), redb::Error> {
        let terms = distinct_terms(text);
        if terms.is_empty() {
            return Ok(());
        }
        let Some(epoch) = epochs::find(&self.epochs, msg_id)? else {
            return Ok(());
        };
        for term in &terms {
            keys::pair_prefix_into(&mut self.prefix, epoch.number, term.as_bytes(), scope);
            postings::remove(&mut self.postings, &self.prefix, msg_id)?;
        }
        Ok(())
    }
}

/// Messages to index when the write transaction ends: the writer collects every
/// [`WriteCtx::index_later`](crate::store::WriteCtx::index_later) call of a group-committed
/// batch here and hands them to [`Pending::flush`] just before the commit. Postings of the same
/// (term, scope) across the batch are then appended to their block once instead of once per
/// message — common words appear in most messages of a batch.
#[derive(Default)]
pub struct Pending {
    items: Vec<(Scope, u64, String)>,
}

impl Pending {
    pub fn push(&mut self, scope: Scope, msg_id: u64, text: &str) {
        self.items.push((scope, msg_id, text.to_string()));
    }

    /// Writes the postings of every pending message (in the order they were added, so epochs
    /// are assigned as if each had been indexed on its own) and empties the list.
    pub fn flush(&mut self, txn: &WriteTransaction) -> Result<(), redb::Error> {
        if self.items.is_empty() {
            return Ok(());
        }
        let mut epochs = txn.open_table(EPOCHS)?;
        let mut postings = txn.open_table(POSTINGS)?;
        let mut groups: std::collections::BTreeMap<Vec<u8>, Vec<u64>> = Default::default();
        let mut prefix = Vec::with_capacity(PREFIX_CAPACITY);
        for (scope, msg_id, text) in self.items.drain(..) {
            let terms = distinct_terms(&text);
            if terms.is_empty() {
                continue;
            }
            let epoch = epochs::for_insert(&mut epochs, msg_id)?;
            for term in &terms {
                keys::pair_prefix_into(&mut prefix, epoch, term.as_bytes(), scope);
                // Most terms of a batch are already grouped: look up before copying the key.
                match groups.get_mut(prefix.as_slice()) {
                    Some(ids) => ids.push(msg_id),
                    None => {
                        groups.insert(prefix.clone(), vec![msg_id]);
                    }
                }
            }
        }
        for (prefix, mut ids) in groups {
            ids.sort_unstable();
            ids.dedup();
            postings::add_many(&mut postings, &prefix, &ids)?;
        }
        Ok(())
    }
}

const PREFIX_CAPACITY: usize = keys::EPOCH_LEN + MAX_TOKEN_BYTES + keys::MAX_KEY_SUFFIX_LEN;

/// Sorted, de-duplicated tokens (sorting also makes the B-tree walk more local).
fn distinct_terms(text: &str) -> Vec<String> {
    let mut terms: Vec<String> = tokenize(text).collect();
    terms.sort_unstable();
    terms.dedup();
    terms
}
