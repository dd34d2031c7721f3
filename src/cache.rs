//! Rendered documents kept in memory as bytes, with their ETag and
//! Last-Modified, and their gzip and brotli forms made once, on first ask
//! (off the request threads: see `routes::respond`).
//!
//! The cache is bounded in entries and bytes and, when full, drops the
//! least recently used entries, never everything: a client naming many
//! documents (cursors, hosts) pushes out only what nobody read for longest.
//! Entries of two classes have separate budgets: documents every reader
//! polls (current pages) and cold ones a client can name in numbers (older
//! pages, further hosts), so walking the cold ones never evicts a current page.
//!
//! Each entry carries the tags of what it was rendered from (a section, an
//! article, a related headline, or everything). A write drops exactly the
//! entries whose tags it touches. A render that raced with a write is not
//! cached: renders note the write generation before reading the store and
//! insert only if no write happened since, so no reader sees a document
//! older than the last acknowledged write.

use std::collections::HashMap;
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};

use std::hash::Hash;

use actix_web::http::header::{HeaderName, HeaderValue, HttpDate};
use actix_web::web::Bytes;
use chrono::{DateTime, Utc};

use crate::domain::{headline_key, ArticleId, SectionSlug};

/// What a key counts against [`MAX_BYTES`] besides its document.
const KEY_WEIGHT: usize = 128;

/// Most entries of current documents kept; past this the least recently
/// used go.
const MAX_ENTRIES: usize = 20_000;

/// Most bytes of current documents kept, counting each body once and half
/// again for its compressed forms; past this the least recently used go.
/// The entry count alone does not bound memory: a 50-item feed page is
/// ~100 KB (20,000 pages would be ~2 GB).
const MAX_BYTES: usize = 16 << 20;

/// The budgets of cold documents (older pages, further hosts): a quarter.
const MAX_COLD_ENTRIES: usize = MAX_ENTRIES / 4;
const MAX_COLD_BYTES: usize = MAX_BYTES / 4;

/// When a class is over its budget, entries go until it is down to this
/// share of it (in 1/16ths): one scan frees room for many inserts.
const EVICT_TO_SIXTEENTHS: usize = 14;

/// A rendered document.
pub struct Doc {
    pub body: Bytes,
    /// Strong validator from the content (without quotes).
    pub etag: String,
    pub last_modified: Option<DateTime<Utc>>,
    /// Header values made once here rather than on every answer (boxed: a
    /// `Doc` travels by value in `Rendered`).
    pub headers: Box<DocHeaders>,
    gzip: OnceLock<Bytes>,
    brotli: OnceLock<Bytes>,
}

/// A document's response header values.
pub struct DocHeaders {
    /// `"<etag>"`, `"<etag>-gz"`, `"<etag>-br"`: the validator of each coding.
    pub etag: HeaderValue,
    pub etag_gzip: HeaderValue,
    pub etag_brotli: HeaderValue,
    pub content_type: HeaderValue,
    pub last_modified: Option<HeaderValue>,
    /// Further headers of this document (its cache tags, a feed's WebSub links).
    pub extra: Vec<(HeaderName, HeaderValue)>,
}

impl Doc {
    pub fn new(mut body: Vec<u8>, content_type: &'static str, last_modified: Option<DateTime<Utc>>) -> Doc {
        // A render grows its Vec by doubling; a cached body keeps only what it uses.
        body.shrink_to_fit();
        let etag = format!("{:032x}", xxhash_rust::xxh3::xxh3_128(&body));
        let value = |v: String| HeaderValue::from_str(&v).expect("hex digits and a date are valid header values");
        let headers = Box::new(DocHeaders {
            etag: value(format!("\"{etag}\"")),
            etag_gzip: value(format!("\"{etag}-gz\"")),
            etag_brotli: value(format!("\"{etag}-br\"")),
            content_type: HeaderValue::from_static(content_type),
            last_modified: last_modified.map(|lm| value(HttpDate::from(std::time::SystemTime::from(lm)).to_string())),
            extra: Vec::new(),
        });
        Doc { body: Bytes::from(body), etag, last_modified, headers, gzip: OnceLock::new(), brotli: OnceLock::new() }
    }

    /// The gzip form, if it was made.
    pub fn gzip_ready(&self) -> Option<&Bytes> {
        self.gzip.get()
    }

    /// The brotli form, if it was made.
    pub fn brotli_ready(&self) -> Option<&Bytes> {
        self.brotli.get()
    }

    /// The gzip form, compressed on first use.
    pub fn gzip(&self) -> &Bytes {
        self.gzip.get_or_init(|| {
            let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(6));
            enc.write_all(&self.body).expect("gzip into memory");
            Bytes::from(enc.finish().expect("gzip into memory"))
        })
    }

    /// The brotli form, compressed on first use.
    pub fn brotli(&self) -> &Bytes {
        self.brotli.get_or_init(|| {
            let mut out = Vec::new();
            let params = brotli::enc::BrotliEncoderParams { quality: 6, ..Default::default() };
            brotli::BrotliCompress(&mut &self.body[..], &mut out, &params).expect("brotli into memory");
            Bytes::from(out)
        })
    }
}

/// What a document was rendered from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Tag {
    /// Anything at all (all-sections feeds, home page, OPML).
    All,
    /// The home page (besides [`Tag::All`]): a cache tier purges it by name.
    Home,
    Section(SectionSlug),
    Article(ArticleId),
    /// A related story's headline in a section (as [`headline_key`] makes
    /// it): an article page links it once a story with that headline is stored.
    Headline(SectionSlug, String),
}

impl Tag {
    /// What a write or kill of a story changes: its section (and with it
    /// every all-sections document), its own documents, and pages that
    /// link it by headline.
    pub fn story(slug: &SectionSlug, id: &ArticleId, headline: &str) -> Vec<Tag> {
        vec![Tag::Section(slug.clone()), Tag::Article(id.clone()), Tag::Headline(slug.clone(), headline_key(headline))]
    }
}

struct Entry {
    doc: Arc<Doc>,
    tags: Vec<Tag>,
    cold: bool,
    /// The cache's clock at the last read: the least recent go first.
    used: AtomicU64,
}

impl Entry {
    /// What the entry counts against [`MAX_BYTES`].
    fn weight(&self) -> usize {
        KEY_WEIGHT + self.doc.body.len() + self.doc.body.len() / 2
    }
}

/// Entries and bytes of one class.
#[derive(Default, Clone, Copy)]
struct Usage {
    entries: usize,
    bytes: usize,
}

impl Usage {
    fn add(&mut self, entry: &Entry) {
        self.entries += 1;
        self.bytes += entry.weight();
    }

    fn remove(&mut self, entry: &Entry) {
        self.entries -= 1;
        self.bytes -= entry.weight();
    }
}

/// The map's hasher: foldhash, seeded at random (a client names keys through
/// `Host` and `?before=`), at a fraction of SipHash's cost on the path of
/// every cached answer.
type Hasher = foldhash::fast::RandomState;

struct Entries<K> {
    map: HashMap<K, Entry, Hasher>,
    /// Current and cold entries' counts and weights.
    current: Usage,
    cold: Usage,
}

impl<K> Entries<K> {
    fn usage(&mut self, cold: bool) -> &mut Usage {
        if cold {
            &mut self.cold
        } else {
            &mut self.current
        }
    }

    #[cfg(test)]
    fn bytes(&self) -> usize {
        self.current.bytes + self.cold.bytes
    }
}

/// The document cache, by a key naming a document.
pub struct DocCache<K> {
    entries: RwLock<Entries<K>>,
    writes: AtomicU64,
    /// Counts reads: an entry's `used` is this clock at its last read.
    clock: AtomicU64,
    /// Keys being rendered now, each with the lock its renderer holds.
    flights: Mutex<HashMap<K, Arc<tokio::sync::Mutex<()>>>>,
    /// The last render of each current document, kept through the
    /// invalidations that drop it from `entries` (not through a kill):
    /// what readers get while the store cannot be read.
    last: Mutex<Last<K>>,
}

/// Last renders, within the same budget as the cache's current documents.
struct Last<K> {
    map: HashMap<K, (Arc<Doc>, Vec<Tag>)>,
    bytes: usize,
}

impl<K> Default for Last<K> {
    fn default() -> Self {
        Last { map: HashMap::new(), bytes: 0 }
    }
}

impl<K> Default for DocCache<K> {
    fn default() -> Self {
        DocCache {
            entries: RwLock::new(Entries {
                map: HashMap::default(),
                current: Usage::default(),
                cold: Usage::default(),
            }),
            writes: AtomicU64::new(0),
            clock: AtomicU64::new(0),
            flights: Mutex::new(HashMap::new()),
            last: Mutex::default(),
        }
    }
}

/// The right to render one key: concurrent misses of a document wait for
/// the first one's render (then find it cached) instead of each rendering
/// it, which after a purge at the edge would be every edge node at once.
pub struct Flight<'a, K: Hash + Eq> {
    cache: &'a DocCache<K>,
    key: K,
    lock: Arc<tokio::sync::Mutex<()>>,
    _held: tokio::sync::OwnedMutexGuard<()>,
}

impl<K: Hash + Eq> Drop for Flight<'_, K> {
    fn drop(&mut self) {
        let mut flights = self.cache.flights.lock().unwrap_or_else(|e| e.into_inner());
        if flights.get(&self.key).is_some_and(|l| Arc::ptr_eq(l, &self.lock)) {
            flights.remove(&self.key);
        }
    }
}

impl<K: Hash + Eq + Clone> DocCache<K> {
    /// A cached document.
    pub fn get(&self, key: &K) -> Option<Arc<Doc>> {
        let entries = self.entries.read().unwrap_or_else(|e| e.into_inner());
        let entry = entries.map.get(key)?;
        // Under the read lock: two atomics, no allocation, no write lock.
        entry.used.store(self.clock.fetch_add(1, Ordering::Relaxed), Ordering::Relaxed);
        Some(Arc::clone(&entry.doc))
    }

    /// Waits until no one else is rendering `key`, and holds that right
    /// until the returned guard is dropped. Look in the cache again after
    /// it: the one waited for has probably just put the document there.
    pub async fn flight(&self, key: &K) -> Flight<'_, K> {
        let lock = {
            let mut flights = self.flights.lock().unwrap_or_else(|e| e.into_inner());
            Arc::clone(flights.entry(key.clone()).or_default())
        };
        let held = Arc::clone(&lock).lock_owned().await;
        Flight { cache: self, key: key.clone(), lock, _held: held }
    }

    /// The write generation: take it before reading the store for a render.
    pub fn generation(&self) -> u64 {
        self.writes.load(Ordering::SeqCst)
    }

    /// Keeps a render made from a store read at `generation`, unless a write
    /// happened since. `cold`: an older page or a further host, kept within
    /// a budget of its own.
    pub fn insert(&self, key: K, doc: Arc<Doc>, tags: Vec<Tag>, generation: u64, cold: bool) {
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        if self.writes.load(Ordering::SeqCst) != generation {
            return;
        }
        if !cold {
            self.keep_last(&key, &doc, &tags);
        }
        let used = AtomicU64::new(self.clock.fetch_add(1, Ordering::Relaxed));
        let entry = Entry { doc, tags, cold, used };
        if let Some(old) = entries.map.remove(&key) {
            entries.usage(old.cold).remove(&old);
        }
        let (max_entries, max_bytes) = if cold { (MAX_COLD_ENTRIES, MAX_COLD_BYTES) } else { (MAX_ENTRIES, MAX_BYTES) };
        if entry.weight() > max_bytes {
            return; // larger than the whole budget: served, not kept
        }
        let usage = *entries.usage(cold);
        if usage.entries >= max_entries || usage.bytes + entry.weight() > max_bytes {
            let keep = |max: usize| max / 16 * EVICT_TO_SIXTEENTHS;
            evict(&mut entries, cold, keep(max_entries), keep(max_bytes));
        }
        entries.usage(cold).add(&entry);
        entries.map.insert(key, entry);
    }

    /// Keeps a render as the key's last one (replacing the one before);
    /// a new key past the budget is not kept.
    fn keep_last(&self, key: &K, doc: &Arc<Doc>, tags: &[Tag]) {
        let weight = |doc: &Doc| doc.body.len() + KEY_WEIGHT;
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((old, _)) = last.map.remove(key) {
            last.bytes -= weight(&old);
        }
        if last.map.len() < MAX_ENTRIES && last.bytes + weight(doc) <= MAX_BYTES {
            last.bytes += weight(doc);
            last.map.insert(key.clone(), (Arc::clone(doc), tags.to_vec()));
        }
    }

    /// The last render of `key`, even when a write has dropped it from the
    /// cache since: for readers while the store cannot be read.
    pub fn last(&self, key: &K) -> Option<Arc<Doc>> {
        let last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        last.map.get(key).map(|(doc, _)| Arc::clone(doc))
    }

    /// Drops every document rendered from a killed story, last renders
    /// included: a killed story is never served again, not even while the
    /// store cannot be read.
    pub fn forget(&self, killed: &[Tag]) {
        self.invalidate(killed);
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        let Last { map, bytes } = &mut *last;
        map.retain(|_, (doc, tags)| {
            let keep = !tags.iter().any(|t| *t == Tag::All || killed.contains(t));
            if !keep {
                *bytes -= doc.body.len() + KEY_WEIGHT;
            }
            keep
        });
    }

    /// Drops every document rendered from any of `changed`. Call after the
    /// write is in the store and before it is acknowledged.
    pub fn invalidate(&self, changed: &[Tag]) {
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        self.writes.fetch_add(1, Ordering::SeqCst);
        let Entries { map, current, cold } = &mut *entries;
        map.retain(|_, entry| {
            let keep = !entry.tags.iter().any(|t| *t == Tag::All || changed.contains(t));
            if !keep {
                if entry.cold { &mut *cold } else { &mut *current }.remove(entry);
            }
            keep
        });
    }

    pub fn len(&self) -> usize {
        self.entries.read().unwrap_or_else(|e| e.into_inner()).map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Drops the least recently read entries of one class until it holds at
/// most `entries` entries and `bytes` bytes.
fn evict<K: Hash + Eq + Clone>(all: &mut Entries<K>, cold: bool, entries: usize, bytes: usize) {
    let mut class: Vec<(u64, usize, &K)> = all
        .map
        .iter()
        .filter(|(_, e)| e.cold == cold)
        .map(|(k, e)| (e.used.load(Ordering::Relaxed), e.weight(), k))
        .collect();
    class.sort_unstable_by_key(|(used, ..)| *used);
    let mut usage = if cold { all.cold } else { all.current };
    let mut gone = Vec::new();
    for (_, weight, key) in class {
        if usage.entries <= entries && usage.bytes <= bytes {
            break;
        }
        usage.entries -= 1;
        usage.bytes -= weight;
        gone.push(key.clone());
    }
    for key in gone {
        if let Some(entry) = all.map.remove(&key) {
            all.usage(cold).remove(&entry);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(bytes: usize) -> Arc<Doc> {
        Arc::new(Doc::new(vec![b'x'; bytes], "text/plain", None))
    }

    #[test]
    fn many_large_pages_stay_within_the_byte_budget() {
        let cache = DocCache::<String>::default();
        for i in 0..1_000 {
            cache.insert(format!("page {i}"), doc(100_000), vec![Tag::All], cache.generation(), false);
            let bytes = cache.entries.read().unwrap().bytes();
            assert!(bytes <= MAX_BYTES, "{bytes} bytes after {i} pages");
        }
        assert!(cache.len() < 1_000);
        assert!(cache.get(&"page 999".to_owned()).is_some());
    }

    #[tokio::test(flavor = "current_thread")]
    async fn concurrent_misses_of_one_key_render_once() {
        let cache = Arc::new(DocCache::<&str>::default());
        let renders = Arc::new(AtomicU64::new(0));
        let tasks: Vec<_> = (0..16)
            .map(|_| {
                let (cache, renders) = (Arc::clone(&cache), Arc::clone(&renders));
                tokio::spawn(async move {
                    if cache.get(&"feed").is_some() {
                        return;
                    }
                    let _flight = cache.flight(&"feed").await;
                    if cache.get(&"feed").is_some() {
                        return;
                    }
                    let generation = cache.generation();
                    renders.fetch_add(1, Ordering::SeqCst);
                    // A render takes a while: every other task arrives meanwhile.
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                    cache.insert("feed", doc(10), vec![Tag::All], generation, false);
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        assert_eq!(renders.load(Ordering::SeqCst), 1);
        assert!(cache.flights.lock().unwrap().is_empty(), "finished flights are forgotten");
    }

    #[test]
    fn invalidation_gives_back_the_bytes_of_what_it_drops() {
        let cache = DocCache::<&str>::default();
        let (world, sport) = (SectionSlug::parse("world").unwrap(), SectionSlug::parse("sport").unwrap());
        cache.insert("a", doc(1_000), vec![Tag::Section(world.clone())], cache.generation(), false);
        cache.insert("b", doc(1_000), vec![Tag::Section(sport.clone())], cache.generation(), false);
        cache.insert("b", doc(2_000), vec![Tag::Section(sport)], cache.generation(), false);
        cache.invalidate(&[Tag::Section(world)]);
        assert!(cache.get(&"a").is_none());
        assert_eq!(cache.entries.read().unwrap().bytes(), KEY_WEIGHT + 3_000);
    }

    #[test]
    fn the_last_render_outlives_an_invalidation_but_not_a_kill() {
        let cache: DocCache<u32> = DocCache::default();
        let story = Tag::story(&SectionSlug::parse("world").unwrap(), &ArticleId::parse("2016-07-26-a").unwrap(), "A");
        cache.insert(1, doc(100), story.clone(), cache.generation(), false);
        cache.insert(2, doc(100), Vec::new(), cache.generation(), false);
        cache.invalidate(&story);
        assert!(cache.get(&1).is_none(), "dropped from the cache");
        assert!(cache.last(&1).is_some(), "kept as the last render");
        cache.forget(&story);
        assert!(cache.last(&1).is_none(), "a kill forgets it");
        assert!(cache.last(&2).is_some(), "the others stay");
        cache.insert(3, doc(100), Vec::new(), cache.generation(), true);
        assert!(cache.last(&3).is_none(), "older pages keep no last render");
    }

    #[test]
    fn a_full_cache_drops_the_least_recently_read_not_everything() {
        let cache = DocCache::<String>::default();
        cache.insert("hot".into(), doc(100_000), vec![Tag::All], cache.generation(), false);
        for i in 0..1_000 {
            cache.insert(format!("page {i}"), doc(100_000), vec![Tag::All], cache.generation(), false);
            // A reader keeps reading the hot document.
            assert!(cache.get(&"hot".to_owned()).is_some(), "the hot document went after {i} inserts");
        }
        assert!(cache.len() > 100, "most of the cache stays: {}", cache.len());
    }

    #[test]
    fn cold_documents_never_push_out_current_ones() {
        let cache = DocCache::<String>::default();
        for i in 0..100 {
            cache.insert(format!("current {i}"), doc(100_000), vec![Tag::All], cache.generation(), false);
        }
        for i in 0..10_000 {
            cache.insert(format!("cold {i}"), doc(10_000), vec![Tag::All], cache.generation(), true);
        }
        for i in 0..100 {
            assert!(cache.get(&format!("current {i}")).is_some(), "current {i}");
        }
        let entries = cache.entries.read().unwrap();
        assert!(entries.cold.bytes <= MAX_COLD_BYTES && entries.cold.entries <= MAX_COLD_ENTRIES);
        assert_eq!(entries.map.len(), entries.current.entries + entries.cold.entries);
    }
}
