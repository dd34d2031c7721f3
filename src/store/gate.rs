//! The one gate a story passes to become public. An import, a restore of a
//! killed story, a later take and the release of an embargoed story all
//! come through here, so kills and embargoes hold whichever way a story
//! arrives:
//! 1. a killed story is refused (unless the importer restores it);
//! 2. a story whose copy is held (same section and headline, or same agency
//!    and slug) replaces the held copy and takes its new release time, later
//!    or earlier; a copy with no embargo keeps the held one's (fail closed);
//! 3. an embargoed story is held;
//! 4. anything else is stored.
//!
//! A release takes the story off the embargo list, then checks the kills
//! again before it is stored.

use chrono::{DateTime, Utc};

use super::embargo::Held;
use super::kill::Tombstone;
use super::{identity_keys, Handles, Put, StoreError};
use crate::domain::{until_released, Article, ArticleId};

/// What the gate did with a story.
// One per import, moved once: boxing the article would only add an allocation.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum Admitted {
    Stored(Put),
    /// Refused: the story was killed (the killed story's id, when it was stored).
    Killed(Option<ArticleId>),
}

/// What a release did.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum Released {
    Published(Put),
    /// Killed while it was held: never published.
    Killed(Article),
}

/// The article as readers will see it once released at `release`: published
/// no earlier than its release. A story held until released by hand keeps
/// its times until then.
fn scheduled(draft: &Article, release: DateTime<Utc>, id: ArticleId) -> Article {
    let mut article = draft.clone();
    article.id = id;
    article.embargo = Some(release);
    if release != until_released() {
        article.published = article.published.max(release);
        article.received = article.received.max(release);
    }
    article
}

impl Handles {
    /// Takes an import's story through the gate (see the module). Not yet
    /// durable: call [`Store::sync`](super::Store::sync).
    pub fn admit(&self, draft: &Article, restore: bool) -> Result<Admitted, StoreError> {
        let _gate = self.gate.lock().unwrap_or_else(|e| e.into_inner());
        let mut wanted = None;
        if let Some(old) = self.killed_as(draft)? {
            if !restore {
                return Ok(Admitted::Killed(old));
            }
            self.forget_kill(draft, old.as_ref())?;
            wanted = old;
        }
        if let Some(held) = self.held_by_keys(&identity_keys(draft))? {
            return self.replace_held(held, draft).map(Admitted::Stored);
        }
        let put = match draft.embargo {
            Some(release) => self.hold_new(draft, release, wanted)?,
            None => self.put_as(draft.clone(), wanted)?,
        };
        Ok(Admitted::Stored(put))
    }

    /// A re-sent held story: the new copy and its release time replace the
    /// held ones, under the same id and section.
    fn replace_held(&self, held: Held, draft: &Article) -> Result<Put, StoreError> {
        let release = draft.embargo.unwrap_or(held.release);
        if held.article.source_hash == draft.source_hash && release == held.release {
            return Ok(Put::Held(held.article));
        }
        let mut article = draft.clone();
        article.section = held.article.section.clone();
        let article = scheduled(&article, release, held.article.id.clone());
        self.unhold(&held)?;
        self.hold_as(&article, release)?;
        Ok(Put::Held(article))
    }

    /// Holds a story not held before. A new copy of a published story is
    /// held under that story's id (its release updates it in place, and a
    /// kill of that id stops both); any other under an id no stored or held
    /// story has (`wanted` when it is free: a killed story restored).
    fn hold_new(&self, draft: &Article, release: DateTime<Utc>, wanted: Option<ArticleId>) -> Result<Put, StoreError> {
        let free = |id: &ArticleId| -> Result<bool, StoreError> { Ok(self.get(id)?.is_none() && !self.is_held(id)?) };
        let take = draft.wire.story_key().filter(|_| draft.wire.is_later_take());
        let published = match self.find(&draft.section.slug, &draft.headline)? {
            Some(id) => Some(id),
            None => match take {
                Some((source, slug)) => self.find_by_wire(source, slug)?,
                None => None,
            },
        };
        if let Some(stored) = published.as_ref().map(|id| self.get(id)).transpose()?.flatten() {
            if stored.source_hash == draft.source_hash {
                return Ok(Put::Unchanged(stored));
            }
        }
        let placeholder = scheduled(draft, release, draft.id.clone());
        let id = match (published, wanted) {
            (Some(id), _) => id,
            (None, Some(id)) if free(&id)? => id,
            _ => {
                let date = placeholder.published.date_naive();
                let mut attempt = 1;
                loop {
                    let id = ArticleId::for_story(date, &placeholder.headline, attempt);
                    if free(&id)? {
                        break id;
                    }
                    attempt += 1;
                }
            }
        };
        let article = scheduled(draft, release, id);
        self.hold_as(&article, release)?;
        Ok(Put::Held(article))
    }

    /// Publishes a held story at `at`, unless it was killed meanwhile.
    fn release(&self, held: Held, at: DateTime<Utc>) -> Result<Released, StoreError> {
        self.unhold(&held)?;
        let mut article = held.article;
        if self.killed_as(&article)?.is_some() {
            return Ok(Released::Killed(article));
        }
        article.published = article.published.max(at);
        article.received = article.received.max(at);
        let id = article.id.clone();
        self.put_as(article, Some(id)).map(Released::Published)
    }

    /// Releases every held story whose time has come, as an import at its
    /// release time would store it. A crash between the removal and the put
    /// loses nothing: both are in the same group commit's flush. Not yet
    /// durable.
    pub fn release_due(&self, now: DateTime<Utc>) -> Result<Vec<Released>, StoreError> {
        let _gate = self.gate.lock().unwrap_or_else(|e| e.into_inner());
        let mut released = Vec::new();
        for held in self.due(now)? {
            let at = held.release;
            released.push(self.release(held, at)?);
        }
        self.load_next_release()?;
        Ok(released)
    }

    /// Releases one held story now, whatever its release time (the
    /// newsroom's explicit release). `None`: no story of that id is held.
    pub fn release_now(&self, id: &ArticleId, now: DateTime<Utc>) -> Result<Option<Released>, StoreError> {
        let _gate = self.gate.lock().unwrap_or_else(|e| e.into_inner());
        match self.held_by_id(id)? {
            Some(held) => self.release(held, now).map(Some),
            None => Ok(None),
        }
    }

    /// Kills a stored or held story: a tombstone, then the story out of
    /// every index or off the embargo list. `None` when there is no such
    /// story. Not yet durable.
    pub fn kill(&self, id: &ArticleId, when: DateTime<Utc>) -> Result<Option<Tombstone>, StoreError> {
        let _gate = self.gate.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(article) = self.get(id)? {
            let stone = self.entomb(&article, when)?;
            self.delete(id)?;
            // A new copy held for it dies with it.
            for held in [self.held_by_id(id)?, self.held_by_keys(&identity_keys(&article))?].into_iter().flatten() {
                self.unhold(&held)?;
            }
            return Ok(Some(stone));
        }
        match self.held_by_id(id)? {
            Some(held) => {
                // The tombstone first: a crash before the removal leaves a
                // held story that the release finds killed.
                let stone = self.entomb(&held.article, when)?;
                self.unhold(&held)?;
                Ok(Some(stone))
            }
            None => Ok(None),
        }
    }
}
