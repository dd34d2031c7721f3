//! Atom 1.0 (RFC 4287) with RFC 5005 paging links.

use atom_syndication::{Category, Content, Entry, Feed, Generator, Link, Person, Text};
use chrono::{DateTime, Utc};

use crate::domain::ArticleId;

use super::{byline, content_html, feed_capacity, FeedPage, Format};

/// The RFC 6721 namespace of `at:deleted-entry`.
const TOMBSTONES: &str = "http://purl.org/atompub/tombstones/1.0";

/// Renders one Atom page.
pub fn render(feed: &FeedPage<'_>) -> Vec<u8> {
    render_with_deleted(feed, &[])
}

/// Renders one Atom page that also tells readers which entries were
/// withdrawn (RFC 6721 `at:deleted-entry`, `ref` the entry's id, `when` the kill).
pub fn render_with_deleted(feed: &FeedPage<'_>, deleted: &[(ArticleId, DateTime<Utc>)]) -> Vec<u8> {
    let mut links = vec![
        link("self", feed.self_url(Format::Atom), Some(Format::Atom.media_type())),
        link("alternate", feed.html_url(), Some("text/html")),
        link("first", feed.feed_url(Format::Atom, None), None),
    ];
    if let Some(next) = feed.next_url(Format::Atom) {
        links.push(link("next", next, None));
    }
    if let Some(prev) = feed.prev_url(Format::Atom) {
        links.push(link("previous", prev, None));
    }
    links.extend(feed.hubs().map(|hub| link("hub", hub.clone(), None)));
    let entries = feed
        .page
        .articles
        .iter()
        .map(|article| Entry {
            id: article.id.urn(),
            title: Text::plain(article.headline.clone()),
            published: Some(article.published.fixed_offset()),
            updated: article.sort_instant().fixed_offset(),
            links: vec![link("alternate", feed.base.article(&article.id), Some("text/html"))],
            summary: Some(Text::plain(article.summary().to_owned())),
            content: Some(Content {
                value: Some(content_html(article)),
                content_type: Some("html".to_owned()),
                ..Default::default()
            }),
            categories: std::iter::once(Category {
                term: article.section.slug.to_string(),
                label: Some(article.section.name.clone()),
                ..Default::default()
            })
            .chain(article.wire.is_urgent().then(|| Category {
                term: "urgent".to_owned(),
                label: Some(super::URGENT.to_owned()),
                ..Default::default()
            }))
            .collect(),
            authors: byline(&article.authors)
                .map(|name| vec![Person { name, ..Default::default() }])
                .unwrap_or_default(),
            ..Default::default()
        })
        .collect();
    let mut scope_id = match &feed.scope.section {
        Some(section) => format!("wirefeed:section:{}", section.slug),
        None => "wirefeed:all".to_owned(),
    };
    if feed.scope.feed.urgent {
        scope_id.push_str(":urgent");
    }
    let feed_id = uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_URL, scope_id.as_bytes());
    let doc = Feed {
        id: format!("urn:uuid:{feed_id}"),
        title: Text::plain(feed.title()),
        subtitle: Some(Text::plain(feed.description())),
        updated: feed.updated().fixed_offset(),
        authors: vec![Person { name: feed.site.title.clone(), ..Default::default() }],
        generator: Some(Generator {
            value: "wirefeed".to_owned(),
            version: Some(env!("CARGO_PKG_VERSION").to_owned()),
            ..Default::default()
        }),
        links,
        entries,
        lang: Some(feed.site.language.clone()),
        ..Default::default()
    };
    let mut doc = doc;
    if !deleted.is_empty() {
        doc.namespaces.insert("at".to_owned(), TOMBSTONES.to_owned());
    }
    let mut out =
        doc.write_to(Vec::with_capacity(feed_capacity(&feed.page.articles))).expect("writing Atom into memory");
    if !deleted.is_empty() {
        // RFC 4287 puts a feed's extension elements before its entries; the
        // writer puts them after, so the tombstones are placed by hand.
        let stones: String = deleted
            .iter()
            .map(|(id, when)| {
                let when = when.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
                format!("<at:deleted-entry ref=\"{}\" when=\"{when}\"/>", quick_xml::escape::escape(id.urn()))
            })
            .collect();
        let at = find(&out, b"<entry>").or_else(|| find(&out, b"</feed>")).unwrap_or(out.len());
        out.splice(at..at, stones.into_bytes());
    }
    out
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
fn link(rel: &str, href: String, media_type: Option<&str>) -> Link {
    Link { rel: rel.to_owned(), href, mime_type: media_type.map(str::to_owned), ..Default::default() }
}
