//! HTML pages (home, section, article, not found) and the feed content
//! fragment, through askama templates in `templates/`: every value is escaped.

use askama::Template;
use chrono::{DateTime, Utc};

use super::{byline, Site};
use crate::domain::{Article, ArticleId, Page, Section, SectionMeta, SectionSlug};
use crate::urls::{Base, Feed, Format};

/// A feed autodiscovery link.
pub struct FeedLink {
    pub title: String,
    pub media_type: &'static str,
    pub href: String,
}

/// The feeds of a scope, in every format.
pub fn feed_links(base: &Base, feed: &Feed, title: &str) -> Vec<FeedLink> {
    [(Format::Rss, "RSS"), (Format::Atom, "Atom"), (Format::Json, "JSON Feed")]
        .into_iter()
        .map(|(format, name)| FeedLink {
            title: format!("{title} ({name})"),
            media_type: format.media_type(),
            href: base.feed(feed, format, None),
        })
        .collect()
}

/// The feeds of all sections (`None`) or of one.
fn scope_links(base: &Base, section: Option<&SectionSlug>, title: &str) -> Vec<FeedLink> {
    feed_links(base, &Feed { section: section.cloned(), urgent: false }, title)
}

/// The urgent feeds of all sections.
fn urgent_links(base: &Base, title: &str) -> Vec<FeedLink> {
    feed_links(base, &Feed { section: None, urgent: true }, title)
}

/// A story in a list.
pub struct Teaser {
    pub headline: String,
    pub url: String,
    pub time_iso: String,
    pub time: String,
    pub section: String,
    pub summary: String,
    /// Flash, bulletin or urgent copy.
    pub urgent: bool,
}

impl Teaser {
    fn of(article: &Article, base: &Base) -> Teaser {
        Teaser {
            urgent: article.wire.is_urgent(),
            headline: article.headline.clone(),
            url: base.article(&article.id),
            time_iso: article.effective().to_rfc3339(),
            time: display_time(article.effective(), article.date_only && article.updated.is_none()),
            section: article.section.name.clone(),
            summary: article.summary().to_owned(),
        }
    }
}

/// A section in the home page list.
pub struct SectionView {
    pub name: String,
    pub url: String,
    pub count: u64,
    pub feeds: Vec<FeedLink>,
}

/// A related story under an article: linked when it is in the store.
pub struct RelatedView {
    pub headline: String,
    pub teaser: String,
    pub url: Option<String>,
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage<'a> {
    site: &'a Site,
    title: String,
    feeds: Vec<FeedLink>,
    home: String,
    opml: String,
    /// The urgent feeds of all sections.
    urgent: Vec<FeedLink>,
    sections: Vec<SectionView>,
    stories: Vec<Teaser>,
}

#[derive(Template)]
#[template(path = "section.html")]
struct SectionPage<'a> {
    site: &'a Site,
    title: String,
    feeds: Vec<FeedLink>,
    home: String,
    name: String,
    stories: Vec<Teaser>,
    newer: Option<String>,
    older: Option<String>,
}

#[derive(Template)]
#[template(path = "article.html")]
struct ArticlePage<'a> {
    site: &'a Site,
    title: String,
    feeds: Vec<FeedLink>,
    home: String,
    article: &'a Article,
    section_url: String,
    published_iso: String,
    published: String,
    updated: Option<(String, String)>,
    byline: Option<String>,
    dateline: Option<String>,
    related: Vec<RelatedView>,
    /// Flash, bulletin or urgent copy.
    urgent: bool,
}

#[derive(Template)]
#[template(path = "not_found.html")]
struct NotFoundPage<'a> {
    site: &'a Site,
    title: String,
    feeds: Vec<FeedLink>,
    home: String,
    what: &'a str,
}

/// The feed content fragment: escaped with [`TextInHtml`] (askama.toml).
#[derive(Template)]
#[template(path = "content.fragment")]
struct Content<'a> {
    /// The agency's correction statement, shown first, marked as one.
    correction: Option<&'a str>,
    paragraphs: &'a [String],
}

/// Escapes text for an HTML text node: `&`, `<` and `>` only. Quotes need no
/// escaping outside attributes, and feed readers that decode HTML sloppily
/// (JSON Feed and RSS readers alike) would show `&#39;` for an apostrophe.
/// Never for attribute values: pages keep askama's own escaper.
#[derive(Debug, Clone, Copy, Default)]
pub struct TextInHtml;

impl askama::filters::Escaper for TextInHtml {
    fn write_escaped_str<W: std::fmt::Write>(&self, mut dest: W, string: &str) -> std::fmt::Result {
        let mut rest = string;
        while let Some(at) = rest.find(['&', '<', '>']) {
            dest.write_str(&rest[..at])?;
            dest.write_str(match rest.as_bytes()[at] {
                b'&' => "&amp;",
                b'<' => "&lt;",
                _ => "&gt;",
            })?;
            rest = &rest[at + 1..];
        }
        dest.write_str(rest)
    }
}

/// Plain text as HTML that shows exactly that text (for RSS fields readers
/// take as HTML).
pub fn text_as_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    askama::filters::Escaper::write_escaped_str(&TextInHtml, &mut out, text).expect("writing into a String");
    out
}

fn render(t: &impl Template) -> Vec<u8> {
    // Our templates only format strings we hand them; rendering cannot fail.
    t.render().expect("rendering a template").into_bytes()
}

/// Times as pages show them.
fn display_time(t: DateTime<Utc>, date_only: bool) -> String {
    if date_only {
        t.format("%-d %B %Y").to_string()
    } else {
        t.format("%-d %B %Y, %H:%M UTC").to_string()
    }
}

/// The home page: sections with their feeds, and the newest stories.
pub fn home(site: &Site, base: &Base, sections: &[SectionMeta], newest: &Page) -> Vec<u8> {
    render(&HomePage {
        site,
        title: site.title.clone(),
        feeds: scope_links(base, None, &site.title)
            .into_iter()
            .chain(urgent_links(base, &format!("{}: Urgent", site.title)))
            .collect(),
        home: base.home(),
        opml: base.opml(),
        urgent: urgent_links(base, "Urgent"),
        sections: sections
            .iter()
            .map(|meta| SectionView {
                name: meta.section.name.clone(),
                url: base.section(&meta.section.slug),
                count: meta.count,
                feeds: scope_links(base, Some(&meta.section.slug), &meta.section.name),
            })
            .collect(),
        stories: newest.articles.iter().map(|a| Teaser::of(a, base)).collect(),
    })
}

/// A section page, newest first, with links to newer and older pages.
pub fn section(site: &Site, base: &Base, section: &Section, page: &Page) -> Vec<u8> {
    let at = |cursor: Option<i64>| base.section_at(&section.slug, cursor);
    render(&SectionPage {
        site,
        title: format!("{}: {}", site.title, section.name),
        feeds: scope_links(base, Some(&section.slug), &section.name),
        home: base.home(),
        name: section.name.clone(),
        stories: page.articles.iter().map(|a| Teaser::of(a, base)).collect(),
        newer: page.prev.map(at),
        older: page.next.map(|c| at(Some(c))),
    })
}

/// An article page; `related_ids` gives the stored id of each related story, if any.
pub fn article(site: &Site, base: &Base, article: &Article, related_ids: &[Option<ArticleId>]) -> Vec<u8> {
    let related = article
        .related
        .iter()
        .zip(related_ids.iter().chain(std::iter::repeat(&None)))
        .map(|(r, id)| RelatedView {
            headline: r.headline.clone(),
            teaser: r.teaser.clone(),
            url: id.as_ref().map(|id| base.article(id)),
        })
        .collect();
    render(&ArticlePage {
        site,
        title: format!("{} | {}", article.headline, site.title),
        feeds: scope_links(base, Some(&article.section.slug), &article.section.name),
        home: base.home(),
        article,
        section_url: base.section(&article.section.slug),
        published_iso: article.published.to_rfc3339(),
        published: display_time(article.published, article.date_only),
        updated: article.updated.map(|u| (u.to_rfc3339(), display_time(u, false))),
        byline: byline(&article.authors),
        dateline: article.dateline.as_ref().map(|d| match &d.agency {
            Some(agency) => format!("{} ({agency})", d.place),
            None => d.place.clone(),
        }),
        related,
        urgent: article.wire.is_urgent(),
    })
}

/// The 404 page.
pub fn not_found(site: &Site, base: &Base, what: &str) -> Vec<u8> {
    render(&NotFoundPage {
        site,
        title: format!("Not found | {}", site.title),
        feeds: scope_links(base, None, &site.title),
        home: base.home(),
        what,
    })
}

/// The story as HTML paragraphs, for feed content, in a string of `capacity`.
pub fn content(article: &Article, capacity: usize) -> String {
    let mut out = String::with_capacity(capacity);
    Content { correction: article.correction.as_deref(), paragraphs: &article.paragraphs }
        .render_into(&mut out)
        .expect("rendering content");
    out
}
