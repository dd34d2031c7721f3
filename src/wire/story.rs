//! Lines to a story: the second stage of the parser.
//!
//! The headline is the first block (hard-wrapped lines joined). Then every
//! line is looked at once: time lines, the byline and bare dates under the
//! headline, furniture and headings are taken out; what is left is body,
//! cut into paragraphs by [`layout`](super::layout). After a section or
//! related heading, the rest of the text is the related list.

use crate::domain::{Related, TimeSource};

use super::agency::text::{advisory, embargo_time, Kind};
use super::byline::{byline, is_agency_line};
use super::dateline::dateline;
use super::decode::Decoded;
use super::furniture::{heading, is_furniture, is_separator, Heading};
use super::layout::{self, is_table, join, Line, MAX_WRAP};
use super::text::{unbullet, BULLETS};
use super::time::{bare_time, time_line, Context, Found, Role, StoryTime, TimeLine};
use super::{ParseError, ParseOptions, Story, MAX_HEADLINE_CHARS};

/// Builds the story from decoded text.
pub fn build(decoded: Decoded, options: &ParseOptions) -> Result<Story, ParseError> {
    let Decoded { text, encoding, removed, removed_line } = decoded;
    let lines: Vec<Line<'_>> = text.split('\n').enumerate().map(|(n, l)| Line::new(n + 1, l)).collect();
    let ctx = Context { tz: options.source_tz, received: options.received };
    let mut body = Body::default();
    let mut advisories = Vec::new();
    let head = head(&lines, &ctx, &mut body.times, &mut advisories)?;
    let head_line = head.line;

    let mut warnings = Vec::new();
    if encoding == super::decode::MIXED {
        warnings.push("the text is UTF-8 with some bytes that are not; those were read as windows-1252".to_owned());
    }
    if removed > 0 {
        warnings.push(format!("removed {removed} invisible or control character(s) that feeds cannot carry (first on line {removed_line})"));
    }
    if head.unbroken {
        warnings
            .push(format!("no blank line after the headline on line {head_line}: the headline is taken to end there"));
    }

    let rest = &lines[head.end..];
    let mut i = 0;
    let mut segment_start = None;
    while i < rest.len() {
        let line = &rest[i];
        let keep = !line.is_blank() && !body.take(rest, i, &ctx, &mut warnings);
        if keep {
            body.started = true;
            segment_start.get_or_insert(i);
        } else if let Some(start) = segment_start.take() {
            layout::paragraphs(&rest[start..i], &mut body.paragraphs);
        }
        if body.related_from.is_some() {
            break;
        }
        i += 1;
    }
    if let Some(start) = segment_start {
        layout::paragraphs(&rest[start..i.min(rest.len())], &mut body.paragraphs);
    }
    if let Some(from) = body.related_from {
        let mut below = Vec::new();
        body.related.extend(related_list(&rest[from..], &ctx, &mut below, &mut warnings));
        // Times among the related stories are theirs; the story's own only
        // when it gave none above.
        if body.times.is_empty() && !below.is_empty() {
            warnings.push("the only time line is below the related stories; it is taken as the story's".to_owned());
            body.times = below;
        }
    }
    if body.paragraphs.is_empty() {
        return Err(ParseError::NoBody { line: head_line });
    }

    // An embargo line at the top of the body (`EMBARGOED until ...`).
    while body.paragraphs.len() > 1 && advisory(&body.paragraphs[0]) == Kind::Embargo {
        advisories.push(body.paragraphs.remove(0));
    }

    let (published, updated, time_source) = resolve_times(body.times, options, &mut warnings);
    let dateline = body.paragraphs.first().and_then(|p| dateline(p));
    let mut story = Story {
        headline: head.headline,
        paragraphs: body.paragraphs,
        authors: body.authors,
        dateline,
        published,
        updated,
        time_source,
        section: body.section,
        related: body.related,
        warnings,
        encoding: encoding.to_owned(),
        wire: super::Wire::default(),
        notes: Vec::new(),
        correction: None,
        embargo: None,
        embargo_unreadable: false,
        text,
    };
    sort_advisories(&mut story, advisories, &ctx);
    Ok(story)
}

/// Advisory lines found above the headline or at the top of the body: an
/// embargo holds the story (its time read against the story's own), a
/// correction is the correction, an urgency mark the priority, a kill or
/// repeat mark the take; every line is kept as a note, never published.
fn sort_advisories(story: &mut Story, lines: Vec<String>, ctx: &Context) {
    let reference = match &story.published {
        StoryTime::Instant(t) => t.with_timezone(&chrono::Utc),
        StoryTime::Date(d) => d.and_time(chrono::NaiveTime::MIN).and_utc(),
    };
    for line in lines {
        match advisory(&line) {
            Kind::Embargo if story.embargo.is_none() => match embargo_time(&line, reference, ctx) {
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
            },
            Kind::Correction(c) if story.correction.is_none() => story.correction = Some(c),
            Kind::Priority(p) => story.wire.priority = Some(story.wire.priority.map_or(p, |q| q.min(p))),
            Kind::Take(t) if story.wire.take.is_none() => story.wire.take = Some(t),
            _ => {}
        }
        story.notes.push(line);
    }
}

/// Whether a line above the headline is an advisory to skip (and keep):
/// an embargo, a correction, an urgency mark, a photo note. Desk lines are
/// not looked for here: in plain text they could be a headline (`Attention
/// shoppers: ...`); nor kill marks: a plain-text kill advisory is `KILL:
/// <headline>` as its headline, which `advisory::kill` reads.
fn is_advisory_line(content: &str) -> bool {
    let t = content.trim();
    if t.chars().count() > 200 {
        return false;
    }
    match advisory(t) {
        Kind::Embargo | Kind::Correction(_) | Kind::Priority(_) => true,
        Kind::Note => (t.starts_with('(') && t.ends_with(')')) || (t.starts_with('[') && t.ends_with(']')),
        _ => false,
    }
}

/// The headline and where it ends.
struct Head {
    headline: String,
    /// 1-based line number it starts on.
    line: usize,
    /// Index of the first line after it.
    end: usize,
    /// The body follows it without a blank line.
    unbroken: bool,
}

/// Finds the headline: the first block, after any time lines above it.
fn head(
    lines: &[Line<'_>],
    ctx: &Context,
    times: &mut Vec<Found>,
    advisories: &mut Vec<String>,
) -> Result<Head, ParseError> {
    let mut first = lines.iter().position(|l| !l.is_blank()).ok_or(ParseError::Empty)?;
    // A time line above the headline (`Published: ...` first) is read and
    // skipped; so is an advisory line (`EMBARGOED until ...`), kept aside.
    loop {
        match time_line(lines[first].content, ctx) {
            TimeLine::Times(found) => times.extend(found),
            _ if is_advisory_line(lines[first].content) => advisories.push(lines[first].content.trim().to_owned()),
            _ => break,
        }
        first = match lines[first + 1..].iter().position(|l| !l.is_blank()) {
            Some(n) => first + 1 + n,
            None => return Err(ParseError::NoBody { line: lines[first].no }),
        };
    }
    let block_end = lines[first..].iter().position(Line::is_blank).map_or(lines.len(), |n| first + n);
    let (len, unbroken) = headline_len(&lines[first..block_end], ctx);
    let end = first + len;
    let headline = join(lines[first..end].iter().map(|l| l.content));
    let line = lines[first].no;
    let chars = headline.chars().count();
    if chars > MAX_HEADLINE_CHARS && lines[end..].iter().all(Line::is_blank) {
        return Err(ParseError::NoHeadline { line, last_line: lines[end - 1].no });
    }
    if chars > MAX_HEADLINE_CHARS {
        return Err(ParseError::HeadlineTooLong { line, chars, limit: MAX_HEADLINE_CHARS });
    }
    Ok(Head { headline, line, end, unbroken })
}

/// How many lines of the first block are the headline, and whether the body
/// follows it without a blank line. A hard-wrapped headline is all of the
/// block; a byline or time line ends it; a line that is indented deeper,
/// tabular, or too long to be a wrapped headline line starts the body.
fn headline_len(block: &[Line<'_>], ctx: &Context) -> (usize, bool) {
    let first = &block[0];
    for (n, line) in block.iter().enumerate().skip(1) {
        let meta = byline(line.content).is_some_and(|a| !a.is_empty())
            || matches!(time_line(line.content, ctx), TimeLine::Times(_));
        if meta {
            return (n, false);
        }
        if line.indent > first.indent || is_table(line) || line.width > MAX_WRAP {
            return (n, true);
        }
    }
    (block.len(), false)
}

#[derive(Default)]
struct Body {
    started: bool,
    /// The last header line was a byline (an agency line may follow).
    after_byline: bool,
    paragraphs: Vec<String>,
    authors: Vec<String>,
    times: Vec<Found>,
    section: Option<String>,
    related: Vec<Related>,
    /// Index of the first line of the related list.
    related_from: Option<usize>,
}

impl Body {
    /// Takes the line at `i` when it is not body text; says whether it did.
    fn take(&mut self, lines: &[Line<'_>], i: usize, ctx: &Context, warnings: &mut Vec<String>) -> bool {
        let line = &lines[i];
        let content = line.content;
        match time_line(content, ctx) {
            TimeLine::Times(found) => {
                self.times.extend(found);
                return true;
            }
            // `Updated: 2 hours ago` is a time line too, just not one we can
            // place: out of the body, and said so. A long line is a sentence.
            TimeLine::Unreadable if content.chars().count() <= 60 => {
                warnings
                    .push(format!("line {}: could not read the time in {content:?}; the line is left out", line.no));
                return true;
            }
            TimeLine::Unreadable => {
                warnings.push(format!("line {}: could not read the time in {content:?}; kept as text", line.no));
                return false;
            }
            TimeLine::NotTime => {}
        }
        if !self.started && self.header_line(content, ctx) {
            return true;
        }
        let alone = (i == 0 || lines[i - 1].is_blank()) && lines.get(i + 1).is_none_or(Line::is_blank);
        if is_furniture(content) || (alone && is_separator(content)) {
            return true;
        }
        if self.started {
            match heading(content) {
                Some(Heading::Section(name)) if starts_block(lines, i) => {
                    self.section = Some(name);
                    self.related_from = Some(i + 1);
                    return true;
                }
                Some(Heading::Related) if starts_block(lines, i) => {
                    self.related_from = Some(i + 1);
                    return true;
                }
                Some(Heading::Inline(item)) => {
                    self.related.push(Related { headline: item, teaser: String::new() });
                    return true;
                }
                _ => {}
            }
        }
        false
    }
}

impl Body {
    /// Lines only found under the headline: a byline, perhaps with a time
    /// (`By Jane Doe | July 26, 2016`, `Posted on July 26, 2016 by Jane Doe`),
    /// the agency line under a byline, a bare date.
    fn header_line(&mut self, content: &str, ctx: &Context) -> bool {
        if let Some(authors) = byline(content) {
            self.authors.extend(authors);
            self.after_byline = true;
            return true;
        }
        if self.after_byline && is_agency_line(content) {
            return true;
        }
        if let Some((time, w)) = bare_time(content, ctx) {
            self.times.push(Found { role: Role::Published, time, warnings: w });
            return true;
        }
        // A byline and a time on one line, split at `|`, at a comma, or at ` by `.
        if content.len() > 160 {
            return false;
        }
        for (at, _) in content.match_indices([',', '|']).chain(content.match_indices(" by ")) {
            let (left, right) = content.split_at(at);
            let right = right.trim_start_matches([',', '|']).trim();
            let pair = match (byline(left.trim()), byline(right)) {
                (Some(authors), _) => bare_time(right, ctx).map(|t| (authors, Role::Published, t)),
                (None, Some(authors)) => match time_line(left, ctx) {
                    TimeLine::Times(mut found) if found.len() == 1 => {
                        found.pop().map(|f| (authors, f.role, (f.time, f.warnings)))
                    }
                    _ => bare_time(left, ctx).map(|t| (authors, Role::Published, t)),
                },
                (None, None) => None,
            };
            if let Some((authors, role, (time, warnings))) = pair {
                self.authors.extend(authors);
                self.times.push(Found { role, time, warnings });
                return true;
            }
        }
        false
    }
}

/// Whether the line at `i` stands as a line of its own: first in its block
/// and not wrapped onto the next line.
fn starts_block(lines: &[Line<'_>], i: usize) -> bool {
    let first = i == 0 || lines[i - 1].is_blank();
    let next = lines.get(i + 1).filter(|l| !l.is_blank());
    first && next.is_none_or(|n| lines[i].width + 1 + n.first_word_width() <= n.width.max(MAX_WRAP / 2))
}

/// The related list: headline blocks, each optionally followed by a teaser block.
fn related_list(lines: &[Line<'_>], ctx: &Context, times: &mut Vec<Found>, warnings: &mut Vec<String>) -> Vec<Related> {
    let mut items: Vec<Related> = Vec::new();
    let mut block: Vec<&str> = Vec::new();
    let flush = |block: &mut Vec<&str>, items: &mut Vec<Related>| {
        if block.is_empty() {
            return;
        }
        let text = join(block.iter().copied());
        let waiting = items.last().is_some_and(|r| r.teaser.is_empty());
        if waiting && is_teaser(&text) {
            if let Some(last) = items.last_mut() {
                last.teaser = text;
            }
        } else if block.len() >= 2 && !is_teaser(block[0]) && is_teaser(&join(block[1..].iter().copied())) {
            items.push(Related { headline: unbullet(block[0]), teaser: join(block[1..].iter().copied()) });
        } else if block.len() >= 2
            && block.iter().all(|l| !is_teaser(l))
            && block.iter().any(|l| l.starts_with(BULLETS))
        {
            items.extend(block.iter().map(|l| Related { headline: unbullet(l), teaser: String::new() }));
        } else {
            items.push(Related { headline: unbullet(&text), teaser: String::new() });
        }
        block.clear();
    };
    for line in lines {
        let content = line.content;
        if line.is_blank() {
            flush(&mut block, &mut items);
            continue;
        }
        if let TimeLine::Times(found) = time_line(content, ctx) {
            times.extend(found);
            continue;
        }
        if is_furniture(content) || matches!(heading(content), Some(Heading::Section(_) | Heading::Related)) {
            flush(&mut block, &mut items);
            continue;
        }
        block.push(content);
    }
    flush(&mut block, &mut items);
    if items.iter().any(|r| r.headline.is_empty()) {
        warnings.push("a related story without a headline was dropped".to_owned());
        items.retain(|r| !r.headline.is_empty());
    }
    items
}

/// A teaser: cut off (`...`), a sentence, or longer than a headline.
fn is_teaser(text: &str) -> bool {
    text.ends_with("...") || text.ends_with('…') || text.ends_with('.') || text.chars().count() > 150
}

/// Picks the publication and update times; the receive time when there is none.
fn resolve_times(
    times: Vec<Found>,
    options: &ParseOptions,
    warnings: &mut Vec<String>,
) -> (StoryTime, Option<StoryTime>, TimeSource) {
    let mut published = None;
    let mut updated = None;
    for found in times {
        warnings.extend(found.warnings);
        let slot = if found.role == Role::Published { &mut published } else { &mut updated };
        match slot {
            None => *slot = Some(found.time),
            Some(first) if *first != found.time => {
                warnings.push(format!("more than one {} time; the first is used", role_name(found.role)));
            }
            Some(_) => {}
        }
    }
    match (published, updated) {
        (Some(p), u) => {
            if let Some(u) = u {
                if instant_key(&u) < instant_key(&p) {
                    warnings.push("the update time is before the publication time".to_owned());
                }
            }
            (p, u, TimeSource::Parsed)
        }
        (None, Some(u)) => (u, None, TimeSource::Parsed),
        (None, None) => {
            warnings.push("no time in the text: the receive time is used".to_owned());
            (StoryTime::Instant(options.received.fixed_offset()), None, TimeSource::Received)
        }
    }
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::Published => "publication",
        Role::Updated => "update",
    }
}

/// A comparable key: a date counts as its start in UTC.
fn instant_key(t: &StoryTime) -> chrono::NaiveDateTime {
    match t {
        StoryTime::Instant(t) => t.naive_utc(),
        StoryTime::Date(d) => d.and_hms_opt(0, 0, 0).unwrap_or_default(),
    }
}
