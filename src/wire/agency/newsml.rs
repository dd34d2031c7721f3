//! NewsML-G2 news items: a bare `newsItem`, or `newsMessage/itemSet/newsItem`
//! (exactly one), in the default namespace or a prefixed one.
//!
//! - headline: `contentMeta/headline`, not a `role` subheadline;
//! - authors: `contentMeta/by` (`A, B`, `A and B`, `By ` dropped), else a
//!   `creator` that names a person; a first `By NAME` paragraph (Reuters) is
//!   the byline, not a paragraph;
//! - dateline: `contentMeta/dateline`, else the first paragraph's, else a
//!   `located` city;
//! - paragraphs: `contentSet/inlineXML` (XHTML `body`: `p`, `h1`-`h6`
//!   subheads, lists, tables; or NITF) or `inlineData` (text); Reuters' whole
//!   story in one `p` in wire layout is split at its indented lines. The
//!   `description` (abstract) is no paragraph;
//! - times: `firstCreated` (published), `versionCreated` (updated, when
//!   later); zone-less times are in `source_tz`; embargo: `embargoed`;
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
    let tctx = ctx.time_ctx();
    let mut story = ctx.story(WireFormat::NewsmlG2);

    // Headline: the first one that is not a subheadline.
    let headlines: Vec<Node<'_, '_>> = content_meta.into_iter().flat_map(|c| children(c, "headline")).collect();
    let main = headlines
        .iter()
        .find(|h| !attr(**h, "role").is_some_and(|r| r.to_lowercase().contains("sub")) && !text(**h).is_empty())
        .or_else(|| headlines.iter().find(|h| !text(**h).is_empty()))
        .copied();
    // Without one, the item's title (`itemMeta/title`).
    let main = main.or_else(|| item_meta.and_then(|m| child(m, "title")).filter(|t| !text(*t).is_empty()));
    let Some(headline_node) = main else {
        let line = line_of(item);
        return Err(ParseError::NoHeadline { line, last_line: line });
    };
    let headline = text(headline_node);
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
    let source = match (provider, &creditline) {
        // `reuters.com`: the creditline (`Reuters`) names it as readers know it.
        (Some(p), Some(c)) if p.contains('.') && p.to_lowercase().starts_with(&c.to_lowercase()) => Some(c.clone()),
        (Some(p), _) => Some(p),
        (None, c) => c.clone().or_else(|| header.and_then(|h| child_text(h, "sender"))),
    };
    let holder = item
        .descendants()
        .find(|d| d.is_element() && xml::name(*d) == "copyrightHolder")
        .and_then(|h| attr(h, "literal").map(str::to_owned).or_else(|| child_text(h, "name")));
    let agencies: Vec<String> = [source.clone(), creditline.clone(), holder].into_iter().flatten().collect();

    // Paragraphs.
    let mut blocks = Blocks::default();
    for content in item.children().filter(|c| c.is_element() && xml::name(*c) == "contentSet") {
        for part in content.children().filter(|c| c.is_element()) {
            let read = match xml::name(part) {
                "inlineXML" => inline_xml(part),
                "inlineData" => inline_data(part),
                _ => continue,
            };
            blocks.notes.extend(read.notes);
            if blocks.paragraphs.is_empty() {
                blocks.paragraphs = read.paragraphs;
            }
        }
    }
    let mut paragraphs = blocks.paragraphs;
    let byline_paragraph = xml::take_byline_paragraph(&mut paragraphs, &agencies);
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
    let stated = content_meta.and_then(|c| child_text(c, "dateline")).and_then(|d| xml::place_of(&d));
    story.dateline = match stated {
        Some(place) => Some(xml::dateline_with(place, &paragraphs)),
        None => xml::first_dateline(&paragraphs).or_else(|| {
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
    story.embargo = meta_time(item_meta, "embargoed").and_then(xml::instant);
    let status = item_meta.and_then(|m| child(m, "pubStatus")).and_then(|s| attr(s, "qcode")).map(str::to_lowercase);
    match status.as_deref().map(|s| s.rsplit(':').next().unwrap_or(s)) {
        Some("embargoed") if story.embargo.is_none() => {
            story.warnings.push("the item is marked embargoed but gives no release time".to_owned())
        }
        Some(s @ ("canceled" | "cancelled" | "withheld")) => {
            story.warnings.push(format!("the agency marked this item {s}"))
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
    for n in blocks.notes {
        xml::note(&mut notes, n);
    }
    story.correction = (!corrections.is_empty()).then(|| corrections.join(" "));

    // The header.
    let slug = content_meta.and_then(|c| child_text(c, "slugline"));
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
    story.wire.source = source;
    story.wire.slug = slug;
    story.wire.priority = priority;
    story.wire.category = category;
    story.wire.take = take;
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

/// Paragraphs of an `inlineXML`: XHTML's `body`, NITF's `body.content`, or
/// whatever markup it holds.
fn inline_xml(node: Node<'_, '_>) -> Blocks {
    let Some(top) = node.children().find(|c| c.is_element()) else {
        return Blocks::default();
    };
    if xml::name(top) == "nitf" {
        let mut blocks = Blocks::default();
        for content in child(top, "body").into_iter().flat_map(|b| children(b, "body.content")) {
            let read = Blocks::read(content);
            blocks.paragraphs.extend(read.paragraphs);
            blocks.notes.extend(read.notes);
        }
        return blocks;
    }
    match xml::descendant(node, "body") {
        Some(body) => Blocks::read(body),
        None => Blocks::read(node),
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

/// Plain text to paragraphs, laid out like a plain-text body.
fn text_paragraphs(raw: &str) -> Vec<String> {
    xml::layout_text(raw)
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
