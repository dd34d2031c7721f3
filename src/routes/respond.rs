//! Answering with a document: 304 from the ETag or Last-Modified alone,
//! the precompressed form the client asked for, caching headers, HEAD.

use std::sync::Arc;

use actix_web::http::header::{self, HeaderValue, HttpDate};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

use super::error::ApiError;
use crate::app::{Class, Lookup};
use crate::cache::Doc;
use crate::documents::DocKey;
use crate::render;
use crate::state::AppState;

/// How a document that is not there is answered.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Absent {
    /// A JSON error (feeds, OPML, article JSON).
    Json,
    /// An HTML page saying so (pages).
    Page,
}

/// Serves the document of `key`: cached, or rendered once however many ask.
///
/// What a client can vary costs it, not other readers: an older page's
/// cursor that is no page boundary is redirected to the boundary it stands
/// for (one index seek, no render), and cold documents (older pages,
/// foreign addresses) are rendered and compressed one at a time.
pub async fn document(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    key: DocKey,
    absent: Absent,
) -> Result<HttpResponse, ApiError> {
    let older = key.doc.is_older_page();
    if let Some(doc) = state.app.cached(&key) {
        return answer(req, state, &doc, older, Class::Current).await;
    }
    if let Some((listing, cursor)) = key.doc.cursor() {
        let app = Arc::clone(&state.app);
        let boundary = web::block(move || app.boundary(&listing, cursor)).await??;
        if boundary != Some(cursor) {
            let location = key.doc.url_at(&key.base, boundary).unwrap_or_else(|| key.base.home());
            return Ok(HttpResponse::Found()
                .insert_header((header::LOCATION, location))
                .insert_header((header::CACHE_CONTROL, state.cache_control(true).clone()))
                .finish());
        }
    }
    let class = state.app.class(&key);
    let _cold = match class {
        Class::Current => None,
        Class::Older | Class::Foreign => Some(state.app.cold_permit().await),
    };
    let _flight = state.app.flight(&key).await;
    if let Some(doc) = state.app.cached(&key) {
        // Rendered meanwhile; the cold permit, if this class needs one, is held.
        return answer(req, state, &doc, older, class).await;
    }
    let app = Arc::clone(&state.app);
    let base = key.base.clone();
    let (what, status) = match web::block(move || app.render(&key, class)).await?? {
        // The cold permit is held: compressing takes no other.
        Lookup::Doc(doc) => return answer(req, state, &doc, older, class).await,
        Lookup::Missing(what) if absent == Absent::Json => return Err(ApiError::NotFound(what)),
        Lookup::Gone(what) if absent == Absent::Json => return Err(ApiError::Gone(what)),
        Lookup::Missing(what) => (what, StatusCode::NOT_FOUND),
        Lookup::Gone(what) => (what, StatusCode::GONE),
    };
    Ok(missing_page(state, &base, &what, status))
}

/// A page saying what is not there, never cached.
pub fn missing_page(state: &AppState, base: &crate::urls::Base, what: &str, status: StatusCode) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(render::html::not_found(state.app.site(), base, what))
}

/// Answers with `doc`, compressing it first (once per coding, on a
/// blocking thread, never on the request threads) when the client takes a
/// coding not yet made. `class` is what the caller holds: `Current` for a
/// document found in the cache without the cold permit, else the class it
/// rendered (or waited for) it as, holding the permit for `Older` and
/// `Foreign`. A foreign address's document, made for this answer alone, is
/// sent uncompressed; an older page's compression takes the cold permit
/// when the caller does not hold it.
async fn answer(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    doc: &Arc<Doc>,
    older: bool,
    class: Class,
) -> Result<HttpResponse, ApiError> {
    let cache_control = state.cache_control(older);
    let coding = match class {
        Class::Foreign => Coding::Identity,
        _ => negotiate(req),
    };
    let ready = match coding {
        Coding::Identity => true,
        Coding::Gzip => doc.gzip_ready().is_some(),
        Coding::Brotli => doc.brotli_ready().is_some(),
    };
    if !ready && !not_modified(req, doc, settled(doc).is_some()) {
        // A cached older page not yet compressed in this coding.
        let _cold = match (older, class) {
            (true, Class::Current) => Some(state.app.cold_permit().await),
            _ => None,
        };
        let doc = Arc::clone(doc);
        web::block(move || match coding {
            Coding::Gzip => {
                doc.gzip();
            }
            Coding::Brotli => {
                doc.brotli();
            }
            Coding::Identity => {}
        })
        .await?;
    }
    Ok(respond(req, doc, cache_control, coding))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Coding {
    Identity,
    Gzip,
    Brotli,
}

/// The answer for a document in `coding`. Every header value comes made
/// from the [`Doc`]: a cached answer formats nothing.
fn respond(req: &HttpRequest, doc: &Doc, cache_control: &HeaderValue, coding: Coding) -> HttpResponse {
    let etag = match coding {
        Coding::Identity => &doc.headers.etag,
        Coding::Gzip => &doc.headers.etag_gzip,
        Coding::Brotli => &doc.headers.etag_brotli,
    };
    let last_modified = settled(doc);
    let fresh = not_modified(req, doc, last_modified.is_some());
    // Headers go straight into the response's map: the builder would
    // convert and check each pair again.
    let (status, body) = match (fresh, coding) {
        (true, _) => (StatusCode::NOT_MODIFIED, None),
        (false, Coding::Identity) => (StatusCode::OK, Some(doc.body.clone())),
        (false, Coding::Gzip) => (StatusCode::OK, Some(doc.gzip().clone())),
        (false, Coding::Brotli) => (StatusCode::OK, Some(doc.brotli().clone())),
    };
    // For HEAD, actix sends the headers (Content-Length included) and drops the body.
    let mut res = match body {
        Some(body) => HttpResponse::with_body(status, crate::slow::in_slices(body)),
        None => HttpResponse::new(status),
    };
    let headers = res.headers_mut();
    headers.insert(header::ETAG, etag.clone());
    headers.insert(header::CACHE_CONTROL, cache_control.clone());
    headers.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    if let Some(lm) = last_modified {
        headers.insert(header::LAST_MODIFIED, lm.clone());
    }
    for (name, value) in &doc.headers.extra {
        headers.insert(name.clone(), value.clone());
    }
    if !fresh {
        headers.insert(header::CONTENT_TYPE, doc.headers.content_type.clone());
        let encoding = match coding {
            Coding::Identity => None,
            Coding::Gzip => Some("gzip"),
            Coding::Brotli => Some("br"),
        };
        if let Some(encoding) = encoding {
            headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static(encoding));
        }
    }
    res
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
    let inm = req.headers().get(header::IF_NONE_MATCH);
    // What a reader sends back is most often exactly one of our ETags.
    if inm.is_some_and(|v| v == doc.headers.etag || v == doc.headers.etag_gzip || v == doc.headers.etag_brotli) {
        return true;
    }
    if let Some(inm) = inm.and_then(|v| v.to_str().ok()) {
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
