//! Query evaluation: per-scope leapfrog intersection of newest-first cursors, k-way merged.

use std::collections::BinaryHeap;

use redb::{ReadOnlyTable, ReadTransaction, StorageError, TableError};

use super::epochs::Epoch;
use super::keys::{self, MAX_KEY_SUFFIX_LEN, decode_block, key_term_scope};
use super::postings::block_le;
use super::tokenize::{is_word_char, normalize_word};
use super::{EPOCHS, Hit, POSTINGS, Scope};

/// A prefix (the query's last word) that matches more indexed terms than this is matched as
/// an exact word instead, bounding the cost of search-as-you-type on short prefixes.
pub const MAX_PREFIX_TERMS: usize = 128;

/// At or below this many candidate scopes a term is looked up with one seek per scope; above
/// it the scopes holding the term are enumerated by skipping through the term's keys.
const DIRECT_SEEK_SCOPES: usize = 16;

type Postings = ReadOnlyTable<&'static [u8], &'static [u8]>;

/// Messages in `scopes` whose text contains every word of `query`, newest first (by message
/// id, then scope), at most `limit`, only ids `< before` when given.
///
/// Words are tokenized like message texts; the last word also matches as a prefix unless the
/// query ends with a separator (e.g. a space). A query with no usable word finds nothing.
pub fn search(
    txn: &ReadTransaction,
    scopes: &[Scope],
    query: &str,
    limit: usize,
    before: Option<u64>,
) -> Result<Vec<Hit>, redb::Error> {
    let upper = match before {
        Some(0) => return Ok(Vec::new()),
        Some(b) => b - 1,
        None => u64::MAX,
    };
    let parsed = parse_query(query);
    if limit == 0 || scopes.is_empty() || (parsed.exact.is_empty() && parsed.prefix.is_none()) {
        return Ok(Vec::new());
    }
    let table = match txn.open_table(POSTINGS) {
        Ok(t) => t,
        Err(TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
        Err(e) => return Err(e.into()),
    };
    let epochs = match txn.open_table(EPOCHS) {
        Ok(t) => t,
        Err(TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
        Err(e) => return Err(e.into()),
    };
    let mut scopes = scopes.to_vec();
    scopes.sort_unstable();
    scopes.dedup();

    // Epochs are disjoint id ranges: search them newest first until `limit` hits are found.
    let mut hits = Vec::with_capacity(limit.min(1024));
    let upper_key = upper.to_be_bytes();
    for entry in epochs.range::<&[u8]>(..=upper_key.as_slice())?.rev() {
        let number = {
            let (k, v) = entry?;
            Epoch::decode(k.value(), v.value()).number
        };
        search_epoch(&table, number, &parsed, &scopes, upper, limit, &mut hits)?;
        if hits.len() >= limit {
            break;
        }
    }
    Ok(hits)
}

/// Appends the newest hits of one epoch to `hits`, up to `limit` in total.
fn search_epoch(
    table: &Postings,
    epoch: u32,
    parsed: &ParsedQuery,
    scopes: &[Scope],
    upper: u64,
    limit: usize,
    hits: &mut Vec<Hit>,
) -> Result<(), StorageError> {
    // One group of alternative terms per word: exact words first, the prefix word last.
    let mut groups: Vec<Vec<Vec<u8>>> = parsed
        .exact
        .iter()
        .map(|t| vec![t.as_bytes().to_vec()])
        .collect();
    if let Some(p) = &parsed.prefix {
        match expand_prefix(table, epoch, p.as_bytes())? {
            Some(terms) if terms.is_empty() => return Ok(()),
            Some(terms) => groups.push(terms),
            None => {
                if !parsed.exact.contains(p) {
                    groups.push(vec![p.as_bytes().to_vec()]);
                }
            }
        }
    }

    // per_scope[i] gets one Group per word; a scope missing any word drops out.
    let mut per_scope: Vec<Vec<Group>> = (0..scopes.len()).map(|_| Vec::new()).collect();
    for (g, terms) in groups.iter().enumerate() {
        let alive: Vec<usize> = (0..scopes.len())
            .filter(|&i| per_scope.get(i).is_some_and(|v| v.len() == g))
            .collect();
        if alive.is_empty() {
            return Ok(());
        }
        for term in terms {
            let found = open_term(table, epoch, term, scopes, &alive, upper)?;
            for (i, cursor) in found {
                let Some(slot) = per_scope.get_mut(i) else {
                    continue;
                };
                if slot.len() == g {
                    slot.push(Group::default());
                }
                if let Some(group) = slot.get_mut(g) {
                    group.cursors.push(cursor);
                }
            }
        }
    }

    let mut evals = Vec::new();
    let mut heap = BinaryHeap::new();
    for (i, groups_of_scope) in per_scope.into_iter().enumerate() {
        let (Some(&scope), true) = (scopes.get(i), groups_of_scope.len() == groups.len()) else {
            continue;
        };
        let mut eval = ScopeEval {
            groups: groups_of_scope,
        };
        for g in &mut eval.groups {
            g.refresh();
        }
        if let Some(id) = eval.settle(table)? {
            heap.push((id, scope, evals.len()));
        }
        evals.push(eval);
    }

    while hits.len() < limit {
        let Some((id, scope, idx)) = heap.pop() else {
            break;
        };
        hits.push(Hit { scope, msg_id: id });
        if hits.len() >= limit {
            break;
        }
        if let Some(eval) = evals.get_mut(idx)
            && let Some(next) = eval.next(table)?
        {
            heap.push((next, scope, idx));
        }
    }
    Ok(())
}

/// A query split into exact words and an optional trailing prefix word.
#[derive(Debug, Default, PartialEq)]
pub(super) struct ParsedQuery {
    pub exact: Vec<String>,
    pub prefix: Option<String>,
}

pub(super) fn parse_query(query: &str) -> ParsedQuery {
    let open_end = query.chars().next_back().is_some_and(is_word_char);
    let mut words: Vec<String> = query
        .split(|c: char| !is_word_char(c))
        .filter_map(normalize_word)
        .collect();
    // The prefix is the last word only if it is the last thing typed (not dropped as too short).
    let last_raw_kept = query
        .rsplit(|c: char| !is_word_char(c))
        .next()
        .and_then(normalize_word)
        .is_some();
    let prefix = if open_end && last_raw_kept {
        words.pop()
    } else {
        None
    };
    words.sort_unstable();
    words.dedup();
    ParsedQuery {
        exact: words,
        prefix,
    }
}

/// Indexed terms starting with `prefix`, in order; `None` when there are more than
/// [`MAX_PREFIX_TERMS`]. Skips from term to term with one seek each.
fn expand_prefix(
    table: &Postings,
    epoch: u32,
    prefix: &[u8],
) -> Result<Option<Vec<Vec<u8>>>, StorageError> {
    let mut terms = Vec::new();
    let epoch = epoch.to_be_bytes();
    let mut start = epoch.to_vec();
    start.extend_from_slice(prefix);
    loop {
        let next_term = {
            let mut range = table.range(start.as_slice()..)?;
            match range.next() {
                Some(entry) => {
                    let (k, _) = entry?;
                    let key = k.value();
                    match key_term_scope(key) {
                        Some((term, _)) if key.starts_with(&epoch) && term.starts_with(prefix) => {
                            Some(term.to_vec())
                        }
                        _ => None,
                    }
                }
                None => None,
            }
        };
        let Some(term) = next_term else {
            return Ok(Some(terms));
        };
        if terms.len() == MAX_PREFIX_TERMS {
            return Ok(None);
        }
        start.truncate(epoch.len());
        start.extend_from_slice(&term);
        start.push(keys::TERM_END + 1);
        terms.push(term);
    }
}

/// Cursors for `term` in the scopes `alive` (indices into sorted `scopes`) that contain it,
/// positioned at the newest id ≤ `upper`.
fn open_term(
    table: &Postings,
    epoch: u32,
    term: &[u8],
    scopes: &[Scope],
    alive: &[usize],
    upper: u64,
) -> Result<Vec<(usize, TermCursor)>, StorageError> {
    let mut out = Vec::new();
    let mut prefix = Vec::with_capacity(keys::EPOCH_LEN + term.len() + MAX_KEY_SUFFIX_LEN);
    let set_prefix =
        |prefix: &mut Vec<u8>, scope: Scope| keys::pair_prefix_into(prefix, epoch, term, scope);
    if alive.len() <= DIRECT_SEEK_SCOPES {
        for &i in alive {
            let Some(&scope) = scopes.get(i) else {
                continue;
            };
            set_prefix(&mut prefix, scope);
            if let Some(c) = TermCursor::open(table, prefix.clone(), upper)? {
                out.push((i, c));
            }
        }
        return Ok(out);
    }
    // Enumerate the scopes that hold the term: one seek per such scope.
    let mut start = epoch.to_be_bytes().to_vec();
    start.extend_from_slice(term);
    let mut end = start.clone();
    end.push(keys::TERM_END + 1);
    start.push(keys::TERM_END);
    loop {
        let first = {
            let mut range = table.range(start.as_slice()..end.as_slice())?;
            match range.next() {
                Some(entry) => {
                    let (k, v) = entry?;
                    keys::parse_key(k.value()).map(|(_, s, min)| (s, min, v.value().to_vec()))
                }
                None => None,
            }
        };
        let Some((scope, min, value)) = first else {
            return Ok(out);
        };
        if let Ok(pos) = scopes.binary_search(&scope)
            && alive.binary_search(&pos).is_ok()
        {
            set_prefix(&mut prefix, scope);
            let cursor = if min <= upper {
                TermCursor::from_block(prefix.clone(), min, &value, upper)
            } else {
                TermCursor::open(table, prefix.clone(), upper)?
            };
            if let Some(c) = cursor {
                out.push((pos, c));
            }
        }
        // Skip to the next scope.
        set_prefix(&mut prefix, scope);
        start = keys::after_pair(&prefix);
    }
}

/// Newest-first cursor over the postings of one (term, scope).
struct TermCursor {
    pair_prefix: Vec<u8>,
    /// The current block, ascending; never empty.
    block: Vec<u64>,
    /// Index of the current id in `block`.
    pos: usize,
}

impl TermCursor {
    fn open(
        table: &Postings,
        pair_prefix: Vec<u8>,
        target: u64,
    ) -> Result<Option<Self>, StorageError> {
        match block_le(table, &pair_prefix, target)? {
            Some((min, value)) => Ok(Self::from_block(pair_prefix, min, &value, target)),
            None => Ok(None),
        }
    }

    /// Requires `min <= target`.
    fn from_block(pair_prefix: Vec<u8>, min: u64, value: &[u8], target: u64) -> Option<Self> {
        let mut block = Vec::new();
        decode_block(min, value, &mut block);
        let pos = block.partition_point(|&x| x <= target).checked_sub(1)?;
        Some(Self {
            pair_prefix,
            block,
            pos,
        })
    }

    fn current(&self) -> u64 {
        self.block.get(self.pos).copied().unwrap_or(0)
    }

    /// Loads the block holding the newest id ≤ `target`; false when there is none.
    fn load(&mut self, table: &Postings, target: u64) -> Result<bool, StorageError> {
        let Some((min, value)) = block_le(table, &self.pair_prefix, target)? else {
            return Ok(false);
        };
        decode_block(min, &value, &mut self.block);
        match self.block.partition_point(|&x| x <= target).checked_sub(1) {
            Some(pos) => {
                self.pos = pos;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// Moves to the next older id; false when exhausted.
    fn advance(&mut self, table: &Postings) -> Result<bool, StorageError> {
        if self.pos > 0 {
            self.pos -= 1;
            return Ok(true);
        }
        match self.block.first().copied() {
            Some(min) if min > 0 => self.load(table, min - 1),
            _ => Ok(false),
        }
    }

    /// Moves to the newest id ≤ `target`; false when exhausted.
    fn seek_le(&mut self, table: &Postings, target: u64) -> Result<bool, StorageError> {
        if self.current() <= target {
            return Ok(true);
        }
        match self.block.first().copied() {
            Some(min) if min <= target => {
                self.pos = self
                    .block
                    .partition_point(|&x| x <= target)
                    .saturating_sub(1);
                Ok(true)
            }
            _ => self.load(table, target),
        }
    }
}

/// Union of the cursors of one query word (several terms for a prefix word).
#[derive(Default)]
struct Group {
    cursors: Vec<TermCursor>,
    current: Option<u64>,
}

impl Group {
    fn refresh(&mut self) {
        self.current = self.cursors.iter().map(TermCursor::current).max();
    }

    /// Moves past the current id.
    fn advance(&mut self, table: &Postings) -> Result<(), StorageError> {
        if let Some(cur) = self.current {
            let mut keep = Vec::with_capacity(self.cursors.len());
            for mut c in self.cursors.drain(..) {
                if c.current() != cur || c.advance(table)? {
                    keep.push(c);
                }
            }
            self.cursors = keep;
        }
        self.refresh();
        Ok(())
    }

    fn seek_le(&mut self, table: &Postings, target: u64) -> Result<(), StorageError> {
        if self.current.is_some_and(|c| c <= target) {
            return Ok(());
        }
        let mut keep = Vec::with_capacity(self.cursors.len());
        for mut c in self.cursors.drain(..) {
            if c.seek_le(table, target)? {
                keep.push(c);
            }
        }
        self.cursors = keep;
        self.refresh();
        Ok(())
    }
}

/// AND of the query's words inside one scope.
struct ScopeEval {
    groups: Vec<Group>,
}

impl ScopeEval {
    /// Leapfrog: the newest id at or below every group's position that all groups contain.
    fn settle(&mut self, table: &Postings) -> Result<Option<u64>, StorageError> {
        loop {
            let mut target = u64::MAX;
            for g in &self.groups {
                match g.current {
                    Some(c) => target = target.min(c),
                    None => return Ok(None),
                }
            }
            let mut agree = true;
            for g in &mut self.groups {
                g.seek_le(table, target)?;
                match g.current {
                    None => return Ok(None),
                    Some(c) if c != target => agree = false,
                    Some(_) => {}
                }
            }
            if agree {
                return Ok(Some(target));
            }
        }
    }

    /// The next match after the current one.
    fn next(&mut self, table: &Postings) -> Result<Option<u64>, StorageError> {
        match self.groups.first_mut() {
            Some(g) => g.advance(table)?,
            None => return Ok(None),
        }
        self.settle(table)
    }
}
