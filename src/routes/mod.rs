//! Thin handlers: read the request, make one call into the application,
//! answer. Documents go through `respond` (the cache, single flight,
//! conditional requests, compression, caching headers).

pub mod error;
mod feeds;
mod import;
mod keyed;
mod pages;
mod request;
mod respond;
mod subscribers;

use actix_web::dev::Handler;
use actix_web::{web, FromRequest, HttpRequest, HttpResponse, Responder};

pub use error::ApiError;
pub use keyed::Keys;
use request::authorized;

use crate::domain::Listing;
use crate::rebuild::Status;
use crate::state::AppState;
use crate::urls::{route, Feed, Format};

/// A GET route that also answers HEAD.
fn read<F, Args>(path: &str, handler: F) -> actix_web::Resource
where
    F: Handler<Args> + Clone,
    Args: FromRequest + 'static,
    F::Output: Responder + 'static,
{
    web::resource(path)
        .route(web::get().to(handler.clone()))
        .route(web::head().to(handler))
        .default_service(web::to(method_not_allowed))
}

/// A known path with a method it does not take.
async fn method_not_allowed(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::MethodNotAllowed(req.method().to_string()))
}

/// A path segment that does not decode (e.g. `%FF`): not found, as JSON.
pub fn path_error(err: actix_web::error::PathError, _req: &HttpRequest) -> actix_web::Error {
    ApiError::NotFound(format!("no such resource: {err}")).into()
}

/// Every route, relative to the mount point.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(read(route::HOME, pages::home)).service(read(route::OPML, feeds::opml));
    for section in [false, true] {
        for urgent in [false, true] {
            for format in Format::ALL {
                let handler = move |req, state| feeds::feed(req, state, section, urgent, format);
                cfg.service(read(&Feed::route(section, urgent, format), handler));
            }
        }
    }
    cfg.service(read(route::SECTION, pages::section))
        .service(
            web::resource(route::ARTICLE)
                .route(web::get().to(pages::article))
                .route(web::head().to(pages::article))
                .route(web::delete().to(import::delete))
                .default_service(web::to(method_not_allowed)),
        )
        .service(
            web::resource(route::RELEASE)
                .route(web::post().to(import::release))
                .default_service(web::to(method_not_allowed)),
        )
        .service(
            web::resource(route::IMPORT)
                .route(web::post().to(import::import))
                .default_service(web::to(method_not_allowed)),
        )
        .service(read(route::HEALTH, health))
        .service(read(route::METRICS, metrics));
    subscribers::configure(cfg);
}

/// Anything else.
pub async fn not_found(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let path: String = crate::telemetry::cut_key(req.path()).chars().take(200).collect();
    Err(ApiError::NotFound(format!("no route for {path:?}")))
}

/// Longest `/healthz` waits for the store before saying it does not answer.
const HEALTH_LIMIT: std::time::Duration = std::time::Duration::from_secs(5);

/// `200 {"status": "ok"}`, or `"low_disk"` (still 200: reads are served, and
/// restarting cannot free space) with the free space and the threshold; `503`
/// when the store failed, does not answer, or was found damaged, naming what.
/// The details are the token holder's (and the admin listener's): anyone
/// else gets only `200
/// {"status": "ok"}` or `503 {"status": "unavailable"}` (a liveness probe
/// and the container's HEALTHCHECK need no more, and store errors name paths).
async fn health(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let store = state.app.store().clone();
    let probe = tokio::time::timeout(HEALTH_LIMIT, web::block(move || store.newest(&Listing::All))).await;
    let unreadable = match probe {
        Ok(Ok(Ok(_))) => None,
        Ok(Ok(Err(e))) => Some(e.to_string()),
        Ok(Err(e)) => Some(e.to_string()),
        Err(_) => Some(format!("the store did not answer in {} s", HEALTH_LIMIT.as_secs())),
    };
    let health = state.app.store().health();
    let low = health.free_bytes.is_some_and(|free| free < health.min_free_bytes);
    let (code, status) = match (&health.failed, &unreadable, health.damaged.is_empty(), low) {
        (Some(_), ..) => (actix_web::http::StatusCode::SERVICE_UNAVAILABLE, "store_failed"),
        (None, Some(_), ..) => (actix_web::http::StatusCode::SERVICE_UNAVAILABLE, "store_unreadable"),
        (None, None, false, _) => (actix_web::http::StatusCode::SERVICE_UNAVAILABLE, "damaged"),
        (None, None, true, true) => (actix_web::http::StatusCode::OK, "low_disk"),
        (None, None, true, false) => (actix_web::http::StatusCode::OK, "ok"),
    };
    // A replay of the archive that failed leaves imports refused: not healthy.
    let recovery = state.recovery.status();
    let code = match recovery {
        Status::Failed(_) => actix_web::http::StatusCode::SERVICE_UNAVAILABLE,
        _ => code,
    };
    if !state.is_admin(&req) && authorized(&req, &state).is_err() {
        let status = if code.is_success() { "ok" } else { "unavailable" };
        return HttpResponse::build(code)
            .insert_header(("cache-control", "no-store"))
            .json(serde_json::json!({"status": status}));
    }
    let mut body = serde_json::json!({"status": status});
    if status != "ok" {
        body["free_bytes"] = serde_json::json!(health.free_bytes);
        body["min_free_bytes"] = serde_json::json!(health.min_free_bytes);
        body["imports"] = serde_json::json!(if low || health.failed.is_some() { "refused" } else { "accepted" });
        if let Some(failed) = &health.failed {
            body["failed"] = serde_json::json!(failed);
        }
        if let Some(unreadable) = &unreadable {
            body["unreadable"] = serde_json::json!(unreadable);
        }
        if !health.damaged.is_empty() {
            body["damaged"] = serde_json::json!(health.damaged);
        }
    }
    // What the start makes (or made) again from the archive: kept in view until the next start.
    match recovery {
        Status::None => {}
        Status::Done(healed) => body["rebuilt"] = healed,
        Status::Running(progress) => {
            // Served (what is back so far), imports refused: a restart would only start it again.
            if code == actix_web::http::StatusCode::OK {
                body["status"] = serde_json::json!("rebuilding");
            }
            body["imports"] = serde_json::json!("refused");
            body["rebuilding"] = progress;
        }
        Status::Failed(why) => {
            body["status"] = serde_json::json!("rebuild_failed");
            body["imports"] = serde_json::json!("refused");
            body["rebuild_failed"] = serde_json::json!(why);
            return HttpResponse::ServiceUnavailable().insert_header(("cache-control", "no-store")).json(body);
        }
    }
    HttpResponse::build(code).insert_header(("cache-control", "no-store")).json(body)
}

/// Prometheus metrics, for the token holder (or on the admin listener)
/// only: they name import outcomes, refused requests and the purge targets'
/// addresses.
async fn metrics(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    if !state.is_admin(&req) {
        authorized(&req, &state)?;
    }
    let store = state.app.store().clone();
    let (sections, size, flushes) =
        web::block(move || store.sections().map(|s| (s, store.size_on_disk(), store.flushes()))).await??;
    // A section whose last story was deleted drops out of the list: start the gauge afresh.
    state.app.metrics().articles.reset();
    for meta in sections {
        state.app.metrics().articles.with_label_values(&[meta.section.slug.as_str()]).set(meta.count as i64);
    }
    state.app.metrics().store_bytes.set(size as i64);
    state.app.metrics().subscribers.set(state.app.subscribers().count() as i64);
    state.app.metrics().flushes.set(flushes as i64);
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .insert_header(("cache-control", "no-store"))
        .body(state.app.metrics().render()))
}
