//! Sections: a display name as the story gave it, and the slug made from it by
//! transliteration (`Économie` → `economie`).

use serde::{Deserialize, Serialize};

/// Longest slug kept; longer names are cut at a word boundary.
const MAX_SLUG: usize = 64;

/// A section slug: lowercase ASCII `[a-z0-9-]`, 1..=64 bytes, no leading,
/// trailing or doubled `-`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SectionSlug(String);

impl SectionSlug {
    /// Accepts a slug exactly as it must appear in a URL; anything else is `None`.
    pub fn parse(s: &str) -> Option<SectionSlug> {
        let valid = !s.is_empty()
            && s.len() <= MAX_SLUG
            && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !s.starts_with('-')
            && !s.ends_with('-')
            && !s.contains("--");
        valid.then(|| SectionSlug(s.to_owned()))
    }

    /// Makes the slug of a display name by transliteration; `None` when the
    /// name has no letters or digits at all (`../..`, punctuation).
    pub fn from_name(name: &str) -> Option<SectionSlug> {
        let mut slug = slug::slugify(name);
        if slug.len() > MAX_SLUG {
            let cut = slug[..MAX_SLUG].rfind('-').unwrap_or(MAX_SLUG);
            slug.truncate(cut);
        }
        SectionSlug::parse(&slug)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for SectionSlug {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        SectionSlug::parse(&s).ok_or_else(|| format!("invalid section slug {s:?}"))
    }
}

impl From<SectionSlug> for String {
    fn from(s: SectionSlug) -> String {
        s.0
    }
}

impl std::fmt::Display for SectionSlug {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A section: its slug and the display name kept for titles.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Section {
    pub slug: SectionSlug,
    pub name: String,
}

impl Section {
    /// A section from a display name; `None` when the name makes no slug.
    pub fn from_name(name: &str) -> Option<Section> {
        let name = name.split_whitespace().collect::<Vec<_>>().join(" ");
        let slug = SectionSlug::from_name(&name)?;
        Some(Section { slug, name })
    }

    /// A section named in a setting: a slug-like `news` is shown as `News`,
    /// a name with capitals as written.
    pub fn from_setting(name: &str) -> Option<Section> {
        let mut name = name.trim().to_owned();
        if name.chars().all(|c| !c.is_uppercase()) {
            if let Some(first) = name.chars().next() {
                name = first.to_uppercase().chain(name.chars().skip(1)).collect();
            }
        }
        Section::from_name(&name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_become_transliterated_slugs() {
        let cases = [
            ("World", "world"),
            ("Économie", "economie"),
            ("Middle East & Africa", "middle-east-africa"),
            ("  Sci/Tech  ", "sci-tech"),
        ];
        for (name, slug) in cases {
            assert_eq!(Section::from_name(name).unwrap().slug.as_str(), slug, "{name}");
        }
    }

    #[test]
    fn a_slug_like_setting_is_shown_capitalised() {
        assert_eq!(Section::from_setting("news").unwrap().name, "News");
        assert_eq!(Section::from_setting("BBC world").unwrap().name, "BBC world");
    }

    #[test]
    fn names_without_letters_make_no_slug() {
        for name in ["../..", "", "  ", "!!!", "/"] {
            assert!(Section::from_name(name).is_none(), "{name:?}");
        }
    }

    #[test]
    fn slugs_from_urls_are_checked() {
        for bad in ["..", "a/b", "A", "a--b", "-a", "a-", "a\0", &"a".repeat(65)] {
            assert!(SectionSlug::parse(bad).is_none(), "{bad:?}");
        }
        assert!(SectionSlug::parse("middle-east-africa").is_some());
    }
}
