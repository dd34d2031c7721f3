//! Newsroom control: embargoed stories stay invisible until their release,
//! then appear by themselves, across a restart.

use std::time::Duration;

use chrono::{SecondsFormat, Utc};

use crate::helpers::*;

/// Every public document a reader or a cache could hold.
const DOCUMENTS: [&str; 8] = [
    "/",
    "/rss.xml",
    "/atom.xml",
    "/feed.json",
    "/opml.xml",
    "/sections/markets",
    "/sections/markets/rss.xml",
    "/sections/markets/atom.xml",
];

fn max_age(res: &reqwest::blocking::Response) -> u64 {
    let cc = res.headers()["cache-control"].to_str().unwrap().to_owned();
    let value = cc.split(',').find_map(|p| p.trim().strip_prefix("max-age=")).unwrap_or_else(|| panic!("{cc}"));
    value.parse().unwrap()
}

#[test]
fn an_embargoed_story_is_invisible_until_its_release_then_appears_by_itself_even_after_a_restart() {
    let server = TestServer::start();
    // A section that exists before the embargo, so its documents answer 200 throughout.
    server.import_new(story("Markets open flat", "Markets", "Mon, 01/07/2024 - 08:00", "Trading began quietly."));
    let release = Utc::now() + chrono::Duration::seconds(6);
    let query = format!("?embargo={}", release.to_rfc3339_opts(SecondsFormat::Secs, true));
    let held = story("Central bank cuts rates", "Markets", "Mon, 01/07/2024 - 09:00", "The bank cut its rate.");
    let res = server.import(held, &query);
    assert_eq!(res.status(), 202, "held, not published");
    let answer: serde_json::Value = res.json().unwrap();
    assert_eq!(answer["outcome"], "embargoed");
    let named = chrono::DateTime::parse_from_rfc3339(answer["release"].as_str().unwrap()).unwrap();
    assert_eq!(named.timestamp(), release.timestamp(), "the answer names the release instant");
    let article_path = format!("/articles/{}", answer["id"].as_str().unwrap());

    // Invisible everywhere, and no copy may outlive the release.
    for path in DOCUMENTS {
        let res = server.get(path);
        assert_eq!(res.status(), 200, "{path}");
        let left = (release - Utc::now()).num_seconds().max(0) as u64;
        assert!(max_age(&res) <= left + 1, "{path}: max-age {} outlives the release in {left} s", max_age(&res));
        let body = res.text().unwrap();
        assert!(!body.contains("Central bank cuts rates"), "{path} shows the embargoed story");
        assert!(!body.contains("The bank cut its rate"), "{path} shows the embargoed story");
    }
    assert_eq!(server.get(&article_path).status(), 404);
    assert_eq!(server.get(&format!("{article_path}.json")).status(), 404);
    let counted: serde_json::Value = serde_json::from_str(&server.text("/feed.json")).unwrap();
    assert_eq!(counted["items"].as_array().unwrap().iter().filter(|i| i["title"] == "Markets open flat").count(), 1);

    // A restart mid-embargo keeps the story held and still releases it.
    let server = server.restart();
    assert!(!server.text("/rss.xml").contains("Central bank cuts rates"));
    let wait = (release - Utc::now()).to_std().unwrap_or_default() + Duration::from_millis(1500);
    std::thread::sleep(wait);
    assert!(
        server.log_text().contains("embargo released"),
        "released by the server's own timer:\n{}",
        server.log_text()
    );
    for path in ["/rss.xml", "/atom.xml", "/sections/markets/rss.xml", "/"] {
        assert!(server.text(path).contains("Central bank cuts rates"), "{path} after the release");
    }
    let article: serde_json::Value = server.get(&format!("{article_path}.json")).json().unwrap();
    assert_eq!(article["article"]["headline"], "Central bank cuts rates");
    assert_eq!(max_age(&server.get("/rss.xml")), 300, "no release pending: the configured max-age");
}

#[test]
fn an_embargo_in_the_past_is_ignored_with_a_warning() {
    let server = TestServer::start();
    let res = server.import(
        story("Old embargo story", "Markets", "Mon, 01/07/2024 - 09:00", "Body."),
        "?embargo=2020-01-01T00:00:00Z",
    );
    assert_eq!(res.status(), 201);
    let answer: serde_json::Value = res.json().unwrap();
    assert!(answer["warnings"].to_string().contains("embargo"), "{answer}");
    assert!(server.text("/rss.xml").contains("Old embargo story"));
    let bad = server.import(story("Bad", "Markets", "Mon, 01/07/2024 - 09:00", "Body."), "?embargo=tomorrow");
    assert_eq!(bad.status(), 400);
}
