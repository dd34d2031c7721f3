//! Subscribers' URLs: every public document path again under `/k/{key}/`.
//!
//! The same handlers serve both: [`reading`] tells them whose request it
//! is, the public's or a subscriber's, and gives the base URL its links are
//! built from (under the key, so a reader subscribed by URL alone stays
//! under it). An unknown, revoked or expired key is answered exactly as an
//! unknown path is, and the key is cut out of every answer and log line.

use actix_web::{web, HttpMessage, HttpRequest, HttpResponse};

use super::error::ApiError;
use super::{feeds, pages};
use crate::documents::{DocKey, Document};
use crate::domain::Reader;
use crate::state::AppState;
use crate::telemetry::{cut_key, SubscriberName};
use crate::urls::{route, Base, Feed, Format};

/// Whose request it is, and where its links point.
pub struct Reading {
    pub base: Base,
    pub reader: Reader,
}

impl Reading {
    pub fn key(self, doc: Document) -> DocKey {
        DocKey { base: self.base, doc, reader: self.reader }
    }
}

/// The reader of a request: the public, or the subscriber whose key the
/// path holds. A key that does not work now is not found, as an unknown
/// path is not.
pub fn reading(req: &HttpRequest, state: &AppState) -> Result<Reading, ApiError> {
    let base = state.public.base(req);
    let Some(key) = req.match_info().get("key") else { return Ok(Reading { base, reader: Reader::Public }) };
    let Some(subscriber) = state.app.subscribers().find(key) else { return Err(unknown(req)) };
    req.extensions_mut().insert(SubscriberName(subscriber.name.clone()));
    Ok(Reading { base: base.keyed(key), reader: Reader::Subscriber(subscriber.grant.clone()) })
}

/// The answer to a path under `/k/` that is not there, or whose key does
/// not work: the answer to an unknown path, without the key.
fn unknown(req: &HttpRequest) -> ApiError {
    let path: String = cut_key(req.path()).chars().take(200).collect();
    ApiError::NotFound(format!("no route for {path:?}"))
}

/// A GET (and HEAD) route under the key.
fn read<F, Args>(path: &str, handler: F) -> actix_web::Resource
where
    F: actix_web::dev::Handler<Args> + Clone,
    Args: actix_web::FromRequest + 'static,
    F::Output: actix_web::Responder + 'static,
{
    web::resource(path)
        .route(web::get().to(handler.clone()))
        .route(web::head().to(handler))
        .default_service(web::to(method_not_allowed))
}

/// The document routes again, under `/k/{key}`: reads only.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope(route::KEYED)
            .configure(|cfg| {
                cfg.service(read(route::HOME, pages::home)).service(read(route::OPML, feeds::opml));
                for section in [false, true] {
                    for urgent in [false, true] {
                        for format in Format::ALL {
                            let handler = move |req, state| feeds::feed(req, state, section, urgent, format);
                            cfg.service(read(&Feed::route(section, urgent, format), handler));
                        }
                    }
                }
                cfg.service(read(route::SECTION, pages::section)).service(read(route::ARTICLE, pages::article));
            })
            .default_service(web::to(not_found)),
    );
}

/// A known path with a method it does not take (as the public routes answer it).
pub(super) async fn method_not_allowed(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::MethodNotAllowed(req.method().to_string()))
}

/// Anything else under `/k/`: looked up as a key would be (an unknown path
/// costs what an unknown key does), then not found.
async fn not_found(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    if let Some(key) = req.match_info().get("key") {
        let _ = state.app.subscribers().find(key);
    }
    Err(unknown(&req))
}
