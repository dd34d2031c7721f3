//! Licensed copy: which sections are licensed (a server setting), what a
//! subscriber is entitled to (a [`Grant`]), and who is reading a document
//! (a [`Reader`]: the public, or a subscriber). [`Visible`] puts the first
//! and the last together and answers the one question every document asks:
//! may this reader see this section?

use std::collections::BTreeSet;
use std::sync::Arc;

use super::SectionSlug;

/// The licensed sections (`WIREFEED_LICENSED_SECTIONS`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Licensed {
    /// Every section is public (the default).
    #[default]
    Nothing,
    /// Every section is licensed (`*`: a private wire distribution).
    Everything,
    /// These sections are licensed; the others are public.
    Sections(BTreeSet<SectionSlug>),
}

/// A bad `WIREFEED_LICENSED_SECTIONS` entry.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct LicenceError(String);

impl Licensed {
    /// `*`, or slugs, as the setting's comma-separated entries.
    pub fn parse(entries: &[String]) -> Result<Licensed, LicenceError> {
        let entries: Vec<&str> = entries.iter().map(|s| s.trim()).filter(|s| !s.is_empty()).collect();
        if entries.contains(&"*") {
            return Ok(Licensed::Everything);
        }
        let mut slugs = BTreeSet::new();
        for entry in entries {
            let slug = SectionSlug::parse(entry).ok_or_else(|| {
                LicenceError(format!(
                    "WIREFEED_LICENSED_SECTIONS entry {entry:?} is not a section slug ([a-z0-9-], as in /sections/{{slug}}) nor *"
                ))
            })?;
            slugs.insert(slug);
        }
        Ok(if slugs.is_empty() { Licensed::Nothing } else { Licensed::Sections(slugs) })
    }

    pub fn is_licensed(&self, slug: &SectionSlug) -> bool {
        match self {
            Licensed::Nothing => false,
            Licensed::Everything => true,
            Licensed::Sections(set) => set.contains(slug),
        }
    }
}

/// The sections a subscriber may read besides the public ones.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Grant {
    /// Every section (`"*"`).
    Everything,
    Sections(Arc<BTreeSet<SectionSlug>>),
}

impl Grant {
    pub fn allows(&self, slug: &SectionSlug) -> bool {
        match self {
            Grant::Everything => true,
            Grant::Sections(set) => set.contains(slug),
        }
    }

    /// As the API and the store write it: `["*"]` or the slugs in order.
    pub fn names(&self) -> Vec<String> {
        match self {
            Grant::Everything => vec!["*".to_owned()],
            Grant::Sections(set) => set.iter().map(|s| s.as_str().to_owned()).collect(),
        }
    }

    /// From the API's or the store's list: `"*"` anywhere grants everything;
    /// any other entry must be a slug (the error names the first that is not).
    pub fn parse(names: &[String]) -> Result<Grant, String> {
        if names.iter().any(|n| n.trim() == "*") {
            return Ok(Grant::Everything);
        }
        let mut set = BTreeSet::new();
        for name in names {
            set.insert(SectionSlug::parse(name.trim()).ok_or_else(|| name.clone())?);
        }
        Ok(Grant::Sections(Arc::new(set)))
    }
}

/// Who a document is for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Reader {
    /// Anyone: public URLs.
    Public,
    /// A subscriber's keyed URLs, with what the subscriber may read. The
    /// grant, not the subscriber, names the reader: two subscribers with one
    /// grant see the same stories.
    Subscriber(Grant),
}

/// What one reader may see, under one licensing setting.
#[derive(Debug, Clone, Copy)]
pub struct Visible<'a> {
    pub licensed: &'a Licensed,
    pub reader: &'a Reader,
}

impl Visible<'_> {
    /// Whether the reader may see the section's stories.
    pub fn section(&self, slug: &SectionSlug) -> bool {
        !self.licensed.is_licensed(slug)
            || match self.reader {
                Reader::Public => false,
                Reader::Subscriber(grant) => grant.allows(slug),
            }
    }

    /// As [`Visible::section`], of a slug as the store keeps it (bytes).
    pub fn slug_bytes(&self, slug: &[u8]) -> bool {
        if self.everything() {
            return true;
        }
        std::str::from_utf8(slug).ok().and_then(SectionSlug::parse).is_some_and(|s| self.section(&s))
    }

    /// Every section is visible: nothing needs filtering.
    pub fn everything(&self) -> bool {
        matches!(self.licensed, Licensed::Nothing) || matches!(self.reader, Reader::Subscriber(Grant::Everything))
    }

    /// No section is visible: every all-sections listing is empty.
    pub fn nothing(&self) -> bool {
        matches!(self.licensed, Licensed::Everything) && *self.reader == Reader::Public
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slug(s: &str) -> SectionSlug {
        SectionSlug::parse(s).unwrap()
    }

    #[test]
    fn the_setting_reads_slugs_or_a_star() {
        assert_eq!(Licensed::parse(&[]).unwrap(), Licensed::Nothing);
        assert_eq!(Licensed::parse(&["*".into()]).unwrap(), Licensed::Everything);
        let some = Licensed::parse(&["world".into(), " sport ".into()]).unwrap();
        assert!(some.is_licensed(&slug("sport")) && !some.is_licensed(&slug("business")));
        assert!(Licensed::parse(&["World News".into()]).is_err());
    }

    #[test]
    fn a_reader_sees_public_sections_and_what_it_is_granted() {
        let licensed = Licensed::parse(&["world".into(), "sport".into()]).unwrap();
        let public = Reader::Public;
        let world = Reader::Subscriber(Grant::parse(&["world".into()]).unwrap());
        let see = |reader: &Reader, s: &str| Visible { licensed: &licensed, reader }.section(&slug(s));
        assert!(see(&public, "business") && !see(&public, "world") && !see(&public, "sport"));
        assert!(see(&world, "business") && see(&world, "world") && !see(&world, "sport"));
        let everyone = Licensed::Everything;
        assert!(Visible { licensed: &everyone, reader: &public }.nothing());
        assert!(!Visible { licensed: &everyone, reader: &world }.slug_bytes(b"sport"));
        assert!(Visible { licensed: &everyone, reader: &world }.slug_bytes(b"world"));
    }
}
