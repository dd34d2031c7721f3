//! Building the application: open the store, find the token, seed an empty
//! store, and start the HTTP server. `main` and the tests share this path.

use std::cell::RefCell;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::dev::{Server, Service, ServiceRequest};
use actix_web::http::header::{self, HeaderValue};
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use anyhow::{bail, Context};

use crate::cache::DocCache;
use crate::config::{ParseArgs, ServeArgs, StoreArgs};
use crate::domain::Section;
use crate::edge::{Edge, EdgeSettings};
use crate::import::{self, ImportSettings};
use crate::public::PublicUrl;
use crate::render::{Base, Site};
use crate::routes;
use crate::store::Store;
use crate::telemetry::Metrics;

/// Shortest import token accepted.
const MIN_TOKEN: usize = 16;

/// Everything a handler may need.
pub struct AppState {
    pub store: Store,
    pub site: Site,
    pub import: ImportSettings,
    pub max_body: usize,
    pub feed_items: usize,
    pub token: String,
    pub public: PublicUrl,
    pub cache: DocCache,
    pub metrics: Arc<Metrics>,
    pub cache_control: HeaderValue,
    /// The cache tier and WebSub hubs: tag headers, and where changes are told.
    pub edge: Edge,
}

/// Opens the store in the data directory.
pub fn open_store(args: &StoreArgs) -> anyhow::Result<Store> {
    Ok(Store::open(&args.data_dir, args.cache_mib * 1024 * 1024)?)
}

/// Settings for turning stories into articles.
pub fn import_settings(args: &ParseArgs) -> anyhow::Result<ImportSettings> {
    // `news` is a slug-like setting; readers see it as `News`.
    let mut name = args.default_section.trim().to_owned();
    if name.chars().all(|c| !c.is_uppercase()) {
        if let Some(first) = name.chars().next() {
            name = first.to_uppercase().chain(name.chars().skip(1)).collect();
        }
    }
    let default_section = Section::from_name(&name)
        .with_context(|| format!("WIREFEED_DEFAULT_SECTION {:?} makes no slug", args.default_section))?;
    Ok(ImportSettings { source_tz: args.source_tz, default_section })
}

/// The import token: configured, or kept in the data directory (made and
/// logged once, at first start).
fn import_token(configured: Option<&str>, data_dir: &Path) -> anyhow::Result<String> {
    if let Some(token) = configured {
        if token.chars().count() < MIN_TOKEN {
            bail!("WIREFEED_IMPORT_TOKEN is shorter than {MIN_TOKEN} characters; use a long random token");
        }
        return Ok(token.to_owned());
    }
    let path = data_dir.join("import-token");
    // The file is the operator's: only a missing one is made. Replacing an
    // unusable one would lock out every client that has the old token.
    let fix = format!(
        "put a token of at least {MIN_TOKEN} characters in it, set WIREFEED_IMPORT_TOKEN, or delete the file to have one generated"
    );
    match std::fs::read(&path) {
        Ok(bytes) => {
            let shown = path.display();
            let text = String::from_utf8(bytes)
                .map_err(|_| anyhow::anyhow!("the import token file {shown} is not UTF-8 text: {fix}"))?;
            let token = text.trim();
            if token.chars().any(|c| c.is_whitespace() || c.is_control()) {
                bail!("the import token file {shown} holds spaces, line breaks or control characters inside the token: {fix}");
            }
            if token.chars().count() < MIN_TOKEN {
                bail!(
                    "the import token file {shown} holds {} characters, fewer than {MIN_TOKEN}: {fix}",
                    token.chars().count()
                );
            }
            return Ok(token.to_owned());
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => bail!("the import token file {} cannot be read ({e}): {fix}", path.display()),
    }
    let token = format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple());
    write_private(&path, &token).with_context(|| format!("writing {}", path.display()))?;
    tracing::warn!(
        token = %token,
        file = %path.display(),
        "no WIREFEED_IMPORT_TOKEN set: generated an import token (shown this once; it is kept in the file)"
    );
    Ok(token)
}

#[cfg(unix)]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(path)?;
    file.write_all(contents.as_bytes())?;
    file.sync_all()
}

#[cfg(not(unix))]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    std::fs::write(path, contents)
}

/// Imports every story file of `dir` into an empty store.
fn seed(store: &Store, dir: &Path, settings: &ImportSettings, parse: &ParseArgs) -> anyhow::Result<()> {
    if !store.is_empty() {
        return Ok(());
    }
    let mut files = match std::fs::read_dir(dir) {
        Ok(entries) => entries.filter_map(Result::ok).map(|e| e.path()).filter(|p| p.is_file()).collect::<Vec<_>>(),
        Err(e) => {
            tracing::warn!(dir = %dir.display(), error = %e, "no seed folder: starting with an empty store");
            return Ok(());
        }
    };
    files.sort();
    for path in files {
        let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        let options = crate::wire::ParseOptions {
            source_tz: parse.source_tz,
            received: crate::import::now(),
            max_bytes: parse.max_body,
        };
        match import::ingest(store, &bytes, &import::Asked::TEXT, settings, &options) {
            Ok(done) => tracing::info!(file = %path.display(), outcome = done.outcome.label(), "seeded"),
            Err(e) => tracing::warn!(file = %path.display(), error = %e, "seed story rejected"),
        }
    }
    store.sync()?;
    Ok(())
}

/// Paths whose route pattern a worker remembers (see [`route_label`]).
const ROUTE_MEMO: usize = 1024;

/// The route pattern of a request, the label of its metrics. Finding it
/// runs the router's regular expressions again (under callgrind, as much as
/// routing itself: a third of a cached 304's instructions), so each worker
/// remembers the pattern of the last paths it saw; a path's pattern never
/// changes while the server runs.
fn route_label(memo: &RefCell<HashMap<String, Rc<str>>>, req: &ServiceRequest) -> Rc<str> {
    if let Some(route) = memo.borrow().get(req.path()) {
        return Rc::clone(route);
    }
    let route: Rc<str> = req.match_pattern().unwrap_or_else(|| "unmatched".to_owned()).into();
    let mut memo = memo.borrow_mut();
    if memo.len() >= ROUTE_MEMO {
        memo.clear();
    }
    memo.insert(req.path().to_owned(), Rc::clone(&route));
    route
}

/// A built, bound, not yet running server.
pub struct Application {
    server: Server,
    addrs: Vec<SocketAddr>,
    store: Store,
}

impl Application {
    /// Opens the store, seeds it, binds the server. Call inside the actix runtime.
    pub fn build(store_args: &StoreArgs, parse: &ParseArgs, serve: &ServeArgs) -> anyhow::Result<Application> {
        let store = open_store(store_args)?;
        store.set_min_free(parse.min_free_bytes());
        store.set_max_sections(parse.max_sections);
        // Opening a large store leaves sled's snapshot freed but resident.
        crate::memory::release_free_pages();
        let settings = import_settings(parse)?;
        let token = import_token(serve.import_token.as_deref(), &store_args.data_dir)?;
        seed(&store, &serve.seed_dir, &settings, parse)?;
        let public = PublicUrl::new(serve.public_url.as_deref(), &serve.trusted_proxies)?;
        let prefix = public.prefix();
        let metrics = Arc::new(Metrics::new());
        let edge_settings =
            EdgeSettings::parse(&serve.cache_tag_header, &serve.purge, serve.edge_max_age, &serve.websub_hubs)?;
        let (edge, edge_inbox) = Edge::new(edge_settings.clone());
        edge.metrics.register(&metrics);
        let cache_control = edge.cache_control(serve.cache_max_age, None);
        let edge_metrics = edge.metrics.clone();
        let configured_base = public.configured().cloned();
        let state = web::Data::new(AppState {
            store: store.clone(),
            site: Site {
                title: serve.site_title.clone(),
                language: serve.language.clone(),
                max_age: serve.cache_max_age,
                hubs: edge_settings.hubs.clone(),
            },
            import: settings,
            max_body: parse.max_body,
            feed_items: serve.feed_items.clamp(1, 1000),
            token,
            public,
            cache: DocCache::default(),
            metrics: Arc::clone(&metrics),
            cache_control,
            edge,
        });
        actix_web::rt::spawn(crate::release::run(state.clone()));
        let server = HttpServer::new(move || {
            let metrics = Arc::clone(&metrics);
            // One per worker thread: no lock.
            let routes = Rc::new(RefCell::new(HashMap::new()));
            let mut app = App::new().app_data(state.clone()).wrap_fn(move |req, srv| {
                let started = Instant::now();
                let route = route_label(&routes, &req);
                // Only a logged request needs its method and path copied.
                let logged =
                    tracing::enabled!(tracing::Level::INFO).then(|| (req.method().clone(), req.path().to_owned()));
                let metrics = Arc::clone(&metrics);
                let fut = srv.call(req);
                async move {
                    let res = fut.await?.map_body(|_, body| crate::slow::in_slices(body));
                    let status = res.status().as_u16();
                    let elapsed = started.elapsed();
                    metrics.requests.with_label_values(&[&*route, res.status().as_str()]).inc();
                    metrics.latency.with_label_values(&[&*route]).observe(elapsed.as_secs_f64());
                    if let Some((method, path)) = logged {
                        let bytes = match actix_web::body::MessageBody::size(res.response().body()) {
                            actix_web::body::BodySize::Sized(n) => n,
                            _ => 0,
                        };
                        tracing::info!(
                            method = %method,
                            path = %path,
                            status,
                            bytes,
                            duration_us = elapsed.as_micros() as u64,
                            "request"
                        );
                    }
                    Ok(res)
                }
            });
            if let Some(prefix) = &prefix {
                app = app
                    .service(web::resource(prefix.as_str()).to(to_prefixed_home))
                    .service(web::scope(prefix).configure(routes::configure));
            }
            app.configure(routes::configure).default_service(web::to(routes::not_found))
        })
        .on_connect(crate::slow::on_connect(Duration::from_secs(serve.write_timeout)))
        .max_connections(serve.max_connections)
        .client_request_timeout(Duration::from_secs(10))
        .client_disconnect_timeout(Duration::from_secs(5))
        .keep_alive(Duration::from_secs(30))
        // Requests in flight get this long after SIGTERM; it stays under the 10 s
        // that `docker stop` waits before SIGKILL, so the store is flushed first.
        .shutdown_timeout(8)
        // Signals are ours (see `run_until_stopped`): actix would stop abruptly on SIGINT.
        .disable_signals()
        .bind(serve.bind)
        .with_context(|| format!("binding {}", serve.bind))?;
        let addrs = server.addrs();
        if let Some(inbox) = edge_inbox {
            // Purged URLs and hub topics are the public ones: configured, or
            // this server's own address (port 0 resolved by now).
            let base = configured_base.unwrap_or_else(|| Base::new(&format!("http://{}/", addrs[0])));
            crate::edge::purge::spawn(inbox, &edge_settings.targets, &edge_settings.hubs, base, edge_metrics);
        }
        Ok(Application { server: server.run(), addrs, store })
    }

    /// The bound addresses (the real port when bound to port 0).
    pub fn addrs(&self) -> &[SocketAddr] {
        &self.addrs
    }

    /// Serves until SIGTERM/SIGINT, then stops accepting, finishes in-flight
    /// requests and flushes the store. A second signal stops at once (the
    /// store is still flushed).
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let handle = self.server.handle();
        actix_web::rt::spawn(async move {
            let signal = stop_signal().await;
            tracing::info!(signal, "stopping: no new connections, finishing requests in flight");
            exit_after(STOP_LIMIT);
            let graceful = actix_web::rt::spawn(handle.clone().stop(true));
            let signal = stop_signal().await;
            tracing::warn!(signal, "stopping now, without waiting for requests in flight");
            handle.stop(false).await;
            graceful.abort();
        });
        self.server.await.context("running the server")?;
        self.store.close()?;
        tracing::info!("stopped; store flushed");
        Ok(())
    }
}

/// Longest a stop may take: requests in flight get 8 s (`shutdown_timeout`),
/// the store's flush the rest; `docker stop` sends SIGKILL after 10 s.
const STOP_LIMIT: Duration = Duration::from_millis(9_500);

/// Ends the process after `limit` whatever is still running: a flush stuck
/// in sled must not keep the server from stopping. Every acknowledged story
/// is on disk already (it was flushed before its answer), so nothing
/// acknowledged is lost.
fn exit_after(limit: Duration) {
    let _ = std::thread::Builder::new().name("wirefeed-stop".into()).spawn(move || {
        std::thread::sleep(limit);
        tracing::error!(
            seconds = limit.as_secs_f64(),
            "not stopped in time (the store's flush is stuck?): exiting now"
        );
        std::process::exit(1);
    });
}

/// The bare prefix (`/news`): the home page is under `/news/`.
async fn to_prefixed_home(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::MovedPermanently().insert_header((header::LOCATION, state.public.base(&req).url(""))).finish()
}

/// Waits for SIGTERM or SIGINT (Ctrl-C) and names it.
async fn stop_signal() -> &'static str {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) {
            (Ok(mut term), Ok(mut int)) => tokio::select! {
                _ = term.recv() => "SIGTERM",
                _ = int.recv() => "SIGINT",
            },
            (Err(e), _) | (_, Err(e)) => {
                tracing::error!(error = %e, "cannot listen for stop signals");
                std::future::pending().await
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
        "Ctrl-C"
    }
}
