//! Hostile input: every write without the right token, oversize and binary
//! bodies, hostile story texts through every document, odd bytes in paths.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use crate::helpers::*;

/// Everything a reader or browser can fetch, for comparing before/after.
fn snapshot(server: &TestServer) -> Vec<String> {
    [
        "/rss.xml",
        "/atom.xml",
        "/feed.json",
        "/opml.xml",
        "/sections/world/rss.xml",
        &format!("/articles/{SEED_ID}.json"),
    ]
    .iter()
    .map(|p| server.text(p))
    .collect()
}

#[test]
fn no_write_without_the_token() {
    let server = TestServer::start();
    let before = snapshot(&server);
    let body = story("Intruder", "World", "Wed, 27/07/2016 - 10:00", "Nope.");
    let auths: [Option<&str>; 6] =
        [None, Some(""), Some("Bearer"), Some("Bearer "), Some("Bearer wrong-token-but-long-enough"), Some("Token x")];
    for auth in auths {
        let with = |mut req: reqwest::blocking::RequestBuilder| {
            if let Some(a) = auth {
                req = req.header("authorization", a);
            }
            req.send().unwrap()
        };
        let import =
            with(server.client().post(server.url("/import")).header("content-type", "text/plain").body(body.clone()));
        let dry = with(server.client().post(server.url("/import?dry_run=true")).body(body.clone()));
        let delete = with(server.client().delete(server.url(&format!("/articles/{SEED_ID}"))));
        for res in [import, dry, delete] {
            assert_eq!(res.status(), 401, "{auth:?}");
            assert!(res.headers()["www-authenticate"].to_str().unwrap().starts_with("Bearer"));
        }
    }
    // A token differing only in its last character, and a prefix of the token.
    for token in [&TOKEN[..TOKEN.len() - 1], &format!("{}x", &TOKEN[..TOKEN.len() - 1])] {
        let res = server.client().post(server.url("/import")).bearer_auth(token).body(body.clone()).send().unwrap();
        assert_eq!(res.status(), 401);
    }
    assert_eq!(snapshot(&server), before, "nothing changed");
    let metrics = server.metrics();
    assert!(!metrics.contains(TOKEN) && !server.log_text().contains(TOKEN));
}

#[test]
fn oversize_binary_and_non_text_bodies_are_refused() {
    let server = TestServer::start_with(&[("WIREFEED_MAX_BODY", "10000")]);
    let before = snapshot(&server);
    let cases: Vec<(Vec<u8>, &str, u16)> = vec![
        (vec![b'a'; 10_001], "text/plain", 413),
        (b"Headline\n\nBody \x00\x00\x00 with NULs\n".to_vec(), "text/plain", 400),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00".to_vec(), "text/plain", 400),
        (b"Headline\n\nBody.\n".to_vec(), "application/json", 415),
        (b"Headline\n\nBody.\n".to_vec(), "image/png", 415),
        (b"Headline\n\nBody.\n".to_vec(), "multipart/form-data; boundary=x", 415),
    ];
    for (body, ct, status) in cases {
        let res = server
            .client()
            .post(server.url("/import"))
            .bearer_auth(TOKEN)
            .header("content-type", ct)
            .body(body)
            .send()
            .unwrap();
        assert_eq!(res.status(), status, "{ct}");
        let json: serde_json::Value = res.json().unwrap();
        assert!(json["error"].is_string() && json["detail"].is_string(), "{json}");
    }
    assert_eq!(snapshot(&server), before, "nothing changed");
}

/// Starts `wirefeed serve` with `env` on a fresh data directory, expects it
/// to refuse, and gives its one line of stderr.
fn refused_start(env: &[(&str, &str)]) -> String {
    let tmp = tempfile::tempdir().unwrap();
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_wirefeed"));
    cmd.arg("serve")
        .env("WIREFEED_DATA_DIR", tmp.path())
        .env("WIREFEED_BIND", "127.0.0.1:0")
        .env("WIREFEED_IMPORT_TOKEN", "a-long-enough-test-token")
        .env("WIREFEED_SEED_DIR", seed_dir());
    for (name, value) in env {
        cmd.env(name, value);
    }
    let out = cmd.output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "{env:?} started");
    assert_eq!(err.trim_end().lines().count(), 1, "{env:?}: {err}");
    assert!(err.starts_with("wirefeed: error: ") && !err.contains("panic"), "{env:?}: {err}");
    err
}

#[test]
fn a_short_token_is_refused_at_start() {
    let err = refused_start(&[("WIREFEED_IMPORT_TOKEN", "short")]);
    assert!(err.contains("shorter than 16 characters"), "{err}");
}

#[test]
fn a_bad_setting_stops_the_start_with_one_line_naming_it() {
    let cases = [
        ("WIREFEED_FEED_ITEMS", "0", "--feed-items"),
        ("WIREFEED_FEED_ITEMS", "1001", "1..=1000"),
        ("WIREFEED_LOG_FORMAT", "xml", "possible values: text, json"),
        ("WIREFEED_MAX_BODY", "0", "--max-body"),
        ("WIREFEED_WRITE_TIMEOUT", "0", "--write-timeout"),
        ("WIREFEED_PUBLIC_URL", "example.org/news", "WIREFEED_PUBLIC_URL"),
        ("WIREFEED_PURGE", "varnish+http://127.0.0.1:1/", "WIREFEED_PURGE"),
    ];
    for (name, value, named) in cases {
        let err = refused_start(&[(name, value)]);
        assert!(err.contains(named), "{name}={value}: {err}");
    }
}

const HOSTILE: &[(&str, &str)] = &[
    ("markup", "<b>Bold</b> <script>alert('x')</script> <img src=x onerror=alert(1)> </p></content></entry>"),
    ("cdata", "Text with ]]> and <![CDATA[ nested ]]> and ]]]]><![CDATA[>"),
    ("controls", "Bell \u{7} backspace \u{8} vertical tab \u{b} form feed \u{c} escape \u{1b}[31m red"),
    ("long_word", "__LONG__"),
    ("quotes", "\"'\"'\"'«»„“”‘’ nested \"quotes 'inside \"quotes 'inside'\"'\""),
    ("rtl", "Arabic عربي \u{202E}override\u{202C} \u{2067}isolate\u{2069} Hebrew עברית"),
    ("entities", "&amp; &lt; &#0; &#xFFFE; &bogus; & < > \" '"),
    ("emoji", "👩‍👩‍👧‍👦 🏳️‍🌈 \u{FE0F} \u{200D} 𝕏"),
];

#[test]
fn hostile_stories_make_valid_documents() {
    let server = TestServer::start();
    let long_word = "x".repeat(10_000);
    for (name, text) in HOSTILE {
        let text = text.replace("__LONG__", &long_word);
        let headline = format!("Hostile {name}: {}", text.chars().take(80).collect::<String>());
        let body = format!("{headline}\n\n{text}\n\nSecond paragraph of {name}.\n\nLast update: Wed, 27/07/2016 - 10:00\n\nMore from Hostile\n");
        let res = server.import(body, "");
        assert_eq!(res.status(), 201, "{name}: {}", res.text().unwrap());
    }
    let rss = server.text("/sections/hostile/rss.xml");
    roxmltree::Document::parse(&rss).expect("RSS is well-formed XML");
    let channel = rss::Channel::read_from(rss.as_bytes()).unwrap();
    assert_eq!(channel.items().len(), HOSTILE.len());
    let atom = server.text("/sections/hostile/atom.xml");
    roxmltree::Document::parse(&atom).expect("Atom is well-formed XML");
    let feed = parse_feed(atom.as_bytes());
    for entry in &feed.entries {
        let content = entry.content.as_ref().unwrap().body.clone().unwrap();
        assert!(!content.contains("<script") && !content.contains("<img") && !content.contains("<b>"), "{content}");
        assert!(content.starts_with("<p>"));
    }
    let titles: Vec<_> = feed.entries.iter().map(|e| e.title.as_ref().unwrap().content.clone()).collect();
    assert!(titles.iter().any(|t| t.contains("<script>alert('x')</script>")), "markup kept as text: {titles:?}");
    serde_json::from_str::<serde_json::Value>(&server.text("/sections/hostile/feed.json")).expect("JSON Feed");
    for item in serde_json::from_str::<serde_json::Value>(&server.text("/sections/hostile/feed.json")).unwrap()["items"]
        .as_array()
        .unwrap()
    {
        let url = item["url"].as_str().unwrap();
        let page = server.client().get(url).send().unwrap().text().unwrap();
        assert!(!page.contains("<script>alert") && !page.contains("<img src=x"), "page escapes: {url}");
        assert!(!page.contains('\u{7}') && !page.contains('\u{1b}'), "no control characters");
    }
    let long = feed.entries.iter().find(|e| e.title.as_ref().unwrap().content.contains("long_word")).unwrap();
    assert!(long.content.as_ref().unwrap().body.as_ref().unwrap().contains(&long_word), "long word kept whole");
}

/// Sends one raw request and returns the status code.
fn raw_status(port: u16, request_line_path: &[u8]) -> u16 {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut req = b"GET ".to_vec();
    req.extend_from_slice(request_line_path);
    req.extend_from_slice(b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    stream.write_all(&req).unwrap();
    let mut buf = Vec::new();
    let _ = stream.read_to_end(&mut buf);
    let head = String::from_utf8_lossy(&buf);
    head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0)
}

#[test]
fn odd_paths_get_4xx_never_5xx() {
    let server = TestServer::start();
    let long = format!("/sections/{}/rss.xml", "a".repeat(5000));
    let long_id = format!("/articles/{}", "a-".repeat(3000));
    let paths: Vec<&[u8]> = vec![
        b"/sections/%00/rss.xml",
        b"/sections/..%2F..%2Fetc/rss.xml",
        b"/sections/../../etc/passwd",
        b"/sections/%2e%2e/atom.xml",
        b"/sections/world%00/rss.xml",
        b"/sections/W%C3%B6rld/rss.xml",
        b"/sections/%FF%FE/feed.json",
        b"/articles/%FF",
        b"/articles/..",
        b"/articles/a%2Fb.json",
        b"/articles/.json",
        b"/sections/world/rss.xml?before=%00",
        b"/sections/world/rss.xml?before=99999999999999999999999",
        b"/sections/world/rss.xml?before=-9223372036854775808",
        b"/rss.xml?before=1&before=2",
        b"/sections//rss.xml",
        b"/%",
        b"/sections/world/rss.xml/../../../",
        long.as_bytes(),
        long_id.as_bytes(),
    ];
    for path in paths {
        let status = raw_status(server.port, path);
        // 302: a cursor that is no page boundary leads to the one it stands for.
        assert!(
            (400..500).contains(&status) || status == 200 || status == 302,
            "{} -> {status}",
            String::from_utf8_lossy(&path[..path.len().min(80)])
        );
    }
    assert_eq!(server.get("/healthz").status(), 200, "still serving");
    let res = server.client().post(server.url("/rss.xml")).body("x").send().unwrap();
    assert_eq!(res.status(), 405);
    assert_eq!(res.json::<serde_json::Value>().unwrap()["error"], "method_not_allowed");
    let res = server.get("/import");
    assert_eq!(res.status(), 405);
    let res = server.get("/sections/%FF/rss.xml");
    assert_eq!(res.status(), 404);
    assert_eq!(res.json::<serde_json::Value>().unwrap()["error"], "not_found");
}
