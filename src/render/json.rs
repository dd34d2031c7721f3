//! JSON Feed 1.1 (<https://www.jsonfeed.org/version/1.1/>), written by serde.

use serde::Serialize;

use super::{byline, content_html, feed_capacity, FeedPage, Format};

#[derive(Serialize)]
struct JsonFeed<'a> {
    version: &'static str,
    title: String,
    home_page_url: String,
    feed_url: String,
    description: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_url: Option<String>,
    language: &'a str,
    authors: Vec<Author>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    hubs: Vec<Hub<'a>>,
    items: Vec<JsonItem>,
}

#[derive(Serialize)]
struct Hub<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    url: &'a str,
}

#[derive(Serialize)]
struct Author {
    name: String,
}

#[derive(Serialize)]
struct JsonItem {
    id: String,
    url: String,
    title: String,
    content_html: String,
    summary: String,
    date_published: String,
    date_modified: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    authors: Vec<Author>,
    tags: Vec<String>,
}

/// Renders one JSON Feed page.
pub fn render(feed: &FeedPage<'_>) -> Vec<u8> {
    let items = feed
        .page
        .articles
        .iter()
        .map(|article| JsonItem {
            id: article.id.urn(),
            url: feed.base.article(&article.id),
            title: article.headline.clone(),
            content_html: content_html(article),
            summary: article.summary().to_owned(),
            date_published: article.published.to_rfc3339(),
            date_modified: article.sort_instant().to_rfc3339(),
            authors: byline(&article.authors).map(|name| vec![Author { name }]).unwrap_or_default(),
            tags: std::iter::once(article.section.name.clone())
                .chain(article.wire.is_urgent().then(|| super::URGENT.to_owned()))
                .collect(),
        })
        .collect();
    let doc = JsonFeed {
        version: "https://jsonfeed.org/version/1.1",
        title: feed.title(),
        home_page_url: feed.html_url(),
        feed_url: feed.self_url(Format::Json),
        description: feed.description(),
        next_url: feed.next_url(Format::Json),
        language: &feed.site.language,
        authors: vec![Author { name: feed.site.title.clone() }],
        hubs: feed.hubs().map(|url| Hub { kind: "WebSub", url }).collect(),
        items,
    };
    let mut out = Vec::with_capacity(feed_capacity(&feed.page.articles));
    serde_json::to_writer_pretty(&mut out, &doc).expect("serialising JSON Feed");
    out
}
