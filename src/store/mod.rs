//! The sled store: articles in a per-section index, an all-sections index
//! and ids pointing into it, both indexes newest-first by reverse prefix scan,
//! and per-section metadata.
//!
//! Key bytes and the layout live in [`keys`], value bytes in [`codec`]. Every
//! write that touches an article and its index entries is one sled
//! transaction; a write is acknowledged only after [`Store::sync`] has put it
//! on disk (group commit, [`durable`]). Reads cost what the page costs: a
//! section's page is one range scan of `limit` neighbouring entries, the
//! all-sections page a scan and one `get` per article; never a whole-store scan.

pub mod codec;
mod durable;
mod files;
pub mod keys;
pub mod space;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, Write};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sled::transaction::{
    ConflictableTransactionError, TransactionError, Transactional, TransactionalTree, UnabortableTransactionError,
};
use sled::Tree;

use crate::domain::{Article, ArticleId, Section, SectionSlug};

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// Another process holds the data directory.
    #[error("the data directory {0} is in use by another wirefeed process (a running server?); stop it or use another --data-dir")]
    Locked(String),
    /// The store was written by a newer wirefeed.
    #[error("the data directory {dir} holds store format {found}; this build reads up to format {supported}: upgrade wirefeed")]
    NewerFormat { dir: String, found: u8, supported: u8 },
    /// A stored value could not be read.
    #[error("store: reading {what}: {source}")]
    Codec { what: String, source: codec::CodecError },
    /// sled failed.
    #[error("store: {what}: {source}")]
    Sled { what: String, source: sled::Error },
    /// An entry points at one that is not there.
    #[error("store is damaged: {0}")]
    Damaged(String),
    /// The write could not be made durable.
    #[error("store: {0}")]
    Flush(String),
    /// A flush did not finish in time (sled is stuck).
    #[error("store: {0}")]
    FlushTimeout(String),
    /// A write hit a full disk (ENOSPC): nothing of it was acknowledged.
    #[error("the disk of the data directory is full: {0}")]
    NoSpace(String),
    /// Free space is below the threshold: writes are refused before the disk fills.
    #[error("only {} free in the data directory, under the {} kept free (WIREFEED_MIN_FREE_MIB): free some space; imports resume by themselves", space::mib(*free), space::mib(*threshold))]
    LowSpace { free: u64, threshold: u64 },
    /// A new section beyond `WIREFEED_MAX_SECTIONS`.
    #[error("the store holds {limit} sections, the most allowed (WIREFEED_MAX_SECTIONS): use an existing section")]
    TooManySections { limit: usize },
    /// The store is being opened again after a failure; try again shortly.
    #[error("the store is unavailable: {0}")]
    Unavailable(String),
    /// Restore into a store that already holds articles.
    #[error("the data directory is not empty; restore only into an empty one")]
    NotEmpty,
    /// A line of a backup file is not an article.
    #[error("line {line}: {detail}")]
    BadBackup { line: usize, detail: String },
    /// Reading or writing a backup file.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

fn sled_err(what: impl Into<String>) -> impl FnOnce(sled::Error) -> StoreError {
    let what = what.into();
    move |source| StoreError::Sled { what, source }
}

/// What the store knows of a section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SectionMeta {
    pub section: Section,
    pub count: u64,
    pub newest: Option<DateTime<Utc>>,
}

/// What a put did.
#[derive(Debug, Clone)]
pub enum Put {
    /// A new article.
    Created(Article),
    /// An existing article updated in place; the old version is given too.
    Updated { article: Article, old: Box<Article> },
    /// The identical text was stored already.
    Unchanged(Article),
    /// An older version than the stored one: nothing written.
    Stale(Article),
}

impl Put {
    pub fn article(&self) -> &Article {
        match self {
            Put::Created(a) | Put::Unchanged(a) | Put::Stale(a) => a,
            Put::Updated { article, .. } => article,
        }
    }

    pub fn outcome(&self) -> &'static str {
        match self {
            Put::Created(_) => "created",
            Put::Updated { .. } => "updated",
            Put::Unchanged(_) => "unchanged",
            Put::Stale(_) => "stale",
        }
    }
}

/// Which articles a page lists.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Scope {
    All,
    Section(SectionSlug),
}

/// One page of articles, newest first, with the cursors around it.
#[derive(Debug, Clone)]
pub struct Page {
    pub articles: Vec<Article>,
    /// `before=` cursor of the next (older) page.
    pub next: Option<i64>,
    /// The previous (newer) page: `None` when this is the first page,
    /// `Some(None)` when it is the first page, `Some(Some(c))` a cursor.
    pub prev: Option<Option<i64>>,
}

/// What `verify` read and found.
#[derive(Debug, Clone, Default)]
pub struct Verified {
    /// Articles read whole.
    pub articles: u64,
    /// Entries read, in every tree.
    pub entries: u64,
    /// Problems found.
    pub problems: u64,
}

/// Runs a call into sled, turning a panic (sled panics on some damaged
/// files) into an error that names what was being done.
fn guarded<T>(what: &str, f: impl FnOnce() -> T) -> Result<T, StoreError> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|panic| {
        let why = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "no message".into());
        StoreError::Damaged(format!("{what}: sled failed ({why})"))
    })
}

/// Free bytes wanted before a failed store is opened again.
const REOPEN_ROOM: u64 = 1024 * 1024;

/// Most damage notes kept for `/healthz`.
const MAX_DAMAGE_NOTES: usize = 20;

/// The state every clone of a [`Store`] shares.
struct Shared {
    dir: PathBuf,
    cache_bytes: u64,
    /// Free bytes under which writes are refused (0: never).
    min_free: AtomicU64,
    /// Most sections (0: no limit).
    max_sections: AtomicU64,
    /// The open store; `None` while it is being opened again.
    current: RwLock<Option<Arc<Handles>>>,
    /// Why sled stopped taking writes, until the store is opened again.
    failed: Mutex<Option<String>>,
    /// What was found unreadable since the store was opened.
    damage: Mutex<BTreeSet<String>>,
    /// A thread is opening the store again.
    reopening: AtomicBool,
}

/// What the store says of its own health (for `/healthz`).
#[derive(Debug, Clone, Serialize)]
pub struct Health {
    /// Free bytes on the data directory's file system.
    pub free_bytes: Option<u64>,
    /// The threshold under which imports are refused.
    pub min_free_bytes: u64,
    /// Why the store takes no writes now (sled failed; it is being opened again).
    pub failed: Option<String>,
    /// What was found unreadable.
    pub damaged: Vec<String>,
}

/// The store. Cheap to clone. Every call goes through here: a panic in
/// sled becomes [`StoreError::Damaged`]; a write refused for lack of space
/// is [`StoreError::LowSpace`]; when sled fails for good (it does on the
/// first write that hits a full disk), the store is opened again in the
/// background once space returns, without a restart.
#[derive(Clone)]
pub struct Store {
    shared: Arc<Shared>,
}

impl Store {
    /// Opens (or creates) the store in `dir` with a page cache of `cache_bytes`.
    /// Leftovers of an interrupted start are cleared first, and a store that
    /// sled refuses with its snapshots is opened again from its log alone.
    pub fn open(dir: &Path, cache_bytes: u64) -> Result<Store, StoreError> {
        let damage = files::tidy(dir)?;
        for problem in &damage {
            tracing::error!(problem = %problem, "store: damaged");
        }
        let handles = open_rebuilding(dir, cache_bytes)?;
        Ok(Store {
            shared: Arc::new(Shared {
                dir: dir.to_owned(),
                cache_bytes,
                min_free: AtomicU64::new(0),
                max_sections: AtomicU64::new(0),
                current: RwLock::new(Some(Arc::new(handles))),
                failed: Mutex::new(None),
                damage: Mutex::new(damage.into_iter().collect()),
                reopening: AtomicBool::new(false),
            }),
        })
    }

    /// Refuses writes while the data directory has fewer than `bytes` free.
    pub fn set_min_free(&self, bytes: u64) {
        self.shared.min_free.store(bytes, Ordering::Relaxed);
    }

    /// Refuses a story that would make a section beyond `limit`.
    pub fn set_max_sections(&self, limit: usize) {
        self.shared.max_sections.store(limit as u64, Ordering::Relaxed);
    }

    /// The current handles, or why there are none.
    fn handles(&self) -> Result<Arc<Handles>, StoreError> {
        let current = self.shared.current.read().unwrap_or_else(|e| e.into_inner());
        current.clone().ok_or_else(|| {
            StoreError::Unavailable("it is being opened again after a write failed; try again shortly".into())
        })
    }

    /// Runs a read on the current handles (see [`Store::run`]).
    fn call<T>(&self, what: &str, f: impl FnOnce(&Handles) -> Result<T, StoreError>) -> Result<T, StoreError> {
        self.run(what, false, f)
    }

    /// Runs `f` on the current handles, catching sled's panics and noting
    /// failures and damage. A full disk is [`StoreError::NoSpace`] for a
    /// write, and [`StoreError::Unavailable`] for a read (sled answers every
    /// call with the write's error until the store is opened again).
    fn run<T>(
        &self,
        what: &str,
        writes: bool,
        f: impl FnOnce(&Handles) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let handles = self.handles()?;
        let result = guarded(what, || f(&handles)).and_then(|r| r);
        drop(handles);
        result.map_err(|e| {
            self.note(&e);
            match e {
                StoreError::Sled { source: sled::Error::Io(ref io), .. } if !writes && space::is_no_space(io) => {
                    StoreError::Unavailable(format!("{e}: the store is opened again as soon as the disk has room"))
                }
                StoreError::Sled { source: sled::Error::Io(ref io), .. } if space::is_no_space(io) => {
                    StoreError::NoSpace(format!("{e}; {}", self.space_note()))
                }
                StoreError::NoSpace(why) => StoreError::NoSpace(format!("{why}; {}", self.space_note())),
                e => e,
            }
        })
    }

    /// Free space and the threshold, for messages.
    fn space_note(&self) -> String {
        let threshold = space::mib(self.shared.min_free.load(Ordering::Relaxed));
        match space::of(&self.shared.dir) {
            Ok(s) => format!("{} free, {threshold} kept free (WIREFEED_MIN_FREE_MIB)", space::mib(s.free)),
            Err(_) => format!("{threshold} kept free (WIREFEED_MIN_FREE_MIB)"),
        }
    }

    /// Records what an error says of the store's state.
    fn note(&self, e: &StoreError) {
        let sled_io = |source: &sled::Error| match source {
            sled::Error::Io(io) => Some(space::is_no_space(io)),
            _ => None,
        };
        match e {
            StoreError::NoSpace(why) => self.fail(format!("a write hit a full disk: {why}")),
            StoreError::FlushTimeout(why) => self.fail(why.clone()),
            StoreError::Sled { what, source } if sled_io(source) == Some(true) => {
                self.fail(format!("{what}: the disk is full ({source})"))
            }
            StoreError::Sled { what, source: source @ sled::Error::Corruption { .. } } => {
                self.damaged(format!("{what}: {source}"))
            }
            StoreError::Codec { .. } | StoreError::Damaged(_) => self.damaged(e.to_string()),
            _ => {}
        }
    }

    fn damaged(&self, what: String) {
        let mut damage = self.shared.damage.lock().unwrap_or_else(|e| e.into_inner());
        if damage.len() < MAX_DAMAGE_NOTES && damage.insert(what.clone()) {
            tracing::error!(problem = %what, "store: damaged (run `wirefeed verify`)");
        }
    }

    /// sled takes no more writes (after ENOSPC it answers every call with
    /// that error): open the store again once there is room.
    fn fail(&self, why: String) {
        {
            let mut failed = self.shared.failed.lock().unwrap_or_else(|e| e.into_inner());
            if failed.is_none() {
                tracing::error!(cause = %why, "store: failed; it is opened again as soon as the disk has room");
            }
            *failed = Some(why);
        }
        if self.shared.reopening.swap(true, Ordering::SeqCst) {
            return;
        }
        let store = self.clone();
        let spawned = std::thread::Builder::new().name("wirefeed-reopen".into()).spawn(move || store.reopen_loop());
        if spawned.is_err() {
            self.shared.reopening.store(false, Ordering::SeqCst);
        }
    }

    /// Waits for room, then swaps the failed handles for freshly opened ones.
    fn reopen_loop(&self) {
        let shared = &self.shared;
        loop {
            std::thread::sleep(Duration::from_millis(500));
            // Opening writes a snapshot: it needs some room, not the import
            // threshold (imports stay refused below it anyway).
            let free = space::of(&shared.dir).map(|s| s.free).unwrap_or(0);
            if free < REOPEN_ROOM {
                continue;
            }
            let old = shared.current.write().unwrap_or_else(|e| e.into_inner()).take();
            if let Some(old) = old {
                // Calls in flight finish with the old handles; sled lets go
                // of the directory only when the last of them is dropped.
                let mut old = Some(old);
                for _ in 0..500 {
                    match Arc::try_unwrap(old.take().expect("kept")) {
                        Ok(handles) => {
                            handles.commit.close();
                            drop(handles);
                            break;
                        }
                        Err(still_shared) => {
                            old = Some(still_shared);
                            std::thread::sleep(Duration::from_millis(10));
                        }
                    }
                }
                if old.is_some() {
                    tracing::error!("store: calls still hold the failed store; it is dropped when they end");
                }
            }
            let opened = (|| {
                files::tidy(&shared.dir)?;
                for _ in 0..100 {
                    match open_rebuilding(&shared.dir, shared.cache_bytes) {
                        Err(StoreError::Locked(_)) => std::thread::sleep(Duration::from_millis(50)),
                        other => return other,
                    }
                }
                open_rebuilding(&shared.dir, shared.cache_bytes)
            })();
            match opened {
                Ok(handles) => {
                    *shared.current.write().unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(handles));
                    *shared.failed.lock().unwrap_or_else(|e| e.into_inner()) = None;
                    shared.reopening.store(false, Ordering::SeqCst);
                    tracing::info!("store: opened again; writes are taken again");
                    return;
                }
                Err(e) => {
                    tracing::error!(error = %e, "store: opening again failed; trying again");
                    std::thread::sleep(Duration::from_secs(2));
                }
            }
        }
    }

    /// Free space, the threshold, and what is failed or damaged.
    pub fn health(&self) -> Health {
        Health {
            free_bytes: space::of(&self.shared.dir).ok().map(|s| s.free),
            min_free_bytes: self.shared.min_free.load(Ordering::Relaxed),
            failed: self.shared.failed.lock().unwrap_or_else(|e| e.into_inner()).clone(),
            damaged: self.shared.damage.lock().unwrap_or_else(|e| e.into_inner()).iter().cloned().collect(),
        }
    }

    /// Refuses a write when free space is under the threshold.
    fn check_space(&self) -> Result<(), StoreError> {
        let threshold = self.shared.min_free.load(Ordering::Relaxed);
        if threshold == 0 {
            return Ok(());
        }
        match space::of(&self.shared.dir) {
            Ok(s) if s.free < threshold => Err(StoreError::LowSpace { free: s.free, threshold }),
            _ => Ok(()),
        }
    }

    /// Whether the store holds no article.
    pub fn is_empty(&self) -> bool {
        self.call("reading the store", |h| Ok(h.is_empty())).unwrap_or(false)
    }

    /// Blocks until every write so far is on disk; concurrent callers share one flush.
    pub fn sync(&self) -> Result<(), StoreError> {
        self.run("flushing the store", true, |h| h.sync())
    }

    /// Group-commit flushes done since the store was opened.
    pub fn flushes(&self) -> u64 {
        self.handles().map(|h| h.flushes()).unwrap_or(0)
    }

    /// Flushes and stops the flusher: call before exit.
    pub fn close(&self) -> Result<(), StoreError> {
        self.call("flushing on close", |h| h.close())?;
        files::record_log_size(&self.shared.dir)?;
        Ok(())
    }

    /// Bytes on disk.
    pub fn size_on_disk(&self) -> u64 {
        self.call("reading the store size", |h| Ok(h.size_on_disk())).unwrap_or(0)
    }

    /// Stores a story (see [`Handles::put`]); refused when space is short.
    /// Not yet durable: call [`Store::sync`].
    pub fn put(&self, draft: Article) -> Result<Put, StoreError> {
        self.check_space()?;
        let limit = self.shared.max_sections.load(Ordering::Relaxed);
        self.run("writing an article", true, |h| {
            // Sections are few (this is the limit on them): counting them is cheap.
            let slug = draft.section.slug.as_str().as_bytes();
            if limit > 0
                && !h.sections.contains_key(slug).map_err(sled_err("reading sections"))?
                && h.sections.len() as u64 >= limit
            {
                return Err(StoreError::TooManySections { limit: limit as usize });
            }
            h.put(draft)
        })
    }

    /// Retracts an article from every index. Not yet durable: call [`Store::sync`].
    pub fn delete(&self, id: &ArticleId) -> Result<Option<Article>, StoreError> {
        self.run("deleting an article", true, |h| h.delete(id))
    }

    /// One article.
    pub fn get(&self, id: &ArticleId) -> Result<Option<Article>, StoreError> {
        self.call("reading an article", |h| h.get(id))
    }

    /// The id of the stored story with this section and headline.
    pub fn find(&self, slug: &SectionSlug, headline: &str) -> Result<Option<ArticleId>, StoreError> {
        self.call("reading the identity index", |h| h.find(slug, headline))
    }

    /// One section's metadata.
    pub fn section(&self, slug: &SectionSlug) -> Result<Option<SectionMeta>, StoreError> {
        self.call("reading a section", |h| h.section(slug))
    }

    /// Every section with at least one article, by slug.
    pub fn sections(&self) -> Result<Vec<SectionMeta>, StoreError> {
        self.call("reading sections", |h| h.sections())
    }

    /// The newest sort instant in a scope.
    pub fn newest(&self, scope: &Scope) -> Result<Option<DateTime<Utc>>, StoreError> {
        self.call("reading an index", |h| h.newest(scope))
    }

    /// A page of up to `limit` articles older than `before` (newest first).
    pub fn page(&self, scope: &Scope, before: Option<i64>, limit: usize) -> Result<Page, StoreError> {
        self.call("reading a page", |h| h.page(scope, before, limit))
    }

    /// Writes every readable article as one JSON line; what cannot be read
    /// is told to `skip` (with what is wrong) and left out.
    pub fn export(&self, out: impl Write, skip: &mut dyn FnMut(String)) -> Result<u64, StoreError> {
        self.call("exporting", |h| h.export(out, skip))
    }

    /// Reads every article and index entry; every problem is told to `problem`.
    pub fn verify(&self, problem: &mut dyn FnMut(String)) -> Result<Verified, StoreError> {
        let mut verified = self.call("verifying", |h| Ok(h.verify(problem)))?;
        for noted in self.health().damaged {
            problem(noted);
            verified.problems += 1;
        }
        Ok(verified)
    }

    /// Loads an export into this (empty) store, as stored: same ids, times and order.
    pub fn restore(&self, input: impl BufRead) -> Result<u64, StoreError> {
        self.run("restoring", true, |h| h.restore(input))
    }
}

/// Opens the store; when sled refuses it (an error or a panic) and there
/// are snapshots, they are set aside and the store is rebuilt from its log.
fn open_rebuilding(dir: &Path, cache_bytes: u64) -> Result<Handles, StoreError> {
    let open = || guarded(&format!("opening the store in {}", dir.display()), || Handles::open(dir, cache_bytes));
    match open().and_then(|r| r) {
        Err(e @ (StoreError::Locked(_) | StoreError::NewerFormat { .. })) => Err(e),
        // A full disk is no reason to doubt the snapshot.
        Err(e @ StoreError::Sled { source: sled::Error::Io(_), .. }) => Err(e),
        Err(e) => {
            let moved = files::set_aside_snapshots(dir).unwrap_or(0);
            if moved == 0 {
                return Err(e);
            }
            tracing::warn!(error = %e, "store: sled refused the store with its snapshot; rebuilding from the log");
            open().and_then(|r| r)
        }
        ok => ok,
    }
}

/// sled's handles on one opened store; [`Store`] holds the current one
/// and opens the store again when sled has failed.
struct Handles {
    db: sled::Db,
    articles: Tree,
    by_section: Tree,
    by_time: Tree,
    identity: Tree,
    sections: Tree,
    commit: Arc<durable::GroupCommit>,
}

impl Handles {
    /// Opens (or creates) the store in `dir` with a page cache of `cache_bytes`.
    fn open(dir: &Path, cache_bytes: u64) -> Result<Handles, StoreError> {
        let shown = dir.display().to_string();
        let db = sled::Config::new().path(dir).cache_capacity(cache_bytes).open().map_err(|e| match e {
            sled::Error::Io(ref io)
                if io.kind() == std::io::ErrorKind::WouldBlock || io.to_string().contains("lock") =>
            {
                StoreError::Locked(shown.clone())
            }
            e => StoreError::Sled { what: format!("opening {shown}"), source: e },
        })?;
        // sled 0.34 keeps its log, every tree's pages, in `db`: the group
        // commit fdatasyncs it (durable.rs says why).
        let log = std::fs::File::open(dir.join("db"))
            .map_err(|e| StoreError::Flush(format!("opening sled's log file in {shown}: {e}")))?;
        let tree = |name: &str| db.open_tree(name).map_err(sled_err(format!("opening tree {name}")));
        let meta = tree("meta")?;
        let found = meta.get("format").map_err(sled_err("reading the store format"))?;
        let found = found.and_then(|v| v.first().copied());
        if let Some(found) = found.filter(|&f| f > keys::STORE_FORMAT) {
            return Err(StoreError::NewerFormat { dir: shown, found, supported: keys::STORE_FORMAT });
        }
        let store = Handles {
            articles: tree("articles")?,
            by_section: tree("by_section")?,
            by_time: tree("by_time")?,
            identity: tree("identity")?,
            sections: tree("sections")?,
            commit: Arc::new(durable::GroupCommit::start(db.clone(), log)),
            db,
        };
        let upgrading = meta.get("upgrading").map_err(sled_err("reading the store format"))?;
        let upgrading = upgrading.and_then(|v| v.first().copied());
        if found != Some(keys::STORE_FORMAT) || upgrading.is_some() {
            // New, older, or an upgrade that was cut short. The format is
            // marked first, so that an older build refuses the store from
            // the first moved article on (and marked again on a resumed
            // upgrade: a crash may have kept `upgrading` and lost `format`);
            // `upgrading` is removed last.
            let from = upgrading.or(found).unwrap_or(keys::STORE_FORMAT);
            meta.insert("upgrading", &[from]).map_err(sled_err("writing the store format"))?;
            meta.insert("format", &[keys::STORE_FORMAT]).map_err(sled_err("writing the store format"))?;
            store.db.flush().map_err(sled_err("writing the store format"))?;
            if from < keys::STORE_FORMAT {
                tracing::info!(from, to = keys::STORE_FORMAT, "upgrading the store (about a minute a million stories)");
            }
            let moved = store.upgrade()?;
            if moved > 0 {
                tracing::info!(moved, from, to = keys::STORE_FORMAT, "upgraded the store");
            }
            meta.remove("upgrading").map_err(sled_err("writing the store format"))?;
            store.db.flush().map_err(sled_err("writing the store format"))?;
        }
        Ok(store)
    }

    /// Moves every article of a format 1 or 2 store from `articles` into the
    /// section index (format 3), a thousand to a transaction. Values are
    /// copied as they are (the codec reads both value formats); an article
    /// already moved is skipped, so an upgrade cut short resumes where it was.
    fn upgrade(&self) -> Result<u64, StoreError> {
        const BATCH: usize = 1000;
        let mut moved = 0;
        let mut after: Option<sled::IVec> = None;
        loop {
            let rest = match &after {
                Some(id) => self
                    .articles
                    .range::<&[u8], _>((std::ops::Bound::Excluded(id.as_ref()), std::ops::Bound::Unbounded)),
                None => self.articles.iter(),
            };
            let mut batch = Vec::with_capacity(BATCH);
            let mut last = None;
            for item in rest.take(BATCH) {
                let (id, value) = item.map_err(sled_err("reading articles to upgrade"))?;
                last = Some(id.clone());
                if keys::is_article_value(&value) {
                    let article: Article = codec::decode(&value).map_err(|source| StoreError::Codec {
                        what: format!("article {}", String::from_utf8_lossy(&id)),
                        source,
                    })?;
                    batch.push((article, value));
                }
            }
            let Some(last) = last else { return Ok(moved) };
            after = Some(last);
            let trees = (&self.articles, &self.by_section, &self.by_time);
            trees
                .transaction(|(articles, by_section, by_time)| {
                    for (article, value) in &batch {
                        place((articles, by_section, by_time), article, value)?;
                    }
                    Ok::<_, ConflictableTransactionError<StoreError>>(())
                })
                .map_err(|e| match e {
                    TransactionError::Abort(e) => e,
                    TransactionError::Storage(e) => StoreError::Sled { what: "upgrading the store".into(), source: e },
                })?;
            moved += batch.len() as u64;
            if moved / 100_000 > (moved - batch.len() as u64) / 100_000 {
                tracing::info!(moved, "upgrading the store");
            }
        }
    }

    /// Whether the store holds no article.
    pub fn is_empty(&self) -> bool {
        self.articles.is_empty()
    }

    /// Blocks until every write so far is on disk; concurrent callers share one flush.
    pub fn sync(&self) -> Result<(), StoreError> {
        self.commit.sync().map_err(|f| match f {
            f if f.no_space => StoreError::NoSpace(f.detail),
            f if f.timed_out => StoreError::FlushTimeout(f.detail),
            f => StoreError::Flush(f.detail),
        })
    }

    /// Group-commit flushes done since the store was opened.
    pub fn flushes(&self) -> u64 {
        self.commit.flushes()
    }

    /// Flushes and stops the flusher: call before exit.
    pub fn close(&self) -> Result<(), StoreError> {
        let result = self.db.flush().map_err(sled_err("flushing on close"));
        self.commit.close();
        result.map(|_| ())
    }

    /// Bytes on disk.
    pub fn size_on_disk(&self) -> u64 {
        self.db.size_on_disk().unwrap_or(0)
    }

    /// Stores a story. `draft.id` and `draft.order` are assigned here: a new
    /// story gets a readable id (with a suffix on collision), an update keeps
    /// the stored id and publication time. Not yet durable: call [`Store::sync`].
    pub fn put(&self, draft: Article) -> Result<Put, StoreError> {
        let order = self.db.generate_id().map_err(sled_err("generating an order"))?;
        let identity_key = keys::identity(&draft.section.slug, &draft.headline);
        let trees = (&self.articles, &self.by_section, &self.by_time, &self.identity, &self.sections);
        let result = trees.transaction(|(articles, by_section, by_time, identity, sections)| {
            let abort = |e: StoreError| ConflictableTransactionError::Abort(e);
            let decode_article = |bytes: &[u8], id: &str| {
                codec::decode::<Article>(bytes)
                    .map_err(|source| abort(StoreError::Codec { what: format!("article {id}"), source }))
            };
            let mut article = draft.clone();
            article.order = order;
            let old = match identity.get(&identity_key)? {
                Some(id_bytes) => match articles.get(&id_bytes)? {
                    Some(pointer) => match by_section.get(keys::entry_of_id(&id_bytes, &pointer))? {
                        Some(bytes) => Some(decode_article(&bytes, &String::from_utf8_lossy(&id_bytes))?),
                        None => None,
                    },
                    None => None,
                },
                None => None,
            };
            let slug = &article.section.slug;
            if let Some(old) = &old {
                if old.source_hash == article.source_hash {
                    return Ok(Put::Unchanged(old.clone()));
                }
                if article.effective() < old.effective() {
                    return Ok(Put::Stale(old.clone()));
                }
                article.id = old.id.clone();
                article.updated = Some(article.effective());
                article.published = old.published;
                article.date_only = old.date_only;
                let old_micros = old.sort_instant().timestamp_micros();
                by_section.remove(keys::section_entry(slug, old_micros, &old.id))?;
                by_time.remove(keys::time_entry(old_micros, &old.id))?;
            } else {
                let date = article.published.date_naive();
                let mut attempt = 1;
                article.id = loop {
                    let id = ArticleId::for_story(date, &article.headline, attempt);
                    if articles.get(id.as_str().as_bytes())?.is_none() {
                        break id;
                    }
                    attempt += 1;
                };
            }
            write_entries((articles, by_section, by_time, identity, sections), &article, old.is_none())?;
            Ok(match old {
                Some(old) => Put::Updated { article, old: Box::new(old) },
                None => Put::Created(article),
            })
        });
        result.map_err(|e| match e {
            TransactionError::Abort(e) => e,
            TransactionError::Storage(e) => StoreError::Sled { what: "writing an article".into(), source: e },
        })
    }

    /// Retracts an article from every index. Not yet durable: call [`Store::sync`].
    pub fn delete(&self, id: &ArticleId) -> Result<Option<Article>, StoreError> {
        let trees = (&self.articles, &self.by_section, &self.by_time, &self.identity, &self.sections);
        let result = trees.transaction(|(articles, by_section, by_time, identity, sections)| {
            let Some(pointer) = articles.remove(id.as_str().as_bytes())? else {
                return Ok(None);
            };
            let Some(bytes) = by_section.remove(keys::entry_of_id(id.as_str().as_bytes(), &pointer))? else {
                return Ok(None);
            };
            let article: Article = codec::decode(&bytes).map_err(|source| {
                ConflictableTransactionError::Abort(StoreError::Codec { what: format!("article {id}"), source })
            })?;
            let slug = &article.section.slug;
            by_time.remove(keys::time_entry(article.sort_instant().timestamp_micros(), id))?;
            identity.remove(keys::identity(slug, &article.headline))?;
            if let Some(bytes) = sections.get(slug.as_str().as_bytes())? {
                if let Ok(mut meta) = codec::decode::<SectionMeta>(&bytes) {
                    meta.count = meta.count.saturating_sub(1);
                    sections.insert(slug.as_str().as_bytes(), codec::encode(&meta))?;
                }
            }
            Ok(Some(article))
        });
        let deleted = result.map_err(|e| match e {
            TransactionError::Abort(e) => e,
            TransactionError::Storage(e) => StoreError::Sled { what: format!("deleting {id}"), source: e },
        })?;
        if let Some(article) = &deleted {
            self.refresh_newest(&article.section.slug)?;
        }
        Ok(deleted)
    }

    /// Sets a section's newest time from its index (after a delete).
    fn refresh_newest(&self, slug: &SectionSlug) -> Result<(), StoreError> {
        let prefix = keys::section_prefix(slug);
        let newest = self
            .by_section
            .scan_prefix(&prefix)
            .next_back()
            .transpose()
            .map_err(sled_err(format!("reading section {slug}")))?
            .and_then(|(k, _)| keys::split_entry(&k, prefix.len()))
            .and_then(|(micros, _)| DateTime::from_timestamp_micros(micros));
        self.sections
            .fetch_and_update(slug.as_str().as_bytes(), |bytes| {
                let mut meta: SectionMeta = codec::decode(bytes?).ok()?;
                meta.newest = newest;
                Some(codec::encode(&meta))
            })
            .map_err(sled_err(format!("updating section {slug}")))?;
        Ok(())
    }

    /// One article.
    pub fn get(&self, id: &ArticleId) -> Result<Option<Article>, StoreError> {
        let Some(pointer) = self.articles.get(id.as_str().as_bytes()).map_err(sled_err(format!("reading {id}")))?
        else {
            return Ok(None);
        };
        self.at(&keys::entry_of_id(id.as_str().as_bytes(), &pointer))
    }

    /// The article at a section-index key.
    fn at(&self, key: &[u8]) -> Result<Option<Article>, StoreError> {
        match self.by_section.get(key).map_err(sled_err("reading an article"))? {
            Some(bytes) => decode_at(key, &bytes).map(Some),
            None => Ok(None),
        }
    }

    /// The id of the stored story with this section and headline.
    pub fn find(&self, slug: &SectionSlug, headline: &str) -> Result<Option<ArticleId>, StoreError> {
        let found =
            self.identity.get(keys::identity(slug, headline)).map_err(sled_err("reading the identity index"))?;
        Ok(found.and_then(|id| ArticleId::parse(std::str::from_utf8(&id).ok()?)))
    }

    /// One section's metadata.
    pub fn section(&self, slug: &SectionSlug) -> Result<Option<SectionMeta>, StoreError> {
        let Some(bytes) =
            self.sections.get(slug.as_str().as_bytes()).map_err(sled_err(format!("reading section {slug}")))?
        else {
            return Ok(None);
        };
        codec::decode(&bytes).map(Some).map_err(|source| StoreError::Codec { what: format!("section {slug}"), source })
    }

    /// Every section with at least one article, by slug. (Sections are few:
    /// this reads the small `sections` tree, not the articles.)
    pub fn sections(&self) -> Result<Vec<SectionMeta>, StoreError> {
        let mut out = Vec::new();
        for item in self.sections.iter() {
            let (slug, bytes) = item.map_err(sled_err("reading sections"))?;
            let meta: SectionMeta = codec::decode(&bytes).map_err(|source| StoreError::Codec {
                what: format!("section {}", String::from_utf8_lossy(&slug)),
                source,
            })?;
            if meta.count > 0 {
                out.push(meta);
            }
        }
        Ok(out)
    }

    /// The newest sort instant in a scope.
    pub fn newest(&self, scope: &Scope) -> Result<Option<DateTime<Utc>>, StoreError> {
        let (tree, prefix) = self.index(scope);
        let last = tree.scan_prefix(&prefix).next_back().transpose().map_err(sled_err("reading an index"))?;
        Ok(last
            .and_then(|(k, _)| keys::split_entry(&k, prefix.len()))
            .and_then(|(micros, _)| DateTime::from_timestamp_micros(micros)))
    }

    fn index(&self, scope: &Scope) -> (&Tree, Vec<u8>) {
        match scope {
            Scope::All => (&self.by_time, Vec::new()),
            Scope::Section(slug) => (&self.by_section, keys::section_prefix(slug)),
        }
    }

    /// A page of up to `limit` articles older than `before` (newest first).
    pub fn page(&self, scope: &Scope, before: Option<i64>, limit: usize) -> Result<Page, StoreError> {
        let (tree, prefix) = self.index(scope);
        let bound = |micros: i64| {
            let mut key = prefix.clone();
            key.extend_from_slice(&keys::time_bytes(micros));
            key
        };
        let older: Box<dyn DoubleEndedIterator<Item = sled::Result<(sled::IVec, sled::IVec)>>> = match before {
            Some(micros) => Box::new(tree.range(prefix.clone()..bound(micros))),
            None => Box::new(tree.scan_prefix(&prefix)),
        };
        // A section's entries hold its articles; the all-sections index
        // points into the section index.
        let mut entries = Vec::with_capacity(limit + 1);
        for item in older.rev().take(limit + 1) {
            let (key, value) = item.map_err(sled_err("reading an index"))?;
            if let Some((micros, _)) = keys::split_entry(&key, prefix.len()) {
                entries.push((micros, key, value));
            }
        }
        let next = if entries.len() > limit {
            entries.truncate(limit);
            entries.last().map(|(micros, ..)| *micros)
        } else {
            None
        };
        let prev = match before {
            None => None,
            Some(micros) => {
                // Stop at the end of the scope: reading on into the next
                // section's keys would make a page cost what the store costs.
                let mut newer = tree
                    .range(bound(micros)..)
                    .take_while(|item| item.as_ref().map_or(true, |(k, _)| k.starts_with(&prefix)));
                match newer.nth(limit) {
                    Some(item) => {
                        let (key, _) = item.map_err(sled_err("reading an index"))?;
                        Some(keys::split_entry(&key, prefix.len()).map(|(m, _)| m))
                    }
                    None => Some(None),
                }
            }
        };
        let mut articles = Vec::with_capacity(entries.len());
        for (_, key, value) in entries {
            match scope {
                Scope::Section(_) => articles.push(decode_at(&key, &value)?),
                // An index entry whose article is gone would be a bug; skip it rather than fail a page.
                Scope::All => articles.extend(self.at(&keys::entry_of_time(&key, &value))?),
            }
        }
        Ok(Page { articles, next, prev })
    }

    /// Writes every readable article as one JSON line, in id order, then
    /// the articles of the section index that no id points to. What cannot
    /// be read is told to `skip` and left out.
    pub fn export(&self, mut out: impl Write, skip: &mut dyn FnMut(String)) -> Result<u64, StoreError> {
        let mut n = 0;
        let mut write = |out: &mut dyn Write, article: &Article| -> Result<(), StoreError> {
            serde_json::to_writer(&mut *out, article).map_err(std::io::Error::from)?;
            out.write_all(b"\n")?;
            n += 1;
            Ok(())
        };
        let mut ids = self.articles.iter();
        loop {
            let (id, pointer) = match guarded("reading the article ids", || ids.next()) {
                Ok(None) => break,
                Ok(Some(Ok(item))) => item,
                Ok(Some(Err(e))) => {
                    skip(format!("reading the article ids: {e}; the rest of the ids are unreadable"));
                    break;
                }
                Err(e) => {
                    skip(format!("{e}; the rest of the ids are unreadable"));
                    break;
                }
            };
            let shown = String::from_utf8_lossy(&id).into_owned();
            match guarded("reading an article", || self.at(&keys::entry_of_id(&id, &pointer))).and_then(|r| r) {
                Ok(Some(article)) => write(&mut out, &article)?,
                Ok(None) => skip(format!("article {shown}: missing from its section's index")),
                Err(e) => skip(format!("article {shown}: {e}")),
            }
        }
        let mut entries = self.by_section.iter();
        loop {
            let (key, value) = match guarded("reading the section index", || entries.next()) {
                Ok(None) => break,
                Ok(Some(Ok(item))) => item,
                Ok(Some(Err(e))) => {
                    skip(format!("reading the section index: {e}; the rest of it is unreadable"));
                    break;
                }
                Err(e) => {
                    skip(format!("{e}; the rest of the section index is unreadable"));
                    break;
                }
            };
            let id = keys::entry_id(&key);
            let pointed = guarded("reading an article id", || self.articles.get(id.as_bytes()).ok().flatten())
                .ok()
                .flatten()
                .is_some_and(|pointer| keys::entry_of_id(id.as_bytes(), &pointer) == key.as_ref());
            if pointed {
                continue;
            }
            match decode_at(&key, &value) {
                Ok(article) => write(&mut out, &article)?,
                Err(e) => skip(format!("article {id} (no id points to it): {e}")),
            }
        }
        out.flush()?;
        Ok(n)
    }

    /// Reads every article and index entry and checks that each points
    /// where it should; every problem is told to `problem`.
    pub fn verify(&self, problem: &mut dyn FnMut(String)) -> Verified {
        let mut done = Verified::default();
        let mut per_section: BTreeMap<Vec<u8>, u64> = BTreeMap::new();
        let mut report = |done: &mut Verified, text: String| {
            done.problems += 1;
            problem(text);
        };
        // Every tree is walked the same way: an unreadable stretch ends the walk of that tree.
        let mut walk = |tree: &Tree,
                        name: &str,
                        done: &mut Verified,
                        check: &mut dyn FnMut(&mut Verified, sled::IVec, sled::IVec)| {
            let mut items = tree.iter();
            loop {
                match guarded("reading", || items.next()) {
                    Ok(None) => break,
                    Ok(Some(Ok((k, v)))) => {
                        done.entries += 1;
                        check(done, k, v);
                    }
                    Ok(Some(Err(e))) => {
                        report(done, format!("{name}: unreadable from here on: {e}"));
                        break;
                    }
                    Err(e) => {
                        report(done, format!("{name}: unreadable from here on: {e}"));
                        break;
                    }
                }
            }
        };
        let mut problems = Vec::new();
        walk(&self.by_section, "section index", &mut done, &mut |done, key, value| {
            let id = keys::entry_id(&key);
            let Some(slug_end) = key.iter().position(|&b| b == 0) else {
                problems.push(format!("section index: a key without a section: {:?}", String::from_utf8_lossy(&key)));
                return;
            };
            match guarded("decoding an article", || decode_at(&key, &value)) {
                Ok(_) => {
                    done.articles += 1;
                    *per_section.entry(key[..slug_end].to_vec()).or_default() += 1;
                }
                Err(e) => problems.push(format!("article {id}: {e}")),
            }
            let pointer = guarded("reading an id", || self.articles.get(id.as_bytes()).ok().flatten()).ok().flatten();
            if pointer.is_none_or(|p| keys::entry_of_id(id.as_bytes(), &p) != key.as_ref()) {
                problems.push(format!("article {id}: no id entry points to it (it is left out of lookups by id)"));
            }
            if let Some((micros, parsed)) = keys::split_entry(&key, slug_end + 1) {
                let in_time = guarded("reading the time index", || {
                    self.by_time.contains_key(keys::time_entry(micros, &parsed)).unwrap_or(false)
                });
                if !matches!(in_time, Ok(true)) {
                    problems.push(format!("article {id}: missing from the all-sections index"));
                }
            }
        });
        walk(&self.articles, "article ids", &mut done, &mut |_, id, pointer| {
            let key = keys::entry_of_id(&id, &pointer);
            if !matches!(
                guarded("reading the section index", || self.by_section.contains_key(&key).unwrap_or(false)),
                Ok(true)
            ) {
                problems.push(format!(
                    "article {}: its id points to nothing (the article is lost)",
                    String::from_utf8_lossy(&id)
                ));
            }
        });
        walk(&self.by_time, "all-sections index", &mut done, &mut |_, key, slug| {
            let entry = keys::entry_of_time(&key, &slug);
            if !matches!(
                guarded("reading the section index", || self.by_section.contains_key(&entry).unwrap_or(false)),
                Ok(true)
            ) {
                problems.push(format!("all-sections index: entry for {} points to no article", keys::entry_id(&entry)));
            }
        });
        walk(&self.identity, "identity index", &mut done, &mut |_, _, id| {
            if !matches!(
                guarded("reading the article ids", || self.articles.contains_key(&id).unwrap_or(false)),
                Ok(true)
            ) {
                problems.push(format!(
                    "identity index: points to article {} that is not there",
                    String::from_utf8_lossy(&id)
                ));
            }
        });
        walk(&self.sections, "sections", &mut done, &mut |_, slug, bytes| match codec::decode::<SectionMeta>(&bytes) {
            Ok(meta) => {
                let found = per_section.get(slug.as_ref()).copied().unwrap_or(0);
                if meta.count != found {
                    problems.push(format!(
                        "section {}: counts {} articles, its index holds {found} readable ones",
                        String::from_utf8_lossy(&slug),
                        meta.count
                    ));
                }
            }
            Err(e) => problems.push(format!("section {}: {e}", String::from_utf8_lossy(&slug))),
        });
        for text in problems {
            report(&mut done, text);
        }
        done
    }

    /// Loads an export into this (empty) store, as stored: same ids, times and order.
    pub fn restore(&self, input: impl BufRead) -> Result<u64, StoreError> {
        if !self.is_empty() {
            return Err(StoreError::NotEmpty);
        }
        let mut n = 0;
        for (i, line) in input.lines().enumerate() {
            let line = line?;
            if line.trim().is_empty() {
                continue;
            }
            let article: Article = serde_json::from_str(&line)
                .map_err(|e| StoreError::BadBackup { line: i + 1, detail: e.to_string() })?;
            self.insert_exact(&article)?;
            n += 1;
        }
        self.db.flush().map_err(sled_err("flushing the restore"))?;
        Ok(n)
    }

    /// Inserts an article exactly as given (restore).
    fn insert_exact(&self, article: &Article) -> Result<(), StoreError> {
        let trees = (&self.articles, &self.by_section, &self.by_time, &self.identity, &self.sections);
        trees.transaction(|(a, s, t, i, m)| write_entries((a, s, t, i, m), article, true)).map_err(|e| match e {
            TransactionError::Abort(e) => e,
            TransactionError::Storage(e) => StoreError::Sled { what: format!("restoring {}", article.id), source: e },
        })?;
        // Keep the order counter ahead of every restored order.
        while self.db.generate_id().map_err(sled_err("advancing the order counter"))? < article.order {}
        Ok(())
    }
}

/// Decodes the article stored at a section-index key.
fn decode_at(key: &[u8], bytes: &[u8]) -> Result<Article, StoreError> {
    codec::decode(bytes)
        .map_err(|source| StoreError::Codec { what: format!("article {}", keys::entry_id(key)), source })
}

/// The five trees as one transaction sees them.
type Trees<'a> =
    (&'a TransactionalTree, &'a TransactionalTree, &'a TransactionalTree, &'a TransactionalTree, &'a TransactionalTree);

/// Writes an article's stored bytes (`value`) at its section-index entry, and
/// the two entries that point to it: the one place that knows the layout of
/// the three trees (shared by `write_entries` and the upgrade).
fn place(
    (articles, by_section, by_time): (&TransactionalTree, &TransactionalTree, &TransactionalTree),
    article: &Article,
    value: &[u8],
) -> Result<(), UnabortableTransactionError> {
    let slug = &article.section.slug;
    let micros = article.sort_instant().timestamp_micros();
    by_section.insert(keys::section_entry(slug, micros, &article.id), value)?;
    articles.insert(article.id.as_str().as_bytes(), keys::section_bound(slug, micros))?;
    by_time.insert(keys::time_entry(micros, &article.id), slug.as_str().as_bytes())?;
    Ok(())
}

/// Writes an article with its index entries, identity key and section
/// metadata (`is_new` counts it in its section): shared by `put` and `restore`.
fn write_entries(
    (articles, by_section, by_time, identity, sections): Trees<'_>,
    article: &Article,
    is_new: bool,
) -> Result<(), ConflictableTransactionError<StoreError>> {
    let slug = &article.section.slug;
    place((articles, by_section, by_time), article, &codec::encode(article))?;
    identity.insert(keys::identity(slug, &article.headline), article.id.as_str().as_bytes())?;
    let mut meta = match sections.get(slug.as_str().as_bytes())? {
        Some(bytes) => codec::decode::<SectionMeta>(&bytes).map_err(|source| {
            ConflictableTransactionError::Abort(StoreError::Codec { what: format!("section {slug}"), source })
        })?,
        None => SectionMeta { section: article.section.clone(), count: 0, newest: None },
    };
    if is_new {
        meta.count += 1;
    }
    meta.newest = meta.newest.max(Some(article.sort_instant()));
    sections.insert(slug.as_str().as_bytes(), codec::encode(&meta))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_store_of_a_newer_format_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        {
            let db = sled::open(dir.path()).unwrap();
            db.open_tree("meta").unwrap().insert("format", &[keys::STORE_FORMAT + 1]).unwrap();
            db.flush().unwrap();
        }
        let err = reopen(dir.path()).err().expect("refused");
        assert!(matches!(err, StoreError::NewerFormat { .. }), "{err}");
        assert!(err.to_string().contains("upgrade wirefeed"));
    }

    /// Opens a store that the test has just written, with sled directly or
    /// through a `Store` now dropped: sled's own threads let go of the
    /// directory lock a moment after the `Db` is dropped.
    fn reopen(dir: &Path) -> Result<Handles, StoreError> {
        for _ in 0..100 {
            match Handles::open(dir, 1 << 20) {
                Err(StoreError::Locked(_)) => std::thread::sleep(std::time::Duration::from_millis(50)),
                other => return other,
            }
        }
        Handles::open(dir, 1 << 20)
    }

    fn article(id: &str, section: &str, second: u32) -> Article {
        use chrono::TimeZone;
        let published = Utc.with_ymd_and_hms(2016, 7, 26, 20, 33, second).unwrap();
        Article {
            id: ArticleId::parse(id).unwrap(),
            section: Section::from_name(section).unwrap(),
            headline: format!("Headline of {id}"),
            paragraphs: vec![format!("Text of {id}.")],
            authors: Vec::new(),
            dateline: None,
            related: Vec::new(),
            published,
            date_only: false,
            updated: None,
            received: published,
            time_source: crate::domain::TimeSource::Parsed,
            order: 0,
            source_hash: format!("hash of {id}"),
        }
    }

    #[test]
    fn an_update_moves_the_index_entries_and_a_delete_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = Handles::open(dir.path(), 1 << 20).unwrap();
        let first = store.put(article("2016-07-26-a", "World", 1)).unwrap().article().clone();
        let mut newer = article("2016-07-26-a", "World", 30);
        newer.source_hash = "changed".into();
        let Put::Updated { article, .. } = store.put(newer).unwrap() else { panic!("not an update") };
        assert_eq!(article.id, first.id);
        assert_eq!((store.articles.len(), store.by_section.len(), store.by_time.len()), (1, 1, 1));
        assert_eq!(store.get(&first.id).unwrap().unwrap().source_hash, "changed");
        let world = Scope::Section(first.section.slug.clone());
        let page = store.page(&world, None, 10).unwrap();
        assert_eq!(page.articles.len(), 1);
        assert_eq!(page.articles[0].source_hash, "changed", "a page shows the new version");
        assert_eq!(store.delete(&first.id).unwrap().unwrap().source_hash, "changed");
        for tree in [&store.articles, &store.by_section, &store.by_time, &store.identity] {
            assert!(tree.is_empty());
        }
        assert_eq!(store.section(&first.section.slug).unwrap().unwrap().count, 0);
    }

    /// Writes articles as formats 1 and 2 laid them out: values by id in
    /// `articles`, empty index entries; `upgrading` as an upgrade cut short
    /// after the first article left it.
    fn write_old_layout(dir: &Path, format: u8, stored: &[Article], cut_short: bool) {
        let db = sled::open(dir).unwrap();
        let tree = |name: &str| db.open_tree(name).unwrap();
        for (i, a) in stored.iter().enumerate() {
            let micros = a.sort_instant().timestamp_micros();
            let key = keys::section_entry(&a.section.slug, micros, &a.id);
            let value = if format == 1 { codec::encode_plain(a) } else { codec::encode(a) };
            if cut_short && i == 0 {
                tree("by_section").insert(&key, value).unwrap();
                tree("articles").insert(a.id.as_str(), keys::section_bound(&a.section.slug, micros)).unwrap();
                tree("by_time").insert(keys::time_entry(micros, &a.id), a.section.slug.as_str()).unwrap();
            } else {
                tree("articles").insert(a.id.as_str(), value).unwrap();
                tree("by_section").insert(key, &[]).unwrap();
                tree("by_time").insert(keys::time_entry(micros, &a.id), &[]).unwrap();
            }
            tree("identity").insert(keys::identity(&a.section.slug, &a.headline), a.id.as_str()).unwrap();
        }
        let meta = tree("meta");
        // A crash may keep `upgrading` and lose the `format` written with it.
        meta.insert("format", &[format]).unwrap();
        if cut_short {
            meta.insert("upgrading", &[format]).unwrap();
        }
        db.flush().unwrap();
    }

    #[test]
    fn stores_of_formats_1_and_2_are_upgraded_even_when_an_upgrade_was_cut_short() {
        for (format, cut_short) in [(1, false), (2, false), (2, true)] {
            let dir = tempfile::tempdir().unwrap();
            // More than one batch of the upgrade, in two sections.
            let stored: Vec<Article> = (0..2_500)
                .map(|i| {
                    let mut a = article(&format!("2016-07-26-story-{i}"), ["World", "Sport"][i % 2], (i % 60) as u32);
                    a.order = i as u64;
                    a
                })
                .collect();
            write_old_layout(dir.path(), format, &stored, cut_short);
            let store = reopen(dir.path()).unwrap();
            let case = format!("format {format}, cut short: {cut_short}");
            let meta = store.db.open_tree("meta").unwrap();
            assert_eq!(meta.get("format").unwrap().unwrap().as_ref(), [keys::STORE_FORMAT], "{case}");
            assert!(meta.get("upgrading").unwrap().is_none(), "{case}");
            assert!(store.articles.iter().values().all(|v| !keys::is_article_value(&v.unwrap())), "{case}");
            assert_eq!((store.articles.len(), store.by_section.len(), store.by_time.len()), (2_500, 2_500, 2_500));
            for a in [&stored[0], &stored[1], &stored[2_499]] {
                assert_eq!(store.get(&a.id).unwrap().as_ref(), Some(a), "{case}");
            }
            let world = Scope::Section(stored[0].section.slug.clone());
            let page = store.page(&world, None, 10).unwrap();
            let mut newest: Vec<&Article> = stored.iter().filter(|a| a.section == stored[0].section).collect();
            newest.sort_by_key(|a| std::cmp::Reverse(a.sort_instant()));
            assert_eq!(page.articles.iter().collect::<Vec<_>>(), newest[..10], "{case}");
            assert_eq!(store.page(&Scope::All, None, 3).unwrap().articles.len(), 3, "{case}");
            // An upgraded store is updated and deleted from like any other.
            assert_eq!(store.delete(&stored[0].id).unwrap().as_ref(), Some(&stored[0]), "{case}");
            assert_eq!((store.articles.len(), store.by_section.len(), store.by_time.len()), (2_499, 2_499, 2_499));
        }
    }

    /// Thousands of entries: sled splits leaves (by size, with the vendored
    /// patch) and merges them again after a run of deletes; every index
    /// still pages through in order after a reopen.
    #[test]
    fn thousands_of_stories_page_in_order_after_splits_merges_and_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let sections = ["World", "Sport", "Business"];
        let base = article("2016-07-26-x", "World", 0).published;
        let mut kept: Vec<Article> = Vec::new();
        {
            let store = Handles::open(dir.path(), 1 << 20).unwrap();
            for i in 0..3_000 {
                let mut a = article(&format!("2016-07-26-story-{i}"), sections[i % 3], 0);
                a.published = base + chrono::Duration::seconds(i as i64 * 7);
                a.received = a.published;
                a.headline = format!("Story number {i}");
                let stored = store.put(a).unwrap().article().clone();
                kept.push(stored);
            }
            // A run of deletes empties whole leaves (sled merges them), and
            // scattered ones thin the rest.
            kept.retain(|a| {
                let i: usize = a.id.as_str().rsplit('-').next().unwrap().parse().unwrap();
                let gone = (1_000..1_600).contains(&i) || i.is_multiple_of(7);
                if gone {
                    store.delete(&a.id).unwrap().expect("was stored");
                }
                !gone
            });
            store.close().unwrap();
        }
        let store = reopen(dir.path()).unwrap();
        let newest_first = |of: &dyn Fn(&Article) -> bool| {
            let mut ids: Vec<_> = kept.iter().filter(|a| of(a)).collect();
            ids.sort_by_key(|a| std::cmp::Reverse(a.sort_instant()));
            ids.into_iter().map(|a| a.id.clone()).collect::<Vec<_>>()
        };
        let paged = |scope: &Scope| {
            let (mut ids, mut before) = (Vec::new(), None);
            loop {
                let page = store.page(scope, before, 50).unwrap();
                ids.extend(page.articles.iter().map(|a| a.id.clone()));
                match page.next {
                    Some(cursor) => before = Some(cursor),
                    None => return ids,
                }
            }
        };
        assert_eq!(paged(&Scope::All), newest_first(&|_| true));
        for name in sections {
            let slug = Section::from_name(name).unwrap().slug;
            let expected = newest_first(&|a| a.section.slug == slug);
            assert_eq!(store.section(&slug).unwrap().unwrap().count as usize, expected.len());
            assert_eq!(paged(&Scope::Section(slug)), expected, "{name}");
        }
        assert_eq!(store.articles.len(), kept.len());
        assert_eq!(store.identity.len(), kept.len());
    }

    #[test]
    fn a_second_open_of_the_same_directory_says_it_is_in_use() {
        let dir = tempfile::tempdir().unwrap();
        let _first = Handles::open(dir.path(), 1 << 20).unwrap();
        let err = Handles::open(dir.path(), 1 << 20).err().expect("refused");
        assert!(matches!(err, StoreError::Locked(_)), "{err}");
    }
}
