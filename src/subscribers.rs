//! Subscribers of licensed copy and their keys.
//!
//! A key is 24 bytes from the OS random source (192 bits), written as 48
//! lowercase hex digits: it travels in URLs (`/k/{key}/…`), because feed
//! readers cannot send headers. The store keeps only its SHA-256; every
//! subscriber's hashes are held in memory, so finding the subscriber of a
//! request's key is one hash and one map lookup, whatever the number of
//! subscribers. A revoked key leaves the map before the answer to the
//! revocation goes out: the next request with it is refused. A rotated key
//! may be kept for a grace period; it is refused once that is over.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, RwLock};

use chrono::{DateTime, Utc};
use ring::rand::SecureRandom;
use serde::Serialize;

use crate::domain::Grant;
use crate::store::subscribers::{KeyRecord, SubscriberRecord};
use crate::store::{Store, StoreError};

/// Random bytes in a key.
const KEY_BYTES: usize = 24;

/// Characters of a key shown in lists.
const PREFIX_CHARS: usize = 6;

/// Longest grace a rotated-out key may keep (30 days).
pub const MAX_GRACE: u64 = 30 * 24 * 3600;

/// Longest name.
const MAX_NAME: usize = 64;

/// Most keys remembered as presented (see `Registry::seen`).
const MAX_SEEN: usize = 100_000;

/// A subscriber as a request with its key finds it.
#[derive(Debug)]
pub struct Subscriber {
    pub name: Arc<str>,
    pub grant: Grant,
}

/// What a subscriber list shows: never a key.
#[derive(Debug, Clone, Serialize)]
pub struct Listed {
    pub name: String,
    pub sections: Vec<String>,
    pub created: DateTime<Utc>,
    /// The current key's first characters.
    pub key_prefix: String,
    /// A rotated-out key still accepted, and until when.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_key: Option<Previous>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Previous {
    pub key_prefix: String,
    pub until: DateTime<Utc>,
}

/// A key handed out (shown this once).
#[derive(Debug)]
pub struct Issued {
    pub name: String,
    pub key: String,
    pub sections: Vec<String>,
}

/// Why a subscriber operation was refused.
#[derive(Debug, thiserror::Error)]
pub enum SubscriberError {
    #[error("a subscriber name is 1 to {MAX_NAME} characters of A-Z, a-z, 0-9, '.', '_' and '-'")]
    BadName,
    #[error("{0}")]
    BadSections(String),
    #[error("the grace period is at most {MAX_GRACE} seconds (30 days)")]
    BadGrace,
    #[error("a subscriber named {0:?} exists already")]
    Exists(String),
    #[error("there is no subscriber named {0:?}")]
    NotFound(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

struct Entry {
    subscriber: Arc<Subscriber>,
    /// When this key stops working (a rotated-out key's grace).
    until: Option<DateTime<Utc>>,
}

#[derive(Default)]
struct Registry {
    by_hash: HashMap<[u8; 32], Entry>,
    /// Keys that worked, by the key as presented, to their hash: a repeated
    /// request costs a map lookup rather than a SHA-256. Only the hash map
    /// says whether a key works: a revoked key's entry here finds nothing.
    /// In memory only (the document cache holds keyed URLs anyway).
    seen: HashMap<Box<str>, [u8; 32], foldhash::fast::RandomState>,
    records: BTreeMap<String, SubscriberRecord>,
}

impl Registry {
    fn index(&mut self, record: &SubscriberRecord) {
        let Ok(grant) = Grant::parse(&record.sections) else {
            tracing::error!(subscriber = %record.name, "a stored subscriber names a bad section: its keys do not work");
            return;
        };
        let subscriber = Arc::new(Subscriber { name: record.name.as_str().into(), grant });
        for key in std::iter::once(&record.key).chain(&record.previous) {
            if let Some(hash) = unhex(&key.hash) {
                self.by_hash.insert(hash, Entry { subscriber: Arc::clone(&subscriber), until: key.until });
            }
        }
        self.records.insert(record.name.clone(), record.clone());
    }

    fn unindex(&mut self, name: &str) -> Option<SubscriberRecord> {
        let record = self.records.remove(name)?;
        for key in std::iter::once(&record.key).chain(&record.previous) {
            if let Some(hash) = unhex(&key.hash) {
                self.by_hash.remove(&hash);
            }
        }
        Some(record)
    }
}

/// The subscribers, in memory and in the store.
pub struct Subscribers {
    store: Store,
    registry: RwLock<Registry>,
    /// Held by each change from its store write to its registry update.
    writing: Mutex<()>,
}

impl Subscribers {
    /// Loads every subscriber of the store.
    pub fn load(store: Store) -> Result<Subscribers, StoreError> {
        let mut registry = Registry::default();
        for record in store.subscribers()? {
            registry.index(&record);
        }
        Ok(Subscribers { store, registry: RwLock::new(registry), writing: Mutex::new(()) })
    }

    /// None yet (the command line's application, before [`Subscribers::load`]).
    pub fn empty(store: Store) -> Subscribers {
        Subscribers { store, registry: RwLock::default(), writing: Mutex::new(()) }
    }

    /// The subscriber of `key`, if the key works now.
    pub fn find(&self, key: &str) -> Option<Arc<Subscriber>> {
        let working = |entry: &Entry| {
            let expired = entry.until.is_some_and(|until| until <= Utc::now());
            (!expired).then(|| Arc::clone(&entry.subscriber))
        };
        {
            let registry = self.registry.read().unwrap_or_else(|e| e.into_inner());
            if let Some(hash) = registry.seen.get(key) {
                return registry.by_hash.get(hash).and_then(working);
            }
        }
        let hash = hash(key);
        let found = {
            let registry = self.registry.read().unwrap_or_else(|e| e.into_inner());
            registry.by_hash.get(&hash).and_then(working)?
        };
        // Only keys that work are remembered: random probes fill nothing.
        let mut registry = self.registry.write().unwrap_or_else(|e| e.into_inner());
        if registry.seen.len() >= MAX_SEEN {
            registry.seen.clear();
        }
        registry.seen.insert(key.into(), hash);
        Some(found)
    }

    pub fn count(&self) -> usize {
        self.registry.read().unwrap_or_else(|e| e.into_inner()).records.len()
    }

    /// Every subscriber, by name.
    pub fn list(&self) -> Vec<Listed> {
        let registry = self.registry.read().unwrap_or_else(|e| e.into_inner());
        registry.records.values().map(listed).collect()
    }

    /// Adds a subscriber with a new key.
    pub fn add(&self, name: &str, sections: &[String]) -> Result<Issued, SubscriberError> {
        check_name(name)?;
        let grant = grant(sections)?;
        let _writing = self.writing.lock().unwrap_or_else(|e| e.into_inner());
        let key = new_key();
        let record = SubscriberRecord {
            name: name.to_owned(),
            sections: grant.names(),
            created: Utc::now(),
            key: key_record(&key, None),
            previous: None,
        };
        if !self.store.add_subscriber(&record)? {
            return Err(SubscriberError::Exists(name.to_owned()));
        }
        self.store.sync()?;
        self.registry.write().unwrap_or_else(|e| e.into_inner()).index(&record);
        Ok(Issued { name: record.name, key, sections: record.sections })
    }

    /// Changes what a subscriber may read; its keys stay.
    pub fn update(&self, name: &str, sections: &[String]) -> Result<Listed, SubscriberError> {
        let grant = grant(sections)?;
        let _writing = self.writing.lock().unwrap_or_else(|e| e.into_inner());
        let mut record = self.record(name)?;
        record.sections = grant.names();
        self.replace(record)
    }

    /// Revokes a subscriber: its keys stop working now.
    pub fn revoke(&self, name: &str) -> Result<(), SubscriberError> {
        let _writing = self.writing.lock().unwrap_or_else(|e| e.into_inner());
        // Out of the registry first: no request is answered with the key
        // after this returns, even if the store write fails.
        let removed = self.registry.write().unwrap_or_else(|e| e.into_inner()).unindex(name);
        if removed.is_none() {
            return Err(SubscriberError::NotFound(name.to_owned()));
        }
        self.store.remove_subscriber(name)?;
        self.store.sync()?;
        Ok(())
    }

    /// A new key for a subscriber; the old one works for `grace` seconds more
    /// (none: it stops now).
    pub fn rotate(&self, name: &str, grace: Option<u64>) -> Result<Issued, SubscriberError> {
        let grace = grace.filter(|g| *g > 0);
        if grace.is_some_and(|g| g > MAX_GRACE) {
            return Err(SubscriberError::BadGrace);
        }
        let _writing = self.writing.lock().unwrap_or_else(|e| e.into_inner());
        let mut record = self.record(name)?;
        let key = new_key();
        let old = std::mem::replace(&mut record.key, key_record(&key, None));
        record.previous =
            grace.map(|g| KeyRecord { until: Some(Utc::now() + chrono::Duration::seconds(g as i64)), ..old });
        let sections = record.sections.clone();
        self.replace(record)?;
        Ok(Issued { name: name.to_owned(), key, sections })
    }

    /// A subscriber's record as it is now (for the archive).
    pub fn record_of(&self, name: &str) -> Option<SubscriberRecord> {
        self.registry.read().unwrap_or_else(|e| e.into_inner()).records.get(name).cloned()
    }

    /// Makes a subscriber's record what an archive record says (a rebuild). Not yet durable.
    pub fn apply(&self, record: &SubscriberRecord) -> Result<(), StoreError> {
        let _writing = self.writing.lock().unwrap_or_else(|e| e.into_inner());
        self.store.put_subscriber(record)?;
        let mut registry = self.registry.write().unwrap_or_else(|e| e.into_inner());
        registry.unindex(&record.name);
        registry.index(record);
        Ok(())
    }

    /// Revokes a subscriber as an archive record says (a rebuild). Not yet durable.
    pub fn apply_revoked(&self, name: &str) -> Result<(), StoreError> {
        let _writing = self.writing.lock().unwrap_or_else(|e| e.into_inner());
        self.registry.write().unwrap_or_else(|e| e.into_inner()).unindex(name);
        self.store.remove_subscriber(name)?;
        Ok(())
    }

    fn record(&self, name: &str) -> Result<SubscriberRecord, SubscriberError> {
        let registry = self.registry.read().unwrap_or_else(|e| e.into_inner());
        let mut record =
            registry.records.get(name).cloned().ok_or_else(|| SubscriberError::NotFound(name.to_owned()))?;
        // A grace that is over is forgotten at the next change.
        if record.previous.as_ref().is_some_and(|p| p.until.is_some_and(|u| u <= Utc::now())) {
            record.previous = None;
        }
        Ok(record)
    }

    /// Stores a changed record, then swaps it in. The old entry leaves the
    /// registry first, so a key given up is refused from now on.
    fn replace(&self, record: SubscriberRecord) -> Result<Listed, SubscriberError> {
        let old = self.registry.write().unwrap_or_else(|e| e.into_inner()).unindex(&record.name);
        let written = self.store.put_subscriber(&record).and_then(|()| self.store.sync());
        let mut registry = self.registry.write().unwrap_or_else(|e| e.into_inner());
        match written {
            Ok(()) => {
                registry.index(&record);
                Ok(listed(&record))
            }
            Err(e) => {
                // What the store still holds comes back after a restart
                // anyway; keep serving it meanwhile.
                if let Some(old) = old {
                    registry.index(&old);
                }
                Err(e.into())
            }
        }
    }
}

fn listed(record: &SubscriberRecord) -> Listed {
    let previous = record.previous.as_ref().and_then(|p| {
        let until = p.until.filter(|u| *u > Utc::now())?;
        Some(Previous { key_prefix: p.prefix.clone(), until })
    });
    Listed {
        name: record.name.clone(),
        sections: record.sections.clone(),
        created: record.created,
        key_prefix: record.key.prefix.clone(),
        previous_key: previous,
    }
}

fn check_name(name: &str) -> Result<(), SubscriberError> {
    let ok = !name.is_empty()
        && name.len() <= MAX_NAME
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(SubscriberError::BadName)
    }
}

fn grant(sections: &[String]) -> Result<Grant, SubscriberError> {
    if sections.is_empty() {
        return Err(SubscriberError::BadSections("sections must name at least one section slug, or \"*\"".into()));
    }
    Grant::parse(sections).map_err(|bad| {
        SubscriberError::BadSections(format!(
            "{bad:?} is not a section slug ([a-z0-9-], as in /sections/{{slug}}) nor \"*\""
        ))
    })
}

/// A new key from the OS random source.
fn new_key() -> String {
    let mut bytes = [0u8; KEY_BYTES];
    ring::rand::SystemRandom::new().fill(&mut bytes).expect("the OS random source answers");
    hex(&bytes)
}

fn key_record(key: &str, until: Option<DateTime<Utc>>) -> KeyRecord {
    KeyRecord { hash: hex(&hash(key)), prefix: key.chars().take(PREFIX_CHARS).collect(), until }
}

fn hash(key: &str) -> [u8; 32] {
    let digest = ring::digest::digest(&ring::digest::SHA256, key.as_bytes());
    digest.as_ref().try_into().expect("SHA-256 is 32 bytes")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    if text.len() != 64 {
        return None;
    }
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subscribers() -> (tempfile::TempDir, Subscribers) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), 1 << 20).unwrap();
        (dir, Subscribers::load(store).unwrap())
    }

    #[test]
    fn a_key_is_found_by_its_hash_and_never_stored() {
        let (_dir, subs) = subscribers();
        let issued = subs.add("acme", &["world".into()]).unwrap();
        assert_eq!(issued.key.len(), 48);
        assert!(issued.key.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(&*subs.find(&issued.key).unwrap().name, "acme");
        let mut off = issued.key.clone().into_bytes();
        off[10] = if off[10] == b'0' { b'1' } else { b'0' };
        assert!(subs.find(std::str::from_utf8(&off).unwrap()).is_none(), "one character off");
        let stored = serde_json::to_string(&subs.store.subscribers().unwrap()).unwrap();
        assert!(!stored.contains(&issued.key), "{stored}");
        assert!(matches!(subs.add("acme", &["*".into()]), Err(SubscriberError::Exists(_))));
        assert!(matches!(subs.add("a/b", &["*".into()]), Err(SubscriberError::BadName)));
        assert!(matches!(subs.add("b", &["World News".into()]), Err(SubscriberError::BadSections(_))));
    }

    #[test]
    fn rotation_and_revocation_take_effect_at_once() {
        let (_dir, subs) = subscribers();
        let first = subs.add("acme", &["*".into()]).unwrap().key;
        let second = subs.rotate("acme", None).unwrap().key;
        assert!(subs.find(&first).is_none());
        let third = subs.rotate("acme", Some(60)).unwrap().key;
        assert!(subs.find(&second).is_some(), "kept for its grace");
        assert!(subs.find(&third).is_some());
        assert_eq!(subs.list()[0].previous_key.as_ref().unwrap().key_prefix, second[..6]);
        assert!(subs.find(&third).is_some(), "found again, through the keys seen");
        subs.revoke("acme").unwrap();
        assert!(subs.find(&second).is_none() && subs.find(&third).is_none(), "a key seen before is refused too");
        assert!(matches!(subs.revoke("acme"), Err(SubscriberError::NotFound(_))));
    }
}
