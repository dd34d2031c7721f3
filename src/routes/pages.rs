//! HTML pages: home, section, article; and the article as JSON.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};

use super::feeds::section_slug;
use super::respond::{cached, Rendered};
use super::{cursor, ApiError};
use crate::cache::{Doc, Tag};
use crate::domain::{Article, ArticleId};
use crate::render::{self, Base};
use crate::startup::AppState;
use crate::store::{keys, Scope, Store};

const HTML: &str = "text/html; charset=utf-8";
/// Stories on the home page.
const HOME_STORIES: usize = 20;

/// A 404 as an HTML page.
fn missing_page(state: &AppState, base: &Base, what: String) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::NotFound()
        .content_type(HTML)
        .insert_header(("cache-control", "no-store"))
        .body(render::html::not_found(&state.site, base, &what)))
}

pub async fn home(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let base = state.public.base(&req);
    let key = format!("{}|home", base.as_str());
    let site = state.site.clone();
    let render_base = base.clone();
    let render = move |store: &Store| -> Result<Rendered, ApiError> {
        // Read before the content it dates (Store::changed says why).
        let changed = store.changed(&Scope::All)?;
        let sections = store.sections()?;
        let page = store.page(&Scope::All, None, HOME_STORIES)?;
        let body = render::html::home(&site, &render_base, &sections, &page);
        Ok(Rendered::Doc(Doc::new(body, HTML, changed), Vec::new()))
    };
    cached(&req, &state, key, vec![Tag::All, Tag::Home], render, |what| missing_page(&state, &base, what)).await
}

pub async fn section(
    req: HttpRequest,
    state: web::Data<AppState>,
    slug: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let base = state.public.base(&req);
    let Ok(slug) = section_slug(&slug) else {
        return missing_page(&state, &base, "There is no such section.".into());
    };
    let before = cursor(&req)?;
    let key = format!("{}|section|{slug}|{}", base.as_str(), before.map_or(String::new(), |b| b.to_string()));
    let site = state.site.clone();
    let limit = state.feed_items;
    let render_base = base.clone();
    let tags = vec![Tag::Section(slug.to_string())];
    let render = move |store: &Store| -> Result<Rendered, ApiError> {
        let scope = Scope::Section(slug.clone());
        let changed = store.changed(&scope)?;
        // A section emptied by deletes is still there, saying it has no stories.
        let Some(meta) = store.section(&slug)? else {
            return Ok(Rendered::Missing("There is no such section.".into()));
        };
        let page = store.page(&scope, before, limit)?;
        let body = render::html::section(&site, &render_base, &meta.section, &page);
        Ok(Rendered::Doc(Doc::new(body, HTML, changed), Vec::new()))
    };
    cached(&req, &state, key, tags, render, |what| missing_page(&state, &base, what)).await
}

pub async fn article(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let base = state.public.base(&req);
    let raw = id.into_inner();
    let (raw, json) = match raw.strip_suffix(".json") {
        Some(stem) => (stem.to_owned(), true),
        None => (raw, false),
    };
    let Some(id) = ArticleId::parse(&raw) else {
        return if json {
            Err(ApiError::NotFound("no such article".into()))
        } else {
            missing_page(&state, &base, "There is no such story.".into())
        };
    };
    if json && super::import::authorize(&req, &state.token).is_ok() {
        // The token holder also sees the notes not meant for publication:
        // read past the shared cache, and kept out of every other cache.
        let store = state.store.clone();
        let lookup = id.clone();
        let article = web::block(move || store.get(&lookup)).await??;
        let article = article.ok_or_else(|| ApiError::NotFound("no such article".into()))?;
        let body = article_json(&base, &article, true)?;
        return Ok(HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "private, no-store"))
            .content_type("application/json; charset=utf-8")
            .body(body));
    }
    let key = format!("{}|article|{id}|{json}", base.as_str());
    let lookup = id.clone();
    let site = state.site.clone();
    let render_base = base.clone();
    let tags = vec![Tag::Article(id.to_string())];
    let render = move |store: &Store| -> Result<Rendered, ApiError> {
        // An article page changes with its article and with the stories it
        // links in its section: dated by the section's changed-at, read
        // before the article it dates, so the article is looked up twice.
        let Some(section) = store.get(&id)?.map(|a| a.section.slug) else {
            return Ok(Rendered::Missing("There is no such story.".into()));
        };
        let changed = store.changed(&Scope::Section(section))?;
        let Some(article) = store.get(&id)? else {
            return Ok(Rendered::Missing("There is no such story.".into()));
        };
        if json {
            let body = article_json(&render_base, &article, false)?;
            let doc = Doc::new(body, "application/json; charset=utf-8", changed);
            return Ok(Rendered::Doc(doc, Vec::new()));
        }
        let related = article
            .related
            .iter()
            .map(|r| store.find(&article.section.slug, &r.headline))
            .collect::<Result<Vec<_>, _>>()?;
        let body = render::html::article(&site, &render_base, &article, &related);
        // The page links related stories once they are stored: it depends on their headlines.
        let related_tags =
            article.related.iter().map(|r| Tag::Identity(keys::identity(&article.section.slug, &r.headline))).collect();
        Ok(Rendered::Doc(Doc::new(body, HTML, changed), related_tags))
    };
    let killed = || -> Result<Option<String>, ApiError> {
        let stone = state.store.tombstone(&lookup)?;
        Ok(stone.map(|s| format!("This story was withdrawn on {}.", s.killed.format("%-d %B %Y at %H:%M UTC"))))
    };
    if json {
        cached(&req, &state, key, tags, render, |what| match killed()? {
            Some(gone) => Err(ApiError::Gone(gone)),
            None => Err(ApiError::NotFound(what)),
        })
        .await
    } else {
        cached(&req, &state, key, tags, render, |what| match killed()? {
            Some(gone) => Ok(HttpResponse::Gone()
                .content_type(HTML)
                .insert_header(("cache-control", "no-store"))
                .body(render::html::not_found(&state.site, &base, &gone))),
            None => missing_page(&state, &base, what),
        })
        .await
    }
}

/// The article JSON: everything stored, but the notes not meant for
/// publication only for the token holder.
fn article_json(base: &Base, article: &Article, with_notes: bool) -> Result<Vec<u8>, ApiError> {
    let mut value = serde_json::to_value(article).map_err(ApiError::internal)?;
    if !with_notes {
        if let Some(fields) = value.as_object_mut() {
            fields.remove("notes");
        }
    }
    serde_json::to_vec_pretty(&serde_json::json!({"url": base.article(&article.id), "article": value}))
        .map_err(ApiError::internal)
}
