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
