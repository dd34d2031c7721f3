//! Logs (tracing to stdout, text or JSON lines, level from `RUST_LOG`),
//! Prometheus metrics, and the middleware that counts, times and logs every
//! request. Request lines have the target [`ACCESS_LOG`], so they can be
//! filtered by that name whatever module writes them.

use std::cell::RefCell;
use std::collections::HashMap;
use std::future::{ready, Future, Ready};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use actix_web::body::{BodySize, MessageBody};
use actix_web::dev::{forward_ready, Service, ServiceRequest, ServiceResponse, Transform};
use prometheus::{
    Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
    TextEncoder,
};

/// The target of request log lines (`RUST_LOG=info,wirefeed::access=warn`
/// leaves them out).
pub const ACCESS_LOG: &str = "wirefeed::access";

/// Sets up logging to stdout; `json` selects JSON lines.
/// The server logs to stdout; the other commands log to stderr, because
/// their stdout is data (`export`, `check`).
pub fn init_logs(json: bool, to_stdout: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let writer = tracing_subscriber::fmt::writer::BoxMakeWriter::new(move || -> Box<dyn std::io::Write> {
        if to_stdout {
            Box::new(std::io::stdout())
        } else {
            Box::new(std::io::stderr())
        }
    });
    let ansi = if to_stdout {
        std::io::IsTerminal::is_terminal(&std::io::stdout())
    } else {
        std::io::IsTerminal::is_terminal(&std::io::stderr())
    };
    let builder =
        tracing_subscriber::fmt().with_env_filter(filter).with_writer(writer).with_target(false).with_ansi(ansi);
    if json {
        builder.json().flatten_event(true).init();
    } else {
        builder.init();
    }
}

/// The server's metrics.
pub struct Metrics {
    registry: Registry,
    pub requests: IntCounterVec,
    pub latency: HistogramVec,
    pub imports: IntCounterVec,
    pub articles: IntGaugeVec,
    pub store_bytes: IntGauge,
    pub flushes: IntGauge,
    /// Documents rendered (cache misses that went to the store).
    pub renders: IntCounter,
    /// Requests answered for each subscriber, by name (never by key).
    pub subscriber_requests: IntCounterVec,
    /// Subscribers of licensed copy.
    pub subscribers: IntGauge,
}

impl Metrics {
    pub fn new() -> Metrics {
        let requests = IntCounterVec::new(
            Opts::new("wirefeed_http_requests_total", "HTTP requests by route and status"),
            &["route", "status"],
        )
        .expect("valid metric");
        let latency = HistogramVec::new(
            HistogramOpts::new("wirefeed_http_request_duration_seconds", "HTTP request latency by route").buckets(
                vec![0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5],
            ),
            &["route"],
        )
        .expect("valid metric");
        let imports = IntCounterVec::new(Opts::new("wirefeed_imports_total", "Imports by outcome"), &["outcome"])
            .expect("valid metric");
        let articles = IntGaugeVec::new(Opts::new("wirefeed_articles", "Stored articles per section"), &["section"])
            .expect("valid metric");
        let store_bytes = IntGauge::new("wirefeed_store_bytes", "Size of the store on disk").expect("valid metric");
        let flushes =
            IntGauge::new("wirefeed_store_flushes", "Group-commit flushes (fsyncs) since start").expect("valid metric");
        let renders =
            IntCounter::new("wirefeed_renders_total", "Documents rendered on a cache miss").expect("valid metric");
        let subscriber_requests = IntCounterVec::new(
            Opts::new("wirefeed_subscriber_requests_total", "Requests under a subscriber's key, by subscriber name"),
            &["subscriber"],
        )
        .expect("valid metric");
        let subscribers = IntGauge::new("wirefeed_subscribers", "Subscribers of licensed copy").expect("valid metric");
        let registry = Registry::new();
        for c in [
            Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(latency.clone()),
            Box::new(imports.clone()),
            Box::new(articles.clone()),
            Box::new(store_bytes.clone()),
            Box::new(flushes.clone()),
            Box::new(renders.clone()),
            Box::new(subscriber_requests.clone()),
            Box::new(subscribers.clone()),
        ] {
            registry.register(c).expect("metric registered once");
        }
        Metrics {
            registry,
            requests,
            latency,
            imports,
            articles,
            store_bytes,
            flushes,
            renders,
            subscriber_requests,
            subscribers,
        }
    }

    /// Adds metrics owned by another module (e.g. the edge worker's) to `/metrics`.
    pub fn register(&self, collector: Box<dyn prometheus::core::Collector>) {
        self.registry.register(collector).expect("metric registered once");
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        TextEncoder::new().encode_to_string(&self.registry.gather()).unwrap_or_default()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

/// The subscriber a request was answered for: a handler puts it in the
/// request's extensions, and the access log and metrics name it.
#[derive(Debug, Clone)]
pub struct SubscriberName(pub Arc<str>);

/// The path a request is logged with, when it is not the one it was
/// routed by (a subscriber's, routed as its public path): the key cut out.
#[derive(Debug, Clone)]
pub struct ShownPath(pub Box<str>);

/// A path with the key of a subscriber's URL (`/k/{key}/…`) cut out, as
/// logs and error bodies show it: `/k/…/rss.xml`.
pub fn cut_key(path: &str) -> std::borrow::Cow<'_, str> {
    // Under a configured prefix the keyed part is further in: `/news/k/…`.
    let at = if path.starts_with("/k/") { Some(0) } else { path.find("/k/") };
    let Some(at) = at else { return path.into() };
    let key_start = at + 3;
    let key_end = path[key_start..].find('/').map_or(path.len(), |i| key_start + i);
    format!("{}…{}", &path[..key_start], &path[key_end..]).into()
}

/// Paths whose route metrics a worker remembers (see [`Access`]).
const ROUTE_MEMO: usize = 1024;

/// The middleware: request count by route and status, latency by route,
/// and one log line per request at `info` on [`ACCESS_LOG`].
pub struct Access {
    metrics: Arc<Metrics>,
}

impl Access {
    pub fn new(metrics: Arc<Metrics>) -> Access {
        Access { metrics }
    }
}

impl<S, B> Transform<S, ServiceRequest> for Access
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    S::Future: Unpin,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<B>;
    type Error = actix_web::Error;
    type Transform = AccessService<S>;
    type InitError = ();
    type Future = Ready<Result<AccessService<S>, ()>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(AccessService { service, metrics: Arc::clone(&self.metrics), routes: RefCell::default() }))
    }
}

/// The metric handles of one route, looked up once per worker: finding a
/// request's route pattern runs the router's regular expressions again,
/// and a labelled metric hashes its labels under a lock on every use.
struct RouteMetrics {
    route: Rc<str>,
    latency: Histogram,
    /// Counters by status code, in the order first seen (a route answers few).
    requests: RefCell<Vec<(u16, IntCounter)>>,
}

impl RouteMetrics {
    fn count(&self, metrics: &Metrics, status: actix_web::http::StatusCode) {
        let code = status.as_u16();
        let mut requests = self.requests.borrow_mut();
        if let Some((_, counter)) = requests.iter().find(|(c, _)| *c == code) {
            counter.inc();
            return;
        }
        let counter = metrics.requests.with_label_values(&[&*self.route, status.as_str()]);
        counter.inc();
        requests.push((code, counter));
    }
}

/// [`Access`] in one worker (one thread: its memo needs no lock).
pub struct AccessService<S> {
    service: S,
    metrics: Arc<Metrics>,
    routes: RefCell<HashMap<String, Rc<RouteMetrics>, foldhash::fast::RandomState>>,
}

impl<S> AccessService<S> {
    /// The metrics of the request's route; a path's route never changes
    /// while the server runs.
    fn route(&self, req: &ServiceRequest) -> Rc<RouteMetrics> {
        // Remembered without the key: every subscriber's copy of a path is one entry.
        let path = cut_key(req.path());
        if let Some(route) = self.routes.borrow().get(&*path) {
            return Rc::clone(route);
        }
        let route: Rc<str> = req.match_pattern().unwrap_or_else(|| "unmatched".to_owned()).into();
        let latency = self.metrics.latency.with_label_values(&[&*route]);
        let found = Rc::new(RouteMetrics { route, latency, requests: RefCell::default() });
        let mut routes = self.routes.borrow_mut();
        if routes.len() >= ROUTE_MEMO {
            routes.clear();
        }
        routes.insert(path.into_owned(), Rc::clone(&found));
        found
    }
}

impl<S, B> Service<ServiceRequest> for AccessService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    S::Future: Unpin,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<B>;
    type Error = actix_web::Error;
    type Future = Observed<S::Future>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let started = Instant::now();
        let route = self.route(&req);
        // Only a logged request needs its method and path copied.
        let logged = tracing::enabled!(target: ACCESS_LOG, tracing::Level::INFO).then(|| {
            let shown = actix_web::HttpMessage::extensions(&req).get::<ShownPath>().map(|s| s.0.to_string());
            (req.method().clone(), shown.unwrap_or_else(|| req.path().to_owned()))
        });
        Observed { inner: self.service.call(req), started, route, logged, metrics: Arc::clone(&self.metrics) }
    }
}

/// A request in flight: counted, timed and logged when its answer is ready.
/// (A future of its own rather than an `async` block: that would be boxed,
/// one allocation per request.)
pub struct Observed<F> {
    inner: F,
    started: Instant,
    route: Rc<RouteMetrics>,
    logged: Option<(actix_web::http::Method, String)>,
    metrics: Arc<Metrics>,
}

impl<F, B> Future for Observed<F>
where
    F: Future<Output = Result<ServiceResponse<B>, actix_web::Error>> + Unpin,
    B: MessageBody,
{
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let res = match Pin::new(&mut self.inner).poll(cx) {
            Poll::Ready(Ok(res)) => res,
            other => return other,
        };
        let elapsed = self.started.elapsed();
        self.route.count(&self.metrics, res.status());
        self.route.latency.observe(elapsed.as_secs_f64());
        let subscriber = actix_web::HttpMessage::extensions(res.request()).get::<SubscriberName>().cloned();
        if let Some(SubscriberName(name)) = &subscriber {
            self.metrics.subscriber_requests.with_label_values(&[name]).inc();
        }
        if let Some((method, path)) = self.logged.take() {
            let bytes = match res.response().body().size() {
                BodySize::Sized(n) => n,
                _ => 0,
            };
            let subscriber = subscriber.as_ref().map(|SubscriberName(name)| &**name);
            tracing::info!(
                target: ACCESS_LOG,
                method = %method,
                path = %cut_key(&path),
                subscriber,
                status = res.status().as_u16(),
                bytes,
                duration_us = elapsed.as_micros() as u64,
                "request"
            );
        }
        Poll::Ready(Ok(res))
    }
}

#[cfg(test)]
mod tests {
    use super::cut_key;

    #[test]
    fn the_key_is_cut_out_of_keyed_paths_only() {
        assert_eq!(cut_key("/k/0123abcd/rss.xml"), "/k/…/rss.xml");
        assert_eq!(cut_key("/news/k/0123abcd/sections/world"), "/news/k/…/sections/world");
        assert_eq!(cut_key("/k/0123abcd"), "/k/…");
        assert_eq!(cut_key("/sections/world/rss.xml"), "/sections/world/rss.xml");
    }
}
