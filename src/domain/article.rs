//! Articles: a parsed story as stored, with its readable id.

use chrono::{DateTime, NaiveDate, SubsecRound, Timelike, Utc};
use serde::{Deserialize, Serialize};

use super::{Section, Wire};

/// Longest article id.
const MAX_ID: usize = 100;
/// Longest headline part of an id; cut at a word boundary.
const MAX_HEADLINE_SLUG: usize = 80;

/// A readable, stable article id: `2016-07-26-russia-us-work-on-syria-...`,
/// lowercase ASCII `[a-z0-9-]`, at most 100 bytes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ArticleId(String);

impl ArticleId {
    /// Accepts an id exactly as it appears in a URL; anything else is `None`.
    pub fn parse(s: &str) -> Option<ArticleId> {
        let valid = !s.is_empty()
            && s.len() <= MAX_ID
            && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !s.starts_with('-')
            && !s.ends_with('-');
        valid.then(|| ArticleId(s.to_owned()))
    }

    /// The id for a headline published on `date`; `attempt` 1 is the plain id,
    /// later attempts add `-2`, `-3`, … for collisions.
    pub fn for_story(date: NaiveDate, headline: &str, attempt: u32) -> ArticleId {
        let mut slug = slug::slugify(headline);
        if slug.len() > MAX_HEADLINE_SLUG {
            let cut = slug[..MAX_HEADLINE_SLUG].rfind('-').unwrap_or(MAX_HEADLINE_SLUG);
            slug.truncate(cut);
        }
        if slug.is_empty() {
            slug.push_str("story");
        }
        let mut id = format!("{}-{slug}", date.format("%Y-%m-%d"));
        if attempt > 1 {
            id.push_str(&format!("-{attempt}"));
        }
        ArticleId(id)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The stable id readers see (`urn:uuid:` v5 of the article id): it never
    /// depends on the host name or the proxy.
    pub fn urn(&self) -> String {
        let uuid = uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_URL, format!("wirefeed:article:{}", self.0).as_bytes());
        format!("urn:uuid:{uuid}")
    }
}

impl TryFrom<String> for ArticleId {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        ArticleId::parse(&s).ok_or_else(|| format!("invalid article id {s:?}"))
    }
}

impl From<ArticleId> for String {
    fn from(id: ArticleId) -> String {
        id.0
    }
}

impl std::fmt::Display for ArticleId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// `GENEVA (Reuters) -`: where the story was filed and by which agency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dateline {
    pub place: String,
    pub agency: Option<String>,
}

/// A related story listed under the article (`More from World`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Related {
    pub headline: String,
    pub teaser: String,
}

/// Where an article's time came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TimeSource {
    /// A time line in the text.
    Parsed,
    /// The text gave no time: the time it was received.
    Received,
}

/// A stored article. Times are UTC instants; `date_only` says the text gave
/// a date without a time of day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Article {
    pub id: ArticleId,
    pub section: Section,
    pub headline: String,
    pub paragraphs: Vec<String>,
    pub authors: Vec<String>,
    pub dateline: Option<Dateline>,
    pub related: Vec<Related>,
    pub published: DateTime<Utc>,
    pub date_only: bool,
    pub updated: Option<DateTime<Utc>>,
    pub received: DateTime<Utc>,
    pub time_source: TimeSource,
    /// The story's sort slot within its second (the store assigns it, unique
    /// among the stored stories of that second); stores from before slots
    /// were unique hold an arrival counter here, of which the low six digits
    /// count.
    pub order: u64,
    /// Hash of the story text and section: identical text is the same article.
    pub source_hash: String,
    /// The transmission's header (`format: plain` for web-style text).
    #[serde(default)]
    pub wire: Wire,
    /// What the agency marked as not for publication: shown to the importer
    /// (import answer, article JSON with the token, export), never in a feed or page.
    #[serde(default)]
    pub notes: Vec<String>,
    /// The agency's correction statement, shown to readers above the story.
    #[serde(default)]
    pub correction: Option<String>,
    /// Not to be shown before this instant.
    #[serde(default)]
    pub embargo: Option<DateTime<Utc>>,
}

/// The release time of a story held until the newsroom releases it by hand
/// (an embargo was announced but its time could not be read): never reached.
pub fn until_released() -> DateTime<Utc> {
    DateTime::from_timestamp(253_402_300_799, 0).unwrap_or(DateTime::<Utc>::MAX_UTC)
    // 9999-12-31T23:59:59Z
}

/// A headline as stories are matched by it within a section: spaces
/// collapsed, lowercase. Two stories with the same key are one story.
pub fn headline_key(headline: &str) -> String {
    headline.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

impl Article {
    /// The story's own newest time: updated when given, else published.
    pub fn effective(&self) -> DateTime<Utc> {
        self.updated.unwrap_or(self.published)
    }

    /// The instant the indexes sort by and feeds show as `updated`: the
    /// effective time to the second plus the sort slot as microseconds; the
    /// store gives every story of a second its own slot, so no two stored
    /// articles share an instant.
    pub fn sort_instant(&self) -> DateTime<Utc> {
        let second = self.effective().trunc_subsecs(0);
        let micros = (self.order % 1_000_000) as u32;
        second.with_nanosecond(micros * 1000).unwrap_or(second)
    }

    /// The summary: the first paragraph.
    pub fn summary(&self) -> &str {
        self.paragraphs.first().map(String::as_str).unwrap_or("")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_date_and_headline_slug() {
        let date = NaiveDate::from_ymd_opt(2016, 7, 26).unwrap();
        let id = ArticleId::for_story(date, "Russia, US work on Syria cooperation plan as UN seeks new peace talks", 1);
        assert_eq!(id.as_str(), "2016-07-26-russia-us-work-on-syria-cooperation-plan-as-un-seeks-new-peace-talks");
        assert_eq!(ArticleId::for_story(date, "A", 3).as_str(), "2016-07-26-a-3");
        assert_eq!(ArticleId::for_story(date, "¿?", 1).as_str(), "2016-07-26-story");
    }

    #[test]
    fn long_headlines_are_cut_at_a_word() {
        let date = NaiveDate::from_ymd_opt(2016, 7, 26).unwrap();
        let id = ArticleId::for_story(date, &"word ".repeat(60), 1);
        assert!(id.as_str().len() <= MAX_ID);
        assert!(id.as_str().ends_with("-word"));
        assert!(ArticleId::parse(id.as_str()).is_some());
    }

    #[test]
    fn urns_are_stable() {
        let id = ArticleId::parse("2016-07-26-a").unwrap();
        assert_eq!(id.urn(), id.clone().urn());
        assert!(id.urn().starts_with("urn:uuid:"));
    }
}
