//! Logs (tracing to stdout, text or JSON lines, level from `RUST_LOG`) and
//! Prometheus metrics.

use prometheus::{
    HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry, TextEncoder,
};

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
        let registry = Registry::new();
        for c in [
            Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(latency.clone()),
            Box::new(imports.clone()),
            Box::new(articles.clone()),
            Box::new(store_bytes.clone()),
            Box::new(flushes.clone()),
            Box::new(renders.clone()),
        ] {
            registry.register(c).expect("metric registered once");
        }
        Metrics { registry, requests, latency, imports, articles, store_bytes, flushes, renders }
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
