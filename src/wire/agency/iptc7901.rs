//! IPTC 7901 (as dpa's international services send it).
//!
//! ```text
//! SOH eca062 4 i 211 ccccb   dpa 061      service + sequence, priority, category, words,
//!                                         selector, originator + its number
//! Germany-politics/                       slug line(s), ending "/"
//! STX [EXTRA / REFILE / 1ST LEAD / (Achtung)]
//! Headline [By Name, dpa] =               the headline ends with " ="
//!    Berlin (dpa) - ...                   blank-line separated, hard-wrapped paragraphs
//! # dpa NOTEBOOK ...                      notes: nothing from here on is published
//! dpa wsz jln npr                         editor initials
//! ETX 131137 GMT Nov 13                   trailer: day 13, 11:37 GMT, November 2013
//! ```
//!
//! `docs/parser.md` has the decisions.

use crate::wire::byline::byline;
use crate::wire::layout::{self, Line};
use crate::wire::time::StoryTime;
use crate::wire::{ParseError, ParseOptions, Story, Wire, WireFormat};

use super::text::{self, Draft, ETX, SOH, STX};

/// The header line's shape: `eca062 4 i 211`: letters and digits, a one-digit
/// priority, category letters, a word count.
struct Header {
    sequence: String,
    priority: Option<u8>,
    category: String,
    words: Option<u32>,
    originator: Option<String>,
}

fn header(line: &str) -> Option<Header> {
    let tokens: Vec<&str> = line.split_whitespace().collect();
    let [first, priority, category, words, rest @ ..] = tokens.as_slice() else { return None };
    let letters = first.chars().take_while(char::is_ascii_alphabetic).count();
    let sequence = &first[letters..];
    let ok = (1..=5).contains(&letters)
        && !sequence.is_empty()
        && sequence.len() <= 6
        && sequence.chars().all(|c| c.is_ascii_digit())
        && priority.len() == 1
        && priority.chars().all(|c| c.is_ascii_digit())
        && (1..=4).contains(&category.len())
        && category.chars().all(|c| c.is_ascii_alphabetic())
        && words.len() <= 6
        && words.chars().all(|c| c.is_ascii_digit());
    if !ok {
        return None;
    }
    // The originator is the word before its own number (`dpa 061`); a
    // selector (`ccccb`) may stand before it.
    let originator = rest
        .windows(2)
        .rev()
        .find(|w| w[0].chars().all(|c| c.is_ascii_alphabetic()) && w[1].chars().all(|c| c.is_ascii_digit()))
        .map(|w| w[0].to_owned());
    Some(Header {
        sequence: sequence.to_owned(),
        priority: priority.parse().ok(),
        category: (*category).to_owned(),
        words: words.parse().ok(),
        originator,
    })
}

/// Where the header starts: an SOH followed by a header line.
fn find_header(text: &str) -> Option<(usize, Header)> {
    text.match_indices(SOH).find_map(|(at, _)| {
        let rest = &text[at + 1..];
        let line = rest.split('\n').next().unwrap_or("");
        header(&text::strip_controls(line, &[])).map(|h| (at, h))
    })
}

/// Whether the start of a transmission is in this format: an SOH and an IPTC
/// 7901 header line, or an STX whose headline ends with ` =`.
pub fn detect(head: &[u8]) -> bool {
    let text = String::from_utf8_lossy(head);
    if find_header(&text).is_some() {
        return true;
    }
    text.match_indices(STX).any(|(at, _)| {
        text[at + 1..]
            .split('\n')
            .take(6)
            .any(|l| l.trim_end().ends_with(" =") && l.chars().filter(|c| c.is_alphabetic()).count() >= 3)
    })
}

/// Reads one transmission.
pub fn parse(bytes: &[u8], options: &ParseOptions) -> Result<Story, ParseError> {
    let raw = text::decode(bytes)?;
    let ctx = text::context(options);
    let mut d = Draft { wire: Wire { format: WireFormat::Iptc7901, ..Wire::default() }, ..Draft::default() };
    let all = raw.text.as_str();

    // Header (and any bytes before it, which are not the story's).
    let (start, head) = match find_header(all) {
        Some((at, h)) => {
            let end = all[at..].find('\n').map_or(all.len(), |n| at + n + 1);
            (end, Some(h))
        }
        // An SOH line that is not a header we can read is still the
        // header: left out, never a slug or a headline.
        None => match all.find(SOH) {
            Some(at) => (all[at..].find('\n').map_or(all.len(), |n| at + n + 1), None),
            None => (0, None),
        },
    };
    if let Some(h) = &head {
        d.wire.sequence = Some(h.sequence.clone());
        d.wire.priority = h.priority;
        d.wire.category = Some(h.category.clone());
        d.wire.words = h.words;
        d.wire.source = h.originator.clone();
    }
    // Times written without a zone are in the originator's home zone.
    let tz = d.wire.source.as_deref().and_then(super::home_zone).unwrap_or(options.source_tz);
    let ctx = crate::wire::time::Context { tz, ..ctx };
    d.zone = Some(tz);
    if start > 0 && all[..start].find(SOH).is_some_and(|i| !all[..i].trim().is_empty()) {
        d.warnings.push("bytes before the transmission header were left out".to_owned());
    }

    // Trailer: after the last ETX.
    let rest = &all[start..];
    let (body_end, trailer) = match rest.rfind(ETX) {
        Some(at) => (at, Some(&rest[at + 1..])),
        None => (rest.len(), None),
    };
    let region = &rest[..body_end];
    let stx = region.find(STX);
    let mut lines: Vec<String> = Vec::new();
    let mut stx_line = None;
    let mut offset = 0;
    for line in region.split('\n') {
        if stx_line.is_none() && stx.is_some_and(|s| s >= offset && s <= offset + line.len()) {
            stx_line = Some(lines.len());
        }
        offset += line.len() + 1;
        lines.push(text::strip_controls(line, &[]));
    }
    // Without an ETX, a trailer may still end the text.
    if trailer.is_none() {
        if let Some(i) = lines.iter().rposition(|l| !l.trim().is_empty()) {
            if let Some(t) = trailer_time(&lines[i], options, tz) {
                d.published = Some(t);
                lines.truncate(i);
            }
        }
    }
    if let Some(t) = trailer {
        for line in t.split('\n') {
            let line = text::strip_controls(line, &[]);
            if let Some(time) = trailer_time(&line, options, tz) {
                d.published = Some(time);
                break;
            }
        }
    }

    // Slug, takes and headline.
    let stx_line = stx_line.unwrap_or(0);
    let search_to = lines.len().min(stx_line + 12);
    let eq = (0..search_to).find(|&i| {
        let l = lines[i].trim_end();
        l.ends_with('=') && l.chars().any(char::is_alphabetic) && !text::is_separator(l)
    });
    let mut slug = Vec::new();
    let mut takes = Vec::new();
    let mut headline: Vec<String> = Vec::new();
    // Advisory lines between the keyword line and the headline (embargo,
    // correction, urgency, kill, photo, desk): each is what it says, never
    // part of the headline. Applied once the transmission's time is known.
    let mut advisories: Vec<(text::Kind, String)> = Vec::new();
    let body_from = match eq {
        Some(e) => {
            for (i, l) in lines[..e].iter().enumerate() {
                let t = l.trim();
                if t.is_empty() {
                    continue;
                }
                if i < stx_line || (headline.is_empty() && takes.is_empty() && t.ends_with('/')) {
                    slug.push(t.to_owned());
                    continue;
                }
                // A genre line above the headline (`Zusammenfassung - 1745`) is the genre.
                let genre_line = super::xhtml::genre_line(t).filter(|_| headline.is_empty());
                if let Some((genre, note)) = genre_line.filter(|_| text::advisory(t) == text::Kind::Text) {
                    d.wire.genre.get_or_insert(genre);
                    if let Some(n) = note {
                        d.note(&n);
                    }
                    continue;
                }
                match text::advisory(t) {
                    text::Kind::Text if headline.is_empty() && is_take(t) => takes.push(t.to_owned()),
                    text::Kind::Text => headline.push(t.to_owned()),
                    k => {
                        // Lines read as headline above an advisory were
                        // advisories too (of a kind not known here): the
                        // headline is what follows the last advisory.
                        for h in headline.drain(..) {
                            advisories.push((text::Kind::Note, h));
                        }
                        advisories.push((k, t.to_owned()));
                    }
                }
            }
            let last = lines[e].trim().trim_end_matches('=').trim();
            match text::advisory(last) {
                text::Kind::Text => headline.push(last.to_owned()),
                // `EMBARGOED until ... =`: the advisory ends with the mark, the headline is above it.
                k => advisories.push((k, last.to_owned())),
            }
            e + 1
        }
        None => {
            // No ` =`: the first line after the STX (or the slug) that is
            // no take and no advisory is the headline.
            let mut i = 0;
            let mut found = None;
            while i < lines.len() {
                let t = lines[i].trim();
                if !t.is_empty() {
                    if i < stx_line || (stx.is_none() && t.ends_with('/')) {
                        slug.push(t.to_owned());
                    } else {
                        match text::advisory(t) {
                            _ if i + 1 >= lines.len() => {
                                found = Some(i);
                                headline.push(t.to_owned());
                                break;
                            }
                            text::Kind::Text if is_take(t) => takes.push(t.to_owned()),
                            text::Kind::Text => {
                                found = Some(i);
                                headline.push(t.to_owned());
                                break;
                            }
                            k => advisories.push((k, t.to_owned())),
                        }
                    }
                }
                i += 1;
            }
            found.map_or(lines.len(), |f| f + 1)
        }
    };
    if !slug.is_empty() {
        d.wire.slug = Some(slug.join(" ").trim_end_matches('/').trim().to_owned());
    }
    if !takes.is_empty() {
        d.wire.take = Some(takes.join(" "));
    }
    let mut headline = text::collapse(&headline.join(" "));
    // `Headline By Jane Doe, dpa =`: the byline shares the headline's line.
    if let Some((at, authors)) = headline
        .match_indices(" By ")
        .chain(headline.match_indices(" by "))
        .chain(headline.match_indices(" Von "))
        .find_map(|(at, _)| byline(headline[at + 1..].trim()).map(|a| (at, a)))
    {
        d.authors = authors;
        headline.truncate(at);
    }
    d.headline = headline;

    // A trailer inside the body (the ETX was lost, or bytes after the
    // transmission held one) is still a trailer.
    let mut body_lines: Vec<String> = Vec::new();
    for line in &lines[body_from.min(lines.len())..] {
        match trailer_time(line, options, tz) {
            Some(t) => {
                d.published.get_or_insert(t);
            }
            None => body_lines.push(line.clone()),
        }
    }
    let reference = d.published.as_ref().map(text::instant);
    for (k, line) in advisories {
        text::apply(k, &line, &mut d, reference, &ctx);
    }
    let paragraphs = body(&body_lines, &mut d);
    if d.wire.source.is_none() {
        d.wire.source =
            paragraphs.first().and_then(|(p, _)| crate::wire::dateline::dateline(p)).and_then(|dl| dl.agency);
    }
    text::sort_paragraphs(paragraphs, &mut d, reference, &ctx);
    text::finish(d, &raw, options)
}

/// A take line above the headline: `EXTRA`, `REFILE`, `1ST LEAD`, `(Achtung)`.
fn is_take(t: &str) -> bool {
    let short = t.chars().count() <= 40 && !t.ends_with('/');
    let bracketed = t.starts_with('(') && t.ends_with(')');
    let capitals = t.chars().any(char::is_uppercase) && !t.chars().any(char::is_lowercase);
    let known = ["eilmeldung", "eil", "refile", "extra", "update", "correction", "berichtigung", "wiederholung"]
        .contains(&t.to_lowercase().as_str());
    short && (bracketed || capitals || known)
}

/// The body lines to paragraphs (table paragraphs flagged): a byline first,
/// then blank-line separated hard-wrapped paragraphs; from a notebook or
/// "not for publication" line on, everything is notes.
fn body(lines: &[String], d: &mut Draft) -> Vec<(String, bool)> {
    let mut kept: Vec<&str> = Vec::new();
    let mut started = false;
    let mut notes = false;
    for line in lines {
        let t = line.trim();
        if notes {
            d.note(t);
            continue;
        }
        if !started && !t.is_empty() {
            if let Some(authors) = byline(t) {
                d.authors.extend(authors);
                continue;
            }
        }
        if !t.is_empty() {
            started = true;
        }
        if text::kind(t) == text::Kind::NotesFrom {
            notes = true;
            d.note(t);
            continue;
        }
        if text::is_initials(t, d.wire.source.as_deref()) {
            d.note(t);
            continue;
        }
        kept.push(line.as_str());
    }
    let lines: Vec<Line<'_>> = kept.iter().enumerate().map(|(n, l)| Line::new(n + 1, l)).collect();
    let mut out = Vec::new();
    let mut from = None;
    for (i, line) in lines.iter().enumerate() {
        match (line.is_blank(), from) {
            (false, None) => from = Some(i),
            (true, Some(f)) => {
                layout::paragraphs(&lines[f..i], &mut out);
                from = None;
            }
            _ => {}
        }
    }
    if let Some(f) = from {
        layout::paragraphs(&lines[f..], &mut out);
    }
    out.into_iter().map(|p| (p.clone(), p.contains('\n'))).collect()
}

/// The trailer time: `131137 GMT Nov 13` is day 13, 11:37 GMT, November
/// 2013. The month may be German (`Okt`, `Mär`), `GMT` may be missing (the
/// time is then in `tz`, the originator's home zone: dpa's German services
/// write local time), and so may the year (the latest year that does not
/// put the time after the receive time).
fn trailer_time(line: &str, options: &ParseOptions, tz: chrono_tz::Tz) -> Option<StoryTime> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let (first, rest) = words.split_first()?;
    if first.len() != 6 || !first.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let num = |r: std::ops::Range<usize>| first[r].parse::<u32>().ok();
    let (day, hour, minute) = (num(0..2)?, num(2..4)?, num(4..6)?);
    let utc = rest.iter().any(|w| matches!(w.to_lowercase().as_str(), "gmt" | "utc" | "z"));
    let rest: Vec<&str> =
        rest.iter().copied().filter(|w| !matches!(w.to_lowercase().as_str(), "gmt" | "utc" | "z")).collect();
    let month = text::month(rest.first()?)?;
    let year = match rest.get(1) {
        Some(y) if y.chars().all(|c| c.is_ascii_digit()) && matches!(y.len(), 2 | 4) => {
            text::full_year(y.parse().ok()?, y.len())
        }
        _ => text::guess_year(month, day, options.received),
    };
    if utc {
        return text::utc(year, month, day, hour, minute);
    }
    let date = chrono::NaiveDate::from_ymd_opt(year, month, day)?;
    let naive = date.and_time(chrono::NaiveTime::from_hms_opt(hour, minute, 0)?);
    crate::wire::time::in_zone(tz, naive).map(StoryTime::Instant)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options() -> ParseOptions {
        ParseOptions::for_tests()
    }

    const STORY: &str = "\u{1}abc123 3 i 120 dpa 0456\r\n\nFrance-strike/\r\n\u{2}REFILE\nRail strike halts trains across France =\r\n\n   Paris (dpa) - A rail strike halted most trains across France\r\non Tuesday, unions said.\r\n\r\n   Talks are due to resume on Friday.\r\n\r\n# Notebook\r\n## Contacts\r\n- Reporting by: Anna Beispiel\r\n\r\ndpa ab cd\r\n\r\n\u{3}041512 GMT Mär 25\r\n\u{7f}\u{7f}\u{4}";

    #[test]
    fn a_transmission_is_read() {
        assert!(detect(STORY.as_bytes()));
        let s = parse(STORY.as_bytes(), &options()).unwrap();
        assert_eq!(s.headline, "Rail strike halts trains across France");
        assert_eq!(s.paragraphs.len(), 2);
        assert_eq!(
            s.paragraphs[0],
            "Paris (dpa) - A rail strike halted most trains across France on Tuesday, unions said."
        );
        assert_eq!(s.wire.slug.as_deref(), Some("France-strike"));
        assert_eq!(s.wire.take.as_deref(), Some("REFILE"));
        assert_eq!(s.wire.sequence.as_deref(), Some("123"));
        assert_eq!(s.wire.priority, Some(3));
        assert_eq!(s.wire.category.as_deref(), Some("i"));
        assert_eq!(s.wire.words, Some(120));
        assert_eq!(s.wire.source.as_deref(), Some("dpa"));
        assert_eq!(Some(s.published), text::utc(2025, 3, 4, 15, 12));
        assert!(s.notes.iter().any(|n| n.contains("Anna Beispiel")));
        assert!(s.notes.iter().any(|n| n == "dpa ab cd"));
        assert_eq!(s.dateline.map(|d| d.place).as_deref(), Some("Paris"));
    }

    #[test]
    fn trailer_times_are_read() {
        let o = options();
        let utc = chrono_tz::UTC;
        assert_eq!(trailer_time("131137 GMT Nov 13", &o, utc), text::utc(2013, 11, 13, 11, 37));
        assert_eq!(trailer_time("020930 Okt 19", &o, utc), text::utc(2019, 10, 2, 9, 30));
        assert_eq!(trailer_time("241200 GMT Dez", &o, utc), text::utc(2025, 12, 24, 12, 0));
        assert_eq!(trailer_time("Berlin said", &o, utc), None);
        // Without GMT, dpa's local time (summer: UTC+2).
        assert_eq!(trailer_time("241205 Sep 24", &o, chrono_tz::Europe::Berlin), text::utc(2024, 9, 24, 10, 5));
    }

    #[test]
    fn plain_text_is_not_detected() {
        assert!(!detect(b"Headline\n\nBody text = fine.\n"));
    }
}
