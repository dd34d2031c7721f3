//! Feeds every reader accepts: validity, links, dates, paging, HTTP caching.

use std::io::Read;
use std::process::Command;

use crate::helpers::*;

/// Validates an Atom document against the RFC 4287 RELAX NG grammar with jing.
fn jing_valid(xml: &str) {
    if Command::new("jing").arg("-h").output().is_err() {
        assert!(std::env::var_os("CI").is_none(), "jing is not installed (CI installs it: apt-get install jing)");
        eprintln!("note: jing not installed; skipping the RELAX NG check");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("feed.atom");
    std::fs::write(&file, xml).unwrap();
    let schema = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/schemas/atom.rnc");
    let out = Command::new("jing").arg("-c").arg(schema).arg(&file).output().unwrap();
    assert!(out.status.success(), "Atom not valid per RFC 4287:\n{}\n{xml}", String::from_utf8_lossy(&out.stdout));
}

/// Validates RSS with the rss crate's validation rules.
fn rss_valid(xml: &str) -> rss::Channel {
    let channel = rss::Channel::read_from(xml.as_bytes()).expect("RSS parses");
    rss::validation::Validate::validate(&channel).unwrap_or_else(|e| panic!("RSS invalid: {e}\n{xml}"));
    channel
}

/// Checks JSON Feed 1.1's required members.
fn json_feed_valid(body: &str) -> serde_json::Value {
    let v: serde_json::Value = serde_json::from_str(body).expect("JSON Feed is JSON");
    assert_eq!(v["version"], "https://jsonfeed.org/version/1.1");
    assert!(v["title"].is_string());
    for item in v["items"].as_array().expect("items") {
        assert!(item["id"].is_string(), "{item}");
        assert!(item["content_html"].is_string() || item["content_text"].is_string(), "{item}");
    }
    parse_feed(body.as_bytes());
    v
}

/// Every href/src/url in a document is absolute.
fn no_relative_urls(doc: &str) {
    for attr in ["href=\"", "src=\"", "xmlUrl=\"", "htmlUrl=\""] {
        for (at, _) in doc.match_indices(attr) {
            let rest = &doc[at + attr.len()..];
            assert!(
                rest.starts_with("http://") || rest.starts_with("https://"),
                "relative URL at {}",
                &doc[at..at + 60]
            );
        }
    }
}

#[test]
fn every_document_is_valid_and_links_absolutely() {
    let server = TestServer::start();
    server.import_new(story(
        "Second story with <b>markup</b> & ]]> in it",
        "Middle East & Africa",
        "Wed, 27/07/2016 - 08:00",
        "A paragraph with \"quotes\", <script>alert(1)</script>, ]]> and an emoji 🦀.\n\nمرحبا بالعالم \u{202E}reversed\u{202C} text.",
    ));
    for path in ["/atom.xml", "/sections/world/atom.xml", "/sections/middle-east-africa/atom.xml"] {
        let body = server.text(path);
        jing_valid(&body);
        no_relative_urls(&body);
        let feed = parse_feed(body.as_bytes());
        let self_link = feed.links.iter().find(|l| l.rel.as_deref() == Some("self")).expect("self link");
        assert_eq!(self_link.href, server.url(path), "self link is the fetched URL");
        assert!(feed.links.iter().any(|l| l.rel.as_deref() == Some("alternate")));
        for entry in &feed.entries {
            assert!(entry.id.starts_with("urn:uuid:"), "{}", entry.id);
        }
    }
    for path in ["/rss.xml", "/sections/world/rss.xml", "/sections/middle-east-africa/rss.xml"] {
        let body = server.text(path);
        let channel = rss_valid(&body);
        no_relative_urls(&body);
        let self_link = &channel.atom_ext().unwrap().links()[0];
        assert_eq!((self_link.rel(), self_link.href()), ("self", server.url(path).as_str()));
        assert_eq!(channel.language(), Some("en"));
        assert!(channel.ttl().is_some() && channel.generator().is_some());
        for item in channel.items() {
            let date = item.pub_date().unwrap();
            chrono::DateTime::parse_from_rfc2822(date).unwrap_or_else(|e| panic!("{date}: {e}"));
            assert!(date.ends_with("+0000"), "numeric zone: {date}");
            assert!(!item.guid().unwrap().is_permalink());
            assert!(item.author().is_none(), "bylines go to dc:creator, never author");
            let desc = body.find("<description>").unwrap();
            assert!(desc < body.find("<content:encoded>").unwrap(), "description before content:encoded");
        }
    }
    for path in ["/feed.json", "/sections/middle-east-africa/feed.json"] {
        let body = server.text(path);
        let v = json_feed_valid(&body);
        assert_eq!(v["feed_url"], server.url(path));
    }
    let opml = server.text("/opml.xml");
    roxmltree::Document::parse(&opml).expect("OPML is XML");
    no_relative_urls(&opml);
    assert!(opml.contains(&server.url("/sections/middle-east-africa/rss.xml")));
    assert!(opml.contains(&server.url("/sections/world/rss.xml")));

    let hostile = parse_feed(server.text("/sections/middle-east-africa/atom.xml").as_bytes());
    let entry = &hostile.entries[0];
    assert_eq!(entry.title.as_ref().unwrap().content, "Second story with <b>markup</b> & ]]> in it");
    let content = entry.content.as_ref().unwrap().body.clone().unwrap();
    assert!(content.contains("alert(1)") && !content.contains("<script>"), "markup is text: {content}");
    assert!(content.contains("🦀") && content.contains("مرحبا"));
    let page = server.text(&format!("/articles/{}", hostile_id(&server)));
    assert!(page.contains("alert(1)") && !page.contains("<script>"), "escaped on the page");
    assert!(page.contains("<link rel=\"alternate\" type=\"application/atom+xml\""), "autodiscovery");
}

fn hostile_id(server: &TestServer) -> String {
    let feed: serde_json::Value = serde_json::from_str(&server.text("/sections/middle-east-africa/feed.json")).unwrap();
    feed["items"][0]["url"].as_str().unwrap().rsplit('/').next().unwrap().to_owned()
}

#[test]
fn stories_with_the_same_time_get_distinct_updated_instants() {
    let server = TestServer::start();
    for n in 0..3 {
        server.import_new(story(&format!("Same minute {n}"), "Sport", "Tue, 26/07/2016 - 20:33", "Text."));
    }
    let feed = parse_feed(server.text("/sections/sport/atom.xml").as_bytes());
    let mut updated: Vec<_> = feed.entries.iter().map(|e| e.updated.unwrap()).collect();
    assert_eq!(updated.len(), 3);
    updated.dedup();
    assert_eq!(updated.len(), 3, "distinct updated instants");
}

#[test]
fn future_times_are_clamped_to_the_receive_time() {
    let server = TestServer::start();
    let before = chrono::Utc::now();
    let answer = server.import_new(story("From the future", "World", "Tue, 26/07/2099 - 20:33", "Text."));
    assert!(answer["warnings"].to_string().contains("after the receive time"));
    let feed = parse_feed(server.text("/sections/world/rss.xml").as_bytes());
    let entry = feed.entries.iter().find(|e| e.title.as_ref().unwrap().content == "From the future").unwrap();
    let published = entry.published.unwrap();
    assert!(published >= before - chrono::Duration::seconds(1) && published <= chrono::Utc::now());
}

#[test]
fn conditional_requests_get_304_without_a_body() {
    let server = TestServer::start();
    // The seed was stored this second.
    wait_for_next_second();
    for path in ["/rss.xml", "/sections/world/atom.xml", "/feed.json", "/opml.xml", "/", "/sections/world"] {
        let res = server.get(path);
        assert_eq!(res.status(), 200);
        let etag = res.headers()["etag"].to_str().unwrap().to_owned();
        assert!(etag.starts_with('"') && !etag.starts_with("W/"), "strong ETag: {etag}");
        let last_modified = res.headers()["last-modified"].to_str().unwrap().to_owned();
        assert_eq!(res.headers()["cache-control"], "public, max-age=300");
        assert_eq!(res.headers()["vary"], "Accept-Encoding");
        assert!(res.headers().get("expires").is_none());
        let again = server.get(path);
        assert_eq!(again.headers()["etag"].to_str().unwrap(), etag, "unchanged document, unchanged ETag");

        for inm in [etag.clone(), format!("\"nope\", {etag}"), "*".to_owned(), format!("W/{etag}")] {
            let res = server.client().get(server.url(path)).header("if-none-match", &inm).send().unwrap();
            assert_eq!(res.status(), 304, "{path} If-None-Match: {inm}");
            assert_eq!(res.headers()["etag"].to_str().unwrap(), etag);
            assert!(res.bytes().unwrap().is_empty());
        }
        let res = server.client().get(server.url(path)).header("if-none-match", "\"other\"").send().unwrap();
        assert_eq!(res.status(), 200);
        let res = server.client().get(server.url(path)).header("if-modified-since", &last_modified).send().unwrap();
        assert_eq!(res.status(), 304, "{path} If-Modified-Since equal");
        let later = "Fri, 01 Jan 2100 00:00:00 GMT";
        let res = server.client().get(server.url(path)).header("if-modified-since", later).send().unwrap();
        assert_eq!(res.status(), 304, "{path} If-Modified-Since later (reader's own clock)");
        let earlier = "Thu, 01 Jan 2015 00:00:00 GMT";
        let res = server.client().get(server.url(path)).header("if-modified-since", earlier).send().unwrap();
        assert_eq!(res.status(), 200, "{path} If-Modified-Since earlier");
    }
}

#[test]
fn an_import_changes_the_etag_and_shows_in_the_next_request() {
    let server = TestServer::start();
    let before = server.get("/sections/world/rss.xml").headers()["etag"].to_str().unwrap().to_owned();
    let other = server.get("/sections/sport/rss.xml").status();
    assert_eq!(other, 404);
    server.import_new(story("Fresh news", "World", "Wed, 27/07/2016 - 10:00", "Text."));
    let res =
        server.client().get(server.url("/sections/world/rss.xml")).header("if-none-match", &before).send().unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.text().unwrap().contains("Fresh news"));
}

#[test]
fn head_answers_like_get_without_a_body() {
    let server = TestServer::start();
    let get = server.get("/rss.xml");
    let len = get.bytes().unwrap().len();
    let head = server.client().head(server.url("/rss.xml")).send().unwrap();
    assert_eq!(head.status(), 200);
    assert_eq!(head.headers()["content-type"], "application/rss+xml; charset=utf-8");
    assert_eq!(head.headers()["content-length"].to_str().unwrap(), len.to_string());
    assert!(head.headers().get("etag").is_some());
    assert!(head.bytes().unwrap().is_empty());
}

#[test]
fn gzip_and_brotli_decode_to_the_same_document() {
    let server = TestServer::start();
    let plain = server.get("/sections/world/atom.xml").bytes().unwrap();
    let res =
        server.client().get(server.url("/sections/world/atom.xml")).header("accept-encoding", "gzip").send().unwrap();
    assert_eq!(res.headers()["content-encoding"], "gzip");
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(&res.bytes().unwrap()[..]).read_to_end(&mut out).unwrap();
    assert_eq!(out, plain);
    let res = server
        .client()
        .get(server.url("/sections/world/atom.xml"))
        .header("accept-encoding", "gzip, br")
        .send()
        .unwrap();
    assert_eq!(res.headers()["content-encoding"], "br");
    let mut out = Vec::new();
    brotli::BrotliDecompress(&mut &res.bytes().unwrap()[..], &mut out).unwrap();
    assert_eq!(out, plain);
    let res =
        server.client().get(server.url("/sections/world/atom.xml")).header("accept-encoding", "br;q=0").send().unwrap();
    assert!(res.headers().get("content-encoding").is_none());
}

/// Follows `next` links from the first page; returns the titles in order.
fn walk_pages(server: &TestServer, first: &str) -> Vec<String> {
    let mut url = server.url(first);
    let mut titles = Vec::new();
    for _ in 0..50 {
        let body = server.client().get(&url).send().unwrap().text().unwrap();
        jing_valid(&body);
        let feed = parse_feed(body.as_bytes());
        titles.extend(feed.entries.iter().map(|e| e.title.as_ref().unwrap().content.clone()));
        match feed.links.iter().find(|l| l.rel.as_deref() == Some("next")) {
            Some(next) => url = next.href.clone(),
            None => return titles,
        }
    }
    panic!("paging does not end");
}

#[test]
fn paging_follows_rfc_5005_and_survives_new_stories() {
    let server = TestServer::start_with(&[("WIREFEED_FEED_ITEMS", "2")]);
    for n in 1..=5 {
        server.import_new(story(&format!("Paged {n}"), "World", &format!("Wed, 27/07/2016 - 1{n}:00"), "Text."));
    }
    let all = walk_pages(&server, "/sections/world/atom.xml");
    assert_eq!(
        all,
        [
            "Paged 5",
            "Paged 4",
            "Paged 3",
            "Paged 2",
            "Paged 1",
            "Russia, US work on Syria cooperation plan as UN seeks new peace talks"
        ]
    );

    // Start paging, then a new story arrives: the older pages stay exact.
    let first = parse_feed(server.text("/sections/world/atom.xml").as_bytes());
    let next = first.links.iter().find(|l| l.rel.as_deref() == Some("next")).unwrap().href.clone();
    server.import_new(story("Breaking", "World", "Thu, 28/07/2016 - 09:00", "Text."));
    let second = parse_feed(server.client().get(&next).send().unwrap().bytes().unwrap().as_ref());
    let titles: Vec<_> = second.entries.iter().map(|e| e.title.as_ref().unwrap().content.clone()).collect();
    assert_eq!(titles, ["Paged 3", "Paged 2"]);
    let prev = second.links.iter().find(|l| l.rel.as_deref() == Some("previous")).expect("previous link");
    assert!(second.links.iter().any(|l| l.rel.as_deref() == Some("first")));
    let newer = parse_feed(server.client().get(&prev.href).send().unwrap().bytes().unwrap().as_ref());
    let titles: Vec<_> = newer.entries.iter().map(|e| e.title.as_ref().unwrap().content.clone()).collect();
    assert_eq!(titles, ["Paged 5", "Paged 4"]);
    let rss = server.text("/sections/world/rss.xml");
    assert!(rss.contains("rel=\"next\""));
}

#[test]
fn unknown_sections_and_articles_are_404_not_500() {
    let server = TestServer::start();
    for path in ["/sections/nope/rss.xml", "/sections/nope/atom.xml", "/sections/NOPE/feed.json", "/articles/nope.json"]
    {
        let res = server.get(path);
        assert_eq!(res.status(), 404, "{path}");
        let json: serde_json::Value = res.json().unwrap();
        assert_eq!(json["error"], "not_found");
    }
    for path in ["/sections/nope", "/articles/2016-01-01-nope", "/articles/..%2F..%2Fetc"] {
        let res = server.get(path);
        assert_eq!(res.status(), 404, "{path}");
        assert!(res.text().unwrap().contains("<h1>Not found</h1>"));
    }
    let res = server.get("/rss.xml?before=notanumber");
    assert_eq!(res.status(), 400);
}

#[test]
fn related_stories_link_once_they_are_stored() {
    let server = TestServer::start();
    let path = format!("/articles/{SEED_ID}");
    let page = server.text(&path);
    assert!(page.contains("<strong>Russia blocks UN resolution for ceasefire in Aleppo</strong>"), "not linked yet");
    let answer = server.import_new(story(
        "Russia blocks UN resolution for ceasefire in Aleppo",
        "World",
        "Mon, 05/12/2016 - 18:00",
        "Russia blocks a resolution in the UN Security Council.",
    ));
    let page = server.text(&path);
    let link = format!("<a href=\"{}\">Russia blocks UN resolution", answer["url"].as_str().unwrap());
    assert!(page.contains(&link), "the cached page was invalidated and links the story");
}
