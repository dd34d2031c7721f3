//! Every key's bytes, in one place.
//!
//! # Layout (store format 4)
//! | tree        | key                                              | value                          |
//! |-------------|--------------------------------------------------|--------------------------------|
//! | `by_section`| section slug, `0x00`, time (8 bytes BE), id     | `Article` (codec)              |
//! | `articles`  | article id (ASCII)                               | section slug, `0x00`, time     |
//! | `by_time`   | time (8 bytes BE), id                            | section slug                   |
//! | `identity`  | section slug, `0x00`, normalised headline        | article id                     |
//! | `identity`  | `0x01`, agency, `0x00`, wire slug (lowercase)    | article id                     |
//! | `sections`  | section slug                                     | `SectionMeta` (codec)          |
//! | `urgent`    | section slug, `0x00`, time, id                   | section slug                   |
//! | `urgent`    | `0x00`, time, id                                 | section slug                   |
//! | `changed`   | section slug, or `*` for all sections            | time the scope last changed    |
//! | `meta`      | `format`                                         | store format (1 byte)          |
//!
//! Times are microseconds since the epoch with the sign bit flipped, big-endian,
//! so byte order is time order and a reverse prefix scan is newest first. The
//! `0x00` after the slug ends it: `sport` never matches `sports` (slugs are
//! `[a-z0-9-]`, so never contain `0x00`, nor are they ever `*`).
//!
//! An index time is the story's second plus a microsecond slot that no other
//! stored story of that second has (`Article::order`), so an index time names
//! one story. The `changed` tree came after format 3 without a format change:
//! a store without it reads as "changed when its newest story was", and older
//! builds ignore it.
//!
//! The articles live in the section index itself, so a section's page is one
//! range scan over neighbouring entries, whatever the store's size; `articles`
//! and `by_time` point into it with the part of the entry's key that their
//! own key lacks ([`entry_of_id`], [`entry_of_time`]).
//!
//! Format 4 added the wire metadata, notes, correction and embargo to the
//! stored article. The store has never been released, so the builds that
//! wrote formats 1 to 3 are moved over by export and restore, not by an
//! upgrade at open. Format 5 added the genre and kicker to the wire metadata.

use crate::domain::{headline_key, ArticleId, SectionSlug};

/// The store format this build writes.
pub const STORE_FORMAT: u8 = 5;

/// Sortable bytes of a time in microseconds.
pub fn time_bytes(micros: i64) -> [u8; 8] {
    ((micros as u64) ^ (1 << 63)).to_be_bytes()
}

/// The time in microseconds from its sortable bytes.
pub fn time_from_bytes(bytes: [u8; 8]) -> i64 {
    (u64::from_be_bytes(bytes) ^ (1 << 63)) as i64
}

/// Prefix of every section-index key of one section.
pub fn section_prefix(slug: &SectionSlug) -> Vec<u8> {
    let mut key = Vec::with_capacity(slug.as_str().len() + 1);
    key.extend_from_slice(slug.as_str().as_bytes());
    key.push(0);
    key
}

/// Section-index key with the time only: a bound for range scans.
pub fn section_bound(slug: &SectionSlug, micros: i64) -> Vec<u8> {
    let mut key = section_prefix(slug);
    key.extend_from_slice(&time_bytes(micros));
    key
}

/// Section-index key of one article.
pub fn section_entry(slug: &SectionSlug, micros: i64, id: &ArticleId) -> Vec<u8> {
    let mut key = section_bound(slug, micros);
    key.extend_from_slice(id.as_str().as_bytes());
    key
}

/// All-sections index key of one article.
pub fn time_entry(micros: i64, id: &ArticleId) -> Vec<u8> {
    let mut key = time_bytes(micros).to_vec();
    key.extend_from_slice(id.as_str().as_bytes());
    key
}

/// Splits an index key (after `prefix_len` bytes of prefix) into time and id.
pub fn split_entry(key: &[u8], prefix_len: usize) -> Option<(i64, ArticleId)> {
    let rest = key.get(prefix_len..)?;
    let time: [u8; 8] = rest.get(..8)?.try_into().ok()?;
    let id = ArticleId::parse(std::str::from_utf8(&rest[8..]).ok()?)?;
    Some((time_from_bytes(time), id))
}

/// The section-index key of an article from its `articles` entry.
pub fn entry_of_id(id: &[u8], pointer: &[u8]) -> Vec<u8> {
    [pointer, id].concat()
}

/// The section-index key of an article from its `by_time` entry.
pub fn entry_of_time(time_key: &[u8], slug: &[u8]) -> Vec<u8> {
    [slug, &[0], time_key].concat()
}

/// The id in a section-index key, for messages (lossy: the key may be damaged).
pub fn entry_id(key: &[u8]) -> String {
    let id = key.iter().position(|&b| b == 0).and_then(|end| key.get(end + 9..)).unwrap_or_default();
    String::from_utf8_lossy(id).into_owned()
}

/// `changed` key of the all-sections documents (feeds, home page, OPML).
pub fn changed_all() -> Vec<u8> {
    b"*".to_vec()
}

/// `changed` key of one section's documents.
pub fn changed_section(slug: &SectionSlug) -> Vec<u8> {
    slug.as_str().as_bytes().to_vec()
}

/// The time in microseconds of a `changed` value (written with [`time_bytes`]).
pub fn changed_from_bytes(bytes: &[u8]) -> Option<i64> {
    Some(time_from_bytes(bytes.try_into().ok()?))
}

/// Identity key: a story is the same story when its section and headline are.
pub fn identity(slug: &SectionSlug, headline: &str) -> Vec<u8> {
    let mut key = section_prefix(slug);
    key.extend_from_slice(headline_key(headline).as_bytes());
    key
}

/// Prefix of the urgent index of one section (`Some`) or of all: `0x00`
/// for all sections, else the section prefix (slugs are never empty).
pub fn urgent_prefix(slug: Option<&SectionSlug>) -> Vec<u8> {
    match slug {
        Some(slug) => section_prefix(slug),
        None => vec![0],
    }
}

/// The two urgent-index keys of an urgent story (its section's and the
/// all-sections one); the value is the section slug, so that the key after
/// its prefix and the value make the section-index key ([`entry_of_time`]).
pub fn urgent_entries(slug: &SectionSlug, micros: i64, id: &ArticleId) -> [Vec<u8>; 2] {
    let mut all = urgent_prefix(None);
    all.extend_from_slice(&time_entry(micros, id));
    [section_entry(slug, micros, id), all]
}

/// Wire identity key: the takes of one story share their agency and slug
/// (`0x01` first, so it never meets a section-slug key).
pub fn wire_identity(source: &str, slug: &str) -> Vec<u8> {
    let norm = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase();
    // `GLOBAL-PRECIOUS/ (UPDATE 1)`: the version note and the slug's closing
    // `/` are not part of the story's name.
    let slug = match slug.find('(') {
        Some(at) if at > 0 => &slug[..at],
        _ => slug,
    };
    let slug = slug.trim().trim_end_matches('/').trim();
    [&[1u8][..], norm(source).as_bytes(), &[0], norm(slug).as_bytes()].concat()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_bytes_sort_like_times() {
        let times = [i64::MIN, -1_000_000, -1, 0, 1, 1_469_565_180_000_000, i64::MAX];
        for pair in times.windows(2) {
            assert!(time_bytes(pair[0]) < time_bytes(pair[1]), "{pair:?}");
        }
        for t in times {
            assert_eq!(time_from_bytes(time_bytes(t)), t);
        }
    }

    #[test]
    fn section_entries_round_trip_and_never_leak_across_prefixes() {
        let sport = SectionSlug::parse("sport").unwrap();
        let sports = SectionSlug::parse("sports").unwrap();
        let id = ArticleId::parse("2016-07-26-a").unwrap();
        let key = section_entry(&sport, 42, &id);
        assert_eq!(split_entry(&key, section_prefix(&sport).len()), Some((42, id.clone())));
        assert_eq!(entry_id(&key), "2016-07-26-a");
        assert_eq!(entry_of_id(id.as_str().as_bytes(), &section_bound(&sport, 42)), key);
        assert_eq!(entry_of_time(&time_entry(42, &id), b"sport"), key);
        assert!(!section_entry(&sports, 42, &id).starts_with(&section_prefix(&sport)));
    }

    #[test]
    fn wire_identity_ignores_the_version_note() {
        assert_eq!(
            wire_identity("Reuters", "GLOBAL-PRECIOUS/ (UPDATE 1)"),
            wire_identity("reuters", "GLOBAL-PRECIOUS/")
        );
        assert_ne!(wire_identity("Reuters", "GLOBAL-PRECIOUS/"), wire_identity("AP", "GLOBAL-PRECIOUS/"));
    }

    #[test]
    fn identity_ignores_case_and_spacing() {
        let world = SectionSlug::parse("world").unwrap();
        assert_eq!(identity(&world, "Russia  blocks\nUN"), identity(&world, "russia blocks un"));
    }
}
