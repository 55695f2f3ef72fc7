//! Byte layouts of posting keys and block values.

use super::Scope;

/// Most bytes after the term in a block key: separator, scope tag, scope id and min id as
/// order-preserving compact integers (length byte + significant bytes).
pub(super) const MAX_KEY_SUFFIX_LEN: usize = 1 + 1 + 9 + 9;
/// Separator between term and scope; terms never contain it.
pub(super) const TERM_END: u8 = 0x00;

/// Bytes of the epoch number that starts every posting key.
pub(super) const EPOCH_LEN: usize = 4;

/// Writes `epoch · term · 0x00 · scope tag · ordered(scope id)` into `out`.
pub(super) fn pair_prefix_into(out: &mut Vec<u8>, epoch: u32, term: &[u8], scope: Scope) {
    out.clear();
    out.extend_from_slice(&epoch.to_be_bytes());
    out.extend_from_slice(term);
    out.push(TERM_END);
    let (tag, id) = match scope {
        Scope::Channel(id) => (0u8, id.get()),
        Scope::Chat(id) => (1u8, id.get()),
    };
    out.push(tag);
    put_ordered(out, id, false);
}

/// `pair_prefix · ordered_desc(min)` — blocks of one (term, scope) sort newest first.
pub(super) fn block_key(pair_prefix: &[u8], min: u64) -> Vec<u8> {
    let mut k = Vec::with_capacity(pair_prefix.len() + 9);
    k.extend_from_slice(pair_prefix);
    put_ordered(&mut k, min, true);
    k
}

/// A key greater than every block key of `pair_prefix` and not greater than any key of a
/// later pair (the largest min encoding, `ordered_desc(0)`, is the single byte 0xFF).
pub(super) fn after_pair(pair_prefix: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(pair_prefix.len() + 2);
    k.extend_from_slice(pair_prefix);
    k.extend_from_slice(&[0xFF, 0x00]);
    k
}

/// Order-preserving compact u64: number of significant bytes, then those bytes big-endian.
/// With `desc`, every byte is complemented, which reverses the order (the encoding is
/// self-delimiting, so no encoding is a prefix of another).
fn put_ordered(out: &mut Vec<u8>, v: u64, desc: bool) {
    let n = 8 - (v.leading_zeros() / 8) as usize;
    let flip = if desc { 0xFF } else { 0 };
    out.push(n as u8 ^ flip);
    out.extend(v.to_be_bytes().iter().skip(8 - n).map(|b| b ^ flip));
}

fn get_ordered(buf: &[u8], pos: &mut usize, desc: bool) -> Option<u64> {
    let flip = if desc { 0xFF } else { 0 };
    let n = usize::from(*buf.get(*pos)? ^ flip);
    if n > 8 {
        return None;
    }
    let bytes = buf.get(*pos + 1..*pos + 1 + n)?;
    *pos += 1 + n;
    Some(
        bytes
            .iter()
            .fold(0u64, |acc, b| (acc << 8) | u64::from(b ^ flip)),
    )
}

/// (term bytes, scope, min id) of a block key; `None` if malformed.
pub(super) fn parse_key(key: &[u8]) -> Option<(&[u8], Scope, u64)> {
    let rest = key.get(EPOCH_LEN..)?;
    let term_len = rest.iter().position(|&b| b == TERM_END)?;
    let term = rest.get(..term_len)?;
    let mut pos = EPOCH_LEN + term_len + 1;
    let tag = *key.get(pos)?;
    pos += 1;
    let id = get_ordered(key, &mut pos, false)?;
    let scope = match tag {
        0 => Scope::Channel(crate::ids::ChannelId(id)),
        1 => Scope::Chat(crate::ids::ChatId(id)),
        _ => return None,
    };
    let min = get_ordered(key, &mut pos, true)?;
    Some((term, scope, min))
}

/// The block's min id from a block key (0 if malformed).
pub(super) fn key_min(key: &[u8]) -> u64 {
    parse_key(key).map_or(0, |(_, _, min)| min)
}

/// Splits a block key into (term bytes, scope); `None` if malformed.
pub(super) fn key_term_scope(key: &[u8]) -> Option<(&[u8], Scope)> {
    parse_key(key).map(|(term, scope, _)| (term, scope))
}

/// Appends `v` as LEB128.
pub(super) fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Length of `v` as LEB128.
pub(super) fn varint_len(v: u64) -> usize {
    let bits = 64 - (v | 1).leading_zeros() as usize;
    bits.div_ceil(7)
}

/// Reads one LEB128 value at `*pos`, advancing it; `None` at the end or on a malformed value.
pub(super) fn get_varint(buf: &[u8], pos: &mut usize) -> Option<u64> {
    let mut v: u64 = 0;
    let mut shift = 0u32;
    loop {
        let b = *buf.get(*pos)?;
        *pos += 1;
        if shift > 63 {
            return None;
        }
        v |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Some(v);
        }
        shift += 7;
    }
}

/// Encodes ascending, non-empty `ids` as a block value (min is in the key).
pub(super) fn encode_block(ids: &[u64]) -> Vec<u8> {
    let mut out = Vec::with_capacity(ids.len() * 2 + 4);
    if let (Some(&first), Some(&last)) = (ids.first(), ids.last()) {
        put_varint(&mut out, last - first);
        for w in ids.windows(2) {
            put_varint(&mut out, w[1] - w[0]);
        }
    }
    out
}

/// Decodes a block value into ascending ids (cleared first). Stops at malformed data.
pub(super) fn decode_block(min: u64, value: &[u8], out: &mut Vec<u64>) {
    out.clear();
    let mut pos = 0;
    if get_varint(value, &mut pos).is_none() {
        return;
    }
    let mut id = min;
    out.push(id);
    while let Some(d) = get_varint(value, &mut pos) {
        id = id.saturating_add(d);
        out.push(id);
    }
}

/// (max id, header length) of a block value.
pub(super) fn block_max(min: u64, value: &[u8]) -> (u64, usize) {
    let mut pos = 0;
    let span = get_varint(value, &mut pos).unwrap_or(0);
    (min.saturating_add(span), pos)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::ChannelId;
    use crate::ids::ChatId;

    #[test]
    fn varints_round_trip() {
        for v in [0, 1, 127, 128, 300, u32::MAX as u64, u64::MAX] {
            let mut b = Vec::new();
            put_varint(&mut b, v);
            assert_eq!(b.len(), varint_len(v));
            let mut pos = 0;
            assert_eq!(get_varint(&b, &mut pos), Some(v));
            assert_eq!(pos, b.len());
        }
    }

    #[test]
    fn blocks_round_trip() {
        let ids = [5, 6, 100, 1 << 40, u64::MAX];
        let v = encode_block(&ids);
        let mut out = Vec::new();
        decode_block(5, &v, &mut out);
        assert_eq!(out, ids);
        assert_eq!(block_max(5, &v).0, u64::MAX);
    }

    #[test]
    fn keys_sort_term_scope_newest_first() {
        let mut p = Vec::new();
        pair_prefix_into(&mut p, 3, b"ab", Scope::Channel(ChannelId(1)));
        let newer = block_key(&p, 10);
        let older = block_key(&p, 9);
        assert!(newer < older);
        pair_prefix_into(&mut p, 3, b"abc", Scope::Channel(ChannelId(0)));
        assert!(
            older < block_key(&p, 0),
            "a term sorts before its extensions"
        );
        pair_prefix_into(&mut p, 3, b"ab", Scope::Chat(ChatId(0)));
        assert!(older < block_key(&p, u64::MAX));
        let same_in_next_epoch = {
            let mut q = Vec::new();
            pair_prefix_into(&mut q, 4, b"ab", Scope::Channel(ChannelId(0)));
            block_key(&q, 0)
        };
        assert!(block_key(&p, 0) < same_in_next_epoch);
        let k = block_key(&p, 42);
        assert_eq!(key_min(&k), 42);
        assert_eq!(
            key_term_scope(&k),
            Some((&b"ab"[..], Scope::Chat(ChatId(0))))
        );
        assert!(block_key(&p, 0) < after_pair(&p));
        let mut next = Vec::new();
        pair_prefix_into(&mut next, 3, b"ab", Scope::Chat(ChatId(1)));
        assert!(after_pair(&p) < block_key(&next, u64::MAX));
    }

    #[test]
    fn ordered_encoding_preserves_order_both_ways() {
        let vals = [
            0u64,
            1,
            255,
            256,
            65_535,
            65_536,
            1 << 40,
            u64::MAX - 1,
            u64::MAX,
        ];
        for &a in &vals {
            for &b in &vals {
                let (mut ea, mut eb, mut da, mut db) = (vec![], vec![], vec![], vec![]);
                put_ordered(&mut ea, a, false);
                put_ordered(&mut eb, b, false);
                put_ordered(&mut da, a, true);
                put_ordered(&mut db, b, true);
                assert_eq!(ea.cmp(&eb), a.cmp(&b));
                assert_eq!(da.cmp(&db), b.cmp(&a));
                let mut pos = 0;
                assert_eq!(get_ordered(&da, &mut pos, true), Some(a));
                assert_eq!(pos, da.len());
            }
        }
    }
}
