//! What handlers read from a request besides its path: the bearer token,
//! a section slug, the paging cursor.

use actix_web::http::header;
use actix_web::{web, HttpRequest};

use super::error::ApiError;
use crate::domain::SectionSlug;
use crate::state::AppState;

/// Checks the bearer token of a write (or of the notes' reader).
pub fn authorized(req: &HttpRequest, state: &AppState) -> Result<(), ApiError> {
    let given = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim())
        .unwrap_or("");
    if state.token.admits(given) {
        Ok(())
    } else {
        Err(ApiError::Unauthorized)
    }
}

/// Parses a section slug from a path; a bad one is simply not found.
pub fn section_slug(raw: &str) -> Result<SectionSlug, ApiError> {
    SectionSlug::parse(raw).ok_or_else(|| ApiError::NotFound("no such section".into()))
}

/// The `before=` cursor of a paged document.
#[derive(serde::Deserialize)]
struct PageQuery {
    before: Option<String>,
}

pub fn cursor(req: &HttpRequest) -> Result<Option<i64>, ApiError> {
    if req.query_string().is_empty() {
        return Ok(None);
    }
    let query = web::Query::<PageQuery>::from_query(req.query_string())
        .map_err(|e| ApiError::bad("bad_query", format!("the query string is not valid: {e}")))?;
    match query.into_inner().before {
        None => Ok(None),
        Some(c) if c.len() <= 20 => c
            .parse::<i64>()
            .map(Some)
            .map_err(|_| ApiError::bad("bad_cursor", "before= must be a cursor from a feed's next link")),
        Some(_) => Err(ApiError::bad("bad_cursor", "before= must be a cursor from a feed's next link")),
    }
}
