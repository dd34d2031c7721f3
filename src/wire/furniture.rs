//! Site furniture and the section block.
//!
//! Furniture is a whole line that is clearly not story text: `Advertisement`,
//! `Play`, `Read more`, share buttons (`Share Tweet Email`), copyright lines
//! (`© 2016 ...`, `Copyright 2016 ...`, `... All rights reserved.`, a
//! photo credit `Image copyright Getty Images`), separators standing alone
//! (`___`, `* * *`), and the
//! Reuters ` Reuter` sign-off. Only whole lines of these shapes go; a
//! sentence that merely mentions copyright stays.
//!
//! A section heading (`More from World`, `More World news`, `More in
//! World`) or a related-stories heading (`Related:`, `Related stories`, `See
//! also`, `À lire aussi`, `Читайте также`) starts the list of related
//! stories that runs to the end of the text. `Related: <headline>` on one
//! line is a single related story inside the body.

use super::text::{starts_with_ci, strip_prefix_ci};

/// Whole lines that are furniture, lowercase, trailing `:`/`»`/`›` removed.
const EXACT: &[&str] = &[
    "advertisement",
    "advertising",
    "sponsored",
    "sponsored content",
    "play",
    "play video",
    "watch video",
    "video",
    "read more",
    "continue reading",
    "click here",
    "comments",
    "reuter",
    "share",
    "share this",
    "share this article",
    "share this story",
    "share article",
    "tweet",
    "email",
    "e-mail",
    "print",
    "all rights reserved",
    "publicité",
    "partager",
    "реклама",
];

/// Words of a share-button line.
const SHARE_WORDS: &[&str] = &[
    "share",
    "tweet",
    "email",
    "e-mail",
    "facebook",
    "twitter",
    "x",
    "whatsapp",
    "linkedin",
    "pinterest",
    "reddit",
    "print",
    "messenger",
    "telegram",
    "copy",
    "link",
    "save",
    "on",
    "this",
    "article",
    "story",
    "pin",
    "comment",
    "comments",
    "|",
    "·",
    "/",
    "•",
];
const SHARE_CORE: &[&str] = &["share", "tweet", "facebook", "twitter", "whatsapp", "linkedin", "pinterest", "reddit"];

/// Whether a whole line is furniture.
pub fn is_furniture(content: &str) -> bool {
    if content.len() > 200 {
        return false;
    }
    // Every furniture word and share line is short; only copyright lines are long.
    if content.len() <= 80 {
        let lower = content.to_lowercase();
        let key = lower.trim_end_matches([':', '»', '›', '>', ' ', '.']).trim_start_matches(['»', '›', '>', ' ']);
        if EXACT.contains(&key) || key.starts_with("image copyright ") {
            return true;
        }
        let mut words = key.split_whitespace();
        if words.clone().all(|w| SHARE_WORDS.contains(&w)) && words.any(|w| SHARE_CORE.contains(&w)) {
            return true;
        }
    }
    is_copyright(content)
}

/// `© ...`, `(c) 2016 ...`, `Copyright 2016 ...`, `Copyright © ...`,
/// `... All rights reserved.`; ASCII case ignored, nothing allocated.
fn is_copyright(content: &str) -> bool {
    let prefix = |p: &str| content.get(..p.len()).is_some_and(|h| h.eq_ignore_ascii_case(p));
    if content.starts_with('©') || prefix("(c) ") && content[4..].starts_with(|c: char| c.is_ascii_digit()) {
        return true;
    }
    if prefix("copyright") {
        let rest = content["copyright".len()..].trim_start();
        return rest.starts_with('©') || starts_with_ci(rest, "(c)") || rest.starts_with(|c: char| c.is_ascii_digit());
    }
    let end = content.trim_end_matches('.');
    let suffix = "all rights reserved";
    content.len() <= 120
        && end.len() >= suffix.len()
        && end.get(end.len() - suffix.len()..).is_some_and(|t| t.eq_ignore_ascii_case(suffix))
}

/// A separator line (`___`, `* * *`, `-----`): no words. Furniture when it
/// stands alone between blank lines; inside a table it is the table's rule.
pub fn is_separator(content: &str) -> bool {
    content.starts_with(['-', '_', '=', '*', '~', '#', '•', '·'])
        && content.len() <= 200
        && content.chars().filter(|c| !c.is_whitespace()).count() >= 3
        && content.chars().all(|c| c.is_whitespace() || matches!(c, '-' | '_' | '=' | '*' | '~' | '#' | '•' | '·'))
}

/// A heading that starts or names related stories.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Heading {
    /// `More from World`: the section, then the related list.
    Section(String),
    /// `Related stories`: the related list, no section.
    Related,
    /// `Related: <headline>`: one related story.
    Inline(String),
}

const RELATED: &[&str] = &[
    "related",
    "related stories",
    "related articles",
    "related news",
    "related coverage",
    "related content",
    "related links",
    "see also",
    "more stories",
    "more news",
    "you may also like",
    "recommended",
    "à lire aussi",
    "lire aussi",
    "voir aussi",
    "sur le même sujet",
    "читайте также",
    "по теме",
];

/// Reads a heading line.
pub fn heading(content: &str) -> Option<Heading> {
    if content.len() > 200 {
        return None;
    }
    if content.len() <= 40 {
        let lower = content.to_lowercase();
        if RELATED.contains(&lower.trim_end_matches([':', ' '])) {
            return Some(Heading::Related);
        }
    }
    for prefix in ["more from ", "more in "] {
        if let Some(name) = strip_prefix_ci(content, prefix) {
            return section_name(name, 5).map(Heading::Section);
        }
    }
    if let Some(name) = strip_prefix_ci(content, "more ") {
        let name = name.trim_end_matches(|c: char| c == ':' || c.is_whitespace());
        let cut = name.len().saturating_sub(" news".len());
        if let (Some(section), Some(suffix)) = (name.get(..cut), name.get(cut..)) {
            if suffix.eq_ignore_ascii_case(" news") {
                return section_name(section, 3).map(Heading::Section);
            }
        }
    }
    for prefix in [
        "Related: ",
        "RELATED: ",
        "Read more: ",
        "READ MORE: ",
        "See also: ",
        "Lire aussi : ",
        "Lire aussi: ",
        "À lire aussi : ",
    ] {
        if let Some(item) = content.strip_prefix(prefix) {
            let item = item.trim();
            return (!item.is_empty()).then(|| Heading::Inline(item.to_owned()));
        }
    }
    None
}

/// A section display name: short, not a sentence, starting with a capital.
fn section_name(name: &str, max_words: usize) -> Option<String> {
    let name = name.trim().trim_end_matches(':').trim_end();
    let words = name.split_whitespace().count();
    let first = name.chars().next()?;
    let ok = words <= max_words
        && name.chars().count() <= 40
        && !first.is_lowercase()
        && !name.ends_with(['.', '!', '?', ','])
        && !name.chars().any(|c| matches!(c, '"' | '“' | '”'));
    ok.then(|| name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn furniture_is_recognised() {
        assert!(is_separator("___") && is_separator("* * *") && !is_separator("--"));
        for line in [
            "Advertisement",
            "Play",
            "Play VIDEO",
            "Read more »",
            "Share Tweet Email",
            "Share on Facebook Share on Twitter",
            "© 2016 Example News. All rights reserved.",
            "Copyright 2016 The Associated Press.",
            "Reuter",
        ] {
            assert!(is_furniture(line), "{line}");
        }
    }

    #[test]
    fn sentences_are_not_furniture() {
        for line in [
            "Copyright law is changing.",
            "Play resumed after the rain.",
            "He shared the article on Twitter.",
            "Reuters reported the deal.",
        ] {
            assert!(!is_furniture(line), "{line}");
        }
    }

    #[test]
    fn headings_are_read() {
        assert_eq!(heading("More from World"), Some(Heading::Section("World".into())));
        assert_eq!(heading("More Business news"), Some(Heading::Section("Business".into())));
        assert_eq!(heading("Related:"), Some(Heading::Related));
        assert_eq!(heading("Related: Talks resume in Geneva"), Some(Heading::Inline("Talks resume in Geneva".into())));
        assert_eq!(heading("More from the report was read out."), None);
        assert_eq!(heading("More than 250,000 people have been killed"), None);
    }
}
