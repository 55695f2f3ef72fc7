//! Behaviour tests and a model check against a naive scan.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::ids::{ChannelId, ChatId};
use std::collections::BTreeSet;

use proptest::prelude::*;
use redb::backends::InMemoryBackend;
use redb::{Database, ReadableDatabase};

use super::query::parse_query;
use super::*;

fn db() -> Database {
    Database::builder()
        .create_with_backend(InMemoryBackend::new())
        .unwrap()
}

fn index_all(db: &Database, msgs: &[(Scope, u64, &str)]) {
    let txn = db.begin_write().unwrap();
    for &(scope, id, text) in msgs {
        index_message(&txn, scope, id, text).unwrap();
    }
    txn.commit().unwrap();
}

fn find(db: &Database, scopes: &[Scope], q: &str, limit: usize, before: Option<u64>) -> Vec<u64> {
    let txn = db.begin_read().unwrap();
    search(&txn, scopes, q, limit, before)
        .unwrap()
        .into_iter()
        .map(|h| h.msg_id)
        .collect()
}

const A: Scope = Scope::Channel(ChannelId(1));
const B: Scope = Scope::Chat(ChatId(1));
const C: Scope = Scope::Chat(ChatId(7));

fn sample() -> Database {
    let db = db();
    index_all(
        &db,
        &[
            (A, 1, "Your invoice is attached"),
            (A, 2, "Invoice paid, thanks!"),
            (B, 3, "Did Herr Müller pay the invoice?"),
            (C, 4, "secret invoice for Mueller"),
            (A, 5, "Payment reminder"),
            (B, 6, "invoices overdue"),
        ],
    );
    db
}

#[test]
fn empty_database_and_empty_query_find_nothing() {
    let db = db();
    assert!(find(&db, &[A], "invoice", 10, None).is_empty());
    let db = sample();
    assert!(find(&db, &[A, B, C], "", 10, None).is_empty());
    assert!(find(&db, &[A, B, C], " ,x ", 10, None).is_empty());
    assert!(find(&db, &[], "invoice", 10, None).is_empty());
    assert!(find(&db, &[A, B, C], "invoice", 0, None).is_empty());
}

#[test]
fn one_word_newest_first_with_hits_carrying_scope() {
    let db = sample();
    assert_eq!(find(&db, &[A, B, C], "invoice ", 10, None), [4, 3, 2, 1]);
    let txn = db.begin_read().unwrap();
    let hits = search(&txn, &[A, B], "invoice ", 1, None).unwrap();
    assert_eq!(
        hits,
        [Hit {
            scope: B,
            msg_id: 3
        }]
    );
}

#[test]
fn all_words_must_match() {
    let db = sample();
    assert_eq!(find(&db, &[A, B, C], "invoice paid", 10, None), [2]);
    assert_eq!(find(&db, &[A, B, C], "PAID invoice", 10, None), [2]);
    assert!(find(&db, &[A, B, C], "invoice reminder ", 10, None).is_empty());
    assert!(find(&db, &[A, B, C], "invoice nosuchword", 10, None).is_empty());
}

#[test]
fn last_word_matches_as_prefix_unless_followed_by_a_separator() {
    let db = sample();
    assert_eq!(find(&db, &[A, B, C], "inv", 10, None), [6, 4, 3, 2, 1]);
    assert_eq!(find(&db, &[A, B, C], "invoice", 10, None), [6, 4, 3, 2, 1]);
    assert_eq!(find(&db, &[A, B, C], "invoice ", 10, None), [4, 3, 2, 1]);
    assert_eq!(find(&db, &[A, B, C], "pay", 10, None), [5, 3]);
    assert_eq!(find(&db, &[A, B, C], "pay invoice", 10, None), [3]);
    assert!(find(&db, &[A, B, C], "pa invoice ", 10, None).is_empty());
}

#[test]
fn umlaut_spellings_find_each_other() {
    let db = sample();
    for q in ["müller", "Mueller", "muller ", "Mül", "MUELLER"] {
        assert_eq!(find(&db, &[A, B, C], q, 10, None), [4, 3], "{q}");
    }
}

#[test]
fn never_a_hit_from_an_invisible_scope() {
    let db = sample();
    assert_eq!(find(&db, &[A], "invoice", 10, None), [2, 1]);
    assert_eq!(find(&db, &[B], "müller", 10, None), [3]);
    assert!(find(&db, &[A, B], "secret", 10, None).is_empty());
    assert!(find(&db, &[Scope::Channel(ChannelId(7))], "secret", 10, None).is_empty());
    assert_eq!(find(&db, &[C, C, C], "secret", 10, None), [4]);
}

#[test]
fn paging_with_before() {
    let db = sample();
    let all = [A, B, C];
    assert_eq!(find(&db, &all, "inv", 2, None), [6, 4]);
    assert_eq!(find(&db, &all, "inv", 2, Some(4)), [3, 2]);
    assert_eq!(find(&db, &all, "inv", 2, Some(2)), [1]);
    assert!(find(&db, &all, "inv", 2, Some(1)).is_empty());
    assert!(find(&db, &all, "inv", 2, Some(0)).is_empty());
}

#[test]
fn remove_message_drops_it_and_only_it() {
    let db = sample();
    let txn = db.begin_write().unwrap();
    remove_message(&txn, B, 3, "Did Herr Müller pay the invoice?").unwrap();
    remove_message(&txn, B, 3, "Did Herr Müller pay the invoice?").unwrap();
    remove_message(&txn, A, 99, "not indexed").unwrap();
    txn.commit().unwrap();
    assert_eq!(find(&db, &[A, B, C], "invoice ", 10, None), [4, 2, 1]);
    assert_eq!(find(&db, &[A, B, C], "müller", 10, None), [4]);
    assert!(find(&db, &[A, B, C], "herr", 10, None).is_empty());
}

#[test]
fn many_postings_out_of_order_split_and_merge_correctly() {
    let db = db();
    // 3000 ids in a scrambled order, with big gaps so blocks fill quickly.
    let ids: Vec<u64> = (0..3000u64).map(|i| (i * 7919) % 3000).collect();
    let txn = db.begin_write().unwrap();
    for &i in &ids {
        index_message(&txn, A, i << 20, "common").unwrap();
        if i % 3 == 0 {
            index_message(&txn, A, i << 20, "common third").unwrap();
        }
    }
    txn.commit().unwrap();
    let got = find(&db, &[A], "common", 5000, None);
    let want: Vec<u64> = (0..3000u64).rev().map(|i| i << 20).collect();
    assert_eq!(got, want);
    let got = find(&db, &[A], "common thi", 5000, None);
    let want: Vec<u64> = (0..3000u64)
        .rev()
        .filter(|i| i % 3 == 0)
        .map(|i| i << 20)
        .collect();
    assert_eq!(got, want);

    let txn = db.begin_write().unwrap();
    for i in (0..3000u64).filter(|i| i % 2 == 0) {
        remove_message(&txn, A, i << 20, "common").unwrap();
    }
    txn.commit().unwrap();
    let got = find(&db, &[A], "common", 5000, None);
    let want: Vec<u64> = (0..3000u64)
        .rev()
        .filter(|i| i % 2 == 1)
        .map(|i| i << 20)
        .collect();
    assert_eq!(got, want);
}

#[test]
fn many_visible_scopes_use_enumeration_and_still_filter() {
    let db = db();
    let txn = db.begin_write().unwrap();
    for s in 0..100u64 {
        index_message(&txn, Scope::Chat(ChatId(s)), s, "hello world").unwrap();
        index_message(&txn, Scope::Channel(ChannelId(s)), 1000 + s, "hello there").unwrap();
    }
    txn.commit().unwrap();
    let visible: Vec<Scope> = (0..100u64)
        .filter(|s| s % 3 == 0)
        .map(|i| Scope::Chat(ChatId(i)))
        .collect();
    let got = find(&db, &visible, "hello", 1000, None);
    let want: Vec<u64> = (0..100u64).rev().filter(|s| s % 3 == 0).collect();
    assert_eq!(got, want);
    let mut visible = visible;
    visible.extend((0..50u64).map(|i| Scope::Channel(ChannelId(i))));
    let got = find(&db, &visible, "hello the", 1000, None);
    let want: Vec<u64> = (0..50u64).rev().map(|s| 1000 + s).collect();
    assert_eq!(got, want);
}

#[test]
fn too_broad_prefix_falls_back_to_the_exact_word() {
    let db = db();
    let many: Vec<String> = (0..MAX_PREFIX_TERMS + 5)
        .map(|i| format!("ab{i}"))
        .collect();
    index_all(&db, &[(A, 1, "ab"), (A, 2, &many.join(" ")), (A, 3, "abc")]);
    // More than MAX_PREFIX_TERMS terms start with "ab" in this epoch: exact match only.
    assert_eq!(find(&db, &[A], "ab", 10, None), [1]);
    assert_eq!(find(&db, &[A], "ab13", 10, None), [2]);
    assert_eq!(find(&db, &[A], "abc", 10, None), [3]);
}

#[test]
fn pages_through_many_epochs_newest_first() {
    let db = db();
    let txn = db.begin_write().unwrap();
    for id in 1..=200u64 {
        let text = if id % 10 == 0 {
            "tenth message"
        } else {
            "other message"
        };
        index_message(&txn, if id % 2 == 0 { A } else { B }, id, text).unwrap();
    }
    txn.commit().unwrap();
    let mut seen = Vec::new();
    let mut before = None;
    loop {
        let page = find(&db, &[A, B], "tenth", 3, before);
        if page.is_empty() {
            break;
        }
        before = page.last().copied();
        seen.extend(page);
    }
    let want: Vec<u64> = (1..=20u64).rev().map(|i| i * 10).collect();
    assert_eq!(seen, want);
    assert_eq!(find(&db, &[B], "message", 2, Some(100)), [99, 97]);
}

#[test]
fn query_parsing() {
    let q = parse_query("Invoice, Müller inv");
    assert_eq!(q.exact, ["invoice", "muller"]);
    assert_eq!(q.prefix.as_deref(), Some("inv"));
    let q = parse_query("invoice x");
    assert_eq!(q.exact, ["invoice"]);
    assert_eq!(q.prefix, None);
    let q = parse_query("invoice ");
    assert_eq!(q.prefix, None);
}

// ---- model check -------------------------------------------------------------------------

const VOCAB: &[&str] = &[
    "invoice", "invoices", "payment", "pay", "Müller", "mueller", "straße", "strasse", "hello",
    "world", "order", "ordered", "x", "ab", "abc",
];
const QUERY_WORDS: &[&str] = &[
    "invoice", "inv", "pay", "pa", "müller", "mu", "strasse", "str", "hello", "order", "ab", "x",
    "zzz",
];

fn scope_of(n: u8) -> Scope {
    if n.is_multiple_of(2) {
        Scope::Channel(ChannelId(u64::from(n / 2)))
    } else {
        Scope::Chat(ChatId(u64::from(n / 2)))
    }
}

fn naive(
    corpus: &[(Scope, u64, String)],
    visible: &[Scope],
    query: &str,
    limit: usize,
    before: Option<u64>,
) -> Vec<Hit> {
    let q = parse_query(query);
    if q.exact.is_empty() && q.prefix.is_none() {
        return Vec::new();
    }
    let mut hits: Vec<Hit> = corpus
        .iter()
        .filter(|(s, id, text)| {
            let toks: BTreeSet<String> = tokenize(text).collect();
            visible.contains(s)
                && before.is_none_or(|b| *id < b)
                && q.exact.iter().all(|w| toks.contains(w))
                && q.prefix
                    .as_ref()
                    .is_none_or(|p| toks.iter().any(|t| t.starts_with(p.as_str())))
        })
        .map(|&(scope, msg_id, _)| Hit { scope, msg_id })
        .collect();
    hits.sort_by_key(|h| std::cmp::Reverse((h.msg_id, h.scope)));
    hits.truncate(limit);
    hits
}

fn corpus_strategy() -> impl Strategy<Value = Vec<(u8, u64, Vec<usize>)>> {
    (1u8..40).prop_flat_map(|nscopes| {
        prop::collection::vec(
            (
                0..nscopes,
                prop_oneof![0u64..400, 0u64..(1 << 45)],
                prop::collection::vec(0..VOCAB.len(), 0..6),
            ),
            0..250,
        )
    })
}

proptest! {
    #![proptest_config(crate::proptest_config(256))]

    #[test]
    fn search_equals_naive_scan(
        raw in corpus_strategy(),
        removed in prop::collection::vec(any::<prop::sample::Index>(), 0..20),
        visible_mask in any::<u64>(),
        words in prop::collection::vec(0..QUERY_WORDS.len(), 1..4),
        trailing_space in any::<bool>(),
        limit in 1usize..40,
        before in prop::option::of(0u64..(1 << 45)),
        batch in prop_oneof![Just(1usize), 2usize..80],
    ) {
        // One text per (scope, id); indexed in generation order (ids are not monotonic).
        let mut seen = BTreeSet::new();
        let mut corpus: Vec<(Scope, u64, String)> = Vec::new();
        for (s, id, ws) in raw {
            let scope = scope_of(s);
            if seen.insert((scope, id)) {
                let text: Vec<&str> = ws.iter().filter_map(|&w| VOCAB.get(w).copied()).collect();
                corpus.push((scope, id, text.join(" ")));
            }
        }
        let db = db();
        let txn = db.begin_write().unwrap();
        // batch 1: one message at a time; otherwise the writer's way (`Pending`, flushed every
        // `batch` messages), which must give the same answers.
        let mut pending = Pending::default();
        for (k, (scope, id, text)) in corpus.iter().enumerate() {
            if batch == 1 {
                index_message(&txn, *scope, *id, text).unwrap();
            } else {
                pending.push(*scope, *id, text);
                if (k + 1) % batch == 0 {
                    pending.flush(&txn).unwrap();
                }
            }
        }
        pending.flush(&txn).unwrap();
        txn.commit().unwrap();
        if !corpus.is_empty() {
            let mut gone = BTreeSet::new();
            let txn = db.begin_write().unwrap();
            for ix in &removed {
                let i = ix.index(corpus.len());
                let (scope, id, text) = &corpus[i];
                remove_message(&txn, *scope, *id, text).unwrap();
                gone.insert(i);
            }
            txn.commit().unwrap();
            let mut i = 0;
            corpus.retain(|_| { i += 1; !gone.contains(&(i - 1)) });
        }
        let visible: Vec<Scope> = (0u8..40).filter(|n| visible_mask >> n & 1 == 1).map(scope_of).collect();
        let mut query: Vec<&str> = words.iter().filter_map(|&w| QUERY_WORDS.get(w).copied()).collect();
        if trailing_space { query.push(""); }
        let query = query.join(" ");

        let txn = db.begin_read().unwrap();
        let got = search(&txn, &visible, &query, limit, before).unwrap();
        prop_assert_eq!(got, naive(&corpus, &visible, &query, limit, before));
    }
}
