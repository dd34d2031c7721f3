//! Licensed sections, subscribers and their keyed URLs (issue 28): what the
//! public sees, what each key sees, and that keys never leak.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use reqwest::blocking::Response;
use serde_json::{json, Value};

use crate::helpers::*;

/// World and Business are licensed; Sport is public.
const LICENSED: (&str, &str) = ("WIREFEED_LICENSED_SECTIONS", "world,business");

const BUSINESS: &str = "Licensed business exclusive";
const SPORT: &str = "Public sport result";

fn post(server: &TestServer, path: &str, body: Value) -> Response {
    server.client().post(server.url(path)).bearer_auth(TOKEN).json(&body).send().unwrap()
}

/// Adds a subscriber and returns its key.
fn subscribe(server: &TestServer, name: &str, sections: &[&str]) -> String {
    let res = post(server, "/subscribers", json!({"name": name, "sections": sections}));
    assert_eq!(res.status(), 201);
    let answer: Value = res.json().unwrap();
    let key = answer["key"].as_str().unwrap().to_owned();
    assert_eq!(answer["opml"], server.url(&format!("/k/{key}/opml.xml")));
    key
}

/// A server with a licensed world story (urgent), a licensed business story
/// and a public sport story, besides the seed story (World: licensed).
fn licensed_server(extra: &[(&str, &str)]) -> (TestServer, [String; 3]) {
    let mut env = vec![LICENSED];
    env.extend_from_slice(extra);
    let server = TestServer::start_with(&env);
    let world = server.import(wire_fixture("anpa-ap-latin1-alert.tst"), "?section=World");
    assert_eq!(world.status(), 201);
    let world: Value = world.json().unwrap();
    let mut ids = vec![world["id"].as_str().unwrap().to_owned()];
    for (headline, section) in [(BUSINESS, "Business"), (SPORT, "Sport")] {
        let answer = server.import_new(story(headline, section, "Wed, 27/07/2016 - 09:00", "Body text."));
        ids.push(answer["id"].as_str().unwrap().to_owned());
    }
    (server, ids.try_into().unwrap())
}

/// Every document path of the public site, and the article paths of `ids`.
fn document_paths(ids: &[String]) -> Vec<String> {
    let mut paths: Vec<String> = ["/", "/opml.xml"].iter().map(|p| p.to_string()).collect();
    for scope in ["", "/sections/world", "/sections/business", "/sections/sport"] {
        for urgent in ["", "/urgent"] {
            for file in ["rss.xml", "atom.xml", "feed.json"] {
                paths.push(format!("{scope}{urgent}/{file}"));
            }
        }
    }
    for section in ["world", "business", "sport"] {
        paths.push(format!("/sections/{section}"));
    }
    for id in ids {
        paths.push(format!("/articles/{id}"));
        paths.push(format!("/articles/{id}.json"));
    }
    paths.push(format!("/articles/{SEED_ID}"));
    paths
}

fn world_headline(server: &TestServer, ids: &[String; 3]) -> String {
    let key = subscribe(server, "peek", &["*"]);
    let json: Value = server.get(&format!("/k/{key}/articles/{}.json", ids[0])).json().unwrap();
    json["article"]["headline"].as_str().unwrap().to_owned()
}

#[test]
fn a_licensed_section_is_in_no_public_document_and_in_every_document_of_an_entitled_key() {
    let (server, ids) = licensed_server(&[("WIREFEED_PURGE", "webhook+http://127.0.0.1:9/purge")]);
    let world = world_headline(&server, &ids);
    let seed = "Russia, US work on Syria cooperation plan";
    let licensed_words =
        [world.as_str(), BUSINESS, seed, &ids[0], &ids[1], SEED_ID, "sections/world", "sections/business"];

    for path in document_paths(&ids) {
        let res = server.get(&path);
        let status = res.status().as_u16();
        let tags = res.headers().get("surrogate-key").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
        let body = res.text().unwrap();
        let licensed_path = path.contains("world")
            || path.contains("business")
            || ids[..2].iter().any(|id| path.contains(id))
            || path.contains(SEED_ID);
        if licensed_path {
            assert_eq!(status, 404, "{path} is licensed: not found, as an unknown one is");
            continue;
        }
        assert_eq!(status, 200, "{path}");
        for word in licensed_words {
            assert!(!body.contains(word), "{path} names licensed copy ({word}):\n{body}");
        }
        assert!(!tags.contains("world") && !tags.contains("business"), "{path} tags: {tags}");
    }
    // Not found exactly as an unknown section or story is.
    let unknown: Value = server.get("/sections/no-such/rss.xml").json().unwrap();
    let world_feed: Value = server.get("/sections/world/rss.xml").json().unwrap();
    assert_eq!(world_feed["error"], unknown["error"]);
    assert_eq!(world_feed["detail"].as_str().unwrap().replace("world", "no-such"), unknown["detail"]);
    let public = parse_feed(server.text("/rss.xml").as_bytes());
    assert_eq!(public.entries.len(), 1, "only the public sport story");

    // Under a key entitled to world: world and public sport, never business.
    let key = subscribe(&server, "acme", &["world"]);
    let keyed = server.get(&format!("/k/{key}/rss.xml"));
    assert_eq!(keyed.status(), 200);
    assert!(keyed.headers().get("cache-control").unwrap().to_str().unwrap().starts_with("private, max-age="));
    assert!(keyed.headers().get("surrogate-key").is_none(), "no shared-cache tags");
    let rss = keyed.text().unwrap();
    for expected in [world.as_str(), SPORT, seed] {
        assert!(rss.contains(expected), "{expected} in the keyed feed");
    }
    assert!(!rss.contains(BUSINESS));
    for path in document_paths(&ids) {
        let res = server.get(&format!("/k/{key}{path}"));
        let status = res.status().as_u16();
        let body = res.text().unwrap();
        let business = path.contains("business") || path.contains(&ids[1]);
        if business {
            assert_eq!(status, 404, "/k/…{path}: not entitled");
            continue;
        }
        assert_eq!(status, 200, "/k/…{path}");
        assert!(!body.contains(BUSINESS), "/k/…{path} names business copy");
        assert_links_keyed(&server, &key, &path, &body);
    }
    let urgent = server.text(&format!("/k/{key}/urgent/atom.xml"));
    assert!(urgent.contains(&world), "the urgent world story in the keyed urgent feed");
    assert!(!server.text("/urgent/atom.xml").contains(&world));
    // A key for one section gets 404 for another, exactly as an unknown section.
    let other: Value = server.get(&format!("/k/{key}/sections/business/feed.json")).json().unwrap();
    assert_eq!(other["error"], "not_found");
}

/// Every absolute link into the server stays under the key.
fn assert_links_keyed(server: &TestServer, key: &str, path: &str, body: &str) {
    let base = server.url("/");
    let keyed = server.url(&format!("/k/{key}/"));
    let mut rest = body;
    let mut found = 0;
    while let Some(at) = rest.find(&base) {
        let link = &rest[at..];
        assert!(link.starts_with(&keyed), "/k/…{path} links out of the key: {}", &link[..link.len().min(80)]);
        found += 1;
        rest = &rest[at + base.len()..];
    }
    assert!(found > 0 || path.ends_with(".json"), "/k/…{path} has links");
}

#[test]
fn keyed_feeds_validate_and_answer_304() {
    let (server, ids) = licensed_server(&[]);
    let key = subscribe(&server, "acme", &["*"]);
    let rss = server.text(&format!("/k/{key}/rss.xml"));
    let channel = rss::Channel::read_from(rss.as_bytes()).expect("RSS parses");
    rss::validation::Validate::validate(&channel).unwrap_or_else(|e| panic!("RSS invalid: {e}\n{rss}"));
    assert_eq!(channel.items().len(), 4);
    for path in ["atom.xml", "feed.json", "sections/world/atom.xml", "urgent/feed.json"] {
        let feed = parse_feed(server.text(&format!("/k/{key}/{path}")).as_bytes());
        assert!(!feed.entries.is_empty(), "{path}");
        for entry in &feed.entries {
            assert!(entry.links[0].href.starts_with(&server.url(&format!("/k/{key}/articles/"))), "{path}");
        }
    }
    // The RFC 4287 grammar, as the public Atom feeds are checked (tests/api/feeds.rs).
    if Command::new("jing").arg("-h").output().is_ok() {
        let file = server.data.parent().unwrap().join("keyed.atom");
        std::fs::write(&file, server.text(&format!("/k/{key}/atom.xml"))).unwrap();
        let schema = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/schemas/atom.rnc");
        let out = Command::new("jing").arg("-c").arg(schema).arg(&file).output().unwrap();
        assert!(out.status.success(), "keyed Atom not valid per RFC 4287:\n{}", String::from_utf8_lossy(&out.stdout));
    } else {
        assert!(std::env::var_os("CI").is_none(), "jing is not installed (CI installs it: apt-get install jing)");
    }
    // An older page at a cursor that is no page boundary is sent to the boundary, under the key.
    let res = server.get(&format!("/k/{key}/rss.xml?before=1"));
    assert_eq!(res.status(), 200);
    assert!(res.url().as_str().starts_with(&server.url(&format!("/k/{key}/rss.xml"))), "{}", res.url());
    assert!(res.headers().get("cache-control").unwrap().to_str().unwrap().starts_with("private"));
    // ETag and 304 as for public feeds.
    let url = server.url(&format!("/k/{key}/sections/world/rss.xml"));
    let first = server.client().get(&url).send().unwrap();
    let etag = first.headers().get("etag").unwrap().clone();
    let again = server.client().get(&url).header("if-none-match", etag).send().unwrap();
    assert_eq!(again.status(), 304);
    assert!(again.headers().get("cache-control").unwrap().to_str().unwrap().starts_with("private"));
    // A kill answers 410 under the key, 404 in public.
    let res = server.client().delete(server.url(&format!("/articles/{}", ids[1]))).bearer_auth(TOKEN).send().unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(server.get(&format!("/k/{key}/articles/{}", ids[1])).status(), 410);
    assert_eq!(server.get(&format!("/articles/{}", ids[1])).status(), 404);

    let script = r#"
import json, sys, feedparser
d = feedparser.parse(sys.argv[1])
print(json.dumps({"bozo": d.bozo, "links": [e.link for e in d.entries], "self": d.feed.get("links", [])}))
"#;
    match Command::new("python3").arg("-c").arg(script).arg(server.url(&format!("/k/{key}/rss.xml"))).output() {
        Ok(out) if out.status.success() => {
            let parsed: Value = serde_json::from_slice(&out.stdout).unwrap();
            assert_eq!(parsed["bozo"], false, "{parsed}");
            let links = parsed["links"].as_array().unwrap();
            assert_eq!(links.len(), 3, "{parsed}");
            for link in links {
                assert!(link.as_str().unwrap().starts_with(&server.url(&format!("/k/{key}/"))), "{parsed}");
            }
        }
        other => {
            assert!(std::env::var_os("CI").is_none(), "python3 with feedparser is needed: {other:?}");
            eprintln!("note: python3 feedparser not installed; skipping its check");
        }
    }
}

#[test]
fn revocation_and_rotation_take_effect_within_one_request() {
    let (server, _) = licensed_server(&[]);
    let feed = |key: &str| server.get(&format!("/k/{key}/sections/world/rss.xml")).status().as_u16();
    let not_found = |key: &str| -> Value { server.get(&format!("/k/{key}/rss.xml")).json().unwrap() };
    let first = subscribe(&server, "acme", &["world"]);
    assert_eq!((feed(&first), feed(&first)), (200, 200), "cached now");
    // One character off is no key.
    let mut off = first.clone().into_bytes();
    off[20] = if off[20] == b'a' { b'b' } else { b'a' };
    let off = String::from_utf8(off).unwrap();
    assert_eq!(feed(&off), 404);
    assert_eq!(not_found(&off), json!({"error": "not_found", "detail": "no route for \"/k/…/rss.xml\""}));
    assert_eq!(server.get("/k/nonsense/no-such-path").json::<Value>().unwrap()["error"], "not_found");

    let rotated = post(&server, "/subscribers/acme/rotate", json!({}));
    assert_eq!(rotated.status(), 200);
    let second = rotated.json::<Value>().unwrap()["key"].as_str().unwrap().to_owned();
    assert_eq!((feed(&first), feed(&second)), (404, 200), "without grace the old key stops at once");

    let rotated = post(&server, "/subscribers/acme/rotate", json!({"grace": 2}));
    let third = rotated.json::<Value>().unwrap()["key"].as_str().unwrap().to_owned();
    assert_eq!((feed(&second), feed(&third)), (200, 200), "within its grace the old key works");
    std::thread::sleep(std::time::Duration::from_millis(2_100));
    assert_eq!((feed(&second), feed(&third)), (404, 200), "after its grace it does not");

    let res = server.client().delete(server.url("/subscribers/acme")).bearer_auth(TOKEN).send().unwrap();
    assert_eq!(res.status(), 204);
    assert_eq!(feed(&third), 404, "revoked: refused at once, cached documents too");
    assert_eq!(not_found(&third), not_found(&off), "a revoked key is an unknown one");
}

#[test]
fn the_subscriber_api_checks_its_input_and_never_shows_a_key() {
    let (server, _) = licensed_server(&[]);
    let no_token = server.client().post(server.url("/subscribers")).json(&json!({"name": "x", "sections": ["*"]}));
    assert_eq!(no_token.send().unwrap().status(), 401);
    assert_eq!(server.client().get(server.url("/subscribers")).send().unwrap().status(), 401);
    let key = subscribe(&server, "acme.news_1-a", &["world"]);
    let cases = [
        (json!({"name": "acme.news_1-a", "sections": ["*"]}), 409, "exists"),
        (json!({"name": "", "sections": ["*"]}), 422, "bad_name"),
        (json!({"name": "a".repeat(65), "sections": ["*"]}), 422, "bad_name"),
        (json!({"name": "a b", "sections": ["*"]}), 422, "bad_name"),
        (json!({"name": "ok", "sections": []}), 422, "bad_sections"),
        (json!({"name": "ok", "sections": ["World News"]}), 422, "bad_sections"),
        (json!({"name": "ok"}), 400, "bad_json"),
    ];
    for (body, status, kind) in cases {
        let res = post(&server, "/subscribers", body.clone());
        assert_eq!(res.status(), status, "{body}");
        assert_eq!(res.json::<Value>().unwrap()["error"], kind, "{body}");
    }
    let res = server.client().post(server.url("/subscribers")).bearer_auth(TOKEN).body("{not json").send().unwrap();
    assert_eq!(res.status(), 400);
    let huge = json!({"name": "big", "sections": vec!["world"; 20_000]});
    let res = post(&server, "/subscribers", huge);
    assert_eq!(res.status(), 413);
    assert_eq!(res.json::<Value>().unwrap()["error"], "too_large");

    let list = server.client().get(server.url("/subscribers")).bearer_auth(TOKEN).send().unwrap().text().unwrap();
    assert!(!list.contains(&key), "{list}");
    let listed: Value = serde_json::from_str(&list).unwrap();
    assert_eq!(listed["subscribers"][0]["name"], "acme.news_1-a");
    assert_eq!(listed["subscribers"][0]["sections"], json!(["world"]));
    assert_eq!(listed["subscribers"][0]["key_prefix"], key[..6]);
    assert!(listed["subscribers"][0]["created"].is_string());

    // New sections take effect on the next request, under the same key.
    assert_eq!(server.get(&format!("/k/{key}/sections/business/rss.xml")).status(), 404);
    let put = server
        .client()
        .put(server.url("/subscribers/acme.news_1-a"))
        .bearer_auth(TOKEN)
        .json(&json!({"sections": ["business"]}))
        .send()
        .unwrap();
    assert_eq!(put.status(), 200);
    assert_eq!(server.get(&format!("/k/{key}/sections/business/rss.xml")).status(), 200);
    assert_eq!(server.get(&format!("/k/{key}/sections/world/rss.xml")).status(), 404);
    let gone = server.client().delete(server.url("/subscribers/nobody")).bearer_auth(TOKEN).send().unwrap();
    assert_eq!(gone.status(), 404);
    let grace = post(&server, "/subscribers/acme.news_1-a/rotate", json!({"grace": 999_999_999}));
    assert_eq!(grace.status(), 422);
}

#[test]
fn subscribers_survive_a_restart_and_an_export_and_restore_without_their_keys() {
    let (server, _) = licensed_server(&[]);
    let key = subscribe(&server, "acme", &["world"]);
    let server = server.restart();
    assert_eq!(server.get(&format!("/k/{key}/sections/world/rss.xml")).status(), 200);
    let metrics = server.metrics();
    assert!(metrics.contains("wirefeed_subscribers 1"), "{metrics}");
    let mut server = server;
    server.terminate();
    let export = server.data.parent().unwrap().join("export.jsonl");
    let out = Command::new(env!("CARGO_BIN_EXE_wirefeed"))
        .args(["export", "--output"])
        .arg(&export)
        .env("WIREFEED_DATA_DIR", &server.data)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = std::fs::read_to_string(&export).unwrap();
    assert!(text.contains("\"subscriber\":"), "{text}");
    assert!(!text.contains(&key), "the export holds no key");
    let restored = server.data.parent().unwrap().join("restored");
    let out = Command::new(env!("CARGO_BIN_EXE_wirefeed"))
        .arg("restore")
        .arg(&export)
        .env("WIREFEED_DATA_DIR", &restored)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let again = TestServer::start_on_with(restored, &[LICENSED]);
    assert_eq!(again.get(&format!("/k/{key}/sections/world/rss.xml")).status(), 200, "the key works after a restore");
}

#[test]
fn subscribers_are_made_again_from_the_archive() {
    let (server, _) = licensed_server(&[]);
    let first = subscribe(&server, "acme", &["world"]);
    let gone = subscribe(&server, "gone", &["*"]);
    let rotated: Value = post(&server, "/subscribers/acme/rotate", json!({})).json().unwrap();
    let key = rotated["key"].as_str().unwrap().to_owned();
    let res = server.client().delete(server.url("/subscribers/gone")).bearer_auth(TOKEN).send().unwrap();
    assert_eq!(res.status(), 204);
    let mut server = server;
    server.terminate();
    let out = Command::new(env!("CARGO_BIN_EXE_wirefeed"))
        .arg("rebuild")
        .env("WIREFEED_DATA_DIR", &server.data)
        .env("WIREFEED_IMPORT_TOKEN", TOKEN)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let again = TestServer::start_on_with(server.data.clone(), &[LICENSED]);
    let feed = |key: &str| again.get(&format!("/k/{key}/sections/world/rss.xml")).status().as_u16();
    assert_eq!(
        (feed(&key), feed(&first), feed(&gone)),
        (200, 404, 404),
        "the rotated key, not the old or revoked ones"
    );
}

#[test]
fn no_key_reaches_the_logs_or_metrics_after_every_route() {
    let (server, ids) = licensed_server(&[]);
    // The command line against the running server.
    let cli = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_wirefeed"))
            .arg("subscribers")
            .args(args)
            .env("WIREFEED_BIND", format!("127.0.0.1:{}", server.port))
            .env("WIREFEED_IMPORT_TOKEN", TOKEN)
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice::<Value>(&out.stdout).unwrap()
    };
    let added = cli(&["add", "acme", "--sections", "world,business"]);
    let key = added["key"].as_str().unwrap().to_owned();
    let listed = cli(&["list"]);
    assert_eq!(listed["subscribers"][0]["name"], "acme");
    let rotated = cli(&["rotate", "acme", "--grace", "60"]);
    let new_key = rotated["key"].as_str().unwrap().to_owned();
    let mut keys = vec![key.clone(), new_key.clone()];
    for key in [&key, &new_key] {
        for path in document_paths(&ids) {
            server.get(&format!("/k/{key}{path}"));
            server.client().head(server.url(&format!("/k/{key}{path}"))).send().unwrap();
        }
        for path in ["/no-such", "/articles/x/release", "/k/x", ""] {
            server.get(&format!("/k/{key}{path}"));
        }
        server.client().delete(server.url(&format!("/k/{key}/articles/{}", ids[0]))).send().unwrap();
    }
    let third = subscribe(&server, "other", &["*"]);
    keys.push(third.clone());
    cli(&["revoke", "other"]);
    server.get(&format!("/k/{third}/rss.xml"));
    let metrics = server.metrics();
    assert!(metrics.contains("wirefeed_subscriber_requests_total{subscriber=\"acme\"}"), "{metrics}");
    std::thread::sleep(std::time::Duration::from_millis(300));
    let logs = server.log_text();
    assert!(logs.contains("subscriber=\"acme\"") || logs.contains("\"subscriber\":\"acme\""), "{logs}");
    assert!(logs.contains("/k/…/rss.xml"), "{logs}");
    for key in &keys {
        assert!(!logs.contains(key.as_str()), "a key in the logs");
        assert!(!metrics.contains(key.as_str()), "a key in the metrics");
    }
}

#[test]
fn a_private_wire_serves_nothing_in_public_and_everything_under_a_key() {
    let server = TestServer::start_with(&[("WIREFEED_LICENSED_SECTIONS", "*")]);
    server.import_new(story(SPORT, "Sport", "Wed, 27/07/2016 - 09:00", "Body text."));
    for path in ["/rss.xml", "/atom.xml", "/feed.json", "/urgent/rss.xml"] {
        assert!(parse_feed(server.text(path).as_bytes()).entries.is_empty(), "{path}");
    }
    assert!(!server.text("/opml.xml").contains("xmlUrl"));
    assert!(!server.text("/").contains(SPORT));
    let key = subscribe(&server, "acme", &["sport"]);
    let feed = parse_feed(server.text(&format!("/k/{key}/rss.xml")).as_bytes());
    assert_eq!(feed.entries.len(), 1, "sport only: the seed story is World");
}

/// newsboat with its configuration and cache in `dir`, subscribed by
/// importing `opml`; `None` when it is not installed outside CI.
fn newsboat_from_opml(dir: &Path, opml: &str) -> Option<()> {
    if Command::new("newsboat").arg("-v").output().is_err() {
        assert!(
            std::env::var_os("CI").is_none(),
            "newsboat is not installed (CI installs it: apt-get install newsboat)"
        );
        eprintln!("note: newsboat not installed; skipping the newsboat test");
        return None;
    }
    std::fs::write(dir.join("feeds.opml"), opml).unwrap();
    std::fs::write(dir.join("urls"), "").unwrap();
    std::fs::write(dir.join("config"), "reload-threads 1\n").unwrap();
    let run = |args: &[&str]| {
        let out = Command::new("newsboat")
            .args(args)
            .arg("-u")
            .arg(dir.join("urls"))
            .arg("-c")
            .arg(dir.join("cache.db"))
            .arg("-C")
            .arg(dir.join("config"))
            .env("HOME", dir)
            .env("XDG_CONFIG_HOME", dir.join("xdg-config"))
            .env("XDG_DATA_HOME", dir.join("xdg-data"))
            .output()
            .expect("running newsboat");
        assert!(out.status.success(), "newsboat {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    run(&["-i", dir.join("feeds.opml").to_str().unwrap()]);
    run(&["-x", "reload"]);
    Some(())
}

fn sqlite(dir: &Path, sql: &str) -> BTreeSet<String> {
    let out = Command::new("sqlite3").arg(dir.join("cache.db")).arg(sql).output().expect("sqlite3");
    assert!(out.status.success(), "sqlite3: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().lines().map(str::to_owned).collect()
}

#[test]
fn the_keyed_opml_subscribes_newsboat_to_exactly_the_subscribers_feeds() {
    let (server, _) = licensed_server(&[]);
    let key = subscribe(&server, "acme", &["world"]);
    let opml = server.text(&format!("/k/{key}/opml.xml"));
    let dir = tempfile::tempdir().unwrap();
    let Some(()) = newsboat_from_opml(dir.path(), &opml) else { return };
    let feeds = sqlite(dir.path(), "SELECT rssurl FROM rss_feed;");
    let expected: BTreeSet<String> =
        ["sport", "world"].iter().map(|s| server.url(&format!("/k/{key}/sections/{s}/rss.xml"))).collect();
    assert_eq!(feeds, expected, "public sport and licensed world, not business, all keyed");
    let items = sqlite(dir.path(), "SELECT url FROM rss_item;");
    assert_eq!(items.len(), 3, "{items:?}");
    for url in &items {
        assert!(url.starts_with(&server.url(&format!("/k/{key}/articles/"))), "{url}");
    }
    let titles = sqlite(dir.path(), "SELECT title FROM rss_item;");
    assert!(titles.contains(SPORT) && !titles.contains(BUSINESS), "{titles:?}");
}

/// A purge webhook and WebSub hub on one loopback port that answers 200
/// and hands over each request it received, head and body.
fn recorder() -> (u16, std::sync::mpsc::Receiver<String>) {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { return };
            let mut reader = BufReader::new(conn.try_clone().unwrap());
            let (mut text, mut length) = (String::new(), 0);
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
                text.push_str(&line);
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            text.push_str(&String::from_utf8_lossy(&body));
            let _ = conn.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            if tx.send(text).is_err() {
                return;
            }
        }
    });
    (port, rx)
}

#[test]
fn purges_and_websub_pings_never_name_licensed_copy_and_keyed_feeds_name_no_hub() {
    let (port, received) = recorder();
    let purge = format!("webhook+http://127.0.0.1:{port}/purge");
    let hub = format!("http://127.0.0.1:{port}/hub");
    let server = TestServer::start_with(&[LICENSED, ("WIREFEED_PURGE", &purge), ("WIREFEED_WEBSUB_HUBS", &hub)]);
    let world = server.import_new(story("Licensed scoop", "World", "Wed, 27/07/2016 - 09:00", "Text."));
    let world_id = world["id"].as_str().unwrap().to_owned();
    server.import_new(story(SPORT, "Sport", "Wed, 27/07/2016 - 09:01", "Text."));
    let (mut seen, mut purged, mut pinged) = (Vec::new(), false, false);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !(purged && pinged) && std::time::Instant::now() < deadline {
        if let Ok(request) = received.recv_timeout(std::time::Duration::from_millis(200)) {
            purged |= request.starts_with("POST /purge") && request.contains("section-sport");
            pinged |= request.starts_with("POST /hub") && request.contains("sport");
            seen.push(request);
        }
    }
    assert!(purged && pinged, "the public story was purged and pinged: {seen:?}");
    // Anything still on its way for the licensed story would have come first (one worker, in order).
    std::thread::sleep(std::time::Duration::from_millis(500));
    seen.extend(received.try_iter());
    for request in &seen {
        assert!(!request.contains("world") && !request.contains(&world_id), "licensed copy named:\n{request}");
    }

    let key = subscribe(&server, "acme", &["world"]);
    let public = server.get("/rss.xml");
    assert!(public.headers().get("link").is_some_and(|l| l.to_str().unwrap().contains("rel=\"hub\"")));
    for path in ["rss.xml", "atom.xml", "feed.json", "sections/world/rss.xml"] {
        let keyed = server.get(&format!("/k/{key}/{path}"));
        assert!(keyed.headers().get("link").is_none(), "{path}: no WebSub Link header under a key");
        let body = keyed.text().unwrap();
        assert!(!body.contains(&hub), "{path}: no hub named under a key");
    }
}

#[test]
fn keyed_urls_work_under_a_public_url_with_a_path() {
    let server = TestServer::start_with(&[LICENSED, ("WIREFEED_PUBLIC_URL", "https://example.org/news/")]);
    let added: Value = post(&server, "/subscribers", json!({"name": "acme", "sections": ["world"]})).json().unwrap();
    let key = added["key"].as_str().unwrap().to_owned();
    let answer: Value = post(&server, "/subscribers/acme/rotate", json!({})).json().unwrap();
    let key2 = answer["key"].as_str().unwrap().to_owned();
    assert_eq!(answer["opml"], format!("https://example.org/news/k/{key2}/opml.xml"));
    assert_eq!(server.get(&format!("/news/k/{key}/rss.xml")).status(), 404, "rotated out");
    for path in [format!("/news/k/{key2}/sections/world/rss.xml"), format!("/k/{key2}/sections/world/rss.xml")] {
        let rss = server.text(&path);
        assert!(rss.contains(&format!("https://example.org/news/k/{key2}/articles/")), "{path}: {rss}");
        assert!(!rss.contains("https://example.org/news/articles/"), "{path}: a public link");
    }
    let res = server.get(&format!("/news/k/{key2}/sections/world/rss.xml?before=abc"));
    assert_eq!(res.status(), 400, "the query goes with the path");
}
