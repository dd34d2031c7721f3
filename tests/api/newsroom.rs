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
        // Cut to a clock boundary of 10 s (not to the release second, which it would tell).
        let left = (release - Utc::now()).num_seconds().max(0) as u64;
        assert!(max_age(&res) <= left + 11, "{path}: max-age {} outlives the release in {left} s", max_age(&res));
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

/// Validates each `at:deleted-entry` of an Atom feed against RFC 6721's
/// grammar, and the feed against RFC 4287's, with jing.
fn tombstones_valid(atom: &str) -> Vec<(String, String)> {
    let doc = roxmltree::Document::parse(atom).unwrap();
    let ns = "http://purl.org/atompub/tombstones/1.0";
    let stones: Vec<(String, String)> = doc
        .descendants()
        .filter(|n| n.has_tag_name((ns, "deleted-entry")))
        .map(|n| (n.attribute("ref").unwrap().to_owned(), n.attribute("when").unwrap().to_owned()))
        .collect();
    if std::process::Command::new("jing").arg("-h").output().is_err() {
        assert!(std::env::var_os("CI").is_none(), "jing is not installed (CI installs it: apt-get install jing)");
        eprintln!("note: jing not installed; skipping the RELAX NG check");
        return stones;
    }
    let dir = tempfile::tempdir().unwrap();
    let schemas = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/schemas");
    let feed = dir.path().join("feed.atom");
    std::fs::write(&feed, atom).unwrap();
    let out = std::process::Command::new("jing").arg("-c").arg(format!("{schemas}/atom.rnc")).arg(&feed).output();
    let out = out.unwrap();
    assert!(out.status.success(), "Atom invalid:\n{}\n{atom}", String::from_utf8_lossy(&out.stdout));
    for (i, (r, w)) in stones.iter().enumerate() {
        let file = dir.path().join(format!("stone-{i}.xml"));
        std::fs::write(&file, format!("<at:deleted-entry xmlns:at=\"{ns}\" ref=\"{r}\" when=\"{w}\"/>")).unwrap();
        let out = std::process::Command::new("jing")
            .arg("-c")
            .arg(format!("{schemas}/tombstones.rnc"))
            .arg(&file)
            .output()
            .unwrap();
        assert!(out.status.success(), "tombstone invalid per RFC 6721: {}", String::from_utf8_lossy(&out.stdout));
    }
    stones
}

#[test]
fn a_kill_removes_a_story_everywhere_leaves_a_tombstone_and_refuses_it_again_unless_restored() {
    let server = TestServer::start();
    let text = story("Minister resigns over leaked memo", "Politics", "Tue, 02/07/2024 - 10:00", "The minister quit.");
    server.import_new(story("Parliament sits late", "Politics", "Tue, 02/07/2024 - 09:00", "A long night."));
    let created = server.import_new(text.clone());
    let id = created["id"].as_str().unwrap().to_owned();
    assert!(server.text("/atom.xml").contains("Minister resigns"));

    // The agency's kill advisory, naming the story by headline: acted on, never published.
    let advisory = "KILL: Minister resigns over leaked memo\n\nThe story is withdrawn: the memo was a forgery. \
                    Make sure it is not used.\n";
    let res = server.import(advisory, "");
    assert_eq!(res.status(), 200);
    let answer: serde_json::Value = res.json().unwrap();
    assert_eq!(answer["outcome"], "killed", "{answer}");
    assert_eq!(answer["id"], id.as_str());
    for path in ["/", "/rss.xml", "/atom.xml", "/feed.json", "/sections/politics", "/sections/politics/rss.xml"] {
        let body = server.text(path);
        assert!(!body.contains("Minister resigns over leaked memo"), "{path} still shows the killed story");
        assert!(!body.contains("forgery"), "{path} publishes the advisory");
    }
    assert_eq!(server.get(&format!("/articles/{id}")).status(), 410);
    assert_eq!(server.get(&format!("/articles/{id}.json")).status(), 410);

    // Atom readers are told to drop it (RFC 6721).
    let stones = tombstones_valid(&server.text("/atom.xml"));
    let urn = wirefeed::domain::ArticleId::parse(&id).unwrap().urn();
    assert_eq!(stones.len(), 1, "{stones:?}");
    assert_eq!(stones[0].0, urn);
    assert!(tombstones_valid(&server.text("/sections/politics/atom.xml")).iter().any(|(r, _)| *r == urn));

    // The same story sent again is refused, and comes back only when asked.
    let res = server.import(text.clone(), "");
    assert_eq!(res.status(), 409);
    let error: serde_json::Value = res.json().unwrap();
    assert!(error["detail"].as_str().unwrap().contains("restore=true"), "{error}");
    let res = server.import(text, "?restore=true");
    assert!(res.status().is_success(), "{}", res.status());
    let restored: serde_json::Value = res.json().unwrap();
    assert_eq!(restored["id"], id.as_str(), "restored under its old id");
    assert!(server.text("/rss.xml").contains("Minister resigns over leaked memo"));
    assert!(tombstones_valid(&server.text("/atom.xml")).is_empty(), "no tombstone once restored");
}

#[test]
fn a_delete_is_a_kill_and_survives_a_restart() {
    let server = TestServer::start();
    let text = story("Bridge closed for repairs", "Local", "Tue, 02/07/2024 - 10:00", "Traffic diverted.");
    let created = server.import_new(text.clone());
    let id = created["id"].as_str().unwrap().to_owned();
    let res = server.client().delete(server.url(&format!("/articles/{id}"))).bearer_auth(TOKEN).send().unwrap();
    assert_eq!(res.status(), 200);
    let server = server.restart();
    assert_eq!(server.get(&format!("/articles/{id}")).status(), 410);
    assert_eq!(server.import(text, "").status(), 409, "a late re-send cannot undo the delete");
    let again = server.client().delete(server.url(&format!("/articles/{id}"))).bearer_auth(TOKEN).send().unwrap();
    assert_eq!(again.status(), 410);
}

#[test]
fn a_correction_updates_in_place_and_shows_its_statement_above_the_story() {
    let server = TestServer::start();
    let correction = wire_fixture("iptc-dpa-correction.txt");
    // The first take: the same transmission without the correction lines.
    let first = String::from_utf8(correction.clone())
        .unwrap()
        .replace("CORRECTION\n", "")
        .replace("(Corrects name of minister in 2nd paragraph)\r\n\r\n", "")
        .replace("Petra Lindenthal", "Petra Lindental")
        .replace("061210 GMT", "061150 GMT");
    let created = server.import_new(first);
    let id = created["id"].as_str().unwrap().to_owned();
    assert!(created["correction"].is_null());
    let res = server.import(correction, "");
    assert_eq!(res.status(), 200);
    let updated: serde_json::Value = res.json().unwrap();
    assert_eq!(updated["outcome"], "updated");
    assert_eq!(updated["id"], id.as_str());
    assert_eq!(updated["correction"], "Corrects name of minister in 2nd paragraph");
    assert!(!updated["paragraphs"].to_string().contains("Corrects name"), "never a body paragraph");

    let page = server.text(&format!("/articles/{id}"));
    let note = page.find("class=\"correction\"").expect("a marked correction note");
    assert!(note < page.find("Vienna (dpa)").unwrap(), "the note comes before the story");
    assert!(page.contains("Petra Lindenthal"));
    let feed = parse_feed(&server.get("/atom.xml").bytes().unwrap());
    let entry = feed.entries.iter().find(|e| e.id.contains(&wirefeed::domain::ArticleId::parse(&id).unwrap().urn()));
    let content = entry.unwrap().content.as_ref().unwrap().body.clone().unwrap();
    assert!(content.starts_with("<p><strong>Correction:</strong> Corrects name of minister"), "{content}");
}

#[test]
fn urgent_copy_has_its_own_feeds_and_is_marked_everywhere() {
    let server = TestServer::start();
    let alert = server.import_new(wire_fixture("anpa-ap-latin1-alert.tst"));
    assert_eq!(alert["wire"]["priority"], 2, "a bulletin");
    let section = alert["section"]["slug"].as_str().unwrap().to_owned();
    let headline = alert["headline"].as_str().unwrap().to_owned();
    server.import_new(story("Routine council meeting", &section, "Tue, 02/07/2024 - 10:00", "Nothing urgent."));

    for path in [
        "/urgent/rss.xml".to_owned(),
        "/urgent/atom.xml".to_owned(),
        "/urgent/feed.json".to_owned(),
        format!("/sections/{section}/urgent/rss.xml"),
        format!("/sections/{section}/urgent/atom.xml"),
        format!("/sections/{section}/urgent/feed.json"),
    ] {
        let feed = parse_feed(&server.get(&path).bytes().unwrap());
        let titles: Vec<_> = feed.entries.iter().filter_map(|e| e.title.as_ref()).map(|t| t.content.clone()).collect();
        assert_eq!(titles, std::slice::from_ref(&headline), "{path}: only the urgent copy");
    }
    let atom = server.text("/urgent/atom.xml");
    assert!(atom.contains("<category term=\"urgent\" label=\"Urgent\"/>"), "{atom}");
    assert!(server.text("/rss.xml").contains("<category>Urgent</category>"), "a category in the main feeds too");
    let home = server.text("/");
    assert!(home.contains("rel=\"alternate\" type=\"application/rss+xml\" title=\"wirefeed: Urgent (RSS)\""), "{home}");
    assert!(home.contains("<span class=\"urgent\">Urgent</span>"));
    assert!(!server.text("/opml.xml").contains("urgent"), "the OPML subscribes to each story once");
    let other = server.get("/sections/nowhere/urgent/rss.xml");
    assert_eq!(other.status(), 404);
}

#[test]
fn an_agency_kill_names_its_story_by_slug() {
    let server = TestServer::start();
    let story = server.import_new(wire_fixture("anpa-ap-texas-flooding.tst"));
    let id = story["id"].as_str().unwrap().to_owned();
    let res = server.import(AP_TEXAS_KILL, "");
    assert_eq!(res.status(), 200);
    let answer: serde_json::Value = res.json().unwrap();
    assert_eq!(answer["outcome"], "killed");
    assert_eq!(answer["id"], id.as_str());
    assert_eq!(server.get(&format!("/articles/{id}")).status(), 410);
    assert!(!server.text("/rss.xml").contains("withdrawing"), "the advisory is never published");
    // A writethru of the killed story arriving later is refused too.
    let res = server.import(wire_fixture("anpa-ap-texas-flooding-writethru.tst"), "");
    assert_eq!(res.status(), 409);
}
