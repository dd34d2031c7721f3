//! Agency transmissions over HTTP: media types, notes kept from readers,
//! later takes updating in place, hostile XML refused.

use std::time::{Duration, Instant};

use crate::helpers::*;

/// An IPTC 7901 take as dpa sends it: header, slug line, STX, headline with
/// ` =`, indented paragraphs, a notebook not for publication, the trailer.
fn iptc(take: &str, headline: &str, body: &str, trailer: &str) -> Vec<u8> {
    let take = if take.is_empty() { String::new() } else { format!("{take}\r\n") };
    format!(
        "\u{1}eca107 4 i 180 ccccb   dpa 0412\r\n\nPoland-weather/\r\n\u{2}{take}{headline} =\r\n\n   \
         Warsaw (dpa) - {body}\r\nwhich the weather service confirmed on Monday.\r\n\n   \
         Rivers in the south were expected to crest overnight.\r\n\n\
         # dpa NOTEBOOK\r\n\n* * * *\r\nThe following information is not for publication\r\n\n\
         ## dpa Contacts\r\n- Reporting by: Halina Wrobel\r\nTel: +48 22 555 0101\r\n\n\
         dpa hw kk\r\n\r\n\u{3}{trailer} \r\n\u{7f}\n\u{7f}\u{4}"
    )
    .into_bytes()
}

fn post(server: &TestServer, body: Vec<u8>, media: &str, query: &str) -> reqwest::blocking::Response {
    server
        .client()
        .post(server.url(&format!("/import{query}")))
        .bearer_auth(TOKEN)
        .header("content-type", media)
        .body(body)
        .send()
        .unwrap()
}

#[test]
fn a_dpa_take_is_read_its_notebook_never_published_and_its_lead_updates_it_in_place() {
    let server = TestServer::start();
    let first = iptc("", "Floods close roads in southern Poland", "Heavy rain flooded roads", "021342 GMT Sep 24");
    let res = post(&server, first, "text/plain", "");
    assert_eq!(res.status(), 201);
    let created: serde_json::Value = res.json().unwrap();
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(created["headline"], "Floods close roads in southern Poland");
    assert_eq!(created["published"], "2024-09-02T13:42:00Z");
    assert_eq!(created["wire"]["format"], "iptc7901");
    assert_eq!(created["wire"]["slug"], "Poland-weather");
    assert_eq!(created["wire"]["priority"], 4);
    assert!(created["notes"].to_string().contains("Halina Wrobel"), "the importer sees the notes: {created}");

    // Readers never see the notebook: not in the article JSON, pages or feeds.
    let public = server.text(&format!("/articles/{id}.json"));
    let documents = [
        public.clone(),
        server.text(&format!("/articles/{id}")),
        server.text("/rss.xml"),
        server.text("/atom.xml"),
        server.text("/feed.json"),
        server.text("/"),
    ];
    for doc in &documents {
        for secret in ["Halina Wrobel", "+48 22 555 0101", "not for publication", "dpa hw kk", "eca107", "021342"] {
            assert!(!doc.contains(secret), "{secret:?} published in:\n{doc}");
        }
    }
    assert!(public.contains("Rivers in the south were expected to crest overnight."));
    // The token holder sees them.
    let private: serde_json::Value = server
        .client()
        .get(server.url(&format!("/articles/{id}.json")))
        .bearer_auth(TOKEN)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert!(private["article"]["notes"].to_string().contains("Halina Wrobel"));

    // The lead: same agency and slug, a new headline, a later trailer.
    let lead = iptc("1ST LEAD", "Floods cut off towns in southern Poland", "Floods cut off towns", "021510 GMT Sep 24");
    let res = post(&server, lead, "text/plain", "");
    assert_eq!(res.status(), 200, "a later take updates in place");
    let updated: serde_json::Value = res.json().unwrap();
    assert_eq!(updated["outcome"], "updated");
    assert_eq!(updated["id"], id.as_str(), "same id, same feed GUID");
    assert_eq!(updated["headline"], "Floods cut off towns in southern Poland");
    assert_eq!(updated["updated"], "2024-09-02T15:10:00Z");
    let feed = parse_feed(&server.get("/rss.xml").bytes().unwrap());
    let titles: Vec<_> = feed.entries.iter().filter_map(|e| e.title.as_ref()).map(|t| t.content.clone()).collect();
    assert_eq!(titles.iter().filter(|t| t.contains("southern Poland")).count(), 1, "{titles:?}");

    // The first take arriving late changes nothing.
    let late = iptc("", "Floods close roads in southern Poland", "Heavy rain flooded roads", "021342 GMT Sep 24");
    let res = post(&server, late, "text/plain", "");
    assert_eq!(res.status(), 200);
    let answer: serde_json::Value = res.json().unwrap();
    assert_ne!(answer["outcome"], "created");
    assert_eq!(answer["headline"], "Floods cut off towns in southern Poland");
}

#[test]
fn xml_media_types_are_accepted_and_hostile_xml_is_refused_quickly() {
    let server = TestServer::start();
    let nitf = r#"<?xml version="1.0" encoding="UTF-8"?>
<nitf><head><title>harbour-strike</title>
<docdata><urgency ed-urg="3"/><date.issue norm="20240305T093000Z"/><du-key key="harbour-strike"/></docdata>
</head><body><body.head><hedline><hl1>Dock workers extend harbour strike</hl1></hedline>
<byline>By Mara Lindqvist, Nordic Wire</byline></body.head>
<body.content><p>ROTTERDAM (NW) - Dock workers extended their strike on Tuesday.</p>
<p>Talks resume on Thursday.</p></body.content></body></nitf>"#;
    for media in ["application/xml", "text/xml", "application/nitf+xml"] {
        let res = post(&server, nitf.as_bytes().to_vec(), media, "?dry_run=true");
        assert_eq!(res.status(), 200, "{media}");
        let checked: serde_json::Value = res.json().unwrap();
        assert_eq!(checked["story"]["headline"], "Dock workers extend harbour strike", "{media}");
        assert_eq!(checked["story"]["wire"]["format"], "nitf");
        assert!(!checked.to_string().contains("<p>"), "no raw tags: {checked}");
    }
    let res = post(&server, nitf.as_bytes().to_vec(), "application/json", "");
    assert_eq!(res.status(), 415);

    let laughs = format!(
        "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">{}]><nitf>&lol9;</nitf>",
        (1..10).map(|i| format!("<!ENTITY lol{i} \"{}\">", format!("&lol{};", i - 1).repeat(10))).collect::<String>()
    );
    let external = r#"<?xml version="1.0"?><!DOCTYPE nitf [<!ENTITY x SYSTEM "file:///etc/passwd">]><nitf>&x;</nitf>"#;
    let two = r#"<newsMessage xmlns="http://iptc.org/std/nar/2006-10-01/"><itemSet><newsItem/><newsItem/></itemSet></newsMessage>"#;
    for (what, body) in [("billion laughs", laughs.as_str()), ("external entity", external), ("two items", two)] {
        let started = Instant::now();
        let res = post(&server, body.as_bytes().to_vec(), "application/vnd.iptc.g2.newsitem+xml", "");
        assert!(started.elapsed() < Duration::from_secs(1), "{what} took {:?}", started.elapsed());
        assert_eq!(res.status(), 400, "{what}");
        let error: serde_json::Value = res.json().unwrap();
        assert!(error["detail"].as_str().is_some_and(|d| !d.is_empty()), "{what}: {error}");
        assert!(!error.to_string().contains("root:"), "nothing of /etc/passwd: {error}");
    }
    let feed = server.text("/atom.xml");
    assert!(!feed.contains("harbour"), "nothing was stored by a dry run or a refusal");
}

/// The embargo forms agencies use, each with its release written in its own
/// syntax: (what, media type, transmission, headline).
fn embargo_forms(release: chrono::DateTime<chrono::Utc>) -> Vec<(&'static str, &'static str, String, &'static str)> {
    let sent = release - chrono::Duration::minutes(10);
    let trailer = sent.format("%d%H%M GMT %b %y");
    let line = release.format("%H:%M:%S GMT %-d %B %Y");
    let berlin = release.with_timezone(&chrono_tz::Europe::Berlin).format("%d.%m.%Y, %H:%M:%S Uhr");
    let iptc = |slug: &str, advisory: &str, headline: &str, notebook: &str| {
        format!(
            "\u{1}eca201 4 i 90 dpa 0501\r\n\n{slug}/\r\n\u{2}{advisory}{headline} =\r\n\n   \
             Tromsoe (dpa) - The findings were released by the institute.\r\n\n{notebook}\
             dpa ek\r\n\r\n\u{3}{trailer}\r\n\u{7f}\u{4}"
        )
    };
    let item = |guid: &str, meta: &str, head: &str, headline: &str| {
        format!(
            "<newsItem xmlns=\"http://iptc.org/std/nar/2006-10-01/\" guid=\"urn:newsml:dpa.com:20090101:{guid}\">\
             <itemMeta><provider qcode=\"nprov:dpa\"/><firstCreated>{}</firstCreated>{meta}</itemMeta>\
             <contentMeta><headline>{headline}</headline><creditline>dpa</creditline></contentMeta>\
             <contentSet><inlineXML contenttype=\"application/xhtml+xml\"><html xmlns=\"http://www.w3.org/1999/xhtml\">\
             <body><header>{head}<h1>{headline}</h1></header><section class=\"main\">\
             <p>Hamburg (dpa) - Der Bericht wurde am Morgen vorgestellt.</p></section></body></html>\
             </inlineXML></contentSet></newsItem>",
            sent.to_rfc3339()
        )
    };
    vec![
        (
            "IPTC 7901 line",
            "text/plain",
            iptc("Norway-glaciers", &format!("EMBARGOED until {line}\r\n"), "Glaciers lose a fifth of their ice", ""),
            "Glaciers lose a fifth of their ice",
        ),
        (
            "notebook",
            "text/plain",
            iptc(
                "Norway-fjords",
                "",
                "Fjord waters warm faster than the sea",
                &format!("# dpa NOTEBOOK\r\nNot for publication before {line}.\r\n\r\n"),
            ),
            "Fjord waters warm faster than the sea",
        ),
        (
            "NITF date.release",
            "application/nitf+xml",
            format!(
                "<nitf><head><docdata management-status=\"embargoed\"><date.issue norm=\"{}\"/>\
                 <date.release norm=\"{}\"/></docdata></head><body><body.head><hedline><hl1>Reindeer herds shrink \
                 in the north</hl1></hedline></body.head><body.content><p>KIRUNA (NW) - Herds shrank.</p>\
                 </body.content></body></nitf>",
                sent.format("%Y%m%dT%H%M%SZ"),
                release.format("%Y%m%dT%H%M%SZ")
            ),
            "Reindeer herds shrink in the north",
        ),
        (
            "NewsML-G2 embargoed",
            "application/vnd.iptc.g2.newsitem+xml",
            item(
                "260101-99-1",
                &format!("<embargoed>{}</embargoed>", release.to_rfc3339()),
                "",
                "Hafen meldet Rekordumschlag",
            ),
            "Hafen meldet Rekordumschlag",
        ),
        (
            "dpa Sperrfrist in the XHTML",
            "application/vnd.iptc.g2.newsitem+xml",
            item(
                "260101-99-2",
                "",
                &format!("<p>Bitte beachten Sie die Sperrfrist: {berlin}</p>"),
                "Werften melden volle Auftragsbücher",
            ),
            "Werften melden volle Auftragsbücher",
        ),
    ]
}

#[test]
fn every_embargo_form_holds_the_story_until_its_release() {
    let server = TestServer::start();
    let release = chrono::Utc::now() + chrono::Duration::seconds(8);
    let release = release - chrono::Duration::nanoseconds(i64::from(release.timestamp_subsec_nanos()));
    let mut held = Vec::new();
    for (what, media, body, headline) in embargo_forms(release) {
        let res = post(&server, body.into_bytes(), media, "");
        let status = res.status();
        let answer: serde_json::Value = res.json().unwrap();
        assert_eq!(status, 202, "{what}: held, not published: {answer}");
        let named = chrono::DateTime::parse_from_rfc3339(answer["release"].as_str().unwrap_or("")).unwrap();
        assert_eq!(named.timestamp(), release.timestamp(), "{what}: released at its own minute and second");
        held.push((what, headline, answer["id"].as_str().unwrap().to_owned()));
    }
    let feed = server.text("/rss.xml");
    for (what, headline, id) in &held {
        assert!(!feed.contains(headline), "{what}: in the feed before its release");
        assert_eq!(server.get(&format!("/articles/{id}")).status(), 404, "{what}: its page");
        assert_eq!(server.get(&format!("/articles/{id}.json")).status(), 404, "{what}: its JSON");
    }
    let wait = (release - chrono::Utc::now()).to_std().unwrap_or_default() + Duration::from_millis(1500);
    std::thread::sleep(wait);
    let feed = server.text("/rss.xml");
    for (what, headline, id) in &held {
        assert!(feed.contains(headline), "{what}: in the feed after its release");
        let article = server.text(&format!("/articles/{id}.json"));
        assert!(!article.contains("Sperrfrist") && !article.contains("EMBARGOED"), "{what}: {article}");
        assert!(!article.contains("Not for publication"), "{what}: {article}");
    }
}

/// An embargo whose time cannot be read is stored and held, answered 202
/// with a warning, until `POST /articles/{id}/release`.
#[test]
fn an_unreadable_embargo_is_held_until_released_by_hand() {
    let server = TestServer::start();
    let body = "\u{1}eca202 4 i 90 dpa 0502\r\n\nNorway-report/\r\n\u{2}HOLD FOR RELEASE until further notice\r\n\
                Arctic report warns of faster melting =\r\n\n   Oslo (dpa) - Sea ice is melting faster.\r\n\r\n\
                \u{3}071200 GMT Dec 26\r\n\u{7f}\u{4}";
    let res = post(&server, body.as_bytes().to_vec(), "text/plain", "");
    assert_eq!(res.status(), 202);
    let answer: serde_json::Value = res.json().unwrap();
    assert!(answer["warnings"].to_string().contains("released by hand"), "{answer}");
    let id = answer["id"].as_str().unwrap().to_owned();
    assert!(!server.text("/rss.xml").contains("Arctic report"));
    assert_eq!(server.get(&format!("/articles/{id}.json")).status(), 404);
    let res = server.client().post(server.url(&format!("/articles/{id}/release"))).bearer_auth(TOKEN).send().unwrap();
    assert!(res.status().is_success(), "{}", res.status());
    assert!(server.text("/rss.xml").contains("Arctic report warns of faster melting"));
    assert!(!server.text(&format!("/articles/{id}.json")).contains("further notice"));
}
