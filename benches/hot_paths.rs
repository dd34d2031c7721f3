//! Hot paths that do not touch the network or the disk: rendering a
//! 50-item feed page in each format (what a cache miss costs on top of the
//! store read), and the index key bytes every store read and write builds.
//!
//! Run with `cargo bench --bench hot_paths`; the HTTP-level figures are in
//! `scripts/bench-http` and `docs/benchmarks.md`.

use std::hint::black_box;

use chrono::{DateTime, Duration, Utc};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

use wirefeed::domain::{Article, ArticleId, Page, Related, Section, TimeSource};
use wirefeed::render::{self, FeedPage, Scope, Site};
use wirefeed::store::keys;
use wirefeed::urls::Base;

/// Items in a feed page (the `WIREFEED_FEED_ITEMS` default).
const ITEMS: usize = 50;

/// A story of the usual shape: a headline, eight paragraphs of a few
/// sentences with characters that need escaping, a byline, related stories.
fn article(section: &Section, i: usize) -> Article {
    let published =
        DateTime::<Utc>::from_timestamp(1_469_565_180, 0).expect("valid time") - Duration::minutes(i as i64 * 37);
    let headline = format!("Story {i}: Russia & US work on \"cooperation\" plan as UN seeks new <peace> talks");
    let paragraphs = (0..8)
        .map(|p| {
            format!(
                "Paragraph {p} of story {i}. Russia and the United States are trying to finalize a plan to \
                 cooperate more closely on the war in Syria, the chief diplomats said on Tuesday. \"We hope that \
                 concrete progress will take place visibly,\" de Mistura said in Geneva & elsewhere <today>."
            )
        })
        .collect();
    Article {
        id: ArticleId::for_story(published.date_naive(), &headline, 1),
        section: section.clone(),
        headline,
        paragraphs,
        authors: if i.is_multiple_of(3) { vec!["Jane Doe".into(), "John Roe".into()] } else { Vec::new() },
        dateline: None,
        related: (0..3)
            .map(|r| Related {
                headline: format!("Related {r}"),
                teaser: "Turkish authorities have expelled...".into(),
            })
            .collect(),
        published,
        date_only: false,
        updated: None,
        received: published,
        time_source: TimeSource::Parsed,
        order: i as u64,
        source_hash: format!("{i:016x}"),
        wire: Default::default(),
        notes: Vec::new(),
        correction: None,
        embargo: None,
    }
}

fn feeds(c: &mut Criterion) {
    let section = Section::from_name("World").expect("a valid section");
    let site = Site { title: "wirefeed".into(), language: "en".into(), max_age: 300, hubs: Vec::new() };
    let base = Base::new("http://127.0.0.1:8080/");
    let scope = Scope::section(&section);
    let articles = (0..ITEMS).map(|i| article(&section, i)).collect::<Vec<_>>();
    let next = articles.last().map(|a| a.sort_instant().timestamp_micros());
    let page = Page { articles, next, prev: None };
    let changed = page.articles.first().map(|a| a.sort_instant());
    let feed = FeedPage { site: &site, base: &base, scope: &scope, page: &page, cursor: None, changed };

    let mut group = c.benchmark_group("render_50_items");
    for (name, render) in [
        ("rss", render::rss::render as fn(&FeedPage<'_>) -> Vec<u8>),
        ("atom", render::atom::render),
        ("json", render::json::render),
    ] {
        let bytes = render(&feed).len() as u64;
        group.throughput(Throughput::Bytes(bytes));
        group.bench_function(name, |b| b.iter(|| render(black_box(&feed))));
    }
    group.finish();
}

fn key_encoding(c: &mut Criterion) {
    let section = Section::from_name("Middle East & Africa").expect("a valid section");
    let id = ArticleId::parse("2016-07-26-russia-us-work-on-syria-cooperation-plan-as-un-seeks-new-peace-talks")
        .expect("a valid id");
    let micros = 1_469_565_180_000_123_i64;

    let mut group = c.benchmark_group("keys");
    group.bench_function("time_bytes", |b| b.iter(|| keys::time_bytes(black_box(micros))));
    group.bench_function("section_entry", |b| {
        b.iter(|| keys::section_entry(black_box(&section.slug), black_box(micros), black_box(&id)))
    });
    group.finish();
}

criterion_group!(benches, feeds, key_encoding);
criterion_main!(benches);
