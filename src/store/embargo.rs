//! Embargoed stories: held in their own tree, so nothing that reads the
//! indexes (feeds, pages, counts, article lookups) can see them; released
//! into the indexes when their time comes, or when the newsroom says so.
//!
//! | key in `embargoed`                 | value                         |
//! |------------------------------------|-------------------------------|
//! | `r`, release time (8 bytes), id    | the held [`Article`] (codec)  |
//! | `i`, id                            | its release time (8 bytes)    |
//! | `k`, an identity key of the story  | its id                        |
//!
//! The identity keys (section and headline; agency and slug) let a re-sent
//! story find its held copy, and a kill find a story that is not public yet.
//! The earliest release time is kept in memory and read from the first `r`
//! key at open: neither a request nor the start scans the held stories.

use std::sync::atomic::Ordering;

use chrono::{DateTime, Utc};

use super::{codec, identity_keys, keys, sled_err, Handles, StoreError};
use crate::domain::{Article, ArticleId};

fn schedule_key(release: DateTime<Utc>, id: &ArticleId) -> Vec<u8> {
    [&b"r"[..], &keys::time_bytes(release.timestamp_micros()), id.as_str().as_bytes()].concat()
}

fn id_key(id: &ArticleId) -> Vec<u8> {
    [b"i", id.as_str().as_bytes()].concat()
}

fn identity_key(identity: &[u8]) -> Vec<u8> {
    [b"k", identity].concat()
}

/// A story held back, and when it is due.
#[derive(Debug, Clone)]
pub struct Held {
    pub article: Article,
    pub release: DateTime<Utc>,
}

impl Handles {
    /// Holds an embargoed story until `release`, under `id`. Writes the
    /// schedule, the id and the identity entries in one batch. Not yet
    /// durable: call [`Store::sync`](super::Store::sync).
    pub(super) fn hold_as(&self, article: &Article, release: DateTime<Utc>) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        batch.insert(schedule_key(release, &article.id), codec::encode(article));
        batch.insert(id_key(&article.id), &keys::time_bytes(release.timestamp_micros()));
        for key in identity_keys(article) {
            batch.insert(identity_key(&key), article.id.as_str().as_bytes());
        }
        self.embargoed.apply_batch(batch).map_err(sled_err(format!("holding {}", article.headline)))?;
        self.next_release.fetch_min(release.timestamp_micros(), Ordering::SeqCst);
        Ok(())
    }

    /// The held story of this id.
    pub fn held_by_id(&self, id: &ArticleId) -> Result<Option<Held>, StoreError> {
        let Some(at) = self.embargoed.get(id_key(id)).map_err(sled_err("reading embargoed stories"))? else {
            return Ok(None);
        };
        let Some(release) =
            at.as_ref().try_into().ok().map(keys::time_from_bytes).and_then(DateTime::from_timestamp_micros)
        else {
            return Err(StoreError::Damaged(format!("the release time of held story {id} is unreadable")));
        };
        let Some(bytes) =
            self.embargoed.get(schedule_key(release, id)).map_err(sled_err("reading embargoed stories"))?
        else {
            return Ok(None);
        };
        let article = codec::decode(&bytes)
            .map_err(|source| StoreError::Codec { what: format!("embargoed story {id}"), source })?;
        Ok(Some(Held { article, release }))
    }

    /// The held story named by one of these identity keys.
    pub fn held_by_keys(&self, identities: &[Vec<u8>]) -> Result<Option<Held>, StoreError> {
        for key in identities {
            let found = self.embargoed.get(identity_key(key)).map_err(sled_err("reading embargoed stories"))?;
            if let Some(id) = found.and_then(|id| std::str::from_utf8(&id).ok().and_then(ArticleId::parse)) {
                if let Some(held) = self.held_by_id(&id)? {
                    return Ok(Some(held));
                }
            }
        }
        Ok(None)
    }

    /// Takes a held story out of the embargo tree (to replace, release or
    /// kill it). Not yet durable.
    pub(super) fn unhold(&self, held: &Held) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        batch.remove(schedule_key(held.release, &held.article.id));
        batch.remove(id_key(&held.article.id));
        for key in identity_keys(&held.article) {
            let key = identity_key(&key);
            // A later copy may have taken the key over: leave it to that one.
            let owner = self.embargoed.get(&key).map_err(sled_err("reading embargoed stories"))?;
            if owner.is_some_and(|id| id.as_ref() == held.article.id.as_str().as_bytes()) {
                batch.remove(key);
            }
        }
        self.embargoed.apply_batch(batch).map_err(sled_err("taking a story off the embargo list"))?;
        self.load_next_release()
    }

    /// Whether an id names a held story (ids of held stories are not given
    /// to other stories).
    pub(super) fn is_held(&self, id: &ArticleId) -> Result<bool, StoreError> {
        self.embargoed.contains_key(id_key(id)).map_err(sled_err("reading embargoed stories"))
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
        self.embargoed.scan_prefix(b"i").count()
    }

    /// The held stories due at `now`, earliest first.
    pub(super) fn due(&self, now: DateTime<Utc>) -> Result<Vec<Held>, StoreError> {
        let bound = [&b"r"[..], &keys::time_bytes(now.timestamp_micros().saturating_add(1))].concat();
        let mut due = Vec::new();
        for item in self.embargoed.range(b"r".to_vec()..bound) {
            let (key, bytes) = item.map_err(sled_err("reading embargoed stories"))?;
            let release = key
                .get(1..9)
                .and_then(|b| b.try_into().ok())
                .map(keys::time_from_bytes)
                .and_then(DateTime::from_timestamp_micros)
                .unwrap_or(now);
            let article: Article = codec::decode(&bytes).map_err(|source| StoreError::Codec {
                what: format!("embargoed story {}", String::from_utf8_lossy(&key[9.min(key.len())..])),
                source,
            })?;
            due.push(Held { article, release });
        }
        Ok(due)
    }

    /// Sets the in-memory next release time from the tree's first `r` key.
    pub(super) fn load_next_release(&self) -> Result<(), StoreError> {
        let first =
            self.embargoed.scan_prefix(b"r").next().transpose().map_err(sled_err("reading embargoed stories"))?;
        let micros = first
            .and_then(|(key, _)| key.get(1..9).and_then(|b| b.try_into().ok()))
            .map_or(i64::MAX, keys::time_from_bytes);
        self.next_release.store(micros, Ordering::SeqCst);
        Ok(())
    }
}
