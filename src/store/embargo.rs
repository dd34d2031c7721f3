//! Embargoed stories: held in their own tree, keyed by release time, so
//! nothing that reads the indexes (feeds, pages, counts, article lookups)
//! can see them; released into the indexes when their time comes.
//!
//! The earliest release time is kept in memory and read from the first key
//! at open: neither a request nor the start scans the held stories.

use std::sync::atomic::Ordering;

use chrono::{DateTime, Utc};

use super::{codec, keys, sled_err, Handles, Put, StoreError};
use crate::domain::Article;

/// Key of a held story: release time, then its identity hash, so the same
/// text held twice is one entry.
fn held_key(release: DateTime<Utc>, article: &Article) -> Vec<u8> {
    [&keys::time_bytes(release.timestamp_micros())[..], article.source_hash.as_bytes()].concat()
}

impl Handles {
    /// Holds an embargoed story until `release`. Not yet durable: call
    /// [`Store::sync`].
    pub fn hold(&self, article: &Article, release: DateTime<Utc>) -> Result<Put, StoreError> {
        // Readers see it published when it may be: at its release, under
        // the id the import answer names.
        let mut article = article.clone();
        article.published = article.published.max(release);
        article.received = article.received.max(release);
        article.id = crate::domain::ArticleId::for_story(article.published.date_naive(), &article.headline, 1);
        let article = &article;
        self.embargoed
            .insert(held_key(release, article), codec::encode(article))
            .map_err(sled_err(format!("holding {}", article.headline)))?;
        self.next_release.fetch_min(release.timestamp_micros(), Ordering::SeqCst);
        Ok(Put::Held(article.clone()))
    }

    /// The earliest release time of a held story.
    pub fn next_release(&self) -> Option<DateTime<Utc>> {
        match self.next_release.load(Ordering::SeqCst) {
            i64::MAX => None,
            micros => DateTime::from_timestamp_micros(micros),
        }
    }

    /// Stories held now.
    pub fn held(&self) -> usize {
        self.embargoed.len()
    }

    /// Releases every story whose time has come into the indexes, as an
    /// import at its release time would store it. A crash between the put
    /// and the removal releases it again at the next start, which the store
    /// answers as unchanged. Not yet durable: call [`Store::sync`].
    pub fn release_due(&self, now: DateTime<Utc>) -> Result<Vec<Put>, StoreError> {
        let bound = keys::time_bytes(now.timestamp_micros().saturating_add(1));
        let mut released = Vec::new();
        for item in self.embargoed.range(..bound.to_vec()) {
            let (key, bytes) = item.map_err(sled_err("reading embargoed stories"))?;
            let article: Article = codec::decode(&bytes).map_err(|source| StoreError::Codec {
                what: format!("embargoed story {}", String::from_utf8_lossy(&key[8.min(key.len())..])),
                source,
            })?;
            released.push(self.put(article)?);
            self.embargoed.remove(&key).map_err(sled_err("releasing an embargoed story"))?;
        }
        self.load_next_release()?;
        Ok(released)
    }

    /// Sets the in-memory next release time from the tree's first key.
    pub(super) fn load_next_release(&self) -> Result<(), StoreError> {
        let first = self.embargoed.first().map_err(sled_err("reading embargoed stories"))?;
        let micros = first
            .and_then(|(key, _)| key.get(..8).and_then(|b| b.try_into().ok()))
            .map_or(i64::MAX, keys::time_from_bytes);
        self.next_release.store(micros, Ordering::SeqCst);
        Ok(())
    }
}
