//! Killed stories: a kill (an agency's advisory, or `DELETE`) removes the
//! story from every index (or from the embargo list, `gate`) and leaves a tombstone, so the same story sent
//! again is refused, its URL answers 410, and Atom feeds can tell readers
//! to drop it (RFC 6721).
//!
//! | tree         | key                                   | value                 |
//! |--------------|---------------------------------------|-----------------------|
//! | `tombstones` | `i`, article id                       | [`Tombstone`] (codec) |
//! | `tombstones` | `t`, kill time (8 bytes BE), id       | section slug          |
//! | `killed`     | an identity key of the killed story   | article id (or empty) |

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sled::transaction::{ConflictableTransactionError, Transactional};

use super::{codec, identity_keys, keys, sled_err, tx_err, Handles, StoreError};
use crate::domain::{Article, ArticleId, Listing, Section};

/// What is kept of a killed story.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tombstone {
    pub id: ArticleId,
    pub section: Section,
    pub headline: String,
    /// When it was killed.
    pub killed: DateTime<Utc>,
}

fn by_id(id: &ArticleId) -> Vec<u8> {
    [b"i", id.as_str().as_bytes()].concat()
}

fn by_time(when: DateTime<Utc>, id: &ArticleId) -> Vec<u8> {
    [&b"t"[..], &keys::time_bytes(when.timestamp_micros()), id.as_str().as_bytes()].concat()
}

impl Handles {
    /// Writes the tombstone of a story and marks its identity keys as
    /// killed; the caller then takes the story out of the indexes (or off
    /// the embargo list). Not yet durable.
    pub(super) fn entomb(&self, article: &Article, when: DateTime<Utc>) -> Result<Tombstone, StoreError> {
        let stone = Tombstone {
            id: article.id.clone(),
            section: article.section.clone(),
            headline: article.headline.clone(),
            killed: when,
        };
        (&self.tombstones, &self.killed)
            .transaction(|(tombstones, killed)| {
                tombstones.insert(by_id(&stone.id), codec::encode(&stone))?;
                tombstones.insert(by_time(when, &stone.id), stone.section.slug.as_str().as_bytes())?;
                for key in identity_keys(article) {
                    killed.insert(key, stone.id.as_str().as_bytes())?;
                }
                Ok::<_, ConflictableTransactionError<StoreError>>(())
            })
            .map_err(tx_err(format!("killing {}", stone.id)))?;
        Ok(stone)
    }

    /// Marks identity keys as killed when the advisory names a story that
    /// was never stored: a copy arriving later is refused all the same.
    pub fn kill_keys(&self, keys: &[Vec<u8>]) -> Result<(), StoreError> {
        for key in keys {
            self.killed.insert(key.as_slice(), &[]).map_err(sled_err("writing a kill"))?;
        }
        Ok(())
    }

    /// The tombstone of a killed story.
    pub fn tombstone(&self, id: &ArticleId) -> Result<Option<Tombstone>, StoreError> {
        let Some(bytes) = self.tombstones.get(by_id(id)).map_err(sled_err(format!("reading the kill of {id}")))? else {
            return Ok(None);
        };
        codec::decode(&bytes)
            .map(Some)
            .map_err(|source| StoreError::Codec { what: format!("the kill of {id}"), source })
    }

    /// Whether a story about to be stored was killed: the killed story's id
    /// (`None` inside when the advisory came before the story).
    pub fn killed_as(&self, draft: &Article) -> Result<Option<Option<ArticleId>>, StoreError> {
        for key in identity_keys(draft) {
            if let Some(id) = self.killed.get(&key).map_err(sled_err("reading kills"))? {
                return Ok(Some(std::str::from_utf8(&id).ok().and_then(ArticleId::parse)));
            }
        }
        Ok(None)
    }

    /// Forgets a kill (`?restore=true`): the story may be stored again,
    /// under its old id when it had one.
    pub(super) fn forget_kill(&self, draft: &Article, old: Option<&ArticleId>) -> Result<(), StoreError> {
        for key in identity_keys(draft) {
            self.killed.remove(key).map_err(sled_err("forgetting a kill"))?;
        }
        if let Some(id) = old {
            if let Some(stone) = self.tombstone(id)? {
                // The killed story's own headline (the draft's may differ);
                // its wire key is the draft's, forgotten above.
                let key = keys::identity(&stone.section.slug, &stone.headline);
                self.killed.remove(key).map_err(sled_err("forgetting a kill"))?;
                self.tombstones.remove(by_time(stone.killed, id)).map_err(sled_err("forgetting a kill"))?;
            }
            self.tombstones.remove(by_id(id)).map_err(sled_err("forgetting a kill"))?;
        }
        Ok(())
    }

    /// Stories of a scope killed at or after `since`, newest first (for
    /// Atom's deleted-entry elements): a range scan of the recent kills only.
    pub fn kills_since(&self, scope: &Listing, since: DateTime<Utc>) -> Result<Vec<Tombstone>, StoreError> {
        let from = [&b"t"[..], &keys::time_bytes(since.timestamp_micros())].concat();
        let mut out = Vec::new();
        for item in self.tombstones.range(from..b"u".to_vec()).rev() {
            let (key, slug) = item.map_err(sled_err("reading kills"))?;
            if let Listing::Section(wanted) | Listing::Urgent(Some(wanted)) = scope {
                if slug.as_ref() != wanted.as_str().as_bytes() {
                    continue;
                }
            }
            let id = std::str::from_utf8(&key[9.min(key.len())..]).ok().and_then(ArticleId::parse);
            if let Some(stone) = id.map(|id| self.tombstone(&id)).transpose()?.flatten() {
                out.push(stone);
            }
        }
        Ok(out)
    }
}
