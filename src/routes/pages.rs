//! HTML pages (home, section, article) and the article as JSON.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};

use super::error::ApiError;
use super::keyed::reading;
use super::request::{authorized, cursor, section_slug};
use super::respond::{document, missing_page, Absent};
use crate::documents::Document;
use crate::domain::{ArticleId, Reader};
use crate::state::AppState;

pub async fn home(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let reading = reading(&req, &state)?;
    document(&req, &state, reading.key(Document::Home), Absent::Page).await
}

// The path's parts are read by name: under `/k/{key}` the path holds the key too.
pub async fn section(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let reading = reading(&req, &state)?;
    let Ok(slug) = section_slug(req.match_info().get("slug").unwrap_or("")) else {
        return Ok(missing_page(&state, &reading.base, "There is no such section.", StatusCode::NOT_FOUND));
    };
    let before = cursor(&req)?;
    document(&req, &state, reading.key(Document::Section { slug, before }), Absent::Page).await
}

/// `/articles/{id}` (the page) and `/articles/{id}.json`.
pub async fn article(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let reading = reading(&req, &state)?;
    let raw = req.match_info().get("id").unwrap_or("").to_owned();
    let (raw, json) = match raw.strip_suffix(".json") {
        Some(stem) => (stem, true),
        None => (raw.as_str(), false),
    };
    let Some(id) = ArticleId::parse(raw) else {
        return match json {
            true => Err(ApiError::NotFound("no such article".into())),
            false => Ok(missing_page(&state, &reading.base, "There is no such story.", StatusCode::NOT_FOUND)),
        };
    };
    if json && reading.reader == Reader::Public && authorized(&req, &state).is_ok() {
        let base = reading.base;
        // The token holder also sees the notes not meant for publication:
        // read past the shared cache, and kept out of every other cache.
        let app = std::sync::Arc::clone(&state.app);
        let body = web::block(move || app.article_with_notes(&base, &id)).await??;
        let body = body.ok_or_else(|| ApiError::NotFound("no such article".into()))?;
        return Ok(HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "private, no-store"))
            .content_type("application/json; charset=utf-8")
            .body(body));
    }
    let absent = if json { Absent::Json } else { Absent::Page };
    document(&req, &state, reading.key(Document::Article { id, json }), absent).await
}
