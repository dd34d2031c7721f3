//! wirefeed behind a real nginx, under the `/news/` prefix: every link a
//! reader or page follows carries the public address, in both prefix modes
//! (the proxy strips the prefix, or passes it through); forged forwarding
//! headers change nothing; conditional requests and `proxy_cache` work.
//!
//! The tests start nginx (`$NGINX`, or `nginx` from PATH or /usr/sbin) from a
//! generated config in a temp dir. Without nginx they are skipped with a
//! note, unless `CI` is set: then they fail.

use std::time::{Duration, Instant};

use reqwest::blocking::Client;

use crate::engines::{free_port, start_nginx, Engine};
use crate::helpers::*;
use crate::observability::{sample, wait_for_log};

/// A running nginx on a loopback port, with its temp dir.
struct Nginx {
    engine: Engine,
    _dir: tempfile::TempDir,
}

impl Nginx {
    /// nginx on `port` with `http` (extra http-level directives) and `server`
    /// (the server block's body). `None` when nginx is not installed and `CI`
    /// is not set.
    fn start(port: u16, http: &str, server: &str) -> Option<Nginx> {
        let dir = tempfile::tempdir().unwrap();
        let engine = start_nginx(dir.path(), port, "", http, server)?;
        Some(Nginx { engine, _dir: dir })
    }

    /// The public base URL nginx serves wirefeed under.
    fn public(&self) -> String {
        format!("http://127.0.0.1:{}/news/", self.engine.port)
    }
}

/// The forwarding headers a proxy that strips the prefix sends (the server
/// must be told it sets `X-Forwarded-Prefix`: [`PREFIXED`]). nginx
/// connects from 127.0.0.2, the only trusted proxy: a client on 127.0.0.1
/// talking to wirefeed directly is not trusted.
fn stripping_location(upstream: u16, extra: &str) -> String {
    format!(
        "location /news/ {{
            proxy_pass http://127.0.0.1:{upstream}/;
            proxy_bind 127.0.0.2;
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header X-Forwarded-Host $http_host;
            proxy_set_header X-Forwarded-Prefix /news;
            proxy_set_header Forwarded \"\";
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            {extra}
        }}"
    )
}

/// The forwarding headers the stripping proxy sets, as the server is told.
const PREFIXED: (&str, &str) =
    ("WIREFEED_FORWARDED_HEADERS", "X-Forwarded-For,X-Forwarded-Proto,X-Forwarded-Host,X-Forwarded-Prefix");

fn client() -> Client {
    Client::builder().timeout(Duration::from_secs(30)).redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

fn get_ok(client: &Client, url: &str, headers: &[(&str, &str)]) -> String {
    let mut req = client.get(url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = req.send().unwrap_or_else(|e| panic!("GET {url}: {e}"));
    assert_eq!(res.status(), 200, "GET {url}");
    res.text().unwrap()
}

/// Every absolute link in `body` starts with `public`: once its occurrences
/// are taken out, no loopback address (wirefeed's own, or nginx's without
/// the prefix) and nothing forged is left.
fn only_public_links(what: &str, body: &str, public: &str) {
    assert!(body.contains(public), "{what}: no link to {public}:\n{body}");
    let rest = body.replace(public, "");
    for bad in ["127.0.0.1", "evil", "localhost"] {
        assert!(!rest.contains(bad), "{what}: a link not under {public} ({bad}):\n{body}");
    }
}

/// What a reader and a browser see through the proxy at `public`.
fn links_follow_the_public_address(client: &Client, public: &str, forged: &[(&str, &str)]) {
    let rss = get_ok(client, &format!("{public}rss.xml"), forged);
    only_public_links("rss.xml", &rss, public);
    let doc = roxmltree::Document::parse(&rss).unwrap();
    let self_link = doc
        .descendants()
        .find(|n| n.tag_name().name() == "link" && n.attribute("rel") == Some("self"))
        .and_then(|n| n.attribute("href"));
    assert_eq!(self_link, Some(format!("{public}rss.xml").as_str()));
    let item_link = doc.descendants().find(|n| n.has_tag_name("item")).unwrap();
    let item_link = item_link.children().find(|n| n.has_tag_name("link")).and_then(|n| n.text());
    assert_eq!(item_link, Some(format!("{public}articles/{SEED_ID}").as_str()));
    let guid = doc.descendants().find(|n| n.has_tag_name("guid")).and_then(|n| n.text()).unwrap();
    assert!(guid.starts_with("urn:uuid:"), "item ids never depend on the address: {guid}");

    let atom = get_ok(client, &format!("{public}sections/world/atom.xml"), forged);
    only_public_links("section atom.xml", &atom, public);
    let feed = parse_feed(atom.as_bytes());
    assert!(feed
        .links
        .iter()
        .any(|l| l.rel.as_deref() == Some("self") && l.href == format!("{public}sections/world/atom.xml")));
    assert!(feed
        .links
        .iter()
        .any(|l| l.rel.as_deref() == Some("alternate") && l.href == format!("{public}sections/world")));
    assert_eq!(feed.entries[0].links[0].href, format!("{public}articles/{SEED_ID}"));
    assert!(feed.entries[0].id.starts_with("urn:uuid:"), "{}", feed.entries[0].id);

    let json: serde_json::Value = serde_json::from_str(&get_ok(client, &format!("{public}feed.json"), forged)).unwrap();
    assert_eq!(json["feed_url"], format!("{public}feed.json"));
    assert_eq!(json["items"][0]["url"], format!("{public}articles/{SEED_ID}"));
    assert!(!json["items"][0]["id"].as_str().unwrap().contains("127.0.0.1"));

    let opml = get_ok(client, &format!("{public}opml.xml"), forged);
    only_public_links("opml.xml", &opml, public);
    let doc = roxmltree::Document::parse(&opml).unwrap();
    let outlines: Vec<_> = doc.descendants().filter(|n| n.has_tag_name("outline")).collect();
    assert_eq!(outlines.len(), 1, "World (the all-sections feed is not listed: it would double every story)");
    for outline in outlines {
        assert!(outline.attribute("xmlUrl").unwrap().starts_with(public));
        assert!(outline.attribute("htmlUrl").unwrap().starts_with(public));
    }

    for page in [String::new(), "sections/world".into(), format!("articles/{SEED_ID}"), "sections/none".into()] {
        let res = client.get(format!("{public}{page}")).headers(headers(forged)).send().unwrap();
        let status = res.status();
        let html = res.text().unwrap();
        assert_eq!(status, if page == "sections/none" { 404 } else { 200 }, "{page}");
        only_public_links(&format!("page /{page}"), &html, public);
        assert!(html.contains(&format!("href=\"{public}\"")), "page /{page} links home");
    }
}

fn headers(pairs: &[(&str, &str)]) -> reqwest::header::HeaderMap {
    let mut map = reqwest::header::HeaderMap::new();
    for (k, v) in pairs {
        map.insert(reqwest::header::HeaderName::from_bytes(k.as_bytes()).unwrap(), v.parse().unwrap());
    }
    map
}

/// Forwarding headers a client might forge.
const FORGED: &[(&str, &str)] = &[
    ("X-Forwarded-Host", "evil.example"),
    ("X-Forwarded-Proto", "https"),
    ("X-Forwarded-Prefix", "/evil"),
    ("Forwarded", "for=1.2.3.4;proto=https;host=evil.example"),
];

/// An import through the proxy answers with a public `Location`.
fn import_through(client: &Client, public: &str, headline: &str) -> String {
    let res = client
        .post(format!("{public}import"))
        .bearer_auth(TOKEN)
        .header("content-type", "text/plain; charset=utf-8")
        .body(story(headline, "Science", "Mon, 08/08/2016 - 12:00", "A story sent through the proxy."))
        .send()
        .unwrap();
    assert_eq!(res.status(), 201);
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    let answer: serde_json::Value = res.json().unwrap();
    let id = answer["id"].as_str().unwrap();
    assert_eq!(location, format!("{public}articles/{id}"));
    assert_eq!(answer["url"], location.as_str());
    let page = get_ok(client, &location, &[]);
    assert!(page.contains(headline), "Location leads to the story");
    location
}

/// An unchanged feed read again through nginx with its validators is a 304 without a body.
fn not_modified_passes_through(client: &Client, url: &str) {
    // Dated once the second of the last import is over.
    wait_for_next_second();
    let res = client.get(url).send().unwrap();
    let etag = res.headers()["etag"].to_str().unwrap().to_owned();
    let last_modified = res.headers()["last-modified"].to_str().unwrap().to_owned();
    for (name, value) in [("if-none-match", &etag), ("if-modified-since", &last_modified)] {
        let res = client.get(url).header(name, value).send().unwrap();
        assert_eq!(res.status(), 304, "{name} through nginx");
        assert_eq!(res.headers()["etag"].to_str().unwrap(), etag);
        assert!(res.bytes().unwrap().is_empty());
    }
}

#[test]
fn links_carry_the_public_address_when_the_proxy_strips_the_prefix() {
    let server = TestServer::start_with(&[("WIREFEED_TRUSTED_PROXIES", "127.0.0.2"), PREFIXED]);
    let Some(nginx) = Nginx::start(free_port(), "", &stripping_location(server.port, "")) else { return };
    let public = nginx.public();
    let client = client();

    links_follow_the_public_address(&client, &public, &[]);
    // nginx replaces what a client sends in these headers with its own.
    links_follow_the_public_address(&client, &public, FORGED);
    import_through(&client, &public, "Probe lands on a comet");
    not_modified_passes_through(&client, &format!("{public}sections/world/rss.xml"));

    // Straight to wirefeed from an untrusted peer: forged headers are ignored.
    let direct = format!("{}/", server.base);
    let via_proxy = parse_feed(get_ok(&client, &format!("{public}atom.xml"), &[]).as_bytes());
    let straight = parse_feed(get_ok(&client, &format!("{direct}atom.xml"), &[]).as_bytes());
    assert_eq!(via_proxy.id, straight.id, "feed ids do not depend on the address");
    let ids = |f: &feed_rs::model::Feed| f.entries.iter().map(|e| e.id.clone()).collect::<Vec<_>>();
    assert_eq!(ids(&via_proxy), ids(&straight), "entry ids do not depend on the address");
    for path in ["rss.xml", "sections/world/atom.xml", "opml.xml", ""] {
        let body = get_ok(&client, &format!("{direct}{path}"), FORGED);
        assert!(body.contains(&direct), "/{path}: {body}");
        assert!(!body.contains("evil") && !body.contains("https://"), "/{path} took a forged header:\n{body}");
    }
}

#[test]
fn links_carry_the_public_address_when_the_proxy_keeps_the_prefix() {
    let port = free_port();
    let public = format!("http://127.0.0.1:{port}/news/");
    let server = TestServer::start_with(&[("WIREFEED_PUBLIC_URL", &public)]);
    let location = format!(
        "location /news/ {{
            proxy_pass http://127.0.0.1:{};
            proxy_set_header Host $http_host;
        }}",
        server.port
    );
    let Some(nginx) = Nginx::start(port, "", &location) else { return };
    assert_eq!(nginx.public(), public);
    let client = client();

    links_follow_the_public_address(&client, &public, &[]);
    links_follow_the_public_address(&client, &public, FORGED);
    import_through(&client, &public, "Telescope spots a new moon");
    not_modified_passes_through(&client, &format!("{public}atom.xml"));
    let bare = client.get(server.url("/news")).send().unwrap();
    assert_eq!(bare.status(), 301, "the bare prefix leads to the home page");
    assert_eq!(bare.headers()["location"], public.as_str());
    // The routes answer both with and without the prefix, with the same links.
    for path in ["/news/healthz", "/healthz", "/news/rss.xml", "/rss.xml"] {
        let body = get_ok(&client, &server.url(path), FORGED);
        if path.ends_with(".xml") {
            only_public_links(path, &body, &public);
        }
    }
}

#[test]
fn proxy_cache_serves_repeated_reads_until_max_age_runs_out() {
    let server =
        TestServer::start_with(&[("WIREFEED_TRUSTED_PROXIES", "127.0.0.2"), ("WIREFEED_CACHE_MAX_AGE", "1"), PREFIXED]);
    let cache_dir = tempfile::tempdir().unwrap();
    let http = format!(
        "proxy_cache_path {} levels=1:2 keys_zone=wirefeed:1m max_size=10m inactive=10m use_temp_path=off;",
        cache_dir.path().display()
    );
    // The key holds the host: links are built from it, so one host's copy
    // must never be served for another.
    let cached = "proxy_cache wirefeed;
            proxy_cache_key $scheme$http_host$request_uri;
            proxy_cache_revalidate on;
            add_header X-Cache-Status $upstream_cache_status always;";
    let Some(nginx) = Nginx::start(free_port(), &http, &stripping_location(server.port, cached)) else { return };
    let client = client();
    let feed = format!("{}sections/science/rss.xml", nginx.public());
    let served = || {
        let m = server.metrics();
        sample(&m, r#"wirefeed_http_requests_total{route="/sections/{slug}/rss.xml",status="200"}"#).unwrap_or(0.0)
    };
    let read = || {
        let res = client.get(&feed).send().unwrap();
        let status = res.headers().get("x-cache-status").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
        assert_eq!(res.headers()["cache-control"], "public, max-age=1");
        (status, res.text().unwrap())
    };
    import_through(&client, &nginx.public(), "First science story");

    // First read fills the cache; the next ones (within max-age) never reach wirefeed.
    let (status, body) = read();
    assert_eq!(status, "MISS");
    assert!(body.contains("First science story"));
    // The first read's request line reaches the log (the server's stdout,
    // read by a thread) a moment after its answer: wait for it, or a late
    // line would look like a cache hit that reached wirefeed.
    let log_lines = || server.log_text().matches("path=/sections/science/rss.xml").count();
    wait_for_log(&server, &["path=/sections/science/rss.xml"]);
    let logged = log_lines();
    assert_eq!(logged, 1, "the first read is logged once");
    for _ in 0..5 {
        let (status, again) = read();
        assert_eq!(status, "HIT", "read again within max-age=1");
        assert_eq!(again, body);
    }
    assert_eq!(served(), 1.0, "cache hits never reach wirefeed");
    assert_eq!(log_lines(), logged);

    // Expired and unchanged: nginx revalidates, wirefeed answers 304, nginx serves its copy.
    std::thread::sleep(Duration::from_millis(2100));
    let (status, again) = read();
    assert_eq!(status, "REVALIDATED");
    assert_eq!(again, body);
    let m = server.metrics();
    assert_eq!(sample(&m, r#"wirefeed_http_requests_total{route="/sections/{slug}/rss.xml",status="304"}"#), Some(1.0));

    // A new story: readers through the cache see it once the cached copy expires.
    let imported_at = Instant::now();
    import_through(&client, &nginx.public(), "Second science story");
    let (status, stale) = read();
    if status == "HIT" {
        assert!(!stale.contains("Second science story"), "a hit is the cached copy");
    }
    loop {
        let (status, body) = read();
        if body.contains("Second science story") {
            assert!(status == "EXPIRED" || status == "MISS", "{status}");
            break;
        }
        assert!(imported_at.elapsed() < Duration::from_secs(4), "the import stayed invisible past max-age");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(served(), 2.0);
}
