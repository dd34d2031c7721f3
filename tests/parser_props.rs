//! Properties of the story parser: no input makes it panic or stall, and
//! every word of a story comes out, in order, whatever its layout.

use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use proptest::prelude::*;
use wirefeed::wire::{parse, ParseOptions};

fn options() -> ParseOptions {
    ParseOptions {
        source_tz: chrono_tz::UTC,
        received: Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
        max_bytes: 1 << 20,
    }
}

/// Text that looks like wire copy: labels, datelines, bylines, tables, odd characters.
fn wireish() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("\n".to_owned()),
        Just("\n\n".to_owned()),
        Just("\r\n".to_owned()),
        Just("    ".to_owned()),
        Just("Last update: Tue, 26/07/2016 - 20:33".to_owned()),
        Just("Updated Dec. 25 at 3:53 pm E.T.".to_owned()),
        Just("Published: 07/26/2016 8:33 PM EDT".to_owned()),
        Just("More from World".to_owned()),
        Just("Related:".to_owned()),
        Just("By Jane Doe, Reuters".to_owned()),
        Just("GENEVA (Reuters) - ".to_owned()),
        Just("(CNN)".to_owned()),
        Just(" Wheat   2.55   2.40 ".to_owned()),
        Just("reserves.......644 vs.....1,337".to_owned()),
        Just("© 2016".to_owned()),
        Just("...".to_owned()),
        Just("\u{a0}\u{202e}\u{0}\u{2}\u{3}\u{feff}".to_owned()),
        "[a-zA-Z0-9 ,.:/()<>-]{0,30}",
        any::<String>(),
    ];
    prop::collection::vec(piece, 0..40).prop_map(|v| v.concat())
}

/// One story as words: a headline and paragraphs. Words start with `q` so
/// none is furniture, a label or a byline by accident.
fn story_words() -> impl Strategy<Value = (Vec<String>, Vec<Vec<String>>)> {
    let word = "q[a-z]{0,9}[,.]?";
    let headline = prop::collection::vec(word, 1..10);
    let paragraph = prop::collection::vec(word, 1..60);
    (headline, prop::collection::vec(paragraph, 1..8))
}

fn wrap(words: &[String], width: usize, indent: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = indent.to_owned();
    for w in words {
        if line.trim().is_empty() {
            line.push_str(w);
        } else if line.chars().count() + 1 + w.chars().count() <= width {
            line.push(' ');
            line.push_str(w);
        } else {
            lines.push(std::mem::take(&mut line));
            line.push_str(w);
        }
    }
    lines.push(line);
    lines
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn no_bytes_make_it_panic(bytes in prop::collection::vec(any::<u8>(), 0..3000)) {
        let _ = parse(&bytes, &options());
    }

    #[test]
    fn no_string_makes_it_panic(text in any::<String>()) {
        let _ = parse(text.as_bytes(), &options());
    }

    #[test]
    fn no_wire_like_text_makes_it_panic(text in wireish()) {
        if let Ok(story) = parse(text.as_bytes(), &options()) {
            prop_assert!(!story.headline.trim().is_empty());
            prop_assert!(story.headline.chars().count() <= wirefeed::wire::MAX_HEADLINE_CHARS);
            prop_assert!(!story.paragraphs.is_empty());
            prop_assert!(story.paragraphs.iter().all(|p| !p.trim().is_empty()));
            let all = std::iter::once(&story.headline).chain(&story.paragraphs).chain(&story.authors);
            for field in all {
                prop_assert!(!field.chars().any(|c| c.is_control() && c != '\n'), "control character in {:?}", field);
            }
        }
    }

    #[test]
    fn every_word_comes_out_in_order(
        (headline, paragraphs) in story_words(),
        layout in 0..3usize,
        width in 40..100usize,
        crlf in any::<bool>(),
    ) {
        let mut text = format!("{}\n\n", headline.join(" "));
        for (i, p) in paragraphs.iter().enumerate() {
            match layout {
                // One line per paragraph, blank lines between.
                0 => text.push_str(&format!("{}\n\n", p.join(" "))),
                // Hard-wrapped at `width`, blank lines between.
                1 => text.push_str(&format!("{}\n\n", wrap(p, width, "").join("\n"))),
                // Reuters: no blank lines, new paragraphs indented.
                _ => text.push_str(&format!("{}\n", wrap(p, width, if i == 0 { "" } else { "    " }).join("\n"))),
            }
        }
        if crlf {
            text = text.replace('\n', "\r\n");
        }
        let story = parse(text.as_bytes(), &options()).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        prop_assert_eq!(story.headline, headline.join(" "));
        let out: Vec<&str> = story.paragraphs.iter().flat_map(|p| p.split_whitespace()).collect();
        let expected: Vec<&str> = paragraphs.iter().flatten().map(String::as_str).collect();
        prop_assert_eq!(out, expected);
        if layout == 0 {
            prop_assert_eq!(story.paragraphs.len(), paragraphs.len());
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Furniture, time lines and a byline around the paragraphs go; every
    /// word of the paragraphs stays, in order.
    #[test]
    fn furniture_goes_and_every_word_stays(
        (headline, paragraphs) in story_words(),
        extras in prop::collection::vec(0..6usize, 1..8),
    ) {
        const EXTRA: [&str; 6] = [
            "Advertisement",
            "Share this article",
            "Last update: Tue, 26/07/2016 - 20:33",
            "Read more",
            "© 2016 Example News. All rights reserved.",
            "Play",
        ];
        let mut text = format!("{}\n\nBy Jane Doe\n\n", headline.join(" "));
        for (i, p) in paragraphs.iter().enumerate() {
            text.push_str(&format!("{}\n\n", p.join(" ")));
            if let Some(&e) = extras.get(i) {
                text.push_str(&format!("{}\n\n", EXTRA[e]));
            }
        }
        let story = parse(text.as_bytes(), &options()).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        let out: Vec<&str> = story.paragraphs.iter().flat_map(|p| p.split_whitespace()).collect();
        let expected: Vec<&str> = paragraphs.iter().flatten().map(String::as_str).collect();
        prop_assert_eq!(out, expected);
        prop_assert_eq!(story.authors, vec!["Jane Doe".to_owned()]);
    }
}

/// Big hostile inputs finish quickly: nothing in the parser is quadratic.
#[test]
fn huge_inputs_parse_in_linear_time() {
    let cases = [
        format!("Headline\n\n{}\n", "x".repeat(500_000)),
        format!("Headline\n\n{}", "word ".repeat(100_000)),
        format!("Headline\n\n{}", "a line of text\n".repeat(40_000)),
        format!("Headline\n\n{}", "    indented wire paragraph\n".repeat(20_000)),
        format!("Headline\n\n{}", " Net reserves.......644 vs.....1,337\n".repeat(20_000)),
        format!("Headline\n\nBody.\n\nMore from World\n\n{}", "Teaser\n\nText...\n\n".repeat(20_000)),
        format!("Updated: {}\n\nBody.\n", "1".repeat(100_000)),
        format!("Headline\n\n{}\n", "(".repeat(200_000)),
        format!("Headline\n\n{}\n", "- ".repeat(200_000)),
        "\n".repeat(500_000),
    ];
    for text in &cases {
        let start = Instant::now();
        let _ = parse(text.as_bytes(), &options());
        let took = start.elapsed();
        assert!(took < Duration::from_secs(3), "{} bytes took {took:?}", text.len());
    }
}
