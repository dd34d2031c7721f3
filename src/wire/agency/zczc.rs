//! AAP's ZCZC text: `ZCZC` ... `NNNN`, header lines known by their first
//! character, in four variants:
//!
//! - standard: `$` category, `:` slug, `=` take, `^` headline, `*X`/`*T`
//!   text or tabular, `&` service level, `+` subject code, `@` place, `~` genre;
//! - BOB (broadcast, a `#` slug line): `%` category, `#` slug, `$` headline,
//!   `:` take (a placeline such as `(BRISBANE)`), `&` desk, `*` subject code;
//!   the body ends with the sign-off `AAP RTV`;
//! - Medianet (press releases, `%MNET...` selectors): `$` category (J, K),
//!   `:` take = the issuing organisation; the release's title is the first
//!   body line, and a date line may follow it;
//! - News Bites (lower-case `zczc`, `XX#` fields): `TI#` title, `PD#` date
//!   (Sydney time), `BY#` byline, `AB#` abstract, `TX#` text, one line per
//!   paragraph.
//!
//! `docs/parser.md` has the decisions.

use crate::wire::byline::byline;
use crate::wire::layout::{self, Line};
use crate::wire::time::{bare_time, parse_time, Context};
use crate::wire::{ParseError, ParseOptions, Story, Wire, WireFormat};

use super::text::{self, Draft};

/// Header line prefixes, any variant.
const PREFIXES: &str = "%$:=^*&+@~#";

/// The `ZCZC` line: its index, and whether it is News Bites' lower-case one.
fn start(lines: &[String]) -> Option<(usize, bool)> {
    lines.iter().take(200).enumerate().find_map(|(i, l)| {
        let t = l.trim();
        let word = t.split_whitespace().next().unwrap_or("");
        match word {
            "ZCZC" => Some((i, false)),
            "zczc" => Some((i, true)),
            _ => None,
        }
    })
}

/// A News Bites field line: `TI#...`.
fn field(line: &str) -> Option<(&str, &str)> {
    let t = line.trim_start();
    let b = t.as_bytes();
    (b.len() >= 3 && b[0].is_ascii_uppercase() && b[1].is_ascii_uppercase() && b[2] == b'#').then(|| (&t[..2], &t[3..]))
}

/// A header line: a known prefix and a value short enough to be one.
fn header_line(line: &str) -> Option<(char, &str)> {
    let t = line.trim();
    let prefix = t.chars().next().filter(|c| PREFIXES.contains(*c))?;
    let value = t[prefix.len_utf8()..].trim();
    let ok = match prefix {
        // `*X`, `*T`, or an IPTC subject code: no spaces.
        '*' => !value.contains(' ') && value.len() <= 16,
        '$' | '^' => value.chars().count() <= 300,
        _ => value.chars().count() <= 120,
    };
    // A header value never starts with a space (`* bullet`, `$ 5`).
    let spaced = t[prefix.len_utf8()..].starts_with(' ') && !value.is_empty();
    (ok && !spaced).then_some((prefix, value))
}

/// Whether the start of a transmission is in this format: `ZCZC` (or News
/// Bites' `zczc`) opening a line near the start, followed by header lines.
/// Plain text that mentions ZCZC in a sentence stays plain.
pub fn detect(head: &[u8]) -> bool {
    let text = String::from_utf8_lossy(head);
    let lines: Vec<String> = text.split(['\n', '\r']).map(|l| text::strip_controls(l, &[])).collect();
    let Some((at, bites)) = start(&lines) else { return false };
    let opener = lines[at].trim();
    if opener.len() > 4 && !opener[4..].starts_with(' ') {
        return false;
    }
    let next: Vec<&String> = lines[at + 1..].iter().filter(|l| !l.trim().is_empty()).take(3).collect();
    match next.first() {
        Some(l) if bites => field(l).is_some() || header_line(l).is_some(),
        Some(l) => header_line(l).is_some(),
        None => false,
    }
}

/// Reads one transmission.
pub fn parse(bytes: &[u8], options: &ParseOptions) -> Result<Story, ParseError> {
    let raw = text::decode(bytes)?;
    let ctx = text::context(options);
    let lines: Vec<String> = raw.text.split('\n').map(|l| text::strip_controls(l, &[])).collect();
    let mut d = Draft { wire: Wire { format: WireFormat::Zczc, ..Wire::default() }, ..Draft::default() };
    let (at, bites) = start(&lines).unwrap_or((0, false));
    if lines[..at].iter().any(|l| !l.trim().is_empty()) {
        d.warnings.push("text before ZCZC was left out".to_owned());
    }
    let opener = lines.get(at).map(|l| l.trim()).unwrap_or("");
    let source = opener.split_whitespace().nth(1).filter(|s| s.chars().all(char::is_alphanumeric));
    d.wire.source = Some(source.unwrap_or("AAP").to_owned());
    let end = lines[at + 1..].iter().position(|l| l.trim().starts_with("NNNN")).map_or(lines.len(), |n| at + 1 + n);
    let lines = &lines[(at + 1).min(end)..end];
    if bites {
        news_bites(lines, &mut d, options);
    } else {
        standard(lines, &mut d, &ctx);
    }
    text::finish(d, &raw, options)
}

/// The standard, BOB and Medianet variants.
fn standard(lines: &[String], d: &mut Draft, ctx: &Context) {
    let mut fields: Vec<(char, String)> = Vec::new();
    let mut body_from = lines.len();
    for (i, line) in lines.iter().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match header_line(line) {
            Some((p, v)) => fields.push((p, v.to_owned())),
            None => {
                body_from = i;
                break;
            }
        }
    }
    let get = |p: char| fields.iter().find(|(q, v)| *q == p && !v.is_empty()).map(|(_, v)| v.clone());
    let bob = fields.iter().any(|(p, _)| *p == '#');
    let medianet = fields.iter().any(|(p, v)| *p == '%' && v.starts_with('M'))
        || fields.iter().any(|(p, v)| *p == '$' && (v == "J" || v == "K"));
    let mut headline = if bob {
        d.wire.category = get('%');
        d.wire.slug = get('#');
        d.wire.take = get(':');
        get('$')
    } else if medianet {
        d.wire.category = get('$');
        d.wire.take = get(':');
        None
    } else {
        d.wire.category = get('$');
        d.wire.slug = get(':');
        d.wire.take = get('=');
        get('^')
    };
    for (p, v) in &fields {
        if *p == '&' {
            // The desk or user who filed it: for editors only.
            d.note(v);
        }
    }

    let body: Vec<Line<'_>> =
        lines[body_from..].iter().enumerate().map(|(n, l)| Line::new(body_from + n + 1, l)).collect();
    let mut out = Vec::new();
    // Press releases, and copy whose lines run past any hard wrap, have one
    // paragraph a line; otherwise blank lines separate hard-wrapped paragraphs.
    let line_mode = medianet || body.iter().any(|l| l.width > layout::MAX_WRAP);
    if line_mode {
        out.extend(body.iter().filter(|l| !l.is_blank()).map(|l| l.content.to_owned()));
    }
    let mut from = None;
    for (i, line) in body.iter().enumerate().filter(|_| !line_mode) {
        match (line.is_blank(), from) {
            (false, None) => from = Some(i),
            (true, Some(f)) => {
                layout::paragraphs(&body[f..i], &mut out);
                from = None;
            }
            _ => {}
        }
    }
    if let (Some(f), false) = (from, line_mode) {
        layout::paragraphs(&body[f..], &mut out);
    }
    if headline.is_none() && !out.is_empty() {
        // Medianet (or a header without a headline): the first line is the title.
        let first = out.remove(0);
        headline = Some(first.lines().next().unwrap_or("").to_owned());
    }
    d.headline = headline.unwrap_or_default();
    // A date line near the top (a release's `Tue 13 October 2015`) is the story's time.
    if let Some(i) = out.iter().take(3).position(|p| p.chars().count() <= 60 && bare_time(p, ctx).is_some()) {
        let p = out.remove(i);
        if let Some((t, w)) = bare_time(&p, ctx) {
            d.published = Some(t);
            d.warnings.extend(w);
        }
    }
    let paragraphs = out.into_iter().map(|p| (p.clone(), p.contains('\n'))).collect();
    text::sort_paragraphs(paragraphs, d, None, ctx);
}

/// News Bites: `XX#` fields, the text one line per paragraph.
fn news_bites(lines: &[String], d: &mut Draft, options: &ParseOptions) {
    let mut fields: Vec<(String, Vec<String>)> = Vec::new();
    for line in lines {
        match field(line) {
            Some((k, v)) if fields.last().is_none_or(|(key, _)| key != "TX") || is_known(k) => {
                fields.push((k.to_owned(), vec![v.trim().to_owned()]));
            }
            _ => {
                if let Some((_, v)) = fields.last_mut() {
                    v.push(line.trim().to_owned());
                }
            }
        }
    }
    let joined = |k: &str| {
        fields.iter().find(|(key, _)| key == k).map(|(_, v)| text::collapse(&v.join(" "))).filter(|v| !v.is_empty())
    };
    d.wire.source = joined("KN").or(d.wire.source.take());
    d.wire.sequence = joined("AN");
    d.headline = joined("TI").unwrap_or_default();
    if let Some(by) = joined("BY") {
        let line = if by.to_lowercase().starts_with("by ") { by } else { format!("By {by}") };
        d.authors = byline(&line).unwrap_or_default();
    }
    if let Some(ab) = joined("AB") {
        d.note(&ab);
    }
    if let Some(pd) = joined("PD") {
        // News Bites dates are Sydney time.
        let ctx = Context { tz: chrono_tz::Australia::Sydney, received: options.received };
        match parse_time(&pd, &ctx) {
            Some((t, w)) => {
                d.published = Some(t);
                d.warnings.extend(w);
            }
            None => d.warnings.push(format!("could not read the date {pd:?}")),
        }
    }
    let text: Vec<(String, bool)> = fields
        .iter()
        .filter(|(k, _)| k == "TX")
        .flat_map(|(_, v)| v.iter())
        .filter(|l| !l.trim().is_empty())
        .map(|l| (l.trim().to_owned(), false))
        .collect();
    let reference = d.published.as_ref().map(text::instant);
    text::sort_paragraphs(text, d, reference, &text::context(options));
}

/// News Bites field names (inside the text, other `XX#` starts are text).
fn is_known(k: &str) -> bool {
    matches!(k, "AN" | "KN" | "PD" | "CO" | "SO" | "SF" | "BY" | "KY" | "TI" | "AB" | "TX")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options() -> ParseOptions {
        ParseOptions::for_tests()
    }

    #[test]
    fn the_standard_variant_is_read() {
        let t = "ZCZC AAP\r$A\r:Bushfire-Vic\r=2ND LEAD\r^Bushfire threatens town\r*X\r@VIC\r\rA bushfire threatens a town.\r\rResidents were told to leave.\r\rAAP abc/xyz\rNNNN\r";
        assert!(detect(t.as_bytes()));
        let s = parse(t.as_bytes(), &options()).unwrap();
        assert_eq!(s.headline, "Bushfire threatens town");
        assert_eq!(s.wire.slug.as_deref(), Some("Bushfire-Vic"));
        assert_eq!(s.wire.take.as_deref(), Some("2ND LEAD"));
        assert_eq!(s.wire.category.as_deref(), Some("A"));
        assert_eq!(s.paragraphs, vec!["A bushfire threatens a town.", "Residents were told to leave."]);
        assert!(s.notes.iter().any(|n| n == "AAP abc/xyz"));
    }

    #[test]
    fn news_bites_is_read() {
        let t = "zczc\nAN#123\nKN#News Bites\nPD#06 June 2016 14:00:00\nBY#Jo Citizen\nTI#Shares rise\nAB#Short\nTX#\nShares rose.\nThey fell later.\nNNNN\n";
        assert!(detect(t.as_bytes()));
        let s = parse(t.as_bytes(), &options()).unwrap();
        assert_eq!(s.headline, "Shares rise");
        assert_eq!(s.paragraphs.len(), 2);
        assert_eq!(s.authors, vec!["Jo Citizen"]);
        assert_eq!(serde_json::to_value(s.published).unwrap(), "2016-06-06T14:00:00+10:00");
    }

    #[test]
    fn plain_text_mentioning_zczc_stays_plain() {
        assert!(!detect(b"Old telex\n\nThe ZCZC opening was used by telex.\n"));
        assert!(!detect(b"ZCZC is a telex word\n\nIt was.\n"));
    }
}
