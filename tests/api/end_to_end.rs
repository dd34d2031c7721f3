//! The whole path: story text in, subscribed feed out.

use crate::helpers::*;

const SEED_LAST_PARAGRAPH: &str =
    "Since the Syrian conflict began in 2011, more than 250,000 people have been killed and more than 11 million Syrians have been forced to flee their homes.";

#[test]
fn seed_story_comes_out_of_both_feeds_whole() {
    let server = TestServer::start();
    for path in ["/rss.xml", "/atom.xml", "/sections/world/rss.xml", "/sections/world/atom.xml"] {
        let body = server.text(path);
        let feed = parse_feed(body.as_bytes());
        assert_eq!(feed.entries.len(), 1, "{path}");
        let entry = &feed.entries[0];
        assert_eq!(
            entry.title.as_ref().unwrap().content,
            "Russia, US work on Syria cooperation plan as UN seeks new peace talks"
        );
        let content = entry.content.as_ref().and_then(|c| c.body.clone()).expect("content");
        assert!(content.contains(SEED_LAST_PARAGRAPH), "{path}: last paragraph missing");
        assert!(content.contains("UN mediator Staffan de Mistura"), "{path}: no-break space kept");
        assert_eq!(content.matches("<p>").count(), 17, "{path}: every paragraph");
        assert!(!content.contains("Amnesty"), "{path}: teasers are not body");
        assert_eq!(entry.published.unwrap().to_rfc3339(), "2016-07-26T20:33:00+00:00", "{path}");
        assert!(entry.categories.iter().any(|c| c.term == "World" || c.label.as_deref() == Some("World")), "{path}");
        assert!(entry.links[0].href.ends_with(&format!("/articles/{SEED_ID}")), "{path}");
        if path.ends_with("rss.xml") {
            assert!(body.contains("<pubDate>Tue, 26 Jul 2016 20:33:00 +0000</pubDate>"), "{path}");
            assert!(body.contains("<category>World</category>"), "{path}");
        }
    }
}

#[test]
fn article_page_shows_the_story() {
    let server = TestServer::start();
    let page = server.text(&format!("/articles/{SEED_ID}"));
    assert!(page.contains("<h1>Russia, US work on Syria cooperation plan as UN seeks new peace talks</h1>"));
    assert!(page.contains(SEED_LAST_PARAGRAPH));
    assert!(page.contains("Amnesty: Around half a million displaced in south-east Turkey"), "related stories listed");
}

#[test]
fn imported_story_appears_and_survives_a_restart() {
    let server = TestServer::start();
    let text = story(
        "Glacier retreat speeds up in the Alps",
        "Science",
        "Wed, 03/08/2016 - 09:15",
        "Glaciers in the Alps lost more ice this summer than in any year on record.\n\nScientists said the trend would continue.",
    );
    let answer = server.import_new(text.clone());
    let id = answer["id"].as_str().unwrap().to_owned();
    assert_eq!(id, "2016-08-03-glacier-retreat-speeds-up-in-the-alps");
    assert_eq!(answer["section"]["slug"], "science");

    let feed = parse_feed(server.text("/sections/science/rss.xml").as_bytes());
    assert_eq!(feed.entries[0].title.as_ref().unwrap().content, "Glacier retreat speeds up in the Alps");
    let all = parse_feed(server.text("/atom.xml").as_bytes());
    assert_eq!(all.entries.len(), 2);
    assert_eq!(all.entries[0].title.as_ref().unwrap().content, "Glacier retreat speeds up in the Alps", "newest first");

    let server = server.restart();
    let feed = parse_feed(server.text("/sections/science/atom.xml").as_bytes());
    assert_eq!(feed.entries.len(), 1);
    let content = feed.entries[0].content.as_ref().unwrap().body.clone().unwrap();
    assert!(content.contains("Scientists said the trend would continue."));
    assert!(server.text(&format!("/articles/{id}")).contains("Glaciers in the Alps lost more ice"));
    assert_eq!(parse_feed(server.text("/rss.xml").as_bytes()).entries.len(), 2, "not seeded twice");
}

#[test]
fn identical_reimport_changes_nothing() {
    let server = TestServer::start();
    let text = story("Same story twice", "World", "Tue, 26/07/2016 - 21:00", "Body text of the story.");
    let first = server.import_new(text.clone());
    let res = server.import(text, "");
    assert_eq!(res.status(), 200);
    let second: serde_json::Value = res.json().unwrap();
    assert_eq!(second["outcome"], "unchanged");
    assert_eq!(second["id"], first["id"]);
    assert_eq!(parse_feed(server.text("/sections/world/rss.xml").as_bytes()).entries.len(), 2);
}

#[test]
fn wrong_token_gets_401_and_changes_nothing() {
    let server = TestServer::start();
    let before = server.text("/rss.xml");
    let text = story("Sneaky story", "World", "Tue, 26/07/2016 - 21:00", "Should never be stored.");
    for auth in [None, Some(""), Some("Bearer "), Some("Bearer wrong-token-0123456789"), Some("Basic dGVzdA==")] {
        let mut req =
            server.client().post(server.url("/import")).header("content-type", "text/plain").body(text.clone());
        if let Some(auth) = auth {
            req = req.header("authorization", auth);
        }
        let res = req.send().unwrap();
        assert_eq!(res.status(), 401, "{auth:?}");
        assert_eq!(res.headers()["www-authenticate"].to_str().unwrap(), "Bearer realm=\"wirefeed\"");
        let json: serde_json::Value = res.json().unwrap();
        assert_eq!(json["error"], "unauthorized");
        assert!(json["detail"].as_str().unwrap().contains("Bearer"));
    }
    let res = server
        .client()
        .delete(server.url(&format!("/articles/{SEED_ID}")))
        .bearer_auth("nope-nope-nope-nope")
        .send()
        .unwrap();
    assert_eq!(res.status(), 401);
    assert_eq!(server.text("/rss.xml"), before);
    assert!(!server.log_text().contains(TOKEN), "the token never appears in logs");
}

#[test]
fn bad_input_gets_json_errors() {
    let server = TestServer::start();
    let cases: [(&[u8], &str, u16, &str); 4] = [
        (b"", "text/plain", 400, "empty"),
        (b"   \n\n  ", "text/plain", 400, "empty"),
        (b"Only a headline\n", "text/plain", 400, "no_body"),
        (b"x", "application/octet-stream", 415, "unsupported_media_type"),
    ];
    for (body, ct, status, kind) in cases {
        let res = server
            .client()
            .post(server.url("/import"))
            .bearer_auth(TOKEN)
            .header("content-type", ct)
            .body(body.to_vec())
            .send()
            .unwrap();
        assert_eq!(res.status(), status, "{kind}");
        let json: serde_json::Value = res.json().unwrap();
        assert_eq!(json["error"], kind);
        assert!(!json["detail"].as_str().unwrap().is_empty());
    }
    let big = vec![b'a'; 1024 * 1024 + 1];
    let res = server.import(big, "");
    assert_eq!(res.status(), 413);
    let json: serde_json::Value = res.json().unwrap();
    assert_eq!(json["error"], "too_large");
}

#[test]
fn health_answers() {
    let server = TestServer::start();
    let res = server.get("/healthz");
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<serde_json::Value>().unwrap()["status"], "ok");
}
