//! The application: the store, the archive, the document cache and the
//! import settings together, and what is done with them: import, delete,
//! release, and document lookup. The HTTP handlers, the command line and
//! seeding all go through here, so a write invalidates the same documents,
//! tells the same caches and leaves the same archive record whichever way
//! it came.
//!
//! Every change is made by one `apply_*` function, which a rebuild from the
//! archive calls again ([`App::replay`]): the live store and a rebuilt one
//! are made by the same code, in the same order (changes are made one at a
//! time, each appended to the archive before the next begins).

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use chrono::{DateTime, Utc};

use crate::cache::{Doc, DocCache, Flight, Tag};
use crate::documents::{self, DocKey, Rendered, Sources};
use crate::domain::{Article, ArticleId, Licensed, Listing, Reader};
use crate::edge::{Edge, Lifetimes};
use crate::import::{self, Asked, Checked, ImportSettings, IngestError, Ingested, Outcome};
use crate::journal::{Entry, Journal, Received, Writing};
use crate::render::Site;
use crate::store::{Put, Released, Store, StoreError, Tombstone};
use crate::subscribers::{Issued, Listed, SubscriberError, Subscribers};
use crate::telemetry::Metrics;
use crate::urls::Base;

/// What a document lookup found.
pub enum Lookup {
    Doc(Arc<Doc>),
    /// Not there; the text says what.
    Missing(String),
    /// Killed; the text says when.
    Gone(String),
}

/// How a document is kept, by what a client could vary in its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// A current page (no cursor) at a known public address: what readers poll.
    Current,
    /// An older page (`?before=`): cached within the cold budget.
    Older,
    /// At a public address past the first [`MAX_BASES`] seen (no
    /// `WIREFEED_PUBLIC_URL`, a client naming any `Host`): never cached.
    Foreign,
}

/// Public addresses whose documents are cached when no public URL is set:
/// the first ones documents are asked under (e.g. by name and by address,
/// http and https). Any other `Host` a client sends costs a render, one at
/// a time, and is never kept.
pub const MAX_BASES: usize = 4;

/// What a delete did.
pub enum Deleted {
    /// The story was killed now: it leaves this tombstone.
    Killed(Tombstone),
    /// It had been killed before.
    Already(Tombstone),
    NotFound,
}

/// The application. Its methods block on the store: call them off the
/// async threads (`web::block`).
pub struct App {
    store: Store,
    /// Every change, kept so the store can be rebuilt.
    journal: Journal,
    /// The store is being made again from the archive: writes wait.
    rebuilding: std::sync::atomic::AtomicBool,
    docs: DocCache<DocKey>,
    import: ImportSettings,
    site: Site,
    /// Items per feed or section page.
    page_items: usize,
    /// The cache tier and WebSub hubs, told of every durable change.
    edge: Edge,
    /// The public addresses whose documents are cached (see [`MAX_BASES`]).
    bases: std::sync::RwLock<Vec<Base>>,
    /// Held while rendering or compressing a cold document (an older page,
    /// a foreign address): a client naming many of them costs one core's
    /// work at most, never a render per request in parallel.
    cold: tokio::sync::Semaphore,
    /// The documents' `Cache-Control` values.
    lifetimes: Lifetimes,
    metrics: Arc<Metrics>,
    /// The licensed sections (`WIREFEED_LICENSED_SECTIONS`).
    licensed: Licensed,
    subscribers: Subscribers,
    /// Subscribers' documents, apart from the public ones: however many
    /// subscribers poll, they never push a public document out.
    keyed_docs: DocCache<DocKey>,
    /// The site as subscribers' documents show it: without WebSub hubs
    /// (a hub would be handed the key, and is never told of keyed feeds).
    keyed_site: Site,
    /// The `Cache-Control` values of subscribers' documents.
    private_lifetimes: Lifetimes,
}

impl App {
    /// `metrics` counts imports and renders (the server's `/metrics`).
    /// The archive is synced in the store's group commit from now on.
    pub fn new(
        store: Store,
        journal: Journal,
        import: ImportSettings,
        site: Site,
        page_items: usize,
        edge: Edge,
        metrics: Arc<Metrics>,
    ) -> App {
        let archive = journal.sync_handle();
        store.sync_also(Arc::new(move || archive.sync()));
        let lifetimes = edge.lifetimes(site.max_age);
        let subscribers = Subscribers::empty(store.clone());
        let keyed_site = Site { hubs: Vec::new(), ..site.clone() };
        let private_lifetimes = edge.private_lifetimes(site.max_age);
        App {
            store,
            journal,
            rebuilding: Default::default(),
            docs: DocCache::default(),
            import,
            site,
            page_items,
            edge,
            bases: std::sync::RwLock::new(Vec::new()),
            cold: tokio::sync::Semaphore::new(1),
            lifetimes,
            metrics,
            licensed: Licensed::Nothing,
            subscribers,
            keyed_docs: DocCache::default(),
            keyed_site,
            private_lifetimes,
        }
    }

    /// With these licensed sections, and the subscribers of the store.
    pub fn with_licences(mut self, licensed: Licensed) -> Result<App, StoreError> {
        self.licensed = licensed;
        self.subscribers = Subscribers::load(self.store.clone())?;
        Ok(self)
    }

    pub fn licensed(&self) -> &Licensed {
        &self.licensed
    }

    pub fn subscribers(&self) -> &Subscribers {
        &self.subscribers
    }

    /// The `Cache-Control` values of subscribers' documents.
    pub fn private_lifetimes(&self) -> &Lifetimes {
        &self.private_lifetimes
    }

    /// Adds a subscriber (see [`Subscribers::add`]), recorded in the archive.
    pub fn add_subscriber(&self, name: &str, sections: &[String]) -> Result<Issued, SubscriberError> {
        self.archived(name, |subs| subs.add(name, sections))
    }

    /// Changes a subscriber's sections, recorded in the archive.
    pub fn update_subscriber(&self, name: &str, sections: &[String]) -> Result<Listed, SubscriberError> {
        self.archived(name, |subs| subs.update(name, sections))
    }

    /// A new key for a subscriber, recorded in the archive (its hash).
    pub fn rotate_subscriber(&self, name: &str, grace: Option<u64>) -> Result<Issued, SubscriberError> {
        self.archived(name, |subs| subs.rotate(name, grace))
    }

    /// Revokes a subscriber, recorded in the archive.
    pub fn revoke_subscriber(&self, name: &str) -> Result<(), SubscriberError> {
        let mut writing = self.begin(0)?;
        self.subscribers.revoke(name)?;
        self.record(&mut writing, &Entry::SubscriberRevoked { name: name.to_owned() })?;
        drop(writing);
        self.store.sync()?;
        Ok(())
    }

    /// Makes a subscriber change, then appends the subscriber's record as it
    /// is after it, and makes that durable.
    fn archived<T>(
        &self,
        name: &str,
        change: impl FnOnce(&Subscribers) -> Result<T, SubscriberError>,
    ) -> Result<T, SubscriberError> {
        let mut writing = self.begin(0)?;
        let done = change(&self.subscribers)?;
        if let Some(record) = self.subscribers.record_of(name) {
            self.record(&mut writing, &Entry::Subscriber(Box::new(record)))?;
        }
        drop(writing);
        self.store.sync()?;
        Ok(done)
    }

    /// The cache a document lives in.
    fn cache_of(&self, key: &DocKey) -> &DocCache<DocKey> {
        match key.reader {
            Reader::Public => &self.docs,
            Reader::Subscriber(_) => &self.keyed_docs,
        }
    }

    /// Drops the documents rendered from `tags`, public and keyed.
    fn invalidate(&self, tags: &[Tag]) {
        self.docs.invalidate(tags);
        self.keyed_docs.invalidate(tags);
    }

    /// Drops them and forgets their last renders too (a kill), public and keyed.
    fn forget(&self, tags: &[Tag]) {
        self.docs.forget(tags);
        self.keyed_docs.forget(tags);
    }

    /// Tells the cache tier and the hubs of a durable change, unless it is
    /// of a licensed section: no public document changed, and a purge or a
    /// ping would name the section and the story.
    fn tell_edge(&self, tags: &[Tag]) {
        let licensed = tags.iter().any(|t| matches!(t, Tag::Section(slug) if self.licensed.is_licensed(slug)));
        if !licensed {
            self.edge.changed(tags);
        }
    }

    /// Refuses (or takes again) imports, deletes and releases while the
    /// store is made again from the archive.
    pub fn set_rebuilding(&self, on: bool) {
        self.rebuilding.store(on, std::sync::atomic::Ordering::SeqCst);
    }

    pub fn is_rebuilding(&self) -> bool {
        self.rebuilding.load(std::sync::atomic::Ordering::SeqCst)
    }

    pub fn journal(&self) -> &Journal {
        &self.journal
    }

    /// Flushes the store and the archive: call before exit.
    pub fn close(&self) -> Result<(), StoreError> {
        self.store.close()?;
        self.journal.close().map_err(|e| StoreError::Flush(format!("closing the archive: {e}")))
    }

    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn site(&self) -> &Site {
        &self.site
    }

    pub fn edge(&self) -> &Edge {
        &self.edge
    }

    pub fn lifetimes(&self) -> &Lifetimes {
        &self.lifetimes
    }

    pub fn import_settings(&self) -> &ImportSettings {
        &self.import
    }

    /// Parses and stores one story, and drops the documents it changes.
    /// Not yet durable: [`App::import`] syncs; a bulk import syncs once at
    /// its end.
    pub fn ingest(&self, bytes: &[u8], asked: &Asked<'_>) -> Result<Ingested, IngestError> {
        let received = import::now();
        // Parsed before the right to write is taken: parses run side by side.
        let parsed = import::parse(bytes, asked, &self.import, received)?;
        let mut writing = self.begin(bytes.len())?;
        let ingested = self.apply_transmission(parsed, asked, received)?;
        let meta = Received {
            received,
            media: crate::journal::media_name(asked.media).to_owned(),
            section: asked.section.map(str::to_owned),
            embargo: asked.embargo,
            restore: asked.restore,
            outcome: ingested.outcome.label().to_owned(),
            id: outcome_id(&ingested.outcome),
        };
        self.record(&mut writing, &Entry::Transmission { meta, bytes: bytes.to_vec() })?;
        Ok(ingested)
    }

    /// The right to change the store, with room in the archive for a
    /// record of `room` raw bytes.
    fn begin(&self, room: usize) -> Result<Writing<'_>, StoreError> {
        if self.is_rebuilding() {
            return Err(StoreError::Unavailable(
                "the store is being made again from the archive (see /healthz); writes are taken when it is done"
                    .into(),
            ));
        }
        self.journal.begin(room).map_err(archive_error)
    }

    /// Appends the record of a change just made, and notes it applied.
    fn record(&self, writing: &mut Writing<'_>, entry: &Entry) -> Result<(), StoreError> {
        let seq = writing.append(entry).map_err(archive_error)?;
        self.store.set_applied(seq)
    }

    fn apply_transmission(
        &self,
        parsed: import::Parsed,
        asked: &Asked<'_>,
        received: DateTime<Utc>,
    ) -> Result<Ingested, IngestError> {
        let ingested = import::store_parsed(&self.store, parsed, asked, received)?;
        match (&ingested.outcome, changed(&ingested.outcome)) {
            (Outcome::Killed(_), Some(tags)) => self.forget(&tags),
            (_, Some(tags)) => self.invalidate(&tags),
            (_, None) => {}
        }
        Ok(ingested)
    }

    /// One story from a client: stored, durable, then the cache tier and
    /// hubs told.
    pub fn import(&self, bytes: &[u8], asked: &Asked<'_>) -> Result<Ingested, IngestError> {
        let ingested = self.ingest(bytes, asked)?;
        // Even "unchanged" waits for the disk: the first copy may still be in flight.
        self.store.sync()?;
        if let Some(tags) = changed(&ingested.outcome) {
            self.tell_edge(&tags);
        }
        self.metrics.imports.with_label_values(&[ingested.outcome.label()]).inc();
        Ok(ingested)
    }

    /// What would be stored, storing nothing.
    pub fn check(&self, bytes: &[u8], asked: &Asked<'_>) -> Result<Checked, IngestError> {
        import::check(bytes, asked, &self.import, import::now())
    }

    /// A delete is a kill: the story leaves a tombstone, so a late copy of
    /// it cannot quietly bring it back. A held (embargoed) story is killed
    /// the same way and never released.
    pub fn delete(&self, id: &ArticleId) -> Result<Deleted, StoreError> {
        let at = import::now();
        let deleted = {
            let mut writing = self.begin(0)?;
            let deleted = self.apply_delete(id, at)?;
            if matches!(deleted, Deleted::Killed(_)) {
                self.record(&mut writing, &Entry::Delete { id: id.clone(), at })?;
            }
            deleted
        };
        let Deleted::Killed(stone) = &deleted else { return Ok(deleted) };
        self.store.sync()?;
        self.tell_edge(&Tag::story(&stone.section.slug, &stone.id, &stone.headline));
        self.metrics.imports.with_label_values(&["deleted"]).inc();
        Ok(deleted)
    }

    fn apply_delete(&self, id: &ArticleId, at: DateTime<Utc>) -> Result<Deleted, StoreError> {
        let Some(stone) = self.store.kill(id, at)? else {
            return Ok(self.store.tombstone(id)?.map_or(Deleted::NotFound, Deleted::Already));
        };
        self.forget(&Tag::story(&stone.section.slug, &stone.id, &stone.headline));
        Ok(Deleted::Killed(stone))
    }

    /// The tombstone of a killed story.
    pub fn tombstone(&self, id: &ArticleId) -> Result<Option<Tombstone>, StoreError> {
        self.store.tombstone(id)
    }

    /// Publishes the embargoed stories due at `now`; those killed while
    /// held are dropped.
    pub fn release_due(&self, now: DateTime<Utc>) -> Result<Vec<Put>, StoreError> {
        if self.is_rebuilding() {
            // Released once the rebuild is done, in the archive's order.
            return Ok(Vec::new());
        }
        let puts = {
            let mut writing = self.begin(0)?;
            let (puts, changed) = self.apply_release(now)?;
            if changed {
                self.record(&mut writing, &Entry::Release { at: now })?;
            }
            puts
        };
        self.published(puts)
    }

    fn apply_release(&self, now: DateTime<Utc>) -> Result<(Vec<Put>, bool), StoreError> {
        let released = self.store.release_due(now)?;
        let changed = !released.is_empty();
        Ok((self.unheld(released), changed))
    }

    /// Publishes one held story now (`POST /articles/{id}/release`).
    /// `None`: no story of that id is held.
    pub fn release_now(&self, id: &ArticleId) -> Result<Option<Released>, StoreError> {
        let at = import::now();
        let released = {
            let mut writing = self.begin(0)?;
            let released = self.apply_release_now(id, at)?;
            if released.is_some() {
                self.record(&mut writing, &Entry::ReleaseNow { id: id.clone(), at })?;
            }
            released
        };
        let Some(released) = released else { return Ok(None) };
        self.published(self.unheld(vec![released.clone()]))?;
        Ok(Some(released))
    }

    fn apply_release_now(&self, id: &ArticleId, at: DateTime<Utc>) -> Result<Option<Released>, StoreError> {
        let released = self.store.release_now(id, at)?;
        if let Some(r) = &released {
            self.unheld(vec![r.clone()]);
        }
        Ok(released)
    }

    /// The stories released into the indexes, their documents dropped;
    /// those killed while held are dropped.
    fn unheld(&self, released: Vec<Released>) -> Vec<Put> {
        let mut puts = Vec::new();
        for r in released {
            match r {
                Released::Published(put) => puts.push(put),
                Released::Killed(a) => tracing::warn!(id = %a.id, "a held story was killed: not released"),
            }
        }
        for tags in puts.iter().filter_map(written) {
            self.invalidate(&tags);
        }
        puts
    }

    /// Makes released stories durable and tells caches and hubs.
    fn published(&self, puts: Vec<Put>) -> Result<Vec<Put>, StoreError> {
        self.store.sync()?;
        for tags in puts.iter().filter_map(written) {
            self.tell_edge(&tags);
        }
        self.metrics.imports.with_label_values(&["released"]).inc_by(puts.len() as u64);
        Ok(puts)
    }

    /// Loads one exported article as it was (`wirefeed restore`). Not yet
    /// durable: call [`App::close`] at the end.
    pub fn restore(&self, article: &Article) -> Result<(), StoreError> {
        // Room for the article's JSON: a long story is far over the room an entry's JSON gets.
        let room = serde_json::to_vec(article).map_or(0, |json| json.len());
        let mut writing = self.begin(room)?;
        self.apply_restored(article)?;
        self.record(&mut writing, &Entry::Restored(Box::new(article.clone())))
    }

    /// Keeps an article the store already holds in the archive, as if
    /// restored (a store from before the archive: a rebuild brings it back).
    pub fn adopt(&self, article: &Article) -> Result<(), StoreError> {
        let room = serde_json::to_vec(article).map_or(0, |json| json.len());
        let mut writing = self.begin(room)?;
        self.record(&mut writing, &Entry::Restored(Box::new(article.clone())))
    }

    fn apply_restored(&self, article: &Article) -> Result<(), StoreError> {
        // Made again after a crash between the change and its note: once is enough.
        if self.store.get(&article.id)?.is_some() {
            return Ok(());
        }
        self.store.restore_one(article)?;
        self.invalidate(&Tag::story(&article.section.slug, &article.id, &article.headline));
        Ok(())
    }

    /// Makes the change an archive record says again, as it was made live
    /// (a rebuild), and notes it applied; appends nothing. What came of it
    /// is returned, to compare with what the record says came of it then.
    pub fn replay(&self, seq: u64, entry: &Entry) -> Result<Replayed, IngestError> {
        let done = match entry {
            Entry::Transmission { meta, bytes } => {
                let asked = Asked {
                    media: meta.media(),
                    section: meta.section.as_deref(),
                    embargo: meta.embargo,
                    restore: meta.restore,
                };
                let parsed = import::parse(bytes, &asked, &self.import, meta.received);
                match parsed.and_then(|parsed| self.apply_transmission(parsed, &asked, meta.received)) {
                    Ok(ingested) => Replayed::Outcome {
                        outcome: ingested.outcome.label().to_owned(),
                        id: outcome_id(&ingested.outcome),
                    },
                    Err(IngestError::Store(e)) => return Err(IngestError::Store(e)),
                    Err(refused) => Replayed::Refused(refused.to_string()),
                }
            }
            Entry::Delete { id, at } => {
                self.apply_delete(id, *at)?;
                Replayed::Done
            }
            Entry::Release { at } => {
                self.apply_release(*at)?;
                Replayed::Done
            }
            Entry::ReleaseNow { id, at } => {
                self.apply_release_now(id, *at)?;
                Replayed::Done
            }
            Entry::Restored(article) => {
                self.apply_restored(article)?;
                Replayed::Done
            }
            Entry::Subscriber(record) => {
                self.subscribers.apply(record)?;
                Replayed::Done
            }
            Entry::SubscriberRevoked { name } => {
                self.subscribers.apply_revoked(name)?;
                Replayed::Done
            }
            // A new kind is made again here, by the same function that made it live.
            Entry::Unknown { kind } => Replayed::Unknown(*kind),
        };
        self.store.set_applied(seq)?;
        Ok(done)
    }

    /// Imports every story file of `dir` into an empty store.
    pub fn seed(&self, dir: &Path) -> anyhow::Result<()> {
        if !self.store.is_empty() {
            return Ok(());
        }
        let mut files = match std::fs::read_dir(dir) {
            Ok(entries) => entries.filter_map(Result::ok).map(|e| e.path()).filter(|p| p.is_file()).collect::<Vec<_>>(),
            Err(e) => {
                tracing::warn!(dir = %dir.display(), error = %e, "no seed folder: starting with an empty store");
                return Ok(());
            }
        };
        files.sort();
        for path in files {
            let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
            match self.ingest(&bytes, &Asked::TEXT) {
                Ok(done) => tracing::info!(file = %path.display(), outcome = done.outcome.label(), "seeded"),
                Err(e) => tracing::warn!(file = %path.display(), error = %e, "seed story rejected"),
            }
        }
        self.store.sync()?;
        Ok(())
    }

    /// The cached document of `key`, if there is one: the hot path.
    pub fn cached(&self, key: &DocKey) -> Option<Arc<Doc>> {
        self.cache_of(key).get(key)
    }

    /// The right to render `key`: concurrent misses of one document wait
    /// for the first one's render. Look in the cache again once it is held.
    pub async fn flight(&self, key: &DocKey) -> Flight<'_, DocKey> {
        self.cache_of(key).flight(key).await
    }

    /// How `key` is kept. The first [`MAX_BASES`] public addresses asked
    /// for are remembered here (with `WIREFEED_PUBLIC_URL` there is one).
    pub fn class(&self, key: &DocKey) -> Class {
        // A subscriber's address holds its key: its documents live in a
        // cache of their own (a client varies it only with a working key),
        // and never take one of the public addresses' places.
        if key.reader != Reader::Public {
            return if key.doc.is_older_page() { Class::Older } else { Class::Current };
        }
        let known = {
            let bases = self.bases.read().unwrap_or_else(|e| e.into_inner());
            match bases.contains(&key.base) {
                true => Some(true),
                false if bases.len() >= MAX_BASES => Some(false),
                false => None,
            }
        };
        let known = known.unwrap_or_else(|| self.remember(&key.base));
        match (known, key.doc.is_older_page()) {
            (false, _) => Class::Foreign,
            (true, true) => Class::Older,
            (true, false) => Class::Current,
        }
    }

    /// Adds `base` to the cached addresses while there is room.
    fn remember(&self, base: &Base) -> bool {
        let mut bases = self.bases.write().unwrap_or_else(|e| e.into_inner());
        if bases.contains(base) {
            return true;
        }
        if bases.len() >= MAX_BASES {
            return false;
        }
        tracing::info!(base = base.as_str(), "documents at this public address are cached");
        bases.push(base.clone());
        true
    }

    /// The right to render or compress a cold document: one at a time.
    pub async fn cold_permit(&self) -> tokio::sync::SemaphorePermit<'_> {
        self.cold.acquire().await.expect("the semaphore is never closed")
    }

    /// The cursor of the real page boundary that an older page's `cursor`
    /// stands for: the time of the oldest story at or after it (the page
    /// before it lists exactly what the page before `cursor` lists), or
    /// `None` when no story is that new (the page is the first one). One
    /// index seek: `page` with no items reads only the entry after the
    /// cursor, for its `prev` link.
    pub fn boundary(&self, listing: &Listing, cursor: i64) -> Result<Option<i64>, StoreError> {
        Ok(self.store.page(listing, Some(cursor), 0)?.prev.flatten())
    }

    /// Renders the document of `key` and caches it, unless its class is
    /// [`Class::Foreign`].
    pub fn render(&self, key: &DocKey, class: Class) -> Result<Lookup, StoreError> {
        self.metrics.renders.inc();
        let cache = self.cache_of(key);
        let generation = cache.generation();
        let public = key.reader == Reader::Public;
        let from = Sources {
            store: &self.store,
            site: if public { &self.site } else { &self.keyed_site },
            page_items: self.page_items,
            licensed: &self.licensed,
            reader: &key.reader,
        };
        let rendered = match key.doc.render(&from, &key.base) {
            Ok(rendered) => rendered,
            // The store cannot be read now (a full disk, a reopen, a
            // rebuild): readers get what was last rendered, if anything was.
            Err(e) => match cache.last(key) {
                Some(doc) => {
                    tracing::warn!(error = %e, "store unreadable: serving the last render");
                    return Ok(Lookup::Doc(doc));
                }
                None => return Err(e),
            },
        };
        Ok(match rendered {
            Rendered::Doc(mut doc, mut tags) => {
                tags.extend(key.doc.tags());
                // A subscriber's document is never in a shared cache: no tags to purge it by.
                if public {
                    doc.headers.extra.extend(self.edge.tag_header(&tags));
                }
                let doc = Arc::new(doc);
                if class != Class::Foreign {
                    cache.insert(key.clone(), Arc::clone(&doc), tags, generation, class == Class::Older);
                }
                Lookup::Doc(doc)
            }
            Rendered::Missing(what) => Lookup::Missing(what),
            Rendered::Gone(what) => Lookup::Gone(what),
        })
    }

    /// An article's JSON with the notes not meant for publication, for the
    /// token holder: never cached.
    pub fn article_with_notes(&self, base: &Base, id: &ArticleId) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.store.get(id)?.map(|article: Article| documents::article_json(base, &article, true)))
    }
}

/// What replaying a record did.
#[derive(Debug, Clone, PartialEq)]
pub enum Replayed {
    /// A transmission stored (or not, as the store decided), or a kill.
    Outcome { outcome: String, id: Option<ArticleId> },
    /// A transmission today's parser (or the store) refuses.
    Refused(String),
    /// A change that is not a transmission, made again.
    Done,
    /// A record of a kind this build does not know: skipped.
    Unknown(u8),
}

/// The id an import outcome names.
fn outcome_id(outcome: &Outcome) -> Option<ArticleId> {
    match outcome {
        Outcome::Stored(put) => Some(put.article().id.clone()),
        Outcome::Killed(stone) => stone.as_ref().map(|s| s.id.clone()),
    }
}

/// An archive write that failed: a full disk is a 507 like the store's.
fn archive_error(e: std::io::Error) -> StoreError {
    if crate::store::space::is_no_space(&e) {
        StoreError::NoSpace(format!("writing the archive: {e}"))
    } else {
        StoreError::Flush(format!("writing the archive: {e}"))
    }
}

/// What an import changed, if anything.
fn changed(outcome: &Outcome) -> Option<Vec<Tag>> {
    match outcome {
        Outcome::Stored(put) => written(put),
        Outcome::Killed(Some(stone)) => Some(Tag::story(&stone.section.slug, &stone.id, &stone.headline)),
        Outcome::Killed(None) => None,
    }
}

/// What a put changed: nothing when it wrote nothing visible.
fn written(put: &Put) -> Option<Vec<Tag>> {
    match put {
        Put::Created(a) | Put::Updated { article: a, .. } => Some(Tag::story(&a.section.slug, &a.id, &a.headline)),
        Put::Unchanged(_) | Put::Stale(_) | Put::Held(_) => None,
    }
}
