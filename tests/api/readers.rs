//! What readers see through imports, updates in place, deletes and restarts:
//! every change reaches readers that poll with `If-Modified-Since` alone,
//! text shows as sent, the OPML subscribes to each story once, an emptied
//! section stays a valid feed, and paging reaches every story once.

use std::collections::{BTreeSet, HashSet};
use std::path::Path;
use std::process::Command;

use reqwest::blocking::Response;

use crate::helpers::*;

const WORLD_FEEDS: [&str; 3] = ["/sections/world/rss.xml", "/sections/world/atom.xml", "/sections/world/feed.json"];
const ALL_FEEDS: [&str; 3] = ["/rss.xml", "/atom.xml", "/feed.json"];

fn delete(server: &TestServer, id: &str) {
    let res = server.client().delete(server.url(&format!("/articles/{id}"))).bearer_auth(TOKEN).send().unwrap();
    assert_eq!(res.status(), 200, "DELETE {id}");
}

fn get_since(server: &TestServer, path: &str, since: &str) -> Response {
    server.client().get(server.url(path)).header("if-modified-since", since).send().unwrap()
}

fn last_modified(res: &Response) -> String {
    let lm = res.headers().get("last-modified").unwrap_or_else(|| panic!("no Last-Modified: {}", res.url()));
    lm.to_str().unwrap().to_owned()
}

fn http_date(value: &str) -> chrono::DateTime<chrono::FixedOffset> {
    chrono::DateTime::parse_from_rfc2822(value).unwrap_or_else(|e| panic!("{value:?}: {e}"))
}

/// A reader's poll with only the date it was given last: the new body and
/// date (none within the second of the change) when the document changed
/// since, else `None` (a 304).
fn poll(server: &TestServer, path: &str, since: &str) -> Option<(String, Option<String>)> {
    let res = get_since(server, path, since);
    match res.status().as_u16() {
        304 => None,
        200 => {
            let lm = res.headers().get("last-modified").map(|v| v.to_str().unwrap().to_owned());
            Some((res.text().unwrap(), lm))
        }
        other => panic!("{path}: {other}"),
    }
}

#[test]
fn readers_polling_with_if_modified_since_alone_see_updates_of_older_stories_and_deletes_of_the_newest() {
    let server = TestServer::start();
    server.import_new(story("Older story", "World", "Tue, 26/07/2016 - 20:00", "The old text."));
    let newest = server.import_new(story("Newest story", "World", "Wed, 27/07/2016 - 09:00", "Newest text."));
    let newest_id = newest["id"].as_str().unwrap();
    let mut paths: Vec<String> = WORLD_FEEDS.iter().chain(&ALL_FEEDS).map(|p| p.to_string()).collect();
    paths.extend(["/".into(), "/sections/world".into(), "/opml.xml".into()]);
    wait_for_next_second();
    let mut held: Vec<String> = paths.iter().map(|p| last_modified(&server.get(p))).collect();
    for (path, since) in paths.iter().zip(&held) {
        assert!(poll(&server, path, since).is_none(), "{path}: unchanged, 304");
    }

    // An update in place of the older story: the newest story's time stays.
    let res = server.import(story("Older story", "World", "Tue, 26/07/2016 - 20:05", "The updated text."), "");
    assert_eq!(res.status(), 200);
    for (path, since) in paths.iter().zip(&held) {
        let Some((body, _)) = poll(&server, path, since) else { panic!("{path}: 304 after an update") };
        if path != "/opml.xml" {
            assert!(body.contains("The updated text."), "{path}: {body}");
            assert!(!body.contains("The old text."), "{path}");
        }
    }
    // The date a reader is given once the second of the change is over.
    wait_for_next_second();
    for (path, since) in paths.iter().zip(held.iter_mut()) {
        let (_, lm) = poll(&server, path, since).expect("still newer than what the reader held");
        let lm = lm.expect("dated once the second is over");
        assert!(http_date(&lm) > http_date(since), "{path}: {lm} after {since}");
        assert!(poll(&server, path, &lm).is_none(), "{path}: 304 for the new date");
        *since = lm;
    }

    // Feeds carry that date as their own.
    let rss = rss::Channel::read_from(server.text("/sections/world/rss.xml").as_bytes()).unwrap();
    assert_eq!(http_date(rss.last_build_date().unwrap()), http_date(&held[0]));
    let atom = parse_feed(server.text("/sections/world/atom.xml").as_bytes());
    assert_eq!(atom.updated.unwrap(), http_date(&held[1]));

    // A delete of the newest story moves the date forward, not back.
    delete(&server, newest_id);
    for (path, since) in paths.iter().zip(&held) {
        let Some((body, _)) = poll(&server, path, since) else { panic!("{path}: 304 after a delete") };
        assert!(!body.contains("Newest story"), "{path}: {body}");
    }
    wait_for_next_second();
    for (path, since) in paths.iter().zip(&held) {
        let lm = last_modified(&server.get(path));
        assert!(http_date(&lm) > http_date(since), "{path}: {lm} after {since}");
    }
}

#[test]
fn a_change_within_the_second_a_reader_polled_in_still_reaches_it() {
    let server = TestServer::start();
    wait_for_next_second();
    let path = "/sections/world/rss.xml";
    let since = last_modified(&server.get(path));
    // Poll, change, poll again, all within one second if the machine is quick.
    assert!(poll(&server, path, &since).is_none());
    server.import_new(story("Fresh", "World", "Wed, 27/07/2016 - 09:00", "Fresh text."));
    let res = get_since(&server, path, &since);
    assert_eq!(res.status(), 200);
    let dated = res.headers().get("last-modified").map(|v| v.to_str().unwrap().to_owned());
    assert!(res.text().unwrap().contains("Fresh text."));
    // Within the second of the change the answer is undated (a date of this
    // second could hide a second change within it); later it is dated.
    if let Some(lm) = dated {
        assert!(http_date(&lm) > http_date(&since));
    }
    server.import_new(story("Fresher", "World", "Wed, 27/07/2016 - 09:01", "Fresher text."));
    let res = get_since(&server, path, &since);
    assert_eq!(res.status(), 200);
    assert!(res.text().unwrap().contains("Fresher text."));
}

/// Readers' view of a feed through Python's feedparser (what `reader`,
/// rss2email and many others use); `None` when it is not installed outside CI.
fn feedparser(url: &str) -> Option<serde_json::Value> {
    let script = r#"
import json, sys, feedparser
d = feedparser.parse(sys.argv[1])
print(json.dumps([{"title": e.title, "title_type": e.title_detail.type,
                   "summary": e.summary, "summary_type": e.summary_detail.type} for e in d.entries]))
"#;
    let out = match Command::new("python3").arg("-c").arg(script).arg(url).output() {
        Ok(out) if out.status.success() => out,
        other => {
            assert!(
                std::env::var_os("CI").is_none(),
                "python3 with feedparser is needed (CI: pip install feedparser): {other:?}"
            );
            eprintln!("note: python3 feedparser not installed; skipping its check");
            return None;
        }
    };
    Some(serde_json::from_slice(&out.stdout).unwrap())
}

/// What an HTML renderer shows for a text node with these entities.
fn shown_as_html(html: &str) -> String {
    html.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&#39;", "'").replace("&amp;", "&")
}

#[test]
fn readers_show_exactly_the_story_text_in_every_format() {
    let server = TestServer::start();
    let headline = "AT&T <T> agreed";
    let text = "AT&T <T> agreed, it's \"final\" & <b>binding</b>.";
    server.import_new(story(headline, "Business", "Wed, 27/07/2016 - 09:00", &format!("{text}\n\nSecond paragraph.")));
    let rss = server.text("/sections/business/rss.xml");
    let doc = roxmltree::Document::parse(&rss).unwrap();
    let item = doc.descendants().find(|n| n.has_tag_name("item")).unwrap();
    let child = |name: &str| item.children().find(|n| n.has_tag_name(name)).unwrap().text().unwrap().to_owned();
    assert_eq!(child("title"), headline, "a title is text");
    let description = child("description");
    assert_eq!(description, "AT&amp;T &lt;T&gt; agreed, it's \"final\" &amp; &lt;b&gt;binding&lt;/b&gt;.");
    assert_eq!(shown_as_html(&description), text, "readers take description as HTML");
    let feed = parse_feed(rss.as_bytes());
    assert_eq!(feed.entries[0].title.as_ref().unwrap().content, headline);

    if let Some(entries) = feedparser(&server.url("/sections/business/rss.xml")) {
        let entry = &entries[0];
        assert_eq!(entry["title"], headline, "{entry}");
        assert_eq!(entry["summary_type"], "text/html", "{entry}");
        assert_eq!(shown_as_html(entry["summary"].as_str().unwrap()), text, "{entry}");
    }

    let json: serde_json::Value = serde_json::from_str(&server.text("/sections/business/feed.json")).unwrap();
    let html = json["items"][0]["content_html"].as_str().unwrap();
    assert_eq!(
        html,
        "<p>AT&amp;T &lt;T&gt; agreed, it's \"final\" &amp; &lt;b&gt;binding&lt;/b&gt;.</p>\n<p>Second paragraph.</p>\n"
    );
    assert_eq!(json["items"][0]["title"], headline);
    let atom = parse_feed(server.text("/sections/business/atom.xml").as_bytes());
    let content = atom.entries[0].content.as_ref().unwrap().body.as_ref().unwrap();
    assert!(content.starts_with("<p>AT&amp;T &lt;T&gt; agreed, it's \"final\""), "{content}");
}

#[test]
fn the_opml_subscribes_a_reader_to_each_story_once() {
    let server = TestServer::start();
    for (n, section) in ["Sport", "World", "Business", "Sport"].iter().enumerate() {
        server.import_new(story(&format!("Story {n}"), section, &format!("Wed, 27/07/2016 - 0{n}:00"), "Text."));
    }
    let opml = server.text("/opml.xml");
    let doc = roxmltree::Document::parse(&opml).unwrap();
    let urls: Vec<_> = doc.descendants().filter_map(|n| n.attribute("xmlUrl")).map(str::to_owned).collect();
    let expected: Vec<_> =
        ["business", "sport", "world"].iter().map(|s| server.url(&format!("/sections/{s}/rss.xml"))).collect();
    assert_eq!(urls, expected, "one feed per section, one format");
    // Subscribed to all of them, a reader gets every story exactly once.
    let mut ids = Vec::new();
    for url in &urls {
        let body = server.client().get(url).send().unwrap().bytes().unwrap();
        ids.extend(parse_feed(&body).entries.into_iter().map(|e| e.id));
    }
    let all: BTreeSet<_> = parse_feed(server.text("/rss.xml").as_bytes()).entries.into_iter().map(|e| e.id).collect();
    assert_eq!(ids.len(), all.len(), "{ids:?}");
    assert_eq!(ids.into_iter().collect::<BTreeSet<_>>(), all);
    // The all-sections feeds are still offered, on the home page.
    let home = server.text("/");
    for path in ALL_FEEDS {
        assert!(home.contains(&format!("href=\"{}\"", server.url(path))), "{path} on the home page");
    }
}

#[test]
fn a_section_emptied_by_deletes_answers_its_feeds_with_an_empty_document() {
    let server = TestServer::start();
    let answer = server.import_new(story("Only sport story", "Sport", "Wed, 27/07/2016 - 09:00", "Text."));
    delete(&server, answer["id"].as_str().unwrap());
    let check = |server: &TestServer| {
        for path in ["/sections/sport/rss.xml", "/sections/sport/atom.xml", "/sections/sport/feed.json"] {
            let res = server.get(path);
            assert_eq!(res.status(), 200, "{path}");
            let body = res.bytes().unwrap();
            let feed = parse_feed(&body);
            assert!(feed.entries.is_empty(), "{path}");
            assert!(feed.title.unwrap().content.contains("Sport"), "{path}");
        }
        let rss = rss::Channel::read_from(server.text("/sections/sport/rss.xml").as_bytes()).unwrap();
        rss::validation::Validate::validate(&rss).unwrap();
        let json: serde_json::Value = serde_json::from_str(&server.text("/sections/sport/feed.json")).unwrap();
        assert_eq!(json["items"], serde_json::json!([]));
        let page = server.text("/sections/sport");
        assert!(page.contains("<h1>Sport</h1>") && page.contains("This section has no stories."), "{page}");
        assert!(!server.text("/").contains("/sections/sport\""), "the home page lists sections with stories");
        // A section that never existed is still not found.
        assert_eq!(server.get("/sections/nope/rss.xml").status(), 404);
    };
    check(&server);
    let server = server.restart();
    check(&server);
}

/// Follows `next` links of an Atom feed from its first page: each entry's
/// title and `updated`.
fn walk_atom(server: &TestServer, first: &str) -> Vec<(String, String)> {
    let mut url = server.url(first);
    let mut entries = Vec::new();
    for _ in 0..100 {
        let feed = parse_feed(&server.client().get(&url).send().unwrap().bytes().unwrap());
        entries.extend(
            feed.entries.iter().map(|e| (e.title.as_ref().unwrap().content.clone(), e.updated.unwrap().to_rfc3339())),
        );
        match feed.links.iter().find(|l| l.rel.as_deref() == Some("next")) {
            Some(next) => url = next.href.clone(),
            None => return entries,
        }
    }
    panic!("paging does not end");
}

/// Follows `next_url` of a JSON Feed: each item's title.
fn walk_json(server: &TestServer, first: &str) -> Vec<String> {
    let mut url = server.url(first);
    let mut titles = Vec::new();
    for _ in 0..100 {
        let feed: serde_json::Value = server.client().get(&url).send().unwrap().json().unwrap();
        titles.extend(feed["items"].as_array().unwrap().iter().map(|i| i["title"].as_str().unwrap().to_owned()));
        match feed["next_url"].as_str() {
            Some(next) => url = next.to_owned(),
            None => return titles,
        }
    }
    panic!("paging does not end");
}

fn assert_each_once(walked: &[String], expected: &BTreeSet<String>, what: &str) {
    let unique: BTreeSet<_> = walked.iter().cloned().collect();
    assert_eq!(unique.len(), walked.len(), "{what}: a story twice: {walked:?}");
    assert_eq!(&unique, expected, "{what}");
}

#[test]
fn stories_of_one_second_imported_across_restarts_are_each_paged_once() {
    let mut server = TestServer::start_with(&[("WIREFEED_FEED_ITEMS", "2")]);
    let seed = "Russia, US work on Syria cooperation plan as UN seeks new peace talks".to_owned();
    let mut titles = BTreeSet::from([seed]);
    for run in 0..3 {
        for n in 0..3 {
            let headline = format!("Same second, run {run}, story {n}");
            let section = ["World", "Sport"][n % 2];
            server.import_new(story(&headline, section, "Wed, 27/07/2016 - 10:00", "First text."));
            titles.insert(headline);
        }
        // An update in place within the same second, of a story from an earlier run.
        let res = server.import(story("Same second, run 0, story 0", "World", "Wed, 27/07/2016 - 10:00", "New."), "");
        assert_eq!(res.status(), 200);
        server = server.restart();
    }
    let all = walk_atom(&server, "/atom.xml");
    let walked: Vec<_> = all.iter().map(|(t, _)| t.clone()).collect();
    assert_each_once(&walked, &titles, "/atom.xml");
    let instants: HashSet<_> = all.iter().map(|(_, u)| u.clone()).collect();
    assert_eq!(instants.len(), all.len(), "distinct Atom updated: {all:?}");
    assert_each_once(&walk_json(&server, "/feed.json"), &titles, "/feed.json");
    let world: BTreeSet<_> = titles.iter().filter(|t| !t.ends_with("story 1")).cloned().collect();
    let walked: Vec<_> = walk_atom(&server, "/sections/world/atom.xml").into_iter().map(|(t, _)| t).collect();
    assert_each_once(&walked, &world, "/sections/world/atom.xml");
}

#[test]
fn cursors_neither_skip_nor_repeat_when_stories_arrive_or_go_between_pages() {
    let server = TestServer::start_with(&[("WIREFEED_FEED_ITEMS", "3")]);
    let mut ids = Vec::new();
    for n in 0..9 {
        let answer =
            server.import_new(story(&format!("Story {n}"), "World", &format!("Wed, 27/07/2016 - 1{n}:00"), "."));
        ids.push(answer["id"].as_str().unwrap().to_owned());
    }
    let first = parse_feed(server.text("/sections/world/atom.xml").as_bytes());
    let mut seen: Vec<String> = first.entries.iter().map(|e| e.title.as_ref().unwrap().content.clone()).collect();
    assert_eq!(seen, ["Story 8", "Story 7", "Story 6"]);
    let mut next = first.links.iter().find(|l| l.rel.as_deref() == Some("next")).unwrap().href.clone();
    // Between pages: newer stories, one older than every other, deletes
    // of a story already read, of the one the cursor points at, and of one not yet reached.
    server.import_new(story("Newer", "World", "Thu, 28/07/2016 - 09:00", "."));
    server.import_new(story("Same second as the cursor", "World", "Wed, 27/07/2016 - 16:00", "."));
    server.import_new(story("Oldest", "World", "Mon, 25/07/2016 - 09:00", "."));
    delete(&server, &ids[7]);
    delete(&server, &ids[6]);
    delete(&server, &ids[2]);
    loop {
        let page = parse_feed(&server.client().get(&next).send().unwrap().bytes().unwrap());
        seen.extend(page.entries.iter().map(|e| e.title.as_ref().unwrap().content.clone()));
        match page.links.iter().find(|l| l.rel.as_deref() == Some("next")) {
            Some(link) => next = link.href.clone(),
            None => break,
        }
    }
    let seed = "Russia, US work on Syria cooperation plan as UN seeks new peace talks";
    assert_eq!(
        seen,
        ["Story 8", "Story 7", "Story 6", "Story 5", "Story 4", "Story 3", "Story 1", "Story 0", seed, "Oldest"]
    );
}

/// newsboat with its own configuration and cache in `dir`; `None` when it
/// is not installed outside CI.
fn newsboat(dir: &Path, url: &str) -> Option<impl Fn()> {
    if Command::new("newsboat").arg("-v").output().is_err() {
        assert!(
            std::env::var_os("CI").is_none(),
            "newsboat is not installed (CI installs it: apt-get install newsboat)"
        );
        eprintln!("note: newsboat not installed; skipping the newsboat test");
        return None;
    }
    std::fs::write(dir.join("urls"), format!("{url}\n")).unwrap();
    std::fs::write(dir.join("config"), "reload-threads 1\n").unwrap();
    let dir = dir.to_owned();
    Some(move || {
        let out = Command::new("newsboat")
            .args(["-x", "reload"])
            .arg("-u")
            .arg(dir.join("urls"))
            .arg("-c")
            .arg(dir.join("cache.db"))
            .arg("-C")
            .arg(dir.join("config"))
            .env("HOME", &dir)
            .env("XDG_CONFIG_HOME", dir.join("xdg-config"))
            .env("XDG_DATA_HOME", dir.join("xdg-data"))
            .output()
            .expect("running newsboat");
        assert!(out.status.success(), "newsboat reload: {}", String::from_utf8_lossy(&out.stderr));
    })
}

/// A query of newsboat's sqlite cache, with the sqlite3 command-line tool.
fn newsboat_cache(dir: &Path, sql: &str) -> String {
    let out =
        Command::new("sqlite3").arg(dir.join("cache.db")).arg(sql).output().expect("sqlite3 (apt-get install sqlite3)");
    assert!(out.status.success(), "sqlite3: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// newsboat's `Last-Modified` of the feed, as the `If-Modified-Since` it sends.
fn newsboat_date(dir: &Path) -> String {
    let secs: i64 = newsboat_cache(dir, "SELECT lastmodified FROM rss_feed;").trim().parse().unwrap();
    let date = chrono::DateTime::from_timestamp(secs, 0).unwrap();
    date.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

#[test]
fn newsboat_keeps_an_update_in_place_of_an_older_story_and_a_delete_answers_200_without_it() {
    let server = TestServer::start();
    let url = server.url("/sections/world/rss.xml");
    let dir = tempfile::tempdir().unwrap();
    let Some(reload) = newsboat(dir.path(), &url) else { return };
    let newest = server.import_new(story("Newest story", "World", "Wed, 27/07/2016 - 09:00", "Newest text."));
    for _ in 0..3 {
        reload();
    }
    let seed_guid = parse_feed(server.text("/sections/world/rss.xml").as_bytes())
        .entries
        .into_iter()
        .find(|e| e.links[0].href.ends_with(SEED_ID))
        .unwrap()
        .id;
    let dir = dir.path();
    let content = || newsboat_cache(dir, &format!("SELECT content FROM rss_item WHERE guid = '{seed_guid}';"));
    assert!(content().contains("Russia and the United States are trying"), "{}", content());
    assert!(newsboat_cache(dir, "SELECT title FROM rss_item;").contains("Newest story"));
    let held = newsboat_date(dir);

    // An update in place of the older (seed) story, while the newest story
    // stays the newest: newsboat asks with the date it holds, and keeps the
    // new text (libcurl drops a 200 not dated later than that).
    let seed = std::fs::read_to_string(seed_dir().join("russia-us-syria-cooperation.txt")).unwrap();
    let updated = seed
        .replacen("Russia and the United States are trying", "UPDATED: Russia and the United States are trying", 1)
        .replacen("Last update: Tue, 26/07/2016 - 20:33", "Last update: Tue, 26/07/2016 - 21:10", 1);
    assert_ne!(updated, seed, "the seed story changed shape");
    let res = server.import(updated, "");
    assert_eq!(res.status(), 200, "{}", res.text().unwrap());
    wait_for_next_second();
    reload();
    assert!(content().contains("UPDATED: Russia and the United States"), "{}", content());
    assert!(http_date(&newsboat_date(dir)) > http_date(&held), "newsboat holds a later date");

    // A delete: the feed answers newsboat's date with 200, without the story.
    delete(&server, newest["id"].as_str().unwrap());
    let res = get_since(&server, "/sections/world/rss.xml", &newsboat_date(dir));
    assert_eq!(res.status(), 200);
    let body = res.text().unwrap();
    assert!(!body.contains("Newest story") && body.contains("UPDATED: Russia"), "{body}");
    reload();
}
