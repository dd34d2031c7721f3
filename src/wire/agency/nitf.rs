//! NITF 3.x (`<nitf>`): one story per document.
//!
//! - headline: `body.head/hedline/hl1`; `head/title` (often a slug) only when
//!   there is no `hl1`;
//! - authors: the `byline`s' `<person>`s, else their text (`By NAME, Agency`)
//!   without the `<byttl>` title, agencies left out;
//! - dateline: `body.head/dateline` (`location`/`city` or text), else the
//!   first paragraph's;
//! - paragraphs: `body.content` (`p`, `hl2` subheads, `block`, lists, a table
//!   as one preformatted paragraph, `media` captions left out) and the
//!   `body.end` tagline; PA's closing `<p>ends</p>` is no paragraph;
//! - times: `date.issue@norm` (else `pubdata@date.publication`); embargo:
//!   `date.release@norm` when later than the issue;
//! - not for publication (to `notes`): `ed-msg@info`, `note`s other than
//!   `type="pa"`;
//! - wire: source `doc-id@regsrc` (else the delivering agency, the copyright
//!   holder, the distributor), slug `du-key@key` (else a slug-like title),
//!   priority `urgency@ed-urg`, category `meta name="category"`, take
//!   `du-key@version`, sequence a `meta` named `...Sequence` (or a numeric
//!   `doc-id@id-string`), words `pubdata@item-length` counted in words.

use roxmltree::Node;

use super::xml::{self, attr, child, child_text, children, descendant, line_of, text, Blocks, Ctx};
use crate::domain::TimeSource;
use crate::wire::{ParseError, Story, WireFormat, MAX_HEADLINE_CHARS};

/// Reads a `<nitf>` document.
pub fn read(root: Node<'_, '_>, ctx: Ctx<'_>) -> Result<Story, ParseError> {
    let bodies: Vec<Node<'_, '_>> = children(root, "body").collect();
    let [body] = bodies[..] else { return Err(ParseError::ItemCount(bodies.len())) };
    let head = child(root, "head");
    let docdata = head.and_then(|h| child(h, "docdata"));
    let body_head = child(body, "body.head");
    let tctx = ctx.time_ctx();
    let mut story = ctx.story(WireFormat::Nitf);

    // Headline.
    let hl1 = body_head.and_then(|b| child(b, "hedline")).and_then(|h| child(h, "hl1"));
    let hl1_text = hl1.map(text).filter(|t| !t.is_empty());
    let title = head.and_then(|h| child_text(h, "title"));
    let headline_node = hl1.or_else(|| head.and_then(|h| child(h, "title"))).unwrap_or(body);
    let Some(headline) = hl1_text.clone().or_else(|| title.clone()) else {
        let line = line_of(body);
        return Err(ParseError::NoHeadline { line, last_line: line });
    };
    let chars = headline.chars().count();
    if chars > MAX_HEADLINE_CHARS {
        return Err(ParseError::HeadlineTooLong { line: line_of(headline_node), chars, limit: MAX_HEADLINE_CHARS });
    }

    // The agency, by the first name it is given.
    let regsrc = docdata.and_then(|d| child(d, "doc-id")).and_then(|d| attr(d, "regsrc"));
    let from_src = docdata.and_then(|d| child(d, "del-list")).and_then(|l| {
        let sources: Vec<Node<'_, '_>> = children(l, "from-src").collect();
        sources.iter().find(|s| attr(**s, "level-number") == Some("1")).or(sources.first()).copied()
    });
    let from_src = from_src.and_then(|s| attr(s, "src-name"));
    let holder = docdata.and_then(|d| child(d, "doc.copyright")).and_then(|c| attr(c, "holder"));
    let distributor = body_head.and_then(|b| child_text(b, "distributor"));
    let mut agencies: Vec<String> = [regsrc, from_src, holder].into_iter().flatten().map(str::to_owned).collect();
    agencies.extend(distributor.clone());
    // Times written without a zone are in the agency's home zone.
    let tctx =
        crate::wire::time::Context { tz: agencies.iter().find_map(|a| super::home_zone(a)).unwrap_or(tctx.tz), ..tctx };

    // Paragraphs: body.content, then the tagline.
    let mut blocks = Blocks::default();
    for content in children(body, "body.content") {
        let read = Blocks::read(content);
        blocks.paragraphs.extend(read.paragraphs);
        blocks.notes.extend(read.notes);
    }
    if let Some(end) = child(body, "body.end") {
        for tagline in children(end, "tagline") {
            let t = text(tagline);
            if !t.is_empty() {
                blocks.paragraphs.push(t);
            }
        }
    }
    let mut paragraphs = blocks.paragraphs;
    xml::tidy(&mut paragraphs);
    // Advisories written into the body (`<p>EMBARGOED UNTIL ...</p>`, a
    // note to editors): never published.
    let advised = advisories_in_body(&mut paragraphs);
    blocks.notes.extend(advised.notes);
    if paragraphs.is_empty() {
        return Err(ParseError::NoBody { line: line_of(headline_node) });
    }

    // Authors.
    let mut authors: Vec<String> = Vec::new();
    for byline in body_head.into_iter().flat_map(|b| children(b, "byline")) {
        let persons: Vec<String> = byline
            .descendants()
            .filter(|d| d.is_element() && xml::name(*d) == "person")
            .map(text)
            .filter(|t| !t.is_empty())
            .collect();
        let names = if persons.is_empty() {
            xml::authors(&xml::text_without(byline, &|n| xml::name(n) == "byttl"), &agencies)
        } else {
            // Marked as persons: kept even when one word, written as the
            // plain-text reader writes names.
            persons.iter().map(|p| xml::authors(p, &[]).into_iter().next().unwrap_or_else(|| p.clone())).collect()
        };
        for n in names {
            if !authors.contains(&n) {
                authors.push(n);
            }
        }
    }

    // Dateline.
    let dateline_el = body_head.and_then(|b| child(b, "dateline"));
    let place = dateline_el.and_then(|d| match descendant(d, "location").or_else(|| descendant(d, "city")) {
        Some(location) => xml::place_of(&xml::text_without(location, &|n| xml::name(n) == "story.date")),
        None => xml::place_of(&xml::text_without(d, &|n| xml::name(n) == "story.date")),
    });
    story.dateline = match place {
        Some(place) => Some(xml::dateline_with(place, &paragraphs)),
        None => xml::first_dateline(&paragraphs),
    };

    // Times.
    let issue = docdata.and_then(|d| child(d, "date.issue")).and_then(|d| attr(d, "norm"));
    let publication = head.and_then(|h| child(h, "pubdata")).and_then(|p| attr(p, "date.publication"));
    let published =
        issue.and_then(|v| xml::parse_time(v, &tctx)).or_else(|| publication.and_then(|v| xml::parse_time(v, &tctx)));
    if let Some(published) = published {
        story.published = published;
        story.time_source = TimeSource::Parsed;
    }
    let release = docdata.and_then(|d| child(d, "date.release")).and_then(|d| attr(d, "norm"));
    let release_written = release.is_some();
    let release = release.and_then(|v| xml::parse_time(v, &tctx));
    if release_written && release.is_none() {
        story.embargo_unreadable = true;
        story.warnings.push(
            "the document's release time could not be read: the story is held until it is released by hand".to_owned(),
        );
    }
    let status = docdata.and_then(|d| attr(d, "management-status")).map(str::to_lowercase);
    if let Some(release) = release {
        if published.is_none_or(|p| xml::later(&release, &p)) || status.as_deref() == Some("embargoed") {
            story.embargo = xml::instant(release);
        }
    }
    match status.as_deref() {
        Some("embargoed") if story.embargo.is_none() => {
            story.embargo_unreadable = true;
            story.warnings.push(
                "the document is marked embargoed but gives no release time: the story is held until it is released by hand"
                    .to_owned(),
            )
        }
        // Withheld: not to be published now; held until a person releases it.
        Some("withheld") => {
            story.embargo_unreadable |= story.embargo.is_none();
            story.warnings.push(
                "the agency marked this document withheld: the story is held until it is released by hand".to_owned(),
            )
        }
        // Canceled: the agency withdrew the story; a kill of it.
        Some(s @ ("canceled" | "cancelled")) => {
            story.wire.take = Some("KILL".to_owned());
            story.warnings.push(format!("the agency marked this document {s}: it kills the story"))
        }
        _ => {}
    }

    // Notes to editors.
    let mut notes = Vec::new();
    for msg in docdata.into_iter().flat_map(|d| children(d, "ed-msg")) {
        xml::note(&mut notes, xml::norm(attr(msg, "info").unwrap_or("")));
    }
    for n in body_head.into_iter().flat_map(|b| children(b, "note")) {
        xml::note(&mut notes, text(n));
    }
    for n in blocks.notes {
        xml::note(&mut notes, n);
    }
    // An embargo stated only in a note to editors still holds the story.
    if story.embargo.is_none() {
        let reference = super::text::instant(&story.published);
        if let Some(line) = notes.iter().find(|n| super::text::is_embargo(n)) {
            match super::text::embargo_time(line, reference, &tctx) {
                Some(t) => {
                    story.embargo = Some(t);
                    story.embargo_unreadable = false;
                }
                None => {
                    story.embargo_unreadable = true;
                    story.warnings.push(format!(
                        "the embargo time in {line:?} could not be read: the story is held until it is released by hand"
                    ));
                }
            }
        }
    }
    story.correction = docdata
        .and_then(|d| child(d, "correction"))
        .and_then(|c| attr(c, "info"))
        .map(xml::norm)
        .filter(|c| !c.is_empty())
        .or(advised.correction);

    // The header.
    let meta = |wanted: &dyn Fn(&str) -> bool| {
        head.into_iter()
            .flat_map(|h| children(h, "meta"))
            .find(|m| attr(*m, "name").is_some_and(|n| wanted(&n.to_lowercase())))
            .and_then(|m| attr(m, "content"))
            .map(xml::norm)
            .filter(|v| !v.is_empty())
    };
    let du_key = docdata.and_then(|d| child(d, "du-key"));
    let id_string = docdata.and_then(|d| child(d, "doc-id")).and_then(|d| attr(d, "id-string"));
    let pubdata = head.and_then(|h| child(h, "pubdata"));
    let in_words = pubdata
        .and_then(|p| attr(p, "unit-of-measure"))
        .is_some_and(|u| u.eq_ignore_ascii_case("word") || u.eq_ignore_ascii_case("words"));
    let slug =
        du_key.and_then(|k| attr(k, "key")).map(xml::norm).or_else(|| meta(&|n| n.contains("slug"))).or_else(|| {
            title.clone().filter(|t| hl1_text.is_some() && xml::looks_like_slug(t, hl1_text.as_deref().unwrap_or("")))
        });
    let source = agencies
        .first()
        .cloned()
        .or_else(|| story.dateline.as_ref().and_then(|d| d.agency.clone()))
        .map(|s| xml::norm(&s));
    story.wire.source = source;
    story.wire.slug = slug.filter(|s| !s.is_empty());
    story.wire.priority = xml::priority(docdata.and_then(|d| child(d, "urgency")).and_then(|u| attr(u, "ed-urg")));
    story.wire.category = meta(&|n| n == "category" || n.ends_with("kategori"));
    story.wire.take = du_key.and_then(|k| attr(k, "version")).map(xml::norm);
    story.wire.sequence = meta(&|n| n.contains("sequence"))
        .filter(|s| s.chars().all(|c| c.is_ascii_digit()))
        .or_else(|| id_string.filter(|s| s.len() <= 6 && s.chars().all(|c| c.is_ascii_digit())).map(str::to_owned));
    story.wire.words = if in_words { xml::count(pubdata.and_then(|p| attr(p, "item-length"))) } else { None };

    story.headline = headline;
    story.paragraphs = paragraphs;
    story.authors = authors;
    story.notes = notes;
    Ok(story)
}

/// What [`advisories_in_body`] took out of the paragraphs.
#[derive(Default)]
struct Advised {
    notes: Vec<String>,
    correction: Option<String>,
}

/// Takes advisories out of the body: the first paragraph as the agencies'
/// advisory lines are read, the others as notes, embargoes and corrections;
/// everything after a "not for publication" line is notes. A kill mark is
/// left where it is (the headline names the kill).
fn advisories_in_body(paragraphs: &mut Vec<String>) -> Advised {
    use super::text::{advisory, kind, Kind};
    let mut advised = Advised::default();
    let mut notes_from = false;
    let mut kept = Vec::with_capacity(paragraphs.len());
    for (i, p) in std::mem::take(paragraphs).into_iter().enumerate() {
        let k = match (notes_from, i) {
            (true, _) => Kind::Note,
            (false, 0) => match advisory(&p) {
                Kind::Take(_) => Kind::Text,
                k => k,
            },
            (false, _) => kind(&p),
        };
        match k {
            Kind::Text | Kind::Furniture | Kind::Take(_) => kept.push(p),
            Kind::NotesFrom => {
                notes_from = true;
                advised.notes.push(p);
            }
            Kind::Correction(c) if advised.correction.is_none() => advised.correction = Some(c),
            _ => advised.notes.push(p),
        }
    }
    *paragraphs = kept;
    advised
}
