//! Every URL wirefeed serves or links: the public base URL absolute links
//! are built from (the configured `WIREFEED_PUBLIC_URL`, or the request's own
//! address, honouring `Forwarded` / `X-Forwarded-*` only from trusted
//! proxies), each document's path under it, and the route patterns the
//! server mounts. A path is spelled here and nowhere else.

use std::net::IpAddr;

use actix_web::http::header::HeaderMap;
use actix_web::HttpRequest;
use ipnet::IpNet;

use crate::domain::{ArticleId, Listing, SectionSlug};

const SECTIONS: &str = "sections";
const ARTICLES: &str = "articles";
const URGENT: &str = "urgent";
const OPML: &str = "opml.xml";

/// Route patterns, relative to the mount point.
pub mod route {
    pub const HOME: &str = "/";
    pub const OPML: &str = "/opml.xml";
    pub const SECTION: &str = "/sections/{slug}";
    /// The article page and, with `.json`, its JSON.
    pub const ARTICLE: &str = "/articles/{id}";
    pub const IMPORT: &str = "/import";
    /// A held (embargoed) story published now, by the token holder.
    pub const RELEASE: &str = "/articles/{id}/release";
    pub const HEALTH: &str = "/healthz";
    pub const METRICS: &str = "/metrics";
}

/// The feed formats, and the file name each is served under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Rss,
    Atom,
    Json,
}

impl Format {
    pub const ALL: [Format; 3] = [Format::Rss, Format::Atom, Format::Json];

    pub fn file(self) -> &'static str {
        match self {
            Format::Rss => "rss.xml",
            Format::Atom => "atom.xml",
            Format::Json => "feed.json",
        }
    }

    /// The `Content-Type` a feed is served with.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Rss => "application/rss+xml; charset=utf-8",
            Format::Atom => "application/atom+xml; charset=utf-8",
            Format::Json => "application/feed+json; charset=utf-8",
        }
    }

    pub fn media_type(self) -> &'static str {
        match self {
            Format::Rss => "application/rss+xml",
            Format::Atom => "application/atom+xml",
            Format::Json => "application/feed+json",
        }
    }
}

/// Which feed: of every section or of one, all its copy or only the urgent.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Feed {
    pub section: Option<SectionSlug>,
    pub urgent: bool,
}

impl Feed {
    /// Every feed of a scope: its own and its urgent copy's.
    pub fn both(section: Option<&SectionSlug>) -> [Feed; 2] {
        [false, true].map(|urgent| Feed { section: section.cloned(), urgent })
    }

    /// The feed's folder relative to the base: `""`, `urgent/`,
    /// `sections/world/` or `sections/world/urgent/`.
    fn dir(&self) -> String {
        let mut dir = match &self.section {
            Some(slug) => format!("{SECTIONS}/{slug}/"),
            None => String::new(),
        };
        if self.urgent {
            dir.push_str(URGENT);
            dir.push('/');
        }
        dir
    }

    /// The stories this feed lists.
    pub fn listing(&self) -> Listing {
        match (&self.section, self.urgent) {
            (section, true) => Listing::Urgent(section.clone()),
            (Some(slug), false) => Listing::Section(slug.clone()),
            (None, false) => Listing::All,
        }
    }

    /// The route pattern of this kind of feed in `format`.
    pub fn route(section: bool, urgent: bool, format: Format) -> String {
        let section = if section { format!("/{SECTIONS}/{{slug}}") } else { String::new() };
        let urgent = if urgent { format!("/{URGENT}") } else { String::new() };
        format!("{section}{urgent}/{}", format.file())
    }
}

/// Absolute URLs, from the public base URL (ends with `/`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Base(String);

impl Base {
    /// `base` must be absolute and end with `/`; a missing slash is added.
    pub fn new(base: &str) -> Base {
        let mut base = base.to_owned();
        if !base.ends_with('/') {
            base.push('/');
        }
        Base(base)
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.0)
    }

    pub fn home(&self) -> String {
        self.0.clone()
    }

    pub fn opml(&self) -> String {
        self.url(OPML)
    }

    pub fn section(&self, slug: &SectionSlug) -> String {
        self.url(&format!("{SECTIONS}/{slug}"))
    }

    /// The HTML page of a scope: the home page, or a section's.
    pub fn page(&self, section: Option<&SectionSlug>) -> String {
        section.map_or_else(|| self.home(), |slug| self.section(slug))
    }

    /// A feed in `format`, at `cursor` (`?before=`) when given.
    pub fn feed(&self, feed: &Feed, format: Format, cursor: Option<i64>) -> String {
        let url = self.url(&format!("{}{}", feed.dir(), format.file()));
        match cursor {
            Some(c) => format!("{url}?before={c}"),
            None => url,
        }
    }

    /// A section page at `cursor` (`?before=`) when given.
    pub fn section_at(&self, slug: &SectionSlug, cursor: Option<i64>) -> String {
        match cursor {
            Some(c) => format!("{}?before={c}", self.section(slug)),
            None => self.section(slug),
        }
    }

    pub fn article(&self, id: &ArticleId) -> String {
        self.url(&format!("{ARTICLES}/{id}"))
    }

    pub fn article_json(&self, id: &ArticleId) -> String {
        self.url(&format!("{ARTICLES}/{id}.json"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A forwarding header a trusted proxy may set. Named as HTTP spells them
/// (`X-Forwarded-Prefix`; the case does not matter).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ForwardedHeader {
    /// The client's address: accepted, but no link is built from it.
    #[value(name = "X-Forwarded-For")]
    XForwardedFor,
    #[value(name = "X-Forwarded-Proto")]
    XForwardedProto,
    #[value(name = "X-Forwarded-Host")]
    XForwardedHost,
    #[value(name = "X-Forwarded-Prefix")]
    XForwardedPrefix,
    /// RFC 7239 (`proto` and `host` are read).
    #[value(name = "Forwarded")]
    Forwarded,
}

/// How to find the public base URL of a request.
#[derive(Debug, Clone)]
pub struct PublicUrl {
    configured: Option<Base>,
    trusted: Vec<IpNet>,
    honoured: Honoured,
}

/// Which forwarding headers of a trusted proxy count: only those it sets
/// itself. A proxy passes on whatever a client sent in a header it does not
/// set (nginx passes `Forwarded` and `X-Forwarded-Prefix`, HAProxy's
/// `option forwardfor` sets only `X-Forwarded-For`), so a header counted
/// without being set by the proxy is the client's to forge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Honoured {
    proto: bool,
    host: bool,
    prefix: bool,
    forwarded: bool,
}

impl Honoured {
    fn of(headers: &[ForwardedHeader]) -> Honoured {
        let has = |h| headers.contains(&h);
        Honoured {
            proto: has(ForwardedHeader::XForwardedProto),
            host: has(ForwardedHeader::XForwardedHost),
            prefix: has(ForwardedHeader::XForwardedPrefix),
            forwarded: has(ForwardedHeader::Forwarded),
        }
    }
}

/// The forwarding headers honoured unless configured otherwise: those nginx
/// (as documented), Caddy and Traefik set.
pub const DEFAULT_FORWARDED_HEADERS: [ForwardedHeader; 3] =
    [ForwardedHeader::XForwardedFor, ForwardedHeader::XForwardedProto, ForwardedHeader::XForwardedHost];

/// A bad `WIREFEED_PUBLIC_URL` or `WIREFEED_TRUSTED_PROXIES` value.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct PublicUrlError(String);

impl PublicUrl {
    pub fn new(configured: Option<&str>, trusted: &[String]) -> Result<PublicUrl, PublicUrlError> {
        let configured = match configured.map(str::trim).filter(|s| !s.is_empty()) {
            None => None,
            Some(url) => {
                let host = url.split_once("://").map_or("", |(_, rest)| rest.split('/').next().unwrap_or(""));
                let ok = (url.starts_with("http://") || url.starts_with("https://"))
                    && valid_host(host)
                    && !url.contains(['?', '#', ' ', '"', '<', '>', '\\']);
                if !ok {
                    return Err(PublicUrlError(format!(
                        "WIREFEED_PUBLIC_URL {url:?} must be an absolute http(s) URL without query, e.g. https://example.org/news/"
                    )));
                }
                Some(Base::new(url))
            }
        };
        let trusted = trusted
            .iter()
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.parse::<IpNet>().or_else(|_| s.parse::<IpAddr>().map(IpNet::from)).map_err(|_| {
                    PublicUrlError(format!("WIREFEED_TRUSTED_PROXIES entry {s:?} is not an address or CIDR range"))
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(PublicUrl { configured, trusted, honoured: Honoured::of(&DEFAULT_FORWARDED_HEADERS) })
    }

    /// Counts only `headers` of a trusted proxy (`WIREFEED_FORWARDED_HEADERS`).
    pub fn honouring(mut self, headers: &[ForwardedHeader]) -> PublicUrl {
        self.honoured = Honoured::of(headers);
        self
    }

    /// The configured public base URL, if there is one.
    pub fn configured(&self) -> Option<&Base> {
        self.configured.as_ref()
    }

    /// The path prefix of the configured public URL, without its last slash
    /// (`/news` for `https://example.org/news/`), when it has one.
    pub fn prefix(&self) -> Option<String> {
        let base = self.configured.as_ref()?.as_str();
        let after_scheme = base.split_once("://")?.1;
        let path = &after_scheme[after_scheme.find('/')?..];
        (path.len() > 1).then(|| path.trim_end_matches('/').to_owned())
    }

    /// The base URL for this request.
    pub fn base(&self, req: &HttpRequest) -> Base {
        if let Some(base) = &self.configured {
            return base.clone();
        }
        let own_host = req
            .headers()
            .get(actix_web::http::header::HOST)
            .and_then(|h| h.to_str().ok())
            .filter(|h| valid_host(h))
            .unwrap_or_else(|| req.app_config().host());
        // A dual-stack listener sees IPv4 peers as `::ffff:a.b.c.d`; compare them as IPv4.
        let trusted = !self.trusted.is_empty()
            && req
                .peer_addr()
                .is_some_and(|peer| self.trusted.iter().any(|net| net.contains(&peer.ip().to_canonical())));
        if trusted {
            return Base::new(&forwarded_base(req.headers(), own_host, self.honoured));
        }
        // Every cached answer builds this: one allocation, no formatting.
        let mut base = String::with_capacity(own_host.len() + 8);
        base.push_str("http://");
        base.push_str(own_host);
        base.push('/');
        Base(base)
    }
}

/// The base URL a trusted proxy describes, from the headers it is known to
/// set (`honoured`); any other is ignored. `X-Forwarded-Proto/Host/Prefix`
/// win: nginx, Caddy and Traefik set those and pass a client's `Forwarded`
/// through untouched, so `Forwarded` (when honoured at all) counts only when
/// no honoured `X-Forwarded-*` header came. Of a list, the last element
/// counts: proxies append, so the last one is what the trusted peer itself
/// saw; anything earlier may be the client's invention.
fn forwarded_base(headers: &HeaderMap, own_host: &str, honoured: Honoured) -> String {
    let read = |on: bool, name: &str| if on { last_value(headers, name) } else { None };
    let x_proto = read(honoured.proto, "x-forwarded-proto");
    let x_host = read(honoured.host, "x-forwarded-host");
    let x_prefix = read(honoured.prefix, "x-forwarded-prefix");
    let (proto, host) = if x_proto.is_some() || x_host.is_some() || x_prefix.is_some() || !honoured.forwarded {
        (x_proto.map(|p| p.to_ascii_lowercase()), x_host)
    } else {
        let forwarded = last_value(headers, "forwarded").map(|f| parse_forwarded(&f)).unwrap_or_default();
        (forwarded.proto, forwarded.host)
    };
    let proto = proto.filter(|p| p == "http" || p == "https").unwrap_or_else(|| "http".to_owned());
    let host = host.filter(|h| valid_host(h)).unwrap_or_else(|| own_host.to_owned());
    let prefix = x_prefix.map(|p| p.trim_matches('/').to_owned()).filter(|p| valid_prefix(p)).unwrap_or_default();
    let prefix = if prefix.is_empty() { String::new() } else { format!("{prefix}/") };
    format!("{proto}://{host}/{prefix}")
}

/// The last element of the last `name` header line.
fn last_value(headers: &HeaderMap, name: &str) -> Option<String> {
    let line = headers.get_all(name).last()?.to_str().ok()?;
    Some(line.rsplit(',').next().unwrap_or("").trim().to_owned())
}

/// `host[:port]` or `[v6]:port`: nothing that could break out of a URL.
fn valid_host(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 255
        && host.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'))
}

fn valid_prefix(prefix: &str) -> bool {
    prefix.len() <= 200
        && prefix.split('/').all(|seg| {
            !seg.is_empty()
                && seg != "."
                && seg != ".."
                && seg.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~'))
        })
}

#[derive(Default)]
struct Forwarded {
    proto: Option<String>,
    host: Option<String>,
}

/// One RFC 7239 `Forwarded` element's `proto` and `host`.
fn parse_forwarded(element: &str) -> Forwarded {
    let mut out = Forwarded::default();
    for pair in element.split(';') {
        if let Some((k, v)) = pair.split_once('=') {
            let v = v.trim().trim_matches('"').to_owned();
            match k.trim().to_ascii_lowercase().as_str() {
                "proto" => out.proto = Some(v.to_ascii_lowercase()),
                "host" => out.host = Some(v),
                _ => {}
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use actix_web::http::header::{HeaderName, HeaderValue};

    use super::*;

    #[test]
    fn configured_prefix_is_found() {
        let p = PublicUrl::new(Some("https://example.org/news/"), &[]).unwrap();
        assert_eq!(p.prefix().as_deref(), Some("/news"));
        assert_eq!(PublicUrl::new(Some("https://example.org"), &[]).unwrap().prefix(), None);
    }

    #[test]
    fn bad_settings_are_refused() {
        assert!(PublicUrl::new(Some("example.org"), &[]).is_err());
        assert!(PublicUrl::new(Some("https:///news/"), &[]).is_err(), "no host");
        assert!(PublicUrl::new(Some("https://evil@example.org/"), &[]).is_err(), "user info");
        assert!(PublicUrl::new(Some("https://example.org:8443/news/"), &[]).is_ok());
        assert!(PublicUrl::new(None, &["nonsense".into()]).is_err());
        assert!(PublicUrl::new(None, &["10.0.0.0/8".into(), "127.0.0.1".into()]).is_ok());
    }

    #[test]
    fn forwarded_header_is_read() {
        let f = parse_forwarded("for=1.2.3.4;proto=HTTPS;host=\"example.org\"");
        assert_eq!(f.proto.as_deref(), Some("https"));
        assert_eq!(f.host.as_deref(), Some("example.org"));
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.append(HeaderName::from_static(k), HeaderValue::from_static(v));
        }
        map
    }

    /// Every header honoured.
    const ALL: Honoured = Honoured { proto: true, host: true, prefix: true, forwarded: true };

    #[test]
    fn only_the_honoured_headers_count() {
        let forged = headers(&[
            ("x-forwarded-for", "1.2.3.4"),
            ("x-forwarded-prefix", "/attacker/path"),
            ("forwarded", "host=evil.example;proto=https"),
        ]);
        let default = Honoured::of(&DEFAULT_FORWARDED_HEADERS);
        assert_eq!(forwarded_base(&forged, "feeds.example.org", default), "http://feeds.example.org/");
        let only_for = Honoured::of(&[ForwardedHeader::XForwardedFor]);
        let h = headers(&[("x-forwarded-host", "evil.example"), ("x-forwarded-proto", "https")]);
        assert_eq!(forwarded_base(&h, "feeds.example.org", only_for), "http://feeds.example.org/");
        assert_eq!(forwarded_base(&h, "feeds.example.org", default), "https://evil.example/");
        let forwarded = Honoured::of(&[ForwardedHeader::Forwarded]);
        assert_eq!(forwarded_base(&forged, "feeds.example.org", forwarded), "https://evil.example/");
    }

    #[test]
    fn x_forwarded_headers_make_the_base() {
        let h = headers(&[
            ("x-forwarded-proto", "https"),
            ("x-forwarded-host", "example.org"),
            ("x-forwarded-prefix", "/news/"),
        ]);
        assert_eq!(forwarded_base(&h, "10.0.0.5:8080", ALL), "https://example.org/news/");
        assert_eq!(forwarded_base(&HeaderMap::new(), "10.0.0.5:8080", ALL), "http://10.0.0.5:8080/");
    }

    #[test]
    fn a_clients_forwarded_header_does_not_beat_the_proxys_x_forwarded_headers() {
        let h = headers(&[("forwarded", "host=evil.example;proto=https"), ("x-forwarded-proto", "http")]);
        assert_eq!(forwarded_base(&h, "example.org", ALL), "http://example.org/");
        let h = headers(&[("forwarded", "for=1.2.3.4;host=example.org;proto=https")]);
        assert_eq!(forwarded_base(&h, "10.0.0.5", ALL), "https://example.org/");
    }

    #[test]
    fn of_a_list_the_element_the_trusted_proxy_added_counts() {
        let h = headers(&[("x-forwarded-host", "evil.example, example.org"), ("x-forwarded-proto", "https")]);
        assert_eq!(forwarded_base(&h, "10.0.0.5", ALL), "https://example.org/");
        let h = headers(&[("forwarded", "host=evil.example"), ("forwarded", "host=example.org;proto=https")]);
        assert_eq!(forwarded_base(&h, "10.0.0.5", ALL), "https://example.org/");
        let h = headers(&[("x-forwarded-host", "evil.example/\"><x"), ("x-forwarded-prefix", "../up")]);
        assert_eq!(forwarded_base(&h, "example.org", ALL), "http://example.org/");
    }

    #[test]
    fn hostile_hosts_and_prefixes_are_refused() {
        assert!(!valid_host("evil.com/\"><script>"));
        assert!(valid_host("[::1]:8080"));
        assert!(!valid_prefix("../etc"));
        assert!(valid_prefix("news/v1"));
    }
}
