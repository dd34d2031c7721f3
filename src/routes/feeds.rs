//! Feeds (RSS, Atom and JSON Feed; of every section or one; all copy or the
//! urgent only) and OPML.

use actix_web::{web, HttpRequest, HttpResponse};

use super::error::ApiError;
use super::keyed::reading;
use super::request::{cursor, section_slug};
use super::respond::{document, Absent};
use crate::documents::Document;
use crate::state::AppState;
use crate::urls::{Feed, Format};

/// A feed; `section` says whether the route names one (`{slug}`).
pub async fn feed(
    req: HttpRequest,
    state: web::Data<AppState>,
    section: bool,
    urgent: bool,
    format: Format,
) -> Result<HttpResponse, ApiError> {
    let reading = reading(&req, &state)?;
    let section = match section {
        true => Some(section_slug(req.match_info().get("slug").unwrap_or(""))?),
        false => None,
    };
    let before = cursor(&req)?;
    let doc = Document::Feed { feed: Feed { section, urgent }, format, before };
    document(&req, &state, reading.key(doc), Absent::Json).await
}

pub async fn opml(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let reading = reading(&req, &state)?;
    document(&req, &state, reading.key(Document::Opml), Absent::Json).await
}
