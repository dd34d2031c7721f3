//! Subscribers' URLs: every public document path again under `/k/{key}/`.
//!
//! [`Keys`] runs before routing: a request under `/k/{key}/` whose key
//! works now, for a document (read with GET or HEAD), is routed as the
//! public path it names, with the subscriber noted in its extensions;
//! anything else under `/k/` is routed as the path with its key cut out
//! (`/k/…/rss.xml`), which no route matches, so it is answered exactly as
//! an unknown path is. The same handlers then serve both: [`reading`] tells
//! them whose request it is and gives the base URL its links are built
//! from (under the key, so a reader subscribed by URL alone stays under it).
//! Routing a keyed request as its public path costs what the public
//! request's routing costs (a scope capturing the key would run a regular
//! expression over it, and every route again).

use std::future::{ready, Ready};
use std::sync::Arc;

use actix_web::dev::{forward_ready, Service, ServiceRequest, ServiceResponse, Transform, Url};
use actix_web::http::uri::{PathAndQuery, Uri};
use actix_web::{web, HttpMessage, HttpRequest, HttpResponse};

use super::error::ApiError;
use crate::documents::{DocKey, Document};
use crate::domain::{Grant, Reader};
use crate::state::AppState;
use crate::telemetry::{cut_key, ShownPath, SubscriberName, ACCESS_LOG};
use crate::urls::Base;

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

/// What [`Keys`] notes of a request under a working key.
struct Keyed {
    key: Box<str>,
    grant: Grant,
}

/// The reader of a request: the public, or the subscriber whose key the
/// request came under.
pub fn reading(req: &HttpRequest, state: &AppState) -> Result<Reading, ApiError> {
    let base = state.public.base(req);
    let keyed = req.extensions().get::<Arc<Keyed>>().cloned();
    Ok(match keyed {
        None => Reading { base, reader: Reader::Public },
        Some(keyed) => Reading { base: base.keyed(&keyed.key), reader: Reader::Subscriber(keyed.grant.clone()) },
    })
}

/// The first path segments of the documents a key reads.
const DOCUMENTS: [&str; 8] = ["", "opml.xml", "rss.xml", "atom.xml", "feed.json", "urgent", "sections", "articles"];

/// The middleware that takes requests under `/k/{key}/` apart (see the module).
pub struct Keys;

impl<S, B> Transform<S, ServiceRequest> for Keys
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
{
    type Response = ServiceResponse<B>;
    type Error = actix_web::Error;
    type Transform = KeysService<S>;
    type InitError = ();
    type Future = Ready<Result<KeysService<S>, ()>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(KeysService { service }))
    }
}

pub struct KeysService<S> {
    service: S,
}

impl<S, B> Service<ServiceRequest> for KeysService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
{
    type Response = ServiceResponse<B>;
    type Error = actix_web::Error;
    type Future = S::Future;

    forward_ready!(service);

    fn call(&self, mut req: ServiceRequest) -> Self::Future {
        // A public path never holds `/k/` (slugs and ids have no slash).
        if req.path().contains("/k/") {
            unkey(&mut req);
        }
        self.service.call(req)
    }
}

/// Routes a request under `/k/{key}/` as its public path (a working key,
/// a document), or as the path with its key cut (anything else).
fn unkey(req: &mut ServiceRequest) {
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else { return };
    let path = req.path().to_owned();
    let prefix = match path.strip_prefix("/k/") {
        Some(_) => String::new(),
        None => match state.public.prefix() {
            Some(prefix) if path.starts_with(&format!("{prefix}/k/")) => prefix,
            _ => return,
        },
    };
    let after = &path[prefix.len() + 3..];
    let (key, rest) = after.split_once('/').map_or((after, ""), |(key, rest)| (key, rest));
    let first = rest.split('/').next().unwrap_or("");
    let reads = matches!(*req.method(), actix_web::http::Method::GET | actix_web::http::Method::HEAD);
    let document = reads && DOCUMENTS.contains(&first) && !rest.ends_with("/release") && after.contains('/');
    // Looked up whatever the path: an unknown path under a key costs what an unknown key does.
    let subscriber = state.app.subscribers().find(key);
    let query = req.query_string();
    let mut routed = String::with_capacity(path.len() + query.len() + 1);
    routed.push_str(&prefix);
    match subscriber {
        Some(subscriber) if document => {
            req.extensions_mut().insert(SubscriberName(subscriber.name.clone()));
            req.extensions_mut().insert(Arc::new(Keyed { key: key.into(), grant: subscriber.grant.clone() }));
        }
        // Routed where no route is (the key cut, in ASCII as a URI must be): not found.
        _ => routed.push_str("/k/-"),
    }
    routed.push('/');
    routed.push_str(rest);
    if !query.is_empty() {
        routed.push('?');
        routed.push_str(query);
    }
    // Only a logged request needs the path it is shown by.
    if tracing::enabled!(target: ACCESS_LOG, tracing::Level::INFO) {
        req.extensions_mut().insert(ShownPath(cut_key(&path).into()));
    }
    let Ok(path_and_query) = PathAndQuery::try_from(routed) else { return };
    let mut parts = req.head().uri.clone().into_parts();
    parts.path_and_query = Some(path_and_query);
    let Ok(uri) = Uri::from_parts(parts) else { return };
    req.match_info_mut().set(Url::new(uri.clone()));
    req.head_mut().uri = uri;
}

/// A known path with a method it does not take (as the public routes answer it).
pub(super) async fn method_not_allowed(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::MethodNotAllowed(req.method().to_string()))
}
