//! What a page or feed lists: which articles, and the page of them the
//! store returns.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Article, Section, SectionSlug};

/// What the store knows of a section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SectionMeta {
    pub section: Section,
    pub count: u64,
    pub newest: Option<DateTime<Utc>>,
}

/// Which articles a page lists.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Listing {
    All,
    Section(SectionSlug),
    /// Flash, bulletin and urgent copy, of one section or of all.
    Urgent(Option<SectionSlug>),
}

/// One page of articles, newest first, with the cursors around it.
#[derive(Debug, Clone)]
pub struct Page {
    pub articles: Vec<Article>,
    /// `before=` cursor of the next (older) page.
    pub next: Option<i64>,
    /// The previous (newer) page: `None` when this page is the first,
    /// `Some(None)` when the newer page is the first (no cursor),
    /// `Some(Some(c))` its cursor.
    pub prev: Option<Option<i64>>,
}
