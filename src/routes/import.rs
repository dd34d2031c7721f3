//! Writes: `POST /import` and `DELETE /articles/{id}`, both behind the token.

use std::sync::Arc;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};

use super::error::ApiError;
use super::request::authorized;
use crate::app::Deleted;
use crate::domain::{until_released, Article, ArticleId};
use crate::import::{self, Outcome};
use crate::state::AppState;
use crate::store::{Put, Released};
use crate::wire::Media;

/// Longest a client may take to send a story body: a slow client cannot hold a worker forever.
const BODY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// XML media types a NITF or NewsML-G2 document may be sent with.
const XML_TYPES: [&str; 4] =
    ["application/xml", "text/xml", "application/nitf+xml", "application/vnd.iptc.g2.newsitem+xml"];

/// The media family of the body: any `text/*` is text (its format is
/// detected from the content), the XML types are XML, anything else is refused.
fn media_of(req: &HttpRequest) -> Result<Media, ApiError> {
    let Some(ct) = req.headers().get(header::CONTENT_TYPE) else { return Ok(Media::Text) };
    let ct = ct.to_str().unwrap_or("").to_ascii_lowercase();
    let essence = ct.split(';').next().unwrap_or("").trim();
    if XML_TYPES.contains(&essence) {
        Ok(Media::Xml)
    } else if essence.starts_with("text/") {
        Ok(Media::Text)
    } else {
        Err(ApiError::UnsupportedMedia(format!("{:?}", ct.chars().take(100).collect::<String>())))
    }
}

#[derive(Deserialize)]
struct ImportQuery {
    section: Option<String>,
    dry_run: Option<String>,
    embargo: Option<String>,
    restore: Option<String>,
}

/// A boolean query parameter: absent is false, a bare name true.
fn flag(name: &str, value: Option<&str>) -> Result<bool, ApiError> {
    match value {
        None | Some("false") | Some("0") => Ok(false),
        Some("true") | Some("1") | Some("") => Ok(true),
        Some(other) => Err(ApiError::bad("bad_query", format!("{name} must be true or false, not {other:?}"))),
    }
}

#[derive(Serialize)]
struct ImportAnswer<'a> {
    outcome: &'a str,
    url: String,
    /// When an embargoed story will appear.
    #[serde(skip_serializing_if = "Option::is_none")]
    release: Option<chrono::DateTime<chrono::Utc>>,
    /// Held until released by hand: where to `POST` to release it.
    #[serde(skip_serializing_if = "Option::is_none")]
    release_by: Option<String>,
    warnings: &'a [String],
    #[serde(flatten)]
    article: &'a Article,
}

pub async fn import(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    authorized(&req, &state)?;
    let media = media_of(&req)?;
    let limit = state.app.import_settings().max_body;
    let declared = req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(ApiError::TooLarge { limit });
    }
    let query = web::Query::<ImportQuery>::from_query(req.query_string())
        .map_err(|e| ApiError::bad("bad_query", format!("the query string is not valid: {e}")))?
        .into_inner();
    let dry_run = flag("dry_run", query.dry_run.as_deref())?;
    let restore = flag("restore", query.restore.as_deref())?;
    let embargo = match query.embargo.as_deref() {
        None | Some("") => None,
        Some(t) => Some(chrono::DateTime::parse_from_rfc3339(t).map(|t| t.to_utc()).map_err(|e| {
            ApiError::bad("bad_query", format!("embargo must be an RFC 3339 time such as 2026-12-01T18:00:00Z ({e})"))
        })?),
    };
    if let Some(section) = &query.section {
        if section.chars().count() > 100 {
            return Err(ApiError::bad("bad_section", "section= is longer than 100 characters"));
        }
    }
    let bytes = tokio::time::timeout(BODY_TIMEOUT, body.to_bytes_limited(limit))
        .await
        .map_err(|_| ApiError::Timeout)?
        .map_err(|_| ApiError::TooLarge { limit })?
        .map_err(|e| ApiError::bad("bad_body", format!("reading the body: {e}")))?;
    if dry_run {
        let asked = import::Asked { media, section: query.section.as_deref(), embargo, restore };
        return Ok(HttpResponse::Ok().json(state.app.check(&bytes, &asked)?));
    }
    let app = Arc::clone(&state.app);
    let section = query.section;
    let ingested = web::block(move || {
        let asked = import::Asked { media, section: section.as_deref(), embargo, restore };
        app.import(&bytes, &asked)
    })
    .await??;
    let base = state.public.base(&req);
    let put = match &ingested.outcome {
        Outcome::Stored(put) => put,
        Outcome::Killed(stone) => {
            let id = stone.as_ref().map(|s| s.id.clone());
            tracing::info!(id = ?id, outcome = "killed", "import");
            return Ok(HttpResponse::Ok().json(serde_json::json!({
                "outcome": "killed",
                "id": id,
                "url": id.as_ref().map(|id| base.article(id)),
                "killed": stone.as_ref().map(|s| s.killed),
                "warnings": ingested.warnings,
            })));
        }
    };
    let article = put.article();
    tracing::info!(id = %article.id, section = %article.section.slug, outcome = put.outcome(), "import");
    let url = base.article(&article.id);
    let release = article.embargo.filter(|_| matches!(put, Put::Held(_)));
    let by_hand = release == Some(until_released());
    let answer = ImportAnswer {
        outcome: put.outcome(),
        url: url.clone(),
        release: release.filter(|_| !by_hand),
        release_by: by_hand.then(|| format!("{url}/release")),
        warnings: &ingested.warnings,
        article,
    };
    Ok(match put {
        Put::Created(_) => HttpResponse::Created().insert_header((header::LOCATION, url)).json(answer),
        // Stored, not yet public: the URL answers 404 until the release.
        Put::Held(_) => HttpResponse::Accepted().json(answer),
        _ => HttpResponse::Ok().insert_header((header::CONTENT_LOCATION, url)).json(answer),
    })
}

pub async fn delete(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    authorized(&req, &state)?;
    let id = ArticleId::parse(&id).ok_or_else(|| ApiError::NotFound("no such article".into()))?;
    let app = Arc::clone(&state.app);
    let stone = match web::block(move || app.delete(&id)).await?? {
        Deleted::Killed(stone) => stone,
        Deleted::Already(stone) => {
            return Err(ApiError::Gone(format!("{} was killed at {}", stone.id, stone.killed.to_rfc3339())))
        }
        Deleted::NotFound => return Err(ApiError::NotFound("no such article".into())),
    };
    tracing::info!(id = %stone.id, section = %stone.section.slug, outcome = "deleted", "delete");
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "outcome": "deleted",
        "id": stone.id,
        "headline": stone.headline,
        "section": stone.section.slug,
        "killed": stone.killed,
    })))
}

/// `POST /articles/{id}/release`: publishes a held story now, whatever its
/// embargo said (the way out for a story held because its embargo could not
/// be read). A story killed while held stays killed (410).
pub async fn release(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    authorized(&req, &state)?;
    let no_such = || ApiError::NotFound("no embargoed story has this id".into());
    let id = ArticleId::parse(&id).ok_or_else(no_such)?;
    let app = Arc::clone(&state.app);
    let asked = id.clone();
    let released = web::block(move || app.release_now(&asked)).await??;
    let put = match released {
        Some(Released::Published(put)) => put,
        Some(Released::Killed(_)) => return Err(ApiError::Gone(format!("{id} was killed while it was held"))),
        None => {
            let app = Arc::clone(&state.app);
            let stone = web::block(move || app.tombstone(&id)).await??;
            return Err(match stone {
                Some(stone) => ApiError::Gone(format!("{} was killed at {}", stone.id, stone.killed.to_rfc3339())),
                None => no_such(),
            });
        }
    };
    let article = put.article();
    tracing::info!(id = %article.id, section = %article.section.slug, outcome = put.outcome(), "release");
    let url = state.public.base(&req).article(&article.id);
    let answer =
        ImportAnswer { outcome: "released", url: url.clone(), release: None, release_by: None, warnings: &[], article };
    Ok(HttpResponse::Ok().insert_header((header::CONTENT_LOCATION, url)).json(answer))
}
