//! Operating wirefeed: a clean stop on SIGTERM, one log line per request and
//! per import (text or JSON lines), the generated token logged only once, and
//! Prometheus metrics.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::helpers::*;

/// Waits until the server has logged a line containing every needle.
pub fn wait_for_log(server: &TestServer, needles: &[&str]) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let found = server.logs.lock().unwrap().iter().find(|l| needles.iter().all(|n| l.contains(n))).cloned();
        match found {
            Some(line) => return line,
            None if Instant::now() > deadline => panic!("no log line with {needles:?}:\n{}", server.log_text()),
            None => std::thread::sleep(Duration::from_millis(20)),
        }
    }
}

/// The value of one sample (`name{labels}`) in a Prometheus text document.
pub fn sample(metrics: &str, series: &str) -> Option<f64> {
    metrics.lines().find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.trim().parse().ok())
}

#[test]
fn sigterm_finishes_the_request_in_flight_and_exits_zero() {
    stop_with_a_request_in_flight("-TERM");
}

#[test]
fn sigint_finishes_the_request_in_flight_and_exits_zero() {
    stop_with_a_request_in_flight("-INT");
}

fn stop_with_a_request_in_flight(signal: &str) {
    let mut server = TestServer::start();
    let text = story(
        "Harbour cranes stand idle during strike",
        "Business",
        "Thu, 04/08/2016 - 10:00",
        "Dock workers walked out on Thursday.\n\nThe strike is expected to last a week.",
    );
    // Half a request on the wire, then SIGTERM, then the rest: the server must
    // finish this request (and flush it) before it exits.
    let mut conn = TcpStream::connect(format!("127.0.0.1:{}", server.port)).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let head = format!(
        "POST /import HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {TOKEN}\r\n\
         Content-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        text.len()
    );
    let (first, rest) = text.as_bytes().split_at(text.len() / 2);
    conn.write_all(head.as_bytes()).unwrap();
    conn.write_all(first).unwrap();
    conn.flush().unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let pid = server.pid();
    std::process::Command::new("kill").arg(signal).arg(pid.to_string()).status().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        TcpStream::connect_timeout(&format!("127.0.0.1:{}", server.port).parse().unwrap(), Duration::from_secs(1))
            .is_err(),
        "a stopping server accepts no new connections"
    );
    conn.write_all(rest).unwrap();
    let mut answer = String::new();
    conn.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 201"), "the request in flight is finished: {answer}");

    let started = Instant::now();
    assert_eq!(server.wait(), Some(0), "exit code after {signal}");
    assert!(started.elapsed() < Duration::from_secs(10), "stopped in {:?}", started.elapsed());
    wait_for_log(&server, &["stopped; store flushed"]);

    let server = server.restart();
    let feed = parse_feed(server.text("/sections/business/rss.xml").as_bytes());
    assert_eq!(feed.entries[0].title.as_ref().unwrap().content, "Harbour cranes stand idle during strike");
}

#[test]
fn json_logs_are_one_object_per_line_with_request_and_import_fields() {
    let server = TestServer::start_with(&[("WIREFEED_LOG_FORMAT", "json")]);
    server.text("/sections/world/rss.xml");
    let text = story("Rail strike ends after talks", "Business", "Fri, 05/08/2016 - 08:00", "Trains run again.");
    let answer = server.import_new(text);
    let id = answer["id"].as_str().unwrap().to_owned();
    wait_for_log(&server, &["\"path\":\"/import\""]);

    let lines: Vec<serde_json::Value> = server
        .logs
        .lock()
        .unwrap()
        .iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}")))
        .collect();
    assert!(lines.iter().all(|l| l["level"].is_string() && l["timestamp"].is_string()));
    let feed = lines.iter().find(|l| l["path"] == "/sections/world/rss.xml").expect("request line");
    assert_eq!(feed["message"], "request");
    assert_eq!(feed["method"], "GET");
    assert_eq!(feed["status"], 200);
    assert!(feed["bytes"].as_u64().unwrap() > 500, "{feed}");
    assert!(feed["duration_us"].is_u64(), "{feed}");
    let import = lines.iter().find(|l| l["message"] == "import").expect("import line");
    assert_eq!(import["id"], id.as_str());
    assert_eq!(import["section"], "business");
    assert_eq!(import["outcome"], "created");
    let post = lines.iter().find(|l| l["path"] == "/import").unwrap();
    assert_eq!((post["method"].as_str(), post["status"].as_u64()), (Some("POST"), Some(201)));
    assert!(!server.log_text().contains(TOKEN), "the configured token is never logged");
}

#[test]
fn text_logs_carry_the_same_fields_and_rust_log_sets_the_level() {
    let server = TestServer::start();
    server.text("/opml.xml");
    let line = wait_for_log(&server, &["path=/opml.xml"]);
    for field in ["method=GET", "status=200", "bytes=", "duration_us="] {
        assert!(line.contains(field), "{field} in {line}");
    }

    // Request lines have the target `wirefeed::access`; the "listening" line the
    // helper waits for comes from the binary, so keep that one at info.
    let quiet = TestServer::start_with(&[("RUST_LOG", "info,wirefeed::access=warn")]);
    quiet.text("/opml.xml");
    quiet.text("/healthz");
    std::thread::sleep(Duration::from_millis(200));
    assert!(!quiet.log_text().contains("path=/opml.xml"), "RUST_LOG hides request lines:\n{}", quiet.log_text());
}

#[test]
fn a_generated_token_is_logged_at_first_start_only() {
    let server = TestServer::start_with(&[("WIREFEED_IMPORT_TOKEN", "")]);
    let token = std::fs::read_to_string(server.data.join("import-token")).unwrap().trim().to_owned();
    assert!(token.len() >= 32, "{token}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(server.data.join("import-token")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    wait_for_log(&server, &[token.as_str()]);

    let server = server.restart();
    server.text("/healthz");
    std::thread::sleep(Duration::from_millis(200));
    assert!(!server.log_text().contains(&token), "token logged again:\n{}", server.log_text());
    let res = server
        .client()
        .post(server.url("/import"))
        .bearer_auth(&token)
        .header("content-type", "text/plain")
        .body(story("Kept token still works", "World", "Fri, 05/08/2016 - 09:00", "Body."))
        .send()
        .unwrap();
    assert_eq!(res.status(), 201);
}

#[test]
fn metrics_count_requests_latency_imports_articles_and_store_size() {
    let server = TestServer::start();
    server.text("/rss.xml");
    server.text("/rss.xml");
    server.text("/sections/world/atom.xml");
    assert_eq!(server.get("/no/such/thing").status(), 404);
    server.import_new(story("Metrics story", "Science", "Fri, 05/08/2016 - 10:00", "Counted."));
    assert_eq!(server.import(b"".to_vec(), "").status(), 400);

    let res = server.get_authorized("/metrics");
    assert_eq!(res.status(), 200);
    let media = res.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(media.starts_with("text/plain; version=0.0.4"), "{media}");
    let m = res.text().unwrap();
    assert_eq!(sample(&m, r#"wirefeed_http_requests_total{route="/rss.xml",status="200"}"#), Some(2.0), "{m}");
    assert_eq!(
        sample(&m, r#"wirefeed_http_requests_total{route="/sections/{slug}/atom.xml",status="200"}"#),
        Some(1.0)
    );
    assert_eq!(sample(&m, r#"wirefeed_http_requests_total{route="unmatched",status="404"}"#), Some(1.0));
    assert_eq!(sample(&m, r#"wirefeed_http_requests_total{route="/import",status="201"}"#), Some(1.0));
    assert_eq!(sample(&m, r#"wirefeed_http_requests_total{route="/import",status="400"}"#), Some(1.0));
    assert_eq!(sample(&m, r#"wirefeed_http_request_duration_seconds_count{route="/rss.xml"}"#), Some(2.0));
    assert_eq!(sample(&m, r#"wirefeed_http_request_duration_seconds_bucket{route="/rss.xml",le="+Inf"}"#), Some(2.0));
    assert!(m.contains("# TYPE wirefeed_http_request_duration_seconds histogram"));
    assert_eq!(sample(&m, r#"wirefeed_imports_total{outcome="created"}"#), Some(1.0));
    assert_eq!(sample(&m, r#"wirefeed_articles{section="world"}"#), Some(1.0));
    assert_eq!(sample(&m, r#"wirefeed_articles{section="science"}"#), Some(1.0));
    assert!(sample(&m, "wirefeed_store_bytes").unwrap() > 0.0, "{m}");
}

#[test]
fn healthcheck_command_answers_for_the_container() {
    let server = TestServer::start();
    let run = |port: u16| {
        std::process::Command::new(env!("CARGO_BIN_EXE_wirefeed"))
            .arg("healthcheck")
            .env("WIREFEED_BIND", format!("0.0.0.0:{port}"))
            .output()
            .unwrap()
    };
    let up = run(server.port);
    assert!(up.status.success(), "{}", String::from_utf8_lossy(&up.stderr));
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let down = run(free);
    assert_eq!(down.status.code(), Some(1), "nothing listening is unhealthy");
    assert!(String::from_utf8_lossy(&down.stderr).contains("connecting to 127.0.0.1:"));
}
