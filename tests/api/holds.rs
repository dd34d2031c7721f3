//! Kills and embargoes compose: a held story can be killed (by DELETE or
//! by an agency's advisory) and is then never released; a re-sent held
//! story takes its new release time, later or earlier; a story whose
//! embargo cannot be read is held until the newsroom releases it.

use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::Value;

use crate::helpers::*;

const FEEDS: [&str; 4] = ["/rss.xml", "/atom.xml", "/feed.json", "/sections/markets/rss.xml"];

fn embargo_query(at: DateTime<Utc>) -> String {
    format!("?embargo={}", at.to_rfc3339_opts(SecondsFormat::Secs, true))
}

fn sleep_past(at: DateTime<Utc>) {
    std::thread::sleep((at - Utc::now()).to_std().unwrap_or_default() + Duration::from_millis(1500));
}

fn held(server: &TestServer, body: &str, query: &str) -> Value {
    let res = server.import(body, query);
    assert_eq!(res.status(), 202, "held, not published");
    let answer: Value = res.json().unwrap();
    assert_eq!(answer["outcome"], "embargoed", "{answer}");
    answer
}

/// No public feed shows `text` (a section that does not exist yet shows nothing).
fn nowhere(server: &TestServer, text: &str) {
    for path in FEEDS {
        let res = server.get(path);
        if res.status() == 404 {
            continue;
        }
        assert_eq!(res.status(), 200, "{path}");
        assert!(!res.text().unwrap().contains(text), "{path} shows {text:?}");
    }
}

fn release_by_hand(server: &TestServer, id: &str, token: &str) -> reqwest::blocking::Response {
    server.client().post(server.url(&format!("/articles/{id}/release"))).bearer_auth(token).send().unwrap()
}

const BODY: &str = "The bank cut its rate by half a point.";

fn rates() -> String {
    story("Central bank cuts rates", "Markets", "Mon, 01/07/2024 - 09:00", BODY)
}

#[test]
fn a_held_story_killed_by_delete_is_never_released() {
    let server = TestServer::start();
    server.import_new(story("Markets open flat", "Markets", "Mon, 01/07/2024 - 08:00", "Trading began quietly."));
    let release = Utc::now() + chrono::Duration::seconds(4);
    let answer = held(&server, &rates(), &embargo_query(release));
    let id = answer["id"].as_str().unwrap().to_owned();

    let unauthorized = server.client().delete(server.url(&format!("/articles/{id}"))).send().unwrap();
    assert_eq!(unauthorized.status(), 401);
    let res = server.client().delete(server.url(&format!("/articles/{id}"))).bearer_auth(TOKEN).send().unwrap();
    assert_eq!(res.status(), 200, "a held story is found by its id");
    let killed: Value = res.json().unwrap();
    assert_eq!(killed["outcome"], "deleted");
    assert_eq!(killed["id"], id.as_str());
    assert_eq!(killed["headline"], "Central bank cuts rates", "the answer says what was killed");

    sleep_past(release);
    nowhere(&server, BODY);
    assert_eq!(server.get(&format!("/articles/{id}")).status(), 410, "a tombstone is kept");
    assert!(!server.log_text().contains("embargo released"), "{}", server.log_text());
    // The same story sent again is refused; the release endpoint has nothing to release.
    assert_eq!(server.import(rates(), "").status(), 409);
    assert_eq!(release_by_hand(&server, &id, TOKEN).status(), 410);
    // And it stays so across a restart.
    let server = server.restart();
    nowhere(&server, BODY);
}

#[test]
fn a_held_story_killed_by_an_agency_advisory_is_never_released() {
    let server = TestServer::start();
    let release = Utc::now() + chrono::Duration::seconds(4);
    let texas = wire_fixture("anpa-ap-texas-flooding.tst");
    let res = server.import(texas, &embargo_query(release));
    assert_eq!(res.status(), 202);
    let answer: Value = res.json().unwrap();
    let id = answer["id"].as_str().unwrap().to_owned();
    let res = server.import(AP_TEXAS_KILL, "");
    assert_eq!(res.status(), 200);
    let killed: Value = res.json().unwrap();
    assert_eq!(killed["outcome"], "killed");
    assert_eq!(killed["id"], id.as_str(), "the advisory finds the held story by its slug: {killed}");

    sleep_past(release);
    assert_eq!(server.get(&format!("/articles/{id}")).status(), 410);
    for path in FEEDS.iter().take(3) {
        assert!(!server.text(path).contains("Texas"), "{path} shows the killed story");
    }
    let res = server.import(wire_fixture("anpa-ap-texas-flooding-writethru.tst"), "");
    assert_eq!(res.status(), 409, "a later take of the killed story is refused");
}

#[test]
fn a_re_sent_story_takes_its_new_release_time_later_or_earlier() {
    let server = TestServer::start();
    server.import_new(story("Markets open flat", "Markets", "Mon, 01/07/2024 - 08:00", "Trading began quietly."));

    // Later: R1 soon, R2 in an hour; R1 passes and nothing appears.
    let r1 = Utc::now() + chrono::Duration::seconds(3);
    let r2 = Utc::now() + chrono::Duration::hours(1);
    let first = held(&server, &rates(), &embargo_query(r1));
    let second = held(&server, &rates(), &embargo_query(r2));
    assert_eq!(second["id"], first["id"], "the held copy is replaced, not doubled");
    let named = DateTime::parse_from_rfc3339(second["release"].as_str().unwrap()).unwrap();
    assert_eq!(named.timestamp(), r2.timestamp(), "the answer names the new time");
    sleep_past(r1);
    nowhere(&server, BODY);

    // Earlier: another story held for an hour, then re-sent for soon.
    let rain = story("Rain halts harvest", "Markets", "Mon, 01/07/2024 - 10:00", "Farmers wait for dry weather.");
    let late = held(&server, &rain, &embargo_query(Utc::now() + chrono::Duration::hours(2)));
    let soon = Utc::now() + chrono::Duration::seconds(3);
    let rain2 =
        story("Rain halts harvest", "Markets", "Mon, 01/07/2024 - 10:05", "Farmers wait for dry weather, again.");
    let moved = held(&server, &rain2, &embargo_query(soon));
    assert_eq!(moved["id"], late["id"]);
    // A copy with no embargo at all keeps the held time: it never lifts an embargo.
    let res = server.import(story("Central bank cuts rates", "Markets", "Mon, 01/07/2024 - 09:30", BODY), "");
    assert_eq!(res.status(), 202, "a held story re-sent without an embargo stays held");
    let kept: Value = res.json().unwrap();
    assert_eq!(DateTime::parse_from_rfc3339(kept["release"].as_str().unwrap()).unwrap().timestamp(), r2.timestamp());
    assert!(kept["warnings"].to_string().contains("embargo stays"), "{kept}");

    sleep_past(soon);
    let rss = server.text("/rss.xml");
    assert!(rss.contains("Farmers wait for dry weather, again."), "released at the earlier time, the newer copy");
    assert!(!rss.contains(BODY), "the other story is still held");
    let article: Value = server.get(&format!("/articles/{}.json", late["id"].as_str().unwrap())).json().unwrap();
    assert_eq!(article["article"]["headline"], "Rain halts harvest");
}

#[test]
fn an_unreadable_embargo_holds_the_story_until_it_is_released_by_hand() {
    let server = TestServer::start();
    let text = "\u{1}eca310 5 i 55 dpa 0950\r\n\r\nEU-environment/pollution/\r\n\
                \u{2}EU air pollution caused 240,000 early deaths, agency says =\r\n\r\n\
                EMBARGOED until further notice from the agency desk\r\n\r\n\
                \u{20}  Brussels (dpa) - Air pollution caused an estimated 240,000 early\r\n\
                deaths in the European Union last year, the agency said.\r\n\r\n\
                dpa ek\r\n\r\n\u{3}051700 GMT Mar 25\r\n\u{4}";
    let answer = held(&server, text, "");
    assert!(answer["release"].is_null(), "no release time is invented: {answer}");
    let id = answer["id"].as_str().unwrap().to_owned();
    assert!(answer["release_by"].as_str().unwrap().ends_with(&format!("/articles/{id}/release")), "{answer}");
    assert!(answer["warnings"].to_string().contains("released by hand"), "{answer}");
    nowhere(&server, "240,000");
    assert_eq!(server.get(&format!("/articles/{id}")).status(), 404);

    // Still held after a restart, and only the token releases it.
    let server = server.restart();
    nowhere(&server, "240,000");
    assert_eq!(release_by_hand(&server, &id, "wrong-token-wrong-token-wrong").status(), 401);
    assert_eq!(release_by_hand(&server, "2026-01-01-no-such-story", TOKEN).status(), 404);
    let res = release_by_hand(&server, &id, TOKEN);
    assert_eq!(res.status(), 200);
    let released: Value = res.json().unwrap();
    assert_eq!(released["outcome"], "released");
    assert_eq!(released["id"], id.as_str());
    assert!(!released["embargo"].as_str().unwrap().starts_with("9999"), "the release time, not the hold's: {released}");
    assert!(server.text("/rss.xml").contains("240,000"));
    assert!(!server.text("/rss.xml").contains("further notice"), "the embargo line is a note");
    assert_eq!(server.get(&format!("/articles/{id}")).status(), 200);
    assert_eq!(release_by_hand(&server, &id, TOKEN).status(), 404, "nothing held any more");
}

#[test]
fn a_restored_story_with_an_embargo_is_held_not_published() {
    let server = TestServer::start();
    let first = server.import_new(rates());
    let id = first["id"].as_str().unwrap().to_owned();
    let res = server.client().delete(server.url(&format!("/articles/{id}"))).bearer_auth(TOKEN).send().unwrap();
    assert_eq!(res.status(), 200);
    let release = Utc::now() + chrono::Duration::hours(1);
    let answer = held(&server, &rates(), &format!("{}&restore=true", embargo_query(release)));
    assert_eq!(answer["id"], id.as_str(), "restored under its old id");
    nowhere(&server, BODY);
    let res = release_by_hand(&server, &id, TOKEN);
    assert_eq!(res.status(), 200);
    assert!(server.text("/rss.xml").contains(BODY));
}

#[test]
fn plain_text_with_an_embargo_line_is_held_and_the_line_is_never_published() {
    let server = TestServer::start();
    for (n, line) in [
        "EMBARGOED until 2300 GMT on 31 December 2099",
        "Not for publication before 0600 GMT on 1 January 2100.",
        "Sperrfrist: Freitag, 31. Dezember 2099, 18.00 Uhr MEZ",
    ]
    .iter()
    .enumerate()
    {
        let text = format!("{line}\n\nStory number {n} of the day\n\nThe text of story {n}.\n\nMore from Markets\n");
        let answer = held(&server, &text, "");
        assert_eq!(answer["headline"], format!("Story number {n} of the day"), "{answer}");
        nowhere(&server, &format!("The text of story {n}."));
        nowhere(&server, &line[..12]);
    }
}

/// A NewsML-G2 item of one version and publication status.
fn g2_item(version: u8, status: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<newsItem xmlns="http://iptc.org/std/nar/2006-10-01/" guid="urn:newsml:example.com:20261207:glaciers" version="{version}" standard="NewsML-G2" standardversion="2.25">
<itemMeta><itemClass qcode="ninat:text"/><provider qcode="nprov:EXA"/><versionCreated>2026-12-07T08:0{version}:00Z</versionCreated><pubStatus qcode="stat:{status}"/></itemMeta>
<contentMeta><headline>Glaciers melt faster than thought</headline><slugline>CLIMATE-GLACIERS</slugline><language tag="en"/></contentMeta>
<contentSet><inlineXML contenttype="application/xhtml+xml"><html xmlns="http://www.w3.org/1999/xhtml"><body><p>OSLO - Glaciers melt faster than thought, version {version}.</p><p>A study says so.</p></body></html></inlineXML></contentSet>
</newsItem>"#
    )
}

fn post_xml(server: &TestServer, xml: String) -> reqwest::blocking::Response {
    server
        .client()
        .post(server.url("/import"))
        .bearer_auth(TOKEN)
        .header("content-type", "application/vnd.iptc.g2.newsitem+xml")
        .body(xml)
        .send()
        .unwrap()
}

#[test]
fn newsml_withheld_is_held_and_canceled_is_a_kill() {
    let server = TestServer::start();
    let res = post_xml(&server, g2_item(1, "withheld"));
    assert_eq!(res.status(), 202, "withheld: held until released by hand");
    nowhere(&server, "Glaciers melt faster");
    let res = post_xml(&server, g2_item(2, "usable"));
    assert_eq!(res.status(), 202, "a usable version of a held story stays held (fail closed)");
    let id = res.json::<Value>().unwrap()["id"].as_str().unwrap().to_owned();
    assert_eq!(release_by_hand(&server, &id, TOKEN).status(), 200);
    assert!(server.text("/rss.xml").contains("version 2"));
    let res = post_xml(&server, g2_item(3, "canceled"));
    assert_eq!(res.status(), 200);
    let killed: Value = res.json().unwrap();
    assert_eq!(killed["outcome"], "killed", "{killed}");
    assert_eq!(killed["id"], id.as_str());
    assert!(!server.text("/rss.xml").contains("Glaciers melt faster"));
    assert_eq!(server.get(&format!("/articles/{id}")).status(), 410);
}
