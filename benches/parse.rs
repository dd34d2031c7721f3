//! How long the parser takes over the seed story (~5 KB, 17 paragraphs,
//! a time line and five related stories).

use std::hint::black_box;

use chrono::{TimeZone, Utc};
use criterion::{criterion_group, criterion_main, Criterion};
use wirefeed::wire::{parse, ParseOptions};

fn parse_seed(c: &mut Criterion) {
    let bytes = include_bytes!("../seed/russia-us-syria-cooperation.txt");
    let options = ParseOptions {
        source_tz: chrono_tz::UTC,
        received: Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
        max_bytes: 1 << 20,
    };
    c.bench_function("parse seed story", |b| b.iter(|| parse(black_box(bytes), &options).unwrap()));
}

criterion_group!(benches, parse_seed);
criterion_main!(benches);
