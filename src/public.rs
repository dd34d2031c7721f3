//! The public base URL every absolute link is built from: the configured
//! `WIREFEED_PUBLIC_URL`, or the request's own address, honouring
//! `Forwarded` / `X-Forwarded-*` only from trusted proxies.

use std::net::IpAddr;

use actix_web::HttpRequest;
use ipnet::IpNet;

use crate::render::Base;

/// How to find the public base URL of a request.
#[derive(Debug, Clone)]
pub struct PublicUrl {
    configured: Option<Base>,
    trusted: Vec<IpNet>,
}

/// A bad `WIREFEED_PUBLIC_URL` or `WIREFEED_TRUSTED_PROXIES` value.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct PublicUrlError(String);

impl PublicUrl {
    pub fn new(configured: Option<&str>, trusted: &[String]) -> Result<PublicUrl, PublicUrlError> {
        let configured = match configured.map(str::trim).filter(|s| !s.is_empty()) {
            None => None,
            Some(url) => {
                let ok = (url.starts_with("http://") || url.starts_with("https://"))
                    && !url.contains(['?', '#', ' ', '"', '<', '>']);
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
        Ok(PublicUrl { configured, trusted })
    }

    /// The path prefix of the configured public URL (`/news/`), when it has one.
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
        let local_host = req.app_config().host().to_owned();
        let own_host = header(req, "host").filter(|h| valid_host(h)).unwrap_or(local_host);
        let trusted = req.peer_addr().is_some_and(|peer| self.trusted.iter().any(|net| net.contains(&peer.ip())));
        if !trusted {
            return Base::new(&format!("http://{own_host}/"));
        }
        let forwarded = header(req, "forwarded").map(|f| parse_forwarded(&f)).unwrap_or_default();
        let proto = forwarded
            .proto
            .or_else(|| header(req, "x-forwarded-proto").map(|p| p.split(',').next().unwrap_or("").trim().to_owned()))
            .filter(|p| p == "http" || p == "https")
            .unwrap_or_else(|| "http".to_owned());
        let host = forwarded
            .host
            .or_else(|| header(req, "x-forwarded-host").map(|h| h.split(',').next().unwrap_or("").trim().to_owned()))
            .filter(|h| valid_host(h))
            .unwrap_or(own_host);
        let prefix = header(req, "x-forwarded-prefix")
            .map(|p| p.split(',').next().unwrap_or("").trim().trim_matches('/').to_owned())
            .filter(|p| valid_prefix(p))
            .unwrap_or_default();
        let prefix = if prefix.is_empty() { String::new() } else { format!("{prefix}/") };
        Base::new(&format!("{proto}://{host}/{prefix}"))
    }
}

fn header(req: &HttpRequest, name: &str) -> Option<String> {
    req.headers().get(name)?.to_str().ok().map(str::to_owned)
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

/// RFC 7239 `Forwarded`: the first element's `proto` and `host`.
fn parse_forwarded(value: &str) -> Forwarded {
    let mut out = Forwarded::default();
    let first = value.split(',').next().unwrap_or("");
    for pair in first.split(';') {
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
        assert!(PublicUrl::new(None, &["nonsense".into()]).is_err());
        assert!(PublicUrl::new(None, &["10.0.0.0/8".into(), "127.0.0.1".into()]).is_ok());
    }

    #[test]
    fn forwarded_header_is_read() {
        let f = parse_forwarded("for=1.2.3.4;proto=HTTPS;host=\"example.org\", for=5.6.7.8");
        assert_eq!(f.proto.as_deref(), Some("https"));
        assert_eq!(f.host.as_deref(), Some("example.org"));
    }

    #[test]
    fn hostile_hosts_and_prefixes_are_refused() {
        assert!(!valid_host("evil.com/\"><script>"));
        assert!(valid_host("[::1]:8080"));
        assert!(!valid_prefix("../etc"));
        assert!(valid_prefix("news/v1"));
    }
}
