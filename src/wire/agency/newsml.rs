//! NewsML-G2 news items: a bare `newsItem`, or `newsMessage/itemSet/newsItem`
//! (exactly one), in the default namespace or a prefixed one.
//!
//! - headline: `contentMeta/headline`, not a `role` subheadline;
//! - authors: `contentMeta/by` (`A, B`, `A and B`, `By ` dropped), else a
//!   `creator` that names a person; a first `By NAME` paragraph (Reuters) is
//!   the byline, not a paragraph;
//! - dateline: `contentMeta/dateline`, else the first paragraph's, else a
//!   `located` city;
//! - paragraphs: one rendition (`rendition`): the first `inlineXML`
//!   (XHTML read as structure by [`xhtml`]: header metadata, teaser,
//!   notepad; or NITF), else the first `inlineData` that is the story's
//!   text (not a headline, notepad or notes rendition); plain-text copies
//!   are never appended. Reuters' whole story in one `p` in wire layout is
//!   split at its indented lines. Advisories among the paragraphs
//!   (embargo, desk, photo, correction, urgency) are sorted out with the
//!   agency-text classifier. The `description` (abstract) is no paragraph;
//! - times: `firstCreated` (published), `versionCreated` (updated, when
//!   later); zone-less times are in the agency's home zone, else
//!   `source_tz`; embargo: `embargoed`, else an embargo line in the text or
//!   the notes (unreadable: `embargo_unreadable`);
//! - wire.genre / wire.kicker: the XHTML header's genre and kicker lines
//!   (else `contentMeta/genre`);
//! - notes: `edNote`s and `usageTerms`; STT's public note
//!   (`role="sttnote:public"`, any role naming "public") is a correction for
//!   readers;
//! - wire: source `provider` (or `creditline`, the message's sender), slug
//!   `slugline`, priority `urgency` (else the message header's), category an
//!   ANPA category subject (`a1312cat:`), take a Reuters marker in the
//!   slugline or headline (`UPDATE 1`, `REFILE`, `CORRECTED`) else the item's
//!   short `version`, words `@wordcount`.

use roxmltree::{Document, Node, ParsingOptions};

use super::xml::{self, attr, child, child_text, children, line_of, text, Blocks, Ctx};
use super::{text as wiretext, xhtml};
use crate::domain::{Dateline, TimeSource};
use crate::wire::{ParseError, Story, WireFormat, MAX_HEADLINE_CHARS};

/// Reads a `newsItem` or a `newsMessage` holding one.
pub fn read(root: Node<'_, '_>, ctx: Ctx<'_>) -> Result<Story, ParseError> {
    let items: Vec<Node<'_, '_>> = if xml::name(root) == "newsItem" {
        vec![root]
    } else {
        root.descendants().filter(|d| d.is_element() && xml::name(*d) == "newsItem").collect()
    };
    let [item] = items[..] else { return Err(ParseError::ItemCount(items.len())) };
    let header = (xml::name(root) == "newsMessage").then(|| child(root, "header")).flatten();
    let item_meta = child(item, "itemMeta");
    let content_meta = child(item, "contentMeta");
    let options = ctx.options;
    let mut story = ctx.story(WireFormat::NewsmlG2);

    // Places the item names: a header line that is one is a location line.
    let places: Vec<String> = content_meta
        .into_iter()
        .flat_map(|c| {
            let located = children(c, "located").filter_map(|l| child_text(l, "name"));
            let dateline = child_text(c, "dateline").and_then(|d| xml::place_of(&d));
            located.chain(dateline).collect::<Vec<_>>()
        })
        .collect();
    // The text meant for publication: one rendition (see `rendition`).
    let mut x = xhtml::Xhtml::default();
    match rendition(item) {
        Some(part) if xml::name(part) == "inlineXML" => match inline_xml(part, &places) {
            Ok(read) => x = read,
            Err(read) => {
                x.paragraphs = read.paragraphs;
                x.notes = read.notes;
            }
        },
        Some(part) => {
            let read = inline_data(part);
            x.paragraphs = read.paragraphs;
            x.notes = read.notes;
        }
        None => {}
    }

    // Headline: the first one that is not a subheadline.
    let headlines: Vec<Node<'_, '_>> = content_meta.into_iter().flat_map(|c| children(c, "headline")).collect();
    let main = headlines
        .iter()
        .find(|h| !attr(**h, "role").is_some_and(|r| r.to_lowercase().contains("sub")) && !text(**h).is_empty())
        .or_else(|| headlines.iter().find(|h| !text(**h).is_empty()))
        .copied();
    // Without one, the item's title (`itemMeta/title`).
    let main = main.or_else(|| item_meta.and_then(|m| child(m, "title")).filter(|t| !text(*t).is_empty()));
    let headline_node = main.unwrap_or(item);
    let Some(headline) = main.map(text).or_else(|| x.headline.clone()).filter(|h| !h.is_empty()) else {
        let line = line_of(item);
        return Err(ParseError::NoHeadline { line, last_line: line });
    };
    // Advisories written into the headline (`(Foto Illustration)`, `EIL:`) are no part of it.
    let (headline, marks) = wiretext::clean_headline(&headline);
    x.leading_header(&headline);
    let chars = headline.chars().count();
    if chars > MAX_HEADLINE_CHARS {
        return Err(ParseError::HeadlineTooLong { line: line_of(headline_node), chars, limit: MAX_HEADLINE_CHARS });
    }

    // The agency.
    let creditline = content_meta.and_then(|c| child_text(c, "creditline")).map(|c| trim_punct(&c).to_owned());
    let provider = item_meta.and_then(|m| child(m, "provider")).and_then(|p| {
        attr(p, "literal")
            .map(str::to_owned)
            .or_else(|| child_text(p, "name"))
            .or_else(|| attr(p, "qcode").map(|q| q.rsplit(':').next().unwrap_or(q).to_owned()))
    });
    let provider_code = item_meta
        .and_then(|m| child(m, "provider"))
        .and_then(|p| attr(p, "qcode"))
        .map(|q| q.rsplit(':').next().unwrap_or(q).to_owned());
    let source = match (provider.clone(), &creditline) {
        // `reuters.com`: the creditline (`Reuters`) names it as readers know it.
        (Some(p), Some(c)) if p.contains('.') && p.to_lowercase().starts_with(&c.to_lowercase()) => Some(c.clone()),
        // `nprov:dpa` credited `dpa`: the name readers (and the 7901 takes) know.
        (Some(_), Some(c)) if provider_code.as_deref().is_some_and(|q| q.eq_ignore_ascii_case(c)) => Some(c.clone()),
        (Some(p), _) => Some(p),
        (None, c) => c.clone().or_else(|| header.and_then(|h| child_text(h, "sender"))),
    };
    let holder = item
        .descendants()
        .find(|d| d.is_element() && xml::name(*d) == "copyrightHolder")
        .and_then(|h| attr(h, "literal").map(str::to_owned).or_else(|| child_text(h, "name")));
    let mut agencies: Vec<String> =
        [source.clone(), creditline.clone(), holder, provider.clone()].into_iter().flatten().collect();
    agencies.extend(provider_code.clone());

    // Times written without a zone are in the agency's home zone.
    let guid_agency = attr(item, "guid").and_then(|g| g.split(':').find(|p| p.contains('.'))).map(str::to_owned);
    let tz = agencies.iter().chain(guid_agency.iter()).find_map(|a| super::home_zone(a)).unwrap_or(options.source_tz);
    let tctx = crate::wire::time::Context { tz, received: options.received };

    // Paragraphs: the advisories among them sorted out.
    let mut sorted = Sorted::default();
    for line in marks.into_iter().chain(x.header_lines.drain(..)) {
        sorted.advisory(line, true);
    }
    let mut paragraphs = Vec::new();
    let mut top = true;
    let mut notes_from = false;
    for p in std::mem::take(&mut x.paragraphs) {
        if notes_from {
            sorted.notes.push(p);
            continue;
        }
        if wiretext::is_initials(&p, source.as_deref()) {
            sorted.notes.push(p);
            continue;
        }
        match sorted.classify(&p, top) {
            wiretext::Kind::Text => {
                top = false;
                paragraphs.push(p);
            }
            wiretext::Kind::NotesFrom => {
                notes_from = true;
                sorted.notes.push(p);
            }
            _ => {}
        }
    }
    // The headline repeated as the first paragraph is no paragraph.
    if paragraphs.first().is_some_and(|p| p.eq_ignore_ascii_case(&headline)) {
        paragraphs.remove(0);
        x.teasers = x.teasers.saturating_sub(1);
    }
    let byline_paragraph = match x.byline.as_deref() {
        Some(b) => Some(xml::authors(b, &agencies)),
        None => xml::take_byline_paragraph(&mut paragraphs, &agencies),
    };
    xml::tidy(&mut paragraphs);
    if paragraphs.is_empty() {
        return Err(ParseError::NoBody { line: line_of(headline_node) });
    }

    // Authors.
    let mut authors: Vec<String> = Vec::new();
    for by in content_meta.into_iter().flat_map(|c| children(c, "by")) {
        for name in xml::authors(&text(by), &agencies) {
            if !authors.contains(&name) {
                authors.push(name);
            }
        }
    }
    if authors.is_empty() {
        authors = byline_paragraph.unwrap_or_default();
    }
    if authors.is_empty() {
        for creator in content_meta.into_iter().flat_map(|c| children(c, "creator")) {
            let name = child_text(creator, "name").or_else(|| attr(creator, "literal").map(xml::norm));
            for n in xml::authors(&name.unwrap_or_default(), &agencies) {
                if !authors.contains(&n) {
                    authors.push(n);
                }
            }
        }
    }

    // Dateline.
    let stated = content_meta.and_then(|c| child_text(c, "dateline")).or(x.dateline.clone());
    let stated = stated.and_then(|d| xml::place_of(&d));
    let after_teaser = &paragraphs[x.teasers.min(paragraphs.len().saturating_sub(1))..];
    story.dateline = match stated {
        Some(place) => Some(xml::dateline_with(place, after_teaser)),
        None => xml::first_dateline(after_teaser).or_else(|| {
            let located = content_meta.and_then(|c| child(c, "located"))?;
            let city = attr(located, "type").is_none_or(|t| t.to_lowercase().contains("city"));
            let place = child_text(located, "name").filter(|_| city)?;
            Some(Dateline { place, agency: None })
        }),
    };

    // Times.
    let meta_time = |parent: Option<Node<'_, '_>>, local: &str| {
        parent.and_then(|p| child_text(p, local)).and_then(|v| xml::parse_time(&v, &tctx))
    };
    let first = meta_time(item_meta, "firstCreated");
    let version = meta_time(item_meta, "versionCreated");
    let published =
        first.or(version).or_else(|| meta_time(content_meta, "contentCreated")).or_else(|| meta_time(header, "sent"));
    if let Some(published) = published {
        story.published = published;
        story.time_source = TimeSource::Parsed;
        story.updated = version.filter(|v| xml::later(v, &published));
    }
    let embargoed = item_meta.and_then(|m| child(m, "embargoed"));
    story.embargo = meta_time(item_meta, "embargoed").and_then(xml::instant);
    if embargoed.is_some() && story.embargo.is_none() {
        story.embargo_unreadable = true;
        story.warnings.push(
            "the item's embargo time could not be read: the story is held until it is released by hand".to_owned(),
        );
    }
    let status = item_meta.and_then(|m| child(m, "pubStatus")).and_then(|s| attr(s, "qcode")).map(str::to_lowercase);
    match status.as_deref().map(|s| s.rsplit(':').next().unwrap_or(s)) {
        Some("embargoed") if story.embargo.is_none() => {
            story.embargo_unreadable = true;
            story.warnings.push(
                "the item is marked embargoed but gives no release time: the story is held until it is released by hand"
                    .to_owned(),
            )
        }
        // Withheld: not to be published now; held until a person releases it.
        Some("withheld") => {
            story.embargo_unreadable |= story.embargo.is_none();
            story
                .warnings
                .push("the agency marked this item withheld: the story is held until it is released by hand".to_owned())
        }
        // Canceled: the agency withdrew the story; a kill of it.
        Some(s @ ("canceled" | "cancelled")) => {
            story.wire.take = Some("KILL".to_owned());
            story.warnings.push(format!("the agency marked this item {s}: it kills the story"))
        }
        _ => {}
    }

    // Notes to editors, and the correction meant for readers.
    let mut notes = Vec::new();
    let mut corrections = Vec::new();
    for note in item_meta.into_iter().flat_map(|m| children(m, "edNote")) {
        let t = text(note);
        if attr(note, "role").is_some_and(|r| r.to_lowercase().contains("public")) {
            xml::note(&mut corrections, t);
        } else {
            xml::note(&mut notes, t);
        }
    }
    for terms in item.descendants().filter(|d| d.is_element() && xml::name(*d) == "usageTerms") {
        xml::note(&mut notes, text(terms));
    }
    for n in x.notes.into_iter().chain(sorted.notes) {
        xml::note(&mut notes, n);
    }
    if corrections.is_empty() {
        corrections.extend(sorted.correction);
    }
    story.correction = (!corrections.is_empty()).then(|| corrections.join(" "));
    // Embargo lines anywhere in the notes: the text's advisories, the
    // notes to editors, the notepad (`Bitte beachten Sie die Sperrfrist ...`).
    if story.embargo.is_none() {
        let reference = wiretext::instant(&story.published);
        let lines: Vec<&String> =
            sorted.embargoes.iter().chain(notes.iter().filter(|n| wiretext::is_embargo(n))).collect();
        for line in lines {
            match wiretext::embargo_time(line, reference, &tctx) {
                Some(t) => {
                    story.embargo = Some(t);
                    story.embargo_unreadable = false;
                    break;
                }
                None if !story.embargo_unreadable => {
                    story.embargo_unreadable = true;
                    story.warnings.push(format!(
                        "the embargo time in {line:?} could not be read: the story is held until it is released by hand"
                    ));
                }
                None => {}
            }
        }
    }

    // The header.
    // The slug: `slugline`, else a keyword or alternative id whose role
    // names a slug, else an item title written like one (`US-Finance-Fed`).
    let role_slug = |local: &str| {
        content_meta.into_iter().flat_map(|c| children(c, local)).find_map(|k| {
            let named = ["role", "type"].iter().any(|a| attr(k, a).is_some_and(|r| r.to_lowercase().contains("slug")));
            named.then(|| text(k)).filter(|t| !t.is_empty())
        })
    };
    let title = item_meta.and_then(|m| child_text(m, "title")).filter(|t| xml::looks_like_slug(t, &headline));
    let slug = content_meta
        .and_then(|c| child_text(c, "slugline"))
        .or_else(|| role_slug("keyword"))
        .or_else(|| role_slug("altId"))
        .or(title);
    let priority = xml::priority(content_meta.and_then(|c| child_text(c, "urgency")).as_deref())
        .or_else(|| xml::priority(header.and_then(|h| child_text(h, "priority")).as_deref()));
    let category = content_meta
        .into_iter()
        .flat_map(|c| children(c, "subject"))
        .filter_map(|s| attr(s, "qcode"))
        .find_map(|q| q.strip_prefix("a1312cat:").map(str::to_owned));
    let take = slug.as_deref().and_then(reuters_take).or_else(|| reuters_take(&headline)).or_else(|| {
        attr(item, "version").filter(|v| v.len() <= 3 && v.chars().all(|c| c.is_ascii_digit())).map(str::to_owned)
    });
    let words = item
        .descendants()
        .filter(|d| d.is_element() && matches!(xml::name(*d), "inlineXML" | "inlineData"))
        .find_map(|d| xml::count(attr(d, "wordcount")));
    let genre = x.genre.or_else(|| {
        let g = content_meta.and_then(|c| child(c, "genre"))?;
        child_text(g, "name").or_else(|| attr(g, "literal").map(str::to_owned))
    });
    story.wire.genre = genre;
    story.wire.kicker = x.kicker;
    story.wire.source = source;
    story.wire.slug = slug;
    let priority = match (priority, sorted.priority) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    story.wire.priority = priority;
    story.wire.category = category;
    // A canceled item's kill mark (above) wins over its version.
    if story.wire.take.as_deref() != Some("KILL") {
        story.wire.take = take;
    }
    story.wire.words = words;

    story.headline = headline;
    story.paragraphs = paragraphs;
    story.authors = authors;
    story.notes = notes;
    Ok(story)
}

fn trim_punct(s: &str) -> &str {
    s.trim_matches(|c: char| !c.is_alphanumeric() && c != ')' && c != '(')
}

/// The one rendition whose text is published: the first `inlineXML` (the
/// agency's structured story), else the first `inlineData` that is not a
/// headline, notepad, public/non-public notes or abstract rendition. The
/// plain-text copies of the same story are never appended to it.
fn rendition<'a, 'i>(item: Node<'a, 'i>) -> Option<Node<'a, 'i>> {
    let parts: Vec<Node<'a, 'i>> = item
        .children()
        .filter(|c| c.is_element() && xml::name(*c) == "contentSet")
        .flat_map(|c| c.children().filter(|p| p.is_element()))
        .collect();
    let side = |p: &Node<'_, '_>| {
        let r = attr(*p, "rendition").unwrap_or("").to_lowercase();
        let r = r.rsplit(':').next().unwrap_or(&r).to_owned();
        ["headline", "public", "nonpublic", "notepad", "note", "abstract", "teaser", "caption", "title"]
            .iter()
            .any(|w| r == *w || r.ends_with(w) && r != "text")
    };
    let usable = |p: &Node<'_, '_>| !xml::text(*p).is_empty();
    parts
        .iter()
        .find(|p| xml::name(**p) == "inlineXML" && usable(p))
        .or_else(|| parts.iter().find(|p| xml::name(**p) == "inlineData" && !side(p) && usable(p)))
        .or_else(|| parts.iter().find(|p| xml::name(**p) == "inlineData" && usable(p)))
        .copied()
}

/// An `inlineXML`: XHTML read as structure ([`xhtml`]); NITF's
/// `body.content` or other markup as paragraphs (the `Err` side).
fn inline_xml(node: Node<'_, '_>, places: &[String]) -> Result<xhtml::Xhtml, Blocks> {
    let Some(top) = node.children().find(|c| c.is_element()) else {
        return Err(Blocks::default());
    };
    if xml::name(top) == "nitf" {
        let mut blocks = Blocks::default();
        for content in child(top, "body").into_iter().flat_map(|b| children(b, "body.content")) {
            let read = Blocks::read(content);
            blocks.paragraphs.extend(read.paragraphs);
            blocks.notes.extend(read.notes);
        }
        return Err(blocks);
    }
    match xml::descendant(node, "body") {
        Some(body) => Ok(xhtml::Xhtml::read(body, places)),
        None => Ok(xhtml::Xhtml::read(node, places)),
    }
}

/// Advisories found among the paragraphs and header lines.
#[derive(Default)]
struct Sorted {
    notes: Vec<String>,
    embargoes: Vec<String>,
    correction: Option<String>,
    priority: Option<u8>,
}

impl Sorted {
    /// Classifies one paragraph (`top`: before any text, where agencies put
    /// advisories) and keeps what it is; returns its kind.
    fn classify(&mut self, p: &str, top: bool) -> wiretext::Kind {
        let k = match if top { wiretext::advisory(p) } else { wiretext::kind(p) } {
            // Markup says what a paragraph is: a short one (`<h3>More</h3>`)
            // is a subhead, not a sign-off; a separator (`* * * *`) is none.
            wiretext::Kind::Furniture if !wiretext::is_separator(p) => wiretext::Kind::Text,
            k => k,
        };
        match &k {
            wiretext::Kind::Text | wiretext::Kind::Furniture => {}
            wiretext::Kind::Embargo => {
                self.embargoes.push(p.to_owned());
                self.notes.push(p.to_owned());
            }
            wiretext::Kind::Correction(c) if self.correction.is_none() => self.correction = Some(c.clone()),
            wiretext::Kind::Priority(n) => {
                self.priority = Some(self.priority.map_or(*n, |q| q.min(*n)));
                self.notes.push(p.to_owned());
            }
            _ => self.notes.push(p.to_owned()),
        }
        k
    }

    /// A header line or headline mark: an advisory whatever it reads as.
    fn advisory(&mut self, line: String, top: bool) {
        if self.classify(&line, top) == wiretext::Kind::Text {
            self.notes.push(line);
        }
    }
}

/// Paragraphs of an `inlineData`: plain text (blank-line paragraphs, or
/// Reuters' indented wire layout, or one per line), or escaped HTML.
fn inline_data(node: Node<'_, '_>) -> Blocks {
    let raw = xml::raw_text(node);
    let html = attr(node, "contenttype").is_some_and(|t| t.to_lowercase().contains("html"));
    if html {
        let wrapped = format!("<div>{raw}</div>");
        let opts = ParsingOptions { allow_dtd: false, nodes_limit: 100_000, ..ParsingOptions::default() };
        if let Ok(doc) = Document::parse_with_options(&wrapped, opts) {
            return Blocks::read(doc.root_element());
        }
    }
    Blocks { paragraphs: text_paragraphs(&raw), ..Blocks::default() }
}

/// Plain text to paragraphs, laid out like a plain-text body. Markup in it
/// (HTML that is not well-formed XML, sent escaped) is read as meant: block
/// tags break paragraphs, other tags and entities are read as their text.
fn text_paragraphs(raw: &str) -> Vec<String> {
    if !raw.contains('<') && !raw.contains('&') {
        return xml::layout_text(raw);
    }
    let unescaped = xml::without_escaped_tags(&xml::html_unescape(raw));
    unescaped.split(xml::PARAGRAPH_BREAK).flat_map(xml::layout_text).collect()
}

/// A Reuters version marker: `(UPDATE 1)`, `UPDATE 2-`, `REFILE-`, `CORRECTED-`,
/// `WRAPUP 1-`, `RPT-`.
fn reuters_take(s: &str) -> Option<String> {
    let upper = s.to_uppercase();
    for key in ["UPDATE", "WRAPUP", "REFILE", "CORRECTED", "RPT"] {
        let Some(at) = upper.find(key) else { continue };
        // As a word of its own.
        let before_ok = upper[..at].chars().last().is_none_or(|c| !c.is_alphanumeric());
        let rest = &upper[at + key.len()..];
        let number: String = rest.trim_start().chars().take_while(char::is_ascii_digit).collect();
        let after = if number.is_empty() { rest } else { rest.trim_start()[number.len()..].trim_start() };
        let after_ok = after.is_empty() || after.starts_with(['-', ')', '/', ' ']);
        if before_ok && after_ok {
            return Some(if number.is_empty() { key.to_owned() } else { format!("{key} {number}") });
        }
    }
    None
}
