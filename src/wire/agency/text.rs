//! What the three text agency formats (IPTC 7901, ANPA-1312, AAP ZCZC) share:
//! decoding with the framing kept, control characters, the notes an agency
//! marks as not for publication, embargo and correction lines, and turning a
//! [`Draft`] into a [`Story`] whose every field is free of control characters.
//!
//! The readers work on the decoded text *with* its control characters,
//! because the framing (SOH, STX, ETX, TAB, BS, ...) is what tells header,
//! body and trailer apart; every field then goes through [`scrub`], so no
//! control character can reach a stored field whatever the reader missed.

use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate, NaiveTime, TimeZone, Utc};

use crate::domain::TimeSource;
use crate::wire::dateline::dateline;
pub(super) use crate::wire::text::collapse;
use crate::wire::time::{parse_time, Context, StoryTime};
use crate::wire::{ParseError, ParseOptions, Story, Wire, MAX_HEADLINE_CHARS};

pub(super) const SOH: char = '\u{1}';
pub(super) const STX: char = '\u{2}';
pub(super) const ETX: char = '\u{3}';

/// The transmission as text, control characters kept, line ends as `\n`.
pub(super) struct Raw {
    pub text: String,
    pub encoding: &'static str,
}

/// Decodes the bytes (a BOM, then UTF-8, then the likeliest legacy charset:
/// agency copy is often Latin-1 / Windows-1252) and unifies line ends
/// (CRLF, LF and CR-only all occur, even within one transmission).
///
/// The encoding is judged from the transmission alone, from its start
/// (SOH, or `ZCZC`) to its end (ETX or EOT, or `NNNN`): line noise around it
/// (random bytes on a serial line) must not make a UTF-8 body read as some
/// legacy charset, which would garble its markers (a notebook's `#` line)
/// and let what follows them through. The noise, which no reader keeps, is
/// read lossily.
pub(super) fn decode(bytes: &[u8]) -> Result<Raw, ParseError> {
    let (start, end) = framed(bytes);
    let (text, encoding) = if (start, end) == (0, bytes.len()) {
        let (text, encoding) = crate::wire::decode::to_utf8(bytes)?;
        (text.into_owned(), encoding)
    } else {
        let (inner, encoding) = crate::wire::decode::to_utf8(&bytes[start..end])?;
        let before = String::from_utf8_lossy(&bytes[..start]);
        let after = String::from_utf8_lossy(&bytes[end..]);
        (format!("{before}{inner}{after}"), encoding)
    };
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    if text.trim_matches(|c: char| c.is_whitespace() || c.is_control()).is_empty() {
        return Err(ParseError::Empty);
    }
    Ok(Raw { text, encoding })
}

/// Where the transmission in `bytes` starts and ends. It starts at the
/// first SOH or `ZCZC` whose line goes on in ASCII (every agency header is
/// ASCII; noise is not), and ends after the first ETX, EOT or `NNNN` after
/// that (the body holds none). All of `bytes` when there is a BOM (UTF-16
/// frames its controls in two bytes) or no such framing.
fn framed(bytes: &[u8]) -> (usize, usize) {
    if encoding_rs::Encoding::for_bom(bytes).is_some() {
        return (0, bytes.len());
    }
    let ascii_line = |at: usize| bytes[at..].iter().take(100).take_while(|&&b| b != b'\n').all(u8::is_ascii);
    let opens = |at: usize| bytes[at] == 0x01 || bytes[at..].starts_with(b"ZCZC");
    let Some(start) = (0..bytes.len()).find(|&at| opens(at) && ascii_line(at)) else { return (0, bytes.len()) };
    let closes = |at: &usize| matches!(bytes[*at], 0x03 | 0x04) || bytes[*at..].starts_with(b"NNNN");
    let end =
        (start + 1..bytes.len()).find(closes).map_or(bytes.len(), |at| if bytes[at] == b'N' { at + 4 } else { at + 1 });
    (start, end)
}

/// Characters that must never reach a stored field: C0/C1 controls, DEL,
/// the bidi embedding/override/isolate controls, zero-width characters and
/// non-characters.
fn invisible(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{FFFE}' | '\u{FFFF}' | '\u{FEFF}' | '\u{200B}' | '\u{2060}' | '\u{FFFD}' | '\u{202A}'..='\u{202E}'
                | '\u{2066}'..='\u{2069}'
        )
}

/// A line without its control characters: a TAB and odd spaces become a
/// space, everything invisible is removed; `keep` names controls the
/// caller still needs (ANPA's TAB, BS and DLE).
pub(super) fn strip_controls(s: &str, keep: &[char]) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if keep.contains(&c) {
            out.push(c);
        } else if c == '\t' || c == '\u{A0}' || c == '\u{202F}' || ('\u{2000}'..='\u{200A}').contains(&c) {
            out.push(' ');
        } else if !invisible(c) {
            out.push(c);
        }
    }
    out
}

/// A field as stored: no control character at all (`\n` only where `rows`
/// allows it, between the rows of a table), trimmed.
pub(super) fn scrub(s: &str, rows: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c == '\n' && rows {
            out.push('\n');
        } else if c == '\t' || c == '\n' {
            out.push(' ');
        } else if !invisible(c) {
            out.push(c);
        }
    }
    out.trim().to_owned()
}

/// What a reader found, before the common checks.
#[derive(Debug, Default)]
pub(super) struct Draft {
    pub wire: Wire,
    pub headline: String,
    pub paragraphs: Vec<String>,
    /// Indexes of paragraphs that are tables (kept line by line).
    pub tables: Vec<usize>,
    pub authors: Vec<String>,
    pub published: Option<StoryTime>,
    pub notes: Vec<String>,
    pub correction: Option<String>,
    pub embargo: Option<DateTime<FixedOffset>>,
    /// An embargo was announced whose time could not be read.
    pub embargo_unreadable: bool,
    /// The zone of times written without one, when the reader knows the
    /// agency's (else the configured source zone).
    pub zone: Option<chrono_tz::Tz>,
    pub warnings: Vec<String>,
}

impl Draft {
    pub fn note(&mut self, s: &str) {
        let s = scrub(s, false);
        if !s.is_empty() {
            self.notes.push(s);
        }
    }
}

/// The story from a draft: every field scrubbed, the dateline read from the
/// first paragraph, the receive time used (and said) when the text gives none.
pub(super) fn finish(mut d: Draft, raw: &Raw, options: &ParseOptions) -> Result<Story, ParseError> {
    let (cleaned, marks) = clean_headline(&collapse(&scrub(&d.headline, false)));
    let reference = d.published.as_ref().map(instant);
    let ctx = Context { tz: d.zone.unwrap_or(options.source_tz), received: options.received };
    for mark in marks {
        match advisory(&mark) {
            Kind::Text => d.note(&mark),
            k => apply(k, &mark, &mut d, reference, &ctx),
        }
    }
    let mut headline = cleaned;
    // A notebook restating the embargo (`Not for publication before ...`)
    // holds the story even when no line above the headline does.
    if d.embargo.is_none() {
        let lines: Vec<String> = d.notes.iter().filter(|n| is_embargo(n)).cloned().collect();
        for line in lines {
            read_embargo(&line, &mut d, reference, &ctx);
        }
    }
    if headline.is_empty() {
        return Err(ParseError::NoHeadline { line: 1, last_line: raw.text.lines().count().max(1) });
    }
    if headline.chars().count() > MAX_HEADLINE_CHARS {
        let cut: String = headline.chars().take(MAX_HEADLINE_CHARS).collect();
        headline = match cut.rfind(' ') {
            Some(at) if at > MAX_HEADLINE_CHARS / 2 => cut[..at].to_owned(),
            _ => cut,
        };
        d.warnings.push(format!("the headline was cut to {MAX_HEADLINE_CHARS} characters"));
    }
    let mut paragraphs = Vec::with_capacity(d.paragraphs.len());
    for (i, p) in d.paragraphs.iter().enumerate() {
        let table = d.tables.contains(&i);
        let p = if table { scrub(p, true) } else { collapse(&scrub(p, false)) };
        if !p.is_empty() {
            paragraphs.push(p);
        }
    }
    if paragraphs.is_empty() {
        return Err(ParseError::NoBody { line: 1 });
    }
    let authors: Vec<String> = d.authors.iter().map(|a| scrub(a, false)).filter(|a| !a.is_empty()).collect();
    let notes: Vec<String> = d.notes.iter().map(|n| scrub(n, false)).filter(|n| !n.is_empty()).collect();
    let correction = d.correction.as_deref().map(|c| scrub(c, false)).filter(|c| !c.is_empty());
    let wire = Wire {
        format: d.wire.format,
        source: clean_opt(d.wire.source),
        slug: clean_opt(d.wire.slug),
        priority: d.wire.priority,
        category: clean_opt(d.wire.category),
        take: clean_opt(d.wire.take),
        sequence: clean_opt(d.wire.sequence),
        words: d.wire.words,
        genre: clean_opt(d.wire.genre),
        kicker: clean_opt(d.wire.kicker),
    };
    let (published, time_source) = match d.published {
        Some(t) => (t, TimeSource::Parsed),
        None => {
            d.warnings.push("no time in the transmission: the receive time is used".to_owned());
            (StoryTime::Instant(options.received.fixed_offset()), TimeSource::Received)
        }
    };
    let dateline = paragraphs.first().and_then(|p| dateline(p));
    Ok(Story {
        headline,
        paragraphs,
        authors,
        dateline,
        published,
        updated: None,
        time_source,
        section: None,
        related: Vec::new(),
        warnings: d.warnings,
        encoding: raw.encoding.to_owned(),
        wire,
        notes,
        correction,
        embargo_unreadable: d.embargo_unreadable && d.embargo.is_none(),
        embargo: d.embargo,
        text: scrub_text(&raw.text),
    })
}

fn clean_opt(s: Option<String>) -> Option<String> {
    s.map(|s| collapse(&scrub(&s, false))).filter(|s| !s.is_empty())
}

/// The whole text without controls (line ends and TABs kept): the same
/// transmission always gives the same text.
fn scrub_text(s: &str) -> String {
    s.chars().filter(|&c| c == '\n' || c == '\t' || !invisible(c)).collect::<String>().trim().to_owned()
}

/// What one paragraph (or header line) is, as far as publication goes.
#[derive(Debug, PartialEq)]
pub(crate) enum Kind {
    /// Publishable text.
    Text,
    /// A note for editors only (`Eds:`, `EDITOR'S NOTE`, photo advisories).
    Note,
    /// Everything from here on is for editors only (a notebook, "The
    /// following information is not for publication").
    NotesFrom,
    /// An embargo line: never published; the time when it can be read.
    Embargo,
    /// The correction statement of a correction take.
    Correction(String),
    /// A line with no words for readers (`___`, `* * *`, sign-offs).
    Furniture,
    /// An urgency mark (`FLASH`, `BULLETIN`, `Eilmeldung`): the priority it
    /// gives. Only above the headline or at the top of the body.
    Priority(u8),
    /// A kill, withdrawal or repeat mark (`KILL`, `WITHDRAWN`, `REPEAT`,
    /// `Wiederholung`): the take field, so the importer acts on it. Only
    /// above the headline or at the top of the body.
    Take(String),
}

/// Lowercased starts that mark a note to editors.
const NOTE_STARTS: &[&str] = &[
    "eds:",
    "eds.:",
    "eds note",
    "editors:",
    "editors note",
    "editors' note",
    "editor's note",
    "editor’s note",
    "editors’ note",
    "note to editors",
    "notes to editors",
    "note for editors",
    "attention editors",
    "attn editors",
    "advisory:",
    "with ap photo",
    "ap photo",
    "ap photos",
    "ap graphic",
    "ap video",
    "ap audio",
    "with photo",
    "with graphic",
    "photo:",
    "photos:",
    "graphic:",
    "dpa-bildfunk",
    "hinweis an die redaktion",
    "achtung redaktion",
    "an die redaktion",
];

/// Lowercased starts of an embargo line.
const EMBARGO_STARTS: &[&str] = &[
    "embargoed",
    "embargo:",
    "embargo until",
    "embargo till",
    "hold for release",
    "for release at",
    "for release after",
    "not for publication before",
    "not for publication until",
    "not for release before",
    "not for release until",
    "not to be published before",
    "not to be published until",
    "sperrfrist",
    "sperrvermerk",
    "veröffentlichung nicht vor",
    "veröffentlichung frei ab",
    "freigabe:",
    "bitte beachten sie die sperrfrist",
    "bitte sperrfrist beachten",
    "achtung sperrfrist",
    "achtung, sperrfrist",
    "strictly embargoed",
    "not for release",
    "not for broadcast or publication",
    "not to be used before",
    "not for use before",
    "no publication before",
    "release at ",
    "release time",
    "achtung: sperrfrist",
];

/// Phrases that, anywhere in a short line, announce an embargo. (Not a
/// bare `embargo` or `Sperrfrist`: news is written about embargoes.)
const EMBARGO_WORDS: &[&str] = &[
    "embargoed until",
    "embargoed till",
    "under embargo until",
    "under embargo till",
    "embargoed to ",
    "embargoed for release",
    "hold for release",
    "beachten sie die sperrfrist",
    "sperrfrist beachten",
    "sperrfrist:",
    "sperrfrist bis",
    "sperrfrist ist",
    "sperrfrist gilt",
    "achtung sperrfrist",
    "achtung, sperrfrist",
    "unter sperrfrist",
    "embargoed content",
    "embargoed material",
    "embargoed story",
];

/// Lowercased starts of a correction statement.
const CORRECTION_STARTS: &[&str] = &[
    "corrects ",
    "(corrects ",
    "correction:",
    "(correction:",
    "corrected:",
    "correcting ",
    "fixes ",
    "berichtigung:",
    "(berichtigung:",
    "berichtigt:",
    "berichtigung -",
    "berichtigung –",
    "korrektur:",
    "korrigiert:",
    "korrigierte fassung",
    "klarstellung:",
];

/// Paragraphs that are only a sign-off.
const SIGN_OFFS: &[&str] =
    &["(end)", "end", "ends", "(ends)", "-0-", "# # #", "###", "- more -", "more", "(more)", "aap rtv", "rtv"];

/// Whole-line urgency marks (lowercase, without brackets or punctuation)
/// and the priority each gives (dpa: 1 Blitz, 2 Eil, 3 Vorrang).
const PRIORITY_MARKS: &[(&str, u8)] = &[
    ("flash", 1),
    ("blitz", 1),
    ("blitzmeldung", 1),
    ("bulletin", 2),
    ("urgent", 2),
    ("eil", 2),
    ("eilt", 2),
    ("eilmeldung", 2),
    ("alert", 2),
    ("ap alert", 2),
    ("apnewsalert", 2),
    ("news alert", 2),
    ("breaking", 2),
    ("breaking news", 2),
    ("dringend", 2),
    ("urgente", 2),
    ("urgence", 2),
    ("vorrang", 3),
];

/// Kill, withdrawal and repeat marks (lowercase), the take they give.
const TAKE_MARKS: &[&str] = &[
    "mandatory kill",
    "kill",
    "killed",
    "elimination",
    "withdrawn",
    "withdrawal",
    "withdraw",
    "story withdrawn",
    "repeat",
    "rpt",
    "refile",
    "repetition",
    "wiederholung",
    "wdh",
    "löschung",
    "loeschung",
    "annullierung",
    "annulliert",
    "zurückgezogen",
    "meldung zurückgezogen",
    "rückruf",
    "storno",
];

/// Media words that open a photo, graphics or video advisory.
const MEDIA_WORDS: &[&str] = &[
    "foto",
    "fotos",
    "bild",
    "bilder",
    "bildfunk",
    "grafik",
    "grafiken",
    "infografik",
    "video",
    "videos",
    "audio",
    "photo",
    "photos",
    "graphic",
    "graphics",
    "picture",
    "pictures",
    "pix",
    "ap photo",
    "ap photos",
    "ap graphic",
    "ap video",
    "dpa-bildfunk",
    "dpa-grafik",
    "dpa-video",
    "dpa-foto",
];

/// Lowercased starts of a desk-routing or handling line for editors.
const DESK_STARTS: &[&str] = &[
    "die meldung lief",
    "diese meldung lief",
    "die meldung ist",
    "die meldung wurde",
    "diese meldung wurde",
    "meldung lief",
    "lief auch im ressort",
    "ressort:",
    "ressorts:",
    "an die ressorts",
    "für die ressorts",
    "zur information",
    "redaktioneller hinweis",
    "redaktionelle hinweise",
    "hinweis:",
    "achtung:",
    "achtung redaktionen",
    "bitte beachten",
    "attn:",
    "attn ",
    "attention:",
    "attention ",
    "moved on ",
    "also moved ",
    "for use by",
    "sent to ",
    "desk:",
    "desks:",
    "for all desks",
    "note:",
];

/// The urgency mark a whole line is, when it is one: `FLASH`, `(Eil)`, `+++ EILMELDUNG +++`.
fn priority_mark(l: &str) -> Option<u8> {
    let bare = l.trim_matches(|c: char| !c.is_alphanumeric()).trim();
    PRIORITY_MARKS.iter().find(|(m, _)| *m == bare).map(|(_, p)| *p)
}

/// The kill, withdrawal or repeat mark a line opens with (the whole line,
/// or the mark then `:` or a dash), lowercase.
fn take_mark(l: &str) -> Option<&'static str> {
    let bare = l.trim_start_matches(|c: char| !c.is_alphanumeric());
    TAKE_MARKS.iter().copied().filter(|m| bare.starts_with(m)).max_by_key(|m| m.len()).filter(|m| {
        let rest = bare[m.len()..].trim_start();
        rest.chars().all(|c| !c.is_alphanumeric())
            || rest.starts_with([':', '-', '–', '—', '/'])
            || rest.starts_with("until") && m.starts_with("withdraw")
    })
}

/// A photo, graphics or video advisory: the line in brackets (`(Foto
/// Illustration)`), or a media word then `:`, a dash or a picture number.
fn is_media_line(t: &str, l: &str) -> bool {
    let bracketed = (t.starts_with('(') && t.ends_with(')')) || (t.starts_with('[') && t.ends_with(']'));
    let word = MEDIA_WORDS.iter().filter(|m| l.starts_with(*m)).max_by_key(|m| m.len());
    let Some(word) = word else { return false };
    let rest = &l[word.len()..];
    let boundary = rest.chars().next().is_none_or(|c| !c.is_alphanumeric() || c.is_ascii_digit());
    boundary
        && (bracketed
            || rest.trim_start().starts_with([':', '-', '–', '—', '/'])
            || rest.trim().trim_end_matches(')').is_empty()
            || rest.trim_start().chars().next().is_some_and(|c| c.is_ascii_digit() || c.is_uppercase()))
        && t.chars().count() <= 160
}

/// A bracketed update note for editors: `(Aktualisierung: Bildhinweis
/// ergänzt)`, `(neu: Reaktion)`. (Reuters' `(Adds comments)` opening a
/// body stays the paragraph it has always been.)
fn is_update_note(t: &str, l: &str) -> bool {
    const WORDS: &[&str] =
        &["aktualisierung", "aktualisiert", "neu", "ergänzt", "ergänzung", "erweitert", "neufassung", "überarbeitet"];
    let bracketed = (t.starts_with('(') && t.ends_with(')')) || (t.starts_with('[') && t.ends_with(']'));
    let first = l.split(|c: char| !c.is_alphanumeric()).next().unwrap_or("");
    bracketed && t.chars().count() <= 200 && WORDS.contains(&first)
}

/// Whether a short line announces an embargo anywhere in it (`Bitte
/// beachten Sie die Sperrfrist ...`, `... is embargoed until ...`).
fn mentions_embargo(lower: &str) -> bool {
    lower.chars().count() <= 240
        && crate::wire::dateline::dateline(lower).is_none()
        && EMBARGO_WORDS.iter().any(|w| lower.contains(w))
}

/// Classifies a line that stands above the headline or at the top of a
/// body, where agencies put their advisories: everything [`kind`] knows,
/// and urgency, kill, withdrawal and repeat marks, photo and graphics
/// advisories and desk routing. Never `Text` for an advisory, so no
/// advisory can become (part of) a headline.
pub(crate) fn advisory(text: &str) -> Kind {
    let t = text.trim();
    let lower = t.to_lowercase();
    let l = lower.trim_start_matches(['(', '[', '*', ' ', '+', '-', '#']);
    match kind(t) {
        Kind::Text => {}
        other => return other,
    }
    if mentions_embargo(&lower) {
        return Kind::Embargo;
    }
    if let Some(p) = priority_mark(&lower) {
        return Kind::Priority(p);
    }
    if let Some(mark) = take_mark(l) {
        return Kind::Take(mark.to_uppercase());
    }
    if is_media_line(t, l)
        || is_update_note(t, l)
        || (DESK_STARTS.iter().any(|s| l.starts_with(s)) && t.chars().count() <= 240)
    {
        return Kind::Note;
    }
    Kind::Text
}

/// A headline without the advisories written into it: a bracketed photo
/// or graphics note (`... (Foto Illustration)`), a leading urgency mark
/// (`EILMELDUNG: ...`, `+++ Eil +++ ...`). Gives the headline and the
/// advisories taken out (for the caller to classify); a headline that is
/// nothing but an advisory is kept as it is.
pub(super) fn clean_headline(headline: &str) -> (String, Vec<String>) {
    let mut h = headline.trim().to_owned();
    let mut taken = Vec::new();
    loop {
        let before = h.len();
        // A trailing bracket group that is an advisory.
        if h.ends_with(')') || h.ends_with(']') {
            let open = if h.ends_with(')') { '(' } else { '[' };
            if let Some(at) = h.rfind(open) {
                let group = h[at..].to_owned();
                if at > 0 && advisory(&group) != Kind::Text && !matches!(advisory(&group), Kind::Take(_)) {
                    taken.push(group);
                    h = h[..at].trim_end().to_owned();
                }
            }
        }
        // A leading bracket group, or a mark and a separator.
        if h.starts_with('(') || h.starts_with('[') {
            let close = if h.starts_with('(') { ')' } else { ']' };
            if let Some(at) = h.find(close) {
                let group = h[..=at].to_owned();
                let rest = h[at + 1..].trim_start();
                if !rest.is_empty() && advisory(&group) != Kind::Text {
                    taken.push(group);
                    h = rest.to_owned();
                }
            }
        }
        for sep in [": ", " - ", " – ", " — ", " +++ ", "+++ "] {
            if let Some(at) = h.find(sep) {
                let head = &h[..at];
                let rest = h[at + sep.len()..].trim_start_matches(['+', ' ']).trim();
                // Only urgency marks: `KILL: <headline>` names the killed
                // story by its headline, which `advisory::kill` reads.
                let mark = priority_mark(&head.to_lowercase()).is_some() || advisory(head) == Kind::Embargo;
                if mark && !rest.is_empty() {
                    taken.push(head.trim().to_owned());
                    h = rest.to_owned();
                    break;
                }
            }
        }
        if h.len() == before {
            break;
        }
    }
    (h, taken)
}

/// Classifies a paragraph or header line.
pub(crate) fn kind(text: &str) -> Kind {
    let t = text.trim();
    let lower = t.to_lowercase();
    let l = lower.trim_start_matches(['(', '[', '*', ' ']);
    if t.is_empty() || is_separator(t) || SIGN_OFFS.contains(&lower.as_str()) {
        return Kind::Furniture;
    }
    // An embargo line is short and opens no story (`BRUSSELS (Reuters) -
    // The EU extended its embargo until ...` is news).
    let line_sized = t.chars().count() <= 240 && crate::wire::dateline::dateline(t).is_none();
    // A label, not a longer word (`Sperrfristen gelten ...`, `Embargos`).
    let starts = EMBARGO_STARTS.iter().any(|s| {
        l.strip_prefix(s).is_some_and(|rest| s.ends_with([' ', ':']) || !rest.starts_with(char::is_alphabetic))
    });
    if line_sized && (starts || german_embargo(&lower) || english_embargo(&lower)) {
        return Kind::Embargo;
    }
    // `Eds: CORRECTS ...` is the correction statement written to editors.
    let statement = ["eds: ", "eds. ", "editors: "].iter().find_map(|p| l.strip_prefix(p)).unwrap_or(l);
    if CORRECTION_STARTS.iter().any(|s| statement.starts_with(s.trim_start_matches('('))) {
        let at = t.len() - statement.len();
        let s = t.get(at..).unwrap_or(t).trim_end_matches(')').trim();
        return Kind::Correction(s.to_owned());
    }
    if is_notes_marker(&lower) {
        return Kind::NotesFrom;
    }
    if (l.starts_with("die meldung lief") || l.starts_with("diese meldung lief") || l.contains("lief auch im ressort"))
        && t.chars().count() <= 240
    {
        return Kind::Note;
    }
    if NOTE_STARTS.iter().any(|s| l.starts_with(s)) {
        // `Eds: Embargoed until ...`, `ATTENTION EDITORS - EMBARGOED
        // CONTENT`: a note to editors that states an embargo is one.
        if EMBARGO_STARTS.iter().any(|s| statement.starts_with(s))
            || EMBARGO_WORDS.iter().any(|w| lower.contains(w))
            || english_embargo(&lower)
            || german_embargo(&lower)
        {
            return Kind::Embargo;
        }
        return Kind::Note;
    }
    Kind::Text
}

/// `Nicht vor 18.00 Uhr veröffentlichen`, `... darf nicht vor Donnerstag
/// veröffentlicht werden`, `Diese Meldung ist bis 18.00 Uhr gesperrt`: an
/// embargo in German prose form (a short line).
fn german_embargo(lower: &str) -> bool {
    let publish = lower.contains("veröffentlich") || lower.contains("freigegeben") || lower.contains("verbreit");
    let german = (lower.starts_with("nicht vor") || lower.contains(" nicht vor ") || lower.contains("erst ab "))
        || (lower.contains("frei") && lower.contains(" ab "))
        || ((lower.starts_with("bis ") || lower.contains(" bis ")) && lower.contains("nicht "));
    let blocked = lower.contains("gesperrt")
        && lower.contains(" bis ")
        && ["meldung", "beitrag", "bericht", "text", "artikel", "material", "interview", "rede"]
            .iter()
            .any(|w| lower.contains(w));
    let short = lower.chars().count() <= 240;
    short && ((publish && german) || blocked || lower.starts_with("freigegeben ab")) || english_embargo(lower)
}

/// `Not for publication or broadcast before ...`, `Do not publish until
/// ...`, `For release 12:01 a.m. EST`, `This story may not be published,
/// broadcast or posted before 2300 GMT`, `Publishable from 2300 GMT`: an
/// embargo in English prose form (a short line; `FOR IMMEDIATE RELEASE` is
/// none).
fn english_embargo(lower: &str) -> bool {
    const OPENINGS: &[&str] = &[
        "not for publication",
        "not for broadcast",
        "not for release",
        "not for use",
        "not to be published",
        "not to be broadcast",
        "not to be used",
        "not to be released",
        "no publication",
        "do not publish",
        "do not use",
        "don't publish",
        "must not be published",
        "may not be published",
    ];
    let l = lower.trim_start_matches(['(', '[', '*', ' ', '-']);
    let short = lower.chars().count() <= 240;
    let before = [" before ", " until ", " till ", " prior to "].iter().any(|w| lower.contains(w));
    let timed = lower.chars().any(|c| c.is_ascii_digit());
    let prose = OPENINGS.iter().any(|o| l.starts_with(o)) && before;
    let release = l.starts_with("for release ") && !l.contains("immediate") && timed;
    // About the copy itself, not a sentence of the story that says something
    // will not be released before a date.
    let about_copy = ["not to be ", "not for ", "must not ", "may not ", "do not ", "no publication", "not be "]
        .iter()
        .any(|w| l.starts_with(w))
        || ["this story", "this item", "this article", "this report", "this material", "this copy", "this text"]
            .iter()
            .any(|w| lower.contains(w));
    let forbidden = about_copy
        && ["not ", "no "].iter().any(|w| lower.contains(w))
        && ["publish", "publication", "broadcast", "post", "release", "use", "air"].iter().any(|w| lower.contains(w))
        && before
        && timed;
    let publishable = (l.starts_with("publishable") || l.starts_with("for publication")) && timed;
    short && (prose || release || forbidden || publishable)
}

/// A line after which everything is for editors only: a notebook heading
/// (`# dpa NOTEBOOK`, `## Note to editors`), "The following information is
/// not (intended) for publication".
fn is_notes_marker(lower: &str) -> bool {
    let notebook = lower.starts_with("# ")
        || lower.starts_with("##")
        || (lower.starts_with('#') && lower.contains("notebook"))
        || lower == "notebook"
        || matches!(
            lower.trim_end_matches(':'),
            "notizblock" | "notepad" | "redaktionelle hinweise" | "ansprechpartner" | "hinweise für redaktionen"
        );
    // Only as a line of its own (a sentence may mention publication).
    let l = lower.trim_start_matches(['(', '[', '*', '-', ' ']);
    let not_for_pub = (l.starts_with("the following")
        || l.starts_with("not for publication")
        || l.starts_with("not intended for publication")
        || l.starts_with("for editors only")
        || l.starts_with("nicht zur veröffentlichung")
        || l.starts_with("nicht für die veröffentlichung")
        || l.starts_with("folgende informationen")
        || l.starts_with("die folgenden")
        || l.starts_with("die nachfolgenden")
        || l.starts_with("nachfolgende"))
        && (lower.contains("publication") || lower.contains("veröffentlichung") || lower.contains("editors only"))
        && lower.len() < 120
        && !lower.contains(" before ")
        && !lower.contains(" until ");
    // The German formula, wherever it stands in a short line.
    let bestimmt = lower.len() < 160
        && (lower.contains("nicht zur veröffentlichung bestimmt")
            || lower.contains("nicht für die veröffentlichung bestimmt")
            || lower.contains("nicht zur veröffentlichung vorgesehen"));
    notebook || not_for_pub || bestimmt
}

/// `___`, `* * * *`, `-----`, `===`: no words.
pub(super) fn is_separator(t: &str) -> bool {
    t.chars().filter(|c| !c.is_whitespace()).count() >= 3
        && t.chars().all(|c| c.is_whitespace() || matches!(c, '-' | '_' | '=' | '*' | '~' | '#' | '•' | '·'))
}

/// Agencies that sign editor initials lines (`dpa wsz jln npr`).
const INITIALS_AGENCIES: &[&str] =
    &["dpa", "afp", "ap", "rtr", "reuters", "ddp", "kna", "epd", "sid", "apa", "sda", "ansa", "efe", "dpa-afx", "aap"];

/// An editor initials line: an agency, then two to four letter lowercase
/// initials (`dpa wsz jln npr`, `dpa/afp xy`).
pub(super) fn is_initials(t: &str, source: Option<&str>) -> bool {
    let mut words = t.split_whitespace();
    let Some(first) = words.next() else { return false };
    let first = first.to_lowercase();
    let agency = first
        .split(['/', ','])
        .any(|p| INITIALS_AGENCIES.contains(&p) || source.is_some_and(|s| s.eq_ignore_ascii_case(p)) && !p.is_empty());
    let rest: Vec<&str> = words.collect();
    agency && !rest.is_empty() && rest.len() <= 10 && rest.iter().all(|w| w.split('/').all(initials_word))
}

/// One word of an initials line: 1–4 lower-case letters (`wsz`), a desk
/// code with a digit (`n1`, `z2`, `s5`), or dpa's routing code (`yynwe`, `yyzz`).
fn initials_word(p: &str) -> bool {
    let letters = p.chars().all(char::is_lowercase);
    let code = p.chars().all(|c| c.is_lowercase() || c.is_ascii_digit())
        && p.chars().any(|c| c.is_ascii_digit())
        && p.chars().any(char::is_lowercase);
    ((1..=4).contains(&p.len()) && letters)
        || ((2..=4).contains(&p.len()) && code)
        || (p.starts_with("yy") && p.len() <= 6 && letters)
}

/// Sorts classified paragraphs into the draft: text stays, the rest goes to
/// notes, the embargo or the correction. Once a [`Kind::NotesFrom`] is met,
/// everything after it is notes.
pub(super) fn sort_paragraphs(
    paragraphs: Vec<(String, bool)>,
    d: &mut Draft,
    reference: Option<DateTime<Utc>>,
    ctx: &Context,
) {
    let mut notes_from = false;
    let mut top = true;
    let source = d.wire.source.clone();
    for (p, table) in paragraphs {
        if notes_from {
            d.note(&p);
            continue;
        }
        if table {
            d.tables.push(d.paragraphs.len());
            d.paragraphs.push(p);
            continue;
        }
        if is_initials(p.trim(), source.as_deref()) {
            d.note(&p);
            continue;
        }
        let k = if top { advisory(&p) } else { kind(&p) };
        if k == Kind::Text {
            top = false;
        }
        if k == Kind::NotesFrom {
            notes_from = true;
        }
        apply(k, &p, d, reference, ctx);
    }
}

/// Puts one classified line where it belongs: text to the paragraphs, an
/// embargo to the embargo, a correction to the correction, a priority or a
/// take mark to the header; the line itself to the notes unless it is text.
pub(super) fn apply(k: Kind, line: &str, d: &mut Draft, reference: Option<DateTime<Utc>>, ctx: &Context) {
    match k {
        Kind::Text => d.paragraphs.push(line.to_owned()),
        Kind::Furniture => {}
        Kind::Note | Kind::NotesFrom => d.note(line),
        Kind::Embargo => embargo_line(line, d, reference, ctx),
        Kind::Correction(c) => {
            if d.correction.is_none() {
                d.correction = Some(c);
            } else {
                d.note(line);
            }
        }
        Kind::Priority(p) => {
            d.wire.priority = Some(d.wire.priority.map_or(p, |q| q.min(p)));
            d.note(line);
        }
        // A kill or withdrawal is the take alone: `advisory::kill` reads a
        // take that is exactly its mark.
        Kind::Take(mark) if crate::wire::advisory::is_kill_mark(&mark) => {
            d.wire.take = Some(mark);
            d.note(line);
        }
        Kind::Take(mark) => {
            let take = match d.wire.take.take() {
                Some(t) if !t.to_uppercase().contains(&mark) => format!("{t} {mark}"),
                Some(t) => t,
                None => mark,
            };
            d.wire.take = Some(take);
            d.note(line);
        }
    }
}

/// Plain text (web copy) read for what agencies put around a story: an
/// embargo, correction, urgency or editors' line above the headline or at
/// the top of the body, and embargo, correction and editors' paragraphs
/// anywhere, each to where it belongs instead of the headline or the body.
/// A kill mark stays where it is: the kill advisory is read from the headline.
pub(crate) fn plain_advisories(mut story: Story, options: &ParseOptions) -> Result<Story, ParseError> {
    let ctx = context(options);
    let reference = Some(instant(&story.published));
    let mut d = Draft { wire: story.wire.clone(), ..Draft::default() };
    let above = |line: &str| match advisory(line) {
        Kind::Take(_) | Kind::Text | Kind::Furniture => None,
        k => Some(k),
    };
    let first = story.paragraphs.first().cloned();
    while story.paragraphs.len() > 1 {
        let Some(k) = above(&story.headline) else { break };
        let line = std::mem::replace(&mut story.headline, story.paragraphs.remove(0));
        apply(k, &line, &mut d, reference, &ctx);
    }
    let mut kept = Vec::with_capacity(story.paragraphs.len());
    let mut notes_from = false;
    for (i, p) in std::mem::take(&mut story.paragraphs).into_iter().enumerate() {
        let k = if notes_from {
            Kind::Note
        } else if i == 0 {
            above(&p).unwrap_or_else(|| kind(&p))
        } else {
            kind(&p)
        };
        match k {
            Kind::Text | Kind::Furniture => kept.push(p),
            Kind::NotesFrom => {
                notes_from = true;
                d.note(&p);
            }
            k => apply(k, &p, &mut d, reference, &ctx),
        }
    }
    if kept.is_empty() {
        return Err(ParseError::NoBody { line: 1 });
    }
    // A note to editors that states an embargo holds the story.
    if d.embargo.is_none() {
        let lines: Vec<String> = d.notes.iter().filter(|n| is_embargo(n)).cloned().collect();
        for line in lines {
            read_embargo(&line, &mut d, reference, &ctx);
        }
    }
    story.paragraphs = kept;
    if story.paragraphs.first() != first.as_ref() {
        story.dateline = story.paragraphs.first().and_then(|p| dateline(p));
    }
    story.notes.extend(d.notes);
    story.correction = story.correction.or(d.correction);
    story.embargo = story.embargo.or(d.embargo);
    story.embargo_unreadable |= d.embargo_unreadable && story.embargo.is_none();
    story.warnings.extend(d.warnings);
    story.wire.priority = d.wire.priority;
    Ok(story)
}

/// Whether a line (of the text or of the notes) announces an embargo.
pub(super) fn is_embargo(line: &str) -> bool {
    kind(line) == Kind::Embargo || mentions_embargo(&line.to_lowercase())
}

/// Records an embargo line: kept as a note, its time as the embargo when it
/// can be read.
pub(super) fn embargo_line(line: &str, d: &mut Draft, reference: Option<DateTime<Utc>>, ctx: &Context) {
    d.note(line);
    read_embargo(line, d, reference, ctx);
}

/// The embargo of a line, when none is known yet: its time, or unreadable.
fn read_embargo(line: &str, d: &mut Draft, reference: Option<DateTime<Utc>>, ctx: &Context) {
    if d.embargo.is_some() {
        return;
    }
    match embargo_time(line, reference.unwrap_or(ctx.received), ctx) {
        Some(t) => d.embargo = Some(t),
        None => {
            d.embargo_unreadable = true;
            d.warnings.push(format!(
                "the embargo time in {:?} could not be read: the story is held until it is released by hand",
                scrub(line, false)
            ));
        }
    }
}

/// The time of an embargo line: `EMBARGOED until 0001 GMT Nov 14`, `HOLD FOR
/// RELEASE until 6:30 p.m. EST Thursday`, `Not for publication before 14
/// November 2013, 08:00 GMT`, `Sperrfrist: Donnerstag, 29. Juni, 18.00 Uhr
/// MESZ`, `Nicht vor 1800 MEZ veröffentlichen`. A time without a date is the
/// first such time at or after `reference` (the transmission's own time);
/// one with a weekday but no date, that weekday's.
pub(crate) fn embargo_time(line: &str, reference: DateTime<Utc>, ctx: &Context) -> Option<DateTime<FixedOffset>> {
    // `Embargoed to ...`, `prior to ...`: the same as `until`, `before`
    // (lengths kept, so positions in `lower` are positions in `line`).
    let lower = line.to_lowercase().replace("embargoed to ", "embargoed  : ").replace("prior to ", "prior  : ");
    // Reading needs no case: when lower-casing changed a length, read the lower-case line.
    let line = if lower.len() == line.len() { line } else { lower.as_str() };
    // The value starts after the last keyword of the label.
    let mut start = 0;
    for key in EMBARGO_KEYS {
        // A label's colon, not a clock's (`12:01`).
        let found = match *key {
            ":" => lower
                .match_indices(':')
                .map(|(at, _)| at)
                .find(|&at| !lower[..at].ends_with(|c: char| c.is_ascii_digit())),
            key => find_word(&lower, key),
        };
        if let Some(at) = found {
            start = start.max(at + key.len());
            if matches!(*key, "until" | "till" | "before" | "after" | "bis" | "vor" | "ab") {
                break;
            }
        }
    }
    if let Some(t) = embargo_value(line, start, reference, ctx) {
        return Some(t);
    }
    // A line of several sentences (`EMBARGOED for release at 6 p.m. EST
    // Monday, Dec. 7. Not for publication before then.`): the value after
    // each keyword, in the order they come.
    let mut starts: Vec<usize> = EMBARGO_KEYS
        .iter()
        .flat_map(|key| {
            let lower = &lower;
            lower
                .match_indices(key)
                .filter(move |(at, _)| *key != ":" || !lower[..*at].ends_with(|c: char| c.is_ascii_digit()))
                .map(move |(at, _)| at + key.len())
        })
        .filter(|&at| at != start && lower.is_char_boundary(at))
        .collect();
    starts.sort_unstable();
    starts.dedup();
    starts.into_iter().find_map(|at| embargo_value(line, at, reference, ctx))
}

/// Words after which an embargo line gives its time.
const EMBARGO_KEYS: &[&str] = &[
    "until",
    "till",
    "before",
    "after",
    "bis",
    "vor",
    "ab",
    "at",
    "um",
    "from",
    "embargoed",
    "embargo",
    "release",
    "sperrfrist",
    "freigabe",
    ":",
];

/// The time given from byte `start` of an embargo line on.
fn embargo_value(line: &str, start: usize, reference: DateTime<Utc>, ctx: &Context) -> Option<DateTime<FixedOffset>> {
    let value = line.get(start..)?.trim().trim_start_matches([':', '-', ' ']).trim_end_matches(['.', ')', ' ']);
    let value = value.replace(" on ", " ").replace(',', " ").replace(" p.m.", " pm").replace(" a.m.", " am");
    // Midnight is read as the end of the day it names, never its start: an
    // ambiguous embargo is kept the longer.
    let lower = value.to_lowercase();
    let midnight = lower.split_whitespace().any(|w| w == "midnight");
    let value: Vec<String> = value
        .split_whitespace()
        .map(|w| match w.to_lowercase().as_str() {
            "midnight" => "23:59".to_owned(),
            "noon" | "midday" | "mittag" => "12:00".to_owned(),
            "eastern" => "ET".to_owned(),
            "pacific" => "PT".to_owned(),
            // `14.11.` is a day and month (German), never a clock.
            _ => german_day_month(w).unwrap_or_else(|| w.to_owned()),
        })
        .collect();
    let value = four_digit_clock(&value.join(" "));
    let value = collapse(&value);
    let ctx = Context { tz: ctx.tz, received: reference + Duration::days(30) };
    let all: Vec<&str> = value.split_whitespace().collect();
    let words: Vec<&str> = (0..all.len()).filter(|&i| !is_embargo_filler(&all, i)).map(|i| all[i]).collect();
    // The longest run of words that reads as a time: the value may go on
    // (`... veröffentlichen`, `... local time`).
    for from in 0..words.len().min(4) {
        for to in (from + 1..=words.len()).rev() {
            let run = words[from..to].join(" ");
            if let Some(t) = dated(&run, &ctx) {
                return Some(if midnight { t + Duration::minutes(1) } else { t });
            }
        }
    }
    for from in 0..words.len().min(4) {
        for to in (from + 1..=words.len()).rev() {
            if let Some(t) = time_of_day(&words[from..to], reference, &ctx) {
                return Some(if midnight { t + Duration::minutes(1) } else { t });
            }
        }
    }
    None
}

/// `14.11.` as `14 November`.
fn german_day_month(w: &str) -> Option<String> {
    const MONTHS: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    let (day, rest) = w.strip_suffix('.')?.split_once('.')?;
    let (day, month): (u32, usize) = (day.parse().ok()?, rest.parse().ok()?);
    ((1..=31).contains(&day) && (1..=12).contains(&month)).then(|| format!("{day} {}", MONTHS[month - 1]))
}

/// Words an embargo value may hold that are no part of its time. German
/// `am` (`am Donnerstag`) is one, English `am` after a clock is not.
fn is_embargo_filler(words: &[&str], i: usize) -> bool {
    let w = words[i].trim_matches(|c: char| !c.is_alphanumeric()).to_lowercase();
    let after_number = i > 0 && words[i - 1].ends_with(|c: char| c.is_ascii_digit());
    matches!(w.as_str(), "den" | "dem" | "um" | "ab" | "bis" | "local" | "time" | "ortszeit" | "hours" | "hrs")
        || (w == "am" && !after_number)
}

/// A full date and time.
fn dated(run: &str, ctx: &Context) -> Option<DateTime<FixedOffset>> {
    match parse_time(run, ctx) {
        Some((StoryTime::Instant(t), _)) => Some(t),
        _ => None,
    }
}

/// A time of day, perhaps with a weekday and a zone: on the reference's day
/// (or the next, when that time has passed), or on the named weekday.
fn time_of_day(words: &[&str], reference: DateTime<Utc>, ctx: &Context) -> Option<DateTime<FixedOffset>> {
    use chrono::Datelike;
    let mut wanted = None;
    let mut rest = Vec::new();
    let mut next_day = false;
    for w in words {
        let lower = w.trim_matches(|c: char| !c.is_alphanumeric()).to_lowercase();
        if matches!(lower.as_str(), "tomorrow" | "morgen") {
            next_day = true;
            continue;
        }
        if matches!(lower.as_str(), "today" | "heute" | "tonight" | "heute abend") {
            continue;
        }
        match weekday_of(w) {
            Some(d) if wanted.is_none() => wanted = Some(d),
            Some(_) => return None,
            None => rest.push(*w),
        }
    }
    if rest.is_empty() {
        return None;
    }
    let head = rest.join(" ");
    let day = reference.date_naive();
    let probe = format!("{} {}", day.format("%d %B %Y"), head);
    let Some((StoryTime::Instant(t), _)) = parse_time(&probe, ctx) else { return None };
    let mut t = t;
    match wanted {
        Some(w) => {
            let ahead = (7 + w.num_days_from_monday() as i64 - day.weekday().num_days_from_monday() as i64) % 7;
            t += Duration::days(ahead);
        }
        None if next_day => t += Duration::days(1),
        None if t.with_timezone(&Utc) < reference => t += Duration::days(1),
        None => {}
    }
    Some(t)
}

/// A weekday in English or German, full or abbreviated.
fn weekday_of(word: &str) -> Option<chrono::Weekday> {
    use chrono::Weekday::*;
    let w = word.trim_matches(|c: char| !c.is_alphanumeric()).to_lowercase();
    Some(match w.as_str() {
        "mon" | "monday" | "mo" | "montag" => Mon,
        "tue" | "tues" | "tuesday" | "di" | "dienstag" => Tue,
        "wed" | "wednesday" | "mi" | "mittwoch" => Wed,
        "thu" | "thur" | "thurs" | "thursday" | "do" | "donnerstag" => Thu,
        "fri" | "friday" | "fr" | "freitag" => Fri,
        "sat" | "saturday" | "sa" | "samstag" | "sonnabend" => Sat,
        "sun" | "sunday" | "so" | "sonntag" => Sun,
        _ => return None,
    })
}

/// Where `word` occurs as a whole word.
fn find_word(hay: &str, word: &str) -> Option<usize> {
    hay.match_indices(word).map(|(i, _)| i).find(|&i| {
        let before = hay[..i].chars().next_back().is_none_or(|c| !c.is_alphanumeric());
        let after = hay[i + word.len()..].chars().next().is_none_or(|c| !c.is_alphanumeric());
        // A label's colon, not a clock's (`12:01`).
        let label = word == ":" && !hay[..i].ends_with(|c: char| c.is_ascii_digit());
        before && after || label
    })
}

/// `0001 GMT` to `00:01 GMT`: agencies write times of day as four digits.
fn four_digit_clock(s: &str) -> String {
    let words: Vec<&str> = s.split_whitespace().collect();
    let mut out = Vec::with_capacity(words.len());
    for (i, w) in words.iter().enumerate() {
        // A zone follows in capitals (`0001 GMT`, `1800 MEZ`) or an hours
        // word; a year after its month (`14 November 2013 at`) is no clock.
        let after_month = i > 0 && month(&words[i - 1].trim_end_matches(['.', ',']).to_lowercase()).is_some();
        let zoned = words.get(i + 1).is_some_and(|n| {
            let n = n.trim_end_matches([',', '.']);
            (n.chars().all(|c| c.is_ascii_uppercase()) && (2..=4).contains(&n.len()))
                || matches!(n.to_lowercase().as_str(), "hrs" | "hours" | "h" | "uhr")
        }) || w.ends_with("GMT")
            || w.ends_with("UTC");
        let zoned = zoned && !after_month;
        let (digits, zone) = w.split_at(w.find(|c: char| !c.is_ascii_digit()).unwrap_or(w.len()));
        if digits.len() == 4 && zoned && (zone.is_empty() || zone == "GMT" || zone == "UTC") {
            let (h, m) = digits.split_at(2);
            if h < "24" && m < "60" {
                out.push(format!("{h}:{m} {zone}").trim().to_owned());
                continue;
            }
        }
        out.push((*w).to_owned());
    }
    out.join(" ")
}

/// A month name or abbreviation in English or German (dpa writes `Okt`,
/// `Mär`, `Mai`, `Dez` in its trailers).
pub(super) fn month(word: &str) -> Option<u32> {
    let w = word.trim_end_matches('.').to_lowercase();
    crate::wire::time::month(&w).or(match w.as_str() {
        "jän" | "jänner" | "januar" => Some(1),
        "februar" | "feber" => Some(2),
        "mär" | "mrz" | "maer" | "märz" | "maerz" | "mae" => Some(3),
        "juni" => Some(6),
        "juli" => Some(7),
        "okt" | "oktober" => Some(10),
        "dez" | "dezember" => Some(12),
        _ => None,
    })
}

/// A two-digit year to a full one (wire trailers are recent: 70–99 is 19xx).
pub(super) fn full_year(y: u32, digits: usize) -> i32 {
    match digits {
        2 if y >= 70 => 1900 + y as i32,
        2 => 2000 + y as i32,
        _ => y as i32,
    }
}

/// A UTC instant from its parts, when they make one.
pub(super) fn utc(year: i32, month: u32, day: u32, hour: u32, minute: u32) -> Option<StoryTime> {
    let date = NaiveDate::from_ymd_opt(year, month, day)?;
    let time = NaiveTime::from_hms_opt(hour, minute, 0)?;
    Some(StoryTime::Instant(Utc.from_utc_datetime(&date.and_time(time)).fixed_offset()))
}

/// The year of a date given without one: the latest that does not put it
/// more than two days after the receive time.
pub(super) fn guess_year(month: u32, day: u32, received: DateTime<Utc>) -> i32 {
    let limit = (received + Duration::days(2)).date_naive();
    let year = limit.year();
    match NaiveDate::from_ymd_opt(year, month, day) {
        Some(d) if d <= limit => year,
        _ => year - 1,
    }
}

/// Context for time reading.
pub(super) fn context(options: &ParseOptions) -> Context {
    Context { tz: options.source_tz, received: options.received }
}

/// The instant of a story time, as UTC, for references.
pub(super) fn instant(t: &StoryTime) -> DateTime<Utc> {
    match t {
        StoryTime::Instant(t) => t.with_timezone(&Utc),
        StoryTime::Date(d) => Utc.from_utc_datetime(&d.and_time(NaiveTime::MIN)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn noise_around_the_framing_does_not_choose_the_encoding() {
        let body = "\u{1}0417 dpa Norway\n\u{2}# dpa NOTEBOOK\u{85}\nNot for publication.\n\u{3}";
        let mut bytes = b"\x01\x80\x81 noise".to_vec();
        bytes.extend_from_slice(body.as_bytes());
        bytes.extend_from_slice(&[1, 128, 128, 128]);
        let raw = decode(&bytes).unwrap();
        assert_eq!(raw.encoding, "UTF-8");
        assert!(raw.text.contains("\u{2}# dpa NOTEBOOK\u{85}\n"), "{:?}", raw.text);
    }

    fn ctx() -> Context {
        Context { tz: chrono_tz::UTC, received: Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap() }
    }

    #[test]
    fn controls_never_survive_scrub() {
        assert_eq!(scrub("\u{1}a\u{7f}b\u{16}\tc\u{202e}", false), "ab c");
        assert_eq!(scrub("row 1\nrow 2\u{8}", true), "row 1\nrow 2");
        assert_eq!(strip_controls("\u{8}Tampa\u{10}Bay", &['\u{8}']), "\u{8}TampaBay");
    }

    #[test]
    fn notes_and_editorial_lines_are_told_apart() {
        assert_eq!(kind("Eds: With AP Photos."), Kind::Note);
        assert_eq!(kind("AP Photo NY101, NY102"), Kind::Note);
        assert_eq!(kind("The following information is not for publication"), Kind::NotesFrom);
        assert_eq!(kind("# dpa NOTEBOOK"), Kind::NotesFrom);
        assert_eq!(kind("EMBARGOED until 0001 GMT Nov 14"), Kind::Embargo);
        assert_eq!(kind("Not for publication before 0800 GMT"), Kind::Embargo);
        assert_eq!(kind("CORRECTS spelling of name"), Kind::Correction("CORRECTS spelling of name".into()));
        assert_eq!(kind("(Corrects age in 3rd paragraph)"), Kind::Correction("Corrects age in 3rd paragraph".into()));
        assert_eq!(kind("Eds: CORRECTS date"), Kind::Correction("CORRECTS date".into()));
        assert_eq!(kind("* * * *"), Kind::Furniture);
        assert_eq!(kind("The minister said the plan was not for publication yet"), Kind::Text);
        assert_eq!(kind("Berlin (dpa) - The talks went on."), Kind::Text);
    }

    #[test]
    fn advisories_are_classified_in_english_and_german() {
        assert_eq!(advisory("EMBARGOED until 0829 GMT Monday, Dec 7, 2026"), Kind::Embargo);
        assert_eq!(advisory("Sperrfrist: 18.00 Uhr"), Kind::Embargo);
        assert_eq!(advisory("Bitte beachten Sie die Sperrfrist bis Donnerstag, 18 Uhr"), Kind::Embargo);
        assert_eq!(advisory("Nicht vor Freitag, 12.00 Uhr, veröffentlichen."), Kind::Embargo);
        assert_eq!(advisory("FLASH"), Kind::Priority(1));
        assert_eq!(advisory("+++ Eilmeldung +++"), Kind::Priority(2));
        assert_eq!(advisory("BULLETIN"), Kind::Priority(2));
        assert_eq!(advisory("kill"), Kind::Take("KILL".into()));
        assert_eq!(advisory("Wiederholung"), Kind::Take("WIEDERHOLUNG".into()));
        assert_eq!(advisory("(Foto Illustration)"), Kind::Note);
        assert_eq!(advisory("AP Photo NY101"), Kind::Note);
        assert_eq!(advisory("Die Meldung lief auch im Ressort Politik."), Kind::Note);
        assert_eq!(
            advisory("(Berichtigung: In einer früheren Version fehlte ein Wort.)"),
            Kind::Correction("Berichtigung: In einer früheren Version fehlte ein Wort.".into())
        );
        assert_eq!(advisory("NOT FOR PUBLICATION OR BROADCAST BEFORE 0001 GMT"), Kind::Embargo);
        assert_eq!(advisory("(Aktualisierung: Bildhinweis ergänzt)"), Kind::Note);
        assert_eq!(advisory("(Adds comments, detail)"), Kind::Text);
        assert_eq!(kind("Do not publish until 18:00 CET"), Kind::Embargo);
        assert_eq!(kind("Frei zur Veröffentlichung ab 18 Uhr"), Kind::Embargo);
        assert_eq!(kind("Bis Sonntag, 12 Uhr, nicht veröffentlichen!"), Kind::Embargo);
        assert_eq!(kind("FOR IMMEDIATE RELEASE"), Kind::Text);
        assert_eq!(advisory("BRUSSELS (Reuters) - The EU extended its arms embargo until 2027."), Kind::Text);
        assert_eq!(advisory("The EU extended its arms embargo until 2027."), Kind::Text);
        assert_eq!(advisory("Die Sperrfrist für Aktienverkäufe läuft im Mai aus."), Kind::Text);
        assert_eq!(kind("Sperrfristen gelten auch für Vorstände."), Kind::Text);
        assert_eq!(kind("Under embargo since 2019, the country has struggled to import medicine and spare parts for its ageing fleet of aircraft, officials said on Tuesday, adding that talks would go on into next year while sanctions stayed."), Kind::Text);
        // Headlines that only look like advisories.
        assert_eq!(advisory("Kill switch for cars rolls out"), Kind::Text);
        assert_eq!(advisory("Fotos zeigen Zerstörung in der Altstadt"), Kind::Text);
        assert_eq!(advisory("Flash floods hit the coast"), Kind::Text);
        assert_eq!(kind("Nicht vor Ende des Jahres rechnet die Regierung mit Zahlen."), Kind::Text);
    }

    #[test]
    fn headlines_lose_their_advisories() {
        assert_eq!(clean_headline("Steuern steigen (Foto Illustration)").0, "Steuern steigen");
        assert_eq!(clean_headline("EILMELDUNG: Regierung tritt zurück").0, "Regierung tritt zurück");
        assert_eq!(clean_headline("Flüchtlinge: Merkel will helfen").0, "Flüchtlinge: Merkel will helfen");
        assert_eq!(clean_headline("Trump (R) wins").0, "Trump (R) wins");
        let (h, marks) = clean_headline("EMBARGOED until 0001 GMT - Study finds glaciers shrink");
        assert_eq!((h.as_str(), marks.len()), ("Study finds glaciers shrink", 1));
    }

    #[test]
    fn german_embargo_times_are_read() {
        let reference = Utc.with_ymd_and_hms(2026, 12, 7, 9, 0, 0).unwrap();
        let berlin = Context { tz: chrono_tz::Europe::Berlin, received: reference };
        let t = |s: &str| embargo_time(s, reference, &berlin).map(|t| t.with_timezone(&Utc).to_rfc3339());
        assert_eq!(t("Sperrfrist: Donnerstag, 10. Dezember, 18.00 Uhr").as_deref(), Some("2026-12-10T17:00:00+00:00"));
        assert_eq!(t("Sperrfrist 1800 MEZ").as_deref(), Some("2026-12-07T17:00:00+00:00"));
        assert_eq!(t("Nicht vor Freitag, 12 Uhr, veröffentlichen").as_deref(), Some("2026-12-11T11:00:00+00:00"));
        assert_eq!(t("Sperrfrist: 08.12.2026, 06:30 Uhr").as_deref(), Some("2026-12-08T05:30:00+00:00"));
        assert_eq!(t("Embargoed until 00:01 GMT Thursday").as_deref(), Some("2026-12-10T00:01:00+00:00"));
        assert_eq!(t("Sperrfrist beachten"), None);
        assert_eq!(t("Sperrfrist: morgen, 6 Uhr").as_deref(), Some("2026-12-08T05:00:00+00:00"));
        assert_eq!(t("Sperrfrist: heute 18 Uhr").as_deref(), Some("2026-12-07T17:00:00+00:00"));
        assert_eq!(t("Embargoed to 00:01 GMT 9 December 2026").as_deref(), Some("2026-12-09T00:01:00+00:00"));
        assert_eq!(
            t("Not for publication or broadcast before 00:01 GMT on Wednesday").as_deref(),
            Some("2026-12-09T00:01:00+00:00")
        );
        assert_eq!(t("For release 12:01 a.m. EST Tuesday").as_deref(), Some("2026-12-08T05:01:00+00:00"));
        assert_eq!(t("HOLD FOR RELEASE 7 p.m. EST Tuesday, Dec. 8").as_deref(), Some("2026-12-09T00:00:00+00:00"));
        assert_eq!(t("Embargo: 07.12.2026 10:00 MEZ").as_deref(), Some("2026-12-07T09:00:00+00:00"));
        assert_eq!(t("EMBARGOED until 10am AEDT Tuesday").as_deref(), Some("2026-12-07T23:00:00+00:00"));
        assert_eq!(t("SPERRFRIST 8. DEZEMBER, 0.01 UHR").as_deref(), Some("2026-12-07T23:01:00+00:00"));
    }

    #[test]
    fn initials_lines_are_recognised() {
        assert!(is_initials("dpa wsz jln npr", None));
        assert!(is_initials("dpa/afp ab cd", None));
        assert!(!is_initials("dpa said the talks failed", None));
        assert!(!is_initials("The dpa wsz", None));
        assert!(is_initials("dpa wd yynwe n1 bok", None));
        assert!(is_initials("dpa mfi/fko yy/xx z2 hn", None));
        assert!(!is_initials("dpa says 2024 was hot", None));
    }

    #[test]
    fn embargo_times_are_read() {
        let reference = Utc.with_ymd_and_hms(2013, 11, 13, 11, 37, 0).unwrap();
        let t = |s: &str| embargo_time(s, reference, &ctx()).map(|t| t.with_timezone(&Utc).to_rfc3339());
        assert_eq!(t("EMBARGOED until 0001 GMT Nov 14").as_deref(), Some("2013-11-14T00:01:00+00:00"));
        assert_eq!(t("EMBARGOED until 0001 GMT").as_deref(), Some("2013-11-14T00:01:00+00:00"));
        assert_eq!(
            t("Not for publication before 14 November 2013, 08:00 GMT").as_deref(),
            Some("2013-11-14T08:00:00+00:00")
        );
        assert_eq!(t("HOLD FOR RELEASE until 6:30 p.m. EST").as_deref(), Some("2013-11-13T23:30:00+00:00"));
        assert_eq!(t("EMBARGOED until further notice"), None);
        assert_eq!(
            t("EMBARGOED for release at 6 p.m. EST Wednesday, Nov. 13, 2013. Not for broadcast or publication before then.")
                .as_deref(),
            Some("2013-11-13T23:00:00+00:00")
        );
        assert_eq!(t("Publishable from 2300 GMT").as_deref(), Some("2013-11-13T23:00:00+00:00"));
        assert_eq!(
            t("Embargoed for release at 12:01 a.m. EST Thursday, Nov. 14, 2013").as_deref(),
            Some("2013-11-14T05:01:00+00:00")
        );
        assert_eq!(
            t("This story may not be published, broadcast or posted online before 2300 GMT").as_deref(),
            Some("2013-11-13T23:00:00+00:00")
        );
    }

    #[test]
    fn an_embargo_mark_leaves_the_headline() {
        let (headline, taken) = clean_headline("EMBARGOED: Budget deal struck");
        assert_eq!((headline.as_str(), taken), ("Budget deal struck", vec!["EMBARGOED".to_owned()]));
        assert_eq!(clean_headline("Embargo: what it means for Iran").0, "Embargo: what it means for Iran");
    }

    #[test]
    fn embargoes_in_prose_are_embargoes() {
        for line in [
            "ATTENTION EDITORS - EMBARGOED CONTENT",
            "RELEASE AT 2300 GMT",
            "Note to editors: this story is under embargo until 2300 GMT",
            "Publishable from 2300 GMT",
            "This story may not be published, broadcast or posted online before 2300 GMT",
            "(Achtung: Diese Meldung ist bis 18.00 Uhr gesperrt)",
            "Must not be published until 10:00 CET on Tuesday",
            "Not to be broadcast or published before 0001 GMT Thursday",
            "Freigegeben ab 18.00 Uhr",
        ] {
            assert_eq!(kind(line), Kind::Embargo, "{line}");
        }
        for line in ["Achtung: Sperrfrist 18.00 Uhr!", "ACHTUNG: SPERRFRIST Dienstag, 8. Dezember 2026, 10.00 Uhr"] {
            assert_eq!(advisory(line), Kind::Embargo, "{line}");
        }
        for line in [
            "The report, released at 10 GMT, said prices rose.",
            "Die Straße ist bis Montag gesperrt.",
            "The company said no data would be released before 2027.",
        ] {
            assert_eq!(kind(line), Kind::Text, "{line}");
        }
    }
}
#[cfg(test)]
/// Embargo times in the shapes agencies write them, English and German.
mod embargo_shapes {
    use chrono::TimeZone;
    #[test]
    fn every_shape_is_read_to_its_minute() {
        let reference = chrono::Utc.with_ymd_and_hms(2013, 11, 13, 11, 37, 0).unwrap();
        let ctx = crate::wire::time::Context { tz: chrono_tz::UTC, received: reference };
        for (s, want) in [
            ("EMBARGOED until 00:01 GMT Thursday 14 November 2013", "2013-11-14T00:01:00+00:00"),
            ("Embargo: 14.11.2013, 08:00 Uhr MEZ", "2013-11-14T07:00:00+00:00"),
            ("Sperrfrist 14. November 2013, 8 Uhr", "2013-11-14T08:00:00+00:00"),
            ("HOLD FOR RELEASE until 7 p.m. ET Thursday", "2013-11-15T00:00:00+00:00"),
            ("Embargoed until 10am GMT, 14 Nov 2013", "2013-11-14T10:00:00+00:00"),
            ("EMBARGO UNTIL 2013-11-14T08:00:00Z", "2013-11-14T08:00:00+00:00"),
            ("Not for publication before 0800 GMT on Thursday 14 November", "2013-11-14T08:00:00+00:00"),
            ("Sperrfrist: Donnerstag, 14. November, 06.00 Uhr", "2013-11-14T06:00:00+00:00"),
            // Midnight is the end of the day named: an ambiguous embargo is kept the longer.
            ("Embargoed until midnight GMT on Thursday", "2013-11-15T00:00:00+00:00"),
            ("EMBARGOED UNTIL 1201 AM EST NOV 14", "2013-11-14T05:01:00+00:00"),
            ("Embargoed until 14 November 2013 at 00:01 GMT", "2013-11-14T00:01:00+00:00"),
            ("Sperrfrist: 14.11., 10:00 Uhr", "2013-11-14T10:00:00+00:00"),
            ("EMBARGO: 0001 GMT 14/11/2013", "2013-11-14T00:01:00+00:00"),
            ("Embargoed until noon CET Thursday", "2013-11-14T11:00:00+00:00"),
            ("Embargoed until 00:01 hrs GMT, Thursday 14th November 2013", "2013-11-14T00:01:00+00:00"),
            ("Sperrfrist: Do., 14.11.2013, 00.01 Uhr MEZ", "2013-11-13T23:01:00+00:00"),
            ("EMBARGOED: 14 November 2013 00:01 CET", "2013-11-13T23:01:00+00:00"),
            ("Embargo 9.30am AEDT Thursday", "2013-11-13T22:30:00+00:00"),
            ("Under embargo until Thursday, Nov. 14, 2013, at 12:01 a.m. Eastern", "2013-11-14T05:01:00+00:00"),
        ] {
            let got = super::embargo_time(s, reference, &ctx).map(|t| t.with_timezone(&chrono::Utc).to_rfc3339());
            assert_eq!(got.as_deref(), Some(want), "{s}");
        }
    }
}
