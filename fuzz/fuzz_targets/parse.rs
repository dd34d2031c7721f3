//! Any bytes into the story parser, sent as text and as XML (so every
//! format reader, agency formats included, is reached): it must answer a
//! story or an error, never panic, and never hand out text a feed cannot
//! carry, in any field (notes and wire metadata too).
#![no_main]

use chrono::{TimeZone, Utc};
use libfuzzer_sys::fuzz_target;
use wirefeed::wire::{parse_as, Media, ParseOptions};

/// Characters XML 1.0 forbids, and the bidi overrides the parser removes.
fn forbidden(c: char) -> bool {
    (c.is_control() && !matches!(c, '\n' | '\t')) || matches!(c, '\u{FFFE}' | '\u{FFFF}' | '\u{202A}'..='\u{202E}')
}

fuzz_target!(|data: &[u8]| {
    let options = ParseOptions {
        source_tz: chrono_tz::Europe::Moscow,
        received: Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
        max_bytes: 1 << 20,
    };
    for media in [Media::Text, Media::Xml] {
        let Ok(story) = parse_as(data, media, &options) else { continue };
        assert!(!story.headline.trim().is_empty());
        assert!(story.headline.chars().count() <= wirefeed::wire::MAX_HEADLINE_CHARS);
        assert!(!story.paragraphs.is_empty());
        let wire = &story.wire;
        let fields = std::iter::once(&story.headline)
            .chain(&story.paragraphs)
            .chain(&story.authors)
            .chain(&story.notes)
            .chain(&story.correction)
            .chain([&wire.source, &wire.slug, &wire.category, &wire.take, &wire.sequence].into_iter().flatten())
            .chain(story.related.iter().flat_map(|r| [&r.headline, &r.teaser]));
        for field in fields {
            assert!(!field.chars().any(forbidden), "forbidden character in {field:?}");
        }
    }
});
