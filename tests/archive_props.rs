//! Property: whatever the sequence of imports, later takes, kill advisories,
//! deletes, restores (`?restore=true`), embargoes, releases and releases by
//! hand, the store
//! made again from the archive alone exports exactly what the live store
//! exports, and has the same kills.
//!
//! The changes go through the application layer, as the server and the
//! command line make them; the rebuild goes through `wirefeed::rebuild`, as
//! `wirefeed rebuild` and a healing start do.

use std::collections::BTreeSet;
use std::path::Path;

use chrono::{DateTime, Duration, Utc};
use clap::Parser;
use proptest::prelude::*;
use wirefeed::app::App;
use wirefeed::config::Cli;
use wirefeed::domain::ArticleId;
use wirefeed::import::{Asked, Outcome};
use wirefeed::journal::Journal;
use wirefeed::store::{Store, StoreError};

const SECTIONS: [&str; 2] = ["World", "Sport"];

#[derive(Debug, Clone)]
enum Op {
    /// Story `headline` of section `section`, sent at minute `minute` with
    /// body variant `body`: new, a later take, identical, or older.
    Import { headline: u8, section: u8, minute: u8, body: u8 },
    /// As `Import`, embargoed until `seconds` after now.
    Embargoed { headline: u8, section: u8, seconds: u8 },
    /// The agency's kill advisory naming story `headline`.
    Kill(u8),
    /// Story `headline` sent again with `?restore=true`.
    Restore { headline: u8, section: u8 },
    /// `DELETE` of the `n`-th stored story (modulo how many there are).
    Delete(u8),
    /// The release task at `seconds` after now.
    Release(u8),
    /// `POST /articles/{id}/release` of the `n`-th story held (modulo how many).
    ReleaseNow(u8),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0..6u8, 0..2u8, 0..3u8, 0..3u8)
            .prop_map(|(headline, section, minute, body)| Op::Import { headline, section, minute, body }),
        2 => (0..6u8, 0..2u8, 1..60u8).prop_map(|(headline, section, seconds)| Op::Embargoed { headline, section, seconds }),
        1 => (0..6u8).prop_map(Op::Kill),
        1 => (0..6u8, 0..2u8).prop_map(|(headline, section)| Op::Restore { headline, section }),
        1 => any::<u8>().prop_map(Op::Delete),
        1 => (0..90u8).prop_map(Op::Release),
        1 => any::<u8>().prop_map(Op::ReleaseNow),
    ]
}

fn text(headline: u8, section: u8, minute: u8, body: u8) -> String {
    format!(
        "Story number {headline}\n\nBody variant {body} of story {headline}.\n\n\
         Last update: Wed, 27/07/2016 - 10:0{minute}\n\nMore from {}\n",
        SECTIONS[section as usize]
    )
}

fn app_on(data: &Path, journal_of: &Path) -> App {
    let cli = Cli::try_parse_from(["wirefeed", "--data-dir", data.to_str().unwrap(), "--min-free-mib", "0"]).unwrap();
    let store = loop {
        // sled lets go of the directory lock a moment after the last handle drops.
        match Store::open(data, 1 << 20) {
            Err(StoreError::Locked(_)) => std::thread::sleep(std::time::Duration::from_millis(20)),
            other => break other.unwrap(),
        }
    };
    let (journal, found) = Journal::open(journal_of).unwrap();
    assert!(found.is_empty(), "{found:?}");
    wirefeed::startup::offline_with(store, journal, &cli.parse, &cli.serve).unwrap()
}

fn export(store: &Store) -> String {
    let mut out = Vec::new();
    store.export(&mut out, &mut |skipped| panic!("skipped {skipped}")).unwrap();
    String::from_utf8(out).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn the_store_rebuilt_from_the_archive_exports_what_the_live_store_exports(
        ops in proptest::collection::vec(op(), 1..40),
    ) {
        let tmp = tempfile::tempdir().unwrap();
        let (live_dir, rebuilt_dir) = (tmp.path().join("live"), tmp.path().join("rebuilt"));
        let app = app_on(&live_dir, &live_dir);
        let now: DateTime<Utc> = wirefeed::import::now();
        let mut stored: BTreeSet<ArticleId> = BTreeSet::new();
        let mut killed: BTreeSet<ArticleId> = BTreeSet::new();
        let mut held: BTreeSet<ArticleId> = BTreeSet::new();
        for op in ops {
            let outcome = match op {
                Op::Import { headline, section, minute, body } => {
                    app.ingest(text(headline, section, minute, body).as_bytes(), &Asked::TEXT).map(|i| i.outcome)
                }
                Op::Embargoed { headline, section, seconds } => {
                    let asked = Asked { embargo: Some(now + Duration::seconds(seconds.into())), ..Asked::TEXT };
                    app.ingest(text(headline, section, 0, 0).as_bytes(), &asked).map(|i| i.outcome)
                }
                Op::Kill(headline) => {
                    let advisory = format!("KILL: Story number {headline}\n\nThe story is withdrawn.\n");
                    app.ingest(advisory.as_bytes(), &Asked::TEXT).map(|i| i.outcome)
                }
                Op::Restore { headline, section } => {
                    let asked = Asked { restore: true, ..Asked::TEXT };
                    app.ingest(text(headline, section, 0, 0).as_bytes(), &asked).map(|i| i.outcome)
                }
                Op::Delete(n) => {
                    if let Some(id) = stored.iter().nth(n as usize % stored.len().max(1)).cloned() {
                        app.delete(&id).unwrap();
                        killed.insert(id);
                    }
                    continue;
                }
                Op::Release(seconds) => {
                    app.release_due(now + Duration::seconds(seconds.into())).unwrap();
                    continue;
                }
                Op::ReleaseNow(n) => {
                    if let Some(id) = held.iter().nth(n as usize % held.len().max(1)).cloned() {
                        app.release_now(&id).unwrap();
                        held.remove(&id);
                    }
                    continue;
                }
            };
            match outcome {
                Ok(Outcome::Stored(put)) => {
                    if matches!(put, wirefeed::store::Put::Held(_)) {
                        held.insert(put.article().id.clone());
                    }
                    stored.insert(put.article().id.clone());
                }
                Ok(Outcome::Killed(Some(stone))) => {
                    killed.insert(stone.id);
                }
                Ok(Outcome::Killed(None)) => {}
                // Refused (a killed story sent without restore=true): no record.
                Err(e) => prop_assert!(e.to_string().contains("killed"), "{e}"),
            }
        }
        let live = export(app.store());
        let tombstones: Vec<_> = killed.iter().map(|id| app.store().tombstone(id).unwrap()).collect();
        let last = app.journal().last_seq();
        app.close().unwrap();
        drop(app);

        let rebuilt = app_on(&rebuilt_dir, &live_dir);
        let summary = wirefeed::rebuild::replay(&rebuilt, 1, &mut |_| {}).unwrap();
        prop_assert_eq!(summary.records, last);
        prop_assert!(summary.damaged.is_empty() && summary.refused == 0 && summary.differ == 0, "{:?}", summary);
        prop_assert_eq!(&export(rebuilt.store()), &live);
        let again: Vec<_> = killed.iter().map(|id| rebuilt.store().tombstone(id).unwrap()).collect();
        prop_assert_eq!(again, tombstones);
        prop_assert_eq!(rebuilt.store().applied().unwrap(), Some(last).filter(|&l| l > 0));
        rebuilt.close().unwrap();
    }
}
