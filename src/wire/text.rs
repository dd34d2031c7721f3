//! Small text helpers every reader of the wire uses: prefixes matched
//! without regard to case, bullets, runs of whitespace.

/// Characters that start a list item.
pub const BULLETS: [char; 5] = ['-', '*', '•', '–', '·'];

/// `s` without an ASCII `prefix` matched ignoring ASCII case.
pub fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix).then(|| &s[prefix.len()..])
}

/// Whether `s` starts with an ASCII `prefix`, ignoring ASCII case.
pub fn starts_with_ci(s: &str, prefix: &str) -> bool {
    strip_prefix_ci(s, prefix).is_some()
}

/// `s` after a `label` matched case-insensitively as a whole word (the
/// label given in lower case; any letters, not only ASCII).
pub fn strip_word_ci<'a>(s: &'a str, label: &str) -> Option<&'a str> {
    let mut chars = s.char_indices();
    for l in label.chars() {
        let (_, c) = chars.next()?;
        if c.to_lowercase().next() != Some(l) {
            return None;
        }
    }
    let rest = chars.next().map_or("", |(i, _)| &s[i..]);
    match rest.chars().next() {
        Some(c) if c.is_alphanumeric() => None,
        _ => Some(rest),
    }
}

/// Where an ASCII `needle` first occurs in `hay`, ignoring ASCII case. A match
/// is all ASCII bytes, so both its ends are character boundaries.
pub fn find_ci(hay: &str, needle: &str) -> Option<usize> {
    let (h, n) = (hay.as_bytes(), needle.as_bytes());
    (0..(h.len() + 1).saturating_sub(n.len())).find(|&i| h[i..i + n.len()].eq_ignore_ascii_case(n))
}

/// A list item's text without its bullet; `s` itself when it has none (or
/// is nothing but one).
pub fn unbullet(s: &str) -> String {
    let t = s.trim_start_matches(BULLETS).trim_start();
    if t.len() < s.len() && !t.is_empty() {
        t.to_owned()
    } else {
        s.to_owned()
    }
}

/// Runs of whitespace to one space, without any at either end.
pub fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_and_words_ignore_case() {
        assert_eq!(strip_prefix_ci("UPDATED: x", "updated:"), Some(" x"));
        assert_eq!(strip_prefix_ci("é", "e"), None);
        assert_eq!(strip_word_ci("Updated 2016", "updated"), Some(" 2016"));
        assert_eq!(strip_word_ci("Updatedness", "updated"), None);
        assert_eq!(find_ci("Jane AND John", " and "), Some(4));
    }

    #[test]
    fn bullets_and_spaces() {
        assert_eq!(unbullet("• Item"), "Item");
        assert_eq!(unbullet("-"), "-");
        assert_eq!(collapse("  a \t b\n"), "a b");
    }
}
