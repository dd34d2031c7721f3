//! Documents: RSS 2.0, Atom 1.0, JSON Feed 1.1, OPML 2.0 and HTML pages, as
//! pure functions of articles and the public [`Base`]. XML is written only
//! through the feed crates' writers and quick-xml; HTML only through askama
//! templates, which escape everything.

pub mod atom;
pub mod html;
pub mod json;
pub mod opml;
pub mod rss;

use chrono::{DateTime, SubsecRound, Utc};

use crate::domain::{Article, ArticleId};
use crate::store::Page;

/// Who is publishing: site-wide settings every document needs.
#[derive(Debug, Clone)]
pub struct Site {
    pub title: String,
    pub language: String,
    /// Cache-Control max-age in seconds (RSS `ttl` is this in minutes).
    pub max_age: u32,
    /// WebSub hubs every feed names (empty: none).
    pub hubs: Vec<String>,
}

pub const GENERATOR: &str = concat!("wirefeed ", env!("CARGO_PKG_VERSION"));

/// Absolute URLs, from the public base URL (ends with `/`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Base(String);

impl Base {
    /// `base` must be absolute and end with `/`; a missing slash is added.
    pub fn new(base: &str) -> Base {
        let mut base = base.to_owned();
        if !base.ends_with('/') {
            base.push('/');
        }
        Base(base)
    }

    /// An absolute URL of a path relative to the base (no leading `/`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.0, path.trim_start_matches('/'))
    }

    pub fn article(&self, id: &ArticleId) -> String {
        self.url(&format!("articles/{id}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The category that marks flash, bulletin and urgent copy in feeds.
pub const URGENT: &str = "Urgent";

/// Which feed or page: everything, or one section (its slug and name).
#[derive(Debug, Clone)]
pub struct Scope {
    /// Path of the scope relative to the base: `""` or `sections/world/`.
    pub dir: String,
    /// HTML page of the scope: `""` (home) or `sections/world`.
    pub page: String,
    /// Display name: the site title, or the section name.
    pub name: String,
    pub section: Option<crate::domain::Section>,
    /// Only flash, bulletin and urgent copy (`urgent/` under the scope).
    pub urgent: bool,
}

impl Scope {
    pub fn all(site: &Site) -> Scope {
        Scope { dir: String::new(), page: String::new(), name: site.title.clone(), section: None, urgent: false }
    }

    /// The urgent copy of this scope: its feeds under `urgent/`, its page the scope's own.
    pub fn urgent(mut self) -> Scope {
        self.dir.push_str("urgent/");
        self.urgent = true;
        self
    }

    pub fn section(section: &crate::domain::Section) -> Scope {
        Scope {
            dir: format!("sections/{}/", section.slug),
            page: format!("sections/{}", section.slug),
            name: section.name.clone(),
            section: Some(section.clone()),
            urgent: false,
        }
    }
}

/// The feed formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Rss,
    Atom,
    Json,
}

impl Format {
    pub fn file(self) -> &'static str {
        match self {
            Format::Rss => "rss.xml",
            Format::Atom => "atom.xml",
            Format::Json => "feed.json",
        }
    }

    /// The `Content-Type` a feed is served with.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Rss => "application/rss+xml; charset=utf-8",
            Format::Atom => "application/atom+xml; charset=utf-8",
            Format::Json => "application/feed+json; charset=utf-8",
        }
    }

    pub fn media_type(self) -> &'static str {
        match self {
            Format::Rss => "application/rss+xml",
            Format::Atom => "application/atom+xml",
            Format::Json => "application/feed+json",
        }
    }
}

/// A feed page with the links around it (RFC 5005 section 3).
pub struct FeedPage<'a> {
    pub site: &'a Site,
    pub base: &'a Base,
    pub scope: &'a Scope,
    pub page: &'a Page,
    /// The `before=` cursor this page was fetched with.
    pub cursor: Option<i64>,
    /// When the scope last changed ([`crate::store::Store::changed`]).
    pub changed: Option<DateTime<Utc>>,
}

impl FeedPage<'_> {
    /// URL of this feed in `format` at `cursor`.
    pub fn feed_url(&self, format: Format, cursor: Option<i64>) -> String {
        let url = self.base.url(&format!("{}{}", self.scope.dir, format.file()));
        match cursor {
            Some(c) => format!("{url}?before={c}"),
            None => url,
        }
    }

    pub fn self_url(&self, format: Format) -> String {
        self.feed_url(format, self.cursor)
    }

    /// The WebSub hubs this page names: those of the live feed (the first
    /// page, the topic subscribers follow), none on older pages.
    pub fn hubs(&self) -> impl Iterator<Item = &String> {
        self.site.hubs.iter().filter(|_| self.cursor.is_none())
    }

    pub fn html_url(&self) -> String {
        self.base.url(&self.scope.page)
    }

    pub fn next_url(&self, format: Format) -> Option<String> {
        self.page.next.map(|c| self.feed_url(format, Some(c)))
    }

    pub fn prev_url(&self, format: Format) -> Option<String> {
        self.page.prev.map(|c| self.feed_url(format, c))
    }

    /// The feed's time: when its scope last changed, to the second, as its
    /// `Last-Modified` says; an update in place or a delete moves it too,
    /// which the newest item's time would not. Never the clock's at render,
    /// so an unchanged feed renders the same bytes.
    pub fn updated(&self) -> DateTime<Utc> {
        self.changed.map_or(DateTime::UNIX_EPOCH, |t| t.trunc_subsecs(0))
    }

    pub fn title(&self) -> String {
        let title = match &self.scope.section {
            Some(section) => format!("{}: {}", self.site.title, section.name),
            None => self.site.title.clone(),
        };
        if self.scope.urgent {
            format!("{title}: Urgent")
        } else {
            title
        }
    }

    pub fn description(&self) -> String {
        let what = if self.scope.urgent { "urgent " } else { "" };
        match &self.scope.section {
            Some(section) => format!("Latest {what}{} stories from {}", section.name, self.site.title),
            None => format!("Latest {what}stories from {}", self.site.title),
        }
    }
}

/// The full story as HTML paragraphs, escaped.
pub fn content_html(article: &Article) -> String {
    html::content(article, content_capacity(article))
}

/// Room for a feed document of `articles`, so that writing it does not grow
/// the buffer by doubling through hundreds of kilobytes: each article's
/// content and summary with some escaping, and a kilobyte of the rest.
fn feed_capacity(articles: &[Article]) -> usize {
    let item = |a: &Article| content_capacity(a) + a.summary().len() + 1024;
    4096 + articles.iter().map(item).sum::<usize>()
}

/// Room for [`content_html`] of `article`: its paragraphs, their tags and
/// some escaping, so that rendering it does not grow the string by doubling.
fn content_capacity(article: &Article) -> usize {
    let text: usize = article.paragraphs.iter().map(|p| p.len() + 16).sum();
    text + text / 8
}

/// Authors as one display string: `A`, `A and B`, `A, B and C`.
pub fn byline(authors: &[String]) -> Option<String> {
    match authors {
        [] => None,
        [one] => Some(one.clone()),
        [rest @ .., last] => Some(format!("{} and {last}", rest.join(", "))),
    }
}

#[cfg(test)]
mod tests;
