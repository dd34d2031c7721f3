//! Any bytes into the XML readers (NITF, NewsML-G2) as `POST /import` with an
//! XML media type sends them: a story or an error, never a panic, never a
//! field a feed cannot carry. Seed the corpus with tests/fixtures/wire/*.xml.
#![no_main]

use chrono::{TimeZone, Utc};
use libfuzzer_sys::fuzz_target;
use wirefeed::wire::{parse_as, Media, ParseOptions};

/// Characters XML 1.0 forbids, and the bidi controls the parser removes.
fn forbidden(c: char) -> bool {
    (c.is_control() && !matches!(c, '\n' | '\t'))
        || matches!(c, '\u{FFFE}' | '\u{FFFF}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

fuzz_target!(|data: &[u8]| {
    let options = ParseOptions {
        source_tz: chrono_tz::Europe::Helsinki,
        received: Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
        max_bytes: 1 << 20,
    };
    if let Ok(story) = parse_as(data, Media::Xml, &options) {
        assert!(!story.headline.trim().is_empty());
        assert!(story.headline.chars().count() <= wirefeed::wire::MAX_HEADLINE_CHARS);
        assert!(!story.paragraphs.is_empty());
        let wire = &story.wire;
        let fields = std::iter::once(&story.headline)
            .chain(&story.paragraphs)
            .chain(&story.authors)
            .chain(&story.notes)
            .chain(&story.correction)
            .chain(story.dateline.iter().map(|d| &d.place))
            .chain([&wire.source, &wire.slug, &wire.category, &wire.take, &wire.sequence].into_iter().flatten());
        for field in fields {
            assert!(!field.chars().any(forbidden), "forbidden character in {field:?}");
        }
    }
});
