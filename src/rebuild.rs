//! The store made again from the archive: every record replayed in order
//! through the application's own `apply` functions ([`App::replay`]), with
//! today's parser and the receive time each transmission was parsed with.
//!
//! Used three ways: `wirefeed rebuild` (the store set aside, a new one
//! made), `wirefeed rebuild --dry-run` (a new one made beside the live one
//! and compared, article by article), and the start of `serve`, which
//! replays what the store has not seen yet, or rebuilds a store that is
//! damaged, missing or empty beside a non-empty archive ([`plan`],
//! [`spawn`]: in the background, shown by `/healthz`).

use std::collections::HashMap;

use anyhow::Context;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::app::{App, Replayed};
use crate::archive::{self, Found};
use crate::domain::{Article, ArticleId};
use crate::import::IngestError;
use crate::journal::Entry;
use crate::store::{Store, StoreError};

/// Most problems kept by name (the rest are counted).
pub const MAX_NAMED: usize = 50;

/// What a replay did.
#[derive(Debug, Default, Clone)]
pub struct Summary {
    /// Records replayed.
    pub records: u64,
    /// Transmissions whose outcome today differs from the recorded one
    /// (another outcome or another id).
    pub differ: u64,
    /// Transmissions today's parser (or the store) refuses.
    pub refused: u64,
    /// Records of kinds this build does not know.
    pub unknown: u64,
    /// Damaged records and stretches, by segment and offset.
    pub damaged: Vec<String>,
    /// What was refused or differs, by record (the first [`MAX_NAMED`]).
    pub notes: Vec<String>,
}

impl Summary {
    fn note(&mut self, text: String) {
        if self.notes.len() < MAX_NAMED {
            self.notes.push(text);
        }
    }
}

/// Replays every record from sequence number `from` into the app's store;
/// `progress` is told the sequence number of each record replayed. A
/// damaged record is logged by name and skipped; a store failure stops it.
pub fn replay(app: &App, from: u64, progress: &mut dyn FnMut(u64)) -> anyhow::Result<Summary> {
    let mut summary = Summary::default();
    let dir = app.journal().dir();
    archive::read::<anyhow::Error>(&dir, from, |found| {
        let record = match found {
            Found::Record(record) => record,
            Found::Damaged(damage) => {
                tracing::error!(problem = %damage, "archive: damaged record skipped");
                summary.damaged.push(damage.to_string());
                return Ok(());
            }
        };
        let entry = match Entry::decode(&record) {
            Ok(entry) => entry,
            Err(e) => {
                tracing::error!(problem = %e, "archive: unreadable record skipped");
                summary.damaged.push(e.to_string());
                return Ok(());
            }
        };
        let done = match app.replay(record.seq, &entry) {
            Ok(done) => done,
            Err(IngestError::Store(e)) => {
                return Err(anyhow::Error::new(e).context(format!("replaying archive record {}", record.seq)))
            }
            Err(e) => Replayed::Refused(e.to_string()),
        };
        summary.records += 1;
        match (&entry, done) {
            (Entry::Transmission { meta, .. }, Replayed::Outcome { outcome, id })
                if outcome != meta.outcome || id != meta.id =>
            {
                summary.differ += 1;
                summary.note(format!(
                    "record {}: {} {} then, {outcome} {} now",
                    record.seq,
                    meta.outcome,
                    shown(&meta.id),
                    shown(&id)
                ));
            }
            (Entry::Transmission { meta, .. }, Replayed::Refused(why)) => {
                summary.refused += 1;
                summary.note(format!(
                    "record {} ({} {}) is refused now: {why}",
                    record.seq,
                    meta.outcome,
                    shown(&meta.id)
                ));
            }
            (_, Replayed::Unknown(kind)) => {
                summary.unknown += 1;
                summary.note(format!("record {} is of kind {kind}, which this build does not know", record.seq));
            }
            _ => {}
        }
        progress(record.seq);
        Ok(())
    })?;
    Ok(summary)
}

fn shown(id: &Option<ArticleId>) -> String {
    id.as_ref().map_or_else(|| "-".to_owned(), |id| id.to_string())
}

/// Stories in a store: listed and held.
pub fn stories(store: &Store) -> u64 {
    store.sections().map(|s| s.iter().map(|m| m.count).sum::<u64>()).unwrap_or(0) + store.held() as u64
}

/// What a rebuild would change, article by article.
#[derive(Debug, Default, Clone)]
pub struct Changes {
    /// Articles in both stores.
    pub compared: u64,
    pub headline: u64,
    pub paragraphs: u64,
    /// Publication or update time.
    pub times: u64,
    /// Only in the rebuilt store.
    pub new: u64,
    /// Only in the live store.
    pub gone: u64,
    /// Articles that would change in any way (new and gone ones included).
    pub changed: u64,
    /// Ids of changed, new and gone articles (the first [`MAX_NAMED`]).
    pub ids: Vec<String>,
}

/// What is compared of an article: hashes of its headline, paragraphs and times.
#[derive(PartialEq)]
struct Print {
    headline: u64,
    paragraphs: u64,
    times: u64,
}

fn print(a: &Article) -> Print {
    let h = |bytes: &[u8]| xxhash_rust::xxh3::xxh3_64(bytes);
    Print {
        headline: h(a.headline.as_bytes()),
        paragraphs: h(a.paragraphs.join("\n\n").as_bytes()),
        times: h(format!("{:?} {:?}", a.published, a.updated).as_bytes()),
    }
}

/// Every article of a store, by id, read line by line from its export
/// (a store of a million stories is never held whole).
fn prints(store: &Store) -> anyhow::Result<HashMap<String, Print>> {
    let mut out = HashMap::new();
    let mut sink = Articles::new(|article: Article| {
        out.insert(article.id.to_string(), print(&article));
        Ok(())
    });
    store.export(&mut sink, &mut |skipped| tracing::warn!(skipped = %skipped, "unreadable article left out"))?;
    drop(sink);
    Ok(out)
}

/// Takes an export's articles one at a time, as its lines are written.
struct Articles<F> {
    line: Vec<u8>,
    each: F,
}

impl<F: FnMut(Article) -> std::io::Result<()>> Articles<F> {
    fn new(each: F) -> Self {
        Articles { line: Vec::new(), each }
    }
}

impl<F: FnMut(Article) -> std::io::Result<()>> std::io::Write for Articles<F> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        for &b in buf {
            if b != b'\n' {
                self.line.push(b);
                continue;
            }
            let article: Article = serde_json::from_slice(&self.line).map_err(std::io::Error::other)?;
            (self.each)(article)?;
            self.line.clear();
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Compares the articles of two stores.
pub fn compare(live: &Store, rebuilt: &Store) -> anyhow::Result<Changes> {
    let (before, after) = (prints(live)?, prints(rebuilt)?);
    let mut changes = Changes::default();
    let name = |changes: &mut Changes, text: String| {
        changes.changed += 1;
        if changes.ids.len() < MAX_NAMED {
            changes.ids.push(text);
        }
    };
    let mut ids: Vec<&String> = before.keys().chain(after.keys().filter(|id| !before.contains_key(*id))).collect();
    ids.sort();
    for id in ids {
        match (before.get(id), after.get(id)) {
            (Some(old), Some(new)) => {
                changes.compared += 1;
                let what: Vec<&str> = [
                    (old.headline != new.headline, "headline"),
                    (old.paragraphs != new.paragraphs, "paragraphs"),
                    (old.times != new.times, "times"),
                ]
                .into_iter()
                .filter_map(|(differs, what)| differs.then_some(what))
                .collect();
                changes.headline += u64::from(old.headline != new.headline);
                changes.paragraphs += u64::from(old.paragraphs != new.paragraphs);
                changes.times += u64::from(old.times != new.times);
                if !what.is_empty() {
                    name(&mut changes, format!("{id}: {}", what.join(", ")));
                }
            }
            (None, Some(_)) => {
                changes.new += 1;
                name(&mut changes, format!("{id}: only in the rebuilt store"));
            }
            _ => {
                changes.gone += 1;
                name(&mut changes, format!("{id}: only in the live store"));
            }
        }
    }
    Ok(changes)
}

/// What the start found and did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Healed {
    /// In words, for the log and `/healthz`.
    pub what: String,
    /// Where the damaged store was moved, if it was.
    pub set_aside: Option<String>,
    pub records: u64,
    pub stories: u64,
    pub damaged: Vec<String>,
    pub seconds: f64,
}

/// Why the store is made again at start.
pub enum Plan {
    /// The store is up to date with the archive.
    Nothing,
    /// Records from this sequence number on are not in the store yet (a
    /// crash after they were appended): they are replayed.
    Tail(u64),
    /// The store is damaged, missing or empty beside a non-empty archive:
    /// it is set aside (if there is one) and made again from every record.
    Full(String),
}

/// Decides from the store's archive position and the archive's last
/// record, reading neither the store nor the archive further.
pub fn plan(store: &Store, last: u64) -> Plan {
    if last == 0 {
        return Plan::Nothing;
    }
    let damaged = store.health().damaged;
    if !damaged.is_empty() {
        return Plan::Full(format!("the store is damaged: {}", damaged.join("; ")));
    }
    match store.applied() {
        Err(e) => Plan::Full(format!("the store's archive position is unreadable: {e}")),
        Ok(None) if store.is_empty() => {
            Plan::Full("the store is empty (or missing) beside an archive of records".to_owned())
        }
        Ok(None) => Plan::Full("the store has lost its archive position".to_owned()),
        Ok(Some(applied)) if applied < last => Plan::Tail(applied + 1),
        Ok(Some(applied)) => {
            if applied > last {
                // Records appended but never acknowledged (a crash before
                // the archive's sync) whose changes sled kept: the store
                // holds more than the archive, nothing less.
                tracing::warn!(applied, last, "the store has changes the archive lost in a crash (none acknowledged)");
            }
            Plan::Nothing
        }
    }
}

/// Whether an error opening the store means it is damaged (and can be
/// rebuilt), rather than held by another process, of another format, or
/// on a disk that refuses.
pub fn is_damage(e: &StoreError) -> bool {
    !matches!(
        e,
        StoreError::Locked(_)
            | StoreError::NewerFormat { .. }
            | StoreError::OlderFormat { .. }
            | StoreError::Sled { source: sled::Error::Io(_), .. }
            | StoreError::Io(_)
    )
}

/// Sets the store of `dir` aside (logged), when there are files to move.
pub fn set_aside(dir: &Path) -> anyhow::Result<Option<String>> {
    if !dir.join("db").exists() && !dir.join("conf").exists() {
        return Ok(None);
    }
    let to = crate::store::set_aside(dir).with_context(|| format!("setting the store in {} aside", dir.display()))?;
    tracing::warn!(moved_to = %to.display(), "store: set aside (nothing deleted); a new one is made from the archive");
    Ok(Some(to.display().to_string()))
}

/// Begins an empty archive beside a store that holds stories (a store
/// written before the archive existed) with a copy of every article, held
/// ones included, as `restored` records, so that a rebuild brings them back.
/// Kills are not carried over: a killed story sent again is taken. Returns
/// how many articles were copied.
pub fn adopt(app: &App) -> anyhow::Result<u64> {
    let mut n = 0;
    let mut sink = Articles::new(|article: Article| {
        app.adopt(&article).map_err(std::io::Error::other)?;
        n += 1;
        Ok(())
    });
    app.store()
        .export(
            &mut sink,
            &mut |skipped| tracing::error!(skipped = %skipped, "archive: an unreadable article is not copied"),
        )
        .context("copying the store's articles into the archive")?;
    drop(sink);
    app.store().sync()?;
    tracing::warn!(
        articles = n,
        "archive: begun with a copy of every article of the store (a store from before the archive)"
    );
    Ok(n)
}

/// A replay the start must make before serving.
#[derive(Debug, Clone)]
pub struct Pending {
    /// The first record to replay.
    pub from: u64,
    /// Why, in words.
    pub why: String,
    /// Where the old store went, when it was set aside.
    pub set_aside: Option<String>,
}

/// A replay at start, as `/healthz` shows it: running (and how far), done, or failed.
#[derive(Default)]
pub struct Recovery {
    running: Mutex<Option<Running>>,
    /// The last record replayed.
    record: AtomicU64,
    done: Mutex<Option<Healed>>,
    failed: Mutex<Option<String>>,
}

struct Running {
    why: String,
    from: u64,
    last: u64,
    started: Instant,
}

/// What `/healthz` says of a recovery.
pub enum Status {
    /// Nothing was replayed at this start.
    None,
    /// Replaying; imports are refused until it is done.
    Running(serde_json::Value),
    Done(serde_json::Value),
    Failed(String),
}

impl Recovery {
    pub fn status(&self) -> Status {
        let lock = |m: &Mutex<Option<String>>| m.lock().unwrap_or_else(|e| e.into_inner()).clone();
        if let Some(why) = lock(&self.failed) {
            return Status::Failed(why);
        }
        if let Some(running) = &*self.running.lock().unwrap_or_else(|e| e.into_inner()) {
            return Status::Running(serde_json::json!({
                "what": running.why,
                "from": running.from,
                "record": self.record.load(Ordering::Relaxed),
                "last": running.last,
                "seconds": running.started.elapsed().as_secs_f64(),
            }));
        }
        match &*self.done.lock().unwrap_or_else(|e| e.into_inner()) {
            Some(healed) => Status::Done(serde_json::to_value(healed).unwrap_or_default()),
            None => Status::None,
        }
    }
}

/// Replays what the start found pending on a thread of its own, while the
/// server serves what is already back; the application refuses writes
/// until it is done (a write now would be archived out of order).
pub fn spawn(app: Arc<App>, pending: Pending, recovery: Arc<Recovery>) -> anyhow::Result<()> {
    let last = app.journal().last_seq();
    *recovery.running.lock().unwrap_or_else(|e| e.into_inner()) =
        Some(Running { why: pending.why.clone(), from: pending.from, last, started: Instant::now() });
    app.set_rebuilding(true);
    std::thread::Builder::new().name("wirefeed-rebuild".into()).spawn(move || {
        let record = |seq| recovery.record.store(seq, Ordering::Relaxed);
        match run(&app, pending.from, &pending.why, pending.set_aside, &mut { record }) {
            Ok(healed) => {
                *recovery.done.lock().unwrap_or_else(|e| e.into_inner()) = Some(healed);
                app.set_rebuilding(false);
            }
            Err(e) => {
                // Writes stay refused: the store lacks records the archive has.
                // A restart replays from where this one stopped.
                let why = format!("{e:#}");
                tracing::error!(error = %why, "store: replaying the archive failed; imports stay refused until a restart");
                *recovery.failed.lock().unwrap_or_else(|e| e.into_inner()) = Some(why);
            }
        }
        recovery.running.lock().unwrap_or_else(|e| e.into_inner()).take();
    })?;
    Ok(())
}

/// Replays from `from` and logs what came back; `progress` is told each
/// record replayed.
pub fn run(
    app: &App,
    from: u64,
    what: &str,
    set_aside: Option<String>,
    progress: &mut dyn FnMut(u64),
) -> anyhow::Result<Healed> {
    let started = Instant::now();
    let last = app.journal().last_seq();
    tracing::warn!(cause = %what, from, last, "store: replaying the archive");
    let mut shown = Instant::now();
    let summary = replay(app, from, &mut |seq| {
        progress(seq);
        if shown.elapsed().as_secs() >= 5 {
            shown = Instant::now();
            tracing::info!(record = seq, last, "store: replaying the archive");
        }
    })?;
    app.store().sync()?;
    let healed = Healed {
        what: what.to_owned(),
        set_aside,
        records: summary.records,
        stories: stories(app.store()),
        damaged: summary.damaged,
        seconds: started.elapsed().as_secs_f64(),
    };
    tracing::warn!(
        records = healed.records,
        stories = healed.stories,
        damaged_records = healed.damaged.len(),
        refused_now = summary.refused,
        seconds = healed.seconds,
        "store: made again from the archive; {} stories are back",
        healed.stories
    );
    Ok(healed)
}
