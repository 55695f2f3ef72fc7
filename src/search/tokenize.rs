//! Tokenizer shared by indexing and querying.
//!
//! A token is a maximal run of Unicode alphanumeric characters, lowercased and folded:
//!
//! 1. **Diacritics** of Latin letters are dropped (`é → e`, `ñ → n`, `ł → l`, `ø → o`, …); `ß`
//!    becomes `ss`, `æ` → `ae`, `œ` → `oe`, `þ` → `th`.
//! 2. **German digraphs** are then collapsed: `ae → a`, `oe → o`, `ue → u` (but not after `q`),
//!    as in the Snowball "German2" variant (Lucene's `GermanNormalizationFilter`).
//!
//! So `Müller`, `Mueller` and `muller` all become `muller`, `Straße` becomes `strasse`,
//! `Gödel`/`Goedel` become `godel`. The folding is applied identically to messages and queries,
//! so it only ever merges spellings; the price is a few false friends (`poet` and `pot` are the
//! same token, `Michael` matches `Michal`), which is acceptable for an inbox search.
//!
//! Tokens shorter than 2 characters (after folding) are dropped, and tokens are truncated to
//! [`MAX_TOKEN_BYTES`] bytes on a character boundary (a query word is truncated the same way, so
//! a very long word still finds itself). Scripts written without spaces (CJK) are not segmented.

/// Longest token kept, in UTF-8 bytes (longer words are truncated).
pub const MAX_TOKEN_BYTES: usize = 32;

/// Splits `text` into normalized search tokens (see the module documentation).
pub fn tokenize(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !is_word_char(c))
        .filter_map(normalize_word)
}

/// Alphanumerics plus combining diacritical marks (so decomposed "u\u{308}" stays in its word).
pub(crate) fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || ('\u{300}'..='\u{36f}').contains(&c)
}

/// Normalizes one word (a run of alphanumerics); `None` when it folds to fewer than 2 chars.
pub(crate) fn normalize_word(word: &str) -> Option<String> {
    if word.is_empty() {
        return None;
    }
    let mut folded = String::with_capacity(word.len());
    for c in word.chars() {
        for lc in c.to_lowercase() {
            fold_char(lc, &mut folded);
        }
    }
    let mut out = String::with_capacity(folded.len());
    let mut prev: Option<char> = None;
    let mut chars = folded.chars().peekable();
    while let Some(c) = chars.next() {
        let collapse = matches!(c, 'a' | 'o' | 'u')
            && chars.peek() == Some(&'e')
            && !(c == 'u' && prev == Some('q'));
        if out.len() + c.len_utf8() > MAX_TOKEN_BYTES {
            break;
        }
        out.push(c);
        prev = Some(c);
        if collapse {
            chars.next();
            prev = Some('e');
        }
    }
    // Fewer than 2 characters: dropped.
    out.chars().nth(1)?;
    Some(out)
}

/// Appends the folded form of one lowercase character.
fn fold_char(c: char, out: &mut String) {
    let s: &str = match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' => "a",
        'ç' | 'ć' | 'ĉ' | 'ċ' | 'č' => "c",
        'ď' | 'đ' | 'ð' => "d",
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ĕ' | 'ė' | 'ę' | 'ě' => "e",
        'ĝ' | 'ğ' | 'ġ' | 'ģ' => "g",
        'ĥ' | 'ħ' => "h",
        'ì' | 'í' | 'î' | 'ï' | 'ĩ' | 'ī' | 'ĭ' | 'į' | 'ı' => "i",
        'ĵ' => "j",
        'ķ' => "k",
        'ĺ' | 'ļ' | 'ľ' | 'ŀ' | 'ł' => "l",
        'ñ' | 'ń' | 'ņ' | 'ň' => "n",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ŏ' | 'ő' => "o",
        'ŕ' | 'ŗ' | 'ř' => "r",
        'ś' | 'ŝ' | 'ş' | 'š' | 'ș' => "s",
        'ţ' | 'ť' | 'ŧ' | 'ț' => "t",
        'ù' | 'ú' | 'û' | 'ü' | 'ũ' | 'ū' | 'ŭ' | 'ů' | 'ű' | 'ų' => "u",
        'ŵ' => "w",
        'ý' | 'ÿ' | 'ŷ' => "y",
        'ź' | 'ż' | 'ž' => "z",
        'ß' => "ss",
        'æ' => "ae",
        'œ' => "oe",
        'þ' => "th",
        // Combining marks left by decomposed input (e.g. "u\u{308}") are dropped.
        '\u{300}'..='\u{36f}' => "",
        _ => {
            out.push(c);
            return;
        }
    };
    out.push_str(s);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<String> {
        tokenize(s).collect()
    }

    #[test]
    fn lowercases_and_splits_on_non_alphanumerics() {
        assert_eq!(
            toks("Hello, World! order#4711/B2b"),
            ["hello", "world", "order", "4711", "b2b"]
        );
    }

    #[test]
    fn drops_one_char_tokens() {
        assert_eq!(toks("a b cd e"), ["cd"]);
    }

    #[test]
    fn umlauts_and_digraphs_fold_together() {
        for w in ["Müller", "Mueller", "muller", "MÜLLER", "Mu\u{308}ller"] {
            assert_eq!(toks(w), ["muller"], "{w}");
        }
        assert_eq!(toks("Straße"), ["strasse"]);
        assert_eq!(toks("Gödel Goedel"), ["godel", "godel"]);
        assert_eq!(toks("Käse Kaese"), ["kase", "kase"]);
        assert_eq!(toks("Quelle"), ["quelle"], "ue after q is kept");
        assert_eq!(toks("Café Ångström Łódź"), ["cafe", "angstrom", "lodz"]);
    }

    #[test]
    fn unicode_alphanumerics_are_kept() {
        assert_eq!(toks("привет мир"), ["привет", "мир"]);
        assert_eq!(toks("日本語 ok"), ["日本語", "ok"]);
    }

    #[test]
    fn long_tokens_are_capped_on_a_char_boundary() {
        let long = "ä".repeat(100);
        let t = toks(&long);
        assert_eq!(t.len(), 1);
        assert_eq!(t[0], "a".repeat(MAX_TOKEN_BYTES));
        let cyr = "ж".repeat(40);
        let t = toks(&cyr);
        assert_eq!(t[0].len(), MAX_TOKEN_BYTES);
    }
}
