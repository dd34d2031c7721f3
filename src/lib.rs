//! wirefeed: wire copy in (plain text, IPTC 7901, ANPA-1312, AAP ZCZC, NITF,
//! NewsML-G2), RSS 2.0 / Atom 1.0 / JSON Feed 1.1 and HTML pages out.
//!
//! # Layout
//! Each module may use only those listed below it, never one above: the
//! import graph has no cycle and no upward arrow.
//!
//! - [`startup`]: assembles the server (settings into the application,
//!   the application into HTTP workers, tasks and signals).
//! - [`routes`]: thin HTTP handlers; `routes::error` picks every status code.
//! - [`state`]: what the handlers share (the application, token, public URL).
//! - [`release`]: the server task that publishes embargoed stories on time.
//! - [`rebuild`]: the store made again from the archive (the `rebuild`
//!   command, and the start of a server whose store is damaged or behind).
//! - [`config`]: typed, validated settings from flags and `WIREFEED_*` variables.
//! - [`app`]: the application layer: import, delete, release and document
//!   lookup over the store and the document cache, for the handlers, the
//!   command line and seeding alike.
//! - [`documents`]: every cached document as a typed key, its render and
//!   the tags that invalidate it, side by side.
//! - [`edge`]: the HTTP cache tier (tag headers, purges) and WebSub push.
//! - [`cache`]: rendered documents in memory, dropped exactly by tags.
//! - [`render`]: RSS, Atom, JSON Feed, OPML and HTML as pure functions.
//! - [`import`]: a parsed story to the article the store keeps.
//! - [`subscribers`]: subscribers of licensed copy, their keys and grants.
//! - [`journal`]: what the application keeps in the archive, as typed
//!   records, and the writer that appends them one change at a time.
//! - [`store`]: sled; `keys` owns every key's bytes, `codec` every value's.
//! - [`archive`]: append-only segment files of records (sequence number,
//!   kind, payload, checksum); knows no parser and no sled.
//! - [`wire`]: the story parsers; bytes in, `Story` or `ParseError` out; no I/O, no clock.
//! - [`urls`]: the public base URL and every path under it.
//! - [`domain`]: articles, sections, listings: types that only hold valid values.
//! - [`token`], [`telemetry`], [`slow`], [`memory`]: leaves (the import
//!   token; logs, metrics and the request middleware; what a slow reader
//!   may hold; the allocator's settings).

pub mod app;
pub mod archive;
pub mod cache;
pub mod config;
pub mod documents;
pub mod domain;
pub mod edge;
pub mod import;
pub mod journal;
pub mod memory;
pub mod rebuild;
pub mod release;
pub mod render;
pub mod routes;
pub mod slow;
pub mod startup;
pub mod state;
pub mod store;
pub mod subscribers;
pub mod telemetry;
pub mod token;
pub mod urls;
pub mod wire;
