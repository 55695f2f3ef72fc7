//! Maintenance of posting-list blocks (see the layout in `mod.rs`).

use redb::{ReadableTable, StorageError, Table};

use super::keys::{
    block_key, block_max, decode_block, encode_block, key_min, put_varint, varint_len,
};

/// Largest encoded block value. Larger blocks are more compact (fewer keys) but cost more to
/// rewrite on append and to decode on a seek; 256 bytes hold ~100–250 postings.
pub(super) const BLOCK_MAX_BYTES: usize = 256;

type PostingsTable<'t> = Table<'t, &'static [u8], &'static [u8]>;

/// The block of (term, scope) = `pair_prefix` with the largest min id ≤ `target`, as
/// (min id, value bytes).
pub(super) fn block_le(
    table: &impl ReadableTable<&'static [u8], &'static [u8]>,
    pair_prefix: &[u8],
    target: u64,
) -> Result<Option<(u64, Vec<u8>)>, StorageError> {
    let start = block_key(pair_prefix, target);
    let end = block_key(pair_prefix, 0);
    let mut range = table.range(start.as_slice()..=end.as_slice())?;
    match range.next() {
        Some(entry) => {
            let (k, v) = entry?;
            Ok(Some((key_min(k.value()), v.value().to_vec())))
        }
        None => Ok(None),
    }
}

/// The oldest block (smallest min id) of (term, scope).
fn oldest_block(
    table: &PostingsTable<'_>,
    pair_prefix: &[u8],
) -> Result<Option<(u64, Vec<u8>)>, StorageError> {
    let start = block_key(pair_prefix, u64::MAX);
    let end = block_key(pair_prefix, 0);
    let mut range = table.range(start.as_slice()..=end.as_slice())?;
    match range.next_back() {
        Some(entry) => {
            let (k, v) = entry?;
            Ok(Some((key_min(k.value()), v.value().to_vec())))
        }
        None => Ok(None),
    }
}

/// Adds `id` to the postings of (term, scope) = `pair_prefix`.
pub(super) fn add(
    table: &mut PostingsTable<'_>,
    pair_prefix: &[u8],
    id: u64,
) -> Result<(), StorageError> {
    let Some((min, value)) = block_le(table, pair_prefix, id)? else {
        // `id` is older than every block (or there is none).
        return match oldest_block(table, pair_prefix)? {
            Some((min, value)) => {
                let mut ids = Vec::new();
                decode_block(min, &value, &mut ids);
                ids.insert(0, id);
                write_ids(table, pair_prefix, min, &ids)
            }
            None => {
                let key = block_key(pair_prefix, id);
                table.insert(key.as_slice(), encode_block(&[id]).as_slice())?;
                Ok(())
            }
        };
    };
    let (max, header_len) = block_max(min, &value);
    if id > max {
        // Fast path: append to the newest block, or start a new one when it is full.
        let deltas = value.get(header_len..).unwrap_or_default();
        let new_len = varint_len(id - min) + deltas.len() + varint_len(id - max);
        if new_len <= BLOCK_MAX_BYTES {
            let mut v = Vec::with_capacity(new_len);
            put_varint(&mut v, id - min);
            v.extend_from_slice(deltas);
            put_varint(&mut v, id - max);
            let key = block_key(pair_prefix, min);
            table.insert(key.as_slice(), v.as_slice())?;
        } else {
            let key = block_key(pair_prefix, id);
            table.insert(key.as_slice(), encode_block(&[id]).as_slice())?;
        }
        return Ok(());
    }
    if id == max || id == min {
        return Ok(());
    }
    let mut ids = Vec::new();
    decode_block(min, &value, &mut ids);
    if let Err(at) = ids.binary_search(&id) {
        ids.insert(at, id);
        write_ids(table, pair_prefix, min, &ids)?;
    }
    Ok(())
}

/// Adds ascending, distinct `ids` to the postings of (term, scope) = `pair_prefix`. The usual
/// case — every id newer than the newest block — rewrites that block once and fills new
/// blocks greedily; anything else falls back to [`add`] per id.
pub(super) fn add_many(
    table: &mut PostingsTable<'_>,
    pair_prefix: &[u8],
    ids: &[u64],
) -> Result<(), StorageError> {
    let Some(&first) = ids.first() else {
        return Ok(());
    };
    match block_le(table, pair_prefix, u64::MAX)? {
        None => fill_blocks(table, pair_prefix, ids),
        Some((min, value)) if block_max(min, &value).0 < first => {
            let mut all = Vec::with_capacity(ids.len() + 64);
            decode_block(min, &value, &mut all);
            all.extend_from_slice(ids);
            fill_blocks(table, pair_prefix, &all)
        }
        Some(_) => {
            for &id in ids {
                add(table, pair_prefix, id)?;
            }
            Ok(())
        }
    }
}

/// Writes ascending `ids` as blocks filled up to [`BLOCK_MAX_BYTES`], each keyed by its min
/// (the first block keeps the key of an existing block that starts with the same id).
fn fill_blocks(
    table: &mut PostingsTable<'_>,
    pair_prefix: &[u8],
    ids: &[u64],
) -> Result<(), StorageError> {
    let mut start = 0;
    while start < ids.len() {
        let mut end = start + 1;
        let mut deltas = 0;
        while let Some(&next) = ids.get(end) {
            let d = varint_len(next - ids[end - 1]);
            if varint_len(next - ids[start]) + deltas + d > BLOCK_MAX_BYTES {
                break;
            }
            deltas += d;
            end += 1;
        }
        let block = &ids[start..end];
        table.insert(
            block_key(pair_prefix, block[0]).as_slice(),
            encode_block(block).as_slice(),
        )?;
        start = end;
    }
    Ok(())
}

/// Removes `id` from the postings of (term, scope) = `pair_prefix`, if present.
pub(super) fn remove(
    table: &mut PostingsTable<'_>,
    pair_prefix: &[u8],
    id: u64,
) -> Result<(), StorageError> {
    let Some((min, value)) = block_le(table, pair_prefix, id)? else {
        return Ok(());
    };
    let mut ids = Vec::new();
    decode_block(min, &value, &mut ids);
    let Ok(at) = ids.binary_search(&id) else {
        return Ok(());
    };
    ids.remove(at);
    if ids.is_empty() {
        table.remove(block_key(pair_prefix, min).as_slice())?;
        return Ok(());
    }
    write_ids(table, pair_prefix, min, &ids)
}

/// Replaces the block stored under `old_min` by `ids` (ascending, non-empty), re-keying it
/// when its min changed and splitting it when it no longer fits in one block.
fn write_ids(
    table: &mut PostingsTable<'_>,
    pair_prefix: &[u8],
    old_min: u64,
    ids: &[u64],
) -> Result<(), StorageError> {
    if ids.first() != Some(&old_min) {
        table.remove(block_key(pair_prefix, old_min).as_slice())?;
    }
    put_blocks(table, pair_prefix, ids)
}

fn put_blocks(
    table: &mut PostingsTable<'_>,
    pair_prefix: &[u8],
    ids: &[u64],
) -> Result<(), StorageError> {
    let Some(&first) = ids.first() else {
        return Ok(());
    };
    let value = encode_block(ids);
    if value.len() <= BLOCK_MAX_BYTES || ids.len() < 2 {
        table.insert(block_key(pair_prefix, first).as_slice(), value.as_slice())?;
        return Ok(());
    }
    let (lo, hi) = ids.split_at(ids.len() / 2);
    put_blocks(table, pair_prefix, lo)?;
    put_blocks(table, pair_prefix, hi)
}
