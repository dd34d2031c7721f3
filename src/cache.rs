//! Rendered documents kept in memory as bytes, with their ETag and
//! Last-Modified, and their gzip and brotli forms made once, on first ask.
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
use std::sync::{Arc, OnceLock, RwLock};

use actix_web::web::Bytes;
use chrono::{DateTime, Utc};

/// Most entries kept; past this the cache starts over (a guard against
/// unbounded keys, e.g. many Host names).
const MAX_ENTRIES: usize = 20_000;

/// A rendered document.
pub struct Doc {
    pub body: Bytes,
    pub media_type: &'static str,
    /// Strong validator from the content (without quotes).
    pub etag: String,
    pub last_modified: Option<DateTime<Utc>>,
    gzip: OnceLock<Bytes>,
    brotli: OnceLock<Bytes>,
}

impl Doc {
    pub fn new(body: Vec<u8>, media_type: &'static str, last_modified: Option<DateTime<Utc>>) -> Doc {
        let etag = format!("{:032x}", xxhash_rust::xxh3::xxh3_128(&body));
        Doc { body: Bytes::from(body), media_type, etag, last_modified, gzip: OnceLock::new(), brotli: OnceLock::new() }
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
    Section(String),
    Article(String),
    /// A related story's identity key (section + headline): an article page
    /// links it once a story with that headline is stored.
    Identity(Vec<u8>),
}

struct Entry {
    doc: Arc<Doc>,
    tags: Vec<Tag>,
}

/// The document cache.
#[derive(Default)]
pub struct DocCache {
    entries: RwLock<HashMap<String, Entry>>,
    writes: AtomicU64,
}

impl DocCache {
    /// A cached document.
    pub fn get(&self, key: &str) -> Option<Arc<Doc>> {
        let entries = self.entries.read().unwrap_or_else(|e| e.into_inner());
        entries.get(key).map(|e| Arc::clone(&e.doc))
    }

    /// The write generation: take it before reading the store for a render.
    pub fn generation(&self) -> u64 {
        self.writes.load(Ordering::SeqCst)
    }

    /// Keeps a render made from a store read at `generation`, unless a write happened since.
    pub fn insert(&self, key: String, doc: Arc<Doc>, tags: Vec<Tag>, generation: u64) {
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        if self.writes.load(Ordering::SeqCst) != generation {
            return;
        }
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(key, Entry { doc, tags });
    }

    /// Drops every document rendered from any of `changed`. Call after the
    /// write is in the store and before it is acknowledged.
    pub fn invalidate(&self, changed: &[Tag]) {
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        self.writes.fetch_add(1, Ordering::SeqCst);
        entries.retain(|_, entry| !entry.tags.iter().any(|t| *t == Tag::All || changed.contains(t)));
    }

    pub fn len(&self) -> usize {
        self.entries.read().unwrap_or_else(|e| e.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
