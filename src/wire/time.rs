//! Times as stories write them.
//!
//! A time line is a label (`Last update:`, `Updated`, `Published:`,
//! `Posted:`, `Dernière mise à jour :`, `Publié le`, ...) and a value. Values
//! are read by a small tokenizer, not by a list of format strings, so the
//! usual spellings all work: `Tue, 26/07/2016 - 20:33`,
//! `26 July 2016 20:33 GMT`, `July 26, 2016 8:33 PM EDT`, `Jul 26, 2016`,
//! `Dec. 25 at 3:53 pm E.T.`, RFC 2822, ISO 8601 / RFC 3339. Every token of
//! the value must be understood, or it is not a time (so `Updated figures
//! show 3 ...` stays a sentence).
//!
//! Decisions:
//! - numeric dates are day-first (`26/07/2016`), except with a 12-hour clock
//!   or a US zone, which make them month-first; a number over 12 settles the
//!   order, and so does a weekday when it matches only one reading. A weekday
//!   that matches no reading is reported as a warning.
//! - a date without a time of day is a [`StoryTime::Date`], never midnight.
//! - a date without a year takes the latest year that does not put it after
//!   the receive time (plus two days of slack), with a warning.
//! - an explicit zone or offset wins; a time without one is in `source_tz`.

use super::text::strip_word_ci;
use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc, Weekday};
use serde::{Serialize, Serializer};

/// A time as a story gives it: an instant, or a date with no time of day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoryTime {
    Instant(DateTime<FixedOffset>),
    Date(NaiveDate),
}

impl Serialize for StoryTime {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            StoryTime::Instant(t) => s.serialize_str(&t.to_rfc3339()),
            StoryTime::Date(d) => s.serialize_str(&d.format("%Y-%m-%d").to_string()),
        }
    }
}

/// What a time reading needs besides the text.
#[derive(Debug, Clone, Copy)]
pub struct Context {
    pub tz: chrono_tz::Tz,
    pub received: DateTime<Utc>,
}

/// Whether a time line gives the publication or the update time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Published,
    Updated,
}

/// One time read from a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub role: Role,
    pub time: StoryTime,
    pub warnings: Vec<String>,
}

/// What a line is, as far as times go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TimeLine {
    /// A time line; every time on it.
    Times(Vec<Found>),
    /// `Label:` followed by something that is not a time we can read.
    Unreadable,
    /// Not a time line.
    NotTime,
}

/// Longest line looked at as a time line: longer lines are sentences.
const MAX_TIME_LINE: usize = 200;

/// Labels, longest first so `Last updated` wins over `Updated`.
const LABELS: &[(&str, Role)] = &[
    ("dernière mise à jour", Role::Updated),
    ("derniere mise a jour", Role::Updated),
    ("first published", Role::Published),
    ("mis à jour le", Role::Updated),
    ("last modified", Role::Updated),
    ("last updated", Role::Updated),
    ("opublikowano", Role::Published),
    ("опубликовано", Role::Published),
    ("last update", Role::Updated),
    ("mise à jour", Role::Updated),
    ("mis à jour", Role::Updated),
    ("обновлено", Role::Updated),
    ("published", Role::Published),
    ("publié le", Role::Published),
    ("updated", Role::Updated),
    ("posted", Role::Published),
    ("publié", Role::Published),
];

/// Reads a labelled time line (`Last update: Tue, 26/07/2016 - 20:33`).
pub fn time_line(line: &str, ctx: &Context) -> TimeLine {
    let line = line.trim();
    if line.len() > MAX_TIME_LINE {
        return TimeLine::NotTime;
    }
    let Some((role, value, colon)) = labelled(line) else {
        return TimeLine::NotTime;
    };
    let mut found = Vec::new();
    // `Published: ... | Updated: ...` and `Published ... Updated ...`.
    let mut pieces = value.split(['|', '·']);
    let first = pieces.next().unwrap_or("");
    let (first, embedded) = match embedded_label(first) {
        Some(at) => (&first[..at], Some(&first[at..])),
        None => (first, None),
    };
    match parse_time(first, ctx) {
        Some((time, warnings)) => found.push(Found { role, time, warnings }),
        None => return if colon { TimeLine::Unreadable } else { TimeLine::NotTime },
    }
    for piece in embedded.into_iter().chain(pieces) {
        let piece = piece.trim();
        if piece.is_empty() {
            continue;
        }
        match labelled(piece) {
            Some((role, value, _)) => match parse_time(value, ctx) {
                Some((time, warnings)) => found.push(Found { role, time, warnings }),
                None => return if colon { TimeLine::Unreadable } else { TimeLine::NotTime },
            },
            None => return if colon { TimeLine::Unreadable } else { TimeLine::NotTime },
        }
    }
    TimeLine::Times(found)
}

/// A line that is nothing but a time (`July 26, 2016`): read only where a
/// time line may stand, under the headline.
pub fn bare_time(line: &str, ctx: &Context) -> Option<(StoryTime, Vec<String>)> {
    let line = line.trim();
    if line.len() > 80 {
        return None;
    }
    parse_time(line, ctx)
}

/// The role, the value after the label, and whether a colon followed the label.
fn labelled(line: &str) -> Option<(Role, &str, bool)> {
    let first = line.chars().next()?.to_lowercase().next()?;
    LABELS.iter().filter(|(label, _)| label.starts_with(first)).find_map(|&(label, role)| {
        let rest = strip_word_ci(line, label)?;
        let rest = rest.trim_start();
        let rest =
            ["on ", "at ", "le "].iter().find_map(|w| strip_word_ci(rest, w.trim_end())).map_or(rest, str::trim_start);
        match rest.strip_prefix(':') {
            Some(value) => Some((role, value.trim(), true)),
            None => Some((role, rest.trim(), false)),
        }
    })
}

/// Where an update label starts inside a value (`26 July 2016 Updated: ...`).
fn embedded_label(value: &str) -> Option<usize> {
    let mut prev_space = false;
    for (i, c) in value.char_indices() {
        if prev_space && labelled(&value[i..]).is_some_and(|(role, _, _)| role == Role::Updated) {
            return Some(i);
        }
        prev_space = c.is_whitespace();
    }
    None
}

/// Reads a time value in any of the formats we know.
pub fn parse_time(value: &str, ctx: &Context) -> Option<(StoryTime, Vec<String>)> {
    let written = value.trim();
    let value = written.trim_end_matches('.');
    if value.is_empty() || value.len() > 100 {
        return None;
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(value) {
        return Some((StoryTime::Instant(t), Vec::new()));
    }
    if let Ok(t) = DateTime::parse_from_rfc2822(value) {
        return Some((StoryTime::Instant(t), Vec::new()));
    }
    let tokens = tokenize(value)?;
    interpret(&tokens, written, ctx)
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Num {
        value: u32,
        digits: usize,
    },
    Ordinal(u32),
    /// `26/07/2016`, `2016-07-26`: three numbers and the digit counts of the first and last.
    Date3 {
        a: u32,
        a_digits: usize,
        b: u32,
        c: u32,
        c_digits: usize,
    },
    Clock {
        h: u32,
        m: u32,
        s: u32,
    },
    /// An offset from UTC in seconds.
    Offset(i32),
    Word(String),
}

fn read_num(c: &[char], mut i: usize) -> Option<(u32, usize, usize)> {
    let start = i;
    let mut value: u32 = 0;
    while i < c.len() && c[i].is_ascii_digit() {
        if i - start >= 8 {
            return None;
        }
        value = value * 10 + c[i].to_digit(10)?;
        i += 1;
    }
    Some((value, i - start, i))
}

fn is_digit_at(c: &[char], i: usize) -> bool {
    c.get(i).is_some_and(char::is_ascii_digit)
}

fn tokenize(s: &str) -> Option<Vec<Tok>> {
    let c: Vec<char> = s.chars().collect();
    let mut out: Vec<Tok> = Vec::new();
    let mut i = 0;
    while i < c.len() {
        let ch = c[i];
        if ch.is_whitespace() || matches!(ch, ',' | '|' | '(' | ')' | '–' | '—' | ';' | '.') {
            i += 1;
            continue;
        }
        if matches!(ch, '+' | '-' | '−') {
            let after_clock = matches!(out.last(), Some(Tok::Clock { .. }))
                || matches!(out.last(), Some(Tok::Word(w)) if w == "gmt" || w == "utc");
            if after_clock && is_digit_at(&c, i + 1) {
                let sign = if ch == '+' { 1 } else { -1 };
                let (v, digits, j) = read_num(&c, i + 1)?;
                let (h, m, j) = match digits {
                    1 | 2 if c.get(j) == Some(&':') && is_digit_at(&c, j + 1) => {
                        let (m, _, k) = read_num(&c, j + 1)?;
                        (v, m, k)
                    }
                    1 | 2 => (v, 0, j),
                    3 | 4 => (v / 100, v % 100, j),
                    _ => return None,
                };
                if h > 14 || m > 59 {
                    return None;
                }
                out.push(Tok::Offset(sign * (h as i32 * 3600 + m as i32 * 60)));
                i = j;
                continue;
            }
            if ch == '+' {
                return None;
            }
            i += 1;
            continue;
        }
        if ch.is_ascii_digit() {
            let (n1, d1, j) = read_num(&c, i)?;
            i = j;
            let next = c.get(i).copied();
            if next == Some(':') && is_digit_at(&c, i + 1) {
                let (m, _, j) = read_num(&c, i + 1)?;
                i = j;
                let mut s = 0;
                if c.get(i) == Some(&':') && is_digit_at(&c, i + 1) {
                    let (sec, _, j) = read_num(&c, i + 1)?;
                    s = sec;
                    i = j;
                    if c.get(i) == Some(&'.') && is_digit_at(&c, i + 1) {
                        i = read_num(&c, i + 1)?.2;
                    }
                }
                if (c.get(i) == Some(&'T') || c.get(i) == Some(&'t')) && i + 1 == c.len() {
                    return None;
                }
                out.push(Tok::Clock { h: n1, m, s });
                continue;
            }
            if next == Some('h') && !c.get(i + 1).is_some_and(|x| x.is_alphabetic()) {
                i += 1;
                let mut m = 0;
                if is_digit_at(&c, i) {
                    let (mm, _, j) = read_num(&c, i)?;
                    m = mm;
                    i = j;
                }
                out.push(Tok::Clock { h: n1, m, s: 0 });
                continue;
            }
            if let Some(sep @ ('/' | '.' | '-')) = next {
                if is_digit_at(&c, i + 1) {
                    let (n2, _, j2) = read_num(&c, i + 1)?;
                    if c.get(j2) == Some(&sep) && is_digit_at(&c, j2 + 1) {
                        let (n3, d3, j3) = read_num(&c, j2 + 1)?;
                        i = j3;
                        if matches!(c.get(i), Some('T' | 't')) && is_digit_at(&c, i + 1) {
                            i += 1;
                        }
                        out.push(Tok::Date3 { a: n1, a_digits: d1, b: n2, c: n3, c_digits: d3 });
                        continue;
                    }
                    let (_, d2, _) = read_num(&c, i + 1)?;
                    if sep == '.' && d2 == 2 && n1 <= 23 {
                        // `20.33 BST`, `8.33 pm`: the British clock.
                        out.push(Tok::Clock { h: n1, m: n2, s: 0 });
                        i = j2;
                        continue;
                    }
                    if sep == '.' {
                        // `8.3 pm`: a clock only when am/pm follows.
                        let mut k = j2;
                        while c.get(k).is_some_and(|x| x.is_whitespace()) {
                            k += 1;
                        }
                        let word: String = c[k.min(c.len())..]
                            .iter()
                            .take_while(|x| x.is_alphabetic() || **x == '.')
                            .filter(|x| **x != '.')
                            .collect::<String>()
                            .to_lowercase();
                        if word == "am" || word == "pm" {
                            out.push(Tok::Clock { h: n1, m: n2, s: 0 });
                            i = j2;
                            continue;
                        }
                    }
                    return None;
                }
            }
            if next.is_some_and(char::is_alphabetic) {
                let mut k = i;
                while c.get(k).is_some_and(|x| x.is_alphabetic()) {
                    k += 1;
                }
                let suffix: String = c[i..k].iter().collect::<String>().to_lowercase();
                if matches!(suffix.as_str(), "st" | "nd" | "rd" | "th" | "er" | "re" | "e") {
                    out.push(Tok::Ordinal(n1));
                    i = k;
                    continue;
                }
            }
            out.push(Tok::Num { value: n1, digits: d1 });
            continue;
        }
        if ch.is_alphabetic() {
            let mut word = String::new();
            while i < c.len() && (c[i].is_alphabetic() || c[i] == '.' || c[i] == '\'') {
                if c[i].is_alphabetic() {
                    word.extend(c[i].to_lowercase());
                }
                i += 1;
            }
            out.push(Tok::Word(word));
            continue;
        }
        return None;
    }
    Some(out)
}

#[derive(Debug, Clone, Copy)]
enum Zone {
    Fixed(i32),
    Named(chrono_tz::Tz),
}

/// Zone abbreviations and whether they are US zones (which make numeric dates month-first).
fn zone(word: &str) -> Option<(Zone, bool)> {
    use chrono_tz::America;
    const H: i32 = 3600;
    let fixed = |h: i32| Some((Zone::Fixed(h), false));
    let us = |h: i32| Some((Zone::Fixed(h), true));
    match word {
        "gmt" | "utc" | "ut" | "z" | "wet" => fixed(0),
        "bst" | "cet" | "met" | "mez" | "west" | "wat" => fixed(H),
        "cest" | "mest" | "mesz" | "eet" | "cat" | "sast" => fixed(2 * H),
        "eest" | "msk" | "eat" | "ast" => fixed(3 * H),
        "hkt" | "sgt" | "awst" => fixed(8 * H),
        "jst" | "kst" => fixed(9 * H),
        "aest" => fixed(10 * H),
        "aedt" => fixed(11 * H),
        "nzst" => fixed(12 * H),
        "nzdt" => fixed(13 * H),
        "est" => us(-5 * H),
        "edt" | "cdt" => us(if word == "edt" { -4 * H } else { -5 * H }),
        "cst" => us(-6 * H),
        "mst" => us(-7 * H),
        "mdt" => us(-6 * H),
        "pst" => us(-8 * H),
        "pdt" => us(-7 * H),
        "akst" => us(-9 * H),
        "akdt" => us(-8 * H),
        "hst" => us(-10 * H),
        "et" => Some((Zone::Named(America::New_York), true)),
        "ct" => Some((Zone::Named(America::Chicago), true)),
        "mt" => Some((Zone::Named(America::Denver), true)),
        "pt" => Some((Zone::Named(America::Los_Angeles), true)),
        _ => None,
    }
}

fn weekday(word: &str) -> Option<Weekday> {
    Some(match word {
        "mon" | "monday" | "montag" | "lundi" | "понедельник" => Weekday::Mon,
        "tue" | "tues" | "tuesday" | "dienstag" | "mardi" | "вторник" => Weekday::Tue,
        "wed" | "wednesday" | "mittwoch" | "mercredi" | "среда" => Weekday::Wed,
        "thu" | "thur" | "thurs" | "thursday" | "donnerstag" | "jeudi" | "четверг" => Weekday::Thu,
        "fri" | "friday" | "freitag" | "vendredi" | "пятница" => Weekday::Fri,
        "sat" | "saturday" | "samstag" | "sonnabend" | "samedi" | "суббота" => Weekday::Sat,
        "sun" | "sunday" | "sonntag" | "dimanche" | "воскресенье" => Weekday::Sun,
        _ => return None,
    })
}

/// The month a (lowercase, dotless) month name or abbreviation names.
pub(super) fn month(word: &str) -> Option<u32> {
    Some(match word {
        "jan" | "january" | "janvier" | "janv" | "января" => 1,
        "feb" | "february" | "février" | "fevrier" | "févr" | "fevr" | "февраля" => 2,
        "mar" | "march" | "mars" | "марта" => 3,
        "apr" | "april" | "avril" | "avr" | "апреля" => 4,
        "may" | "mai" | "мая" => 5,
        "jun" | "june" | "juin" | "июня" => 6,
        "jul" | "july" | "juillet" | "juil" | "июля" => 7,
        "aug" | "august" | "août" | "aout" | "августа" => 8,
        "sep" | "sept" | "september" | "septembre" | "сентября" => 9,
        "oct" | "october" | "octobre" | "октября" => 10,
        "nov" | "november" | "novembre" | "ноября" => 11,
        "dec" | "december" | "décembre" | "decembre" | "déc" | "декабря" | "dez" | "dezember" => 12,
        "januar" | "jänner" | "jän" => 1,
        "februar" => 2,
        "märz" | "maerz" | "mär" | "mrz" => 3,
        "juni" => 6,
        "juli" => 7,
        "okt" | "oktober" => 10,
        _ => return None,
    })
}

fn is_filler(word: &str) -> bool {
    matches!(word, "at" | "on" | "à" | "a" | "le" | "the" | "of" | "de" | "du" | "uhr" | "г" | "в")
}

fn year_of(value: u32, digits: usize) -> Option<i32> {
    match digits {
        4 => Some(value as i32),
        2 if value < 70 => Some(2000 + value as i32),
        2 => Some(1900 + value as i32),
        _ => None,
    }
}

fn ymd(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
    if !(1900..=2200).contains(&y) {
        return None;
    }
    NaiveDate::from_ymd_opt(y, m, d)
}

/// Fills an empty slot; a second value for the same slot is not a time.
fn once<T>(slot: &mut Option<T>, value: T) -> Option<()> {
    if slot.is_some() {
        return None;
    }
    *slot = Some(value);
    Some(())
}

fn interpret(tokens: &[Tok], value: &str, ctx: &Context) -> Option<(StoryTime, Vec<String>)> {
    let mut day_of_week = None;
    let mut month_no = None;
    let mut day = None;
    let mut year = None;
    let mut date3 = None;
    let mut clock = None;
    let mut pm = None;
    let mut zone_found: Option<(Zone, bool)> = None;
    let mut offset = None;
    for (i, tok) in tokens.iter().enumerate() {
        match tok {
            Tok::Word(w) if w == "am" || w == "pm" => once(&mut pm, w == "pm")?,
            Tok::Word(w) if is_filler(w) => {}
            Tok::Word(w) => {
                if let Some(d) = weekday(w) {
                    once(&mut day_of_week, d)?;
                } else if let Some(m) = month(w) {
                    once(&mut month_no, m)?;
                } else if let Some(z) = zone(w) {
                    once(&mut zone_found, z)?;
                } else {
                    return None;
                }
            }
            Tok::Num { value, digits } => {
                let next_is_ampm = matches!(tokens.get(i + 1), Some(Tok::Word(w)) if w == "am" || w == "pm");
                // `18 Uhr`: the German clock.
                let next_is_uhr = matches!(tokens.get(i + 1), Some(Tok::Word(w)) if w == "uhr");
                if (next_is_uhr && *value <= 24 || next_is_ampm) && *digits <= 2 {
                    once(&mut clock, (*value, 0, 0))?;
                } else if *digits == 4 {
                    once(&mut year, *value as i32)?;
                } else if *digits <= 2 {
                    once(&mut day, *value)?;
                } else {
                    return None;
                }
            }
            Tok::Ordinal(v) => once(&mut day, *v)?,
            Tok::Date3 { a, a_digits, b, c, c_digits } => once(&mut date3, (*a, *a_digits, *b, *c, *c_digits))?,
            Tok::Clock { h, m, s } => once(&mut clock, (*h, *m, *s))?,
            Tok::Offset(secs) => once(&mut offset, *secs)?,
        }
    }
    let mut warnings = Vec::new();
    let us_hint = pm.is_some() || zone_found.is_some_and(|(_, us)| us);
    let date = match (date3, month_no, day) {
        (Some((a, 4, b, c, _)), None, None) if year.is_none() => ymd(a as i32, b, c)?,
        (Some((a, _, b, c, c_digits)), None, None) if year.is_none() => {
            let y = year_of(c, c_digits)?;
            let day_first = ymd(y, b, a);
            let month_first = ymd(y, a, b);
            let preferred = if us_hint { [month_first, day_first] } else { [day_first, month_first] };
            let by_weekday = day_of_week.and_then(|w| preferred.iter().flatten().find(|d| d.weekday() == w).copied());
            by_weekday.or(preferred[0]).or(preferred[1])?
        }
        (None, Some(m), Some(d)) => match year {
            Some(y) => ymd(y, m, d)?,
            None => {
                let latest = ctx.received.date_naive().checked_add_signed(Duration::days(2))?;
                let r = ctx.received.year();
                let date = [r + 1, r, r - 1, r - 2].iter().filter_map(|&y| ymd(y, m, d)).find(|d| *d <= latest)?;
                warnings.push(format!("no year in the time {value:?}: {} assumed from the receive time", date.year()));
                date
            }
        },
        _ => return None,
    };
    if let Some(w) = day_of_week {
        if date.weekday() != w {
            warnings.push(format!(
                "the weekday in {value:?} does not match the date {date}, which is a {}",
                full_weekday(date.weekday())
            ));
        }
    }
    let Some((h, m, s)) = clock else {
        if zone_found.is_some() || offset.is_some() || pm.is_some() {
            return None;
        }
        return Some((StoryTime::Date(date), warnings));
    };
    let h = match pm {
        Some(_) if !(1..=12).contains(&h) => return None,
        Some(true) => h % 12 + 12,
        Some(false) => h % 12,
        None => h,
    };
    let time = NaiveTime::from_hms_opt(h, m, s.min(59))?;
    let naive = NaiveDateTime::new(date, time);
    let zone = match (zone_found, offset) {
        (Some((Zone::Fixed(0), _)), Some(o)) => Zone::Fixed(o),
        (Some(_), Some(_)) => return None,
        (Some((z, _)), None) => z,
        (None, Some(o)) => Zone::Fixed(o),
        (None, None) => Zone::Named(ctx.tz),
    };
    let instant = match zone {
        Zone::Fixed(secs) => FixedOffset::east_opt(secs)?.from_local_datetime(&naive).single()?,
        Zone::Named(tz) => in_zone(tz, naive)?,
    };
    Some((StoryTime::Instant(instant), warnings))
}

/// A local time in a named zone; a time in a spring-forward gap is read an hour later.
pub(crate) fn in_zone(tz: chrono_tz::Tz, naive: NaiveDateTime) -> Option<DateTime<FixedOffset>> {
    let t = tz
        .from_local_datetime(&naive)
        .earliest()
        .or_else(|| tz.from_local_datetime(&(naive + Duration::hours(1))).earliest())?;
    Some(t.fixed_offset())
}

fn full_weekday(w: Weekday) -> &'static str {
    match w {
        Weekday::Mon => "Monday",
        Weekday::Tue => "Tuesday",
        Weekday::Wed => "Wednesday",
        Weekday::Thu => "Thursday",
        Weekday::Fri => "Friday",
        Weekday::Sat => "Saturday",
        Weekday::Sun => "Sunday",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> Context {
        Context { tz: chrono_tz::UTC, received: Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap() }
    }

    fn read(value: &str) -> String {
        match parse_time(value, &ctx()) {
            Some((StoryTime::Instant(t), w)) => {
                format!("{}{}", t.to_rfc3339(), if w.is_empty() { "" } else { " !" })
            }
            Some((StoryTime::Date(d), w)) => format!("{d}{}", if w.is_empty() { "" } else { " !" }),
            None => "none".to_owned(),
        }
    }

    #[test]
    fn the_usual_formats_are_read() {
        assert_eq!(read("Tue, 26/07/2016 - 20:33"), "2016-07-26T20:33:00+00:00");
        assert_eq!(read("26 July 2016 20:33 GMT"), "2016-07-26T20:33:00+00:00");
        assert_eq!(read("July 26, 2016 8:33 PM EDT"), "2016-07-26T20:33:00-04:00");
        assert_eq!(read("Jul 26, 2016"), "2016-07-26");
        assert_eq!(read("Tue, 26 Jul 2016 20:33:00 +0200"), "2016-07-26T20:33:00+02:00");
        assert_eq!(read("2016-07-26T20:33:00Z"), "2016-07-26T20:33:00+00:00");
        assert_eq!(read("2016-07-26 20:33"), "2016-07-26T20:33:00+00:00");
        assert_eq!(read("07/26/2016 8:33 PM EDT"), "2016-07-26T20:33:00-04:00");
        assert_eq!(read("26 juillet 2016 à 20h33"), "2016-07-26T20:33:00+00:00");
        assert_eq!(read("Dec. 25 at 3:53 pm E.T."), "2025-12-25T15:53:00-05:00 !");
        assert_eq!(read("20:33 GMT+3, 26 July 2016"), "2016-07-26T20:33:00+03:00");
        assert_eq!(read("Tue 26 Jul 2016 20.33 BST"), "2016-07-26T20:33:00+01:00");
        assert_eq!(read("July 26th, 2016 at 8:33 p.m. ET"), "2016-07-26T20:33:00-04:00");
        assert_eq!(read("2016-07-26T20:33:00+0200"), "2016-07-26T20:33:00+02:00");
        assert_eq!(read("26.07.2016, 20:33 Uhr"), "2016-07-26T20:33:00+00:00");
    }

    #[test]
    fn a_weekday_settles_day_and_month() {
        assert_eq!(read("Tue, 07/06/2016"), "2016-06-07");
        assert_eq!(read("Wed, 07/06/2016"), "2016-07-06");
        assert_eq!(read("Wed, 26/07/2016 - 20:33"), "2016-07-26T20:33:00+00:00 !");
    }

    #[test]
    fn sentences_are_not_times() {
        assert_eq!(read("figures show 3 things"), "none");
        assert_eq!(read("26 July 2016 and more"), "none");
        assert_eq!(read("99/99/2016"), "none");
        assert_eq!(read("12"), "none");
    }

    #[test]
    fn labels_are_found() {
        let c = ctx();
        assert!(
            matches!(time_line("Last update: Tue, 26/07/2016 - 20:33", &c), TimeLine::Times(f) if f[0].role == Role::Updated)
        );
        assert!(
            matches!(time_line("Dernière mise à jour : 27/07/2016 à 09:15", &c), TimeLine::Times(f) if f[0].role == Role::Updated)
        );
        assert!(
            matches!(time_line("Publié le 26 juillet 2016", &c), TimeLine::Times(f) if f[0].role == Role::Published)
        );
        assert_eq!(time_line("Updated figures show a rise", &c), TimeLine::NotTime);
        assert_eq!(time_line("Published: soon", &c), TimeLine::Unreadable);
        match time_line("Published: July 26, 2016 | Updated: July 27, 2016 9:00 AM", &c) {
            TimeLine::Times(f) => assert_eq!((f.len(), f[1].role), (2, Role::Updated)),
            other => panic!("{other:?}"),
        }
        match time_line("Published 26 July 2016 Updated 27 July 2016", &c) {
            TimeLine::Times(f) => assert_eq!(f.len(), 2),
            other => panic!("{other:?}"),
        }
    }
}
