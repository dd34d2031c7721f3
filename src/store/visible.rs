//! All-sections listings for a reader who may not see every section (the
//! public, when some sections are licensed; a subscriber entitled to some
//! of them).
//!
//! The all-sections indexes (`by_time`, the all-sections half of `urgent`)
//! hold each entry's section slug as its value, so a page is read by
//! scanning on past the entries of hidden sections, without decoding them,
//! until it is full. Filtering a page after reading it would make pages
//! short and cursors unsound; scanning on keeps both exact. The scan is
//! bounded ([`SCAN_LIMIT`] entries per page): past it the page ends early
//! with a `next` cursor at the last time read, so a reader pages on without
//! missing a story, and no page costs more than the bound, however much
//! hidden copy lies between two visible stories. A separate index per
//! reader was the alternative: exact without a scan, but one per grant, kept
//! in every write's transaction and rebuilt whenever the licensed sections
//! change (docs/design.md).

use chrono::{DateTime, Utc};
use sled::Tree;

use super::{keys, sled_err, Handles, StoreError};
use crate::domain::{Listing, Visible};

/// Most index entries one page reads.
#[cfg(not(test))]
pub const SCAN_LIMIT: usize = 10_000;
/// Small in unit tests, so that they reach it.
#[cfg(test)]
pub const SCAN_LIMIT: usize = 50;

/// What to do with the next entry of a scan.
pub(super) enum Step {
    Take,
    Skip,
    /// The bound is reached, between two times.
    Stop,
}

/// A page's scan, newest first.
pub(super) struct Scan<'a> {
    visible: Option<&'a Visible<'a>>,
    read: usize,
    last: Option<i64>,
    cut: Option<i64>,
}

impl<'a> Scan<'a> {
    pub(super) fn new(visible: Option<&'a Visible<'a>>) -> Scan<'a> {
        Scan { visible, read: 0, last: None, cut: None }
    }

    /// The entry at `micros` whose value is its section `slug`.
    pub(super) fn step(&mut self, micros: i64, slug: &[u8]) -> Step {
        let Some(visible) = self.visible else { return Step::Take };
        self.read += 1;
        // Stop only between two times: every entry of the last time is read.
        if self.read > SCAN_LIMIT && self.last != Some(micros) {
            self.cut = self.last;
            return Step::Stop;
        }
        self.last = Some(micros);
        if visible.slug_bytes(slug) {
            Step::Take
        } else {
            Step::Skip
        }
    }

    /// The time the scan stopped after, when it hit its bound.
    pub(super) fn cut(&self) -> Option<i64> {
        self.cut
    }
}

/// The `prev` cursor of a filtered page at `before` (see [`crate::domain::Page`]):
/// the time of the `limit`-th visible entry newer than `before`, or the
/// first page when there are fewer, or when finding it would pass the bound.
pub(super) fn prev(
    tree: &Tree,
    prefix: &[u8],
    before: Option<i64>,
    limit: usize,
    visible: Option<&Visible<'_>>,
) -> Result<Option<Option<i64>>, StoreError> {
    let (Some(before), Some(visible)) = (before, visible) else { return Ok(None) };
    let mut from = prefix.to_vec();
    from.extend_from_slice(&keys::time_bytes(before));
    let mut seen = 0;
    for (read, item) in tree.range(from..).enumerate() {
        let (key, slug) = item.map_err(sled_err("reading an index"))?;
        if !key.starts_with(prefix) || read > SCAN_LIMIT {
            break;
        }
        if !visible.slug_bytes(&slug) {
            continue;
        }
        if seen == limit {
            return Ok(Some(keys::split_entry(&key, prefix.len()).map(|(m, _)| m)));
        }
        seen += 1;
    }
    Ok(Some(None))
}

impl Handles {
    /// When the documents of `scope` last changed, for a reader who sees
    /// only some sections: the latest change of a section it sees (a write
    /// to a hidden section leaves its documents, dates included, as they were).
    pub(super) fn changed_where(
        &self,
        scope: &Listing,
        visible: &Visible<'_>,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        if !matches!(scope, Listing::All | Listing::Urgent(None)) {
            return self.changed(scope);
        }
        let mut latest: Option<i64> = None;
        for item in self.changed.iter() {
            let (slug, value) = item.map_err(sled_err("reading when the store changed"))?;
            if slug.as_ref() == keys::changed_all().as_slice() || !visible.slug_bytes(&slug) {
                continue;
            }
            latest = latest.max(keys::changed_from_bytes(&value));
        }
        if let Some(micros) = latest {
            return Ok(DateTime::from_timestamp_micros(micros));
        }
        // A store written before `changed` was kept: its newest visible story.
        let (tree, prefix) = self.index(scope);
        for (read, item) in tree.scan_prefix(&prefix).rev().enumerate() {
            let (key, slug) = item.map_err(sled_err("reading an index"))?;
            if read > SCAN_LIMIT {
                break;
            }
            if visible.slug_bytes(&slug) {
                let micros = keys::split_entry(&key, prefix.len()).map(|(m, _)| m);
                return Ok(micros.and_then(DateTime::from_timestamp_micros));
            }
        }
        Ok(None)
    }
}
