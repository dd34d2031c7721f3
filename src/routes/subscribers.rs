//! Subscribers of licensed sections, with the import token:
//! `POST /subscribers`, `GET /subscribers`, `PUT /subscribers/{name}`,
//! `DELETE /subscribers/{name}`, `POST /subscribers/{name}/rotate`.
//! A key is in the answer that made it, once, and nowhere else.

use std::sync::Arc;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::error::ApiError;
use super::keyed::method_not_allowed;
use super::request::authorized;
use crate::state::AppState;
use crate::subscribers::{Issued, SubscriberError};
use crate::urls::route;

/// The subscriber routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource(route::SUBSCRIBERS)
            .route(web::post().to(add))
            .route(web::get().to(list))
            .default_service(web::to(method_not_allowed)),
    )
    .service(
        web::resource(route::SUBSCRIBER)
            .route(web::put().to(update))
            .route(web::delete().to(revoke))
            .default_service(web::to(method_not_allowed)),
    )
    .service(
        web::resource(route::SUBSCRIBER_ROTATE)
            .route(web::post().to(rotate))
            .default_service(web::to(method_not_allowed)),
    );
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewSubscriber {
    name: String,
    sections: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Sections {
    sections: Vec<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Rotation {
    grace: Option<u64>,
}

/// Largest body a subscriber request takes.
const MAX_BODY: usize = 64 * 1024;

/// Longest a client may take to send it.
const BODY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// The request's body, up to [`MAX_BODY`], as a JSON error when it is not.
async fn body(payload: web::Payload) -> Result<web::Bytes, ApiError> {
    tokio::time::timeout(BODY_TIMEOUT, payload.to_bytes_limited(MAX_BODY))
        .await
        .map_err(|_| ApiError::Timeout)?
        .map_err(|_| ApiError::TooLarge { limit: MAX_BODY })?
        .map_err(|e| ApiError::bad("bad_body", format!("reading the body: {e}")))
}

/// A JSON body, or a 400 saying what is wrong with it.
fn json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| ApiError::bad("bad_json", format!("the body must be JSON: {e}")))
}

impl From<SubscriberError> for ApiError {
    fn from(e: SubscriberError) -> ApiError {
        match e {
            SubscriberError::BadName => ApiError::Invalid { kind: "bad_name", detail: e.to_string() },
            SubscriberError::BadSections(_) => ApiError::Invalid { kind: "bad_sections", detail: e.to_string() },
            SubscriberError::BadGrace => ApiError::Invalid { kind: "bad_grace", detail: e.to_string() },
            SubscriberError::Exists(_) => ApiError::Exists(e.to_string()),
            SubscriberError::NotFound(_) => ApiError::NotFound(e.to_string()),
            SubscriberError::Store(s) => s.into(),
        }
    }
}

/// The answer that hands out a key: shown once, kept by no cache.
fn issued(req: &HttpRequest, state: &AppState, issued: Issued, created: bool) -> HttpResponse {
    let opml = state.public.base(req).keyed(&issued.key).opml();
    let body = serde_json::json!({
        "name": issued.name,
        "key": issued.key,
        "sections": issued.sections,
        "opml": opml,
    });
    let mut res = if created { HttpResponse::Created() } else { HttpResponse::Ok() };
    if created {
        res.insert_header((
            header::LOCATION,
            format!("{}subscribers/{}", state.public.base(req).as_str(), issued.name),
        ));
    }
    res.insert_header((header::CACHE_CONTROL, "no-store")).json(body)
}

async fn add(req: HttpRequest, state: web::Data<AppState>, payload: web::Payload) -> Result<HttpResponse, ApiError> {
    authorized(&req, &state)?;
    let body = body(payload).await?;
    let asked: NewSubscriber = json(&body)?;
    let app = Arc::clone(&state.app);
    let done = web::block(move || app.add_subscriber(&asked.name, &asked.sections)).await??;
    tracing::info!(subscriber = %done.name, sections = ?done.sections, "subscriber added");
    Ok(issued(&req, &state, done, true))
}

async fn list(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    authorized(&req, &state)?;
    let subscribers = state.app.subscribers().list();
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(serde_json::json!({ "subscribers": subscribers })))
}

fn name(req: &HttpRequest) -> String {
    req.match_info().get("name").unwrap_or("").to_owned()
}

async fn update(req: HttpRequest, state: web::Data<AppState>, payload: web::Payload) -> Result<HttpResponse, ApiError> {
    authorized(&req, &state)?;
    let body = body(payload).await?;
    let asked: Sections = json(&body)?;
    let (app, name) = (Arc::clone(&state.app), name(&req));
    let done = web::block(move || app.update_subscriber(&name, &asked.sections)).await??;
    tracing::info!(subscriber = %done.name, sections = ?done.sections, "subscriber changed");
    Ok(HttpResponse::Ok().insert_header((header::CACHE_CONTROL, "no-store")).json(done))
}

async fn revoke(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    authorized(&req, &state)?;
    let (app, name) = (Arc::clone(&state.app), name(&req));
    let shown = name.clone();
    web::block(move || app.revoke_subscriber(&name)).await??;
    // A revoked subscriber's count goes with it (it never names a key).
    let _ = state.app.metrics().subscriber_requests.remove_label_values(&[&shown]);
    tracing::info!(subscriber = %shown, "subscriber revoked");
    Ok(HttpResponse::NoContent().insert_header((header::CACHE_CONTROL, "no-store")).finish())
}

async fn rotate(req: HttpRequest, state: web::Data<AppState>, payload: web::Payload) -> Result<HttpResponse, ApiError> {
    authorized(&req, &state)?;
    let body = body(payload).await?;
    let asked: Rotation = if body.iter().all(u8::is_ascii_whitespace) { Rotation::default() } else { json(&body)? };
    let (app, name) = (Arc::clone(&state.app), name(&req));
    let done = web::block(move || app.rotate_subscriber(&name, asked.grace)).await??;
    tracing::info!(subscriber = %done.name, grace = asked.grace.unwrap_or(0), "subscriber key rotated");
    Ok(issued(&req, &state, done, false))
}
