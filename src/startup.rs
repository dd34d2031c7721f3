//! Assembling the server: settings into the application, the application
//! into the HTTP server with its workers, tasks and signals. `main` and the
//! tests share this path.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::http::header;
use actix_web::{web, App as Routes, HttpRequest, HttpResponse, HttpServer};
use anyhow::Context;

use crate::app::App;
use crate::config::{ParseArgs, ServeArgs, StoreArgs};
use crate::edge::Edge;
use crate::journal::Journal;
use crate::rebuild::{self, Pending, Plan};
use crate::render::Site;
use crate::routes;
use crate::state::AppState;
use crate::store::{Store, StoreError};
use crate::telemetry::{Access, Metrics};
use crate::token::Token;
use crate::urls::{Base, PublicUrl};

/// Opens the store in the data directory with the write limits of `parse`.
pub fn open_store(store: &StoreArgs, parse: &ParseArgs) -> anyhow::Result<Store> {
    let opened = Store::open(&store.data_dir, store.cache_mib * 1024 * 1024)?;
    opened.set_min_free(parse.min_free_bytes());
    opened.set_max_sections(parse.max_sections);
    Ok(opened)
}

/// The application without a server (the command line): no cache tier.
pub fn offline(store: &StoreArgs, parse: &ParseArgs, serve: &ServeArgs) -> anyhow::Result<App> {
    let opened = open_store(store, parse)?;
    let journal = open_journal(store)?;
    let last = journal.last_seq();
    let plan = rebuild::plan(&opened, last);
    let app = offline_with(opened, journal, parse, serve)?;
    match plan {
        Plan::Nothing if last == 0 && !app.store().is_empty() => {
            rebuild::adopt(&app)?;
        }
        Plan::Nothing => {}
        // Replayed before anything is added after them.
        Plan::Tail(from) => {
            let why = format!("the store is behind its archive (records {from} to {last} are not in it: a crash)");
            rebuild::run(&app, from, &why, None, &mut |_| {})?;
        }
        Plan::Full(why) => anyhow::bail!(
            "{why}: run `wirefeed rebuild` (or start the server, which does it) before changing the store"
        ),
    }
    Ok(app)
}

/// The application without a server, on a given store and archive.
pub fn offline_with(store: Store, journal: Journal, parse: &ParseArgs, serve: &ServeArgs) -> anyhow::Result<App> {
    let site = site(serve, Vec::new());
    let metrics = Arc::new(Metrics::new());
    Ok(App::new(store, journal, parse.import_settings()?, site, serve.feed_items.into(), Edge::none(), metrics))
}

/// Opens the store of a data directory for `serve`: a store behind its
/// archive gets the records it has not seen; a store that is damaged (it
/// cannot be opened, or a check at open found damage), missing or empty
/// beside a non-empty archive is set aside and made again from the
/// archive. A healthy store is opened without reading the archive.
fn open_healing(
    store_args: &StoreArgs,
    parse: &ParseArgs,
    journal: &Journal,
) -> anyhow::Result<(Store, Option<Pending>)> {
    let last = journal.last_seq();
    let why = match open_store(store_args, parse) {
        Ok(store) => match rebuild::plan(&store, last) {
            Plan::Nothing => return Ok((store, None)),
            Plan::Tail(from) => {
                let why = format!("the store is behind its archive (records {from} to {last} are not in it: a crash)");
                return Ok((store, Some(Pending { from, why, set_aside: None })));
            }
            Plan::Full(why) => {
                // Stops sled's flusher; a damaged store may fail to flush.
                let _ = store.close();
                why
            }
        },
        Err(e) if last > 0 && e.downcast_ref::<StoreError>().is_some_and(rebuild::is_damage) => {
            tracing::error!(error = %format!("{e:#}"), "store: cannot be opened");
            format!("the store cannot be opened: {e:#}")
        }
        Err(e) => return Err(e),
    };
    let set_aside = rebuild::set_aside(&store_args.data_dir)?;
    let store = open_store_waiting(store_args, parse)?;
    Ok((store, Some(Pending { from: 1, why, set_aside })))
}

/// Opens the store, waiting for a store just closed in this process to let go of the directory.
fn open_store_waiting(store_args: &StoreArgs, parse: &ParseArgs) -> anyhow::Result<Store> {
    for _ in 0..100 {
        match open_store(store_args, parse) {
            Err(e) if matches!(e.downcast_ref::<StoreError>(), Some(StoreError::Locked(_))) => {
                std::thread::sleep(Duration::from_millis(50))
            }
            other => return other,
        }
    }
    open_store(store_args, parse)
}

/// Opens the archive of the data directory; what its opening mended is logged.
pub fn open_journal(store: &StoreArgs) -> anyhow::Result<Journal> {
    let (journal, found) = Journal::open(&store.data_dir)
        .with_context(|| format!("opening the archive in {}", store.data_dir.display()))?;
    for problem in found {
        tracing::warn!(problem = %problem, "archive: mended at open");
    }
    Ok(journal)
}

fn site(serve: &ServeArgs, hubs: Vec<String>) -> Site {
    Site { title: serve.site_title.clone(), language: serve.language.clone(), max_age: serve.cache_max_age, hubs }
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
        let journal = open_journal(store_args)?;
        let (store, heal) = open_healing(store_args, parse, &journal)?;
        // Opening a large store leaves sled's snapshot freed but resident.
        crate::memory::release_free_pages();
        let token = Token::configured_or_kept(serve.import_token.as_deref(), &store_args.data_dir)?;
        let public =
            PublicUrl::new(serve.public_url.as_deref(), &serve.trusted_proxies)?.honouring(&serve.forwarded_headers);
        let prefix = public.prefix();
        let metrics = Arc::new(Metrics::new());
        let edge_settings = serve.edge_settings()?;
        let (edge, edge_inbox) = Edge::new(edge_settings.clone());
        edge.metrics.register(&metrics);
        let cache_control = edge.cache_control(serve.cache_max_age, None);
        let site = site(serve, edge_settings.hubs.clone());
        let import = parse.import_settings()?;
        let app = App::new(store.clone(), journal, import, site, serve.feed_items.into(), edge, Arc::clone(&metrics))
            .with_licences(serve.licensed()?)?;
        if heal.is_none() {
            // A pending replay brings the stories back: no seed in their place.
            app.seed(&serve.seed_dir)?;
        }
        if app.journal().last_seq() == 0 && !app.store().is_empty() {
            rebuild::adopt(&app)?;
        }
        let app = Arc::new(app);
        let recovery = Arc::new(rebuild::Recovery::default());
        if let Some(pending) = heal {
            rebuild::spawn(Arc::clone(&app), pending, Arc::clone(&recovery))?;
        }
        let edge_metrics = app.edge().metrics.clone();
        let configured_base = public.configured().cloned();
        let admin = Arc::new(std::sync::OnceLock::new());
        let state = web::Data::new(AppState {
            app: Arc::clone(&app),
            token,
            public,
            cache_control,
            admin: Arc::clone(&admin),
            recovery,
        });
        actix_web::rt::spawn(crate::release::run(app));
        let mut server = HttpServer::new(move || {
            // Keys first: a subscriber's request is logged and counted as the route it is served by.
            let mut routes =
                Routes::new().app_data(state.clone()).wrap(Access::new(Arc::clone(&metrics))).wrap(routes::Keys);
            if let Some(prefix) = &prefix {
                routes = routes
                    .service(web::resource(prefix.as_str()).to(to_prefixed_home))
                    .service(web::scope(prefix).configure(routes::configure));
            }
            routes.configure(routes::configure).default_service(web::to(routes::not_found))
        })
        .on_connect(crate::slow::on_connect(Duration::from_secs(serve.write_timeout)))
        .max_connections(serve.max_connections as usize)
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
        if let Some(bind) = serve.admin_bind {
            server = server.bind(bind).with_context(|| format!("binding {bind} (WIREFEED_ADMIN_BIND)"))?;
            let bound = *server.addrs().last().expect("an address was just bound");
            let _ = admin.set(bound);
            tracing::info!("admin endpoints (/metrics, /healthz in full, no token) on http://{bound}");
        }
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
    HttpResponse::MovedPermanently().insert_header((header::LOCATION, state.public.base(&req).home())).finish()
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
