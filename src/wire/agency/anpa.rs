//! ANPA-1312 (as AP sends it).
//!
//! ```text
//! SYN SYN SOH W2870 US asian              service letter, sequence, US, selector
//! f l DC3 DC1 BC-LT--Argentina-CancerB  11-13 1049
//!                                         priority letter, category letter, two format
//!                                         bytes (DC2 = tabular), keyword (cut to 24),
//!                                         take (1stLd-Writethru), date MM-DD, count
//! STX ^BC-LT--Argentina-Cancer Beauty,466<   ^ lines: keyword line, headline, then photo
//! ^Headline<                              references, Eds: notes, an abstract, the
//! ^Eds: With AP Photos.<                  byline (By ...=) and the agency or title
//! ^By NAME and NAME=                      under it (Associated Press=, AP Sports Writer=)
//! TAB   BUENOS AIRES, Argentina (AP) _ .. each TAB starts a paragraph; " _ " is a dash,
//!                                         ``...'' are quotes; BS starts a table row
//! TAB   ETX AP-WF-11-13-13 1509GMT<       trailer: 13 Nov 2013, 15:09 GMT
//! ```
//!
//! `docs/parser.md` has the decisions.

use crate::wire::byline::{byline, is_agency_line};
use crate::wire::dateline::dateline;
use crate::wire::{ParseError, ParseOptions, Story, Wire, WireFormat};

use super::text::{self, Draft, Kind, ETX, SOH, STX};

const US: char = '\u{1F}';
const BS: char = '\u{8}';
const DLE: char = '\u{10}';
const DC2: char = '\u{12}';

/// The two header lines' fields.
#[derive(Default)]
struct Header {
    sequence: Option<String>,
    priority: Option<char>,
    category: Option<String>,
    keyword: Option<String>,
    take: Option<String>,
    count: Option<u32>,
    tabular: bool,
}

/// Line 1: `[SYN SYN] SOH W2870 US selector` (after the SOH).
fn first_line(line: &str) -> Option<String> {
    let line = line.trim_start_matches('\u{16}');
    let mut chars = line.chars();
    let service = chars.next()?;
    let digits: String = chars.clone().take_while(char::is_ascii_digit).collect();
    let after = chars.as_str().get(digits.len()..).unwrap_or("");
    let ok = service.is_ascii_alphabetic()
        && digits.len() == 4
        && (after.starts_with(US) || after.trim().is_empty() || after.starts_with(' '));
    ok.then_some(digits)
}

/// Line 2: `f l DC3 DC1 BC-LT--Argentina-CancerB     11-13 1049`.
fn second_line(raw: &str, h: &mut Header) -> bool {
    let line = text::strip_controls(raw, &[]).replace(['\u{16}', US], " ");
    let tokens: Vec<&str> = line.split_whitespace().collect();
    let Some(date) = tokens.iter().rposition(|t| is_month_day(t)) else { return false };
    if tokens.len() < 3 || date < 3 {
        return false;
    }
    let (p, c) = (tokens[0], tokens[1]);
    let letter = |t: &str, max: usize| (1..=max).contains(&t.len()) && t.chars().all(|c| c.is_ascii_alphabetic());
    if !letter(p, 1) || !letter(c, 3) {
        return false;
    }
    h.priority = p.chars().next().map(|c| c.to_ascii_lowercase());
    h.category = Some(c.to_owned());
    h.keyword = Some(tokens[2].to_owned());
    let take = tokens[3..date].join(" ");
    h.take = (!take.is_empty()).then_some(take);
    h.count = tokens.get(date + 1).and_then(|t| t.parse().ok());
    h.tabular = raw.contains(DC2);
    true
}

fn is_month_day(t: &str) -> bool {
    let Some((m, d)) = t.split_once('-') else { return false };
    let num = |s: &str| (1..=2).contains(&s.len()) && s.chars().all(|c| c.is_ascii_digit());
    num(m) && num(d)
}

/// Where the header is: an SOH starting line 1 (perhaps after SYN SYN).
fn find_header(text: &str) -> Option<(usize, usize, Header)> {
    for (at, _) in text.match_indices(SOH) {
        let rest = &text[at + 1..];
        let mut lines = rest.splitn(3, '\n');
        let one = lines.next().unwrap_or("");
        let Some(sequence) = first_line(one) else { continue };
        let mut h = Header { sequence: Some(sequence), ..Header::default() };
        let mut end = at + 1 + one.len() + 1;
        if let Some(two) = lines.next() {
            if second_line(two, &mut h) {
                end += two.len() + 1;
            }
        }
        return Some((at, end.min(text.len()), h));
    }
    None
}

/// Whether the start of a transmission is in this format: SYN SYN SOH or an
/// SOH with an ANPA first line, the second header line's shape, or an STX
/// followed by `^...<` header lines.
pub fn detect(head: &[u8]) -> bool {
    let text = String::from_utf8_lossy(head);
    if text.contains("\u{16}\u{16}\u{1}") || find_header(&text).is_some() {
        return true;
    }
    if text.split('\n').any(|l| second_line(l, &mut Header::default()) && l.contains(['\u{11}', DC2])) {
        return true;
    }
    text.match_indices(STX).any(|(at, _)| {
        let first = text[at + 1..].trim_start_matches([STX, ' ']).split('\n').next().unwrap_or("");
        let first = first.trim_end();
        first.starts_with('^') && (first.ends_with('<') || first.ends_with('='))
    })
}

/// One body line, by its first character.
enum Piece {
    Header(String),
    Para(String),
    Row(String),
    Cont(String),
    Blank,
}

fn piece(line: &str) -> Piece {
    let l = text::strip_controls(line, &['\t', BS, DLE]);
    let l = l.trim_start_matches(' ');
    if let Some(h) = l.strip_prefix('^') {
        Piece::Header(header_text(h))
    } else if let Some(p) = l.strip_prefix('\t') {
        Piece::Para(clean(p.trim_end().trim_end_matches('<')))
    } else if let Some(r) = l.strip_prefix(BS) {
        // A leading `^` marks the row of column heads.
        Piece::Row(r.trim_start_matches('^').to_owned())
    } else if clean(l).is_empty() {
        Piece::Blank
    } else {
        Piece::Cont(clean(l.trim_end().trim_end_matches('<')))
    }
}

/// A `^...<` / `^...=` header line's text.
fn header_text(h: &str) -> String {
    clean(h.trim_end().trim_end_matches(['<', '=']).trim_end_matches(['<', '=']))
}

/// Text without the remaining layout controls.
fn clean(s: &str) -> String {
    text::collapse(&text::strip_controls(&s.replace(DLE, " "), &[]))
}

/// ANPA typography: ` _ ` is a dash, ``` `` ``` and `''` are double quotes,
/// a lone backquote an opening single quote.
fn typography(s: &str) -> String {
    let mut s =
        s.replace(" _ ", " \u{2014} ").replace("``", "\u{201C}").replace("''", "\u{201D}").replace('`', "\u{2018}");
    if let Some(rest) = s.strip_prefix("_ ") {
        s = format!("\u{2014} {rest}");
    }
    if let Some(rest) = s.strip_suffix(" _") {
        s = format!("{rest} \u{2014}");
    }
    s
}

/// A block of table rows: `;` separates columns, DLE is a hard space, `{`
/// is ½; columns are aligned (the first to the left, numbers to the right).
fn table(rows: &[String]) -> Vec<String> {
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            r.split(';')
                .map(|c| {
                    let c = text::collapse(&text::strip_controls(&c.replace(DLE, " "), &[])).replace('{', "\u{BD}");
                    if c == "_" {
                        "\u{2014}".to_owned()
                    } else {
                        c
                    }
                })
                .collect()
        })
        .collect();
    let columns = cells.iter().map(Vec::len).max().unwrap_or(0);
    let width: Vec<usize> = (0..columns)
        .map(|i| cells.iter().filter_map(|r| r.get(i)).map(|c| c.chars().count()).max().unwrap_or(0))
        .collect();
    cells
        .iter()
        .map(|r| {
            let mut line = String::new();
            for (i, c) in r.iter().enumerate() {
                let pad = width[i].saturating_sub(c.chars().count());
                if i == 0 {
                    line.push_str(c);
                    line.extend(std::iter::repeat_n(' ', pad));
                } else {
                    line.push_str("  ");
                    line.extend(std::iter::repeat_n(' ', pad));
                    line.push_str(c);
                }
            }
            line.trim_end().to_owned()
        })
        .collect()
}

/// The keyword line (`^BC-LT--Argentina-Cancer Beauty,466<`): the first
/// header line, when it looks like a keyword or repeats the header's.
fn is_keyword_line(t: &str, keyword: Option<&str>) -> bool {
    let first = t.split([' ', ',']).next().unwrap_or("");
    let cycle = first.len() > 3
        && first.as_bytes()[2] == b'-'
        && ["BC", "AM", "PM", "AP", "BN"].iter().any(|c| first[..2].eq_ignore_ascii_case(c));
    let repeats = keyword.is_some_and(|k| first.len() >= 6 && (k.starts_with(first) || first.starts_with(k)));
    cycle || first.contains("--") || repeats
}

/// The slug: the keyword without its cycle (`BC-`) and, when it is two
/// letters, its routing selector (`LT--`): `Argentina-Cancer`,
/// `BBO--BaseballExpanded`.
fn slug(keyword_line: Option<&str>, header: Option<&str>) -> Option<String> {
    let strip_cycle = |k: &str| -> String {
        if k.len() > 3
            && k.as_bytes()[2] == b'-'
            && k[..2].chars().all(|c| c.is_ascii_alphabetic())
            && !k[3..].starts_with('-')
        {
            k[3..].to_owned()
        } else {
            k.to_owned()
        }
    };
    let two_letter = |k: &str| -> Option<String> {
        let b = k.as_bytes();
        // Bytes, not str slices: a keyword may hold any character after its letters.
        (b.len() > 4 && b[0].is_ascii_alphabetic() && b[1].is_ascii_alphabetic() && &b[2..4] == b"--")
            .then(|| k[4..].to_owned())
    };
    if let Some(line) = keyword_line {
        let first = line.split([' ', ',']).next().unwrap_or("");
        if let Some(s) = two_letter(&strip_cycle(first)) {
            return Some(s);
        }
    }
    if let Some(h) = header {
        let h = strip_cycle(h);
        return Some(two_letter(&h).unwrap_or(h));
    }
    keyword_line.map(|l| strip_cycle(l.split([' ', ',']).next().unwrap_or("")))
}

/// The keyword line's word count (`...,466`) and take (`, 1st Ld-Writethru,`).
fn keyword_fields(line: &str) -> (Option<u32>, Option<String>) {
    let parts: Vec<&str> = line.split(',').map(str::trim).collect();
    let count = parts.last().and_then(|p| p.parse().ok());
    let end = if count.is_some() { parts.len() - 1 } else { parts.len() };
    let take = parts.get(1..end).map(|p| p.join(", ")).filter(|t| !t.is_empty());
    (count, take)
}

/// The trailer: `AP-WF-11-13-13 1509GMT`: the agency, and the time.
fn trailer(line: &str) -> Option<(String, crate::wire::StoryTime)> {
    let words: Vec<&str> = line.split_whitespace().collect();
    for (i, w) in words.iter().enumerate() {
        let parts: Vec<&str> = w.split('-').collect();
        let [agency, _, m, d, y] = parts.as_slice() else { continue };
        let two = |s: &str| s.len() == 2 && s.chars().all(|c| c.is_ascii_digit());
        if agency.is_empty() || !agency.chars().all(|c| c.is_ascii_alphabetic()) || !two(m) || !two(d) || !two(y) {
            continue;
        }
        let clock = words.get(i + 1).copied().unwrap_or("");
        let digits: String = clock.chars().take_while(char::is_ascii_digit).collect();
        if digits.len() != 4 {
            continue;
        }
        let n = |s: &str| s.parse::<u32>().ok();
        let time = text::utc(text::full_year(n(y)?, 2), n(m)?, n(d)?, n(&digits[..2])?, n(&digits[2..])?)?;
        return Some(((*agency).to_owned(), time));
    }
    None
}

/// The priority letter's number: f(lash) 1, b(ulletin) 2, u(rgent) 3,
/// r(egular) 4, d(eferred) 5.
fn priority(letter: char) -> Option<u8> {
    match letter {
        'f' => Some(1),
        'b' => Some(2),
        'u' => Some(3),
        'r' => Some(4),
        'd' => Some(5),
        _ => None,
    }
}

/// Reads one transmission.
pub fn parse(bytes: &[u8], options: &ParseOptions) -> Result<Story, ParseError> {
    let raw = text::decode(bytes)?;
    let ctx = text::context(options);
    let all = raw.text.as_str();
    let mut d = Draft { wire: Wire { format: WireFormat::Anpa1312, ..Wire::default() }, ..Draft::default() };

    let (start, header) = match find_header(all) {
        Some((at, end, h)) => {
            if !all[..at].trim_matches(|c: char| c.is_whitespace() || c == '\u{16}').is_empty() {
                d.warnings.push("bytes before the transmission header were left out".to_owned());
            }
            (end, h)
        }
        None => (0, Header::default()),
    };
    d.wire.sequence = header.sequence.clone();
    d.wire.priority = header.priority.and_then(priority);
    if let Some(p) = header.priority.filter(|&p| priority(p).is_none()) {
        d.warnings.push(format!("unknown priority letter {p:?}"));
    }
    d.wire.category = header.category.clone();
    d.wire.take = header.take.clone();
    d.wire.words = header.count;

    // Body between the STX and the last ETX; the trailer after it.
    let rest = &all[start..];
    let from = rest.find(STX).map_or(0, |s| s + 1);
    let (body, tail) = match rest[from..].rfind(ETX) {
        Some(e) => (&rest[from..from + e], Some(&rest[from + e + 1..])),
        None => (&rest[from..], None),
    };
    let mut lines: Vec<&str> = body.split('\n').collect();
    let mut found = tail.and_then(|t| t.split('\n').find_map(trailer));
    if tail.is_none() {
        // No ETX: a trailer line may still end the text.
        if let Some(i) = lines.iter().rposition(|l| !text::strip_controls(l, &[]).trim().is_empty()) {
            if let Some(t) = trailer(&text::strip_controls(lines[i], &[])) {
                found = Some(t);
                lines.truncate(i);
            }
        }
    }
    if let Some((agency, time)) = found {
        d.wire.source = Some(agency);
        d.published = Some(time);
    }
    let tabular = header.tabular;

    let mut keyword_line: Option<String> = None;
    let mut headline: Option<String> = None;
    let mut header_text: Vec<String> = Vec::new();
    let mut after_byline = false;
    let mut started = false;
    let mut headers_seen = 0;
    let mut paragraphs: Vec<(String, bool)> = Vec::new();
    let mut cur: Option<String> = None;
    let mut rows: Vec<String> = Vec::new();
    let mut grid: Vec<String> = Vec::new();
    let reference = d.published.as_ref().map(text::instant);

    let flush_para = |cur: &mut Option<String>, out: &mut Vec<(String, bool)>| {
        if let Some(p) = cur.take().filter(|p| !p.is_empty()) {
            out.push((typography(&p), false));
        }
    };
    let flush_rows = |rows: &mut Vec<String>, out: &mut Vec<(String, bool)>, grid: &mut Vec<String>| {
        if rows.is_empty() {
            return;
        }
        let lines = table(rows);
        rows.clear();
        if tabular {
            grid.extend(lines);
        } else {
            out.push((lines.join("\n"), true));
        }
    };
    for line in lines {
        // A trailer inside the body (the ETX was lost, or bytes after the
        // transmission held one) is still a trailer.
        if let Some((agency, time)) = trailer(&text::strip_controls(line, &[])) {
            d.wire.source.get_or_insert(agency);
            d.published.get_or_insert(time);
            continue;
        }
        match piece(line) {
            Piece::Header(t) if !started => {
                headers_seen += 1;
                if t.is_empty() {
                    continue;
                }
                if headers_seen == 1 && is_keyword_line(&t, header.keyword.as_deref()) {
                    keyword_line = Some(t);
                    continue;
                }
                if let Some(authors) = byline(&t) {
                    d.authors.extend(authors);
                    after_byline = true;
                    continue;
                }
                if after_byline && is_agency_line(&t) {
                    continue;
                }
                // Above the first paragraph, advisories (`BULLETIN`, `KILL`,
                // embargoes, photo notes) are told from the headline.
                match text::advisory(&t) {
                    Kind::Text if headline.is_none() => headline = Some(typography(&t)),
                    Kind::Text if tabular => {
                        flush_rows(&mut rows, &mut paragraphs, &mut grid);
                        grid.push(typography(&t));
                    }
                    Kind::Text => header_text.push(typography(&t)),
                    Kind::Furniture if tabular && headline.is_some() => grid.push(String::new()),
                    _ => text::sort_paragraphs(vec![(t, false)], &mut d, reference, &ctx),
                }
            }
            Piece::Header(t) => {
                flush_para(&mut cur, &mut paragraphs);
                flush_rows(&mut rows, &mut paragraphs, &mut grid);
                if tabular {
                    grid.push(typography(&t));
                } else {
                    paragraphs.push((typography(&t), false));
                }
            }
            Piece::Para(t) => {
                started = true;
                flush_para(&mut cur, &mut paragraphs);
                flush_rows(&mut rows, &mut paragraphs, &mut grid);
                if tabular
                    && !matches!(text::kind(&t), Kind::Note | Kind::Embargo | Kind::NotesFrom | Kind::Correction(_))
                {
                    grid.push(if text::is_separator(&t) { String::new() } else { typography(&t) });
                } else {
                    cur = Some(t);
                }
            }
            Piece::Cont(t) => {
                started = true;
                flush_rows(&mut rows, &mut paragraphs, &mut grid);
                match (&mut cur, tabular) {
                    (_, true) => grid.push(typography(&t)),
                    (Some(p), false) => {
                        p.push(' ');
                        p.push_str(&t);
                    }
                    (None, false) => cur = Some(t),
                }
            }
            Piece::Row(r) => {
                started = true;
                flush_para(&mut cur, &mut paragraphs);
                rows.push(r);
            }
            Piece::Blank => flush_para(&mut cur, &mut paragraphs),
        }
    }
    flush_para(&mut cur, &mut paragraphs);
    flush_rows(&mut rows, &mut paragraphs, &mut grid);
    if tabular {
        // The table is one preformatted paragraph, blank runs squeezed.
        let mut kept: Vec<String> = Vec::new();
        for line in grid {
            if !(line.is_empty() && kept.last().is_none_or(String::is_empty)) {
                kept.push(line);
            }
        }
        while kept.last().is_some_and(String::is_empty) {
            kept.pop();
        }
        if !kept.is_empty() {
            paragraphs.insert(0, (kept.join("\n"), true));
        }
    }

    // A digest is only ^ lines: they are its paragraphs; otherwise extra
    // header lines (an abstract, advisories) are for editors.
    if paragraphs.is_empty() {
        paragraphs.extend(header_text.drain(..).map(|t| (t, false)));
    }
    for t in header_text {
        d.note(&t);
    }
    if let Some(k) = &keyword_line {
        let (count, take) = keyword_fields(k);
        d.wire.words = d.wire.words.or(count);
        d.wire.take = d.wire.take.take().or(take);
    }
    d.wire.slug = slug(keyword_line.as_deref(), header.keyword.as_deref());
    if d.wire.source.is_none() {
        d.wire.source = paragraphs.iter().find(|(_, t)| !t).and_then(|(p, _)| dateline(p)).and_then(|dl| dl.agency);
    }
    // An alert has no headline line: its one paragraph is the news.
    d.headline = match headline {
        Some(h) => h,
        None => paragraphs.iter().find(|(_, t)| !t).map(|(p, _)| without_dateline(p)).unwrap_or_default(),
    };
    text::sort_paragraphs(paragraphs, &mut d, reference, &ctx);
    text::finish(d, &raw, options)
}

/// `WASHINGTON (AP) — The news.` to `The news.` (for an alert's headline).
fn without_dateline(p: &str) -> String {
    if dateline(p).is_some() {
        for dash in [" \u{2014} ", " - ", " -- "] {
            if let Some((_, after)) = p.split_once(dash) {
                return after.to_owned();
            }
        }
    }
    p.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options() -> ParseOptions {
        ParseOptions::for_tests()
    }

    const STORY: &str = "\u{16}\u{16}\u{1}a1234\u{1f}bx-----\nu a\u{13}\u{11} BC-US--Flood-Rescue 1stLd-Writethru   07-04 0300\n\u{2}^BC-US--Flood-Rescue, 1st Ld-Writethru,280<\n^Boaters pull 12 from flooded homes<\n^AP Photo TXAB101<\n^Eds: Updates with rescue count.<\n^By JANE ROE and JOHN POE=\n^Associated Press Writer=\n\t   HOUSTON (AP) _ Volunteers in boats pulled ``at least 12'' people from homes. \n \n\t   The water is still rising.\n\t   ___\n\t   \u{3}AP-WF-07-04-24 1805GMT<\n\u{c}\u{4}";

    #[test]
    fn a_keyword_with_non_ascii_after_two_letters_is_no_panic() {
        // Found by the `parse` fuzz target: `&k[2..4]` cut through `Å`.
        assert_eq!(slug(None, Some("GGÅ-x")), Some("GGÅ-x".to_owned()));
        assert_eq!(slug(None, Some("LT--Å")), Some("Å".to_owned()));
    }

    #[test]
    fn a_transmission_is_read() {
        assert!(detect(STORY.as_bytes()));
        let s = parse(STORY.as_bytes(), &options()).unwrap();
        assert_eq!(s.headline, "Boaters pull 12 from flooded homes");
        assert_eq!(
            s.paragraphs,
            vec![
                "HOUSTON (AP) \u{2014} Volunteers in boats pulled \u{201C}at least 12\u{201D} people from homes.",
                "The water is still rising."
            ]
        );
        assert_eq!(s.authors, vec!["Jane Roe", "John Poe"]);
        assert_eq!(s.wire.slug.as_deref(), Some("Flood-Rescue"));
        assert_eq!(s.wire.take.as_deref(), Some("1stLd-Writethru"));
        assert_eq!(s.wire.priority, Some(3));
        assert_eq!(s.wire.category.as_deref(), Some("a"));
        assert_eq!(s.wire.sequence.as_deref(), Some("1234"));
        assert_eq!(s.wire.words, Some(300));
        assert_eq!(s.wire.source.as_deref(), Some("AP"));
        assert_eq!(Some(s.published), text::utc(2024, 7, 4, 18, 5));
        assert_eq!(s.notes.len(), 2);
        assert_eq!(s.dateline.map(|d| d.place).as_deref(), Some("HOUSTON"));
    }

    #[test]
    fn table_rows_are_aligned() {
        let rows = vec![";W;L".to_owned(), "New\u{10} York;21;7{".to_owned(), "Boston;3;_".to_owned()];
        assert_eq!(table(&rows), vec!["           W   L", "New York  21  7\u{BD}", "Boston     3   \u{2014}"]);
    }

    #[test]
    fn slugs_drop_cycle_and_selector() {
        assert_eq!(
            slug(Some("BC-LT--Argentina-Cancer Beauty,466"), Some("BC-LT--Argentina-CancerB")).as_deref(),
            Some("Argentina-Cancer")
        );
        assert_eq!(
            slug(Some("BC-BBO--Baseball Glance"), Some("BC-BBO--BaseballGlance")).as_deref(),
            Some("BBO--BaseballGlance")
        );
    }
}
