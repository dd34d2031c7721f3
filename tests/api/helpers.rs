//! Test helpers: the real `wirefeed` binary on an ephemeral port with a
//! fresh data directory, and typed request helpers.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use reqwest::blocking::{Client, Response};

pub const TOKEN: &str = "test-token-0123456789abcdef";
pub const SEED_ID: &str = "2016-07-26-russia-us-work-on-syria-cooperation-plan-as-un-seeks-new-peace-talks";

/// A running wirefeed.
pub struct TestServer {
    child: Child,
    pub base: String,
    pub port: u16,
    pub data: PathBuf,
    _tmp: Option<Arc<tempfile::TempDir>>,
    env: Vec<(String, String)>,
    /// Everything the server wrote to stdout so far.
    pub logs: Arc<Mutex<Vec<String>>>,
    client: Client,
}

pub fn seed_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("seed")
}

impl TestServer {
    /// A server on a fresh temp data directory, seeded from `seed/`.
    pub fn start() -> TestServer {
        TestServer::start_with(&[])
    }

    /// As [`TestServer::start`], with extra environment settings; an empty
    /// value unsets the variable.
    pub fn start_with(env: &[(&str, &str)]) -> TestServer {
        let tmp = Arc::new(tempfile::tempdir().expect("temp dir"));
        let data = tmp.path().join("data");
        let env = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        TestServer::spawn(data, Some(tmp), env, 0)
    }

    /// A server on an existing data directory, with extra environment settings.
    pub fn start_on_with(data: PathBuf, env: &[(&str, &str)]) -> TestServer {
        let env = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        TestServer::spawn(data, None, env, 0)
    }

    fn spawn(data: PathBuf, tmp: Option<Arc<tempfile::TempDir>>, env: Vec<(String, String)>, port: u16) -> TestServer {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_wirefeed"));
        for (key, _) in std::env::vars() {
            if key.starts_with("WIREFEED_") {
                cmd.env_remove(key);
            }
        }
        cmd.arg("serve")
            .env("WIREFEED_DATA_DIR", &data)
            .env("WIREFEED_BIND", format!("127.0.0.1:{port}"))
            .env("WIREFEED_IMPORT_TOKEN", TOKEN)
            .env("WIREFEED_SEED_DIR", seed_dir())
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        for (k, v) in &env {
            // An empty value unsets the variable (e.g. no import token: a generated one).
            if v.is_empty() {
                cmd.env_remove(k);
            } else {
                cmd.env(k, v);
            }
        }
        let mut child = cmd.spawn().expect("starting wirefeed");
        let stdout = child.stdout.take().expect("stdout");
        let logs = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = mpsc::channel();
        let sink = Arc::clone(&logs);
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(at) = line.find("listening on http://") {
                    // The address ends at the first character an address cannot hold
                    // (a space in text logs, a quote in JSON logs).
                    let addr = line[at + "listening on http://".len()..]
                        .chars()
                        .take_while(|c| c.is_ascii_hexdigit() || matches!(c, '.' | ':' | '[' | ']'))
                        .collect::<String>();
                    let _ = tx.send(addr);
                }
                sink.lock().unwrap().push(line);
            }
        });
        let addr = match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(addr) => addr,
            Err(_) => {
                let _ = child.kill();
                panic!("wirefeed did not start; logs: {:?}", logs.lock().unwrap());
            }
        };
        let port = addr.rsplit(':').next().unwrap().parse().unwrap();
        TestServer {
            child,
            base: format!("http://{addr}"),
            port,
            data,
            _tmp: tmp,
            env,
            logs,
            client: Client::builder().timeout(Duration::from_secs(30)).build().unwrap(),
        }
    }

    /// Stops with SIGTERM (clean shutdown) and starts again on the same data directory and port.
    pub fn restart(mut self) -> TestServer {
        self.terminate();
        let (data, tmp, env, port) = (self.data.clone(), self._tmp.clone(), self.env.clone(), self.port);
        TestServer::spawn(data, tmp, env, port)
    }

    /// Kills with SIGKILL (a crash) and starts again on the same data directory.
    pub fn crash_and_restart(mut self) -> TestServer {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reaping");
        let (data, tmp, env, port) = (self.data.clone(), self._tmp.clone(), self.env.clone(), self.port);
        TestServer::spawn(data, tmp, env, port)
    }

    /// Sends SIGTERM and waits; returns the exit status code. A server that
    /// has already exited is not signalled again.
    pub fn terminate(&mut self) -> Option<i32> {
        if let Ok(Some(status)) = self.child.try_wait() {
            return status.code();
        }
        let _ = Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status();
        self.child.wait().ok().and_then(|s| s.code())
    }

    /// Waits for the server to exit (after a signal sent some other way); returns the exit code.
    pub fn wait(&mut self) -> Option<i32> {
        self.child.wait().ok().and_then(|s| s.code())
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn get(&self, path: &str) -> Response {
        self.client.get(self.url(path)).send().expect("GET")
    }

    pub fn text(&self, path: &str) -> String {
        let res = self.get(path);
        assert!(res.status().is_success(), "GET {path}: {}", res.status());
        res.text().unwrap()
    }

    /// GET with the token (`/metrics`, the detailed `/healthz`).
    pub fn get_authorized(&self, path: &str) -> Response {
        self.client.get(self.url(path)).bearer_auth(TOKEN).send().expect("GET")
    }

    /// `/metrics`, with the token it needs.
    pub fn metrics(&self) -> String {
        let res = self.get_authorized("/metrics");
        assert_eq!(res.status(), 200, "GET /metrics");
        res.text().unwrap()
    }

    /// POST /import with the right token.
    pub fn import(&self, body: impl Into<Vec<u8>>, query: &str) -> Response {
        self.client
            .post(self.url(&format!("/import{query}")))
            .bearer_auth(TOKEN)
            .header("content-type", "text/plain; charset=utf-8")
            .body(body.into())
            .send()
            .expect("POST /import")
    }

    /// Imports and expects 201, returning the answer.
    pub fn import_new(&self, body: impl Into<Vec<u8>>) -> serde_json::Value {
        let res = self.import(body, "");
        let status = res.status();
        let json: serde_json::Value = res.json().unwrap();
        assert_eq!(status, 201, "{json}");
        json
    }

    /// `/healthz` once no rebuild from the archive is running (a start
    /// that found its store damaged or behind replays in the background).
    pub fn settled_health(&self) -> (u16, serde_json::Value) {
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        loop {
            let res = self.get_authorized("/healthz");
            let code = res.status().as_u16();
            let body: serde_json::Value = res.json().unwrap();
            if body["status"] != "rebuilding" {
                return (code, body);
            }
            assert!(std::time::Instant::now() < deadline, "still rebuilding: {body}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn log_text(&self) -> String {
        self.logs.lock().unwrap().join("\n")
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Parses a feed as a reader would.
pub fn parse_feed(bytes: &[u8]) -> feed_rs::model::Feed {
    feed_rs::parser::parse(bytes).unwrap_or_else(|e| panic!("feed-rs: {e}\n{}", String::from_utf8_lossy(bytes)))
}

/// Runs `wirefeed ARGS` on a data directory (no seed, any free port):
/// exit code, stdout, stderr.
pub fn run(data: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_wirefeed"))
        .args(args)
        .env("WIREFEED_DATA_DIR", data)
        .env("WIREFEED_IMPORT_TOKEN", TOKEN)
        .env("WIREFEED_BIND", "127.0.0.1:0")
        .env("WIREFEED_SEED_DIR", "/nonexistent")
        .output()
        .unwrap();
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.code().unwrap_or(-1), text(&out.stdout), text(&out.stderr))
}

/// Copies a directory tree (a store, to damage the copy).
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &to.join(entry.file_name()));
        } else {
            std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
    }
}

/// AP's kill of the Texas flooding story (`anpa-ap-texas-flooding.tst`):
/// the same keyword with the take KILL, no headline of its own.
pub const AP_TEXAS_KILL: &str =
    "\u{16}\u{16}\u{1}a4499\u{1f}apnational\r\nb a\u{13}\u{11} BC-US--Texas-Flooding KILL   07-07 0030\r\n\
    \u{2}^BC-US--Texas-Flooding, KILL,30<\r\n^KILL<\r\n\t   AP is withdrawing the story on the flooding. \
    The names of the missing were wrong. \r\n\t   \r\n\u{3}AP-WF-07-07-25 2301GMT<\r\n\u{c}\u{4}";

/// One of the agency fixtures of `tests/fixtures/wire`.
pub fn wire_fixture(name: &str) -> Vec<u8> {
    std::fs::read(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/wire").join(name)).unwrap()
}

/// A small story with a given headline, section and time.
pub fn story(headline: &str, section: &str, time: &str, body: &str) -> String {
    format!("{headline}\n\n{body}\n\nLast update: {time}\n\nMore from {section}\n")
}

/// Sleeps into the next second of the wall clock: a document changed in the
/// current second carries no `Last-Modified` until that second is over (an
/// HTTP date counts whole seconds, and it may change again within it).
pub fn wait_for_next_second() {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap();
    std::thread::sleep(Duration::from_nanos(1_000_000_000 - u64::from(now.subsec_nanos())) + Duration::from_millis(20));
}
