//! Integrity under attack: a client's forged forwarding headers never reach
//! a link (through a real nginx), the operator's endpoints need the token,
//! cache lifetimes do not tell when an embargoed story is due, older pages
//! carry no shared-cache lifetime, and odd cursors cost no render.

use std::time::Duration;

use chrono::{SecondsFormat, Utc};
use reqwest::blocking::Client;

use crate::engines::{free_port, start_nginx, Engine};
use crate::helpers::*;
use crate::observability::sample;

/// What a client forges, hoping to rewrite everyone's links.
const FORGED: &[(&str, &str)] = &[
    ("X-Forwarded-Host", "evil.example"),
    ("X-Forwarded-Proto", "https"),
    ("X-Forwarded-Prefix", "/attacker/path"),
    ("Forwarded", "for=1.2.3.4;proto=https;host=evil.example"),
];

fn client() -> Client {
    Client::builder().timeout(Duration::from_secs(30)).redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

fn get(client: &Client, url: &str, headers: &[(&str, &str)]) -> String {
    let mut req = client.get(url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = req.send().unwrap_or_else(|e| panic!("GET {url}: {e}"));
    assert_eq!(res.status(), 200, "GET {url}");
    res.text().unwrap()
}

/// No link in `body` took anything the client forged.
fn nothing_forged(what: &str, body: &str, public: &str) {
    assert!(body.contains(public), "{what}: no link to {public}:\n{body}");
    for bad in ["evil", "attacker", "https://127.0.0.1"] {
        assert!(!body.contains(bad), "{what}: a forged header reached a link ({bad}):\n{body}");
    }
}

/// nginx in front of `upstream` (connecting from 127.0.0.2, the trusted
/// proxy) with `headers` (its `proxy_set_header` lines) and a shared cache
/// keyed as docs/deploy.md recommends. `None` without nginx (unless `CI`).
fn nginx(dir: &std::path::Path, upstream: u16, headers: &str) -> Option<Engine> {
    let http = format!(
        "proxy_cache_path {}/cache levels=1:2 keys_zone=wirefeed:1m max_size=10m inactive=10m use_temp_path=off;",
        dir.display()
    );
    let server = format!(
        "location / {{
            proxy_pass http://127.0.0.1:{upstream};
            proxy_bind 127.0.0.2;
            proxy_cache wirefeed;
            proxy_cache_key $scheme$host$request_uri;
            {headers}
        }}"
    );
    start_nginx(dir, free_port(), "", &http, &server)
}

/// Feeds and pages read through `nginx` by a forging client first (filling
/// the shared cache), then by an honest reader: neither sees a forged link.
fn forged_headers_reach_no_link(nginx: &Engine) {
    let public = nginx.url("/");
    let client = client();
    for path in ["rss.xml", "atom.xml", "feed.json", "sections/world/rss.xml", "opml.xml", "", "sections/world"] {
        let url = format!("{public}{path}");
        let forged = get(&client, &url, FORGED);
        nothing_forged(&format!("/{path} (forging client)"), &forged, &public);
        let honest = get(&client, &url, &[]);
        nothing_forged(&format!("/{path} (honest reader)"), &honest, &public);
    }
}

#[test]
fn a_proxy_that_sets_only_x_forwarded_for_passes_no_forged_header_into_links() {
    // HAProxy's `option forwardfor`: only X-Forwarded-For is the proxy's; nginx,
    // told to set nothing else, passes every other header the client sent.
    let server = TestServer::start_with(&[
        ("WIREFEED_TRUSTED_PROXIES", "127.0.0.2"),
        ("WIREFEED_FORWARDED_HEADERS", "X-Forwarded-For"),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let headers = "proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;";
    let Some(nginx) = nginx(dir.path(), server.port, headers) else { return };
    forged_headers_reach_no_link(&nginx);
}

#[test]
fn by_default_a_clients_prefix_and_forwarded_headers_are_ignored_even_from_a_trusted_proxy() {
    // The nginx recipe before prefixes were cleared: proto and host set, the
    // client's X-Forwarded-Prefix and Forwarded passed through untouched.
    let server = TestServer::start_with(&[("WIREFEED_TRUSTED_PROXIES", "127.0.0.2")]);
    let dir = tempfile::tempdir().unwrap();
    let headers = "proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header X-Forwarded-Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;";
    let Some(nginx) = nginx(dir.path(), server.port, headers) else { return };
    forged_headers_reach_no_link(&nginx);
}

#[test]
fn the_documented_recipe_with_a_prefix_named_still_takes_no_forged_prefix() {
    // X-Forwarded-Prefix honoured, as a proxy stripping a prefix needs: the
    // recipe sets it itself (here empty: nginx then sends none), so a
    // client's never arrives.
    let server = TestServer::start_with(&[
        ("WIREFEED_TRUSTED_PROXIES", "127.0.0.2"),
        ("WIREFEED_FORWARDED_HEADERS", "X-Forwarded-For,X-Forwarded-Proto,X-Forwarded-Host,X-Forwarded-Prefix"),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let headers = "proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header X-Forwarded-Host $http_host;
            proxy_set_header X-Forwarded-Prefix \"\";
            proxy_set_header Forwarded \"\";
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;";
    let Some(nginx) = nginx(dir.path(), server.port, headers) else { return };
    forged_headers_reach_no_link(&nginx);
}

#[test]
fn a_bad_forwarded_headers_setting_is_refused_at_start() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_wirefeed"))
        .args(["serve", "--forwarded-headers", "X-Forwarded-For,X-Real-IP"])
        .env("WIREFEED_DATA_DIR", tempfile::tempdir().unwrap().path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("X-Real-IP") && stderr.contains("X-Forwarded-Prefix"), "{stderr}");
}

#[test]
fn metrics_and_health_details_need_the_token() {
    let server = TestServer::start();
    server.text("/rss.xml");
    let res = server.get("/metrics");
    assert_eq!(res.status(), 401);
    let body = res.text().unwrap();
    assert!(!body.contains("wirefeed_"), "no metric without the token: {body}");
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["error"], "unauthorized");
    let wrong = server.client().get(server.url("/metrics")).bearer_auth("not-the-token").send().unwrap();
    assert_eq!(wrong.status(), 401);
    assert!(sample(&server.metrics(), r#"wirefeed_http_requests_total{route="/metrics",status="401"}"#).is_some());

    // The liveness probe stays public and says nothing else.
    let res = server.get("/healthz");
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "no-store");
    assert_eq!(res.json::<serde_json::Value>().unwrap(), serde_json::json!({"status": "ok"}));
    let res = server.get_authorized("/healthz");
    assert_eq!(res.json::<serde_json::Value>().unwrap()["status"], "ok");
}

fn embargo(server: &TestServer, headline: &str, release: chrono::DateTime<Utc>) {
    let query = format!("?embargo={}", release.to_rfc3339_opts(SecondsFormat::Secs, true));
    let res = server.import(story(headline, "World", "Mon, 01/07/2024 - 09:00", "Held until its time."), &query);
    assert_eq!(res.status(), 202);
}

/// The `Cache-Control` and `Date` of `path`.
fn lifetime(server: &TestServer, path: &str) -> (String, String) {
    let res = server.get(path);
    assert_eq!(res.status(), 200, "{path}");
    let header = |name: &str| res.headers()[name].to_str().unwrap().to_owned();
    (header("cache-control"), header("date"))
}

#[test]
fn cache_lifetimes_do_not_tell_when_an_embargoed_story_is_due() {
    // Two releases 76 s apart, in the same clock window, on two servers:
    // both answer what the clock alone says, never a count down to either.
    let (a, b) = (TestServer::start(), TestServer::start());
    let now = Utc::now().timestamp();
    // The next 300-second window's first half: the release is a window or
    // less ahead, as near as lifetimes are cut for.
    let window = (now / 300 + 1) * 300;
    let at = |s: i64| chrono::DateTime::<Utc>::from_timestamp(window + s, 0).unwrap();
    embargo(&a, "Summit opens", at(37));
    embargo(&b, "Summit opens", at(113));
    let far = TestServer::start();
    embargo(&far, "Treaty signed", Utc::now() + chrono::Duration::hours(3));
    for path in ["/rss.xml", "/sections/world/atom.xml", "/", &format!("/articles/{SEED_ID}")] {
        for server in [&a, &b] {
            // The lifetime runs to the next 10-second boundary of the clock,
            // whichever release is held: it depends on the clock alone.
            let before = Utc::now().timestamp();
            let (cc, _) = lifetime(server, path);
            let after = Utc::now().timestamp();
            let max_age: i64 = cc.trim_start_matches("public, max-age=").parse().unwrap_or_else(|_| panic!("{cc}"));
            let expected: Vec<i64> = (before..=after).map(|t| 10 - t.rem_euclid(10)).collect();
            assert!(expected.contains(&max_age), "{path}: {cc}, expected one of {expected:?}");
        }
        // A release hours off changes nothing.
        assert_eq!(lifetime(&far, path).0, "public, max-age=300", "{path}");
    }
}

#[test]
fn older_pages_carry_no_shared_cache_lifetime_with_url_purges() {
    let server =
        TestServer::start_with(&[("WIREFEED_PURGE", "nginx+http://127.0.0.1:9/purge"), ("WIREFEED_FEED_ITEMS", "1")]);
    server.import_new(story("A second story", "World", "Mon, 01/07/2024 - 09:00", "So that there are pages."));
    let feed = server.text("/sections/world/feed.json");
    let json: serde_json::Value = serde_json::from_str(&feed).unwrap();
    let next = json["next_url"].as_str().expect("a next page").to_owned();
    let path = &next[next.find("/sections").unwrap()..];
    let (cc, _) = lifetime(&server, path);
    assert_eq!(cc, "public, max-age=300", "{path}: no s-maxage, no stale-if-error");
    let (cc, _) = lifetime(&server, "/sections/world/feed.json");
    assert!(cc.contains("s-maxage=86400"), "the current page is purged by URL: {cc}");
    let section = server.get(&path.replace("/feed.json", ""));
    assert_eq!(section.headers()["cache-control"], "public, max-age=300");
}

fn renders(server: &TestServer) -> f64 {
    sample(&server.metrics(), "wirefeed_renders_total").unwrap_or(0.0)
}

/// The `before=` cursor of a URL.
fn cursor_of(url: &str) -> i64 {
    url.rsplit("before=").next().unwrap().parse().unwrap()
}

#[test]
fn a_cursor_that_is_no_page_boundary_costs_no_render_and_leads_to_the_page_it_stands_for() {
    let server = TestServer::start_with(&[("WIREFEED_FEED_ITEMS", "1")]);
    for (headline, time) in [("Second story", "09:00"), ("Third story", "10:00")] {
        server.import_new(story(headline, "World", &format!("Mon, 01/07/2024 - {time}"), "Paged."));
    }
    let first: serde_json::Value = serde_json::from_str(&server.text("/sections/world/feed.json")).unwrap();
    let next = first["next_url"].as_str().unwrap().to_owned();
    let boundary = cursor_of(&next);
    let second = server.text(&format!("/sections/world/feed.json?before={boundary}"));
    let client = client();
    let before = renders(&server);
    let first_url = server.url("/sections/world/feed.json");
    let items = |doc: &str| serde_json::from_str::<serde_json::Value>(doc).unwrap()["items"].clone();
    // Just after the boundary (the newest story is the whole first page),
    // just before it, after every story, before every story.
    let second_url = server.url(&format!("/sections/world/feed.json?before={boundary}"));
    for (cursor, leads_to) in
        [(boundary + 1, first_url.clone()), (boundary - 1, second_url), (i64::MAX, first_url.clone())]
    {
        let res = client.get(server.url(&format!("/sections/world/feed.json?before={cursor}"))).send().unwrap();
        assert_eq!(res.status(), 302, "before={cursor}");
        assert_eq!(res.headers()["location"].to_str().unwrap(), leads_to, "before={cursor}");
        assert_eq!(res.headers()["cache-control"], "public, max-age=300");
        // A redirect's target is itself a boundary: no second redirect.
        let page = get(&client, &leads_to, &[]);
        if leads_to != first_url {
            assert_eq!(items(&page), items(&second), "the same stories as the page the cursor stood for");
        }
    }
    let res = client.get(server.url("/sections/world/feed.json?before=0")).send().unwrap();
    assert_eq!(res.status(), 302, "older than every story: the (empty) page after the oldest");
    let page = get(&client, res.headers()["location"].to_str().unwrap(), &[]);
    assert_eq!(items(&page), serde_json::json!([]));
    assert!(renders(&server) - before <= 4.0, "only the boundary pages were rendered");
    let before = renders(&server);
    for i in 0..50 {
        let cursor = boundary + 1_000 + i * 7_919;
        let res = client.get(server.url(&format!("/sections/world/rss.xml?before={cursor}"))).send().unwrap();
        assert_eq!(res.status(), 302);
        let res = client.get(server.url(&format!("/sections/world?before={cursor}"))).send().unwrap();
        assert_eq!(res.status(), 302);
    }
    assert_eq!(renders(&server), before, "walking odd cursors rendered nothing");
}

#[test]
fn documents_of_hosts_past_the_first_few_are_rendered_for_the_asker_and_never_kept() {
    let server = TestServer::start();
    let client = client();
    let at = |host: &str| {
        let res = client
            .get(server.url("/rss.xml"))
            .header("host", host)
            .header("accept-encoding", "br, gzip")
            .send()
            .unwrap();
        assert_eq!(res.status(), 200, "{host}");
        let encoding = res.headers().get("content-encoding").map(|v| v.to_str().unwrap().to_owned());
        (encoding, res.text().unwrap_or_default())
    };
    for i in 0..4 {
        at(&format!("known{i}.example"));
    }
    let before = renders(&server);
    for i in 0..4 {
        assert_eq!(at(&format!("known{i}.example")).0.as_deref(), Some("br"), "cached and compressed");
    }
    assert_eq!(renders(&server), before, "the first four hosts' documents are kept");
    for _ in 0..3 {
        let (encoding, body) = at("attacker.example");
        assert_eq!(encoding, None, "rendered for this answer alone: sent as is");
        assert!(body.contains("http://attacker.example/rss.xml"), "its own links");
    }
    assert_eq!(renders(&server), before + 3.0, "a further host is never kept");
    assert_eq!(at("known0.example").0.as_deref(), Some("br"));
    assert_eq!(renders(&server), before + 3.0);
}

#[test]
fn the_admin_listener_answers_metrics_and_health_in_full_without_the_token() {
    let admin_port = free_port();
    let admin = format!("127.0.0.1:{admin_port}");
    let server = TestServer::start_with(&[("WIREFEED_ADMIN_BIND", &admin)]);
    assert!(server
        .log_text()
        .contains(&format!("admin endpoints (/metrics, /healthz in full, no token) on http://{admin}")));
    let client = client();
    let res = client.get(format!("http://{admin}/metrics")).send().unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.text().unwrap().contains("wirefeed_renders_total"));
    // The public listener still wants the token.
    assert_eq!(server.get("/metrics").status(), 401);
    let res = client.get(format!("http://{admin}/healthz")).send().unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<serde_json::Value>().unwrap()["status"], "ok");
}
