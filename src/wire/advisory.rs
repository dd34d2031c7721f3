//! Kill advisories: a transmission that kills or withdraws a story sent
//! before. It is acted on, never published. It names its story by the
//! agency's slug (the advisory carries the same slug) or by headline
//! (`KILL: <headline>`, or the headline quoted in its text).

use super::Story;

/// The words agencies mark a kill with, upper case as they send them.
/// German services mark it `LÖSCHUNG`, `ANNULLIERUNG`, `ZURÜCKGEZOGEN`.
/// (The text readers classify these lines, in any case, as a take mark:
/// `agency::text::advisory`.)
const MARKS: [&str; 12] = [
    "MANDATORY KILL",
    "KILL",
    "KILLED",
    "ELIMINATION",
    "WITHDRAWN",
    "WITHDRAWAL",
    "WITHDRAW",
    "LÖSCHUNG",
    "LOESCHUNG",
    "ANNULLIERUNG",
    "ZURÜCKGEZOGEN",
    "STORNO",
];

/// What a kill advisory names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kill {
    /// The killed story's headline, when the advisory gives one.
    pub headline: Option<String>,
}

/// The mark at the start of `text` (`KILL`, `MANDATORY KILL: ...`), and what follows it.
fn marked(text: &str) -> Option<&str> {
    let text = text.trim_start_matches(|c: char| !c.is_alphanumeric());
    MARKS.iter().find_map(|mark| {
        let rest = text.strip_prefix(mark)?;
        let boundary = rest.chars().next().is_none_or(|c| !c.is_alphanumeric());
        boundary.then(|| rest.trim_start_matches([':', '-', '—', '–', ' ', '\u{a0}']).trim())
    })
}

/// Whether a take mark (`KILL`, `WITHDRAWN`, `LÖSCHUNG`) is a kill.
pub fn is_kill_mark(mark: &str) -> bool {
    marked(mark).is_some_and(str::is_empty)
}

/// Whether the story is a kill advisory, and what it names.
pub fn kill(story: &Story) -> Option<Kill> {
    let in_take = story.wire.take.as_deref().is_some_and(|t| marked(t).is_some_and(str::is_empty));
    let in_headline = marked(&story.headline);
    if !in_take && in_headline.is_none() {
        return None;
    }
    // A kill marked only in the header (NewsML-G2 `stat:canceled`) names
    // its story by the headline it repeats.
    let named = in_headline.filter(|h| !h.is_empty()).map(str::to_owned).or_else(|| quoted(story)).or_else(|| {
        (in_take && in_headline.is_none() && !story.headline.trim().is_empty()).then(|| story.headline.clone())
    });
    Some(Kill { headline: named })
}

/// The first quoted phrase of the advisory's text: `... the story "X" ...`.
fn quoted(story: &Story) -> Option<String> {
    story.paragraphs.iter().find_map(|p| {
        for (open, close) in [('"', '"'), ('“', '”')] {
            let start = p.find(open)? + open.len_utf8();
            let end = p[start..].find(close)? + start;
            let inner = p[start..end].trim();
            if inner.split_whitespace().count() >= 2 {
                return Some(inner.to_owned());
            }
        }
        None
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_are_whole_words_at_the_start() {
        assert_eq!(marked("KILL: Floods cut off towns"), Some("Floods cut off towns"));
        assert_eq!(marked("MANDATORY KILL"), Some(""));
        assert_eq!(marked("ELIMINATION - Germany-politics"), Some("Germany-politics"));
        assert_eq!(marked("Killer whales seen off Cornwall"), None);
        assert_eq!(marked("Troops WITHDRAWN from border"), None);
        assert_eq!(marked("Kill switch for cars"), None, "only the upper-case mark");
        assert_eq!(marked("LÖSCHUNG"), Some(""));
    }
}
