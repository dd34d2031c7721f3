//! Datelines at the start of the first paragraph: `GENEVA (Reuters) -`,
//! `MOSCOW (AP) —`, `Park City, Utah (CNN)Mitt ...`, `SALVADOR, Feb 26 - `,
//! `ALBANY, N.Y. - `, `WASHINGTON — `, `PALM BEACH, Fla. -- `.
//!
//! The paragraph is kept whole; only the place and the agency are recorded.
//! Without an agency in brackets the place must be written in capitals (or
//! be followed by a date), so an ordinary sentence with a dash is not taken
//! for a dateline.

use crate::domain::Dateline;

/// How far into the paragraph a dateline may reach, in characters.
const REACH: usize = 90;

/// The dateline at the start of a paragraph, if there is one.
pub fn dateline(paragraph: &str) -> Option<Dateline> {
    let end = paragraph.char_indices().nth(REACH).map_or(paragraph.len(), |(i, _)| i);
    // No-break, narrow and thin spaces read as spaces.
    let head: String = paragraph[..end]
        .chars()
        .map(|c| if c == '\u{a0}' || c == '\u{202f}' || ('\u{2000}'..='\u{200a}').contains(&c) { ' ' } else { c })
        .collect();
    with_agency(&head).or_else(|| without_agency(&head))
}

/// Agencies that write their name in lower case (`dpa`, `dpa/lhe`, `apa`).
const LOWERCASE_AGENCIES: &[&str] = &["dpa", "apa", "sda", "epd", "kna", "ots", "ddp", "sid", "dts", "afp", "ap"];

/// Agencies written after a dateline without brackets (`SYDNEY, Dec 7 AAP -`).
const BARE_AGENCIES: &[&str] =
    &["AAP", "AP", "AFP", "EFE", "ANSA", "APA", "SDA", "UPI", "PTI", "IANS", "XINHUA", "NNN"];

/// `PLACE (Agency) -`, `PLACE, July 26 (Agency) -`, `Place (CNN)Text`.
fn with_agency(head: &str) -> Option<Dateline> {
    let open = head.find('(')?;
    let close = open + head[open..].find(')')?;
    let agency = head[open + 1..close].trim();
    let agency_ok = !agency.is_empty()
        && agency.chars().count() <= 30
        && agency.split_whitespace().count() <= 4
        && agency.chars().all(|c| c.is_alphabetic() || matches!(c, ' ' | '-' | '.' | '&' | '/'))
        && (!agency.chars().next().is_some_and(char::is_lowercase)
            || LOWERCASE_AGENCIES.contains(&agency.split(['/', '-', ' ']).next().unwrap_or("")));
    if !agency_ok {
        return None;
    }
    let after = &head[close + 1..];
    let after_ok = match after.chars().next() {
        None => false,
        Some(c) if c.is_whitespace() => starts_with_dash(after.trim_start()).is_some(),
        Some(_) => true,
    };
    if !after_ok {
        return None;
    }
    let (place, _) = strip_date(head[..open].trim());
    place_ok(place, false).then(|| Dateline { place: place.to_owned(), agency: Some(agency.to_owned()) })
}

/// `PLACE - `, `PLACE, Feb 26 - `, `PLACE — `, `PLACE -- `, `PLACE—`.
fn without_agency(head: &str) -> Option<Dateline> {
    let (at, len) = dash(head)?;
    if head[at + len..].trim().is_empty() {
        return None;
    }
    let before = head[..at].trim();
    // `SYDNEY, Dec 7 AAP -`: the agency written bare before the dash.
    let (before, agency) = match before.rsplit_once(' ') {
        Some((rest, word)) if BARE_AGENCIES.contains(&word) => (rest.trim(), Some(word.to_owned())),
        _ => (before, None),
    };
    let (place, dated) = strip_date(before);
    place_ok(place, !dated).then(|| Dateline { place: place.to_owned(), agency })
}

/// The first dash that separates a dateline: ` - `, ` -- `, ` — `, ` – `, or `—` alone.
fn dash(s: &str) -> Option<(usize, usize)> {
    for (i, c) in s.char_indices() {
        match c {
            '—' | '–' => return Some((i, c.len_utf8())),
            '-' => {
                let spaced_before = s[..i].ends_with(' ');
                let run = s[i..].chars().take_while(|&c| c == '-').count();
                let spaced_after = s[i + run..].starts_with(' ');
                if spaced_before && spaced_after && run <= 2 {
                    return Some((i, run));
                }
                if !spaced_before && run == 2 {
                    return Some((i, run));
                }
            }
            _ => {}
        }
    }
    None
}

fn starts_with_dash(s: &str) -> Option<usize> {
    ["--", "-", "—", "–"].iter().find(|d| s.starts_with(**d)).map(|d| d.len())
}

/// Spanish and Italian month abbreviations and names as datelines write
/// them (`MADRID, 7 dic (EFE)`, `ROMA, 7 DIC`); only for datelines, where a
/// day number stands beside them.
const ROMANCE_MONTHS: &[&str] = &[
    "ene",
    "enero",
    "febrero",
    "marzo",
    "abr",
    "abril",
    "mayo",
    "junio",
    "julio",
    "ago",
    "agosto",
    "septiembre",
    "setiembre",
    "octubre",
    "noviembre",
    "dic",
    "diciembre",
    "gen",
    "gennaio",
    "febbraio",
    "mag",
    "maggio",
    "giu",
    "giugno",
    "lug",
    "luglio",
    "set",
    "settembre",
    "ott",
    "ottobre",
    "dicembre",
    "aprile",
    "marzo",
    "novembre",
];

/// Removes a trailing `, Feb 26` / `, 26 July` / `, March 2`; says whether it did.
fn strip_date(place: &str) -> (&str, bool) {
    if let Some((before, date)) = place.rsplit_once(',') {
        let words: Vec<&str> = date.split_whitespace().collect();
        let is_day = |w: &str| w.len() <= 2 && w.chars().all(|c| c.is_ascii_digit());
        let is_month = |w: &str| {
            let w = w.trim_end_matches('.').to_lowercase();
            super::time::month(&w).is_some() || ROMANCE_MONTHS.contains(&w.as_str())
        };
        let dated = match words.as_slice() {
            [a, b] => (is_month(a) && is_day(b)) || (is_day(a) && is_month(b)),
            _ => false,
        };
        if dated {
            return (before.trim(), true);
        }
    }
    (place, false)
}

/// A place: short, starting with a capital; in capitals when `caps` is asked.
fn place_ok(place: &str, caps: bool) -> bool {
    let words = place.split_whitespace().count();
    let first = place.chars().next();
    if place.is_empty()
        || place.chars().count() > 50
        || words > 6
        || first.is_some_and(|c| c.is_lowercase() || !c.is_alphabetic())
    {
        return false;
    }
    if place.chars().any(|c| matches!(c, '"' | '“' | '”' | ':' | ';' | '!' | '?' | '(' | ')')) {
        return false;
    }
    if !caps {
        return true;
    }
    // `PALM BEACH, Fla.`: the city in capitals, then at most two short parts.
    let mut parts = place.split(',');
    let city = parts.next().unwrap_or("");
    let letters = city.chars().filter(|c| c.is_alphabetic()).count();
    let rest: Vec<&str> = parts.collect();
    letters >= 2
        && !city.chars().any(char::is_lowercase)
        && rest.len() <= 2
        && rest.iter().all(|p| p.trim().chars().count() <= 20)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(p: &str) -> Option<(String, Option<String>)> {
        dateline(p).map(|d| (d.place, d.agency))
    }

    fn some(place: &str, agency: Option<&str>) -> Option<(String, Option<String>)> {
        Some((place.to_owned(), agency.map(str::to_owned)))
    }

    #[test]
    fn datelines_are_read() {
        assert_eq!(read("GENEVA (Reuters) - Talks began."), some("GENEVA", Some("Reuters")));
        assert_eq!(read("MOSCOW (AP) — Talks began."), some("MOSCOW", Some("AP")));
        assert_eq!(read("Park City, Utah (CNN)Mitt Romney said"), some("Park City, Utah", Some("CNN")));
        assert_eq!(read("Istanbul (dpa) - Turkish authorities"), some("Istanbul", Some("dpa")));
        assert_eq!(read("SALVADOR, Feb 26 - Brazil's"), some("SALVADOR", None));
        assert_eq!(read("ALBANY, N.Y. - The state"), some("ALBANY, N.Y.", None));
        assert_eq!(read("WASHINGTON — Republicans"), some("WASHINGTON", None));
        assert_eq!(read("PALM BEACH, Fla. -- Donald"), some("PALM BEACH, Fla.", None));
        assert_eq!(read("ROME, March 2  - Italy"), some("ROME", None));
        assert_eq!(read("PORTLAND, Ore., Feb 26 - Brazil"), some("PORTLAND, Ore.", None));
        assert_eq!(read("GENEVA, July 26 (Reuters) - Talks"), some("GENEVA", Some("Reuters")));
    }

    #[test]
    fn agency_forms_of_many_services_are_read() {
        // No-break and narrow spaces, en and em dashes, agency suffixes.
        assert_eq!(read("Berlin\u{a0}(dpa)\u{a0}–\u{a0}Die Regierung"), some("Berlin", Some("dpa")));
        assert_eq!(read("Frankfurt/Main (dpa/lhe) - Die Börse"), some("Frankfurt/Main", Some("dpa/lhe")));
        assert_eq!(read("HELSINKI (STT)\u{202f}– Hallitus"), some("HELSINKI", Some("STT")));
        assert_eq!(read("MADRID, 7 dic (EFE).- El Gobierno"), some("MADRID", Some("EFE")));
        assert_eq!(read("SYDNEY, Dec 7 AAP - Shares rose"), some("SYDNEY", Some("AAP")));
        assert_eq!(read("Wien (APA) — Die Regierung"), some("Wien", Some("APA")));
        assert_eq!(read("ROMA, 7 DIC - Il governo"), some("ROMA", None));
    }

    #[test]
    fn sentences_are_not_datelines() {
        assert_eq!(read("The deal - which was signed - holds."), None);
        assert_eq!(read("Mr Smith (who was there) said so."), None);
        assert_eq!(read("Russia and the United States are trying"), None);
        assert_eq!(read("It was a well-known fact -- he said"), None);
    }
}
