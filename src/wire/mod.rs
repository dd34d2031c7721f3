//! The story parser: wire-story bytes in, a [`Story`] or a [`ParseError`] out.
//!
//! Pure: no I/O and no clock (the receive time comes in [`ParseOptions`]).
//! Parsing runs in stages: [`decode`] turns bytes of any usual encoding into
//! clean UTF-8 text; [`blocks`] splits it into blank-line separated blocks
//! with their line numbers; [`story`] recognises headline, byline, dateline,
//! time lines, the section block and site furniture, and keeps every other
//! block as a paragraph.

mod blocks;
mod decode;
mod story;
mod time;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use crate::domain::{Dateline, Related};

pub use time::StoryTime;

/// Longest headline, in characters.
pub const MAX_HEADLINE_CHARS: usize = 300;

/// What the parser needs besides the text.
#[derive(Debug, Clone)]
pub struct ParseOptions {
    /// Zone of times written without one (`WIREFEED_SOURCE_TZ`).
    pub source_tz: chrono_tz::Tz,
    /// When the story was received: its time when the text gives none.
    pub received: DateTime<Utc>,
    /// Largest text accepted, in bytes (`WIREFEED_MAX_BODY`).
    pub max_bytes: usize,
}

/// A parsed story: what the text says, nothing invented.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Story {
    pub headline: String,
    /// Body paragraphs, in order, hard wraps joined.
    pub paragraphs: Vec<String>,
    /// Authors from a `By ...` line.
    pub authors: Vec<String>,
    pub dateline: Option<Dateline>,
    /// Publication time; the receive time when the text gives none.
    pub published: StoryTime,
    /// Update time, when the text gives one besides the publication time.
    pub updated: Option<StoryTime>,
    /// Whether the times came from the text or from the receive time.
    pub time_source: crate::domain::TimeSource,
    /// Section display name as the text gives it (`More from World`).
    pub section: Option<String>,
    /// Related stories listed after the section line.
    pub related: Vec<Related>,
    /// Things a human may want to check (e.g. a weekday that does not match its date).
    pub warnings: Vec<String>,
    /// The decoded, normalised text: identical text means the identical story.
    #[serde(skip)]
    pub text: String,
}

/// Why a text is not a story. Every variant names what to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// Nothing but whitespace.
    #[error("the text is empty")]
    Empty,
    /// The bytes are not text (NUL bytes, undecodable sequences).
    #[error("the body is binary data, not text (line {line})")]
    Binary { line: usize },
    /// Bigger than the configured limit.
    #[error("the text is {bytes} bytes; the limit is {limit}")]
    TooLarge { bytes: usize, limit: usize },
    /// The headline block is too long to be a headline.
    #[error("the headline (line {line}) is {chars} characters; the limit is {limit}")]
    HeadlineTooLong { line: usize, chars: usize, limit: usize },
    /// A headline, but no paragraph after it.
    #[error("the headline on line {line} is followed by no story paragraph")]
    NoBody { line: usize },
}

impl ParseError {
    /// A short machine-readable kind for JSON errors.
    pub fn kind(&self) -> &'static str {
        match self {
            ParseError::Empty => "empty",
            ParseError::Binary { .. } => "binary",
            ParseError::TooLarge { .. } => "too_large",
            ParseError::HeadlineTooLong { .. } => "headline_too_long",
            ParseError::NoBody { .. } => "no_body",
        }
    }
}

/// Parses one story.
pub fn parse(bytes: &[u8], options: &ParseOptions) -> Result<Story, ParseError> {
    if bytes.len() > options.max_bytes {
        return Err(ParseError::TooLarge { bytes: bytes.len(), limit: options.max_bytes });
    }
    let text = decode::decode(bytes)?;
    let blocks = blocks::split(&text);
    story::build(text.clone(), &blocks, options)
}

/// The calendar date of a story time, for ids.
pub fn date_of(time: &StoryTime) -> NaiveDate {
    match time {
        StoryTime::Instant(t) => t.date_naive(),
        StoryTime::Date(d) => *d,
    }
}
