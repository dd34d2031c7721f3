//! Answering with a document: 304 from the ETag or Last-Modified alone,
//! the precompressed form the client asked for, caching headers, HEAD.

use std::sync::Arc;

use actix_web::http::header::{self, HeaderValue, HttpDate};
use actix_web::{web, HttpRequest, HttpResponse};

use super::ApiError;
use crate::cache::{Doc, Tag};
use crate::startup::AppState;
use crate::store::Store;

/// What a render produced.
pub enum Rendered {
    /// A document, and tags it depends on besides those given to [`cached`]
    /// (known only once the store was read, e.g. an article's related headlines).
    Doc(Doc, Vec<Tag>),
    /// The thing asked for does not exist; the text says what.
    Missing(String),
}

/// Serves the document cached under `key`, rendering it on a miss.
/// `missing` answers when the render finds nothing.
pub async fn cached<R, M>(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    key: String,
    tags: Vec<Tag>,
    render: R,
    missing: M,
) -> Result<HttpResponse, ApiError>
where
    R: FnOnce(&Store) -> Result<Rendered, ApiError> + Send + 'static,
    M: FnOnce(String) -> Result<HttpResponse, ApiError>,
{
    if let Some(res) = hit(req, state, &key) {
        return Ok(res);
    }
    let _flight = state.cache.flight(&key).await;
    if let Some(res) = hit(req, state, &key) {
        return Ok(res);
    }
    state.metrics.renders.inc();
    let generation = state.cache.generation();
    let store = state.store.clone();
    match web::block(move || render(&store)).await?? {
        Rendered::Doc(mut doc, mut more) => {
            more.extend(tags);
            doc.headers.extra.extend(state.edge.tag_header(&more));
            let doc = Arc::new(doc);
            state.cache.insert(key, Arc::clone(&doc), more, generation);
            Ok(respond(req, &doc, &cache_control(state)))
        }
        Rendered::Missing(what) => missing(what),
    }
}

/// The answer for the document cached under `key`, if there is one: the hot
/// path, which handlers may take before building anything for a render.
pub fn hit(req: &HttpRequest, state: &AppState, key: &str) -> Option<HttpResponse> {
    state.cache.get(key).map(|doc| respond(req, &doc, &cache_control(state)))
}

/// `Cache-Control` for a document now: the configured max-age (and edge
/// s-maxage), cut so that no copy outlives the next embargo release (which
/// changes documents).
fn cache_control(state: &AppState) -> HeaderValue {
    let Some(release) = state.store.next_release() else { return state.cache_control.clone() };
    let left = (release - chrono::Utc::now()).num_seconds().max(0) as u64;
    if left >= state.edge.longest(state.site.max_age) {
        return state.cache_control.clone();
    }
    state.edge.cache_control(state.site.max_age, Some(left))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Coding {
    Identity,
    Gzip,
    Brotli,
}

/// The answer for a document. Every header value comes made from the
/// [`Doc`]: a cached answer formats nothing.
pub fn respond(req: &HttpRequest, doc: &Doc, cache_control: &HeaderValue) -> HttpResponse {
    let coding = negotiate(req);
    let etag = match coding {
        Coding::Identity => &doc.headers.etag,
        Coding::Gzip => &doc.headers.etag_gzip,
        Coding::Brotli => &doc.headers.etag_brotli,
    };
    let last_modified = settled(doc);
    let fresh = not_modified(req, doc, last_modified.is_some());
    let mut res = if fresh { HttpResponse::NotModified() } else { HttpResponse::Ok() };
    res.insert_header((header::ETAG, etag.clone()))
        .insert_header((header::CACHE_CONTROL, cache_control.clone()))
        .insert_header((header::VARY, HeaderValue::from_static("Accept-Encoding")));
    if let Some(lm) = last_modified {
        res.insert_header((header::LAST_MODIFIED, lm.clone()));
    }
    for (name, value) in &doc.headers.extra {
        res.insert_header((name.clone(), value.clone()));
    }
    if fresh {
        return res.finish();
    }
    res.insert_header((header::CONTENT_TYPE, doc.headers.content_type.clone()));
    let body = match coding {
        Coding::Identity => doc.body.clone(),
        Coding::Gzip => {
            res.insert_header((header::CONTENT_ENCODING, HeaderValue::from_static("gzip")));
            doc.gzip().clone()
        }
        Coding::Brotli => {
            res.insert_header((header::CONTENT_ENCODING, HeaderValue::from_static("br")));
            doc.brotli().clone()
        }
    };
    // For HEAD, actix sends the headers (Content-Length included) and drops the body.
    res.body(body)
}

/// The document's `Last-Modified`, once the second it changed in is over.
///
/// HTTP dates count whole seconds: a document dated by the current second
/// may change again within it, and a reader holding that date would then be
/// answered 304 and miss the change (libcurl, under newsboat, even drops a
/// 200 that is not dated later than what it asked). Until the second is
/// over the answer carries no date, and `If-Modified-Since` is not answered
/// with 304; `If-None-Match` still is. This also keeps a date that is ahead
/// of the clock (a clock set back) from going out: HTTP forbids that.
fn settled(doc: &Doc) -> Option<&HeaderValue> {
    let changed = doc.last_modified?.timestamp();
    if changed < chrono::Utc::now().timestamp() {
        doc.headers.last_modified.as_ref()
    } else {
        None
    }
}

/// `If-None-Match` (a list, `*`, weak or strong, any coding of ours) wins
/// over `If-Modified-Since` (not newer than Last-Modified, to the second;
/// only when the answer is `dated`).
fn not_modified(req: &HttpRequest, doc: &Doc, dated: bool) -> bool {
    if let Some(inm) = req.headers().get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) {
        return inm.split(',').map(str::trim).any(|tag| {
            let tag = tag.trim_start_matches("W/").trim_matches('"');
            let tag = tag.strip_suffix("-gz").or_else(|| tag.strip_suffix("-br")).unwrap_or(tag);
            tag == "*" || tag == doc.etag
        });
    }
    let since = req
        .headers()
        .get(header::IF_MODIFIED_SINCE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<HttpDate>().ok());
    match (since, doc.last_modified) {
        (Some(since), Some(lm)) if dated => {
            let since = std::time::SystemTime::from(since);
            let since = chrono::DateTime::<chrono::Utc>::from(since);
            lm.timestamp() <= since.timestamp()
        }
        _ => false,
    }
}

/// Brotli when accepted, else gzip, else identity (`q=0` refuses).
fn negotiate(req: &HttpRequest) -> Coding {
    let Some(accept) = req.headers().get(header::ACCEPT_ENCODING).and_then(|v| v.to_str().ok()) else {
        return Coding::Identity;
    };
    let accepts = |name: &str| {
        accept.split(',').any(|part| {
            let mut bits = part.split(';');
            let coding = bits.next().unwrap_or("").trim();
            let q = bits
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            (coding.eq_ignore_ascii_case(name) || coding == "*") && q > 0.0
        })
    };
    if accepts("br") {
        Coding::Brotli
    } else if accepts("gzip") {
        Coding::Gzip
    } else {
        Coding::Identity
    }
}
