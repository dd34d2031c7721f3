//! Domain types that can only hold valid values: a [`Section`] always has a
//! slug matching `[a-z0-9-]+`, an [`ArticleId`] always matches its pattern, so
//! nothing downstream (store keys, URLs) ever sees `..`, NUL or a slash.

mod agency;
mod article;
mod listing;
mod section;

pub use agency::{Wire, WireFormat};
pub use article::{headline_key, until_released, Article, ArticleId, Dateline, Related, TimeSource};
pub use listing::{Listing, Page, SectionMeta};
pub use section::{Section, SectionSlug};
