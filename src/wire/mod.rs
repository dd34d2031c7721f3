//! The story parser: wire-story bytes in, a [`Story`] or a [`ParseError`] out.
//!
//! Pure: no I/O and no clock (the receive time comes in [`ParseOptions`]).
//! Linear in the size of the text; never panics. Parsing runs in stages:
//! - `decode`: bytes of any usual encoding to clean UTF-8 text (line ends,
//!   odd spaces, characters XML 1.0 forbids);
//! - `story`: the headline, then each line once: time lines (`time`), the
//!   byline (`byline`), furniture and the section heading (`furniture`);
//! - `layout`: the remaining lines to paragraphs (hard wraps, wire indents,
//!   tables); `dateline` reads the first paragraph's dateline.
//!
//! `docs/parser.md` lists the formats read and the decisions taken.

pub mod advisory;
pub mod agency;
mod byline;
mod dateline;
mod decode;
mod furniture;
mod layout;
mod story;
mod text;
pub(crate) mod time;

use chrono::{DateTime, FixedOffset, Utc};
use serde::Serialize;

use crate::domain::{Dateline, Related};
pub use crate::domain::{Wire, WireFormat};

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

#[cfg(test)]
impl ParseOptions {
    /// What the parser's unit tests read with: UTC, received 2026-01-01, 1 MiB.
    pub(crate) fn for_tests() -> ParseOptions {
        use chrono::TimeZone;
        ParseOptions {
            source_tz: chrono_tz::UTC,
            received: Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
            max_bytes: 1 << 20,
        }
    }
}

/// A parsed story: what the text says, nothing invented.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Story {
    pub headline: String,
    /// Body paragraphs, in order, hard wraps joined. A fixed-width table is
    /// one paragraph whose rows are separated by `\n`, alignment kept: show
    /// it preformatted.
    pub paragraphs: Vec<String>,
    /// Authors from a `By ...` line (agencies and roles left out).
    pub authors: Vec<String>,
    /// `GENEVA (Reuters) -` at the start of the first paragraph, which keeps it.
    pub dateline: Option<Dateline>,
    /// Publication time; the receive time when the text gives none.
    pub published: StoryTime,
    /// Update time, when the text gives one besides the publication time.
    pub updated: Option<StoryTime>,
    /// Whether the times came from the text or from the receive time.
    pub time_source: crate::domain::TimeSource,
    /// Section display name as the text gives it (`More from World`).
    pub section: Option<String>,
    /// Related stories listed after the section line (and `Related: ...` lines).
    pub related: Vec<Related>,
    /// Things a human may want to check (e.g. a weekday that does not match its date).
    pub warnings: Vec<String>,
    /// The encoding the bytes were read as (`UTF-8`, `UTF-16LE`, `windows-1252`, ...).
    pub encoding: String,
    /// The transmission's header: format, source, slug, priority, take...
    pub wire: Wire,
    /// What the agency marked as not for publication (notes to editors,
    /// notebooks, contacts, advisories): kept for the importer, never published.
    pub notes: Vec<String>,
    /// The agency's correction statement (`CORRECTS ...`), meant for readers.
    pub correction: Option<String>,
    /// The embargo: not to be published before this instant.
    pub embargo: Option<DateTime<FixedOffset>>,
    /// An embargo is announced but its time could not be read: the story is
    /// held until it is released by hand (fail closed).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub embargo_unreadable: bool,
    /// The decoded, normalised text: identical text means the identical story.
    #[serde(skip)]
    pub text: String,
}

/// Why a text is not a story. Every variant names what to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// Nothing but whitespace.
    #[error("the text is empty (or only whitespace)")]
    Empty,
    /// The bytes are not text (NUL bytes, undecodable sequences).
    #[error("the body is binary data, not text (line {line})")]
    Binary { line: usize },
    /// The first block runs to the end of the text: no blank line separates
    /// a headline from a body.
    #[error("lines {line} to {last_line} are one block with no blank line; put the headline on the first line and a blank line after it")]
    NoHeadline { line: usize, last_line: usize },
    /// Bigger than the configured limit.
    #[error("the text is {bytes} bytes; the limit is {limit} bytes")]
    TooLarge { bytes: usize, limit: usize },
    /// The headline block is too long to be a headline.
    #[error(
        "the headline (line {line}) is {chars} characters; the limit is {limit}: is a blank line missing after it?"
    )]
    HeadlineTooLong { line: usize, chars: usize, limit: usize },
    /// A headline, but no paragraph after it.
    #[error("the headline on line {line} is followed by no story paragraph")]
    NoBody { line: usize },
    /// XML that is not well-formed, or that uses what is refused (a DTD,
    /// entities): the parser's message.
    #[error("the XML is not accepted: {0}")]
    BadXml(String),
    /// Well-formed XML of a kind that is not a news item.
    #[error("the XML root element is <{0}>; expected NITF (<nitf>) or a NewsML-G2 <newsItem> / <newsMessage>")]
    UnknownXml(String),
    /// An XML document with no news item or several.
    #[error("the document holds {0} news items; send exactly one per import")]
    ItemCount(usize),
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
            ParseError::NoHeadline { .. } => "no_headline",
            ParseError::BadXml(_) => "bad_xml",
            ParseError::UnknownXml(_) => "unknown_xml",
            ParseError::ItemCount(_) => "item_count",
        }
    }

    /// The 1-based line the problem is on, when it is on one.
    pub fn line(&self) -> Option<usize> {
        match self {
            ParseError::Binary { line }
            | ParseError::NoHeadline { line, .. }
            | ParseError::HeadlineTooLong { line, .. }
            | ParseError::NoBody { line } => Some(*line),
            ParseError::Empty
            | ParseError::TooLarge { .. }
            | ParseError::BadXml(_)
            | ParseError::UnknownXml(_)
            | ParseError::ItemCount(_) => None,
        }
    }
}

/// Parses one story sent as text (`text/plain`): the format is detected
/// from the content.
pub fn parse(bytes: &[u8], options: &ParseOptions) -> Result<Story, ParseError> {
    parse_as(bytes, Media::Text, options)
}

/// How a story was sent: the media type's family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Media {
    /// `text/plain` (or none): any format, detected from the content.
    Text,
    /// `application/xml`, `text/xml`, `application/nitf+xml`,
    /// `application/vnd.iptc.g2.newsitem+xml`: NITF or NewsML-G2.
    Xml,
}

/// Parses one story sent with the given media type.
pub fn parse_as(bytes: &[u8], media: Media, options: &ParseOptions) -> Result<Story, ParseError> {
    if bytes.len() > options.max_bytes {
        return Err(ParseError::TooLarge { bytes: bytes.len(), limit: options.max_bytes });
    }
    match agency::detect(bytes, media) {
        WireFormat::Plain => {
            let decoded = decode::decode(bytes)?;
            story::build(decoded, options).and_then(|story| agency::plain_advisories(story, options))
        }
        WireFormat::Iptc7901 => agency::iptc7901::parse(bytes, options),
        WireFormat::Anpa1312 => agency::anpa::parse(bytes, options),
        WireFormat::Zczc => agency::zczc::parse(bytes, options),
        WireFormat::Nitf | WireFormat::NewsmlG2 => agency::xml::parse(bytes, options),
    }
}
