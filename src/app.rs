//! The application: the store, the document cache and the import settings
//! together, and what is done with them: import, delete, release, and
//! document lookup. The HTTP handlers, the command line and seeding all go
//! through here, so a write invalidates the same documents and tells the
//! same caches whichever way it came.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use chrono::{DateTime, Utc};

use crate::cache::{Doc, DocCache, Flight, Tag};
use crate::documents::{self, DocKey, Rendered, Sources};
use crate::domain::{Article, ArticleId, Licensed, Listing, Reader};
use crate::edge::{Edge, Lifetimes};
use crate::import::{self, Asked, Checked, ImportSettings, IngestError, Ingested, Outcome};
use crate::render::Site;
use crate::store::{Put, Released, Store, StoreError, Tombstone};
use crate::subscribers::Subscribers;
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
    pub fn new(
        store: Store,
        import: ImportSettings,
        site: Site,
        page_items: usize,
        edge: Edge,
        metrics: Arc<Metrics>,
    ) -> App {
        let subscribers = Subscribers::empty(store.clone());
        let keyed_site = Site { hubs: Vec::new(), ..site.clone() };
        let private_lifetimes = edge.private_lifetimes(site.max_age);
        let lifetimes = edge.lifetimes(site.max_age);
        App {
            store,
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

    /// The `Cache-Control` values of subscribers' documents.
    pub fn private_lifetimes(&self) -> &Lifetimes {
        &self.private_lifetimes
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

    /// Tells the cache tier and the hubs of a durable change, unless it is
    /// of a licensed section: no public document changed, and a purge or a
    /// ping would name the section and the story.
    fn tell_edge(&self, tags: &[Tag]) {
        let licensed = tags.iter().any(|t| matches!(t, Tag::Section(slug) if self.licensed.is_licensed(slug)));
        if !licensed {
            self.edge.changed(tags);
        }
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
        let ingested = import::ingest(&self.store, bytes, asked, &self.import, import::now())?;
        if let Some(tags) = changed(&ingested.outcome) {
            self.invalidate(&tags);
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
        let Some(stone) = self.store.kill(id, import::now())? else {
            return Ok(self.store.tombstone(id)?.map_or(Deleted::NotFound, Deleted::Already));
        };
        let tags = Tag::story(&stone.section.slug, &stone.id, &stone.headline);
        self.invalidate(&tags);
        self.store.sync()?;
        self.tell_edge(&tags);
        self.metrics.imports.with_label_values(&["deleted"]).inc();
        Ok(Deleted::Killed(stone))
    }

    /// The tombstone of a killed story.
    pub fn tombstone(&self, id: &ArticleId) -> Result<Option<Tombstone>, StoreError> {
        self.store.tombstone(id)
    }

    /// Publishes the embargoed stories due at `now`; those killed while
    /// held are dropped.
    pub fn release_due(&self, now: DateTime<Utc>) -> Result<Vec<Put>, StoreError> {
        let released = self.store.release_due(now)?;
        self.published(released)
    }

    /// Publishes one held story now (`POST /articles/{id}/release`).
    /// `None`: no story of that id is held.
    pub fn release_now(&self, id: &ArticleId) -> Result<Option<Released>, StoreError> {
        let Some(released) = self.store.release_now(id, import::now())? else { return Ok(None) };
        self.published(vec![released.clone()])?;
        Ok(Some(released))
    }

    /// Makes released stories durable and tells caches and hubs.
    fn published(&self, released: Vec<Released>) -> Result<Vec<Put>, StoreError> {
        let mut puts = Vec::new();
        for r in released {
            match r {
                Released::Published(put) => puts.push(put),
                Released::Killed(a) => tracing::warn!(id = %a.id, "a held story was killed: not released"),
            }
        }
        let changes: Vec<Vec<Tag>> = puts.iter().filter_map(written).collect();
        for tags in &changes {
            self.invalidate(tags);
        }
        self.store.sync()?;
        for tags in &changes {
            self.tell_edge(tags);
        }
        self.metrics.imports.with_label_values(&["released"]).inc_by(puts.len() as u64);
        Ok(puts)
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
        Ok(match key.doc.render(&from, &key.base)? {
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
