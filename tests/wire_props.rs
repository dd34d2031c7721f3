//! Properties of the text agency readers (IPTC 7901, ANPA-1312, ZCZC):
//! whatever bytes surround a transmission's framing (junk before the header,
//! after the trailer, control characters at the start or end of body lines),
//! nothing panics, no control character reaches a stored field, and no
//! header or trailer line is published.

use chrono::{TimeZone, Utc};
use proptest::prelude::*;
use wirefeed::wire::{parse_as, Media, ParseOptions, Story};

fn options() -> ParseOptions {
    ParseOptions {
        source_tz: chrono_tz::UTC,
        received: Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
        max_bytes: 1 << 20,
    }
}

/// A transmission: header, body lines, trailer; and the strings of its
/// header and trailer that must never be published.
struct Template {
    head: &'static str,
    body: &'static [&'static str],
    tail: &'static str,
    secrets: &'static [&'static str],
}

const TEMPLATES: &[Template] = &[
    Template {
        head: "\u{1}qrs417 4 i 150 ccccb   dpa 228\r\n\nNorway-fishing/\r\n\u{2}Norway extends cod quota talks with Russia =\r\n",
        body: &[
            "",
            "   Oslo (dpa) - Norway and Russia agreed on Friday to extend talks",
            "on next year's cod quota in the Barents Sea by a week.",
            "",
            "   Both sides said progress had been made.",
            "",
            "# dpa NOTEBOOK",
            "The following information is not for publication",
            "- Reporting by: Ingrid Solbakken",
            "dpa is xk",
        ],
        tail: "\u{3}151230 GMT Nov 24\r\n\u{7f}\n\u{7f}\u{4}",
        secrets: &["qrs417", "151230 GMT", "Ingrid Solbakken", "dpa is xk", "not for publication"],
    },
    Template {
        head: "\u{16}\u{16}\u{1}b3377\u{1f}apworld\nr i\u{13}\u{11} BC-EU--Alps-Glacier   08-14 0220\n\u{2}^BC-EU--Alps-Glacier,201<\n^Swiss glacier loses record ice in summer heat<\n^AP Photo ZRH110<\n^Eds: With AP Photos.<\n^By HANNES MEIER=\n^Associated Press=\n",
        body: &[
            "\t   ZURICH (AP) _ A Swiss glacier lost a record amount of ice this summer, scientists said Wednesday. ",
            " ",
            "\t   ``It is melting faster than our models predicted,'' said glaciologist Anna Keller. ",
            "\t   ___",
        ],
        tail: "\t   \u{3}AP-WF-08-14-24 1130GMT<\n\n\u{c}\n\u{4}",
        secrets: &["AP-WF-08-14-24", "AP Photo ZRH110", "Eds: With AP Photos", "b3377", "Alps-Glacier,201"],
    },
    Template {
        head: "ZCZC AAP\r%A\r#Storm_BC1\r$Storm cuts power to 40,000 homes\r:(PERTH)\r&AAPIS\\Quillanm\r*17000000\r@WA\r",
        body: &[
            "A storm has cut power to 40,000 homes across Perth's northern suburbs.",
            "",
            "   Western Power says crews will work through the night.",
            "",
            "AAP RTV",
        ],
        tail: "NNNN\r",
        secrets: &["ZCZC", "NNNN", "Quillanm", "17000000"],
    },
];

/// Junk: any bytes but NUL (many NULs are binary data, refused anyway).
fn junk() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(1u8..=255, 0..60)
}

/// Control characters (and odd ones) to put at the start or end of body lines.
fn controls() -> impl Strategy<Value = Vec<(usize, bool, char)>> {
    let c = prop_oneof![
        Just('\u{1}'),
        Just('\u{2}'),
        Just('\u{3}'),
        Just('\u{4}'),
        Just('\u{8}'),
        Just('\u{c}'),
        Just('\u{10}'),
        Just('\u{11}'),
        Just('\u{12}'),
        Just('\u{13}'),
        Just('\u{14}'),
        Just('\u{16}'),
        Just('\u{1b}'),
        Just('\u{1f}'),
        Just('\u{7f}'),
        Just('\u{85}'),
        Just('\u{202e}'),
    ];
    prop::collection::vec((0usize..16, any::<bool>(), c), 0..8)
}

fn build(t: &Template, before: &[u8], after: &[u8], inserted: &[(usize, bool, char)], zczc: bool) -> Vec<u8> {
    let mut body: Vec<String> = t.body.iter().map(|l| (*l).to_owned()).collect();
    for &(line, end, c) in inserted {
        let n = line % body.len();
        if end {
            body[n].push(c);
        } else {
            body[n].insert(0, c);
        }
    }
    let nl = if zczc { "\r" } else { "\n" };
    let mut out = before.to_vec();
    // ZCZC's framing is a line of its own: junk before it ends its line.
    if zczc {
        out.push(b'\n');
    }
    out.extend_from_slice(t.head.as_bytes());
    for line in body {
        out.extend_from_slice(line.as_bytes());
        out.extend_from_slice(nl.as_bytes());
    }
    out.extend_from_slice(t.tail.as_bytes());
    out.extend_from_slice(after);
    out
}

/// Every stored string of a story.
fn fields(s: &Story) -> Vec<(&'static str, String)> {
    let mut out = vec![("headline", s.headline.clone())];
    out.extend(s.paragraphs.iter().map(|p| ("paragraph", p.clone())));
    out.extend(s.authors.iter().map(|a| ("author", a.clone())));
    out.extend(s.notes.iter().map(|n| ("note", n.clone())));
    out.extend(s.correction.iter().map(|c| ("correction", c.clone())));
    let w = &s.wire;
    for v in [&w.source, &w.slug, &w.category, &w.take, &w.sequence].into_iter().flatten() {
        out.push(("wire", v.clone()));
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn framing_never_leaks(
        which in 0usize..TEMPLATES.len(),
        before in junk(),
        after in junk(),
        inserted in controls(),
    ) {
        let t = &TEMPLATES[which];
        let bytes = build(t, &before, &after, &inserted, which == 2);
        for media in [Media::Text, Media::Xml] {
            let Ok(story) = parse_as(&bytes, media, &options()) else { continue };
            for (name, value) in fields(&story) {
                let bad = value.chars().find(|&c| {
                    (c.is_control() && !(c == '\n' && name == "paragraph")) || ('\u{202a}'..='\u{202e}').contains(&c)
                });
                prop_assert!(bad.is_none(), "{name} {value:?} holds {bad:?}");
            }
            if media == Media::Text {
                let mut published: Vec<String> = fields(&story)
                    .into_iter()
                    .filter(|(n, _)| *n != "note")
                    .map(|(_, v)| v)
                    .collect();
                published.push(story.headline.clone());
                let published = published.join("\n");
                for secret in t.secrets {
                    prop_assert!(!published.contains(secret), "{secret:?} published: {published:?}");
                }
            }
        }
    }
}

/// Identical transmissions give identical text (the article's identity).
#[test]
fn identical_transmissions_give_identical_text() {
    for t in TEMPLATES {
        let bytes = build(t, b"", b"", &[], t.head.starts_with("ZCZC"));
        let a = parse_as(&bytes, Media::Text, &options()).unwrap();
        let b = parse_as(&bytes, Media::Text, &options()).unwrap();
        assert_eq!(a.text, b.text);
        assert!(!a.text.chars().any(|c| c.is_control() && c != '\n' && c != '\t'));
    }
}

/// The correction statement and the embargo of our fixtures (fields the
/// expectation files have no key for).
#[test]
fn corrections_and_embargoes_are_read() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/wire");
    let read = |name: &str| parse_as(&std::fs::read(dir.join(name)).unwrap(), Media::Text, &options()).unwrap();
    let embargo = |s: Story| s.embargo.map(|t| t.with_timezone(&Utc).to_rfc3339());
    assert_eq!(
        read("iptc-dpa-correction.txt").correction.as_deref(),
        Some("Corrects name of minister in 2nd paragraph")
    );
    assert_eq!(
        read("anpa-ap-correction.tst").correction.as_deref(),
        Some("CORRECTS spelling of mayor's name to Brandt, sted Brant.")
    );
    assert!(read("zczc-aap-correction.tst").correction.is_some_and(|c| c.contains("corrects the cash rate")));
    assert_eq!(embargo(read("iptc-dpa-embargo.txt")).as_deref(), Some("2025-03-06T00:01:00+00:00"));
    assert_eq!(embargo(read("anpa-ap-embargo.tst")).as_deref(), Some("2025-09-10T15:00:00+00:00"));
    assert_eq!(embargo(read("zczc-aap-medianet-embargo.tst")).as_deref(), Some("2025-06-04T14:01:00+00:00"));
    let notebook = read("iptc-dpa-port-strike.txt");
    assert!(notebook.notes.iter().any(|n| n.contains("Lena Kowalczyk")));
    assert!(notebook.notes.iter().any(|n| n == "dpa lko mo xyz"));
    assert_eq!(read("iptc-dpa-latin1-rhein.txt").encoding, "windows-1252");
}

/// Advisory lines agencies put between the keyword line and the headline,
/// of every kind, in English and German; `true` for an embargo.
const ADVISORIES: &[(&str, bool)] = &[
    ("EMBARGOED until 0829 GMT Monday, Dec 7, 2026", true),
    ("Embargoed until 00:01 GMT Thursday", true),
    ("HOLD FOR RELEASE until 6:30 p.m. EST", true),
    ("Embargo: 1800 CET", true),
    ("Sperrfrist: Donnerstag, 10. Dezember, 18.00 Uhr MEZ", true),
    ("Sperrfrist 1200 MEZ", true),
    ("Sperrfrist beachten", true),
    ("EMBARGOED until further notice", true),
    ("Not for publication before 0800 GMT on 8 December 2026", true),
    ("CORRECTS spelling of minister's name to Wendtland (not Wendland) in 2nd para", false),
    ("(Berichtigung: In einer früheren Version hieß es, der Minister sei 54 Jahre alt.)", false),
    ("REPEAT", false),
    ("Wiederholung", false),
    ("KILL", false),
    ("WITHDRAWN", false),
    ("Löschung", false),
    ("BULLETIN", false),
    ("FLASH", false),
    ("Eil", false),
    ("Eilmeldung", false),
    ("+++ EILMELDUNG +++", false),
    ("(Foto Illustration)", false),
    ("(Foto - Handout)", false),
    ("Grafik: Klimawandel", false),
    ("AP Photo NY101", false),
    ("With AP Photos", false),
    ("Die Meldung lief auch im Ressort Wirtschaft", false),
    ("ATTENTION sports editors", false),
    ("Eds: Moves on general news services", false),
];

/// A line in a random mix of cases.
fn recase(line: &str, mask: u64) -> String {
    line.chars()
        .enumerate()
        .map(|(i, c)| match (mask >> (i % 64)) & 3 {
            0 => c.to_lowercase().collect::<String>(),
            1 => c.to_uppercase().collect::<String>(),
            _ => c.to_string(),
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Whatever advisory lines (any kind, any order, any case) stand between
    /// the keyword line and the headline, the headline is exactly the
    /// headline, none of them is published, and an embargo among them
    /// holds the story (its time, or unreadable).
    #[test]
    fn advisories_above_the_headline_never_become_it(
        picks in proptest::collection::vec((0..ADVISORIES.len(), any::<u64>(), any::<bool>()), 1..5),
        equals in any::<bool>(),
    ) {
        let headline = "Glaciers in northern Norway lost a fifth of their ice";
        let mut text = String::from("\u{1}eca062 4 i 211 ccccb   dpa 061\r\nNorway-climate/glaciers/\r\n\u{2}");
        let mut embargo = false;
        let mut lines = Vec::new();
        for (i, mask, keep_case) in &picks {
            let (line, is_embargo) = ADVISORIES[*i];
            let line = if *keep_case { line.to_owned() } else { recase(line, *mask) };
            embargo |= is_embargo;
            text.push_str(&line);
            text.push_str("\r\n");
            lines.push(line);
        }
        text.push_str(headline);
        text.push_str(if equals { " =\r\n\r\n" } else { "\r\n\r\n" });
        text.push_str("   Tromsoe (dpa) - Glaciers in northern Norway lost a fifth of their\r\nice in ten years, researchers said on Friday.\r\n\r\n");
        text.push_str("\u{3}070512 GMT Dec 26\r\n");
        let story = parse_as(text.as_bytes(), Media::Text, &options()).unwrap();
        prop_assert_eq!(&story.headline, headline, "{:?}", lines);
        prop_assert_eq!(story.paragraphs.len(), 1, "{:?}", story.paragraphs);
        if embargo {
            prop_assert!(story.embargo.is_some() || story.embargo_unreadable, "embargo not held: {:?}", lines);
        }
        for line in &lines {
            let published = story.paragraphs.join("\n") + &story.headline;
            prop_assert!(!published.contains(line.as_str()), "{:?} published", line);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// The same for ANPA-1312: advisory `^...<` lines between the keyword
    /// line and the headline are never the headline, never published, and
    /// an embargo among them holds the story.
    #[test]
    fn anpa_advisories_above_the_headline_never_become_it(
        picks in proptest::collection::vec((0..ADVISORIES.len(), any::<u64>(), any::<bool>()), 1..4),
    ) {
        let headline = "Swiss glacier loses record ice in summer heat";
        let mut text = String::from(
            "\u{16}\u{16}\u{1}b3377\u{1f}apworld\nr i\u{13}\u{11} BC-EU--Alps-Glacier   08-14 0220\n\u{2}^BC-EU--Alps-Glacier,201<\n",
        );
        let mut embargo = false;
        let mut lines = Vec::new();
        for (i, mask, keep_case) in &picks {
            let (line, is_embargo) = ADVISORIES[*i];
            let line = if *keep_case { line.to_owned() } else { recase(line, *mask) };
            embargo |= is_embargo;
            text.push_str(&format!("^{line}<\n"));
            lines.push(line);
        }
        text.push_str(&format!("^{headline}<\n"));
        text.push_str("\t   ZURICH (AP) _ A Swiss glacier lost a record amount of ice this summer, scientists said Wednesday. \n");
        text.push_str("\t   \u{3}AP-WF-08-14-24 1130GMT<\n\n\u{c}\n\u{4}");
        let story = parse_as(text.as_bytes(), Media::Text, &options()).unwrap();
        prop_assert_eq!(&story.headline, headline, "{:?}", lines);
        if embargo {
            prop_assert!(story.embargo.is_some() || story.embargo_unreadable, "embargo not held: {:?}", lines);
        }
        for line in &lines {
            let published = story.paragraphs.join("\n") + &story.headline;
            prop_assert!(!published.contains(line.as_str()), "{:?} published", line);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// NewsML-G2: advisory paragraphs at the top of the XHTML (any kind,
    /// order, case) are never published, and an embargo among them holds
    /// the story.
    #[test]
    fn newsml_advisories_at_the_top_are_never_published(
        picks in proptest::collection::vec((0..ADVISORIES.len(), any::<u64>(), any::<bool>()), 1..4),
    ) {
        let mut embargo = false;
        let mut lines = Vec::new();
        let mut top = String::new();
        for (i, mask, keep_case) in &picks {
            let (line, is_embargo) = ADVISORIES[*i];
            let line = if *keep_case { line.to_owned() } else { recase(line, *mask) };
            embargo |= is_embargo;
            top.push_str(&format!("<p>{}</p>", line.replace('&', "&amp;").replace('<', "&lt;")));
            lines.push(line);
        }
        let xml = format!(
            "<newsItem xmlns=\"http://iptc.org/std/nar/2006-10-01/\"><itemMeta><provider qcode=\"nprov:dpa\"/>\
             <firstCreated>2026-12-07T10:00:00+01:00</firstCreated></itemMeta><contentMeta>\
             <headline>Glaciers shrink faster than expected</headline></contentMeta><contentSet><inlineXML>\
             <html xmlns=\"http://www.w3.org/1999/xhtml\"><body>{top}<p>Tromsoe (dpa) - Glaciers shrank faster \
             than expected, researchers said.</p><p>The study covered ten years.</p></body></html></inlineXML>\
             </contentSet></newsItem>"
        );
        let story = parse_as(xml.as_bytes(), Media::Xml, &options()).unwrap();
        prop_assert_eq!(&story.headline, "Glaciers shrink faster than expected");
        prop_assert_eq!(story.paragraphs.len(), 2, "{:?} from {:?}", story.paragraphs, lines);
        if embargo {
            prop_assert!(story.embargo.is_some() || story.embargo_unreadable, "embargo not held: {:?}", lines);
        }
    }
}
