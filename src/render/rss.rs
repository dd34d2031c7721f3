//! RSS 2.0 with the `atom:link` self/paging links, `content:encoded` for the
//! full story and `dc:creator` for bylines (RSS `author` must be an e-mail).

use rss::extension::atom::{AtomExtension, Link};
use rss::extension::dublincore::DublinCoreExtension;
use rss::{Category, Channel, Guid, Item};

use super::{byline, content_html, feed_capacity, html, FeedPage, Format, GENERATOR};

/// Renders one RSS page.
pub fn render(feed: &FeedPage<'_>) -> Vec<u8> {
    let mut links = vec![link("self", feed.self_url(Format::Rss), Some(Format::Rss.media_type()))];
    links.push(link("first", feed.feed_url(Format::Rss, None), None));
    if let Some(next) = feed.next_url(Format::Rss) {
        links.push(link("next", next, None));
    }
    if let Some(prev) = feed.prev_url(Format::Rss) {
        links.push(link("previous", prev, None));
    }
    links.extend(feed.hubs().map(|hub| link("hub", hub.clone(), None)));
    let updated = feed.updated().to_rfc2822();
    let items = feed
        .page
        .articles
        .iter()
        .map(|article| {
            let mut categories = vec![Category { name: article.section.name.clone(), domain: None }];
            if article.wire.is_urgent() {
                categories.push(Category { name: super::URGENT.to_owned(), domain: None });
            }
            let creators = byline(&article.authors).into_iter().collect::<Vec<_>>();
            Item {
                title: Some(article.headline.clone()),
                link: Some(feed.base.article(&article.id)),
                // Readers take `description` as HTML: escaped, it shows the text as it is.
                description: Some(html::text_as_html(article.summary())),
                categories,
                guid: Some(Guid { value: article.id.urn(), permalink: false }),
                pub_date: Some(article.published.to_rfc2822()),
                content: Some(content_html(article)),
                dublin_core_ext: (!creators.is_empty()).then(|| DublinCoreExtension { creators, ..Default::default() }),
                ..Default::default()
            }
        })
        .collect();
    let channel = Channel {
        title: feed.title(),
        link: feed.html_url(),
        description: feed.description(),
        language: Some(feed.site.language.clone()),
        pub_date: Some(updated.clone()),
        last_build_date: Some(updated),
        generator: Some(GENERATOR.to_owned()),
        ttl: Some((feed.site.max_age / 60).max(1).to_string()),
        atom_ext: Some(AtomExtension { links }),
        items,
        ..Default::default()
    };
    // Writing into a Vec cannot fail.
    channel.write_to(Vec::with_capacity(feed_capacity(&feed.page.articles))).expect("writing RSS into memory")
}

fn link(rel: &str, href: String, media_type: Option<&str>) -> Link {
    Link { rel: rel.to_owned(), href, mime_type: media_type.map(str::to_owned), ..Default::default() }
}
