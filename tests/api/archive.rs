//! The archive with the real binary: a crash during imports, and a store
//! damaged or lost in the ways an operator meets (its files deleted, its
//! log cut to half), beside an archive that is whole, has a flipped byte in
//! a record, or has a torn last record. Each ends with every acknowledged
//! story served, or the damaged record named.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use chrono::SecondsFormat;

use crate::helpers::{copy_dir, run, story, TestServer, TOKEN};

/// No seed: every story is one the test sent.
const NO_SEED: (&str, &str) = ("WIREFEED_SEED_DIR", "/nonexistent");

/// Runs a command of the binary on a data directory: exit code, stdout, stderr.
fn export(data: &Path) -> String {
    let (code, stdout, stderr) = run(data, &["export"]);
    assert_eq!(code, 0, "export: {stderr}");
    stdout
}

/// A stopped store made as a newsroom makes one: stories in three
/// sections, later takes, an identical copy, a kill advisory, a delete, a
/// restore, a story still under embargo and one released while serving.
/// Returns the data directory, the ids served, and the ids killed.
#[derive(Clone)]
struct Newsroom {
    _tmp: std::sync::Arc<tempfile::TempDir>,
    data: PathBuf,
    served: Vec<String>,
    killed: Vec<String>,
    held: String,
}

fn newsroom() -> Newsroom {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let mut server = TestServer::start_on_with(data.clone(), &[NO_SEED]);
    let s = |h: &str, section: &str, time: &str, body: &str| story(h, section, time, body);
    let mut served = Vec::new();
    for i in 0..24 {
        let body = format!("The text of story {i}, with a paragraph of its own.");
        // One minute for all: the stories share their second and get sort slots.
        let answer = server.import_new(s(
            &format!("Filler story {i}"),
            ["World", "Sport", "Business"][i % 3],
            "Tue, 26/07/2016 - 20:33",
            &body,
        ));
        served.push(answer["id"].as_str().unwrap().to_owned());
    }
    let first = s("Floods close the valley road", "World", "Tue, 26/07/2016 - 20:00", "The road is shut.");
    let id = server.import_new(first.clone())["id"].as_str().unwrap().to_owned();
    let later =
        s("Floods close the valley road", "World", "Tue, 26/07/2016 - 21:00", "The road is shut. It reopens Friday.");
    let res = server.import(later.clone(), "");
    assert_eq!(res.json::<serde_json::Value>().unwrap()["outcome"], "updated");
    let res = server.import(later, "");
    assert_eq!(res.json::<serde_json::Value>().unwrap()["outcome"], "unchanged");
    served.push(id);

    let memo = s("Minister resigns over leaked memo", "Politics", "Tue, 26/07/2016 - 19:00", "The minister quit.");
    let killed_id = server.import_new(memo)["id"].as_str().unwrap().to_owned();
    let res = server.import("KILL: Minister resigns over leaked memo\n\nThe story is withdrawn.\n", "");
    assert_eq!(res.json::<serde_json::Value>().unwrap()["outcome"], "killed");

    let gone = server.import_new(s("Council meets", "Politics", "Tue, 26/07/2016 - 18:00", "It met."));
    let deleted_id = gone["id"].as_str().unwrap().to_owned();
    let res = server.client().delete(server.url(&format!("/articles/{deleted_id}"))).bearer_auth(TOKEN).send().unwrap();
    assert_eq!(res.status(), 200);

    let back = s("Mayor re-elected", "Politics", "Tue, 26/07/2016 - 17:00", "She won.");
    let back_id = server.import_new(back.clone())["id"].as_str().unwrap().to_owned();
    let res = server.client().delete(server.url(&format!("/articles/{back_id}"))).bearer_auth(TOKEN).send().unwrap();
    assert_eq!(res.status(), 200);
    let res = server.import(back, "?restore=true");
    assert!(res.status().is_success());
    served.push(back_id);

    let at =
        |secs: i64| (chrono::Utc::now() + chrono::Duration::seconds(secs)).to_rfc3339_opts(SecondsFormat::Secs, true);
    let soon = s("Results at noon", "Business", "Tue, 26/07/2016 - 16:00", "Profits rose.");
    let res = server.import(soon, &format!("?embargo={}", at(2)));
    assert_eq!(res.status(), 202);
    let released_id = res.json::<serde_json::Value>().unwrap()["id"].as_str().unwrap().to_owned();
    let later = s("Results next year", "Business", "Tue, 26/07/2016 - 16:00", "Profits will rise.");
    let res = server.import(later, &format!("?embargo={}", at(3600)));
    assert_eq!(res.status(), 202);
    let held = res.json::<serde_json::Value>().unwrap()["id"].as_str().unwrap().to_owned();
    let deadline = Instant::now() + Duration::from_secs(15);
    while server.get(&format!("/articles/{released_id}.json")).status() != 200 {
        assert!(Instant::now() < deadline, "the embargo was not released");
        std::thread::sleep(Duration::from_millis(200));
    }
    served.push(released_id);
    assert_eq!(server.terminate(), Some(0));
    Newsroom { _tmp: std::sync::Arc::new(tmp), data, served, killed: vec![killed_id, deleted_id], held }
}

fn assert_served(server: &TestServer, room: &Newsroom) {
    for id in &room.served {
        assert_eq!(server.get(&format!("/articles/{id}.json")).status(), 200, "{id} is missing");
    }
    for id in &room.killed {
        assert_eq!(server.get(&format!("/articles/{id}")).status(), 410, "{id} is not killed");
    }
    assert_eq!(server.get(&format!("/articles/{}", room.held)).status(), 404, "the embargo was lifted");
}

fn health(server: &TestServer) -> serde_json::Value {
    server.settled_health().1
}

/// Moves sled's files out of the data directory.
fn remove_store(data: &Path) {
    for entry in std::fs::read_dir(data).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy().into_owned();
        if matches!(name.as_str(), "db" | "conf" | "blobs" | "log-size") || name.starts_with("snap.") {
            let path = entry.path();
            if path.is_dir() {
                std::fs::remove_dir_all(path).unwrap();
            } else {
                std::fs::remove_file(path).unwrap();
            }
        }
    }
}

#[test]
fn deleted_store_files_are_rebuilt_from_the_archive_with_every_take_kill_restore_and_embargo() {
    let room = newsroom();
    let before = export(&room.data);
    let (code, _, stderr) = run(&room.data, &["verify"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("archive records read, 0 damaged"), "{stderr}");
    remove_store(&room.data);
    let mut server = TestServer::start_on_with(room.data.clone(), &[NO_SEED]);
    let body = health(&server);
    assert_eq!(body["status"], "ok", "{body}");
    assert!(body["rebuilt"]["what"].as_str().unwrap().contains("empty"), "{body}");
    assert_eq!(body["rebuilt"]["stories"], room.served.len() + 1, "{body}");
    assert!(server.log_text().contains("stories are back"), "{}", server.log_text());
    assert_served(&server, &room);
    assert_eq!(server.terminate(), Some(0));
    assert_eq!(export(&room.data), before, "the rebuilt store differs from the live one");
}

#[test]
fn a_db_cut_to_half_is_set_aside_and_rebuilt_and_the_next_start_reads_no_archive() {
    let room = newsroom();
    // Cut before anything opens the store again: an open writes a snapshot
    // of everything, and the cut would then lose nothing.
    let whole = room.data.with_file_name("whole");
    copy_dir(&room.data, &whole);
    let before = export(&whole);
    let db = room.data.join("db");
    let len = std::fs::metadata(&db).unwrap().len();
    std::fs::OpenOptions::new().write(true).open(&db).unwrap().set_len(len / 2).unwrap();
    let mut server = TestServer::start_on_with(room.data.clone(), &[NO_SEED]);
    let body = health(&server);
    assert_eq!(body["status"], "ok", "{body}");
    let aside = body["rebuilt"]["set_aside"].as_str().unwrap_or_else(|| panic!("not set aside: {body}"));
    assert!(Path::new(aside).join("db").is_file(), "{aside}");
    assert_served(&server, &room);
    // A healthy store starts without replaying anything.
    let server2 = {
        assert_eq!(server.terminate(), Some(0));
        TestServer::start_on_with(room.data.clone(), &[NO_SEED])
    };
    assert!(health(&server2).get("rebuilt").is_none(), "{}", health(&server2));
    assert!(!server2.log_text().contains("replaying the archive"), "{}", server2.log_text());
    drop(server2);
    assert_eq!(export(&room.data), before);
}

/// The offset, in its segment, of the archive record whose payload holds `needle`.
fn record_holding(data: &Path, needle: &str) -> (PathBuf, usize) {
    let dir = data.join("archive");
    let mut segments: Vec<PathBuf> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    segments.retain(|p| p.extension().is_some_and(|e| e == "seg"));
    for path in segments {
        let bytes = std::fs::read(&path).unwrap();
        let mut at = 16;
        while at + 8 <= bytes.len() {
            let n = u32::from_le_bytes(bytes[at + 4..at + 8].try_into().unwrap()) as usize;
            let end = at + n + 16;
            if bytes[at..end].windows(needle.len()).any(|w| w == needle.as_bytes()) {
                return (path, at);
            }
            at = end;
        }
    }
    panic!("no record holds {needle:?}");
}

#[test]
fn a_flipped_byte_in_an_archive_record_is_named_and_every_other_story_comes_back() {
    let mut room = newsroom();
    let (segment, offset) = record_holding(&room.data, "Filler story 7\n");
    let mut bytes = std::fs::read(&segment).unwrap();
    bytes[offset + 40] ^= 0x20;
    std::fs::write(&segment, &bytes).unwrap();
    let name = segment.file_name().unwrap().to_string_lossy().into_owned();
    let named = format!("archive segment {name} at byte {offset}: checksum mismatch");

    let (code, stdout, _) = run(&room.data, &["verify"]);
    assert_eq!(code, 1);
    assert!(stdout.contains(&named), "{stdout}");

    remove_store(&room.data);
    let server = TestServer::start_on_with(room.data.clone(), &[NO_SEED]);
    let body = health(&server);
    let damaged = body["rebuilt"]["damaged"].as_array().unwrap();
    assert!(damaged.iter().any(|d| d.as_str().unwrap().starts_with(&named)), "{body}");
    assert!(server.log_text().contains(&named), "{}", server.log_text());
    let lost = room.served.remove(7);
    assert_eq!(server.get(&format!("/articles/{lost}.json")).status(), 404);
    assert_served(&server, &room);
}

#[test]
fn a_torn_archive_tail_is_cut_off_at_start_and_kept_beside_it() {
    let room = newsroom();
    let segment = record_holding(&room.data, "Filler story 0\n").0;
    // Half a record: a crash in the middle of an append that was never acknowledged.
    let whole = std::fs::read(&segment).unwrap();
    let (_, last_at) = record_holding(&room.data, "Results next year");
    let torn = whole[last_at..last_at + 30].to_vec();
    let mut f = std::fs::OpenOptions::new().append(true).open(&segment).unwrap();
    std::io::Write::write_all(&mut f, &torn).unwrap();
    drop(f);
    let server = TestServer::start_on_with(room.data.clone(), &[NO_SEED]);
    assert!(server.log_text().contains("cut short"), "{}", server.log_text());
    assert_eq!(std::fs::metadata(&segment).unwrap().len(), whole.len() as u64, "not cut back");
    let kept =
        segment.with_file_name(format!("{}.cut-{}", segment.file_name().unwrap().to_string_lossy(), whole.len()));
    assert_eq!(std::fs::read(kept).unwrap(), torn);
    assert_served(&server, &room);
    drop(server);
    let (code, _, stderr) = run(&room.data, &["verify"]);
    assert_eq!(code, 0, "{stderr}");
}

#[test]
fn sigkill_during_imports_loses_no_acknowledged_story_and_a_rebuild_has_each_once() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let server = TestServer::start_on_with(data.clone(), &[NO_SEED]);
    let acked = std::sync::Mutex::new(Vec::new());
    let stop = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|s| {
        for w in 0..4 {
            let (server, acked, stop) = (&server, &acked, &stop);
            s.spawn(move || {
                let client = reqwest::blocking::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
                for n in 0.. {
                    if stop.load(std::sync::atomic::Ordering::SeqCst) {
                        return;
                    }
                    let text = story(&format!("Crash story {w} {n}"), "World", "Tue, 26/07/2016 - 20:33", "Text.");
                    let res = client
                        .post(server.url("/import"))
                        .bearer_auth(TOKEN)
                        .header("content-type", "text/plain")
                        .body(text)
                        .send();
                    match res {
                        Ok(res) if res.status() == 201 => {
                            let json: serde_json::Value = res.json().unwrap();
                            acked.lock().unwrap().push(json["id"].as_str().unwrap().to_owned());
                        }
                        _ => return,
                    }
                }
            });
        }
        std::thread::sleep(Duration::from_millis(1500));
        // SIGKILL with imports in flight.
        Command::new("kill").arg("-KILL").arg(server.pid().to_string()).status().unwrap();
        stop.store(true, std::sync::atomic::Ordering::SeqCst);
    });
    drop(server);
    let acked = acked.into_inner().unwrap();
    assert!(acked.len() > 20, "only {} imports", acked.len());
    let check = |data: &Path, what: &str| {
        let lines = export(data);
        let ids: Vec<String> = lines
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["id"].as_str().unwrap().to_owned())
            .collect();
        let unique: std::collections::BTreeSet<_> = ids.iter().collect();
        assert_eq!(unique.len(), ids.len(), "{what}: a story twice");
        for id in &acked {
            assert!(unique.contains(id), "{what}: acknowledged {id} is missing");
        }
        lines
    };
    // The start after the crash replays what the store lacks.
    let mut server = TestServer::start_on_with(data.clone(), &[NO_SEED]);
    assert_eq!(health(&server)["status"], "ok");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(server.terminate(), Some(0));
    let live = check(&data, "after the crash");
    // And the store made again from the archive alone is the same.
    let (code, _, stderr) = run(&data, &["rebuild"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(check(&data, "rebuilt"), live);
    let (code, stdout, stderr) = run(&data, &["rebuild", "--dry-run"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("0 articles would change"), "{stdout}");
}

#[test]
fn sigkill_during_a_rebuild_then_a_start_brings_every_story_back_once_and_imports_wait_for_it() {
    let tmp = tempfile::tempdir().unwrap();
    let (data, files) = (tmp.path().join("data"), tmp.path().join("stories"));
    std::fs::create_dir_all(&files).unwrap();
    let n = 3000;
    for i in 0..n {
        let text = story(&format!("Archive story {i}"), ["World", "Sport"][i % 2], "Tue, 26/07/2016 - 20:33", "Text.");
        std::fs::write(files.join(format!("{i:05}.txt")), text).unwrap();
    }
    let (code, _, stderr) = run(&data, &["import", files.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    let before = export(&data);
    remove_store(&data);

    let mut server = TestServer::start_on_with(data.clone(), &[NO_SEED]);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let body: serde_json::Value = server.get_authorized("/healthz").json().unwrap();
        assert_eq!(body["status"], "rebuilding", "the rebuild ended before the kill: {body}");
        if body["rebuilding"]["record"].as_u64().unwrap() > 100 {
            assert_eq!(body["imports"], "refused", "{body}");
            break;
        }
        assert!(Instant::now() < deadline, "{body}");
        std::thread::sleep(Duration::from_millis(20));
    }
    // Writes wait for the rebuild: archived now, they would be out of order.
    let res = server.import(story("Too early", "World", "Tue, 26/07/2016 - 20:33", "Text."), "");
    assert_eq!(res.status(), 503);
    // Readers are served what is back so far.
    assert_eq!(server.get("/rss.xml").status(), 200);
    Command::new("kill").arg("-KILL").arg(server.pid().to_string()).status().unwrap();
    server.wait();

    let mut server = TestServer::start_on_with(data.clone(), &[NO_SEED]);
    let body = health(&server);
    assert_eq!(body["status"], "ok", "{body}");
    assert!(body["rebuilt"]["what"].as_str().unwrap().contains("behind"), "resumed where it stopped: {body}");
    assert_eq!(body["rebuilt"]["stories"], n, "{body}");
    server.import_new(story("In time", "World", "Tue, 26/07/2016 - 20:33", "Text."));
    assert_eq!(server.terminate(), Some(0));
    let after = export(&data);
    let ids: Vec<&str> = after.lines().collect();
    assert_eq!(ids.len(), n + 1);
    for line in before.lines() {
        assert!(after.contains(line), "{line} is missing or changed");
    }
}

#[test]
fn a_store_from_before_the_archive_is_copied_into_it_at_start_and_can_then_be_rebuilt() {
    let room = newsroom();
    // As a store written before the archive existed.
    std::fs::remove_dir_all(room.data.join("archive")).unwrap();
    let mut server = TestServer::start_on_with(room.data.clone(), &[NO_SEED]);
    assert!(server.log_text().contains("begun with a copy of every article"), "{}", server.log_text());
    assert_served(&server, &Newsroom { killed: Vec::new(), ..room.clone() });
    assert_eq!(server.terminate(), Some(0));
    let before = export(&room.data);
    remove_store(&room.data);
    let server = TestServer::start_on_with(room.data.clone(), &[NO_SEED]);
    assert_eq!(health(&server)["rebuilt"]["stories"], room.served.len() + 1);
    assert_served(&server, &Newsroom { killed: Vec::new(), ..room.clone() });
    drop(server);
    assert_eq!(export(&room.data), before);
}
