//! The documents wirefeed serves, each named by a [`DocKey`]. What a
//! document is rendered from (its cache [`Tag`]s: the rule that drops it
//! when a write changes any of them) is written beside how it is rendered,
//! so that the two cannot drift apart.

use chrono::{DateTime, SubsecRound, Utc};

use crate::cache::{Doc, Tag};
use crate::domain::{headline_key, Article, ArticleId, Listing, SectionSlug};
use crate::render::{self, FeedPage, Site};
use crate::store::{Store, StoreError};
use crate::urls::{Base, Feed, Format};

/// How long a killed story's tombstone stays in the Atom feeds (RFC 6721):
/// a reader polling once a day still sees it.
const TOMBSTONE_HOURS: i64 = 48;

/// Stories on the home page.
const HOME_STORIES: usize = 20;

const HTML: &str = "text/html; charset=utf-8";
const JSON: &str = "application/json; charset=utf-8";

/// A document at a public base URL (its links are absolute).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DocKey {
    pub base: Base,
    pub doc: Document,
}

/// Every document that is rendered from the store and cached.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Document {
    Home,
    Opml,
    /// A feed page; `before` is the cursor of an older page.
    Feed {
        feed: Feed,
        format: Format,
        before: Option<i64>,
    },
    /// A section's HTML page.
    Section {
        slug: SectionSlug,
        before: Option<i64>,
    },
    /// An article's page, or its public JSON.
    Article {
        id: ArticleId,
        json: bool,
    },
}

/// What a render found.
pub enum Rendered {
    /// A document, and what it was rendered from besides [`Document::tags`]
    /// (known only once the store was read: an article's related headlines).
    Doc(Doc, Vec<Tag>),
    /// The thing asked for does not exist; the text says what.
    Missing(String),
    /// The story was killed; the text says when.
    Gone(String),
}

/// What every render reads.
pub struct Sources<'a> {
    pub store: &'a Store,
    pub site: &'a Site,
    /// Items per feed or section page.
    pub page_items: usize,
}

impl Document {
    /// What the document is rendered from: a write that changes any of these drops it.
    pub fn tags(&self) -> Vec<Tag> {
        match self {
            Document::Home => vec![Tag::All, Tag::Home],
            Document::Opml => vec![Tag::All],
            Document::Feed { feed, .. } => vec![feed.section.clone().map_or(Tag::All, Tag::Section)],
            Document::Section { slug, .. } => vec![Tag::Section(slug.clone())],
            // And its related headlines, once read (see `article`).
            Document::Article { id, .. } => vec![Tag::Article(id.clone())],
        }
    }

    /// An older page of a feed or section (`?before=`).
    pub fn is_older_page(&self) -> bool {
        matches!(self, Document::Feed { before: Some(_), .. } | Document::Section { before: Some(_), .. })
    }

    /// The listing an older page is cut from, and its cursor.
    pub fn cursor(&self) -> Option<(Listing, i64)> {
        match self {
            Document::Feed { feed, before: Some(c), .. } => Some((feed.listing(), *c)),
            Document::Section { slug, before: Some(c) } => Some((Listing::Section(slug.clone()), *c)),
            _ => None,
        }
    }

    /// The URL of this paged document at `before` instead (`None`: the first page).
    pub fn url_at(&self, base: &Base, before: Option<i64>) -> Option<String> {
        match self {
            Document::Feed { feed, format, .. } => Some(base.feed(feed, *format, before)),
            Document::Section { slug, .. } => Some(base.section_at(slug, before)),
            _ => None,
        }
    }

    /// Renders the document from the store.
    pub fn render(&self, from: &Sources<'_>, base: &Base) -> Result<Rendered, StoreError> {
        match self {
            Document::Home => home(from, base),
            Document::Opml => opml(from, base),
            Document::Feed { feed, format, before } => self::feed(from, base, feed, *format, *before),
            Document::Section { slug, before } => section(from, base, slug, *before),
            Document::Article { id, json } => article(from, base, id, *json),
        }
    }
}

// Each render reads the scope's changed-at time before the content it
// dates (`Store::changed` says why).

fn home(from: &Sources<'_>, base: &Base) -> Result<Rendered, StoreError> {
    let changed = from.store.changed(&Listing::All)?;
    let sections = from.store.sections()?;
    let page = from.store.page(&Listing::All, None, HOME_STORIES)?;
    let body = render::html::home(from.site, base, &sections, &page);
    Ok(Rendered::Doc(Doc::new(body, HTML, changed), Vec::new()))
}

fn opml(from: &Sources<'_>, base: &Base) -> Result<Rendered, StoreError> {
    let changed = from.store.changed(&Listing::All)?;
    let sections = from.store.sections()?;
    let updated = changed.map_or(DateTime::UNIX_EPOCH, |t| t.trunc_subsecs(0));
    let body = render::opml::render(from.site, base, &sections, updated);
    Ok(Rendered::Doc(Doc::new(body, "text/x-opml; charset=utf-8", changed), Vec::new()))
}

fn feed(
    from: &Sources<'_>,
    base: &Base,
    feed: &Feed,
    format: Format,
    before: Option<i64>,
) -> Result<Rendered, StoreError> {
    let listing = feed.listing();
    let changed = from.store.changed(&listing)?;
    let scope = match &feed.section {
        None => render::Scope::all(from.site),
        // A section emptied by deletes keeps its feeds (empty), so that
        // its subscribers' readers see no error.
        Some(slug) => match from.store.section(slug)? {
            Some(meta) => render::Scope::section(&meta.section),
            None => return Ok(Rendered::Missing(format!("no section {slug:?}"))),
        },
    };
    let scope = if feed.urgent { scope.urgent() } else { scope };
    let page = from.store.page(&listing, before, from.page_items)?;
    let feed = FeedPage { site: from.site, base, scope: &scope, page: &page, cursor: before, changed };
    let body = match format {
        Format::Rss => render::rss::render(&feed),
        Format::Atom if before.is_none() => {
            let since = Utc::now() - chrono::Duration::hours(TOMBSTONE_HOURS);
            let kills = from.store.kills_since(&listing, since)?;
            let deleted: Vec<_> = kills.into_iter().map(|k| (k.id, k.killed)).collect();
            render::atom::render_with_deleted(&feed, &deleted)
        }
        Format::Atom => render::atom::render(&feed),
        Format::Json => render::json::render(&feed),
    };
    let mut doc = Doc::new(body, format.content_type(), changed);
    if before.is_none() {
        doc.headers.extra.extend(crate::edge::websub::link_header(&from.site.hubs, &feed.self_url(format)));
    }
    Ok(Rendered::Doc(doc, Vec::new()))
}

fn section(from: &Sources<'_>, base: &Base, slug: &SectionSlug, before: Option<i64>) -> Result<Rendered, StoreError> {
    let listing = Listing::Section(slug.clone());
    let changed = from.store.changed(&listing)?;
    // A section emptied by deletes is still there, saying it has no stories.
    let Some(meta) = from.store.section(slug)? else {
        return Ok(Rendered::Missing("There is no such section.".into()));
    };
    let page = from.store.page(&listing, before, from.page_items)?;
    let body = render::html::section(from.site, base, &meta.section, &page);
    Ok(Rendered::Doc(Doc::new(body, HTML, changed), Vec::new()))
}

fn article(from: &Sources<'_>, base: &Base, id: &ArticleId, json: bool) -> Result<Rendered, StoreError> {
    // An article page changes with its article and with the stories it
    // links in its section: dated by the section's changed-at, read before
    // the article it dates, so the article is looked up twice.
    let Some(section) = from.store.get(id)?.map(|a| a.section.slug) else { return missing_article(from, id) };
    let changed = from.store.changed(&Listing::Section(section))?;
    let Some(article) = from.store.get(id)? else { return missing_article(from, id) };
    if json {
        return Ok(Rendered::Doc(Doc::new(article_json(base, &article, false), JSON, changed), Vec::new()));
    }
    let related = article
        .related
        .iter()
        .map(|r| from.store.find(&article.section.slug, &r.headline))
        .collect::<Result<Vec<_>, _>>()?;
    let body = render::html::article(from.site, base, &article, &related);
    // The page links related stories once they are stored: it depends on their headlines.
    let related_tags = article
        .related
        .iter()
        .map(|r| Tag::Headline(article.section.slug.clone(), headline_key(&r.headline)))
        .collect();
    Ok(Rendered::Doc(Doc::new(body, HTML, changed), related_tags))
}

/// A story that is not there: killed (with when), or never stored.
fn missing_article(from: &Sources<'_>, id: &ArticleId) -> Result<Rendered, StoreError> {
    Ok(match from.store.tombstone(id)? {
        Some(stone) => {
            Rendered::Gone(format!("This story was withdrawn on {}.", stone.killed.format("%-d %B %Y at %H:%M UTC")))
        }
        None => Rendered::Missing("There is no such story.".into()),
    })
}

/// The article JSON: everything stored, but the notes not meant for
/// publication only when `with_notes` (for the token holder).
pub fn article_json(base: &Base, article: &Article, with_notes: bool) -> Vec<u8> {
    let mut value = serde_json::to_value(article).expect("an article is plain data");
    if !with_notes {
        if let Some(fields) = value.as_object_mut() {
            fields.remove("notes");
        }
    }
    let doc = serde_json::json!({"url": base.article(&article.id), "article": value});
    serde_json::to_vec_pretty(&doc).expect("JSON values serialise")
}
