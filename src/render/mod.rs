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

use crate::domain::{Article, Page};
use crate::urls::{Base, Feed, Format};

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

/// The category that marks flash, bulletin and urgent copy in feeds.
pub const URGENT: &str = "Urgent";

/// Which feed or page: everything, or one section, all its copy or only the urgent.
#[derive(Debug, Clone)]
pub struct Scope {
    pub feed: Feed,
    /// Display name: the site title, or the section name.
    pub name: String,
    pub section: Option<crate::domain::Section>,
}

impl Scope {
    pub fn all(site: &Site) -> Scope {
        Scope { feed: Feed { section: None, urgent: false }, name: site.title.clone(), section: None }
    }

    pub fn section(section: &crate::domain::Section) -> Scope {
        Scope {
            feed: Feed { section: Some(section.slug.clone()), urgent: false },
            name: section.name.clone(),
            section: Some(section.clone()),
        }
    }

    /// The urgent copy of this scope: its feeds under `urgent/`, its page the scope's own.
    pub fn urgent(mut self) -> Scope {
        self.feed.urgent = true;
        self
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
        self.base.feed(&self.scope.feed, format, cursor)
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
        self.base.page(self.scope.feed.section.as_ref())
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
        if self.scope.feed.urgent {
            format!("{title}: Urgent")
        } else {
            title
        }
    }

    pub fn description(&self) -> String {
        let what = if self.scope.feed.urgent { "urgent " } else { "" };
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
