//! wirefeed: plain wire-story text in, RSS 2.0 / Atom 1.0 / JSON Feed 1.1 out.
//!
//! # Layout
//! - [`config`]: typed settings from flags and `WIREFEED_*` variables.
//! - [`domain`]: `Section`, `ArticleId`, `Article`: types that only hold valid values.
//! - [`wire`]: the story parser; bytes in, `Story` or `ParseError` out; no I/O, no clock.

pub mod config;
pub mod domain;
pub mod wire;
