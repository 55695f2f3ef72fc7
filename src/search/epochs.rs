//! Epochs: the index is partitioned into id ranges of about [`EPOCH_MESSAGES`] messages.
//!
//! Every posting key starts with its epoch number, so the postings of the newest messages form
//! one small, contiguous region of the B-tree. A write transaction that indexes a batch of
//! messages then dirties only the pages of that region instead of leaves all over the index
//! (which made each 1000-message commit write ~17 KiB per message before). Queries walk the
//! epochs newest first and stop as soon as `limit` hits are found.
//!
//! Table [`super::EPOCHS`]: key = first message id of the epoch (u64 BE) → value = epoch number
//! (u32 BE) · messages indexed (u64 BE) · largest id indexed (u64 BE, kept for the newest epoch).

use redb::{ReadableTable, StorageError, Table};

/// Messages per epoch before the next one starts. Smaller epochs make commits cheaper and
/// queries that must visit every epoch (rare words) slower.
pub(super) const EPOCH_MESSAGES: u64 = if cfg!(test) { 8 } else { 16_384 };

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Epoch {
    pub start: u64,
    pub number: u32,
    pub count: u64,
    pub max: u64,
}

impl Epoch {
    pub(super) fn decode(start: &[u8], value: &[u8]) -> Self {
        let u64_at = |b: &[u8], at: usize| {
            let mut x = [0u8; 8];
            if let Some(s) = b.get(at..at + 8) {
                x.copy_from_slice(s);
            }
            u64::from_be_bytes(x)
        };
        let mut n = [0u8; 4];
        if let Some(s) = value.get(..4) {
            n.copy_from_slice(s);
        }
        Epoch {
            start: u64_at(start, 0),
            number: u32::from_be_bytes(n),
            count: u64_at(value, 4),
            max: u64_at(value, 12),
        }
    }

    fn encode_value(&self) -> [u8; 20] {
        let mut v = [0u8; 20];
        v[..4].copy_from_slice(&self.number.to_be_bytes());
        v[4..12].copy_from_slice(&self.count.to_be_bytes());
        v[12..].copy_from_slice(&self.max.to_be_bytes());
        v
    }
}

type EpochTable<'t> = Table<'t, &'static [u8], &'static [u8]>;

fn put(table: &mut EpochTable<'_>, e: &Epoch) -> Result<(), StorageError> {
    table.insert(
        e.start.to_be_bytes().as_slice(),
        e.encode_value().as_slice(),
    )?;
    Ok(())
}

/// The epoch holding `id`: the one with the largest start ≤ `id`.
pub(super) fn find(
    table: &impl ReadableTable<&'static [u8], &'static [u8]>,
    id: u64,
) -> Result<Option<Epoch>, StorageError> {
    let key = id.to_be_bytes();
    match table.range::<&[u8]>(..=key.as_slice())?.next_back() {
        Some(entry) => {
            let (k, v) = entry?;
            Ok(Some(Epoch::decode(k.value(), v.value())))
        }
        None => Ok(None),
    }
}

/// The epoch a new message `id` goes into, counting it; starts a new epoch when the newest is
/// full and `id` is newer than everything in it.
pub(super) fn for_insert(table: &mut EpochTable<'_>, id: u64) -> Result<u32, StorageError> {
    let newest = table
        .last()?
        .map(|(k, v)| Epoch::decode(k.value(), v.value()));
    let Some(mut newest) = newest else {
        put(
            table,
            &Epoch {
                start: id,
                number: 0,
                count: 1,
                max: id,
            },
        )?;
        return Ok(0);
    };
    if id > newest.max {
        if newest.count >= EPOCH_MESSAGES && newest.number < u32::MAX {
            let e = Epoch {
                start: id,
                number: newest.number + 1,
                count: 1,
                max: id,
            };
            put(table, &e)?;
            return Ok(e.number);
        }
        newest.count += 1;
        newest.max = id;
        put(table, &newest)?;
        return Ok(newest.number);
    }
    let mut e = match find(table, id)? {
        Some(e) => e,
        None => {
            // Older than every epoch: the oldest epoch now starts at `id`.
            let oldest = match table.first()? {
                Some((k, v)) => Epoch::decode(k.value(), v.value()),
                None => newest,
            };
            table.remove(oldest.start.to_be_bytes().as_slice())?;
            Epoch {
                start: id,
                ..oldest
            }
        }
    };
    e.count += 1;
    put(table, &e)?;
    Ok(e.number)
}
