//! Subscribers of licensed copy, as kept: one JSON record per name in the
//! `subscribers` tree. A record holds a hash of the subscriber's key, never
//! the key (a stolen store or export gives no key). What the records mean
//! (keys, lookups, expiry) is `crate::subscribers`'s.
//!
//! | tree          | key            | value                          |
//! |---------------|----------------|--------------------------------|
//! | `subscribers` | name (ASCII)   | [`SubscriberRecord`] (JSON)    |
//!
//! Export writes each record as a line `{"subscriber": {...}}` after the
//! articles; restore reads those lines back.

use std::io::Write;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{sled_err, Handles, Store, StoreError};

const TREE: &str = "subscribers";

/// How an export line holding a subscriber starts.
pub const EXPORT_PREFIX: &str = "{\"subscriber\":";

/// A subscriber as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscriberRecord {
    pub name: String,
    /// Section slugs, or `["*"]`.
    pub sections: Vec<String>,
    pub created: DateTime<Utc>,
    /// The current key's hash.
    pub key: KeyRecord,
    /// The key before the last rotation, accepted until its `until`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<KeyRecord>,
}

/// What is kept of a key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyRecord {
    /// SHA-256 of the key, hex.
    pub hash: String,
    /// The key's first characters, for lists (too few to guess the rest).
    pub prefix: String,
    /// When the key stops working (`None`: until revoked or rotated).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<DateTime<Utc>>,
}

#[derive(Serialize, Deserialize)]
struct ExportLine<T> {
    subscriber: T,
}

impl Store {
    /// Every subscriber, by name.
    pub fn subscribers(&self) -> Result<Vec<SubscriberRecord>, StoreError> {
        self.call("reading subscribers", |h| h.subscribers())
    }

    /// Adds a subscriber; `false` when the name is taken. Not yet durable.
    pub fn add_subscriber(&self, record: &SubscriberRecord) -> Result<bool, StoreError> {
        self.check_space()?;
        self.run("writing a subscriber", true, |h| {
            let tree = h.db.open_tree(TREE).map_err(sled_err("opening the subscribers"))?;
            let value = serde_json::to_vec(record).expect("a record is plain data");
            let swapped = tree
                .compare_and_swap(record.name.as_bytes(), None::<&[u8]>, Some(value))
                .map_err(sled_err("writing a subscriber"))?;
            Ok(swapped.is_ok())
        })
    }

    /// Replaces a subscriber's record. Not yet durable.
    pub fn put_subscriber(&self, record: &SubscriberRecord) -> Result<(), StoreError> {
        self.run("writing a subscriber", true, |h| h.put_subscriber(record))
    }

    /// Restores one export line that starts with [`EXPORT_PREFIX`]
    /// (`number`: its line, for the error). Not yet durable.
    pub fn restore_subscriber(&self, line: &str, number: usize) -> Result<(), StoreError> {
        self.run("restoring a subscriber", true, |h| h.restore_subscriber(line, number))
    }

    /// Removes a subscriber; `false` when there was none. Not yet durable.
    pub fn remove_subscriber(&self, name: &str) -> Result<bool, StoreError> {
        self.run("removing a subscriber", true, |h| {
            let tree = h.db.open_tree(TREE).map_err(sled_err("opening the subscribers"))?;
            Ok(tree.remove(name.as_bytes()).map_err(sled_err("removing a subscriber"))?.is_some())
        })
    }
}

impl Handles {
    pub(super) fn subscribers(&self) -> Result<Vec<SubscriberRecord>, StoreError> {
        let tree = self.db.open_tree(TREE).map_err(sled_err("opening the subscribers"))?;
        let mut out = Vec::new();
        for item in tree.iter() {
            let (name, value) = item.map_err(sled_err("reading subscribers"))?;
            let record = serde_json::from_slice(&value)
                .map_err(|e| StoreError::Damaged(format!("subscriber {}: {e}", String::from_utf8_lossy(&name))))?;
            out.push(record);
        }
        Ok(out)
    }

    pub(super) fn put_subscriber(&self, record: &SubscriberRecord) -> Result<(), StoreError> {
        let tree = self.db.open_tree(TREE).map_err(sled_err("opening the subscribers"))?;
        let value = serde_json::to_vec(record).expect("a record is plain data");
        tree.insert(record.name.as_bytes(), value).map_err(sled_err("writing a subscriber"))?;
        Ok(())
    }

    /// Writes every subscriber as an export line.
    pub(super) fn export_subscribers(&self, out: &mut dyn Write) -> Result<u64, StoreError> {
        let mut n = 0;
        for record in self.subscribers()? {
            serde_json::to_writer(&mut *out, &ExportLine { subscriber: &record }).map_err(std::io::Error::from)?;
            out.write_all(b"\n")?;
            n += 1;
        }
        Ok(n)
    }

    /// Restores one export line that starts with [`EXPORT_PREFIX`].
    pub(super) fn restore_subscriber(&self, line: &str, number: usize) -> Result<(), StoreError> {
        let parsed: ExportLine<SubscriberRecord> = serde_json::from_str(line)
            .map_err(|e| StoreError::BadBackup { line: number, detail: format!("a subscriber: {e}") })?;
        self.put_subscriber(&parsed.subscriber)
    }
}
