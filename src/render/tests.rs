//! Round trips: render, read back with the feed crates, compare.

use chrono::{TimeZone, Utc};

use super::*;
use crate::domain::{ArticleId, Dateline, Related, Section, SectionMeta, TimeSource};

fn article(n: u64, authors: &[&str]) -> Article {
    let published = Utc.with_ymd_and_hms(2016, 7, 26, 20, 33, 0).unwrap();
    Article {
        id: ArticleId::parse(&format!("2016-07-26-story-{n}")).unwrap(),
        section: Section::from_name("World").unwrap(),
        headline: format!("Story {n} & <friends>"),
        paragraphs: vec!["GENEVA (Reuters) - First ]]> paragraph.".into(), "Second \"paragraph\".".into()],
        authors: authors.iter().map(|a| a.to_string()).collect(),
        dateline: Some(Dateline { place: "GENEVA".into(), agency: Some("Reuters".into()) }),
        related: vec![Related { headline: "Other".into(), teaser: "Teaser...".into() }],
        published,
        date_only: false,
        updated: None,
        received: published,
        time_source: TimeSource::Parsed,
        order: n,
        source_hash: String::new(),
        wire: Default::default(),
        notes: Vec::new(),
        correction: None,
        embargo: None,
    }
}

fn page(articles: Vec<Article>) -> Page {
    Page { articles, next: Some(42), prev: None }
}

/// When the scope last changed: later than any story, with a fraction.
fn changed() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2016, 7, 27, 9, 0, 5).unwrap() + chrono::Duration::microseconds(250)
}

fn site() -> Site {
    Site { title: "Wire & Co".into(), language: "en".into(), max_age: 300, hubs: Vec::new() }
}

#[test]
fn rss_round_trips_with_creators_and_paging_links() {
    let (site, base) = (site(), Base::new("https://example.org/news"));
    let page = page(vec![article(2, &["Jane Doe", "John Roe"]), article(1, &[])]);
    let scope = Scope::section(&page.articles[0].section);
    let feed =
        FeedPage { site: &site, base: &base, scope: &scope, page: &page, cursor: None, changed: Some(changed()) };
    let xml = String::from_utf8(rss::render(&feed)).unwrap();
    let channel = ::rss::Channel::read_from(xml.as_bytes()).unwrap();
    ::rss::validation::Validate::validate(&channel).unwrap();
    assert_eq!(channel.link(), "https://example.org/news/sections/world");
    let item = &channel.items()[0];
    assert_eq!(item.title(), Some("Story 2 & <friends>"));
    assert_eq!(item.link(), Some("https://example.org/news/articles/2016-07-26-story-2"));
    assert_eq!(item.dublin_core_ext().unwrap().creators(), ["Jane Doe and John Roe"]);
    assert!(item.author().is_none());
    assert!(
        item.content().unwrap().contains("]]&#62; paragraph") || item.content().unwrap().contains("]]&gt; paragraph")
    );
    let links = channel.atom_ext().unwrap().links();
    assert!(links
        .iter()
        .any(|l| l.rel() == "next" && l.href() == "https://example.org/news/sections/world/rss.xml?before=42"));
    assert!(xml.contains("xmlns:dc=\"http://purl.org/dc/elements/1.1/\""));
}

#[test]
fn atom_round_trips() {
    let (site, base) = (site(), Base::new("https://example.org/"));
    let page = page(vec![article(2, &["Jane Doe"])]);
    let scope = Scope::all(&site);
    let feed =
        FeedPage { site: &site, base: &base, scope: &scope, page: &page, cursor: Some(7), changed: Some(changed()) };
    let xml = atom::render(&feed);
    let doc = atom_syndication::Feed::read_from(&xml[..]).unwrap();
    assert_eq!(doc.lang(), Some("en"));
    let self_link = doc.links().iter().find(|l| l.rel() == "self").unwrap();
    assert_eq!(self_link.href(), "https://example.org/atom.xml?before=7");
    let entry = &doc.entries()[0];
    assert_eq!(entry.title().as_str(), "Story 2 & <friends>");
    assert_eq!(entry.authors()[0].name(), "Jane Doe");
    assert_eq!(entry.content().unwrap().content_type(), Some("html"));
    assert_eq!(entry.updated().to_rfc3339(), "2016-07-26T20:33:00.000002+00:00", "sub-second order");
}

#[test]
fn json_feed_round_trips() {
    let (site, base) = (site(), Base::new("https://example.org/"));
    let page = page(vec![article(1, &[])]);
    let scope = Scope::all(&site);
    let feed =
        FeedPage { site: &site, base: &base, scope: &scope, page: &page, cursor: None, changed: Some(changed()) };
    let v: serde_json::Value = serde_json::from_slice(&json::render(&feed)).unwrap();
    assert_eq!(v["version"], "https://jsonfeed.org/version/1.1");
    assert_eq!(v["next_url"], "https://example.org/feed.json?before=42");
    assert_eq!(v["items"][0]["title"], "Story 1 & <friends>");
    assert!(v["items"][0]["id"].as_str().unwrap().starts_with("urn:uuid:"));
}

#[test]
fn article_page_escapes_and_links_stored_related_stories() {
    let (site, base) = (site(), Base::new("https://example.org/"));
    let a = article(1, &["Jane Doe"]);
    let other = ArticleId::parse("2016-07-26-other").unwrap();
    let html = String::from_utf8(html::article(&site, &base, &a, &[Some(other)])).unwrap();
    assert!(html.contains("Story 1 &amp; &lt;friends&gt;") || html.contains("Story 1 &#38; &#60;friends&#62;"));
    assert!(html.contains("href=\"https://example.org/articles/2016-07-26-other\""));
    assert!(html.contains("By Jane Doe"));
    assert!(html.contains("GENEVA (Reuters)"));
    assert!(html.contains("<link rel=\"alternate\" type=\"application/rss+xml\""));
}

#[test]
fn a_feed_is_dated_by_when_its_scope_changed_to_the_second() {
    let (site, base) = (site(), Base::new("https://example.org/"));
    let page = page(vec![article(1, &[])]);
    let scope = Scope::all(&site);
    let feed =
        FeedPage { site: &site, base: &base, scope: &scope, page: &page, cursor: None, changed: Some(changed()) };
    let channel = ::rss::Channel::read_from(&rss::render(&feed)[..]).unwrap();
    assert_eq!(channel.last_build_date(), Some("Wed, 27 Jul 2016 09:00:05 +0000"));
    let doc = atom_syndication::Feed::read_from(&atom::render(&feed)[..]).unwrap();
    assert_eq!(doc.updated().to_rfc3339(), "2016-07-27T09:00:05+00:00");
}

#[test]
fn rss_descriptions_are_html_that_shows_the_text_and_feed_html_escapes_only_what_html_needs() {
    let (site, base) = (site(), Base::new("https://example.org/"));
    let mut a = article(1, &[]);
    a.paragraphs = vec!["AT&T <T> agreed, it's \"final\".".into(), "Second & last.".into()];
    let page = page(vec![a]);
    let scope = Scope::all(&site);
    let feed =
        FeedPage { site: &site, base: &base, scope: &scope, page: &page, cursor: None, changed: Some(changed()) };
    let channel = ::rss::Channel::read_from(&rss::render(&feed)[..]).unwrap();
    let item = &channel.items()[0];
    assert_eq!(item.description(), Some("AT&amp;T &lt;T&gt; agreed, it's \"final\"."));
    assert_eq!(item.content(), Some("<p>AT&amp;T &lt;T&gt; agreed, it's \"final\".</p>\n<p>Second &amp; last.</p>"));
    let v: serde_json::Value = serde_json::from_slice(&json::render(&feed)).unwrap();
    let html = v["items"][0]["content_html"].as_str().unwrap();
    assert!(html.starts_with("<p>AT&amp;T &lt;T&gt; agreed, it's \"final\".</p>"), "{html}");
    assert!(!html.contains("&#39;") && !html.contains("&quot;"), "{html}");
}

#[test]
fn opml_lists_each_section_feed_once_and_not_the_all_sections_feed() {
    let (site, base) = (site(), Base::new("https://example.org/"));
    let sections: Vec<_> = ["World", "Sport"]
        .into_iter()
        .map(|name| SectionMeta { section: Section::from_name(name).unwrap(), count: 1, newest: None })
        .collect();
    let xml = String::from_utf8(opml::render(&site, &base, &sections, changed())).unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let urls: Vec<_> = doc.descendants().filter_map(|n| n.attribute("xmlUrl")).collect();
    assert_eq!(urls, ["https://example.org/sections/world/rss.xml", "https://example.org/sections/sport/rss.xml"]);
}
