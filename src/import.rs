//! From a parsed [`Story`] to the [`Article`] the store is asked to keep:
//! the section chosen (override, parsed, default), times made UTC instants
//! and clamped to the receive time, the identity hash computed.

use chrono::{DateTime, NaiveTime, TimeZone, Utc};

use crate::domain::until_released;
use crate::domain::{Article, ArticleId, Section};
use crate::domain::{Wire, WireFormat};
use crate::store::{Admitted, Put, Store, Tombstone};
use crate::wire::{Media, ParseOptions, Story, StoryTime};

/// The receive time: now, to the second (story times are to the minute or second).
pub fn now() -> DateTime<Utc> {
    chrono::SubsecRound::trunc_subsecs(Utc::now(), 0)
}

/// What turning a story into an article needs.
#[derive(Debug, Clone)]
pub struct ImportSettings {
    /// The zone of story times written without one.
    pub source_tz: chrono_tz::Tz,
    pub default_section: Section,
    /// Largest story accepted, in bytes.
    pub max_body: usize,
}

impl ImportSettings {
    /// How the parser reads a story received at `received`.
    fn parse_options(&self, received: DateTime<Utc>) -> ParseOptions {
        ParseOptions { source_tz: self.source_tz, received, max_bytes: self.max_body }
    }
}

/// What the importer asked for besides the bytes: how they were sent, and
/// the query's overrides.
#[derive(Debug, Clone, Copy)]
pub struct Asked<'a> {
    pub media: Media,
    /// `?section=`: overrides the section the text names.
    pub section: Option<&'a str>,
    /// `?embargo=`: holds the story back until then.
    pub embargo: Option<DateTime<Utc>>,
    /// `?restore=true`: brings a killed story back under its old id.
    pub restore: bool,
}

impl Asked<'_> {
    /// Plain text with nothing overridden (seeding, `wirefeed check`).
    pub const TEXT: Asked<'static> = Asked { media: Media::Text, section: None, embargo: None, restore: false };
}

/// A section override that makes no slug.
#[derive(Debug, thiserror::Error)]
#[error("section {0:?} has no letters or digits to make a slug from")]
pub struct BadSection(pub String);

/// The article to store, and what the importer should be told.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub draft: Article,
    pub warnings: Vec<String>,
}

/// Prepares a story for the store. `id` and `order` are placeholders the store replaces.
pub fn prepare(
    story: &Story,
    asked: &Asked<'_>,
    settings: &ImportSettings,
    received: DateTime<Utc>,
) -> Result<Prepared, BadSection> {
    let mut warnings = story.warnings.clone();
    let section = match (asked.section, &story.section) {
        (Some(name), _) => Section::from_name(name).ok_or_else(|| BadSection(name.to_owned()))?,
        (None, Some(name)) => Section::from_name(name).unwrap_or_else(|| {
            warnings.push(format!(
                "section {name:?} makes no slug: the story goes to the default section {:?}",
                settings.default_section.name
            ));
            settings.default_section.clone()
        }),
        (None, None) => category_section(&story.wire)
            .and_then(Section::from_name)
            .unwrap_or_else(|| settings.default_section.clone()),
    };
    let mut instant = |time: &StoryTime, what: &str| {
        let t = to_instant(time, settings.source_tz);
        if t > received {
            warnings
                .push(format!("{what} time {} is after the receive time: the receive time is used", t.to_rfc3339()));
            received
        } else {
            t
        }
    };
    let published = instant(&story.published, "publication");
    let updated = story.updated.as_ref().map(|u| instant(u, "update")).filter(|u| *u > published);
    let hash = xxhash_rust::xxh3::xxh3_128(format!("{}\0{}", story.text, section.slug).as_bytes());
    let draft = Article {
        id: ArticleId::for_story(published.date_naive(), &story.headline, 1),
        section,
        headline: story.headline.clone(),
        paragraphs: story.paragraphs.clone(),
        authors: story.authors.clone(),
        dateline: story.dateline.clone(),
        related: story.related.clone(),
        published,
        date_only: matches!(story.published, StoryTime::Date(_)),
        updated,
        received,
        time_source: story.time_source,
        order: 0,
        source_hash: format!("{hash:032x}"),
        wire: story.wire.clone(),
        notes: story.notes.clone(),
        correction: story.correction.clone(),
        embargo: None,
    };
    let mut draft = draft;
    // The importer's embargo wins over the agency's line; one already past
    // is no embargo; one announced but unreadable holds the story until a
    // person releases it.
    let unreadable = (story.embargo_unreadable && story.embargo.is_none()).then(until_released);
    let embargo = asked.embargo.or(story.embargo.map(|t| t.with_timezone(&Utc))).or(unreadable);
    match embargo {
        Some(release) if release > received => draft.embargo = Some(release),
        Some(release) => warnings.push(format!(
            "the embargo {} has passed: the story is published now",
            release.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        )),
        None => {}
    }
    Ok(Prepared { draft, warnings })
}

/// The section an agency's category letter stands for, where the letter
/// is one of the format's well-known ones (docs/parser.md lists them).
fn category_section(wire: &Wire) -> Option<&'static str> {
    let category = wire.category.as_deref()?.trim();
    let mut letters = category.chars();
    let (Some(letter), None) = (letters.next(), letters.next()) else { return None };
    let name = match (wire.format, letter.to_ascii_lowercase()) {
        // AP's ANPA category codes.
        (WireFormat::Anpa1312, 'a') => "National",
        (WireFormat::Anpa1312, 'i') => "World",
        (WireFormat::Anpa1312, 'f') => "Business",
        (WireFormat::Anpa1312, 's' | 'q' | 'z') => "Sport",
        (WireFormat::Anpa1312, 'e') => "Entertainment",
        (WireFormat::Anpa1312, 'p' | 'w') => "Politics",
        (WireFormat::Anpa1312, 'l') => "Lifestyle",
        (WireFormat::Anpa1312, 't') => "Travel",
        (WireFormat::Anpa1312, 'k') => "Opinion",
        // IPTC 7901 service categories as dpa sends them.
        (WireFormat::Iptc7901, 'i') => "World",
        (WireFormat::Iptc7901, 's') => "Sport",
        (WireFormat::Iptc7901, 'w') => "Business",
        (WireFormat::Iptc7901, 'p') => "Politics",
        (WireFormat::Iptc7901, 'k') => "Culture",
        (WireFormat::Iptc7901, 'v') => "Miscellany",
        // AAP's ZCZC categories.
        (WireFormat::Zczc, 'a') => "Australia",
        (WireFormat::Zczc, 'i') => "World",
        (WireFormat::Zczc, 'f') => "Business",
        (WireFormat::Zczc, 's' | 't') => "Sport",
        (WireFormat::Zczc, 'e') => "Entertainment",
        (WireFormat::Zczc, 'j' | 'k') => "Media releases",
        _ => return None,
    };
    Some(name)
}

/// A story time as an instant. A date without a time of day stands for noon
/// in the source zone: feeds need an instant, and noon keeps the calendar
/// date for readers in every zone within ±12 hours.
fn to_instant(time: &StoryTime, tz: chrono_tz::Tz) -> DateTime<Utc> {
    match time {
        StoryTime::Instant(t) => t.with_timezone(&Utc),
        StoryTime::Date(d) => {
            let noon = d.and_time(NaiveTime::from_hms_opt(12, 0, 0).unwrap_or_default());
            tz.from_local_datetime(&noon).earliest().map(|t| t.with_timezone(&Utc)).unwrap_or_else(|| noon.and_utc())
        }
    }
}

/// Why a story was not stored.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IngestError {
    /// The text is not a story.
    #[error(transparent)]
    Parse(#[from] crate::wire::ParseError),
    /// The section override makes no slug.
    #[error(transparent)]
    Section(#[from] BadSection),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// The story was killed; `restore=true` brings it back.
    #[error("this story was killed{}; send it with ?restore=true to bring it back", .0.as_ref().map(|id| format!(" (it was {id})")).unwrap_or_default())]
    Killed(Option<ArticleId>),
}

/// What an ingest did.
#[derive(Debug, Clone)]
pub struct Ingested {
    pub outcome: Outcome,
    pub warnings: Vec<String>,
}

/// A story stored (or not, as the store decided), or a kill acted on.
// One per import, moved once: boxing the article would only add an allocation.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum Outcome {
    Stored(Put),
    /// A kill advisory: the story it names is gone (`None`: none was
    /// stored; later copies are refused all the same).
    Killed(Option<Tombstone>),
}

impl Outcome {
    /// A word for logs, metrics and answers.
    pub fn label(&self) -> &'static str {
        match self {
            Outcome::Stored(put) => put.outcome(),
            Outcome::Killed(_) => "killed",
        }
    }
}

/// Parses and prepares one story: what [`ingest`] stores and [`check`] shows.
fn read(
    bytes: &[u8],
    asked: &Asked<'_>,
    settings: &ImportSettings,
    received: DateTime<Utc>,
) -> Result<(Story, Prepared), IngestError> {
    let story = crate::wire::parse_as(bytes, asked.media, &settings.parse_options(received))?;
    let prepared = prepare(&story, asked, settings, received)?;
    Ok((story, prepared))
}

/// Parses, prepares and stores one story received at `received`. Not yet
/// durable: the caller calls [`crate::store::Store::sync`] (per request, or
/// once per bulk import).
pub fn ingest(
    store: &Store,
    bytes: &[u8],
    asked: &Asked<'_>,
    settings: &ImportSettings,
    received: DateTime<Utc>,
) -> Result<Ingested, IngestError> {
    store_parsed(store, parse(bytes, asked, settings, received)?, asked, received)
}

/// A story parsed and prepared, not yet stored: the application parses
/// before it takes the right to write, so parses run side by side.
pub struct Parsed {
    story: Story,
    prepared: Prepared,
}

/// Parses and prepares one story received at `received` (see [`ingest`]).
pub fn parse(
    bytes: &[u8],
    asked: &Asked<'_>,
    settings: &ImportSettings,
    received: DateTime<Utc>,
) -> Result<Parsed, IngestError> {
    let (story, prepared) = read(bytes, asked, settings, received)?;
    Ok(Parsed { story, prepared })
}

/// Stores what [`parse`] made (see [`ingest`]).
pub fn store_parsed(
    store: &Store,
    parsed: Parsed,
    asked: &Asked<'_>,
    received: DateTime<Utc>,
) -> Result<Ingested, IngestError> {
    let Parsed { story, prepared } = parsed;
    let Prepared { draft, mut warnings } = prepared;
    if let Some(kill) = crate::wire::advisory::kill(&story) {
        let stone = kill_named(store, &draft, kill.headline.as_deref(), received)?;
        if stone.is_none() {
            warnings.push("no stored story matches the kill; copies sent later are refused".to_owned());
        }
        return Ok(Ingested { outcome: Outcome::Killed(stone), warnings });
    }
    let put = match store.admit(&draft, asked.restore)? {
        Admitted::Stored(put) => put,
        Admitted::Killed(old) => return Err(IngestError::Killed(old)),
    };
    if let Put::Held(held) = &put {
        match held.embargo {
            Some(release) if release == until_released() => warnings.push(format!(
                "held until released by hand: POST /articles/{}/release (or send it again with ?embargo=)",
                held.id
            )),
            Some(release) if draft.embargo != Some(release) => warnings.push(format!(
                "a held copy of this story was replaced; the embargo stays until {}",
                release.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            )),
            _ => {}
        }
    }
    Ok(Ingested { outcome: Outcome::Stored(put), warnings })
}

/// Kills the story an advisory names: by its agency and slug, else by the
/// headline it gives, in the advisory's section or any other.
fn kill_named(
    store: &Store,
    advisory: &Article,
    headline: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Option<Tombstone>, IngestError> {
    let mut found = match advisory.wire.story_key() {
        Some((source, slug)) => store.find_by_wire(source, slug)?,
        None => None,
    };
    if found.is_none() {
        if let Some(headline) = headline {
            found = store.find(&advisory.section.slug, headline)?;
            for meta in store.sections()? {
                if found.is_some() {
                    break;
                }
                found = store.find(&meta.section.slug, headline)?;
            }
        }
    }
    let mut keys = Vec::new();
    if let Some((source, slug)) = advisory.wire.story_key() {
        keys.push(crate::store::keys::wire_identity(source, slug));
    }
    if let Some(headline) = headline {
        keys.push(crate::store::keys::identity(&advisory.section.slug, headline));
    }
    // A story not public yet is killed as a published one is.
    if found.is_none() {
        found = store.held_by_keys(&keys)?;
    }
    match found {
        Some(id) => Ok(store.kill(&id, now)?),
        None => {
            store.kill_keys(&keys)?;
            Ok(None)
        }
    }
}

/// What would be stored, without storing it (`wirefeed check`, `?dry_run=true`).
#[derive(Debug, Clone, serde::Serialize)]
pub struct Checked {
    pub dry_run: bool,
    /// The id a new story would get (an update keeps the stored id).
    pub id: ArticleId,
    pub section: Section,
    pub published: DateTime<Utc>,
    pub updated: Option<DateTime<Utc>>,
    pub warnings: Vec<String>,
    pub story: Story,
}

/// Parses and prepares one story without touching any store.
pub fn check(
    bytes: &[u8],
    asked: &Asked<'_>,
    settings: &ImportSettings,
    received: DateTime<Utc>,
) -> Result<Checked, IngestError> {
    let (story, prepared) = read(bytes, asked, settings, received)?;
    let draft = prepared.draft;
    Ok(Checked {
        dry_run: true,
        id: draft.id,
        section: draft.section,
        published: draft.published,
        updated: draft.updated,
        warnings: prepared.warnings,
        story,
    })
}
