//! wirefeed: plain wire-story text in, RSS 2.0 / Atom 1.0 / JSON Feed 1.1 out.
//!
//! # Layout
//! - [`config`]: typed settings from flags and `WIREFEED_*` variables.
//! - [`domain`]: `Section`, `ArticleId`, `Article`: types that only hold valid values.
//! - [`wire`]: the story parser; bytes in, `Story` or `ParseError` out; no I/O, no clock.
//! - [`import`]: a parsed story to the article the store keeps (section, times, identity).
//! - [`store`]: sled; `keys` owns every key's bytes, `codec` every value's.
//! - [`render`]: RSS, Atom, JSON Feed, OPML and HTML as pure functions.
//! - [`cache`]: rendered documents in memory, invalidated exactly by writes.
//! - [`edge`]: the HTTP cache tier (tag headers, purges) and WebSub push.
//! - [`public`]: the public base URL (configured, or from trusted proxies).
//! - [`release`]: embargoed stories released at their time by a server task.
//! - [`routes`]: thin HTTP handlers; `routes::error` picks every status code.
//! - [`startup`]: builds the application for `main` and the tests.
//! - [`slow`]: what a connection that does not read may hold (body slices, write timeout).
//! - [`telemetry`]: logs and Prometheus metrics.
//!
//! Dependencies point one way: routes → (wire, store, render) → domain.

pub mod cache;
pub mod config;
pub mod domain;
pub mod edge;
pub mod import;
pub mod memory;
pub mod public;
pub mod release;
pub mod render;
pub mod routes;
pub mod slow;
pub mod startup;
pub mod store;
pub mod telemetry;
pub mod wire;
