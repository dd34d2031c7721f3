//! The HTTP cache tier in front of wirefeed, and WebSub push.
//!
//! Every document names what it was rendered from in a tag header (the same
//! [`Tag`]s the in-process [`crate::cache::DocCache`] invalidates by), so a
//! shared cache (Varnish with xkey, a CDN) can drop exactly what a write
//! changed. With purge targets configured, documents may live a day at the
//! edge (`s-maxage`), because every durable change is purged there within
//! moments: [`Edge::changed`] hands the change to a worker thread
//! ([`purge`]) that purges each target and then pings each WebSub hub
//! ([`websub`]), off the request path, with retries.
//!
//! Settings are read in two stages: raw strings in [`crate::config`], checked
//! here into [`EdgeSettings`].

pub mod purge;
pub mod websub;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::Arc;

use actix_web::http::header::{HeaderName, HeaderValue};

use crate::cache::Tag;
use crate::domain::SectionSlug;
use crate::urls::{Base, Feed, Format};

/// Changes waiting for the worker. The worker merges whatever is queued
/// into one batch, so this fills only while it is stuck sending; past it a
/// change is not lost but widened to "everything" (see [`Edge::changed`]).
const QUEUE: usize = 4096;

/// The tag every document carries: what a purge of everything names.
pub const SITE_TAG: &str = "wirefeed";

/// Where purges go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Varnish with vmod-xkey: `PURGE` with the tags in an `xkey-purge` header.
    Xkey(String),
    /// nginx with the cache-purge module: `PURGE` of each changed URL's path.
    Nginx(String),
    /// Anything else (a CDN API behind a small adapter): `POST {"tags", "urls"}`.
    Webhook(String),
}

impl Target {
    /// `xkey+URL`, `nginx+URL` or `webhook+URL`.
    pub fn parse(raw: &str) -> Result<Target, EdgeError> {
        let raw = raw.trim();
        let (kind, url) = raw.split_once('+').ok_or_else(|| {
            EdgeError(format!("WIREFEED_PURGE entry {raw:?} must be xkey+URL, nginx+URL or webhook+URL"))
        })?;
        let url = http_url(url, "WIREFEED_PURGE")?;
        match kind.to_ascii_lowercase().as_str() {
            "xkey" => Ok(Target::Xkey(url)),
            "nginx" => Ok(Target::Nginx(url)),
            "webhook" => Ok(Target::Webhook(url)),
            other => {
                Err(EdgeError(format!("WIREFEED_PURGE entry {raw:?}: unknown kind {other:?} (xkey, nginx or webhook)")))
            }
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Target::Xkey(_) => "xkey",
            Target::Nginx(_) => "nginx",
            Target::Webhook(_) => "webhook",
        }
    }

    pub fn url(&self) -> &str {
        match self {
            Target::Xkey(u) | Target::Nginx(u) | Target::Webhook(u) => u,
        }
    }
}

/// An absolute http(s) URL, or the error naming `setting`.
fn http_url(url: &str, setting: &str) -> Result<String, EdgeError> {
    let url = url.trim();
    let host = url.split_once("://").map_or("", |(_, rest)| rest.split(['/', '?']).next().unwrap_or(""));
    if !(url.starts_with("http://") || url.starts_with("https://")) || host.is_empty() || url.contains([' ', '"']) {
        return Err(EdgeError(format!("{setting}: {url:?} is not an absolute http(s) URL")));
    }
    Ok(url.to_owned())
}

/// A bad edge setting.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct EdgeError(String);

/// The checked edge settings.
#[derive(Debug, Clone)]
pub struct EdgeSettings {
    pub tag_header: HeaderName,
    pub targets: Vec<Target>,
    pub hubs: Vec<String>,
    /// `s-maxage` in seconds (only used with purge targets).
    pub edge_max_age: u32,
}

impl EdgeSettings {
    pub fn parse(tag_header: &str, purge: &[String], edge_max_age: u32, hubs: &[String]) -> Result<Self, EdgeError> {
        let tag_header = HeaderName::try_from(tag_header.trim())
            .map_err(|_| EdgeError(format!("WIREFEED_CACHE_TAG_HEADER {tag_header:?} is not a header name")))?;
        let targets =
            purge.iter().filter(|s| !s.trim().is_empty()).map(|s| Target::parse(s)).collect::<Result<_, _>>()?;
        let hubs = hubs
            .iter()
            .filter(|s| !s.trim().is_empty())
            .map(|s| http_url(s, "WIREFEED_WEBSUB_HUBS"))
            .collect::<Result<_, _>>()?;
        Ok(EdgeSettings { tag_header, targets, hubs, edge_max_age })
    }
}

/// The name of a tag in the tag header and in purges: header-safe, no
/// spaces or commas (the separators every cache splits on).
pub fn tag_name(tag: &Tag) -> String {
    match tag {
        Tag::All => "all".to_owned(),
        Tag::Home => "home".to_owned(),
        Tag::Section(slug) => format!("section-{slug}"),
        Tag::Article(id) => format!("article-{id}"),
        // A headline may hold any character: its hash names it.
        Tag::Headline(slug, headline) => {
            format!("related-{:016x}", xxhash_rust::xxh3::xxh3_64(format!("{slug}\0{headline}").as_bytes()))
        }
    }
}

/// The state handlers share: how to tag documents and where changes go.
pub struct Edge {
    settings: EdgeSettings,
    /// Cloudflare's `Cache-Tag` and Akamai's `Edge-Cache-Tag` split on
    /// commas; Fastly's `Surrogate-Key` only on spaces; xkey on either.
    separator: &'static str,
    queue: Option<SyncSender<Vec<Tag>>>,
    overflow: Arc<AtomicBool>,
    pub metrics: purge::EdgeMetrics,
}

/// The worker's end of the queue, until [`purge::spawn`] takes it.
pub struct Inbox {
    rx: Receiver<Vec<Tag>>,
    overflow: Arc<AtomicBool>,
}

impl Edge {
    /// The handle, and the inbox for the worker when there is anything to tell.
    pub fn new(settings: EdgeSettings) -> (Edge, Option<Inbox>) {
        let name = settings.tag_header.as_str();
        let separator = if name == "cache-tag" || name == "edge-cache-tag" { "," } else { " " };
        let overflow = Arc::new(AtomicBool::new(false));
        let (queue, inbox) = if settings.targets.is_empty() && settings.hubs.is_empty() {
            (None, None)
        } else {
            let (tx, rx) = mpsc::sync_channel(QUEUE);
            (Some(tx), Some(Inbox { rx, overflow: Arc::clone(&overflow) }))
        };
        let metrics = purge::EdgeMetrics::new();
        (Edge { settings, separator, queue, overflow, metrics }, inbox)
    }

    /// No cache tier and no hubs: nothing is told (the command line).
    pub fn none() -> Edge {
        let settings = EdgeSettings {
            tag_header: HeaderName::from_static("surrogate-key"),
            targets: Vec::new(),
            hubs: Vec::new(),
            edge_max_age: 0,
        };
        Edge::new(settings).0
    }

    pub fn settings(&self) -> &EdgeSettings {
        &self.settings
    }

    /// Whether documents may live long at the edge (a purge target is set).
    pub fn purges(&self) -> bool {
        !self.settings.targets.is_empty()
    }

    /// The tag header of a document rendered from `tags`.
    pub fn tag_header(&self, tags: &[Tag]) -> Option<(HeaderName, HeaderValue)> {
        let mut names = vec![SITE_TAG.to_owned()];
        for tag in tags {
            let name = tag_name(tag);
            if !names.contains(&name) {
                names.push(name);
            }
        }
        let value = HeaderValue::from_str(&names.join(self.separator)).ok()?;
        Some((self.settings.tag_header.clone(), value))
    }

    /// `Cache-Control` for documents: the reader's `max-age`, and with purge
    /// targets a long `s-maxage` beside it (the edge drops its copy when
    /// purged, a release included). `reader` replaces the reader's lifetime
    /// (a release is near: see [`Lifetimes`]).
    pub fn cache_control(&self, max_age: u32, reader: Option<u64>) -> HeaderValue {
        self.header(reader.unwrap_or(u64::from(max_age)), self.purges())
    }

    /// `Cache-Control` with the reader's lifetime `reader`, and the edge's
    /// when `shared`.
    fn header(&self, reader: u64, shared: bool) -> HeaderValue {
        let value = if shared {
            // A short revalidation window: a purged document is refetched,
            // never served stale, so this only covers the refetch itself.
            // stale-if-error keeps feeds up for a day while the origin is down.
            format!(
                "public, max-age={reader}, s-maxage={}, stale-while-revalidate=30, stale-if-error=86400",
                self.settings.edge_max_age
            )
        } else {
            format!("public, max-age={reader}")
        };
        HeaderValue::from_str(&value).expect("digits and commas are a valid header value")
    }

    /// Every `Cache-Control` value documents are answered with, made once.
    pub fn lifetimes(&self, max_age: u32) -> Lifetimes {
        let max_age = u64::from(max_age);
        let near = |shared: bool| (1..=NEAR_RELEASE_STEP).map(|s| self.header(s, shared)).collect();
        Lifetimes {
            max_age,
            current: self.header(max_age, self.purges()),
            older: self.header(max_age, false),
            near_current: near(self.purges()),
            near_older: near(false),
        }
    }

    /// Tells the caches and hubs that documents rendered from `changed`
    /// changed. Call once the change is durable. Never blocks: a full queue
    /// (the worker stuck on a target) widens the next purge to everything.
    pub fn changed(&self, changed: &[Tag]) {
        let Some(queue) = &self.queue else { return };
        match queue.try_send(changed.to_vec()) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                self.overflow.store(true, Ordering::SeqCst);
                self.metrics.overflows.inc();
            }
            Err(TrySendError::Disconnected(_)) => {
                tracing::error!("edge worker is gone: caches and hubs are not told of changes");
            }
        }
    }
}

/// While a release is near, a reader's copy of any document lives at most
/// this long, and expires on a clock boundary of it (`:00`, `:10`, ...): a
/// released story reaches every reader within this (and a second) of its
/// release, whatever they cached before.
pub const NEAR_RELEASE_STEP: u64 = 10;

/// The `Cache-Control` values of documents, chosen per answer without
/// formatting anything (the 304 path takes one).
///
/// A reader's lifetime must not outlive an embargo release (the release
/// changes documents) and must not tell when one is due: cut to the seconds
/// left, as before, it said the release second a lifetime ahead. So time is
/// cut in clock-aligned windows as long as the configured `max-age` (`W`,
/// 300 s by default): while the next release falls in the current window or
/// the next one, every document's `max-age` is the time to the next
/// `NEAR_RELEASE_STEP` boundary, the same for every document and every
/// release in that span. What shows is only that some story is due within
/// a window or two (of W seconds, on the clock's boundaries), never which
/// second; copies made outside that span expire before the window the
/// release is in begins. The edge's `s-maxage` is never cut: a release is
/// purged at the edge like any other change.
///
/// Older pages (`?before=`) carry no shared lifetime at all (no `s-maxage`
/// or `stale-if-error`): a URL purge (nginx) names only the current pages,
/// so an edge keeps an older page no longer than a reader would, and a
/// killed story leaves it within `max-age`.
pub struct Lifetimes {
    max_age: u64,
    current: HeaderValue,
    older: HeaderValue,
    /// `max-age` 1..=NEAR_RELEASE_STEP.
    near_current: Vec<HeaderValue>,
    near_older: Vec<HeaderValue>,
}

impl Lifetimes {
    /// The header of a current page (`older`: a `?before=` page) answered
    /// at `now` (Unix seconds) while the next release is at `release`.
    pub fn get(&self, older: bool, release: Option<i64>, now: i64) -> &HeaderValue {
        match (release.and_then(|r| near_release(self.max_age, r, now)), older) {
            (None, false) => &self.current,
            (None, true) => &self.older,
            (Some(s), false) => &self.near_current[s as usize - 1],
            (Some(s), true) => &self.near_older[s as usize - 1],
        }
    }
}

/// The reader's lifetime at `now` when the next release is at `release`
/// (Unix seconds) and documents otherwise live `max_age`: `None` when no
/// copy made now could outlive the release; else the seconds to the next
/// `NEAR_RELEASE_STEP` boundary (1..=NEAR_RELEASE_STEP).
fn near_release(max_age: u64, release: i64, now: i64) -> Option<u64> {
    let step = NEAR_RELEASE_STEP as i64;
    let window = i64::try_from(max_age).unwrap_or(i64::MAX);
    if window <= step {
        return None;
    }
    // A copy made in window k lives until before window k + 2 begins.
    if release.div_euclid(window) > now.div_euclid(window) + 1 {
        return None;
    }
    Some((step - now.rem_euclid(step)) as u64)
}

/// What one batch of changes asks of the caches and hubs.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Plan {
    /// Tag names to purge (xkey, webhook).
    pub tags: Vec<String>,
    /// Public URLs to purge (nginx, webhook).
    pub urls: Vec<String>,
    /// Public feed URLs to ping hubs for.
    pub feeds: Vec<String>,
}

/// Most tags or URLs one pending plan holds; past this it becomes a purge
/// of everything (memory stays bounded while a target is down for days).
const PLAN_LIMIT: usize = 10_000;

impl Plan {
    /// What a write whose in-process tags are `changed` changes at the edge:
    /// its section's and article's documents, pages that link it, every
    /// all-sections document and the home page.
    pub fn of(changed: &[Tag], base: &Base) -> Plan {
        let mut plan = Plan::default();
        for tag in changed.iter().chain([&Tag::All, &Tag::Home]) {
            plan.add_tag(tag_name(tag));
            match tag {
                Tag::Section(slug) => {
                    plan.add_feeds(Some(slug), base);
                    plan.add(Which::Url, base.section(slug));
                }
                Tag::Article(id) => {
                    plan.add(Which::Url, base.article(id));
                    plan.add(Which::Url, base.article_json(id));
                }
                Tag::All => {
                    plan.add_feeds(None, base);
                    plan.add(Which::Url, base.opml());
                }
                Tag::Home => plan.add(Which::Url, base.home()),
                // Pages linking a headline are found by their tag only.
                Tag::Headline(..) => {}
            }
        }
        plan
    }

    /// A purge of everything: the site tag, and the URLs known without
    /// knowing what changed (nginx cannot purge what it is not named).
    pub fn everything(base: &Base) -> Plan {
        let mut plan = Plan::of(&[], base);
        plan.tags = vec![SITE_TAG.to_owned()];
        plan
    }

    /// Every feed of a scope, the urgent ones included.
    fn add_feeds(&mut self, section: Option<&SectionSlug>, base: &Base) {
        for feed in Feed::both(section) {
            for format in Format::ALL {
                self.add(Which::Feed, base.feed(&feed, format, None));
            }
        }
    }

    fn add_tag(&mut self, tag: String) {
        if !self.tags.contains(&tag) {
            self.tags.push(tag);
        }
    }

    fn add(&mut self, which: Which, url: String) {
        if which == Which::Feed && !self.feeds.contains(&url) {
            self.feeds.push(url.clone());
        }
        if !self.urls.contains(&url) {
            self.urls.push(url);
        }
    }

    /// Adds `other` to this plan, in order, without repeats; a plan grown
    /// past `PLAN_LIMIT` becomes [`Plan::everything`].
    pub fn merge(&mut self, other: &Plan, base: &Base) {
        for t in &other.tags {
            self.add_tag(t.clone());
        }
        for u in &other.urls {
            if !self.urls.contains(u) {
                self.urls.push(u.clone());
            }
        }
        for f in &other.feeds {
            if !self.feeds.contains(f) {
                self.feeds.push(f.clone());
            }
        }
        if self.tags.len() > PLAN_LIMIT || self.urls.len() > PLAN_LIMIT {
            tracing::warn!("edge: too many pending purges; purging everything instead");
            *self = Plan::everything(base);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.tags.is_empty() && self.urls.is_empty() && self.feeds.is_empty()
    }
}

#[derive(PartialEq, Eq, Clone, Copy)]
enum Which {
    Url,
    Feed,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ArticleId;

    fn edge(purge: &[&str], header: &str) -> Edge {
        let purge: Vec<String> = purge.iter().map(|s| s.to_string()).collect();
        Edge::new(EdgeSettings::parse(header, &purge, 86_400, &[]).unwrap()).0
    }

    #[test]
    fn a_section_write_purges_its_section_its_article_and_every_all_sections_document() {
        let base = Base::new("https://example.org/news/");
        let (world, a1) = (SectionSlug::parse("world").unwrap(), ArticleId::parse("2026-12-01-a-1").unwrap());
        let plan = Plan::of(&[Tag::Section(world), Tag::Article(a1)], &base);
        assert_eq!(plan.tags, ["section-world", "article-2026-12-01-a-1", "all", "home"]);
        assert!(plan.urls.contains(&"https://example.org/news/sections/world/atom.xml".to_owned()));
        assert!(plan.urls.contains(&"https://example.org/news/sections/world/urgent/atom.xml".to_owned()));
        assert!(plan.urls.contains(&"https://example.org/news/urgent/feed.json".to_owned()));
        assert!(plan.urls.contains(&"https://example.org/news/articles/2026-12-01-a-1.json".to_owned()));
        assert!(plan.urls.contains(&"https://example.org/news/".to_owned()));
        assert!(plan.urls.contains(&"https://example.org/news/opml.xml".to_owned()));
        assert_eq!(plan.feeds.len(), 12, "{:?}", plan.feeds);
        assert!(!plan.urls.iter().any(|u| u.contains("sport")));
    }

    #[test]
    fn merged_plans_keep_order_without_repeats() {
        let base = Base::new("http://h/");
        let section = |s: &str| Tag::Section(SectionSlug::parse(s).unwrap());
        let mut a = Plan::of(&[section("world")], &base);
        a.merge(&Plan::of(&[section("sport")], &base), &base);
        assert_eq!(a.tags, ["section-world", "all", "home", "section-sport"]);
        assert_eq!(a.feeds.len(), 18);
    }

    #[test]
    fn tag_header_separators_follow_the_cache() {
        let tags = [Tag::Section(SectionSlug::parse("world").unwrap()), Tag::All];
        let (name, value) = edge(&[], "Surrogate-Key").tag_header(&tags).unwrap();
        assert_eq!((name.as_str(), value.to_str().unwrap()), ("surrogate-key", "wirefeed section-world all"));
        let (_, value) = edge(&[], "Cache-Tag").tag_header(&tags).unwrap();
        assert_eq!(value.to_str().unwrap(), "wirefeed,section-world,all");
    }

    #[test]
    fn edge_lifetime_only_with_a_purge_target_and_never_on_older_pages() {
        assert_eq!(edge(&[], "xkey").cache_control(300, None), "public, max-age=300");
        let e = edge(&["nginx+http://127.0.0.1:6081/"], "xkey");
        let full = "public, max-age=300, s-maxage=86400, stale-while-revalidate=30, stale-if-error=86400";
        assert_eq!(e.cache_control(300, None), full);
        let lifetimes = e.lifetimes(300);
        assert_eq!(lifetimes.get(false, None, 1_000), full);
        assert_eq!(lifetimes.get(true, None, 1_000), "public, max-age=300");
    }

    #[test]
    fn no_copy_outlives_a_release_by_more_than_the_step() {
        for max_age in [11u64, 60, 300, 3600] {
            for release in 5_000i64..5_000 + 2 * max_age as i64 {
                for now in (release - 3 * max_age as i64)..release {
                    let life = near_release(max_age, release, now).unwrap_or(max_age) as i64;
                    // now is whole seconds: the copy was made before now + 1.
                    assert!(now + 1 + life <= release + NEAR_RELEASE_STEP as i64 + 1, "{max_age} {release} {now}");
                }
            }
        }
    }

    #[test]
    fn the_lifetime_does_not_tell_the_release_second() {
        // Every release in one window gives every moment the same answer.
        for now in 0i64..1_200 {
            let answers: std::collections::HashSet<_> = (600..900).map(|r| near_release(300, r, now)).collect();
            assert_eq!(answers.len(), 1, "at {now}: {answers:?}");
        }
        assert_eq!(near_release(300, 1_000, 1_000 - 2_000), None, "far off: untouched");
        assert_eq!(near_release(300, 610, 303), Some(7));
        assert_eq!(near_release(5, 7, 6), None, "max-age shorter than the step");
    }

    #[test]
    fn bad_targets_are_refused_with_the_setting_named() {
        assert!(Target::parse("xkey+http://127.0.0.1:6081").is_ok());
        let err = Target::parse("varnish+http://x/").unwrap_err().to_string();
        assert!(err.contains("WIREFEED_PURGE"), "{err}");
        assert!(Target::parse("nginx+ftp://x/").is_err());
        assert!(Target::parse("http://x/").is_err());
        assert!(EdgeSettings::parse("bad header", &[], 1, &[]).is_err());
    }
}
