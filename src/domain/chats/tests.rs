use super::*;

#[test]
fn mention_words_find_usernames_at_word_starts() {
    assert_eq!(
        mention_words("hi @Bob, ask @carol.smith. mail x@example.com (@dave) @"),
        vec!["bob", "carol.smith", "dave"]
    );
    assert_eq!(mention_words("@a@b.de: ok @a@b.de"), vec!["a@b.de"]);
    assert!(mention_words("no mentions here").is_empty());
}

#[test]
fn text_is_trimmed_and_checked() {
    assert_eq!(check_text("  hi\r\nthere  \n", 100).unwrap(), "hi\nthere");
    assert_eq!(check_text(" \n ", 100).unwrap(), "");
    assert!(check_text("abc", 2).is_err());
    assert!(check_text("bell\u{7}", 100).is_err());
    assert!(check_text("tab\tok 😀", 100).is_ok());
}

#[test]
fn snippets_center_on_the_match() {
    let long = format!("{} needle {}", "a ".repeat(200), "b ".repeat(200));
    let s = snippet(&long, "needle");
    assert!(
        s.contains("needle") && s.starts_with('…') && s.ends_with('…'),
        "{s}"
    );
    assert_eq!(snippet("short text", "zzz"), "short text");
}

#[test]
fn group_names_are_limited() {
    assert_eq!(clean_name("  Team  ").unwrap(), "Team");
    assert!(clean_name(&"x".repeat(101)).is_err());
    assert!(clean_name("a\u{0}b").is_err());
}
