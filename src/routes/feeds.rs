//! Feed handlers: RSS, Atom and JSON Feed per section and for all, and OPML.

use actix_web::{web, HttpRequest, HttpResponse};

use super::respond::{cached, hit, Rendered};
use super::{cursor, ApiError};
use crate::cache::{Doc, Tag};
use crate::domain::SectionSlug;
use crate::render::{self, Format};
use crate::startup::AppState;
use crate::store::{Scope, Store};

/// How long a killed story's tombstone stays in the Atom feeds (RFC 6721):
/// a reader polling once a day still sees it.
const TOMBSTONE_HOURS: i64 = 48;

pub async fn all_rss(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    feed(req, state, None, Format::Rss).await
}

pub async fn all_atom(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    feed(req, state, None, Format::Atom).await
}

pub async fn all_json(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    feed(req, state, None, Format::Json).await
}

pub async fn section_rss(
    req: HttpRequest,
    state: web::Data<AppState>,
    slug: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    feed(req, state, Some(slug.into_inner()), Format::Rss).await
}

pub async fn section_atom(
    req: HttpRequest,
    state: web::Data<AppState>,
    slug: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    feed(req, state, Some(slug.into_inner()), Format::Atom).await
}

pub async fn section_json(
    req: HttpRequest,
    state: web::Data<AppState>,
    slug: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    feed(req, state, Some(slug.into_inner()), Format::Json).await
}

/// Parses a section slug from a path; a bad one is simply not found.
pub fn section_slug(raw: &str) -> Result<SectionSlug, ApiError> {
    SectionSlug::parse(raw).ok_or_else(|| ApiError::NotFound("no such section".into()))
}

pub async fn urgent_rss(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    urgent_feed(req, state, None, Format::Rss).await
}

pub async fn urgent_atom(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    urgent_feed(req, state, None, Format::Atom).await
}

pub async fn urgent_json(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    urgent_feed(req, state, None, Format::Json).await
}

pub async fn section_urgent_rss(
    req: HttpRequest,
    state: web::Data<AppState>,
    slug: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    urgent_feed(req, state, Some(slug.into_inner()), Format::Rss).await
}

pub async fn section_urgent_atom(
    req: HttpRequest,
    state: web::Data<AppState>,
    slug: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    urgent_feed(req, state, Some(slug.into_inner()), Format::Atom).await
}

pub async fn section_urgent_json(
    req: HttpRequest,
    state: web::Data<AppState>,
    slug: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    urgent_feed(req, state, Some(slug.into_inner()), Format::Json).await
}

async fn feed(
    req: HttpRequest,
    state: web::Data<AppState>,
    slug: Option<String>,
    format: Format,
) -> Result<HttpResponse, ApiError> {
    any_feed(req, state, slug, format, false).await
}

async fn urgent_feed(
    req: HttpRequest,
    state: web::Data<AppState>,
    slug: Option<String>,
    format: Format,
) -> Result<HttpResponse, ApiError> {
    any_feed(req, state, slug, format, true).await
}

/// A feed of a scope (all sections or one), all its copy or only the urgent.
async fn any_feed(
    req: HttpRequest,
    state: web::Data<AppState>,
    slug: Option<String>,
    format: Format,
    urgent: bool,
) -> Result<HttpResponse, ApiError> {
    let slug = slug.as_deref().map(section_slug).transpose()?;
    let before = cursor(&req)?;
    let base = state.public.base(&req);
    let key = format!(
        "{}|feed|{}|{}|{:?}|{}",
        base.as_str(),
        slug.as_ref().map_or("", SectionSlug::as_str),
        if urgent { "urgent" } else { "" },
        format,
        before.map_or(String::new(), |b| b.to_string())
    );
    // The hot path: a cached document is answered before anything else is built.
    if let Some(res) = hit(&req, &state, &key) {
        return Ok(res);
    }
    let tags = vec![slug.as_ref().map_or(Tag::All, |s| Tag::Section(s.to_string()))];
    let site = state.site.clone();
    let limit = state.feed_items;
    let render = move |store: &Store| -> Result<Rendered, ApiError> {
        let index = match (&slug, urgent) {
            (_, true) => Scope::Urgent(slug.clone()),
            (Some(slug), false) => Scope::Section(slug.clone()),
            (None, false) => Scope::All,
        };
        // Read before the content it dates (Store::changed says why).
        let changed = store.changed(&index)?;
        let scope = match &slug {
            None => render::Scope::all(&site),
            // A section emptied by deletes keeps its feeds (empty), so that
            // its subscribers' readers see no error.
            Some(slug) => match store.section(slug)? {
                Some(meta) => render::Scope::section(&meta.section),
                None => return Ok(Rendered::Missing(format!("no section {slug:?}"))),
            },
        };
        let scope = if urgent { scope.urgent() } else { scope };
        let page = store.page(&index, before, limit)?;
        let feed = render::FeedPage { site: &site, base: &base, scope: &scope, page: &page, cursor: before, changed };
        let body = match format {
            Format::Rss => render::rss::render(&feed),
            Format::Atom if before.is_none() => {
                let since = chrono::Utc::now() - chrono::Duration::hours(TOMBSTONE_HOURS);
                let kills = store.kills_since(&index, since)?;
                let deleted: Vec<_> = kills.into_iter().map(|k| (k.id, k.killed)).collect();
                render::atom::render_with_deleted(&feed, &deleted)
            }
            Format::Atom => render::atom::render(&feed),
            Format::Json => render::json::render(&feed),
        };
        let mut doc = Doc::new(body, format.content_type(), changed);
        if before.is_none() {
            doc.headers.extra.extend(crate::edge::websub::link_header(&site.hubs, &feed.self_url(format)));
        }
        Ok(Rendered::Doc(doc, Vec::new()))
    };
    cached(&req, &state, key, tags, render, |what| Err(ApiError::NotFound(what))).await
}

pub async fn opml(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let base = state.public.base(&req);
    let key = format!("{}|opml", base.as_str());
    let site = state.site.clone();
    let render = move |store: &Store| -> Result<Rendered, ApiError> {
        let changed = store.changed(&Scope::All)?;
        let sections = store.sections()?;
        let updated = changed.map_or(chrono::DateTime::UNIX_EPOCH, |t| chrono::SubsecRound::trunc_subsecs(t, 0));
        let body = render::opml::render(&site, &base, &sections, updated);
        Ok(Rendered::Doc(Doc::new(body, "text/x-opml; charset=utf-8", changed), Vec::new()))
    };
    cached(&req, &state, key, vec![Tag::All], render, |what| Err(ApiError::NotFound(what))).await
}
