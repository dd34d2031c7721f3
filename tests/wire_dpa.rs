//! The given dpa NewsML-G2 items (`../shared/corpus/wire-dpa/`, 20 real
//! items of one news day; test data of another project, never copied here)
//! read as a careful editor would publish them: the XHTML story only (never
//! its plain-text renditions appended), the header's genre, date and slug
//! lines as wire metadata, the teaser first, the dateline from the first
//! paragraph after it, bylines without the agency, and nothing of the
//! notepad, the contacts, the genre note or the closing line published.
//!
//! The expectations are ours, written from reading each item. The folder is
//! skipped when absent, and its absence fails the test when `CI` is set.

use std::path::{Path, PathBuf};

use chrono::{TimeZone, Utc};
use wirefeed::wire::{self, Media, ParseOptions};

struct Item {
    id: &'static str,
    headline: &'static str,
    first: &'static str,
    last: &'static str,
    paragraphs: usize,
    place: &'static str,
    authors: &'static [&'static str],
    genre: &'static str,
    published: &'static str,
}

#[rustfmt::skip]
const ITEMS: &[Item] = &[
    Item { id: "40895", headline: "Jugendliche demolieren neue Schule: Hunderttausende Euro Schaden", first: "Hamm (dpa) - Zwei etwa", last: "ausgefallen, sagte ein Polizeisprecher.", paragraphs: 1, place: "Hamm", authors: &[], genre: "Meldung", published: "2017-06-29T18:02:35+02:00" },
    Item { id: "44578", headline: "Flüchtlinge: Merkel will Rom helfen - Schlagabtausch Gentiloni-Macron", first: "Das Thema Migration wird auch", last: "Bearbeitung ihrer Anträge ermöglichen.", paragraphs: 7, place: "Berlin", authors: &[], genre: "Zusammenfassung", published: "2017-06-29T16:49:34+02:00" },
    Item { id: "45365", headline: "Streit um Thyssenkrupp-Forderung gegen Ex-Manager geht in neue Runde", first: "Erfurt (dpa) - Die millionenschwere", last: "Verfahren damals ausgesetzt worden.", paragraphs: 3, place: "Erfurt", authors: &[], genre: "Meldung", published: "2017-06-29T16:44:28+02:00" },
    Item { id: "46764", headline: "Prinzen William und Harry besuchen renoviertes Grab von Mutter Diana", first: "London (dpa) - Überwuchert und", last: "und 12 Jahre alt.", paragraphs: 3, place: "London", authors: &[], genre: "Meldung", published: "2017-06-29T17:44:01+02:00" },
    Item { id: "47256", headline: "Friseur will Chefin töten: Messerangriff in Salon", first: "Herzberg (dpa) - Ein Mitarbeiter", last: "Männer kannten, blieb unklar.", paragraphs: 4, place: "Herzberg", authors: &[], genre: "Meldung", published: "2017-06-29T18:09:08+02:00" },
    Item { id: "47885", headline: "Französischer Rechnungshof schlägt beim Defizit Alarm", first: "Paris (dpa) - Defizitalarm in", last: "der Wirtschaftsleistung betragen soll.", paragraphs: 6, place: "Paris", authors: &[], genre: "Meldung", published: "2017-06-29T18:09:51+02:00" },
    Item { id: "48315", headline: "Rumänien: Neue Regierung unter Tudose von Parlament bestätigt", first: "Bukarest (dpa) - Ein halbes", last: "des Korruptionsstrafrechts nicht erfüllt.", paragraphs: 4, place: "Bukarest", authors: &[], genre: "Meldung", published: "2017-06-29T16:55:17+02:00" },
    Item { id: "48449", headline: "Merkel prangert Trump an - «Brauchen G20 dringender denn je»", first: "Kurz vor dem G20-Gipfel sendet", last: "die uns einen, verteidigen».", paragraphs: 11, place: "Berlin", authors: &[], genre: "Zusammenfassung", published: "2017-06-29T17:05:32+02:00" },
    Item { id: "48596", headline: "Kreml weiter bedeckt zu Treffen zwischen Trump und Putin bei G20", first: "Moskau (dpa) - Der Kreml", last: "es die erste Begegnung.", paragraphs: 2, place: "Moskau", authors: &[], genre: "Meldung", published: "2017-06-29T16:42:15+02:00" },
    Item { id: "48646", headline: "Ministerium muss Journalisten Einsicht in Gutachten gewähren", first: "Leipzig (dpa) - Das Bundeslandwirtschaftministerium", last: "Belange der Hinterbliebenen» nichts.", paragraphs: 3, place: "Leipzig", authors: &[], genre: "Meldung", published: "2017-06-29T16:40:13+02:00" },
    Item { id: "48754", headline: "Müllarbeiter beenden Streik - Griechen können aufatmen", first: "Athen (dpa) - Die griechischen", last: "jedoch weiterhin nicht einverstanden.", paragraphs: 5, place: "Athen", authors: &[], genre: "Meldung", published: "2017-06-29T18:06:32+02:00" },
    Item { id: "48892", headline: "Ureinwohner demonstrieren bei Feier zu 150-jährigem Bestehen Kanadas", first: "Ottawa (dpa) - Eine kleine", last: "Yukon und das Nordwest-Territorium.", paragraphs: 3, place: "Ottawa", authors: &[], genre: "Meldung", published: "2017-06-29T17:26:35+02:00" },
    Item { id: "48966", headline: "Putin sieht Verbesserung der deutsch-russischen Beziehungen", first: "Drei Treffen in vier Monaten:", last: "Moskau militärisch unterstützt werden.", paragraphs: 12, place: "Moskau", authors: &["Michael Fischer"], genre: "Zusammenfassung", published: "2017-06-29T17:17:32+02:00" },
    Item { id: "49060", headline: "G20-Gipfel kompakt", first: "Kommt das Camp der G20-Gegner", last: "teilt die Galerie mit.", paragraphs: 11, place: "Hamburg", authors: &[], genre: "Gesamtzusammenfassung", published: "2017-06-29T17:02:30+02:00" },
    Item { id: "49154", headline: "Nach Nacktfotos: 347 000 Euro für Frühstück mit Politikerin in Kiew", first: "Kiew (dpa) - Ein Russe", last: "Ivan Mikloš versteigert werden.", paragraphs: 3, place: "Kiew", authors: &[], genre: "Meldung", published: "2017-06-29T18:28:49+02:00" },
    Item { id: "49307", headline: "«Frankenpost Hof» zur Lage in Frankreich", first: "Macron tut aktuell sehr gut", last: "nur das politische war.", paragraphs: 1, place: "", authors: &[], genre: "Meldung", published: "2017-06-29T17:35:23+02:00" },
    Item { id: "49413", headline: "Nordirland: Koalitionsgespräche werden trotz Fristendes fortgesetzt", first: "Belfast (dpa) - Die Koalitionsgespräche", last: "neutrale Rolle Londons infrage.", paragraphs: 4, place: "Belfast", authors: &[], genre: "Meldung", published: "2017-06-29T17:34:00+02:00" },
    Item { id: "49460", headline: "Stoltenberg: Brüssel richtet nächsten Nato-Gipfel aus", first: "Brüssel (dpa) - Der nächste", last: "zu den Gründungsmitgliedern zählt.", paragraphs: 2, place: "Brüssel", authors: &[], genre: "Meldung", published: "2017-06-29T17:39:24+02:00" },
    Item { id: "49556", headline: "«Frankfurter Allgemeine Zeitung» zum Redeverbot für Erdogan", first: "(…) Berlin (…) ließ Erdogan", last: "oder als Präsidenten. (…)", paragraphs: 1, place: "", authors: &[], genre: "Meldung", published: "2017-06-29T18:05:10+02:00" },
    Item { id: "49643", headline: "«Die Welt» (Berlin) zu Erdogan", first: "Am 15. Juli jährt sich", last: "hoffentlich bei ihm an.", paragraphs: 1, place: "", authors: &[], genre: "Meldung", published: "2017-06-29T18:05:05+02:00" },
];

/// Text of the notepad, the contacts, the header and the closing lines:
/// never in a published field.
const NEVER: &[&str] = &[
    "Notizblock",
    "nicht zur Veröffentlichung",
    "Ansprechpartner",
    "Kontakte",
    "@dpa.com",
    "+49",
    "Redaktion:",
    "Autor:",
    "Autorin:",
    "Foto:",
    "Bildhinweis",
    "29.06.2017",
    "Zusammenfassung",
    "Meldung -",
    "1645 -",
    "1700 -",
    "1715 -",
    "Orte",
    "Internet",
    "dpaq.de",
    "Nutzung nur",
];

/// The given items, beside the checkout as the workplace lays it out.
fn corpus() -> Option<PathBuf> {
    Some(Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/wire-dpa")).filter(|d| d.is_dir())
}

#[test]
fn the_dpa_items_read_as_an_editor_would_publish_them() {
    let Some(dir) = corpus() else {
        assert!(std::env::var_os("CI").is_none(), "../shared/corpus/wire-dpa is missing and CI is set");
        eprintln!("skipped: ../shared/corpus/wire-dpa is absent");
        return;
    };
    let options = ParseOptions {
        // A zone-less time must not be read in the configured zone: dpa's is Berlin.
        source_tz: chrono_tz::America::New_York,
        received: Utc.with_ymd_and_hms(2017, 6, 30, 0, 0, 0).unwrap(),
        max_bytes: 1 << 20,
    };
    let mut failures = Vec::new();
    for item in ITEMS {
        let path = dir.join(format!("dpa-170629-99-{}.xml", item.id));
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let s = match wire::parse_as(&bytes, Media::Xml, &options) {
            Ok(s) => s,
            Err(e) => {
                failures.push(format!("{}: not parsed: {e}", item.id));
                continue;
            }
        };
        let mut bad = Vec::new();
        let mut check = |what: &str, ok: bool, got: String| {
            if !ok {
                bad.push(format!("{}: {what}: got {got}", item.id));
            }
        };
        check("headline", s.headline == item.headline, s.headline.clone());
        let first = s.paragraphs.first().cloned().unwrap_or_default();
        let last = s.paragraphs.last().cloned().unwrap_or_default();
        check("first paragraph", first.starts_with(item.first), first.chars().take(60).collect());
        check("last paragraph", last.ends_with(item.last), last.chars().rev().take(60).collect::<String>());
        check("paragraph count", s.paragraphs.len() == item.paragraphs, s.paragraphs.len().to_string());
        let place = s.dateline.as_ref().map(|d| d.place.as_str()).unwrap_or("");
        check("dateline", place == item.place, place.to_owned());
        check("authors", s.authors == item.authors, format!("{:?}", s.authors));
        check("genre", s.wire.genre.as_deref() == Some(item.genre), format!("{:?}", s.wire.genre));
        check("kicker", s.wire.kicker.is_none(), format!("{:?}", s.wire.kicker));
        check("source", s.wire.source.as_deref() == Some("dpa"), format!("{:?}", s.wire.source));
        let published = serde_json::to_value(s.published).unwrap();
        let same = chrono::DateTime::parse_from_rfc3339(published.as_str().unwrap_or(""))
            .is_ok_and(|t| t == chrono::DateTime::parse_from_rfc3339(item.published).unwrap());
        check("published", same, published.to_string());
        check("no embargo", s.embargo.is_none() && !s.embargo_unreadable, format!("{:?}", s.embargo));
        check("notes kept", !s.notes.is_empty(), "no notes".to_owned());
        let seen: Vec<&String> =
            std::iter::once(&s.headline).chain(&s.paragraphs).chain(&s.authors).chain(s.correction.iter()).collect();
        for never in NEVER {
            if let Some(p) = seen.iter().find(|p| p.contains(never)) {
                bad.push(format!("{}: LEAK {never:?} in {:?}", item.id, p.chars().take(80).collect::<String>()));
            }
        }
        // The closing line (`dpa wd yynwe n1 bok`) is a note, never a paragraph.
        for p in &s.paragraphs {
            let words: Vec<&str> = p.split_whitespace().collect();
            let initials = words.first() == Some(&"dpa")
                && words.len() > 1
                && words[1..]
                    .iter()
                    .all(|w| w.len() <= 5 && w.chars().all(|c| c.is_lowercase() || c.is_ascii_digit() || c == '/'));
            if initials {
                bad.push(format!("{}: LEAK closing line {p:?}", item.id));
            }
        }
        failures.extend(bad);
    }
    assert!(failures.is_empty(), "{} failure(s):\n{}", failures.len(), failures.join("\n"));
}
