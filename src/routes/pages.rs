//! HTML pages (home, section, article) and the article as JSON.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};

use super::error::ApiError;
use super::request::{authorized, cursor, section_slug};
use super::respond::{document, missing_page, Absent};
use crate::documents::{DocKey, Document};
use crate::domain::ArticleId;
use crate::state::AppState;

pub async fn home(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    document(&req, &state, DocKey { base: state.public.base(&req), doc: Document::Home }, Absent::Page).await
}

pub async fn section(
    req: HttpRequest,
    state: web::Data<AppState>,
    slug: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let base = state.public.base(&req);
    let Ok(slug) = section_slug(&slug) else {
        return Ok(missing_page(&state, &base, "There is no such section.", StatusCode::NOT_FOUND));
    };
    let before = cursor(&req)?;
    document(&req, &state, DocKey { base, doc: Document::Section { slug, before } }, Absent::Page).await
}

/// `/articles/{id}` (the page) and `/articles/{id}.json`.
pub async fn article(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let base = state.public.base(&req);
    let raw = id.into_inner();
    let (raw, json) = match raw.strip_suffix(".json") {
        Some(stem) => (stem, true),
        None => (raw.as_str(), false),
    };
    let Some(id) = ArticleId::parse(raw) else {
        return match json {
            true => Err(ApiError::NotFound("no such article".into())),
            false => Ok(missing_page(&state, &base, "There is no such story.", StatusCode::NOT_FOUND)),
        };
    };
    if json && authorized(&req, &state).is_ok() {
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
    document(&req, &state, DocKey { base, doc: Document::Article { id, json } }, absent).await
}
