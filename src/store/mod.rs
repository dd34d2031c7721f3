//! The sled store: articles in a per-section index, an all-sections index
//! and ids pointing into it, both indexes newest-first by reverse prefix scan,
//! per-section metadata, and when each section (and the whole store) last
//! changed.
//!
//! Key bytes and the layout live in [`keys`], value bytes in [`codec`]. Every
//! write that touches an article and its index entries is one sled
//! transaction; a write is acknowledged only after [`Store::sync`] has put it
//! on disk (group commit, `durable`). Reads cost what the page costs: a
//! section's page is one range scan of `limit` neighbouring entries, the
//! all-sections page a scan and one `get` per article; never a whole-store scan.
//!
//! Two guarantees readers rely on are kept here, where every write passes:
//! - **No two stories share a sort instant** (its second, plus a microsecond
//!   slot claimed by [`Store::admit`]), so a `before=` cursor never skips one.
//! - **Every write moves its scopes' "changed at" instant forward**
//!   ([`Store::changed`]): documents are dated by it (`Last-Modified`, a
//!   feed's own `updated`), so a reader polling with `If-Modified-Since`
//!   sees updates and deletes, not only new stories.

pub mod codec;
mod durable;
mod embargo;
mod gate;
mod kill;
pub mod subscribers;
mod visible;

pub use durable::SyncHook;
pub use gate::{Admitted, Released};
pub use kill::Tombstone;
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
use serde::Serialize;
use sled::transaction::{
    ConflictableTransactionError, TransactionError, Transactional, TransactionalTree, UnabortableTransactionError,
};
use sled::Tree;

use crate::domain::{Article, ArticleId, Listing, Page, SectionMeta, SectionSlug, Visible};

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// Another process holds the data directory.
    #[error("the data directory {0} is in use by another wirefeed process (a running server?); stop it or use another --data-dir")]
    Locked(String),
    /// The store was written by a pre-release build of another layout.
    #[error("the data directory {dir} holds store format {found}, written by a pre-release build; this build reads format {supported}: export it with the build that wrote it and `wirefeed restore` the export into an empty directory")]
    OlderFormat { dir: String, found: u8, supported: u8 },
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
    /// Every microsecond slot of one second holds a story already.
    #[error("store: a million stories already have the time {0}")]
    SecondFull(DateTime<Utc>),
}

fn sled_err(what: impl Into<String>) -> impl FnOnce(sled::Error) -> StoreError {
    let what = what.into();
    move |source| StoreError::Sled { what, source }
}

/// A transaction's error: what it aborted with, or sled's failure doing `what`.
fn tx_err(what: impl Into<String>) -> impl FnOnce(TransactionError<StoreError>) -> StoreError {
    let what = what.into();
    move |e| match e {
        TransactionError::Abort(e) => e,
        TransactionError::Storage(source) => StoreError::Sled { what, source },
    }
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
    /// Embargoed: stored, and invisible until its release time.
    Held(Article),
}

impl Put {
    pub fn article(&self) -> &Article {
        match self {
            Put::Created(a) | Put::Unchanged(a) | Put::Stale(a) | Put::Held(a) => a,
            Put::Updated { article, .. } => article,
        }
    }

    pub fn outcome(&self) -> &'static str {
        match self {
            Put::Created(_) => "created",
            Put::Updated { .. } => "updated",
            Put::Unchanged(_) => "unchanged",
            Put::Stale(_) => "stale",
            Put::Held(_) => "embargoed",
        }
    }
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

/// Walks `tree` with every step [`guarded`]: the walk stops at the first
/// unreadable stretch and says why (`Some`), or ends (`None`). `each` may
/// stop it with an error of its own.
fn walk_guarded(
    tree: &Tree,
    mut each: impl FnMut(sled::IVec, sled::IVec) -> Result<(), StoreError>,
) -> Result<Option<String>, StoreError> {
    let mut items = tree.iter();
    loop {
        match guarded("reading", || items.next()) {
            Ok(None) => return Ok(None),
            Ok(Some(Ok((key, value)))) => each(key, value)?,
            Ok(Some(Err(e))) => return Ok(Some(e.to_string())),
            Err(e) => return Ok(Some(e.to_string())),
        }
    }
}

/// Moves the store's files in `dir` aside (into `set-aside/store-<time>/`,
/// never deleted) so that a new store can be made; returns where they went.
/// Call with no store open on `dir`.
pub fn set_aside(dir: &Path) -> Result<PathBuf, StoreError> {
    Ok(files::set_aside_store(dir)?)
}

/// Key in the `meta` tree of the last archive record applied.
const APPLIED: &str = "archive-applied";

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
    /// Synced by every flush with the store (the archive).
    also_sync: Mutex<Option<SyncHook>>,
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
                also_sync: Mutex::new(None),
            }),
        })
    }

    /// Refuses writes while the data directory has fewer than `bytes` free.
    pub fn set_min_free(&self, bytes: u64) {
        self.shared.min_free.store(bytes, Ordering::Relaxed);
    }

    /// Refuses a story that would make a section beyond `limit`.
    pub fn set_max_sections(&self, limit: u64) {
        self.shared.max_sections.store(limit, Ordering::Relaxed);
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
                    handles.commit.set_also(shared.also_sync.lock().unwrap_or_else(|e| e.into_inner()).clone());
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
        let hook = self.shared.also_sync.lock().unwrap_or_else(|e| e.into_inner()).clone();
        if let Some(sync) = hook {
            sync().map_err(|e| StoreError::Flush(format!("flushing on close: {e}")))?;
        }
        files::record_log_size(&self.shared.dir)?;
        Ok(())
    }

    /// Syncs `hook` in every group commit, after the store: a write is
    /// acknowledged only when both are on disk.
    pub fn sync_also(&self, hook: SyncHook) {
        *self.shared.also_sync.lock().unwrap_or_else(|e| e.into_inner()) = Some(Arc::clone(&hook));
        if let Ok(h) = self.handles() {
            h.commit.set_also(Some(hook));
        }
    }

    /// The sequence number of the last archive record applied to this
    /// store (`None`: none noted, e.g. a new or emptied store).
    pub fn applied(&self) -> Result<Option<u64>, StoreError> {
        self.call("reading the store's archive position", |h| {
            let v = h.meta.get(APPLIED).map_err(sled_err("reading the store's archive position"))?;
            Ok(v.and_then(|v| v.as_ref().try_into().ok()).map(u64::from_be_bytes))
        })
    }

    /// Notes that archive record `seq` is applied. Not yet durable: call [`Store::sync`].
    pub fn set_applied(&self, seq: u64) -> Result<(), StoreError> {
        self.run("noting the store's archive position", true, |h| {
            h.meta.insert(APPLIED, &seq.to_be_bytes()).map_err(sled_err("noting the store's archive position"))?;
            Ok(())
        })
    }

    /// Loads one exported article as stored (see [`Store::restore`]).
    pub fn restore_one(&self, article: &Article) -> Result<(), StoreError> {
        self.run("restoring", true, |h| h.restore_one(article))
    }

    /// Bytes on disk.
    pub fn size_on_disk(&self) -> u64 {
        self.call("reading the store size", |h| Ok(h.size_on_disk())).unwrap_or(0)
    }

    /// Retracts an article from every index. Not yet durable: call [`Store::sync`].
    pub fn delete(&self, id: &ArticleId) -> Result<Option<Article>, StoreError> {
        self.run("deleting an article", true, |h| h.delete(id))
    }

    /// Takes an import's story through the gate: refused when killed
    /// (unless `restore`), replacing a held copy, held when embargoed, else
    /// stored (see `gate`). Refused when space is short. Not yet durable:
    /// call [`Store::sync`].
    pub fn admit(&self, draft: &Article, restore: bool) -> Result<Admitted, StoreError> {
        self.check_space()?;
        let limit = self.shared.max_sections.load(Ordering::Relaxed);
        self.run("writing an article", true, |h| {
            let slug = draft.section.slug.as_str().as_bytes();
            if limit > 0
                && !h.sections.contains_key(slug).map_err(sled_err("reading sections"))?
                && h.sections.len() as u64 >= limit
            {
                return Err(StoreError::TooManySections { limit: limit as usize });
            }
            h.admit(draft, restore)
        })
    }

    /// The earliest release time of a held story (`None` also while the
    /// store is being opened again).
    pub fn next_release(&self) -> Option<DateTime<Utc>> {
        self.handles().ok().and_then(|h| h.next_release())
    }

    /// Stories held now.
    pub fn held(&self) -> usize {
        self.handles().map_or(0, |h| h.held())
    }

    /// The held story named by one of these identity keys (see [`keys`]).
    pub fn held_by_keys(&self, identities: &[Vec<u8>]) -> Result<Option<ArticleId>, StoreError> {
        self.call("reading embargoed stories", |h| {
            h.held_by_keys(identities).map(|held| held.map(|held| held.article.id))
        })
    }

    /// Releases the held stories whose time has come.
    pub fn release_due(&self, now: DateTime<Utc>) -> Result<Vec<Released>, StoreError> {
        self.run("releasing embargoed stories", true, |h| h.release_due(now))
    }

    /// Releases one held story now (`None`: no story of that id is held).
    pub fn release_now(&self, id: &ArticleId, now: DateTime<Utc>) -> Result<Option<Released>, StoreError> {
        self.run("releasing an embargoed story", true, |h| h.release_now(id, now))
    }

    /// Kills a stored or held story (see `gate`); `None` when there is none.
    pub fn kill(&self, id: &ArticleId, when: DateTime<Utc>) -> Result<Option<Tombstone>, StoreError> {
        self.run("killing an article", true, |h| h.kill(id, when))
    }

    /// Remembers a kill of a story never stored.
    pub fn kill_keys(&self, keys: &[Vec<u8>]) -> Result<(), StoreError> {
        self.run("writing a kill", true, |h| h.kill_keys(keys))
    }

    /// The tombstone of a killed story.
    pub fn tombstone(&self, id: &ArticleId) -> Result<Option<Tombstone>, StoreError> {
        self.call("reading a kill", |h| h.tombstone(id))
    }

    /// Whether a story about to be stored was killed (see `Handles::killed_as`).
    pub fn killed_as(&self, draft: &Article) -> Result<Option<Option<ArticleId>>, StoreError> {
        self.call("reading kills", |h| h.killed_as(draft))
    }

    /// Stories of a scope killed since `since`, newest first.
    pub fn kills_since(&self, scope: &Listing, since: DateTime<Utc>) -> Result<Vec<Tombstone>, StoreError> {
        self.call("reading kills", |h| h.kills_since(scope, since))
    }

    /// The id of the stored story an agency sent under this slug.
    pub fn find_by_wire(&self, source: &str, slug: &str) -> Result<Option<ArticleId>, StoreError> {
        self.call("reading the identity index", |h| h.find_by_wire(source, slug))
    }

    /// When the documents of `scope` last changed (see `Handles::changed`).
    pub fn changed(&self, scope: &Listing) -> Result<Option<DateTime<Utc>>, StoreError> {
        self.call("reading when the store changed", |h| h.changed(scope))
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
    pub fn newest(&self, scope: &Listing) -> Result<Option<DateTime<Utc>>, StoreError> {
        self.call("reading an index", |h| h.newest(scope))
    }

    /// A page of up to `limit` articles older than `before` (newest first).
    pub fn page(&self, scope: &Listing, before: Option<i64>, limit: usize) -> Result<Page, StoreError> {
        self.call("reading a page", |h| h.page(scope, before, limit))
    }

    /// A page of the stories `visible` lets through (see `visible`).
    pub fn page_where(
        &self,
        scope: &Listing,
        before: Option<i64>,
        limit: usize,
        visible: &Visible<'_>,
    ) -> Result<Page, StoreError> {
        // A section's own listing is shown or not as a whole (the caller asks).
        if visible.everything() || matches!(scope, Listing::Section(_) | Listing::Urgent(Some(_))) {
            return self.page(scope, before, limit);
        }
        if visible.nothing() && matches!(scope, Listing::All | Listing::Urgent(None)) {
            return Ok(Page { articles: Vec::new(), next: None, prev: before.map(|_| None) });
        }
        self.call("reading a page", |h| h.page_where(scope, before, limit, Some(visible)))
    }

    /// When the documents of an all-sections scope that `visible` filters
    /// last changed (see `visible`).
    pub fn changed_where(&self, scope: &Listing, visible: &Visible<'_>) -> Result<Option<DateTime<Utc>>, StoreError> {
        if visible.everything() {
            return self.changed(scope);
        }
        if visible.nothing() && matches!(scope, Listing::All | Listing::Urgent(None)) {
            return Ok(None);
        }
        self.call("reading when the store changed", |h| h.changed_where(scope, visible))
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
    /// The store format, and the archive position (`APPLIED`).
    meta: Tree,
    articles: Tree,
    by_section: Tree,
    by_time: Tree,
    identity: Tree,
    sections: Tree,
    changed: Tree,
    /// Urgent copy: `keys::urgent_entries` pointing into the section index.
    urgent: Tree,
    /// Killed stories (see [`kill`]).
    tombstones: Tree,
    /// Identity keys of killed stories: a copy sent again is refused.
    killed: Tree,
    /// Stories held back until their release time, by release time (see [`embargo`]).
    embargoed: Tree,
    /// The earliest release time in `embargoed`, in microseconds (`i64::MAX`: none).
    next_release: Arc<std::sync::atomic::AtomicI64>,
    commit: Arc<durable::GroupCommit>,
    /// Held by a put from finding a free sort slot (a scan, which a sled
    /// transaction cannot make) until it is claimed.
    claiming: Arc<Mutex<()>>,
    /// Held through each pass of the publication gate (`gate`): a kill, a
    /// re-send and a release of one story never interleave.
    gate: Arc<Mutex<()>>,
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
            changed: tree("changed")?,
            urgent: tree("urgent")?,
            embargoed: tree("embargoed")?,
            tombstones: tree("tombstones")?,
            killed: tree("killed")?,
            next_release: Arc::new(std::sync::atomic::AtomicI64::new(i64::MAX)),
            commit: Arc::new(durable::GroupCommit::start(db.clone(), log)),
            claiming: Arc::default(),
            meta: meta.clone(),
            gate: Arc::default(),
            db,
        };
        match found {
            None => {
                meta.insert("format", &[keys::STORE_FORMAT]).map_err(sled_err("writing the store format"))?;
                store.db.flush().map_err(sled_err("writing the store format"))?;
            }
            Some(found) if found < keys::STORE_FORMAT => {
                return Err(StoreError::OlderFormat { dir: shown, found, supported: keys::STORE_FORMAT });
            }
            Some(_) => {}
        }
        store.load_next_release()?;
        Ok(store)
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
    /// the stored id and publication time; both get a sort slot no other
    /// stored story has in their second. Not yet durable: call [`Store::sync`].
    #[cfg(test)]
    pub fn put(&self, draft: Article) -> Result<Put, StoreError> {
        self.put_as(draft, None)
    }

    /// As `Handles::put`; a new story takes the id `wanted` when it is free
    /// (a killed story restored under its old id).
    fn put_as(&self, draft: Article, wanted: Option<ArticleId>) -> Result<Put, StoreError> {
        // An update keeps the draft's effective time, so its second is known now.
        let _claiming = self.claiming.lock().unwrap_or_else(|e| e.into_inner());
        let slot = self.free_slot(draft.effective())?;
        let now = Utc::now().timestamp_micros();
        let identity_key = keys::identity(&draft.section.slug, &draft.headline);
        // A later take (a lead, a writethru, a correction) replaces the story
        // its agency sent under the same slug, whatever its headline now says.
        let take_key =
            draft.wire.story_key().filter(|_| draft.wire.is_later_take()).map(|(s, g)| keys::wire_identity(s, g));
        let trees = (
            &self.articles,
            &self.by_section,
            &self.by_time,
            &self.identity,
            &self.sections,
            &self.changed,
            &self.urgent,
        );
        let result = trees.transaction(|(articles, by_section, by_time, identity, sections, changed, urgent)| {
            let abort = |e: StoreError| ConflictableTransactionError::Abort(e);
            let decode_article = |bytes: &[u8], id: &str| {
                codec::decode::<Article>(bytes)
                    .map_err(|source| abort(StoreError::Codec { what: format!("article {id}"), source }))
            };
            let mut article = draft.clone();
            article.order = slot;
            let found = match identity.get(&identity_key)? {
                Some(id) => Some(id),
                None => match &take_key {
                    Some(key) => identity.get(key)?,
                    None => None,
                },
            };
            let old = match found {
                Some(id_bytes) => match articles.get(&id_bytes)? {
                    Some(pointer) => match by_section.get(keys::entry_of_id(&id_bytes, &pointer))? {
                        Some(bytes) => Some(decode_article(&bytes, &String::from_utf8_lossy(&id_bytes))?),
                        None => None,
                    },
                    None => None,
                },
                None => None,
            };
            if let Some(old) = &old {
                // The story stays where it was filed.
                article.section = old.section.clone();
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
                by_section.remove(keys::section_entry(&old.section.slug, old_micros, &old.id))?;
                by_time.remove(keys::time_entry(old_micros, &old.id))?;
                unlist_urgent(urgent, old)?;
                // The old headline keeps naming the story: a take sent under
                // it that arrives late is found, and found stale.
            } else {
                let date = article.published.date_naive();
                let mut attempt = 1;
                let wanted = match &wanted {
                    Some(id) if articles.get(id.as_str().as_bytes())?.is_none() => Some(id.clone()),
                    _ => None,
                };
                article.id = if let Some(id) = wanted {
                    id
                } else {
                    loop {
                        let id = ArticleId::for_story(date, &article.headline, attempt);
                        if articles.get(id.as_str().as_bytes())?.is_none() {
                            break id;
                        }
                        attempt += 1;
                    }
                };
            }
            write_entries(
                (articles, by_section, by_time, identity, sections, changed, urgent),
                &article,
                old.is_none(),
            )?;
            self.touch(changed, &article.section.slug, now)?;
            Ok(match old {
                Some(old) => Put::Updated { article, old: Box::new(old) },
                None => Put::Created(article),
            })
        });
        result.map_err(tx_err("writing an article"))
    }

    /// A microsecond slot for a story of time `effective` that no stored
    /// story of the same second has: after the newest one of that second, so
    /// later arrivals sort newer (or the first gap, once a second's last
    /// slot is taken). The caller holds `claiming` until the slot is written.
    ///
    /// Slots are found in the all-sections index rather than counted: the
    /// index holds every stored story, including those written before slots
    /// existed (whose slot was an arrival counter's low digits, which
    /// restarted at every open and so could repeat).
    fn free_slot(&self, effective: DateTime<Utc>) -> Result<u64, StoreError> {
        const SLOTS: i64 = 1_000_000;
        let start = effective.timestamp() * SLOTS;
        let second = keys::time_bytes(start)..keys::time_bytes(start + SLOTS);
        let used = |item: sled::Result<(sled::IVec, sled::IVec)>| -> Result<Option<i64>, StoreError> {
            let (key, _) = item.map_err(sled_err("reading the all-sections index"))?;
            Ok(keys::split_entry(&key, 0).map(|(micros, _)| micros - start))
        };
        let newest = match self.by_time.range(second.clone()).next_back() {
            Some(item) => used(item)?,
            None => None,
        };
        match newest {
            None => return Ok(0),
            Some(slot) if slot + 1 < SLOTS => return Ok((slot + 1) as u64),
            Some(_) => {}
        }
        let mut free = 0;
        for item in self.by_time.range(second) {
            match used(item)? {
                Some(slot) if slot > free => break,
                Some(slot) => free = free.max(slot + 1),
                None => {}
            }
        }
        if free < SLOTS {
            Ok(free as u64)
        } else {
            Err(StoreError::SecondFull(effective))
        }
    }

    /// Moves the changed-at instants of `slug` and of all sections forward
    /// to `now` (see [`next_changed`]); inside the write's transaction.
    fn touch(
        &self,
        changed: &TransactionalTree,
        slug: &SectionSlug,
        now: i64,
    ) -> Result<(), UnabortableTransactionError> {
        for key in [keys::changed_all(), keys::changed_section(slug)] {
            let prev = changed.get(&key)?.and_then(|v| keys::changed_from_bytes(&v));
            changed.insert(key.as_slice(), &keys::time_bytes(next_changed(prev, now)))?;
        }
        Ok(())
    }

    /// When the documents of `scope` last changed: moved forward by every
    /// write to it, never backwards, across restarts. `None` for a scope never
    /// written since this was kept, which falls back to its newest story.
    ///
    /// Read it before the content it dates: a write in between then makes
    /// the document newer than its date (read again later), never older.
    pub fn changed(&self, scope: &Listing) -> Result<Option<DateTime<Utc>>, StoreError> {
        let key = match scope {
            Listing::All | Listing::Urgent(None) => keys::changed_all(),
            Listing::Section(slug) | Listing::Urgent(Some(slug)) => keys::changed_section(slug),
        };
        let stored = self.changed.get(&key).map_err(sled_err("reading when the store changed"))?;
        match stored.and_then(|v| keys::changed_from_bytes(&v)) {
            Some(micros) => Ok(DateTime::from_timestamp_micros(micros)),
            None => self.newest(scope),
        }
    }

    /// Retracts an article from every index. Not yet durable: call [`Store::sync`].
    pub fn delete(&self, id: &ArticleId) -> Result<Option<Article>, StoreError> {
        let now = Utc::now().timestamp_micros();
        let trees = (
            &self.articles,
            &self.by_section,
            &self.by_time,
            &self.identity,
            &self.sections,
            &self.changed,
            &self.urgent,
        );
        let result = trees.transaction(|(articles, by_section, by_time, identity, sections, changed, urgent)| {
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
            unlist_urgent(urgent, &article)?;
            remove_identities(identity, &article)?;
            if let Some(bytes) = sections.get(slug.as_str().as_bytes())? {
                if let Ok(mut meta) = codec::decode::<SectionMeta>(&bytes) {
                    meta.count = meta.count.saturating_sub(1);
                    sections.insert(slug.as_str().as_bytes(), codec::encode(&meta))?;
                }
            }
            self.touch(changed, &article.section.slug, now)?;
            Ok(Some(article))
        });
        let deleted = result.map_err(tx_err(format!("deleting {id}")))?;
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

    /// The id of the stored story an agency sent under this slug.
    pub fn find_by_wire(&self, source: &str, slug: &str) -> Result<Option<ArticleId>, StoreError> {
        let found =
            self.identity.get(keys::wire_identity(source, slug)).map_err(sled_err("reading the identity index"))?;
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
    pub fn newest(&self, scope: &Listing) -> Result<Option<DateTime<Utc>>, StoreError> {
        let (tree, prefix) = self.index(scope);
        let last = tree.scan_prefix(&prefix).next_back().transpose().map_err(sled_err("reading an index"))?;
        Ok(last
            .and_then(|(k, _)| keys::split_entry(&k, prefix.len()))
            .and_then(|(micros, _)| DateTime::from_timestamp_micros(micros)))
    }

    fn index(&self, scope: &Listing) -> (&Tree, Vec<u8>) {
        match scope {
            Listing::All => (&self.by_time, Vec::new()),
            Listing::Section(slug) => (&self.by_section, keys::section_prefix(slug)),
            Listing::Urgent(slug) => (&self.urgent, keys::urgent_prefix(slug.as_ref())),
        }
    }

    /// A page of up to `limit` articles older than `before` (newest first).
    pub fn page(&self, scope: &Listing, before: Option<i64>, limit: usize) -> Result<Page, StoreError> {
        self.page_where(scope, before, limit, None)
    }

    /// As [`Handles::page`], of the stories whose section `visible` lets
    /// through (all-sections listings: see `visible.rs`).
    pub fn page_where(
        &self,
        scope: &Listing,
        before: Option<i64>,
        limit: usize,
        visible: Option<&Visible<'_>>,
    ) -> Result<Page, StoreError> {
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
        let mut entries: Vec<(i64, sled::IVec, sled::IVec)> = Vec::with_capacity(limit + 1);
        let mut more = false;
        let mut scan = visible::Scan::new(visible);
        for item in older.rev() {
            let (key, value) = item.map_err(sled_err("reading an index"))?;
            let Some((micros, _)) = keys::split_entry(&key, prefix.len()) else { continue };
            // A page ends between two times: the cursor is a time, and a
            // store written before sort slots were unique may hold two
            // stories at one time, which a cut between them would skip.
            if entries.len() >= limit && entries.last().is_none_or(|(last, ..)| *last != micros) {
                more = true;
                break;
            }
            match scan.step(micros, &value) {
                visible::Step::Take => entries.push((micros, key, value)),
                visible::Step::Skip => {}
                visible::Step::Stop => break,
            }
        }
        let mut next = if more { entries.last().map(|(micros, ..)| *micros) } else { None };
        if let Some(cut) = scan.cut() {
            // The scan stopped at its bound: the next page goes on from
            // the last time it read, so nothing is skipped.
            next = Some(cut);
        }
        let prev = match before {
            None => None,
            Some(_) if visible.is_some() => visible::prev(tree, &prefix, before, limit, visible)?,
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
                Listing::Section(_) => articles.push(decode_at(&key, &value)?),
                // An index entry whose article is gone would be a bug; skip it rather than fail a page.
                Listing::All | Listing::Urgent(_) => {
                    articles.extend(self.at(&keys::entry_of_time(&key[prefix.len()..], &value))?)
                }
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
        let unreadable = walk_guarded(&self.articles, |id, pointer| {
            let shown = String::from_utf8_lossy(&id).into_owned();
            match guarded("reading an article", || self.at(&keys::entry_of_id(&id, &pointer))).and_then(|r| r) {
                Ok(Some(article)) => write(&mut out, &article)?,
                Ok(None) => skip(format!("article {shown}: missing from its section's index")),
                Err(e) => skip(format!("article {shown}: {e}")),
            }
            Ok(())
        })?;
        if let Some(why) = unreadable {
            skip(format!("the article ids are unreadable from here on: {why}"));
        }
        let unreadable = walk_guarded(&self.by_section, |key, value| {
            let id = keys::entry_id(&key);
            let pointed = guarded("reading an article id", || self.articles.get(id.as_bytes()).ok().flatten())
                .ok()
                .flatten()
                .is_some_and(|pointer| keys::entry_of_id(id.as_bytes(), &pointer) == key.as_ref());
            if !pointed {
                match decode_at(&key, &value) {
                    Ok(article) => write(&mut out, &article)?,
                    Err(e) => skip(format!("article {id} (no id points to it): {e}")),
                }
            }
            Ok(())
        })?;
        if let Some(why) = unreadable {
            skip(format!("the section index is unreadable from here on: {why}"));
        }
        // Held stories too: a restore holds them again until their release.
        let unreadable = walk_guarded(&self.embargoed, |key, value| {
            if !key.starts_with(b"r") {
                return Ok(());
            }
            match codec::decode::<Article>(&value) {
                Ok(article) => write(&mut out, &article)?,
                Err(e) => skip(format!("an embargoed story: {e}")),
            }
            Ok(())
        })?;
        if let Some(why) = unreadable {
            skip(format!("the embargoed stories are unreadable from here on: {why}"));
        }
        // Subscribers last (hashes of their keys only): a restore reads them back.
        self.export_subscribers(&mut out)?;
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
            let unreadable = walk_guarded(tree, |key, value| {
                done.entries += 1;
                check(done, key, value);
                Ok(())
            });
            if let Ok(Some(why)) = unreadable {
                report(done, format!("{name}: unreadable from here on: {why}"));
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
            if line.starts_with(subscribers::EXPORT_PREFIX) {
                self.restore_subscriber(&line, i + 1)?;
                continue;
            }
            let article: Article = serde_json::from_str(&line)
                .map_err(|e| StoreError::BadBackup { line: i + 1, detail: e.to_string() })?;
            self.restore_one(&article)?;
            n += 1;
        }
        self.db.flush().map_err(sled_err("flushing the restore"))?;
        Ok(n)
    }

    /// Loads one exported article: held again when its embargo is still
    /// ahead, else inserted exactly as given.
    fn restore_one(&self, article: &Article) -> Result<(), StoreError> {
        match article.embargo.filter(|release| *release > Utc::now()) {
            Some(release) => self.hold_as(article, release)?,
            None => self.insert_exact(article)?,
        }
        Ok(())
    }

    /// Inserts an article exactly as given (restore), sort slot included:
    /// the export came from one store, where no two stories shared one.
    fn insert_exact(&self, article: &Article) -> Result<(), StoreError> {
        let now = Utc::now().timestamp_micros();
        let trees = (
            &self.articles,
            &self.by_section,
            &self.by_time,
            &self.identity,
            &self.sections,
            &self.changed,
            &self.urgent,
        );
        trees
            .transaction(|(a, s, t, i, m, c, u)| {
                write_entries((a, s, t, i, m, c, u), article, true)?;
                self.touch(c, &article.section.slug, now)?;
                Ok(())
            })
            .map_err(tx_err(format!("restoring {}", article.id)))
    }
}

/// Decodes the article stored at a section-index key.
fn decode_at(key: &[u8], bytes: &[u8]) -> Result<Article, StoreError> {
    codec::decode(bytes)
        .map_err(|source| StoreError::Codec { what: format!("article {}", keys::entry_id(key)), source })
}

/// The seven trees as one write's transaction sees them.
type Trees<'a> = (
    &'a TransactionalTree,
    &'a TransactionalTree,
    &'a TransactionalTree,
    &'a TransactionalTree,
    &'a TransactionalTree,
    &'a TransactionalTree,
    &'a TransactionalTree,
);

/// The next changed-at instant (microseconds) of a scope last changed at
/// `prev`, at wall time `now`: the clock's, to the microsecond, so a burst
/// of writes (a bulk import) stays at the clock.
///
/// A document goes out dated by its changed-at to the second only once that
/// second is over (`routes::respond`), so with a clock that only moves
/// forward every later change lands in a later second than any date a
/// reader holds. A clock set back behind `prev` moves the value a whole
/// second on instead: never backwards, and never into a second that may
/// already have gone out.
fn next_changed(prev: Option<i64>, now: i64) -> i64 {
    const SECOND: i64 = 1_000_000;
    match prev {
        Some(prev) if now <= prev => prev.div_euclid(SECOND) * SECOND + SECOND,
        _ => now,
    }
}

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

/// Takes an article out of the urgent index (a no-op for other copy).
fn unlist_urgent(urgent: &TransactionalTree, article: &Article) -> Result<(), UnabortableTransactionError> {
    if article.wire.is_urgent() {
        let micros = article.sort_instant().timestamp_micros();
        for key in keys::urgent_entries(&article.section.slug, micros, &article.id) {
            urgent.remove(key)?;
        }
    }
    Ok(())
}

/// The identity keys that name an article: its section and headline, and
/// its agency and slug when it has both.
fn identity_keys(article: &Article) -> Vec<Vec<u8>> {
    let mut keys = vec![keys::identity(&article.section.slug, &article.headline)];
    keys.extend(article.wire.story_key().map(|(source, slug)| keys::wire_identity(source, slug)));
    keys
}

/// Removes the identity keys that name this article (a later story may
/// have taken its wire slug over: that key is left to it).
fn remove_identities(identity: &TransactionalTree, article: &Article) -> Result<(), UnabortableTransactionError> {
    for key in identity_keys(article) {
        if identity.get(&key)?.is_some_and(|id| id.as_ref() == article.id.as_str().as_bytes()) {
            identity.remove(key)?;
        }
    }
    Ok(())
}

/// Writes an article with its index entries, identity key and section
/// metadata (`is_new` counts it in its section): shared by `put` and `restore`.
fn write_entries(
    (articles, by_section, by_time, identity, sections, _, urgent): Trees<'_>,
    article: &Article,
    is_new: bool,
) -> Result<(), ConflictableTransactionError<StoreError>> {
    let slug = &article.section.slug;
    place((articles, by_section, by_time), article, &codec::encode(article))?;
    if article.wire.is_urgent() {
        let micros = article.sort_instant().timestamp_micros();
        for key in keys::urgent_entries(slug, micros, &article.id) {
            urgent.insert(key, slug.as_str().as_bytes())?;
        }
    }
    identity.insert(keys::identity(slug, &article.headline), article.id.as_str().as_bytes())?;
    if let Some((source, wire_slug)) = article.wire.story_key() {
        identity.insert(keys::wire_identity(source, wire_slug), article.id.as_str().as_bytes())?;
    }
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
    use crate::domain::Section;

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
            wire: Default::default(),
            notes: Vec::new(),
            correction: None,
            embargo: None,
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
        let world = Listing::Section(first.section.slug.clone());
        let page = store.page(&world, None, 10).unwrap();
        assert_eq!(page.articles.len(), 1);
        assert_eq!(page.articles[0].source_hash, "changed", "a page shows the new version");
        assert_eq!(store.delete(&first.id).unwrap().unwrap().source_hash, "changed");
        for tree in [&store.articles, &store.by_section, &store.by_time, &store.identity] {
            assert!(tree.is_empty());
        }
        assert_eq!(store.section(&first.section.slug).unwrap().unwrap().count, 0);
    }

    #[test]
    fn a_store_of_an_older_format_is_refused_with_what_to_do() {
        let dir = tempfile::tempdir().unwrap();
        {
            let db = sled::open(dir.path()).unwrap();
            db.open_tree("meta").unwrap().insert("format", &[keys::STORE_FORMAT - 1]).unwrap();
            db.flush().unwrap();
        }
        let err = reopen(dir.path()).err().expect("refused");
        assert!(matches!(err, StoreError::OlderFormat { .. }), "{err}");
        assert!(err.to_string().contains("wirefeed restore"), "{err}");
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
        let paged = |scope: &Listing| {
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
        assert_eq!(paged(&Listing::All), newest_first(&|_| true));
        for name in sections {
            let slug = Section::from_name(name).unwrap().slug;
            let expected = newest_first(&|a| a.section.slug == slug);
            assert_eq!(store.section(&slug).unwrap().unwrap().count as usize, expected.len());
            assert_eq!(paged(&Listing::Section(slug)), expected, "{name}");
        }
        assert_eq!(store.articles.len(), kept.len());
        assert_eq!(store.identity.len(), kept.len());
    }

    /// Every id of a scope, paging from the first page.
    fn walk(store: &Handles, scope: &Listing, limit: usize) -> Vec<ArticleId> {
        let (mut ids, mut before) = (Vec::new(), None);
        loop {
            let page = store.page(scope, before, limit).unwrap();
            ids.extend(page.articles.iter().map(|a| a.id.clone()));
            match page.next {
                Some(cursor) => before = Some(cursor),
                None => return ids,
            }
        }
    }

    #[test]
    fn stories_of_one_second_get_their_own_instants_across_reopens_and_updates() {
        let dir = tempfile::tempdir().unwrap();
        let mut stored = Vec::new();
        for run in 0..3 {
            let store = reopen(dir.path()).unwrap();
            for n in 0..4 {
                let a = store.put(article(&format!("2016-07-26-run-{run}-{n}"), "World", 0)).unwrap();
                stored.push(a.article().clone());
            }
            // An update in place of the first story of this run, in the same second.
            let mut changed = stored[run * 4].clone();
            changed.source_hash = format!("changed in run {run}");
            let Put::Updated { article, .. } = store.put(changed).unwrap() else { panic!("not an update") };
            stored[run * 4] = article;
            store.close().unwrap();
        }
        let store = reopen(dir.path()).unwrap();
        let mut instants: Vec<_> = stored.iter().map(Article::sort_instant).collect();
        instants.sort();
        instants.dedup();
        assert_eq!(instants.len(), 12, "distinct instants: {instants:?}");
        // Later arrivals sort newer within their second.
        let mut newest_first = stored.clone();
        newest_first.sort_by_key(|a| std::cmp::Reverse(a.sort_instant()));
        assert_eq!(newest_first[0].id, stored[8].id, "the last update");
        let expected: Vec<_> = newest_first.iter().map(|a| a.id.clone()).collect();
        for limit in 1..5 {
            assert_eq!(walk(&store, &Listing::All, limit), expected, "pages of {limit}");
            let world = Listing::Section(stored[0].section.slug.clone());
            assert_eq!(walk(&store, &world, limit), expected, "section pages of {limit}");
        }
    }

    #[test]
    fn stories_that_share_an_instant_from_an_older_store_are_never_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let store = Handles::open(dir.path(), 1 << 20).unwrap();
        // As builds before unique slots could store them: two runs' counters
        // with the same low digits.
        let trees = (&store.articles, &store.by_section, &store.by_time);
        for (n, order) in [(1, 5), (2, 1_000_005), (3, 2_000_005), (4, 6)] {
            let mut a = article(&format!("2016-07-26-old-{n}"), "World", 0);
            a.order = order;
            trees
                .transaction(|(x, y, z)| {
                    Ok::<_, ConflictableTransactionError<()>>(place((x, y, z), &a, &codec::encode(&a))?)
                })
                .unwrap();
        }
        let mut fresh = article("2016-07-26-new", "World", 0);
        fresh.headline = "A new one".into();
        let fresh = store.put(fresh).unwrap().article().clone();
        assert_eq!(fresh.order, 7, "after the newest slot of the second");
        for limit in 1..4 {
            let ids = walk(&store, &Listing::All, limit);
            assert_eq!(ids.len(), 5, "pages of {limit}: {ids:?}");
            assert_eq!(ids[0], fresh.id);
        }
    }

    #[test]
    fn a_full_second_hands_out_its_gaps() {
        let dir = tempfile::tempdir().unwrap();
        let store = Handles::open(dir.path(), 1 << 20).unwrap();
        let trees = (&store.articles, &store.by_section, &store.by_time);
        for (n, order) in [(1, 0), (2, 1), (3, 999_999)] {
            let mut a = article(&format!("2016-07-26-old-{n}"), "World", 0);
            a.order = order;
            trees
                .transaction(|(x, y, z)| {
                    Ok::<_, ConflictableTransactionError<()>>(place((x, y, z), &a, &codec::encode(&a))?)
                })
                .unwrap();
        }
        let mut fresh = article("2016-07-26-new", "World", 0);
        fresh.headline = "A new one".into();
        assert_eq!(store.put(fresh).unwrap().article().order, 2);
    }

    #[test]
    fn every_write_moves_changed_forward_even_when_it_makes_nothing_newer() {
        let dir = tempfile::tempdir().unwrap();
        let world = Listing::Section(Section::from_name("World").unwrap().slug);
        let sport = Listing::Section(Section::from_name("Sport").unwrap().slug);
        let (older, newer) = {
            let store = Handles::open(dir.path(), 1 << 20).unwrap();
            assert_eq!(store.changed(&Listing::All).unwrap(), None);
            let older = store.put(article("2016-07-26-older", "World", 1)).unwrap().article().clone();
            let newer = store.put(article("2016-07-26-newer", "World", 30)).unwrap().article().clone();
            store.close().unwrap();
            (older, newer)
        };
        let store = reopen(dir.path()).unwrap();
        let mut seen = vec![store.changed(&world).unwrap().unwrap()];
        assert!(seen[0] > newer.sort_instant(), "changed is when it was written, not the story's time");
        assert_eq!(store.changed(&sport).unwrap(), None);
        let all = store.changed(&Listing::All).unwrap().unwrap();
        // An update of the older story, then a delete of the newest: neither
        // makes the newest story newer; both move the date on.
        let mut update = older.clone();
        update.source_hash = "changed".into();
        update.updated = Some(older.published + chrono::Duration::seconds(5));
        assert!(matches!(store.put(update).unwrap(), Put::Updated { .. }));
        seen.push(store.changed(&world).unwrap().unwrap());
        store.delete(&newer.id).unwrap().unwrap();
        seen.push(store.changed(&world).unwrap().unwrap());
        for pair in seen.windows(2) {
            assert!(pair[1] > pair[0], "{pair:?}");
        }
        assert!(store.changed(&Listing::All).unwrap().unwrap() > all);
        assert_eq!(store.changed(&sport).unwrap(), None, "other sections keep theirs");
        store.close().unwrap();
        drop(store);
        let store = reopen(dir.path()).unwrap();
        assert_eq!(store.changed(&world).unwrap(), seen.last().copied(), "kept across a restart");
    }

    #[test]
    fn changed_follows_the_clock_and_moves_a_second_on_when_the_clock_is_behind() {
        let s = 1_000_000;
        assert_eq!(next_changed(None, 5 * s), 5 * s);
        assert_eq!(next_changed(Some(5 * s + 10), 5 * s + 11), 5 * s + 11, "a burst stays at the clock");
        assert_eq!(next_changed(Some(5 * s + 10), 5 * s), 6 * s, "a clock set back");
        assert_eq!(next_changed(Some(5 * s + 10), 5 * s + 10), 6 * s);
        assert_eq!(next_changed(Some(-s - 10), -3 * s), -s, "before 1970 too");
    }

    #[test]
    fn a_reader_who_sees_some_sections_pages_through_all_of_them_and_nothing_else() {
        use crate::domain::{Grant, Licensed, Reader, Visible};
        let dir = tempfile::tempdir().unwrap();
        let store = Handles::open(dir.path(), 1 << 20).unwrap();
        let base = article("2016-07-26-x", "World", 0).published;
        let mut sport = Vec::new();
        // Long runs of hidden (World) copy between visible (Sport) stories:
        // longer than a scan's bound, so pages end early and go on.
        for i in 0..300 {
            let section = if i % 60 == 0 || i % 60 == 1 { "Sport" } else { "World" };
            let mut a = article(&format!("2016-07-26-story-{i}"), section, 0);
            a.published = base + chrono::Duration::seconds(i);
            a.received = a.published;
            let stored = store.put(a).unwrap().article().clone();
            if section == "Sport" {
                sport.push(stored.id);
            }
        }
        sport.reverse();
        let licensed = Licensed::parse(&["world".into()]).unwrap();
        let walk = |reader: &Reader, limit: usize| {
            let visible = Visible { licensed: &licensed, reader };
            let (mut ids, mut before, mut pages) = (Vec::new(), None, 0);
            loop {
                let page = store.page_where(&Listing::All, before, limit, Some(&visible)).unwrap();
                assert!(page.articles.len() <= limit);
                assert!(page.articles.iter().all(|a| visible.section(&a.section.slug)));
                ids.extend(page.articles.iter().map(|a| a.id.clone()));
                pages += 1;
                assert!(pages < 100, "paging ends");
                match page.next {
                    Some(cursor) => before = Some(cursor),
                    None => return ids,
                }
            }
        };
        for limit in [1, 3, 50] {
            assert_eq!(walk(&Reader::Public, limit), sport, "public pages of {limit}: each Sport story once");
        }
        let world = Reader::Subscriber(Grant::parse(&["world".into()]).unwrap());
        assert_eq!(walk(&world, 7).len(), 300, "an entitled reader sees everything");
        let changed = store.changed_where(&Listing::All, &Visible { licensed: &licensed, reader: &Reader::Public });
        assert_eq!(changed.unwrap(), store.changed(&Listing::Section(SectionSlug::parse("sport").unwrap())).unwrap());
    }

    #[test]
    fn a_second_open_of_the_same_directory_says_it_is_in_use() {
        let dir = tempfile::tempdir().unwrap();
        let _first = Handles::open(dir.path(), 1 << 20).unwrap();
        let err = Handles::open(dir.path(), 1 << 20).err().expect("refused");
        assert!(matches!(err, StoreError::Locked(_)), "{err}");
    }
}
