//! Blocks to a story: headline, byline, time lines, section block, paragraphs.

use crate::domain::{Related, TimeSource};

use super::blocks::Block;
use super::time::{time_line, StoryTime};
use super::{ParseError, ParseOptions, Story, MAX_HEADLINE_CHARS};

/// Builds the story from its blocks.
pub fn build(text: String, blocks: &[Block<'_>], options: &ParseOptions) -> Result<Story, ParseError> {
    let (head, rest) = blocks.split_first().ok_or(ParseError::Empty)?;
    let headline = head.joined();
    let chars = headline.chars().count();
    if chars > MAX_HEADLINE_CHARS {
        return Err(ParseError::HeadlineTooLong { line: head.line, chars, limit: MAX_HEADLINE_CHARS });
    }
    let mut paragraphs = Vec::new();
    let mut published = None;
    let mut updated = None;
    let mut section = None;
    let mut related = Vec::new();
    let mut i = 0;
    while i < rest.len() {
        let block = &rest[i];
        let joined = block.joined();
        if let Some(found) = time_line(&joined, options.source_tz) {
            if found.is_update {
                updated = Some(found.time);
            } else {
                published = Some(found.time);
            }
        } else if let Some(name) = joined.strip_prefix("More from ") {
            section = Some(name.trim().to_owned());
            let teasers = &rest[i + 1..];
            for pair in teasers.chunks(2) {
                related.push(Related {
                    headline: pair[0].joined(),
                    teaser: pair.get(1).map(Block::joined).unwrap_or_default(),
                });
            }
            break;
        } else {
            paragraphs.push(joined);
        }
        i += 1;
    }
    if paragraphs.is_empty() {
        return Err(ParseError::NoBody { line: head.line });
    }
    let mut warnings = Vec::new();
    let (published, updated, time_source) = match (published, updated) {
        (Some(p), u) => (p, u, TimeSource::Parsed),
        (None, Some(u)) => (u, None, TimeSource::Parsed),
        (None, None) => {
            warnings.push("no time line found: the receive time is used".to_owned());
            (StoryTime::Instant(options.received.fixed_offset()), None, TimeSource::Received)
        }
    };
    Ok(Story {
        headline,
        paragraphs,
        authors: Vec::new(),
        dateline: None,
        published,
        updated,
        time_source,
        section,
        related,
        warnings,
        text,
    })
}
