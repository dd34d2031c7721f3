//! Faults an operator meets: a full disk, damaged files, leftovers of a
//! failed start, an unusable token file, too many sections. The full-disk
//! tests mount a small tmpfs (root only); they are skipped with a message
//! when it cannot be mounted, and fail when `CI` is set.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::helpers::{copy_dir, run, story, TestServer, TOKEN};

/// A small tmpfs, unmounted on drop.
struct SmallDisk {
    mount: PathBuf,
    _tmp: tempfile::TempDir,
}

impl SmallDisk {
    fn new(size: &str) -> Option<SmallDisk> {
        let tmp = tempfile::tempdir().unwrap();
        let mount = tmp.path().join("disk");
        std::fs::create_dir(&mount).unwrap();
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&mount)
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            assert!(std::env::var_os("CI").is_none(), "CI: cannot mount a tmpfs (run as root)");
            eprintln!("skipped: cannot mount a tmpfs (not root?)");
            return None;
        }
        Some(SmallDisk { mount, _tmp: tmp })
    }

    /// Writes a file of `mib` MiB (or until the disk is full).
    fn fill(&self, name: &str, mib: usize) {
        use std::io::Write;
        let mut f = std::fs::File::create(self.mount.join(name)).unwrap();
        for _ in 0..mib * 16 {
            if f.write_all(&[0x5a; 64 * 1024]).is_err() {
                break;
            }
        }
        let _ = f.sync_all();
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.mount).status();
    }
}

/// A story of about 20 KB that no other test sends.
fn big_story(n: usize) -> String {
    // Letters from a pseudo-random sequence: the store compresses, so text that repeats would never fill a disk.
    let mut x = n as u64 * 2_654_435_761 + 1;
    let para: String = (0..2_000)
        .map(|_| {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            (b'a' + ((x >> 33) % 26) as u8) as char
        })
        .collect();
    let body = (0..10).map(|p| format!("{para} {n} {p}.")).collect::<Vec<_>>().join("\n\n");
    story(&format!("Story number {n} of the full disk"), "World", "Tue, 26/07/2016 - 20:33", &body)
}

/// Imports until one answer is not 201; returns the ids acknowledged and that answer.
fn import_until_refused(server: &TestServer, from: usize) -> (Vec<String>, u16, serde_json::Value) {
    let mut acked = Vec::new();
    for n in from..from + 3_000 {
        let started = Instant::now();
        let res = server.import(big_story(n), "");
        assert!(started.elapsed() < Duration::from_secs(25), "an import took {:?}", started.elapsed());
        let status = res.status().as_u16();
        let json: serde_json::Value = res.json().unwrap();
        if status != 201 {
            return (acked, status, json);
        }
        acked.push(json["id"].as_str().unwrap().to_owned());
    }
    panic!("the disk never filled");
}

fn assert_all_present(server: &TestServer, acked: &[String]) {
    for id in acked {
        let res = server.get(&format!("/articles/{id}.json"));
        assert_eq!(res.status(), 200, "acknowledged story {id} is missing");
    }
}

fn health(server: &TestServer) -> (u16, serde_json::Value) {
    let res = server.get_authorized("/healthz");
    (res.status().as_u16(), res.json().unwrap())
}

#[test]
fn a_nearly_full_disk_refuses_imports_with_507_serves_reads_and_resumes_when_space_returns() {
    let Some(disk) = SmallDisk::new("12m") else { return };
    disk.fill("filler", 3);
    let data = disk.mount.join("data");
    let env = [("WIREFEED_MIN_FREE_MIB", "3")];
    let server = TestServer::start_on_with(data.clone(), &env);
    let (mut acked, status, json) = import_until_refused(&server, 0);
    assert_eq!(status, 507, "{json}");
    assert_eq!(json["error"], "insufficient_storage");
    let detail = json["detail"].as_str().unwrap();
    assert!(detail.contains("free") && detail.contains("WIREFEED_MIN_FREE_MIB"), "{detail}");
    assert!(!acked.is_empty());
    for path in ["/", "/rss.xml", &format!("/articles/{}", acked[0])] {
        assert_eq!(server.get(path).status(), 200, "{path}");
    }
    server.metrics();
    let (code, body) = health(&server);
    assert_eq!((code, body["status"].as_str()), (200, Some("low_disk")), "{body}");

    // Space returns: imports resume without a restart.
    std::fs::remove_file(disk.mount.join("filler")).unwrap();
    let answer = server.import_new(big_story(10_000));
    acked.push(answer["id"].as_str().unwrap().to_owned());
    assert_eq!(health(&server).1["status"], "ok");

    // Full again, then restarts while full: a clean one, and a start on a
    // disk with no room at all, which may fail but must not hang or damage.
    let (more, status, _) = import_until_refused(&server, 20_000);
    assert_eq!(status, 507);
    acked.extend(more);
    let server = server.restart();
    assert_all_present(&server, &acked);
    drop(server);
    disk.fill("everything", 64);
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_wirefeed"))
        .args(["export", "-o", "/dev/null"])
        .env("WIREFEED_DATA_DIR", &data)
        .output()
        .unwrap();
    assert!(started.elapsed() < Duration::from_secs(30));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    std::fs::remove_file(disk.mount.join("everything")).unwrap();
    let server = TestServer::start_on_with(data, &env);
    assert_all_present(&server, &acked);
}

#[test]
fn a_write_that_hits_enospc_is_answered_507_promptly_and_the_store_comes_back_when_space_returns() {
    let Some(disk) = SmallDisk::new("8m") else { return };
    disk.fill("filler", 1);
    let data = disk.mount.join("data");
    // No threshold: the writes run into the full disk itself.
    let env = [("WIREFEED_MIN_FREE_MIB", "0")];
    let server = TestServer::start_on_with(data.clone(), &env);
    // Documents served before the disk fills are served while it is full.
    const SERVED: [&str; 5] = ["/", "/rss.xml", "/atom.xml", "/feed.json", "/opml.xml"];
    for path in SERVED {
        assert_eq!(server.get(path).status(), 200, "{path}");
    }
    let mut acked = Vec::new();
    let refused = std::thread::scope(|s| {
        let workers: Vec<_> = (0..4)
            .map(|w| {
                s.spawn({
                    let server = &server;
                    move || import_until_refused(server, w * 100_000)
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().unwrap())
            .map(|(ids, status, json)| {
                acked.extend(ids);
                (status, json)
            })
            .collect::<Vec<_>>()
    });
    for (status, json) in &refused {
        assert!(matches!(status, 507 | 503), "{status} {json}");
        if *status == 507 {
            assert_eq!(json["error"], "insufficient_storage", "{json}");
        }
    }
    // The server still answers, and says what is wrong.
    let (code, body) = health(&server);
    assert!(code == 503 || body["status"] != "ok", "{code} {body}");
    for path in SERVED {
        let res = server.get(path);
        assert_eq!(res.status(), 200, "{path} while writes fail");
        let body = res.text().unwrap();
        assert!(path == "/opml.xml" || body.contains("Story number"), "{path}: stories are served");
    }
    std::fs::remove_file(disk.mount.join("filler")).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while health(&server).1["status"] != "ok" {
        assert!(Instant::now() < deadline, "the store did not come back: {}", health(&server).1);
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(server.get("/rss.xml").status(), 200);
    let res = server.import(big_story(999_999), "");
    assert!(matches!(res.status().as_u16(), 201 | 507), "{}", res.status());
    if res.status() == 201 {
        acked.push(res.json::<serde_json::Value>().unwrap()["id"].as_str().unwrap().to_owned());
    }
    let mut server = server;
    let started = Instant::now();
    assert_eq!(server.terminate(), Some(0));
    assert!(started.elapsed() < Duration::from_secs(10), "stopping took {:?}", started.elapsed());
    let server = TestServer::start_on_with(data, &env);
    assert_all_present(&server, &acked);
}

/// A stopped store of `n` stories in three sections, and their ids.
fn made_store(n: usize) -> (tempfile::TempDir, PathBuf, Vec<String>) {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let mut server = TestServer::start_on_with(data.clone(), &[("WIREFEED_SEED_DIR", "/nonexistent")]);
    let ids = (0..n)
        .map(|i| {
            let body =
                format!("The text of story {i}, long enough to be a paragraph of its own. {}", "word ".repeat(100));
            let s = story(
                &format!("Damage story {i}"),
                ["World", "Sport", "Business"][i % 3],
                "Tue, 26/07/2016 - 20:33",
                &body,
            );
            server.import_new(s)["id"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(server.terminate(), Some(0));
    (tmp, data, ids)
}

/// Runs a command of the binary on a data directory: exit code, stdout, stderr.
/// The lines of stderr that are not logs.
fn error_lines(stderr: &str) -> Vec<&str> {
    stderr.lines().filter(|l| l.starts_with("wirefeed:")).collect()
}

#[test]
fn a_truncated_log_is_reported_by_verify_and_export_without_a_panic_and_serve_rebuilds_it() {
    let (tmp, data, ids) = made_store(60);
    let whole = tmp.path().join("whole");
    copy_dir(&data, &whole);
    let (code, _, stderr) = run(&whole, &["verify"]);
    assert_eq!(code, 0, "{stderr}");
    let log_len = std::fs::metadata(data.join("db")).unwrap().len();
    for (name, cut) in [("half", log_len / 2), ("tail", log_len - 64 * 1024)] {
        let dir = tmp.path().join(name);
        copy_dir(&data, &dir);
        std::fs::OpenOptions::new().write(true).open(dir.join("db")).unwrap().set_len(cut).unwrap();
        let (code, stdout, stderr) = run(&dir, &["verify"]);
        assert_ne!(code, 0, "{name}: verify passed a cut log");
        assert!(!stderr.contains("panicked"), "{name}: {stderr}");
        assert!(stdout.contains("damaged") || !error_lines(&stderr).is_empty(), "{name}: {stdout} {stderr}");
        let (code, stdout, stderr) = run(&dir, &["export"]);
        assert_ne!(code, 0, "{name}: export hid the damage: {stderr}");
        assert!(!stderr.contains("panicked"), "{name}: {stderr}");
        assert!(stdout.lines().count() <= ids.len());
        // Serving: the damaged store is set aside and made again from the archive.
        let server = TestServer::start_on_with(dir.clone(), &[]);
        let (code, body) = server.settled_health();
        assert_eq!((code, body["status"].as_str()), (200, Some("ok")), "{name}: {body}");
        assert!(body["rebuilt"]["set_aside"].is_string(), "{name}: {body}");
        assert_all_present(&server, &ids);
    }
}

#[test]
fn zeroed_ranges_never_make_a_panic() {
    let (tmp, data, _) = made_store(60);
    let log_len = std::fs::metadata(data.join("db")).unwrap().len();
    for (i, start) in [4096, log_len / 3, log_len / 2].into_iter().enumerate() {
        let dir = tmp.path().join(format!("zeroed-{i}"));
        copy_dir(&data, &dir);
        use std::os::unix::fs::FileExt;
        let f = std::fs::OpenOptions::new().write(true).open(dir.join("db")).unwrap();
        f.write_all_at(&vec![0; 64 * 1024], start).unwrap();
        for args in [&["verify"][..], &["export"][..]] {
            let (code, _, stderr) = run(&dir, args);
            assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
            assert!(code == 0 || code == 1, "{args:?}: {code} {stderr}");
        }
    }
}

#[test]
fn a_snapshot_left_by_a_failed_start_is_removed_and_every_story_is_back() {
    let (_tmp, data, ids) = made_store(30);
    std::fs::write(data.join("snap.7FFFFFFFFFFFFFFF.generating"), b"").unwrap();
    std::fs::write(data.join("snap.7FFFFFFFFFFFFFF0"), b"not a snapshot at all").unwrap();
    let (code, _, stderr) = run(&data, &["export", "-o", "/dev/null"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("removed a snapshot left unfinished"), "{stderr}");
    assert!(stderr.contains("set aside a damaged snapshot"), "{stderr}");
    let server = TestServer::start_on_with(data, &[]);
    assert_eq!(health(&server).0, 200);
    assert_all_present(&server, &ids);
}

/// Makes an unusable token file at a path.
type MakeFile = dyn Fn(&Path);

#[test]
fn an_unusable_token_file_stops_the_start_and_only_a_missing_one_is_generated() {
    let tmp = tempfile::tempdir().unwrap();
    let cases: [(&str, &MakeFile); 3] = [
        ("fewer than", &|p| std::fs::write(p, "short").unwrap()),
        ("not UTF-8", &|p| std::fs::write(p, b"\xff\xfe0123456789abcdef0123").unwrap()),
        ("cannot be read", &|p| std::fs::create_dir(p).unwrap()),
    ];
    for (i, (problem, make)) in cases.iter().enumerate() {
        let data = tmp.path().join(format!("case-{i}"));
        std::fs::create_dir_all(&data).unwrap();
        let file = data.join("import-token");
        make(&file);
        let out = Command::new(env!("CARGO_BIN_EXE_wirefeed"))
            .arg("serve")
            .env("WIREFEED_DATA_DIR", &data)
            .env("WIREFEED_BIND", "127.0.0.1:0")
            .env("WIREFEED_SEED_DIR", "/nonexistent")
            .env_remove("WIREFEED_IMPORT_TOKEN")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{problem}: started");
        let lines = error_lines(&stderr);
        assert_eq!(lines.len(), 1, "{problem}: {stderr}");
        assert!(lines[0].contains("import-token") && lines[0].contains(problem), "{problem}: {}", lines[0]);
        if file.is_file() {
            assert_ne!(std::fs::read(&file).unwrap().len(), 64, "{problem}: the file was replaced");
        }
    }
    let server = TestServer::start_with(&[("WIREFEED_IMPORT_TOKEN", "")]);
    let token = std::fs::read_to_string(server.data.join("import-token")).unwrap();
    assert!(token.trim().len() >= 16);
}

#[test]
fn an_import_that_would_make_a_section_beyond_the_limit_gets_422_naming_the_setting() {
    let server = TestServer::start_with(&[("WIREFEED_MAX_SECTIONS", "2"), ("WIREFEED_SEED_DIR", "/nonexistent")]);
    let s = |h: &str, section: &str| story(h, section, "Tue, 26/07/2016 - 20:33", "A paragraph of text for the story.");
    server.import_new(s("One", "World"));
    server.import_new(s("Two", "Sport"));
    let res = server.import(s("Three", "Business"), "");
    assert_eq!(res.status(), 422);
    let json: serde_json::Value = res.json().unwrap();
    assert_eq!(json["error"], "limit_reached");
    assert!(json["detail"].as_str().unwrap().contains("WIREFEED_MAX_SECTIONS"), "{json}");
    server.import_new(s("Four", "World"));
}

/// Imports from 4 clients until the server stops answering 201; returns the ids acknowledged.
fn import_from_four(server: &TestServer, from: usize, kill_at_first_refusal: bool) -> Vec<String> {
    let acked = std::sync::Mutex::new(Vec::new());
    let refused = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|s| {
        for w in 0..4 {
            let (acked, refused) = (&acked, &refused);
            s.spawn(move || {
                let client = reqwest::blocking::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
                for n in 0..3_000 {
                    let res = client
                        .post(server.url("/import"))
                        .bearer_auth(TOKEN)
                        .header("content-type", "text/plain")
                        .body(big_story(from + w * 10_000 + n))
                        .send();
                    match res {
                        Ok(res) if res.status() == 201 => {
                            let json: serde_json::Value = res.json().unwrap();
                            acked.lock().unwrap().push(json["id"].as_str().unwrap().to_owned());
                        }
                        _ => {
                            if kill_at_first_refusal && !refused.swap(true, std::sync::atomic::Ordering::SeqCst) {
                                // The disk is full and the others are mid-import: a crash now.
                                Command::new("kill").arg("-KILL").arg(server.pid().to_string()).status().unwrap();
                            }
                            return;
                        }
                    }
                }
            });
        }
    });
    acked.into_inner().unwrap()
}

#[test]
fn sigkill_on_a_full_disk_loses_no_acknowledged_story_in_any_of_three_trials() {
    for trial in 0..3 {
        let Some(disk) = SmallDisk::new("16m") else { return };
        disk.fill("filler", 4);
        let data = disk.mount.join("data");
        // No threshold: the writes run into the full disk itself.
        let env = [("WIREFEED_MIN_FREE_MIB", "0"), ("WIREFEED_SEED_DIR", "/nonexistent")];
        let mut server = TestServer::start_on_with(data.clone(), &env);
        let acked = import_from_four(&server, trial * 100_000, true);
        server.wait();
        assert!(!acked.is_empty(), "trial {trial}: nothing acknowledged");
        std::fs::remove_file(disk.mount.join("filler")).unwrap();
        let server = TestServer::start_on_with(data.clone(), &env);
        let (code, body) = server.settled_health();
        assert_eq!(code, 200, "trial {trial}: {body}");
        assert_all_present(&server, &acked);
    }
}
