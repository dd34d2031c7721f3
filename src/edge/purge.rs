//! The edge workers: threads that purge every cache target and then ping
//! every WebSub hub, off the request path.
//!
//! Each target and hub keeps its own pending [`Plan`]: what it has not yet
//! been told. New changes are merged into every pending plan (purges are
//! idempotent, so a merged plan is as good as the sequence it replaces), a
//! target that fails keeps its plan and is tried again after a backoff that
//! doubles up to `MAX_BACKOFF`, and is caught up in one go when it
//! answers again. Every target and hub has a thread of its own and every
//! request a deadline (`TIMEOUT`), so a target that hangs instead of
//! refusing delays only itself, never a write or another target. Hubs are
//! pinged after the purges of the same batch were tried, so a hub fetching
//! the feed through the cache finds the new copy.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use prometheus::{IntCounter, IntCounterVec, IntGaugeVec, Opts};
use ureq::http;

use super::{websub, Inbox, Plan, Target};
use crate::telemetry::Metrics;
use crate::urls::Base;

/// Longest any one request to a target or hub may take.
const TIMEOUT: Duration = Duration::from_secs(3);
/// First wait after a failure; it doubles with every failure in a row.
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
/// Longest wait between tries: a target back from an outage is caught up within this.
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// Most bytes of tags in one `xkey-purge` header (Varnish allows 8 KiB per header).
const XKEY_HEADER_BYTES: usize = 4000;

/// The worker's counters in `/metrics`.
#[derive(Clone)]
pub struct EdgeMetrics {
    /// Requests to targets and hubs by kind, target host and result.
    pub requests: IntCounterVec,
    /// Items (tags, URLs, feeds) not yet delivered, per target.
    pub pending: IntGaugeVec,
    /// Times the queue was full and a change was widened to "everything".
    pub overflows: IntCounter,
}

impl EdgeMetrics {
    pub fn new() -> EdgeMetrics {
        let requests = IntCounterVec::new(
            Opts::new("wirefeed_edge_requests_total", "Purge and WebSub requests by kind, target and result"),
            &["kind", "target", "result"],
        )
        .expect("valid metric");
        let pending = IntGaugeVec::new(
            Opts::new("wirefeed_edge_pending", "Purges or hub pings not yet delivered, per target"),
            &["kind", "target"],
        )
        .expect("valid metric");
        let overflows =
            IntCounter::new("wirefeed_edge_queue_overflows_total", "Changes that found the edge queue full")
                .expect("valid metric");
        EdgeMetrics { requests, pending, overflows }
    }

    pub fn register(&self, metrics: &Metrics) {
        metrics.register(Box::new(self.requests.clone()));
        metrics.register(Box::new(self.pending.clone()));
        metrics.register(Box::new(self.overflows.clone()));
    }
}

impl Default for EdgeMetrics {
    fn default() -> Self {
        EdgeMetrics::new()
    }
}

/// What a pending plan is delivered to.
enum Kind {
    Purge(Target),
    Hub(String),
}

struct Endpoint {
    kind: Kind,
    /// `host[:port]` only: a webhook URL may carry a secret in its path or query.
    label: String,
    pending: Plan,
    failures: u32,
    next_try: Instant,
}

impl Endpoint {
    fn new(kind: Kind) -> Endpoint {
        let url = match &kind {
            Kind::Purge(t) => t.url(),
            Kind::Hub(h) => h,
        };
        let label = url.split_once("://").map_or(url, |(_, r)| r).split(['/', '?']).next().unwrap_or("").to_owned();
        Endpoint { kind, label, pending: Plan::default(), failures: 0, next_try: Instant::now() }
    }

    fn kind_name(&self) -> &'static str {
        match &self.kind {
            Kind::Purge(t) => t.kind(),
            Kind::Hub(_) => "websub",
        }
    }

    fn due(&self, now: Instant) -> bool {
        !self.pending.is_empty() && self.next_try <= now
    }

    fn pending_items(&self) -> usize {
        self.pending.tags.len() + self.pending.urls.len() + self.pending.feeds.len()
    }

    /// Drops from the pending plan what this kind of endpoint does not use,
    /// so that it neither counts as pending nor grows while the endpoint is down.
    fn trim(&mut self) {
        let p = &mut self.pending;
        match &self.kind {
            Kind::Purge(Target::Xkey(_)) => (p.urls.clear(), p.feeds.clear()),
            Kind::Purge(Target::Nginx(_)) => (p.tags.clear(), p.feeds.clear()),
            Kind::Purge(Target::Webhook(_)) => ((), p.feeds.clear()),
            Kind::Hub(_) => (p.tags.clear(), p.urls.clear()),
        };
    }
}

/// A batch of changes on its way to every endpoint.
struct Batch {
    /// 1, 2, 3, ... in the order the changes were made durable.
    seq: u64,
    plan: Plan,
    made: Instant,
}

/// Per purge target, the newest batch it has tried (or skipped while
/// backing off): hubs wait for every target to get this far.
type Tried = Arc<Vec<AtomicU64>>;

/// Starts the edge threads: a dispatcher that turns queued changes into
/// batches, and one thread per target and per hub, so that a target that
/// hangs holds up only itself. `base` is the public base URL the purged
/// URLs and hub topics are made from.
pub fn spawn(inbox: Inbox, targets: &[Target], hubs: &[String], base: Base, metrics: EdgeMetrics) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(TIMEOUT))
        .http_status_as_error(false)
        .allow_non_standard_methods(true)
        .max_redirects(0)
        .user_agent(concat!("wirefeed/", env!("CARGO_PKG_VERSION")))
        .build()
        .into();
    let tried: Tried = Arc::new(targets.iter().map(|_| AtomicU64::new(0)).collect());
    let mut outboxes = Vec::new();
    let kinds = targets.iter().cloned().map(Kind::Purge).chain(hubs.iter().cloned().map(Kind::Hub));
    for (i, kind) in kinds.enumerate() {
        let (tx, rx) = mpsc::channel::<Arc<Batch>>();
        outboxes.push(tx);
        let is_purge = matches!(kind, Kind::Purge(_));
        let mut endpoint = Endpoint::new(kind);
        let (agent, base, metrics, tried) = (agent.clone(), base.clone(), metrics.clone(), Arc::clone(&tried));
        let name = format!("edge-{}", endpoint.kind_name());
        let run = move || {
            let report = is_purge.then_some(i);
            let gate = (!is_purge).then_some(&tried[..]);
            endpoint_loop(&mut endpoint, &rx, &agent, &base, &metrics, report.map(|i| &tried[i]), gate)
        };
        std::thread::Builder::new().name(name).spawn(run).expect("spawning an edge thread");
    }
    let dispatch = move || {
        let mut seq = 0;
        while let Ok(first) = inbox.rx.recv() {
            // Everything queued meanwhile goes out as one batch.
            let mut plan = Plan::of(&first, &base);
            while let Ok(tags) = inbox.rx.try_recv() {
                plan.merge(&Plan::of(&tags, &base), &base);
            }
            if inbox.overflow.swap(false, Ordering::SeqCst) {
                plan.merge(&Plan::everything(&base), &base);
            }
            seq += 1;
            let batch = Arc::new(Batch { seq, plan, made: Instant::now() });
            for out in &outboxes {
                let _ = out.send(Arc::clone(&batch));
            }
        }
    };
    std::thread::Builder::new().name("edge".into()).spawn(dispatch).expect("spawning the edge dispatcher");
}

/// One target's or hub's thread: merges what arrives into its pending plan,
/// delivers when not backing off, until the server stops.
fn endpoint_loop(
    e: &mut Endpoint,
    rx: &mpsc::Receiver<Arc<Batch>>,
    agent: &ureq::Agent,
    base: &Base,
    metrics: &EdgeMetrics,
    report: Option<&AtomicU64>,
    gate: Option<&[AtomicU64]>,
) {
    let mut newest: Option<Arc<Batch>> = None;
    loop {
        let received = if e.pending.is_empty() {
            rx.recv().map_err(|_| RecvTimeoutError::Disconnected)
        } else {
            rx.recv_timeout(e.next_try.saturating_duration_since(Instant::now()))
        };
        match received {
            Ok(batch) => newest = Some(batch),
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return,
        }
        if let Some(batch) = &newest {
            e.pending.merge(&batch.plan, base);
        }
        while let Ok(batch) = rx.try_recv() {
            e.pending.merge(&batch.plan, base);
            newest = Some(batch);
        }
        e.trim();
        let seq = newest.as_ref().map_or(0, |b| b.seq);
        if let (Some(gate), Some(batch)) = (gate, &newest) {
            // A hub fetches the feed as soon as it is pinged, maybe through
            // a cache: wait until every target had its try at this batch
            // (a target that hangs holds the ping up for one timeout at most).
            let deadline = batch.made + TIMEOUT;
            while gate.iter().any(|t| t.load(Ordering::SeqCst) < seq) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(2));
            }
        }
        newest = None;
        if e.due(Instant::now()) {
            deliver(e, agent, metrics);
        }
        if let Some(report) = report {
            report.fetch_max(seq, Ordering::SeqCst);
        }
        metrics.pending.with_label_values(&[e.kind_name(), &e.label]).set(e.pending_items() as i64);
    }
}

/// Sends an endpoint what it has pending; what it did not take stays pending.
fn deliver(e: &mut Endpoint, agent: &ureq::Agent, metrics: &EdgeMetrics) {
    let result = match &e.kind {
        Kind::Purge(Target::Xkey(url)) => send_xkey(agent, url, &mut e.pending.tags),
        Kind::Purge(Target::Nginx(url)) => send_nginx(agent, url, &mut e.pending.urls),
        Kind::Purge(Target::Webhook(url)) => send_webhook(agent, url, &mut e.pending),
        Kind::Hub(hub) => send_hub(agent, hub, &mut e.pending.feeds),
    };
    let kind = e.kind_name();
    match result {
        Ok(sent) => {
            metrics.requests.with_label_values(&[kind, &e.label, "ok"]).inc_by(sent);
            if e.failures > 0 {
                tracing::info!(kind, target = %e.label, after = e.failures, "edge target answers again; caught up");
            }
            e.failures = 0;
            e.next_try = Instant::now();
        }
        Err((sent, error)) => {
            if sent > 0 {
                metrics.requests.with_label_values(&[kind, &e.label, "ok"]).inc_by(sent);
            }
            metrics.requests.with_label_values(&[kind, &e.label, "failed"]).inc();
            e.failures += 1;
            let backoff = FIRST_BACKOFF.saturating_mul(1 << e.failures.min(16)).min(MAX_BACKOFF);
            e.next_try = Instant::now() + backoff;
            tracing::warn!(
                kind,
                target = %e.label,
                error = %error,
                failures = e.failures,
                retry_in_ms = backoff.as_millis() as u64,
                "edge target did not take a purge or ping; will retry"
            );
        }
    }
}

/// Requests sent fine, or how many went fine before one failed and why.
type Sent = Result<u64, (u64, String)>;

/// One request; a 2xx answer is success (and 404 when `missing_ok`: nginx
/// answers it for a URL it had not cached).
fn send(agent: &ureq::Agent, req: http::Request<Vec<u8>>, missing_ok: bool) -> Result<(), String> {
    let res = agent.run(req).map_err(|e| e.to_string())?;
    let status = res.status();
    if status.is_success() || (missing_ok && status == http::StatusCode::NOT_FOUND) {
        Ok(())
    } else {
        Err(format!("answered {status}"))
    }
}

/// Sends `items` one request at a time, removing each one that went through.
fn one_by_one(items: &mut Vec<String>, mut each: impl FnMut(&str) -> Result<(), String>) -> Sent {
    let mut sent = 0;
    while let Some(item) = items.first() {
        each(item).map_err(|e| (sent, e))?;
        items.remove(0);
        sent += 1;
    }
    Ok(sent)
}

/// Varnish with xkey: `PURGE` carrying the tags, a header's worth at a time.
fn send_xkey(agent: &ureq::Agent, url: &str, tags: &mut Vec<String>) -> Sent {
    let mut sent = 0;
    while !tags.is_empty() {
        let mut take = 0;
        let mut bytes = 0;
        while take < tags.len() && (take == 0 || bytes + tags[take].len() < XKEY_HEADER_BYTES) {
            bytes += tags[take].len() + 1;
            take += 1;
        }
        let value = tags[..take].join(" ");
        let req = http::Request::builder()
            .method("PURGE")
            .uri(url)
            .header("xkey-purge", value)
            .body(Vec::new())
            .map_err(|e| (sent, e.to_string()))?;
        send(agent, req, false).map_err(|e| (sent, e))?;
        tags.drain(..take);
        sent += 1;
    }
    Ok(sent)
}

/// nginx with cache purge: `PURGE` of each URL's path (and query) at the target.
fn send_nginx(agent: &ureq::Agent, target: &str, urls: &mut Vec<String>) -> Sent {
    let target = target.trim_end_matches('/');
    one_by_one(urls, |url| {
        let req = http::Request::builder()
            .method("PURGE")
            .uri(format!("{target}{}", path_of(url)))
            .body(Vec::new())
            .map_err(|e| e.to_string())?;
        send(agent, req, true)
    })
}

/// A generic webhook: `POST {"tags": [...], "urls": [...]}`.
fn send_webhook(agent: &ureq::Agent, url: &str, plan: &mut Plan) -> Sent {
    if plan.tags.is_empty() && plan.urls.is_empty() {
        return Ok(0);
    }
    let body = serde_json::to_vec(&serde_json::json!({"tags": plan.tags, "urls": plan.urls}))
        .expect("strings serialise as JSON");
    let req = http::Request::builder()
        .method("POST")
        .uri(url)
        .header("content-type", "application/json")
        .body(body)
        .map_err(|e| (0, e.to_string()))?;
    send(agent, req, false).map_err(|e| (0, e))?;
    plan.tags.clear();
    plan.urls.clear();
    Ok(1)
}

/// A WebSub hub: one publish ping per changed feed.
fn send_hub(agent: &ureq::Agent, hub: &str, feeds: &mut Vec<String>) -> Sent {
    one_by_one(feeds, |feed| {
        let req = http::Request::builder()
            .method("POST")
            .uri(hub)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(websub::publish_body(feed).into_bytes())
            .map_err(|e| e.to_string())?;
        send(agent, req, false)
    })
}

/// The path and query of an absolute URL (`/` when it has none).
fn path_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.find('/').map_or("/", |at| &rest[at..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_of_keeps_prefix_and_query() {
        assert_eq!(path_of("https://example.org/news/rss.xml?before=1"), "/news/rss.xml?before=1");
        assert_eq!(path_of("http://127.0.0.1:8080"), "/");
    }
}
