//! What the application keeps in the archive: every accepted transmission
//! and every change of state that is not one, as typed entries, and the
//! writer that appends them one at a time.
//!
//! An entry's payload is a little-endian `u32` length, that many bytes of
//! JSON (what the entry says), then the entry's raw bytes (a
//! transmission's body exactly as received; empty for the other kinds).
//! The kinds and their fields are listed in docs/design.md ("The
//! archive"). A kind this build does not know (written by a newer one) is
//! read as [`Entry::Unknown`] and reported, never misread.

use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::archive::{self, Archive, SyncHandle};
use crate::domain::{Article, ArticleId};
use crate::store::subscribers::SubscriberRecord;
use crate::wire::Media;

/// The kind bytes. New kinds take new numbers; a number is never reused.
pub mod kind {
    /// A story (or advisory) as received, with how it was asked to be stored and what came of it.
    pub const TRANSMISSION: u8 = 1;
    /// `DELETE /articles/{id}`: the story killed, a tombstone left.
    pub const DELETE: u8 = 2;
    /// The embargoed stories due at `at` released (the release task).
    pub const RELEASE: u8 = 3;
    /// One article loaded by `wirefeed restore`, exactly as exported.
    pub const RESTORED: u8 = 4;
    /// `POST /articles/{id}/release`: one held story released by hand at `at`.
    pub const RELEASE_NOW: u8 = 5;
    /// A subscriber of licensed sections as it is after a change (added,
    /// sections changed, key rotated): its key's hash, never the key.
    pub const SUBSCRIBER: u8 = 6;
    /// A subscriber revoked.
    pub const SUBSCRIBER_REVOKED: u8 = 7;
}

/// What a transmission record says besides the bytes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Received {
    /// The receive time the parse was given (so a rebuild parses alike).
    pub received: DateTime<Utc>,
    /// `text` or `xml`: the media family the body was sent as.
    pub media: String,
    /// `?section=`.
    #[serde(default)]
    pub section: Option<String>,
    /// `?embargo=`.
    #[serde(default)]
    pub embargo: Option<DateTime<Utc>>,
    /// `?restore=true`.
    #[serde(default)]
    pub restore: bool,
    /// What the store did: `created`, `updated`, `unchanged`, `stale`,
    /// `embargoed` or `killed`.
    pub outcome: String,
    /// The article it made or named (for a kill, the story killed, if any).
    #[serde(default)]
    pub id: Option<ArticleId>,
}

impl Received {
    /// The media family, as the parser takes it.
    pub fn media(&self) -> Media {
        if self.media == "xml" {
            Media::Xml
        } else {
            Media::Text
        }
    }
}

/// The name of a media family in a record.
pub fn media_name(media: Media) -> &'static str {
    match media {
        Media::Text => "text",
        Media::Xml => "xml",
    }
}

#[derive(Serialize, Deserialize)]
struct When {
    at: DateTime<Utc>,
}

/// An article named at an instant (a delete, a release by hand).
#[derive(Serialize, Deserialize)]
struct Deletion {
    id: ArticleId,
    at: DateTime<Utc>,
}

/// One record's meaning.
#[derive(Debug, Clone)]
pub enum Entry {
    Transmission {
        meta: Received,
        bytes: Vec<u8>,
    },
    /// A story deleted (killed) by id at `at`, the kill's time.
    Delete {
        id: ArticleId,
        at: DateTime<Utc>,
    },
    /// The embargoed stories due at `at` released.
    Release {
        at: DateTime<Utc>,
    },
    /// An article of an export, loaded as it was.
    Restored(Box<Article>),
    /// A held story released by hand at `at`.
    ReleaseNow {
        id: ArticleId,
        at: DateTime<Utc>,
    },
    /// A subscriber as it is after a change.
    Subscriber(Box<SubscriberRecord>),
    /// A subscriber revoked.
    SubscriberRevoked {
        name: String,
    },
    /// A kind this build does not know.
    Unknown {
        kind: u8,
    },
}

/// A record whose payload cannot be read.
#[derive(Debug, thiserror::Error)]
#[error("archive record {seq} (kind {kind}): {detail}")]
pub struct BadEntry {
    pub seq: u64,
    pub kind: u8,
    pub detail: String,
}

impl Entry {
    /// Its kind byte and payload.
    pub fn encode(&self) -> (u8, Vec<u8>) {
        let framed = |json: Vec<u8>, body: &[u8]| {
            let mut out = Vec::with_capacity(4 + json.len() + body.len());
            out.extend_from_slice(&(json.len() as u32).to_le_bytes());
            out.extend_from_slice(&json);
            out.extend_from_slice(body);
            out
        };
        match self {
            Entry::Transmission { meta, bytes } => (kind::TRANSMISSION, framed(json(meta), bytes)),
            Entry::Delete { id, at } => (kind::DELETE, framed(json(&Deletion { id: id.clone(), at: *at }), &[])),
            Entry::Release { at } => (kind::RELEASE, framed(json(&When { at: *at }), &[])),
            Entry::Restored(article) => (kind::RESTORED, framed(json(&**article), &[])),
            Entry::ReleaseNow { id, at } => {
                (kind::RELEASE_NOW, framed(json(&Deletion { id: id.clone(), at: *at }), &[]))
            }
            Entry::Subscriber(record) => (kind::SUBSCRIBER, framed(json(&**record), &[])),
            Entry::SubscriberRevoked { name } => {
                (kind::SUBSCRIBER_REVOKED, framed(json(&Named { name: name.clone() }), &[]))
            }
            Entry::Unknown { kind } => (*kind, framed(b"{}".to_vec(), &[])),
        }
    }

    /// Reads a record.
    pub fn decode(record: &archive::Record<'_>) -> Result<Entry, BadEntry> {
        let bad = |detail: String| BadEntry { seq: record.seq, kind: record.kind, detail };
        let payload = record.payload;
        let len = payload
            .get(..4)
            .and_then(|b| b.try_into().ok())
            .map(u32::from_le_bytes)
            .ok_or_else(|| bad("no payload length".into()))? as usize;
        let json = payload.get(4..4 + len).ok_or_else(|| bad("the payload is shorter than it says".into()))?;
        let body = &payload[4 + len..];
        let de = |e: serde_json::Error| bad(e.to_string());
        Ok(match record.kind {
            kind::TRANSMISSION => {
                Entry::Transmission { meta: serde_json::from_slice(json).map_err(de)?, bytes: body.to_vec() }
            }
            kind::DELETE => {
                let d: Deletion = serde_json::from_slice(json).map_err(de)?;
                Entry::Delete { id: d.id, at: d.at }
            }
            kind::RELEASE => Entry::Release { at: serde_json::from_slice::<When>(json).map_err(de)?.at },
            kind::RESTORED => Entry::Restored(Box::new(serde_json::from_slice(json).map_err(de)?)),
            kind::RELEASE_NOW => {
                let d: Deletion = serde_json::from_slice(json).map_err(de)?;
                Entry::ReleaseNow { id: d.id, at: d.at }
            }
            kind::SUBSCRIBER => Entry::Subscriber(Box::new(serde_json::from_slice(json).map_err(de)?)),
            kind::SUBSCRIBER_REVOKED => {
                Entry::SubscriberRevoked { name: serde_json::from_slice::<Named>(json).map_err(de)?.name }
            }
            other => Entry::Unknown { kind: other },
        })
    }
}

/// A revoked subscriber's record.
#[derive(Serialize, Deserialize)]
struct Named {
    name: String,
}

/// An entry's JSON. The types written are plain structs of strings,
/// numbers and times, which serde_json cannot fail on.
fn json<T: Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).unwrap_or_else(|_| b"{}".to_vec())
}

/// The archive of one data directory, written one entry at a time.
pub struct Journal {
    archive: Mutex<Archive>,
    sync: SyncHandle,
}

/// The right to write: held from before a change is made until its entry
/// is appended, so the archive's order is the order the changes were made
/// in (a rebuild makes them again in that order, with the same ids and
/// sort slots).
pub struct Writing<'a> {
    archive: MutexGuard<'a, Archive>,
}

impl Journal {
    /// Opens the archive of a data directory; a torn last record is cut
    /// off (what was found is returned, for the log).
    pub fn open(data_dir: &Path) -> std::io::Result<(Journal, Vec<String>)> {
        let (archive, found) = Archive::open(&data_dir.join(archive::DIR))?;
        let sync = archive.sync_handle();
        Ok((Journal { archive: Mutex::new(archive), sync }, found))
    }

    /// Waits for the right to write, with room reserved for an entry of
    /// `room` raw bytes: an error (a full disk) means nothing may be changed.
    pub fn begin(&self, room: usize) -> std::io::Result<Writing<'_>> {
        let mut archive = self.archive.lock().unwrap_or_else(|e| e.into_inner());
        // The JSON part of an entry is well under 4 KiB, a restored article's aside.
        archive.reserve(room + 4096)?;
        Ok(Writing { archive })
    }

    /// The sequence number of the last record (0: none).
    pub fn last_seq(&self) -> u64 {
        self.archive.lock().unwrap_or_else(|e| e.into_inner()).last_seq()
    }

    /// Syncs what was appended (for the store's group commit).
    pub fn sync_handle(&self) -> SyncHandle {
        self.sync.clone()
    }

    /// The archive's directory.
    pub fn dir(&self) -> std::path::PathBuf {
        self.archive.lock().unwrap_or_else(|e| e.into_inner()).dir().to_owned()
    }

    /// Syncs and gives back reserved room: call before exit.
    pub fn close(&self) -> std::io::Result<()> {
        self.archive.lock().unwrap_or_else(|e| e.into_inner()).close()
    }
}

impl Writing<'_> {
    /// Appends an entry; returns its sequence number.
    pub fn append(&mut self, entry: &Entry) -> std::io::Result<u64> {
        let (kind, payload) = entry.encode();
        self.archive.append(kind, &payload)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_reads_back_as_written() {
        let at = chrono::DateTime::parse_from_rfc3339("2026-12-07T09:00:00Z").unwrap().to_utc();
        let id = ArticleId::parse("2016-07-26-a-story").unwrap();
        let meta = Received {
            received: at,
            media: "xml".into(),
            section: Some("World".into()),
            embargo: Some(at),
            restore: true,
            outcome: "created".into(),
            id: Some(id.clone()),
        };
        let entries = [
            Entry::Transmission { meta: meta.clone(), bytes: b"\x01 exact bytes \xff".to_vec() },
            Entry::Delete { id: id.clone(), at },
            Entry::Release { at },
            Entry::ReleaseNow { id: id.clone(), at },
            Entry::Subscriber(Box::new(SubscriberRecord {
                name: "acme".into(),
                sections: vec!["world".into()],
                created: at,
                key: crate::store::subscribers::KeyRecord {
                    hash: "ab".repeat(32),
                    prefix: "abcdef".into(),
                    until: None,
                },
                previous: None,
            })),
            Entry::SubscriberRevoked { name: "acme".into() },
            Entry::Unknown { kind: 200 },
        ];
        for (n, entry) in entries.iter().enumerate() {
            let (kind, payload) = entry.encode();
            let back = Entry::decode(&archive::Record { seq: n as u64, kind, payload: &payload }).unwrap();
            assert_eq!(format!("{back:?}"), format!("{entry:?}"));
        }
        assert_eq!(meta.media(), Media::Xml);
    }
}
