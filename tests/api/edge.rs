//! wirefeed behind real shared caches, and pushing to a real WebSub hub.
//!
//! Varnish with vmod-xkey and nginx with the cache-purge module sit in front
//! of the real server with an edge lifetime of an hour; readers through them
//! must see a change within a second of the write's answer, while documents
//! the change did not touch stay cached. The WebSub test runs flask-websub's
//! hub (PyPI) and a subscriber on loopback.
//!
//! The programs: `varnishd` (Debian `varnish`, `varnish-modules`), `nginx`
//! with `libnginx-mod-http-cache-purge`, and `python3` with `flask-websub`
//! and `celery` (.ci/run installs them all). Without one, its test is
//! skipped with a note, unless `CI` is set: then it fails.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::Command;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use reqwest::blocking::{Client, Response};

use crate::engines::{free_port, program, start_nginx, Engine};
use crate::helpers::*;
use crate::observability::sample;

/// How soon readers through a cache must see a change after the write's answer.
const VISIBLE_WITHIN: Duration = Duration::from_secs(1);

/// Varnish with xkey in front of `origin`, on `port`: the VCL of docs/deploy.md
/// (`tests/edge/wirefeed.vcl`, which the HTTP benchmark runs too).
fn varnish(dir: &Path, port: u16, origin: u16) -> Option<Engine> {
    let bin = program("varnishd", "apt-get install varnish varnish-modules")?;
    let vcl = include_str!("../edge/wirefeed.vcl").replace("ORIGIN_PORT", &origin.to_string());
    std::fs::write(dir.join("wirefeed.vcl"), vcl).unwrap();
    let d = dir.display();
    let command = vec![
        bin.display().to_string(),
        "-F".into(),
        "-n".into(),
        format!("{d}/varnish"),
        "-a".into(),
        format!("127.0.0.1:{port}"),
        "-f".into(),
        format!("{d}/wirefeed.vcl"),
        "-s".into(),
        "malloc,64m".into(),
        "-T".into(),
        "none".into(),
    ];
    Some(Engine::spawn(dir, port, command))
}

/// nginx with cache purge in front of `origin`, on `port`: the config of docs/deploy.md.
fn nginx(dir: &Path, port: u16, origin: u16) -> Option<Engine> {
    let module = Path::new("/usr/lib/nginx/modules/ngx_http_cache_purge_module.so");
    if !module.is_file() {
        if std::env::var_os("CI").is_some() {
            panic!("nginx's cache purge module is not installed, and CI is set (apt-get install libnginx-mod-http-cache-purge)");
        }
        eprintln!("note: nginx's cache purge module is not installed; skipping (apt-get install libnginx-mod-http-cache-purge)");
        return None;
    }
    let d = dir.display();
    let http = format!("proxy_cache_path {d}/cache levels=1:2 keys_zone=wirefeed:1m max_size=64m inactive=1h;");
    let server = format!(
        r#"location / {{
            proxy_pass http://127.0.0.1:{origin};
            proxy_cache wirefeed;
            proxy_cache_key "wirefeed$request_uri";
            # One copy per URL, so that a purge of the URL drops it all.
            proxy_set_header Accept-Encoding "";
            proxy_ignore_headers Vary;
            add_header X-Cache $upstream_cache_status always;
        }}
        # `PURGE /purge/<path>` drops the copy of `<path>` (the module's
        # same-location form crashes nginx 1.22's workers).
        location ~ ^/purge(/.*)$ {{
            allow 127.0.0.1;
            deny all;
            proxy_cache_purge wirefeed "wirefeed$1$is_args$args";
        }}"#
    );
    start_nginx(dir, port, &format!("load_module {};", module.display()), &http, &server)
}

/// A client that keeps no connection: each poll is a fresh reader.
fn reader() -> Client {
    Client::builder().timeout(Duration::from_secs(10)).pool_max_idle_per_host(0).build().unwrap()
}

fn x_cache(res: &Response) -> String {
    res.headers().get("x-cache").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned()
}

/// Polls `url` until `done` holds of its body, or `within` passes; the time it took.
fn visible(client: &Client, url: &str, within: Duration, done: impl Fn(u16, &str) -> bool) -> Option<Duration> {
    let started = Instant::now();
    loop {
        let res = client.get(url).send().unwrap();
        let status = res.status().as_u16();
        if done(status, &res.text().unwrap()) {
            return Some(started.elapsed());
        }
        if started.elapsed() > within {
            return None;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Requests the origin answered for `path` (from its request log).
fn origin_requests(server: &TestServer, path: &str) -> usize {
    let needle = format!("path={path} ");
    server.logs.lock().unwrap().iter().filter(|l| l.contains(&needle) && l.contains("request")).count()
}

/// [`origin_requests`] once the server's log has caught up: its lines are
/// read by another thread, so a request just answered may not be counted yet.
fn settled_origin_requests(server: &TestServer, path: &str) -> usize {
    let mut count = origin_requests(server, path);
    loop {
        std::thread::sleep(Duration::from_millis(300));
        let now = origin_requests(server, path);
        if now == count {
            return now;
        }
        count = now;
    }
}

/// A loopback port that accepts connections and never answers: a target that hangs.
fn hanging_target() -> (TcpListener, u16) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    (listener, port)
}

fn metrics(server: &TestServer) -> String {
    server.metrics()
}

/// Waits (up to 15 s) until the server's metrics count at least one `series`.
fn wait_for_sample(server: &TestServer, series: &str) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while sample(&metrics(server), series).unwrap_or(0.0) < 1.0 {
        assert!(Instant::now() < deadline, "no {series} in:\n{}", metrics(server));
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn documents_name_their_tags_and_get_an_edge_lifetime_only_with_a_purge_target() {
    let plain = TestServer::start();
    for path in ["/", "/rss.xml", "/opml.xml", "/sections/world/atom.xml", "/sections/world"] {
        let res = plain.get(path);
        assert_eq!(res.status(), 200, "{path}");
        let tags = res.headers()["surrogate-key"].to_str().unwrap().to_owned();
        assert!(tags.split(' ').any(|t| t == "wirefeed"), "{path}: {tags}");
        assert_eq!(res.headers()["cache-control"], "public, max-age=300", "{path}");
    }
    let tags = |path: &str| plain.get(path).headers()["surrogate-key"].to_str().unwrap().to_owned();
    assert_eq!(tags("/"), "wirefeed all home");
    assert_eq!(tags("/rss.xml"), "wirefeed all");
    assert_eq!(tags("/sections/world/feed.json"), "wirefeed section-world");
    let article = tags(&format!("/articles/{SEED_ID}.json"));
    assert_eq!(article, format!("wirefeed article-{SEED_ID}"));
    assert!(tags(&format!("/articles/{SEED_ID}")).split(' ').any(|t| t == format!("article-{SEED_ID}")));

    let edge = TestServer::start_with(&[
        ("WIREFEED_PURGE", "webhook+http://127.0.0.1:9/purge"),
        ("WIREFEED_EDGE_MAX_AGE", "3600"),
        ("WIREFEED_CACHE_TAG_HEADER", "Cache-Tag"),
    ]);
    let res = edge.get("/sections/world/rss.xml");
    assert_eq!(
        res.headers()["cache-control"],
        "public, max-age=300, s-maxage=3600, stale-while-revalidate=30, stale-if-error=86400"
    );
    assert_eq!(res.headers()["cache-tag"], "wirefeed,section-world");
    assert!(res.headers().get("surrogate-key").is_none());
}

#[test]
fn feeds_name_their_websub_hubs_in_the_document_and_the_link_header() {
    let hub = "https://hub.example/";
    let server = TestServer::start_with(&[("WIREFEED_WEBSUB_HUBS", hub)]);
    for (path, format) in [("/rss.xml", "rss"), ("/sections/world/atom.xml", "atom"), ("/feed.json", "json")] {
        let res = server.get(path);
        let link = res.headers()["link"].to_str().unwrap().to_owned();
        let self_url = server.url(path);
        assert_eq!(link, format!("<{hub}>; rel=\"hub\", <{self_url}>; rel=\"self\""), "{path}");
        let body = res.text().unwrap();
        match format {
            "json" => {
                let json: serde_json::Value = serde_json::from_str(&body).unwrap();
                assert_eq!(json["hubs"], serde_json::json!([{"type": "WebSub", "url": hub}]));
            }
            _ => {
                let feed = parse_feed(body.as_bytes());
                assert!(feed.links.iter().any(|l| l.rel.as_deref() == Some("hub") && l.href == hub), "{path}: {body}");
                assert!(feed.links.iter().any(|l| l.rel.as_deref() == Some("self") && l.href == self_url), "{path}");
            }
        }
    }
    // Without hubs, nothing is advertised.
    let plain = TestServer::start();
    assert!(plain.get("/rss.xml").headers().get("link").is_none());
    assert!(!plain.text("/rss.xml").contains("rel=\"hub\""));
}

#[test]
fn varnish_with_xkey_shows_a_new_story_within_a_second_and_keeps_other_sections_cached() {
    let tmp = tempfile::tempdir().unwrap();
    let vport = free_port();
    // A second target that accepts and never answers: it must slow neither
    // the imports nor the purges of the first.
    let (_hang, hang_port) = hanging_target();
    let purge = format!("xkey+http://127.0.0.1:{vport}/,webhook+http://127.0.0.1:{hang_port}/purge");
    let server = TestServer::start_with(&[("WIREFEED_PURGE", &purge), ("WIREFEED_EDGE_MAX_AGE", "3600")]);
    let sport = story("Local side wins the cup", "Sport", "Tue, 26/07/2016 - 18:00", "A late goal decided it.");
    server.import_new(sport);
    let Some(cache) = varnish(tmp.path(), vport, server.port) else { return };
    // The Sport import found Varnish not yet up: its purge is retried, and lands now.
    wait_for_sample(
        &server,
        &format!("wirefeed_edge_requests_total{{kind=\"xkey\",result=\"ok\",target=\"127.0.0.1:{vport}\"}}"),
    );
    let client = reader();
    let get = |path: &str| client.get(cache.url(path)).send().unwrap();

    for path in ["/sections/world/rss.xml", "/rss.xml", "/sections/sport/atom.xml", "/"] {
        assert_eq!(x_cache(&get(path)), "MISS", "{path}");
        let res = get(path);
        assert_eq!(x_cache(&res), "HIT", "{path}: {}", cache.output());
        assert!(res.headers().get("surrogate-key").is_some(), "{path}");
    }
    let sport_before = settled_origin_requests(&server, "/sections/sport/atom.xml");

    let headline = "Summit ends with a joint statement";
    let started = Instant::now();
    let answer = server.import_new(story(headline, "World", "Wed, 27/07/2016 - 09:00", "Leaders agreed on a text."));
    let import_took = started.elapsed();
    assert!(import_took < Duration::from_millis(500), "import took {import_took:?} with a hanging purge target");
    for path in ["/sections/world/rss.xml", "/rss.xml", "/"] {
        let took = visible(&client, &cache.url(path), VISIBLE_WITHIN, |_, body| body.contains(headline));
        assert!(took.is_some(), "{path}: the new story was not visible through Varnish within a second");
    }
    // Another section's feed: still a hit, and the origin was not asked again.
    let res = get("/sections/sport/atom.xml");
    assert_eq!(x_cache(&res), "HIT");
    assert!(!res.text().unwrap().contains(headline));
    assert_eq!(origin_requests(&server, "/sections/sport/atom.xml"), sport_before);

    // A delete disappears through the cache.
    let id = answer["id"].as_str().unwrap().to_owned();
    let article = format!("/articles/{id}");
    get(&article);
    assert_eq!(x_cache(&get(&article)), "HIT");
    let res = client.delete(server.url(&article)).bearer_auth(TOKEN).send().unwrap();
    assert_eq!(res.status(), 200);
    let gone = visible(&client, &cache.url(&article), VISIBLE_WITHIN, |status, _| status == 410);
    assert!(gone.is_some(), "the deleted story still answered through Varnish");
    let gone = visible(&client, &cache.url("/sections/world/rss.xml"), VISIBLE_WITHIN, |_, b| !b.contains(headline));
    assert!(gone.is_some(), "the deleted story stayed in the feed through Varnish");

    // The hanging target is counted as failing, not waited for.
    let deadline = Instant::now() + Duration::from_secs(10);
    let series =
        format!("wirefeed_edge_requests_total{{kind=\"webhook\",result=\"failed\",target=\"127.0.0.1:{hang_port}\"}}");
    while sample(&metrics(&server), &series).is_none() {
        assert!(Instant::now() < deadline, "no failure counted for the hanging target:\n{}", metrics(&server));
        std::thread::sleep(Duration::from_millis(100));
    }
    let ok = format!("wirefeed_edge_requests_total{{kind=\"xkey\",result=\"ok\",target=\"127.0.0.1:{vport}\"}}");
    assert!(sample(&metrics(&server), &ok).unwrap_or(0.0) >= 2.0, "{}", metrics(&server));
}

#[test]
fn nginx_with_cache_purge_is_purged_by_url_and_caught_up_after_it_was_down() {
    let tmp = tempfile::tempdir().unwrap();
    let nport = free_port();
    let purge = format!("nginx+http://127.0.0.1:{nport}/purge");
    let server = TestServer::start_with(&[("WIREFEED_PURGE", &purge), ("WIREFEED_EDGE_MAX_AGE", "3600")]);
    server.import_new(story("Local side wins the cup", "Sport", "Tue, 26/07/2016 - 18:00", "A late goal decided it."));
    let Some(mut cache) = nginx(tmp.path(), nport, server.port) else { return };
    wait_for_sample(
        &server,
        &format!("wirefeed_edge_requests_total{{kind=\"nginx\",result=\"ok\",target=\"127.0.0.1:{nport}\"}}"),
    );
    let client = reader();
    let get = |cache: &Engine, path: &str| client.get(cache.url(path)).send().unwrap();
    for path in ["/sections/world/rss.xml", "/feed.json", "/sections/sport/rss.xml"] {
        get(&cache, path);
        assert_eq!(x_cache(&get(&cache, path)), "HIT", "{path}: {}", cache.output());
    }
    let sport_before = settled_origin_requests(&server, "/sections/sport/rss.xml");

    let first = "Summit ends with a joint statement";
    server.import_new(story(first, "World", "Wed, 27/07/2016 - 09:00", "Leaders agreed on a text."));
    for path in ["/sections/world/rss.xml", "/feed.json"] {
        let took = visible(&client, &cache.url(path), VISIBLE_WITHIN, |_, body| body.contains(first));
        assert!(took.is_some(), "{path}: not visible through nginx within a second:\n{}", cache.output());
    }
    assert_eq!(x_cache(&get(&cache, "/sections/sport/rss.xml")), "HIT");
    assert_eq!(origin_requests(&server, "/sections/sport/rss.xml"), sport_before);

    // The cache goes down (its copies stay on disk); an import neither fails nor waits.
    cache.stop();
    let second = "Talks resume after a night of silence";
    let started = Instant::now();
    server.import_new(story(second, "World", "Wed, 27/07/2016 - 10:00", "Delegates returned at dawn."));
    assert!(started.elapsed() < Duration::from_millis(500), "import took {:?} with the cache down", started.elapsed());
    let failed =
        format!("wirefeed_edge_requests_total{{kind=\"nginx\",result=\"failed\",target=\"127.0.0.1:{nport}\"}}");
    let deadline = Instant::now() + Duration::from_secs(10);
    while sample(&metrics(&server), &failed).is_none() {
        assert!(Instant::now() < deadline, "no failure counted:\n{}", metrics(&server));
        std::thread::sleep(Duration::from_millis(50));
    }
    // Back up, with the old copy on disk: the retried purge catches it up.
    cache.start();
    let took =
        visible(&client, &cache.url("/sections/world/rss.xml"), Duration::from_secs(15), |_, b| b.contains(second));
    assert!(took.is_some(), "nginx was not caught up after it came back:\n{}", cache.output());
}

/// A WebSub subscriber on loopback: answers the hub's verification of
/// intent and hands every content delivery to the test.
fn subscriber() -> (u16, mpsc::Receiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for conn in listener.incoming().map_while(Result::ok) {
            let tx = tx.clone();
            std::thread::spawn(move || serve_subscriber(conn, &tx));
        }
    });
    (port, rx)
}

fn serve_subscriber(mut conn: TcpStream, deliveries: &mpsc::Sender<String>) {
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    let target = line.split(' ').nth(1).unwrap_or("").to_owned();
    let mut length = 0;
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).unwrap();
        if header.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().unwrap_or(0);
            }
        }
    }
    let answer = if line.starts_with("GET") {
        // Verification of intent: echo hub.challenge.
        let query = target.split_once('?').map_or("", |(_, q)| q);
        let challenge = query
            .split('&')
            .find_map(|kv| kv.strip_prefix("hub.challenge="))
            .map(|c| c.replace("%2D", "-"))
            .unwrap_or_default();
        format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{challenge}", challenge.len())
    } else {
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        let _ = deliveries.send(String::from_utf8_lossy(&body).into_owned());
        "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n".to_owned()
    };
    let _ = conn.write_all(answer.as_bytes());
}

#[test]
fn a_websub_subscriber_receives_a_new_story_through_a_real_hub() {
    let Some(python) = program("python3", "apt-get install python3") else { return };
    let check = Command::new(&python).args(["-c", "import flask_websub, celery"]).status().unwrap();
    if !check.success() {
        if std::env::var_os("CI").is_some() {
            panic!("flask-websub is not installed, and CI is set (pip install flask-websub celery)");
        }
        eprintln!("note: flask-websub is not installed; skipping (pip install flask-websub celery)");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let hub_port = free_port();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/websub/hub.py");
    let _hub = Engine::spawn(
        tmp.path(),
        hub_port,
        vec![python.display().to_string(), script.display().to_string(), hub_port.to_string()],
    );
    let hub = format!("http://127.0.0.1:{hub_port}/hub");
    let server = TestServer::start_with(&[("WIREFEED_WEBSUB_HUBS", &hub)]);
    let topic = server.url("/sections/world/atom.xml");

    let (sub_port, deliveries) = subscriber();
    let client = reader();
    let res = client
        .post(&hub)
        .form(&[
            ("hub.mode", "subscribe"),
            ("hub.topic", topic.as_str()),
            ("hub.callback", &format!("http://127.0.0.1:{sub_port}/callback")),
            ("hub.lease_seconds", "3600"),
        ])
        .send()
        .unwrap();
    assert_eq!(res.status(), 202, "{}", res.text().unwrap());

    let headline = "Summit ends with a joint statement";
    server.import_new(story(headline, "World", "Wed, 27/07/2016 - 09:00", "Leaders agreed on a text."));
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let body = deliveries
            .recv_timeout(left)
            .unwrap_or_else(|_| panic!("no delivery with the new story within 15 s; hub log:\n{}", _hub.output()));
        if body.contains(headline) {
            assert!(body.contains("<feed"), "the hub pushed the Atom feed: {body}");
            break;
        }
    }
}

fn renders(server: &TestServer) -> f64 {
    sample(&metrics(server), "wirefeed_renders_total").unwrap_or(0.0)
}

#[test]
fn concurrent_misses_of_one_document_render_it_once() {
    let server = TestServer::start();
    // A page no one asked for yet: every request below misses at first.
    let path = "/sections/world/atom.xml?before=1600000000000000";
    let before = renders(&server);
    let threads: Vec<_> = (0..16)
        .map(|_| {
            let url = server.url(path);
            std::thread::spawn(move || reader().get(url).send().unwrap().status().as_u16())
        })
        .collect();
    for t in threads {
        assert_eq!(t.join().unwrap(), 200);
    }
    assert_eq!(renders(&server) - before, 1.0);
}

#[test]
fn an_import_in_one_section_renders_no_document_of_another_again() {
    let server = TestServer::start();
    server.import_new(story("Local side wins the cup", "Sport", "Tue, 26/07/2016 - 18:00", "A late goal decided it."));
    let others = ["/sections/sport/rss.xml", "/sections/sport", "/articles/2016-07-26-local-side-wins-the-cup"];
    for path in others {
        assert_eq!(server.get(path).status(), 200, "{path}");
    }
    let before = renders(&server);
    server.import_new(story("Summit ends with a joint statement", "World", "Wed, 27/07/2016 - 09:00", "Text."));
    for path in others {
        assert_eq!(server.get(path).status(), 200, "{path}");
    }
    assert_eq!(renders(&server), before, "a Sport document was rendered again after a World import");
    // All-sections documents did change, and render again.
    server.get("/rss.xml");
    assert_eq!(renders(&server), before + 1.0);
}
