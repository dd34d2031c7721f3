//! What an agency's transmission header states: its format, the agency, the
//! story's slug, priority, category, take, sequence and word count.

use serde::{Deserialize, Serialize};

/// The format a story was sent in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum WireFormat {
    /// Web-style plain text (the seed's shape).
    #[default]
    #[serde(rename = "plain")]
    Plain,
    #[serde(rename = "iptc7901")]
    Iptc7901,
    #[serde(rename = "anpa1312")]
    Anpa1312,
    #[serde(rename = "zczc")]
    Zczc,
    #[serde(rename = "nitf")]
    Nitf,
    #[serde(rename = "newsml-g2")]
    NewsmlG2,
}

/// What the transmission's header states; `None` where the format has no
/// such slot or the slot is empty.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Wire {
    pub format: WireFormat,
    /// The agency (`dpa`, `AP`, `AAP`, `NTB`, ...).
    pub source: Option<String>,
    /// The story's keyword: later takes of one story share it.
    pub slug: Option<String>,
    /// 1 (flash) to 6 or more (routine); ANPA letters mapped (f 1, b 2, u 3, r 4, d 5).
    pub priority: Option<u8>,
    /// The category letter(s) as sent.
    pub category: Option<String>,
    /// The take or version key (`EXTRA`, `1ST LEAD`, `1stLd-Writethru`).
    pub take: Option<String>,
    /// The transmission's sequence number, as sent (`062`).
    pub sequence: Option<String>,
    /// The word count the header states.
    pub words: Option<u32>,
    /// The genre the agency names (dpa's `Zusammenfassung`, `Interview`), not published.
    #[serde(default)]
    pub genre: Option<String>,
    /// The kicker (Dachzeile) above the headline (`Fußball`, `Justiz`).
    #[serde(default)]
    pub kicker: Option<String>,
}

/// Take keys that mark a later version of a story already sent: a lead, a
/// writethru, a refile, a correction, an update (English and German).
const LATER_TAKES: [&str; 14] = [
    "writethru",
    "writethrough",
    "lead",
    "lede",
    "refile",
    "correct",
    "update",
    "upd",
    "substitute",
    "sub",
    // German: dpa's update, new version and correction takes.
    "aktualisierung",
    "neufassung",
    "berichtigung",
    "korrektur",
];

impl Wire {
    /// Whether this take is a later version of a story sent before (a lead,
    /// writethru, refile, correction), so it replaces that story even when
    /// its headline changed.
    pub fn is_later_take(&self) -> bool {
        let Some(take) = &self.take else { return false };
        let take = take.to_ascii_lowercase();
        take.split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|w| !w.is_empty())
            // `1stLd`, `2ndLd`; `CORRECTED`, `CORRECTS`; `UPDATE 1`.
            .any(|w| {
                (w.ends_with("ld") && w.starts_with(|c: char| c.is_ascii_digit()) && w.len() <= 6)
                    || LATER_TAKES.iter().any(|t| w.starts_with(t) && w.len() <= t.len() + 3)
            })
    }

    /// Flash, bulletin or urgent copy: priority 1 or 2 (IPTC 7901, NITF,
    /// NewsML-G2), and ANPA's `f`, `b` and `u` (1 to 3).
    pub fn is_urgent(&self) -> bool {
        let most = if self.format == WireFormat::Anpa1312 { 3 } else { 2 };
        self.priority.is_some_and(|p| (1..=most).contains(&p))
    }

    /// The agency and slug that name the story across its takes, when both are known.
    pub fn story_key(&self) -> Option<(&str, &str)> {
        match (self.source.as_deref(), self.slug.as_deref()) {
            (Some(source), Some(slug)) if !source.trim().is_empty() && !slug.trim().is_empty() => Some((source, slug)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn take(t: &str) -> Wire {
        Wire { take: Some(t.to_owned()), ..Wire::default() }
    }

    #[test]
    fn later_takes_are_known_by_their_key() {
        for t in [
            "1stLd-Writethru",
            "2ndLd-Writethru",
            "1ST LEAD",
            "REFILE",
            "CORRECTED",
            "UPDATE 1",
            "SUB",
            "Aktualisierung",
            "NEUFASSUNG",
            "Berichtigung",
        ] {
            assert!(take(t).is_later_take(), "{t}");
        }
        for t in ["EXTRA", "WORLD", "(Achtung)", "(BRISBANE)", "Australian Financial Security Authority"] {
            assert!(!take(t).is_later_take(), "{t}");
        }
        assert!(!Wire::default().is_later_take());
    }
}
