//! The outside programs the tests run in front of or beside the server
//! (nginx, Varnish, a WebSub hub): found or skipped, started on a loopback
//! port, and stopped on drop.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A program a test needs: `$NAME` (e.g. `$NGINX`) when set, else from PATH
/// or an `sbin` folder (often not on a user's PATH); `None` (a skip) when
/// missing, a failure when `CI` is set.
pub fn program(name: &str, install: &str) -> Option<PathBuf> {
    let found = match std::env::var_os(name.to_uppercase()) {
        Some(bin) => Some(PathBuf::from(bin)).filter(|p| p.is_file()),
        None => {
            let path = std::env::var_os("PATH").unwrap_or_default();
            std::env::split_paths(&path)
                .chain(["/usr/sbin".into(), "/usr/local/sbin".into(), "/usr/local/nginx/sbin".into()])
                .map(|dir| dir.join(name))
                .find(|p| p.is_file())
        }
    };
    if found.is_none() {
        if std::env::var_os("CI").is_some() {
            panic!("{name} is not installed, and CI is set: the tests that need it must run ({install})");
        }
        eprintln!("note: {name} is not installed; skipping ({install})");
    }
    found
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[cfg(unix)]
pub fn is_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

#[cfg(not(unix))]
pub fn is_root() -> bool {
    false
}

/// A cache or hub process on a loopback port, stopped on drop.
pub struct Engine {
    child: Option<Child>,
    pub port: u16,
    dir: PathBuf,
    log: PathBuf,
    command: Vec<String>,
}

impl Engine {
    pub fn spawn(dir: &Path, port: u16, command: Vec<String>) -> Engine {
        let log = dir.join(format!("{}.log", Path::new(&command[0]).file_name().unwrap().to_string_lossy()));
        let mut engine = Engine { child: None, port, dir: dir.to_owned(), log, command };
        engine.start();
        engine
    }

    pub fn start(&mut self) {
        let out = std::fs::OpenOptions::new().create(true).append(true).open(&self.log).unwrap();
        let child = Command::new(&self.command[0])
            .args(&self.command[1..])
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", self.command[0]));
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            if let Some(Ok(Some(status))) = self.child.as_mut().map(Child::try_wait) {
                panic!("{} exited ({status}):\n{}", self.command[0], self.output());
            }
            assert!(
                Instant::now() < deadline,
                "{} did not listen on {}:\n{}",
                self.command[0],
                self.port,
                self.output()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Stops with SIGTERM (nginx's master stops its workers; varnishd its child).
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else { return };
        let _ = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while matches!(child.try_wait(), Ok(None)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
        // The port is free once nothing answers there.
        while TcpStream::connect(("127.0.0.1", self.port)).is_ok() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        self.stop();
    }
}

/// nginx on `port` with `head` (main-context directives), `http` (more
/// http-level directives) and `server` (the server block's body), its files
/// in `dir`.
pub fn start_nginx(dir: &Path, port: u16, head: &str, http: &str, server: &str) -> Option<Engine> {
    let bin = program("nginx", "apt-get install nginx")?;
    let d = dir.display();
    // As root, nginx's workers would switch to `nobody`, which cannot enter
    // the private temp dir; keep them as the test's user.
    let user = if is_root() { "user root;" } else { "" };
    let conf = format!(
        "{head}
{user}
worker_processes 1;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {d}/client_body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    {http}
    server {{
        listen 127.0.0.1:{port};
        server_name localhost;
        {server}
    }}
}}
"
    );
    std::fs::write(dir.join("nginx.conf"), conf).unwrap();
    let command = vec![
        bin.display().to_string(),
        "-p".into(),
        d.to_string(),
        "-c".into(),
        format!("{d}/nginx.conf"),
        "-e".into(),
        "stderr".into(),
        "-g".into(),
        format!("daemon off; pid {d}/nginx.pid; error_log stderr;"),
    ];
    Some(Engine::spawn(dir, port, command))
}
