//! Property: whatever the sequence of imports, updates in place, deletes and
//! restarts (the store closed and opened again), paging from the first page
//! reaches every stored story exactly once, newest first, in every scope.
//!
//! Story times fall on a few seconds only, so most stories share their
//! second with others written before and after a reopen: the case where a
//! sort instant made from a counter that restarts at every open repeated.

use std::collections::BTreeSet;
use std::path::Path;

use chrono::TimeZone;
use proptest::prelude::*;
use wirefeed::domain::{ArticleId, Listing, Section};
use wirefeed::import::{ingest, Asked, ImportSettings, Outcome};
use wirefeed::store::{Put, Store, StoreError};

const SECTIONS: [&str; 2] = ["World", "Sport"];

#[derive(Debug, Clone)]
enum Op {
    /// Story `headline` of section `section` at minute `minute`, with body
    /// variant `body`: new, an update in place, identical, or older than the
    /// stored version.
    Import {
        headline: u8,
        section: u8,
        minute: u8,
        body: u8,
    },
    /// Deletes the `n`-th stored story (modulo how many there are).
    Delete(u8),
    Restart,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0..6u8, 0..2u8, 0..2u8, 0..3u8)
            .prop_map(|(headline, section, minute, body)| Op::Import { headline, section, minute, body }),
        2 => any::<u8>().prop_map(Op::Delete),
        1 => Just(Op::Restart),
    ]
}

fn open(dir: &Path) -> Store {
    // sled lets go of the directory lock a moment after the last handle drops.
    for _ in 0..100 {
        match Store::open(dir, 1 << 20) {
            Err(StoreError::Locked(_)) => std::thread::sleep(std::time::Duration::from_millis(20)),
            other => return other.unwrap(),
        }
    }
    panic!("the store stayed locked");
}

/// Every id of `scope`, paging from the first page with pages of `limit`.
fn walk(store: &Store, scope: &Listing, limit: usize) -> Vec<ArticleId> {
    let (mut ids, mut before) = (Vec::new(), None);
    loop {
        let page = store.page(scope, before, limit).unwrap();
        let instants: Vec<_> = page.articles.iter().map(|a| a.sort_instant()).collect();
        assert!(instants.windows(2).all(|w| w[0] > w[1]), "newest first, distinct: {instants:?}");
        if let (Some(cursor), Some(first)) = (before, instants.first()) {
            assert!(first.timestamp_micros() < cursor, "older than the cursor");
        }
        ids.extend(page.articles.iter().map(|a| a.id.clone()));
        match page.next {
            Some(cursor) => before = Some(cursor),
            None => return ids,
        }
    }
}

fn check(store: &Store, stored: &BTreeSet<(ArticleId, usize)>, limit: usize) {
    let each_once = |walked: Vec<ArticleId>, expected: BTreeSet<ArticleId>, what: &str| {
        let unique: BTreeSet<_> = walked.iter().cloned().collect();
        assert_eq!(unique.len(), walked.len(), "{what}: a story twice: {walked:?}");
        assert_eq!(unique, expected, "{what}: pages of {limit}");
    };
    each_once(walk(store, &Listing::All, limit), stored.iter().map(|(id, _)| id.clone()).collect(), "all");
    for (n, name) in SECTIONS.iter().enumerate() {
        let scope = Listing::Section(Section::from_name(name).unwrap().slug);
        let expected = stored.iter().filter(|(_, s)| *s == n).map(|(id, _)| id.clone()).collect();
        each_once(walk(store, &scope, limit), expected, name);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn paging_reaches_every_stored_story_once_through_imports_updates_deletes_and_restarts(
        ops in proptest::collection::vec(op(), 1..40),
        limit in 1..4usize,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let settings = ImportSettings {
            source_tz: chrono_tz::UTC,
            default_section: Section::from_name("News").unwrap(),
            max_body: 1 << 20,
        };
        let received = chrono::Utc.with_ymd_and_hms(2016, 7, 28, 0, 0, 0).unwrap();
        let mut store = open(dir.path());
        // (id, section index) of every stored story.
        let mut stored: BTreeSet<(ArticleId, usize)> = BTreeSet::new();
        for op in ops {
            match op {
                Op::Import { headline, section, minute, body } => {
                    let text = format!(
                        "Story number {headline}\n\nBody variant {body} of story {headline}.\n\n\
                         Last update: Wed, 27/07/2016 - 10:0{minute}\n\nMore from {}\n",
                        SECTIONS[section as usize]
                    );
                    let outcome = ingest(&store, text.as_bytes(), &Asked::TEXT, &settings, received).unwrap().outcome;
                    if let Outcome::Stored(Put::Created(article)) = &outcome {
                        stored.insert((article.id.clone(), section as usize));
                    }
                }
                Op::Delete(n) => {
                    if stored.is_empty() {
                        continue;
                    }
                    let victim = stored.iter().nth(n as usize % stored.len()).unwrap().clone();
                    prop_assert!(store.delete(&victim.0).unwrap().is_some());
                    stored.remove(&victim);
                }
                Op::Restart => {
                    store.close().unwrap();
                    drop(store);
                    store = open(dir.path());
                    check(&store, &stored, limit);
                }
            }
        }
        check(&store, &stored, limit);
        store.close().unwrap();
    }
}
