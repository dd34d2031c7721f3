//! Property: kills and embargoes compose, whatever the order. For any
//! sequence of imports (with and without an embargo, re-sends that move it
//! later or earlier, restores), kills by id or by advisory, the clock moving
//! on with the releases it makes due, and restarts:
//! - a killed story is never public again unless it is restored;
//! - a held story is never public before the last release time it was given;
//! - a held story is public once its time has come and it was not killed.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{DateTime, Duration, TimeZone, Utc};
use proptest::prelude::*;
use wirefeed::domain::{ArticleId, Section};
use wirefeed::import::{ingest, Asked, ImportSettings, IngestError, Outcome};
use wirefeed::store::{Put, Store, StoreError};
use wirefeed::wire::Media;

const STORIES: u8 = 3;

#[derive(Debug, Clone)]
enum Op {
    /// Story `story`, body variant `body`, held for `embargo` ticks from now
    /// (`None`: no embargo; `Some(0)`: an embargo already past).
    Import {
        story: u8,
        body: u8,
        embargo: Option<u8>,
        restore: bool,
    },
    /// `DELETE /articles/{id}` of the story's last answered id.
    Delete(u8),
    /// `KILL: <headline>`.
    Advisory(u8),
    /// The clock moves on by this many ticks, and what is due is released.
    Tick(u8),
    Restart,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0..STORIES, 0..3u8, proptest::option::of(0..6u8), proptest::bool::weighted(0.2))
            .prop_map(|(story, body, embargo, restore)| Op::Import { story, body, embargo, restore }),
        2 => (0..STORIES).prop_map(Op::Delete),
        1 => (0..STORIES).prop_map(Op::Advisory),
        4 => (1..4u8).prop_map(Op::Tick),
        1 => Just(Op::Restart),
    ]
}

/// What the newsroom expects of one story.
#[derive(Debug, Clone, Copy, PartialEq)]
enum State {
    Absent,
    Held(DateTime<Utc>),
    Public,
    Killed,
}

fn open(dir: &Path) -> Store {
    for _ in 0..100 {
        match Store::open(dir, 1 << 20) {
            Err(StoreError::Locked(_)) => std::thread::sleep(std::time::Duration::from_millis(20)),
            other => return other.unwrap(),
        }
    }
    panic!("the store stayed locked");
}

fn headline(story: u8) -> String {
    format!("Story number {story}")
}

fn text(story: u8, body: u8) -> String {
    format!(
        "{}\n\nBody variant {body} of story {story}.\n\nLast update: Wed, 27/07/2016 - 10:0{body}\n\nMore from World\n",
        headline(story)
    )
}

fn public(store: &Store, story: u8) -> bool {
    let slug = Section::from_name("World").unwrap().slug;
    store.find(&slug, &headline(story)).unwrap().is_some()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn kills_and_embargoes_hold_in_any_order(ops in proptest::collection::vec(op(), 1..40)) {
        let dir = tempfile::tempdir().unwrap();
        let settings = ImportSettings {
            source_tz: chrono_tz::UTC,
            default_section: Section::from_name("World").unwrap(),
            max_body: 1 << 20,
        };
        let start = Utc.with_ymd_and_hms(2016, 7, 28, 0, 0, 0).unwrap();
        let tick = Duration::minutes(1);
        let mut now = start;
        let mut store = open(dir.path());
        let mut model: BTreeMap<u8, State> = (0..STORIES).map(|s| (s, State::Absent)).collect();
        let mut ids: BTreeMap<u8, ArticleId> = BTreeMap::new();
        for op in ops {
            match op {
                Op::Import { story, body, embargo, restore } => {
                    let release = embargo.map(|n| now + tick * i32::from(n));
                    let asked = Asked { media: Media::Text, section: None, embargo: release, restore };
                    let result = ingest(&store, text(story, body).as_bytes(), &asked, &settings, now);
                    let future = release.filter(|r| *r > now);
                    let state = model[&story];
                    let expected = match (state, future) {
                        (State::Killed, _) if !restore => State::Killed,
                        (State::Held(kept), None) => State::Held(kept),
                        (State::Held(_), Some(r)) => State::Held(r),
                        (State::Public, _) => State::Public,
                        (_, Some(r)) => State::Held(r),
                        (_, None) => State::Public,
                    };
                    match result {
                        Err(IngestError::Killed(_)) => prop_assert_eq!(state, State::Killed, "refused as killed"),
                        Err(e) => panic!("{e}"),
                        Ok(done) => {
                            prop_assert_ne!(expected, State::Killed, "a killed story was taken");
                            if let Outcome::Stored(put) = &done.outcome {
                                ids.insert(story, put.article().id.clone());
                                if let (Put::Held(a), State::Held(r)) = (put, expected) {
                                    prop_assert_eq!(a.embargo, Some(r), "the answer names the release in force");
                                }
                            }
                        }
                    }
                    // A re-send of a public story with an embargo holds only
                    // the new copy: the story stays public.
                    model.insert(story, expected);
                }
                Op::Delete(story) => {
                    let Some(id) = ids.get(&story) else { continue };
                    let killed = store.kill(id, now).unwrap();
                    if matches!(model[&story], State::Held(_) | State::Public) {
                        prop_assert!(killed.is_some(), "the story to kill was found");
                        model.insert(story, State::Killed);
                    }
                }
                Op::Advisory(story) => {
                    let advisory = format!("KILL: {}\n\nThe story is withdrawn.\n\nMore from World\n", headline(story));
                    let done = ingest(&store, advisory.as_bytes(), &Asked::TEXT, &settings, now).unwrap();
                    prop_assert!(matches!(done.outcome, Outcome::Killed(_)));
                    model.insert(story, State::Killed);
                }
                Op::Tick(n) => {
                    now += tick * i32::from(n);
                    store.release_due(now).unwrap();
                    for state in model.values_mut() {
                        if matches!(*state, State::Held(r) if r <= now) {
                            *state = State::Public;
                        }
                    }
                }
                Op::Restart => {
                    store.close().unwrap();
                    drop(store);
                    store = open(dir.path());
                }
            }
            for (story, state) in &model {
                prop_assert_eq!(public(&store, *story), *state == State::Public, "story {} is {:?}", story, state);
            }
        }
        store.close().unwrap();
    }
}
