//! The XHTML of a NewsML-G2 `inlineXML`, read as structure rather than as
//! a run of paragraphs (dpa's shape, and any like it):
//!
//! ```text
//! <header>                       wire metadata, never paragraphs:
//!   <ul class="slugline">…</ul>    the slug's words
//!   <time>29.06.2017 18:02</time>  the date line
//!   <p class="genre">…</p>         genre (`Zusammenfassung`), its note for editors
//!   <p class="kicker">…</p>        kicker / Dachzeile (`Fußball`)
//!   <h1>…</h1>                     the headline
//!   <p class="byline">Von …</p>    the authors
//! </header>
//! <section class="main">
//!   <p class="teaser">…</p>        the first paragraph
//!   <p><span class="dateline">Berlin (dpa) - </span>…</p>
//! </section>
//! <section class="notepad">…</section>   notes (and every `np-…` section)
//! ```
//!
//! Without a `header` element, the lines above the `h1` are its header. A
//! paragraph `np-constraint`, or one that says the rest is not for
//! publication, makes everything after it a note. Advisory lines among the
//! paragraphs (embargo, desk routing, photo notes, corrections) are sorted
//! out by the caller with the agency-text classifier.

use roxmltree::Node;

use super::xml::{self, attr, name, text, Blocks};

/// What the XHTML holds, sorted.
#[derive(Debug, Default)]
pub struct Xhtml {
    pub paragraphs: Vec<String>,
    pub notes: Vec<String>,
    /// The `h1`, when there is one.
    pub headline: Option<String>,
    pub genre: Option<String>,
    pub kicker: Option<String>,
    /// The text of a byline element (`Von A und B, dpa`).
    pub byline: Option<String>,
    /// Paragraphs at the start that are a teaser (the dateline is after them).
    pub teasers: usize,
    /// The dateline element's text (`Hamm (dpa) - `).
    pub dateline: Option<String>,
    /// Lines of the header the caller must still classify (an embargo
    /// note, a desk line): never published as they are.
    pub header_lines: Vec<String>,
    /// Places the item names elsewhere (`located`): a header line that is
    /// one is a location line, metadata.
    places: Vec<String>,
    /// A dateline element waiting for its paragraph.
    pending_dateline: Option<String>,
}

/// Genre names (lowercase) that a header line may be.
const GENRES: &[&str] = &[
    "meldung",
    "zusammenfassung",
    "gesamtzusammenfassung",
    "vorschau",
    "tagesvorschau",
    "wochenvorschau",
    "hintergrund",
    "interview",
    "feature",
    "porträt",
    "portrait",
    "analyse",
    "kommentar",
    "reportage",
    "korrespondentenbericht",
    "nachrichtenüberblick",
    "überblick",
    "chronologie",
    "fragen & antworten",
    "fragen und antworten",
    "faktenbox",
    "zitate",
    "eilmeldung",
    "vorrang",
    "pressestimmen",
    "presseschau",
    "news analysis",
    "analysis",
    "preview",
    "profile",
    "factbox",
    "backgrounder",
    "q&a",
    "obituary",
    "nachruf",
    "wrapup",
    "roundup",
    "summary",
    "feature story",
];

fn class_of<'a>(node: Node<'a, '_>) -> &'a str {
    attr(node, "class").unwrap_or("")
}

fn has_class(node: Node<'_, '_>, words: &[&str]) -> bool {
    let class = class_of(node).to_lowercase();
    class.split_whitespace().any(|c| words.iter().any(|w| c == *w || c.starts_with(&format!("{w}-"))))
}

/// Notepad sections and their parts: notes.
fn is_notepad(node: Node<'_, '_>) -> bool {
    let class = class_of(node).to_lowercase();
    class.split_whitespace().any(|c| {
        c.contains("notepad")
            || c.contains("notizblock")
            || c.starts_with("np-")
            || c == "closingline"
            || c.contains("ednote")
            || c.contains("editorsnote")
            || c.contains("editors-note")
            || c.contains("editor-note")
            || c.contains("note-to-editors")
            || c.contains("nonpublic")
            || c.contains("non-public")
    })
}

/// Whether a line is a date (`29.06.2017 18:02`, `24.09.2024, 12:05 Uhr`).
fn is_date_line(t: &str) -> bool {
    let digits = t.chars().filter(char::is_ascii_digit).count();
    let letters = t.chars().filter(|c| c.is_alphabetic()).count();
    let runs: Vec<&str> = t.split(|c: char| !c.is_ascii_digit()).filter(|r| !r.is_empty()).collect();
    let year = runs.iter().any(|r| r.len() == 4 && (r.starts_with("19") || r.starts_with("20")));
    let clock = t.contains(':') && runs.len() >= 2;
    digits >= 6 && letters <= 12 && t.chars().count() <= 40 && (year || clock)
}

/// A line that is a genre line and nothing else: the genre alone, or the
/// genre then a dash and its note (`Zusammenfassung - 1745`,
/// `Vorschau – bis 1800`), or in brackets. Gives the genre and the note.
pub(super) fn genre_line(t: &str) -> Option<(String, Option<String>)> {
    let bare = t.trim().trim_start_matches('(').trim_end_matches(')').trim();
    let g = genre_of(bare)?;
    let rest = bare[g.len()..].trim();
    if rest.is_empty() {
        return Some((g, None));
    }
    let note = rest.strip_prefix(['-', '–', '—'])?.trim();
    Some((g, Some(note.to_owned()).filter(|n| !n.is_empty())))
}

/// The genre a header line names, when it starts with one (`Zusammenfassung - 1745`).
fn genre_of(t: &str) -> Option<String> {
    let lower = t.to_lowercase();
    let first = lower.split([' ', '-', '–', '—', ':', ',', '(']).next().unwrap_or("");
    GENRES
        .iter()
        .find(|g| lower == **g || first == **g || lower.starts_with(&format!("{g} ")))
        .map(|g| t.chars().take(g.chars().count()).collect())
}

impl Xhtml {
    /// Reads an XHTML `body` (or whatever element holds the story).
    pub fn read(body: Node<'_, '_>, places: &[String]) -> Xhtml {
        let mut x = Xhtml { places: places.to_vec(), ..Xhtml::default() };
        // A header holding the headline (a notepad has headers of its own).
        let has_header = body.descendants().any(|d| {
            d.is_element() && name(d) == "header" && d.descendants().any(|h| h.is_element() && name(h) == "h1")
        });
        let mut before_h1: Vec<String> = Vec::new();
        let mut seen_h1 = has_header || !body.descendants().any(|d| d.is_element() && name(d) == "h1");
        let mut notes_from = false;
        x.walk(body, &mut before_h1, &mut seen_h1, &mut notes_from, 0);
        // An `h1` only inside a skipped part (a notepad): what stood above it is the story.
        x.paragraphs.splice(0..0, before_h1);
        x
    }

    fn walk(
        &mut self,
        node: Node<'_, '_>,
        before_h1: &mut Vec<String>,
        seen_h1: &mut bool,
        notes_from: &mut bool,
        depth: usize,
    ) {
        for c in node.children() {
            if c.is_text() {
                let t = xml::norm(c.text().unwrap_or(""));
                if !t.is_empty() {
                    self.paragraph(t, before_h1, *seen_h1, *notes_from);
                }
                continue;
            }
            if !c.is_element() {
                continue;
            }
            let local = name(c);
            if matches!(local, "head" | "script" | "style") {
                continue;
            }
            if *notes_from || is_notepad(c) {
                let t = text(c);
                if !t.is_empty() {
                    self.notes.push(t);
                }
                if has_class(c, &["np-constraint"]) {
                    *notes_from = true;
                }
                continue;
            }
            if local == "header" {
                self.header(c);
                continue;
            }
            if local == "h1" {
                let t = text(c);
                if !*seen_h1 {
                    *seen_h1 = true;
                    // The lines above the headline were its header, when
                    // they are few and short; else the `h1` is a subhead
                    // in the body and they are paragraphs.
                    let header = before_h1.len() <= 6 && before_h1.iter().all(|l| l.chars().count() <= 100);
                    for line in before_h1.drain(..) {
                        if header {
                            self.header_line(line);
                        } else {
                            self.paragraphs.push(line);
                        }
                    }
                    if !header {
                        if !t.is_empty() {
                            self.paragraphs.push(t);
                        }
                        continue;
                    }
                }
                if self.headline.is_none() && !t.is_empty() {
                    self.headline = Some(t);
                    continue;
                }
            }
            if has_class(c, &["byline", "author", "autor"]) && self.byline.is_none() {
                self.byline = Some(text(c));
                continue;
            }
            if has_class(c, &["genre"]) {
                self.genre_element(c);
                continue;
            }
            if has_class(c, &["kicker", "dachzeile", "topline", "overline", "roofline", "rubric", "rubrik"]) {
                let t = text(c);
                if self.kicker.is_none() && !t.is_empty() {
                    self.kicker = Some(t);
                }
                continue;
            }
            if local == "time" || has_class(c, &["slugline", "publicationdate", "date", "location"]) {
                continue;
            }
            let container = matches!(local, "section" | "div" | "article" | "main" | "body" | "html");
            if container && depth < 8 {
                self.walk(c, before_h1, seen_h1, notes_from, depth + 1);
                continue;
            }
            if self.dateline.is_none() {
                if let Some(d) = c.descendants().find(|d| d.is_element() && has_class(*d, &["dateline"])) {
                    self.dateline = Some(text(d));
                }
            }
            // A dateline as an element of its own (`<p class="dateline">`)
            // opens the next paragraph, as wire copy writes it.
            if has_class(c, &["dateline"]) && matches!(local, "p" | "div" | "span") {
                let t = text(c);
                if !t.is_empty() {
                    self.pending_dateline = Some(t);
                }
                continue;
            }
            let teaser = has_class(c, &["teaser", "lead", "abstract", "summary"]);
            let blocks = Blocks::read_element(c);
            self.notes.extend(blocks.notes);
            for mut p in blocks.paragraphs {
                if !teaser {
                    if let Some(d) = self.pending_dateline.take() {
                        p = format!("{d} {p}");
                    }
                }
                if teaser && self.paragraphs.len() == self.teasers && *seen_h1 {
                    self.teasers += 1;
                }
                self.paragraph(p, before_h1, *seen_h1, *notes_from);
            }
        }
    }

    fn paragraph(&mut self, t: String, before_h1: &mut Vec<String>, seen_h1: bool, notes_from: bool) {
        if notes_from {
            self.notes.push(t);
        } else if !seen_h1 {
            before_h1.push(t);
        } else {
            self.paragraphs.push(t);
        }
    }

    /// Header lines sent as the first paragraphs (no `h1`, no header
    /// element): a date line or a genre line at the top, and everything
    /// short above the headline when the headline is repeated among the
    /// first paragraphs.
    pub fn leading_header(&mut self, headline: &str) {
        let same = |p: &str| xml::norm(p).eq_ignore_ascii_case(&xml::norm(headline));
        let short = |p: &String| p.chars().count() <= 100;
        if let Some(at) = self.paragraphs.iter().take(6).position(|p| same(p)) {
            if self.paragraphs[..at].iter().all(short) {
                let lines: Vec<String> = self.paragraphs.drain(..=at).collect();
                self.teasers = self.teasers.saturating_sub(lines.len());
                for line in lines.into_iter().filter(|l| !same(l)) {
                    self.header_line(line);
                }
                return;
            }
        }
        while self.paragraphs.len() > 1 {
            let first = &self.paragraphs[0];
            let meta = first.chars().count() <= 60
                && (is_date_line(first) || genre_of(first).is_some() && !first.ends_with(['.', '!', '?']));
            if !meta {
                break;
            }
            let line = self.paragraphs.remove(0);
            self.teasers = self.teasers.saturating_sub(1);
            self.header_line(line);
        }
    }

    /// A `header` element: everything but the teaser is metadata.
    fn header(&mut self, header: Node<'_, '_>) {
        for c in header.children().filter(|c| c.is_element()) {
            let local = name(c);
            if local == "time" || has_class(c, &["slugline", "publicationdate", "date", "location", "dateline"]) {
                continue;
            }
            if matches!(local, "h1" | "h2") && self.headline.is_none() {
                self.headline = Some(text(c)).filter(|t| !t.is_empty());
                continue;
            }
            if has_class(c, &["genre"]) {
                self.genre_element(c);
            } else if has_class(c, &["byline", "author", "autor"]) {
                self.byline.get_or_insert_with(|| text(c));
            } else if has_class(c, &["kicker", "dachzeile", "topline", "overline", "roofline", "rubric", "rubrik"]) {
                let t = text(c);
                if !t.is_empty() {
                    self.kicker.get_or_insert(t);
                }
            } else if has_class(c, &["teaser", "lead", "abstract"]) {
                let t = text(c);
                if !t.is_empty() {
                    self.paragraphs.insert(self.teasers, t);
                    self.teasers += 1;
                }
            } else if local == "ul" || local == "ol" {
                // A list of subjects or places: the slug's words.
            } else if matches!(local, "header" | "div" | "hgroup") {
                self.header(c);
            } else {
                let t = text(c);
                if !t.is_empty() {
                    self.header_line(t);
                }
            }
        }
    }

    /// An element of class `genre`: its own text is the genre, a `genrenote`
    /// in it is for editors.
    fn genre_element(&mut self, node: Node<'_, '_>) {
        let own = xml::text_without(node, &|n| has_class(n, &["genrenote"]));
        let note = node.descendants().find(|d| d.is_element() && has_class(*d, &["genrenote"])).map(text);
        if !own.is_empty() {
            self.genre.get_or_insert(own);
        }
        if let Some(n) = note.filter(|n| !n.is_empty()) {
            self.notes.push(n.trim_start_matches(['-', '–', ' ']).to_owned());
        }
    }

    /// A header line without a class: a date, a genre, a kicker, or a line
    /// the caller classifies (embargo, desk routing).
    fn header_line(&mut self, t: String) {
        if is_date_line(&t) || self.places.iter().any(|p| p.eq_ignore_ascii_case(t.trim_end_matches([',', ' ']))) {
            return;
        }
        if let Some(g) = genre_of(&t) {
            if self.genre.is_none() {
                let rest = t[g.len()..].trim_start_matches([' ', '-', '–', '—', ':']).trim();
                if !rest.is_empty() {
                    self.notes.push(rest.to_owned());
                }
                self.genre = Some(g);
                return;
            }
        }
        let advisory = super::text::advisory(&t) != super::text::Kind::Text;
        let short = t.chars().count() <= 60 && !t.ends_with(['.', '!', '?', ':']);
        if advisory {
            self.header_lines.push(t);
        } else if short && self.kicker.is_none() {
            self.kicker = Some(t);
        } else if short {
            self.notes.push(t);
        } else {
            // A sentence in the header: the teaser.
            self.paragraphs.insert(self.teasers, t);
            self.teasers += 1;
        }
    }
}
